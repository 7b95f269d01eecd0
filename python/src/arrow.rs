//! The Arrow path: any object with the Arrow PyCapsule interface in
//! (`__arrow_c_stream__` / `__arrow_c_array__`), a pyarrow table of
//! decisions out.
//!
//! The input is imported through the C data interface (pyo3-arrow), so the
//! column buffers are read in place: no copy of the values is made on the
//! way in. Each record batch is converted chunk by chunk into reused
//! minor-unit columns with validity bits (`Cols`), evaluated with
//! `Policy::evaluate_columns_into`, the columnar kernel (budgets carried
//! across chunks and batches, so the result is the same as one batch), and
//! its decisions appended to the output columns. A policy with a circuit
//! breaker judges the whole input at once, so all rows are converted first
//! and evaluated as one batch.
//!
//! Money columns (docs/spec.md §3 names) may be:
//! - `decimal128(p, s)` or `decimal256(p, s)`, any scale: exact
//!   (docs/spec.md M1). Digits finer than the currency are kept, up to six
//!   beyond the minor unit (a proposal's further digits still decide its
//!   snap to the tick); each row's money is then brought to one scale
//!   (`amounts::unify`) for `Columns::with_scales`;
//! - an integer type: minor units;
//! - `float64`: major units, read exactly through each float's shortest
//!   repr like every float (M2).
//!
//! Output money is `decimal128(38, s)` at the currency's scale `s`, except
//! `promo_spend`: `decimal128(38, s + 6)`, a fixed scale that holds every
//! exact spend (finer than the currency when a reference price is, M1),
//! whatever the data.
//!
//! Nulls are absent values, and so is a float64 NaN: it is pandas' and
//! numpy's missing marker, and `evaluate` and `evaluate_batch` read it as
//! absent too, so one value gets one answer in every Python door
//! (docs/spec.md §6). A column that is not a docs/spec.md §3 field is an
//! error unless the caller asked to ignore such columns.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, Decimal256Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Decimal128Array, Int64Array, Int8Array, ListArray, RecordBatch,
    StringArray,
};
use arrow_buffer::{i256, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field as ArrowField, Schema, SchemaRef, TimeUnit};
use priceguard::batch::Columns;
use priceguard::money::{Amount, MAX_SCALE};
use priceguard::schedule::Schedule;
use priceguard::{
    BatchSummary, Budgets, Class, Decision, Field, GroupRow, GroupScratch, MoneyError, Policy, Rule,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::amounts::{decimal_amount, decimal_text, spec_rank, unify, MoneyCol};
use crate::policy::NativePolicy;

/// Items per chunk: the chunk's items and decisions stay in L2.
const CHUNK: usize = 1024;

/// Digits of the output `decimal128` money columns.
const MONEY_PRECISION: u8 = 38;

/// Digits of the output `promo_spend` beyond the currency's: every exact
/// spend fits (docs/spec.md M1: amounts keep six digits beyond the minor
/// unit, and a spend has no more digits than its reference price).
const SPEND_EXTRA: u8 = MAX_SCALE;

/// One converted value: `Set(units, scale)`, in `10^-scale` minor units
/// for money (scale 0 for everything else).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Val {
    Absent,
    Set(i64, u8),
    Bad,
}

/// How a column's Arrow type is read; decided once from the schema.
#[derive(Clone, Copy, Debug)]
enum Read {
    /// `decimal128` at Arrow scale `scale`.
    Decimal { scale: i8 },
    /// `decimal256` at Arrow scale `scale`.
    Decimal256 { scale: i8 },
    /// Any integer type, taken as is (money: minor units).
    Int,
    /// `float64` money in major units, read exactly (shortest repr).
    FloatMoney,
    /// `float64` counts, times, ids: whole numbers only.
    FloatCount,
    /// `timestamp` for `now` / `last_change_at`: ticks per second.
    Timestamp { per_second: i64 },
    /// Campaign names (utf8, large utf8, utf8 view, dictionary of those).
    CampaignName,
    /// The `null` type: every value absent.
    AllNull,
}

/// An input column: its field, position in the batch and reading.
#[derive(Clone, Copy, Debug)]
struct Plan {
    field: Field,
    index: usize,
    read: Read,
}

fn pow10(k: u32) -> Option<i128> {
    10_i128.checked_pow(k)
}

/// Decides how each docs/spec.md §3 column of `schema` is read; the first wrong
/// type, a duplicate or a missing `proposed_price` is an error, and so is
/// a column that is not a field unless `ignore_extra`.
fn plan(schema: &Schema, ignore_extra: bool) -> PyResult<(Vec<Plan>, Option<usize>, GroupPlan)> {
    let mut plans: Vec<Plan> = Vec::new();
    let mut sku = None;
    let mut groups = GroupPlan::default();
    for (index, f) in schema.fields().iter().enumerate() {
        let Some(field) = Field::from_name(f.name()) else {
            if ignore_extra {
                continue;
            }
            return Err(PyValueError::new_err(format!(
                "{} (pass extra=\"ignore\" to skip columns that are not item fields)",
                crate::unknown_field("column", f.name())
            )));
        };
        if plans.iter().any(|p| p.field == field) || (field == Field::Sku && sku.is_some()) {
            return Err(PyValueError::new_err(format!(
                "the column `{field}` is given twice"
            )));
        }
        if field == Field::Sku {
            sku = Some(index);
            continue;
        }
        if Field::GROUP_FIELDS.contains(&field) {
            groups.add(field, index, f.data_type())?;
            continue;
        }
        let read = read_for(field, f.data_type())?;
        plans.push(Plan { field, index, read });
    }
    if !plans.iter().any(|p| p.field == Field::ProposedPrice) {
        return Err(PyValueError::new_err(
            "the data has no `proposed_price` column",
        ));
    }
    // Fields are read in docs/spec.md §3 order so the first bad one named is the same
    // as in every other interface (docs/spec.md M3).
    let rank = |f: Field| Field::SPEC_ORDER.iter().position(|x| *x == f);
    plans.sort_by_key(|p| rank(p.field));
    Ok((plans, sku, groups))
}

