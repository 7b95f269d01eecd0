//! Python bindings for priceguard: the `priceguard._native` extension
//! module. The Python package `priceguard` (in `python/priceguard/`)
//! re-exports and wraps it; see `python/README.md`.
//!
//! Conventions:
//! - money crosses as `decimal.Decimal` for single items and as numpy
//!   float64 (major units, NaN = absent) or int64 (minor units) columns for
//!   batches; inside, everything is `i64` minor units as in the core crate;
//! - a batch converts its columns into `Item`s, evaluates them and fills
//!   the output arrays with the GIL released, creating no Python object per
//!   item;
//! - Arrow data (anything with `__arrow_c_stream__` / `__arrow_c_array__`)
//!   is imported through the C data interface and read in place;
//! - every error becomes a `ValueError` (or its subclass `PolicyError`) at
//!   this boundary, never a panic.

use pyo3::prelude::*;

mod arrow;
mod arrow_ffi;
mod audit;
mod batch;
mod convert;
mod decision;
mod outbuf;
mod policy;
mod stream;

pyo3::create_exception!(
    priceguard,
    PolicyError,
    pyo3::exceptions::PyValueError,
    "A policy that cannot be used. `path` is the dotted field path (empty for the whole \
     file), `line` and `column` locate it in a TOML file when known."
);

/// Raises a [`PolicyError`] carrying the path, line and column of `e`.
pub(crate) fn policy_error(py: Python<'_>, e: &priceguard::PolicyError) -> PyErr {
    let err = PolicyError::new_err(e.to_string());
    let value = err.value(py);
    let set = |k: &str, v: Bound<'_, PyAny>| value.setattr(k, v);
    let fill = || -> PyResult<()> {
        set("path", e.path.clone().into_pyobject(py)?.into_any())?;
        set("line", e.line.into_pyobject(py)?.into_any())?;
        set("column", e.column.into_pyobject(py)?.into_any())?;
        set("reason", e.message.clone().into_pyobject(py)?.into_any())?;
        Ok(())
    };
    match fill() {
        Ok(()) => err,
        Err(other) => other,
    }
}

/// The extension module.
#[pymodule]
mod _native {
    use priceguard::{Class, ClassSet, Field, Outcome, Reason, Rule, RuleSet};
    use pyo3::prelude::*;
    use pyo3::types::{PyDict, PyTuple};

    #[pymodule_export]
    use super::PolicyError;

    #[pymodule_export]
    use super::policy::NativePolicy;

    #[pymodule_export]
    use super::decision::Decision;

    #[pymodule_export]
    use super::arrow::ArrowBudgets;

    #[pymodule_export]
    use super::audit::{
        _audit_append_batch, _audit_append_decisions, _decision_policy, decision_json, policy_hash,
        verify_audit, Metrics,
    };

    /// The names of the rules in a `violated` / `binding` / `unmet` bitmask,
    /// in rule-code order.
    #[pyfunction]
    fn rule_names(py: Python<'_>, mask: u64) -> PyResult<Bound<'_, PyTuple>> {
        PyTuple::new(py, RuleSet(mask).iter().map(Rule::name).collect::<Vec<_>>())
    }

    /// The names of the classes in a `relaxed` bitmask, in class order.
    #[pyfunction]
    fn class_names(py: Python<'_>, mask: u8) -> PyResult<Bound<'_, PyTuple>> {
        PyTuple::new(
            py,
            ClassSet(mask).iter().map(Class::name).collect::<Vec<_>>(),
        )
    }

    /// Empties the pool of recycled batch output buffers (see
    /// `PRICEGUARD_BUFFER_POOL_MB`); returns the bytes released.
    #[pyfunction]
    fn release_buffers() -> usize {
        super::outbuf::release()
    }

    /// The SIMD copy of the vectorised loops this process uses:
    /// `"avx512"`, `"avx2"` or `"portable"` (the CPU's widest, capped by
    /// the environment variable `PRICEGUARD_SIMD`, read once).
    #[pyfunction]
    fn simd() -> &'static str {
        priceguard::simd().name()
    }

    /// The name of a reason code (`""` for 0, no reason).
    #[pyfunction]
    fn reason_name(code: u32) -> PyResult<&'static str> {
        Reason::from_code(code).map(Reason::name).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!("`{code}` is not a reason code"))
        })
    }

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        let py = m.py();
        let rules = PyDict::new(py);
        for r in Rule::ALL {
            rules.set_item(*r as u8, r.name())?;
        }
        m.add("RULES", rules)?;
        let reasons = PyDict::new(py);
        reasons.set_item(0, "")?;
        for code in 1..128 {
            if let Some(r) = Reason::from_code(code) {
                reasons.set_item(code, r.name())?;
            }
        }
        m.add("REASONS", reasons)?;
        let classes = PyDict::new(py);
        for c in [
            Class::Hard,
            Class::Financial,
            Class::Stability,
            Class::Market,
            Class::Cosmetic,
        ] {
            classes.set_item(c as u8, c.name())?;
        }
        m.add("CLASSES", classes)?;
        m.add(
            "OUTCOMES",
            PyTuple::new(py, Outcome::ALL.iter().map(|o| o.name()))?,
        )?;
        m.add(
            "FIELDS",
            PyTuple::new(py, Field::ALL.iter().map(|f| f.name()))?,
        )?;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        Ok(())
    }
}
