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
