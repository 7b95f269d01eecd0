//! Hard emergency cap: price <= baseline x (1 + cap) while emergency mode is on.

use crate::item::Item;
use crate::rules::params::CompiledRules;
use crate::rules::{BoundSink, Factor, Rule};

/// hi = floor_T(baseline x (1 + cap)). The caller has already held items
/// without a `baseline_price`.
#[inline]
pub(crate) fn apply(r: &CompiledRules, item: &Item, b: &mut impl BoundSink) {
    if let (Some(cap), Some(base)) = (r.emergency_cap, item.baseline_price()) {
        let v = Factor::plus(cap.num, cap.den).floor(base, r.tick);
        b.upper(Rule::EmergencyCap, v);
    }
}
