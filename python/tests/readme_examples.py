"""The ```python examples of python/README.md: extracted, run, type-checked.

    python tests/readme_examples.py --mypy   # mypy --strict on the package, every example and these tests

`tests/test_readme.py` runs the examples that need no outside files and
checks the results their comments show.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

PYTHON_DIR = Path(__file__).resolve().parents[1]
README = PYTHON_DIR / "README.md"

# Examples that read files or services a test does not have.
NEEDS_OUTSIDE = ("pricing.toml", "read_parquet", "SparkSession", "s3://")

# What a later example takes from an earlier one, for type-checking one alone.
PREAMBLE = 'import priceguard\n\npolicy = priceguard.Policy.from_toml("")\n'


def blocks() -> list[tuple[int, str]]:
    """`(line, code)` of every ```python block, in order."""
    text = README.read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r"^```python\n(.*?)^```", text, flags=re.M | re.S):
        out.append((text.count("\n", 0, m.start()) + 2, m.group(1)))
    return out


def runnable() -> list[tuple[int, str]]:
    return [(line, code) for line, code in blocks() if not any(s in code for s in NEEDS_OUTSIDE)]


def shown_results(code: str) -> list[tuple[str, str]]:
    """`(expression, shown)` for lines `expr   # repr` whose comment is a
    complete repr (a tuple, str, Decimal or array; nothing elided), and for
    an expression line followed by lines that are only comments (a printed
    DataFrame: `shown` is those lines without their `# `)."""
    out = []
    lines = code.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^([A-Za-z_][^=#]*?)\s+# ((?:\(|'|Decimal\(|array\().*)$", line)
        if m and "..." not in m.group(2):
            out.append((m.group(1).strip(), m.group(2).strip()))
            continue
        printed = []
        for after in lines[i + 1 :]:
            if not after.startswith("# "):
                break
            printed.append(after[2:].rstrip())
        statement = re.match(r"^(import|from|def|class|for|if|with)\b", line) or " = " in line
        if printed and re.match(r"^[A-Za-z_][^#]*$", line) and not statement:
            out.append((line.strip(), "\n".join(printed)))
    return out


def mypy() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for line, code in blocks():
            path = Path(tmp) / f"readme_line_{line}.py"
            head = "" if "policy = " in code else PREAMBLE
            path.write_text(head + code, encoding="utf-8")
            files.append(str(path))
        # The package, the examples, and the tests of what this file and
        # the bad-input section of the README promise.
        ours = ["tests/test_bad_input.py", "tests/test_readme.py", "tests/readme_examples.py"]
        cmd = [sys.executable, "-m", "mypy", "--config-file", str(PYTHON_DIR / "pyproject.toml"), "priceguard", *ours, *files]
        return subprocess.run(cmd, cwd=PYTHON_DIR).returncode


if __name__ == "__main__":
    if sys.argv[1:] != ["--mypy"]:
        sys.exit(__doc__)
    sys.exit(mypy())
