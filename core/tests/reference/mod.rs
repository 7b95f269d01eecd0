//! A reference evaluator, for tests only.
//!
//! Written for obviousness, not speed, straight from `docs/spec.md`
//! (section numbers in the comments). It reads the
//! policy's parameters through `Policy::rules_for` and `Policy::budget`,
//! and computes everything else itself with exact rationals
//! (`BigRational`): no engine code is called or copied. Differential tests
//! compare it with the engine field by field.
//!
//! Money is an exact rational number of minor units throughout. An item's
//! money values are `units / 10^scale` minor units (`Item::scale`,
//! docs/spec.md M1): the reference never rescales the policy, it reads each
//! value as the number it is, snaps the proposal to the tick from that
//! number, and rounds only what the decision publishes.

#![allow(dead_code)]

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use priceguard::{
    Class, ClassSet, CompiledRules, Decision, Field, Item, Outcome, Policy, Ratio, Reason, Rule,
    RuleSet, MAX_MONEY,
};

pub mod group;

type Q = BigRational;

/// docs/spec.md M1: at most six digits beyond the minor unit.
const MAX_DIGITS: u32 = 6;

fn q(v: i64) -> Q {
    Q::from_integer(BigInt::from(v))
}

fn frac(r: Ratio) -> Q {
    Q::new(BigInt::from(r.num), BigInt::from(r.den))
}

fn to_i64(v: &BigInt) -> i64 {
    v.to_i64()
        .unwrap_or(if v.is_negative() { i64::MIN } else { i64::MAX })
}

fn pow10(k: u32) -> BigInt {
    num_traits::pow(BigInt::from(10), k as usize)
}

/// `units` of `10^-scale` minor units, as minor units.
fn money(units: i64, scale: u32) -> Q {
    Q::new(BigInt::from(units), pow10(scale))
}

/// The fewest digits beyond the minor unit that hold `x` exactly, when
/// there are at most `max` of them.
fn digits_of(x: &Q, max: u32) -> Option<u32> {
    (0..=max).find(|&k| (x * Q::from_integer(pow10(k))).is_integer())
}

/// An exact amount as whole minor units, when it is one.
fn whole(x: &Q) -> i64 {
    to_i64(&x.to_integer())
}

/// Rounds half to even to the minor unit (docs/spec.md M1: what a hold at
/// a finer current price publishes).
fn round_half_even(x: &Q) -> i64 {
    let down = x.floor().to_integer();
    let rest = x - Q::from_integer(down.clone());
    let half = Q::new(BigInt::from(1), BigInt::from(2));
    let down_is_even = (&down % BigInt::from(2)).is_zero();
    let up = rest > half || (rest == half && !down_is_even);
    to_i64(&if up { down + 1 } else { down })
}

/// docs/spec.md §2 `ceil_T(x)`: the least multiple of the tick that is >= x.
fn ceil_t(x: &Q, tick: i64) -> Q {
    let k = (x / q(tick)).ceil().to_integer();
    Q::from_integer(k * BigInt::from(tick))
}

/// docs/spec.md §2 `floor_T(x)`: the greatest multiple of the tick that is <= x.
fn floor_t(x: &Q, tick: i64) -> Q {
    let k = (x / q(tick)).floor().to_integer();
    Q::from_integer(k * BigInt::from(tick))
}

/// docs/spec.md §2.3: the nearest multiple of the tick to the exact value,
/// ties to the even multiple.
fn snap_half_even(x: &Q, tick: i64) -> Q {
    let v = x / q(tick);
    let down = v.floor().to_integer();
    let rest = v - Q::from_integer(down.clone());
    let half = Q::new(BigInt::from(1), BigInt::from(2));
    let down_is_even = (&down % BigInt::from(2)).is_zero();
    let up = rest > half || (rest == half && !down_is_even);
    let k = if up { down + 1 } else { down };
    Q::from_integer(k * BigInt::from(tick))
}

/// The item's money as exact amounts (docs/spec.md M1).
#[derive(Clone, Copy, Debug)]
struct Reading<'a> {
    item: &'a Item,
    scale: u32,
}

