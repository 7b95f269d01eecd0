//! Combining rules into a decision (SPEC §5, §6): the hot path.
//!
//! Everything here works on integers in minor units, allocates nothing and
//! cannot panic: arithmetic is done in `i128` on inputs bounded by
//! [`MAX_MONEY`], and the few fallible steps fail
//! closed.

use crate::compiled::CompiledRules;
use crate::decision::{Decision, Outcome, Reason};
use crate::item::{Field, Item};
use crate::money::{ceil_money_to_tick, floor_money_to_tick, snap_half_even, wide_mul, MAX_MONEY};
use crate::rules::{
    bounds, change, emergency, endings, margin, market, promotion, Class, ClassSet, Rule, RuleSet,
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

pub(crate) const NO_LO: i64 = i64::MIN;
pub(crate) const NO_HI: i64 = i64::MAX;

/// All ones when `c`, else zero.
#[inline(always)]
pub(crate) fn mask(c: bool) -> u64 {
    u64::from(c).wrapping_neg()
}

/// The bounds one item's rules set, folded as they are recorded: per class
/// the tightest lower and upper bound and the rules attaining them, the
/// rules that set any bound, and the rules the proposal breaks. Nothing is
/// scanned afterwards: the relaxation walk, `violated`, `binding` and the
/// reason's source rule all read these few words (see `binding_at`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds {
    /// The price the rules are checked against (the pin, else the proposal).
    pub(crate) proposal: i64,
    /// Rules that set a bound.
    pub(crate) set: u64,
    /// Rules whose bound `proposal` breaks.
    pub(crate) violated: u64,
    /// Per class (indexed by `Class as usize`): max lower bound, `NO_LO` if none.
    pub(crate) lo: [i64; 5],
    /// Per class: min upper bound, `NO_HI` if none.
    pub(crate) hi: [i64; 5],
    /// Per class: the rules whose lower bound equals `lo`.
    pub(crate) lo_at: [u64; 5],
    /// Per class: the rules whose upper bound equals `hi`.
    pub(crate) hi_at: [u64; 5],
}

impl Bounds {
    #[inline]
    pub(crate) fn new(proposal: i64) -> Bounds {
        Bounds {
            proposal,
            set: 0,
            violated: 0,
            lo: [NO_LO; 5],
            hi: [NO_HI; 5],
            lo_at: [0; 5],
            hi_at: [0; 5],
        }
    }

    /// Records a lower bound (already clamped to ±2^62) for `rule`.
    #[inline(always)]
    pub(crate) fn lower(&mut self, rule: Rule, v: i64) {
        self.lower_code(rule as usize, rule.class(), v);
    }

    /// Records an upper bound (already clamped to ±2^62) for `rule`.
    #[inline(always)]
    pub(crate) fn upper(&mut self, rule: Rule, v: i64) {
        self.upper_code(rule as usize, rule.class(), v);
    }

    // Branch-free: which bound is tightest is data, and data branches
    // mispredict; these compile to compares and masks.
    #[inline(always)]
    fn lower_code(&mut self, code: usize, class: Class, v: i64) {
        let bit = 1u64 << (code & 63);
        self.set |= bit;
        self.violated |= bit & mask(self.proposal < v);
        let c = class as usize;
        if let (Some(lo), Some(at)) = (self.lo.get_mut(c), self.lo_at.get_mut(c)) {
            let gt = mask(v > *lo);
            let eq = mask(v == *lo);
            *at = (*at & !gt) | (bit & (gt | eq));
            *lo = (*lo).max(v);
        }
    }

    #[inline(always)]
    fn upper_code(&mut self, code: usize, class: Class, v: i64) {
        let bit = 1u64 << (code & 63);
        self.set |= bit;
        self.violated |= bit & mask(self.proposal > v);
        let c = class as usize;
        if let (Some(hi), Some(at)) = (self.hi.get_mut(c), self.hi_at.get_mut(c)) {
            let lt = mask(v < *hi);
            let eq = mask(v == *hi);
            *at = (*at & !lt) | (bit & (lt | eq));
            *hi = (*hi).min(v);
        }
    }

