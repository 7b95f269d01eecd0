"""The group vectors (`tests/vectors/groups/*.json`, docs/spec.md §10) through
every Python door: `evaluate_batch` (numpy columns, money as str, Decimal,
float64 and int64 minor units), `evaluate_frame` (pandas and polars),
`evaluate_arrow` and `evaluate_items` (dicts, with the explanations).

Each case is one batch, decided with its rows as given, reversed, rotated
by one and in a fixed shuffle: a group's result never depends on row
order. A failure names the file, the case, the door and the order.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import priceguard
from conftest import VECTORS
from test_vectors import MONEY, batch_forms, columns, form_value, load

GROUP_FILES = sorted((VECTORS / "groups").glob("*.json"))
GROUP_FIELDS = ("group", "rank", "pack_size")


def orders(n: int) -> list[tuple[str, list[int]]]:
    """The row orders every case runs in (the vectors README)."""
    shuffled = list(range(n))
    random.Random(25).shuffle(shuffled)
    return [
        ("as given", list(range(n))),
        ("reversed", list(range(n))[::-1]),
        ("rotated", list(range(1, n)) + [0] if n else []),
        ("shuffled", shuffled),
    ]


def check_row(got: dict[str, Any], expect: dict[str, Any], where: str) -> None:
    """Only the keys the case gives are checked (the vectors README)."""
    problems = []
    for k in ("outcome", "reason", "invalid_field"):
        if k in expect and got[k] != expect[k]:
            problems.append(f"{k}: got {got[k]!r}, expected {expect[k]!r}")
    for k in ("price", "promo_spend"):
        if k in expect:
            v = None if got[k] is None else str(got[k])
            if v != expect[k]:
                problems.append(f"{k}: got {v!r}, expected {expect[k]!r}")
    for k in ("violated", "binding", "unmet"):
        if k in expect and list(got[k]) != expect[k]:
            problems.append(f"{k}: got {list(got[k])}, expected {expect[k]}")
    assert not problems, f"{where}: " + "; ".join(problems)


def check_counts(summary: dict[str, Any], case: dict[str, Any], where: str) -> None:
    want = case.get("groups")
    if want is None:
        return
    got = {
        "groups": summary["groups"],
        "adjusted": summary["groups_adjusted"],
        "held": summary["groups_held"],
        "invalid": summary["groups_invalid"],
    }
    assert got == want, f"{where}: group counts {got}, expected {want}"


def group_columns(items: list[dict[str, Any]]) -> dict[str, Any]:
    """`group` as str objects (None: not grouped), `rank` and `pack_size`
    as masked int64 (masked: absent)."""
    out: dict[str, Any] = {"group": np.array([it.get("group") for it in items] + [None], dtype=object)[:-1]}
    for k in ("rank", "pack_size"):
        vals = [it.get(k) for it in items]
        if all(v is None for v in vals):
            continue
        out[k] = np.ma.masked_array(
            np.array([0 if v is None else int(v) for v in vals], dtype=np.int64),
            mask=[v is None for v in vals],
        )
    return out


#: One run of a batch: each row's decision dict, and the summary (None
#: when the door gives none).
Run = tuple[list[dict[str, Any]], Optional[dict[str, Any]]]


def run_cases(path: Path, decide: Callable[[Any, list[dict[str, Any]]], dict[str, Run]]) -> int:
    """Runs every case of `path` in every order through `decide(policy,
    items)`, which returns a run per form the door took the rows in (none
    when the case has no form for that door). Returns the runs made."""
    spec = load(path)
    policy = priceguard.Policy.from_dict(spec["policy"])
    ran = 0
    for case in spec["cases"]:
        for order_name, order in orders(len(case["items"])):
            items = [case["items"][i] for i in order]
            for form, (rows, summary) in decide(policy, items).items():
                where = f"{path.name} / {case['name']} ({order_name}, {form})"
                assert len(rows) == len(items), where
                for it, d in zip(items, rows):
                    check_row(d, case["expect"][it["sku"]], f"{where}, {it['sku']}")
                if summary is not None:
                    check_counts(summary, case, where)
                ran += 1
    return ran


def test_group_vectors_exist() -> None:
    assert len(GROUP_FILES) >= 1, f"no group vectors in {VECTORS / 'groups'}"


@pytest.mark.parametrize("money", ["major", "minor"])
@pytest.mark.parametrize("path", GROUP_FILES, ids=[f.name for f in GROUP_FILES])
def test_group_vectors_batch(path: Path, money: str) -> None:
    """numpy columns, in each money form every row of the case can take."""

    def decide(policy: Any, items: list[dict[str, Any]]) -> dict[str, Run]:
        plain = [{k: v for k, v in it.items() if k not in GROUP_FIELDS} for it in items]
        runs = {}
        for form in batch_forms(money, ["text", "decimal", "float"]):
            cols = columns(plain, policy.minor_units, form)
            if cols is None:
                continue
            r = policy.evaluate_batch(**cols, **group_columns(items), money=money)
            runs[f"{money}, {form}"] = ([r.decision(i) for i in range(len(items))], r.summary)
        return runs

    assert run_cases(path, decide) > 0


@pytest.mark.parametrize("path", GROUP_FILES, ids=[f.name for f in GROUP_FILES])
def test_group_vectors_pandas(path: Path) -> None:
    """A pandas DataFrame: money as str, `rank` / `pack_size` as nullable
    `Int64`, `group` as `string`."""
    pd = pytest.importorskip("pandas")

    def decide(policy: Any, items: list[dict[str, Any]]) -> dict[str, Run]:
        keys = sorted({k for it in items for k in it})
        data: dict[str, Any] = {}
        for k in keys:
            vals = [it.get(k) for it in items]
            if k in ("rank", "pack_size", "expected_units", "now", "last_change_at"):
                data[k] = pd.array(vals, dtype="Int64")
            elif k in ("group", "sku", "campaign"):
                data[k] = pd.array(vals, dtype="string")
            else:
                data[k] = pd.Series([None if v is None else str(v) for v in vals], dtype=object)
        out = policy.evaluate_frame(pd.DataFrame(data))
        rows = [dict(zip(out.columns, r)) for r in out.itertuples(index=False)]
        for r in rows:
            r["price"] = None if pd.isna(r["price"]) else Decimal(repr(float(r["price"]))).quantize(policy.tick)
            r["promo_spend"] = None if pd.isna(r["promo_spend"]) else Decimal(repr(float(r["promo_spend"]))).quantize(Decimal(1).scaleb(-policy.minor_units))
            r["invalid_field"] = None if pd.isna(r["invalid_field"]) else r["invalid_field"]
            for k in ("violated", "binding", "unmet"):
                r[k] = [] if pd.isna(r[k]) or r[k] == "" else r[k].split(";")
        return {"pandas": (rows, None)}

    assert run_cases(path, decide) > 0


@pytest.mark.parametrize("path", GROUP_FILES, ids=[f.name for f in GROUP_FILES])
def test_group_vectors_polars(path: Path) -> None:
    """A polars DataFrame: money as `String`, `rank` / `pack_size` as
    nullable `Int64`."""
    pl = pytest.importorskip("polars")

    def decide(policy: Any, items: list[dict[str, Any]]) -> dict[str, Run]:
        keys = sorted({k for it in items for k in it})
        data: dict[str, Any] = {}
        for k in keys:
            vals = [it.get(k) for it in items]
            if k in ("rank", "pack_size", "expected_units", "now", "last_change_at"):
                data[k] = pl.Series(k, vals, dtype=pl.Int64)
            else:
                data[k] = pl.Series(k, [None if v is None else str(v) for v in vals], dtype=pl.Utf8)
        out = policy.evaluate_frame(pl.DataFrame(data))
        rows = out.to_dicts()
        for r in rows:
            r["price"] = None if r["price"] is None else Decimal(repr(r["price"])).quantize(policy.tick)
            r["promo_spend"] = None if r["promo_spend"] is None else Decimal(repr(r["promo_spend"])).quantize(Decimal(1).scaleb(-policy.minor_units))
            for k in ("violated", "binding", "unmet"):
                r[k] = [] if not r[k] else r[k].split(";")
        return {"polars": (rows, None)}

    assert run_cases(path, decide) > 0


@pytest.mark.parametrize("path", GROUP_FILES, ids=[f.name for f in GROUP_FILES])
def test_group_vectors_items(path: Path) -> None:
    """`evaluate_items` (dicts, money as text and as Decimal), with each
    moved row's explanation."""
    spec = load(path)
    explains = {sku: e["explain"] for c in spec["cases"] for sku, e in c["expect"].items() if "explain" in e}

    def decide(policy: Any, items: list[dict[str, Any]]) -> dict[str, Run]:
        runs = {}
        for form in ("text", "decimal"):
            given = [{k: form_value(v, form) if k in MONEY and v is not None else v for k, v in it.items()} for it in items]
            ds = policy.evaluate_items(given)
            assert [d.sku for d in ds] == [it["sku"] for it in items], form
            for d in ds:
                if d.sku in explains:
                    assert d.explain() == explains[d.sku], f"{path.name} ({form}), {d.sku}"
            runs[form] = ([d.to_dict() for d in ds], None)
        return runs

    assert run_cases(path, decide) > 0


