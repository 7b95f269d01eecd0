//! The columnar kernel: a structure-of-arrays fast path for
//! [`Policy::evaluate_columns`](crate::Policy::evaluate_columns).
//!
//! The general engine ([`crate::engine`]) reads an [`Item`](crate::Item)
//! through `Option` accessors and divides by each ratio's denominator at
//! run time. For a columnar batch the policy is fixed and so is the set of
//! columns, so this kernel prepares, once per batch:
//!
//! - every ratio in lowest terms, with the tick folded into the divisor,
//!   as a precomputed reciprocal (a multiply and a shift instead of a
//!   64-bit division);
//! - the policy's own hard bounds, already on the tick;
//! - which columns exist, so a row reads plain slices.
//!
//! It then decides a row directly, with the same arithmetic as the engine,
//! when the row is on the common path: valid values, one interval with no
//! class relaxed, no campaign budget, no segment, no pin. Every other row
//! (and every batch whose policy or columns the kernel does not cover)
//! is evaluated by the general engine, so the kernel never has to
//! reproduce the rare paths. The unit tests below check it against the
//! engine decision by decision on random policies and rows, and the
//! `evaluate` fuzz target compares whole columnar batches with the item path.

use core::ops::Range;

use crate::columns::{Column, Columns};
use crate::compiled::{CompiledRules, Endings};
use crate::decision::{Decision, Reason};
use crate::engine::MAX_UNITS;
use crate::item::{Field, Item};
use crate::lanes::{
    DecisionRows, LaneInputs, LaneRules, Lanes, Scratch, Source, BLOCK, LANE_RULES,
};
use crate::money::{ceil_money_to_tick, floor_money_to_tick, wide_mul, MAX_MONEY};
use crate::rules::{
    change, class_mask, endings, BoundSink, Class, ClassSet, Factor, Formulas, Row, Rule, Scale,
    FORMULA_RULES,
};
use crate::rules::{mask, NO_HI, NO_LO};
use crate::tail::{self, EndingCheck, Ends, Tail, TailRules};

/// Receives the kernel's decisions (a trait rather than a closure so that
/// the batch's sink is inlined into the kernel's loop).
pub(crate) trait Emit {
    /// Row `i`'s decision.
    fn emit(&mut self, i: usize, d: &Decision);

    /// The decisions of rows `start..start + rows.len()`.
    #[inline]
    fn emit_rows(&mut self, start: usize, rows: &DecisionRows) {
        for j in 0..rows.len() {
            self.emit(start + j, &rows.decision(j));
        }
    }
}

impl<F: FnMut(usize, &Decision)> Emit for F {
    #[inline(always)]
    fn emit(&mut self, i: usize, d: &Decision) {
        self(i, d);
    }
}

/// Products above this take the general engine (which clamps to ±2^62).
const PRODUCT_LIMIT: u64 = 1 << 61;

/// Division of `n < 2^62` by a constant `d >= 1` as one widening multiply
/// and a shift (Granlund & Montgomery 1994, Thm 4.2 with N = 62): with
/// `l = ceil(log2 d)` and `m = ceil(2^(62 + l) / d)`, the error
/// `e = m d - 2^(62 + l)` is below `d <= 2^l`, so
/// `m n / 2^(62 + l) = n / d + e n / (d 2^(62 + l))` exceeds `n / d` by
/// less than `1 / d` and has the same floor. `m <= 2^63` fits a `u64`.
///
/// The shift by `62 + l` is done as a constant shift by 62 of the 128-bit
/// product (which is below `2^125`, so the result fits a `u64`) and then
/// a shift of that `u64` by `l`: two instructions instead of a variable
/// 128-bit shift's five. `l = 64` (only for `d > 2^63`) is stored as 63:
/// the product is below `2^125`, so both shifts give zero.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Magic {
    m: u64,
    /// `min(l, 63)`: the shift after the constant 62.
    post: u32,
    d: u64,
}

impl Magic {
    /// The divisor `d`; `None` for zero.
    pub(crate) fn new(d: u64) -> Option<Magic> {
        if d == 0 {
            return None;
        }
        // ceil(log2 d): 0 for d = 1.
        let l = u64::BITS - (d - 1).leading_zeros();
        // ceil(2^(62 + l) / d), 62 + l <= 126.
        let m = (1u128 << (62 + l)).div_ceil(u128::from(d));
        Some(Magic {
            m: u64::try_from(m).ok()?,
            post: l.min(63),
            d,
        })
    }

    /// `n / d` for `n < 2^62`.
    #[inline(always)]
    pub(crate) fn div(self, n: u64) -> u64 {
        // n m < 2^62 * 2^63: the product shifted by 62 fits a u64.
        (((u128::from(n) * u128::from(self.m)) >> 62) as u64) >> (self.post & 63)
    }

    /// `(n / d, n % d)` for `n < 2^62`.
    #[inline(always)]
    pub(crate) fn div_rem(self, n: u64) -> (u64, u64) {
        let q = self.div(n);
        // q d <= n: no wrap.
        (q, n.wrapping_sub(q.wrapping_mul(self.d)))
    }
}

/// `x -> round_T(x * a / b)` with `b * tick` as a [`Magic`] divisor.
#[derive(Clone, Copy, Debug)]
struct Scaled {
    a: u64,
    /// The largest `x` with `x * a <= PRODUCT_LIMIT`: one compare instead
    /// of a checked multiply and a compare.
    x_max: u64,
    /// `b * tick - 1`, what `ceil` adds before dividing.
    bias: u64,
    div: Magic,
    tick: i64,
}

impl Scaled {
    /// The map for `x * a / b` on ticks of `tick`, `a / b` reduced; `None`
    /// when the divisor is zero or does not fit.
    fn new(a: i64, b: i64, tick: i64) -> Option<Scaled> {
        if a < 0 || b <= 0 || tick <= 0 {
            return None;
        }
        let g = gcd(a.unsigned_abs(), b.unsigned_abs()).max(1);
        let (a, b) = (a.unsigned_abs() / g, b.unsigned_abs() / g);
        // d <= PRODUCT_LIMIT keeps `n + (d - 1)` below 2^62 in `ceil`.
        let d = b
            .checked_mul(tick.unsigned_abs())
            .filter(|d| *d <= PRODUCT_LIMIT)?;
        Some(Scaled {
            a,
            x_max: PRODUCT_LIMIT.checked_div(a).unwrap_or(u64::MAX),
            bias: d - 1,
            div: Magic::new(d)?,
            tick,
        })
    }

