//! Hard emergency cap: price <= baseline x (1 + cap) while emergency mode is on.

use crate::compiled::CompiledRules;
use crate::item::Item;
use crate::money::{clamp_bound, floor_ratio_to_tick, floor_to_tick};
use crate::rules::Bounds;
use crate::rules::Rule;

/// hi = floor_T(baseline x (1 + cap)). The caller has already held items
/// without a `baseline_price`.
#[inline]
pub(crate) fn apply(r: &CompiledRules, item: &Item, b: &mut Bounds) {
    if let (Some(cap), Some(base)) = (r.emergency_cap, item.baseline_price()) {
        let v = match cap.den.checked_add(cap.num) {
            Some(f) => floor_ratio_to_tick(base, f, cap.den, r.tick),
            None => clamp_bound(floor_to_tick(
                i128::from(base) * (cap.d() + cap.n()),
                cap.d(),
                r.tick,
            )),
        };
        b.upper(Rule::EmergencyCap, v);
    }
}
