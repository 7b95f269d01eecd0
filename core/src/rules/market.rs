//! Market rules: bounds as multiples of a competitor price.

use crate::compiled::CompiledRules;
use crate::engine::Bounds;
use crate::item::Item;
use crate::money::{ceil_to_tick, floor_to_tick};
use crate::rules::Rule;

/// `competitor_floor`: lo = ceil_T(K x min_index);
/// `competitor_ceiling`: hi = floor_T(K x max_index).
/// Skipped without a `competitor_price`.
#[inline]
pub(crate) fn apply<const N: usize>(r: &CompiledRules, item: &Item, b: &mut Bounds<N>) {
    let Some(k) = item.competitor_price() else {
        return;
    };
    let k = i128::from(k);
    if let Some(min) = r.min_index {
        b.lower(
            Rule::CompetitorFloor,
            ceil_to_tick(k * min.n(), min.d(), r.tick),
        );
    }
    if let Some(max) = r.max_index {
        b.upper(
            Rule::CompetitorCeiling,
            floor_to_tick(k * max.n(), max.d(), r.tick),
        );
    }
}
