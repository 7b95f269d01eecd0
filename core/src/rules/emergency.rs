//! Hard emergency cap: price <= baseline x (1 + cap) while emergency mode is on.

use crate::compiled::CompiledRules;
use crate::engine::Bounds;
use crate::item::Item;
use crate::money::floor_to_tick;
use crate::rules::Rule;

/// hi = floor_T(baseline x (1 + cap)). The caller has already held items
/// without a `baseline_price`.
#[inline]
pub(crate) fn apply<const N: usize>(r: &CompiledRules, item: &Item, b: &mut Bounds<N>) {
    if let (Some(cap), Some(base)) = (r.emergency_cap, item.baseline_price()) {
        let num = i128::from(base) * (cap.d() + cap.n());
        b.upper(Rule::EmergencyCap, floor_to_tick(num, cap.d(), r.tick));
    }
}
