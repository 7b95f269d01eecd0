//! Financial promotion floors: `max_discount` and `promo_budget`.

use crate::compiled::CompiledRules;
use crate::item::Item;
use crate::money::{ceil_ratio_to_tick, ceil_to_tick, clamp_bound, wide_mul};
use crate::rules::Rule;
use crate::rules::{Bounds, Budget};

/// `max_discount`: lo = ceil_T(R x (1 - d));
/// `promo_budget`: spend(p) = (R - p) x units <= B, so lo = ceil_T(R - B / units).
/// Only for items on promotion (with a `reference_price`).
#[inline]
pub(crate) fn apply(r: &CompiledRules, item: &Item, budget: Budget, b: &mut Bounds) {
    let Some(reference) = item.reference_price() else {
        return;
    };
    if let Some(d) = r.max_discount {
        // Validation keeps d <= 1: den - num does not overflow.
        b.lower(
            Rule::MaxDiscount,
            ceil_ratio_to_tick(reference, d.den - d.num, d.den, r.tick),
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
