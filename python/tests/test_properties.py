"""Property tests: invariants, batch equals single evaluation, float and minor paths agree."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import priceguard
from priceguard import Policy
from priceguard.testing import check_invariants, items, policies

MONEY = {
    "proposed_price", "current_price", "unit_cost", "min_price", "max_price", "map_price",
    "reference_price", "window_anchor_price", "baseline_price", "competitor_price", "pinned_price",
}
FIELDS = [f for f in priceguard.FIELDS if f != "sku"]


@st.composite
def policy_and_items(draw: Any, budgets: bool = True, campaigns: bool = True) -> tuple[Policy, list[dict[str, Any]]]:
    policy = draw(policies(budgets=budgets))
    return policy, draw(st.lists(items(policy, campaigns=campaigns), min_size=1, max_size=8))


def columns(policy: Policy, batch: list[dict[str, Any]], money: str) -> dict[str, Any]:
    digits = policy.minor_units
    cols: dict[str, Any] = {}
    for k in FIELDS:
        vals = [it.get(k) for it in batch]
        if all(v is None for v in vals):
            continue
        absent = [v is None for v in vals]
        if k == "campaign":
            cols[k] = np.array(vals, dtype=object)
        elif k in MONEY and money == "major":
            cols[k] = np.array([np.nan if v is None else float(v) for v in vals])
        elif k in MONEY:
            ints = [0 if v is None else int(Decimal(v).scaleb(digits)) for v in vals]
            cols[k] = np.ma.masked_array(np.array(ints, dtype=np.int64), mask=absent)
        else:
            cols[k] = np.ma.masked_array(np.array([0 if v is None else int(v) for v in vals], dtype=np.int64), mask=absent)
    return cols


@given(policy_and_items())
def test_invariants_hold(case: tuple[Policy, list[dict[str, Any]]]) -> None:
    policy, batch = case
    for item in batch:
        check_invariants(policy, item, policy.evaluate(item))


@given(policy_and_items(budgets=False), st.sampled_from(["major", "minor"]))
def test_batch_equals_single(case: tuple[Policy, list[dict[str, Any]]], money: str) -> None:
    """Without budgets or a breaker the items of a batch are independent."""
    policy, batch = case
    r = policy.evaluate_batch(**columns(policy, batch, money), money=money)
    for i, item in enumerate(batch):
        want = policy.evaluate(item).to_dict()
        del want["sku"]
        assert r.decision(i) == want, f"item {i}: {item}"


@given(policy_and_items())
def test_batch_budgets_match_sequential_spending(case: tuple[Policy, list[dict[str, Any]]]) -> None:
    """With budgets, a batch spends in input order and never beyond a campaign's budget."""
    policy, batch = case
    r = policy.evaluate_batch(**columns(policy, batch, "minor"), money="minor")
    spent: dict[str, Decimal] = {}
    for i, item in enumerate(batch):
        d = r.decision(i)
        name = item.get("campaign")
        if name in policy.budgets and "reference_price" in item and d["outcome"] in ("accepted", "adjusted"):
            spent[name] = spent.get(name, Decimal(0)) + (d["promo_spend"] or 0)
    for name, total in spent.items():
        assert total <= policy.budgets[name]
        assert policy.budgets[name] - total == r.summary["budgets_remaining"][name]


@given(policy_and_items())
def test_float_and_minor_paths_agree(case: tuple[Policy, list[dict[str, Any]]]) -> None:
    policy, batch = case
    major = policy.evaluate_batch(**columns(policy, batch, "major"))
    minor = policy.evaluate_batch(**columns(policy, batch, "minor"), money="minor")
    for k in ("outcome", "reason", "violated", "binding", "unmet", "relaxed", "needs_approval", "invalid_field"):
        assert np.array_equal(getattr(major, k), getattr(minor, k)), k
    scale = 10**policy.minor_units
    for k in ("price", "lower", "upper", "promo_spend"):
        as_minor = np.where(getattr(minor, f"{k}_valid"), getattr(minor, k), -1)
        f = getattr(major, k)
        as_major = np.where(np.isnan(f), -1, np.round(np.nan_to_num(f) * scale)).astype(np.int64)
        assert np.array_equal(as_minor, as_major), k
    assert major.summary == minor.summary


@given(st.floats(min_value=0.0001, max_value=1e9, allow_nan=False), st.sampled_from(["USD", "JPY", "KWD"]))
def test_float_proposals_snap_from_their_shortest_repr(x: float, currency: str) -> None:
    """A float proposal is its shortest repr (docs/spec.md M2), snapped to
    the tick half to even (§2.3, M1), in the single and the batch door."""
    p = Policy.from_dict({"name": "f", "currency": currency, "allow_unbounded": True})
    digits = p.minor_units
    want = Decimal(repr(x)).quantize(Decimal(1).scaleb(-digits), rounding="ROUND_HALF_EVEN")
    d = p.evaluate({"proposed_price": x})
    r = p.evaluate_batch(proposed_price=np.array([x]))
    alone = d.to_dict()
    del alone["sku"]
    assert r.decision(0) == alone
    if want > 0:
        assert d.price == want


NUMERIC = [f for f in FIELDS if f != "campaign"]
ODD_FLOATS = [float("nan"), float("inf"), float("-inf"), 1e300, -1e300, 2.675, 0.1 + 0.2, -3.0, 2.5, 1e15, 0.0]


