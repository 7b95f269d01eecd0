//! The batch path: numpy columns in, numpy arrays out, no Python object
//! per item, the GIL released while working.
//!
//! Columns are converted chunk by chunk into reused int64 minor-unit
//! buffers with Arrow-style validity bits, and each chunk is evaluated with
//! `Policy::evaluate_columns_into` (the structure-of-arrays kernel; budgets
//! carried across chunks, so the result is the same as one batch), which
//! writes each decision straight into the output arrays. A policy with a
//! circuit breaker judges the whole batch at once, so it is evaluated as
//! one chunk.

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use priceguard::batch::{Columns, FloatColumns, TimeColumn};
use priceguard::money::{FLAG_FAST, FLAG_LOOK, FLAG_NAN};
use priceguard::{
    BatchSummary, Budgets, Currency, Decision, DecisionRows, DecisionSink, Field, Outcome, Policy,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::convert::money_to_py;
use crate::outbuf::OutCol;
use crate::stream;

/// Rows in a block of the kernel's `put_rows` (64; a longer call takes the
/// plain path).
const BLOCK: usize = 64;

/// Items per chunk: the chunk's items and decisions stay in L2.
const CHUNK: usize = 1024;

/// No bad field in this item.
const NO_BAD: u8 = u8::MAX;

/// Where a column's values come from.
#[derive(Clone, Copy)]
enum Values<'a> {
    F64(&'a [f64]),
    I64(&'a [i64]),
    ScalarF64(f64),
    ScalarI64(i64),
}

/// How a column's numbers become an item field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// float64 money in major units, rounded half-even; NaN absent.
    MajorF64,
    /// integer money in major units (12 is 12.00).
    MajorI64,
    /// int64 money in minor units, as is.
    MinorI64,
    /// float64 counts, times, ids: whole numbers; NaN absent.
    CountF64,
    /// int64 counts, times, ids (campaign as a raw id).
    CountI64,
}

struct Column<'a> {
    field: Field,
    kind: Kind,
    values: Values<'a>,
    /// `true` = absent.
    mask: Option<&'a [bool]>,
}

/// One converted value.
#[derive(Clone, Copy)]
enum Val {
    Absent,
    Set(i64),
    Bad,
}

#[inline]
fn conv_f64(kind: Kind, cur: Currency, v: f64) -> Val {
    if v.is_nan() {
        return Val::Absent;
    }
    match kind {
        Kind::MajorF64 => match cur.float_to_minor(v) {
            Ok(m) => Val::Set(m),
            Err(_) => Val::Bad,
        },
        _ => {
            if v.is_finite() && v.fract() == 0.0 && v.abs() <= 9.0e15 {
                Val::Set(v as i64)
            } else {
                Val::Bad
            }
        }
    }
}

#[inline]
fn conv_i64(kind: Kind, per_major: i64, v: i64) -> Val {
    match kind {
        Kind::MajorI64 => match v.checked_mul(per_major) {
            Some(m) if m.unsigned_abs() <= priceguard::MAX_MONEY.unsigned_abs() => Val::Set(m),
            _ => Val::Bad,
        },
        _ => Val::Set(v),
    }
}

/// Converted values of one column for one chunk: `vals` and an Arrow-style
/// validity bitmap, reused from chunk to chunk.
struct ChunkColumn<'a> {
    field: Field,
    vals: Vec<i64>,
    bits: Vec<u8>,
    /// Every row of the chunk has a value: the kernel needs no bitmap.
    full: bool,
    /// The input's own int64 values, when they need no conversion (then
    /// `vals` is unused): read in place, not copied.
    borrowed: Option<&'a [i64]>,
    /// Scratch for the float conversion: each row's `FLAG_*`.
    flags: Vec<u8>,
}

impl ChunkColumn<'_> {
    /// The chunk's values in minor units.
    fn values(&self) -> &[i64] {
        self.borrowed.unwrap_or(&self.vals)
    }
}

