//! A thread-safe promotion budget ledger for concurrent callers (docs/spec.md §7).
//!
//! Fixed capacity, lock-free: one pair of atomics per campaign and one
//! state word per outstanding reservation. A caller reserves the spend of
//! a decision before publishing, then commits it once the price is live or
//! releases it if publishing failed. Each reservation settles exactly
//! once, so the sum of reservations and commitments never exceeds a
//! campaign's budget, whatever sequence of calls is made
//! (docs/spec.md §7).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use crate::decision::{Decision, Reason};
use crate::item::{CampaignId, Item};
use crate::policy::{Policy, MAX_CAMPAIGNS};

/// A reservation of [`amount`](Reservation::amount) minor units from a
/// campaign. Only [`BudgetLedger::reserve`] makes one, and it is neither
/// `Copy` nor `Clone`: settle it by value with [`BudgetLedger::commit`] or
/// [`BudgetLedger::release`], so settling it twice does not compile.
///
/// ```compile_fail
/// # use priceguard::{BudgetLedger, Policy};
/// # let policy = Policy::from_toml_str("").unwrap();
/// # let ledger = BudgetLedger::new(&policy);
/// let r = ledger.reserve(policy.campaign_id("spring"), 100).unwrap();
/// ledger.release(r).unwrap();
/// ledger.release(r).unwrap(); // use of moved value
/// ```
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a reservation holds budget until it is committed or released"]
pub struct Reservation {
    ticket: ReservationTicket,
}

impl Reservation {
    /// The campaign the budget was taken from.
    pub fn campaign(&self) -> CampaignId {
        self.ticket.campaign
    }

    /// Minor units reserved.
    pub fn amount(&self) -> i64 {
        self.ticket.amount
    }

    /// Turns the reservation into a plain, copyable [`ReservationTicket`]
    /// for callers that must keep it outside Rust's ownership (the C ABI, a
    /// queue). The ledger still settles it only once: a second settle of
    /// the same ticket is [`LedgerError::AlreadySettled`].
    pub fn into_ticket(self) -> ReservationTicket {
        self.ticket
    }
}

/// A reservation as plain data: the campaign, the amount and a token that
/// names the reservation in its ledger. The ledger settles a token once;
/// a copy settled again, or a ticket whose campaign or amount does not
/// match what was reserved, is refused without touching the budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use = "a ticket holds budget until it is committed or released"]
pub struct ReservationTicket {
    /// The campaign the budget was taken from.
    pub campaign: CampaignId,
    /// Minor units reserved.
    pub amount: i64,
    /// The reservation's identity in its ledger: slot and generation.
    /// Never 0 for a real reservation.
    pub token: u64,
}

/// Why a ledger call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
    /// The ticket names no reservation of this ledger, or its campaign or
    /// amount differs from what was reserved.
    #[error("no such reservation")]
    NotReserved,
    /// The reservation was already committed or released.
    #[error("the reservation was already settled")]
    AlreadySettled,
    /// Every reservation slot of the ledger is outstanding: settle some
    /// first (see [`BudgetLedger::with_capacity`]).
    #[error("too many outstanding reservations")]
    TooManyReservations,
}

/// How many reservations a ledger from [`BudgetLedger::new`] can hold
/// outstanding at once.
pub const DEFAULT_MAX_RESERVATIONS: usize = 1 << 16;

// A slot's state word: generation in the high bits, state in the low two.
const FREE: u64 = 0;
const CLAIMED: u64 = 1;
const LIVE: u64 = 2;
const STATE: u64 = 3;

/// One reservation slot. `campaign` and `amount` are written by the
/// reserving thread while the slot is `CLAIMED` (it alone owns it) and
/// read by a settling thread while it is `LIVE`; the state word's
/// release/acquire orders them.
#[derive(Debug)]
struct Slot {
    state: AtomicU64,
    campaign: AtomicU32,
    amount: AtomicI64,
}

/// Remaining and reserved budget per campaign, shared by threads.
#[derive(Debug)]
pub struct BudgetLedger {
    remaining: [AtomicI64; MAX_CAMPAIGNS],
    reserved: [AtomicI64; MAX_CAMPAIGNS],
    len: usize,
    slots: Box<[Slot]>,
    /// This ledger's tag in its tokens.
    tag: u64,
    /// Where the next free-slot search starts.
    hint: AtomicUsize,
}

