//! Reading one Python value into one item field, the way SPEC §3 and
//! `docs/semantics.md` M1/M2 say: `Decimal`, `int` (major units), `str`
//! and `float` (rounded half-even to the minor unit) for money; whole
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

/// Sets `field` of `item` from `obj`. `None` leaves it absent. `Err(())`
/// means the value cannot be read: the item is `invalid_input` naming
/// `field`.
pub(crate) fn set_field(
    policy: &Policy,
    item: &mut Item,
    field: Field,
    obj: &Bound<'_, PyAny>,
) -> Result<(), ()> {
    if obj.is_none() {
        if field == Field::ProposedPrice {
            return Err(());
        }
        return Ok(());
    }
    if field == Field::Campaign {
        let name = obj.cast::<PyString>().map_err(|_| ())?;
        let name = name.to_cow().map_err(|_| ())?;
        *item = item.with_campaign(policy.campaign_id(&name));
        return Ok(());
    }
    // `True` is an int to Python but never a price or a count.
    if obj.is_instance_of::<PyBool>() {
        return Err(());
    }
    if obj.is_instance_of::<PyInt>() {
        let v: i64 = obj.extract().map_err(|_| ())?;
        // An int is major units for money (12 is 12.00), a plain count otherwise.
        return policy
            .set_field_decimal(item, field, Decimal::from(v))
            .map_err(|_| ());
    }
    if obj.is_instance_of::<PyFloat>() {
        let v: f64 = obj.extract().map_err(|_| ())?;
        // NaN is refused here: only float *columns* use it as "absent".
        return policy.set_field_float(item, field, v).map_err(|_| ());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        // Exactly as every other interface reads text (a blank is absent,
        // except for the required `proposed_price`).
        let s = s.to_cow().map_err(|_| ())?;
        return policy.set_field_text(item, field, &s).map_err(|_| ());
    }
    let py = obj.py();
    if let Ok(cls) = decimal_class(py) {
        if obj.is_instance(cls.as_any()).unwrap_or(false) {
            let d = read_decimal(obj).ok_or(())?;
            return policy.set_field_decimal(item, field, d).map_err(|_| ());
        }
    }
    // numpy scalars and other numbers: through their exact text form.
    if let Ok(d) = obj.str().and_then(|s| s.to_cow().map(|c| c.into_owned())) {
        if let Ok(v) = Decimal::from_str(&d) {
            return policy.set_field_decimal(item, field, v).map_err(|_| ());
        }
    }
    Err(())
}