/// Eight flags as one byte, bit `j` from `flags[j]` (a shorter tail fills
/// the low bits). Whole groups in a multiply: byte `j` of the word holds
/// flag `j` as 0 or 1, and the constant shifts each into bit `56 + j`
/// with no carries between them.
#[inline]
fn pack8(flags: &[bool]) -> u8 {
    match <[bool; 8]>::try_from(flags) {
        Ok(group) => {
            let word = u64::from_le_bytes(group.map(u8::from));
            (word.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
        }
        Err(_) => flags
            .iter()
            .enumerate()
            .fold(0, |b, (j, &f)| b | (u8::from(f) << j)),
    }
}

/// One group of up to eight `floats_to_minor_flags` flags: the fast rows
/// as validity bits, and whether any row needs a look (a NaN does only in
/// `proposed_price`, where it is a missing value, not an absent one).
#[inline(always)]
fn flag_group(flags: &[u8], proposed: bool) -> (u8, bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    match <[u8; 8]>::try_from(flags) {
        Ok(group) => {
            let word = u64::from_le_bytes(group);
            // FLAG_FAST is 1 and the others have bit 0 clear: byte j's low
            // bit is row j's validity, packed as in `pack8`.
            let fast = ((word & ONES).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8;
            let look = if proposed {
                word != ONES * u64::from(FLAG_FAST)
            } else {
                word & (ONES * u64::from(FLAG_LOOK)) != 0
            };
            (fast, look)
        }
        Err(_) => flags
            .iter()
            .enumerate()
            .fold((0, false), |(b, l), (j, &f)| {
                (
                    b | (u8::from(f == FLAG_FAST) << j),
                    l | (f == FLAG_LOOK) | (proposed & (f == FLAG_NAN)),
                )
            }),
    }
}

/// Converts rows `start..start + k` of `col` into `out` (values and
/// validity bits). A value that cannot be read names the column in `bad`
/// (the first such column of the row wins, in column order).
fn convert<'a>(
    col: &Column<'a>,
    cur: Currency,
    start: usize,
    k: usize,
    out: &mut ChunkColumn<'a>,
    bad: &mut [u8],
) {
    let end = start + k;
    let per_major = cur.minor_per_major();
    let (field, kind) = (col.field, col.kind);
    let mask = col.mask.and_then(|m| m.get(start..end));
    // Every value is written below: only a new length needs filling.
    if out.vals.len() != k {
        out.vals.clear();
        out.vals.resize(k, 0);
    }
    out.bits.clear();
    out.bits.resize(k.div_ceil(8), 0);
    out.full = false;
    out.borrowed = None;
    let ids = matches!(field, Field::Campaign | Field::Segment);
    let mut put = |r: usize, v: Val| {
        let v = match v {
            // Ids must fit u32, as `Item::set` requires.
            Val::Set(x) if ids && u32::try_from(x).is_err() => Val::Bad,
            v => v,
        };
        match v {
            Val::Set(x) => {
                if let (Some(slot), Some(byte)) = (out.vals.get_mut(r), out.bits.get_mut(r / 8)) {
                    *slot = x;
                    *byte |= 1 << (r % 8);
                }
            }
            Val::Absent if field != Field::ProposedPrice => {}
            Val::Absent | Val::Bad => {
                if let Some(b) = bad.get_mut(r) {
                    if *b == NO_BAD {
                        *b = field as u8;
                    }
                }
            }
        }
    };
    let absent = |r: usize| mask.and_then(|m| m.get(r)).copied().unwrap_or(false);
    // A masked int64 column needing no conversion: the values in place,
    // the mask packed into validity bits eight rows at a time.
    if let (Some(m), Values::I64(all), Kind::MinorI64 | Kind::CountI64, false) =
        (mask, col.values, kind, ids)
    {
        if let Some(src) = all.get(start..end) {
            for (byte, rows) in out.bits.iter_mut().zip(m.chunks(8)) {
                *byte = !pack8(rows) & (u8::MAX >> (8 - rows.len()));
            }
            if field == Field::ProposedPrice {
                for (b, gone) in bad.iter_mut().zip(m) {
                    if *gone && *b == NO_BAD {
                        *b = field as u8;
                    }
                }
            }
            out.borrowed = Some(src);
            out.full = m.iter().all(|gone| !gone);
            return;
        }
    }
    // The common columns without a mask: straight loops, no closure per
    // row; a scalar is converted once.
    if mask.is_none() && !ids {
        let mut mark_bad = |b: &mut u8| {
            if *b == NO_BAD {
                *b = field as u8;
            }
        };
        match (col.values, kind) {
            (Values::I64(all), Kind::MinorI64 | Kind::CountI64) => {
                // Read as is, in place; the engine validates the values.
                if let Some(src) = all.get(start..end) {
                    out.borrowed = Some(src);
                    out.bits.fill(u8::MAX);
                    out.full = true;
                    return;
                }
            }
            (Values::F64(all), _) => {
                // Whole minor units (money) and whole numbers (counts,
                // times) in a loop the compiler vectorizes; validity bits
                // packed eight rows at a time. Only a group of eight with a
                // value that is neither fast nor NaN (absent) goes row by
                // row: off the unit, out of range, infinite, or a missing
                // `proposed_price`.
                let src = all.get(start..end).unwrap_or(&[]);
                // Every flag is written by the conversion: only a new
                // length needs filling.
                if out.flags.len() != k {
                    out.flags.clear();
                    out.flags.resize(k, FLAG_NAN);
                }
                // Digits 0: a fast count is whole and within MAX_MONEY,
                // so `conv_f64` would give the same value.
                let digits = if kind == Kind::MajorF64 {
                    cur.minor_units()
                } else {
                    0
                };
                let fast = priceguard::money::floats_to_minor_flags(
                    src,
                    digits,
                    &mut out.vals,
                    &mut out.flags,
                );
                if fast == k {
                    out.bits.fill(u8::MAX);
                    out.full = true;
                    return;
                }
                // A missing `proposed_price` is bad, not absent.
                let proposed = field == Field::ProposedPrice;
                for ((((byte, fl), vals), srcs), bads) in out
                    .bits
                    .iter_mut()
                    .zip(out.flags.chunks(8))
                    .zip(out.vals.chunks_mut(8))
                    .zip(src.chunks(8))
                    .zip(bad.chunks_mut(8))
                {
                    let (fast_bits, look) = flag_group(fl, proposed);
                    *byte = fast_bits;
                    if !look {
                        continue;
                    }
                    for (j, (((slot, &v), &f), bd)) in
                        vals.iter_mut().zip(srcs).zip(fl).zip(bads).enumerate()
                    {
                        if f == FLAG_FAST || (f == FLAG_NAN && !proposed) {
                            continue;
                        }
                        match conv_f64(kind, cur, v) {
                            Val::Set(m) => {
                                *slot = m;
                                *byte |= 1 << j;
                            }
                            // Absent; `proposed_price` cannot be.
                            Val::Absent if !proposed => {}
                            Val::Absent | Val::Bad => mark_bad(bd),
                        }
                    }
                }
                return;
            }
            (Values::ScalarF64(_) | Values::ScalarI64(_), _) => {
                let v = match col.values {
                    Values::ScalarF64(v) => conv_f64(kind, cur, v),
                    Values::ScalarI64(v) => conv_i64(kind, per_major, v),
                    _ => Val::Bad,
                };
                match v {
                    Val::Set(x) => {
                        out.vals.fill(x);
                        out.bits.fill(u8::MAX);
                        out.full = true;
                    }
                    Val::Absent if field != Field::ProposedPrice => {}
                    Val::Absent | Val::Bad => bad.iter_mut().for_each(&mut mark_bad),
                }
                return;
            }
            _ => {}
        }
    }
    match col.values {
        Values::F64(all) => {
            for (r, &v) in all.get(start..end).unwrap_or(&[]).iter().enumerate() {
                put(
                    r,
                    if absent(r) {
                        Val::Absent
                    } else {
                        conv_f64(kind, cur, v)
                    },
                );
            }
        }
        Values::I64(all) => {
            for (r, &v) in all.get(start..end).unwrap_or(&[]).iter().enumerate() {
                put(
                    r,
                    if absent(r) {
                        Val::Absent
                    } else {
                        conv_i64(kind, per_major, v)
                    },
                );
            }
        }
        Values::ScalarF64(v) => {
            let v = conv_f64(kind, cur, v);
            for r in 0..k {
                put(r, v);
            }
        }
        Values::ScalarI64(v) => {
            let v = conv_i64(kind, per_major, v);
            for r in 0..k {
                put(r, v);
            }
        }
    }
}

/// A money output column: float64 major units with NaN for none, or int64
/// minor units with a validity array.
struct MoneyOut {
    minor: bool,
    major: OutCol<f64>,
    raw: OutCol<i64>,
    /// 0 / 1, handed to numpy as bool (see `OutCol::into_bool_pyarray`).
    valid: OutCol<u8>,
}

impl MoneyOut {
    fn new(minor: bool, n: usize) -> MoneyOut {
        MoneyOut {
            minor,
            major: OutCol::zeroed(if minor { 0 } else { n }),
            raw: OutCol::zeroed(if minor { n } else { 0 }),
            valid: OutCol::zeroed(if minor { n } else { 0 }),
        }
    }

    fn sink(&mut self, per_major: f64) -> MoneySink<'_> {
        MoneySink {
            minor: self.minor,
            per_major,
            major: &mut self.major,
            raw: &mut self.raw,
            valid: &mut self.valid,
        }
    }

    fn export<'py>(self, py: Python<'py>, dict: &Bound<'py, PyDict>, name: &str) -> PyResult<()> {
        if self.minor {
            dict.set_item(name, self.raw.into_pyarray(py)?)?;
            dict.set_item(format!("{name}_valid"), self.valid.into_bool_pyarray(py)?)?;
        } else {
            dict.set_item(name, self.major.into_pyarray(py)?)?;
        }
        Ok(())
    }
}

