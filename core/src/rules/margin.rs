//! Financial cost bounds: the floors `margin`, `markup`, `unit_margin` and
//! the cap `max_markup`.

use crate::item::Item;
use crate::money::{ceil_money_to_tick, ceil_to_tick, clamp_bound};
use crate::rules::params::{CompiledRules, Ratio};
use crate::rules::Bounds;
use crate::rules::{Factor, Rule};

/// `margin`: the price whose gross margin over cost `c` is `m` is
/// `c / (1 - m)`, so the floor is `c × den / (den - num)`; validation keeps
/// `m < 1`.
#[inline]
pub(crate) fn margin_factor(m: Ratio) -> Factor {
    Factor {
        num: i128::from(m.den),
        den: i128::from(m.den) - i128::from(m.num),
    }
}

/// `markup`: the floor is `c × (1 + k)`; `max_markup`: the cap is `c × (1 + k)`.
#[inline]
pub(crate) fn markup_factor(k: Ratio) -> Factor {
    Factor::plus(k.num, k.den)
}

/// `margin`: lo = ceil_T(c / (1 - m));
/// `markup`: lo = ceil_T(c x (1 + k));
/// `unit_margin`: lo = ceil_T(c + u);
/// `max_markup`: hi = floor_T(c x (1 + k)), skipped when c = 0 (docs/spec.md R10).
/// Items without `unit_cost` never reach here: they are held as `missing_cost`.
#[inline]
pub(crate) fn apply(r: &CompiledRules, item: &Item, b: &mut Bounds) {
    let Some(c) = item.unit_cost() else {
        return;
    };
    let t = r.tick;
    if let Some(m) = r.min_margin {
        b.lower(Rule::Margin, margin_factor(m).ceil(c, t));
    }
    if let Some(k) = r.min_markup {
        b.lower(Rule::Markup, markup_factor(k).ceil(c, t));
    }
    if let Some(u) = r.min_unit_margin {
        b.lower(Rule::UnitMargin, unit_margin_floor(c, u, t));
    }
    if let Some(k) = r.max_markup {
        if c > 0 {
            b.upper(Rule::MaxMarkup, markup_factor(k).floor(c, t));
        }
    }
}

/// `unit_margin`: `ceil_T(c + u)`.
#[inline(always)]
pub(crate) fn unit_margin_floor(c: i64, u: i64, t: i64) -> i64 {
    match c.checked_add(u) {
        Some(s) => ceil_money_to_tick(s, t),
        None => clamp_bound(ceil_to_tick(i128::from(c) + i128::from(u), 1, t)),
    }
}
