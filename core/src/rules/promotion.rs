//! Financial promotion floors: `max_discount` and `promo_budget`.

use crate::compiled::CompiledRules;
use crate::engine::{Bounds, Budget};
use crate::item::Item;
use crate::money::ceil_to_tick;
use crate::rules::Rule;

/// `max_discount`: lo = ceil_T(R x (1 - d));
/// `promo_budget`: spend(p) = (R - p) x units <= B, so lo = ceil_T(R - B / units).
/// Only for items on promotion (with a `reference_price`).
#[inline]
pub(crate) fn apply<const N: usize>(
    r: &CompiledRules,
    item: &Item,
    budget: Budget,
    b: &mut Bounds<N>,
) {
    let Some(reference) = item.reference_price() else {
        return;
    };
    let rp = i128::from(reference);
    if let Some(d) = r.max_discount {
        b.lower(
            Rule::MaxDiscount,
            ceil_to_tick(rp * (d.d() - d.n()), d.d(), r.tick),
        );
    }
    if let (Budget::Remaining(remaining), Some(units)) = (budget, item.expected_units()) {
        let u = i128::from(units);
        // (R*u - B) / u; a budget that covers the whole reference price
        // still yields a (non-positive) bound, so the rule is reported.
        b.lower(
            Rule::PromoBudget,
            ceil_to_tick(rp * u - i128::from(remaining), u, r.tick),
        );
    }
}

/// `(R - price) x units`, never negative, for a promoted item with a forecast.
#[inline]
pub(crate) fn spend(item: &Item, price: i64) -> Option<i64> {
    let reference = item.reference_price()?;
    let units = item.expected_units()?;
    let per_unit = i128::from(reference.saturating_sub(price).max(0));
    i64::try_from(per_unit * i128::from(units)).ok()
}
