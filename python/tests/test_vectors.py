"""The shared vectors (`tests/vectors/*.json`) through `evaluate` and `evaluate_batch`.

Every file and every case runs, with its money in each form a caller may
give it (docs/spec.md M1/M2: one number, one decision): as text (`str`), as
`Decimal`, and as `float` where the float is the same number; in batches
also as float64, object (str, Decimal) and int64 minor-unit columns. A
failure names the file, the case, the door and the form.
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

#: The history rules' cases (docs/spec.md §11) are plain item cases too.
FILES = sorted(VECTORS.glob("*.json")) + sorted((VECTORS / "history").glob("*.json")) + sorted(DATA.glob("*.json"))
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
    "prior_low_price",
}
COUNTS = {
    "expected_units",
    "now",
    "last_change_at",
    "changes_in_window",
    "segment",
    "promo_started_at",
    "last_promo_ended_at",
    "reversals_in_window",
    "competitor_quotes",
}


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
    # Absent means null: only a prior_price hold with a known low carries one.
    if money(got["lawful_reference"]) != expect.get("lawful_reference"):
        problems.append(f"lawful_reference: got {money(got['lawful_reference'])!r}, expected {expect.get('lawful_reference')!r}")
    assert not problems, f"{where}: " + "; ".join(problems)


def ids(files: list[Path]) -> list[str]:
    return [f.name for f in files]


#: The forms a case's money runs in: its text (`str`), `Decimal(text)`,
#: and `float(text)`. A case may list fewer (`"forms": ["text"]`).
FORMS = ("text", "decimal", "float")


def form_value(text: Any, form: str) -> Any:
    """Money text `text` in `form`."""
    if form == "decimal":
        return Decimal(text)
    if form == "float":
        return float(text)
    return text


def case_forms(case: dict[str, Any]) -> list[str]:
    """The forms `case` runs in: those it allows (all by default) that can
    carry each of its money values. The float form needs every money text
    `t` to be the shortest repr of `float(t)`, `Decimal(repr(float(t))) ==
    Decimal(t)`, so that the float is the same number (docs/spec.md M2)."""
    texts = [v for k, v in case["item"].items() if k in MONEY and v is not None]
    forms = []
    for form in case.get("forms", FORMS):
        try:
            decimals = [Decimal(t) for t in texts]
            if form == "float" and any(not d.is_finite() or Decimal(repr(float(t))) != d for t, d in zip(texts, decimals)):
                continue
        except ArithmeticError:
            if form != "text":
                continue
        forms.append(form)
    return forms


def in_form(item: dict[str, Any], form: str) -> dict[str, Any]:
    """The item with its money in `form`."""
    return {k: form_value(v, form) if k in MONEY and v is not None else v for k, v in item.items()}


def common_forms(cases: list[dict[str, Any]]) -> list[str]:
    """The forms every one of `cases` runs in."""
    return [f for f in FORMS if all(f in case_forms(c) for c in cases)]


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_vectors_evaluate(path: Path) -> None:
    """Each case alone through `Policy.evaluate`, in each of its forms
    (batch files need a batch)."""
    spec = load(path)
    policy = priceguard.Policy.from_dict(spec["policy"])
    if spec.get("batch"):
        pytest.skip("a batch file: its cases depend on each other (checked through evaluate_batch)")
    for case in spec["cases"]:
        forms = case_forms(case)
        assert "text" in forms, f"{path.name} / {case['name']}: every case runs in text form"
        for form in forms:
            d = policy.evaluate(in_form(case["item"], form))
            where = f"{path.name} / {case['name']} (evaluate, {form})"
            check(d.to_dict(), case["expect"], where)
            # A refusal quotes the value as given, which differs by form.
            if "explain" in case["expect"] and (form == "text" or d.reason != "invalid_input"):
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


def columns(items: list[dict[str, Any]], digits: int, form: str) -> Optional[dict[str, Any]]:
    """Batch columns for `items` with money in `form`, or None when a value
    has no column form.

    `"minor"`: int64 minor units (for `money="minor"`) and int64 counts, with
    masked arrays for absent values; None unless every amount is whole
    minor units. `"float"`: float64 major units and float64 counts with NaN
    for absent values. `"text"` / `"decimal"`: object arrays of `str` /
    `Decimal` money (None absent) and masked int64 counts.
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
        if k in MONEY and form in ("text", "decimal"):
            try:
                cols[k] = np.array([None if v is None else form_value(v, form) for v in vals] + [None], dtype=object)[:-1]
            except ArithmeticError:
                return None
            continue
        if k in MONEY and form == "float":
            try:
                cols[k] = np.array([np.nan if v is None else float(v) for v in vals], dtype=np.float64)
            except ValueError:
                return None
            continue
        ints = [0 if v is None else exact_minor(v, digits if k in MONEY else 0) for v in vals]
        if any(i is None for i in ints):
            return None
        if form == "float":
            floats = np.array([np.nan if a else i for i, a in zip(ints, absent)], dtype=np.float64)
            # Only counts a float column carries exactly.
            if any(not a and f != i for f, i, a in zip(floats, ints, absent)):
                return None
            cols[k] = floats
        else:
            cols[k] = np.ma.masked_array(np.array(ints, dtype=np.int64), mask=absent)
    assert all(len(v) == n for v in cols.values())
    return cols