/// Times an evaluation is retried when another thread took the budget it
/// was computed against.
const RETRIES: usize = 64;

/// The most reservation slots a ledger can have: slot numbers take 24
/// bits of a token.
pub const MAX_RESERVATIONS: usize = (1 << 24) - 1;

/// A different tag and starting generation per ledger, so that a ticket
/// from one ledger is refused by another (`NotReserved`) rather than
/// taken for one of its own.
fn ledger_seed() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    // Weyl sequence: spreads consecutive ledgers over the 32-bit space.
    n.wrapping_mul(0x9E37_79B9) & 0xFFFF_FFFF
}

/// A token: slot + 1 in the low 24 bits (so no token is 0), the ledger's
/// tag in the next 8, the slot's generation (low 32 bits) above.
fn token(i: usize, tag: u64, generation: u64) -> u64 {
    ((generation & 0xFFFF_FFFF) << 32) | ((tag & 0xFF) << 24) | ((i as u64 + 1) & 0xFF_FFFF)
}

impl BudgetLedger {
    /// A ledger holding each campaign's full configured budget, with room
    /// for [`DEFAULT_MAX_RESERVATIONS`] outstanding reservations.
    pub fn new(policy: &Policy) -> BudgetLedger {
        BudgetLedger::with_capacity(policy, DEFAULT_MAX_RESERVATIONS)
    }