    /// `ceil_T(x * a / b)` for `0 <= x <= x_max`. Callers pass only
    /// values that admission ([`Prepared::valid_row`],
    /// [`Prepared::valid_item`]) has checked against [`Limits`], in every
    /// build, and [`Prepared::new`] proves once per policy that those
    /// limits are within every map's `x_max` (see [`Prepared::limits_cover`]):
    /// larger inputs take the general engine before any bound is computed.
    #[inline(always)]
    fn ceil(&self, x: i64) -> i64 {
        // A tripwire for the proof above; the release check is admission.
        debug_assert!(x as u64 <= self.x_max);
        // x * a <= PRODUCT_LIMIT exactly when x <= x_max: the product
        // cannot wrap.
        let n = (x as u64).wrapping_mul(self.a);
        // ceil(n / d) = floor((n + d - 1) / d), with n <= 2^61 and
        // d <= 2^61 (see `new`): the numerator stays below 2^62.
        let q = self.div.div(n.wrapping_add(self.bias));
        // q <= n / (b * tick) + 1, so q * tick <= n + tick < 2^62.
        (q as i64).wrapping_mul(self.tick)
    }

    /// `floor_T(x * a / b)` for `0 <= x <= x_max` (see [`Scaled::ceil`]).
    #[inline(always)]
    fn floor(&self, x: i64) -> i64 {
        debug_assert!(x as u64 <= self.x_max);
        let n = (x as u64).wrapping_mul(self.a);
        // q <= n / (b * tick), so q * tick <= n < 2^62.
        (self.div.div(n) as i64).wrapping_mul(self.tick)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The kernel's arithmetic for the family files' factors: a present
/// factor that does not fit a [`Scaled`] map, or a money offset beyond
/// `PRODUCT_LIMIT` (validation allows none today), sends the policy to
/// the general engine.
impl Scale for Scaled {
    #[inline]
    fn new(f: Factor, tick: i64) -> Option<Scaled> {
        let (a, b) = f.narrow()?;
        Scaled::new(a, b, tick)
    }

    /// One in `0..=PRODUCT_LIMIT` keeps every sum with a valid price below
    /// 2^62.
    #[inline]
    fn offset_ok(v: i64) -> bool {
        (0..=PRODUCT_LIMIT as i64).contains(&v)
    }

    #[inline(always)]
    fn ceil(&self, x: i64) -> i64 {
        Scaled::ceil(self, x)
    }

    #[inline(always)]
    fn floor(&self, x: i64) -> i64 {
        Scaled::floor(self, x)
    }
}

/// [`Prepared::ending_bits`] for `e`, when its modulus is at most 128 and
/// its residues are a non-empty set inside `[0, modulus)` (as policy
/// validation makes them): the bitmask is then the whole set, so
/// [`Prepared::nearest_ending`] can search it instead of the residues.
fn ending_bits(e: &Endings) -> Option<(Magic, u128)> {
    let m = u64::try_from(e.modulus).ok().filter(|m| *m <= 128)?;
    let mut bits = 0u128;
    for &r in e.residues() {
        let r = u64::try_from(r).ok().filter(|r| *r < m)?;
        bits |= 1 << r;
    }
    if bits == 0 {
        return None;
    }
    Some((Magic::new(m)?, bits))
}

/// The largest value of each input that a prepared map multiplies, so
/// that validation turns away (to the general engine, which clamps) the
/// rows whose products would be too large and [`Scaled::ceil`] and
/// [`Scaled::floor`] need no check of their own: for each field,
/// `MAX_MONEY` lowered to the `x_max` of every map that reads it. The
/// window maps count for the live price too (they read it when the row
/// has no anchor): a row whose live price only they could not take goes
/// to the engine, which decides it the same way.
#[derive(Clone, Copy, Debug)]
struct Limits {
    /// For `current_price`, `reference_price`, `window_anchor_price` and
    /// `competitor_price`, in that order.
    prices: [u64; 4],
    /// For `unit_cost`.
    cost: u64,
}

impl Limits {
    /// The tightest `x_max` of the factors that multiply each field (every
    /// limit at most MAX_MONEY).
    fn new(p: &Prepared) -> Limits {
        let mut l = Limits {
            prices: [MAX_MONEY as u64; 4],
            cost: MAX_MONEY as u64,
        };
        p.formulas.each_factor(|field, s| {
            if let Some(limit) = l.of(field) {
                *limit = (*limit).min(s.x_max);
            }
        });
        l
    }

    /// The limit of `field`, for the fields a factor may multiply.
    fn of(&mut self, field: Field) -> Option<&mut u64> {
        let [current, reference, anchor, competitor] = &mut self.prices;
        match field {
            Field::CurrentPrice => Some(current),
            Field::ReferencePrice => Some(reference),
            Field::WindowAnchorPrice => Some(anchor),
            Field::CompetitorPrice => Some(competitor),
            Field::UnitCost => Some(&mut self.cost),
            _ => None,
        }
    }
}

/// The priority orders the kernel handles: `hard` first, the other three
/// in any order (policy validation puts `hard` first).
const ORDERS: [[Class; 4]; 6] = [
    [
        Class::Hard,
        Class::Financial,
        Class::Stability,
        Class::Market,
    ],
    [
        Class::Hard,
        Class::Financial,
        Class::Market,
        Class::Stability,
    ],
    [
        Class::Hard,
        Class::Stability,
        Class::Financial,
        Class::Market,
    ],
    [
        Class::Hard,
        Class::Stability,
        Class::Market,
        Class::Financial,
    ],
    [
        Class::Hard,
        Class::Market,
        Class::Financial,
        Class::Stability,
    ],
    [
        Class::Hard,
        Class::Market,
        Class::Stability,
        Class::Financial,
    ],
];

#[inline(always)]
fn read(col: Option<Column<'_>>, i: usize) -> Option<i64> {
    match col {
        None => None,
        Some(c) => c.get(i),
    }
}

/// A value that is a valid price no larger than `limit` (at most
/// MAX_MONEY: see [`Limits`]), or absent.
#[inline(always)]
fn ok_price(v: Option<i64>, limit: u64) -> bool {
    v.is_none_or(|v| (v.wrapping_sub(1) as u64) < limit)
}

/// The columns a fast row reads.
#[derive(Clone, Copy, Debug, Default)]
struct Inputs<'a> {
    current: Option<Column<'a>>,
    cost: Option<Column<'a>>,
    reference: Option<Column<'a>>,
    units: Option<Column<'a>>,
    now: Option<Column<'a>>,
    last_change: Option<Column<'a>>,
    changes: Option<Column<'a>>,
    anchor: Option<Column<'a>>,
    competitor: Option<Column<'a>>,
}

/// A batch's columns and its policy's prepared base rules.
#[derive(Clone, Debug)]
pub(crate) struct Kernel<'a> {
    proposed: &'a [i64],
    inputs: Inputs<'a>,
    /// Columns whose presence sends a row to the general engine.
    divert: [Option<Column<'a>>; 4],
    /// Per-row scales: a row finer than the minor unit goes to the
    /// general engine.
    scales: Option<&'a [u8]>,
    rules: Prepared,
    /// The block path's columns, when the policy has one and the batch
    /// has no column it does not read.
    lanes: Option<(Lanes, LaneInputs<'a>)>,
}

/// One segment's rules prepared for the fast path: built once when the
/// policy is compiled (see [`Policy::evaluate`]) and used by every
/// columnar batch and every single evaluation the kernel covers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prepared {
    tick: i64,
    /// Which of [`ORDERS`] the policy's priority is.
    order: u8,
    /// The priority order itself, for the single-item path (which reads
    /// it at run time; see `evaluate_item`).
    priority: [Class; 4],
    allow_unbounded: bool,
    needs_cost: bool,
    /// `ceil_T(min_price)` / `floor_T(max_price)` of the policy.
    min_price: Option<i64>,
    max_price: Option<i64>,
    /// The rules the family files define, in the kernel's arithmetic.
    formulas: Formulas<Scaled>,
    /// `min_change` and `max_auto_change`.
    tail: TailRules,
    endings: Option<Endings>,
    /// `endings` as the modulus's reciprocal and a bitmask of the allowed
    /// residues, when the modulus is at most 128 (one major unit of a
    /// two-digit currency): a multiply and a bit test per check. The mask
    /// is kept as two words, low first: as a `u128` it made the option's
    /// tag 16 bytes, and `Option<Prepared>` (whose niche it is) then took
    /// a 16-byte vector compare to test.
    ending_bits: Option<(Magic, [u64; 2])>,
    /// The block path, when the policy's rules are all ones it decides.
    lanes: Option<Lanes>,
    /// The inputs' limits for the maps above.
    limits: Limits,
}

impl Prepared {
    /// `r` prepared, or `None` when it uses something only the general
    /// engine does (freeze, an emergency cap, a parameter too large to
    /// prepare).
    pub(crate) fn new(r: &CompiledRules) -> Option<Prepared> {
        // The rules the row kernel decides: the families' formulas, the
        // policy's own price bounds, and the tail's endings and
        // `min_change`. A policy with any other rule (the emergency cap, or
        // one added to `CompiledRules` without a family formula here) is
        // the general engine's, so no fast path ignores a rule it does not
        // know.
        const KERNEL_RULES: u64 = FORMULA_RULES
            | (1 << Rule::MinPrice as u8)
            | (1 << Rule::MaxPrice as u8)
            | (1 << Rule::PriceEnding as u8)
            | (1 << Rule::MinChange as u8);
        // The competitor quote gate is no rule of its own (it holds or
        // skips the market rules): the general engine's too.
        if r.freeze || r.rules().bits() & !KERNEL_RULES != 0 || r.tick <= 0 || r.quote_gate() {
            return None;
        }
        let t = r.tick;
        let k = (|| -> Result<Prepared, ()> {
            Ok(Prepared {
                tick: t,
                order: ORDERS.iter().position(|o| *o == r.priority).ok_or(())? as u8,
                priority: r.priority,
                allow_unbounded: r.allow_unbounded,
                needs_cost: r.needs_cost(),
                min_price: r.min_price.map(|m| ceil_money_to_tick(m, t)),
                max_price: r.max_price.map(|m| floor_money_to_tick(m, t)),
                formulas: Formulas::new(r).ok_or(())?,
                tail: TailRules {
                    min_change: r.min_change,
                    max_auto_change: r.max_auto_change,
                },
                endings: r.endings,
                ending_bits: r
                    .endings
                    .and_then(|e| ending_bits(&e))
                    .map(|(m, b)| (m, [b as u64, (b >> 64) as u64])),
                lanes: Lanes::new(&LaneRules {
                    tick: t,
                    priority: r.priority,
                    allow_unbounded: r.allow_unbounded,
                    needs_cost: r.needs_cost(),
                    min_price: r.min_price.map(|m| ceil_money_to_tick(m, t)),
                    max_price: r.max_price.map(|m| floor_money_to_tick(m, t)),
                    min_margin: r.min_margin,
                    min_markup: r.min_markup,
                    min_unit_margin: r.min_unit_margin,
                    max_discount: r.max_discount,
                    max_increase: r.max_increase,
                    max_decrease: r.max_decrease,
                    max_step: r.max_step,
                    cooldown: r.cooldown_secs,
                    other: r.rules().bits() & !LANE_RULES != 0 || r.max_auto_change.is_some(),
                }),
                limits: Limits {
                    prices: [0; 4],
                    cost: 0,
                },
            })
        })();
        let mut k = k.ok()?;
        k.limits = Limits::new(&k);
        // The proof that `Scaled::ceil` and `floor` never see an input
        // beyond their range, checked when the policy is compiled: without
        // it, no fast path.
        k.limits_cover().then_some(k)
    }

