//! `Policy.evaluate_batch`'s entry: numpy columns in, numpy arrays out, no
//! Python object per item, the GIL released while working.
//!
//! This file checks and borrows the caller's columns and exports the
//! results; the rest is one concern a file: `columns` converts the input
//! chunk by chunk into the int64 minor-unit columns core reads, `outbuf`
//! holds the output arrays and `sink` (with `stream`, the streaming
//! stores) writes decisions into them, and `run` has core's scheduler
//! decide the batch, each chunk with `Policy::evaluate_columns_into`
//! (budgets carried across chunks, so the result is the same as one
//! batch). A policy with a circuit breaker judges the whole batch at
//! once, so it is evaluated as one chunk.

use numpy::{IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArray1};
use priceguard::{Budgets, Field, GroupRow, GroupSummary, Outcome, Policy, MAX_PACK_SIZE};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::amounts::read_amount;
use crate::columns::NO_BAD;
use crate::columns::{kind_for, Column, Kind, Values};
use crate::convert::{decimal_class, money_to_py};
use crate::outbuf::Outputs;
use crate::run::{run, run_grouped};

/// Borrowed numpy inputs, kept alive while their slices are used.
enum Held<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    I64(PyReadonlyArray1<'py, i64>),
    ScalarF64(f64),
    ScalarI64(i64),
    /// Money from Python objects (`Decimal`, `str`, ...), read exactly
    /// with the GIL held, before the work: units and scales.
    Amounts(Vec<i64>, Vec<u8>),
    ScalarAmount(i64, u8),
}

/// Reads a money column of Python objects (an object array) exactly, as
/// `Policy.evaluate` reads each value (`amounts::read_amount`).
pub(crate) fn read_objects(
    policy: &Policy,
    field: Field,
    values: &Bound<'_, PyArray1<Py<PyAny>>>,
) -> PyResult<(Vec<i64>, Vec<u8>)> {
    let py = values.py();
    let ro = values.try_readonly()?;
    let view = ro.as_array();
    let mut units = Vec::with_capacity(view.len());
    let mut scales = Vec::with_capacity(view.len());
    for obj in view.iter() {
        let (u, s) = read_amount(policy, field, obj.bind(py));
        units.push(u);
        scales.push(s);
    }
    Ok((units, scales))
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
    groups: Option<&Bound<'py, PyTuple>>,
) -> PyResult<Bound<'py, PyDict>> {
    let grouped = match groups {
        // No row in a group and no group field that cannot be read: the
        // pass would change nothing, so the batch takes the usual paths.
        Some(g) => Some(group_rows(g, n)?).filter(|(rows, bad)| {
            rows.iter().any(Option::is_some) || bad.iter().any(|b| *b != NO_BAD)
        }),
        None => None,
    };
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
        } else if let (true, Ok(a)) = (field.is_money(), values.cast::<PyArray1<Py<PyAny>>>()) {
            let (u, s) = read_objects(policy, field, a)?;
            Held::Amounts(u, s)
        } else if field.is_money() && (values.is_instance_of::<PyString>() || is_decimal(&values)) {
            let (u, s) = read_amount(policy, field, &values);
            Held::ScalarAmount(u, s)
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
            Held::Amounts(u, s) => {
                if u.len() != n {
                    return Err(len_error(*field, "array", u.len(), n));
                }
                cols.push(Column {
                    field: *field,
                    kind: Kind::Exact,
                    values: Values::Amounts(u, s),
                    mask: mask_slice(*field, mask.as_ref(), n)?,
                });
                continue;
            }
            Held::ScalarAmount(u, s) => {
                cols.push(Column {
                    field: *field,
                    kind: Kind::Exact,
                    values: Values::ScalarAmount(*u, *s),
                    mask: None,
                });
                continue;
            }
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
        let mask = mask_slice(*field, mask.as_ref(), n)?;
        cols.push(Column {
            field: *field,
            kind: kind_for(*field, *col_minor, float)?,
            values,
            mask,
        });
    }
    let mut outs = Outputs::new(minor, n);
    let (summary, group_summary, budgets) = match &grouped {
        Some((rows, bad)) => py.detach(|| run_grouped(policy, n, &cols, rows, bad, &mut outs))?,
        None => {
            let (s, b) = py.detach(|| run(policy, n, &cols, &mut outs))?;
            (s, GroupSummary::default(), b)
        }
    };
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
        fine_spends,
        lawful,
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
    // The exact spends finer than the minor unit, by row (usually none).
    let mut fine = fine_spends.into_inner().unwrap_or_default();
    fine.sort_unstable();
    let rows: Vec<i64> = fine
        .iter()
        .map(|f| i64::try_from(f.0).unwrap_or(i64::MAX))
        .collect();
    let units: Vec<i64> = fine.iter().map(|f| f.1).collect();
    let scales: Vec<u8> = fine.iter().map(|f| f.2).collect();
    dict.set_item(
        "promo_spend_fine",
        (
            rows.into_pyarray(py),
            units.into_pyarray(py),
            scales.into_pyarray(py),
        ),
    )?;

    // The lawful references, by row (only `prior_price` holds carry one).
    let mut lawful = lawful.into_inner().unwrap_or_default();
    lawful.sort_unstable();
    let (rows, refs): (Vec<i64>, Vec<i64>) = lawful
        .iter()
        .map(|&(r, v)| (i64::try_from(r).unwrap_or(i64::MAX), v))
        .unzip();
    dict.set_item(
        "lawful_reference_rows",
        (rows.into_pyarray(py), refs.into_pyarray(py)),
    )?;

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
    s.set_item("groups", group_summary.groups)?;
    s.set_item("groups_adjusted", group_summary.adjusted)?;
    s.set_item("groups_held", group_summary.held)?;
    s.set_item("groups_invalid", group_summary.invalid)?;
    dict.set_item("summary", s)?;
    Ok(dict)
}

