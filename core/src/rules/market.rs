//! Market rules: bounds as multiples of a competitor price.

use crate::item::Item;
use crate::rules::params::{CompiledRules, Ratio};
use crate::rules::Bounds;
use crate::rules::{Factor, Rule};

/// `competitor_floor` and `competitor_ceiling`: `K × index`.
#[inline]
pub(crate) fn index_factor(index: Ratio) -> Factor {
    Factor::of(index.num, index.den)
}

/// `competitor_floor`: lo = ceil_T(K x min_index);
/// `competitor_ceiling`: hi = floor_T(K x max_index).
/// Skipped without a `competitor_price`.
#[inline]
pub(crate) fn apply(r: &CompiledRules, item: &Item, b: &mut Bounds) {
    let Some(k) = item.competitor_price() else {
        return;
    };
    if let Some(min) = r.min_index {
        b.lower(Rule::CompetitorFloor, index_factor(min).ceil(k, r.tick));
    }
    if let Some(max) = r.max_index {
        b.upper(Rule::CompetitorCeiling, index_factor(max).floor(k, r.tick));
    }
}