/// The group columns of a schema (docs/spec.md §10), read beside the items.
#[derive(Clone, Copy, Debug, Default)]
struct GroupPlan {
    /// `group`: strings (or a dictionary of them), integers or all null.
    group: Option<usize>,
    /// `rank`: read as a whole-number field.
    rank: Option<(usize, Read)>,
    /// `pack_size`: read as a whole-number field.
    pack: Option<(usize, Read)>,
}

impl GroupPlan {
    fn add(&mut self, field: Field, index: usize, t: &DataType) -> PyResult<()> {
        if self.given(field) {
            return Err(PyValueError::new_err(format!(
                "the column `{field}` is given twice"
            )));
        }
        match field {
            Field::Group => {
                let ok = is_string(t)
                    || t.is_integer()
                    || *t == DataType::Null
                    || matches!(t, DataType::Dictionary(_, v) if is_string(v) || v.is_integer());
                if !ok {
                    return Err(PyValueError::new_err(format!(
                        "the column `group` has Arrow type `{t}`; expected strings, a dictionary of strings or an integer type"
                    )));
                }
                self.group = Some(index);
            }
            Field::Rank => self.rank = Some((index, read_for(field, t)?)),
            _ => self.pack = Some((index, read_for(field, t)?)),
        }
        Ok(())
    }

    fn given(&self, field: Field) -> bool {
        match field {
            Field::Group => self.group.is_some(),
            Field::Rank => self.rank.is_some(),
            _ => self.pack.is_some(),
        }
    }

    /// Whether the data places rows in groups at all (any group field).
    fn any(&self) -> bool {
        self.group.is_some() || self.rank.is_some() || self.pack.is_some()
    }
}

/// The group id text at row `i` of a `group` column: strings as they
/// are, integers as their decimal digits (so `7` and `"7"` are one group,
/// as in a CSV file); `None` for null or `""` (the row is not grouped).
fn group_text(arr: &dyn Array, i: usize) -> Option<String> {
    if arr.is_null(i) {
        return None;
    }
    if let Some(d) = arr.as_any_dictionary_opt() {
        let key = d.normalized_keys().get(i).copied()?;
        return group_text(d.values().as_ref(), key);
    }
    if let Some(Some(s)) = string_at(arr, i) {
        return (!s.is_empty()).then(|| s.to_string());
    }
    macro_rules! ints {
        ($($t:ty),*) => {
            $(if let Some(a) = arr.as_primitive_opt::<$t>() {
                return a.values().get(i).map(|v| v.to_string());
            })*
        };
    }
    ints!(Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type);
    None
}