impl Reading<'_> {
    fn get(&self, field: Field) -> Option<Q> {
        self.item.get(field).map(|v| money(v, self.scale))
    }
    fn proposed(&self) -> Q {
        money(self.item.proposed_price(), self.scale)
    }
    fn current(&self) -> Option<Q> {
        self.get(Field::CurrentPrice)
    }
    /// The item's units: `10^-k` minor units, `k` the most digits beyond
    /// the minor unit any of its money values needs; `None` when some
    /// value needs more than six (docs/spec.md M1).
    fn digits(&self) -> Option<u32> {
        let mut k = 0;
        for field in Field::ALL {
            if !(field.is_money() || field == Field::ProposedPrice) {
                continue;
            }
            if let Some(v) = self.get(field) {
                k = k.max(digits_of(&v, MAX_DIGITS)?);
            }
        }
        Some(k)
    }
}

/// docs/spec.md §6 bad input, docs/spec.md M3: the first field out of range, walking
/// `proposed_price` and then the docs/spec.md §3 table in its order.
/// Money is judged by its exact value; `R x u` in the item's units.
fn first_invalid(m: &Reading<'_>, digits: u32, tick: i64) -> Option<Field> {
    let item = m.item;
    let max = q(MAX_MONEY);
    // M1, M3: a value is also at most 2^61 units of the item's precision.
    let units_cap = Q::new(BigInt::from(1_i64 << 61), pow10(digits));
    let max = if units_cap < max { units_cap } else { max };
    let price_ok = |v: &Q| v > &Q::zero() && v <= &max;
    if !price_ok(&m.proposed()) {
        return Some(Field::ProposedPrice);
    }
    let money_fields = [
        Field::CurrentPrice,
        Field::UnitCost,
        Field::MinPrice,
        Field::MaxPrice,
        Field::MapPrice,
        Field::ReferencePrice,
    ];
    for field in money_fields {
        if let Some(v) = m.get(field) {
            let ok = if field == Field::UnitCost {
                v >= Q::zero() && v <= max
            } else {
                price_ok(&v)
            };
            if !ok {
                return Some(field);
            }
        }
    }
    if let Some(u) = item.expected_units() {
        let in_range = (1..=1_000_000_000).contains(&u);
        // reference_price x expected_units <= 2^61, in the item's units
        let product_ok = match m.get(Field::ReferencePrice) {
            Some(r) => {
                r * Q::from_integer(pow10(digits)) * q(u)
                    <= Q::from_integer(BigInt::from(1_i64 << 61))
            }
            None => true,
        };
        if !(in_range && product_ok) {
            return Some(Field::ExpectedUnits);
        }
    }
    for (field, v) in [
        (Field::Now, item.now()),
        (Field::LastChangeAt, item.last_change_at()),
        (Field::ChangesInWindow, item.changes_in_window()),
    ] {
        if v.is_some_and(|v| v < 0) {
            return Some(field);
        }
    }
    let bad = [
        Field::WindowAnchorPrice,
        Field::BaselinePrice,
        Field::CompetitorPrice,
        Field::PinnedPrice,
        Field::PriorLowPrice,
    ]
    .into_iter()
    .find(|&field| m.get(field).is_some_and(|v| !price_ok(&v)));
    if bad.is_some() {
        return bad;
    }
    // §11: the history summary's times and counts.
    for field in [
        Field::PromoStartedAt,
        Field::LastPromoEndedAt,
        Field::ReversalsInWindow,
        Field::CompetitorQuotes,
    ] {
        if item.get(field).is_some_and(|v| v < 0) {
            return Some(field);
        }
    }
    // §2.3: a proposal or pin that snaps to zero is no price.
    if snap_half_even(&m.proposed(), tick) <= Q::zero() {
        return Some(Field::ProposedPrice);
    }
    if m.get(Field::PinnedPrice)
        .is_some_and(|p| snap_half_even(&p, tick) <= Q::zero())
    {
        return Some(Field::PinnedPrice);
    }
    None
}

