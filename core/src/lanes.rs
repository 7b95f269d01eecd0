//! Blocks of rows decided lane by lane: the columnar kernel's widest path.
//!
//! [`crate::kernel`] decides one row at a time with every optional rule
//! behind a branch. For the policies most columnar callers run (bounds,
//! margin, markup, unit margin, promotion depth, change limits and
//! cooldown, on a tick of one minor unit, without endings, `min_change`,
//! change windows or approval), this module decides [`BLOCK`] rows at a
//! time, in loops the compiler turns into SIMD (one row per lane, every
//! rule of the row in one pass, in registers):
//!
//! - Money is held as `f64` **integers**. Every value a block admits is
//!   below [`LaneFactor::limit`] (at most 2^48 minor units, and small enough
//!   that `value * numerator < 2^53`), so every sum, product, comparison
//!   and conversion below is exact: nothing is rounded except in
//!   [`LaneFactor::ceil`] / [`LaneFactor::floor`], which correct their estimate with an
//!   exact remainder. An absent value is `NaN`, which every comparison
//!   and every `max`/`min` below ignores, so "the rule does not apply to
//!   this row" needs no branch. A rule the policy does not use has
//!   `NaN` parameters, so its bound is `NaN` on every row: no branch per
//!   rule either.
//! - A row the lanes do not cover (a value out of range or invalid, a
//!   missing cost, a class that would be relaxed, a campaign or segment)
//!   marks its block, and the whole block is decided row by row by the
//!   row kernel and the general engine instead. So the lanes only ever
//!   decide rows that take the common path, and they must decide them
//!   exactly as the engine does: the unit tests and the `evaluate` fuzz
//!   target check that decision by decision.
//!
//! On x86-64 with `std`, the block loop is compiled twice, and the AVX2
//! copy is used when the CPU has AVX2 (four rows per instruction instead
//! of two).
// The loops index `[T; BLOCK]` arrays with `j in 0..BLOCK`: the bounds are
// known at compile time and the checks compile away; iterator chains over
// six arrays would hide the arithmetic.
#![allow(clippy::indexing_slicing, clippy::needless_range_loop)]

use crate::columns::Column;
use crate::compiled::Ratio;
use crate::decision::{Decision, Outcome, Reason};
use crate::engine::MAX_UNITS;
use crate::rules::HARD_OR_FINANCIAL;
use crate::rules::{ClassSet, Factor, Rule, RuleSet};

// Outcomes as `Lanes::decide` derives them from reasons.
const _: () = assert!(
    Outcome::Accepted as u8 == 0 && Outcome::Adjusted as u8 == 1 && Outcome::Held as u8 == 2
);

// Unit counts the lanes take are exact doubles (see `to_f`).
const _: () = assert!(MAX_UNITS < 1 << 52);

/// Rows whose `reference x units` reaches this take the rows path, so
/// that every promotion spend the lanes compute is an exact double below
/// 2^52 (the engine refuses products above 2^61).
const SPEND_CAP: f64 = TWO52;

/// Rows per block: eight 64-row arrays of each kind fit in L1 with room.
pub(crate) const BLOCK: usize = 64;

/// 2^52: adding it to a non-negative double below 2^51 rounds it to an
/// integer, and its bit pattern turns integers below 2^52 into doubles.
const TWO52: f64 = 4_503_599_627_370_496.0;
const TWO52_BITS: u64 = 0x4330_0000_0000_0000;
const MANTISSA: u64 = (1 << 52) - 1;

/// Money values above this never take the lanes.
const LIMIT_CAP: i64 = 1 << 48;

/// `x` (`0 <= x < 2^52`) as a double, exactly (a bit pattern, no
/// conversion instruction: AVX2 has none for 64-bit integers).
#[inline(always)]
fn to_f(x: i64) -> f64 {
    f64::from_bits((x as u64) | TWO52_BITS) - TWO52
}

/// An integer-valued double `0 <= y < 2^52` as an `i64`, exactly.
#[inline(always)]
fn to_i(y: f64) -> i64 {
    ((y + TWO52).to_bits() & MANTISSA) as i64
}

/// `y` (`0 <= y < 2^51`) rounded to an integer (ties to even).
#[inline(always)]
fn round(y: f64) -> f64 {
    (y + TWO52) - TWO52
}

/// `c ? !0 : 0`.
#[inline(always)]
fn m(c: bool) -> u64 {
    0u64.wrapping_sub(u64::from(c))
}

