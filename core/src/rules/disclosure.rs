//! Hard disclosure rule: `prior_price`, the lawful "was" price of a
//! promotion (docs/spec.md §11.2).

use crate::item::Item;
use crate::money::ceil_money_to_tick;
use crate::rules::params::CompiledRules;
use crate::rules::{BoundSink, Rule};

/// `prior_price` on a promoted item (one with `reference_price`) when the
/// rule is on: `None` when the reference is at most `prior_low_price`,
/// the lowest price in force in the disclosure window before the
/// promotion began; else `Some` of that lawful reference (itself `None`
/// when `prior_low_price` is missing: held, fail closed).
#[inline]
pub(crate) fn held(r: &CompiledRules, item: &Item) -> Option<Option<i64>> {
    r.prior_days?;
    let reference = item.reference_price()?;
    match item.prior_low_price() {
        Some(low) if reference <= low => None,
        low => Some(low),
    }
}

/// Without `progressive`, a cut below the price in force inside a running
/// promotion (`promo_started_at` given) is a new reduction, whose window
/// holds the price in force: its "was" price could be at most that price.
/// A reference above it therefore keeps the price from going lower:
/// lo = ceil_T(P). With `progressive` the chain keeps the reference from
/// before its first cut, and no bound is set.
#[inline]
pub(crate) fn no_deeper_cut(r: &CompiledRules, item: &Item, tick: i64, b: &mut impl BoundSink) {
    if r.prior_days.is_none() || r.progressive || item.promo_started_at().is_none() {
        return;
    }
    if let (Some(reference), Some(cur)) = (item.reference_price(), item.current_price()) {
        if reference > cur {
            b.lower(Rule::PriorPrice, ceil_money_to_tick(cur, tick));
        }
    }
}
