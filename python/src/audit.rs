//! Audit and metrics for Python: the policy's content hash, hash-chained
//! audit logs (`BatchResult.write_audit`, `priceguard.write_audit`,
//! `priceguard.verify_audit`) and `priceguard.Metrics`. The Python glue is
//! `priceguard/_audit.py`.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Write};

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1, PyUntypedArrayMethods};
use priceguard::audit::{self, AuditChain, PolicyStamp, VerifyError};
use priceguard::metrics::Metrics as CoreMetrics;
use priceguard::money::Amount;
use priceguard::{ClassSet, Decision as CoreDecision, Field, Item, Outcome, Reason, RuleSet};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt};

use crate::convert::set_field;
use crate::decision::Decision;
use crate::policy::NativePolicy;

/// The policy's content hash: 64 hex digits of SHA-256 over its compiled
/// form (equal for the same rules in TOML or JSON, in any key order).
#[pyfunction]
pub fn policy_hash(policy: &NativePolicy) -> String {
    policy.inner.content_hash_hex()
}

/// The policy a decision was made under.
#[pyfunction]
pub fn _decision_policy(py: Python<'_>, decision: &Decision) -> Py<NativePolicy> {
    decision.policy.clone_ref(py)
}

/// One decision as a JSON object `{"policy":..,"item":..,"decision":..}`
/// (the record of `docs/audit.md` without the chain).
#[pyfunction]
pub fn decision_json(py: Python<'_>, decision: &Decision) -> String {
    let policy = &decision.policy.get().inner;
    let sku = sku_text(py, decision.sku.as_ref());
    let stamp = PolicyStamp::of(policy);
    let mut s = String::with_capacity(1024);
    if decision.decision.reason == Reason::InvalidInput {
        // An unreadable item has no fields to show.
        s.push_str("{\"policy\":");
        audit::push_policy_json(&mut s, &stamp);
        s.push_str(",\"item\":{");
        if let Some(sku) = &sku {
            s.push_str("\"sku\":");
            audit::push_json_str(&mut s, sku);
        }
        s.push_str("},\"decision\":");
        audit::push_decision_json(&mut s, policy, &decision.decision);
        s.push('}');
    } else {
        audit::push_decision_record(
            &mut s,
            policy,
            &stamp,
            sku.as_deref(),
            &decision.item,
            &decision.decision,
        );
    }
    s
}

fn sku_text(py: Python<'_>, sku: Option<&Py<PyAny>>) -> Option<String> {
    let sku = sku?.bind(py);
    if sku.is_none() {
        return None;
    }
    sku.str().ok().map(|s| s.to_string())
}

fn io_error(path: &str, e: &std::io::Error) -> PyErr {
    PyOSError::new_err(format!("cannot read `{path}`: {e}"))
}

/// Verifies the chain of an existing log; `(records, head)`.
fn verify_file(path: &str, anchor: Option<[u8; 32]>) -> PyResult<(u64, [u8; 32])> {
    let f = File::open(path).map_err(|e| io_error(path, &e))?;
    match audit::verify(BufReader::new(f), anchor) {
        Ok(v) => Ok((v.records, v.head)),
        Err(VerifyError::Tampered(t)) => Err(PyValueError::new_err(format!(
            "audit log `{path}` was tampered with: {t}"
        ))),
        Err(VerifyError::Io(e)) => Err(io_error(path, &e)),
        Err(VerifyError::CutShort(c)) => {
            Err(PyValueError::new_err(format!("audit log `{path}` was {c}")))
        }
        // A verdict this build does not know is no proof the log is whole.
        Err(e) => Err(PyValueError::new_err(format!(
            "audit log `{path}` not verified: {e}"
        ))),
    }
}

