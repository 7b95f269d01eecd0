//! Conversion of a numpy batch's input columns (float64 or int64 arrays,
//! exact amounts read from Python objects, scalars, bool masks) into the
//! int64 columns with Arrow-style validity bits that core's `Columns`
//! reads, one chunk of rows at a time, and the float64 columns core's
//! float block path reads as they are.
//!
//! Money is read exactly (docs/spec.md M1): a value finer than the minor
//! unit (a float64 `19.4373`, a `Decimal('3.9694')`) is kept as a count of
//! `10^-scale` minor units with its scale beside it, and `amounts::unify`
//! brings each row's values to one scale afterwards. A chunk of whole
//! minor units has no scales and takes the paths it always did.

use priceguard::binding::{FloatColumns, TimeColumn, FLAG_FAST, FLAG_LOOK, FLAG_NAN};
use priceguard::{Currency, Field};

use crate::amounts::{ABSENT, BAD};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// No bad field in this item.
pub(crate) const NO_BAD: u8 = u8::MAX;

/// Where a column's values come from.
#[derive(Clone, Copy)]
pub(crate) enum Values<'a> {
    F64(&'a [f64]),
    I64(&'a [i64]),
    ScalarF64(f64),
    ScalarI64(i64),
    /// Exact money read from Python objects (`amounts::read_amount`):
    /// units and per-row scales, `ABSENT` / `BAD` in the scale byte.
    Amounts(&'a [i64], &'a [u8]),
    /// One such value for every row.
    ScalarAmount(i64, u8),
}

/// How a column's numbers become an item field.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// float64 money in major units, read exactly through each float's
    /// shortest repr (docs/spec.md M2); NaN absent.
    MajorF64,
    /// integer money in major units (12 is 12.00).
    MajorI64,
    /// int64 money in minor units, as is.
    MinorI64,
    /// float64 counts, times, ids: whole numbers; NaN absent.
    CountF64,
    /// int64 counts, times, ids (campaign as a raw id).
    CountI64,
    /// Money already read exactly ([`Values::Amounts`], [`Values::ScalarAmount`]).
    Exact,
}

pub(crate) struct Column<'a> {
    pub(crate) field: Field,
    pub(crate) kind: Kind,
    pub(crate) values: Values<'a>,
    /// `true` = absent.
    pub(crate) mask: Option<&'a [bool]>,
}

/// One converted value: `Set(units, scale)`, in `10^-scale` minor units
/// for money (scale 0 for everything else).
#[derive(Clone, Copy)]
enum Val {
    Absent,
    Set(i64, u8),
    Bad,
}

#[inline]
fn conv_f64(kind: Kind, field: Field, cur: Currency, v: f64) -> Val {
    if v.is_nan() {
        return Val::Absent;
    }
    match kind {
        Kind::MajorF64 => match cur.float_to_amount(v, field.digits()) {
            Ok(a) => Val::Set(a.units, a.scale),
            Err(_) => Val::Bad,
        },
        _ => {
            if v.is_finite() && v.fract() == 0.0 && v.abs() <= 9.0e15 {
                Val::Set(v as i64, 0)
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
            Some(m) if m.unsigned_abs() <= priceguard::MAX_MONEY.unsigned_abs() => Val::Set(m, 0),
            _ => Val::Bad,
        },
        _ => Val::Set(v, 0),
    }
}

#[inline]
fn conv_amount(units: i64, scale: u8) -> Val {
    match scale {
        ABSENT => Val::Absent,
        BAD => Val::Bad,
        s => Val::Set(units, s),
    }
}

/// Records that row `r` of a `k`-row chunk holds a value at `scale` (> 0):
/// the column's scales are made (all 0) on the chunk's first such value.
#[cold]
fn mark_fine(scales: &mut Vec<u8>, fine: &mut bool, k: usize, r: usize, scale: u8) {
    if !*fine {
        scales.clear();
        scales.resize(k, 0);
        *fine = true;
    }
    if let Some(s) = scales.get_mut(r) {
        *s = scale;
    }
}

/// Converted values of one column for one chunk: `vals` and an Arrow-style
/// validity bitmap, reused from chunk to chunk.
pub(crate) struct ChunkColumn<'a> {
    pub(crate) field: Field,
    pub(crate) vals: Vec<i64>,
    pub(crate) bits: Vec<u8>,
    /// Every row of the chunk has a value: the kernel needs no bitmap.
    pub(crate) full: bool,
    /// The input's own int64 values, when they need no conversion (then
    /// `vals` is unused): read in place, not copied.
    pub(crate) borrowed: Option<&'a [i64]>,
    /// Scratch for the float conversion: each row's `FLAG_*`.
    pub(crate) flags: Vec<u8>,
    /// Each row's scale (the value is in `10^-scale` minor units), when
    /// `fine`; unused otherwise.
    pub(crate) scales: Vec<u8>,
    /// Some value of the chunk is finer than the minor unit.
    pub(crate) fine: bool,
}

