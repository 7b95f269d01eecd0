"""The README's examples run, and show what they print."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from readme_examples import runnable, shown_results  # noqa: E402


def test_readme_examples_run_and_show_their_results() -> None:
    examples = runnable()
    assert len(examples) >= 4, "the README lost its examples"
    scope: dict[str, Any] = {}
    checked = 0
    for line, code in examples:
        exec(compile(code, f"README.md:{line}", "exec"), scope)
        for expression, shown in shown_results(code):
            got = eval(expression, scope)
            text = repr(got) if "\n" not in shown else "\n".join(s.rstrip() for s in str(got).splitlines())
            assert text == shown, f"README.md:{line}: {expression} is\n{text}\nthe README shows\n{shown}"
            checked += 1
    assert checked >= 3
