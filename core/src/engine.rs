//! Combining rules into a decision (docs/spec.md §5, §6): the hot path.
//!
//! Everything here works on integers in minor units, allocates nothing and
//! cannot panic: arithmetic is done in `i128` on inputs bounded by
//! [`MAX_MONEY`], and the few fallible steps fail
//! closed.

use crate::compiled::CompiledRules;
use crate::decision::{Decision, Outcome, Reason};
use crate::item::{Field, Item};
use crate::money::{
    ceil_money_to_tick, floor_money_to_tick, max_units, pow10_i64, wide_mul, MAX_MONEY, MAX_SCALE,
};
use crate::rules::market::{quote_gate, Quotes};
use crate::rules::{
    bounds, change, disclosure, emergency, promotion, Class, ClassSet, Exact, Formulas, Rule,
};
use crate::rules::{Bounds, NO_HI, NO_LO};
pub use crate::rules::{Budget, CustomBound, CustomRule, CUSTOM_BASE, MAX_CUSTOM_RULES};
use crate::tail::{self, Ends, Tail, TailRules};

/// The most units a forecast may carry.
pub const MAX_UNITS: i64 = 1_000_000_000;

/// Whether every value of the item is in range: one pass with no early
/// exit, so that the usual valid item costs a few compares. When it says
/// no, [`validate_ordered`] names the first bad field in docs/spec.md §3 order.
#[inline(always)]
fn quick_valid(item: &Item, max_money: i64) -> bool {
    // 1 <= v <= max_money as one unsigned compare.
    let price = |v: i64| (v.wrapping_sub(1) as u64) < max_money as u64;
    let opt_price = |v: Option<i64>| v.is_none_or(price);
    let opt_not_negative = |v: Option<i64>| v.is_none_or(|v| v >= 0);
    let mut ok = price(item.proposed_price());
    if item.presence() == 0 {
        return ok;
    }
    ok &= opt_price(item.current_price());
    ok &= item
        .unit_cost()
        .is_none_or(|c| (c as u64) <= max_money as u64);
    ok &= opt_price(item.min_price());
    ok &= opt_price(item.max_price());
    ok &= opt_price(item.map_price());
    ok &= opt_price(item.reference_price());
    if let Some(u) = item.expected_units() {
        ok &= (u.wrapping_sub(1) as u64) < MAX_UNITS as u64;
        if let Some(r) = item.reference_price() {
            // Both in range here, or `ok` is already false.
            ok &= wide_mul(r, u) <= 1_i128 << 61;
        }
    }
    ok &= opt_not_negative(item.now());
    ok &= opt_not_negative(item.last_change_at());
    ok &= opt_not_negative(item.changes_in_window());
    ok &= opt_price(item.window_anchor_price());
    ok &= opt_price(item.baseline_price());
    ok &= opt_price(item.competitor_price());
    ok &= opt_price(item.pinned_price());
    if item.presence() & crate::item::HISTORY_BITS != 0 {
        ok &= opt_price(item.prior_low_price());
        ok &= opt_not_negative(item.promo_started_at());
        ok &= opt_not_negative(item.last_promo_ended_at());
        ok &= opt_not_negative(item.reversals_in_window());
        ok &= opt_not_negative(item.competitor_quotes());
    }
    ok
}

/// Checks the item's own values (docs/spec.md §6 bad input).
#[inline]
fn validate(item: &Item, max_money: i64) -> Result<(), Field> {
    if quick_valid(item, max_money) {
        return Ok(());
    }
    validate_ordered(item, max_money)
}

