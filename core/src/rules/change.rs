//! Stability rules: change-rate limits and holds against the current price.

use crate::item::Item;
use crate::money::{ceil_money_to_tick, floor_money_to_tick};
use crate::rules::params::{CompiledRules, Ratio};
use crate::rules::Bounds;
use crate::rules::{Factor, Rule};

/// `max_increase` and `window_increase`: the ceiling is `x × (1 + up)`.
#[inline]
pub(crate) fn increase_factor(up: Ratio) -> Factor {
    Factor::plus(up.num, up.den)
}

/// `max_decrease` and `window_decrease`: the floor is `x × (1 - down)`;
/// validation keeps `down <= 1`.
#[inline]
pub(crate) fn decrease_factor(down: Ratio) -> Factor {
    Factor::minus(down.num, down.den)
}

/// `max_increase` / `max_decrease` against P, `max_step`, `window_increase`
/// / `window_decrease` against W (default P), and the holds `cooldown` and
/// `max_changes` as the bound [P, P]. Skipped for a new listing (no P).
#[inline]
pub(crate) fn apply(r: &CompiledRules, item: &Item, b: &mut Bounds) {
    let Some(current) = item.current_price() else {
        return;
    };
    let t = r.tick;
    if let Some(up) = r.max_increase {
        b.upper(Rule::MaxIncrease, increase_factor(up).floor(current, t));
    }
    if let Some(down) = r.max_decrease {
        b.lower(Rule::MaxDecrease, decrease_factor(down).ceil(current, t));
    }
    if let Some(step) = r.max_step {
        // P <= 10^15 and the step is policy money: no overflow.
        b.lower(
            Rule::MaxStep,
            ceil_money_to_tick(current.saturating_sub(step), t),
        );
        b.upper(
            Rule::MaxStep,
            floor_money_to_tick(current.saturating_add(step), t),
        );
    }
    if r.window_increase.is_some() || r.window_decrease.is_some() {
        let w = item.window_anchor_price().unwrap_or(current);
        if let Some(up) = r.window_increase {
            b.upper(Rule::WindowIncrease, increase_factor(up).floor(w, t));
        }
        if let Some(down) = r.window_decrease {
            b.lower(Rule::WindowDecrease, decrease_factor(down).ceil(w, t));
        }
    }
    if cooling_down(r, item) {
        b.lower(Rule::Cooldown, current);
        b.upper(Rule::Cooldown, current);
    }
    if let Some(max) = r.max_changes {
        if item.changes_in_window().unwrap_or(0) >= max {
            b.lower(Rule::MaxChanges, current);
            b.upper(Rule::MaxChanges, current);
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
        // Both validated non-negative: the difference cannot overflow.
        Some(now) => now - last < cooldown,
        None => true,
    }
}

/// `min_change`: whether `price` differs from P by less than the band
/// `min_change x P` (and is not P itself).
#[inline]
pub(crate) fn within_min_change(r: &CompiledRules, current: i64, price: i64) -> bool {
    r.min_change
        .is_some_and(|band| within_band(band, current, price))
}

/// Whether `price` differs from `current` by less than `band x current`
/// (and is not `current` itself). Every evaluator's `min_change` check.
#[inline(always)]
pub(crate) fn within_band(band: Ratio, current: i64, price: i64) -> bool {
    let diff = price.abs_diff(current);
    // `&`, not `&&`: both sides are cheap, and no branch on data.
    (diff > 0) & (wide_mul_u(diff, band.den as u64) < wide_mul_u(band.num as u64, current as u64))
}

/// `approval.max_auto_change`: whether `price` moves more than
/// `limit x current` from the live price, so that a person must approve
/// it. The evaluators ask it for accepted and adjusted decisions with a
/// live price (held decisions and new listings are never flagged).
#[inline(always)]
pub(crate) fn needs_approval(limit: Ratio, current: i64, price: i64) -> bool {
    wide_mul_u(price.abs_diff(current), limit.den as u64)
        > wide_mul_u(limit.num as u64, current as u64)
}

/// `x * y` widened, for the non-negative operands above (prices are
/// positive, ratios never negative): one unsigned multiply, no sign
/// fix-ups or overflow checks (the widened product always fits).
#[inline(always)]
fn wide_mul_u(x: u64, y: u64) -> u128 {
    u128::from(x).wrapping_mul(u128::from(y))
}