/// Verifies a hash-chained audit log: `(records, head hash)` when intact;
/// `ValueError` naming the first tampered line (`line N: ...`); `OSError`
/// when it cannot be read. `head`, the head hash recorded when the log was
/// written, also catches a cut or re-chained log.
#[pyfunction]
#[pyo3(signature = (path, head = None))]
pub fn verify_audit(path: &str, head: Option<&str>) -> PyResult<(u64, String)> {
    let anchor = head
        .map(|h| {
            audit::from_hex(h.trim())
                .ok_or_else(|| PyValueError::new_err(format!("head: `{h}` is not 64 hex digits")))
        })
        .transpose()?;
    let (records, head) = verify_file(path, anchor)?;
    Ok((records, audit::to_hex(&head)))
}

/// Opens `path` for appending, verifying and continuing an existing log.
fn open_log(path: &str) -> PyResult<(File, AuditChain)> {
    let chain = match std::fs::metadata(path) {
        Ok(_) => {
            let (records, head) = verify_file(path, None)?;
            AuditChain::resume(records, head)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => AuditChain::new(),
        Err(e) => return Err(io_error(path, &e)),
    };
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| PyOSError::new_err(format!("cannot write `{path}`: {e}")))?;
    Ok((file, chain))
}

fn finish(
    path: &str,
    mut file: File,
    text: &str,
    chain: &AuditChain,
    before: u64,
) -> PyResult<(u64, u64, String)> {
    let err = |e: std::io::Error| PyOSError::new_err(format!("cannot write `{path}`: {e}"));
    file.write_all(text.as_bytes()).map_err(err)?;
    file.sync_all().map_err(err)?;
    Ok((
        chain.records() - before,
        chain.records(),
        audit::to_hex(&chain.head()),
    ))
}

/// Appends one record per decision of `policy.evaluate` to the log at
/// `path`; `(appended, records in all, head hash)`.
#[pyfunction]
pub fn _audit_append_decisions(
    py: Python<'_>,
    path: &str,
    decisions: Vec<PyRef<'_, Decision>>,
    unix_ms: i64,
) -> PyResult<(u64, u64, String)> {
    let (file, mut chain) = open_log(path)?;
    let before = chain.records();
    let mut text = String::new();
    let mut stamps: Vec<(*const NativePolicy, PolicyStamp)> = Vec::new();
    for d in &decisions {
        let native = d.policy.get();
        let key: *const NativePolicy = native;
        let stamp = match stamps.iter().find(|(k, _)| *k == key) {
            Some((_, s)) => s.clone(),
            None => {
                let s = PolicyStamp::of(&native.inner);
                stamps.push((key, s.clone()));
                s
            }
        };
        let sku = sku_text(py, d.sku.as_ref());
        let item = (d.decision.reason != Reason::InvalidInput).then_some(&d.item);
        chain.push_record(
            &native.inner,
            &stamp,
            sku.as_deref(),
            item,
            &d.decision,
            unix_ms,
            &mut text,
        );
    }
    finish(path, file, &text, &chain, before)
}

/// One input column of a batch as the Python layer prepared it for
/// `_evaluate_batch`.
enum Values {
    Floats(Vec<f64>),
    Ints(Vec<i64>),
    Float(f64),
    Int(i64),
    /// Money as Python objects (`Decimal`, `str`, ...), read as
    /// `Policy.evaluate` reads them.
    Objects(Vec<Py<PyAny>>),
    Object(Py<PyAny>),
}

struct Col {
    field: Field,
    values: Values,
    mask: Option<Vec<bool>>,
    minor: bool,
}

