//! Group rules (docs/spec.md §10): `ladder_gap`, `ladder_max_gap`,
//! `unit_price`. The one place their formulas live: the edge factors
//! between a rank and the next kept rank, and every bound one member's
//! price puts on its neighbour's, rounded inward onto the tick in exact
//! integer arithmetic.

use super::params::Ratio;
use super::{Factor, Rule, RuleSet, NO_HI, NO_LO};

/// The largest `pack_size` a group row may carry. It keeps every product
/// of a price, a pack size and a policy fraction inside `i128`.
pub const MAX_PACK_SIZE: u64 = 1_000_000;

/// The policy's `[ladder]` table, compiled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Ladder {
    /// `ladder.min_gap`: the next rank costs at least `1 + min_gap` times
    /// the one below (`ladder_gap`).
    pub min_gap: Option<Ratio>,
    /// `ladder.max_gap`: the next rank costs at most `1 + max_gap` times
    /// the one below (`ladder_max_gap`).
    pub max_gap: Option<Ratio>,
    /// `ladder.min_unit_saving`: where both ranks have a `pack_size`, the
    /// next rank's unit price is at most `1 - min_unit_saving` times the
    /// one below's (`unit_price`).
    pub min_unit_saving: Option<Ratio>,
}

impl Ladder {
    /// A ladder with these parameters (validated by the policy; a caller
    /// building one by hand keeps `min_unit_saving` below 1).
    pub const fn new(
        min_gap: Option<Ratio>,
        max_gap: Option<Ratio>,
        min_unit_saving: Option<Ratio>,
    ) -> Ladder {
        Ladder {
            min_gap,
            max_gap,
            min_unit_saving,
        }
    }

    /// The edge from a rank with `size_lo` units to the next kept rank
    /// with `size_hi` units.
    pub(crate) fn edge(&self, size_lo: Option<u64>, size_hi: Option<u64>) -> Edge {
        // a = 1 + min_gap
        let lower = self.min_gap.map(|g| Factor::plus(g.num, g.den));
        // 1 + max_gap
        let gap = self.max_gap.map(|g| Factor::plus(g.num, g.den));
        // (size_hi / size_lo) x (1 - s): the unit price falls by s at least.
        let unit = match (self.min_unit_saving, size_lo, size_hi) {
            (Some(s), Some(lo), Some(hi)) => Some(Factor {
                num: i128::from(hi) * (s.d() - s.n()),
                den: i128::from(lo) * s.d(),
            }),
            _ => None,
        };
        // b = the smaller of the two.
        let upper = match (gap, unit) {
            (Some(g), Some(u)) => {
                // Denominators are positive: compare g.num/g.den with u.num/u.den.
                if g.num.saturating_mul(u.den) <= u.num.saturating_mul(g.den) {
                    Some(g)
                } else {
                    Some(u)
                }
            }
            (g, u) => g.or(u),
        };
        Edge {
            lower,
            gap,
            unit,
            upper,
        }
    }
}

/// The constraints between a rank `i` and the next kept rank `j`:
/// `p_j >= a x p_i` and `p_j <= b x p_i`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Edge {
    /// `a = 1 + min_gap`, when `min_gap` is set.
    pub(crate) lower: Option<Factor>,
    /// `1 + max_gap`, when set.
    gap: Option<Factor>,
    /// `(size_j / size_i) x (1 - min_unit_saving)`, when it applies.
    unit: Option<Factor>,
    /// `b`: the smaller of `gap` and `unit`.
    pub(crate) upper: Option<Factor>,
}

impl Edge {
    /// `ceil_T(a x p_i)`: the least price rank `j` may take above `p_i`
    /// (`NO_LO` without a lower edge).
    #[inline]
    pub(crate) fn above_lo(&self, p_i: i64, tick: i64) -> i64 {
        match self.lower {
            Some(a) if p_i != NO_LO => a.ceil(p_i, tick),
            _ => NO_LO,
        }
    }

    /// `floor_T(b x p_i)`: the most rank `j` may cost above `p_i`
    /// (`NO_HI` without an upper edge).
    #[inline]
    pub(crate) fn above_hi(&self, p_i: i64, tick: i64) -> i64 {
        match self.upper {
            Some(b) if p_i != NO_HI => b.floor(p_i, tick),
            _ => NO_HI,
        }
    }

    /// `ceil_T(lo_j / b)`: the least price of rank `i` from which rank `j`
    /// can still reach `lo_j` (`NO_LO` without an upper edge).
    #[inline]
    pub(crate) fn below_lo(&self, lo_j: i64, tick: i64) -> i64 {
        match self.upper {
            Some(b) if lo_j != NO_LO => inverse(b).ceil(lo_j, tick),
            _ => NO_LO,
        }
    }

    /// `floor_T(hi_j / a)`: the most rank `i` may cost with rank `j` at
    /// most `hi_j` (`NO_HI` without a lower edge).
    #[inline]
    pub(crate) fn below_hi(&self, hi_j: i64, tick: i64) -> i64 {
        match self.lower {
            Some(a) if hi_j != NO_HI => inverse(a).floor(hi_j, tick),
            _ => NO_HI,
        }
    }

    /// `max(lo, below_lo(lo_j))` for `lo` on the tick (or a sentinel):
    /// the division only when the bound can bind, since `ceil_T(x) <= lo`
    /// exactly when `x <= lo` for `lo` on the tick.
    #[inline]
    pub(crate) fn raise_below(&self, lo: i64, lo_j: i64, tick: i64) -> i64 {
        match self.upper {
            // lo_j / b <= lo  <=>  lo_j x den <= num x lo (b > 0)
            Some(b)
                if lo_j != NO_LO
                    && (lo == NO_LO
                        || wide(lo_j, b.den) > b.num.saturating_mul(i128::from(lo))) =>
            {
                lo.max(self.below_lo(lo_j, tick))
            }
            _ => lo,
        }
    }