/// The larger of `a` and `b`, ignoring `b` when it is `NaN` (`maxpd`).
#[inline(always)]
fn max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// The smaller of `a` and `b`, ignoring `b` when it is `NaN` (`minpd`).
#[inline(always)]
fn min(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// A rule family's [`Factor`] as the lanes compute it: `x -> x * a / d`
/// rounded up or down to an integer, for integer `0 <= x` with
/// `x * a < 2^53`.
#[derive(Clone, Copy, Debug)]
struct LaneFactor {
    a: f64,
    d: f64,
    inv: f64,
}

impl LaneFactor {
    /// A rule the policy does not use: every result is `NaN`.
    const NONE: LaneFactor = LaneFactor {
        a: f64::NAN,
        d: f64::NAN,
        inv: f64::NAN,
    };

    /// The map for `x * a / b`, `None` when `a / b` is too large to keep
    /// products exact for useful prices.
    fn new(a: i64, b: i64) -> Option<LaneFactor> {
        if a < 0 || b <= 0 || a > 1 << 20 || b > 1 << 40 {
            return None;
        }
        let g = gcd(a.unsigned_abs(), b.unsigned_abs()).max(1);
        let (a, b) = (a.unsigned_abs() / g, b.unsigned_abs() / g);
        let (a, d) = (a as f64, b as f64);
        Some(LaneFactor { a, d, inv: 1.0 / d })
    }

    /// `ceil(x * a / d)`.
    ///
    /// `n = x a` is exact (`< 2^53`), and `n * inv` is within `2^-50 n / d`
    /// of `n / d`, so for `n / d < 2^48` its rounding `q` is within one of
    /// `n / d` and the exact remainder `q d - n` (integers below 2^53)
    /// says which side it fell on. `NaN` stays `NaN`.
    #[inline(always)]
    fn ceil(&self, x: f64) -> f64 {
        let n = x * self.a;
        let q = round(n * self.inv);
        let r = n - q * self.d;
        q + if r > 0.0 { 1.0 } else { 0.0 }
    }

    /// `floor(x * a / d)` (see [`LaneFactor::ceil`]).
    #[inline(always)]
    fn floor(&self, x: f64) -> f64 {
        let n = x * self.a;
        let q = round(n * self.inv);
        let r = n - q * self.d;
        q - if r < 0.0 { 1.0 } else { 0.0 }
    }

    /// The largest `x` for which `x * a` stays exact and `x * a / d`
    /// stays below 2^48.
    fn limit(&self) -> i64 {
        // a <= 2^20, so 2^52 / a >= 2^32.
        let by_product = (TWO52 / self.a) as i64;
        by_product.min(LIMIT_CAP)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The rules the lanes decide, as indices into [`Lanes::rules`].
const MIN_PRICE: usize = 0;
const MAX_PRICE: usize = 1;
const MARGIN: usize = 2;
const MARKUP: usize = 3;
const UNIT_MARGIN: usize = 4;
const MAX_DISCOUNT: usize = 5;
const MAX_INCREASE: usize = 6;
const MAX_DECREASE: usize = 7;
const STEP_DOWN: usize = 8;
const STEP_UP: usize = 9;
const COOLDOWN_LO: usize = 10;
const COOLDOWN_HI: usize = 11;
const SLOTS: usize = 12;

/// Which rule each slot is, and whether it bounds from below.
const SLOT_RULES: [(Rule, bool); SLOTS] = [
    (Rule::MinPrice, true),
    (Rule::MaxPrice, false),
    (Rule::Margin, true),
    (Rule::Markup, true),
    (Rule::UnitMargin, true),
    (Rule::MaxDiscount, true),
    (Rule::MaxIncrease, false),
    (Rule::MaxDecrease, true),
    (Rule::MaxStep, true),
    (Rule::MaxStep, false),
    (Rule::Cooldown, true),
    (Rule::Cooldown, false),
];

/// Each slot's rule bit (`1 << code`). Constants, not fields, so that
/// the compiler sees that both cooldown slots (and both step slots) set
/// the same bit and merges their violation tests.
const BIT: [u64; SLOTS] = {
    let mut bit = [0u64; SLOTS];
    let mut k = 0;
    while k < SLOTS {
        bit[k] = 1u64 << (SLOT_RULES[k].0 as u8 & 63);
        k += 1;
    }
    bit
};

/// Where a slot's rule goes in a row's *attaining* set: its rule bit,
/// except the upper `max_step` slot, which takes the free bit 12 (no
/// slot's rule has code 12) so that the two `max_step` slots stay apart:
/// `current - step` and `current + step` differ, and a reason is named
/// from the clamped side's rules only. Bit 12 sorts where `max_step`
/// (11) does among the upper side's rules (9, 11, 14).
const ATT: [u64; SLOTS] = {
    let mut att = BIT;
    att[STEP_UP] = ALIAS;
    att
};

/// The attaining bit standing for the upper `max_step` slot.
const ALIAS: u64 = 1 << 12;

/// The attaining bits of the lower slots, of the upper slots, of the
/// hard and of the stability rules.
const LOWER_ATT: u64 = side_bits(true);
const UPPER_ATT: u64 = side_bits(false);
const HARD_ATT: u64 = class_bits(crate::rules::Class::Hard);
const FINANCIAL_ATT: u64 = class_bits(crate::rules::Class::Financial);
const STABILITY_ATT: u64 = class_bits(crate::rules::Class::Stability);

const fn side_bits(lower: bool) -> u64 {
    let (mut bits, mut k) = (0, 0);
    while k < SLOTS {
        if SLOT_RULES[k].1 == lower {
            bits |= ATT[k];
        }
        k += 1;
    }
    bits
}

const fn class_bits(class: crate::rules::Class) -> u64 {
    let (mut bits, mut k) = (0, 0);
    while k < SLOTS {
        if SLOT_RULES[k].0.class() as u8 == class as u8 {
            bits |= ATT[k];
        }
        k += 1;
    }
    bits
}

// Every slot's rule bit fits the low 32 bits (the row's violated rules)
// and its attaining bit the high 32 (see `Lanes::decide`); bit 12 is no
// slot's rule, and the lower cooldown slot shares its bit with the upper
// one (they are the same bound) while `max_step`'s two slots do not.
const _: () = {
    let mut k = 0;
    while k < SLOTS {
        assert!(BIT[k] < 1 << 16 && BIT[k] != ALIAS);
        k += 1;
    }
    assert!(ALIAS == 1 << (Rule::MaxStep as u8 + 1));
    assert!(BIT[COOLDOWN_LO] == BIT[COOLDOWN_HI]);
    assert!(LOWER_ATT & UPPER_ATT == BIT[COOLDOWN_LO]);
};

/// The rules the lanes decide; a policy with any other takes the rows path.
pub(crate) const LANE_RULES: u64 = (1 << Rule::MinPrice as u8)
    | (1 << Rule::MaxPrice as u8)
    | (1 << Rule::Margin as u8)
    | (1 << Rule::Markup as u8)
    | (1 << Rule::UnitMargin as u8)
    | (1 << Rule::MaxDiscount as u8)
    | (1 << Rule::MaxIncrease as u8)
    | (1 << Rule::MaxDecrease as u8)
    | (1 << Rule::MaxStep as u8)
    | (1 << Rule::Cooldown as u8);

/// The parameters the lanes need, from one segment's compiled rules.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LaneRules {
    pub(crate) tick: i64,
    pub(crate) priority: [crate::rules::Class; 4],
    pub(crate) allow_unbounded: bool,
    pub(crate) needs_cost: bool,
    pub(crate) min_price: Option<i64>,
    pub(crate) max_price: Option<i64>,
    pub(crate) min_margin: Option<Ratio>,
    pub(crate) min_markup: Option<Ratio>,
    pub(crate) min_unit_margin: Option<i64>,
    pub(crate) max_discount: Option<Ratio>,
    pub(crate) max_increase: Option<Ratio>,
    pub(crate) max_decrease: Option<Ratio>,
    pub(crate) max_step: Option<i64>,
    pub(crate) cooldown: Option<i64>,
    /// Anything else the policy does: a rule outside [`LANE_RULES`], or
    /// approval.
    pub(crate) other: bool,
}

/// One segment's rules prepared for the lanes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lanes {
    /// Money values `v` with `(v - lo) >> shift != 0` take the rows path
    /// (`lo`: the smallest value the column may hold, 0 or 1), so every
    /// value the lanes take is below [`LaneFactor::limit`] and 2^48
    /// (`lo + 2^shift <= limit`): a block's values are checked with one
    /// OR over its rows instead of two compares and a select per row.
    shift: u32,
    allow_unbounded: bool,
    needs_cost: bool,
    params: Params,
    /// The policy uses markup, unit margin or `max_step` (the slots
    /// [`Lanes::decide`] leaves out otherwise).
    rare: bool,
    cooldown: Option<i64>,
    /// Financial comes before stability in the priority order (hard is
    /// always first): the order a row's class walk relaxes in.
    fin_first: bool,
    /// The attaining bits of the rules that come first in the priority
    /// order: all of them when financial rules come before stability
    /// rules (then the lowest bit of a side's attaining rules is the rule
    /// docs/spec.md C5 names: first class, then lowest code, and codes
    /// run hard, financial, stability), else the hard and stability ones
    /// (those first, and the financial ones only when none of them
    /// attains).
    first: u64,
}

/// The parameters of the bounds, `NaN` for a rule the policy does not
/// use: then the bound is `NaN` on every row, which every comparison,
/// `max` and `min` ignores, so the lanes need no branch per rule.
#[derive(Clone, Copy, Debug)]
struct Params {
    /// The policy's hard bounds (already on the tick).
    min_price: f64,
    max_price: f64,
    margin: LaneFactor,
    markup: LaneFactor,
    unit_margin: f64,
    discount: LaneFactor,
    increase: LaneFactor,
    decrease: LaneFactor,
    max_step: f64,
}

impl Lanes {
    /// The lanes for `r`, or `None` when the policy uses something they
    /// do not decide (see [`LaneRules::other`]) or a parameter too large
    /// to keep the arithmetic exact.
    pub(crate) fn new(r: &LaneRules) -> Option<Lanes> {
        if r.other || r.tick != 1 {
            return None;
        }
        // Each rule's factor comes from its family (`rules/<family>.rs`).
        use crate::rules::{change, margin, promotion};
        let opt = |x: Option<Ratio>, f: fn(Ratio) -> Factor| -> Result<Option<LaneFactor>, ()> {
            match x {
                None => Ok(None),
                Some(x) => {
                    let (a, b) = f(x).narrow().ok_or(())?;
                    LaneFactor::new(a, b).map(Some).ok_or(())
                }
            }
        };
        let built = (|| -> Result<Lanes, ()> {
            let margin = opt(r.min_margin, margin::margin_factor)?;
            let markup = opt(r.min_markup, margin::markup_factor)?;
            let discount = opt(r.max_discount, promotion::discount_factor)?;
            let increase = opt(r.max_increase, change::increase_factor)?;
            let decrease = opt(r.max_decrease, change::decrease_factor)?;
            let mut limit = LIMIT_CAP;
            for map in [margin, markup, discount, increase, decrease]
                .into_iter()
                .flatten()
            {
                limit = limit.min(map.limit());
            }
            let small = |v: i64| (0..LIMIT_CAP).contains(&v);
            for v in [r.min_price, r.max_price, r.min_unit_margin, r.max_step]
                .into_iter()
                .flatten()
            {
                if !small(v) {
                    return Err(());
                }
            }
            let nan = |v: Option<i64>| v.map_or(f64::NAN, to_f);
            let map = |m: Option<LaneFactor>| m.unwrap_or(LaneFactor::NONE);
            // Priority order: hard first (P2), then financial and stability
            // in the policy's order (no market rule takes the lanes).
            let pos = |c: crate::rules::Class| r.priority.iter().position(|x| *x == c).ok_or(());
            use crate::rules::Class;
            let (hard, fin, stab) = (
                pos(Class::Hard)?,
                pos(Class::Financial)?,
                pos(Class::Stability)?,
            );
            if hard > fin || hard > stab {
                return Err(());
            }
            let first = if fin < stab {
                !0
            } else {
                HARD_ATT | STABILITY_ATT
            };
            // 2^shift <= limit - 1 (limit >= 2^32: see `LaneFactor::limit`).
            let shift = 63 - (limit - 1).leading_zeros();
            Ok(Lanes {
                shift,
                allow_unbounded: r.allow_unbounded,
                needs_cost: r.needs_cost,
                params: Params {
                    min_price: nan(r.min_price),
                    max_price: nan(r.max_price),
                    margin: map(margin),
                    markup: map(markup),
                    unit_margin: nan(r.min_unit_margin),
                    discount: map(discount),
                    increase: map(increase),
                    decrease: map(decrease),
                    max_step: nan(r.max_step),
                },
                rare: markup.is_some() || r.min_unit_margin.is_some() || r.max_step.is_some(),
                cooldown: r.cooldown,
                fin_first: fin < stab,
                first,
            })
        })();
        built.ok()
    }
}

/// The columns a block reads.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LaneInputs<'a> {
    pub(crate) current: Option<Column<'a>>,
    pub(crate) cost: Option<Column<'a>>,
    pub(crate) reference: Option<Column<'a>>,
    pub(crate) units: Option<Column<'a>>,
    pub(crate) now: Option<Column<'a>>,
    pub(crate) last_change: Option<Column<'a>>,
    /// Columns whose presence sends a row (so its block) to the rows path.
    pub(crate) divert: [Option<Column<'a>>; 2],
    /// Per-row scales: a block with a row finer than the minor unit goes
    /// to the rows path.
    pub(crate) scales: Option<&'a [u8]>,
}

/// Decisions of consecutive rows as columns, for
/// [`DecisionSink::put_rows`](crate::DecisionSink::put_rows).
///
/// Every row here was decided on the common path: it has a price, is
/// `accepted`, `adjusted` or `held`, relaxed no class, leaves no rule
/// unmet, needs no approval and names no invalid field.
#[derive(Clone, Debug)]
pub struct DecisionRows {
    /// The rows are `off..off + len` of the arrays (see [`DecisionRows::select`]).
    off: usize,
    len: usize,
    price: [i64; BLOCK],
    lower: [i64; BLOCK],
    upper: [i64; BLOCK],
    violated: [u64; BLOCK],
    binding: [u64; BLOCK],
    outcome: [u8; BLOCK],
    reason: [u8; BLOCK],
    promo_spend: [i64; BLOCK],
    /// Rows adjusted, rows held, and rows violating a hard or financial
    /// rule: the batch summary's counts, summed in the deciding loop (a
    /// separate pass over `outcome` and `violated` cost 11 instructions a
    /// row in code not built for AVX2).
    pub(crate) counts: [u64; 3],
    /// For a block with rows left to the rows path: bit `j` set where row
    /// `j` is adjusted, held, violates a hard or financial rule, so that
    /// [`DecisionRows::select`] counts a window with three popcounts.
    marks: [u64; 3],
    /// Per row, the classes it relaxed (`ClassSet` bits).
    relaxed: [u8; BLOCK],
    /// Rows decided here that relaxed a class: handed over one by one (a
    /// run of columns carries no relaxed classes).
    rel: u64,
    /// `relaxed` holds a row's classes from an earlier block.
    relaxed_dirty: bool,
}

impl Default for DecisionRows {
    fn default() -> Self {
        DecisionRows {
            off: 0,
            len: 0,
            price: [0; BLOCK],
            lower: [0; BLOCK],
            upper: [0; BLOCK],
            violated: [0; BLOCK],
            binding: [0; BLOCK],
            outcome: [0; BLOCK],
            reason: [0; BLOCK],
            promo_spend: [0; BLOCK],
            counts: [0; 3],
            marks: [0; 3],
            relaxed: [0; BLOCK],
            rel: 0,
            relaxed_dirty: false,
        }
    }
}

impl DecisionRows {
    /// Rows held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Each row's published price (minor units).
    pub fn price(&self) -> &[i64] {
        self.price.get(self.off..self.off + self.len).unwrap_or(&[])
    }

    /// Each row's allowed interval's lower end (minor units).
    pub fn lower(&self) -> &[i64] {
        self.lower.get(self.off..self.off + self.len).unwrap_or(&[])
    }

    /// Each row's allowed interval's upper end (minor units), `i64::MAX`
    /// where the interval has none (`Decision::upper` is `None`).
    pub fn upper(&self) -> &[i64] {
        self.upper.get(self.off..self.off + self.len).unwrap_or(&[])
    }

    /// Each row's violated rules ([`RuleSet`] bits).
    pub fn violated(&self) -> &[u64] {
        self.violated
            .get(self.off..self.off + self.len)
            .unwrap_or(&[])
    }

    /// Each row's binding rules ([`RuleSet`] bits).
    pub fn binding(&self) -> &[u64] {
        self.binding
            .get(self.off..self.off + self.len)
            .unwrap_or(&[])
    }

    /// Each row's outcome, as its code (`Outcome as u8`).
    pub fn outcome(&self) -> &[u8] {
        self.outcome
            .get(self.off..self.off + self.len)
            .unwrap_or(&[])
    }

    /// Each row's reason, as its code ([`Reason::code`]; these all fit a
    /// byte).
    pub fn reason(&self) -> &[u8] {
        self.reason
            .get(self.off..self.off + self.len)
            .unwrap_or(&[])
    }

    /// Each row's promotion spend (minor units), `-1` where none
    /// (`Decision::promo_spend` is `None`).
    pub fn promo_spend(&self) -> &[i64] {
        self.promo_spend
            .get(self.off..self.off + self.len)
            .unwrap_or(&[])
    }

    /// Narrows the rows to `a..b` of the block, with their counts: the
    /// rows the lanes decided between rows they left to the rows path
    /// (no copy: the accessors read the window).
    pub(crate) fn select(&mut self, a: usize, b: usize) {
        let (a, b) = (a.min(BLOCK), b.min(BLOCK).max(a.min(BLOCK)));
        self.off = a;
        self.len = b - a;
        let window = if b - a == BLOCK {
            !0
        } else {
            ((1u64 << (b - a)) - 1) << a
        };
        self.counts = self.marks.map(|m| u64::from((m & window).count_ones()));
    }

    /// Row `j` as a [`Decision`] (`j < len()`).
    #[inline]
    pub fn decision(&self, j: usize) -> Decision {
        self.decision_at(self.off + j)
    }

    /// The rows (bits of the block) decided here that relaxed a class,
    /// which [`crate::kernel::emit_around`] hands over one by one.
    pub(crate) fn relaxed_rows(&self) -> u64 {
        self.rel
    }

    /// Row `at` of the block, whatever window [`DecisionRows::select`] set.
    pub(crate) fn decision_at(&self, at: usize) -> Decision {
        let at = at.min(BLOCK - 1);
        let upper = self.upper[at];
        let spend = self.promo_spend[at];
        Decision {
            outcome: match self.outcome[at] {
                0 => Outcome::Accepted,
                1 => Outcome::Adjusted,
                2 => Outcome::Held,
                _ => Outcome::Rejected,
            },
            reason: Reason::from_code(u32::from(self.reason[at])).unwrap_or(Reason::InvalidInput),
            price: Some(self.price[at]),
            lower: Some(self.lower[at]),
            upper: (upper != i64::MAX).then_some(upper),
            violated: RuleSet(self.violated[at]),
            binding: RuleSet(self.binding[at]),
            unmet: RuleSet::EMPTY,
            relaxed: ClassSet(self.relaxed[at]),
            promo_spend: (spend >= 0).then_some(spend),
            spend_scale: 0,
            needs_approval: false,
            invalid_field: None,
            lawful_reference: None,
        }
    }
}

/// A block's inputs as lanes: money as exact doubles (`NaN` absent).
struct Loaded {
    /// The proposal as the rules judge it: the minor units when it is
    /// whole, else halfway between the two minor units around it, which
    /// compares with every whole bound exactly as the proposal does.
    p: [f64; BLOCK],
    /// The proposal snapped to the tick (one minor unit), half to even:
    /// `p` itself when whole. Read only by blocks with a finer proposal.
    s: [f64; BLOCK],
    current: [f64; BLOCK],
    cost: [f64; BLOCK],
    reference: [f64; BLOCK],
    /// Expected units (`NaN` absent).
    units: [f64; BLOCK],
    /// Masks (all ones or zero per row, so that they stay in 64-bit lanes
    /// with the values): the row is cooling down.
    cooling: [u64; BLOCK],
}

/// A count or time column's rows in a block, read in place: the values
/// (garbage where absent) and a word with bit `j` set where row `j` has
/// one.
#[derive(Clone, Copy)]
struct Raw<'a> {
    vals: &'a [i64; BLOCK],
    present: u64,
}

