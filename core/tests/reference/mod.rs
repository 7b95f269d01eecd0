//! A reference evaluator, for tests only.
//!
//! Written for obviousness, not speed, straight from `docs/spec.md`
//! (section numbers in the comments). It reads the
//! policy's parameters through `Policy::rules_for` and `Policy::budget`,
//! and computes everything else itself with exact rationals
//! (`BigRational`): no engine code is called or copied. Differential tests
//! compare it with the engine field by field.

#![allow(dead_code)]

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use priceguard::{
    Class, ClassSet, CompiledRules, Decision, Field, Item, Outcome, Policy, Ratio, Reason, Rule,
    RuleSet, MAX_MONEY,
};

type Q = BigRational;

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

/// docs/spec.md §2 `ceil_T(x)`: the least multiple of the tick that is >= x.
fn ceil_t(x: &Q, tick: i64) -> i64 {
    let k = (x / q(tick)).ceil().to_integer();
    to_i64(&(k * BigInt::from(tick)))
}

/// docs/spec.md §2 `floor_T(x)`: the greatest multiple of the tick that is <= x.
fn floor_t(x: &Q, tick: i64) -> i64 {
    let k = (x / q(tick)).floor().to_integer();
    to_i64(&(k * BigInt::from(tick)))
}

/// docs/spec.md §2: the nearest multiple of the tick, ties to the even multiple.
fn snap_half_even(x: i64, tick: i64) -> i64 {
    let v = q(x) / q(tick);
    let down = v.floor().to_integer();
    let rest = v - Q::from_integer(down.clone());
    let half = Q::new(BigInt::from(1), BigInt::from(2));
    let down_is_even = (&down % BigInt::from(2)).is_zero();
    let up = rest > half || (rest == half && !down_is_even);
    let k = if up { down + 1 } else { down };
    to_i64(&(k * BigInt::from(tick)))
}

/// docs/spec.md §6 bad input, docs/spec.md M3: the first field out of range, walking
/// `proposed_price` and then the docs/spec.md §3 table in its order.
fn first_invalid(item: &Item) -> Option<Field> {
    let price_ok = |v: i64| v > 0 && v <= MAX_MONEY;
    if !price_ok(item.proposed_price()) {
        return Some(Field::ProposedPrice);
    }
    type Check<'a> = (Field, Option<i64>, &'a dyn Fn(i64) -> bool);
    let checks: [Check; 14] = [
        (Field::CurrentPrice, item.current_price(), &price_ok),
        (Field::UnitCost, item.unit_cost(), &|v| {
            (0..=MAX_MONEY).contains(&v)
        }),
        (Field::MinPrice, item.min_price(), &price_ok),
        (Field::MaxPrice, item.max_price(), &price_ok),
        (Field::MapPrice, item.map_price(), &price_ok),
        (Field::ReferencePrice, item.reference_price(), &price_ok),
        (Field::ExpectedUnits, item.expected_units(), &|u| {
            let in_range = (1..=1_000_000_000).contains(&u);
            // reference_price x expected_units <= 2^61
            let product_ok = match item.reference_price() {
                Some(r) => i128::from(r) * i128::from(u) <= 1_i128 << 61,
                None => true,
            };
            in_range && product_ok
        }),
        (Field::Now, item.now(), &|v| v >= 0),
        (Field::LastChangeAt, item.last_change_at(), &|v| v >= 0),
        (Field::ChangesInWindow, item.changes_in_window(), &|v| {
            v >= 0
        }),
        (
            Field::WindowAnchorPrice,
            item.window_anchor_price(),
            &price_ok,
        ),
        (Field::BaselinePrice, item.baseline_price(), &price_ok),
        (Field::CompetitorPrice, item.competitor_price(), &price_ok),
        (Field::PinnedPrice, item.pinned_price(), &price_ok),
    ];
    for (field, value, ok) in checks {
        if let Some(v) = value {
            if !ok(v) {
                return Some(field);
            }
        }
    }
    None
}

/// A decision for the whole item, with no interval (C7): held at the
/// current price, or rejected for a new listing (C2).
fn whole_item(current: Option<i64>, reason: Reason) -> Decision {
    Decision {
        outcome: if current.is_some() {
            Outcome::Held
        } else {
            Outcome::Rejected
        },
        reason,
        price: current,
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
    }
}

/// One rule's bound (a hold is the bound `[P, P]`, R5).
#[derive(Clone, Copy, Debug)]
struct Bound {
    rule: Rule,
    lo: Option<i64>,
    hi: Option<i64>,
}