/// A `rank` / `pack_size` value as `(value, state)` for `batch::place`.
fn whole(v: Val) -> (i64, u8) {
    match v {
        Val::Set(x, _) => (x, crate::batch::GIVEN),
        Val::Absent => (0, crate::batch::ABSENT),
        Val::Bad => (0, crate::batch::UNREADABLE),
    }
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn read_for(field: Field, t: &DataType) -> PyResult<Read> {
    let wrong = |expected: &str| {
        PyValueError::new_err(format!(
            "the column `{field}` has Arrow type `{t}`; expected {expected}"
        ))
    };
    if *t == DataType::Null {
        return Ok(Read::AllNull);
    }
    if field == Field::Campaign {
        return match t {
            t if is_string(t) => Ok(Read::CampaignName),
            DataType::Dictionary(_, v) if is_string(v) => Ok(Read::CampaignName),
            _ => Err(wrong("campaign names (string or dictionary of strings)")),
        };
    }
    let read = match t {
        DataType::Decimal128(_, scale) => Read::Decimal { scale: *scale },
        DataType::Decimal256(_, scale) => Read::Decimal256 { scale: *scale },
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => Read::Int,
        DataType::Float64 if field.is_money() => Read::FloatMoney,
        DataType::Float64 => Read::FloatCount,
        DataType::Timestamp(unit, _)
            if matches!(
                field,
                Field::Now | Field::LastChangeAt | Field::PromoStartedAt | Field::LastPromoEndedAt
            ) =>
        {
            Read::Timestamp {
                per_second: match unit {
                    TimeUnit::Second => 1,
                    TimeUnit::Millisecond => 1_000,
                    TimeUnit::Microsecond => 1_000_000,
                    TimeUnit::Nanosecond => 1_000_000_000,
                },
            }
        }
        _ if field.is_money() => {
            return Err(wrong(
                "decimal128, decimal256, an integer type (minor units) or float64 (major units)",
            ))
        }
        _ if matches!(
            field,
            Field::Now | Field::LastChangeAt | Field::PromoStartedAt | Field::LastPromoEndedAt
        ) =>
        {
            return Err(wrong(
                "timestamp, an integer type (unix seconds) or float64",
            ))
        }
        _ => return Err(wrong("decimal128, decimal256, an integer type or float64")),
    };
    Ok(read)
}

/// Converts rows `start..start + out.len()` of one column (of `field`)
/// into `out`.
fn convert(
    policy: &Policy,
    field: Field,
    read: Read,
    arr: &dyn Array,
    start: usize,
    out: &mut [Val],
) -> PyResult<()> {
    let cur = policy.currency();
    let how = field.digits();
    let k = out.len();
    let nulls = arr.logical_nulls();
    let absent = |i: usize| nulls.as_ref().is_some_and(|n| n.is_null(start + i));
    macro_rules! each {
        ($vals:expr, $f:expr) => {{
            let vals = $vals.get(start..start + k).unwrap_or(&[]);
            for (i, (o, v)) in out.iter_mut().zip(vals).enumerate() {
                *o = if absent(i) { Val::Absent } else { $f(*v) };
            }
        }};
    }
    let int = |v: i128| i64::try_from(v).map_or(Val::Bad, |x| Val::Set(x, 0));
    let amount = |r: Result<Amount, MoneyError>| r.map_or(Val::Bad, |a| Val::Set(a.units, a.scale));
    match read {
        Read::AllNull => out.fill(Val::Absent),
        Read::Decimal { scale } => {
            let a = arr
                .as_primitive_opt::<Decimal128Type>()
                .ok_or_else(|| internal("decimal128"))?;
            let vals: &[i128] = a.values();
            if !field.is_money() {
                each!(vals, |v: i128| whole_decimal(v, scale));
            } else if i32::from(scale) == i32::from(cur.minor_units()) {
                // The currency's own scale, the common case: minor units.
                each!(vals, |v: i128| whole_minor(v));
            } else if i32::from(scale) < i32::from(cur.minor_units()) {
                // Whole minor units: one multiply by a power of ten.
                match pow10((i32::from(cur.minor_units()) - i32::from(scale)).unsigned_abs()) {
                    Some(m) => each!(vals, |v: i128| v
                        .checked_mul(m)
                        .map_or(Val::Bad, whole_minor)),
                    // Beyond 10^38 only zero still fits.
                    None => each!(vals, |v: i128| if v == 0 {
                        Val::Set(0, 0)
                    } else {
                        Val::Bad
                    }),
                }
            } else {
                each!(vals, |v: i128| amount(decimal_amount(cur, v, scale, how)));
            }
        }
        Read::Decimal256 { scale } => {
            let a = arr
                .as_primitive_opt::<Decimal256Type>()
                .ok_or_else(|| internal("decimal256"))?;
            let vals: &[i256] = a.values();
            each!(vals, |v: i256| match (v.to_i128(), field.is_money()) {
                (Some(x), true) => amount(decimal_amount(cur, x, scale, how)),
                (Some(x), false) => whole_decimal(x, scale),
                // Beyond 128 bits: a money value may still be in range
                // with enough fractional digits; read as its text.
                (None, true) => amount(cur.parse_amount(&decimal_text(&v.to_string(), scale), how)),
                (None, false) => Val::Bad,
            });
        }
        Read::Int => {
            macro_rules! ints {
                ($($t:ty),*) => {
                    $(if let Some(a) = arr.as_primitive_opt::<$t>() {
                        each!(a.values(), |v| int(i128::from(v)));
                        return Ok(());
                    })*
                };
            }
            ints!(
                Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type,
                UInt64Type
            );
            return Err(internal("integer"));
        }
        Read::FloatMoney => {
            let a = arr
                .as_primitive_opt::<Float64Type>()
                .ok_or_else(|| internal("float64"))?;
            each!(a.values(), |v: f64| if v.is_nan() {
                Val::Absent
            } else {
                amount(cur.float_to_amount(v, how))
            });
        }
        Read::FloatCount => {
            let a = arr
                .as_primitive_opt::<Float64Type>()
                .ok_or_else(|| internal("float64"))?;
            each!(a.values(), |v: f64| {
                if v.is_nan() {
                    Val::Absent
                } else if v.is_finite() && v.fract() == 0.0 && v.abs() <= 9.0e15 {
                    Val::Set(v as i64, 0)
                } else {
                    Val::Bad
                }
            });
        }
        Read::Timestamp { per_second } => {
            let vals: &[i64] = match arr.data_type() {
                DataType::Timestamp(TimeUnit::Second, _) => arr
                    .as_primitive::<arrow_array::types::TimestampSecondType>()
                    .values(),
                DataType::Timestamp(TimeUnit::Millisecond, _) => arr
                    .as_primitive::<arrow_array::types::TimestampMillisecondType>()
                    .values(),
                DataType::Timestamp(TimeUnit::Microsecond, _) => arr
                    .as_primitive::<arrow_array::types::TimestampMicrosecondType>()
                    .values(),
                DataType::Timestamp(TimeUnit::Nanosecond, _) => arr
                    .as_primitive::<arrow_array::types::TimestampNanosecondType>()
                    .values(),
                _ => return Err(internal("timestamp")),
            };
            // Whole seconds, rounded down (a time before 1970 stays before).
            each!(vals, |v: i64| Val::Set(v.div_euclid(per_second), 0));
        }
        Read::CampaignName => convert_campaign(policy, arr, start, out)?,
    }
    Ok(())
}

/// An amount in whole minor units, within [`priceguard::MAX_MONEY`].
#[inline(always)]
fn whole_minor(v: i128) -> Val {
    if v.unsigned_abs() <= priceguard::MAX_MONEY.unsigned_abs() as u128 {
        Val::Set(v as i64, 0)
    } else {
        Val::Bad
    }
}

/// A count, time or id given as a decimal: whole numbers only (trailing
/// zeros are fine: `3.00` is 3).
fn whole_decimal(v: i128, scale: i8) -> Val {
    let int = |v: i128| i64::try_from(v).map_or(Val::Bad, |x| Val::Set(x, 0));
    let k = pow10(u32::from(scale.unsigned_abs()));
    match (scale >= 0, k) {
        (true, Some(d)) if v % d == 0 => int(v / d),
        (false, Some(m)) => v.checked_mul(m).map_or(Val::Bad, int),
        // Beyond 10^38: only zero fits either way.
        (_, None) if v == 0 => Val::Set(0, 0),
        _ => Val::Bad,
    }
}

fn internal(what: &str) -> PyErr {
    PyValueError::new_err(format!("internal error: a column planned as {what} is not"))
}

fn campaign_val(policy: &Policy, name: Option<&str>) -> Val {
    name.map_or(Val::Absent, |n| {
        Val::Set(i64::from(policy.campaign_id(n).0), 0)
    })
}

fn convert_campaign(
    policy: &Policy,
    arr: &dyn Array,
    start: usize,
    out: &mut [Val],
) -> PyResult<()> {
    let k = out.len();
    let rows = start..start + k;
    if let Some(d) = arr.as_any_dictionary_opt() {
        // Each dictionary value is resolved once per chunk.
        let values = d.values();
        let names: Vec<Val> = (0..values.len())
            .map(|i| string_at(values.as_ref(), i).map_or(Val::Absent, |n| campaign_val(policy, n)))
            .collect();
        let keys = d.normalized_keys();
        let key_nulls = d.keys().logical_nulls();
        for (o, row) in out.iter_mut().zip(rows) {
            *o = if key_nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                Val::Absent
            } else {
                keys.get(row)
                    .and_then(|key| names.get(*key))
                    .copied()
                    .unwrap_or(Val::Absent)
            };
        }
        return Ok(());
    }
    for (o, row) in out.iter_mut().zip(rows) {
        *o = string_at(arr, row)
            .map(|n| campaign_val(policy, n))
            .ok_or_else(|| internal("strings"))?;
    }
    Ok(())
}