    /// Whether admission bounds every input a prepared map multiplies by
    /// that map's `x_max` (and every price by `MAX_MONEY`): the limit
    /// [`Prepared::valid_row`] and [`Prepared::valid_item`] apply to each
    /// field is at most the `x_max` of every factor the families list
    /// with that field (`each_factor`). [`Limits::new`] builds them so;
    /// this checks the limits actually held, so that a factor on a field
    /// admission has no limit for turns the fast path off instead of
    /// computing a wrapped product. A factor `collect` uses but
    /// `each_factor` does not list is caught by the `debug_assert` of
    /// [`Scaled::ceil`] under the property tests.
    fn limits_cover(&self) -> bool {
        let mut limits = self.limits;
        let prices_ok = limits
            .prices
            .iter()
            .chain([&limits.cost])
            .all(|l| *l <= MAX_MONEY as u64);
        let mut ok = prices_ok;
        self.formulas.each_factor(|field, s| {
            ok &= limits.of(field).is_some_and(|l| *l <= s.x_max);
        });
        ok
    }

    /// `item`'s decision when the fast path covers it: no campaign, pin,
    /// item bounds, MAP or baseline, and the common path of the rules
    /// (see [`Kernel`]); `None` sends it to the general engine.
    #[inline]
    pub(crate) fn evaluate_item(&self, item: &Item) -> Option<Decision> {
        const DIVERT: u32 = Field::Campaign.bit()
            | Field::PinnedPrice.bit()
            | Field::MinPrice.bit()
            | Field::MaxPrice.bit()
            | Field::MapPrice.bit()
            | Field::BaselinePrice.bit()
            | crate::item::HISTORY_BITS;
        if item.presence() & DIVERT != 0 || item.scale() != 0 || !self.valid_item(item) {
            return None;
        }
        // The priority order is read at run time: only an adjusted
        // decision walks it, so one copy of the code serves all six.
        self.decide(item, &self.priority)
    }
}

impl Row for RowValues {
    #[inline(always)]
    fn p(&self) -> i64 {
        self.p
    }