def batch_forms(money: str, forms: list[str]) -> list[str]:
    """The column forms a batch runs in for `money`: with `"minor"`, int64
    minor units and the exact object forms (str and Decimal are major units
    either way); with `"major"`, the case forms (float64, str, Decimal)."""
    if money == "minor":
        return ["minor"] + [f for f in forms if f != "float"]
    return list(forms)


def scalars(item: dict[str, Any], form: str) -> dict[str, Any]:
    """One item as scalar keyword arguments, money in `form` (`"minor"`: text)."""
    item = in_form(item, "text" if form == "minor" else form)
    return {k: v for k, v in item.items() if k != "sku"}


@pytest.mark.parametrize("money", ["major", "minor"])
@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_vectors_batch(path: Path, money: str) -> None:
    """Batch files as one batch; other files case by case as batches of one
    (array columns when the values have a column form, else scalars), and,
    when no case draws on a budget, all cases as one batch; each in every
    column form the cases allow."""
    spec = load(path)
    policy = priceguard.Policy.from_dict(spec["policy"])
    digits = policy.minor_units
    cases = spec["cases"]
    items = [c["item"] for c in cases]
    if spec.get("batch"):
        ran = 0
        for form in batch_forms(money, common_forms(cases)):
            cols = columns(items, digits, form)
            if cols is None:
                continue
            r = policy.evaluate_batch(**cols, money=money)
            for i, case in enumerate(cases):
                check(r.decision(i), case["expect"], f"{path.name} / {case['name']} (batch, {money}, {form})")
            if "summary" in spec:
                assert r.summary["breaker_tripped"] == spec["summary"]["breaker_tripped"], path.name
            ran += 1
        assert ran > 0, f"{path.name}: a batch file must use readable values"
        return
    for case in cases:
        for form in batch_forms(money, case_forms(case)):
            cols = columns([case["item"]], digits, form)
            kwargs = cols if cols is not None else scalars(case["item"], form)
            if "proposed_price" not in kwargs:
                with pytest.raises(ValueError, match="proposed_price"):
                    policy.evaluate_batch(**kwargs, money=money)
                continue
            r = policy.evaluate_batch(**kwargs, money=money)
            assert len(r) == 1
            check(r.decision(0), case["expect"], f"{path.name} / {case['name']} (batch of one, {money}, {form})")
    if all("campaign" not in it for it in items) and not policy.has_breaker:
        ok = [c for c in cases if "proposed_price" in c["item"]]
        for form in batch_forms(money, common_forms(ok)):
            cols = columns([c["item"] for c in ok], digits, form)
            if cols is None:
                continue
            r = policy.evaluate_batch(**cols, money=money)
            for i, case in enumerate(ok):
                check(r.decision(i), case["expect"], f"{path.name} / {case['name']} (whole file, {money}, {form})")
