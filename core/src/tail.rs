//! The decision's tail, written once for every evaluator that decides one
//! item at a time (the general engine and the row kernel): given the
//! interval the relaxation walk kept and the hold that decides, snap the
//! proposal, clamp it, move it to an allowed ending, apply `min_change`,
//! name the binding rules and the source rule, and assemble the
//! [`Decision`] (docs/spec.md §5.4 to §5.6, §6).
//!
//! What differs between evaluators is only how they know their bounds:
//! the engine keeps them per class ([`Bounds`](crate::rules::Bounds)),
//! the kernel collects them again when a decision names them. [`Ends`]
//! is that difference; the endings' arithmetic ([`EndingCheck`]) is the
//! other.

use crate::compiled::{Endings, Ratio};
use crate::decision::{outcome_of, Decision, Outcome, Reason};
use crate::item::Field;
use crate::money::snap_half_even;
use crate::rules::{change, endings, mask, promotion, Class, ClassSet, Row, Rule, RuleSet, NO_HI};

/// The rules at the kept interval's ends, as an evaluator knows them.
pub(crate) trait Ends {
    /// The rules whose bound the judged price breaks and the kept rules
    /// whose bound is `lo` and `hi`, in that order. Asked only when the
    /// decision names rules (see [`finish`]).
    fn name(&mut self, lo: i64, hi: i64) -> (u64, u64, u64);
    /// The rules the judged price breaks when it lies strictly inside the
    /// interval: none of a kept class, so only relaxed classes' rules.
    fn violated_inside(&self) -> u64;
    /// The source rule on the clamped side, the end `v` (`upper` for
    /// `hi`), as the decision's reason: the first kept class in priority
    /// order with a rule at that end, its lowest code. `at` is that end's
    /// rules from [`Ends::name`].
    fn source(&self, at: u64, v: i64, upper: bool) -> Option<Reason>;
}

/// How an evaluator checks the policy's price endings.
pub(crate) trait EndingCheck {
    /// Whether `price` ends in an allowed ending.
    fn allowed(&self, price: i64) -> bool;
    /// The allowed price in `[lo, hi]` nearest `price`, ties up when
    /// `prefer_up`; `None` when no allowed price is in the interval.
    fn nearest(&self, price: i64, lo: i64, hi: i64, prefer_up: bool) -> Option<i64>;
}

/// One item's state once the walk has kept `[lo, hi]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tail {
    /// The price the rules judge: the pin, else the proposal.
    pub(crate) judged: i64,
    pub(crate) pinned: bool,
    pub(crate) tick: i64,
    pub(crate) lo: i64,
    /// `NO_HI` when nothing bounds the price from above.
    pub(crate) hi: i64,
    /// The kept hold rule that decides, if any.
    pub(crate) hold: Option<Rule>,
    pub(crate) relaxed: ClassSet,
    /// Rules the walk found it could not meet (a cap below its class's
    /// floors).
    pub(crate) unmet: u64,
}

/// The policy's parameters the tail reads, kept together so that an
/// evaluator hands them over by reference.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TailRules {
    /// `change.min_change`.
    pub(crate) min_change: Option<Ratio>,
    /// `approval.max_auto_change`.
    pub(crate) max_auto_change: Option<Ratio>,
}

