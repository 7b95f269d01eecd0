"""The shared vectors through the batch paths that decide 64 rows at a time.

A case alone is a batch of one row, which never reaches the SIMD block
kernel or the float64 block path. Here every single-item case (without a
campaign, whose copies would share one budget) is tiled to a 64-row block
and run through `evaluate_batch` (float64 major units, str and Decimal object
columns, int64 minor units) and `evaluate_arrow` (each Arrow form of the
money); every row must get the case's decision. Cases with money finer than
the currency reach the float block path's fallback (rows converted to exact
amounts with per-row scales) this way.
`test_every_simd_level` runs the same test again in a process held to each
narrower SIMD copy the CPU has (`PRICEGUARD_SIMD`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import priceguard
from test_arrow import arrow_forms, arrow_table, row
from test_vectors import FILES, batch_forms, case_forms, check, columns, ids, load

BLOCK = 64
LEVELS = ["portable", "avx2", "avx512"]


def tiled_cases(spec: dict) -> list[dict]:
    """The cases that can be tiled: alone, readable, drawing on no budget."""
    if spec.get("batch"):
        return []
    return [c for c in spec["cases"] if "proposed_price" in c["item"] and "campaign" not in c["item"]]


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_vectors_tiled(path: Path) -> None:
    want = os.environ.get("PRICEGUARD_EXPECT_SIMD")
    if want is not None:
        assert priceguard.simd() == want, "PRICEGUARD_SIMD was not honoured"
    spec = load(path)
    policy = priceguard.Policy.from_dict(spec["policy"])
    if policy.has_breaker:
        pytest.skip("a breaker judges the whole batch: 64 copies are another batch")
    ran = 0
    for case in tiled_cases(spec):
        items = [case["item"]] * BLOCK
        for money in ("major", "minor"):
            for form in batch_forms(money, case_forms(case)):
                cols = columns(items, policy.minor_units, form)
                if cols is None:
                    continue
                r = policy.evaluate_batch(**cols, money=money)
                for i in range(BLOCK):
                    check(r.decision(i), case["expect"], f"{path.name} / {case['name']} (64 rows, {money}, {form}, row {i})")
                ran += 1
        for form in arrow_forms([case]):
            t = arrow_table(items, form, policy.minor_units)
            if t is None:
                continue
            out = policy.evaluate_arrow(t)
            for i in range(BLOCK):
                check(row(out, i), case["expect"], f"{path.name} / {case['name']} (64 Arrow rows, {form}, row {i})")
            ran += 1
    if tiled_cases(spec):
        assert ran > 0, f"{path.name}: no case had a column form"


@pytest.mark.parametrize("level", LEVELS)
def test_every_simd_level(level: str) -> None:
    """`test_vectors_tiled` in a process held to `level` (this process runs
    the widest copy the CPU has)."""
    if LEVELS.index(level) > LEVELS.index(priceguard.simd()):
        pytest.skip(f"this CPU has no {level} copy")
    env = dict(os.environ, PRICEGUARD_SIMD=level, PRICEGUARD_EXPECT_SIMD=level)
    here = Path(__file__).parent
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{Path(__file__).name}::test_vectors_tiled"],
        cwd=here,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and " failed" not in done.stdout, done.stdout