/// A column's absent mask as a slice of `n` flags.
fn mask_slice<'a>(
    field: Field,
    mask: Option<&'a PyReadonlyArray1<'_, bool>>,
    n: usize,
) -> PyResult<Option<&'a [bool]>> {
    let Some(m) = mask else {
        return Ok(None);
    };
    let s = m
        .as_slice()
        .map_err(|e| PyValueError::new_err(format!("`{field}` mask: {e}")))?;
    if s.len() != n {
        return Err(len_error(field, "mask", s.len(), n));
    }
    Ok(Some(s))
}

/// Whether `obj` is a `decimal.Decimal`.
pub(crate) fn is_decimal(obj: &Bound<'_, PyAny>) -> bool {
    decimal_class(obj.py()).is_ok_and(|c| obj.is_instance(c.as_any()).unwrap_or(false))
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

/// What the Python layer says of a row's `rank` or `pack_size`: given.
pub(crate) const GIVEN: u8 = 0;
/// Absent.
pub(crate) const ABSENT: u8 = 1;
/// The value cannot be read (`"abc"`, `2.5`).
pub(crate) const UNREADABLE: u8 = 2;
/// The Python layer's `group` id for a value that cannot be an id.
const BAD_GROUP: i64 = -2;

/// A row's place from its interned group id (`None`: not grouped) and its
/// `rank` and `pack_size` as `(value, state)`, and the group field that
/// cannot be read when the row is in no group (a grouped row's bad `rank`
/// or `pack_size` refuses its whole group instead, in core's pass:
/// docs/spec.md §10.3; a pack size outside 1 to `MAX_PACK_SIZE` is given
/// to core as 0 so the pass refuses it).
pub(crate) fn place(
    group: Option<u32>,
    rank: (i64, u8),
    pack: (i64, u8),
) -> (Option<GroupRow>, Option<Field>) {
    // Negative as 0, which is outside 1 to MAX_PACK_SIZE too.
    let units = u64::try_from(pack.0).unwrap_or(0);
    let Some(id) = group else {
        let pack_bad =
            pack.1 == UNREADABLE || (pack.1 == GIVEN && !(1..=MAX_PACK_SIZE).contains(&units));
        let bad = if rank.1 == UNREADABLE {
            Some(Field::Rank)
        } else if pack_bad {
            Some(Field::PackSize)
        } else {
            None
        };
        return (None, bad);
    };
    let mut row = if rank.1 == GIVEN {
        GroupRow::new(id, rank.0)
    } else {
        // Absent or unreadable: core refuses the group naming `rank`.
        GroupRow::unranked(id)
    };
    match pack.1 {
        GIVEN => row = row.with_pack_size(units),
        UNREADABLE => row = row.with_pack_size(0),
        _ => {}
    }
    (Some(row), None)
}

/// Group rows, one per item, from the Python layer's normalised group
/// columns `(group, rank, rank_state, pack_size, pack_state)`: `group`
/// dense ids (-1: the row is not grouped), the values as int64 and each
/// value's state (`0` given, `1` absent, `2` cannot be read). Also each
/// row's group field that cannot be read, for rows not in a group (a
/// grouped row's bad `rank` or `pack_size` refuses its whole group
/// instead, in core's pass: docs/spec.md §10.3).
pub(crate) fn group_rows(
    g: &Bound<'_, PyTuple>,
    n: usize,
) -> PyResult<(Vec<Option<GroupRow>>, Vec<u8>)> {
    type Cols<'py> = (
        PyReadonlyArray1<'py, i64>,
        PyReadonlyArray1<'py, i64>,
        PyReadonlyArray1<'py, u8>,
        PyReadonlyArray1<'py, i64>,
        PyReadonlyArray1<'py, u8>,
    );
    let (group, rank, rank_state, pack, pack_state): Cols<'_> = g.extract()?;
    let group = contiguous("group", &group)?;
    let rank = contiguous("rank", &rank)?;
    let pack = contiguous("pack_size", &pack)?;
    let rank_state = contiguous("rank", &rank_state)?;
    let pack_state = contiguous("pack_size", &pack_state)?;
    for (name, len) in [
        ("group", group.len()),
        ("rank", rank.len().min(rank_state.len())),
        ("pack_size", pack.len().min(pack_state.len())),
    ] {
        if len != n {
            return Err(PyValueError::new_err(format!(
                "`{name}` array has {len} values but the batch has {n} items"
            )));
        }
    }
    let mut rows = Vec::with_capacity(n);
    let mut bad = vec![NO_BAD; n];
    for (i, b) in bad.iter_mut().enumerate() {
        let at = |s: &[i64]| s.get(i).copied().unwrap_or(0);
        let state = |s: &[u8]| s.get(i).copied().unwrap_or(UNREADABLE);
        let g = at(group);
        let id = match g {
            BAD_GROUP => {
                // A group id that cannot be read: the row is rejected
                // alone, naming `group`.
                *b = Field::Group as u8;
                rows.push(None);
                continue;
            }
            g if g < 0 => None,
            g => Some(u32::try_from(g).map_err(|_| {
                PyValueError::new_err("`group` has more than 2**32 distinct values")
            })?),
        };
        let (row, field) = place(
            id,
            (at(rank), state(rank_state)),
            (at(pack), state(pack_state)),
        );
        rows.push(row);
        if let Some(f) = field {
            *b = f as u8;
        }
    }
    Ok((rows, bad))
}

/// A contiguous input array's values.
fn contiguous<'a, T: numpy::Element>(
    name: &str,
    a: &'a PyReadonlyArray1<'_, T>,
) -> PyResult<&'a [T]> {
    a.as_slice()
        .map_err(|e| PyValueError::new_err(format!("`{name}`: {e}")))
}