fn read_col(spec: &Bound<'_, PyAny>) -> PyResult<Col> {
    let (name, values, mask, minor): (
        String,
        Bound<'_, PyAny>,
        Option<PyReadonlyArray1<'_, bool>>,
        bool,
    ) = spec.extract()?;
    let field = Field::from_name(&name)
        .ok_or_else(|| PyValueError::new_err(format!("unknown field `{name}`")))?;
    let values = if let Ok(a) = values.extract::<PyReadonlyArray1<'_, f64>>() {
        Values::Floats(a.as_slice()?.to_vec())
    } else if let Ok(a) = values.extract::<PyReadonlyArray1<'_, i64>>() {
        Values::Ints(a.as_slice()?.to_vec())
    } else if let Ok(a) = values.cast::<PyArray1<Py<PyAny>>>() {
        Values::Objects(a.to_vec()?)
    } else if values.is_instance_of::<PyInt>() {
        Values::Int(values.extract::<i64>()?)
    } else if values.is_instance_of::<PyFloat>() {
        Values::Float(values.extract::<f64>()?)
    } else {
        Values::Object(values.clone().unbind())
    };
    let mask = mask
        .map(|m| m.as_slice().map(<[bool]>::to_vec))
        .transpose()?;
    Ok(Col {
        field,
        values,
        mask,
        minor,
    })
}

/// Item `i` as the batch read it (money exactly, docs/spec.md M1);
/// `None` when a value cannot be read.
fn item_at(py: Python<'_>, policy: &priceguard::Policy, cols: &[Col], i: usize) -> Option<Item> {
    let mut item = Item::new(0);
    for c in cols {
        if c.mask
            .as_ref()
            .is_some_and(|m| m.get(i).copied().unwrap_or(false))
        {
            continue;
        }
        let (float, int) = match &c.values {
            Values::Floats(v) => (Some(*v.get(i)?), None),
            Values::Ints(v) => (None, Some(*v.get(i)?)),
            Values::Float(v) => (Some(*v), None),
            Values::Int(v) => (None, Some(*v)),
            Values::Objects(v) => {
                set_field(policy, &mut item, c.field, v.get(i)?.bind(py)).ok()?;
                continue;
            }
            Values::Object(v) => {
                set_field(policy, &mut item, c.field, v.bind(py)).ok()?;
                continue;
            }
        };
        let ok = match (float, int) {
            (Some(f), _) if f.is_nan() => true,
            (Some(f), _) => policy.set_field_float(&mut item, c.field, f).is_ok(),
            (None, Some(v)) if c.field == Field::Campaign => {
                let id = u32::try_from(v).unwrap_or(priceguard::CampaignId::UNKNOWN.0);
                item = item.with_campaign(priceguard::CampaignId(id));
                true
            }
            // Raising the scale if an earlier value was finer.
            (None, Some(v)) if c.minor => item.set_amount(c.field, Amount::minor(v)).is_ok(),
            (None, Some(v)) => policy
                .set_field_decimal(&mut item, c.field, rust_decimal::Decimal::from(v))
                .is_ok(),
            (None, None) => false,
        };
        if !ok {
            return None;
        }
    }
    Some(item)
}

fn array<'py, T: numpy::Element>(
    d: &Bound<'py, PyDict>,
    key: &str,
) -> PyResult<PyReadonlyArray1<'py, T>> {
    d.get_item(key)?
        .ok_or_else(|| PyValueError::new_err(format!("missing `{key}`")))?
        .extract::<PyReadonlyArray1<'py, T>>()
        .map_err(|e| PyValueError::new_err(format!("`{key}`: {e}")))
}

