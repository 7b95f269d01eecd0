//! Python bindings for priceguard: the `priceguard._native` extension
//! module. The Python package `priceguard` (in `python/priceguard/`)
//! re-exports and wraps it; see `python/README.md`.
//!
//! Conventions:
//! - money crosses as `decimal.Decimal` (or `str`, `int`, `float`) for
//!   single items and as numpy float64 (major units, NaN = absent), int64
//!   (minor units) or object (`Decimal`, `str`) columns for batches; inside,
//!   an amount is an `i64` count of `10^-scale` minor units as in the core
//!   crate (scale 0, whole minor units, for almost every value; finer
//!   digits are kept exactly, docs/spec.md M1: `amounts.rs`);
//! - a batch converts its columns into `Item`s, evaluates them and fills
//!   the output arrays with the GIL released, creating no Python object per
//!   item;
//! - Arrow data (anything with `__arrow_c_stream__` / `__arrow_c_array__`)
//!   is imported through the C data interface and read in place;
//! - every error becomes a `ValueError` (or its subclass `PolicyError`) at
//!   this boundary, never a panic.

use pyo3::prelude::*;

mod amounts;
mod arrow;
mod arrow_ffi;
mod audit;
mod batch;
mod columns;
mod convert;
mod decision;
mod history;
mod names;
mod outbuf;
mod policy;
mod run;
mod stream;
mod writer;

pyo3::create_exception!(
    priceguard,
    PolicyError,
    pyo3::exceptions::PyValueError,
    "A policy that cannot be used. `path` is the dotted field path (empty for the whole \
     file), `line` and `column` locate it in a TOML file when known."
);

pyo3::create_exception!(
    priceguard,
    GroupedItem,
    pyo3::exceptions::PyValueError,
    "Raised by `NativePolicy.evaluate` for an item with group fields: the \
     Python layer decides it as a batch of one (`_evaluate_items`)."
);

/// The `PolicyError.kind` string of a core error kind.
fn kind_name(kind: priceguard::policy::PolicyErrorKind) -> &'static str {
    use priceguard::policy::PolicyErrorKind as K;
    match kind {
        K::Invalid => "invalid",
        K::Syntax => "syntax",
        K::NotFound => "not_found",
        K::NotAFile => "not_a_file",
        K::TooLarge => "too_large",
        K::Encoding => "encoding",
        K::Io => "io",
        // A kind added to the core later: still an error, just unnamed here.
        _ => "other",
    }
}

/// Raises a [`PolicyError`] carrying the kind, path, line and column of `e`.
pub(crate) fn policy_error(py: Python<'_>, e: &priceguard::PolicyError) -> PyErr {
    let err = PolicyError::new_err(e.to_string());
    let value = err.value(py);
    let set = |k: &str, v: Bound<'_, PyAny>| value.setattr(k, v);
    let fill = || -> PyResult<()> {
        set("kind", kind_name(e.kind).into_pyobject(py)?.into_any())?;
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

/// The known name nearest to `name` (a typo such as `max_prce`, or a
/// different case), if one is close enough to be the likely intent.
pub(crate) fn nearest_field(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let (best, dist) = priceguard::Field::SPEC_ORDER
        .iter()
        .map(|f| (f.name(), edit_distance(&lower, f.name())))
        .min_by_key(|(_, d)| *d)?;
    // At most a third of the name wrong, and always allow two edits.
    (dist <= (best.len() / 3).max(2)).then_some(best)
}

/// Edits (insert, delete, substitute, swap two neighbours) from `a` to
/// `b`: the optimal string alignment distance, over bytes (field names are
/// ASCII; a non-ASCII name is simply far from all of them). Twenty lines
/// here rather than a crate for one error message.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // Out of the table reads as "very far" (never happens: the rows have
    // b.len() + 1 entries), so no index can panic.
    let at = |row: &[usize], k: usize| row.get(k).copied().unwrap_or(usize::MAX / 2);
    // Three rows of the dynamic programme: i - 2, i - 1 and i.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for (i, &x) in a.iter().enumerate() {
        if let Some(c) = cur.first_mut() {
            *c = i + 1;
        }
        for (j, &y) in b.iter().enumerate() {
            let mut d = (at(&prev, j) + usize::from(x != y))
                .min(at(&prev, j + 1) + 1)
                .min(at(&cur, j) + 1);
            let swapped = i > 0 && j > 0 && a.get(i - 1) == Some(&y) && b.get(j - 1) == Some(&x);
            if swapped {
                d = d.min(at(&before, j - 1) + 1);
            }
            if let Some(c) = cur.get_mut(j + 1) {
                *c = d;
            }
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    at(&prev, b.len())
}

#[cfg(test)]
mod tests {
    use super::{edit_distance, nearest_field};

    #[test]
    fn distances() {
        assert_eq!(edit_distance("max_prce", "max_price"), 1);
        assert_eq!(edit_distance("unit_csot", "unit_cost"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn nearest() {
        assert_eq!(nearest_field("max_prce"), Some("max_price"));
        assert_eq!(nearest_field("Unit_Cost"), Some("unit_cost"));
        assert_eq!(nearest_field("proposed"), None);
        assert_eq!(nearest_field("title"), None);
    }
}

/// `unknown {what} `name`; did you mean `nearest`?` (or, with no near
/// name, the list of known names).
pub(crate) fn unknown_field(what: &str, name: &str) -> String {
    match nearest_field(name) {
        Some(near) => format!("unknown {what} `{name}`; did you mean `{near}`?"),
        None => {
            let names: Vec<&str> = priceguard::Field::SPEC_ORDER
                .iter()
                .map(|f| f.name())
                .collect();
            format!(
                "unknown {what} `{name}` (the docs/spec.md §3 names are: {})",
                names.join(", ")
            )
        }
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
    use super::GroupedItem;

    #[pymodule_export]
    use super::policy::NativePolicy;

    #[pymodule_export]
    use super::decision::Decision;

    #[pymodule_export]
    use super::arrow::ArrowBudgets;

    #[pymodule_export]
    use super::history::{_currency_digits, _history_audit_rows, _history_summarize};

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

    /// A `pyarrow.Table` of `large_string` columns, one per `(name,
    /// indices, table)`: row `i` is `table[indices[i]]` (`None`: null).
    /// `indices` is a contiguous uint8, int8, int32 or int64 array.
    #[pyfunction]
    fn _take_names<'py>(
        py: Python<'py>,
        columns: Vec<(String, Bound<'py, PyAny>, Vec<Option<String>>)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        super::names::take_names(py, columns)
    }

    /// `(codes, uniques)`: the distinct non-negative values of a contiguous
    /// uint8, int8, int32, int64 or uint64 array, ascending, and each row's
    /// index among them (`-1` for a negative value), as int8, int16 or
    /// int32: a categorical column's codes and categories.
    #[pyfunction]
    fn _dense_codes<'py>(
        py: Python<'py>,
        codes: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyAny>, Vec<i64>)> {
        super::names::dense_codes(py, codes)
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

    /// The message for a name that is not a docs/spec.md §3 field
    /// (`what` is e.g. `"column"`), naming the nearest field.
    #[pyfunction]
    fn _unknown_field(what: &str, name: &str) -> String {
        super::unknown_field(what, name)
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
        for c in Class::ALL {
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
        m.add("MAX_POLICY_BYTES", priceguard::policy::MAX_POLICY_BYTES)?;
        Ok(())
    }
}
