"""`Policy.evaluate_arrow`: Arrow columns in (decimal128 and decimal256 of any
scale, integer minor units, float64 major units, nulls), a pyarrow table of
decisions out, equal to `evaluate_batch` row by row and to the shared
vectors, with money finer than the currency read exactly (docs/spec.md M1)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pytest

import priceguard
from conftest import DATA, VECTORS
from test_vectors import case_forms, check

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed")

POLICY = """
name = "arrow"
currency = "USD"
[bounds]
min_price = "0.99"
max_price = "5000"
[margin]
min_margin = "0.15"
[change]
max_increase = "0.20"
max_decrease = "0.30"
[promotion]
budgets = { spring = "150.00" }
"""

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


@pytest.fixture(scope="module")
def policy() -> priceguard.Policy:
    return priceguard.Policy.from_toml(POLICY)


def dec(values: list[Optional[str]], scale: int, precision: int = 38) -> Any:
    """A decimal128 array at `scale` of decimal strings (None is null)."""
    return pa.array([None if v is None else Decimal(v) for v in values], type=pa.decimal128(precision, scale))


def exact(v: Optional[Decimal], digits: int) -> Optional[Decimal]:
    """An amount written as `Decision` writes it: the currency's digits and
    as many finer ones as it has (`50.00000000` is `50.00`, `44.37300000`
    is `44.373`)."""
    if v is None:
        return None
    unit = Decimal(1).scaleb(-digits)
    n = v.normalize()
    exponent = n.as_tuple().exponent
    return n.quantize(unit) if isinstance(exponent, int) and exponent > -digits else n


def row(t: Any, i: int) -> dict[str, Any]:
    """Row `i` of a decision table as a dict shaped like `Decision.to_dict()`
    (`promo_spend`, at the currency's scale plus six, written exactly)."""
    r = {k: t.column(k)[i].as_py() for k in t.column_names}
    for k in ("violated", "binding", "unmet", "relaxed"):
        r[k] = tuple(r[k])
    r["promo_spend"] = exact(r["promo_spend"], t.schema.field("price").type.scale)
    return r


def same(t: Any, result: priceguard.BatchResult) -> None:
    """The arrow decisions equal the batch decisions, row by row, field by field."""
    assert t.num_rows == len(result)
    for i in range(t.num_rows):
        got = row(t, i)
        want = result.decision(i)
        for k, v in want.items():
            assert got[k] == v, f"row {i}, `{k}`: arrow {got[k]!r}, batch {v!r}"
        assert got["violated_mask"] == int(result.violated[i])
        assert got["binding_mask"] == int(result.binding[i])
        assert got["unmet_mask"] == int(result.unmet[i])
        assert got["relaxed_mask"] == int(result.relaxed[i])


def test_output_schema(policy: priceguard.Policy) -> None:
    t = policy.evaluate_arrow(pa.table({"sku": ["a"], "proposed_price": dec(["12.49"], 2), "unit_cost": dec(["1"], 2)}))
    assert isinstance(t, pa.Table)
    assert t.column_names == [
        "sku",
        "outcome",
        "price",
        "lower",
        "upper",
        "violated",
        "binding",
        "unmet",
        "relaxed",
        "reason",
        "promo_spend",
        "needs_approval",
        "invalid_field",
        "lawful_reference",
        "violated_mask",
        "binding_mask",
        "unmet_mask",
        "relaxed_mask",
    ]
    assert t.schema.field("price").type == pa.decimal128(38, 2)
    # The exact spend: the currency's digits and the six an input may add.
    assert t.schema.field("promo_spend").type == pa.decimal128(38, 8)
    assert t.schema.field("violated").type == pa.list_(pa.field("item", pa.string(), nullable=False))
    assert t.schema.field("lawful_reference").type == pa.decimal128(38, 2)
    assert t.schema.field("violated_mask").type == pa.int64()
    assert t.schema.field("relaxed_mask").type == pa.int8()
    assert t.column("sku").to_pylist() == ["a"]
    assert row(t, 0)["price"] == Decimal("12.49")


@pytest.mark.parametrize("scale", [2, 4, 0, 10])
def test_decimal_scales(policy: priceguard.Policy, scale: int) -> None:
    """The same amounts at several scales give the same decisions; digits
    the currency does not have are invalid_input unless they are zeros."""
    proposed = ["12", "20", "7", "4999"]
    cost = ["10", "19", None, "100"]
    t = pa.table({"proposed_price": dec(proposed, scale), "unit_cost": dec(cost, scale)})
    got = policy.evaluate_arrow(t)
    want = policy.evaluate_arrow(pa.table({"proposed_price": dec(proposed, 2), "unit_cost": dec(cost, 2)}))
    assert got.equals(want)
    assert row(got, 1)["outcome"] == "adjusted"  # 19 / 0.85 = 22.36 > 20
    assert row(got, 1)["price"] == Decimal("22.36")
    assert (row(got, 2)["outcome"], row(got, 2)["reason"]) == ("rejected", "missing_cost")  # null: absent


def test_decimal_extra_digits(policy: priceguard.Policy) -> None:
    """Digits finer than the currency are kept (docs/spec.md M1): 12.4900 is
    12.49; a proposal of 12.4901 snaps to 12.49; a cost of 12.2151 needs
    14.37072.. so 14.38."""
    t = pa.table(
        {
            "proposed_price": dec(["12.4900", "12.4951", "12.4900"], 4),
            "unit_cost": dec(["1.0000", "1.0000", "12.2151"], 4),
        }
    )
    out = policy.evaluate_arrow(t)
    assert (row(out, 0)["outcome"], row(out, 0)["price"]) == ("accepted", Decimal("12.49"))
    assert (row(out, 1)["outcome"], row(out, 1)["reason"], row(out, 1)["price"]) == ("adjusted", "tick", Decimal("12.50"))
    assert (row(out, 2)["reason"], row(out, 2)["price"]) == ("margin", Decimal("14.38"))
    # The same as exact text through the single-item path, and as decimal256.
    for i, (p, c) in enumerate([("12.4900", "1.0000"), ("12.4951", "1.0000"), ("12.4900", "12.2151")]):
        d = policy.evaluate({"proposed_price": p, "unit_cost": c}).to_dict()
        assert {k: row(out, i)[k] for k in d if k != "sku"} == {k: v for k, v in d.items() if k != "sku"}
    wide = pa.table({k: c.cast(pa.decimal256(60, 4)) for k, c in zip(t.column_names, t.columns)})
    assert policy.evaluate_arrow(wide).equals(out)


def test_decimal_scale_zero_and_negative_jpy() -> None:
    jpy = priceguard.Policy.from_toml('name = "j"\ncurrency = "JPY"\n[bounds]\nmin_price = "1"\nmax_price = "100000"\n')
    t = pa.table({"proposed_price": dec(["1249", "1249.0", "1249.5"], 1)})
    out = jpy.evaluate_arrow(t)
    assert out.schema.field("price").type == pa.decimal128(38, 0)
    # Half a yen is kept and snapped to the yen tick, ties to even (§2.3).
    assert [row(out, i)["price"] for i in range(3)] == [Decimal(1249), Decimal(1249), Decimal(1250)]
    assert row(out, 2)["reason"] == "tick"
    neg = pa.array([Decimal("1.2E+3")], type=pa.decimal128(5, -2))
    assert row(jpy.evaluate_arrow(pa.table({"proposed_price": neg})), 0)["price"] == Decimal(1200)


def test_nulls_are_absent(policy: priceguard.Policy) -> None:
    t = pa.table(
        {
            "proposed_price": dec(["12.49", None, "12.49"], 2),
            "unit_cost": dec([None, "1.00", "12.22"], 2),
        }
    )
    out = policy.evaluate_arrow(t)
    assert (row(out, 0)["reason"], row(out, 0)["invalid_field"]) == ("missing_cost", None)
    assert (row(out, 1)["reason"], row(out, 1)["invalid_field"]) == ("invalid_input", "proposed_price")
    assert row(out, 2)["price"] == Decimal("14.38")
    # An all-null column (Arrow type `null`) is absent too.
    t2 = pa.table({"proposed_price": dec(["12.49"], 2), "unit_cost": pa.nulls(1)})
    assert row(policy.evaluate_arrow(t2), 0)["reason"] == "missing_cost"


def test_int64_minor_and_float64_major(policy: priceguard.Policy) -> None:
    t = pa.table(
        {
            "proposed_price": pa.array([1249, 2000, 500], type=pa.int64()),
            "unit_cost": pa.array([12.22, 2.675, float("nan")], type=pa.float64()),
        }
    )
    out = policy.evaluate_arrow(t)
    assert row(out, 0)["price"] == Decimal("14.38")
    # 2.675 is read as typed, exactly (M1, M2), as `evaluate` reads it.
    d = policy.evaluate({"proposed_price": "20.00", "unit_cost": 2.675}).to_dict()
    assert row(out, 1)["price"] == d["price"]
    # NaN is absent, as in evaluate and evaluate_batch: no cost.
    assert (row(out, 2)["reason"], row(out, 2)["invalid_field"]) == ("missing_cost", None)
    # Other integer widths are minor units too.
    t32 = pa.table({"proposed_price": pa.array([1249], type=pa.int32()), "unit_cost": pa.array([1222], type=pa.uint16())})
    assert row(policy.evaluate_arrow(t32), 0)["price"] == Decimal("14.38")


def test_empty_table(policy: priceguard.Policy) -> None:
    t = pa.table({"sku": pa.array([], type=pa.string()), "proposed_price": dec([], 2)})
    out = policy.evaluate_arrow(t)
    assert out.num_rows == 0
    assert out.schema.field("price").type == pa.decimal128(38, 2)
    empty = pa.Table.from_batches([], schema=pa.schema([("proposed_price", pa.float64())]))
    assert policy.evaluate_arrow(empty).num_rows == 0


@pytest.mark.parametrize(
    ("column", "array", "message"),
    [
        ("unit_cost", pa.array(["12.22"]), "`unit_cost` has Arrow type `Utf8`; expected decimal128"),
        ("proposed_price", pa.array([True]), "`proposed_price` has Arrow type `Boolean`"),
        ("unit_cost", pa.array([1.5], type=pa.float32()), "`unit_cost` has Arrow type `Float32`"),
        ("campaign", pa.array([1]), "`campaign` has Arrow type `Int64`; expected campaign names"),
        ("segment", pa.array(["a"]), "`segment` has Arrow type `Utf8`"),
    ],
)
def test_wrong_type(policy: priceguard.Policy, column: str, array: Any, message: str) -> None:
    cols = {"proposed_price": dec(["12.49"], 2), column: array}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        policy.evaluate_arrow(pa.table(cols))


def test_refusals(policy: priceguard.Policy) -> None:
    with pytest.raises(ValueError, match="no `proposed_price` column"):
        policy.evaluate_arrow(pa.table({"unit_cost": dec(["1"], 2)}))
    with pytest.raises(TypeError, match="needs Arrow data"):
        policy.evaluate_arrow({"proposed_price": [1]})
    dup = pa.Table.from_arrays([dec(["1"], 2), dec(["2"], 2)], names=["proposed_price", "proposed_price"])
    with pytest.raises(ValueError, match="`proposed_price` is given twice"):
        policy.evaluate_arrow(dup)


def random_columns(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    proposed = rng.integers(50, 600_000, n)
    cost = rng.integers(0, 500_000, n)
    current = rng.integers(50, 600_000, n)
    ref = rng.integers(50, 600_000, n)
    units = rng.integers(1, 40, n)
    return {"proposed_price": proposed, "unit_cost": cost, "current_price": current, "reference_price": ref, "expected_units": units}


def test_equals_evaluate_batch(policy: priceguard.Policy) -> None:
    """Random rows, with nulls, campaigns (budgets consumed in order across
    chunks and record batches): the same decisions as `evaluate_batch`."""
    n = 5000
    cols = random_columns(n, 7)
    rng = np.random.default_rng(8)
    null_cost = rng.random(n) < 0.1
    campaign = np.where(rng.random(n) < 0.3, "spring", None).astype(object)
    campaign[rng.random(n) < 0.05] = "winter"  # no budget: held
    want = policy.evaluate_batch(
        proposed_price=cols["proposed_price"],
        unit_cost=np.ma.masked_array(cols["unit_cost"], mask=null_cost),
        current_price=cols["current_price"],
        reference_price=cols["reference_price"],
        expected_units=cols["expected_units"],
        campaign=campaign,
        money="minor",
    )
    table = pa.table(
        {
            "proposed_price": pa.array(cols["proposed_price"]),
            "unit_cost": pa.array(cols["unit_cost"], mask=null_cost),
            "current_price": pa.array([Decimal(int(v)).scaleb(-2) for v in cols["current_price"]], type=pa.decimal128(20, 4)),
            "reference_price": pa.array(cols["reference_price"] / 100.0),
            "expected_units": pa.array(cols["expected_units"].astype(np.int32)),
            "campaign": pa.array(campaign, type=pa.string()).dictionary_encode(),
        }
    )
    # Several record batches of uneven sizes: budgets carry across them.
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=777))
    assert chunked.column("proposed_price").num_chunks > 1
    got = policy.evaluate_arrow(chunked)
    same(got, want)
    assert want.summary["budgets_remaining"]["spring"] < Decimal("150.00")
    # A RecordBatch (`__arrow_c_array__`) gives the same.
    assert policy.evaluate_arrow(table.to_batches()[0]).equals(got.slice(0, table.to_batches()[0].num_rows).combine_chunks())