/// Minor-unit money `v` as int64 values and 0/1 validity (`none` meaning
/// "no value", written as 0 with validity 0).
#[inline(always)]
fn minor_block(raw: &mut [i64], valid: &mut [u8], v: &[i64], none: i64) {
    for ((r, ok), &x) in raw.iter_mut().zip(valid.iter_mut()).zip(v) {
        *r = if x == none { 0 } else { x };
        *ok = u8::from(x != none);
    }
}

/// A range of a money output column.
struct MoneySink<'a> {
    minor: bool,
    per_major: f64,
    major: &'a mut [f64],
    raw: &'a mut [i64],
    valid: &'a mut [u8],
}

fn split_slice<T>(s: &mut [T], k: usize) -> (&mut [T], &mut [T]) {
    let k = k.min(s.len());
    s.split_at_mut(k)
}

impl<'a> MoneySink<'a> {
    fn split(self, k: usize) -> (MoneySink<'a>, MoneySink<'a>) {
        let (m0, m1) = split_slice(self.major, k);
        let (r0, r1) = split_slice(self.raw, k);
        let (v0, v1) = split_slice(self.valid, k);
        let (minor, per_major) = (self.minor, self.per_major);
        (
            MoneySink {
                minor,
                per_major,
                major: m0,
                raw: r0,
                valid: v0,
            },
            MoneySink {
                minor,
                per_major,
                major: m1,
                raw: r1,
                valid: v1,
            },
        )
    }

    /// Rows `at..at + v.len()`: `v` in minor units, `none` meaning "no value".
    #[inline(always)]
    fn put_all(&mut self, at: usize, v: &[i64], none: i64) {
        let end = at + v.len();
        if self.minor {
            if let (Some(r), Some(ok)) = (self.raw.get_mut(at..end), self.valid.get_mut(at..end)) {
                minor_block(r, ok, v, none);
            }
        } else if let Some(m) = self.major.get_mut(at..end) {
            let per_major = self.per_major;
            for (m, &x) in m.iter_mut().zip(v) {
                // `i64_to_f64` is `x as f64`, in a form AVX2 vectorises.
                let f = priceguard::money::i64_to_f64(x) / per_major;
                *m = if x == none { f64::NAN } else { f };
            }
        }
    }

    #[inline(always)]
    fn put(&mut self, at: usize, v: Option<i64>) {
        if self.minor {
            if let (Some(r), Some(ok)) = (self.raw.get_mut(at), self.valid.get_mut(at)) {
                *r = v.unwrap_or(0);
                *ok = u8::from(v.is_some());
            }
        } else if let Some(m) = self.major.get_mut(at) {
            // An exact integer divided by an exact power of ten: the
            // correctly rounded double nearest the decimal amount.
            *m = v.map_or(f64::NAN, |v| v as f64 / self.per_major);
        }
    }
}

/// The output arrays of a whole batch.
struct Outputs {
    price: MoneyOut,
    lower: MoneyOut,
    upper: MoneyOut,
    promo_spend: MoneyOut,
    outcome: OutCol<u8>,
    reason: OutCol<u8>,
    violated: OutCol<u64>,
    binding: OutCol<u64>,
    unmet: OutCol<u64>,
    relaxed: OutCol<u8>,
    /// 0 / 1, handed to numpy as bool.
    needs_approval: OutCol<u8>,
    invalid_field: OutCol<i8>,
    rows: usize,
}

impl Outputs {
    fn new(minor: bool, n: usize) -> Outputs {
        Outputs {
            rows: n,
            price: MoneyOut::new(minor, n),
            lower: MoneyOut::new(minor, n),
            upper: MoneyOut::new(minor, n),
            promo_spend: MoneyOut::new(minor, n),
            outcome: OutCol::zeroed(n),
            reason: OutCol::zeroed(n),
            violated: OutCol::zeroed(n),
            binding: OutCol::zeroed(n),
            unmet: OutCol::zeroed(n),
            relaxed: OutCol::zeroed(n),
            needs_approval: OutCol::zeroed(n),
            invalid_field: {
                let mut v = OutCol::zeroed(n);
                // A recycled buffer gets -1 written for every row anyway
                // (`Sink::dirty`); only fresh zeros need it here.
                if !v.dirty {
                    v.fill(-1);
                }
                v
            },
        }
    }

    fn sink(&mut self, per_major: f64) -> Sink<'_> {
        let dirty = self.unmet.dirty || self.relaxed.dirty || self.needs_approval.dirty;
        let dirty_invalid = self.invalid_field.dirty;
        Sink {
            price: self.price.sink(per_major),
            lower: self.lower.sink(per_major),
            upper: self.upper.sink(per_major),
            promo_spend: self.promo_spend.sink(per_major),
            outcome: &mut self.outcome,
            reason: &mut self.reason,
            violated: &mut self.violated,
            binding: &mut self.binding,
            unmet: &mut self.unmet,
            relaxed: &mut self.relaxed,
            needs_approval: &mut self.needs_approval,
            invalid_field: &mut self.invalid_field,
            dirty,
            dirty_invalid,
            stream: self.rows >= STREAM_MIN_ROWS,
        }
    }
}