/// A decision for the whole item, with no interval (C7): held at the
/// current price, or rejected for a new listing (C2). A finer current
/// price is published rounded half to even to the minor unit (M1).
fn whole_item(current: Option<&Q>, reason: Reason) -> Decision {
    Decision {
        outcome: if current.is_some() {
            Outcome::Held
        } else {
            Outcome::Rejected
        },
        reason,
        price: current.map(round_half_even),
        lower: None,
        upper: None,
        violated: RuleSet::EMPTY,
        binding: RuleSet::EMPTY,
        unmet: RuleSet::EMPTY,
        relaxed: ClassSet::EMPTY,
        promo_spend: None,
        spend_scale: 0,
        needs_approval: false,
        invalid_field: None,
        lawful_reference: None,
    }
}

fn invalid(field: Field) -> Decision {
    let mut d = whole_item(None, Reason::InvalidInput);
    d.invalid_field = Some(field);
    d
}

/// One rule's bound (a hold is the bound `[P, P]`, R5), exact.
#[derive(Clone, Debug)]
struct Bound {
    rule: Rule,
    lo: Option<Q>,
    hi: Option<Q>,
}

impl Bound {
    fn broken_by(&self, x: &Q) -> bool {
        self.lo.as_ref().is_some_and(|lo| x < lo) || self.hi.as_ref().is_some_and(|hi| x > hi)
    }

    fn equals(&self, x: &Q) -> bool {
        self.lo.as_ref() == Some(x) || self.hi.as_ref() == Some(x)
    }
}

/// Campaign state the reference sees for one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CampaignBudget {
    /// The item names no campaign.
    NoCampaign,
    /// The item names a campaign the policy does not budget.
    Unknown,
    /// What is left of its budget, whole minor units.
    Remaining(i64),
}

/// Evaluates one item with every campaign's configured budget.
pub fn evaluate(policy: &Policy, item: &Item) -> Decision {
    let budget = match item.campaign() {
        None => CampaignBudget::NoCampaign,
        Some(id) => match policy.budget(id) {
            Some(b) => CampaignBudget::Remaining(b),
            None => CampaignBudget::Unknown,
        },
    };
    evaluate_with(policy, item, budget)
}