@given(
    policy_and_items(budgets=False, campaigns=False).flatmap(
        lambda case: st.tuples(
            st.just(case),
            st.lists(
                st.lists(st.tuples(st.sampled_from(NUMERIC), st.sampled_from(ODD_FLOATS)), max_size=3),
                min_size=len(case[1]),
                max_size=len(case[1]),
            ),
            st.integers(min_value=1, max_value=12),
        )
    )
)
def test_float_columns_with_gaps_and_bad_values_match_single(case: Any) -> None:
    """Every column float64, with NaN gaps and values that cannot be read scattered
    over a batch long enough for whole 8-row groups: each row decided as alone."""
    (policy, base), edits, repeat = case
    batch = []
    for r in range(len(base) * repeat):
        item = {k: v for k, v in base[r % len(base)].items() if k in FIELDS}
        for k, v in edits[r % len(base)] if r % 3 else ():
            item[k] = v
        batch.append(item)
    cols = {}
    for k in NUMERIC:
        vals = [it.get(k) for it in batch]
        if all(v is None for v in vals):
            continue
        cols[k] = np.array([np.nan if v is None else float(v) for v in vals], dtype=np.float64)
    r = policy.evaluate_batch(**cols)
    for i, item in enumerate(batch):
        alone = {k: float(v) for k, v in item.items() if not (isinstance(v, float) and np.isnan(v))}
        want = policy.evaluate(alone).to_dict()
        del want["sku"]
        assert r.decision(i) == want, f"item {i}: {item}"
    # The same rows unedited as masked int64 minor units: masks packed in
    # whole groups of eight too.
    plain = [{k: v for k, v in base[r % len(base)].items() if k in FIELDS} for r in range(len(batch))]
    r = policy.evaluate_batch(**columns(policy, plain, "minor"), money="minor")
    for i, item in enumerate(plain):
        want = policy.evaluate(item).to_dict()
        del want["sku"]
        assert r.decision(i) == want, f"masked item {i}: {item}"


# -- money finer than the currency: one number, one decision, every door ------


@st.composite
def fine_policy_and_items(draw: Any) -> tuple[Policy, list[dict[str, Any]]]:
    """Items whose money has up to six digits beyond the minor unit (M1)."""
    policy, batch = draw(policy_and_items(budgets=False, campaigns=False))
    digits = policy.minor_units
    for item in batch:
        for k in sorted(MONEY & item.keys()):
            if draw(st.booleans()):
                extra = draw(st.integers(1, 6))
                units = draw(st.integers(-(10**extra) + 1, 10**extra - 1))
                item[k] = Decimal(item[k]) + Decimal(units).scaleb(-(digits + extra))
        item.pop("sku", None)
    return policy, batch


def _decided(r: Any, n: int) -> list[dict[str, Any]]:
    return [r.decision(i) for i in range(n)]


@given(fine_policy_and_items())
def test_sub_unit_money_one_decision_in_every_door(case: tuple[Policy, list[dict[str, Any]]]) -> None:
    """The same sub-unit amounts as str, Decimal and float (where the float
    is the same number), through `evaluate`, `evaluate_batch` (float64 and
    object columns) and `evaluate_arrow` (decimal128 and decimal256 at the
    currency's scale plus six, float64): the same decisions."""
    pa = pytest.importorskip("pyarrow")
    from test_arrow import row

    policy, batch = case
    n, digits = len(batch), policy.minor_units
    keys = sorted({k for it in batch for k in it})
    money = [k for k in keys if k in MONEY]
    want = []
    for item in batch:
        d = policy.evaluate({k: str(v) if k in MONEY else v for k, v in item.items()}).to_dict()
        del d["sku"]
        want.append(d)
    for form in (Decimal, str):
        for item, w in zip(batch, want):
            d = policy.evaluate({k: form(v) if k in MONEY else v for k, v in item.items()}).to_dict()
            del d["sku"]
            assert d == w, (form, item)
    floats_ok = all(Decimal(repr(float(it[k]))) == Decimal(it[k]) for it in batch for k in money if k in it)
    counts = {
        k: np.ma.masked_array(np.array([it.get(k, 0) for it in batch], dtype=np.int64), mask=[k not in it for it in batch])
        for k in keys
        if k not in MONEY
    }

    def objects(conv: Any) -> dict[str, Any]:
        return {k: np.array([None if k not in it else conv(it[k]) for it in batch] + [None], dtype=object)[:-1] for k in money}

    assert _decided(policy.evaluate_batch(**objects(str), **counts), n) == want
    assert _decided(policy.evaluate_batch(**objects(Decimal), **counts), n) == want
    if floats_ok:
        for item, w in zip(batch, want):
            d = policy.evaluate({k: float(v) if k in MONEY else v for k, v in item.items()}).to_dict()
            del d["sku"]
            assert d == w, ("float", item)
        floats = {k: np.array([float(it[k]) if k in it else np.nan for it in batch]) for k in money}
        assert _decided(policy.evaluate_batch(**floats, **counts), n) == want
    tables = []
    for kind, precision in ((pa.decimal128, 38), (pa.decimal256, 76)):
        cols = {k: pa.array([it.get(k) for it in batch], type=kind(precision, digits + 6)) for k in money}
        tables.append(cols)
    if floats_ok:
        tables.append({k: pa.array([float(it[k]) if k in it else None for it in batch], type=pa.float64()) for k in money})
    for cols in tables:
        cols.update({k: pa.array([it.get(k) for it in batch], type=pa.int64()) for k in counts})
        out = policy.evaluate_arrow(pa.table(cols))
        got = [{k: row(out, i)[k] for k in want[i]} for i in range(n)]
        assert got == want, next(iter(cols.values())).type