impl Raw<'_> {
    /// A column that is not given: no value in any row.
    const ABSENT: Raw<'static> = Raw {
        vals: &ZEROS,
        present: 0,
    };

    /// Whether row `j` has a value, as a mask.
    #[inline(always)]
    fn has(&self, j: usize) -> u64 {
        bit(self.present, j)
    }
}

/// Where a block's expected units come from.
trait UnitsIn: Copy {
    /// Row `j`'s units as an exact double (`NaN` where absent or out of
    /// range), and all ones where the row has units the lanes cannot take
    /// (the block is slow then).
    fn unit(&self, j: usize) -> (f64, u64);
}

impl UnitsIn for Raw<'_> {
    #[inline(always)]
    fn unit(&self, j: usize) -> (f64, u64) {
        // Junk where absent: only read through `has`.
        let u = self.vals[j];
        let ok = m((1..MAX_UNITS).contains(&u));
        let has = self.has(j);
        (sel(has & ok, to_f(u), f64::NAN), has & !ok)
    }
}

/// A float64 units column's rows in a block (`NaN` absent): a value is
/// taken where [`crate::money::float_to_minor`] with no decimals would
/// read it exactly, as the integer path's caller converts it.
#[derive(Clone, Copy)]
struct FloatUnits<'a> {
    vals: &'a [f64; BLOCK],
}

impl UnitsIn for FloatUnits<'_> {
    #[inline(always)]
    fn unit(&self, j: usize) -> (f64, u64) {
        let v = self.vals[j];
        let (u, exact) = crate::money::nearest_minor(v, 1.0);
        let ok = m(exact & (u >= 1.0) & (u < MAX_UNITS as f64));
        let has = m(!v.is_nan());
        (sel(ok, u, f64::NAN), has & !ok)
    }
}

/// A block's working arrays, made once per batch and reused by every
/// block (initialising them per block showed in profiles). Every array a
/// block reads is written by that block first.
pub(crate) struct Scratch {
    x: Loaded,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            x: Loaded {
                p: [0.0; BLOCK],
                s: [0.0; BLOCK],
                current: [0.0; BLOCK],
                cost: [0.0; BLOCK],
                reference: [0.0; BLOCK],
                units: [0.0; BLOCK],
                cooling: [0; BLOCK],
            },
        }
    }
}

/// `mask ? a : b` for a mask of all ones or zero, on integers.
#[inline(always)]
fn sel_u(mask: u64, a: u64, b: u64) -> u64 {
    (a & mask) | (b & !mask)
}

/// `mask ? a : b` for a mask of all ones or zero.
#[inline(always)]
fn sel(mask: u64, a: f64, b: f64) -> f64 {
    f64::from_bits((a.to_bits() & mask) | (b.to_bits() & !mask))
}

/// Reads rows `s..s + BLOCK` of `col` into `out` (`NaN` where absent).
/// Returns nonzero when a present value lies outside
/// `lo..lo + 2^shift` (the block is slow; `out` is then unspecified),
/// and the column's validity word (bit `j`: row `s + j` has a value);
/// `None` when the column is shorter than the block.
///
/// "Slow" is a single word ORed over the rows (a reduction, kept in a
/// register), not a per-row array: every loader used to load, OR and
/// store such an array again. It ORs `v - lo` itself: a value out of
/// range sets a bit at or above `shift` (a negative one the sign), so
/// the loop needs no compare and no select where every row is present.
#[inline(always)]
fn load_money(
    col: Option<Column<'_>>,
    s: usize,
    lo: i64,
    shift: u32,
    out: &mut [f64; BLOCK],
) -> Option<(u64, u64)> {
    let Some(col) = col else {
        *out = [f64::NAN; BLOCK];
        return Some((0, 0));
    };
    let vals: &[i64; BLOCK] = col.values.get(s..s + BLOCK)?.try_into().ok()?;
    let w = match col.validity {
        Some(bits) => presence(bits, s)?,
        None => !0,
    };
    let range = if w == !0 {
        money_rows::<true>(vals, w, lo, out)
    } else {
        money_rows::<false>(vals, w, lo, out)
    };
    Some((range >> shift, w))
}

/// [`load_money`]'s loop: the OR of `v - lo` over the present rows.
/// `ALL`: every row is present (`w == !0`), so the loop needs no
/// validity bit.
#[inline(always)]
fn money_rows<const ALL: bool>(
    vals: &[i64; BLOCK],
    w: u64,
    lo: i64,
    out: &mut [f64; BLOCK],
) -> u64 {
    let mut range = 0u64;
    for j in 0..BLOCK {
        let v = vals[j];
        // Garbage for a value out of range (the block is slow then).
        let f = to_f(v);
        if ALL {
            range |= v.wrapping_sub(lo) as u64;
            out[j] = f;
        } else {
            let present = bit(w, j);
            range |= v.wrapping_sub(lo) as u64 & present;
            out[j] = sel(present, f, f64::NAN);
        }
    }
    range
}

/// Row `j`'s validity bit of the word [`presence`] returns, as a mask.
#[inline(always)]
fn bit(w: u64, j: usize) -> u64 {
    // The bit shifted to the sign and spread by an arithmetic shift: AVX2
    // has no 64-bit one, but a compare with zero does it (two instructions
    // where shift, `& 1` and negate took three).
    (w.wrapping_shl(63 - (j as u32 & 63)) as i64 >> 63) as u64
}

/// The validity bits of rows `s..s + BLOCK` as one word (bit `j`: row
/// `s + j`), from the 8 bytes (9 off a byte boundary) that hold them.
#[inline(always)]
fn presence(bits: &[u8], s: usize) -> Option<u64> {
    let first = s / 8;
    let word: [u8; 8] = bits.get(first..first + 8)?.try_into().ok()?;
    let word = u64::from_le_bytes(word);
    let shift = s % 8;
    if shift == 0 {
        return Some(word);
    }
    let next = u64::from(*bits.get(first + 8)?);
    Some((word >> shift) | (next << (64 - shift)))
}

/// No value in any row of a block.
static ZEROS: [i64; BLOCK] = [0; BLOCK];

/// Rows `s..s + BLOCK` of a count or time column, read in place: copying
/// them into a block array first (zero where absent) cost a `memcpy` call
/// per column and block, 6 % of a one-thread Python batch profile; the
/// mask is applied where a row is read instead.
#[inline(always)]
fn load_raw(col: Option<Column<'_>>, s: usize) -> Option<Raw<'_>> {
    let Some(col) = col else {
        return Some(Raw::ABSENT);
    };
    let vals = col.values.get(s..s + BLOCK)?.try_into().ok()?;
    let present = match col.validity {
        Some(bits) => presence(bits, s)?,
        None => !0,
    };
    Some(Raw { vals, present })
}

/// The float64 columns a block reads, for
/// [`Policy::evaluate_float_blocks`](crate::Policy::evaluate_float_blocks):
/// money in major units and units as whole numbers, `NaN` where absent;
/// times as integers, present in every row.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FloatInputs<'a> {
    pub(crate) proposed: &'a [f64],
    pub(crate) current: Option<&'a [f64]>,
    pub(crate) cost: Option<&'a [f64]>,
    pub(crate) reference: Option<&'a [f64]>,
    pub(crate) units: Option<&'a [f64]>,
    pub(crate) now: Times<'a>,
    pub(crate) last_change: Times<'a>,
    /// Minor units per major unit (`10^digits`).
    pub(crate) pow: f64,
}