/// Every rule's bound for the item (docs/spec.md §4, docs/spec.md R1-R5):
/// exact rationals rounded once onto the tick; holds at P as it is.
fn rule_bounds(
    r: &CompiledRules,
    m: &Reading<'_>,
    remaining: Option<(i64, i64)>,
    market: bool,
) -> Vec<Bound> {
    let item = m.item;
    let t = r.tick;
    let one = Q::one();
    let mut out = Vec::new();
    let mut add = |rule: Rule, lo: Option<Q>, hi: Option<Q>| out.push(Bound { rule, lo, hi });

    // hard
    let min = [r.min_price.map(q), m.get(Field::MinPrice)]
        .into_iter()
        .flatten()
        .max();
    if let Some(v) = min {
        add(Rule::MinPrice, Some(ceil_t(&v, t)), None);
    }
    let max = [r.max_price.map(q), m.get(Field::MaxPrice)]
        .into_iter()
        .flatten()
        .min();
    if let Some(v) = max {
        add(Rule::MaxPrice, None, Some(floor_t(&v, t)));
    }
    if let Some(v) = m.get(Field::MapPrice) {
        add(Rule::Map, Some(ceil_t(&v, t)), None);
    }
    if let (Some(cap), Some(b)) = (r.emergency_cap, m.get(Field::BaselinePrice)) {
        let hi = b * (&one + frac(cap));
        add(Rule::EmergencyCap, None, Some(floor_t(&hi, t)));
    }

    // §11.2: without `progressive`, no cut below the price in force inside
    // a running promotion whose reference is above that price.
    if let (Some(_), false, Some(_), Some(rp), Some(p)) = (
        r.prior_days,
        r.progressive,
        item.promo_started_at(),
        m.get(Field::ReferencePrice),
        m.current(),
    ) {
        if rp > p {
            add(Rule::PriorPrice, Some(ceil_t(&p, t)), None);
        }
    }

    // financial
    if let Some(c) = m.get(Field::UnitCost) {
        if let Some(x) = r.min_margin {
            add(
                Rule::Margin,
                Some(ceil_t(&(&c / (&one - frac(x))), t)),
                None,
            );
        }
        if let Some(k) = r.min_markup {
            add(
                Rule::Markup,
                Some(ceil_t(&(&c * (&one + frac(k))), t)),
                None,
            );
        }
        if let Some(u) = r.min_unit_margin {
            add(Rule::UnitMargin, Some(ceil_t(&(&c + q(u)), t)), None);
        }
        // R10: a markup over a zero cost is undefined, so no cap.
        if let Some(k) = r.max_markup.filter(|_| c > Q::zero()) {
            add(
                Rule::MaxMarkup,
                None,
                Some(floor_t(&(&c * (&one + frac(k))), t)),
            );
        }
    }
    if let Some(rp) = m.get(Field::ReferencePrice) {
        if let Some(d) = r.max_discount {
            add(
                Rule::MaxDiscount,
                Some(ceil_t(&(&rp * (&one - frac(d))), t)),
                None,
            );
        }
        if let Some((b, u)) = remaining {
            // R2: lo = ceil_T((R x u - B) / u)
            let lo = (&rp * q(u) - q(b)) / q(u);
            add(Rule::PromoBudget, Some(ceil_t(&lo, t)), None);
        }
        // §11.3 promo_spell: no discount at all when the spell is too long
        // or too soon after the last; unknown start (or `now` under
        // max_days) cannot prove either.
        if r.promo_max_days.is_some() || r.promo_min_days_between.is_some() {
            let day = 86_400_i128;
            let broken = match item.promo_started_at() {
                None => true,
                Some(start) => {
                    let long = r.promo_max_days.is_some_and(|d| match item.now() {
                        None => true,
                        Some(now) => i128::from(now) - i128::from(start) > i128::from(d) * day,
                    });
                    let soon = match (r.promo_min_days_between, item.last_promo_ended_at()) {
                        (Some(d), Some(end)) => {
                            i128::from(start) - i128::from(end) < i128::from(d) * day
                        }
                        _ => false,
                    };
                    long || soon
                }
            };
            if broken {
                add(Rule::PromoSpell, Some(ceil_t(&rp, t)), None);
            }
        }
    }

    // R8: a pin bypasses stability and market
    if item.pinned_price().is_some() {
        return out;
    }

    // stability: needs the current price (R1)
    if let Some(p) = m.current() {
        if let Some(up) = r.max_increase {
            add(
                Rule::MaxIncrease,
                None,
                Some(floor_t(&(&p * (&one + frac(up))), t)),
            );
        }
        if let Some(down) = r.max_decrease {
            add(
                Rule::MaxDecrease,
                Some(ceil_t(&(&p * (&one - frac(down))), t)),
                None,
            );
        }
        if let Some(step) = r.max_step {
            // R3
            add(
                Rule::MaxStep,
                Some(ceil_t(&(&p - q(step)), t)),
                Some(floor_t(&(&p + q(step)), t)),
            );
        }
        // R4: against the anchor, or P without one
        let w = m.get(Field::WindowAnchorPrice).unwrap_or_else(|| p.clone());
        if let Some(up) = r.window_increase {
            add(
                Rule::WindowIncrease,
                None,
                Some(floor_t(&(&w * (&one + frac(up))), t)),
            );
        }
        if let Some(down) = r.window_decrease {
            add(
                Rule::WindowDecrease,
                Some(ceil_t(&(&w * (&one - frac(down))), t)),
                None,
            );
        }
        if let Some(cooldown) = r.cooldown_secs {
            // never changed: no hold; no `now`: cannot prove it is over (I3);
            // a change in the future is recent (I4)
            if let Some(last) = item.last_change_at() {
                let recent = match item.now() {
                    None => true,
                    Some(now) => i128::from(now) - i128::from(last) < i128::from(cooldown),
                };
                if recent {
                    add(Rule::Cooldown, Some(p.clone()), Some(p.clone()));
                }
            }
        }
        if let Some(max) = r.max_changes {
            if item.changes_in_window().unwrap_or(0) >= max {
                add(Rule::MaxChanges, Some(p.clone()), Some(p.clone()));
            }
        }
        // §11.5: unknown reversals cannot prove the price is calm.
        if let Some(max) = r.max_reversals {
            if item.reversals_in_window().is_none_or(|n| n >= max) {
                add(Rule::Oscillation, Some(p.clone()), Some(p.clone()));
            }
        }
    }

    // market: needs the competitor price, and quotes the gate trusts
    if let (Some(k), true) = (m.get(Field::CompetitorPrice), market) {
        if let Some(i) = r.min_index {
            add(
                Rule::CompetitorFloor,
                Some(ceil_t(&(&k * frac(i)), t)),
                None,
            );
        }
        if let Some(i) = r.max_index {
            add(
                Rule::CompetitorCeiling,
                None,
                Some(floor_t(&(&k * frac(i)), t)),
            );
        }
    }
    out
}

