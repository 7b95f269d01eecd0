//! The compiled policy as seen from Python, and single-item evaluation.

use std::path::PathBuf;

use priceguard::{Field, Item, Policy, MAX_PACK_SIZE};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyMapping, PyString, PyTuple};

use crate::convert::{money_to_py, set_field, Refusal};
use crate::decision::Decision;
use crate::policy_error;

/// A validated, compiled policy (immutable; share it freely, also across
/// threads). The Python class `priceguard.Policy` wraps it.
#[pyclass(module = "priceguard._native", frozen)]
pub struct NativePolicy {
    pub(crate) inner: Policy,
}

fn wrap(py: Python<'_>, r: Result<Policy, priceguard::PolicyError>) -> PyResult<NativePolicy> {
    r.map(|inner| NativePolicy { inner })
        .map_err(|e| policy_error(py, &e))
}

/// An item read from a mapping (or the first field that cannot be used,
/// with why) and its `sku`, if any.
type ReadItem = (Result<Item, (Field, Refusal)>, Option<Py<PyAny>>);

/// Reads a Python mapping into an item. `Err(field)` names the first field
/// that cannot be used; unknown keys are a `ValueError` (a typo such as
/// `unit_cst` must not silently drop a cost).
fn read_item(
    policy: &Policy,
    mapping: &Bound<'_, PyAny>,
    ignore_extra: bool,
) -> PyResult<ReadItem> {
    let pairs: Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)> = if let Ok(d) = mapping.cast::<PyDict>() {
        d.iter().collect()
    } else if let Ok(m) = mapping.cast::<PyMapping>() {
        let items = m.items()?;
        let mut v = Vec::with_capacity(items.len());
        for pair in items.iter() {
            v.push(pair.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()?);
        }
        v
    } else {
        return Err(PyTypeError::new_err(format!(
            "an item must be a mapping of docs/spec.md §3 field names, not `{}`",
            mapping.get_type().name()?
        )));
    };
    let mut item = Item::new(0);
    let mut sku = None;
    let mut bad: Option<(Field, Refusal)> = None;
    // Fields are applied in `Field` order so the first bad one is reported
    // the same way whatever order the mapping has.
    let mut slots: [Option<Bound<'_, PyAny>>; Field::ALL.len()] = Default::default();
    for (k, v) in pairs {
        let key = k.cast::<PyString>().map_err(|_| {
            PyValueError::new_err(format!(
                "item keys must be str, not `{}`",
                k.repr()
                    .map_or_else(|_| String::from("?"), |r| r.to_string())
            ))
        })?;
        let key = key.to_cow()?;
        let Some(field) = Field::from_name(&key) else {
            if ignore_extra {
                continue;
            }
            return Err(PyValueError::new_err(crate::unknown_field(
                "item field",
                &key,
            )));
        };
        if Field::GROUP_FIELDS.contains(&field) {
            if v.is_none() {
                continue;
            }
            // A row of a group: `Policy.evaluate` decides it as a batch of
            // one through `_evaluate_items`, which reads the group fields.
            return Err(crate::GroupedItem::new_err(format!(
                "`{field}` places the item in a group"
            )));
        }
        if field == Field::Sku {
            if !v.is_none() {
                sku = Some(v.unbind());
            }
            continue;
        }
        if let Some(slot) = slots.get_mut(field as usize) {
            *slot = Some(v);
        }
    }
    // proposed_price first: the engine validates it first too.
    let order = std::iter::once(Field::ProposedPrice).chain(
        Field::ALL
            .into_iter()
            .filter(|f| !matches!(f, Field::ProposedPrice | Field::Sku)),
    );
    for field in order {
        let Some(Some(v)) = slots.get(field as usize) else {
            if field == Field::ProposedPrice && bad.is_none() {
                bad = Some((field, format!("{field}: is required")));
            }
            continue;
        };
        if let Err((named, why)) = set_field(policy, &mut item, field, v) {
            if bad.is_none() {
                bad = Some((named, why));
            }
        }
    }
    Ok((bad.map_or(Ok(item), Err), sku))
}

#[pymethods]
impl NativePolicy {
    /// Parses, validates and compiles a TOML policy.
    #[staticmethod]
    fn from_toml(py: Python<'_>, text: &str) -> PyResult<NativePolicy> {
        wrap(py, Policy::from_toml_str(text))
    }

    /// Parses, validates and compiles a JSON policy.
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<NativePolicy> {
        wrap(py, Policy::from_json_str(text))
    }