/// Batches from this size write blocks of results with streaming stores:
/// their outputs (about 51 bytes a row) are several times any cache.
const STREAM_MIN_ROWS: usize = 256 * 1024;

/// A range of the output arrays: what one worker writes.
struct Sink<'a> {
    price: MoneySink<'a>,
    lower: MoneySink<'a>,
    upper: MoneySink<'a>,
    promo_spend: MoneySink<'a>,
    outcome: &'a mut [u8],
    reason: &'a mut [u8],
    violated: &'a mut [u64],
    binding: &'a mut [u64],
    unmet: &'a mut [u64],
    relaxed: &'a mut [u8],
    needs_approval: &'a mut [u8],
    invalid_field: &'a mut [i8],
    /// `unmet`, `relaxed` or `needs_approval` is a recycled buffer (see
    /// `outbuf`): they are written for every row, not only where a row
    /// differs from the usual zero (which leaves a fresh array's untouched
    /// pages unfaulted). Every other array is written for every row anyway.
    dirty: bool,
    /// Likewise `invalid_field` (usual value -1), which is recycled.
    dirty_invalid: bool,
    /// Write blocks of rows with streaming stores (see `stream`): the
    /// outputs are far larger than the cache.
    stream: bool,
}

impl<'a> Sink<'a> {
    /// The first `k` items and the rest.
    fn split(self, k: usize) -> (Sink<'a>, Sink<'a>) {
        let (p0, p1) = self.price.split(k);
        let (l0, l1) = self.lower.split(k);
        let (u0, u1) = self.upper.split(k);
        let (s0, s1) = self.promo_spend.split(k);
        let (o0, o1) = split_slice(self.outcome, k);
        let (r0, r1) = split_slice(self.reason, k);
        let (v0, v1) = split_slice(self.violated, k);
        let (b0, b1) = split_slice(self.binding, k);
        let (m0, m1) = split_slice(self.unmet, k);
        let (x0, x1) = split_slice(self.relaxed, k);
        let (a0, a1) = split_slice(self.needs_approval, k);
        let (f0, f1) = split_slice(self.invalid_field, k);
        (
            Sink {
                price: p0,
                lower: l0,
                upper: u0,
                promo_spend: s0,
                outcome: o0,
                reason: r0,
                violated: v0,
                binding: b0,
                unmet: m0,
                relaxed: x0,
                needs_approval: a0,
                invalid_field: f0,
                dirty: self.dirty,
                dirty_invalid: self.dirty_invalid,
                stream: self.stream,
            },
            Sink {
                price: p1,
                lower: l1,
                upper: u1,
                promo_spend: s1,
                outcome: o1,
                reason: r1,
                violated: v1,
                binding: b1,
                unmet: m1,
                relaxed: x1,
                needs_approval: a1,
                invalid_field: f1,
                dirty: self.dirty,
                dirty_invalid: self.dirty_invalid,
                stream: self.stream,
            },
        )
    }

    /// Writes item `at`'s decision (an index into this range).
    #[inline(always)]
    fn put(&mut self, at: usize, d: &Decision) {
        self.price.put(at, d.price);
        self.lower.put(at, d.lower);
        self.upper.put(at, d.upper);
        self.promo_spend.put(at, d.promo_spend);
        macro_rules! col {
            ($vec:ident, $v:expr) => {
                if let Some(x) = self.$vec.get_mut(at) {
                    *x = $v;
                }
            };
        }
        col!(outcome, d.outcome as u8);
        // Reason codes are 0..=69 and 100..=131: they fit a byte.
        col!(reason, u8::try_from(d.reason.code()).unwrap_or(u8::MAX));
        col!(violated, d.violated.0);
        col!(binding, d.binding.0);
        // Fresh, these start as zero (`invalid_field` as -1) and each row is
        // written once: only a value that differs is stored, so their pages
        // stay untouched unless a row needs them (see `put_rows`).
        let all = self.dirty;
        if all || d.unmet.0 != 0 {
            col!(unmet, d.unmet.0);
        }
        if all || d.relaxed.0 != 0 {
            col!(relaxed, d.relaxed.0);
        }
        if all || d.needs_approval {
            col!(needs_approval, u8::from(d.needs_approval));
        }
        if self.dirty_invalid || d.invalid_field.is_some() {
            col!(invalid_field, d.invalid_field.map_or(-1, |f| f as i8));
        }
    }

    /// Writes the decisions of items `at..at + rows.len()`, column by column
    /// (with AVX2 when the CPU has it: the copies and conversions below are
    /// loops over 64 rows that the compiler vectorises).
    fn put_rows(&mut self, at: usize, rows: &DecisionRows) {
        #[cfg(target_arch = "x86_64")]
        {
            // The copy the core's loops use too (`PRICEGUARD_SIMD` caps it).
            match priceguard::simd() {
                // SAFETY: the CPU has AVX-512 F, DQ, BW and VL.
                priceguard::Simd::Avx512 => return unsafe { self.put_rows_avx512(at, rows) },
                // SAFETY: the CPU has AVX2.
                priceguard::Simd::Avx2 => return unsafe { self.put_rows_avx2(at, rows) },
                priceguard::Simd::Portable => {}
            }
        }
        self.put_rows_body(at, rows);
    }

    /// [`Sink::put_rows`] compiled for AVX-512 (eight rows an
    /// instruction and a native integer-to-double conversion; the
    /// streaming stores stay 32 bytes wide).
    ///
    /// # Safety
    /// The CPU must support AVX-512 F, DQ, BW and VL.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq,avx512bw,avx512vl")]
    unsafe fn put_rows_avx512(&mut self, at: usize, rows: &DecisionRows) {
        if self.stream {
            // SAFETY: AVX-512 F implies AVX2, `put_rows_stream`'s need.
            unsafe { self.put_rows_stream(at, rows) };
        } else {
            self.put_rows_body(at, rows);
        }
    }