@pytest.mark.parametrize("path", GROUP_FILES, ids=[f.name for f in GROUP_FILES])
def test_group_vectors_arrow(path: Path) -> None:
    """`evaluate_arrow`, money in each Arrow form, `group` as string and as
    a dictionary of strings, `rank` / `pack_size` as int64 with nulls."""
    pa = pytest.importorskip("pyarrow")
    from test_arrow import ARROW_FORMS, arrow_table, row

    def decide(policy: Any, items: list[dict[str, Any]]) -> dict[str, Run]:
        plain = [{k: v for k, v in it.items() if k not in GROUP_FIELDS} for it in items]
        runs = {}
        for form in ARROW_FORMS:
            t = arrow_table(plain, form, policy.minor_units)
            if t is None:
                continue
            groups = pa.array([it.get("group") for it in items], type=pa.string())
            for shape, g in (("string", groups), ("dictionary", groups.dictionary_encode())):
                u = t.append_column("group", g)
                for k in ("rank", "pack_size"):
                    vals = [it.get(k) for it in items]
                    if any(v is not None for v in vals):
                        u = u.append_column(k, pa.array(vals, type=pa.int64()))
                out = policy.evaluate_arrow(u)
                runs[f"arrow, {form}, group {shape}"] = ([row(out, i) for i in range(len(items))], None)
        return runs

    assert run_cases(path, decide) > 0


