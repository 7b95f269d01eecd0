//! Hard bounds: `min_price`, `max_price`, `map`.

use crate::item::Item;
use crate::money::{ceil_money_to_tick, floor_money_to_tick};
use crate::rules::params::CompiledRules;
use crate::rules::{BoundSink, Rule};

/// The effective minimum: the larger of the policy's and the item's.
#[inline]
pub(crate) fn effective_min(r: &CompiledRules, item: &Item) -> Option<i64> {
    match (r.min_price, item.min_price()) {
        (Some(a), Some(c)) => Some(a.max(c)),
        (a, c) => a.or(c),
    }
}

/// The effective maximum: the smaller of the policy's and the item's.
#[inline]
pub(crate) fn effective_max(r: &CompiledRules, item: &Item) -> Option<i64> {
    match (r.max_price, item.max_price()) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    }
}

/// `min_price`: lo = ceil_T(max(policy min, item min));
/// `max_price`: hi = floor_T(min(policy max, item max));
/// `map`: lo = ceil_T(map_price).
#[inline]
pub(crate) fn apply(r: &CompiledRules, item: &Item, b: &mut impl BoundSink) {
    let t = r.tick;
    if let Some(m) = effective_min(r, item) {
        b.lower(Rule::MinPrice, ceil_money_to_tick(m, t));
    }
    if let Some(m) = effective_max(r, item) {
        b.upper(Rule::MaxPrice, floor_money_to_tick(m, t));
    }
    if let Some(map) = item.map_price() {
        b.lower(Rule::Map, ceil_money_to_tick(map, t));
    }
}
