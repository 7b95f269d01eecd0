//! The thread-safe promotion budget ledger.

use std::sync::Arc;

use priceguard::{BudgetLedger, CampaignId, LedgerError, Policy, Reservation};

use crate::policy::{policy_arc, policy_ref, priceguard_policy};
use crate::priceguard_result;
use crate::types::PRICEGUARD_CAMPAIGN_UNKNOWN;
use crate::types::{
    priceguard_decision, priceguard_item, priceguard_reservation, to_item, write_decision,
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
        LedgerError::NotReserved => priceguard_result::NotReserved,
    }
}

fn c_reservation(r: Option<Reservation>) -> priceguard_reservation {
    match r {
        Some(r) => priceguard_reservation {
            campaign: r.campaign.0,
            amount: r.amount,
        },
        None => priceguard_reservation {
            campaign: PRICEGUARD_CAMPAIGN_UNKNOWN,
            amount: 0,
        },
    }
}

/// Creates a ledger holding each campaign's full configured budget. The
/// ledger keeps its own reference to the policy.
///
/// # Safety
///
/// `policy` NULL or live; `ledger_out` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_ledger_new(
    policy: *const priceguard_policy,
    ledger_out: *mut *mut priceguard_ledger,
) -> priceguard_result {
    ffi_boundary! {
        check_out!(policy, ledger_out);
        // SAFETY: non-NULL and live (caller contract).
        let policy = unsafe { policy_arc(policy) };
        let inner = BudgetLedger::new(&policy);
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
/// `NEGATIVE_AMOUNT`).
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

/// Checks a reservation from C before settling it: zero is a no-op,
/// negative or more than the campaign has reserved is refused.
fn settle(
    l: &Ledger,
    r: &priceguard_reservation,
    f: impl FnOnce(&BudgetLedger, Reservation) -> Result<(), LedgerError>,
) -> priceguard_result {
    if r.amount == 0 {
        return priceguard_result::Ok;
    }
    if r.amount < 0 {
        return priceguard_result::NegativeAmount;
    }
    let campaign = CampaignId(r.campaign);
    match l.inner.reserved(campaign) {
        None => return priceguard_result::UnknownCampaign,
        Some(held) if held < r.amount => return priceguard_result::NotReserved,
        Some(_) => {}
    }
    match f(
        &l.inner,
        Reservation {
            campaign,
            amount: r.amount,
        },
    ) {
        Ok(()) => priceguard_result::Ok,
        Err(e) => code(e),
    }
}

/// Makes a reservation final: the spend stays taken. Settle each
/// reservation once; an `amount` of 0 does nothing. Settling more than the
/// campaign has reserved gives `PRICEGUARD_RESULT_NOT_RESERVED`.
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
        settle(l, r, BudgetLedger::commit)
    }
}

/// Returns a reservation's spend to its campaign (publishing failed).
/// Settle each reservation once; an `amount` of 0 does nothing.
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
        settle(l, r, BudgetLedger::release)
    }
}

/// Evaluates one item against the ledger's remaining budget and reserves
/// its promotion spend atomically: concurrent callers can never overspend.
/// Writes the decision and the reservation to settle (amount 0 and
/// campaign `PRICEGUARD_CAMPAIGN_UNKNOWN` when nothing was reserved).
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
