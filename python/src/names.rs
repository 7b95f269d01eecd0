//! String columns from a small table of names and one index per row: the
//! name columns (`outcome`, `violated`, ...) of `BatchResult.to_pandas`
//! and `evaluate_frame`. An Arrow `take` from the table cost 11-13 ns a
//! row a column; writing the offsets and bytes directly costs a few.

use std::sync::Arc;

use arrow_array::{ArrayRef, LargeStringArray, RecordBatch};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema};
use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// `table[indices[i]]` for every row, as a `large_string` column (null
/// where the table has `None`). One pass: the bytes are reserved for the
/// longest name a row (address space; only the written pages are touched).
fn build<I: Copy + TryInto<usize>>(indices: &[I], table: &[Option<&str>]) -> PyResult<ArrayRef> {
    let n = indices.len();
    let longest = table
        .iter()
        .map(|s| s.map_or(0, str::len))
        .max()
        .unwrap_or(0);
    let has_null = table.iter().any(Option::is_none);
    let mut offsets: Vec<i64> = Vec::with_capacity(n + 1);
    let mut bytes: Vec<u8> = Vec::with_capacity(n.saturating_mul(longest));
    let mut valid: Vec<bool> = Vec::with_capacity(if has_null { n } else { 0 });
    offsets.push(0);
    for &i in indices {
        let name = i
            .try_into()
            .ok()
            .and_then(|at: usize| table.get(at))
            .ok_or_else(|| {
                PyValueError::new_err("a name index outside its table (a priceguard bug)")
            })?;
        if let Some(s) = name {
            bytes.extend_from_slice(s.as_bytes());
        }
        if has_null {
            valid.push(name.is_some());
        }
        offsets.push(i64::try_from(bytes.len()).unwrap_or(i64::MAX));
    }
    let nulls = has_null.then(|| NullBuffer::from(valid));
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    let array = LargeStringArray::try_new(offsets, Buffer::from_vec(bytes), nulls)
        .map_err(|e| PyValueError::new_err(format!("cannot build a name column: {e}")))?;
    Ok(Arc::new(array))
}

/// A `pyarrow.Table` with one `large_string` column per `(name, indices,
/// table)`: row `i` of a column is `table[indices[i]]`.
pub(crate) fn take_names<'py>(
    py: Python<'py>,
    columns: Vec<(String, Bound<'py, PyAny>, Vec<Option<String>>)>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut fields = Vec::with_capacity(columns.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
    for (name, idx, table) in &columns {
        let table: Vec<Option<&str>> = table.iter().map(Option::as_deref).collect();
        let table = table.as_slice();
        let contiguous = |e| PyValueError::new_err(format!("name indices: {e}"));
        let array = if let Ok(a) = idx.extract::<PyReadonlyArray1<'py, u8>>() {
            let s = a.as_slice().map_err(contiguous)?;
            py.detach(|| build(s, table))
        } else if let Ok(a) = idx.extract::<PyReadonlyArray1<'py, i8>>() {
            let s = a.as_slice().map_err(contiguous)?;
            py.detach(|| build(s, table))
        } else if let Ok(a) = idx.extract::<PyReadonlyArray1<'py, i32>>() {
            let s = a.as_slice().map_err(contiguous)?;
            py.detach(|| build(s, table))
        } else {
            let a = idx.extract::<PyReadonlyArray1<'py, i64>>()?;
            let s = a.as_slice().map_err(contiguous)?;
            py.detach(|| build(s, table))
        }?;
        fields.push(Field::new(
            name,
            DataType::LargeUtf8,
            array.null_count() > 0,
        ));
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays)
        .map_err(|e| PyValueError::new_err(format!("cannot build the name columns: {e}")))?;
    crate::arrow_ffi::export(py, schema, vec![batch])
}

/// A code column's element, as the `i64` [`dense`] works in.
trait Code: Copy + Send + Sync {
    /// A one-byte type, numbered through a direct table.
    const BYTE: bool = false;
    fn value(self) -> i64;
    /// The low byte (the whole value of a byte type).
    fn byte(self) -> u8 {
        self.value() as u8
    }
}

impl Code for u8 {
    const BYTE: bool = true;
    fn value(self) -> i64 {
        self.into()
    }
}

impl Code for i8 {
    const BYTE: bool = true;
    fn value(self) -> i64 {
        self.into()
    }
}

impl Code for i32 {
    fn value(self) -> i64 {
        self.into()
    }
}

