//! Combining rules into a decision (SPEC §5, §6): the hot path.
//!
//! Everything here works on integers in minor units, allocates nothing and
//! cannot panic: arithmetic is done in `i128` on inputs bounded by
//! [`MAX_MONEY`](crate::money::MAX_MONEY), and the few fallible steps fail
//! closed.

use crate::compiled::CompiledRules;
use crate::decision::{Decision, Outcome, Reason};
use crate::item::{Field, Item};
use crate::money::{ceil_to_tick, floor_to_tick, snap_half_even, MAX_MONEY};
use crate::rules::{
    bounds, change, emergency, endings, margin, market, promotion, Class, ClassSet, Rule, RuleSet,
    CLASS_MASKS, RULE_COUNT,
};

/// The most units a forecast may carry.
pub const MAX_UNITS: i64 = 1_000_000_000;

/// What the item's campaign has left, as seen by one evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// The item draws on no campaign.
    None,
    /// The item names a campaign the policy has no budget for.
    Unknown,
    /// Remaining budget in minor units.
    Remaining(i64),
}

const NO_LO: i64 = i64::MIN;
const NO_HI: i64 = i64::MAX;

/// Per-rule bounds for one item. `lo`/`hi` hold `NO_LO`/`NO_HI` for rules
/// that set no bound on that side.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds<const N: usize = RULE_COUNT> {
    lo: [i64; N],
    hi: [i64; N],
    set: u64,
}

#[inline]
fn clamp_i64(v: i128) -> i64 {
    // Bounds beyond ±2^62 are equivalent for every valid price.
    v.clamp(-(1_i128 << 62), 1_i128 << 62) as i64
}

impl<const N: usize> Bounds<N> {
    #[inline]
    fn new() -> Bounds<N> {
        Bounds {
            lo: [NO_LO; N],
            hi: [NO_HI; N],
            set: 0,
        }
    }

    /// Records a lower bound for `rule`.
    #[inline]
    pub(crate) fn lower(&mut self, rule: Rule, v: i128) {
        self.lower_code(rule as usize, v);
    }

    /// Records an upper bound for `rule`.
    #[inline]
    pub(crate) fn upper(&mut self, rule: Rule, v: i128) {
        self.upper_code(rule as usize, v);
    }

    #[inline]
    fn lower_code(&mut self, code: usize, v: i128) {
        if let Some(slot) = self.lo.get_mut(code) {
            *slot = clamp_i64(v);
            self.set |= 1 << code;
        }
    }

    #[inline]
    fn upper_code(&mut self, code: usize, v: i128) {
        if let Some(slot) = self.hi.get_mut(code) {
            *slot = clamp_i64(v);
            self.set |= 1 << code;
        }
    }

    #[inline]
    fn lo_of(&self, code: usize) -> i64 {
        self.lo.get(code).copied().unwrap_or(NO_LO)
    }

    #[inline]
    fn hi_of(&self, code: usize) -> i64 {
        self.hi.get(code).copied().unwrap_or(NO_HI)
    }

    /// `(max lo, min hi, has lo, has hi)` over the rules of `mask`.
    #[inline]
    fn class_bounds(&self, mask: u64) -> (i64, i64, bool, bool) {
        let mut bits = self.set & mask;
        let (mut lo, mut hi) = (NO_LO, NO_HI);
        let (mut has_lo, mut has_hi) = (false, false);
        while bits != 0 {
            let code = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let l = self.lo_of(code);
            let h = self.hi_of(code);
            if l != NO_LO {
                has_lo = true;
                lo = lo.max(l);
            }
            if h != NO_HI {
                has_hi = true;
                hi = hi.min(h);
            }
        }
        (lo, hi, has_lo, has_hi)
    }

    /// Rules whose bound `price` breaks.
    #[inline]
    fn broken_by(&self, price: i64) -> u64 {
        let mut out = 0;
        let mut bits = self.set;
        while bits != 0 {
            let code = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if price < self.lo_of(code) || price > self.hi_of(code) {
                out |= 1 << code;
            }
        }
        out
    }

    /// Rules among `mask` whose bound equals `price`.
    #[inline]
    fn equal_to(&self, price: i64, mask: u64) -> u64 {
        let mut out = 0;
        let mut bits = self.set & mask;
        while bits != 0 {
            let code = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if self.lo_of(code) == price || self.hi_of(code) == price {
                out |= 1 << code;
            }
        }
        out
    }

    /// The first rule code, walking `order`'s kept classes, whose lower
    /// (or upper) bound equals `v`.
    #[inline]
    fn source_of(
        &self,
        v: i64,
        upper: bool,
        order: &[Class; 4],
        kept: ClassSet,
        masks: &[u64; 5],
    ) -> Option<usize> {
        for class in order {
            if !kept.contains(*class) {
                continue;
            }
            let mut bits = self.set & masks.get(*class as usize).copied().unwrap_or(0);
            while bits != 0 {
                let code = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let b = if upper {
                    self.hi_of(code)
                } else {
                    self.lo_of(code)
                };
                if b == v {
                    return Some(code);
                }
            }
        }
        None
    }
}

