//! The bounds one item's rules set, as every rule family records them and
//! every evaluator reads them; and what a rule may know of its campaign.

use super::{BoundSink, Class, ClassSet, Rule};

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
/// reason's source rule all read these few words (see `rules_at`).
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

    // Branch-free: which bound is tightest is data, and data branches
    // mispredict; these compile to compares and masks.
    #[inline(always)]
    pub(crate) fn lower_code(&mut self, code: usize, class: Class, v: i64) {
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
    pub(crate) fn upper_code(&mut self, code: usize, class: Class, v: i64) {
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
    pub(crate) fn class_bounds(&self, class: Class) -> (i64, i64) {
        let c = class as usize;
        (
            self.lo.get(c).copied().unwrap_or(NO_LO),
            self.hi.get(c).copied().unwrap_or(NO_HI),
        )
    }

    /// Rules of the `kept` classes whose lower (or upper) bound is `v`,
    /// the kept interval's own bound: a kept rule's bound is at most its
    /// class's, which is at most the interval's, so it equals `v` exactly
    /// when it attains its class's bound and that equals `v`.
    #[inline]
    pub(crate) fn rules_at(&self, v: i64, upper: bool, kept: ClassSet) -> u64 {
        let (bounds, at) = if upper {
            (&self.hi, &self.hi_at)
        } else {
            (&self.lo, &self.lo_at)
        };
        let mut out = 0;
        for c in 0..4 {
            if kept.0 & (1 << c) != 0 && bounds.get(c).copied() == Some(v) {
                out |= at.get(c).copied().unwrap_or(0);
            }
        }
        out
    }

    /// The first rule code, walking `order`'s kept classes, whose lower
    /// (or upper) bound equals `v`, the kept interval's own bound.
    #[inline]
    pub(crate) fn source_of(
        &self,
        v: i64,
        upper: bool,
        order: &[Class; 4],
        kept: ClassSet,
    ) -> Option<usize> {
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

impl BoundSink for Bounds {
    const ALL: bool = true;

    #[inline(always)]
    fn lower(&mut self, rule: Rule, v: i64) {
        self.lower_code(rule as usize, rule.class(), v);
    }

    #[inline(always)]
    fn upper(&mut self, rule: Rule, v: i64) {
        self.upper_code(rule as usize, rule.class(), v);
    }
}