/// Appends one record per row of a batch to the log at `path`: `spec` is
/// what `_evaluate_batch` was given, `out` the decision arrays with money
/// as int64 minor units and `<name>_valid` masks, and
/// `promo_spend_fine` the exact spends finer than the minor unit (rows,
/// units, scales); `(appended, records in all, head hash)`.
#[pyfunction]
#[pyo3(signature = (policy, path, n, spec, skus, out, unix_ms))]
#[allow(clippy::too_many_arguments)]
pub fn _audit_append_batch(
    py: Python<'_>,
    policy: &NativePolicy,
    path: &str,
    n: usize,
    spec: Vec<Bound<'_, PyAny>>,
    skus: Option<Vec<Option<String>>>,
    out: &Bound<'_, PyDict>,
    unix_ms: i64,
) -> PyResult<(u64, u64, String)> {
    let p = &policy.inner;
    let cols = spec.iter().map(read_col).collect::<PyResult<Vec<Col>>>()?;
    let outcome = array::<u8>(out, "outcome")?;
    let reason = array::<u8>(out, "reason")?;
    let violated = array::<u64>(out, "violated")?;
    let binding = array::<u64>(out, "binding")?;
    let unmet = array::<u64>(out, "unmet")?;
    let relaxed = array::<u8>(out, "relaxed")?;
    let approval = array::<bool>(out, "needs_approval")?;
    let invalid = array::<i8>(out, "invalid_field")?;
    let mut money = Vec::with_capacity(4);
    for k in ["price", "lower", "upper", "promo_spend"] {
        money.push((
            array::<i64>(out, k)?,
            array::<bool>(out, &format!("{k}_valid"))?,
        ));
    }
    let bad = || PyValueError::new_err("the batch arrays do not match the batch");
    let money_at = |k: usize, i: usize| -> PyResult<Option<i64>> {
        let (v, ok) = money.get(k).ok_or_else(bad)?;
        let ok = *ok.as_slice()?.get(i).ok_or_else(bad)?;
        Ok(ok.then_some(*v.as_slice()?.get(i).ok_or_else(bad)?))
    };
    // Exact spends finer than the minor unit, by row.
    let mut fine: std::collections::HashMap<usize, (i64, u8)> = std::collections::HashMap::new();
    if let Some(f) = out.get_item("promo_spend_fine")? {
        let (rows, units, scales): (
            PyReadonlyArray1<'_, i64>,
            PyReadonlyArray1<'_, i64>,
            PyReadonlyArray1<'_, u8>,
        ) = f.extract()?;
        for ((r, u), s) in rows
            .as_slice()?
            .iter()
            .zip(units.as_slice()?)
            .zip(scales.as_slice()?)
        {
            fine.insert(usize::try_from(*r).map_err(|_| bad())?, (*u, *s));
        }
    }
    // The lawful "was" prices of `prior_price` holds, by row (minor units).
    let mut lawful: std::collections::HashMap<usize, i64> = std::collections::HashMap::new();
    if let Some(l) = out.get_item("lawful_reference_rows")? {
        let (rows, refs): (PyReadonlyArray1<'_, i64>, PyReadonlyArray1<'_, i64>) = l.extract()?;
        for (r, v) in rows.as_slice()?.iter().zip(refs.as_slice()?) {
            lawful.insert(usize::try_from(*r).map_err(|_| bad())?, *v);
        }
    }
    let stamp = PolicyStamp::of(p);
    let (file, mut chain) = open_log(path)?;
    let before = chain.records();
    let mut text = String::new();
    for i in 0..n {
        let o = *outcome.as_slice()?.get(i).ok_or_else(bad)?;
        let r = *reason.as_slice()?.get(i).ok_or_else(bad)?;
        let f = *invalid.as_slice()?.get(i).ok_or_else(bad)?;
        let mut d = CoreDecision {
            outcome: *Outcome::ALL.get(usize::from(o)).ok_or_else(bad)?,
            reason: Reason::from_code(u32::from(r)).ok_or_else(bad)?,
            price: money_at(0, i)?,
            lower: money_at(1, i)?,
            upper: money_at(2, i)?,
            violated: RuleSet(*violated.as_slice()?.get(i).ok_or_else(bad)?),
            binding: RuleSet(*binding.as_slice()?.get(i).ok_or_else(bad)?),
            unmet: RuleSet(*unmet.as_slice()?.get(i).ok_or_else(bad)?),
            relaxed: ClassSet(*relaxed.as_slice()?.get(i).ok_or_else(bad)?),
            promo_spend: money_at(3, i)?,
            spend_scale: 0,
            needs_approval: *approval.as_slice()?.get(i).ok_or_else(bad)?,
            invalid_field: usize::try_from(f)
                .ok()
                .and_then(|f| Field::ALL.get(f).copied()),
            lawful_reference: lawful.get(&i).copied(),
        };
        if let Some(&(units, scale)) = fine.get(&i) {
            d.promo_spend = Some(units);
            d.spend_scale = scale;
        }
        let item = if d.reason == Reason::InvalidInput {
            None
        } else {
            item_at(py, p, &cols, i)
        };
        let sku = skus.as_ref().and_then(|s| s.get(i).cloned().flatten());
        chain.push_record(
            p,
            &stamp,
            sku.as_deref(),
            item.as_ref(),
            &d,
            unix_ms,
            &mut text,
        );
    }
    finish(path, file, &text, &chain, before)
}