    #[inline(always)]
    fn get(&self, f: Field) -> Option<i64> {
        match f {
            Field::CurrentPrice => self.current,
            Field::UnitCost => self.cost,
            Field::ReferencePrice => self.reference,
            Field::ExpectedUnits => self.units,
            Field::Now => self.now,
            Field::LastChangeAt => self.last,
            Field::ChangesInWindow => self.changes,
            Field::WindowAnchorPrice => self.anchor,
            Field::CompetitorPrice => self.competitor,
            _ => None,
        }
    }
}

/// One row's inputs, however the caller holds them.
#[derive(Clone, Copy, Debug)]
struct RowValues {
    p: i64,
    current: Option<i64>,
    cost: Option<i64>,
    reference: Option<i64>,
    units: Option<i64>,
    now: Option<i64>,
    last: Option<i64>,
    changes: Option<i64>,
    anchor: Option<i64>,
    competitor: Option<i64>,
}

impl<'a> Kernel<'a> {
    /// The kernel for `cols` under a policy's prepared base rules, or `None`
    /// when the policy has no prepared form (see [`Prepared::new`]) or the
    /// batch has a column it does not read (item bounds, MAP, baseline,
    /// pin).
    pub(crate) fn new(prepared: Option<&Prepared>, cols: &Columns<'a>) -> Option<Kernel<'a>> {
        let rules = *prepared?;
        let col = |f: Field| cols.column(f);
        for f in [
            Field::MinPrice,
            Field::MaxPrice,
            Field::MapPrice,
            Field::BaselinePrice,
            Field::PinnedPrice,
            // The history summary is the general engine's (docs/spec.md §11).
            Field::PriorLowPrice,
            Field::PromoStartedAt,
            Field::LastPromoEndedAt,
            Field::ReversalsInWindow,
            Field::CompetitorQuotes,
        ] {
            if cols.column(f).is_some() {
                return None;
            }
        }
        let inputs = Inputs {
            current: col(Field::CurrentPrice),
            cost: col(Field::UnitCost),
            reference: col(Field::ReferencePrice),
            units: col(Field::ExpectedUnits),
            now: col(Field::Now),
            last_change: col(Field::LastChangeAt),
            changes: col(Field::ChangesInWindow),
            anchor: col(Field::WindowAnchorPrice),
            competitor: col(Field::CompetitorPrice),
        };
        // A campaign draws on a budget and a segment picks other rules:
        // rows with either go to the general engine.
        let divert = [col(Field::Campaign), col(Field::Segment), None, None];
        let extra =
            inputs.changes.is_some() | inputs.anchor.is_some() | inputs.competitor.is_some();
        let lanes = match rules.lanes {
            Some(l) if !extra => Some((
                l,
                LaneInputs {
                    current: inputs.current,
                    cost: inputs.cost,
                    reference: inputs.reference,
                    units: inputs.units,
                    now: inputs.now,
                    last_change: inputs.last_change,
                    divert: [divert[0], divert[1]],
                    scales: cols.scales,
                },
            )),
            _ => None,
        };
        Some(Kernel {
            proposed: cols.proposed(),
            inputs,
            divert,
            scales: cols.scales,
            rules,
            lanes,
        })
    }

    /// Rows in the batch.
    pub(crate) fn len(&self) -> usize {
        self.proposed.len()
    }

    /// Hands every row of `rows` (indices into the batch), in order, to
    /// `emit` with its decision: the kernel's when the row is on the fast
    /// path, else `slow(i)`'s.
    pub(crate) fn run(
        &self,
        rows: Range<usize>,
        slow: impl FnMut(usize) -> Decision,
        emit: &mut impl Emit,
    ) {
        // One copy of the loop per priority order, so the class walk is
        // straight-line code over values the compiler keeps in registers.
        match self.rules.order {
            0 => self.run_in::<0, _, _>(rows, slow, emit),
            1 => self.run_in::<1, _, _>(rows, slow, emit),
            2 => self.run_in::<2, _, _>(rows, slow, emit),
            3 => self.run_in::<3, _, _>(rows, slow, emit),
            4 => self.run_in::<4, _, _>(rows, slow, emit),
            _ => self.run_in::<5, _, _>(rows, slow, emit),
        }
    }

    #[inline(never)]
    fn run_in<const O: u8, E: Emit, S: FnMut(usize) -> Decision>(
        &self,
        rows: Range<usize>,
        mut slow: S,
        emit: &mut E,
    ) {
        // Every column re-sliced to exactly the batch's rows, so that the
        // row loop's reads need no bounds checks.
        let n = self.len();
        let fit = |c: Option<Column<'a>>| -> Option<Option<Column<'a>>> {
            match c {
                None => Some(None),
                Some(c) => Some(Some(Column {
                    field: c.field,
                    values: c.values.get(..n)?,
                    validity: match c.validity {
                        None => None,
                        Some(bits) => Some(bits.get(..n.div_ceil(8))?),
                    },
                })),
            }
        };
        let inp = &self.inputs;
        let fitted = (|| {
            Some(Inputs {
                current: fit(inp.current)?,
                cost: fit(inp.cost)?,
                reference: fit(inp.reference)?,
                units: fit(inp.units)?,
                now: fit(inp.now)?,
                last_change: fit(inp.last_change)?,
                changes: fit(inp.changes)?,
                anchor: fit(inp.anchor)?,
                competitor: fit(inp.competitor)?,
            })
        })();
        let rows = rows.start.min(n)..rows.end.min(n);
        let (Some(inp), Some(proposed)) = (fitted, self.proposed.get(..n)) else {
            for i in rows {
                let d = slow(i);
                emit.emit(i, &d);
            }
            return;
        };
        // Row by row: the kernel's decision, else the general engine's.
        let by_rows = |range: Range<usize>, emit: &mut E, slow: &mut S| {
            for i in range {
                if self.row::<O>(&inp, proposed, i, emit).is_none() {
                    let d = slow(i);
                    emit.emit(i, &d);
                }
            }
        };
        let mut i = rows.start;
        if let Some((lanes, li)) = &self.lanes {
            let mut out = DecisionRows::default();
            let mut scratch = Scratch::default();
            while i + BLOCK <= rows.end {
                match lanes.block(Source::Ints(proposed, li), i, &mut out, &mut scratch) {
                    Some(0) => emit.emit_rows(i, &out),
                    // Rows the lanes leave (a class to relax, an unbounded
                    // interval) cost only themselves: the engine decides
                    // them, which the row kernel would hand them to anyway.
                    Some(left) => emit_around(&mut out, i, left, &mut slow, emit),
                    None => by_rows(i..i + BLOCK, emit, &mut slow),
                }
                i += BLOCK;
            }
        }
        by_rows(i..rows.end, emit, &mut slow);
    }

    /// Row `i`'s decision when it is on the fast path; `None` sends it to
    /// the general engine. `O` picks the priority order from [`ORDERS`].
    #[inline(always)]
    fn row<const O: u8>(
        &self,
        inp: &Inputs<'a>,
        proposed: &[i64],
        i: usize,
        emit: &mut impl Emit,
    ) -> Option<()> {
        for c in self.divert.iter().flatten() {
            if c.present(i) {
                return None;
            }
        }
        if crate::columns::row_scale(self.scales, i) != 0 {
            return None;
        }
        let v = RowValues {
            p: *proposed.get(i)?,
            current: read(inp.current, i),
            cost: read(inp.cost, i),
            reference: read(inp.reference, i),
            units: read(inp.units, i),
            now: read(inp.now, i),
            last: read(inp.last_change, i),
            changes: read(inp.changes, i),
            anchor: read(inp.anchor, i),
            competitor: read(inp.competitor, i),
        };
        if !self.rules.valid_row(&v) {
            return None;
        }
        let d = self.rules.decide(&v, ORDERS.get(usize::from(O))?)?;
        emit.emit(i, &d);
        Some(())
    }
}

impl Prepared {
    /// The block path's rules, when the policy has one.
    pub(crate) fn lanes(&self) -> Option<Lanes> {
        self.lanes
    }

