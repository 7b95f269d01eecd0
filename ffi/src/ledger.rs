//! The thread-safe promotion budget ledger.

use std::sync::Arc;

use priceguard::{BudgetLedger, CampaignId, LedgerError, Policy, Reservation, ReservationTicket};

use crate::policy::{policy_arc, policy_ref, priceguard_policy};
use crate::priceguard_result;
use crate::types::PRICEGUARD_CAMPAIGN_UNKNOWN;
use crate::types::{
    priceguard_decision, priceguard_item, priceguard_reservation, scale_decision, to_item,
    to_item_scaled, write_decision,
};

/// Remaining and reserved budget per campaign of one policy. Safe to share:
/// any number of threads may reserve, commit, release and evaluate through
/// one ledger at once, and the campaigns can never be overspent. Created by
/// `priceguard_ledger_new`, released by `priceguard_ledger_free`.
pub struct priceguard_ledger {
    _private: [u8; 0],
}

struct Ledger {
    policy: Arc<Policy>,
    inner: BudgetLedger,
}

/// # Safety
///
/// `ptr` is NULL or a live ledger handle.
unsafe fn ledger_ref<'a>(ptr: *const priceguard_ledger) -> Option<&'a Ledger> {
    // SAFETY: a non-NULL handle is `Box::into_raw` of a `Ledger`, live until
    // `priceguard_ledger_free` (caller contract); shared access only.
    unsafe { ptr.cast::<Ledger>().as_ref() }
}

macro_rules! try_ledger {
    ($ptr:expr) => {
        // SAFETY: the export's contract makes the handle NULL or live.
        match unsafe { ledger_ref($ptr) } {
            Some(l) => l,
            None => return priceguard_result::NullParameter,
        }
    };
}

fn code(e: LedgerError) -> priceguard_result {
    match e {
        LedgerError::UnknownCampaign => priceguard_result::UnknownCampaign,
        LedgerError::Insufficient { .. } => priceguard_result::InsufficientBudget,
        LedgerError::NegativeAmount => priceguard_result::NegativeAmount,
        LedgerError::AlreadySettled => priceguard_result::AlreadySettled,
        LedgerError::TooManyReservations => priceguard_result::TooManyReservations,
        // `NotReserved` and any later error: the reservation was refused.
        _ => priceguard_result::NotReserved,
    }
}

fn c_reservation(r: Option<Reservation>) -> priceguard_reservation {
    match r {
        Some(r) => {
            let t = r.into_ticket();
            priceguard_reservation {
                campaign: t.campaign.0,
                amount: t.amount,
                token: t.token,
            }
        }
        None => priceguard_reservation {
            campaign: PRICEGUARD_CAMPAIGN_UNKNOWN,
            amount: 0,
            token: 0,
        },
    }
}

/// Creates a ledger holding each campaign's full configured budget, with
/// room for 65536 outstanding reservations. The ledger keeps its own
/// reference to the policy.
///
/// # Safety
///
/// `policy` NULL or live; `ledger_out` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_ledger_new(
    policy: *const priceguard_policy,
    ledger_out: *mut *mut priceguard_ledger,
) -> priceguard_result {
    // SAFETY: forwarded caller contract.
    unsafe {
        priceguard_ledger_new_with_capacity(
            policy,
            priceguard::ledger::DEFAULT_MAX_RESERVATIONS,
            ledger_out,
        )
    }
}

/// As `priceguard_ledger_new`, with room for `max_reservations`
/// outstanding (reserved, not yet settled) reservations, from 1 to
/// 16777215 (`PRICEGUARD_RESULT_INVALID_ARGUMENT` otherwise).
/// Reserving beyond that gives `PRICEGUARD_RESULT_TOO_MANY_RESERVATIONS`
/// until some are settled. Each slot costs 24 bytes.
///
/// # Safety
///
/// As `priceguard_ledger_new`.
#[no_mangle]
pub unsafe extern "C" fn priceguard_ledger_new_with_capacity(
    policy: *const priceguard_policy,
    max_reservations: usize,
    ledger_out: *mut *mut priceguard_ledger,
) -> priceguard_result {
    ffi_boundary! {
        check_out!(policy, ledger_out);
        if max_reservations == 0 || max_reservations > priceguard::ledger::MAX_RESERVATIONS {
            return priceguard_result::InvalidArgument;
        }
        // SAFETY: non-NULL and live (caller contract).
        let policy = unsafe { policy_arc(policy) };
        let inner = BudgetLedger::with_capacity(&policy, max_reservations);
        let raw = Box::into_raw(Box::new(Ledger { policy, inner })).cast::<priceguard_ledger>();
        // SAFETY: checked non-NULL, valid for a write.
        unsafe { ledger_out.write(raw) };
        priceguard_result::Ok
    }
}