impl ChunkColumn<'_> {
    /// An empty column for chunks of up to `chunk` rows.
    pub(crate) fn new(field: Field, chunk: usize) -> Self {
        ChunkColumn {
            field,
            vals: Vec::with_capacity(chunk),
            bits: Vec::with_capacity(chunk.div_ceil(8)),
            full: false,
            borrowed: None,
            flags: Vec::new(),
            scales: Vec::new(),
            fine: false,
        }
    }

    /// The chunk's values (in minor units, or `10^-scales[r]` of them).
    pub(crate) fn values(&self) -> &[i64] {
        self.borrowed.unwrap_or(&self.vals)
    }

    /// The values as an owned, writable copy (a borrowed input is copied).
    pub(crate) fn values_mut(&mut self) -> &mut [i64] {
        if let Some(src) = self.borrowed.take() {
            self.vals.clear();
            self.vals.extend_from_slice(src);
        }
        &mut self.vals
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
pub(crate) fn convert<'a>(
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
    out.fine = false;
    let ids = matches!(field, Field::Campaign | Field::Segment);
    let mut put = |r: usize, v: Val| {
        let v = match v {
            // Ids must fit u32, as `Item::set` requires.
            Val::Set(x, _) if ids && u32::try_from(x).is_err() => Val::Bad,
            v => v,
        };
        match v {
            Val::Set(x, s) => {
                if let (Some(slot), Some(byte)) = (out.vals.get_mut(r), out.bits.get_mut(r / 8)) {
                    *slot = x;
                    *byte |= 1 << (r % 8);
                }
                if s != 0 {
                    mark_fine(&mut out.scales, &mut out.fine, k, r, s);
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
                let fast = priceguard::binding::floats_to_minor_flags(
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
                for (g, ((((byte, fl), vals), srcs), bads)) in out
                    .bits
                    .iter_mut()
                    .zip(out.flags.chunks(8))
                    .zip(out.vals.chunks_mut(8))
                    .zip(src.chunks(8))
                    .zip(bad.chunks_mut(8))
                    .enumerate()
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
                        match conv_f64(kind, field, cur, v) {
                            Val::Set(m, s) => {
                                *slot = m;
                                *byte |= 1 << j;
                                // Finer than the minor unit (19.4373):
                                // kept exactly, at its scale.
                                if s != 0 {
                                    mark_fine(&mut out.scales, &mut out.fine, k, g * 8 + j, s);
                                }
                            }
                            // Absent; `proposed_price` cannot be.
                            Val::Absent if !proposed => {}
                            Val::Absent | Val::Bad => mark_bad(bd),
                        }
                    }
                }
                return;
            }
            (Values::ScalarF64(_) | Values::ScalarI64(_) | Values::ScalarAmount(..), _) => {
                let v = match col.values {
                    Values::ScalarF64(v) => conv_f64(kind, field, cur, v),
                    Values::ScalarI64(v) => conv_i64(kind, per_major, v),
                    Values::ScalarAmount(u, s) => conv_amount(u, s),
                    _ => Val::Bad,
                };
                match v {
                    Val::Set(x, s) => {
                        out.vals.fill(x);
                        out.bits.fill(u8::MAX);
                        out.full = true;
                        if s != 0 {
                            out.scales.clear();
                            out.scales.resize(k, s);
                            out.fine = true;
                        }
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
                        conv_f64(kind, field, cur, v)
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
            let v = conv_f64(kind, field, cur, v);
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
        Values::Amounts(units, scales) => {
            let units = units.get(start..end).unwrap_or(&[]);
            let scales = scales.get(start..end).unwrap_or(&[]);
            for (r, (&u, &s)) in units.iter().zip(scales).enumerate() {
                put(
                    r,
                    if absent(r) {
                        Val::Absent
                    } else {
                        conv_amount(u, s)
                    },
                );
            }
        }
        Values::ScalarAmount(u, s) => {
            let v = conv_amount(u, s);
            for r in 0..k {
                put(r, v);
            }
        }
    }
}

/// The batch as [`FloatColumns`], when every column is one the float
/// block path reads as given: float64 major-unit money, float64 units,
/// int64 times (or a scalar `now`), none masked, no other field.
pub(crate) fn float_columns<'a>(cols: &[Column<'a>]) -> Option<FloatColumns<'a>> {
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
pub(crate) fn float_range<'a>(
    fc: &FloatColumns<'a>,
    start: usize,
    len: usize,
) -> Option<FloatColumns<'a>> {
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

pub(crate) fn kind_for(field: Field, minor: bool, float: bool) -> PyResult<Kind> {
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
