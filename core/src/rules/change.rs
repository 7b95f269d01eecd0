//! Stability rules: change-rate limits and holds against the current price.

use crate::item::{Field, Item};
use crate::rules::params::{CompiledRules, Ratio};
use crate::rules::{offset, offset_ceil, offset_floor, scale, BoundSink, Factor, Row, Rule, Scale};

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

/// The holds every evaluator computes (see [`Change::collect`]).
const COMMON_HOLDS: u64 = (1 << Rule::Cooldown as u8) | (1 << Rule::MaxChanges as u8);

/// The rules that hold an item at its live price (the bound [P, P]). When
/// more than one holds it, the decision names the lowest code.
/// `oscillation` is the general engine's alone (see [`oscillation`]).
pub(crate) const HOLDS: u64 = COMMON_HOLDS | (1 << Rule::Oscillation as u8);

/// The hold that decides an item whose kept rules set `set`.
#[inline(always)]
pub(crate) fn hold_of(set: u64) -> Option<Rule> {
    let holds = set & HOLDS;
    if holds == 0 {
        None
    } else {
        Rule::from_code(holds.trailing_zeros() as u8)
    }
}

/// The rules [`Change::collect`] records (`min_change` is the decision
/// tail's: see [`within_band`]).
#[cfg_attr(not(feature = "alloc"), allow(dead_code))] // read by the row kernel (alloc)
pub(crate) const RULES: u64 = (1 << Rule::MaxIncrease as u8)
    | (1 << Rule::MaxDecrease as u8)
    | (1 << Rule::MaxStep as u8)
    | (1 << Rule::WindowIncrease as u8)
    | (1 << Rule::WindowDecrease as u8)
    | COMMON_HOLDS;

/// The family's parameters in arithmetic `S`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Change<S> {
    pub(crate) increase: Option<S>,
    pub(crate) decrease: Option<S>,
    pub(crate) max_step: Option<i64>,
    pub(crate) window_up: Option<S>,
    pub(crate) window_down: Option<S>,
    /// Whether either window rule is on.
    pub(crate) window: bool,
    /// Whether, with no anchor (the window then starts from the live
    /// price), each window bound is never tighter than the change limit
    /// on the same side: a ratio at least as large under the same
    /// monotone rounding. A sink that only needs the interval (see
    /// [`BoundSink::ALL`]) then skips both.
    pub(crate) window_dominated: bool,
    pub(crate) cooldown: Option<i64>,
    pub(crate) max_changes: Option<i64>,
}

impl<S: Scale> Change<S> {
    #[inline(always)]
    pub(crate) fn new(r: &CompiledRules) -> Option<Change<S>> {
        let t = r.tick;
        Some(Change {
            increase: scale(r.max_increase, increase_factor, t)?,
            decrease: scale(r.max_decrease, decrease_factor, t)?,
            max_step: offset::<S>(r.max_step)?,
            window_up: scale(r.window_increase, increase_factor, t)?,
            window_down: scale(r.window_decrease, decrease_factor, t)?,
            window: r.window_increase.is_some() || r.window_decrease.is_some(),
            window_dominated: at_least(r.window_increase, r.max_increase)
                && at_least(r.window_decrease, r.max_decrease),
            cooldown: r.cooldown_secs,
            max_changes: r.max_changes,
        })
    }

    /// `max_increase` / `max_decrease` against P, `max_step`,
    /// `window_increase` / `window_decrease` against W (default P), and the
    /// holds `cooldown` and `max_changes` as the bound [P, P]. Skipped for
    /// a new listing (no P).
    #[inline(always)]
    pub(crate) fn collect<B: BoundSink>(&self, v: &impl Row, t: i64, b: &mut B) {
        let Some(cur) = v.get(Field::CurrentPrice) else {
            return;
        };
        if let Some(s) = &self.increase {
            b.upper(Rule::MaxIncrease, s.floor(cur));
        }
        if let Some(s) = &self.decrease {
            b.lower(Rule::MaxDecrease, s.ceil(cur));
        }
        if let Some(step) = self.max_step {
            b.lower(Rule::MaxStep, offset_ceil(cur, step.wrapping_neg(), t));
            b.upper(Rule::MaxStep, offset_floor(cur, step, t));
        }
        if self.window {
            let anchor = v.get(Field::WindowAnchorPrice);
            if B::ALL || anchor.is_some() || !self.window_dominated {
                let w = anchor.unwrap_or(cur);
                if let Some(s) = &self.window_up {
                    b.upper(Rule::WindowIncrease, s.floor(w));
                }
                if let Some(s) = &self.window_down {
                    b.lower(Rule::WindowDecrease, s.ceil(w));
                }
            }
        }
        if let (Some(cd), Some(last)) = (self.cooldown, v.get(Field::LastChangeAt)) {
            if cooling(cd, last, v.get(Field::Now)) {
                b.lower(Rule::Cooldown, cur);
                b.upper(Rule::Cooldown, cur);
            }
        }
        if let Some(max) = self.max_changes {
            if v.get(Field::ChangesInWindow).unwrap_or(0) >= max {
                b.lower(Rule::MaxChanges, cur);
                b.upper(Rule::MaxChanges, cur);
            }
        }
    }

    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // read by the row kernel (alloc)
    pub(crate) fn each_factor(&self, f: &mut impl FnMut(Field, &S)) {
        for s in [&self.increase, &self.decrease].into_iter().flatten() {
            f(Field::CurrentPrice, s);
        }
        // With no anchor the window starts from the live price.
        for s in [&self.window_up, &self.window_down].into_iter().flatten() {
            f(Field::CurrentPrice, s);
            f(Field::WindowAnchorPrice, s);
        }
    }
}

/// `oscillation`: the bound [P, P] (a hold) when the price changed
/// direction at least `change.max_reversals` times in the window
/// (`reversals_in_window`; missing: held, fail closed). Skipped for a new
/// listing (no P). The general engine's alone.
#[inline]
pub(crate) fn oscillation(r: &CompiledRules, item: &Item, b: &mut impl BoundSink) {
    let (Some(max), Some(cur)) = (r.max_reversals, item.current_price()) else {
        return;
    };
    if item.reversals_in_window().is_none_or(|n| n >= max) {
        b.lower(Rule::Oscillation, cur);
        b.upper(Rule::Oscillation, cur);
    }
}

/// Whether a window ratio `w` makes a bound never tighter than the change
/// limit `c` on the same side, whatever the live price: `w` absent (no
/// bound), or both present with `w >= c`. For an increase, `x (1 + w)`
/// is then at least `x (1 + c)`; for a decrease `x (1 - w)` at most
/// `x (1 - c)`; `floor_T` and `ceil_T` keep the order.
fn at_least(w: Option<Ratio>, c: Option<Ratio>) -> bool {
    match (w, c) {
        (None, _) => true,
        (Some(_), None) => false,
        // Denominators are positive (powers of ten).
        (Some(w), Some(c)) => w.n() * c.d() >= c.n() * w.d(),
    }
}

/// `now - last < cooldown`. An item that changed at a known time but
/// carries no `now` is held: the engine cannot prove the cooldown is over
/// (fail closed).
#[inline(always)]
fn cooling(cooldown: i64, last: i64, now: Option<i64>) -> bool {
    match now {
        // Both validated non-negative: the difference cannot overflow.
        Some(now) => now.wrapping_sub(last) < cooldown,
        None => true,
    }
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
