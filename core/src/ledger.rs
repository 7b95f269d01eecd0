//! A thread-safe promotion budget ledger for concurrent callers (SPEC §7).
//!
//! Fixed capacity, lock-free: one pair of atomics per campaign. A caller
//! reserves the spend of a decision before publishing, then commits it
//! once the price is live or releases it if publishing failed. The sum of
//! reservations and commitments never exceeds a campaign's budget.

use core::sync::atomic::{AtomicI64, Ordering};

use crate::decision::{Decision, Reason};
use crate::item::{CampaignId, Item};
use crate::policy::{Policy, MAX_CAMPAIGNS};

/// A reservation of `amount` minor units from a campaign. Settle it with
/// [`BudgetLedger::commit`] or [`BudgetLedger::release`].
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a reservation holds budget until it is committed or released"]
pub struct Reservation {
    /// The campaign.
    pub campaign: CampaignId,
    /// Minor units reserved.
    pub amount: i64,
}

/// Why a ledger call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The campaign is not in the ledger.
    #[error("unknown campaign")]
    UnknownCampaign,
    /// Not enough budget left.
    #[error("insufficient budget: {remaining} left, {requested} requested")]
    Insufficient {
        /// What is left.
        remaining: i64,
        /// What was asked.
        requested: i64,
    },
    /// A negative amount.
    #[error("negative amount")]
    NegativeAmount,
    /// Settling more than is reserved.
    #[error("more than is reserved")]
    NotReserved,
}

/// Remaining and reserved budget per campaign, shared by threads.
#[derive(Debug)]
pub struct BudgetLedger {
    remaining: [AtomicI64; MAX_CAMPAIGNS],
    reserved: [AtomicI64; MAX_CAMPAIGNS],
    len: usize,
}

/// Times an evaluation is retried when another thread took the budget it
/// was computed against.
const RETRIES: usize = 64;

impl BudgetLedger {
    /// A ledger holding each campaign's full configured budget.
    pub fn new(policy: &Policy) -> BudgetLedger {
        let remaining: [AtomicI64; MAX_CAMPAIGNS] = core::array::from_fn(|i| {
            AtomicI64::new(policy.budget(CampaignId(i as u32)).unwrap_or(0))
        });
        BudgetLedger {
            remaining,
            reserved: core::array::from_fn(|_| AtomicI64::new(0)),
            len: policy.campaign_count(),
        }
    }

    fn slot(&self, id: CampaignId) -> Result<(&AtomicI64, &AtomicI64), LedgerError> {
        let i = id.0 as usize;
        if i >= self.len {
            return Err(LedgerError::UnknownCampaign);
        }
        match (self.remaining.get(i), self.reserved.get(i)) {
            (Some(r), Some(s)) => Ok((r, s)),
            _ => Err(LedgerError::UnknownCampaign),
        }
    }

    /// Budget neither reserved nor committed.
    pub fn remaining(&self, id: CampaignId) -> Option<i64> {
        self.slot(id).ok().map(|(r, _)| r.load(Ordering::Acquire))
    }

    /// Budget reserved and not yet settled.
    pub fn reserved(&self, id: CampaignId) -> Option<i64> {
        self.slot(id).ok().map(|(_, s)| s.load(Ordering::Acquire))
    }

    /// Atomically takes `amount` from the campaign, or fails without
    /// changing anything.
    pub fn reserve(&self, id: CampaignId, amount: i64) -> Result<Reservation, LedgerError> {
        if amount < 0 {
            return Err(LedgerError::NegativeAmount);
        }
        let (remaining, reserved) = self.slot(id)?;
        let mut cur = remaining.load(Ordering::Acquire);
        loop {
            if cur < amount {
                return Err(LedgerError::Insufficient {
                    remaining: cur,
                    requested: amount,
                });
            }
            match remaining.compare_exchange_weak(
                cur,
                cur - amount,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => cur = now,
            }
        }
        reserved.fetch_add(amount, Ordering::AcqRel);
        Ok(Reservation {
            campaign: id,
            amount,
        })
    }

    /// Takes `amount` off the campaign's reserved total, refusing to go
    /// below zero (a reservation settled twice, or one never made).
    fn unreserve(reserved: &AtomicI64, amount: i64) -> Result<(), LedgerError> {
        if amount < 0 {
            return Err(LedgerError::NegativeAmount);
        }
        let mut cur = reserved.load(Ordering::Acquire);
        loop {
            if cur < amount {
                return Err(LedgerError::NotReserved);
            }
            match reserved.compare_exchange_weak(
                cur,
                cur - amount,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(now) => cur = now,
            }
        }
    }

    /// The reserved spend is final: it stays taken.
    pub fn commit(&self, r: Reservation) -> Result<(), LedgerError> {
        let (_, reserved) = self.slot(r.campaign)?;
        Self::unreserve(reserved, r.amount)
    }

    /// The reserved spend returns to the campaign.
    pub fn release(&self, r: Reservation) -> Result<(), LedgerError> {
        let (remaining, reserved) = self.slot(r.campaign)?;
        Self::unreserve(reserved, r.amount)?;
        remaining.fetch_add(r.amount, Ordering::AcqRel);
        Ok(())
    }
}

impl Policy {
    /// Evaluates one item against the ledger's remaining budget and
    /// reserves its promotion spend atomically. Concurrent callers can never
    /// overspend: when another thread takes the budget first, the item is
    /// evaluated again against what is left. Returns the reservation to
    /// settle, if the decision spends anything.
    pub fn evaluate_reserving(
        &self,
        item: &Item,
        ledger: &BudgetLedger,
    ) -> (Decision, Option<Reservation>) {
        let campaign = match (item.campaign(), item.reference_price()) {
            (Some(c), Some(_)) if ledger.remaining(c).is_some() => c,
            _ => return (self.evaluate(item), None),
        };
        for _ in 0..RETRIES {
            let left = ledger.remaining(campaign).unwrap_or(0);
            let d = self.evaluate_against(item, left);
            let spend = match d.promo_spend {
                Some(s) if d.is_change() && s > 0 => s,
                _ => return (d, None),
            };
            if let Ok(r) = ledger.reserve(campaign, spend) {
                return (d, Some(r));
            }
        }
        (
            Decision::hold_or_reject(item.current_price(), Reason::Rule(crate::Rule::PromoBudget)),
            None,
        )
    }

    fn evaluate_against(&self, item: &Item, remaining: i64) -> Decision {
        crate::engine::evaluate_rules(
            self.rules_for(item.segment()),
            item,
            crate::engine::Budget::Remaining(remaining),
        )
    }
}