@st.composite
def ladder_batch(draw: Any) -> tuple[priceguard.Policy, list[dict[str, Any]], list[int]]:
    """A policy with a `[ladder]`, a batch of grouped and ungrouped rows
    (ranks may repeat or be missing, pack sizes may be absent), and a
    permutation of its rows. No campaigns: budgets are consumed in input
    order, so only there may order matter (docs/spec.md G2)."""
    ladder: dict[str, str] = {"min_gap": draw(st.sampled_from(["0", "0.05", "0.10"]))}
    if draw(st.booleans()):
        ladder["max_gap"] = draw(st.sampled_from(["0.20", "0.50"]))
    if draw(st.booleans()):
        ladder["min_unit_saving"] = draw(st.sampled_from(["0", "0.10"]))
    spec = {
        "name": "shuffle",
        "currency": "USD",
        "bounds": {"min_price": "1.00", "max_price": "1000"},
        "change": {"max_increase": "0.50", "max_decrease": "0.50"},
        "ladder": ladder,
    }
    n = draw(st.integers(min_value=1, max_value=12))
    items = []
    for i in range(n):
        it: dict[str, Any] = {"sku": f"S{i}", "proposed_price": f"{draw(st.integers(100, 5000)) / 100:.2f}"}
        if draw(st.booleans()):
            it["current_price"] = f"{draw(st.integers(100, 5000)) / 100:.2f}"
        it["group"] = draw(st.sampled_from(["a", "b", "c", None]))
        it["rank"] = draw(st.one_of(st.none(), st.integers(1, 6)) if draw(st.integers(0, 9)) == 0 else st.integers(1, 6))
        if draw(st.booleans()):
            it["pack_size"] = draw(st.integers(1, 6))
        items.append(it)
    order = draw(st.permutations(list(range(n))))
    return priceguard.Policy.from_dict(spec), items, order