    /// [`endings::is_allowed`] for `price`, by the bitmask when there is one.
    #[inline(always)]
    fn ending_allowed(&self, e: &Endings, price: i64) -> bool {
        match self.ending_bits {
            // For 0 <= price < 2^62, rem_euclid is the unsigned remainder.
            Some((m, [low, high])) if (price as u64) < 1 << 62 => {
                let r = m.div_rem(price as u64).1;
                // r < modulus <= 128: bit r of the two words.
                let word = if r < 64 { low } else { high };
                (word >> (r & 63)) & 1 != 0
            }
            _ => endings::is_allowed(e, price),
        }
    }

    /// [`endings::nearest`], by the bitmask when there is one: the allowed
    /// price nearest to `x` at or below it is the highest set bit at or
    /// below `x`'s residue (else the highest bit one modulus down), and the
    /// one at or above the lowest set bit at or above it (else the lowest
    /// bit one modulus up). A few bit scans instead of the residue loop's
    /// 128-bit arithmetic (about 200 instructions for a clamped item).
    #[inline(always)]
    fn nearest_ending(
        &self,
        e: &Endings,
        x: i64,
        lo: i64,
        hi: i64,
        prefer_up: bool,
    ) -> Option<i64> {
        match self.ending_bits {
            // For 0 <= x < 2^62 every candidate below fits an i64.
            Some((m, [low, high])) if (x as u64) < 1 << 62 => {
                let bits = u128::from(low) | u128::from(high) << 64;
                // r < modulus <= 128; `bits` is not empty (`ending_bits`).
                let r = m.div_rem(x as u64).1;
                let base = x - r as i64;
                let modulus = m.d as i64;
                let at_or_below = bits & (u128::MAX >> (127u64.wrapping_sub(r) & 127));
                let below = if at_or_below != 0 {
                    base + i64::from(127 - at_or_below.leading_zeros())
                } else {
                    base - modulus + i64::from(127 - bits.leading_zeros())
                };
                let at_or_above = bits & (u128::MAX << (r & 127));
                let above = if at_or_above != 0 {
                    base + i64::from(at_or_above.trailing_zeros())
                } else {
                    base + modulus + i64::from(bits.trailing_zeros())
                };
                let below_in = (lo <= below) & (below <= hi);
                let above_in = (lo <= above) & (above <= hi);
                match (below_in, above_in) {
                    (true, true) => {
                        let (db, da) = (x - below, above - x);
                        Some(if da < db || (da == db && prefer_up) {
                            above
                        } else {
                            below
                        })
                    }
                    (true, false) => Some(below),
                    (false, true) => Some(above),
                    (false, false) => None,
                }
            }
            _ => endings::nearest(e, x, lo, hi, prefer_up),
        }
    }

    /// Whether row `v` passes the engine's validation and has a cost when
    /// the rules need one (else the engine decides it and names the field).
    #[inline(always)]
    fn valid_row(&self, v: &RowValues) -> bool {
        let RowValues {
            p,
            current,
            cost,
            reference,
            units,
            now,
            last,
            changes,
            anchor,
            competitor,
        } = *v;
        // The engine's validation, as one pass.
        let [l_current, l_reference, l_anchor, l_competitor] = self.limits.prices;
        // A proposal that snaps to zero is invalid (docs/spec.md §2.3):
        // the engine names it.
        let mut ok = ok_price(Some(p), MAX_MONEY as u64)
            & (p > self.tick / 2)
            & ok_price(current, l_current)
            & ok_price(reference, l_reference);
        ok &= cost.is_none_or(|c| (c as u64) <= self.limits.cost);
        if let Some(u) = units {
            ok &= (u.wrapping_sub(1) as u64) < MAX_UNITS as u64;
            if let Some(r) = reference {
                ok &= wide_mul(r, u) <= 1_i128 << 61;
            }
        }
        ok &= now.is_none_or(|v| v >= 0);
        ok &= last.is_none_or(|v| v >= 0);
        ok &= changes.is_none_or(|v| v >= 0);
        ok &= ok_price(anchor, l_anchor) & ok_price(competitor, l_competitor);
        ok && !(self.needs_cost && cost.is_none())
    }

    /// [`Prepared::valid_row`] for an item, read straight from its presence
    /// mask: a test and a branch per absent field, a compare more per
    /// present one. The `Option`s of a [`RowValues`] cost a flag register
    /// (or a spill) each, about 60 instructions more per item.
    #[inline(always)]
    fn valid_item(&self, item: &Item) -> bool {
        let present = item.presence();
        let has = |f: Field| present & f.bit() != 0;
        let bad_price = |v: i64, limit: u64| (v.wrapping_sub(1) as u64) >= limit;
        if bad_price(item.proposed_price(), MAX_MONEY as u64)
            || item.proposed_price() <= self.tick / 2
        {
            return false;
        }
        // Unrolled: an iterator over (field, limit) pairs built the pairs
        // on the stack first.
        let [l_current, l_reference, l_anchor, l_competitor] = self.limits.prices;
        let out = |f: Field, limit: u64| has(f) && bad_price(item.raw(f), limit);
        if out(Field::CurrentPrice, l_current)
            || out(Field::ReferencePrice, l_reference)
            || out(Field::WindowAnchorPrice, l_anchor)
            || out(Field::CompetitorPrice, l_competitor)
        {
            return false;
        }
        if has(Field::UnitCost) {
            if item.raw(Field::UnitCost) as u64 > self.limits.cost {
                return false;
            }
        } else if self.needs_cost {
            return false;
        }
        // Times and counts must not be negative: each sign, spread over
        // the word and cut to the field's presence bit, must miss the mask
        // (three loads, shifts and ANDs, and one branch).
        let negative = |f: Field| ((item.raw(f) >> 63) as u32) & f.bit();
        if (negative(Field::Now) | negative(Field::LastChangeAt) | negative(Field::ChangesInWindow))
            & present
            != 0
        {
            return false;
        }
        if has(Field::ExpectedUnits) {
            let u = item.raw(Field::ExpectedUnits);
            if (u.wrapping_sub(1) as u64) >= MAX_UNITS as u64 {
                return false;
            }
            if has(Field::ReferencePrice)
                && wide_mul(item.raw(Field::ReferencePrice), u) > 1_i128 << 61
            {
                return false;
            }
        }
        true
    }