/// A block's columns: integers in minor units (with `proposed`), or
/// floats in major units.
#[derive(Clone, Copy)]
pub(crate) enum Source<'a, 'b> {
    Ints(&'b [i64], &'b LaneInputs<'a>),
    Floats(&'b FloatInputs<'a>),
}

/// A time column of [`FloatInputs`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum Times<'a> {
    /// Not given: absent in every row.
    Absent,
    /// One value per row.
    Column(&'a [i64]),
    /// The same value in every row, as a block.
    Same(&'a [i64; BLOCK]),
}

impl<'a> Times<'a> {
    /// Rows `s..s + BLOCK`, `None` when the column is shorter.
    #[inline(always)]
    fn rows(self, s: usize) -> Option<Raw<'a>> {
        Some(match self {
            Times::Absent => Raw::ABSENT,
            Times::Column(v) => Raw {
                vals: v.get(s..s + BLOCK)?.try_into().ok()?,
                present: !0,
            },
            Times::Same(vals) => Raw { vals, present: !0 },
        })
    }
}

/// Reads rows `s..s + BLOCK` of a float64 major-unit money column into
/// `out` as minor units (`NaN` where absent), as [`load_money`] does for
/// integers: returns nonzero when a present value is not one the integer
/// path's caller would read exactly (see
/// [`crate::money::floats_to_minor_flags`]) or lies outside
/// `lo..lo + 2^shift` (the block is slow; `out` is then unspecified),
/// and the column's presence word; `None` when the column is shorter
/// than the block. `REQUIRED`: an absent value (`NaN`) is slow too.
#[inline(always)]
fn load_float_money<const REQUIRED: bool>(
    col: Option<&[f64]>,
    s: usize,
    pow: f64,
    lo: i64,
    shift: u32,
    out: &mut [f64; BLOCK],
) -> Option<(u64, u64)> {
    let Some(col) = col else {
        *out = [f64::NAN; BLOCK];
        return Some((u64::from(REQUIRED), 0));
    };
    let vals: &[f64; BLOCK] = col.get(s..s + BLOCK)?.try_into().ok()?;
    // `lo` and `lo + 2^shift` are below 2^49: exact doubles.
    let (lo_f, hi_f) = (lo as f64, (lo + (1i64 << shift)) as f64);
    let (mut slow, mut word) = (0u64, 0u64);
    for j in 0..BLOCK {
        let v = vals[j];
        // `NaN` where `v` is (the row is absent).
        let (minor, exact) = crate::money::nearest_minor(v, pow);
        let good = exact & (minor >= lo_f) & (minor < hi_f);
        let present = !v.is_nan();
        slow |= u64::from(if REQUIRED { !good } else { present & !good });
        word |= u64::from(present) << j;
        out[j] = minor;
    }
    Some((slow, word))
}

/// Extra decimals of a float proposal the block path reads: four beyond
/// the minor unit (a model's dollars with 4 decimals are cents with 2).
const PROPOSAL_DIGITS: f64 = 10_000.0;

/// Reads rows `s..s + BLOCK` of the float64 proposals into `x.p` and
/// `x.s` (see [`Loaded`]): as [`load_float_money`] does for a required
/// column, and also a proposal with up to four decimals beyond the minor
/// unit, which the engine snaps half to even. Returns the slow word and
/// whether any proposal is finer than the minor unit; `None` when the
/// column is shorter than the block.
///
/// A float `v` is taken as the decimal `r / 10^(digits + 4)` when `r` is
/// `v x 10^(digits + 4)` rounded and dividing back gives `v` again
/// (IEEE division is correctly rounded, so that decimal round-trips to
/// `v`), with `|r| < 2^50`: the grid step is then at least eight ulps of
/// `v`, so no other decimal with as few digits rounds to `v`, and that
/// decimal is `v`'s shortest round-trip form, the one every other door
/// reads (`float_to_amount`). Any other float stops the block.
#[inline(always)]
fn load_float_proposal(
    col: &[f64],
    s: usize,
    pow: f64,
    shift: u32,
    x: &mut Loaded,
) -> Option<(u64, bool)> {
    const LIMIT: f64 = 1_125_899_906_842_624.0; // 2^50
                                                // Whole minor units, almost every block: the plain loader alone.
    let (slow, _) = load_float_money::<true>(Some(col), s, pow, 1, shift, &mut x.p)?;
    if slow == 0 {
        return Some((0, false));
    }
    let vals: &[f64; BLOCK] = col.get(s..s + BLOCK)?.try_into().ok()?;
    let hi_f = (1i64 << shift) as f64 + 1.0;
    let fine_pow = pow * PROPOSAL_DIGITS;
    let (mut slow, mut fine) = (0u64, 0u64);
    for j in 0..BLOCK {
        let v = vals[j];
        let (minor, exact) = crate::money::nearest_minor(v, pow);
        let r = crate::money::round_half_even_f64(v * fine_pow);
        let on_grid = (r.abs() < LIMIT) & (r / fine_pow == v);
        // Minor units with four decimals: exact (|q| < 2^37, and the
        // division of whole numbers is correctly rounded).
        let q = r / PROPOSAL_DIGITS;
        let snapped = crate::money::round_half_even_f64(q);
        let judged = floor_f64(q) + 0.5;
        let is_fine = !exact & on_grid;
        let good = (exact | on_grid)
            & (sel(m(exact), minor, snapped) >= 1.0)
            & (sel(m(exact), minor, snapped) < hi_f);
        slow |= u64::from(!good);
        fine |= u64::from(is_fine);
        x.p[j] = sel(m(exact), minor, judged);
        x.s[j] = sel(m(exact), minor, snapped);
    }
    Some((slow, fine != 0))
}

/// `floor(x)` for `|x| < 2^51`, in no_std.
#[inline(always)]
fn floor_f64(x: f64) -> f64 {
    let r = crate::money::round_half_even_f64(x);
    r - f64::from(u8::from(r > x))
}

impl Lanes {
    /// Decides rows `s..s + BLOCK` of `proposed` / `inp` into `out`, or
    /// returns `false` when any of them must take the rows path (then
    /// `out` is unspecified).
    #[inline(always)]
    fn block_body(
        &self,
        src: Source<'_, '_>,
        s: usize,
        out: &mut DecisionRows,
        scratch: &mut Scratch,
    ) -> Option<u64> {
        match src {
            Source::Ints(proposed, inp) => self.block_inner(proposed, inp, s, out, scratch),
            Source::Floats(inp) => self.float_block_inner(inp, s, out, scratch),
        }
    }

    #[inline(always)]
    fn block_inner(
        &self,
        proposed: &[i64],
        inp: &LaneInputs<'_>,
        s: usize,
        out: &mut DecisionRows,
        scratch: &mut Scratch,
    ) -> Option<u64> {
        let shift = self.shift;
        let Scratch { x } = scratch;
        // Nonzero when a row must take the rows path.
        let mut slow = 0u64;
        // A campaign or segment: the general engine.
        for col in inp.divert.iter().flatten() {
            col.values.get(s..s + BLOCK)?;
            slow |= match col.validity {
                Some(bits) => presence(bits, s)?,
                None => !0,
            };
        }
        if let Some(sc) = inp.scales {
            let sc: &[u8; BLOCK] = sc.get(s..s + BLOCK)?.try_into().ok()?;
            // One OR a byte: the compiler folds it into a few vector ops.
            slow |= u64::from(sc.iter().fold(0u8, |a, &b| a | b) != 0);
        }
        {
            let p: &[i64; BLOCK] = proposed.get(s..s + BLOCK)?.try_into().ok()?;
            slow |= money_rows::<true>(p, !0, 1, &mut x.p) >> shift;
        }
        let (range, currents) = load_money(inp.current, s, 1, shift, &mut x.current)?;
        slow |= range;
        let (range, costs) = load_money(inp.cost, s, 0, shift, &mut x.cost)?;
        // A row without a cost where the policy needs one: once a block.
        slow |= range | u64::from(self.needs_cost & (costs != !0));
        slow |= load_money(inp.reference, s, 1, shift, &mut x.reference)?.0;
        let units = load_raw(inp.units, s)?;
        let now = load_raw(inp.now, s)?;
        let last = load_raw(inp.last_change, s)?;
        // The rows a cooldown can hold: it is on, and they have a current
        // price and a last change (a word a block, not three masks a row).
        let cools = last.present & currents & 0u64.wrapping_sub(self.cooldown.is_some().into());
        self.finish(x, false, slow, units, now, last, cools, out)
    }

    /// The rest of a block once its money is loaded (`slow` so far): the
    /// units and cooldowns, then the decisions unless a row is slow.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn finish<U: UnitsIn>(
        &self,
        x: &mut Loaded,
        fine: bool,
        mut slow: u64,
        units: U,
        now: Raw<'_>,
        last: Raw<'_>,
        cools: u64,
        out: &mut DecisionRows,
    ) -> Option<u64> {
        // Time columns without a validity bitmap and a cooldown that may
        // hold every row (the common case) need no validity bits in the
        // loop.
        slow |= if now.present & last.present & cools == !0 {
            self.units_rows::<true, _>(x, units, now, last, cools)
        } else {
            self.units_rows::<false, _>(x, units, now, last, cools)
        };
        if slow != 0 {
            return None;
        }
        match (self.rare, fine) {
            (true, false) => self.decide::<true, false>(x, out),
            (false, false) => self.decide::<false, false>(x, out),
            (true, true) => self.decide::<true, true>(x, out),
            (false, true) => self.decide::<false, true>(x, out),
        }
    }

    /// [`Lanes::block_inner`] for float64 columns: the same decisions
    /// from the same values, read straight from the caller's floats.
    #[inline(always)]
    fn float_block_inner(
        &self,
        inp: &FloatInputs<'_>,
        s: usize,
        out: &mut DecisionRows,
        scratch: &mut Scratch,
    ) -> Option<u64> {
        let (shift, pow) = (self.shift, inp.pow);
        let Scratch { x } = scratch;
        let (mut slow, fine) = load_float_proposal(inp.proposed, s, pow, shift, x)?;
        let (range, currents) =
            load_float_money::<false>(inp.current, s, pow, 1, shift, &mut x.current)?;
        slow |= range;
        let (range, costs) = load_float_money::<false>(inp.cost, s, pow, 0, shift, &mut x.cost)?;
        slow |= range | u64::from(self.needs_cost & (costs != !0));
        slow |= load_float_money::<false>(inp.reference, s, pow, 1, shift, &mut x.reference)?.0;
        let now = inp.now.rows(s)?;
        let last = inp.last_change.rows(s)?;
        let cools = last.present & currents & 0u64.wrapping_sub(self.cooldown.is_some().into());
        match inp.units {
            Some(col) => {
                let units = FloatUnits {
                    vals: col.get(s..s + BLOCK)?.try_into().ok()?,
                };
                self.finish(x, fine, slow, units, now, last, cools, out)
            }
            None => self.finish(x, fine, slow, Raw::ABSENT, now, last, cools, out),
        }
    }

    /// Reads the units into `x.units` and works out which rows are cooling
    /// down into `x.cooling`; nonzero when a row must take the rows path.
    /// `cools`: the rows a cooldown can hold (see `block_inner`). `DENSE`:
    /// every row has `now` and `last_change_at`, and `cools` is all ones.
    #[inline(always)]
    fn units_rows<const DENSE: bool, U: UnitsIn>(
        &self,
        x: &mut Loaded,
        units: U,
        now: Raw<'_>,
        last: Raw<'_>,
        cools: u64,
    ) -> u64 {
        let mut slow = 0u64;
        let cd = self.cooldown.unwrap_or(0);
        for j in 0..BLOCK {
            let (uf, off) = units.unit(j);
            x.units[j] = uf;
            // The engine refuses reference x units above 2^61; the lanes
            // take only products below 2^52 (exact doubles: `NaN` where
            // either is absent, and then the comparison is false).
            let big = m(x.reference[j] * uf >= SPEND_CAP);
            slow |= (off | big) & 1;
            let (has_now, has_last, may_cool) = if DENSE {
                (!0, !0, !0)
            } else {
                (now.has(j), last.has(j), bit(cools, j))
            };
            let (n, l) = (now.vals[j] & has_now as i64, last.vals[j] & has_last as i64);
            slow |= u64::from((n | l) < 0);
            // Both non-negative here (else the row is slow): no overflow.
            let since = n.wrapping_sub(l);
            let cooling = !has_now | m(since < cd);
            x.cooling[j] = may_cool & cooling;
        }
        slow
    }