/// Checks the item's own values (SPEC §6 bad input).
#[inline]
fn validate(item: &Item) -> Result<(), Field> {
    // Fields are checked in SPEC §3 table order, so the first bad one in
    // that order is named, whatever interface read the item.
    let price = |field: Field, v: Option<i64>| match v {
        Some(v) if v <= 0 || v > MAX_MONEY => Err(field),
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
        if !(0..=MAX_MONEY).contains(&c) {
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
            // spends never overflow: R x u <= 2^61 (docs/semantics.md M3).
            if i128::from(r) * i128::from(u) > 1_i128 << 61 {
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
    Ok(())
}

/// Evaluates one item against one segment's compiled rules, given what its
/// campaign has left. Never allocates, never panics.
#[inline]
pub fn evaluate_rules(r: &CompiledRules, item: &Item, budget: Budget) -> Decision {
    evaluate_impl::<RULE_COUNT>(r, item, budget, &[], &CLASS_MASKS)
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
    let mut masks = CLASS_MASKS;
    for (i, rule) in custom.iter().enumerate() {
        let class = match rule.class() {
            Class::Cosmetic => Class::Market,
            c => c,
        };
        if let Some(m) = masks.get_mut(class as usize) {
            *m |= 1 << (CUSTOM_BASE + i);
        }
    }
    evaluate_impl::<64>(r, item, budget, custom, &masks)
}

/// First bit of custom rules in a [`RuleSet`].
pub const CUSTOM_BASE: usize = 32;
/// Most custom rules one evaluation composes.
pub const MAX_CUSTOM_RULES: usize = 32;

/// A bound a custom rule sets for one item, in minor units. The engine
/// rounds it onto the tick in the safe direction (lower up, upper down).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CustomBound {
    /// Lower bound, if any.
    pub lo: Option<i64>,
    /// Upper bound, if any.
    pub hi: Option<i64>,
}

/// A user-defined rule for Rust callers: a stable name, a class, and the
/// bounds it sets for an item. It is relaxed with its class, reported in
/// `violated` / `binding` like a built-in rule, and rules of the stability
/// and market classes are skipped for pinned items, as built-ins are.
///
/// ```
/// use priceguard::engine::{CustomBound, CustomRule};
/// use priceguard::{Class, Item, Policy};
///
/// /// Key-value items (segment 1) are never priced above the competitor.
/// struct NeverAboveCompetitor;
///
/// impl CustomRule for NeverAboveCompetitor {
///     fn name(&self) -> &'static str { "kvi_competitor_ceiling" }
///     fn class(&self) -> Class { Class::Market }
///     fn bounds(&self, item: &Item) -> CustomBound {
///         match (item.segment(), item.competitor_price()) {
///             (Some(1), Some(k)) => CustomBound { lo: None, hi: Some(k) },
///             _ => CustomBound::default(),
///         }
///     }
/// }
///
/// let policy = Policy::from_toml_str(r#"
///     name = "kvi"
///     currency = "USD"
///     bounds = { min_price = "1", max_price = "100" }
/// "#).unwrap();
/// let item = Item::new(1299).with_segment(1).with_competitor_price(1249);
/// let d = policy.evaluate_with(&item, &[&NeverAboveCompetitor]);
/// assert_eq!(d.price, Some(1249));
/// assert_eq!(d.binding.custom_names(&[&NeverAboveCompetitor]).next(), Some("kvi_competitor_ceiling"));
/// ```
pub trait CustomRule {
    /// The stable name reported for this rule.
    fn name(&self) -> &'static str;
    /// The class it belongs to (`Cosmetic` is treated as `Market`).
    fn class(&self) -> Class;
    /// The bounds for `item`, in minor units of the policy currency.
    fn bounds(&self, item: &Item) -> CustomBound;
}

#[inline(always)]
fn evaluate_impl<const N: usize>(
    r: &CompiledRules,
    item: &Item,
    budget: Budget,
    custom: &[&dyn CustomRule],
    masks: &[u64; 5],
) -> Decision {
    if let Err(field) = validate(item) {
        return Decision::invalid(field);
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

    let mut b = Bounds::<N>::new();
    bounds::apply(r, item, &mut b);
    emergency::apply(r, item, &mut b);
    margin::apply(r, item, &mut b);
    promotion::apply(r, item, budget, &mut b);
    if pinned.is_none() {
        change::apply(r, item, &mut b);
        market::apply(r, item, &mut b);
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
        let bound = rule.bounds(item);
        if let Some(v) = bound.lo {
            b.lower_code(CUSTOM_BASE + i, ceil_to_tick(i128::from(v), 1, t));
        }
        if let Some(v) = bound.hi {
            b.upper_code(CUSTOM_BASE + i, floor_to_tick(i128::from(v), 1, t));
        }
    }

    // Walk the classes in priority order, relaxing a class whose bounds
    // would empty the interval (SPEC §5.2). The floor of everything is one tick.
    let (mut lo, mut hi) = (t, NO_HI);
    let mut kept = ClassSet::EMPTY;
    let mut relaxed = ClassSet::EMPTY;
    let mut lower_source = false;
    for class in r.priority {
        let mask = masks.get(class as usize).copied().unwrap_or(0);
        let (cl, ch, has_lo, has_hi) = b.class_bounds(mask);
        if !has_lo && !has_hi {
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
    if lo > MAX_MONEY {
        // Floors above the supported range (a huge cost): no price can be
        // published, and none should be proposed back (M3).
        return Decision::hold_or_reject(current, Reason::Infeasible);
    }

    let stability_kept = kept.contains(Class::Stability);
    let hold = if stability_kept && b.set & (1 << Rule::Cooldown as u8) != 0 {
        Some(Rule::Cooldown)
    } else if stability_kept && b.set & (1 << Rule::MaxChanges as u8) != 0 {
        Some(Rule::MaxChanges)
    } else {
        None
    };

    let snapped = snap_half_even(proposal, t);
    let mut price = snapped.clamp(lo, hi);
    let clamped_lo = snapped < lo;
    let clamped_hi = snapped > hi;

    let mut violated = b.broken_by(proposal);
    let mut binding = 0u64;
    let mut unmet = RuleSet::EMPTY;
    if proposal % t != 0 {
        violated |= 1 << Rule::Tick as u8;
    }

    let mut ending_moved = false;
    if let (Some(e), None) = (r.endings.as_ref(), pinned) {
        if !endings::is_allowed(e, proposal) {
            violated |= 1 << Rule::PriceEnding as u8;
        }
        if hold.is_none() && !endings::is_allowed(e, price) {
            // Ties go to the proposal's side, and to the lower ending when the
            // price is the snapped proposal (R7): compare with the snapped
            // proposal, not the raw one, which may sit off the tick above it.
            match endings::nearest(e, price, lo, hi, snapped > price) {
                Some(p) => {
                    ending_moved = p != price;
                    price = p;
                }
                None => unmet.insert(Rule::PriceEnding),
            }
        }
    }

    let mut min_change_applied = false;
    if let (Some(p), None, None) = (current, pinned, hold) {
        // Not `stability_kept`: with `min_change` as the only stability rule
        // the class sets no bound, so it is neither kept nor relaxed (R6).
        if !relaxed.contains(Class::Stability)
            && change::within_min_change(r, p, price)
            && lo <= p
            && p <= hi
        {
            price = p;
            min_change_applied = true;
            // The ending's move was undone: it no longer decides the price.
            ending_moved = false;
            violated |= 1 << Rule::MinChange as u8;
            binding |= 1 << Rule::MinChange as u8;
        }
    }

    let mut kept_mask = 0u64;
    for class in kept.iter() {
        kept_mask |= masks.get(class as usize).copied().unwrap_or(0);
    }
    binding |= b.equal_to(price, kept_mask);
    if ending_moved {
        binding |= 1 << Rule::PriceEnding as u8;
    }
    if snapped != proposal && price == snapped {
        binding |= 1 << Rule::Tick as u8;
    }
    if pinned == Some(price) {
        binding |= 1 << Rule::Pinned as u8;
    }

    let (outcome, reason) = if price == item.proposed_price() {
        (Outcome::Accepted, Reason::None)
    } else if let Some(rule) = hold {
        // A kept hold pins the interval to [P, P], so the price is P.
        (Outcome::Held, Reason::Rule(rule))
    } else if min_change_applied {
        (Outcome::Held, Reason::Rule(Rule::MinChange))
    } else {
        let source = if clamped_lo {
            b.source_of(lo, false, &r.priority, kept, masks)
        } else if clamped_hi {
            b.source_of(hi, true, &r.priority, kept, masks)
        } else {
            None
        };
        let reason = match source {
            Some(code) if code >= CUSTOM_BASE => {
                Reason::Custom(u8::try_from(code - CUSTOM_BASE).unwrap_or(u8::MAX))
            }
            Some(code) => Reason::Rule(
                u8::try_from(code)
                    .ok()
                    .and_then(Rule::from_code)
                    .unwrap_or(Rule::Tick),
            ),
            None if ending_moved => Reason::Rule(Rule::PriceEnding),
            None if pinned.is_some() => Reason::Rule(Rule::Pinned),
            None => Reason::Rule(Rule::Tick),
        };
        (Outcome::Adjusted, reason)
    };

    let needs_approval = match (r.max_auto_change, current) {
        (Some(limit), Some(p)) if outcome != Outcome::Held => {
            let diff = (i128::from(price) - i128::from(p)).abs();
            diff * limit.d() > limit.n() * i128::from(p)
        }
        _ => false,
    };

    Decision {
        outcome,
        reason,
        price: Some(price),
        lower: Some(lo),
        upper: if hi == NO_HI { None } else { Some(hi) },
        violated: RuleSet(violated),
        binding: RuleSet(binding),
        unmet,
        relaxed,
        promo_spend: promotion::spend(item, price),
        needs_approval,
        invalid_field: None,
    }
}