/// The string at `i` (`Some(None)` when null); `None` when not a string array.
fn string_at(arr: &dyn Array, i: usize) -> Option<Option<&str>> {
    if arr.is_null(i) {
        return Some(None);
    }
    if let Some(a) = arr.as_string_opt::<i32>() {
        return Some(Some(a.value(i)));
    }
    if let Some(a) = arr.as_string_opt::<i64>() {
        return Some(Some(a.value(i)));
    }
    arr.as_string_view_opt().map(|a| Some(a.value(i)))
}

/// Writes converted values into the items with the field's setter; the
/// first field that cannot be used is remembered per item.
/// The planned columns of a run of rows as the columnar kernel reads
/// them: per plan its field, values in minor units (0 where absent),
/// validity bits and how many rows have no value. A row with a value that
/// cannot be read is given to the kernel with a proposed price of 0 (an
/// invalid proposal), so it is rejected in place: never counted by the
/// breaker, never spending budget; the field is named afterwards.
struct Cols {
    cols: Vec<ColBuf>,
    /// Each row's scale, when some money value is finer than the minor unit.
    row_scales: Vec<u8>,
}

/// One planned column's converted rows.
struct ColBuf {
    field: Field,
    /// Values (money in `10^-scales[r]` minor units; 0 where absent).
    vals: Vec<i64>,
    /// Validity bits.
    bits: Vec<u8>,
    /// Rows without a value.
    missing: usize,
    /// Each row's scale, when `fine`.
    scales: Vec<u8>,
    /// Some value is finer than the minor unit.
    fine: bool,
}

impl ColBuf {
    /// Row `row` holds a value finer than the minor unit, at `scale`: the
    /// column's scales are made (all 0) on its first such value.
    #[cold]
    fn mark_fine(&mut self, row: usize, scale: u8) {
        if !self.fine {
            self.scales.clear();
            self.scales.resize(self.vals.len(), 0);
            self.fine = true;
        }
        if let Some(slot) = self.scales.get_mut(row) {
            *slot = scale;
        }
    }
}

impl Cols {
    fn new(plans: &[Plan]) -> Cols {
        Cols {
            cols: plans
                .iter()
                .map(|p| ColBuf {
                    field: p.field,
                    vals: Vec::new(),
                    bits: Vec::new(),
                    missing: 0,
                    scales: Vec::new(),
                    fine: false,
                })
                .collect(),
            row_scales: Vec::new(),
        }
    }

    /// `n` rows, every one absent.
    fn reset(&mut self, n: usize) {
        for c in &mut self.cols {
            c.vals.clear();
            c.vals.resize(n, 0);
            c.bits.clear();
            c.bits.resize(n.div_ceil(8), 0);
            c.missing = n;
            c.scales.clear();
            c.fine = false;
        }
    }

    /// Converts rows `start..start + k` of `batch` into rows `at..at + k`,
    /// naming in `bad` the first plan (in plan order) whose value a row
    /// cannot use, as `Item::set` and the engine's input checks would.
    #[allow(clippy::too_many_arguments)]
    fn fill(
        &mut self,
        policy: &Policy,
        plans: &[Plan],
        batch: &RecordBatch,
        start: usize,
        at: usize,
        k: usize,
        bad: &mut [Option<Field>],
        vals: &mut [Val],
    ) -> PyResult<()> {
        let vals = vals.get_mut(..k).unwrap_or(&mut []);
        for (p, c) in plans.iter().zip(self.cols.iter_mut()) {
            convert(
                policy,
                p.field,
                p.read,
                batch.column(p.index).as_ref(),
                start,
                vals,
            )?;
            let ids = matches!(p.field, Field::Campaign | Field::Segment);
            for (r, v) in vals.iter().enumerate() {
                let row = at + r;
                let ok = match *v {
                    // Ids must fit u32, as `Item::set` requires.
                    Val::Set(x, _) if ids && u32::try_from(x).is_err() => false,
                    Val::Set(x, sc) => {
                        if let (Some(slot), Some(byte)) =
                            (c.vals.get_mut(row), c.bits.get_mut(row / 8))
                        {
                            *slot = x;
                            *byte |= 1 << (row % 8);
                            c.missing = c.missing.saturating_sub(1);
                        }
                        if sc != 0 {
                            c.mark_fine(row, sc);
                        }
                        true
                    }
                    Val::Absent => c.field != Field::ProposedPrice,
                    Val::Bad => false,
                };
                if let (false, Some(b)) = (ok, bad.get_mut(row)) {
                    if b.is_none() {
                        *b = Some(p.field);
                    }
                }
            }
        }
        Ok(())
    }

