"""`Policy` construction, `evaluate` on one item, `Decision` and `PolicyError`."""

from __future__ import annotations

import json
import types
from decimal import Decimal
from pathlib import Path

import pytest

import priceguard
from priceguard import Policy, PolicyError

TOML = """
name = "demo"
version = "2026-11-27"
currency = "USD"

[bounds]
min_price = "0.99"
max_price = "5000"

[margin]
min_margin = "0.15"

[promotion]
max_discount = "0.50"
budgets = { spring-sale = "100" }
"""


@pytest.fixture
def policy() -> Policy:
    return Policy.from_toml(TOML)


def test_identity(policy: Policy) -> None:
    assert (policy.name, policy.version, policy.currency) == ("demo", "2026-11-27", "USD")
    assert policy.minor_units == 2
    assert policy.tick == Decimal("0.01")
    assert policy.budgets == {"spring-sale": Decimal("100.00")}
    assert policy.segment_ids == ()
    assert not policy.has_breaker
    assert repr(policy) == "Policy(name='demo', version='2026-11-27', currency='USD')"


def test_margin_example(policy: Policy) -> None:
    d = policy.evaluate({"sku": "A1", "proposed_price": "12.49", "unit_cost": "12.22"})
    assert d.outcome == "adjusted"
    assert d.price == Decimal("14.38") and str(d.price) == "14.38"
    assert (d.lower, d.upper) == (Decimal("14.38"), Decimal("5000.00"))
    assert d.violated == ("margin",) and d.binding == ("margin",)
    assert d.unmet == () and d.relaxed == ()
    assert d.reason == "margin"
    assert d.promo_spend is None and d.needs_approval is False and d.invalid_field is None
    assert d.sku == "A1"
    assert "14.38" in d.explain() and "margin" in d.explain()
    assert repr(d).startswith("Decision(outcome='adjusted', price=Decimal('14.38')")
    assert d.to_dict()["price"] == Decimal("14.38")


@pytest.mark.parametrize(
    "value, price",
    [
        (Decimal("20.00"), "20.00"),
        (Decimal("2E+1"), "20.00"),
        ("20", "20.00"),
        (20, "20.00"),  # an int is major units
        (20.0, "20.00"),
        # A float is its shortest repr, exactly (docs/spec.md M2); the
        # proposal snaps to the tick, ties to even (§2.3).
        (2.675, "2.68"),
        (0.125 + 20, "20.12"),
        (20.135, "20.14"),
        # Digits finer than the cent are kept, then snapped (M1).
        ("19.4373", "19.44"),
        (Decimal("19.4349999"), "19.43"),
        (19.435000001, "19.44"),
        (13.580160000000001, "13.58"),
    ],
)
def test_money_kinds(policy: Policy, value: object, price: str) -> None:
    d = policy.evaluate({"proposed_price": value, "unit_cost": "1"})
    assert str(d.price) == price


@pytest.mark.parametrize(
    "field, value",
    [
        ("proposed_price", "abc"),
        ("proposed_price", float("nan")),
        ("proposed_price", float("inf")),
        ("proposed_price", True),
        ("proposed_price", Decimal("NaN")),
        ("proposed_price", -5),
        ("unit_cost", "-1"),
        ("expected_units", 2.5),
        ("expected_units", "x"),
        ("now", -1),
        ("segment", -3),
        ("campaign", 7),
        ("current_price", [1]),
        ("current_price", 10**30),
    ],
)
def test_bad_values_are_rejected_naming_the_field(policy: Policy, field: str, value: object) -> None:
    item = {"proposed_price": "12.00", "unit_cost": "1", field: value}
    d = policy.evaluate(item)
    assert (d.outcome, d.reason, d.invalid_field) == ("rejected", "invalid_input", field)
    assert d.price is None
    assert field in d.explain()


def test_missing_proposed_price(policy: Policy) -> None:
    d = policy.evaluate({"sku": "X", "unit_cost": "1"})
    assert (d.outcome, d.reason, d.invalid_field) == ("rejected", "invalid_input", "proposed_price")


def test_none_is_absent(policy: Policy) -> None:
    d = policy.evaluate({"proposed_price": "12.00", "unit_cost": None})
    assert (d.outcome, d.reason) == ("rejected", "missing_cost")  # new listing: no price to keep