    /// [`Sink::put_rows`] compiled for AVX2.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn put_rows_avx2(&mut self, at: usize, rows: &DecisionRows) {
        if self.stream {
            // SAFETY: this function's own requirement (AVX2).
            unsafe { self.put_rows_stream(at, rows) };
        } else {
            self.put_rows_body(at, rows);
        }
    }

    /// [`Sink::put_rows`] with streaming stores: each column's block is
    /// read from `rows` (or, for minor-unit money, built on the stack),
    /// then written a cache line at a time without reading the lines
    /// first. Float64 money keeps plain stores (measured: streaming it was
    /// no faster). The same values as `put_rows_body` (a test compares
    /// them).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn put_rows_stream(&mut self, at: usize, rows: &DecisionRows) {
        let n = rows.len();
        let end = at + n;
        if n > BLOCK {
            self.put_rows_body(at, rows);
            return;
        }
        /// The rows' slice of an output array, if it has them.
        fn part<T>(v: &mut [T], at: usize, end: usize) -> Option<&mut [T]> {
            v.get_mut(at..end)
        }
        let mut i = [0i64; BLOCK];
        let mut b = [0u8; BLOCK];
        for (m, v, none) in [
            (&mut self.price, rows.price(), i64::MIN),
            (&mut self.lower, rows.lower(), i64::MIN),
            (&mut self.upper, rows.upper(), i64::MAX),
            (&mut self.promo_spend, rows.promo_spend(), -1),
        ] {
            if m.minor {
                let (Some(ti), Some(tb)) = (i.get_mut(..n), b.get_mut(..n)) else {
                    continue;
                };
                minor_block(ti, tb, v, none);
                if let (Some(d), Some(dv)) = (part(m.raw, at, end), part(m.valid, at, end)) {
                    // SAFETY: AVX2, this function's requirement.
                    unsafe {
                        stream::copy(d, ti);
                        stream::copy(dv, tb);
                    }
                }
            } else {
                // Float64 money columns take plain stores: streaming them
                // too measured slower at two threads (24.5 against 19.8
                // ns a row, medians of 6 alternating runs), while the
                // minor-unit columns gain from it (18.2 against 16.1).
                m.put_all(at, v, none);
            }
        }
        // SAFETY (each `stream::copy` below): AVX2, this function's
        // requirement.
        if let Some(d) = part(self.outcome, at, end) {
            unsafe { stream::copy(d, rows.outcome()) };
        }
        if let Some(d) = part(self.reason, at, end) {
            unsafe { stream::copy(d, rows.reason()) };
        }
        if let Some(d) = part(self.violated, at, end) {
            unsafe { stream::copy(d, rows.violated()) };
        }
        if let Some(d) = part(self.binding, at, end) {
            unsafe { stream::copy(d, rows.binding()) };
        }
        // As in `put_rows_body`: the usual values only into recycled memory.
        if self.dirty {
            let (zeros, zero_bytes) = ([0u64; BLOCK], [0u8; BLOCK]);
            let (z, zb) = (
                zeros.get(..n).unwrap_or(&[]),
                zero_bytes.get(..n).unwrap_or(&[]),
            );
            if let Some(d) = part(self.unmet, at, end) {
                unsafe { stream::copy(d, z) };
            }
            if let Some(d) = part(self.relaxed, at, end) {
                unsafe { stream::copy(d, zb) };
            }
            if let Some(d) = part(self.needs_approval, at, end) {
                unsafe { stream::copy(d, zb) };
            }
        }
        if self.dirty_invalid {
            if let (Some(d), Some(none)) =
                (part(self.invalid_field, at, end), [-1i8; BLOCK].get(..n))
            {
                unsafe { stream::copy(d, none) };
            }
        }
    }

    #[inline(always)]
    fn put_rows_body(&mut self, at: usize, rows: &DecisionRows) {
        let end = at + rows.len();
        self.price.put_all(at, rows.price(), i64::MIN);
        self.lower.put_all(at, rows.lower(), i64::MIN);
        self.upper.put_all(at, rows.upper(), i64::MAX);
        self.promo_spend.put_all(at, rows.promo_spend(), -1);
        macro_rules! copy {
            ($vec:ident, $src:expr, |$x:ident| $f:expr) => {
                if let Some(dst) = self.$vec.get_mut(at..end) {
                    for (d, $x) in dst.iter_mut().zip($src) {
                        *d = $f;
                    }
                }
            };
        }
        copy!(outcome, rows.outcome(), |x| *x);
        copy!(reason, rows.reason(), |x| *x);
        copy!(violated, rows.violated(), |x| *x);
        copy!(binding, rows.binding(), |x| *x);
        // The rows path's invariants: nothing unmet, relaxed, flagged or
        // invalid. Fresh arrays already hold exactly that (made zeroed,
        // `invalid_field` filled with -1) and each row is written once, so
        // they are left alone: pages nobody writes are never faulted in.
        if self.dirty {
            copy!(unmet, rows.price(), |_x| 0);
            copy!(relaxed, rows.price(), |_x| 0);
            copy!(needs_approval, rows.price(), |_x| 0);
        }
        if self.dirty_invalid {
            copy!(invalid_field, rows.price(), |_x| -1);
        }
    }
}

/// The decisions of one chunk, written straight into the output arrays at
/// `at..`, with the field of a value that could not be read named.
struct ChunkSink<'s, 'a> {
    sink: &'s mut Sink<'a>,
    at: usize,
    bad: &'s [u8],
    /// Some row of the chunk has a value that cannot be read (else no
    /// block of rows needs checking).
    any_bad: bool,
}

impl DecisionSink for ChunkSink<'_, '_> {
    fn rows(&self) -> usize {
        self.bad.len()
    }

    #[inline(always)]
    fn put(&mut self, i: usize, decision: &Decision) {
        match self.bad.get(i) {
            Some(&b) if b != NO_BAD => {
                // Rejected in place as an invalid proposal (never counted by
                // the breaker, never spending budget); the field is named here.
                let mut d = *decision;
                d.invalid_field = Field::ALL.get(usize::from(b)).copied();
                self.sink.put(self.at + i, &d);
            }
            _ => self.sink.put(self.at + i, decision),
        }
    }