/// Releases a ledger. NULL does nothing. No thread may use it afterwards.
///
/// # Safety
///
/// `ledger` is NULL or a live handle, freed once.
#[no_mangle]
pub unsafe extern "C" fn priceguard_ledger_free(ledger: *mut priceguard_ledger) {
    ffi_boundary! {
        if !ledger.is_null() {
            // SAFETY: a live handle is `Box::into_raw` of a `Ledger`, freed once.
            drop(unsafe { Box::from_raw(ledger.cast::<Ledger>()) });
        }
    }
}

/// Writes the budget of `campaign` neither reserved nor committed, minor
/// units. `PRICEGUARD_RESULT_UNKNOWN_CAMPAIGN` for an id the policy lacks.
///
/// # Safety
///
/// `ledger` NULL or live; `remaining_out` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_ledger_remaining(
    ledger: *const priceguard_ledger,
    campaign: u32,
    remaining_out: *mut i64,
) -> priceguard_result {
    ffi_boundary! {
        let l = try_ledger!(ledger);
        check_out!(remaining_out);
        match l.inner.remaining(CampaignId(campaign)) {
            Some(v) => {
                // SAFETY: checked non-NULL, valid for a write.
                unsafe { remaining_out.write(v) };
                priceguard_result::Ok
            }
            None => priceguard_result::UnknownCampaign,
        }
    }
}

/// Writes the budget of `campaign` reserved and not yet settled.
///
/// # Safety
///
/// As `priceguard_ledger_remaining`.
#[no_mangle]
pub unsafe extern "C" fn priceguard_ledger_reserved(
    ledger: *const priceguard_ledger,
    campaign: u32,
    reserved_out: *mut i64,
) -> priceguard_result {
    ffi_boundary! {
        let l = try_ledger!(ledger);
        check_out!(reserved_out);
        match l.inner.reserved(CampaignId(campaign)) {
            Some(v) => {
                // SAFETY: checked non-NULL, valid for a write.
                unsafe { reserved_out.write(v) };
                priceguard_result::Ok
            }
            None => priceguard_result::UnknownCampaign,
        }
    }
}

/// Atomically takes `amount` minor units from `campaign`, or fails without
/// changing anything (`INSUFFICIENT_BUDGET`, `UNKNOWN_CAMPAIGN`,
/// `NEGATIVE_AMOUNT`, `TOO_MANY_RESERVATIONS`).
///
/// # Safety
///
/// `ledger` NULL or live; `reservation_out` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_ledger_reserve(
    ledger: *const priceguard_ledger,
    campaign: u32,
    amount: i64,
    reservation_out: *mut priceguard_reservation,
) -> priceguard_result {
    ffi_boundary! {
        let l = try_ledger!(ledger);
        check_out!(reservation_out);
        match l.inner.reserve(CampaignId(campaign), amount) {
            Ok(r) => {
                // SAFETY: checked non-NULL, valid for a write.
                unsafe { reservation_out.write(c_reservation(Some(r))) };
                priceguard_result::Ok
            }
            Err(e) => code(e),
        }
    }
}

/// Settles a reservation from C once, by its token. The empty reservation
/// (token 0, amount 0) is a no-op.
fn settle(
    l: &Ledger,
    r: &priceguard_reservation,
    f: impl FnOnce(&BudgetLedger, ReservationTicket) -> Result<(), LedgerError>,
) -> priceguard_result {
    if r.token == 0 && r.amount == 0 {
        return priceguard_result::Ok;
    }
    if r.amount < 0 {
        return priceguard_result::NegativeAmount;
    }
    let ticket = ReservationTicket {
        campaign: CampaignId(r.campaign),
        amount: r.amount,
        token: r.token,
    };
    match f(&l.inner, ticket) {
        Ok(()) => priceguard_result::Ok,
        Err(e) => code(e),
    }
}

/// Makes a reservation final: the spend stays taken. Each reservation
/// settles once: settling it (or a copy) again gives
/// `PRICEGUARD_RESULT_ALREADY_SETTLED`; a reservation this ledger did not
/// make, or one whose fields were changed, gives
/// `PRICEGUARD_RESULT_NOT_RESERVED`. Neither touches the budget. The empty
/// reservation (`token` 0, `amount` 0) does nothing.
///
/// # Safety
///
/// `ledger` NULL or live; `reservation` NULL or valid for reads.
#[no_mangle]
pub unsafe extern "C" fn priceguard_ledger_commit(
    ledger: *const priceguard_ledger,
    reservation: *const priceguard_reservation,
) -> priceguard_result {
    ffi_boundary! {
        let l = try_ledger!(ledger);
        let r = try_ref!(reservation);
        settle(l, r, BudgetLedger::commit_ticket)
    }
}