def test_threads_same_answer(policy: priceguard.Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large batch without budgets is split across threads; same answers,
    in order, as one thread and as `evaluate_batch`."""
    n = 70_000
    cols = random_columns(n, 11)
    table = pa.table({k: pa.array(v) for k, v in cols.items()})
    want = policy.evaluate_batch(**cols, money="minor")
    monkeypatch.setenv("PRICEGUARD_NUM_THREADS", "2")
    two = policy.evaluate_arrow(table)
    assert two.column("outcome").num_chunks == 2
    monkeypatch.setenv("PRICEGUARD_NUM_THREADS", "1")
    one = policy.evaluate_arrow(table)
    assert two.equals(one)
    assert np.array_equal(two.column("violated_mask").to_numpy(), want.violated.astype(np.int64))
    assert np.array_equal(two.column("binding_mask").to_numpy(), want.binding.astype(np.int64))
    got = [-1 if v is None else int(v.scaleb(2)) for v in two.column("price").to_pylist()]
    assert np.array_equal(np.array(got, dtype=np.int64), np.where(want.price_valid, want.price, -1))


def test_pandas_and_polars(policy: priceguard.Policy) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "sku": ["a", "b", "c"],
            "proposed_price": [Decimal("12.49"), Decimal("20.00"), Decimal("7.10")],
            "unit_cost": [12.22, None, 1.0],
        }
    )
    out = policy.evaluate_arrow(frame)
    assert out.column("sku").to_pylist() == ["a", "b", "c"]
    assert [row(out, i)["price"] for i in range(3)] == [Decimal("14.38"), None, Decimal("7.10")]
    assert row(out, 1)["reason"] == "missing_cost"  # pandas' None / NaN arrives as null: absent
    pl = pytest.importorskip("polars")
    pframe = pl.DataFrame(
        {
            "sku": ["a", "b", "c"],
            "proposed_price": pl.Series([Decimal("12.49"), Decimal("20.00"), Decimal("7.10")], dtype=pl.Decimal(12, 2)),
            "unit_cost": [12.22, None, 1.0],
        }
    )
    assert policy.evaluate_arrow(pframe).drop_columns(["sku"]).equals(out.drop_columns(["sku"]))


# -- the shared vectors ------------------------------------------------------


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(), parse_float=Decimal)


#: The Arrow forms of a vector's money: decimal128 at the scale its text
#: has, decimal128 and decimal256 at the currency's scale plus six (the
#: digits an item keeps, docs/spec.md M1) where every value fits it, and
#: float64 where the case has a float form (test_vectors.case_forms).
ARROW_FORMS = ("text", "decimal128", "decimal256", "float")


def arrow_table(items: list[dict[str, Any]], form: str = "text", digits: int = 2) -> Optional[Any]:
    """The items as an Arrow table, money in `form` (see `ARROW_FORMS`;
    `digits`: the currency's), counts as int64; None when a value has no
    such form."""
    keys = sorted({k for it in items for k in it})
    cols = {}
    for k in keys:
        vals = [it.get(k) for it in items]
        if k in ("sku", "campaign"):
            if not all(v is None or isinstance(v, str) for v in vals):
                return None
            cols[k] = pa.array(vals, type=pa.string())
            continue
        try:
            ds = [None if v is None else Decimal(str(v)) for v in vals]
        except ArithmeticError:
            return None
        if any(d is not None and not d.is_finite() for d in ds):
            return None
        if k in MONEY and form == "float":
            floats = [None if d is None else float(d) for d in ds]
            if any(f is not None and d is not None and Decimal(repr(f)) != d for f, d in zip(floats, ds)):
                return None
            cols[k] = pa.array(floats, type=pa.float64())
        elif k in MONEY:
            scale = max((-d.as_tuple().exponent for d in ds if d is not None), default=2)
            width = max((len(d.as_tuple().digits) for d in ds if d is not None), default=1)
            if form != "text":
                if scale > digits + 6:
                    return None
                scale = digits + 6
            precision = 76 if form == "decimal256" else 38
            if width - min(0, scale) > precision or scale > precision:
                return None
            try:
                kind = pa.decimal256 if form == "decimal256" else pa.decimal128
                cols[k] = pa.array(ds, type=kind(precision, max(scale, 0)))
            except (pa.ArrowInvalid, ArithmeticError):
                return None
        else:
            if any(d is not None and (d != d.to_integral_value() or abs(d) >= 2**63) for d in ds):
                return None
            cols[k] = pa.array([None if d is None else int(d) for d in ds], type=pa.int64())
    return pa.table(cols)


def arrow_forms(cases: list[dict[str, Any]]) -> list[str]:
    """The Arrow forms `cases` run in (float64 only where each has a float form)."""
    floats = all("float" in case_forms(c) for c in cases)
    return [f for f in ARROW_FORMS if f != "float" or floats]


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_vectors_arrow(path: Path) -> None:
    """Batch files as one table; other files case by case (a table of one
    row); in each Arrow form of their money."""
    spec = load(path)
    policy = priceguard.Policy.from_dict(spec["policy"])
    digits = policy.minor_units
    cases = spec["cases"]
    if spec.get("batch"):
        ran = 0
        for form in arrow_forms(cases):
            t = arrow_table([c["item"] for c in cases], form, digits)
            if t is None:
                continue
            out = policy.evaluate_arrow(t)
            for i, case in enumerate(cases):
                check(row(out, i), case["expect"], f"{path.name} / {case['name']} (arrow batch, {form})")
            ran += 1
        assert ran > 0, f"{path.name}: a batch file must use readable values"
        return
    ran = 0
    for case in cases:
        for form in arrow_forms([case]):
            t = arrow_table([case["item"]], form, digits)
            if t is None:
                continue
            if "proposed_price" not in t.column_names:
                with pytest.raises(ValueError, match="proposed_price"):
                    policy.evaluate_arrow(t)
                continue
            out = policy.evaluate_arrow(t)
            check(row(out, 0), case["expect"], f"{path.name} / {case['name']} (arrow, {form})")
            ran += 1
    assert ran > 0 or not cases, f"{path.name}: no case had an Arrow form"