    /// A ledger with room for `max_reservations` outstanding reservations
    /// (at least 1, at most [`MAX_RESERVATIONS`]); reserving beyond that is
    /// [`LedgerError::TooManyReservations`] until some are settled.
    pub fn with_capacity(policy: &Policy, max_reservations: usize) -> BudgetLedger {
        let remaining: [AtomicI64; MAX_CAMPAIGNS] = core::array::from_fn(|i| {
            AtomicI64::new(policy.budget(CampaignId(i as u32)).unwrap_or(0))
        });
        let seed = ledger_seed();
        let n = max_reservations.clamp(1, MAX_RESERVATIONS);
        let slots: Vec<Slot> = (0..n)
            .map(|_| Slot {
                state: AtomicU64::new((seed << 2) | FREE),
                campaign: AtomicU32::new(0),
                amount: AtomicI64::new(0),
            })
            .collect();
        BudgetLedger {
            remaining,
            reserved: core::array::from_fn(|_| AtomicI64::new(0)),
            len: policy.campaign_count(),
            slots: slots.into_boxed_slice(),
            tag: seed >> 24,
            hint: AtomicUsize::new(0),
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

    /// Claims a free reservation slot: its index and the generation it was
    /// claimed at. Bounded: one pass over the slots at most.
    fn claim(&self) -> Result<(usize, u64), LedgerError> {
        let n = self.slots.len();
        let start = self.hint.load(Ordering::Relaxed) % n;
        for k in 0..n {
            let i = (start + k) % n;
            let Some(slot) = self.slots.get(i) else {
                continue;
            };
            let s = slot.state.load(Ordering::Relaxed);
            if s & STATE != FREE {
                continue;
            }
            if slot
                .state
                .compare_exchange(s, s | CLAIMED, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                self.hint.store(i + 1, Ordering::Relaxed);
                return Ok((i, s >> 2));
            }
        }
        Err(LedgerError::TooManyReservations)
    }

    /// Frees a slot that was claimed but never handed out.
    fn unclaim(&self, i: usize, generation: u64) {
        if let Some(slot) = self.slots.get(i) {
            slot.state
                .store((generation.wrapping_add(1) << 2) | FREE, Ordering::Release);
        }
    }

    /// Atomically takes `amount` from the campaign, or fails without
    /// changing anything.
    pub fn reserve(&self, id: CampaignId, amount: i64) -> Result<Reservation, LedgerError> {
        if amount < 0 {
            return Err(LedgerError::NegativeAmount);
        }
        let (remaining, reserved) = self.slot(id)?;
        let (i, generation) = self.claim()?;
        let mut cur = remaining.load(Ordering::Acquire);
        loop {
            if cur < amount {
                self.unclaim(i, generation);
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
        if let Some(slot) = self.slots.get(i) {
            slot.campaign.store(id.0, Ordering::Relaxed);
            slot.amount.store(amount, Ordering::Relaxed);
            slot.state
                .store((generation << 2) | LIVE, Ordering::Release);
        }
        Ok(Reservation {
            ticket: ReservationTicket {
                campaign: id,
                amount,
                token: token(i, self.tag, generation),
            },
        })
    }

    /// Ends the reservation `t` names, exactly once: the slot goes from
    /// live to free (next generation) in one compare-and-swap, so of two
    /// settles of one ticket only one succeeds. Then the campaign's
    /// reserved total drops by the amount; `give_back` returns it to the
    /// campaign's remaining budget.
    fn settle(&self, t: ReservationTicket, give_back: bool) -> Result<(), LedgerError> {
        let (remaining, reserved) = self.slot(t.campaign)?;
        if (t.token >> 24) & 0xFF != self.tag & 0xFF {
            // Another ledger's ticket.
            return Err(LedgerError::NotReserved);
        }
        let low = t.token & 0xFF_FFFF;
        let Some(i) = (low as usize).checked_sub(1) else {
            return Err(LedgerError::NotReserved);
        };
        let Some(slot) = self.slots.get(i) else {
            return Err(LedgerError::NotReserved);
        };
        let want = t.token >> 32;
        let s = slot.state.load(Ordering::Acquire);
        let generation = s >> 2;
        if generation & 0xFFFF_FFFF != want {
            // The slot moved on: this reservation was settled (or the
            // ticket belongs to another ledger).
            return Err(LedgerError::AlreadySettled);
        }
        if s & STATE != LIVE {
            return Err(if s & STATE == FREE {
                LedgerError::AlreadySettled
            } else {
                LedgerError::NotReserved
            });
        }
        // Stable while the state stays `LIVE` at this generation, which the
        // swap below checks.
        let amount = slot.amount.load(Ordering::Relaxed);
        let campaign = slot.campaign.load(Ordering::Relaxed);
        if amount != t.amount || campaign != t.campaign.0 {
            return Err(LedgerError::NotReserved);
        }
        if slot
            .state
            .compare_exchange(
                s,
                (generation.wrapping_add(1) << 2) | FREE,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return Err(LedgerError::AlreadySettled);
        }
        reserved.fetch_sub(amount, Ordering::AcqRel);
        if give_back {
            remaining.fetch_add(amount, Ordering::AcqRel);
        }
        Ok(())
    }

    /// The reserved spend is final: it stays taken.
    pub fn commit(&self, r: Reservation) -> Result<(), LedgerError> {
        self.settle(r.ticket, false)
    }

    /// The reserved spend returns to the campaign.
    pub fn release(&self, r: Reservation) -> Result<(), LedgerError> {
        self.settle(r.ticket, true)
    }

    /// [`BudgetLedger::commit`] for a ticket: refused with
    /// [`LedgerError::AlreadySettled`] when the reservation was settled
    /// already, [`LedgerError::NotReserved`] when the ticket names no
    /// reservation of this ledger with that campaign and amount.
    pub fn commit_ticket(&self, t: ReservationTicket) -> Result<(), LedgerError> {
        self.settle(t, false)
    }

    /// [`BudgetLedger::release`] for a ticket, refused as
    /// [`BudgetLedger::commit_ticket`] is.
    pub fn release_ticket(&self, t: ReservationTicket) -> Result<(), LedgerError> {
        self.settle(t, true)
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
            let spend = match d.promo_spend_minor() {
                Some(s) if d.is_change() && s > 0 => s,
                _ => return (d, None),
            };
            match ledger.reserve(campaign, spend) {
                Ok(r) => return (d, Some(r)),
                // Another thread took the budget: evaluate again.
                Err(LedgerError::Insufficient { .. }) => {}
                // No slot for the reservation: hold, as for no budget.
                Err(_) => break,
            }
        }
        (
            Decision::hold_or_reject(
                item.current_price_minor(),
                Reason::Rule(crate::Rule::PromoBudget),
            ),
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
