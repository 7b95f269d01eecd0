//! Batches: decisions into a caller buffer, budgets consumed in input
//! order, and the circuit breaker (SPEC §7).

use crate::decision::{Decision, Outcome, Reason};
use crate::item::Item;
use crate::policy::{Policy, MAX_CAMPAIGNS};
use crate::rules::{class_mask, Class};

/// Remaining promotion budget per campaign, fixed capacity, no heap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budgets {
    remaining: [i64; MAX_CAMPAIGNS],
    len: usize,
}

impl Budgets {
    /// Every campaign's full configured budget.
    pub fn new(policy: &Policy) -> Budgets {
        let mut remaining = [0; MAX_CAMPAIGNS];
        let mut len = 0;
        for (slot, (_, b)) in remaining.iter_mut().zip(policy.campaigns()) {
            *slot = b;
            len += 1;
        }
        Budgets { remaining, len }
    }

    /// Remaining budgets indexed by [`CampaignId`](crate::CampaignId).
    pub fn as_slice(&self) -> &[i64] {
        self.remaining.get(..self.len).unwrap_or(&[])
    }

    /// Remaining budget of one campaign.
    pub fn remaining(&self, id: crate::CampaignId) -> Option<i64> {
        self.as_slice().get(id.0 as usize).copied()
    }

    #[inline]
    fn consume(&mut self, item: &Item, d: &Decision) {
        if !d.is_change() || item.reference_price().is_none() {
            return;
        }
        if let (Some(id), Some(spend)) = (item.campaign(), d.promo_spend) {
            if (id.0 as usize) < self.len {
                if let Some(slot) = self.remaining.get_mut(id.0 as usize) {
                    *slot = slot.saturating_sub(spend);
                }
            }
        }
    }
}

/// What a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchSummary {
    /// Items evaluated.
    pub items: u64,
    /// Decisions per outcome, indexed by `Outcome as usize`.
    pub outcomes: [u64; 4],
    /// Items whose proposal violated a hard or financial rule.
    pub violators: u64,
    /// Items with at least one relaxed class.
    pub relaxed: u64,
    /// Items flagged `needs_approval`.
    pub needs_approval: u64,
    /// The circuit breaker tripped: every item was held.
    pub breaker_tripped: bool,
}

impl BatchSummary {
    /// Number of decisions with `outcome`.
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.outcomes.get(outcome as usize).copied().unwrap_or(0)
    }

    /// Adds another batch's counts (the breaker flag is or-ed).
    pub fn merge(&mut self, other: &BatchSummary) {
        self.items += other.items;
        for (a, b) in self.outcomes.iter_mut().zip(other.outcomes) {
            *a += b;
        }
        self.violators += other.violators;
        self.relaxed += other.relaxed;
        self.needs_approval += other.needs_approval;
        self.breaker_tripped |= other.breaker_tripped;
    }
}

/// A batch that cannot run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// The output buffer's length differs from the input's.
    #[error("output holds {out} decisions but the batch has {items} items")]
    LengthMismatch {
        /// Items given.
        items: usize,
        /// Output slots given.
        out: usize,
    },
}

const HARD_OR_FINANCIAL: u64 = class_mask(Class::Hard) | class_mask(Class::Financial);

impl Policy {
    /// Evaluates `items` into `out` in input order, each campaign starting
    /// from its full budget. See [`Policy::evaluate_batch_with`].
    pub fn evaluate_batch(
        &self,
        items: &[Item],
        out: &mut [Decision],
    ) -> Result<BatchSummary, BatchError> {
        let mut budgets = Budgets::new(self);
        self.evaluate_batch_with(items, out, &mut budgets)
    }

    /// Evaluates `items` into `out` in input order. Accepted and adjusted
    /// promotion items consume `budgets` in that order, so the batch never
    /// spends more than a campaign holds. When the breaker trips, every
    /// valid item is held at its current price (`circuit_open`) and no
    /// budget is consumed. Allocates nothing.
    pub fn evaluate_batch_with(
        &self,
        items: &[Item],
        out: &mut [Decision],
        budgets: &mut Budgets,
    ) -> Result<BatchSummary, BatchError> {
        if items.len() != out.len() {
            return Err(BatchError::LengthMismatch {
                items: items.len(),
                out: out.len(),
            });
        }
        let before = budgets.clone();
        let mut summary = BatchSummary {
            items: items.len() as u64,
            ..BatchSummary::default()
        };
        let has_budgets = self.campaign_count() > 0;
        for (item, slot) in items.iter().zip(out.iter_mut()) {
            let d = if has_budgets && item.campaign().is_some() {
                let d = self.evaluate_with_budgets(item, budgets);
                budgets.consume(item, &d);
                d
            } else {
                self.evaluate(item)
            };
            if d.violated.0 & HARD_OR_FINANCIAL != 0 {
                summary.violators += 1;
            }
            *slot = d;
        }
        if let Some(breaker) = self.breaker() {
            if breaker.trips(summary.violators, summary.items) {
                summary.breaker_tripped = true;
                *budgets = before;
                for (item, slot) in items.iter().zip(out.iter_mut()) {
                    if slot.reason != Reason::InvalidInput {
                        let mut d =
                            Decision::hold_or_reject(item.current_price(), Reason::CircuitOpen);
                        d.violated = slot.violated;
                        *slot = d;
                    }
                }
            }
        }
        for d in out.iter() {
            if let Some(c) = summary.outcomes.get_mut(d.outcome as usize) {
                *c += 1;
            }
            if !d.relaxed.is_empty() {
                summary.relaxed += 1;
            }
            if d.needs_approval {
                summary.needs_approval += 1;
            }
        }
        Ok(summary)
    }
}