    /// The row's decision when it is on the fast path (the row is valid:
    /// see [`Prepared::valid_row`]); `None` sends it to the general engine.
    /// `order` is the priority order, one of [`ORDERS`]. Returned by value
    /// rather than handed to an [`Emit`]: a single evaluation then builds
    /// it in its caller's return slot instead of copying it there through
    /// an `Option` (473 to 441 instructions a call, callgrind).
    #[inline(always)]
    fn decide(&self, v: &impl Row, order: &[Class; 4]) -> Option<Decision> {
        let p = v.p();

        let t = self.tick;
        // First the interval alone: the walk, the clamp and the common
        // decision need only its ends. Which rules attain an end, and
        // which the proposal breaks, are collected again below only when
        // the decision names them.
        let mut span = Span::new(self);
        self.collect(v, &mut span);

        // The relaxation walk; a row that would relax a class (or is
        // infeasible) takes the general engine. With every class kept, the
        // walk's interval is the intersection of all the bounds (each step
        // only narrows it, so no step empties it unless the last does).
        let lo = t.max(span.lo);
        let hi = span.hi;
        if lo > hi {
            return None;
        }
        // Every lower bound `collect` records is at least -2^62 (see its
        // clamps and validated inputs), so one was set exactly when the
        // largest is above NO_LO: no flag to keep per bound.
        let lower_source = span.lo != NO_LO;
        if !self.allow_unbounded && (hi == NO_HI || !lower_source) || lo > MAX_MONEY {
            return None;
        }

        // A hold's rules are stability rules, kept with the class (every
        // class is kept here).
        let hold = change::hold_of(span.set);

        let tail = Tail {
            judged: p,
            pinned: false,
            tick: t,
            lo,
            hi,
            hold,
            relaxed: ClassSet::EMPTY,
            unmet: 0,
        };
        let endings = self.endings.as_ref().map(|e| FastEndings { k: self, e });
        let mut ends = KernelEnds { k: self, v, order };
        Some(tail::finish(
            tail,
            &self.tail,
            v,
            &mut ends,
            endings.as_ref(),
        ))
    }
    /// Records every base rule's bound for row `v` into `b` (the same
    /// bounds, in the same order, as the general engine's rules). `v` is
    /// valid (see [`Prepared::valid_row`]): prices and the cost are within
    /// MAX_MONEY and within the prepared maps' [`Limits`], so no product
    /// is too large.
    #[inline(always)]
    fn collect<B: BoundSink>(&self, v: &impl Row, b: &mut B) {
        // A `Span` starts from these (see `Span::new`).
        if B::ALL {
            if let Some(m) = self.min_price {
                b.lower(Rule::MinPrice, m);
            }
            if let Some(m) = self.max_price {
                b.upper(Rule::MaxPrice, m);
            }
        }
        self.formulas.collect(v, self.tick, true, b);
    }
}

/// The kernel's rules at the interval's ends: collected again, into a
/// [`Named`], only when the tail asks (every class is kept here).
struct KernelEnds<'a, R> {
    k: &'a Prepared,
    v: &'a R,
    order: &'a [Class; 4],
}

impl<R: Row> Ends for KernelEnds<'_, R> {
    #[inline(always)]
    fn name(&mut self, lo: i64, hi: i64) -> (u64, u64, u64) {
        let mut named = Named::new(self.v.p(), lo, hi);
        self.k.collect(self.v, &mut named);
        (named.violated, named.lo_rules, named.hi_rules)
    }

    #[inline(always)]
    fn violated_inside(&self) -> u64 {
        0
    }

    #[inline(always)]
    fn source(&self, at: u64, _: i64, _: bool) -> Option<Reason> {
        // The first class in priority order with a rule at the end, and
        // its lowest rule (a class's rules have its own codes, `class_mask`).
        let mut source = 0u64;
        for class in *self.order {
            let m = at & class_mask(class);
            source |= m & mask(source == 0);
        }
        Rule::from_code(source.trailing_zeros() as u8).map(Reason::Rule)
    }
}

/// The policy's endings with the kernel's bitmask checks.
struct FastEndings<'a> {
    k: &'a Prepared,
    e: &'a Endings,
}

impl EndingCheck for FastEndings<'_> {
    #[inline(always)]
    fn allowed(&self, price: i64) -> bool {
        self.k.ending_allowed(self.e, price)
    }

    #[inline(always)]
    fn nearest(&self, price: i64, lo: i64, hi: i64, prefer_up: bool) -> Option<i64> {
        self.k.nearest_ending(self.e, price, lo, hi, prefer_up)
    }
}

/// The rules a decision names, given the interval `[lo, hi]` that the
/// first pass ([`Span`]) found: those whose bound the proposal breaks,
/// and those whose bound is the interval's own end.
///
/// With every class kept, `lo` is the largest lower bound (or the tick)
/// and `hi` the smallest upper one, so a rule attains `lo` exactly when
/// its class's largest lower bound is `lo` and the rule attains that:
/// the per-class bookkeeping of [`Bounds`](crate::rules::Bounds) gives the same sets.
#[derive(Clone, Copy, Debug)]
struct Named {
    /// The price the rules are checked against.
    proposal: i64,
    lo: i64,
    hi: i64,
    /// Rules whose bound `proposal` breaks.
    violated: u64,
    /// Rules whose lower bound is `lo`.
    lo_rules: u64,
    /// Rules whose upper bound is `hi`.
    hi_rules: u64,
}

impl Named {
    #[inline(always)]
    fn new(proposal: i64, lo: i64, hi: i64) -> Named {
        Named {
            proposal,
            lo,
            hi,
            violated: 0,
            lo_rules: 0,
            hi_rules: 0,
        }
    }
}

impl BoundSink for Named {
    const ALL: bool = true;

    #[inline(always)]
    fn lower(&mut self, rule: Rule, v: i64) {
        let bit = 1u64 << (rule as u8 & 63);
        self.violated |= bit & mask(self.proposal < v);
        self.lo_rules |= bit & mask(v == self.lo);
    }

    #[inline(always)]
    fn upper(&mut self, rule: Rule, v: i64) {
        let bit = 1u64 << (rule as u8 & 63);
        self.violated |= bit & mask(self.proposal > v);
        self.hi_rules |= bit & mask(v == self.hi);
    }
}