def test_unknown_key_is_an_error(policy: Policy) -> None:
    with pytest.raises(ValueError, match="unknown item field `unit_cst`"):
        policy.evaluate({"proposed_price": "12.00", "unit_cst": "1"})


def test_not_a_mapping(policy: Policy) -> None:
    with pytest.raises(TypeError, match="mapping"):
        policy.evaluate([("proposed_price", "1")])  # type: ignore[arg-type]


def test_any_mapping(policy: Policy) -> None:
    d = policy.evaluate(types.MappingProxyType({"proposed_price": "12.49", "unit_cost": "12.22"}))
    assert d.price == Decimal("14.38")


def test_promotion_spend(policy: Policy) -> None:
    item = {
        "proposed_price": "8.00",
        "unit_cost": "5",
        "reference_price": "10.00",
        "expected_units": 10,
        "campaign": "spring-sale",
    }
    d = policy.evaluate(item)
    assert d.outcome == "accepted" and d.promo_spend == Decimal("20.00")
    assert policy.evaluate({**item, "campaign": "nope"}).reason == "promo_budget"


def test_equality(policy: Policy) -> None:
    a = policy.evaluate({"proposed_price": "12.49", "unit_cost": "12.22"})
    b = policy.evaluate({"proposed_price": 12.49, "unit_cost": Decimal("12.22")})
    assert a == b
    assert a != "adjusted"


def test_policy_error_carries_the_path() -> None:
    with pytest.raises(PolicyError) as e:
        Policy.from_toml('name = "x"\ncurrency = "USD"\n[bounds]\nmin_price = "0.999"\nmax_price = "5"\n')
    err = e.value
    assert isinstance(err, ValueError)
    assert err.path == "bounds.min_price"
    assert (err.line, err.column) == (4, 1)
    assert "decimal places" in str(err)


def test_policy_error_json_and_dict() -> None:
    with pytest.raises(PolicyError) as e:
        Policy.from_json('{"name": "x", "currency": "USD", "bounds": {"min_price": "1"}, "nope": 1}')
    assert "nope" in str(e.value)
    with pytest.raises(PolicyError) as e2:
        Policy.from_dict({"name": "x", "currency": "XXX"})
    assert e2.value.path == "currency" and e2.value.line is None


def test_from_dict_decimal_values() -> None:
    p = Policy.from_dict(
        {"name": "d", "currency": "USD", "bounds": {"min_price": Decimal("1"), "max_price": 50}}
    )
    assert p.to_dict()["bounds"] == {"min_price": "1", "max_price": "50"}
    with pytest.raises(TypeError, match="mapping"):
        Policy.from_dict("name = 'x'")  # type: ignore[arg-type]


def test_from_file(tmp_path: Path, policy: Policy) -> None:
    t = tmp_path / "p.toml"
    t.write_text(TOML)
    j = tmp_path / "p.json"
    j.write_text(json.dumps(policy.to_dict()))
    for path in (t, j, str(t)):
        p = Policy.from_file(path)
        assert p.evaluate({"proposed_price": "12.49", "unit_cost": "12.22"}).price == Decimal("14.38")
    with pytest.raises(PolicyError, match="no such policy file"):
        Policy.from_file(tmp_path / "missing.toml")


def test_policy_needs_a_factory() -> None:
    with pytest.raises(TypeError):
        Policy(object())  # type: ignore[arg-type]


def test_helpers() -> None:
    assert priceguard.rule_names(0) == ()
    assert priceguard.rule_names((1 << 4) | (1 << 20)) == ("margin", "tick")
    assert priceguard.class_names(0b0110) == ("financial", "stability")
    assert priceguard.reason_name(0) == "" and priceguard.reason_name(5) == "margin"
    assert priceguard.reason_name(66) == "invalid_input"
    with pytest.raises(ValueError):
        priceguard.reason_name(999)
    assert priceguard.Outcome.HELD == 2 and priceguard.OUTCOMES[2] == "held"
    assert priceguard.RULES[4] == "margin" and priceguard.FIELDS[16] == "proposed_price"
    assert isinstance(priceguard.__version__, str)


def test_module_docstring_example() -> None:
    import doctest

    failures, tried = doctest.testmod(priceguard, verbose=False)
    assert tried > 0 and failures == 0