    /// `min(hi, below_hi(hi_j))` for `hi` on the tick, dividing only when
    /// the bound can bind.
    #[inline]
    pub(crate) fn lower_below(&self, hi: i64, hi_j: i64, tick: i64) -> i64 {
        match self.lower {
            // hi_j / a >= hi  <=>  hi_j x den >= num x hi
            Some(a)
                if hi_j != NO_HI
                    && (hi == NO_HI
                        || wide(hi_j, a.den) < a.num.saturating_mul(i128::from(hi))) =>
            {
                hi.min(self.below_hi(hi_j, tick))
            }
            _ => hi,
        }
    }

    /// `max(lo, above_lo(p_i))` for `lo` on the tick, dividing only when
    /// the bound can bind.
    #[inline]
    pub(crate) fn raise_above(&self, lo: i64, p_i: i64, tick: i64) -> i64 {
        match self.lower {
            // a x p_i <= lo  <=>  num x p_i <= den x lo
            Some(a) if lo == NO_LO || a.num.saturating_mul(i128::from(p_i)) > wide(lo, a.den) => {
                lo.max(self.above_lo(p_i, tick))
            }
            _ => lo,
        }
    }

    /// `min(hi, above_hi(p_i))` for `hi` on the tick, dividing only when
    /// the bound can bind.
    #[inline]
    pub(crate) fn lower_above(&self, hi: i64, p_i: i64, tick: i64) -> i64 {
        match self.upper {
            // b x p_i >= hi  <=>  num x p_i >= den x hi
            Some(b) if hi == NO_HI || b.num.saturating_mul(i128::from(p_i)) < wide(hi, b.den) => {
                hi.min(self.above_hi(p_i, tick))
            }
            _ => hi,
        }
    }

    /// The edge rules that prices `p_i` (lower rank) and `p_j` (next kept
    /// rank) break, each judged exactly against its own factor.
    pub(crate) fn broken(&self, p_i: i64, p_j: i64) -> RuleSet {
        let mut s = RuleSet::EMPTY;
        let (pi, pj) = (i128::from(p_i), i128::from(p_j));
        // p_j x den < num x p_i: p_j below a x p_i.
        let below = |f: Factor| pj.saturating_mul(f.den) < f.num.saturating_mul(pi);
        let above = |f: Factor| pj.saturating_mul(f.den) > f.num.saturating_mul(pi);
        if self.lower.is_some_and(below) {
            s.insert(Rule::LadderGap);
        }
        if self.gap.is_some_and(above) {
            s.insert(Rule::LadderMaxGap);
        }
        if self.unit.is_some_and(above) {
            s.insert(Rule::UnitPrice);
        }
        s
    }
}

/// `x x f` widened, saturating.
#[inline]
fn wide(x: i64, f: i128) -> i128 {
    i128::from(x).saturating_mul(f)
}

/// `1 / f`.
#[inline]
fn inverse(f: Factor) -> Factor {
    Factor {
        num: f.den,
        den: f.num,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(num: i64, den: i64) -> Option<Ratio> {
        Some(Ratio { num, den })
    }

    /// 5 % above 15.00 is 15.75; 20 % above is 18.00; their inverses
    /// round inward.
    #[test]
    fn edge_bounds_round_inward() {
        let l = Ladder::new(r(5, 100), r(20, 100), None);
        let e = l.edge(None, None);
        assert_eq!(e.above_lo(1500, 1), 1575);
        assert_eq!(e.above_hi(1500, 1), 1800);
        // 1000 / 1.05 = 952.38..: the most rank i may cost is 952.
        assert_eq!(e.below_hi(1000, 1), 952);
        // 1000 / 1.2 = 833.33..: rank i needs at least 834.
        assert_eq!(e.below_lo(1000, 1), 834);
        // On a 5-unit tick, 1575 / 1.05 = 1500 exactly; 1576 / 1.05 = 1500.95 -> 1500.
        assert_eq!(e.below_hi(1576, 5), 1500);
        // The shortcuts agree with the bounds on either side of binding.
        for (lo, hi) in [(1000, 2000), (1574, 1576), (1575, 1575), (NO_LO, NO_HI)] {
            assert_eq!(e.raise_above(lo, 1500, 1), lo.max(e.above_lo(1500, 1)));
            assert_eq!(e.lower_above(hi, 1200, 1), hi.min(e.above_hi(1200, 1)));
            assert_eq!(e.raise_below(lo, 1900, 1), lo.max(e.below_lo(1900, 1)));
            assert_eq!(e.lower_below(hi, 1654, 1), hi.min(e.below_hi(1654, 1)));
        }
    }

    /// 6-pack over 3-pack with a 10 % unit saving: b = 2 x 0.9 = 1.8,
    /// smaller than 1 + max_gap = 2.
    #[test]
    fn unit_factor_takes_the_smaller() {
        let l = Ladder::new(None, r(1, 1), r(10, 100));
        let e = l.edge(Some(3), Some(6));
        assert_eq!(e.above_hi(500, 1), 900);
        assert!(e.broken(500, 901).contains(Rule::UnitPrice));
        assert!(!e.broken(500, 901).contains(Rule::LadderMaxGap));
        assert!(!e.broken(500, 900).contains(Rule::UnitPrice));
    }
}
