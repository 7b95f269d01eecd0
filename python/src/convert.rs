//! Reading one Python value into one item field, the way docs/spec.md §3 and
//! docs/spec.md M1/M2 say: `Decimal`, `int` (major units), `str`
//! and `float` (its shortest repr) for money, of any precision (digits
//! finer than the currency raise the item's scale, exactly); whole
//! numbers for counts and times; a name for `campaign`.

use std::str::FromStr;

use priceguard::{Field, Item, Policy};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString, PyType};
use rust_decimal::Decimal;

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Python's `decimal.Decimal` class.
pub(crate) fn decimal_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DECIMAL.import(py, "decimal", "Decimal")
}

/// `decimal.Decimal` of an amount in minor units, with exactly the
/// currency's digits (`Decimal('14.30')`).
pub(crate) fn money_to_py<'py>(
    py: Python<'py>,
    policy: &Policy,
    minor: Option<i64>,
) -> PyResult<Bound<'py, PyAny>> {
    match minor {
        None => Ok(py.None().into_bound(py)),
        Some(v) => decimal_class(py)?.call1((policy.currency().format(v).to_string(),)),
    }
}

/// Reads a Python `Decimal` through its text form (exact, also for
/// exponent forms such as `1.2E+3`).
fn read_decimal(obj: &Bound<'_, PyAny>) -> Option<Decimal> {
    let text = obj.str().ok()?;
    let text = text.to_cow().ok()?;
    Decimal::from_str_exact(&text)
        .ok()
        .or_else(|| Decimal::from_scientific(&text).ok())
}

/// Why a value cannot be used, in the words of the command line:
/// `field: `text` reason` (docs/spec.md §6 bad input).
pub(crate) type Refusal = String;

fn refuse(field: Field, text: &str, why: &str) -> Refusal {
    format!("{field}: `{text}` {why}")
}

/// The value's `str()`, for messages.
fn shown(obj: &Bound<'_, PyAny>) -> String {
    obj.str()
        .and_then(|s| s.to_cow().map(|c| c.into_owned()))
        .unwrap_or_else(|_| String::from("?"))
}

/// `Some(bits)` when `obj` is a numpy float scalar narrower or wider than
/// float64 (`float16`, `float32`, `longdouble`): refused everywhere, since
/// a float32 cannot hold every price to the cent (docs/spec.md §6).
fn other_float_bits(obj: &Bound<'_, PyAny>) -> Option<usize> {
    let dtype = obj.getattr("dtype").ok()?;
    let kind: String = dtype.getattr("kind").ok()?.extract().ok()?;
    let size: usize = dtype.getattr("itemsize").ok()?.extract().ok()?;
    (kind == "f" && size != 8).then_some(size * 8)
}

/// A float NaN (numpy's float64 scalar is a Python float too): the
/// missing marker of pandas and numpy, read as absent as the batch reads
/// it in a column.
fn is_nan(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyFloat>() && obj.extract::<f64>().is_ok_and(f64::is_nan)
}

/// `pandas.NA` or `NaT`, the other markers a pandas row carries. Only asked
/// of values no common type matched, so the hot path never looks.
fn is_pandas_missing(obj: &Bound<'_, PyAny>) -> bool {
    obj.get_type()
        .name()
        .is_ok_and(|n| n == "NAType" || n == "NaTType")
}

/// Sets `field` of `item` from `obj`. `None` and a float NaN (the missing
/// marker of pandas and numpy, read the same way in a batch column) leave
/// it absent. `Err((named, why))` means the value cannot be used: the
/// item is `invalid_input` naming `named` (`field`, or the field that no
/// longer fits 64 bits when a finer value raises the item's scale), and
/// `why` is the sentence `Decision.explain` gives.
pub(crate) fn set_field(
    policy: &Policy,
    item: &mut Item,
    field: Field,
    obj: &Bound<'_, PyAny>,
) -> Result<(), (Field, Refusal)> {
    let absent = || {
        if field == Field::ProposedPrice {
            Err((field, format!("{field}: is required")))
        } else {
            Ok(())
        }
    };
    if obj.is_none() || is_nan(obj) {
        return absent();
    }
    if field == Field::Campaign {
        let Ok(name) = obj.cast::<PyString>() else {
            if is_pandas_missing(obj) {
                return absent();
            }
            return Err((
                field,
                refuse(field, &shown(obj), "is not a campaign name (a str)"),
            ));
        };
        let name = name
            .to_cow()
            .map_err(|_| (field, refuse(field, "?", "is not valid text")))?;
        *item = item.with_campaign(policy.campaign_id(&name));
        return Ok(());
    }
    let fe = |e: priceguard::FieldError| (e.field, e.to_string());
    // `True` is an int to Python but never a price or a count.
    if obj.is_instance_of::<PyBool>() {
        return Err((field, refuse(field, &shown(obj), "is not a number")));
    }
    if obj.is_instance_of::<PyInt>() {
        // An int is major units for money (12 is 12.00), a plain count
        // otherwise. One beyond i64 is read as text, for the same message
        // as the command line gives (`is beyond the supported range`).
        return match obj.extract::<i64>() {
            Ok(v) => policy
                .set_field_decimal(item, field, Decimal::from(v))
                .map_err(fe),
            Err(_) => text_refusal(policy, item, field, &shown(obj)),
        };
    }
    if obj.is_instance_of::<PyFloat>() {
        let v: f64 = obj
            .extract()
            .map_err(|_| (field, refuse(field, &shown(obj), "is not a number")))?;
        return policy.set_field_float(item, field, v).map_err(fe);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        // Exactly as every other interface reads text (a blank is absent,
        // except for the required `proposed_price`).
        let s = s
            .to_cow()
            .map_err(|_| (field, refuse(field, "?", "is not valid text")))?;
        return policy.set_field_text(item, field, &s).map_err(fe);
    }
    let py = obj.py();
    if let Ok(cls) = decimal_class(py) {
        if obj.is_instance(cls.as_any()).unwrap_or(false) {
            let text = shown(obj);
            let Some(d) = read_decimal(obj) else {
                return Err((field, refuse(field, &text, "is not a finite number")));
            };
            return policy.set_field_decimal(item, field, d).map_err(fe);
        }
    }
    if is_pandas_missing(obj) {
        return absent();
    }
    if let Some(bits) = other_float_bits(obj) {
        return Err((
            field,
            refuse(
                field,
                &shown(obj),
                &format!("is a float{bits}; give a float64, Decimal, str or int"),
            ),
        ));
    }
    // numpy integer scalars and other numbers: through their exact text form.
    let text = shown(obj);
    if let Ok(v) = Decimal::from_str(&text) {
        return policy.set_field_decimal(item, field, v).map_err(fe);
    }
    Err((
        field,
        refuse(
            field,
            &text,
            &format!(
                "is a `{}`, not a number",
                obj.get_type()
                    .name()
                    .map_or_else(|_| String::from("?"), |n| n.to_string())
            ),
        ),
    ))
}

/// The command line's message for a value that does not fit an `i64`.
fn text_refusal(
    policy: &Policy,
    item: &mut Item,
    field: Field,
    text: &str,
) -> Result<(), (Field, Refusal)> {
    let mut scratch = *item;
    match policy.set_field_text(&mut scratch, field, text) {
        Err(e) => Err((e.field, e.to_string())),
        Ok(()) => Err((field, refuse(field, text, "is beyond the supported range"))),
    }
}