/// Returns a reservation's spend to its campaign (publishing failed).
/// Settles once, as `priceguard_ledger_commit`.
///
/// # Safety
///
/// As `priceguard_ledger_commit`.
#[no_mangle]
pub unsafe extern "C" fn priceguard_ledger_release(
    ledger: *const priceguard_ledger,
    reservation: *const priceguard_reservation,
) -> priceguard_result {
    ffi_boundary! {
        let l = try_ledger!(ledger);
        let r = try_ref!(reservation);
        settle(l, r, BudgetLedger::release_ticket)
    }
}

/// Evaluates one item against the ledger's remaining budget and reserves
/// its promotion spend atomically: concurrent callers can never overspend.
/// Writes the decision and the reservation to settle (token 0, amount 0
/// and campaign `PRICEGUARD_CAMPAIGN_UNKNOWN` when nothing was reserved).
/// `ledger` must come from this `policy` handle
/// (`PRICEGUARD_RESULT_LEDGER_POLICY_MISMATCH` otherwise).
///
/// # Safety
///
/// `policy`, `ledger` NULL or live; `item` NULL or valid for reads; the
/// outputs NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_evaluate_reserving(
    policy: *const priceguard_policy,
    ledger: *const priceguard_ledger,
    item: *const priceguard_item,
    decision_out: *mut priceguard_decision,
    reservation_out: *mut priceguard_reservation,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: the export's contract makes the handle NULL or live.
        let Some(p) = (unsafe { policy_ref(policy) }) else {
            return priceguard_result::NullParameter;
        };
        let l = try_ledger!(ledger);
        let c = try_ref!(item);
        check_out!(decision_out, reservation_out);
        if !std::ptr::eq(Arc::as_ptr(&l.policy), p) {
            return priceguard_result::LedgerPolicyMismatch;
        }
        let Some(item) = to_item(c) else {
            return priceguard_result::InvalidArgument;
        };
        let (d, r) = p.evaluate_reserving(&item, &l.inner);
        // SAFETY: both checked non-NULL, valid for a write.
        unsafe {
            write_decision(&d, decision_out);
            reservation_out.write(c_reservation(r));
        }
        priceguard_result::Ok
    }
}

/// As `priceguard_policy_evaluate_reserving`, for an item whose money is
/// in `10^-scale` minor units (see `priceguard_policy_evaluate_scaled`;
/// the decision comes back in the same units). The reservation is in whole
/// minor units, as the ledger keeps budgets: a finer spend is reserved
/// rounded up to the minor unit, so finer spends never add up past a
/// campaign's budget. `PRICEGUARD_RESULT_INVALID_ARGUMENT` for a scale
/// beyond `PRICEGUARD_MAX_SCALE`; `MONEY_OUT_OF_RANGE` when a decision's
/// value does not fit 64 bits at `scale` (then nothing is reserved or
/// written).
///
/// # Safety
///
/// As `priceguard_policy_evaluate_reserving`.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_evaluate_reserving_scaled(
    policy: *const priceguard_policy,
    ledger: *const priceguard_ledger,
    item: *const priceguard_item,
    scale: u8,
    decision_out: *mut priceguard_decision,
    reservation_out: *mut priceguard_reservation,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: the export's contract makes the handle NULL or live.
        let Some(p) = (unsafe { policy_ref(policy) }) else {
            return priceguard_result::NullParameter;
        };
        let l = try_ledger!(ledger);
        let c = try_ref!(item);
        check_out!(decision_out, reservation_out);
        if !std::ptr::eq(Arc::as_ptr(&l.policy), p) {
            return priceguard_result::LedgerPolicyMismatch;
        }
        let Some(item) = to_item_scaled(c, scale) else {
            return priceguard_result::InvalidArgument;
        };
        let (d, r) = p.evaluate_reserving(&item, &l.inner);
        let Some(d) = scale_decision(d, scale) else {
            // Give the budget back: the caller gets no decision to publish.
            if let Some(r) = r {
                let _ = l.inner.release(r);
            }
            return priceguard_result::MoneyOutOfRange;
        };
        // SAFETY: both checked non-NULL, valid for a write.
        unsafe {
            write_decision(&d, decision_out);
            reservation_out.write(c_reservation(r));
        }
        priceguard_result::Ok
    }
}
