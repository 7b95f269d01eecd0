//! Market rules: bounds as multiples of a competitor price.

use crate::compiled::CompiledRules;
use crate::item::Item;
use crate::money::{ceil_ratio_to_tick, floor_ratio_to_tick};
use crate::rules::Bounds;
use crate::rules::Rule;

/// `competitor_floor`: lo = ceil_T(K x min_index);
/// `competitor_ceiling`: hi = floor_T(K x max_index).
/// Skipped without a `competitor_price`.
#[inline]
pub(crate) fn apply(r: &CompiledRules, item: &Item, b: &mut Bounds) {
    let Some(k) = item.competitor_price() else {
        return;
    };
    if let Some(min) = r.min_index {
        b.lower(
            Rule::CompetitorFloor,
            ceil_ratio_to_tick(k, min.num, min.den, r.tick),
        );
    }
    if let Some(max) = r.max_index {
        b.upper(
            Rule::CompetitorCeiling,
            floor_ratio_to_tick(k, max.num, max.den, r.tick),
        );
    }
}
