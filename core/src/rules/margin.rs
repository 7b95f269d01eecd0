//! Financial cost floors: `margin`, `markup`, `unit_margin`.

use crate::compiled::CompiledRules;
use crate::engine::Bounds;
use crate::item::Item;
use crate::money::ceil_to_tick;
use crate::rules::Rule;

/// `margin`: lo = ceil_T(c / (1 - m)), so that (p - c) / p >= m;
/// `markup`: lo = ceil_T(c x (1 + k));
/// `unit_margin`: lo = ceil_T(c + u).
/// Items without `unit_cost` never reach here: they are held as `missing_cost`.
#[inline]
pub(crate) fn apply<const N: usize>(r: &CompiledRules, item: &Item, b: &mut Bounds<N>) {
    let Some(c) = item.unit_cost() else {
        return;
    };
    let c = i128::from(c);
    let t = r.tick;
    if let Some(m) = r.min_margin {
        // c / (1 - num/den) = c * den / (den - num); validation keeps num < den.
        b.lower(Rule::Margin, ceil_to_tick(c * m.d(), m.d() - m.n(), t));
    }
    if let Some(k) = r.min_markup {
        b.lower(Rule::Markup, ceil_to_tick(c * (k.d() + k.n()), k.d(), t));
    }
    if let Some(u) = r.min_unit_margin {
        b.lower(Rule::UnitMargin, ceil_to_tick(c + i128::from(u), 1, t));
    }
}
