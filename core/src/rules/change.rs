//! Stability rules: change-rate limits and holds against the current price.

use crate::compiled::CompiledRules;
use crate::engine::Bounds;
use crate::item::Item;
use crate::money::{ceil_to_tick, floor_to_tick};
use crate::rules::Rule;

/// `max_increase` / `max_decrease` against P, `max_step`, `window_increase`
/// / `window_decrease` against W (default P), and the holds `cooldown` and
/// `max_changes` as the bound [P, P]. Skipped for a new listing (no P).
#[inline]
pub(crate) fn apply<const N: usize>(r: &CompiledRules, item: &Item, b: &mut Bounds<N>) {
    let Some(current) = item.current_price() else {
        return;
    };
    let t = r.tick;
    let p = i128::from(current);
    if let Some(up) = r.max_increase {
        b.upper(
            Rule::MaxIncrease,
            floor_to_tick(p * (up.d() + up.n()), up.d(), t),
        );
    }
    if let Some(down) = r.max_decrease {
        b.lower(
            Rule::MaxDecrease,
            ceil_to_tick(p * (down.d() - down.n()), down.d(), t),
        );
    }
    if let Some(step) = r.max_step {
        let s = i128::from(step);
        b.lower(Rule::MaxStep, ceil_to_tick(p - s, 1, t));
        b.upper(Rule::MaxStep, floor_to_tick(p + s, 1, t));
    }
    let w = i128::from(item.window_anchor_price().unwrap_or(current));
    if let Some(up) = r.window_increase {
        b.upper(
            Rule::WindowIncrease,
            floor_to_tick(w * (up.d() + up.n()), up.d(), t),
        );
    }
    if let Some(down) = r.window_decrease {
        b.lower(
            Rule::WindowDecrease,
            ceil_to_tick(w * (down.d() - down.n()), down.d(), t),
        );
    }
    if cooling_down(r, item) {
        b.lower(Rule::Cooldown, p);
        b.upper(Rule::Cooldown, p);
    }
    if let Some(max) = r.max_changes {
        if item.changes_in_window().unwrap_or(0) >= max {
            b.lower(Rule::MaxChanges, p);
            b.upper(Rule::MaxChanges, p);
        }
    }
}

/// Whether the cooldown holds the item: `now - last_change_at < cooldown`.
/// An item that changed at a known time but carries no `now` is held: the
/// engine cannot prove the cooldown is over (fail closed).
#[inline]
pub(crate) fn cooling_down(r: &CompiledRules, item: &Item) -> bool {
    let (Some(cooldown), Some(last)) = (r.cooldown_secs, item.last_change_at()) else {
        return false;
    };
    match item.now() {
        Some(now) => i128::from(now) - i128::from(last) < i128::from(cooldown),
        None => true,
    }
}

/// `min_change`: whether `price` differs from P by less than the band
/// `min_change x P` (and is not P itself).
#[inline]
pub(crate) fn within_min_change(r: &CompiledRules, current: i64, price: i64) -> bool {
    let Some(band) = r.min_change else {
        return false;
    };
    let diff = (i128::from(price) - i128::from(current)).abs();
    diff > 0 && diff * band.d() < band.n() * i128::from(current)
}