    /// Row `j` of a block: its bounds, interval, price, violated and
    /// binding rules, reason and spend into `out`; returns all ones when
    /// the row is bad (a class to relax or an unbounded interval without
    /// `WALK`; with it, an infeasible hard class or an unbounded interval
    /// after the walk) and 1 when it violates a hard or financial rule.
    /// One definition for the block loop (`WALK` false, vectorised) and
    /// the rows that relax a class (`WALK` true, one at a time).
    #[inline(always)]
    fn row<const RARE: bool, const FINE: bool, const WALK: bool>(
        &self,
        x: &Loaded,
        j: usize,
        out: &mut DecisionRows,
    ) -> (u64, u64) {
        const COOLDOWN: i64 = 1 + Rule::Cooldown as i64;
        const TICK: i64 = 1 + Rule::Tick as i64;
        const TICK_BIT: u64 = 1 << Rule::Tick as u8;
        let c = &self.params;
        let bounded = m(!self.allow_unbounded);
        let p = x.p[j];
        // The snapped proposal, which is clamped; `p` is judged.
        let snapped = if FINE { x.s[j] } else { p };
        let (current, cost, reference) = (x.current[j], x.cost[j], x.reference[j]);
        let cooling = sel(x.cooling[j], current, f64::NAN);
        // Each slot's bound (`NaN` where it does not apply): a ratio
        // of a column rounded up for a lower bound, down for an upper
        // one. The engine saturates `current - step` and rounds it to
        // the tick (one): below one it is still a bound.
        let mut b = [f64::NAN; SLOTS];
        b[MIN_PRICE] = c.min_price;
        b[MAX_PRICE] = c.max_price;
        b[MARGIN] = c.margin.ceil(cost);
        if RARE {
            b[MARKUP] = c.markup.ceil(cost);
            b[UNIT_MARGIN] = cost + c.unit_margin;
            b[STEP_DOWN] = current - c.max_step;
            b[STEP_UP] = current + c.max_step;
        }
        b[MAX_DISCOUNT] = c.discount.ceil(reference);
        b[MAX_INCREASE] = c.increase.floor(current);
        b[MAX_DECREASE] = c.decrease.ceil(current);
        b[COOLDOWN_LO] = cooling;
        b[COOLDOWN_HI] = cooling;
        // Without `WALK` every class is kept: the interval is the
        // intersection of every bound, and a row that would relax a class
        // is marked bad (`lo > hi`). `lowest` stays -inf when no lower
        // bound applies.
        let mut lowest = f64::NEG_INFINITY;
        let mut hi = f64::INFINITY;
        for k in 0..SLOTS {
            if SLOT_RULES[k].1 {
                lowest = max(lowest, b[k]);
            } else {
                hi = min(hi, b[k]);
            }
        }
        let mut lo = max(1.0, lowest);
        let mut unbounded = m((hi == f64::INFINITY) | (lowest == f64::NEG_INFINITY));
        let mut bad = m(lo > hi) | (bounded & unbounded);
        // The kept classes, as masks, and the classes relaxed.
        let (mut fin_ok, mut st_ok, mut relaxed) = (!0u64, !0u64, 0u8);
        if WALK {
            // The walk of docs/spec.md §5.2 over the three classes the
            // lanes hold, hard first: a class whose bounds would empty the
            // interval is relaxed. Only for the few rows marked bad above,
            // one at a time: in the block loop it cost a third more
            // instructions a row.
            let (mut cl, mut ch) = ([f64::NEG_INFINITY; 3], [f64::INFINITY; 3]);
            for k in 0..SLOTS {
                let c = SLOT_RULES[k].0.class() as usize;
                if let (Some(l), Some(h)) = (cl.get_mut(c), ch.get_mut(c)) {
                    if SLOT_RULES[k].1 {
                        *l = max(*l, b[k]);
                    } else {
                        *h = min(*h, b[k]);
                    }
                }
            }
            let (fin, stab) = ((cl[1], ch[1]), (cl[2], ch[2]));
            let order = if self.fin_first {
                [fin, stab]
            } else {
                [stab, fin]
            };
            let (mut l, mut h) = (max(1.0, cl[0]), ch[0]);
            let hard_empty = l > h;
            let mut kept = [true; 2];
            let mut has_lo = cl[0] > f64::NEG_INFINITY;
            for (i, (cl, ch)) in order.into_iter().enumerate() {
                let (nl, nh) = (max(l, cl), min(h, ch));
                if nl <= nh {
                    (l, h) = (nl, nh);
                    has_lo |= cl > f64::NEG_INFINITY;
                } else {
                    kept[i] = false;
                }
            }
            let (f_kept, s_kept) = if self.fin_first {
                (kept[0], kept[1])
            } else {
                (kept[1], kept[0])
            };
            fin_ok = m(f_kept);
            st_ok = m(s_kept);
            relaxed = (u8::from(!f_kept) << crate::rules::Class::Financial as u8)
                | (u8::from(!s_kept) << crate::rules::Class::Stability as u8);
            (lo, hi) = (l, h);
            unbounded = m((h == f64::INFINITY) | !has_lo);
            bad = m(hard_empty) | (bounded & unbounded);
        }
        let price = min(max(snapped, lo), hi);
        // Each slot's rule where the proposal violates it (low half)
        // and its attaining bit where its bound is the price (high
        // half). A lower bound is at most `lo` and an upper one at
        // least `hi`, so a bound equal to the price is one the price
        // attains on its side: the binding rules.
        let mut acc = 0u64;
        for k in 0..SLOTS {
            let v = if SLOT_RULES[k].1 {
                m(p < b[k])
            } else {
                m(p > b[k])
            };
            acc |= (v & BIT[k]) | (m(b[k] == price) & (ATT[k] << 32));
        }
        let violated = acc & u64::from(u32::MAX);
        // Only kept classes' rules bind (C6) and name the reason (C5).
        let att = if WALK {
            (acc >> 32) & (HARD_ATT | (fin_ok & FINANCIAL_ATT) | (st_ok & STABILITY_ATT))
        } else {
            acc >> 32
        };
        let mut binding = if RARE {
            (att & !ALIAS) | ((att & ALIAS) >> 1)
        } else {
            att
        };
        let mut violated = violated;
        // A finer proposal breaks the tick, and the snap binds where
        // the price is the snapped proposal (C6).
        let off = m(FINE & (snapped != p));
        if FINE {
            violated |= off & TICK_BIT;
            binding |= off & m(price == snapped) & TICK_BIT;
        }
        out.binding[j] = binding;
        out.violated[j] = violated;
        out.price[j] = to_i(price);
        out.lower[j] = to_i(lo);
        let open = m(hi == f64::INFINITY) as i64;
        out.upper[j] = (i64::MAX & open) | (to_i(hi) & !open);
        // The rule that decided a clamped price: of the rules attaining
        // the clamped side (a moved price not raised to `lo` was lowered
        // to `hi`), the
        // first in priority order, the lowest bit of those of the first
        // classes (see `Lanes::first`). Its position is the exponent of
        // the bit as a double. Garbage where the price did not move.
        let side = att & sel_u(m(snapped < lo), LOWER_ATT, UPPER_ATT);
        let pri = side & self.first;
        let r = sel_u(m(pri == 0), side, pri);
        let low = r & r.wrapping_neg();
        let exponent = (to_f(low as i64).to_bits() >> 52) as i64;
        // `Reason::Rule(r)` is `1 + r as u8`.
        let mut source = exponent.wrapping_sub(1022);
        if RARE {
            // The upper `max_step` slot's bit 12 names `max_step` (11).
            source = source.wrapping_sub(i64::from(source == 13));
        }
        // Accepted (no reason) unless moved; held by a cooldown, else
        // adjusted by the source rule (never `cooldown`: its bounds
        // are `NaN` on a row that is not cooling down). The outcome
        // follows from the reason, after the loop.
        let moved = m(price != p) as i64;
        // A cooldown holds only with the stability class kept.
        let held = moved & (x.cooling[j] & st_ok) as i64;
        let adjusted = moved & !held;
        if FINE {
            // Moved only by the snap (the snapped proposal is inside
            // the interval): the reason is the tick, as the engine's
            // unclamped adjustment says.
            let inside = m((lo <= snapped) & (snapped <= hi)) as i64;
            source = (TICK & inside) | (source & !inside);
        }
        out.reason[j] = ((source & adjusted) | (COOLDOWN & held)) as u8;
        // (reference - price)^+ x units, exact: reference x units < 2^52
        // (`NaN`, so `-1`, where the row has no reference or no
        // forecast: `max` keeps a `NaN` first operand).
        let spend = max(reference - price, 0.0) * x.units[j];
        out.promo_spend[j] = to_i(spend) | m(spend.is_nan()) as i64;
        if WALK {
            out.relaxed[j] = relaxed;
        }
        (bad, u64::from(violated & HARD_OR_FINANCIAL != 0))
    }

    /// The decisions of a block none of whose rows is slow, or `None` when
    /// one of them turns out to be off the common path.
    ///
    /// One pass over the rows: every slot's bound is computed for every
    /// row (an inactive slot's parameters are `NaN`, so its bound is
    /// `NaN` and every comparison and `max`/`min` ignores it), folded into
    /// the interval, and compared with it again for the binding rules and
    /// the reason, all in registers. Separate passes per slot kept the
    /// interval, flags and reasons in 64-row arrays that every pass loaded
    /// and stored again, which cost more than computing the few bounds a
    /// policy does not use.
    ///
    /// `RARE`: the slots of markup, unit margin and `max_step`, which few
    /// policies use, are computed too; otherwise their bounds are the
    /// constant `NaN`, and the compiler folds them away (a quarter of the
    /// loop on the policies most callers run). Skipping them with a
    /// `continue` instead stopped the loop vectorising.
    #[inline(always)]
    fn decide<const RARE: bool, const FINE: bool>(
        &self,
        x: &Loaded,
        out: &mut DecisionRows,
    ) -> Option<u64> {
        const COOLDOWN: i64 = 1 + Rule::Cooldown as i64;
        let mut bad = 0u64;
        // A wrapping sum of at most 64 ones: no overflow, and no overflow
        // check to stop the loop from vectorising.
        let mut n_violators = 0u64;
        out.len = BLOCK;
        if out.relaxed_dirty {
            out.relaxed = [0; BLOCK];
            out.relaxed_dirty = false;
        }
        for j in 0..BLOCK {
            let (row_bad, violator) = self.row::<RARE, FINE, false>(x, j, out);
            // Bit `j`: this row relaxes a class or is unbounded.
            bad |= row_bad & (1u64 << j);
            n_violators = n_violators.wrapping_add(violator);
        }
        out.rel = 0;
        if bad != 0 {
            // Each such row again, alone, with the class walk: decided
            // here with its relaxed classes, unless its hard class is
            // infeasible or its interval unbounded (left to the engine).
            let mut left = 0u64;
            let mut rows = bad;
            while rows != 0 {
                let j = rows.trailing_zeros() as usize;
                rows &= rows - 1;
                let (row_bad, _) = self.row::<RARE, FINE, true>(x, j, out);
                left |= (row_bad & 1) << j;
            }
            out.rel = bad & !left;
            out.relaxed_dirty = true;
        }
        if bad != 0 {
            // The block's counts are not used: `DecisionRows::select`
            // counts each window from these marks.
            let mut marks = [0u64; 3];
            for j in 0..BLOCK {
                let r = out.reason[j];
                let held = i64::from(r) == COOLDOWN;
                out.outcome[j] = u8::from(r != 0) + u8::from(held);
                marks[0] |= u64::from((r != 0) & !held) << j;
                marks[1] |= u64::from(held) << j;
                marks[2] |= u64::from(out.violated[j] & HARD_OR_FINANCIAL != 0) << j;
            }
            out.marks = marks;
            return Some(bad);
        }
        // Each outcome from its reason (none: accepted; `cooldown`: held;
        // else adjusted), and their counts, 32 rows an instruction on the
        // bytes: computing the outcome in the loop's 64-bit lanes and
        // narrowing it to bytes there took eight instructions for four
        // rows, the counts two accumulators.
        let (mut n_moved, mut n_held) = (0u8, 0u8);
        for j in 0..BLOCK {
            let r = out.reason[j];
            let (moved, held) = (u8::from(r != 0), u8::from(i64::from(r) == COOLDOWN));
            out.outcome[j] = moved.wrapping_add(held);
            n_moved = n_moved.wrapping_add(moved);
            n_held = n_held.wrapping_add(held);
        }
        let n_adjusted = n_moved.wrapping_sub(n_held);
        out.counts = [n_adjusted.into(), n_held.into(), n_violators];
        Some(0)
    }

