//! Lock-free decision counters, rendered in the Prometheus text exposition
//! format.
//!
//! A [`Metrics`] is a block of atomic counters: share one (`&Metrics`)
//! across threads and record every decision with [`Metrics::record`], or
//! evaluate batches with [`Policy::evaluate_batch_metered`](crate::Policy::evaluate_batch_metered).
//! Recording never allocates and never locks.
//!
//! ```
//! use priceguard::metrics::Metrics;
//! use priceguard::{Decision, Reason};
//! let m = Metrics::new();
//! m.record(&Decision::rejected(Reason::MissingCost));
//! assert_eq!(m.decisions(priceguard::Outcome::Rejected), 1);
//! assert!(m.render().contains("priceguard_decisions_total{outcome=\"rejected\"} 1"));
//! ```

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::decision::{Decision, Outcome, Reason};
use crate::rules::{Class, Rule, RULE_COUNT};

/// Reason slots: codes 0..=69, then one for every custom rule.
const REASON_SLOTS: usize = 71;
const CUSTOM_SLOT: usize = 70;
/// Rule slots: one per bit of a [`RuleSet`](crate::RuleSet).
const RULE_SLOTS: usize = 64;
const CLASSES: [Class; 5] = [
    Class::Hard,
    Class::Financial,
    Class::Stability,
    Class::Market,
    Class::Cosmetic,
];
const OTHER_REASONS: [Reason; 7] = [
    Reason::None,
    Reason::Infeasible,
    Reason::MissingCost,
    Reason::InvalidInput,
    Reason::CircuitOpen,
    Reason::Freeze,
    Reason::Unbounded,
];