@settings(max_examples=150, deadline=None)
@given(ladder_batch())
def test_shuffling_rows_changes_no_decision(case: tuple[priceguard.Policy, list[dict[str, Any]], list[int]]) -> None:
    """The same rows in another order get the same decisions, through the
    numpy columns and the dict path (and the two doors agree)."""
    policy, items, order = case
    shuffled = [items[i] for i in order]

    def by_batch(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        cols = {
            "proposed_price": np.array([r["proposed_price"] for r in rows], dtype=object),
            "current_price": np.array([r.get("current_price") for r in rows] + [None], dtype=object)[:-1],
            **group_columns(rows),
        }
        res = policy.evaluate_batch(**cols)
        return {r["sku"]: res.decision(i) for i, r in enumerate(rows)}

    def by_items(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        out = {}
        for d in policy.evaluate_items(rows):
            dd = d.to_dict()
            dd.pop("sku")
            out[d.sku] = dd
        return out

    first = by_batch(items)
    assert by_batch(shuffled) == first
    assert by_items(items) == first
    assert by_items(shuffled) == first


TIERS = {
    "name": "tiers",
    "currency": "USD",
    "bounds": {"min_price": "1.00", "max_price": "1000"},
    "ladder": {"min_gap": "0.05"},
}


def test_unreadable_group_fields_name_the_field() -> None:
    """A rank or pack size that cannot be read refuses its whole group
    (naming the field); in a row without a group it rejects that row."""
    policy = priceguard.Policy.from_dict(TIERS)
    r = policy.evaluate_batch(
        proposed_price=np.array(["15.00", "14.99", "9.99", "9.99", "8.00", "8.00"], dtype=object),
        group=np.array(["a", "a", None, "", "b", "b"], dtype=object),
        rank=np.array([1, "abc", "x", 2.5, 1, 2], dtype=object),
        pack_size=np.array([None, None, None, None, -1, 2], dtype=object),
    )
    got = [(r.decision(i)["reason"], r.decision(i)["invalid_field"]) for i in range(len(r))]
    assert got == [
        ("invalid_input", "rank"),  # group a: rank 2 is unreadable, so both members
        ("invalid_input", "rank"),
        ("invalid_input", "rank"),  # no group: the row alone
        ("invalid_input", "rank"),  # "" is no group: 2.5 rejects the row alone
        ("invalid_input", "pack_size"),  # group b: a pack of -1 refuses both
        ("invalid_input", "pack_size"),
    ]
    assert (r.summary["groups"], r.summary["groups_invalid"]) == (2, 2)


def test_integer_and_text_ids_are_one_group() -> None:
    """`7` and `"7"` are the same group (an id is text, as in a CSV file):
    rank 2 at 14.99 is raised to 1.05 x 15.00 = 15.75."""
    policy = priceguard.Policy.from_dict(TIERS)
    r = policy.evaluate_batch(proposed_price=np.array([15.00, 14.99]), group=np.array([7, "7"], dtype=object), rank=[1, 2])
    assert [str(r.decision(i)["price"]) for i in range(2)] == ["15.00", "15.75"]
    ints = policy.evaluate_batch(proposed_price=np.array([15.00, 14.99]), group=np.array([7, 7]), rank=np.array([1.0, 2.0]))
    assert str(ints.decision(1)["price"]) == "15.75"
    pa = pytest.importorskip("pyarrow")
    t = pa.table({"proposed_price": pa.array([1500, 1499]), "group": pa.array([7, 7], pa.int32()), "rank": pa.array([1, 2], pa.int8())})
    assert str(policy.evaluate_arrow(t).column("price")[1].as_py()) == "15.75"


def test_one_item_and_unusable_group_columns() -> None:
    """`evaluate` with a group is a group of one (a missing rank refuses
    it); a group column of an unusable type raises before any work."""
    policy = priceguard.Policy.from_dict(TIERS)
    alone = policy.evaluate({"proposed_price": "14.99", "group": "a", "rank": 3})
    assert (alone.outcome, str(alone.price)) == ("accepted", "14.99")
    unranked = policy.evaluate({"proposed_price": "14.99", "group": "a"})
    assert (unranked.reason, unranked.invalid_field) == ("invalid_input", "rank")
    with pytest.raises(ValueError, match="group"):
        policy.evaluate_batch(proposed_price=[1.0, 2.0], group=np.array([True, False]), rank=[1, 2])
    pa = pytest.importorskip("pyarrow")
    with pytest.raises(ValueError, match="group"):
        policy.evaluate_arrow(pa.table({"proposed_price": pa.array([100]), "group": pa.array([1.5])}))


@pytest.mark.parametrize("money", ["major", "minor"])
def test_large_batch_in_chunks_equals_whole(money: str) -> None:
    """A batch whose groups are each together is decided in chunks cut
    between groups; shuffled, the same rows are decided whole. Every row
    gets the same decision either way (20,000 rows, groups of 1 to 7 across
    many chunk marks, some unranked or with a repeated rank, some rows
    ungrouped, a few with a value that cannot be read)."""
    policy = priceguard.Policy.from_dict(
        {**TIERS, "ladder": {"min_gap": "0.05", "max_gap": "0.40", "min_unit_saving": "0.05"}}
    )
    rng = np.random.default_rng(25)
    n = 20_000
    sizes = rng.integers(1, 8, size=n)
    group = np.repeat(np.arange(n), sizes)[:n]
    rank = np.concatenate([np.arange(1, s + 1) for s in sizes])[:n].astype(np.int64)
    ungrouped = rng.random(n) < 0.1
    groups = np.array([f"g{g}" for g in group], dtype=object)
    groups[ungrouped] = None
    rank_given = np.ma.masked_array(rank, mask=rng.random(n) < 0.002)
    rank_given[rng.random(n) < 0.002] = 1
    cents = rng.integers(100, 20_000, size=n)
    price: Any = cents / 100 if money == "major" else cents
    price_cols: dict[str, Any] = {"proposed_price": price, "unit_cost": np.where(rng.random(n) < 0.001, -1, 0) if money == "minor" else None}
    pack = np.ma.masked_array(rng.integers(1, 13, size=n), mask=rng.random(n) < 0.5)
    kw = dict(price_cols, group=groups, rank=rank_given, pack_size=pack, money=money)
    whole = policy.evaluate_batch(**{k: v for k, v in kw.items() if v is not None})
    order = rng.permutation(n)
    shuffled_kw = {k: (v[order] if isinstance(v, np.ndarray) else v) for k, v in kw.items() if v is not None}
    shuffled = policy.evaluate_batch(**shuffled_kw)
    assert whole.summary["groups_adjusted"] > 100 and whole.summary["groups_invalid"] > 0
    for k in ("groups", "groups_adjusted", "groups_held", "groups_invalid", "adjusted", "held", "rejected"):
        assert whole.summary[k] == shuffled.summary[k], k
    for name in ("price", "outcome", "reason", "violated", "binding", "unmet", "invalid_field"):
        a, b = getattr(whole, name), getattr(shuffled, name)[np.argsort(order)]
        assert np.array_equal(a, b, equal_nan=name == "price" and money == "major"), name
