"""Money finer than the currency (issue 23; docs/spec.md M1, M2): every door
reads it exactly, and one number gets one decision whether it arrives as a
float64, a str, a Decimal, an Arrow decimal of any scale, a pandas or polars
column; outputs give `promo_spend` exactly."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import priceguard
from priceguard import Policy

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")

from test_arrow import row  # noqa: E402

POLICY = """
name = "fine"
currency = "USD"
[bounds]
min_price = "0.99"
max_price = "5000"
[margin]
min_margin = "0.15"
[change]
max_increase = "0.30"
max_decrease = "0.40"
[promotion]
max_discount = "0.60"
"""

MONEY = ("proposed_price", "current_price", "unit_cost")

# What pipelines send (issue 23): a model's four-decimal proposals, and costs
# with 4 to 15 decimals as pandas writes them. Every cost here reads the same
# to six decimals as to the eight an item keeps (1.9999999999999998 is
# 2.00000000), so a decimal128(18, 6) column carries the same numbers.
PROPOSALS = [19.4373, 3.9694, 7.005, 12.3456, 4.999999, 23.0001]
COSTS = [13.580160000000001, 1.9999999999999998, 3.9694, 0.30000000000000004, 2.675, 8.12345678]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.from_toml(POLICY)


def pipeline_frame(n: int = 1_000) -> Any:
    """Whole-cent rows with finer proposals and costs scattered among them:
    64-row blocks the float block path decides from the floats, and blocks
    it leaves to the conversion (then exact amounts with per-row scales)."""
    rng = np.random.default_rng(23)
    current = rng.integers(500, 3_000, n) / 100
    proposed = np.round(current * rng.uniform(0.8, 1.2, n), 2)
    cost = np.round(current * rng.uniform(0.3, 0.7, n), 2)
    for i in range(0, n, 7):
        proposed[i] = PROPOSALS[i % len(PROPOSALS)]
    for i in range(3, n, 5):
        cost[i] = COSTS[i % len(COSTS)]
    return pd.DataFrame({"proposed_price": proposed, "current_price": current, "unit_cost": cost})


def alone(d: Any) -> dict[str, Any]:
    out = d.to_dict()
    del out["sku"]
    return out


def test_pipeline_csv_one_decision_in_every_door(policy: Policy, tmp_path: Path) -> None:
    """The issue's acceptance: a pandas frame of float64 money with 4 to 15
    decimals, written with `to_csv`, gives the same decisions through the
    float64 batch and frame doors, Decimal dicts and Arrow decimal128(18, 6),
    and no row is invalid_input."""
    frame = pipeline_frame()
    path = tmp_path / "prices.csv"
    frame.to_csv(path, index=False)
    text = path.read_text()
    assert "13.580160000000001" in text and "1.9999999999999998" in text and "19.4373" in text
    floats = pd.read_csv(io.StringIO(text))
    texts = pd.read_csv(io.StringIO(text), dtype=str)
    assert (floats.dtypes == np.float64).all()
    n = len(floats)

    batch = policy.evaluate_batch(**{k: floats[k].to_numpy() for k in MONEY})
    want = [batch.decision(i) for i in range(n)]
    assert all(d["reason"] != "invalid_input" for d in want)
    assert {"accepted", "adjusted"} <= {d["outcome"] for d in want}

    decimals = [{k: Decimal(texts[k][i]) for k in MONEY} for i in range(n)]
    single = [alone(policy.evaluate(item)) for item in decimals]
    assert single == want

    # The float column of the frame, its text, and Decimal objects.
    by_float = policy.evaluate_frame(floats)
    assert by_float.equals(policy.evaluate_frame(texts))
    assert by_float.equals(policy.evaluate_frame(texts.map(Decimal)))
    assert by_float.equals(batch.to_pandas())

    six = Decimal("0.000001")
    table = pa.table(
        {k: pa.array([Decimal(t).quantize(six) for t in texts[k]], type=pa.decimal128(18, 6)) for k in MONEY}
    )
    out = policy.evaluate_arrow(table)
    assert [{k: row(out, i)[k] for k in want[i]} for i in range(n)] == want
    # The CSV read by pyarrow itself (float64) and pandas' frame over Arrow.
    assert policy.evaluate_arrow(floats).equals(out)


def test_polars_frames(policy: Policy) -> None:
    pl = pytest.importorskip("polars")
    frame = pipeline_frame(300)
    want = policy.evaluate_frame(frame)
    got = policy.evaluate_frame(pl.from_pandas(frame))
    assert got["outcome"].to_list() == want["outcome"].tolist()
    assert got["price"].to_list() == want["price"].tolist()
    texts = pl.DataFrame({k: [repr(v) for v in frame[k]] for k in MONEY})
    decimals = texts.with_columns(*(pl.col(k).cast(pl.Decimal(38, 20)) for k in MONEY))
    for other in (texts, decimals):
        g = policy.evaluate_frame(other)
        assert g["outcome"].to_list() == want["outcome"].tolist()
        assert g["price"].to_list() == want["price"].tolist()
        assert g["reason"].to_list() == want["reason"].tolist()


@pytest.mark.parametrize(
    "value",
    [
        19.4373,
        "19.4373",
        Decimal("19.4373"),
        np.float64(19.4373),
        Decimal("1.94373E+1"),
        "19.437300000000000000001",
    ],
)
def test_single_door_kinds(policy: Policy, value: Any) -> None:
    d = policy.evaluate({"proposed_price": value, "unit_cost": "3.9694"})
    assert (d.outcome, d.price, d.reason, d.lower) == ("adjusted", Decimal("19.44"), "tick", Decimal("4.67"))
    assert d.explain().startswith("proposed 19.4373") and "snapped to 19.44 by tick" in d.explain()


def test_scalars_and_object_columns(policy: Policy) -> None:
    """Decimal and str scalars and object columns in evaluate_batch, in both
    money modes (str and Decimal are major units either way)."""
    want = alone(policy.evaluate({"proposed_price": "12.00", "unit_cost": "10.0001"}))
    assert want["lower"] == Decimal("11.77")  # 10.0001 / 0.85 = 11.76482..
    for money, proposed in (("major", np.array([12.0])), ("minor", np.array([1200]))):
        for cost in ("10.0001", Decimal("10.0001"), np.array(["10.0001"], dtype=object), np.array([Decimal("10.0001")])):
            r = policy.evaluate_batch(proposed_price=proposed, unit_cost=cost, money=money)
            assert r.decision(0) == want, (money, cost)
    r = policy.evaluate_batch(proposed_price=np.array(["12", "abc", None, "12.345"], dtype=object), unit_cost=0.5)
    assert [r.decision(i)["invalid_field"] for i in range(4)] == [None, "proposed_price", "proposed_price", None]
    # 12.345 is half a cent from two ticks: ties to the even one.
    assert (r.decision(3)["outcome"], r.decision(3)["price"]) == ("adjusted", Decimal("12.34"))


def test_promo_spend_exact_in_every_output(policy: Policy, tmp_path: Path) -> None:
    item = {"proposed_price": "13.00", "unit_cost": "1.00", "reference_price": "27.791", "expected_units": 3}
    d = policy.evaluate(item)
    assert d.promo_spend == Decimal("44.373") and str(d.promo_spend) == "44.373"
    assert "promo_spend=Decimal('44.373')" in repr(d)
    assert json.loads(d.to_json())["decision"]["promo_spend"] == "44.373"
    assert json.loads(d.to_json())["item"]["reference_price"] == "27.791"
    cols = {"proposed_price": [13.0, 13.0], "unit_cost": [1.0, 1.0], "reference_price": [27.791, 27.79], "expected_units": [3, 3]}
    major = policy.evaluate_batch(**{k: np.array(v) for k, v in cols.items()})
    assert major.promo_spend[0] == 44.373  # the float nearest the exact spend
    assert [major.decision(i)["promo_spend"] for i in range(2)] == [Decimal("44.373"), Decimal("44.37")]
    minor = policy.evaluate_batch(
        proposed_price=np.array([1300, 1300]),
        unit_cost=100,
        reference_price=np.array(["27.791", "27.79"], dtype=object),
        expected_units=np.array([3, 3]),
        money="minor",
    )
    # int64 minor units: rounded up, what a budget is charged; exact per decision.
    assert list(minor.promo_spend) == [4438, 4437]
    assert [minor.decision(i)["promo_spend"] for i in range(2)] == [Decimal("44.373"), Decimal("44.37")]
    t = policy.evaluate_arrow(pa.table({k: pa.array(v) for k, v in cols.items()}))
    assert t.schema.field("promo_spend").type == pa.decimal128(38, 8)
    assert t.column("promo_spend").to_pylist() == [Decimal("44.37300000"), Decimal("44.37000000")]
    # The audit log records the exact spend and the item's money as given.
    log = tmp_path / "audit.jsonl"
    major.write_audit(log)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["decision"]["promo_spend"] for r in records] == ["44.373", "44.37"]
    assert records[0]["item"]["reference_price"] == "27.791"
    minor.write_audit(log)
    assert json.loads(log.read_text().splitlines()[2])["decision"]["promo_spend"] == "44.373"
    assert priceguard.verify_audit(str(log))[0] == 4


def test_audit_items_exact(policy: Policy, tmp_path: Path) -> None:
    r = policy.evaluate_batch(
        proposed_price=np.array([19.4373, 12.0]),
        unit_cost=np.array(["3.9694", None], dtype=object),
        current_price=np.array([18, 11], dtype=np.int64),
    )
    log = tmp_path / "a.jsonl"
    r.write_audit(log)
    items = [json.loads(line)["item"] for line in log.read_text().splitlines()]
    assert items[0] == {"proposed_price": "19.4373", "current_price": "18.00", "unit_cost": "3.9694"}
    assert items[1] == {"proposed_price": "12.00", "current_price": "11.00"}


def test_a_value_too_fine_for_its_range_is_named(policy: Policy) -> None:
    """At eight decimals a USD amount fits 64 bits up to about 92 billion:
    a row whose money no longer fits at its finest value's scale is
    invalid_input naming the field `evaluate` names, in every door."""
    big = "9000000000000.00"  # 9e14 minor units: in range at the cent
    item = {"proposed_price": big, "unit_cost": "0.00000001"}
    d = policy.evaluate(item)
    assert (d.reason, d.invalid_field) == ("invalid_input", "proposed_price")
    r = policy.evaluate_batch(proposed_price=np.array([9e12, 20.0]), unit_cost=np.array([1e-8, 1e-8]))
    assert [r.decision(i)["invalid_field"] for i in range(2)] == ["proposed_price", None]
    t = policy.evaluate_arrow(
        pa.table({"proposed_price": pa.array([Decimal(big)]), "unit_cost": pa.array([Decimal("0.00000001")])})
    )
    assert row(t, 0)["invalid_field"] == "proposed_price"
    # The cost set first: then the cost is where the item stops fitting.
    d = policy.evaluate({"proposed_price": "0.00000001", "unit_cost": big})
    r = policy.evaluate_batch(proposed_price=np.array([1e-8]), unit_cost=np.array([9e12]))
    assert d.invalid_field == r.decision(0)["invalid_field"] == "unit_cost"


def test_float32_still_refused(policy: Policy) -> None:
    d = policy.evaluate({"proposed_price": np.float32(19.4373)})
    assert (d.reason, d.invalid_field) == ("invalid_input", "proposed_price")
    with pytest.raises(ValueError, match="float32"):
        policy.evaluate_batch(proposed_price=np.array([19.4373], dtype=np.float32))
