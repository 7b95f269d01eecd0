//! The Arrow PyCapsule interface on arrow-rs's C data interface
//! (`arrow_array::ffi` / `ffi_stream`): import a producer's stream or
//! record batch without copying its buffers, export decisions as a stream
//! that pyarrow imports without copying either.
//!
//! The capsule names and ownership rules are those of the Arrow PyCapsule
//! interface: the consumer moves the C struct out of the capsule (leaving a
//! released struct behind), and a capsule never consumed releases its
//! struct when it is destroyed.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::ffi::{from_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use arrow_array::{make_array, Array, RecordBatch, RecordBatchIterator, RecordBatchOptions};
use arrow_schema::{ArrowError, Schema, SchemaRef};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};

fn read_error(e: ArrowError) -> PyErr {
    PyValueError::new_err(format!("cannot read the Arrow data: {e}"))
}

/// Imports every record batch of `obj` (`__arrow_c_stream__`, else
/// `__arrow_c_array__` of a struct array such as a pyarrow `RecordBatch`).
/// The batches reference the producer's buffers; nothing is copied.
pub(crate) fn import(obj: &Bound<'_, PyAny>) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
    let py = obj.py();
    if obj.hasattr(intern!(py, "__arrow_c_stream__"))? {
        let capsule = obj
            .call_method0(intern!(py, "__arrow_c_stream__"))?
            .cast_into::<PyCapsule>()?;
        let ptr = capsule
            .pointer_checked(Some(c"arrow_array_stream"))?
            .cast::<FFI_ArrowArrayStream>();
        // SAFETY: the capsule named `arrow_array_stream` holds a valid
        // `ArrowArrayStream` (PyCapsule interface); `from_raw` moves it out
        // and leaves a released struct, so the capsule's destructor does
        // not release it a second time.
        let stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.as_ptr()) };
        let reader = ArrowArrayStreamReader::try_new(stream).map_err(read_error)?;
        let schema = arrow_array::RecordBatchReader::schema(&reader);
        let batches = reader.collect::<Result<Vec<_>, _>>().map_err(read_error)?;
        return Ok((schema, batches));
    }
    if obj.hasattr(intern!(py, "__arrow_c_array__"))? {
        let pair = obj
            .call_method0(intern!(py, "__arrow_c_array__"))?
            .cast_into::<PyTuple>()?;
        let schema_capsule = pair.get_item(0)?.cast_into::<PyCapsule>()?;
        let array_capsule = pair.get_item(1)?.cast_into::<PyCapsule>()?;
        let schema_ptr = schema_capsule
            .pointer_checked(Some(c"arrow_schema"))?
            .cast::<FFI_ArrowSchema>();
        let array_ptr = array_capsule
            .pointer_checked(Some(c"arrow_array"))?
            .cast::<FFI_ArrowArray>();
        // SAFETY: the capsules hold a valid `ArrowSchema` (borrowed: it
        // stays owned by its capsule, alive while `schema_capsule` is) and
        // a valid `ArrowArray` (moved out, leaving a released struct).
        let (schema, array) = unsafe {
            (
                schema_ptr.as_ref(),
                FFI_ArrowArray::from_raw(array_ptr.as_ptr()),
            )
        };
        // SAFETY: `array` was produced for `schema` by the same producer.
        let data = unsafe { from_ffi(array, schema) }.map_err(read_error)?;
        let array = make_array(data);
        let Some(rows) = array.as_struct_opt() else {
            return Err(PyTypeError::new_err(format!(
                "evaluate_arrow needs a table or record batch, not an array of `{}`",
                array.data_type()
            )));
        };
        let schema = Arc::new(Schema::new(rows.fields().clone()));
        let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
        let batch =
            RecordBatch::try_new_with_options(schema.clone(), rows.columns().to_vec(), &options)
                .map_err(read_error)?;
        return Ok((schema, vec![batch]));
    }
    Err(PyTypeError::new_err(format!(
        "evaluate_arrow needs Arrow data (an object with `__arrow_c_stream__` or \
         `__arrow_c_array__`), not `{}`",
        obj.get_type().name()?
    )))
}

/// Hands `batches` to pyarrow as a C stream and returns the `pyarrow.Table`.
pub(crate) fn export<'py>(
    py: Python<'py>,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> PyResult<Bound<'py, PyAny>> {
    let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
    let stream = FFI_ArrowArrayStream::new(Box::new(reader));
    let capsule = PyCapsule::new_with_value(py, stream, c"arrow_array_stream")?;
    py.import(intern!(py, "pyarrow"))?
        .getattr(intern!(py, "RecordBatchReader"))?
        .call_method1(intern!(py, "_import_from_c_capsule"), (capsule,))?
        .call_method0(intern!(py, "read_all"))
}