    /// Decides rows `s..s + BLOCK` into `out` when every one of them takes
    /// the common path; `false` (and `out.len() == 0`) sends the block to
    /// the rows path.
    #[inline(never)]
    pub(crate) fn block(
        &self,
        src: Source<'_, '_>,
        s: usize,
        out: &mut DecisionRows,
        scratch: &mut Scratch,
    ) -> Option<u64> {
        out.len = 0;
        out.off = 0;
        // The widest copy this thread may take: 2 any, 1 up to AVX2, 0 the
        // portable one (tests pin each in turn; elsewhere always 2).
        #[cfg(all(test, feature = "testkit", not(miri)))]
        let cap = CAP.with(core::cell::Cell::get);
        #[cfg(not(all(test, feature = "testkit", not(miri))))]
        let cap = 2u8;
        let cap = match cap {
            0 => crate::Simd::Portable,
            1 => crate::Simd::Avx2,
            _ => crate::Simd::Avx512,
        };
        let (ok, copy) = crate::cpu::run(
            Block {
                lanes: self,
                src,
                s,
                out,
                scratch,
            },
            cap,
        );
        let copy = copy as usize;
        #[cfg(all(test, feature = "testkit", not(miri)))]
        if let Some(left) = ok {
            use core::sync::atomic::Ordering::Relaxed;
            let decided = BLOCK as u64 - u64::from((left & !out.rel).count_ones());
            LANE_ROWS.fetch_add(decided, Relaxed);
            THREAD_ROWS.with(|n| n.set(n.get() + decided));
            THREAD_BLOCKS.with(|n| n.set(n.get() + 1));
            if left != 0 {
                PARTIAL_ROWS.fetch_add(decided, Relaxed);
            }
            RELAXED_ROWS.fetch_add(u64::from(out.rel.count_ones()), Relaxed);
            if let Some(rows) = COPY_ROWS.get(copy) {
                rows.fetch_add(decided, Relaxed);
            }
        }
        let _ = (cap, copy);
        ok
    }
}

/// [`Lanes::block_body`] as a [`crate::cpu::Kernel`]: one body, compiled
/// for each SIMD copy.
struct Block<'l, 'a, 'b, 'o> {
    lanes: &'l Lanes,
    src: Source<'a, 'b>,
    s: usize,
    out: &'o mut DecisionRows,
    scratch: &'o mut Scratch,
}

impl crate::cpu::Kernel for Block<'_, '_, '_, '_> {
    type Output = Option<u64>;
    #[inline(always)]
    fn run(self) -> Option<u64> {
        self.lanes
            .block_body(self.src, self.s, self.out, self.scratch)
    }
}

/// Rows the lanes decided (tests check the comparisons are not vacuous).
#[cfg(all(test, feature = "testkit", not(miri)))]
pub(crate) static LANE_ROWS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Of those, rows decided in blocks that left some rows to the rows path.
#[cfg(all(test, feature = "testkit", not(miri)))]
static PARTIAL_ROWS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Of those, rows that relaxed a class.
#[cfg(all(test, feature = "testkit", not(miri)))]
static RELAXED_ROWS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Of those, rows each copy decided: portable, AVX2, AVX-512.
#[cfg(all(test, feature = "testkit", not(miri)))]
static COPY_ROWS: [core::sync::atomic::AtomicU64; 3] = [
    core::sync::atomic::AtomicU64::new(0),
    core::sync::atomic::AtomicU64::new(0),
    core::sync::atomic::AtomicU64::new(0),
];