/// Whether `x` ends in an allowed residue (R7); a value finer than the
/// minor unit never does.
fn allowed_ending(r: &CompiledRules, x: &Q) -> bool {
    match &r.endings {
        None => true,
        Some(e) => {
            let m = q(e.modulus);
            let rest = x - (x / &m).floor() * &m;
            e.residues().iter().any(|a| q(*a) == rest)
        }
    }
}

/// Evaluates one item given what its campaign has left.
pub fn evaluate_with(policy: &Policy, item: &Item, budget: CampaignBudget) -> Decision {
    // I2: unknown segments use the policy's own rules
    let r = policy.rules_for(item.segment());
    let t = r.tick;
    let m = Reading {
        item,
        scale: u32::from(item.scale()),
    };
    let current = m.current();

    // C1, in order; M1: at most six digits beyond the minor unit
    let Some(digits) = m.digits() else {
        return invalid(Field::ProposedPrice);
    };
    if let Some(field) = first_invalid(&m, digits, t) {
        return invalid(field);
    }
    if r.freeze {
        return whole_item(current.as_ref(), Reason::Freeze);
    }
    let cost_rules = r.min_margin.is_some()
        || r.min_markup.is_some()
        || r.max_markup.is_some()
        || r.min_unit_margin.is_some();
    if cost_rules && item.unit_cost().is_none() {
        return whole_item(current.as_ref(), Reason::MissingCost);
    }
    if r.emergency_cap.is_some() && item.baseline_price().is_none() {
        return whole_item(current.as_ref(), Reason::Rule(Rule::EmergencyCap));
    }
    // I1: a campaign matters only for an item on promotion
    let on_promotion = item.reference_price().is_some();
    let mut draws = None; // (remaining budget, expected units)
    if on_promotion && item.campaign().is_some() {
        match (budget, item.expected_units()) {
            (CampaignBudget::Remaining(b), Some(u)) => draws = Some((b, u)),
            _ => return whole_item(current.as_ref(), Reason::Rule(Rule::PromoBudget)),
        }
    }

    let pinned = m.get(Field::PinnedPrice);
    let proposed = m.proposed();
    let proposal = pinned.clone().unwrap_or_else(|| proposed.clone());

    // §11.2 prior_price (hard): the "was" price is at most the lowest
    // price of the window before the promotion; without `progressive` a
    // cut below the price in force inside a running promotion is a new
    // reduction, whose window holds the price in force.
    if let (Some(_), Some(rp)) = (r.prior_days, m.get(Field::ReferencePrice)) {
        match m.get(Field::PriorLowPrice) {
            None => return whole_item(current.as_ref(), Reason::Rule(Rule::PriorPrice)),
            Some(l) if rp > l => {
                let mut d = whole_item(current.as_ref(), Reason::Rule(Rule::PriorPrice));
                // In minor units, rounded down: still lawful.
                d.lawful_reference = Some(whole(&l.floor()));
                return d;
            }
            Some(_) => {}
        }
    }
    // §11.4 the quote gate: a pin bypasses the market class.
    let gate = r.min_quotes.is_some() && (r.min_index.is_some() || r.max_index.is_some());
    let trusted = !gate
        || pinned.is_some()
        || item.competitor_quotes().unwrap_or(0) >= r.min_quotes.unwrap_or(0);
    if !trusted && r.market_required {
        return whole_item(current.as_ref(), Reason::CompetitorQuality);
    }
    let bounds = rule_bounds(r, &m, draws, trusted);
    // R10: inside the financial class the floors win; caps below the
    // class's largest floor yield (the tightest is reported unmet) and
    // take no part in the walk.
    let financial = |b: &&Bound| b.rule.class() == Class::Financial;
    let fin_lo = bounds
        .iter()
        .filter(financial)
        .filter_map(|b| b.lo.clone())
        .max();
    let fin_hi = bounds
        .iter()
        .filter(financial)
        .filter_map(|b| b.hi.clone())
        .min();
    let mut yielded = RuleSet::EMPTY;
    let walk_bounds: Vec<Bound> = match (fin_lo, fin_hi) {
        (Some(l), Some(h)) if l > h => {
            for b in bounds.iter().filter(financial) {
                if b.hi.as_ref() == Some(&h) {
                    yielded.insert(b.rule);
                }
            }
            bounds
                .iter()
                .filter(|b| !(b.rule.class() == Class::Financial && b.hi.is_some()))
                .cloned()
                .collect()
        }
        _ => bounds.clone(),
    };

    // docs/spec.md §5.1-5.3: walk the classes in priority order from [one tick, +inf)
    let mut lo = q(t);
    let mut hi: Option<Q> = None;
    let mut kept: Vec<Class> = Vec::new();
    let mut relaxed = ClassSet::EMPTY;
    for class in r.priority {
        let of_class: Vec<&Bound> = walk_bounds
            .iter()
            .filter(|b| b.rule.class() == class)
            .collect();
        if of_class.is_empty() {
            continue;
        }
        let class_lo = of_class.iter().filter_map(|b| b.lo.clone()).max();
        let class_hi = of_class.iter().filter_map(|b| b.hi.clone()).min();
        let new_lo = match class_lo {
            Some(l) => lo.clone().max(l),
            None => lo.clone(),
        };
        let new_hi = match (hi.clone(), class_hi) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let empty = new_hi.as_ref().is_some_and(|h| &new_lo > h);
        if !empty {
            lo = new_lo;
            hi = new_hi;
            kept.push(class);
        } else if class == Class::Hard {
            return whole_item(current.as_ref(), Reason::Infeasible);
        } else {
            relaxed.insert(class);
        }
    }
    let in_kept = |b: &&Bound| kept.contains(&b.rule.class());
    let kept_bounds: Vec<&Bound> = walk_bounds.iter().filter(in_kept).collect();

    // docs/spec.md §8: a campaign item whose financial class was relaxed is held
    if draws.is_some() && relaxed.contains(Class::Financial) {
        return whole_item(current.as_ref(), Reason::Rule(Rule::PromoBudget));
    }
    // C3: no upper bound, or no lower bound source, among the kept classes
    let has_upper = kept_bounds.iter().any(|b| b.hi.is_some());
    let has_lower = kept_bounds.iter().any(|b| b.lo.is_some());
    let bounded = has_upper && has_lower;
    if !r.allow_unbounded && !bounded {
        return whole_item(current.as_ref(), Reason::Unbounded);
    }
    // M3: a floor above the supported money range publishes nothing
    if lo > q(MAX_MONEY) {
        return whole_item(current.as_ref(), Reason::Infeasible);
    }

    // docs/spec.md §5.4: a kept hold decides the price (cooldown before max_changes)
    let hold = [Rule::Cooldown, Rule::MaxChanges, Rule::Oscillation]
        .into_iter()
        .find(|rule| kept_bounds.iter().any(|b| b.rule == *rule));

    // docs/spec.md §2.3 and §5.5: snap the exact proposal, then clamp
    let snapped = snap_half_even(&proposal, t);
    let mut price = snapped.clone().max(lo.clone());
    if let Some(h) = &hi {
        price = price.min(h.clone());
    }
    let clamped_up = snapped < lo;
    let clamped_down = hi.as_ref().is_some_and(|h| &snapped > h);

    // C6 violated: every rule (kept or relaxed) the proposal breaks
    let mut violated = RuleSet::EMPTY;
    for b in &bounds {
        if b.broken_by(&proposal) {
            violated.insert(b.rule);
        }
    }
    if !(&proposal / q(t)).is_integer() {
        violated.insert(Rule::Tick);
    }

    // R7 endings: not for pins, not for held prices
    let mut unmet = yielded;
    let mut ending_moved = false;
    if r.endings.is_some() && pinned.is_none() {
        if !allowed_ending(r, &proposal) {
            violated.insert(Rule::PriceEnding);
        }
        if hold.is_none() && !allowed_ending(r, &price) {
            let e = r
                .endings
                .as_ref()
                .map(|e| (q(e.modulus), e.residues().to_vec()));
            let (md, residues) = e.unwrap_or((Q::one(), Vec::new()));
            // nearest allowed at or below, and at or above, the price
            let modulo = |x: Q| &x - (&x / &md).floor() * &md;
            let below = residues
                .iter()
                .map(|a| &price - modulo(&price - q(*a)))
                .max();
            let above = residues
                .iter()
                .map(|a| &price + modulo(q(*a) - &price))
                .min();
            let below = below.filter(|x| x >= &lo);
            let above = above.filter(|x| hi.as_ref().is_none_or(|h| x <= h));
            let choice = match (below, above) {
                (None, None) => None,
                (Some(b), None) => Some(b),
                (None, Some(a)) => Some(a),
                (Some(b), Some(a)) => {
                    let (db, da) = (&price - &b, &a - &price);
                    if db < da {
                        Some(b)
                    } else if da < db {
                        Some(a)
                    } else if price == snapped {
                        Some(b) // the customer-friendly one
                    } else if proposal > price {
                        Some(a) // the proposal's side
                    } else {
                        Some(b)
                    }
                }
            };
            match choice {
                Some(x) => {
                    ending_moved = x != price;
                    price = x;
                }
                None => unmet.insert(Rule::PriceEnding),
            }
        }
    }

    // R6 min_change: last; not after a hold, for a pin, or when stability was relaxed
    let mut min_change_applied = false;
    if let (Some(p), Some(band), None, None) = (&current, r.min_change, &pinned, hold) {
        let p_inside = p >= &lo && hi.as_ref().is_none_or(|h| p <= h);
        let moved = (&price - p).abs();
        let small = moved > Q::zero() && moved < p * frac(band);
        if !relaxed.contains(Class::Stability) && p_inside && small {
            price = p.clone();
            min_change_applied = true;
            violated.insert(Rule::MinChange);
        }
    }

    // C6 binding: kept rules whose bound equals the price, and what moved it
    let mut binding = RuleSet::EMPTY;
    for b in &kept_bounds {
        if b.equals(&price) {
            binding.insert(b.rule);
        }
    }
    if min_change_applied {
        // C6: back at P, only min_change moved it
        binding.insert(Rule::MinChange);
    } else {
        if ending_moved {
            binding.insert(Rule::PriceEnding);
        }
        if snapped != proposal && price == snapped {
            binding.insert(Rule::Tick);
        }
    }
    if pinned.as_ref() == Some(&price) {
        binding.insert(Rule::Pinned);
    }

    // C4 outcome, C5 reason
    // M1: a finer price (only a kept current price is one) is published
    // rounded to the minor unit, so it is never the proposal as given.
    let whole_minor = price.is_integer();
    let (outcome, reason) = if price == proposed && whole_minor {
        (Outcome::Accepted, Reason::None)
    } else if price == proposed && hold.is_none() && !min_change_applied {
        (Outcome::Held, Reason::Rule(Rule::Tick))
    } else if let Some(rule) = hold {
        (Outcome::Held, Reason::Rule(rule))
    } else if min_change_applied {
        (Outcome::Held, Reason::Rule(Rule::MinChange))
    } else {
        // the rule that set the clamping bound: kept classes in priority
        // order, rules in code order within a class
        let mut clamp_rule = None;
        if clamped_up || clamped_down {
            'walk: for class in r.priority {
                if !kept.contains(&class) {
                    continue;
                }
                for rule in Rule::ALL.iter().filter(|x| x.class() == class) {
                    for b in bounds.iter().filter(|b| b.rule == *rule) {
                        let hit = if clamped_up {
                            b.lo.as_ref() == Some(&lo)
                        } else {
                            b.hi == hi
                        };
                        if hit {
                            clamp_rule = Some(*rule);
                            break 'walk;
                        }
                    }
                }
            }
        }
        let rule = match clamp_rule {
            Some(rule) => rule,
            None if ending_moved => Rule::PriceEnding,
            None if pinned.is_some() => Rule::Pinned,
            None => Rule::Tick,
        };
        (Outcome::Adjusted, Reason::Rule(rule))
    };

    // C8 approval
    let needs_approval = match (r.max_auto_change, &current) {
        (Some(limit), Some(p)) if matches!(outcome, Outcome::Accepted | Outcome::Adjusted) => {
            (&price - p).abs() > p * frac(limit)
        }
        _ => false,
    };

    // R2 spend: max(0, R - price) x u, exact (M1): in 10^-s minor units
    // for the fewest digits s that hold it
    let (promo_spend, spend_scale) = match (m.get(Field::ReferencePrice), item.expected_units()) {
        (Some(rp), Some(u)) => {
            let s = (rp - &price).max(Q::zero()) * q(u);
            let k = digits_of(&s, MAX_DIGITS).unwrap_or(MAX_DIGITS);
            let units = whole(&(s * Q::from_integer(pow10(k))));
            (Some(units), u8::try_from(k).unwrap_or(u8::MAX))
        }
        _ => (None, 0),
    };

    // M1: prices on the tick are whole minor units; a hold (or min_change)
    // at a finer current price publishes it rounded half to even
    Decision {
        outcome,
        reason,
        price: Some(round_half_even(&price)),
        lower: Some(round_half_even(&lo)),
        upper: hi.as_ref().map(round_half_even),
        violated,
        binding,
        unmet,
        relaxed,
        promo_spend,
        spend_scale,
        needs_approval,
        invalid_field: None,
        lawful_reference: None,
    }
}