/// The bounds' intersection alone: a max, a min and a rule bit per bound,
/// all in registers (the fast path's first pass; [`Bounds`](crate::rules::Bounds) keeps per class
/// and per rule what the decision's rule sets need).
#[derive(Clone, Copy, Debug)]
struct Span {
    /// The largest lower bound, `NO_LO` if none.
    lo: i64,
    /// The smallest upper bound, `NO_HI` if none.
    hi: i64,
    /// Rules that set a bound.
    set: u64,
}

impl Span {
    /// The interval of the policy's own price bounds, which every row has
    /// (so [`Prepared::collect`] records them only into a [`Named`]).
    #[inline(always)]
    fn new(rules: &Prepared) -> Span {
        Span {
            lo: rules.min_price.unwrap_or(NO_LO),
            hi: rules.max_price.unwrap_or(NO_HI),
            set: 0,
        }
    }
}

impl BoundSink for Span {
    const ALL: bool = false;

    #[inline(always)]
    fn lower(&mut self, rule: Rule, v: i64) {
        self.set |= 1 << (rule as u8 & 63);
        self.lo = self.lo.max(v);
    }

    #[inline(always)]
    fn upper(&mut self, rule: Rule, v: i64) {
        self.set |= 1 << (rule as u8 & 63);
        self.hi = self.hi.min(v);
    }
}