/// Names the first bad field in docs/spec.md §3 order.
#[cold]
#[inline(never)]
fn validate_ordered(item: &Item, max_money: i64) -> Result<(), Field> {
    // Fields are checked in docs/spec.md §3 table order, so the first bad one in
    // that order is named, whatever interface read the item.
    let price = |field: Field, v: Option<i64>| match v {
        Some(v) if v <= 0 || v > max_money => Err(field),
        _ => Ok(()),
    };
    let not_negative = |field: Field, v: Option<i64>| match v {
        Some(v) if v < 0 => Err(field),
        _ => Ok(()),
    };
    price(Field::ProposedPrice, Some(item.proposed_price()))?;
    if item.presence() == 0 {
        return Ok(());
    }
    price(Field::CurrentPrice, item.current_price())?;
    if let Some(c) = item.unit_cost() {
        if !(0..=max_money).contains(&c) {
            return Err(Field::UnitCost);
        }
    }
    price(Field::MinPrice, item.min_price())?;
    price(Field::MaxPrice, item.max_price())?;
    price(Field::MapPrice, item.map_price())?;
    price(Field::ReferencePrice, item.reference_price())?;
    if let Some(u) = item.expected_units() {
        if !(1..=MAX_UNITS).contains(&u) {
            return Err(Field::ExpectedUnits);
        }
        if let Some(r) = item.reference_price() {
            // The whole reference value must fit comfortably in i64 so that
            // spends never overflow: R x u <= 2^61 (docs/spec.md M3).
            if wide_mul(r, u) > 1_i128 << 61 {
                return Err(Field::ExpectedUnits);
            }
        }
    }
    not_negative(Field::Now, item.now())?;
    not_negative(Field::LastChangeAt, item.last_change_at())?;
    not_negative(Field::ChangesInWindow, item.changes_in_window())?;
    price(Field::WindowAnchorPrice, item.window_anchor_price())?;
    price(Field::BaselinePrice, item.baseline_price())?;
    price(Field::CompetitorPrice, item.competitor_price())?;
    price(Field::PinnedPrice, item.pinned_price())?;
    price(Field::PriorLowPrice, item.prior_low_price())?;
    not_negative(Field::PromoStartedAt, item.promo_started_at())?;
    not_negative(Field::LastPromoEndedAt, item.last_promo_ended_at())?;
    not_negative(Field::ReversalsInWindow, item.reversals_in_window())?;
    not_negative(Field::CompetitorQuotes, item.competitor_quotes())?;
    Ok(())
}

/// Evaluates one item against one segment's compiled rules, given what its
/// campaign has left. Never allocates, never panics.
#[inline]
pub fn evaluate_rules(r: &CompiledRules, item: &Item, budget: Budget) -> Decision {
    evaluate_impl(r, item, budget, &[])
}

/// Like [`evaluate_rules`], with user-defined rules composed with the
/// built-in ones: they take part in the same class relaxation and
/// reporting (bits `CUSTOM_BASE + i` of `violated` / `binding`, reason
/// [`Reason::Custom`]). At most [`MAX_CUSTOM_RULES`] rules; more are
/// ignored. Never allocates, never panics.
pub fn evaluate_rules_with(
    r: &CompiledRules,
    item: &Item,
    budget: Budget,
    custom: &[&dyn CustomRule],
) -> Decision {
    let custom = custom.get(..MAX_CUSTOM_RULES).unwrap_or(custom);
    evaluate_impl(r, item, budget, custom)
}

/// The class a custom rule's bounds take part in (`Cosmetic` counts as `Market`).
#[inline]
fn custom_class(rule: &dyn CustomRule) -> Class {
    match rule.class() {
        Class::Cosmetic => Class::Market,
        c => c,
    }
}

#[inline(always)]
fn evaluate_impl(
    r: &CompiledRules,
    item: &Item,
    budget: Budget,
    custom: &[&dyn CustomRule],
) -> Decision {
    if item.scale() != 0 {
        return evaluate_fine(r, item, budget, custom);
    }
    evaluate_at(r, item, budget, custom, MAX_MONEY)
}

/// An item carrying digits finer than the currency (docs/spec.md M1):
/// evaluated exactly against the policy's rules rescaled to its unit, and
/// the decision's prices brought back to minor units (on the tick they
/// divide exactly; a hold at a finer current price rounds half to even).
#[cold]
#[inline(never)]
fn evaluate_fine(
    r: &CompiledRules,
    item: &Item,
    budget: Budget,
    custom: &[&dyn CustomRule],
) -> Decision {
    let item = item.normalized();
    let k = item.scale();
    if k == 0 {
        return evaluate_at(r, &item, budget, custom, MAX_MONEY);
    }
    if k > MAX_SCALE {
        return Decision::invalid(Field::ProposedPrice);
    }
    let f = pow10_i64(k);
    let budget = match budget {
        Budget::Remaining(b) => Budget::Remaining(b.saturating_mul(f)),
        b => b,
    };
    let mut d = evaluate_at(&r.scaled(f), &item, budget, custom, max_units(k));
    if d.outcome == Outcome::Accepted && d.price.is_some_and(|p| p % f != 0) {
        // The proposal is the finer current price a hold keeps: what is
        // published is that price rounded to the minor unit, which is not
        // the proposal, so the item is held, by the hold that kept it.
        d.outcome = Outcome::Held;
        d.reason = Reason::Rule(match change::hold_of(d.binding.0) {
            Some(rule) => rule,
            None if d.binding.contains(Rule::MinChange) => Rule::MinChange,
            None => Rule::Tick,
        });
    }
    d.to_minor(k)
}

