//! `priceguard.Decision`: the docs/spec.md §6 decision for one item.

use priceguard::{Class, Item, Rule};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::amounts::{amount_decimal, spend_amount};
use crate::convert::money_to_py;
use crate::policy::NativePolicy;

/// The decision for one item (docs/spec.md §6). Money is `decimal.Decimal` with the
/// currency's digits, or `None`; `promo_spend` is exact, with finer digits
/// when the item's reference price has them (docs/spec.md M1).
#[pyclass(module = "priceguard", frozen)]
pub struct Decision {
    pub(crate) decision: priceguard::Decision,
    pub(crate) item: Item,
    pub(crate) policy: Py<NativePolicy>,
    pub(crate) sku: Option<Py<PyAny>>,
    /// Why a value could not be read (`proposed_price: `abc` not a decimal
    /// number`), when the item never reached the engine.
    pub(crate) refusal: Option<String>,
    /// The group-aware sentence (`Decision::explain_ladder`) for a row the
    /// group pass moved, written when its neighbour's sku was at hand.
    pub(crate) ladder: Option<String>,
}

impl Decision {
    fn money<'py>(&self, py: Python<'py>, v: Option<i64>) -> PyResult<Bound<'py, PyAny>> {
        money_to_py(py, &self.policy.get().inner, v)
    }
}

fn rules<'py>(py: Python<'py>, set: priceguard::RuleSet) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, set.iter().map(Rule::name).collect::<Vec<_>>())
}

#[pymethods]
impl Decision {
    /// `accepted`, `adjusted`, `held` or `rejected`.
    #[getter]
    fn outcome(&self) -> &'static str {
        self.decision.outcome.name()
    }

    /// The price to publish; `None` when rejected.
    #[getter]
    fn price<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, self.decision.price)
    }

    /// Lower end of the feasible interval used.
    #[getter]
    fn lower<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, self.decision.lower)
    }

    /// Upper end of the feasible interval used.
    #[getter]
    fn upper<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, self.decision.upper)
    }

    /// `(reference - price) x expected_units` for a promoted item, exact
    /// (`Decimal('44.373')` for a reference price of 19.4373 USD).
    #[getter]
    fn promo_spend<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        amount_decimal(
            py,
            self.policy.get().inner.currency(),
            spend_amount(&self.decision),
        )
    }

    /// Rules whose bound the proposal broke, in rule-code order.
    #[getter]
    fn violated<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        rules(py, self.decision.violated)
    }

    /// Rules whose bound equals the published price (or that moved it).
    #[getter]
    fn binding<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        rules(py, self.decision.binding)
    }

    /// Rules the published price does not satisfy although their class was kept.
    #[getter]
    fn unmet<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        rules(py, self.decision.unmet)
    }

    /// Classes dropped to resolve a conflict, in class order.
    #[getter]
    fn relaxed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            self.decision
                .relaxed
                .iter()
                .map(Class::name)
                .collect::<Vec<_>>(),
        )
    }

    /// The primary reason: a rule name, `infeasible`, `missing_cost`, ...;
    /// `""` when accepted.
    #[getter]
    fn reason(&self) -> &'static str {
        self.decision.reason.name()
    }

    /// The move is larger than `approval.max_auto_change`.
    #[getter]
    fn needs_approval(&self) -> bool {
        self.decision.needs_approval
    }

    /// For `invalid_input`: the first field that could not be used.
    #[getter]
    fn invalid_field(&self) -> Option<&'static str> {
        self.decision.invalid_field.map(priceguard::Field::name)
    }

    /// For an item held by `prior_price`: the highest "was" price the
    /// promotion may show (docs/spec.md §11.2); `None` otherwise.
    #[getter]
    fn lawful_reference<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, self.decision.lawful_reference)
    }

    /// The item's `sku`, echoed back (`None` when the item had none).
    #[getter]
    fn sku(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.sku.as_ref().map(|s| s.clone_ref(py))
    }

    /// One sentence saying what happened and why.
    fn explain(&self) -> String {
        match &self.refusal {
            // The engine never saw the value, so only the reader can say why.
            Some(why) => format!("rejected: {why}"),
            None => match &self.ladder {
                Some(s) => s.clone(),
                None => self.decision.explain(&self.policy.get().inner, &self.item),
            },
        }
    }

    /// The decision as a plain dict (docs/spec.md §6 keys, plus `sku`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("sku", self.sku(py))?;
        d.set_item("outcome", self.outcome())?;
        d.set_item("price", self.price(py)?)?;
        d.set_item("lower", self.lower(py)?)?;
        d.set_item("upper", self.upper(py)?)?;
        d.set_item("violated", self.violated(py)?)?;
        d.set_item("binding", self.binding(py)?)?;
        d.set_item("unmet", self.unmet(py)?)?;
        d.set_item("relaxed", self.relaxed(py)?)?;
        d.set_item("reason", self.reason())?;
        d.set_item("promo_spend", self.promo_spend(py)?)?;
        d.set_item("needs_approval", self.needs_approval())?;
        d.set_item("invalid_field", self.invalid_field())?;
        d.set_item("lawful_reference", self.lawful_reference(py)?)?;
        Ok(d)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<Decision>() {
            Ok(o) => {
                let o = o.get();
                o.decision == self.decision && o.policy.is(&self.policy)
            }
            Err(_) => false,
        }
    }

    fn __repr__(&self) -> String {
        let d = &self.decision;
        let cur = self.policy.get().inner.currency();
        let m = |v: Option<i64>| match v {
            Some(v) => format!("Decimal('{}')", cur.format(v)),
            None => String::from("None"),
        };
        let names = |s: priceguard::RuleSet| {
            let v: Vec<String> = s.iter().map(|r| format!("'{}'", r.name())).collect();
            tuple_text(&v)
        };
        let mut s = format!(
            "Decision(outcome='{}', price={}, lower={}, upper={}, reason='{}'",
            d.outcome.name(),
            m(d.price),
            m(d.lower),
            m(d.upper),
            d.reason.name()
        );
        if !d.violated.is_empty() {
            s.push_str(&format!(", violated={}", names(d.violated)));
        }
        if !d.binding.is_empty() {
            s.push_str(&format!(", binding={}", names(d.binding)));
        }
        if !d.unmet.is_empty() {
            s.push_str(&format!(", unmet={}", names(d.unmet)));
        }
        if !d.relaxed.is_empty() {
            let v: Vec<String> = d
                .relaxed
                .iter()
                .map(|c| format!("'{}'", c.name()))
                .collect();
            s.push_str(&format!(", relaxed={}", tuple_text(&v)));
        }
        if let Some(a) = spend_amount(d) {
            s.push_str(&format!(
                ", promo_spend=Decimal('{}')",
                cur.format_amount(a)
            ));
        }
        if d.needs_approval {
            s.push_str(", needs_approval=True");
        }
        if let Some(f) = d.invalid_field {
            s.push_str(&format!(", invalid_field='{}'", f.name()));
        }
        s.push(')');
        s
    }
}

fn tuple_text(v: &[String]) -> String {
    match v {
        [one] => format!("({one},)"),
        _ => format!("({})", v.join(", ")),
    }
}