// Left out under miri: the kernel has no unsafe code, and generating
// policies in the interpreter takes minutes (scripts/test-miri.sh).
#[cfg(all(test, feature = "testkit", not(miri)))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;
    use crate::policy::Policy;
    use crate::testkit::{arb_item, arb_policy_spec};
    use crate::Item;
    use alloc::vec;
    use alloc::vec::Vec;
    use core::sync::atomic::{AtomicU64, Ordering};
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    /// Fields the kernel reads, plus the ones that divert a row.
    const KERNEL_FIELDS: [Field; 11] = [
        Field::CurrentPrice,
        Field::UnitCost,
        Field::ReferencePrice,
        Field::ExpectedUnits,
        Field::Now,
        Field::LastChangeAt,
        Field::ChangesInWindow,
        Field::WindowAnchorPrice,
        Field::CompetitorPrice,
        Field::Campaign,
        Field::Segment,
    ];

    /// `Magic` is exact division for every numerator below 2^62: small and
    /// awkward divisors, powers of two and their neighbours, and numerators
    /// at the ends of the range and around multiples of the divisor.
    #[test]
    fn magic_divides_exactly() {
        let mut ds: Vec<u64> = (1..=1000).collect();
        for k in 1..63 {
            let p = 1u64 << k;
            ds.extend([p - 1, p, p + 1, p.saturating_mul(3) / 2]);
        }
        ds.extend([
            82,
            41,
            50,
            1_000_000_000_000,
            999_999_999_999,
            7 * 10u64.pow(12),
            u64::MAX / 3,
            u64::MAX,
            (1 << 62) + 7,
        ]);
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = || {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            x ^ (x >> 29)
        };
        const LIMIT: u64 = 1 << 62;
        for d in ds {
            let m = Magic::new(d).unwrap();
            let mut ns = vec![0, 1, 2, d - 1, d, d.saturating_add(1), LIMIT - 1, LIMIT - 2];
            for k in [1u64, 2, 3, 1000, (LIMIT / d).saturating_sub(1), LIMIT / d] {
                let base = k.saturating_mul(d);
                ns.extend([base.wrapping_sub(1), base, base.wrapping_add(1)]);
            }
            for _ in 0..200 {
                ns.push(rnd() % LIMIT);
                ns.push((rnd() % LIMIT) >> (rnd() % 62));
            }
            for n in ns.into_iter().filter(|&n| n < LIMIT) {
                assert_eq!(m.div_rem(n), (n / d, n % d), "{n} / {d}");
            }
        }
        assert!(Magic::new(0).is_none());
    }

    /// The limits admission applies cover every map, for every compiled
    /// policy and segment (`Prepared::new` refuses a fast path otherwise,
    /// so each one that exists must pass).
    #[test]
    fn admission_limits_cover_every_map() {
        let mut runner = proptest::test_runner::TestRunner::new(Config {
            cases: 500,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&kernel_policy(), |policy| {
                for segment in core::iter::once(None).chain(policy.segment_ids().map(Some)) {
                    if let (_, Some(p)) = policy.prepared_for(segment) {
                        prop_assert!(p.limits_cover());
                    }
                }
                Ok(())
            })
            .unwrap();
    }

    /// A row whose value is valid (within MAX_MONEY) but beyond what a
    /// prepared map of its policy may multiply is refused at admission and
    /// decided by the general engine, which is exact there.
    #[test]
    fn rows_beyond_a_maps_range_take_the_engine() {
        let policy = Policy::from_toml_str(
            "name = \"t\"\ncurrency = \"JPY\"\n[bounds]\nmin_price = \"1\"\n\
             max_price = \"1000000000000000\"\n[margin]\nmin_margin = \"0.9999\"\n\
             [change]\nmax_increase = \"0.0001\"\nmax_decrease = \"0.0001\"\n",
        )
        .unwrap();
        let (_, prepared) = policy.prepared_for(None);
        let prepared = prepared.unwrap();
        // The maps' ranges are below MAX_MONEY here, so admission matters.
        let [l_current, ..] = prepared.limits.prices;
        assert!(l_current < MAX_MONEY as u64 && prepared.limits.cost < MAX_MONEY as u64);
        assert!(prepared.limits_cover());
        // Limits looser than a map's range are caught when the policy is
        // compiled, not by products that wrap.
        let mut loose = *prepared;
        loose.limits = Limits {
            prices: [MAX_MONEY as u64; 4],
            cost: MAX_MONEY as u64,
        };
        assert!(!loose.limits_cover());
        let big = 500_000_000_000_000;
        assert!(big > l_current as i64 && big > prepared.limits.cost as i64 && big <= MAX_MONEY);
        let small = 1_000;
        for (current, cost) in [(big, small), (small, big), (big, big)] {
            let item = Item::new(big)
                .with_current_price(current)
                .with_unit_cost(cost);
            assert!(!prepared.valid_item(&item), "{item:?}");
            assert!(prepared.evaluate_item(&item).is_none(), "{item:?}");
            assert_eq!(policy.evaluate(&item), engine(&policy, &item));
        }
        // Within the ranges the kernel decides.
        let item = Item::new(small).with_current_price(small).with_unit_cost(0);
        assert!(prepared.valid_item(&item));
        assert_eq!(prepared.evaluate_item(&item), Some(engine(&policy, &item)));
    }

    /// Random valid policies without the features that turn the kernel off.
    fn kernel_policy() -> impl Strategy<Value = Policy> {
        arb_policy_spec().prop_filter_map("refused", |mut s| {
            s.freeze = false;
            s.emergency = None;
            // The history rules and the quote gate are the general engine's.
            macro_rules! no_history {
                ($t:expr) => {
                    $t.disclosure = None;
                    if let Some(p) = &mut $t.promotion {
                        p.max_days = None;
                        p.min_days_between = None;
                    }
                    if let Some(c) = &mut $t.change {
                        c.max_reversals = None;
                    }
                    if let Some(m) = &mut $t.market {
                        m.min_quotes = None;
                        m.required = None;
                    }
                };
            }
            no_history!(s);
            for seg in &mut s.segments {
                no_history!(seg);
            }
            Policy::from_spec(s).ok()
        })
    }

    fn policy_and_items() -> impl Strategy<Value = (Policy, Vec<Item>)> {
        kernel_policy().prop_flat_map(|p| {
            let items = proptest::collection::vec(arb_item(&p), 1..40);
            (Just(p), items)
        })
    }

    /// Only the kernel's fields of `item`.
    fn strip(item: &Item) -> Item {
        let mut out = Item::new(item.proposed_price());
        for f in KERNEL_FIELDS {
            if let Some(v) = item.get(f) {
                out.set(f, v);
            }
        }
        out
    }

    /// The general engine's decision (what `Policy::evaluate` does without
    /// the prepared fast path).
    fn engine(policy: &Policy, item: &Item) -> Decision {
        crate::engine::evaluate_rules(
            policy.rules_for(item.segment()),
            item,
            policy.budget_view(item, None),
        )
    }

    static ITEMS: AtomicU64 = AtomicU64::new(0);
    static ITEMS_FAST: AtomicU64 = AtomicU64::new(0);

    proptest! {
        #![proptest_config(Config {
            cases: if cfg!(miri) { 8 } else { 1000 },
            failure_persistence: None,
            ..Config::default()
        })]

        /// `Policy::evaluate` (fast path where it applies) is the general
        /// engine on every item, with every field, segments and campaigns.
        #[test]
        fn evaluate_matches_the_engine((policy, items) in policy_and_items()) {
            // As generated (most carry a field the fast path leaves to the
            // engine) and with only the fields it reads.
            let stripped: Vec<Item> = items.iter().map(strip).collect();
            for item in items.iter().chain(&stripped) {
                ITEMS.fetch_add(1, Ordering::Relaxed);
                let (_, prepared) = policy.prepared_for(item.segment());
                if prepared.and_then(|p| p.evaluate_item(item)).is_some() {
                    ITEMS_FAST.fetch_add(1, Ordering::Relaxed);
                }
                prop_assert_eq!(policy.evaluate(item), engine(&policy, item), "{:?}", item);
            }
        }
    }

    /// Single evaluations take the fast path often enough for the
    /// comparison above to mean something.
    #[test]
    fn single_items_take_the_fast_path() {
        evaluate_matches_the_engine();
        let (fast, all) = (
            ITEMS_FAST.load(Ordering::Relaxed),
            ITEMS.load(Ordering::Relaxed),
        );
        if cfg!(miri) {
            assert!(all > 0);
        } else {
            assert!(fast * 10 > all, "fast path took {fast} of {all} items");
        }
    }

    static FAST: AtomicU64 = AtomicU64::new(0);
    static ROWS: AtomicU64 = AtomicU64::new(0);

    proptest! {
        // A handful of cases under miri, which interprets every step.
        #![proptest_config(Config {
            cases: if cfg!(miri) { 8 } else { 2000 },
            failure_persistence: None,
            ..Config::default()
        })]

        /// Every row the kernel decides gets the engine's decision exactly.
        #[test]
        fn kernel_rows_match_the_engine((policy, items) in policy_and_items()) {
            let items: Vec<Item> = items.iter().map(strip).collect();
            let n = items.len();
            let proposed: Vec<i64> = items.iter().map(Item::proposed_price).collect();
            let mut owned = Vec::new();
            for f in KERNEL_FIELDS {
                let mut v = vec![0; n];
                let mut bits = vec![0u8; n.div_ceil(8)];
                for (i, item) in items.iter().enumerate() {
                    if let Some(x) = item.get(f) {
                        v[i] = x;
                        bits[i / 8] |= 1 << (i % 8);
                    }
                }
                owned.push((f, v, bits));
            }
            let mut cols = Columns::new(&proposed);
            for (f, v, bits) in &owned {
                cols = cols.with(*f, v, Some(bits)).unwrap();
            }
            let kernel = Kernel::new(policy.prepared_for(None).1, &cols).unwrap();
            let mut got = Vec::new();
            kernel.run(
                0..items.len(),
                |_| Decision::rejected(Reason::Infeasible),
                &mut |i: usize, d: &Decision| got.push((i, *d)),
            );
            prop_assert_eq!(got.len(), items.len());
            for (k, (i, d)) in got.into_iter().enumerate() {
                prop_assert_eq!(k, i);
                ROWS.fetch_add(1, Ordering::Relaxed);
                if d != Decision::rejected(Reason::Infeasible) {
                    FAST.fetch_add(1, Ordering::Relaxed);
                    prop_assert_eq!(d, engine(&policy, &items[i]), "row {} {:?}", i, items[i]);
                }
            }
        }
    }

    /// The comparison above is not vacuous: the kernel decides a good share
    /// of the rows (about a quarter of these deliberately awkward ones).
    #[test]
    fn kernel_decides_a_good_share_of_rows() {
        kernel_rows_match_the_engine();
        let (fast, rows) = (FAST.load(Ordering::Relaxed), ROWS.load(Ordering::Relaxed));
        let least = if cfg!(miri) { 8 } else { 10_000 };
        assert!(rows > least, "{rows} rows");
        if cfg!(miri) {
            assert!(fast > 0, "kernel decided {fast} of {rows} rows");
        } else {
            assert!(fast * 10 > rows, "kernel decided {fast} of {rows} rows");
        }
    }
}

/// Emits a block the lanes decided but for the rows in `left` (bit `j`:
/// row `start + j`), in row order: each run of decided rows as columns
/// (a window on `out`), each left row through `slow`.
#[inline(never)]
pub(crate) fn emit_around<E: Emit>(
    out: &mut DecisionRows,
    start: usize,
    left: u64,
    slow: &mut impl FnMut(usize) -> Decision,
    emit: &mut E,
) {
    // Rows the lanes decided but that relaxed a class go one by one too,
    // from the block (a run of columns carries no relaxed classes).
    let decided_alone = out.relaxed_rows();
    let mut j = 0usize;
    while j < BLOCK {
        let rest = left >> j;
        if rest & 1 != 0 {
            let d = if decided_alone >> j & 1 != 0 {
                out.decision_at(j)
            } else {
                slow(start + j)
            };
            emit.emit(start + j, &d);
            j += 1;
            continue;
        }
        // Decided rows up to the next left one (or the block's end).
        let n = if rest == 0 {
            BLOCK - j
        } else {
            rest.trailing_zeros() as usize
        };
        out.select(j, j + n);
        emit.emit_rows(start + j, out);
        j += n;
    }
}