    /// Evaluates rows `0..n` (converted by `fill`) into `out`, drawing on
    /// `budgets`. A row whose money no longer fits 64 bits at its scale is
    /// named in `bad` too.
    fn evaluate(
        &mut self,
        policy: &Policy,
        n: usize,
        bad: &mut [Option<Field>],
        out: &mut [Decision],
        budgets: &mut Budgets,
        groups: Option<&[Option<GroupRow>]>,
    ) -> PyResult<BatchSummary> {
        // Values finer than the minor unit: each row's money at one scale.
        let fine = self.cols.iter().any(|c| c.fine) && {
            let mut money: Vec<MoneyCol<'_>> = self
                .cols
                .iter_mut()
                .filter(|c| c.field.is_money())
                .map(|c| MoneyCol {
                    field: c.field,
                    vals: c.vals.get_mut(..n).unwrap_or(&mut []),
                    valid: (c.missing > 0).then_some(c.bits.as_slice()),
                    scales: c.fine.then_some(c.scales.as_slice()),
                })
                .collect();
            unify(&mut money, &mut self.row_scales, n, |r, f| {
                if let Some(b) = bad.get_mut(r) {
                    if b.is_none_or(|old| spec_rank(f) < spec_rank(old)) {
                        *b = Some(f);
                    }
                }
            })
        };
        for c in &mut self.cols {
            if c.field == Field::ProposedPrice {
                for (v, b) in c.vals.iter_mut().zip(bad.iter()) {
                    if b.is_some() {
                        *v = 0;
                    }
                }
            }
        }
        let proposed = self
            .cols
            .iter()
            .find(|c| c.field == Field::ProposedPrice)
            .and_then(|c| c.vals.get(..n))
            .ok_or_else(|| PyValueError::new_err("no `proposed_price` column"))?;
        let mut columns = Columns::new(proposed);
        if fine {
            columns = columns
                .with_scales(self.row_scales.get(..n).unwrap_or(&[]))
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        for c in &self.cols {
            if c.field == Field::ProposedPrice {
                continue;
            }
            let validity = (c.missing > 0).then_some(c.bits.as_slice());
            columns = columns
                .with(c.field, c.vals.get(..n).unwrap_or(&[]), validity)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        let out = out.get_mut(..n).unwrap_or(&mut []);
        if let Some(rows) = groups {
            // Every row decided alone, then the group pass over them all.
            let mut scratch =
                vec![GroupScratch::default(); rows.iter().filter(|r| r.is_some()).count()];
            return policy
                .evaluate_columns_grouped(&columns, rows, out, budgets, &mut scratch, None)
                .map(|(summary, _)| summary)
                .map_err(|e| PyValueError::new_err(e.to_string()));
        }
        policy
            .evaluate_columns_into(&columns, out, budgets)
            .map_err(batch_error)
    }
}

fn name_invalid(out: &mut [Decision], bad: &[Option<Field>]) {
    for (d, b) in out.iter_mut().zip(bad) {
        if b.is_some() {
            d.invalid_field = *b;
        }
    }
}

/// A non-null utf8 column built from offsets and bytes directly.
struct Strings {
    offsets: Vec<i32>,
    bytes: Vec<u8>,
}

impl Strings {
    fn new(n: usize, avg: usize) -> Strings {
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        Strings {
            offsets,
            bytes: Vec::with_capacity(n * avg),
        }
    }

    #[inline]
    fn push(&mut self, s: &str) {
        self.bytes.extend_from_slice(s.as_bytes());
        self.offsets
            .push(i32::try_from(self.bytes.len()).unwrap_or(i32::MAX));
    }

    fn finish(self) -> PyResult<StringArray> {
        let offsets = OffsetBuffer::new(ScalarBuffer::from(self.offsets));
        StringArray::try_new(offsets, Buffer::from_vec(self.bytes), None)
            .map_err(|e| PyValueError::new_err(format!("cannot build a name column: {e}")))
    }
}

/// A `list<string>` column of rule or class names.
struct Names {
    offsets: Vec<i32>,
    names: Strings,
}

impl Names {
    fn new(n: usize) -> Names {
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        Names {
            offsets,
            names: Strings::new(n / 4, 12),
        }
    }

    /// Appends the names of the set bits of `mask`, in bit order.
    #[inline]
    fn push(&mut self, mut mask: u64, table: &[&'static str; 64]) {
        while mask != 0 {
            let bit = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            self.names.push(table.get(bit).copied().unwrap_or(""));
        }
        let len = self.names.offsets.len() - 1;
        self.offsets.push(i32::try_from(len).unwrap_or(i32::MAX));
    }

    fn finish(self) -> PyResult<ArrayRef> {
        let values = self.names.finish()?;
        let offsets = OffsetBuffer::new(ScalarBuffer::from(self.offsets));
        let list = ListArray::try_new(item_field(), offsets, Arc::new(values), None)
            .map_err(|e| PyValueError::new_err(format!("cannot build a list column: {e}")))?;
        Ok(Arc::new(list))
    }
}

fn item_field() -> Arc<ArrowField> {
    Arc::new(ArrowField::new("item", DataType::Utf8, false))
}

/// Rule names by code and class names by bit.
struct Tables {
    rules: [&'static str; 64],
    classes: [&'static str; 64],
}

impl Tables {
    fn new() -> Tables {
        let mut rules = [""; 64];
        for r in Rule::ALL {
            if let Some(slot) = rules.get_mut(*r as usize) {
                *slot = r.name();
            }
        }
        let mut classes = [""; 64];
        for c in Class::ALL {
            if let Some(slot) = classes.get_mut(c.bit().trailing_zeros() as usize) {
                *slot = c.name();
            }
        }
        Tables { rules, classes }
    }
}

/// Output columns of one range of decisions.
struct Out {
    outcome: Strings,
    price: Money,
    lower: Money,
    upper: Money,
    promo_spend: Money,
    violated: Names,
    binding: Names,
    unmet: Names,
    relaxed: Names,
    reason: Strings,
    needs_approval: Vec<bool>,
    /// Field codes, `u8::MAX` for none.
    invalid_field: Vec<u8>,
    /// The lawful "was" price of a `prior_price` hold (docs/spec.md §11.2).
    lawful_reference: Money,
    violated_mask: Vec<i64>,
    binding_mask: Vec<i64>,
    unmet_mask: Vec<i64>,
    relaxed_mask: Vec<i8>,
}

/// A money output column: minor units and validity.
struct Money {
    vals: Vec<i128>,
    valid: Vec<bool>,
}

impl Money {
    fn new(n: usize) -> Money {
        Money {
            vals: Vec::with_capacity(n),
            valid: Vec::with_capacity(n),
        }
    }

    #[inline]
    fn push(&mut self, v: Option<i64>) {
        self.vals.push(i128::from(v.unwrap_or(0)));
        self.valid.push(v.is_some());
    }

    /// A decision's exact spend (`units` x `10^-scale` minor units) at
    /// [`SPEND_EXTRA`] digits beyond the minor unit.
    #[inline]
    fn push_spend(&mut self, v: Option<i64>, scale: u8) {
        /// Whole minor units at `SPEND_EXTRA` digits beyond them.
        const WHOLE: i128 = 10_i128.pow(SPEND_EXTRA as u32);
        let to = if scale == 0 {
            WHOLE
        } else {
            10_i128.pow(u32::from(SPEND_EXTRA.saturating_sub(scale)))
        };
        // At most 2^63 x 10^6: far inside an i128.
        self.vals.push(i128::from(v.unwrap_or(0)).wrapping_mul(to));
        self.valid.push(v.is_some());
    }

    fn finish(self, scale: i8) -> PyResult<ArrayRef> {
        let nulls = NullBuffer::from(self.valid);
        let nulls = (nulls.null_count() > 0).then_some(nulls);
        let a = Decimal128Array::new(ScalarBuffer::from(self.vals), nulls)
            .with_precision_and_scale(MONEY_PRECISION, scale)
            .map_err(|e| PyValueError::new_err(format!("cannot build a money column: {e}")))?;
        Ok(Arc::new(a))
    }
}

impl Out {
    fn new(n: usize) -> Out {
        Out {
            outcome: Strings::new(n, 8),
            price: Money::new(n),
            lower: Money::new(n),
            upper: Money::new(n),
            promo_spend: Money::new(n),
            violated: Names::new(n),
            binding: Names::new(n),
            unmet: Names::new(n),
            relaxed: Names::new(n),
            reason: Strings::new(n, 4),
            needs_approval: Vec::with_capacity(n),
            invalid_field: Vec::with_capacity(n),
            lawful_reference: Money::new(n),
            violated_mask: Vec::with_capacity(n),
            binding_mask: Vec::with_capacity(n),
            unmet_mask: Vec::with_capacity(n),
            relaxed_mask: Vec::with_capacity(n),
        }
    }

    #[inline]
    fn push(&mut self, d: &Decision, t: &Tables) {
        self.outcome.push(d.outcome.name());
        self.price.push(d.price);
        self.lower.push(d.lower);
        self.upper.push(d.upper);
        self.promo_spend.push_spend(d.promo_spend, d.spend_scale);
        self.violated.push(d.violated.0, &t.rules);
        self.binding.push(d.binding.0, &t.rules);
        self.unmet.push(d.unmet.0, &t.rules);
        self.relaxed.push(u64::from(d.relaxed.0), &t.classes);
        self.reason.push(d.reason.name());
        self.needs_approval.push(d.needs_approval);
        self.invalid_field
            .push(d.invalid_field.map_or(u8::MAX, |f| f as u8));
        self.lawful_reference.push(d.lawful_reference);
        // Bit patterns of the masks; every rule code is below 63, so the
        // int64 values are the same numbers as the uint64 masks of
        // `evaluate_batch` (int64 because Spark and Java have no uint64).
        self.violated_mask.push(d.violated.0 as i64);
        self.binding_mask.push(d.binding.0 as i64);
        self.unmet_mask.push(d.unmet.0 as i64);
        self.relaxed_mask.push(d.relaxed.0 as i8);
    }

    fn finish(self, schema: &SchemaRef, scale: i8, sku: Option<ArrayRef>) -> PyResult<RecordBatch> {
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(18);
        if let Some(s) = sku {
            cols.push(s);
        }
        cols.push(Arc::new(self.outcome.finish()?));
        cols.push(self.price.finish(scale)?);
        cols.push(self.lower.finish(scale)?);
        cols.push(self.upper.finish(scale)?);
        cols.push(self.violated.finish()?);
        cols.push(self.binding.finish()?);
        cols.push(self.unmet.finish()?);
        cols.push(self.relaxed.finish()?);
        cols.push(Arc::new(self.reason.finish()?));
        cols.push(self.promo_spend.finish(spend_scale(scale))?);
        cols.push(Arc::new(BooleanArray::from(self.needs_approval)));
        let invalid: StringArray = self
            .invalid_field
            .iter()
            .map(|c| Field::ALL.get(usize::from(*c)).map(|f| f.name()))
            .collect();
        cols.push(Arc::new(invalid));
        cols.push(self.lawful_reference.finish(scale)?);
        cols.push(Arc::new(Int64Array::from(self.violated_mask)));
        cols.push(Arc::new(Int64Array::from(self.binding_mask)));
        cols.push(Arc::new(Int64Array::from(self.unmet_mask)));
        cols.push(Arc::new(Int8Array::from(self.relaxed_mask)));
        RecordBatch::try_new(schema.clone(), cols)
            .map_err(|e| PyValueError::new_err(format!("cannot build the decisions: {e}")))
    }
}

/// The Arrow scale of the output `promo_spend` for a currency scale.
fn spend_scale(scale: i8) -> i8 {
    scale.saturating_add(i8::try_from(SPEND_EXTRA).unwrap_or(i8::MAX))
}

/// The schema of the decisions (with the input's `sku` field first, if any).
fn out_schema(scale: i8, sku: Option<&ArrowField>) -> SchemaRef {
    let money = DataType::Decimal128(MONEY_PRECISION, scale);
    let spend = DataType::Decimal128(MONEY_PRECISION, spend_scale(scale));
    let names = DataType::List(item_field());
    let mut fields: Vec<ArrowField> = Vec::with_capacity(18);
    if let Some(s) = sku {
        fields.push(s.clone());
    }
    fields.extend([
        ArrowField::new("outcome", DataType::Utf8, false),
        ArrowField::new("price", money.clone(), true),
        ArrowField::new("lower", money.clone(), true),
        ArrowField::new("upper", money.clone(), true),
        ArrowField::new("violated", names.clone(), false),
        ArrowField::new("binding", names.clone(), false),
        ArrowField::new("unmet", names.clone(), false),
        ArrowField::new("relaxed", names, false),
        ArrowField::new("reason", DataType::Utf8, false),
        ArrowField::new("promo_spend", spend, true),
        ArrowField::new("needs_approval", DataType::Boolean, false),
        ArrowField::new("invalid_field", DataType::Utf8, true),
        ArrowField::new("lawful_reference", money.clone(), true),
        ArrowField::new("violated_mask", DataType::Int64, false),
        ArrowField::new("binding_mask", DataType::Int64, false),
        ArrowField::new("unmet_mask", DataType::Int64, false),
        ArrowField::new("relaxed_mask", DataType::Int8, false),
    ]);
    Arc::new(Schema::new(fields))
}

/// What every range of the work shares.
struct Ctx<'a> {
    policy: &'a Policy,
    plans: &'a [Plan],
    sku: Option<usize>,
    schema: &'a SchemaRef,
    scale: i8,
    tables: Tables,
}

/// Evaluates rows `start..start + len` of `b` chunk by chunk, drawing on
/// `budgets`, into one output batch.
fn run_range(
    ctx: &Ctx<'_>,
    b: &RecordBatch,
    start: usize,
    len: usize,
    budgets: &mut Budgets,
) -> PyResult<(RecordBatch, BatchSummary)> {
    let policy = ctx.policy;
    let chunk = CHUNK.min(len).max(1);
    let mut cols = Cols::new(ctx.plans);
    let mut bad = vec![None; chunk];
    let mut vals = vec![Val::Absent; chunk];
    let mut out = vec![Decision::default(); chunk];
    let mut summary = BatchSummary::default();
    let mut o = Out::new(len);
    let mut done = 0;
    while done < len {
        let k = (len - done).min(chunk);
        let (Some(bd), Some(ot)) = (bad.get_mut(..k), out.get_mut(..k)) else {
            break;
        };
        bd.fill(None);
        cols.reset(k);
        cols.fill(policy, ctx.plans, b, start + done, 0, k, bd, &mut vals)?;
        let s = cols.evaluate(policy, k, bd, ot, budgets, None)?;
        summary.merge(&s);
        name_invalid(ot, bd);
        for d in ot.iter() {
            o.push(d, &ctx.tables);
        }
        done += k;
    }
    let sku = ctx.sku.map(|i| b.column(i).slice(start, len));
    Ok((o.finish(ctx.schema, ctx.scale, sku)?, summary))
}

fn batch_error(e: priceguard::BatchError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Evaluates every batch, carrying `budgets` across them, and builds the
/// output batches in input order. Runs without Python.
///
/// Rows are independent unless they draw on a campaign budget (consumed
/// in input order) or the policy has a circuit breaker (which judges every
/// row): without either, core's scheduler splits a large batch into one
/// contiguous range per thread, with the same result.
fn run(
    policy: &Policy,
    plans: &[Plan],
    sku: Option<usize>,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    budgets: &mut Budgets,
    groups: GroupPlan,
) -> PyResult<(Vec<RecordBatch>, BatchSummary)> {
    let ctx = Ctx {
        policy,
        plans,
        sku,
        schema,
        scale: i8::try_from(policy.currency().minor_units()).unwrap_or(i8::MAX),
        tables: Tables::new(),
    };
    let mut summary = BatchSummary::default();
    let mut outputs = Vec::with_capacity(batches.len());
    if policy.breaker().is_some() || groups.any() {
        // The breaker judges every row; a group is solved from all of its
        // rows, wherever they are in the data.
        return run_whole(&ctx, batches, budgets, groups);
    }
    let draws_budgets =
        policy.campaign_count() > 0 && plans.iter().any(|p| p.field == Field::Campaign);
    for b in batches {
        let n = b.num_rows();
        // One output batch per thread, as many as the work was cut into
        // (rows taken in order, so the output keeps the input's order).
        let parts = Schedule::for_batch(policy, n, draws_budgets, n)
            .even(n)
            .run(n, budgets, (), |rows, (), budgets| {
                run_range(&ctx, b, rows.start, rows.len(), budgets)
            })?;
        for (o, s) in parts {
            summary.merge(&s);
            outputs.push(o);
        }
    }
    Ok((outputs, summary))
}

/// A policy with a circuit breaker: every row is converted first and
/// evaluated as one batch, as docs/spec.md §7 says.
///
/// With group columns, every row is placed in its group too (ids interned
/// across all the batches) and the group pass runs over the decisions.
fn run_whole(
    ctx: &Ctx<'_>,
    batches: &[RecordBatch],
    budgets: &mut Budgets,
    groups: GroupPlan,
) -> PyResult<(Vec<RecordBatch>, BatchSummary)> {
    let policy = ctx.policy;
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut cols = Cols::new(ctx.plans);
    cols.reset(total);
    let mut bad = vec![None; total];
    let mut vals = vec![Val::Absent; CHUNK];
    let mut at = 0;
    for b in batches {
        let mut done = 0;
        while done < b.num_rows() {
            let k = (b.num_rows() - done).min(CHUNK);
            cols.fill(policy, ctx.plans, b, done, at, k, &mut bad, &mut vals)?;
            done += k;
            at += k;
        }
    }
    let rows = if groups.any() {
        Some(group_rows(policy, batches, groups, &mut bad)?)
    } else {
        None
    };
    let mut out = vec![Decision::default(); total];
    let summary = cols.evaluate(policy, total, &mut bad, &mut out, budgets, rows.as_deref())?;
    name_invalid(&mut out, &bad);
    let mut outputs = Vec::with_capacity(batches.len());
    let mut at = 0;
    for b in batches {
        let n = b.num_rows();
        let mut o = Out::new(n);
        for d in out.get(at..at + n).unwrap_or(&[]) {
            o.push(d, &ctx.tables);
        }
        let sku = ctx.sku.map(|i| b.column(i).clone());
        outputs.push(o.finish(ctx.schema, ctx.scale, sku)?);
        at += n;
    }
    Ok((outputs, summary))
}

/// Each row's place in its group (`batch::place`), group ids interned
/// across `batches`; a row in no group whose `rank` or `pack_size` cannot
/// be read is named in `bad` (after any item field, in docs/spec.md §3
/// order).
fn group_rows(
    policy: &Policy,
    batches: &[RecordBatch],
    plan: GroupPlan,
    bad: &mut [Option<Field>],
) -> PyResult<Vec<Option<GroupRow>>> {
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut rows = Vec::with_capacity(bad.len());
    let mut ranks = vec![Val::Absent; CHUNK];
    let mut packs = vec![Val::Absent; CHUNK];
    let mut at = 0;
    for b in batches {
        let mut done = 0;
        while done < b.num_rows() {
            let k = (b.num_rows() - done).min(CHUNK);
            let (Some(rk), Some(pk)) = (ranks.get_mut(..k), packs.get_mut(..k)) else {
                break;
            };
            rk.fill(Val::Absent);
            pk.fill(Val::Absent);
            if let Some((i, read)) = plan.rank {
                convert(policy, Field::Rank, read, b.column(i).as_ref(), done, rk)?;
            }
            if let Some((i, read)) = plan.pack {
                convert(
                    policy,
                    Field::PackSize,
                    read,
                    b.column(i).as_ref(),
                    done,
                    pk,
                )?;
            }
            for (r, (rank, pack)) in rk.iter().zip(pk.iter()).enumerate() {
                let group = match plan.group {
                    Some(i) => match group_text(b.column(i).as_ref(), done + r) {
                        Some(text) => {
                            let next = u32::try_from(ids.len()).map_err(|_| {
                                PyValueError::new_err("`group` has more than 2**32 distinct values")
                            })?;
                            Some(*ids.entry(text).or_insert(next))
                        }
                        None => None,
                    },
                    None => None,
                };
                let (row, field) = crate::batch::place(group, whole(*rank), whole(*pack));
                rows.push(row);
                if let (Some(f), Some(slot)) = (field, bad.get_mut(at + r)) {
                    if slot.is_none() {
                        *slot = Some(f);
                    }
                }
            }
            done += k;
            at += k;
        }
    }
    Ok(rows)
}

/// Promotion budgets carried from one `evaluate_arrow` call to the next
/// (a Spark partition arrives as several record batches).
#[pyclass(module = "priceguard._native", frozen)]
pub struct ArrowBudgets {
    policy: Py<NativePolicy>,
    budgets: Mutex<Budgets>,
}

#[pymethods]
impl ArrowBudgets {
    /// Fresh budgets of `policy`, as configured.
    #[new]
    fn new(policy: Bound<'_, NativePolicy>) -> ArrowBudgets {
        let budgets = Budgets::new(&policy.get().inner);
        ArrowBudgets {
            policy: policy.unbind(),
            budgets: Mutex::new(budgets),
        }
    }

    /// Remaining budget per campaign, in minor units.
    fn remaining_minor(&self) -> PyResult<Vec<(String, i64)>> {
        let b = self
            .budgets
            .lock()
            .map_err(|_| PyValueError::new_err("the budgets were poisoned by a failed call"))?;
        let policy = &self.policy.get().inner;
        Ok(policy
            .campaigns()
            .enumerate()
            .map(|(i, (name, _))| {
                let id = priceguard::CampaignId(u32::try_from(i).unwrap_or(u32::MAX));
                (name.to_string(), b.remaining(id).unwrap_or(0))
            })
            .collect())
    }
}

/// The entry point behind `priceguard.Policy.evaluate_arrow`.
pub(crate) fn evaluate<'py>(
    py: Python<'py>,
    slf: &Bound<'py, NativePolicy>,
    data: &Bound<'py, PyAny>,
    state: Option<&Bound<'py, ArrowBudgets>>,
    ignore_extra: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let policy = &slf.get().inner;
    // Import every batch first (zero-copy: the buffers stay where the
    // producer put them), then work without the GIL.
    let (in_schema, batches) = crate::arrow_ffi::import(data)?;
    let (plans, sku, groups) = plan(&in_schema, ignore_extra)?;
    let scale = i8::try_from(policy.currency().minor_units()).unwrap_or(i8::MAX);
    let schema = out_schema(scale, sku.map(|i| in_schema.field(i)));
    let (outputs, _summary) = match state {
        Some(st) => {
            let st = st.get();
            if !st.policy.bind(py).is(slf) {
                return Err(PyValueError::new_err(
                    "these budgets belong to another policy",
                ));
            }
            let mut b = st
                .budgets
                .lock()
                .map_err(|_| PyValueError::new_err("the budgets were poisoned by a failed call"))?;
            let b: &mut Budgets = &mut b;
            py.detach(|| run(policy, &plans, sku, &schema, &batches, b, groups))?
        }
        None => {
            let mut b = Budgets::new(policy);
            py.detach(|| run(policy, &plans, sku, &schema, &batches, &mut b, groups))?
        }
    };
    crate::arrow_ffi::export(py, schema, outputs)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn decimals_of_any_scale() {
        let policy = Policy::from_toml_str(
            "name = \"t\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"100\"\n",
        )
        .unwrap();
        let cost = |read: Read, a: &dyn Array| {
            let mut out = vec![Val::Absent; a.len()];
            convert(&policy, Field::UnitCost, read, a, 0, &mut out).unwrap();
            out
        };
        // 14.3000 is whole cents; 14.3010 keeps its tenth of a cent.
        let a = Decimal128Array::from(vec![Some(143_000), Some(143_010), None])
            .with_precision_and_scale(10, 4)
            .unwrap();
        assert_eq!(
            cost(Read::Decimal { scale: 4 }, &a),
            [Val::Set(1430, 0), Val::Set(14301, 1), Val::Absent]
        );
        // A scale so negative that 10^-scale overflows: only zero fits.
        let b = Decimal128Array::from(vec![Some(0), Some(1)]);
        assert_eq!(
            cost(Read::Decimal { scale: -40 }, &b),
            [Val::Set(0, 0), Val::Bad]
        );
        // Forty decimals: 1e-40 is below the eighth decimal, rounded to 0.
        assert_eq!(
            cost(Read::Decimal { scale: 40 }, &b),
            [Val::Set(0, 0), Val::Set(0, 0)]
        );
        // decimal256: beyond 128 bits, read through its text.
        let big = i256::from_i128(3_969_400_000_000_000_000_000_000_000_000_000_000)
            .wrapping_mul(i256::from_i128(1_000_000));
        let c = arrow_array::Decimal256Array::from(vec![Some(i256::from_i128(39_694)), Some(big)])
            .with_precision_and_scale(76, 4)
            .unwrap();
        assert_eq!(
            cost(Read::Decimal256 { scale: 4 }, &c),
            [Val::Set(39_694, 2), Val::Bad]
        );
        let d = arrow_array::Decimal256Array::from(vec![Some(big)])
            .with_precision_and_scale(76, 42)
            .unwrap();
        assert_eq!(
            cost(Read::Decimal256 { scale: 42 }, &d),
            [Val::Set(39_694, 2)]
        );
    }
}