#[cfg(all(test, feature = "testkit", not(miri)))]
std::thread_local! {
    /// Tests: the widest copy this thread takes (2 any, 1 up to AVX2, 0
    /// portable), so that every copy the CPU can run is checked against
    /// the engine.
    static CAP: core::cell::Cell<u8> = const { core::cell::Cell::new(2) };
    /// Rows the lanes decided on this thread (tests running alongside
    /// do not count).
    static THREAD_ROWS: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
    /// Blocks the lanes took on this thread, wholly or but for some rows.
    static THREAD_BLOCKS: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

// Left out under miri like the kernel's: generating policies in the
// interpreter takes minutes, and the AVX2 copy is not built there.
#[cfg(all(test, feature = "testkit", not(miri)))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use crate::batch::Columns;
    use crate::item::{Field, Item};
    use crate::policy::Policy;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;
    use core::sync::atomic::{AtomicU64, Ordering};
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    #[test]
    fn conversions_are_exact() {
        for x in [0i64, 1, 2, 99, 12_345, (1 << 48) - 1, (1 << 52) - 1] {
            assert_eq!(to_f(x), x as f64);
            assert_eq!(to_i(x as f64), x);
        }
        assert_eq!(round(2.5), 2.0);
        assert_eq!(round(3.5), 4.0);
        assert_eq!(round(7.25), 7.0);
    }

    /// `LaneFactor::ceil` / `LaneFactor::floor` against exact integer division, at the
    /// edges of their range and on awkward divisors.
    #[test]
    fn maps_round_exactly() {
        let cases = [
            (20, 17),
            (11, 10),
            (4, 5),
            (1, 2),
            (1_000_001, 1_000_000),
            (7, 3),
            (1, 1),
        ];
        for (a, b) in cases {
            let map = LaneFactor::new(a, b).unwrap();
            let g = gcd(a as u64, b as u64) as i64;
            let (ra, rb) = (a / g, b / g);
            let lim = map.limit();
            let mut xs: Vec<i64> = (0..2000).collect();
            xs.extend((0..2000).map(|k| lim - 1 - k));
            xs.extend((1..60).map(|k| (lim / 61) * k + k));
            for x in xs {
                let n = i128::from(x) * i128::from(ra);
                let (fl, cl) = (
                    n.div_euclid(rb.into()),
                    (n + i128::from(rb) - 1).div_euclid(rb.into()),
                );
                assert_eq!(map.floor(to_f(x)), fl as f64, "floor {x} * {a} / {b}");
                assert_eq!(map.ceil(to_f(x)), cl as f64, "ceil {x} * {a} / {b}");
            }
            assert!(map.ceil(f64::NAN).is_nan());
        }
    }

    fn ratio() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => (1u32..40).prop_map(|p| format!("0.{p:02}")),
            1 => (1u32..999).prop_map(|p| format!("0.{p:03}")),
            1 => Just(String::from("0.333333")),
        ]
    }

    /// Random policies with only the rules the lanes decide.
    fn lane_policy() -> impl Strategy<Value = Policy> {
        let opt = |s: BoxedStrategy<String>| proptest::option::weighted(0.6, s);
        (
            (
                opt((1u32..500)
                    .prop_map(|c| format!("{}.{:02}", c / 100, c % 100))
                    .boxed()),
                opt((100u32..900).prop_map(|m| format!("{m}")).boxed()),
                opt(ratio().boxed()),
                opt(ratio().boxed()),
                opt((1u32..300).prop_map(|c| format!("0.{c:02}")).boxed()),
            ),
            (
                opt(ratio().boxed()),
                opt(ratio().boxed()),
                opt(ratio().boxed()),
                opt((1u32..100).prop_map(|s| format!("{s}")).boxed()),
                proptest::option::weighted(0.6, 1u32..7200),
                any::<bool>(),
                Just(["financial", "stability", "market"]).prop_shuffle(),
            ),
        )
            .prop_filter_map(
                "refused",
                |((min, max, margin, markup, unit), (discount, inc, dec, step, cd, unb, order))| {
                    let mut t = String::from("name = \"lanes\"\ncurrency = \"USD\"\n");
                    t += &format!(
                        "priority = [\"hard\", \"{}\", \"{}\", \"{}\"]\nallow_unbounded = {unb}\n",
                        order[0], order[1], order[2]
                    );
                    let line = |k: &str, v: &Option<String>| match v {
                        Some(v) => format!("{k} = \"{v}\"\n"),
                        None => String::new(),
                    };
                    t += "[bounds]\n";
                    t += &line("min_price", &min);
                    t += &line("max_price", &max);
                    t += "[margin]\n";
                    t += &line("min_margin", &margin);
                    t += &line("min_markup", &markup);
                    t += &line("min_unit_margin", &unit);
                    t += "[change]\n";
                    t += &line("max_increase", &inc);
                    t += &line("max_decrease", &dec);
                    t += &line("max_step", &step);
                    if let Some(cd) = cd {
                        t += &format!("cooldown_secs = {cd}\n");
                    }
                    t += "[promotion]\n";
                    t += &line("max_discount", &discount);
                    Policy::from_toml_str(&t).ok()
                },
            )
    }

    /// One row: mostly catalogue-like values (as in the shared workload),
    /// some absent, a few wild or out of the lanes' range.
    fn lane_row() -> impl Strategy<Value = [Option<i64>; 7]> {
        let odd = || {
            prop_oneof![
                3000 => Just(None::<i64>),
                4 => Just(Some(-1)),
                1 => prop_oneof![Just(0i64), Just(-5), Just(1 << 50), Just(crate::MAX_MONEY)].prop_map(Some),
            ]
        };
        (
            (100i64..10_000, 120u32..180, 70u32..130, 0u32..100),
            (odd(), odd(), odd()),
            proptest::option::weighted(0.1, 1i64..500),
            proptest::option::weighted(0.97, 1_800_000_000i64..1_800_000_100),
            proptest::option::weighted(0.97, 1_799_990_000i64..1_800_000_000),
        )
            .prop_map(|((cost, up, step, wild), (x, y, z), units, now, last)| {
                let current = cost * i64::from(up) / 100;
                let mut p = current * i64::from(step) / 100;
                if wild < 3 {
                    p = (p / 100).max(1);
                } else if wild < 6 {
                    p *= 10;
                }
                let promo = units.is_some();
                // -1: absent; another override: that value.
                let pick = |o: Option<i64>, v: Option<i64>| match o {
                    None => v,
                    Some(-1) => None,
                    Some(w) => Some(w),
                };
                [
                    Some(p),
                    pick(x, Some(current)),
                    pick(y, Some(cost)),
                    pick(z, promo.then_some(current)),
                    units,
                    now,
                    last,
                ]
            })
    }

    const FIELDS: [Field; 6] = [
        Field::CurrentPrice,
        Field::UnitCost,
        Field::ReferencePrice,
        Field::ExpectedUnits,
        Field::Now,
        Field::LastChangeAt,
    ];

    static ROWS: AtomicU64 = AtomicU64::new(0);
    static ALL: AtomicU64 = AtomicU64::new(0);
    static UNALIGNED: AtomicU64 = AtomicU64::new(0);

    proptest! {
        #![proptest_config(Config { cases: 300, failure_persistence: None, ..Config::default() })]

        /// Columnar batches where most blocks take the lanes decide every
        /// row exactly as the general engine, with the same summary as the
        /// item path, with and without validity bitmaps.
        #[test]
        fn lanes_match_the_engine(
            policy in lane_policy(),
            rows in proptest::collection::vec(lane_row(), 64..400),
            offset in 0usize..3,
            cap in 0u8..3,
        ) {
            CAP.with(|c| c.set(cap));
            let n = rows.len();
            let proposed: Vec<i64> = rows.iter().map(|r| r[0].unwrap_or(0)).collect();
            let items: Vec<Item> = rows
                .iter()
                .map(|r| {
                    let mut it = Item::new(r[0].unwrap_or(0));
                    for (f, v) in FIELDS.iter().zip(&r[1..]) {
                        if let Some(v) = v {
                            it.set(*f, *v);
                        }
                    }
                    it
                })
                .collect();
            let mut owned = Vec::new();
            for (k, f) in FIELDS.iter().enumerate() {
                // Under a cleared validity bit lies junk (a caller's masked
                // array keeps whatever was there): it must never be read.
                let junk = |i: usize| [i64::MIN, -1, i64::MAX, 123_456_789][(i + k) % 4];
                let vals: Vec<i64> = rows
                    .iter()
                    .enumerate()
                    .map(|(i, r)| r[k + 1].unwrap_or(junk(i)))
                    .collect();
                let mut bits = vec![0u8; n.div_ceil(8)];
                for (i, r) in rows.iter().enumerate() {
                    if r[k + 1].is_some() {
                        bits[i / 8] |= 1 << (i % 8);
                    }
                }
                let full = rows.iter().all(|r| r[k + 1].is_some());
                owned.push((*f, vals, (!full).then_some(bits)));
            }
            // A batch starting part-way into the rows checks unaligned bitmaps.
            let start = offset.min(n);
            let mut cols = Columns::new(&proposed[start..]);
            let cut: Vec<(Field, Vec<i64>, Option<Vec<u8>>)> = owned
                .iter()
                .map(|(f, v, b)| {
                    let bits = b.as_ref().map(|_| {
                        let mut nb = vec![0u8; (n - start).div_ceil(8)];
                        for i in start..n {
                            if rows[i][FIELDS.iter().position(|x| x == f).unwrap() + 1].is_some() {
                                nb[(i - start) / 8] |= 1 << ((i - start) % 8);
                            }
                        }
                        nb
                    });
                    (*f, v[start..].to_vec(), bits)
                })
                .collect();
            for (f, v, b) in &cut {
                cols = cols.with(*f, v, b.as_deref()).unwrap();
            }
            let before = LANE_ROWS.load(Ordering::Relaxed);
            let mut got = vec![crate::Decision::default(); n - start];
            let summary = policy.evaluate_columns(&cols, &mut got).unwrap();
            let lanes = LANE_ROWS.load(Ordering::Relaxed) - before;
            ROWS.fetch_add(lanes, Ordering::Relaxed);
            ALL.fetch_add((n - start) as u64, Ordering::Relaxed);
            let mut want = vec![crate::Decision::default(); n - start];
            let want_summary = policy.evaluate_batch(&items[start..], &mut want).unwrap();
            for (i, item) in items[start..].iter().enumerate() {
                let engine = crate::engine::evaluate_rules(
                    policy.rules_for(None),
                    item,
                    policy.budget_view(item, None),
                );
                prop_assert_eq!(got[i], engine, "row {} {:?}", i, item);
            }
            prop_assert_eq!(summary, want_summary);

            // Blocks that start off a byte of the validity bitmaps (the
            // kernel over rows 5..): the same decisions again.
            if let Some(kernel) = crate::kernel::Kernel::new(policy.prepared_for(None).1, &cols) {
                let from = 5.min(n - start);
                let mut seen = 0;
                let lanes_before = LANE_ROWS.load(Ordering::Relaxed);
                kernel.run(
                    from..n - start,
                    |i| crate::engine::evaluate_rules(
                        policy.rules_for(None),
                        &items[start + i],
                        policy.budget_view(&items[start + i], None),
                    ),
                    &mut |i: usize, d: &crate::Decision| {
                        assert_eq!(*d, got[i], "row {i} from an unaligned block");
                        seen += 1;
                    },
                );
                prop_assert_eq!(seen, n - start - from);
                UNALIGNED.fetch_add(LANE_ROWS.load(Ordering::Relaxed) - lanes_before, Ordering::Relaxed);
            }
        }
    }

    /// How many times [`same_as_engine`] decides its rows: once per cap
    /// (AVX-512, AVX2, portable; a cap the CPU lacks runs the next copy).
    const RUNS: u64 = 3;

    /// Decides `n` copies of `row` (proposed, then the `FIELDS`) in a
    /// column batch, on every copy of the block loop, and checks every
    /// decision against the engine's; returns the rows the lanes decided.
    fn same_as_engine(toml: &str, row: [Option<i64>; 7], n: usize) -> u64 {
        let policy = Policy::from_toml_str(toml).unwrap();
        let mut item = Item::new(row[0].unwrap());
        for (f, v) in FIELDS.iter().zip(&row[1..]) {
            if let Some(v) = v {
                item.set(*f, *v);
            }
        }
        let want = crate::engine::evaluate_rules(
            policy.rules_for(None),
            &item,
            policy.budget_view(&item, None),
        );
        let proposed = vec![row[0].unwrap(); n];
        // Under a cleared validity bit, junk that would be a valid value.
        let vals: Vec<Vec<i64>> = row[1..].iter().map(|v| vec![v.unwrap_or(77); n]).collect();
        let none = vec![0u8; n.div_ceil(8)];
        let mut cols = Columns::new(&proposed);
        for (k, f) in FIELDS.iter().enumerate() {
            let bits = row[k + 1].is_none().then_some(&none[..]);
            cols = cols.with(*f, &vals[k], bits).unwrap();
        }
        let before = THREAD_ROWS.with(core::cell::Cell::get);
        for cap in [2, 1, 0] {
            CAP.with(|c| c.set(cap));
            let mut got = vec![crate::Decision::default(); n];
            policy.evaluate_columns(&cols, &mut got).unwrap();
            for d in &got {
                assert_eq!(*d, want, "{item:?}");
            }
        }
        CAP.with(|c| c.set(2));
        THREAD_ROWS.with(core::cell::Cell::get) - before
    }

    /// A price raised to `lo` where `lo == hi`: the reason is the lower
    /// side's rule (unit margin) even though `current + max_step` on the
    /// upper side attains the price too and stability comes first.
    #[test]
    fn the_reason_comes_from_the_clamped_side() {
        let toml = "name = \"s\"\ncurrency = \"USD\"\nallow_unbounded = true\n\
            priority = [\"hard\", \"stability\", \"financial\", \"market\"]\n\
            [margin]\nmin_unit_margin = \"0.10\"\n[change]\nmax_step = \"0.10\"\n";
        let row = [Some(500), Some(1000), Some(1000), None, None, None, None];
        let lanes = same_as_engine(toml, row, 128);
        assert_eq!(lanes, RUNS * 128, "the lanes decided {lanes} rows");
        // And from the upper side: lowered to `hi == lo`.
        let row = [Some(5000), Some(1000), Some(1000), None, None, None, None];
        assert_eq!(same_as_engine(toml, row, 128), RUNS * 128);
    }

    /// Promotion spends whose `reference x units` reaches 2^52 (not an
    /// exact double below it) are left to the rows path.
    #[test]
    fn large_promotion_spends_are_exact() {
        let toml = "name = \"s\"\ncurrency = \"USD\"\nallow_unbounded = true\n[promotion]\nmax_discount = \"0.50\"\n";
        for (reference, units) in [(1i64 << 47, 99), ((1 << 44) + 3, 1001), (1 << 40, 4095)] {
            // Raised to half the reference: a spend of about 2^52.
            let row = [
                Some(1),
                None,
                Some(7),
                Some(reference),
                Some(units),
                None,
                None,
            ];
            same_as_engine(toml, row, 64);
        }
        // A reference without a forecast spends nothing.
        let row = [Some(1), None, Some(7), Some(1000), None, None, None];
        assert_eq!(same_as_engine(toml, row, 64), RUNS * 64);
        // Just below the cap the lanes decide them.
        let row = [
            Some(1 << 40),
            None,
            Some(7),
            Some((1 << 40) + 5),
            Some(4095),
            None,
            None,
        ];
        assert_eq!(same_as_engine(toml, row, 64), RUNS * 64);
    }

    /// Values the engine refuses, or too large for the lanes' exact
    /// arithmetic, send their block to the rows path (which decides as the
    /// engine does); in range they take the lanes.
    #[test]
    fn values_out_of_range_take_the_rows_path() {
        let toml =
            "name = \"s\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"5000\"\n\
            [margin]\nmin_margin = \"0.15\"\n[change]\nmax_decrease = \"0.20\"\n\
            [promotion]\nmax_discount = \"0.50\"\n";
        let ok = [
            Some(900),
            Some(1000),
            Some(700),
            Some(1000),
            None,
            None,
            None,
        ];
        assert_eq!(same_as_engine(toml, ok, 64), RUNS * 64);
        for (k, v) in [
            (0, 0),
            (1, 0),
            (2, -1),
            (3, 0),
            (1, 1 << 48),
            (2, 1 << 48),
            (3, 1 << 48),
            (0, -5),
        ] {
            let mut row = ok;
            row[k] = Some(v);
            assert_eq!(same_as_engine(toml, row, 64), 0, "field {k} = {v}");
        }
    }

    /// Cooldowns with `now` and `last_change_at` on every row (no validity
    /// bitmap): held within the cooldown, adjusted after it.
    #[test]
    fn cooldowns_on_full_time_columns() {
        let toml =
            "name = \"s\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"5000\"\n\
            [change]\nmax_increase = \"0.10\"\ncooldown_secs = 3600\n";
        const NOW: i64 = 1_800_000_000;
        for (ago, cooling) in [(1_000, true), (9_000, false), (3_599, true), (3_600, false)] {
            let row = [
                Some(1200),
                Some(1000),
                None,
                None,
                None,
                Some(NOW),
                Some(NOW - ago),
            ];
            let policy = Policy::from_toml_str(toml).unwrap();
            let mut item = Item::new(1200);
            item.set(Field::CurrentPrice, 1000);
            item.set(Field::Now, NOW);
            item.set(Field::LastChangeAt, NOW - ago);
            let d = crate::engine::evaluate_rules(
                policy.rules_for(None),
                &item,
                policy.budget_view(&item, None),
            );
            assert_eq!(d.outcome == Outcome::Held, cooling, "{d:?} {item:?}");
            assert_eq!(same_as_engine(toml, row, 64), RUNS * 64);
        }
        // A new listing (no current price) within the cooldown is not held.
        let row = [
            Some(900_000),
            None,
            None,
            None,
            None,
            Some(NOW),
            Some(NOW - 10),
        ];
        assert_eq!(same_as_engine(toml, row, 64), RUNS * 64);
    }

    /// A money value as a caller's float64 major units (USD), with one of
    /// the oddities a float column can hold.
    fn odd_money(v: Option<i64>, odd: u8) -> f64 {
        let major = v.map_or(f64::NAN, |v| v as f64 / 100.0);
        match odd {
            1 => f64::NAN,
            2 => major + 0.001,
            3 => f64::INFINITY,
            4 => -major,
            5 => f64::from_bits(major.to_bits() + 1),
            6 => 1e17,
            7 => -0.0,
            8 => 0.125,
            9 => 12.345,
            _ => major,
        }
    }

    /// Expected units as a caller's float64, with an oddity.
    fn odd_units(v: Option<i64>, odd: u8) -> f64 {
        let whole = v.map_or(f64::NAN, |v| v as f64);
        match odd {
            1 => f64::NAN,
            2 => 2.5,
            3 => f64::NEG_INFINITY,
            4 => -3.0,
            5 => 0.0,
            6 => 1e12,
            7 => -0.0,
            8 => 1e17,
            9 => whole + 0.5,
            _ => whole,
        }
    }

    /// How the integer path's caller reads a float (`FLAG_FAST`: exactly,
    /// as `Some`; NaN: `None`), or `Err` for any other value, which the
    /// caller converts one by one (and the float path never decides).
    fn read_float(v: f64, digits: u8) -> Result<Option<i64>, ()> {
        let (mut dst, mut flag) = ([0i64], [0u8]);
        crate::money::floats_to_minor_flags(&[v], digits, &mut dst, &mut flag);
        match flag[0] {
            crate::money::FLAG_FAST => Ok(Some(dst[0])),
            crate::money::FLAG_NAN => Ok(None),
            _ => Err(()),
        }
    }

    static FLOAT_ROWS: AtomicU64 = AtomicU64::new(0);
    static FLOAT_ALL: AtomicU64 = AtomicU64::new(0);
    static FLOAT_FINE: AtomicU64 = AtomicU64::new(0);
    static FLOAT_BY_CAP: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

    proptest! {
        #![proptest_config(Config { cases: 300, failure_persistence: None, ..Config::default() })]

        /// `Policy::evaluate_float_blocks` decides a block exactly when
        /// every value in it is one the integer path's caller reads
        /// exactly and the integer block path decides the converted block,
        /// and then gives the engine's decision for every row (and their
        /// summary), on every copy of the block loop.
        #[test]
        fn float_blocks_match_the_engine(
            policy in lane_policy(),
            rows in proptest::collection::vec(
                (lane_row(), proptest::array::uniform5(prop_oneof![1000 => Just(0u8), 1 => 1u8..10])),
                64..400,
            ),
            times in 0u8..4,
            cap in 0u8..3,
            fine in proptest::collection::vec(0u8..12, 64..400),
            fine_share in 0u8..4,
        ) {
            use crate::batch::{FloatColumns, TimeColumn};
            use crate::money::{float_to_amount, round_to_minor, Digits};
            CAP.with(|c| c.set(cap));
            const NOW: i64 = 1_800_000_050;
            let n = rows.len();
            // Proposed, current, cost, reference as major units, units.
            let money: Vec<[f64; 4]> = rows
                .iter()
                .map(|(r, o)| core::array::from_fn(|k| odd_money(r[k], o[k])))
                .collect();
            let units: Vec<f64> = rows.iter().map(|(r, o)| odd_units(r[4], o[4])).collect();
            let time = |k: usize| -> Vec<i64> {
                rows.iter().map(|(r, _)| r[k].unwrap_or(1_799_999_000)).collect()
            };
            let (now_vals, last_vals) = (time(5), time(6));
            let now = match times {
                0 => None,
                1 => Some(TimeColumn::Same(NOW)),
                _ => Some(TimeColumn::Values(&now_vals)),
            };
            let last = (times != 3).then_some(TimeColumn::Values(&last_vals));
            let col = |k: usize| -> Vec<f64> { money.iter().map(|m| m[k]).collect() };
            let (mut p, cur, cost, reference) = (col(0), col(1), col(2), col(3));
            // A model's proposals: dollars with up to four decimals (or
            // more), on a share of the rows, ties to the half cent too.
            for (i, v) in p.iter_mut().enumerate() {
                let f = usize::from(fine.get(i).copied().unwrap_or(0));
                // On the float path's grid (micro-dollars: up to four
                // decimals past the cent), as a model writes them: the
                // nearest double to the decimal.
                const ON: [i64; 8] = [3700, -4900, 5000, -5000, 100, 9950, -2500, 0];
                // Off it: the engine reads them, the float path stops.
                const OFF: [f64; 2] = [0.0050001, 0.00000123];
                let cents = (*v * 100.0).round();
                if !(cents / 100.0 == *v && cents.abs() < 1e12) {
                    continue;
                }
                let on = |k: usize| ((cents as i64) * 10_000 + ON[k % ON.len()]) as f64 / 1e6;
                match fine_share {
                    1 if f < 3 => *v = on(f),
                    2 => *v = on(f),
                    3 if f == 11 => *v += OFF[i % 2],
                    3 => *v = on(f),
                    _ => {}
                }
            }
            let fc = FloatColumns {
                proposed_price: &p,
                current_price: Some(&cur),
                unit_cost: Some(&cost),
                reference_price: Some(&reference),
                expected_units: Some(&units),
                now,
                last_change_at: last,
            };
            // Each row as the integer path's caller reads it: the item with
            // its proposal snapped to the cent, the item as the engine
            // reads it (the proposal exact), and whether the float path
            // can read the proposal (at most four decimals past the cent,
            // within 2^50 of those units); or `None` when another value
            // needs a look one by one.
            let read: Vec<Option<(Item, Item, bool)>> = (0..n)
                .map(|i| {
                    let a = float_to_amount(p[i], 2, Digits::Snapped).ok()?;
                    let snapped = round_to_minor(a.units, a.scale);
                    let on_grid = a.scale == 0
                        || (a.scale <= 4
                            && a.units.unsigned_abs() < (1u64 << 50) / 10u64.pow(u32::from(4 - a.scale)));
                    let mut it = Item::new(snapped);
                    let vals = [
                        read_float(cur[i], 2).ok()?,
                        read_float(cost[i], 2).ok()?,
                        read_float(reference[i], 2).ok()?,
                        read_float(units[i], 0).ok()?,
                        match now {
                            None => None,
                            Some(TimeColumn::Same(v)) => Some(v),
                            Some(TimeColumn::Values(v)) => Some(v[i]),
                        },
                        last.map(|_| last_vals[i]),
                    ];
                    for (f, v) in FIELDS.iter().zip(vals) {
                        if let Some(v) = v {
                            if !it.set(*f, v) {
                                return None;
                            }
                        }
                    }
                    let mut exact = it;
                    exact.set_amount(Field::ProposedPrice, a).ok()?;
                    Some((it, exact, on_grid))
                })
                .collect();
            let items: Vec<Option<Item>> =
                read.iter().map(|r| r.and_then(|(it, _, on)| on.then_some(it))).collect();
            let exact: Vec<Option<Item>> = read.iter().map(|r| r.map(|(_, e, _)| e)).collect();
            let mut got = vec![crate::Decision::default(); n];
            let mut decided = vec![false; n];
            let mut from = 0;
            let mut summary = crate::BatchSummary::default();
            while from + BLOCK <= n {
                let Some(b) = policy.evaluate_float_blocks(&fc, from, got.as_mut_slice()) else {
                    // No block path for this policy: the integer one has none either.
                    prop_assert!(policy.prepared_for(None).1.and_then(|p| p.lanes()).is_none());
                    return Ok(());
                };
                prop_assert_eq!(b.rows % BLOCK, 0);
                summary.merge(&b.summary);
                decided[from..from + b.rows].fill(true);
                // The block it stopped at is the caller's.
                from += b.rows + BLOCK;
            }
            let mut want_summary = crate::BatchSummary::default();
            for s in (0..n - n % BLOCK).step_by(BLOCK) {
                let block = &items[s..s + BLOCK];
                // Whether the integer block path decides the converted block.
                let int_lanes = block.iter().all(Option::is_some) && {
                    let its: Vec<Item> = block.iter().flatten().copied().collect();
                    let before = THREAD_BLOCKS.with(core::cell::Cell::get);
                    let mut out = vec![crate::Decision::default(); BLOCK];
                    policy.evaluate_batch(&its, &mut out).unwrap();
                    let cols_p: Vec<i64> = its.iter().map(|it| it.proposed_price()).collect();
                    let mut cols = Columns::new(&cols_p);
                    let vals: Vec<(Field, Vec<i64>, Vec<u8>)> = FIELDS
                        .iter()
                        .map(|f| {
                            let mut bits = vec![0u8; BLOCK / 8];
                            let v = its
                                .iter()
                                .enumerate()
                                .map(|(j, it)| match it.get(*f) {
                                    Some(v) => {
                                        bits[j / 8] |= 1 << (j % 8);
                                        v
                                    }
                                    None => 0,
                                })
                                .collect();
                            (*f, v, bits)
                        })
                        .collect();
                    for (f, v, bits) in &vals {
                        cols = cols.with(*f, v, Some(bits)).unwrap();
                    }
                    let mut got_int = vec![crate::Decision::default(); BLOCK];
                    policy.evaluate_columns(&cols, &mut got_int).unwrap();
                    THREAD_BLOCKS.with(core::cell::Cell::get) - before == 1
                };
                if decided[s] {
                    prop_assert!(int_lanes, "block at {} decided from floats only", s);
                    let its: Vec<Item> = exact[s..s + BLOCK].iter().flatten().copied().collect();
                    prop_assert_eq!(its.len(), BLOCK);
                    for (j, it) in its.iter().enumerate() {
                        let engine = crate::engine::evaluate_rules(
                            policy.rules_for(None),
                            it,
                            policy.budget_view(it, None),
                        );
                        prop_assert_eq!(got[s + j], engine, "row {} {:?}", s + j, it);
                    }
                    let mut out = vec![crate::Decision::default(); BLOCK];
                    want_summary.merge(&policy.evaluate_batch(&its, &mut out).unwrap());
                } else {
                    // Skipped after a miss, or missed: a miss only where
                    // the integer path misses too.
                    let missed = s == 0 || decided[s - BLOCK];
                    prop_assert!(!(missed && int_lanes), "block at {} missed", s);
                }
            }
            prop_assert_eq!(summary, want_summary);
            let rows_decided = decided.iter().filter(|d| **d).count() as u64;
            let fine_decided = (0..n)
                .filter(|&i| decided[i] && exact[i].is_some_and(|e| e.scale() > 0))
                .count() as u64;
            FLOAT_FINE.fetch_add(fine_decided, Ordering::Relaxed);
            FLOAT_ROWS.fetch_add(rows_decided, Ordering::Relaxed);
            FLOAT_ALL.fetch_add(n as u64, Ordering::Relaxed);
            FLOAT_BY_CAP[usize::from(cap)].fetch_add(rows_decided, Ordering::Relaxed);
            CAP.with(|c| c.set(2));
        }
    }

    /// The comparison above is not vacuous: the float path decides a good
    /// share of its rows, on every copy of the block loop.
    #[test]
    fn float_blocks_decide_a_good_share_of_rows() {
        float_blocks_match_the_engine();
        let (rows, all) = (
            FLOAT_ROWS.load(Ordering::Relaxed),
            FLOAT_ALL.load(Ordering::Relaxed),
        );
        assert!(
            rows * 5 > all,
            "the float path decided {rows} of {all} rows"
        );
        for (cap, n) in FLOAT_BY_CAP.iter().enumerate() {
            let n = n.load(Ordering::Relaxed);
            assert!(n > 1_000, "cap {cap}: {n} rows");
        }
        // Proposals finer than the cent are decided by the float path too.
        let fine = FLOAT_FINE.load(Ordering::Relaxed);
        assert!(
            fine > 1_000,
            "the float path decided {fine} finer proposals"
        );
    }

    /// The comparison above is not vacuous: the lanes decide a good share
    /// of its rows.
    #[test]
    fn lanes_decide_a_good_share_of_rows() {
        lanes_match_the_engine();
        let (rows, all) = (ROWS.load(Ordering::Relaxed), ALL.load(Ordering::Relaxed));
        assert!(rows * 5 > all, "lanes decided {rows} of {all} rows");
        // And blocks with rows left to the rows path (a class to relax)
        // were decided around them, compared with the engine row by row.
        let partial = PARTIAL_ROWS.load(Ordering::Relaxed);
        assert!(
            partial > 1_000,
            "lanes decided {partial} rows around left ones"
        );
        // And rows that relaxed a class were decided by the lanes (the
        // comparison with the engine covers them).
        let relaxed = RELAXED_ROWS.load(Ordering::Relaxed);
        assert!(
            relaxed > 100,
            "lanes decided {relaxed} rows that relaxed a class"
        );
        // And blocks off a bitmap byte boundary were decided by the lanes.
        let unaligned = UNALIGNED.load(Ordering::Relaxed);
        assert!(
            unaligned > 1_000,
            "lanes decided {unaligned} unaligned rows"
        );
        // And every copy this CPU can run decided rows: the portable one,
        // AVX2 and AVX-512 where the CPU has them.
        let by_copy: [u64; 3] = core::array::from_fn(|k| COPY_ROWS[k].load(Ordering::Relaxed));
        let widest = crate::cpu::simd();
        let has = [
            true,
            widest >= crate::Simd::Avx2,
            widest == crate::Simd::Avx512,
        ];
        for k in 0..3 {
            if has[k] {
                assert!(by_copy[k] > 1_000, "copy {k} decided {} rows", by_copy[k]);
            }
        }
    }
}
