"""Property-test your own constraint set with hypothesis.

    from hypothesis import given
    from priceguard.testing import check_invariants, items, policies

    policy = priceguard.Policy.from_file("pricing.toml")

    @given(items(policy))
    def test_my_policy(item):
        check_invariants(policy, item, policy.evaluate(item))

`policies()` draws random valid policies, `items(policy)` random items for one
policy (money as `Decimal` in its currency, campaigns from its budgets), and
`check_invariants` asserts what must hold for every decision (docs/spec.md §4-§6):
published prices within the hard bounds and on the tick, financial floors kept
unless relaxed, held means the current price, accepted means the proposal,
rejected means no price, and so on. Requires `hypothesis`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Mapping, Optional

from priceguard._extras import require

require("hypothesis", "priceguard.testing")
from hypothesis import strategies as st  # noqa: E402

from priceguard import Policy  # noqa: E402
from priceguard._native import Decision  # noqa: E402

__all__ = ["check_invariants", "items", "policies"]

_DIGITS = {"USD": 2, "EUR": 2, "JPY": 0, "KWD": 3, "CHF": 2}
_NOW = 1_800_000_000


def _frac(lo: int, hi: int) -> st.SearchStrategy[str]:
    """A fraction with two decimals between lo/100 and hi/100."""
    return st.integers(lo, hi).map(lambda v: str(Decimal(v).scaleb(-2)))


def _money(digits: int, lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.integers(lo, hi).map(lambda v: str(Decimal(v).scaleb(-digits)))


@st.composite
def _spec(draw: Any, currencies: tuple[str, ...], budgets: bool, breaker: bool) -> dict[str, Any]:
    currency = draw(st.sampled_from(currencies))
    digits = _DIGITS.get(currency, 2)
    unit = 10**digits
    spec: dict[str, Any] = {"name": "hypothesis", "version": "1", "currency": currency}
    tick = 1
    if currency == "CHF" and draw(st.booleans()):
        tick = 5
        spec["tick"] = "0.05"
    lo = draw(st.integers(1, 20 * unit)) * tick
    hi = draw(st.integers(lo // tick + 1, 5000 * unit // tick)) * tick
    spec["bounds"] = {"min_price": str(Decimal(lo).scaleb(-digits)), "max_price": str(Decimal(hi).scaleb(-digits))}
    margin: dict[str, str] = {}
    if draw(st.booleans()):
        margin["min_margin"] = draw(_frac(0, 60))
    if draw(st.booleans()):
        margin["min_markup"] = draw(_frac(0, 80))
    if draw(st.booleans()):
        # At least 2.50: above every min_markup drawn here (at most 0.80) and
        # never under a min_margin floor (up to 0.70 in a segment), since
        # (1 + 2.5) x (1 - 0.7) >= 1 (docs/spec.md §8.2).
        margin["max_markup"] = draw(_frac(250, 400))
    if draw(st.booleans()):
        margin["min_unit_margin"] = draw(_money(digits, 0, 5 * unit))
    if margin:
        spec["margin"] = margin
    change: dict[str, Any] = {}
    if draw(st.booleans()):
        change["max_increase"] = draw(_frac(1, 50))
    if draw(st.booleans()):
        change["max_decrease"] = draw(_frac(1, 50))
    if draw(st.booleans()):
        change["max_step"] = draw(_money(digits, 1, 50 * unit))
    if draw(st.booleans()):
        change["cooldown_secs"] = draw(st.integers(1, 7200))
    if draw(st.booleans()):
        change["window_secs"] = 86400
        change["max_changes"] = draw(st.integers(1, 6))
    if draw(st.booleans()):
        change["min_change"] = draw(_frac(1, 5))
    if change:
        spec["change"] = change
    promotion: dict[str, Any] = {}
    if draw(st.booleans()):
        promotion["max_discount"] = draw(_frac(5, 90))
    if budgets and draw(st.booleans()):
        promotion["budgets"] = {"spring": draw(_money(digits, 0, 1000 * unit))}
    if promotion:
        spec["promotion"] = promotion
    if draw(st.booleans()):
        a = draw(st.integers(50, 150))
        b = draw(st.integers(a, 200))
        spec["market"] = {"min_index": str(Decimal(a).scaleb(-2)), "max_index": str(Decimal(b).scaleb(-2))}
    if digits == 2 and tick == 1 and draw(st.booleans()):
        spec["endings"] = {"allowed": draw(st.lists(st.sampled_from(["0.99", "0.49", "0.95"]), min_size=1, unique=True))}
    if draw(st.booleans()):
        spec["approval"] = {"max_auto_change": draw(_frac(1, 50))}
    if draw(st.booleans()):
        rest = draw(st.permutations(["financial", "stability", "market"]))
        spec["priority"] = ["hard", *rest]
    if "min_margin" in margin and draw(st.booleans()):
        spec["segments"] = [{"id": 3, "margin": {"min_margin": draw(_frac(0, 70))}}]
    if breaker and draw(st.booleans()):
        spec["breaker"] = {"max_violation_ratio": draw(_frac(10, 90)), "min_batch": draw(st.integers(1, 20))}
    return spec


def policies(
    *,
    currencies: tuple[str, ...] = ("USD", "JPY", "KWD", "CHF"),
    budgets: bool = True,
    breaker: bool = False,
) -> st.SearchStrategy[Policy]:
    """Random valid policies: always bounded, any mix of the other rule tables.

    `budgets=False` leaves out `promotion.budgets` (so batches and single
    evaluations agree item by item); `breaker=True` may add a circuit breaker.
    """
    return _spec(currencies, budgets, breaker).map(Policy.from_dict)


def items(policy: Policy, *, campaigns: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """Random items for `policy`: money as `Decimal` in its currency, prices
    around its bounds (including wild proposals), any mix of optional fields.
    `campaigns=False` never names a campaign."""
    spec = policy.to_dict()
    digits = policy.minor_units
    unit = 10**digits
    hi = int(Decimal(spec.get("bounds", {}).get("max_price", "1000")).scaleb(digits))
    top = max(2 * hi, 10 * unit)
    names = list(policy.budgets) + ["unknown-campaign"]

    def money(lo: int = 1, up: int = top) -> st.SearchStrategy[Decimal]:
        return st.integers(lo, up).map(lambda v: Decimal(v).scaleb(-digits))

    def opt(s: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(st.none(), s)

    @st.composite
    def build(draw: Any) -> dict[str, Any]:
        item: dict[str, Any] = {"sku": draw(st.text("ABCDEF0123456789", min_size=1, max_size=6))}
        item["proposed_price"] = draw(money())
        fields = {
            "current_price": opt(money()),
            "unit_cost": opt(money(0, hi)),
            "min_price": opt(money()),
            "max_price": opt(money()),
            "map_price": opt(money(1, hi)),
            "now": opt(st.just(_NOW)),
            "last_change_at": opt(st.integers(_NOW - 10_000, _NOW + 10)),
            "changes_in_window": opt(st.integers(0, 8)),
            "window_anchor_price": opt(money()),
            "baseline_price": opt(money()),
            "competitor_price": opt(money()),
            "segment": opt(st.sampled_from([3, 9])),
        }
        for k, s in fields.items():
            v = draw(s)
            if v is not None:
                item[k] = v
        if draw(st.booleans()):
            item["reference_price"] = draw(money(1, hi))
            if draw(st.booleans()):
                item["expected_units"] = draw(st.integers(1, 500))
            if campaigns and draw(st.booleans()):
                item["campaign"] = draw(st.sampled_from(names))
        if draw(st.integers(0, 9)) == 0:
            item["pinned_price"] = draw(money())
        return item

    return build()


def _read(value: Any, digits: int) -> Optional[Decimal]:
    """A money value as the engine reads it (docs/spec.md M1, M2): a float
    as its shortest repr; exact to six digits beyond the minor unit, digits
    past them half to even."""
    if value is None:
        return None
    d = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    exponent = d.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -(digits + 6):
        d = d.quantize(Decimal(1).scaleb(-(digits + 6)), ROUND_HALF_EVEN)
    return d


def _rules(spec: Mapping[str, Any], segment: Any) -> dict[str, Any]:
    """The rule tables an item is judged by: the policy's, with its segment's keys over them."""
    rules = {k: dict(v) if isinstance(v, dict) else v for k, v in spec.items()}
    for seg in spec.get("segments", []) or []:
        if segment is not None and seg.get("id") == segment:
            for table, keys in seg.items():
                if table != "id" and isinstance(keys, dict):
                    rules.setdefault(table, {}).update(keys)
    return rules


def check_invariants(policy: Policy, item: Mapping[str, Any], decision: Decision) -> None:
    """Asserts what every decision must satisfy (raises `AssertionError` naming it).

    `item` is the mapping given to `policy.evaluate`; `decision` its result.
    """
    d = decision
    digits = policy.minor_units
    where = f"{item!r} -> {d!r}"
    assert d.outcome in ("accepted", "adjusted", "held", "rejected"), where
    assert (d.price is None) == (d.outcome == "rejected"), f"rejected iff no price: {where}"
    assert "hard" not in d.relaxed, f"the hard class is never relaxed: {where}"
    assert (d.reason == "") == (d.outcome == "accepted"), f"only an accepted decision has no reason: {where}"
    if d.reason == "invalid_input":
        assert d.outcome == "rejected" and d.invalid_field is not None, where
        return
    proposed = _read(item.get("proposed_price"), digits)
    current = _read(item.get("current_price"), digits)
    if d.outcome == "held":
        assert current is not None, f"a new listing is never held: {where}"
        assert d.price == current, f"held keeps the current price: {where}"
    if d.outcome == "accepted" and item.get("pinned_price") is None:
        # Accepted means on the tick as given (a finer proposal snaps: adjusted).
        assert d.price == proposed, f"accepted publishes the proposal: {where}"
    if d.needs_approval:
        assert d.outcome in ("accepted", "adjusted") and current is not None, where
    if d.outcome not in ("accepted", "adjusted"):
        return
    price = d.price
    assert price is not None and price > 0, where
    assert price % policy.tick == 0, f"published prices are on the tick: {where}"
    if d.lower is not None:
        assert d.lower <= price, f"price below the interval: {where}"
    if d.upper is not None:
        assert price <= d.upper, f"price above the interval: {where}"
    rules = _rules(policy.to_dict(), item.get("segment"))
    bounds = rules.get("bounds", {})
    floors = [bounds.get("min_price"), item.get("min_price"), item.get("map_price")]
    for f in floors:
        floor = _read(f, digits)
        if floor is not None:
            assert price >= floor, f"hard floor {f} broken: {where}"
    for c in [bounds.get("max_price"), item.get("max_price")]:
        ceiling = _read(c, digits)
        if ceiling is not None:
            assert price <= ceiling, f"hard ceiling {c} broken: {where}"
    cost = _read(item.get("unit_cost"), digits)
    margin = rules.get("margin", {})
    # A rule the decision names in `unmet` is reported as not met (its
    # class kept, docs/spec.md §6): only the others must hold.
    if cost is not None and "financial" not in d.relaxed:
        if "min_margin" in margin and "margin" not in d.unmet:
            m = Decimal(margin["min_margin"])
            assert price * (1 - m) >= cost, f"gross margin {m} broken: {where}"
        if "min_markup" in margin and "markup" not in d.unmet:
            k = Decimal(margin["min_markup"])
            assert price >= cost * (1 + k), f"markup {k} broken: {where}"
        if "max_markup" in margin and cost > 0 and "max_markup" not in d.unmet:
            k = Decimal(margin["max_markup"])
            assert price <= cost * (1 + k), f"markup cap {k} broken: {where}"
        if "min_unit_margin" in margin and "unit_margin" not in d.unmet:
            u = Decimal(margin["min_unit_margin"])
            assert price >= cost + u, f"unit margin {u} broken: {where}"
    ref = _read(item.get("reference_price"), digits)
    units = item.get("expected_units")
    if ref is not None and units is not None:
        spend = max(Decimal(0), ref - price) * Decimal(units)
        assert d.promo_spend == spend, f"promo spend should be {spend}: {where}"
        name = item.get("campaign")
        if name is not None and "financial" not in d.relaxed:
            budget = policy.budgets.get(name)
            assert budget is not None and spend <= budget, f"campaign overspent: {where}"