impl Code for i64 {
    fn value(self) -> i64 {
        self
    }
}

impl Code for u64 {
    /// The caller refuses values above `i64::MAX` first; one that slipped
    /// through would read as negative, that is null, never as another code.
    fn value(self) -> i64 {
        self as i64
    }
}

const EMPTY: i64 = -1;

/// A categorical's code type: int8, int16 or int32.
trait Narrow: TryFrom<i32> + TryInto<i32> + Copy + Default + Send + numpy::Element {
    const BYTES: usize;
    /// The code's low byte (all of an int8's).
    fn low_byte(self) -> u8;
}

impl Narrow for i8 {
    const BYTES: usize = 1;
    fn low_byte(self) -> u8 {
        self as u8
    }
}

impl Narrow for i16 {
    const BYTES: usize = 2;
    fn low_byte(self) -> u8 {
        self as u8
    }
}

impl Narrow for i32 {
    const BYTES: usize = 4;
    fn low_byte(self) -> u8 {
        self as u8
    }
}

/// Numbers each row's value by first appearance (`-1` for a negative
/// value) into `N`, giving up (`None`) past `limit` distinct values; the
/// values in order of first appearance. One pass, the lookup inline: a
/// direct table for byte columns, else open addressing in 8 times the
/// slots `limit` can fill, so it never grows.
fn first_codes<T: Code, N: Narrow>(codes: &[T], limit: usize) -> Option<(Vec<N>, Vec<i64>)> {
    let n = |c: i32| N::try_from(c).unwrap_or_default();
    // Written in place, not pushed: no capacity check a row.
    let mut out: Vec<N> = vec![N::default(); codes.len()];
    let mut uniques: Vec<i64> = Vec::new();
    let bits = (limit.max(1) * 8)
        .next_power_of_two()
        .trailing_zeros()
        .max(1);
    let mask = (1usize << bits) - 1;
    let mut slots: Vec<(i64, i32)> = vec![(EMPTY, -1); if T::BYTE { 0 } else { mask + 1 }];
    if T::BYTE {
        // A direct table by the value's byte; `seen` marks the bytes met.
        let mut table = [N::default(); 256];
        let mut seen = [false; 256];
        for (&c, o) in codes.iter().zip(out.iter_mut()) {
            let b = usize::from(c.byte());
            if !seen.get(b).copied().unwrap_or(true) {
                let v = c.value();
                let code = if v < 0 {
                    -1
                } else {
                    if uniques.len() == limit {
                        return None;
                    }
                    uniques.push(v);
                    i32::try_from(uniques.len() - 1).ok()?
                };
                *table.get_mut(b)? = n(code);
                *seen.get_mut(b)? = true;
            }
            *o = table.get(b).copied().unwrap_or_default();
        }
        return Some((out, uniques));
    }
    let (mut last, mut last_code) = (EMPTY, n(-1));
    for (&c, o) in codes.iter().zip(out.iter_mut()) {
        let v = c.value();
        if v != last {
            last = v;
            last_code = n(if v < 0 {
                -1
            } else {
                // Fibonacci hashing: masks differ in high and low bits alike.
                let mut at =
                    ((v as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize;
                loop {
                    // `at` is masked to the table; `None` would give up,
                    // not panic.
                    let slot = slots.get_mut(at)?;
                    if slot.0 == v {
                        break slot.1;
                    }
                    if slot.0 == EMPTY {
                        if uniques.len() == limit {
                            return None;
                        }
                        let code = uniques.len() as i32;
                        *slot = (v, code);
                        uniques.push(v);
                        break code;
                    }
                    at = (at + 1) & mask;
                }
            });
        }
        *o = last_code;
    }
    Some((out, uniques))
}

/// The distinct values of `codes` (negative values excepted), ascending,
/// and each row's position among them (`-1` for a negative value) in the
/// narrowest of int8, int16, int32 that holds them: what a categorical
/// column is made of. One numbering pass by first appearance, then a
/// renumbering by a table of `k` entries, so the categories come out
/// sorted without sorting rows.
fn dense<'py, T: Code>(py: Python<'py>, codes: &[T]) -> (Bound<'py, PyAny>, Vec<i64>) {
    use numpy::IntoPyArray;
    fn sorted<N: Narrow>((mut out, uniques): (Vec<N>, Vec<i64>)) -> (Vec<N>, Vec<i64>) {
        let mut order: Vec<(i64, usize)> = uniques.iter().copied().zip(0..).collect();
        order.sort_unstable();
        let mut rank = vec![N::default(); order.len()];
        for (r, &(_, k)) in order.iter().enumerate() {
            if let Some(slot) = rank.get_mut(k) {
                *slot = N::try_from(i32::try_from(r).unwrap_or(i32::MAX)).unwrap_or_default();
            }
        }
        if order.iter().enumerate().all(|(r, &(_, k))| r == k) {
            // First appearance was ascending already (often: 0 comes first).
        } else if N::BYTES == 1 {
            // A table indexed by the code's byte: -1 (255) stays -1.
            let mut table = [N::default(); 256];
            for (b, t) in table.iter_mut().enumerate() {
                let k = i32::from(b as u8 as i8);
                *t = N::try_from(k).unwrap_or_default();
                if let Some(&r) = usize::try_from(k).ok().and_then(|k| rank.get(k)) {
                    *t = r;
                }
            }
            for c in &mut out {
                *c = table
                    .get(usize::from(c.low_byte()))
                    .copied()
                    .unwrap_or_default();
            }
        } else {
            for c in &mut out {
                if let Some(&r) = (*c)
                    .try_into()
                    .ok()
                    .and_then(|k: i32| rank.get(usize::try_from(k).ok()?))
                {
                    *c = r;
                }
            }
        }
        (out, order.into_iter().map(|(u, _)| u).collect())
    }
    /// The codes in the narrowest type that holds them.
    enum Codes {
        I8(Vec<i8>),
        I16(Vec<i16>),
        I32(Vec<i32>),
    }
    let (codes, uniques) = py.detach(|| {
        if let Some(r) = first_codes::<T, i8>(codes, i8::MAX as usize) {
            let (c, u) = sorted(r);
            return (Codes::I8(c), u);
        }
        if let Some(r) = first_codes::<T, i16>(codes, i16::MAX as usize) {
            let (c, u) = sorted(r);
            return (Codes::I16(c), u);
        }
        // More than 32,767 distinct values: not a batch's masks, but
        // still answered, through a map that grows with them.
        let mut seen: std::collections::HashMap<i64, i32> = std::collections::HashMap::new();
        let mut uniques = Vec::new();
        let out: Vec<i32> = codes
            .iter()
            .map(|&c| {
                let v = c.value();
                if v < 0 {
                    return -1;
                }
                *seen.entry(v).or_insert_with(|| {
                    uniques.push(v);
                    i32::try_from(uniques.len() - 1).unwrap_or(i32::MAX)
                })
            })
            .collect();
        let (c, u) = sorted((out, uniques));
        (Codes::I32(c), u)
    });
    let array = match codes {
        Codes::I8(c) => c.into_pyarray(py).into_any(),
        Codes::I16(c) => c.into_pyarray(py).into_any(),
        Codes::I32(c) => c.into_pyarray(py).into_any(),
    };
    (array, uniques)
}

/// [`dense`] of a contiguous uint8, int8, int32, int64 or uint64 array (a
/// uint64 value above `i64::MAX` is refused: masks never set bit 63). The
/// codes come back as the narrowest of int8, int16, int32 that holds them,
/// the dtype pandas would give a categorical's codes anyway.
pub(crate) fn dense_codes<'py>(
    py: Python<'py>,
    codes: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Vec<i64>)> {
    let contiguous = |e| PyValueError::new_err(format!("codes: {e}"));
    Ok(
        if let Ok(a) = codes.extract::<PyReadonlyArray1<'py, u8>>() {
            dense(py, a.as_slice().map_err(contiguous)?)
        } else if let Ok(a) = codes.extract::<PyReadonlyArray1<'py, i8>>() {
            dense(py, a.as_slice().map_err(contiguous)?)
        } else if let Ok(a) = codes.extract::<PyReadonlyArray1<'py, i32>>() {
            dense(py, a.as_slice().map_err(contiguous)?)
        } else if let Ok(a) = codes.extract::<PyReadonlyArray1<'py, u64>>() {
            let s = a.as_slice().map_err(contiguous)?;
            if s.iter().any(|&v| v > i64::MAX as u64) {
                return Err(PyValueError::new_err("codes: a value above 2^63 - 1"));
            }
            dense(py, s)
        } else {
            let a = codes.extract::<PyReadonlyArray1<'py, i64>>()?;
            dense(py, a.as_slice().map_err(contiguous)?)
        },
    )
}