    /// `(max lo, min hi)` of `class`'s rules (`NO_LO` / `NO_HI` when none).
    #[inline(always)]
    fn class_bounds(&self, class: Class) -> (i64, i64) {
        let c = class as usize;
        (
            self.lo.get(c).copied().unwrap_or(NO_LO),
            self.hi.get(c).copied().unwrap_or(NO_HI),
        )
    }

    /// Rules of the `kept` classes with a bound equal to `price`, for a price
    /// inside the kept interval `[lo, hi]`. Every kept rule's lower bound is
    /// at most its class's, which is at most `lo <= price`, so it equals
    /// `price` exactly when it attains its class's bound and that equals
    /// `price`; likewise above.
    #[inline]
    fn binding_at(&self, price: i64, kept: ClassSet) -> u64 {
        let mut out = 0;
        for c in 0..4 {
            if kept.0 & (1 << c) == 0 {
                continue;
            }
            if self.lo.get(c).copied() == Some(price) {
                out |= self.lo_at.get(c).copied().unwrap_or(0);
            }
            if self.hi.get(c).copied() == Some(price) {
                out |= self.hi_at.get(c).copied().unwrap_or(0);
            }
        }
        out
    }

    /// The first rule code, walking `order`'s kept classes, whose lower
    /// (or upper) bound equals `v`, the kept interval's own bound.
    #[inline]
    fn source_of(&self, v: i64, upper: bool, order: &[Class; 4], kept: ClassSet) -> Option<usize> {
        for class in order {
            if !kept.contains(*class) {
                continue;
            }
            let c = *class as usize;
            let (b, at) = if upper {
                (self.hi.get(c), self.hi_at.get(c))
            } else {
                (self.lo.get(c), self.lo_at.get(c))
            };
            if b.copied() == Some(v) {
                if let Some(&at) = at {
                    if at != 0 {
                        return Some(at.trailing_zeros() as usize);
                    }
                }
            }
        }
        None
    }
}

/// Whether every value of the item is in range: one pass with no early
/// exit, so that the usual valid item costs a few compares. When it says
/// no, [`validate_ordered`] names the first bad field in SPEC order.
#[inline(always)]
fn quick_valid(item: &Item) -> bool {
    // 1 <= v <= MAX_MONEY as one unsigned compare.
    let price = |v: i64| (v.wrapping_sub(1) as u64) < MAX_MONEY as u64;
    let opt_price = |v: Option<i64>| v.is_none_or(price);
    let opt_not_negative = |v: Option<i64>| v.is_none_or(|v| v >= 0);
    let mut ok = price(item.proposed_price());
    if item.presence() == 0 {
        return ok;
    }
    ok &= opt_price(item.current_price());
    ok &= item
        .unit_cost()
        .is_none_or(|c| (c as u64) <= MAX_MONEY as u64);
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
    ok
}

/// Checks the item's own values (SPEC §6 bad input).
#[inline]
fn validate(item: &Item) -> Result<(), Field> {
    if quick_valid(item) {
        return Ok(());
    }
    validate_ordered(item)
}

/// Names the first bad field in SPEC §3 order.
#[cold]
#[inline(never)]
fn validate_ordered(item: &Item) -> Result<(), Field> {
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
fn evaluate_impl(
    r: &CompiledRules,
    item: &Item,
    budget: Budget,
    custom: &[&dyn CustomRule],
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

    let mut b = Bounds::new(proposal);
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
    // would empty the interval (SPEC §5.2). The floor of everything is one tick.
    let (mut lo, mut hi) = (t, NO_HI);
    let mut kept = ClassSet::EMPTY;
    let mut relaxed = ClassSet::EMPTY;
    let mut lower_source = false;
    for class in r.priority {
        let (cl, ch) = b.class_bounds(class);
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

    let mut violated = b.violated;
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

    binding |= b.binding_at(price, kept);
    if ending_moved {
        binding |= 1 << Rule::PriceEnding as u8;
    }
    // Back at P through `min_change`, the snap no longer decides the price
    // either (C6): an ending had moved it off the snapped value.
    if snapped != proposal && price == snapped && !min_change_applied {
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
            b.source_of(lo, false, &r.priority, kept)
        } else if clamped_hi {
            b.source_of(hi, true, &r.priority, kept)
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
            // |price - p| < 2^63 (both in 0..=2^62), so the products are exact.
            let diff = (price - p).abs();
            wide_mul(diff, limit.den) > wide_mul(limit.num, p)
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