impl Bound {
    fn broken_by(&self, x: i64) -> bool {
        self.lo.is_some_and(|lo| x < lo) || self.hi.is_some_and(|hi| x > hi)
    }

    fn equals(&self, x: i64) -> bool {
        self.lo == Some(x) || self.hi == Some(x)
    }
}

/// Campaign state the reference sees for one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CampaignBudget {
    /// The item names no campaign.
    NoCampaign,
    /// The item names a campaign the policy does not budget.
    Unknown,
    /// What is left of its budget.
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

/// Every rule's bound for the item (docs/spec.md §4, docs/spec.md R1-R5).
fn rule_bounds(r: &CompiledRules, item: &Item, remaining: Option<(i64, i64)>) -> Vec<Bound> {
    let t = r.tick;
    let mut out = Vec::new();
    let mut add = |rule: Rule, lo: Option<i64>, hi: Option<i64>| out.push(Bound { rule, lo, hi });

    // hard
    let min = [r.min_price, item.min_price()].into_iter().flatten().max();
    if let Some(m) = min {
        add(Rule::MinPrice, Some(ceil_t(&q(m), t)), None);
    }
    let max = [r.max_price, item.max_price()].into_iter().flatten().min();
    if let Some(m) = max {
        add(Rule::MaxPrice, None, Some(floor_t(&q(m), t)));
    }
    if let Some(m) = item.map_price() {
        add(Rule::Map, Some(ceil_t(&q(m), t)), None);
    }
    if let (Some(cap), Some(b)) = (r.emergency_cap, item.baseline_price()) {
        let hi = q(b) * (q(1) + frac(cap));
        add(Rule::EmergencyCap, None, Some(floor_t(&hi, t)));
    }

    // financial
    if let Some(c) = item.unit_cost() {
        let c = q(c);
        if let Some(m) = r.min_margin {
            add(
                Rule::Margin,
                Some(ceil_t(&(&c / (q(1) - frac(m))), t)),
                None,
            );
        }
        if let Some(k) = r.min_markup {
            add(
                Rule::Markup,
                Some(ceil_t(&(&c * (q(1) + frac(k))), t)),
                None,
            );
        }
        if let Some(u) = r.min_unit_margin {
            add(Rule::UnitMargin, Some(ceil_t(&(&c + q(u)), t)), None);
        }
        // R10: a markup over a zero cost is undefined, so no cap.
        if let Some(k) = r.max_markup.filter(|_| c > q(0)) {
            add(
                Rule::MaxMarkup,
                None,
                Some(floor_t(&(&c * (q(1) + frac(k))), t)),
            );
        }
    }
    if let Some(rp) = item.reference_price() {
        if let Some(d) = r.max_discount {
            add(
                Rule::MaxDiscount,
                Some(ceil_t(&(q(rp) * (q(1) - frac(d))), t)),
                None,
            );
        }
        if let Some((b, u)) = remaining {
            // R2: lo = ceil_T((R x u - B) / u)
            let lo = (q(rp) * q(u) - q(b)) / q(u);
            add(Rule::PromoBudget, Some(ceil_t(&lo, t)), None);
        }
    }

    // R8: a pin bypasses stability and market
    if item.pinned_price().is_some() {
        return out;
    }

    // stability: needs the current price (R1)
    if let Some(p) = item.current_price() {
        let pq = q(p);
        if let Some(up) = r.max_increase {
            add(
                Rule::MaxIncrease,
                None,
                Some(floor_t(&(&pq * (q(1) + frac(up))), t)),
            );
        }
        if let Some(down) = r.max_decrease {
            add(
                Rule::MaxDecrease,
                Some(ceil_t(&(&pq * (q(1) - frac(down))), t)),
                None,
            );
        }
        if let Some(step) = r.max_step {
            // R3
            add(
                Rule::MaxStep,
                Some(ceil_t(&(&pq - q(step)), t)),
                Some(floor_t(&(&pq + q(step)), t)),
            );
        }
        // R4: against the anchor, or P without one
        let w = q(item.window_anchor_price().unwrap_or(p));
        if let Some(up) = r.window_increase {
            add(
                Rule::WindowIncrease,
                None,
                Some(floor_t(&(&w * (q(1) + frac(up))), t)),
            );
        }
        if let Some(down) = r.window_decrease {
            add(
                Rule::WindowDecrease,
                Some(ceil_t(&(&w * (q(1) - frac(down))), t)),
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
                    add(Rule::Cooldown, Some(p), Some(p));
                }
            }
        }
        if let Some(max) = r.max_changes {
            if item.changes_in_window().unwrap_or(0) >= max {
                add(Rule::MaxChanges, Some(p), Some(p));
            }
        }
    }

    // market: needs the competitor price
    if let Some(k) = item.competitor_price() {
        if let Some(i) = r.min_index {
            add(
                Rule::CompetitorFloor,
                Some(ceil_t(&(q(k) * frac(i)), t)),
                None,
            );
        }
        if let Some(i) = r.max_index {
            add(
                Rule::CompetitorCeiling,
                None,
                Some(floor_t(&(q(k) * frac(i)), t)),
            );
        }
    }
    out
}

