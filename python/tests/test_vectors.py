"""The shared vectors (`tests/vectors/*.json`) through `evaluate` and `evaluate_batch`.

Every file and every case runs; a failure names the file, the case and the path.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pytest

import priceguard
from conftest import DATA, VECTORS

FILES = sorted(VECTORS.glob("*.json")) + sorted(DATA.glob("*.json"))
MONEY = {
    "proposed_price",
    "current_price",
    "unit_cost",
    "min_price",
    "max_price",
    "map_price",
    "reference_price",
    "window_anchor_price",
    "baseline_price",
    "competitor_price",
    "pinned_price",
}
COUNTS = {"expected_units", "now", "last_change_at", "changes_in_window", "segment"}


def load(path: Path) -> dict[str, Any]:
    # Numbers are read through their decimal text, as the format says.
    return json.loads(path.read_text(), parse_float=Decimal)


def test_vectors_exist() -> None:
    assert len(FILES) >= 1, f"no vector files in {VECTORS}"


def check(got: dict[str, Any], expect: dict[str, Any], where: str) -> None:
    def money(v: Any) -> Optional[str]:
        return None if v is None else str(v)

    problems = []
    for k in ("outcome", "reason"):
        if got[k] != expect[k]:
            problems.append(f"{k}: got {got[k]!r}, expected {expect[k]!r}")
    for k in ("price", "lower", "upper", "promo_spend"):
        if money(got[k]) != expect[k]:
            problems.append(f"{k}: got {money(got[k])!r}, expected {expect[k]!r}")
    for k in ("violated", "binding", "relaxed"):
        if list(got[k]) != expect[k]:
            problems.append(f"{k}: got {list(got[k])}, expected {expect[k]}")
    if list(got["unmet"]) != expect.get("unmet", []):
        problems.append(f"unmet: got {list(got['unmet'])}, expected {expect.get('unmet', [])}")
    if got["needs_approval"] != expect.get("needs_approval", False):
        problems.append(f"needs_approval: got {got['needs_approval']}")
    if "invalid_field" in expect and got["invalid_field"] != expect["invalid_field"]:
        problems.append(f"invalid_field: got {got['invalid_field']!r}, expected {expect['invalid_field']!r}")
    assert not problems, f"{where}: " + "; ".join(problems)


def ids(files: list[Path]) -> list[str]:
    return [f.name for f in files]


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_vectors_evaluate(path: Path) -> None:
    """Each case alone through `Policy.evaluate` (batch files need a batch)."""
    spec = load(path)
    policy = priceguard.Policy.from_dict(spec["policy"])
    if spec.get("batch"):
        pytest.skip("a batch file: its cases depend on each other (checked through evaluate_batch)")
    for case in spec["cases"]:
        d = policy.evaluate(case["item"])
        where = f"{path.name} / {case['name']} (evaluate)"
        check(d.to_dict(), case["expect"], where)
        if "explain" in case["expect"]:
            assert d.explain() == case["expect"]["explain"], where


def exact_minor(v: Any, digits: int) -> Optional[int]:
    """The value in minor units when it can be read exactly, else None."""
    try:
        d = Decimal(str(v)).scaleb(digits)
    except ArithmeticError:
        return None
    if not d.is_finite() or d != d.to_integral_value() or abs(d) > 10**17:
        return None
    return int(d)


def columns(items: list[dict[str, Any]], digits: int, money: str) -> Optional[dict[str, Any]]:
    """Batch columns for `items`, or None when a value has no exact column form.

    `money="minor"`: int64 minor units and int64 counts, with masked arrays for
    absent values. `money="major"`: float64 major units and float64 counts with
    NaN for absent values.
    """
    n = len(items)
    cols: dict[str, Any] = {}
    keys = {k for it in items for k in it if k != "sku"}
    for k in keys:
        vals = [it.get(k) for it in items]
        absent = np.array([v is None for v in vals])
        if k == "campaign":
            if not all(v is None or isinstance(v, str) for v in vals):
                return None
            cols[k] = np.array(vals, dtype=object)
            continue
        if k in MONEY:
            ints = [0 if v is None else exact_minor(v, digits) for v in vals]
        else:
            ints = [0 if v is None else exact_minor(v, 0) for v in vals]
        if any(i is None for i in ints):
            return None
        if money == "minor":
            cols[k] = np.ma.masked_array(np.array(ints, dtype=np.int64), mask=absent)
        else:
            scale = 10**digits if k in MONEY else 1
            floats = np.array([np.nan if a else i / scale for i, a in zip(ints, absent)], dtype=np.float64)
            # Only values a float column can carry exactly (<= 15 digits).
            if any(not a and round(f * scale) != i for f, i, a in zip(floats, ints, absent)):
                return None
            cols[k] = floats
    assert all(len(v) == n for v in cols.values())
    return cols


def scalars(item: dict[str, Any]) -> dict[str, Any]:
    """One item as scalar keyword arguments (exact: str and Decimal scalars)."""
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in item.items() if k != "sku"}


@pytest.mark.parametrize("money", ["major", "minor"])
@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_vectors_batch(path: Path, money: str) -> None:
    """Batch files as one batch; other files case by case as batches of one
    (array columns when the values have an exact column form, else scalars),
    and, when no case draws on a budget, all cases as one batch."""
    spec = load(path)
    policy = priceguard.Policy.from_dict(spec["policy"])
    digits = policy.minor_units
    cases = spec["cases"]
    items = [c["item"] for c in cases]
    if spec.get("batch"):
        cols = columns(items, digits, money)
        assert cols is not None, f"{path.name}: a batch file must use readable values"
        r = policy.evaluate_batch(**cols, money=money)
        for i, case in enumerate(cases):
            check(r.decision(i), case["expect"], f"{path.name} / {case['name']} (batch, {money})")
        if "summary" in spec:
            assert r.summary["breaker_tripped"] == spec["summary"]["breaker_tripped"], path.name
        return
    for case in cases:
        cols = columns([case["item"]], digits, money)
        kwargs = cols if cols is not None else scalars(case["item"])
        if "proposed_price" not in kwargs:
            with pytest.raises(ValueError, match="proposed_price"):
                policy.evaluate_batch(**kwargs, money=money)
            continue
        r = policy.evaluate_batch(**kwargs, money=money)
        assert len(r) == 1
        check(r.decision(0), case["expect"], f"{path.name} / {case['name']} (batch of one, {money})")
    if all("campaign" not in it for it in items) and not policy.has_breaker:
        ok = [c for c in cases if "proposed_price" in c["item"]]
        cols = columns([c["item"] for c in ok], digits, money)
        if cols is not None:
            r = policy.evaluate_batch(**cols, money=money)
            for i, case in enumerate(ok):
                check(r.decision(i), case["expect"], f"{path.name} / {case['name']} (whole file, {money})")