/// Lock-free decision counters (per outcome, reason, violated and binding
/// rule, relaxed class, approvals, batches and breaker trips), rendered in
/// the Prometheus text format. Share one across threads.
#[pyclass(module = "priceguard", frozen, name = "Metrics")]
#[derive(Default)]
pub struct Metrics {
    inner: CoreMetrics,
}

#[pymethods]
impl Metrics {
    #[new]
    fn new() -> Metrics {
        Metrics::default()
    }

    /// Counts one `Decision` from `Policy.evaluate`.
    fn record(&self, decision: &Decision) {
        self.inner.record(&decision.decision);
    }

    /// Counts every row of a batch (the arrays of a `BatchResult`) and the
    /// batch itself; use `record_batch(result)` from Python.
    #[allow(clippy::too_many_arguments)]
    fn _record_arrays(
        &self,
        outcome: PyReadonlyArray1<'_, u8>,
        reason: PyReadonlyArray1<'_, u8>,
        violated: PyReadonlyArray1<'_, u64>,
        binding: PyReadonlyArray1<'_, u64>,
        relaxed: PyReadonlyArray1<'_, u8>,
        needs_approval: PyReadonlyArray1<'_, bool>,
        breaker_tripped: bool,
    ) -> PyResult<()> {
        let n = outcome.len();
        if [
            reason.len(),
            violated.len(),
            binding.len(),
            relaxed.len(),
            needs_approval.len(),
        ]
        .iter()
        .any(|l| *l != n)
        {
            return Err(PyValueError::new_err(
                "the batch arrays have different lengths",
            ));
        }
        let (o, r, v, b, x, a) = (
            outcome.as_slice()?,
            reason.as_slice()?,
            violated.as_slice()?,
            binding.as_slice()?,
            relaxed.as_slice()?,
            needs_approval.as_slice()?,
        );
        for i in 0..n {
            let (Some(o), Some(r), Some(v), Some(b), Some(x), Some(a)) =
                (o.get(i), r.get(i), v.get(i), b.get(i), x.get(i), a.get(i))
            else {
                break;
            };
            let mut d =
                CoreDecision::rejected(Reason::from_code(u32::from(*r)).unwrap_or(Reason::None));
            d.outcome = Outcome::ALL
                .get(usize::from(*o))
                .copied()
                .unwrap_or(Outcome::Rejected);
            d.violated = RuleSet(*v);
            d.binding = RuleSet(*b);
            d.relaxed = ClassSet(*x);
            d.needs_approval = *a;
            self.inner.record(&d);
        }
        self.inner.record_batch(breaker_tripped);
        Ok(())
    }

    /// Decisions counted in all.
    #[getter]
    fn total(&self) -> u64 {
        self.inner.total()
    }

    /// Decisions counted per outcome name.
    fn outcomes(&self) -> Vec<(&'static str, u64)> {
        Outcome::ALL
            .iter()
            .map(|o| (o.name(), self.inner.decisions(*o)))
            .collect()
    }

    /// Decisions flagged `needs_approval`.
    #[getter]
    fn needs_approval(&self) -> u64 {
        self.inner.needs_approval()
    }

    /// Every counter in the Prometheus text exposition format.
    fn render(&self) -> String {
        self.inner.render()
    }

    fn __repr__(&self) -> String {
        format!(
            "Metrics(total={}, needs_approval={})",
            self.inner.total(),
            self.inner.needs_approval()
        )
    }
}
