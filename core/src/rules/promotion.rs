//! Financial promotion floors: `max_discount` and `promo_budget`.

use crate::item::{Field, Item};
use crate::money::{ceil_money_to_tick, ceil_to_tick, clamp_bound, wide_mul};
use crate::rules::params::{CompiledRules, Ratio};
use crate::rules::{scale, BoundSink, Budget, Factor, Row, Rule, Scale};

/// `max_discount`: the floor is `R × (1 - d)`; validation keeps `d <= 1`.
#[inline]
pub(crate) fn discount_factor(d: Ratio) -> Factor {
    Factor::minus(d.num, d.den)
}

/// The rules [`Discount::collect`] records (`promo_budget` is the
/// general engine's alone: see [`budget`]).
#[cfg_attr(not(feature = "alloc"), allow(dead_code))] // read by the row kernel (alloc)
pub(crate) const RULES: u64 = 1 << Rule::MaxDiscount as u8;

/// `max_discount` in arithmetic `S`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Discount<S> {
    pub(crate) max_discount: Option<S>,
}

impl<S: Scale> Discount<S> {
    #[inline(always)]
    pub(crate) fn new(r: &CompiledRules) -> Option<Discount<S>> {
        Some(Discount {
            max_discount: scale(r.max_discount, discount_factor, r.tick)?,
        })
    }

    /// `max_discount`: lo = ceil_T(R x (1 - d)), for items on promotion
    /// (with a `reference_price`).
    #[inline(always)]
    pub(crate) fn collect(&self, v: &impl Row, b: &mut impl BoundSink) {
        if let (Some(s), Some(r)) = (&self.max_discount, v.get(Field::ReferencePrice)) {
            b.lower(Rule::MaxDiscount, s.ceil(r));
        }
    }

    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // read by the row kernel (alloc)
    pub(crate) fn each_factor(&self, f: &mut impl FnMut(Field, &S)) {
        if let Some(s) = &self.max_discount {
            f(Field::ReferencePrice, s);
        }
    }
}

/// `promo_budget`: spend(p) = (R - p) x units <= B, so lo = ceil_T(R - B / units),
/// for an item on promotion that draws on a campaign (the general engine
/// alone decides those: the budget is shared state).
#[inline]
pub(crate) fn budget(item: &Item, budget: Budget, tick: i64, b: &mut impl BoundSink) {
    let (Some(reference), Budget::Remaining(remaining), Some(units)) =
        (item.reference_price(), budget, item.expected_units())
    else {
        return;
    };
    let u = i128::from(units);
    // (R*u - B) / u; a budget that covers the whole reference price
    // still yields a (non-positive) bound, so the rule is reported.
    b.lower(
        Rule::PromoBudget,
        clamp_bound(ceil_to_tick(
            wide_mul(reference, units) - i128::from(remaining),
            u,
            tick,
        )),
    );
}

/// `(R - price) x units`, never negative, for a promoted item with a forecast.
#[inline]
pub(crate) fn spend_of(reference: Option<i64>, units: Option<i64>, price: i64) -> Option<i64> {
    let per_unit = reference?.saturating_sub(price).max(0);
    per_unit.checked_mul(units?)
}

/// Seconds in a day: `promotion.max_days` and `min_days_between` count
/// whole days of 86 400 seconds.
pub(crate) const DAY: i64 = 86_400;

/// `promo_spell`: lo = ceil_T(R), no discount at all, for an item on
/// promotion whose spell broke `promotion.max_days` or
/// `promotion.min_days_between` (see [`spell_broken`]). The general
/// engine's alone.
#[inline]
pub(crate) fn spell(r: &CompiledRules, item: &Item, tick: i64, b: &mut impl BoundSink) {
    if r.promo_max_days.is_none() && r.promo_min_days_between.is_none() {
        return;
    }
    let Some(reference) = item.reference_price() else {
        return;
    };
    if spell_broken(r, item) {
        b.lower(Rule::PromoSpell, ceil_money_to_tick(reference, tick));
    }
}

/// Whether the promotion in force breaks a spell rule: it began
/// (`promo_started_at`) more than `max_days` before `now`, or less than
/// `min_days_between` after the previous one ended
/// (`last_promo_ended_at`; none: no earlier promotion). Fails closed: a
/// missing `promo_started_at`, or a missing `now` under `max_days`,
/// breaks it (the engine cannot prove the spell is short enough).
#[inline]
pub(crate) fn spell_broken(r: &CompiledRules, item: &Item) -> bool {
    let Some(start) = item.promo_started_at() else {
        return true;
    };
    if let Some(days) = r.promo_max_days {
        match item.now() {
            // Both validated non-negative, days at most ten years: no overflow.
            Some(now) if now.wrapping_sub(start) <= days.wrapping_mul(DAY) => {}
            _ => return true,
        }
    }
    if let (Some(days), Some(end)) = (r.promo_min_days_between, item.last_promo_ended_at()) {
        if start.wrapping_sub(end) < days.wrapping_mul(DAY) {
            return true;
        }
    }
    false
}