    #[inline]
    fn put_rows(&mut self, start: usize, rows: &DecisionRows) {
        let clean = !self.any_bad
            || self
                .bad
                .get(start..start + rows.len())
                .is_some_and(|b| b.iter().all(|b| *b == NO_BAD));
        if clean {
            self.sink.put_rows(self.at + start, rows);
        } else {
            for j in 0..rows.len() {
                self.put(start + j, &rows.decision(j));
            }
        }
    }
}

/// The batch as [`FloatColumns`], when every column is one the float
/// block path reads as given: float64 major-unit money, float64 units,
/// int64 times (or a scalar `now`), none masked, no other field.
fn float_columns<'a>(cols: &[Column<'a>]) -> Option<FloatColumns<'a>> {
    let mut fc = FloatColumns {
        proposed_price: &[],
        current_price: None,
        unit_cost: None,
        reference_price: None,
        expected_units: None,
        now: None,
        last_change_at: None,
    };
    let mut proposed = false;
    for c in cols {
        if c.mask.is_some() {
            return None;
        }
        match (c.field, c.kind, c.values) {
            (Field::ProposedPrice, Kind::MajorF64, Values::F64(v)) => {
                fc.proposed_price = v;
                proposed = true;
            }
            (Field::CurrentPrice, Kind::MajorF64, Values::F64(v)) => fc.current_price = Some(v),
            (Field::UnitCost, Kind::MajorF64, Values::F64(v)) => fc.unit_cost = Some(v),
            (Field::ReferencePrice, Kind::MajorF64, Values::F64(v)) => fc.reference_price = Some(v),
            (Field::ExpectedUnits, Kind::CountF64, Values::F64(v)) => fc.expected_units = Some(v),
            (Field::Now | Field::LastChangeAt, Kind::CountI64, v) => {
                let t = match v {
                    Values::I64(v) => TimeColumn::Values(v),
                    Values::ScalarI64(v) => TimeColumn::Same(v),
                    _ => return None,
                };
                if c.field == Field::Now {
                    fc.now = Some(t);
                } else {
                    fc.last_change_at = Some(t);
                }
            }
            _ => return None,
        }
    }
    proposed.then_some(fc)
}

/// Rows `start..start + len` of `fc` (`None` when a column is shorter).
fn float_range<'a>(fc: &FloatColumns<'a>, start: usize, len: usize) -> Option<FloatColumns<'a>> {
    let end = start.checked_add(len)?;
    let cut = |c: Option<&'a [f64]>| -> Option<Option<&'a [f64]>> {
        match c {
            None => Some(None),
            Some(v) => v.get(start..end).map(Some),
        }
    };
    let cut_time = |c: Option<TimeColumn<'a>>| -> Option<Option<TimeColumn<'a>>> {
        match c {
            Some(TimeColumn::Values(v)) => v.get(start..end).map(|v| Some(TimeColumn::Values(v))),
            c => Some(c),
        }
    };
    Some(FloatColumns {
        proposed_price: fc.proposed_price.get(start..end)?,
        current_price: cut(fc.current_price)?,
        unit_cost: cut(fc.unit_cost)?,
        reference_price: cut(fc.reference_price)?,
        expected_units: cut(fc.expected_units)?,
        now: cut_time(fc.now)?,
        last_change_at: cut_time(fc.last_change_at)?,
    })
}

/// The float block path's [`DecisionSink`]: a range's rows, straight into
/// its [`Sink`].
struct RangeSink<'s, 'a> {
    sink: &'s mut Sink<'a>,
    rows: usize,
}

impl DecisionSink for RangeSink<'_, '_> {
    fn rows(&self) -> usize {
        self.rows
    }

    fn put(&mut self, i: usize, decision: &Decision) {
        self.sink.put(i, decision);
    }

    #[inline]
    fn put_rows(&mut self, start: usize, rows: &DecisionRows) {
        self.sink.put_rows(start, rows);
    }
}

/// Blocks the float path may miss before the rest of a range is
/// converted instead: a miss costs a block read twice and a small batch
/// through the conversion, so a range where many blocks need the rows
/// path goes the plain way.
#[inline]
fn too_many_misses(misses: usize, blocks: usize) -> bool {
    misses.saturating_mul(16) > blocks.saturating_add(64)
}

