//! Remaining promotion budgets per campaign, as a batch consumes them in
//! input order (docs/spec.md §7, B1).

use crate::decision::Decision;
use crate::item::Item;
use crate::policy::{Policy, MAX_CAMPAIGNS};

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
    pub(crate) fn consume(&mut self, item: &Item, d: &Decision) {
        if !d.is_change() || item.reference_price().is_none() {
            return;
        }
        if let (Some(id), Some(spend)) = (item.campaign(), d.promo_spend_minor()) {
            if (id.0 as usize) < self.len {
                if let Some(slot) = self.remaining.get_mut(id.0 as usize) {
                    *slot = slot.saturating_sub(spend);
                }
            }
        }
    }
}
