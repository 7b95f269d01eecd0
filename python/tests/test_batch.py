"""`evaluate_batch`, `BatchResult` and `evaluate_frame`: inputs, outputs and every bad input."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

import priceguard
from priceguard import Outcome, Policy

TOML = """
name = "batch"
currency = "USD"
[bounds]
min_price = "0.99"
max_price = "5000"
[margin]
min_margin = "0.15"
[change]
max_increase = "0.10"
max_decrease = "0.20"
cooldown_secs = 3600
[promotion]
max_discount = "0.50"
budgets = { spring = "10", autumn = "1000" }
[[segments]]
id = 3
margin = { min_margin = "0.40" }
"""
NOW = 1_800_000_000


@pytest.fixture
def policy() -> Policy:
    return Policy.from_toml(TOML)


def test_float_columns(policy: Policy) -> None:
    r = policy.evaluate_batch(
        proposed_price=np.array([12.49, 20.0, 13.0]),
        unit_cost=np.array([12.22, 10.0, np.nan]),
    )
    assert len(r) == 3 and r.money == "major" and r.currency == "USD"
    assert r.price.dtype == np.float64
    assert r.price[0] == 14.38 and r.price[1] == 20.0 and np.isnan(r.price[2])
    assert list(r.outcome) == [Outcome.ADJUSTED, Outcome.ACCEPTED, Outcome.REJECTED]
    assert r.outcome.dtype == np.uint8 and r.reason.dtype == np.uint8
    assert r.violated.dtype == np.uint64 and r.binding.dtype == np.uint64
    assert priceguard.rule_names(r.violated[0]) == ("margin",)
    assert priceguard.reason_name(r.reason[2]) == "missing_cost"
    assert r.price_valid is None
    assert r.summary["items"] == 3 and r.summary["adjusted"] == 1 and r.summary["breaker_tripped"] is False
    assert "BatchResult(items=3" in repr(r)


def test_minor_columns(policy: Policy) -> None:
    r = policy.evaluate_batch(
        proposed_price=np.array([1249, 2000, 1300]),
        unit_cost=np.ma.masked_array([1222, 1000, 0], mask=[False, False, True]),
        money="minor",
    )
    assert r.price.dtype == np.int64 and r.price_valid.dtype == np.bool_
    assert list(r.price[:2]) == [1438, 2000] and list(r.price_valid) == [True, True, False]
    assert r.decision(0)["price"] == Decimal("14.38")


def test_scalars_broadcast(policy: Policy) -> None:
    r = policy.evaluate_batch(
        proposed_price=np.array([10.0, 11.0, 12.0]),
        unit_cost=Decimal("9.00"),
        current_price="10.50",
        now=NOW,
        last_change_at=np.array([NOW - 10, NOW - 7200, NOW - 7200]),
        segment=3,
    )
    for i in range(3):
        single = policy.evaluate(
            {
                "proposed_price": [10.0, 11.0, 12.0][i],
                "unit_cost": Decimal("9.00"),
                "current_price": "10.50",
                "now": NOW,
                "last_change_at": [NOW - 10, NOW - 7200, NOW - 7200][i],
                "segment": 3,
            }
        )
        assert r.decision(i) == {k: v for k, v in single.to_dict().items() if k != "sku"}


def test_all_scalars_is_one_item(policy: Policy) -> None:
    r = policy.evaluate_batch(proposed_price=12.49, unit_cost=12.22)
    assert len(r) == 1 and r.price[0] == 14.38


def test_int_money_is_major_units(policy: Policy) -> None:
    r = policy.evaluate_batch(proposed_price=np.array([20, 30], dtype=np.int32), unit_cost=1)
    assert list(r.price) == [20.0, 30.0]


def test_bad_items_are_rejected_in_place(policy: Policy) -> None:
    r = policy.evaluate_batch(
        proposed_price=np.array([12.0, np.nan, 12.0, 12.0, -1.0, np.inf, 12.0]),
        unit_cost=np.array([1.0, 1.0, -2.0, 1.0, 1.0, 1.0, 1.0]),
        expected_units=np.array([np.nan, np.nan, np.nan, 2.5, np.nan, np.nan, np.nan]),
        reference_price=np.array([np.nan, np.nan, np.nan, 20.0, np.nan, np.nan, np.nan]),
        segment=np.array([0, 0, 0, 0, 0, 0, -1]),
    )
    names = [priceguard.FIELDS[f] if f >= 0 else None for f in r.invalid_field]
    assert names == [None, "proposed_price", "unit_cost", "expected_units", "proposed_price", "proposed_price", "segment"]
    assert list(r.outcome[1:]) == [Outcome.REJECTED] * 6
    assert all(priceguard.reason_name(c) == "invalid_input" for c in r.reason[1:])
    assert r.outcome[0] == Outcome.ACCEPTED


def test_bad_scalars_reject_every_item(policy: Policy) -> None:
    r = policy.evaluate_batch(proposed_price=np.array([12.0, 13.0]), unit_cost="1.00.1")
    assert [priceguard.FIELDS[f] for f in r.invalid_field] == ["unit_cost", "unit_cost"]
    r = policy.evaluate_batch(proposed_price=np.array([12.0, 13.0]), unit_cost="abc")
    assert list(r.outcome) == [Outcome.REJECTED] * 2
    r = policy.evaluate_batch(proposed_price=np.array([12.0, 13.0]), unit_cost=1, campaign=5, reference_price=20)
    assert [priceguard.FIELDS[f] for f in r.invalid_field] == ["campaign", "campaign"]


def test_campaigns_resolved_and_budgets_consumed_in_order(policy: Policy) -> None:
    r = policy.evaluate_batch(
        proposed_price=np.array([9.0, 9.0, 9.0, 9.0, 9.0]),
        unit_cost=1,
        reference_price=10,
        expected_units=np.array([6, 6, 6, 6, 6]),
        campaign=np.array(["spring", "spring", "nope", None, "autumn"], dtype=object),
    )
    # spring holds 10.00: the first item spends 6.00, the second may spend 4.00 at most.
    assert r.price[0] == 9.0 and r.promo_spend[0] == 6.0
    assert r.price[1] == 9.34 and r.promo_spend[1] == pytest.approx(3.96)
    assert priceguard.reason_name(r.reason[2]) == "promo_budget"  # unknown campaign: held/rejected
    assert r.outcome[3] == Outcome.ACCEPTED  # no campaign: nothing drawn
    assert r.summary["budgets_remaining"] == {"spring": Decimal("0.04"), "autumn": Decimal("994.00")}


def test_campaign_str_array(policy: Policy) -> None:
    r = policy.evaluate_batch(
        proposed_price=np.array([9.0, 9.0]),
        unit_cost=1,
        reference_price=10,
        expected_units=1,
        campaign=np.array(["autumn", "nope"]),
    )
    assert list(r.outcome) == [Outcome.ACCEPTED, Outcome.REJECTED]


def test_datetime_columns(policy: Policy) -> None:
    now = np.datetime64(NOW, "s")
    r = policy.evaluate_batch(
        proposed_price=np.array([12.0, 12.0]),
        current_price=11.0,
        unit_cost=1,
        now=now,
        last_change_at=np.array([NOW - 10, "NaT"], dtype="datetime64[s]"),
    )
    assert priceguard.reason_name(r.reason[0]) == "cooldown"
    assert r.outcome[1] == Outcome.ACCEPTED


def test_pandas_nullable_and_na(policy: Policy) -> None:
    r = policy.evaluate_batch(
        proposed_price=pd.array([12.49, 20.0, None], dtype="Float64"),
        unit_cost=pd.Series(pd.array([12.22, None, 1.0], dtype="Float64")),
        expected_units=pd.NA,
    )
    assert r.price[0] == 14.38
    assert priceguard.reason_name(r.reason[1]) == "missing_cost"
    assert priceguard.FIELDS[r.invalid_field[2]] == "proposed_price"
    r = policy.evaluate_batch(
        proposed_price=pd.array([1249, None], dtype="Int64"), unit_cost=pd.array([1222, 1], dtype="Int64"), money="minor"
    )
    assert r.price[0] == 1438 and not r.price_valid[1]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"proposed_price": np.array([1.0, 2.0]), "unit_cost": np.array([1.0, 2.0, 3.0])}, "different lengths"),
        ({"proposed_price": np.array([1.0, 2.0]), "unit_cost": np.array([True, False])}, "dtype `bool`"),
        ({"proposed_price": np.array([1.0]), "expected_units": np.array(["1"], dtype=object)}, "dtype `object`"),
        ({"proposed_price": np.ones((2, 2))}, "1-d"),
        ({"proposed_price": np.array([1.0]), "money": "cents"}, "money must be"),
        ({"proposed_price": np.array([1.5]), "money": "minor"}, 'money="minor"'),
        ({"proposed_price": np.array([150]), "unit_cost": 1.5, "money": "minor"}, 'money="minor"'),
        ({"proposed_price": None}, "proposed_price"),
        ({"proposed_price": np.ma.masked}, "proposed_price"),
        ({"proposed_price": np.array([1.0, 2.0]), "campaign": np.array([1, 2])}, "str values"),
        ({"proposed_price": np.array([1.0]), "segment": True}, "bool"),
        ({"proposed_price": np.array([1.0]), "unit_cost": object()}, "cannot be"),
        ({"proposed_price": np.array([1.0]), "unit_cost": pd.array([True], dtype="boolean")}, "expected numbers"),
        ({"proposed_price": np.array([2**64 - 1], dtype=np.uint64)}, "int64 range"),
    ],
)
def test_bad_batches_raise_before_work(policy: Policy, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        policy.evaluate_batch(**kwargs)


def test_masked_length_mismatch(policy: Policy) -> None:
    with pytest.raises(ValueError, match="different lengths"):
        policy.evaluate_batch(
            proposed_price=np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 0, 1]), unit_cost=np.array([1.0, 2.0])
        )


def test_non_contiguous_input(policy: Policy) -> None:
    prices = np.array([12.49, 0.0, 20.0, 0.0])[::2]
    r = policy.evaluate_batch(proposed_price=prices, unit_cost=np.array([12.22, 0, 10.0, 0])[::2])
    assert list(r.price) == [14.38, 20.0]


def test_threads_give_the_same_answer(policy: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    n = 70_000
    cost = rng.integers(100, 10_000, n)
    cols = dict(
        proposed_price=np.round(cost * rng.uniform(0.8, 2.0, n)).astype(np.int64),
        current_price=np.round(cost * 1.4).astype(np.int64),
        unit_cost=cost,
        last_change_at=NOW - rng.integers(0, 7200, n),
        now=NOW,
        segment=rng.integers(0, 5, n),
    )
    monkeypatch.setenv("PRICEGUARD_NUM_THREADS", "1")
    one = policy.evaluate_batch(**cols, money="minor")
    monkeypatch.setenv("PRICEGUARD_NUM_THREADS", "3")
    three = policy.evaluate_batch(**cols, money="minor")
    for k in ("price", "price_valid", "lower", "upper", "outcome", "reason", "violated", "binding", "relaxed"):
        assert np.array_equal(getattr(one, k), getattr(three, k)), k
    assert one.summary == three.summary


def test_breaker_trips_on_the_whole_batch() -> None:
    p = Policy.from_toml(TOML.replace("[[segments]]", '[breaker]\nmax_violation_ratio = "0.30"\nmin_batch = 10\n\n[[segments]]'))
    n = 20
    proposed = np.full(n, 20.0)
    proposed[:7] = 0.5  # 7 of 20 break min_price: 35 % > 30 %
    r = p.evaluate_batch(proposed_price=proposed, current_price=19.0, unit_cost=1)
    assert r.summary["breaker_tripped"] is True
    assert {priceguard.reason_name(c) for c in r.reason} == {"circuit_open"}
    assert list(r.price) == [19.0] * n
    r = p.evaluate_batch(proposed_price=proposed[2:], current_price=19.0, unit_cost=1)
    assert r.summary["breaker_tripped"] is False  # 5 of 18 is under 30 %
    assert r.summary["violators"] == 5


def test_to_pandas(policy: Policy) -> None:
    r = policy.evaluate_batch(proposed_price=np.array([12.49, 20.0, np.nan]), unit_cost=np.array([12.22, 10.0, 1.0]))
    df = r.to_pandas()
    assert list(df.columns) == [
        "outcome", "price", "lower", "upper", "violated", "binding", "unmet", "relaxed", "reason",
        "promo_spend", "needs_approval", "invalid_field", "lawful_reference",
    ]
    assert str(df["price"].dtype) == "Float64" and df["price"].isna().tolist() == [False, False, True]
    assert df["outcome"].tolist() == ["adjusted", "accepted", "rejected"]
    assert df["violated"].tolist() == ["margin", "", ""]
    assert df["invalid_field"].isna().tolist() == [True, True, False]
    assert str(df["needs_approval"].dtype) == "boolean"
    m = policy.evaluate_batch(proposed_price=np.array([1249, 0]), unit_cost=1222, money="minor").to_pandas()
    assert str(m["price"].dtype) == "Int64" and m["price"].tolist()[0] == 1438 and m["price"].isna().tolist()[1]


def test_evaluate_frame_round_trip(policy: Policy) -> None:
    df = pd.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "title": ["ignored", "x", "y", "z"],
            "proposed_price": pd.array([12.49, 20.0, 13.0, None], dtype="Float64"),
            "unit_cost": [12.22, 10.0, None, 1.0],
            "current_price": pd.array([13.0, None, 12.0, 5.0], dtype="Float64"),
            "last_change_at": pd.array([NOW - 10, None, NOW - 7200, None], dtype="Int64"),
            "campaign": [None, None, "spring", None],
        },
        index=[10, 11, 12, 13],
    )
    out = policy.evaluate_frame(df, now=NOW, extra="ignore")
    assert list(out.index) == [10, 11, 12, 13]
    assert out["sku"].tolist() == ["A", "B", "C", "D"]
    rows = df.drop(columns=["title"]).astype(object).where(df.notna(), None).to_dict("records")
    for (_, got), row in zip(out.iterrows(), rows):
        item = {k: v for k, v in row.items() if v is not None}
        item["now"] = NOW
        if "proposed_price" not in item:
            assert got["reason"] == "invalid_input" and got["invalid_field"] == "proposed_price"
            continue
        want = policy.evaluate(item)
        assert got["outcome"] == want.outcome and got["reason"] == want.reason
        price = None if pd.isna(got["price"]) else Decimal(repr(float(got["price"]))).quantize(Decimal("0.01"))
        assert price == want.price
        assert got["binding"] == ";".join(want.binding)
    with pytest.raises(ValueError, match="proposed_price"):
        policy.evaluate_frame(pd.DataFrame({"unit_cost": [1.0]}))
    with pytest.raises(TypeError):
        policy.evaluate_frame([1, 2])


def test_evaluate_frame_minor(policy: Policy) -> None:
    df = pd.DataFrame({"proposed_price": [1249, 2000], "unit_cost": [1222, 1000]})
    out = policy.evaluate_frame(df, money="minor")
    assert out["price"].tolist() == [1438, 2000]


def test_evaluate_frame_polars(policy: Policy) -> None:
    pl = pytest.importorskip("polars")
    df = pl.DataFrame({"sku": ["A", "B"], "proposed_price": [12.49, None], "unit_cost": [12.22, 1.0]})
    out = policy.evaluate_frame(df)
    assert out["price"].to_list()[0] == 14.38 and out["price"].to_list()[1] is None
    assert out["sku"].to_list() == ["A", "B"]
