//! Financial promotion floors: `max_discount` and `promo_budget`.

use crate::item::Item;
use crate::money::{ceil_to_tick, clamp_bound, wide_mul};
use crate::rules::params::{CompiledRules, Ratio};
use crate::rules::{Bounds, Budget};
use crate::rules::{Factor, Rule};

/// `max_discount`: the floor is `R × (1 - d)`; validation keeps `d <= 1`.
#[inline]
pub(crate) fn discount_factor(d: Ratio) -> Factor {
    Factor::minus(d.num, d.den)
}

/// `max_discount`: lo = ceil_T(R x (1 - d));
/// `promo_budget`: spend(p) = (R - p) x units <= B, so lo = ceil_T(R - B / units).
/// Only for items on promotion (with a `reference_price`).
#[inline]
pub(crate) fn apply(r: &CompiledRules, item: &Item, budget: Budget, b: &mut Bounds) {
    let Some(reference) = item.reference_price() else {
        return;
    };
    if let Some(d) = r.max_discount {
        b.lower(
            Rule::MaxDiscount,
            discount_factor(d).ceil(reference, r.tick),
        );
    }
    if let (Budget::Remaining(remaining), Some(units)) = (budget, item.expected_units()) {
        let u = i128::from(units);
        // (R*u - B) / u; a budget that covers the whole reference price
        // still yields a (non-positive) bound, so the rule is reported.
        b.lower(
            Rule::PromoBudget,
            clamp_bound(ceil_to_tick(
                wide_mul(reference, units) - i128::from(remaining),
                u,
                r.tick,
            )),
        );
    }
}

/// `(R - price) x units`, never negative, for a promoted item with a forecast.
#[inline]
pub(crate) fn spend(item: &Item, price: i64) -> Option<i64> {
    spend_of(item.reference_price(), item.expected_units(), price)
}

/// [`spend`] from the reference price and forecast themselves.
#[inline]
pub(crate) fn spend_of(reference: Option<i64>, units: Option<i64>, price: i64) -> Option<i64> {
    let per_unit = reference?.saturating_sub(price).max(0);
    per_unit.checked_mul(units?)
}