/// The decision for `s` (see the module's documentation). `endings` is
/// the policy's, unless the item is pinned (pins bypass them).
#[inline(always)]
pub(crate) fn finish(
    s: Tail,
    rules: &TailRules,
    row: &impl Row,
    ends: &mut impl Ends,
    endings: Option<&impl EndingCheck>,
) -> Decision {
    let Tail {
        judged: p,
        pinned,
        tick: t,
        lo,
        hi,
        hold,
        relaxed,
        unmet,
    } = s;
    // The outcome compares the price with the proposal, not the pin.
    let proposed = row.p();
    let current = row.get(Field::CurrentPrice);
    let snapped = if t == 1 { p } else { snap_half_even(p, t) };
    // lo <= hi (the walk keeps only non-empty intervals): clamp without
    // its panicking check.
    let mut price = snapped.max(lo).min(hi);
    let clamped_lo = snapped < lo;
    let clamped_hi = snapped > hi;
    let mut violated = 0u64;
    let mut binding = 0u64;
    let mut unmet = unmet;
    if t != 1 && p % t != 0 {
        violated |= 1 << Rule::Tick as u8;
    }

    // Endings come after clamping (R7): the nearest allowed ending in the
    // interval, ties to the proposal's side; none is `unmet`.
    let mut ending_moved = false;
    if let Some(e) = endings {
        let p_allowed = e.allowed(p);
        if !p_allowed {
            violated |= 1 << Rule::PriceEnding as u8;
        }
        let allowed = if price == p {
            p_allowed
        } else {
            e.allowed(price)
        };
        if hold.is_none() && !allowed {
            // Ties go to the proposal's side, and to the lower ending when
            // the price is the snapped proposal: compare with the snapped
            // proposal, not the raw one, which may sit off the tick above it.
            match e.nearest(price, lo, hi, snapped > price) {
                Some(x) => {
                    ending_moved = x != price;
                    price = x;
                }
                None => unmet |= 1 << Rule::PriceEnding as u8,
            }
        }
    }

    let mut min_change_applied = false;
    if let (Some(cur), Some(band), false, None) = (current, rules.min_change, pinned, hold) {
        // Not "stability kept": with `min_change` as the only stability
        // rule the class sets no bound, so it is neither kept nor relaxed
        // (R6). A branch, not a select: most moves are outside the band.
        if !relaxed.contains(Class::Stability)
            && lo <= cur
            && cur <= hi
            && change::within_band(band, cur, price)
        {
            price = cur;
            min_change_applied = true;
            // The ending's move was undone: it no longer decides the price.
            ending_moved = false;
            let bit = 1u64 << Rule::MinChange as u8;
            violated |= bit;
            binding |= bit;
        }
    }

    // Kept classes' bounds are within [lo, hi], so a rule's bound can
    // equal the price only if it equals the interval's own bound: the
    // rules at `lo` and `hi`, once, give `binding` and the source rule.
    // A judged price strictly inside the interval breaks no kept rule,
    // and when neither it nor the price touches an end and nothing was
    // clamped, no rule is named and the evaluator need not find them.
    let (mut lo_rules, mut hi_rules) = (0u64, 0u64);
    let inside = (lo < p) & (p < hi) & (lo < price) & (price < hi);
    if inside & !clamped_lo & !clamped_hi {
        violated |= ends.violated_inside();
    } else {
        let (v, l, h) = ends.name(lo, hi);
        violated |= v;
        lo_rules = l;
        hi_rules = h;
        binding |= lo_rules & mask(price == lo);
        binding |= hi_rules & mask(price == hi);
    }
    // Back at P through `min_change`, the snap no longer decides the price
    // either (C6): an ending had moved it off the snapped value.
    binding |=
        (1 << Rule::Tick as u8) & mask((snapped != p) & (price == snapped) & !min_change_applied);
    binding |= (1 << Rule::PriceEnding as u8) & mask(ending_moved);
    binding |= (1 << Rule::Pinned as u8) & mask(pinned & (price == p));

    // The common case first: an accepted price names no rule, and the
    // source closure's captures need not be built for it.
    let (outcome, reason) = if price == proposed {
        (Outcome::Accepted, Reason::None)
    } else {
        outcome_of(price, proposed, hold, min_change_applied, || {
            let source = if clamped_lo {
                ends.source(lo_rules, lo, false)
            } else if clamped_hi {
                ends.source(hi_rules, hi, true)
            } else {
                None
            };
            match source {
                Some(reason) => reason,
                None if ending_moved => Reason::Rule(Rule::PriceEnding),
                None if pinned => Reason::Rule(Rule::Pinned),
                None => Reason::Rule(Rule::Tick),
            }
        })
    };

    let needs_approval = match (rules.max_auto_change, current) {
        (Some(limit), Some(cur)) if outcome != Outcome::Held => {
            change::needs_approval(limit, cur, price)
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
        unmet: RuleSet(unmet),
        relaxed,
        promo_spend: promotion::spend_of(
            row.get(Field::ReferencePrice),
            row.get(Field::ExpectedUnits),
            price,
        ),
        spend_scale: 0,
        needs_approval,
        invalid_field: None,
        lawful_reference: None,
    }
}

impl EndingCheck for Endings {
    #[inline]
    fn allowed(&self, price: i64) -> bool {
        endings::is_allowed(self, price)
    }

    #[inline]
    fn nearest(&self, price: i64, lo: i64, hi: i64, prefer_up: bool) -> Option<i64> {
        endings::nearest(self, price, lo, hi, prefer_up)
    }
}