/// Whether `x` ends in an allowed residue (R7).
fn allowed_ending(r: &CompiledRules, x: i64) -> bool {
    match &r.endings {
        None => true,
        Some(e) => e.residues().contains(&x.rem_euclid(e.modulus)),
    }
}

/// Evaluates one item given what its campaign has left.
pub fn evaluate_with(policy: &Policy, item: &Item, budget: CampaignBudget) -> Decision {
    // I2: unknown segments use the policy's own rules
    let r = policy.rules_for(item.segment());
    let t = r.tick;
    let current = item.current_price();

    // C1, in order
    if let Some(field) = first_invalid(item) {
        let mut d = whole_item(None, Reason::InvalidInput);
        d.invalid_field = Some(field);
        return d;
    }
    if r.freeze {
        return whole_item(current, Reason::Freeze);
    }
    let cost_rules = r.min_margin.is_some()
        || r.min_markup.is_some()
        || r.max_markup.is_some()
        || r.min_unit_margin.is_some();
    if cost_rules && item.unit_cost().is_none() {
        return whole_item(current, Reason::MissingCost);
    }
    if r.emergency_cap.is_some() && item.baseline_price().is_none() {
        return whole_item(current, Reason::Rule(Rule::EmergencyCap));
    }
    // I1: a campaign matters only for an item on promotion
    let on_promotion = item.reference_price().is_some();
    let mut draws = None; // (remaining budget, expected units)
    if on_promotion && item.campaign().is_some() {
        match (budget, item.expected_units()) {
            (CampaignBudget::Remaining(b), Some(u)) => draws = Some((b, u)),
            _ => return whole_item(current, Reason::Rule(Rule::PromoBudget)),
        }
    }

    let pinned = item.pinned_price();
    let proposal = pinned.unwrap_or(item.proposed_price());
    let bounds = rule_bounds(r, item, draws);
    // R10: inside the financial class the floors win; caps below the
    // class's largest floor yield (the tightest is reported unmet) and
    // take no part in the walk.
    let financial = |b: &&Bound| b.rule.class() == Class::Financial;
    let fin_lo = bounds.iter().filter(financial).filter_map(|b| b.lo).max();
    let fin_hi = bounds.iter().filter(financial).filter_map(|b| b.hi).min();
    let mut yielded = RuleSet::EMPTY;
    let walk_bounds: Vec<Bound> = match (fin_lo, fin_hi) {
        (Some(l), Some(h)) if l > h => {
            for b in bounds.iter().filter(financial) {
                if b.hi == Some(h) {
                    yielded.insert(b.rule);
                }
            }
            bounds
                .iter()
                .filter(|b| !(b.rule.class() == Class::Financial && b.hi.is_some()))
                .copied()
                .collect()
        }
        _ => bounds.clone(),
    };

    // docs/spec.md §5.1-5.3: walk the classes in priority order from [one tick, +inf)
    let mut lo = t;
    let mut hi: Option<i64> = None;
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
        let class_lo = of_class.iter().filter_map(|b| b.lo).max();
        let class_hi = of_class.iter().filter_map(|b| b.hi).min();
        let new_lo = lo.max(class_lo.unwrap_or(lo));
        let new_hi = match (hi, class_hi) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let empty = new_hi.is_some_and(|h| new_lo > h);
        if !empty {
            lo = new_lo;
            hi = new_hi;
            kept.push(class);
        } else if class == Class::Hard {
            return whole_item(current, Reason::Infeasible);
        } else {
            relaxed.insert(class);
        }
    }
    let in_kept = |b: &&Bound| kept.contains(&b.rule.class());
    let kept_bounds: Vec<&Bound> = walk_bounds.iter().filter(in_kept).collect();

    // docs/spec.md §8: a campaign item whose financial class was relaxed is held
    if draws.is_some() && relaxed.contains(Class::Financial) {
        return whole_item(current, Reason::Rule(Rule::PromoBudget));
    }
    // C3: no upper bound, or no lower bound source, among the kept classes
    let has_upper = kept_bounds.iter().any(|b| b.hi.is_some());
    let has_lower = kept_bounds.iter().any(|b| b.lo.is_some());
    let bounded = has_upper && has_lower;
    if !r.allow_unbounded && !bounded {
        return whole_item(current, Reason::Unbounded);
    }
    // M3: a floor above the supported money range publishes nothing
    if lo > MAX_MONEY {
        return whole_item(current, Reason::Infeasible);
    }

    // docs/spec.md §5.4: a kept hold decides the price (cooldown before max_changes)
    let hold = [Rule::Cooldown, Rule::MaxChanges]
        .into_iter()
        .find(|rule| kept_bounds.iter().any(|b| b.rule == *rule));

    // docs/spec.md §2 and §5.5: snap, then clamp
    let snapped = snap_half_even(proposal, t);
    let mut price = snapped.max(lo);
    if let Some(h) = hi {
        price = price.min(h);
    }
    let clamped_up = snapped < lo;
    let clamped_down = hi.is_some_and(|h| snapped > h);

    // C6 violated: every rule (kept or relaxed) the proposal breaks
    let mut violated = RuleSet::EMPTY;
    for b in &bounds {
        if b.broken_by(proposal) {
            violated.insert(b.rule);
        }
    }
    if proposal % t != 0 {
        violated.insert(Rule::Tick);
    }

    // R7 endings: not for pins, not for held prices
    let mut unmet = yielded;
    let mut ending_moved = false;
    if r.endings.is_some() && pinned.is_none() {
        if !allowed_ending(r, proposal) {
            violated.insert(Rule::PriceEnding);
        }
        if hold.is_none() && !allowed_ending(r, price) {
            let e = r
                .endings
                .as_ref()
                .map(|e| (e.modulus, e.residues().to_vec()));
            let (m, residues) = e.unwrap_or((1, Vec::new()));
            // nearest allowed at or below, and at or above, the price
            let below = residues
                .iter()
                .map(|a| price - (price - a).rem_euclid(m))
                .max();
            let above = residues
                .iter()
                .map(|a| price + (a - price).rem_euclid(m))
                .min();
            let below = below.filter(|x| *x >= lo);
            let above = above.filter(|x| hi.is_none_or(|h| *x <= h));
            let choice = match (below, above) {
                (None, None) => None,
                (Some(b), None) => Some(b),
                (None, Some(a)) => Some(a),
                (Some(b), Some(a)) => {
                    let (db, da) = (price - b, a - price);
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
    if let (Some(p), Some(band), None, None) = (current, r.min_change, pinned, hold) {
        let p_inside = p >= lo && hi.is_none_or(|h| p <= h);
        let moved = (q(price) - q(p)).abs();
        let small = moved > q(0) && moved < q(p) * frac(band);
        if !relaxed.contains(Class::Stability) && p_inside && small {
            price = p;
            min_change_applied = true;
            violated.insert(Rule::MinChange);
        }
    }

    // C6 binding: kept rules whose bound equals the price, and what moved it
    let mut binding = RuleSet::EMPTY;
    for b in &kept_bounds {
        if b.equals(price) {
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
    if pinned == Some(price) {
        binding.insert(Rule::Pinned);
    }

    // C4 outcome, C5 reason
    let (outcome, reason) = if price == item.proposed_price() {
        (Outcome::Accepted, Reason::None)
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
                            b.lo == Some(lo)
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
    let needs_approval = match (r.max_auto_change, current) {
        (Some(limit), Some(p)) if matches!(outcome, Outcome::Accepted | Outcome::Adjusted) => {
            (q(price) - q(p)).abs() > q(p) * frac(limit)
        }
        _ => false,
    };

    // R2 spend: max(0, R - price) x u
    let promo_spend = match (item.reference_price(), item.expected_units()) {
        (Some(rp), Some(u)) => {
            let s = (q(rp) - q(price)).max(q(0)) * q(u);
            Some(to_i64(&s.to_integer()))
        }
        _ => None,
    };

    Decision {
        outcome,
        reason,
        price: Some(price),
        lower: Some(lo),
        upper: hi,
        violated,
        binding,
        unmet,
        relaxed,
        promo_spend,
        spend_scale: 0,
        needs_approval,
        invalid_field: None,
    }
}

/// A reference batch (docs/spec.md §7, B1, B2): budgets consumed in input order by
/// accepted and adjusted campaign items; the breaker judged on the whole.
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
            if let Some(slot) = remaining.iter_mut().find(|(c, _)| c == n) {
                slot.1 -= s;
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
                    let mut h = whole_item(item.current_price(), Reason::CircuitOpen);
                    h.violated = d.violated;
                    *d = h;
                }
            }
        }
    }
    (out, tripped)
}