    /// JSON text generated from a dict: the line and column would point into
    /// text the caller never saw, so they are dropped.
    #[staticmethod]
    fn from_generated_json(py: Python<'_>, text: &str) -> PyResult<NativePolicy> {
        wrap(
            py,
            Policy::from_json_str(text).map_err(|mut e| {
                e.line = None;
                e.column = None;
                e
            }),
        )
    }

    /// Reads a policy file: JSON when the name ends in `.json`, else TOML;
    /// a regular file of at most `max_bytes` bytes.
    #[staticmethod]
    #[pyo3(signature = (path, max_bytes=priceguard::policy::MAX_POLICY_BYTES))]
    fn from_file(py: Python<'_>, path: PathBuf, max_bytes: u64) -> PyResult<NativePolicy> {
        wrap(py, Policy::from_path_limited(path, max_bytes))
    }

    /// The policy's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// The policy's version (`""` when the file gives none).
    #[getter]
    fn version(&self) -> &str {
        self.inner.version()
    }

    /// The ISO 4217 currency code.
    #[getter]
    fn currency(&self) -> &'static str {
        self.inner.currency().code()
    }

    /// Digits after the decimal point of the currency (USD 2, JPY 0).
    #[getter]
    fn minor_units(&self) -> u8 {
        self.inner.currency().minor_units()
    }

    /// The tick as a `Decimal`.
    #[getter]
    fn tick<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        money_to_py(py, &self.inner, Some(self.inner.tick()))
    }

    /// `{campaign: budget}` from `promotion.budgets`, budgets as `Decimal`.
    #[getter]
    fn budgets<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, b) in self.inner.campaigns() {
            d.set_item(name, money_to_py(py, &self.inner, Some(b))?)?;
        }
        Ok(d)
    }

    /// The segment ids the policy lists, ascending.
    #[getter]
    fn segment_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.segment_ids().collect::<Vec<_>>())
    }

    /// Whether the policy has a batch circuit breaker.
    #[getter]
    fn has_breaker(&self) -> bool {
        self.inner.breaker().is_some()
    }

    /// The policy model as JSON text (the schema of docs/spec.md §8).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(self.inner.spec())
            .map_err(|e| PyValueError::new_err(format!("cannot serialize the policy: {e}")))
    }

    /// Campaign ids for names (`2**32 - 1` for a name the policy has no budget for).
    fn campaign_ids(&self, names: &Bound<'_, PyList>) -> PyResult<Vec<i64>> {
        names
            .iter()
            .map(|n| {
                let s = n.cast::<PyString>()?;
                Ok(i64::from(self.inner.campaign_id(&s.to_cow()?).0))
            })
            .collect()
    }

    /// Evaluates one item given as a mapping of docs/spec.md §3 field names; a key
    /// that is not one is an error unless `ignore_extra`.
    #[pyo3(signature = (item, ignore_extra=false))]
    fn evaluate(
        slf: &Bound<'_, Self>,
        item: &Bound<'_, PyAny>,
        ignore_extra: bool,
    ) -> PyResult<Decision> {
        let policy = &slf.get().inner;
        let (item, sku) = read_item(policy, item, ignore_extra)?;
        let (decision, item, refusal) = match item {
            Ok(item) => (policy.evaluate(&item), item, None),
            Err((field, why)) => (
                priceguard::Decision::invalid(field),
                Item::new(0),
                Some(why),
            ),
        };
        Ok(Decision {
            decision,
            item,
            policy: slf.clone().unbind(),
            sku,
            refusal,
            ladder: None,
        })
    }

    /// Evaluates a list of items (mappings of docs/spec.md §3 field
    /// names) as one batch with groups: `groups` is the Python layer's
    /// `(group, rank, rank_state, pack_size, pack_state)` for the rows
    /// (`batch::group_rows`). Budgets are consumed in list order; each
    /// row the group pass moved is explained naming its neighbour.
    #[pyo3(signature = (items, groups, ignore_extra=false))]
    fn _evaluate_items(
        slf: &Bound<'_, Self>,
        items: Vec<Bound<'_, PyAny>>,
        groups: &Bound<'_, PyTuple>,
        ignore_extra: bool,
    ) -> PyResult<Vec<Decision>> {
        let py = slf.py();
        let policy = &slf.get().inner;
        let n = items.len();
        let (rows, group_bad) = crate::batch::group_rows(groups, n)?;
        let mut read = Vec::with_capacity(n);
        let mut skus = Vec::with_capacity(n);
        let mut refusals: Vec<Option<(Field, Refusal)>> = Vec::with_capacity(n);
        for (mapping, bad) in items.iter().zip(&group_bad) {
            let (item, sku) = read_item(policy, mapping, ignore_extra)?;
            skus.push(sku);
            let bad_group = Field::ALL.get(usize::from(*bad)).copied();
            match (item, bad_group) {
                (Ok(item), None) => {
                    read.push(item);
                    refusals.push(None);
                }
                // An item that cannot be read goes to the engine as an
                // invalid proposal: rejected alone, it leaves its chain.
                (Err(why), _) => {
                    read.push(Item::new(0));
                    refusals.push(Some(why));
                }
                (Ok(_), Some(field)) => {
                    read.push(Item::new(0));
                    let why = if field == Field::PackSize {
                        format!("{field}: is not a whole number from 1 to {MAX_PACK_SIZE}")
                    } else {
                        format!("{field}: is not a whole number")
                    };
                    refusals.push(Some((field, why)));
                }
            }
        }
        let mut out = vec![priceguard::Decision::invalid(Field::ProposedPrice); n];
        let mut notes = vec![None; n];
        let mut budgets = priceguard::Budgets::new(policy);
        let mut scratch =
            vec![priceguard::GroupScratch::default(); rows.iter().filter(|r| r.is_some()).count()];
        policy
            .evaluate_batch_grouped_with(
                &read,
                &rows,
                &mut out,
                &mut budgets,
                &mut scratch,
                Some(&mut notes),
            )
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let sku_of = |i: usize| {
            skus.get(i)
                .and_then(|s| s.as_ref())
                .map(|s| s.clone_ref(py))
        };
        let sku_text = |i: usize| -> String {
            skus.get(i)
                .and_then(|s| s.as_ref())
                .and_then(|s| s.bind(py).str().ok())
                .map_or_else(|| format!("row {i}"), |s| s.to_string())
        };
        let mut decisions = Vec::with_capacity(n);
        for (i, ((mut decision, item), refusal)) in
            out.into_iter().zip(read).zip(refusals).enumerate()
        {
            let refusal = refusal.map(|(field, why)| {
                decision.invalid_field = Some(field);
                why
            });
            let ladder = notes.get(i).copied().flatten().map(|note| {
                let neighbour = rows.get(note.neighbour).copied().flatten();
                decision.explain_ladder(
                    policy,
                    &item,
                    &note,
                    &sku_text(note.neighbour),
                    neighbour.and_then(|r| r.rank).unwrap_or(0),
                    neighbour.and_then(|r| r.pack_size),
                )
            });
            decisions.push(Decision {
                decision,
                item,
                policy: slf.clone().unbind(),
                sku: sku_of(i),
                refusal,
                ladder,
            });
        }
        Ok(decisions)
    }

    /// The batch entry point behind `priceguard.Policy.evaluate_batch`:
    /// `columns` is a list of `(field name, values, mask)` already
    /// normalised by the Python layer.
    /// `groups`, when given, is `(group, rank, rank_state, pack_size,
    /// pack_state)` (see `batch::group_rows`): the batch then runs the
    /// group pass (docs/spec.md §10).
    #[pyo3(signature = (n, minor, columns, groups=None))]
    fn _evaluate_batch<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        minor: bool,
        columns: &Bound<'py, PyList>,
        groups: Option<&Bound<'py, PyTuple>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        crate::batch::evaluate(py, &self.inner, n, minor, columns, groups)
    }

    /// The entry point behind `priceguard.Policy.evaluate_arrow`: any
    /// object with the Arrow PyCapsule interface in, a pyarrow table out.
    /// `budgets` carries promotion budgets across calls; `ignore_extra`
    /// skips columns that are not item fields instead of refusing them.
    #[pyo3(signature = (data, budgets=None, ignore_extra=false))]
    fn _evaluate_arrow<'py>(
        slf: &Bound<'py, Self>,
        data: &Bound<'py, PyAny>,
        budgets: Option<&Bound<'py, crate::arrow::ArrowBudgets>>,
        ignore_extra: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::arrow::evaluate(slf.py(), slf, data, budgets, ignore_extra)
    }

    fn __repr__(&self) -> String {
        format!(
            "Policy(name='{}', version='{}', currency='{}')",
            self.inner.name(),
            self.inner.version(),
            self.inner.currency().code()
        )
    }
}