/// A reference batch (docs/spec.md §7, B1, B2): budgets consumed in input order by
/// accepted and adjusted campaign items, each charged its spend rounded up
/// to the minor unit; the breaker judged on the whole.
pub fn evaluate_batch(policy: &Policy, items: &[Item]) -> (Vec<Decision>, bool) {
    let mut remaining: Vec<(String, i64)> = policy
        .campaigns()
        .map(|(n, b)| (n.to_string(), b))
        .collect();
    let mut out = Vec::new();
    for item in items {
        let name = item.campaign().and_then(|id| policy.campaign_name(id));
        let budget = match (item.campaign(), name) {
            (None, _) => CampaignBudget::NoCampaign,
            (Some(_), None) => CampaignBudget::Unknown,
            (Some(_), Some(n)) => match remaining.iter().find(|(c, _)| c == n) {
                Some((_, b)) => CampaignBudget::Remaining(*b),
                None => CampaignBudget::Unknown,
            },
        };
        let d = evaluate_with(policy, item, budget);
        let spends = matches!(d.outcome, Outcome::Accepted | Outcome::Adjusted)
            && item.reference_price().is_some();
        if let (true, Some(n), Some(s)) = (spends, name, d.promo_spend) {
            let charged = money(s, u32::from(d.spend_scale)).ceil().to_integer();
            if let Some(slot) = remaining.iter_mut().find(|(c, _)| c == n) {
                slot.1 -= to_i64(&charged);
            }
        }
        out.push(d);
    }
    let mut tripped = false;
    if let Some(breaker) = policy.breaker() {
        let judged = |d: &&Decision| {
            d.violated
                .iter()
                .any(|r| matches!(r.class(), Class::Hard | Class::Financial))
        };
        let violators = out.iter().filter(judged).count() as i64;
        let n = items.len() as i64;
        let ratio = frac(breaker.max_violation_ratio);
        if n as u64 >= breaker.min_batch && q(violators) > q(n) * ratio {
            tripped = true;
            for (d, item) in out.iter_mut().zip(items) {
                if d.reason != Reason::InvalidInput {
                    let current = item
                        .get(Field::CurrentPrice)
                        .map(|v| money(v, u32::from(item.scale())));
                    let mut h = whole_item(current.as_ref(), Reason::CircuitOpen);
                    h.violated = d.violated;
                    *d = h;
                }
            }
        }
    }
    (out, tripped)
}