/// Evaluates items `start..start + len` (in chunks of `chunk`) into `sink`,
/// which covers exactly that range, consuming `budgets` in order.
///
/// With `float` (the batch's columns as the float block path reads them:
/// see [`float_columns`]), blocks of 64 rows are decided straight from the
/// caller's floats while they can be ([`Policy::evaluate_float_blocks`]),
/// and only a block that cannot be is converted and evaluated as below.
#[allow(clippy::too_many_arguments)]
fn run_range(
    policy: &Policy,
    cols: &[Column<'_>],
    float: Option<&FloatColumns<'_>>,
    start: usize,
    len: usize,
    chunk: usize,
    budgets: &mut Budgets,
    mut sink: Sink<'_>,
) -> Result<BatchSummary, priceguard::BatchError> {
    let cur = policy.currency();
    let chunk = chunk.min(len).max(1);
    let mut converted: Vec<ChunkColumn> = cols
        .iter()
        .map(|c| ChunkColumn {
            field: c.field,
            vals: Vec::with_capacity(chunk),
            bits: Vec::with_capacity(chunk.div_ceil(8)),
            full: false,
            borrowed: None,
            flags: Vec::new(),
        })
        .collect();
    let mut bad = vec![NO_BAD; chunk];
    let mut summary = BatchSummary::default();
    let mut done = 0;
    let mut float = float.and_then(|f| float_range(f, start, len));
    let (mut blocks, mut misses) = (0usize, 0usize);
    while done < len {
        let mut k = (len - done).min(chunk);
        if let Some(fc) = &float {
            let mut out = RangeSink {
                sink: &mut sink,
                rows: len,
            };
            match policy.evaluate_float_blocks(fc, done, &mut out) {
                Some(b) => {
                    summary.merge(&b.summary);
                    done += b.rows;
                    blocks += b.rows / BLOCK;
                    if done >= len {
                        break;
                    }
                    // The block it stopped at (or the tail) through the
                    // conversion below.
                    misses += 1;
                    k = (len - done).min(BLOCK);
                    if too_many_misses(misses, blocks) {
                        float = None;
                    }
                }
                // No float path for this policy: whole chunks below.
                None => float = None,
            }
        }
        let Some(bad) = bad.get_mut(..k) else {
            break;
        };
        bad.fill(NO_BAD);
        for (col, out) in cols.iter().zip(converted.iter_mut()) {
            convert(col, cur, start + done, k, out, bad);
        }
        let Some(proposed_at) = converted
            .iter()
            .position(|c| c.field == Field::ProposedPrice)
        else {
            break;
        };
        // A row with a value that cannot be read goes to the engine as an
        // invalid proposal (zero), so it is rejected in place.
        //
        // An OR over every byte, with no early exit, so that it vectorises:
        // `any` compared a byte at a time (2.5 % of a one-thread profile).
        let any_bad = bad.iter().fold(0u8, |acc, b| acc | (b ^ NO_BAD)) != 0;
        if let Some(p) = converted.get_mut(proposed_at) {
            if any_bad {
                if let Some(src) = p.borrowed.take() {
                    p.vals.clear();
                    p.vals.extend_from_slice(src);
                }
                for (v, b) in p.vals.iter_mut().zip(bad.iter()) {
                    if *b != NO_BAD {
                        *v = 0;
                    }
                }
            }
        }
        let mut columns = match converted.get(proposed_at) {
            Some(p) => Columns::new(p.values()),
            None => break,
        };
        for c in converted.iter().filter(|c| c.field != Field::ProposedPrice) {
            let bits = (!c.full).then_some(c.bits.as_slice());
            columns = columns.with(c.field, c.values(), bits).map_err(|_| {
                priceguard::BatchError::LengthMismatch {
                    items: k,
                    out: c.values().len(),
                }
            })?;
        }
        let mut out = ChunkSink {
            sink: &mut sink,
            at: done,
            bad,
            any_bad,
        };
        let s = policy.evaluate_columns_into(&columns, &mut out, budgets)?;
        summary.merge(&s);
        done += k;
    }
    // Streaming stores (`Sink::put_rows_stream`) are weakly ordered: make
    // them visible before the range counts as done.
    stream::fence();
    Ok(summary)
}

/// Rows a worker takes from the queue at a time (32 chunks).
const PIECE: usize = 32 * CHUNK;

/// Smallest share of a batch worth a thread of its own.
const MIN_PER_THREAD: usize = 32 * 1024;

/// Worker threads for a batch of `n` items: `PRICEGUARD_NUM_THREADS` when
/// set, else the available cores, never more than the batch can use.
pub(crate) fn threads_for(n: usize) -> usize {
    let wanted = std::env::var("PRICEGUARD_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|t| *t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    wanted.min(n / MIN_PER_THREAD).max(1)
}

/// Runs the batch on plain slices; no Python involved (the GIL is released).
///
/// Items are independent unless they draw on a campaign budget (consumed in
/// input order) or the policy has a circuit breaker (which judges the whole
/// batch). Without either, the batch is split into contiguous ranges
/// evaluated on several threads; the result is the same as one pass.
fn run(
    policy: &Policy,
    n: usize,
    cols: &[Column<'_>],
    outs: &mut Outputs,
) -> PyResult<(BatchSummary, Budgets)> {
    let per_major = policy.currency().minor_per_major() as f64;
    let mut budgets = Budgets::new(policy);
    let float = float_columns(cols);
    let float = float.as_ref();
    let err = |e: priceguard::BatchError| PyValueError::new_err(e.to_string());
    if policy.breaker().is_some() {
        let s = run_range(
            policy,
            cols,
            None,
            0,
            n,
            n,
            &mut budgets,
            outs.sink(per_major),
        )
        .map_err(err)?;
        return Ok((s, budgets));
    }
    let uses_budgets =
        policy.campaign_count() > 0 && cols.iter().any(|c| c.field == Field::Campaign);
    let threads = if uses_budgets { 1 } else { threads_for(n) };
    if threads <= 1 {
        let s = run_range(
            policy,
            cols,
            float,
            0,
            n,
            CHUNK,
            &mut budgets,
            outs.sink(per_major),
        )
        .map_err(err)?;
        return Ok((s, budgets));
    }
    // Pieces handed out on demand rather than one range per thread: on a
    // shared machine a thread that loses its core for a while no longer
    // holds up the batch while the other one idles.
    let mut pieces = Vec::with_capacity(n.div_ceil(PIECE));
    let mut rest = outs.sink(per_major);
    let mut start = 0;
    while start < n {
        let len = PIECE.min(n - start);
        let (mine, others) = rest.split(len);
        rest = others;
        pieces.push((start, len, mine));
        start += len;
    }
    pieces.reverse();
    let queue = std::sync::Mutex::new(pieces);
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut summary = BatchSummary::default();
                    loop {
                        let next = match queue.lock() {
                            Ok(mut q) => q.pop(),
                            Err(_) => None,
                        };
                        let Some((start, len, sink)) = next else {
                            return Ok(summary);
                        };
                        let mut b = Budgets::new(policy);
                        summary.merge(&run_range(
                            policy, cols, float, start, len, CHUNK, &mut b, sink,
                        )?);
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join()).collect::<Vec<_>>()
    });
    let mut summary = BatchSummary::default();
    for r in results {
        match r {
            Ok(Ok(s)) => summary.merge(&s),
            Ok(Err(e)) => return Err(err(e)),
            Err(_) => return Err(PyValueError::new_err("a batch worker failed")),
        }
    }
    // Every piece was decided (fail closed should a lock be poisoned).
    if queue.lock().map_or(true, |q| !q.is_empty()) {
        return Err(PyValueError::new_err("a batch worker failed"));
    }
    Ok((summary, budgets))
}

/// Borrowed numpy inputs, kept alive while their slices are used.
enum Held<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    I64(PyReadonlyArray1<'py, i64>),
    ScalarF64(f64),
    ScalarI64(i64),
}

fn kind_for(field: Field, minor: bool, float: bool) -> PyResult<Kind> {
    Ok(match (field.is_money(), minor, float) {
        (true, false, true) => Kind::MajorF64,
        (true, false, false) => Kind::MajorI64,
        (true, true, false) => Kind::MinorI64,
        (true, true, true) => {
            return Err(PyValueError::new_err(format!(
                "`{field}` is float64 but money=\"minor\" needs int64 minor units"
            )))
        }
        (false, _, true) if field == Field::Campaign => {
            return Err(PyValueError::new_err("`campaign` must be str values"))
        }
        (false, _, true) => Kind::CountF64,
        (false, _, false) => Kind::CountI64,
    })
}

fn len_error(field: Field, what: &str, got: usize, n: usize) -> PyErr {
    PyValueError::new_err(format!(
        "`{field}` {what} has {got} values but the batch has {n} items"
    ))
}

/// The batch entry point: checks every column before any work, then runs
/// with the GIL released and returns the output arrays and the summary.
pub(crate) fn evaluate<'py>(
    py: Python<'py>,
    policy: &Policy,
    n: usize,
    minor: bool,
    columns: &Bound<'py, PyList>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut held: Vec<(Field, Held<'py>, Option<PyReadonlyArray1<'py, bool>>, bool)> = Vec::new();
    let mut has_proposed = false;
    for entry in columns.iter() {
        let entry = entry.cast_into::<PyTuple>()?;
        let (name, values, mask, col_minor): (
            Bound<'py, PyString>,
            Bound<'py, PyAny>,
            Bound<'py, PyAny>,
            bool,
        ) = entry.extract()?;
        let name = name.to_cow()?;
        let field = Field::from_name(&name)
            .filter(|f| *f != Field::Sku)
            .ok_or_else(|| PyValueError::new_err(format!("unknown item field `{name}`")))?;
        if held.iter().any(|(f, _, _, _)| *f == field) {
            return Err(PyValueError::new_err(format!("`{field}` is given twice")));
        }
        has_proposed |= field == Field::ProposedPrice;
        let v = if let Ok(a) = values.cast::<PyArray1<f64>>() {
            Held::F64(a.try_readonly()?)
        } else if let Ok(a) = values.cast::<PyArray1<i64>>() {
            Held::I64(a.try_readonly()?)
        } else if values.is_instance_of::<PyFloat>() {
            Held::ScalarF64(values.extract()?)
        } else if values.is_instance_of::<PyInt>() {
            Held::ScalarI64(values.extract()?)
        } else {
            return Err(PyValueError::new_err(format!(
                "`{field}` must be a 1-d float64 or int64 array or a scalar, not `{}`",
                values.get_type().name()?
            )));
        };
        let mask = if mask.is_none() {
            None
        } else {
            let m = mask.cast::<PyArray1<bool>>().map_err(|_| {
                PyValueError::new_err(format!("the mask of `{field}` must be a 1-d bool array"))
            })?;
            Some(m.try_readonly()?)
        };
        held.push((field, v, mask, col_minor));
    }
    if !has_proposed {
        return Err(PyValueError::new_err("`proposed_price` is required"));
    }
    let mut cols = Vec::with_capacity(held.len());
    for (field, v, mask, col_minor) in &held {
        let (values, float) = match v {
            Held::F64(a) => {
                let s = a
                    .as_slice()
                    .map_err(|e| PyValueError::new_err(format!("`{field}`: {e}")))?;
                if s.len() != n {
                    return Err(len_error(*field, "array", s.len(), n));
                }
                (Values::F64(s), true)
            }
            Held::I64(a) => {
                let s = a
                    .as_slice()
                    .map_err(|e| PyValueError::new_err(format!("`{field}`: {e}")))?;
                if s.len() != n {
                    return Err(len_error(*field, "array", s.len(), n));
                }
                (Values::I64(s), false)
            }
            Held::ScalarF64(v) => (Values::ScalarF64(*v), true),
            Held::ScalarI64(v) => (Values::ScalarI64(*v), false),
        };
        let mask = match mask {
            None => None,
            Some(m) => {
                let s = m
                    .as_slice()
                    .map_err(|e| PyValueError::new_err(format!("`{field}` mask: {e}")))?;
                if s.len() != n {
                    return Err(len_error(*field, "mask", s.len(), n));
                }
                Some(s)
            }
        };
        cols.push(Column {
            field: *field,
            kind: kind_for(*field, *col_minor, float)?,
            values,
            mask,
        });
    }
    let mut outs = Outputs::new(minor, n);
    let (summary, budgets) = py.detach(|| run(policy, n, &cols, &mut outs))?;
    drop(cols);
    drop(held);

    let dict = PyDict::new(py);
    let Outputs {
        price,
        lower,
        upper,
        promo_spend,
        outcome,
        reason,
        violated,
        binding,
        unmet,
        relaxed,
        needs_approval,
        invalid_field,
        rows: _,
    } = outs;
    price.export(py, &dict, "price")?;
    lower.export(py, &dict, "lower")?;
    upper.export(py, &dict, "upper")?;
    promo_spend.export(py, &dict, "promo_spend")?;
    dict.set_item("outcome", outcome.into_pyarray(py)?)?;
    dict.set_item("reason", reason.into_pyarray(py)?)?;
    dict.set_item("violated", violated.into_pyarray(py)?)?;
    dict.set_item("binding", binding.into_pyarray(py)?)?;
    dict.set_item("unmet", unmet.into_pyarray(py)?)?;
    dict.set_item("relaxed", relaxed.into_pyarray(py)?)?;
    dict.set_item("needs_approval", needs_approval.into_bool_pyarray(py)?)?;
    dict.set_item("invalid_field", invalid_field.into_pyarray(py)?)?;

    let s = PyDict::new(py);
    s.set_item("items", summary.items)?;
    for o in Outcome::ALL {
        s.set_item(o.name(), summary.count(o))?;
    }
    s.set_item("violators", summary.violators)?;
    s.set_item("relaxed", summary.relaxed)?;
    s.set_item("needs_approval", summary.needs_approval)?;
    s.set_item("breaker_tripped", summary.breaker_tripped)?;
    s.set_item("budgets_remaining", budget_dict(py, policy, &budgets)?)?;
    dict.set_item("summary", s)?;
    Ok(dict)
}

/// `{campaign: remaining budget as Decimal}` after the batch.
fn budget_dict<'py>(py: Python<'py>, policy: &Policy, b: &Budgets) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (i, (name, _)) in policy.campaigns().enumerate() {
        let id = priceguard::CampaignId(u32::try_from(i).unwrap_or(u32::MAX));
        d.set_item(name, money_to_py(py, policy, b.remaining(id))?)?;
    }
    Ok(d)
}