#[inline(always)]
fn evaluate_at(
    r: &CompiledRules,
    item: &Item,
    budget: Budget,
    custom: &[&dyn CustomRule],
    max_money: i64,
) -> Decision {
    if let Err(field) = validate(item, max_money) {
        return Decision::invalid(field);
    }
    // A proposal or pin that snaps to zero is no price at all (docs/spec.md
    // §2.3): refused, not clamped up into the interval. Both are at least
    // one unit here, so only a tick above one unit can do it.
    if r.tick > 1 {
        let zero = |v: i64| v <= r.tick / 2;
        if zero(item.proposed_price()) {
            return Decision::invalid(Field::ProposedPrice);
        }
        if item.pinned_price().is_some_and(zero) {
            return Decision::invalid(Field::PinnedPrice);
        }
    }
    let current = item.current_price();
    if r.freeze {
        return Decision::hold_or_reject(current, Reason::Freeze);
    }
    if r.needs_cost() && item.unit_cost().is_none() {
        return Decision::hold_or_reject(current, Reason::MissingCost);
    }
    if r.emergency_cap.is_some() && item.baseline_price().is_none() {
        return Decision::hold_or_reject(current, Reason::Rule(Rule::EmergencyCap));
    }
    let on_promo = item.reference_price().is_some();
    let draws_budget = on_promo && item.campaign().is_some();
    let budget = if draws_budget { budget } else { Budget::None };
    if draws_budget && (budget == Budget::Unknown || item.expected_units().is_none()) {
        return Decision::hold_or_reject(current, Reason::Rule(Rule::PromoBudget));
    }

    let pinned = item.pinned_price();
    let proposal = pinned.unwrap_or(item.proposed_price());
    let t = r.tick;

    // The history rules (docs/spec.md §11). `prior_price` is hard: an
    // unlawful "was" price keeps the live price, whatever else holds.
    if let Some(lawful) = disclosure::held(r, item) {
        // A whole-item hold: no interval, `violated` or `binding` (C7).
        let mut d = Decision::hold_or_reject(current, Reason::Rule(Rule::PriorPrice));
        d.lawful_reference = lawful;
        return d;
    }
    // A pin bypasses the market class, so its gate too.
    let quotes = if pinned.is_none() {
        quote_gate(r, item)
    } else {
        Quotes::Trusted
    };
    if quotes == Quotes::Hold {
        return Decision::hold_or_reject(current, Reason::CompetitorQuality);
    }
    // Too few quotes and not required: the market rules skip the item, as
    // they skip one with no competitor price.
    let untrusted;
    let item = if quotes == Quotes::Skip {
        untrusted = item.without(Field::CompetitorPrice);
        &untrusted
    } else {
        item
    };

    // Exact arithmetic holds every parameter: `None` cannot happen, and
    // would fail closed.
    let Some(formulas) = Formulas::<Exact>::new(r) else {
        return Decision::hold_or_reject(current, Reason::Infeasible);
    };
    let mut b = Bounds::new(proposal);
    bounds::apply(r, item, &mut b);
    emergency::apply(r, item, &mut b);
    formulas.collect(item, t, pinned.is_none(), &mut b);
    promotion::budget(item, budget, t, &mut b);
    disclosure::no_deeper_cut(r, item, t, &mut b);
    promotion::spell(r, item, t, &mut b);
    if pinned.is_none() {
        change::oscillation(r, item, &mut b);
    }
    for (i, rule) in custom.iter().enumerate() {
        if pinned.is_some()
            && matches!(
                rule.class(),
                Class::Stability | Class::Market | Class::Cosmetic
            )
        {
            continue;
        }
        let class = custom_class(*rule);
        let bound = rule.bounds(item);
        if let Some(v) = bound.lo {
            b.lower_code(CUSTOM_BASE + i, class, ceil_money_to_tick(v, t));
        }
        if let Some(v) = bound.hi {
            b.upper_code(CUSTOM_BASE + i, class, floor_money_to_tick(v, t));
        }
    }

    // Walk the classes in priority order, relaxing a class whose bounds
    // would empty the interval (docs/spec.md §5.2). The floor of everything is one tick.
    let (mut lo, mut hi) = (t, NO_HI);
    let mut kept = ClassSet::EMPTY;
    let mut relaxed = ClassSet::EMPTY;
    let mut lower_source = false;
    let mut unmet = 0u64;
    for class in r.priority {
        let (cl, mut ch) = b.class_bounds(class);
        if class == Class::Financial && cl > ch {
            // The cost floors win inside their class: a cap (`max_markup`)
            // below them yields and is reported unmet, rather than
            // emptying the class and relaxing the floors with it
            // (docs/spec.md R10). Selling below cost is the failure the
            // floors exist to stop; a cap that cannot be met is not.
            unmet |= b.hi_at.get(Class::Financial as usize).copied().unwrap_or(0);
            ch = NO_HI;
        }
        let has_lo = cl != NO_LO;
        if !has_lo && ch == NO_HI {
            continue;
        }
        let nl = lo.max(cl);
        let nh = hi.min(ch);
        if nl <= nh {
            lo = nl;
            hi = nh;
            kept.insert(class);
            lower_source |= has_lo;
        } else if class == Class::Hard {
            return Decision::hold_or_reject(current, Reason::Infeasible);
        } else {
            relaxed.insert(class);
        }
    }
    if draws_budget && relaxed.contains(Class::Financial) {
        return Decision::hold_or_reject(current, Reason::Rule(Rule::PromoBudget));
    }
    if !r.allow_unbounded && (hi == NO_HI || !lower_source) {
        return Decision::hold_or_reject(current, Reason::Unbounded);
    }
    if lo > max_money {
        // Floors above the supported range (a huge cost): no price can be
        // published, and none should be proposed back (M3).
        return Decision::hold_or_reject(current, Reason::Infeasible);
    }

    // A hold's rules are stability rules: they hold only with the class kept.
    let hold = if kept.contains(Class::Stability) {
        change::hold_of(b.set)
    } else {
        None
    };

    let tail = Tail {
        judged: proposal,
        pinned: pinned.is_some(),
        tick: t,
        lo,
        hi,
        hold,
        relaxed,
        unmet,
    };
    let rules = TailRules {
        min_change: r.min_change,
        max_auto_change: r.max_auto_change,
    };
    let endings = if pinned.is_none() {
        r.endings.as_ref()
    } else {
        None
    };
    let mut ends = EngineEnds {
        b: &b,
        order: &r.priority,
        kept,
    };
    tail::finish(tail, &rules, item, &mut ends, endings)
}

/// The general engine's bounds, kept per class, as the tail reads them.
struct EngineEnds<'a> {
    b: &'a Bounds,
    order: &'a [Class; 4],
    kept: ClassSet,
}

impl Ends for EngineEnds<'_> {
    #[inline]
    fn name(&mut self, lo: i64, hi: i64) -> (u64, u64, u64) {
        (
            self.b.violated,
            self.b.rules_at(lo, false, self.kept),
            self.b.rules_at(hi, true, self.kept),
        )
    }

    #[inline]
    fn violated_inside(&self) -> u64 {
        // Every rule the judged price breaks, relaxed classes' too.
        self.b.violated
    }

    #[inline]
    fn source(&self, _: u64, v: i64, upper: bool) -> Option<Reason> {
        let code = self.b.source_of(v, upper, self.order, self.kept)?;
        Some(if code >= CUSTOM_BASE {
            Reason::Custom(u8::try_from(code - CUSTOM_BASE).unwrap_or(u8::MAX))
        } else {
            Reason::Rule(
                u8::try_from(code)
                    .ok()
                    .and_then(Rule::from_code)
                    .unwrap_or(Rule::Tick),
            )
        })
    }
}