/// Decision counters: per outcome, per primary reason, per violated rule,
/// per binding rule, per relaxed class, approvals, batches and breaker trips.
#[derive(Debug)]
pub struct Metrics {
    outcomes: [AtomicU64; 4],
    reasons: [AtomicU64; REASON_SLOTS],
    violated: [AtomicU64; RULE_SLOTS],
    binding: [AtomicU64; RULE_SLOTS],
    relaxed: [AtomicU64; 5],
    needs_approval: AtomicU64,
    batches: AtomicU64,
    breaker_trips: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

fn get(slots: &[AtomicU64], i: usize) -> u64 {
    slots.get(i).map_or(0, |c| c.load(Ordering::Relaxed))
}

fn bump(slots: &[AtomicU64], i: usize) {
    if let Some(c) = slots.get(i) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

fn reason_slot(reason: Reason) -> usize {
    match reason {
        Reason::Custom(_) => CUSTOM_SLOT,
        r => (r.code() as usize).min(CUSTOM_SLOT),
    }
}

impl Metrics {
    /// All counters at zero.
    pub const fn new() -> Metrics {
        Metrics {
            outcomes: [const { AtomicU64::new(0) }; 4],
            reasons: [const { AtomicU64::new(0) }; REASON_SLOTS],
            violated: [const { AtomicU64::new(0) }; RULE_SLOTS],
            binding: [const { AtomicU64::new(0) }; RULE_SLOTS],
            relaxed: [const { AtomicU64::new(0) }; 5],
            needs_approval: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            breaker_trips: AtomicU64::new(0),
        }
    }

    /// Counts one decision.
    #[inline]
    pub fn record(&self, d: &Decision) {
        bump(&self.outcomes, d.outcome as usize);
        bump(&self.reasons, reason_slot(d.reason));
        let mut v = d.violated.0;
        while v != 0 {
            bump(&self.violated, v.trailing_zeros() as usize);
            v &= v - 1;
        }
        let mut b = d.binding.0;
        while b != 0 {
            bump(&self.binding, b.trailing_zeros() as usize);
            b &= b - 1;
        }
        for c in d.relaxed.iter() {
            bump(&self.relaxed, c as usize);
        }
        if d.needs_approval {
            self.needs_approval.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts one batch, and a breaker trip when it tripped (the batch's
    /// decisions are counted with [`Metrics::record`]).
    pub fn record_batch(&self, breaker_tripped: bool) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        if breaker_tripped {
            self.breaker_trips.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Decisions counted with `outcome`.
    pub fn decisions(&self, outcome: Outcome) -> u64 {
        get(&self.outcomes, outcome as usize)
    }

    /// Decisions counted in all.
    pub fn total(&self) -> u64 {
        Outcome::ALL.iter().map(|o| self.decisions(*o)).sum()
    }

    /// Decisions counted with this primary reason (every custom rule
    /// counts under one `custom` counter).
    pub fn reason(&self, reason: Reason) -> u64 {
        get(&self.reasons, reason_slot(reason))
    }

    /// Decisions whose proposal violated `rule`.
    pub fn violated(&self, rule: Rule) -> u64 {
        get(&self.violated, rule as usize)
    }

    /// Decisions in which `rule` was binding.
    pub fn binding(&self, rule: Rule) -> u64 {
        get(&self.binding, rule as usize)
    }

    /// Decisions that relaxed `class`.
    pub fn relaxed(&self, class: Class) -> u64 {
        get(&self.relaxed, class as usize)
    }

    /// Decisions flagged `needs_approval`.
    pub fn needs_approval(&self) -> u64 {
        self.needs_approval.load(Ordering::Relaxed)
    }

    /// Batches counted.
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    /// Batches in which the circuit breaker tripped.
    pub fn breaker_trips(&self) -> u64 {
        self.breaker_trips.load(Ordering::Relaxed)
    }

    /// Writes every counter in the Prometheus text exposition format
    /// (version 0.0.4): `# HELP` and `# TYPE` lines, then one sample per
    /// label value, all labels always present (zeros included) so series
    /// never appear or vanish. Allocates nothing.
    pub fn render_to(&self, w: &mut dyn fmt::Write) -> fmt::Result {
        family(w, "priceguard_decisions_total", "Decisions by outcome.")?;
        for o in Outcome::ALL {
            writeln!(
                w,
                "priceguard_decisions_total{{outcome=\"{}\"}} {}",
                o.name(),
                self.decisions(o)
            )?;
        }
        family(
            w,
            "priceguard_decision_reasons_total",
            "Decisions by primary reason (`none` for accepted as proposed).",
        )?;
        let reasons = OTHER_REASONS
            .into_iter()
            .chain(Rule::ALL.iter().map(|r| Reason::Rule(*r)))
            .chain([Reason::Custom(0)]);
        for r in reasons {
            let name = if r == Reason::None { "none" } else { r.name() };
            writeln!(
                w,
                "priceguard_decision_reasons_total{{reason=\"{name}\"}} {}",
                self.reason(r)
            )?;
        }
        family(
            w,
            "priceguard_rule_violations_total",
            "Decisions whose proposal violated the rule.",
        )?;
        for r in Rule::ALL.iter().take(RULE_COUNT) {
            writeln!(
                w,
                "priceguard_rule_violations_total{{rule=\"{}\"}} {}",
                r.name(),
                self.violated(*r)
            )?;
        }
        family(
            w,
            "priceguard_rule_binding_total",
            "Decisions in which the rule's bound equals the published price or moved it.",
        )?;
        for r in Rule::ALL.iter().take(RULE_COUNT) {
            writeln!(
                w,
                "priceguard_rule_binding_total{{rule=\"{}\"}} {}",
                r.name(),
                self.binding(*r)
            )?;
        }
        family(
            w,
            "priceguard_relaxed_total",
            "Decisions that relaxed the class to resolve a conflict.",
        )?;
        for c in CLASSES {
            writeln!(
                w,
                "priceguard_relaxed_total{{class=\"{}\"}} {}",
                c.name(),
                self.relaxed(c)
            )?;
        }
        family(
            w,
            "priceguard_needs_approval_total",
            "Decisions flagged for a person to review (approval.max_auto_change).",
        )?;
        writeln!(
            w,
            "priceguard_needs_approval_total {}",
            self.needs_approval()
        )?;
        family(w, "priceguard_batches_total", "Batches evaluated.")?;
        writeln!(w, "priceguard_batches_total {}", self.batches())?;
        family(
            w,
            "priceguard_breaker_trips_total",
            "Batches in which the circuit breaker tripped.",
        )?;
        writeln!(w, "priceguard_breaker_trips_total {}", self.breaker_trips())
    }

    /// [`Metrics::render_to`] into a new string.
    #[cfg(feature = "alloc")]
    pub fn render(&self) -> alloc::string::String {
        let mut s = alloc::string::String::with_capacity(8192);
        let _ = self.render_to(&mut s);
        s
    }
}

fn family(w: &mut dyn fmt::Write, name: &str, help: &str) -> fmt::Result {
    writeln!(w, "# HELP {name} {help}")?;
    writeln!(w, "# TYPE {name} counter")
}

#[cfg(feature = "alloc")]
impl crate::Policy {
    /// [`Policy::evaluate_batch_with`](crate::Policy::evaluate_batch_with),
    /// then every decision and the batch counted in `metrics`.
    pub fn evaluate_batch_metered(
        &self,
        items: &[crate::Item],
        out: &mut [Decision],
        budgets: &mut crate::Budgets,
        metrics: &Metrics,
    ) -> Result<crate::BatchSummary, crate::BatchError> {
        let summary = self.evaluate_batch_with(items, out, budgets)?;
        for d in out.iter() {
            metrics.record(d);
        }
        metrics.record_batch(summary.breaker_tripped);
        Ok(summary)
    }
}
