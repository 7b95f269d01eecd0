//! Financial cost floors: `margin`, `markup`, `unit_margin`.

use crate::compiled::CompiledRules;
use crate::item::Item;
use crate::money::{ceil_money_to_tick, ceil_ratio_to_tick, ceil_to_tick, clamp_bound};
use crate::rules::Bounds;
use crate::rules::Rule;

/// `margin`: lo = ceil_T(c / (1 - m)), so that (p - c) / p >= m;
/// `markup`: lo = ceil_T(c x (1 + k));
/// `unit_margin`: lo = ceil_T(c + u).
/// Items without `unit_cost` never reach here: they are held as `missing_cost`.
#[inline]
pub(crate) fn apply(r: &CompiledRules, item: &Item, b: &mut Bounds) {
    let Some(c) = item.unit_cost() else {
        return;
    };
    let t = r.tick;
    if let Some(m) = r.min_margin {
        // c / (1 - num/den) = c * den / (den - num); validation keeps num < den.
        b.lower(Rule::Margin, ceil_ratio_to_tick(c, m.den, m.den - m.num, t));
    }
    if let Some(k) = r.min_markup {
        let v = match k.den.checked_add(k.num) {
            Some(f) => ceil_ratio_to_tick(c, f, k.den, t),
            None => clamp_bound(ceil_to_tick(i128::from(c) * (k.d() + k.n()), k.d(), t)),
        };
        b.lower(Rule::Markup, v);
    }
    if let Some(u) = r.min_unit_margin {
        // c <= 10^15 and u is policy money: the sum fits.
        let v = match c.checked_add(u) {
            Some(s) => ceil_money_to_tick(s, t),
            None => clamp_bound(ceil_to_tick(i128::from(c) + i128::from(u), 1, t)),
        };
        b.lower(Rule::UnitMargin, v);
    }
}
