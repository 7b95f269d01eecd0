//! Audit and metrics: the policy's content hash, one decision as a JSON
//! record, and lock-free decision counters in the Prometheus text format.

use std::ffi::c_char;

use priceguard::audit::{push_decision_record, PolicyStamp};
use priceguard::metrics::Metrics;

use crate::buffer::write_whole;
use crate::policy::{policy_ref, priceguard_policy};
use crate::priceguard_result;
use crate::types::{
    priceguard_batch_summary, priceguard_decision, priceguard_item, to_decision,
    to_decision_scaled, to_item, to_item_scaled,
};

/// Bytes of a policy content hash (SHA-256).
pub const PRICEGUARD_POLICY_HASH_LEN: usize = 32;

/// Writes the policy's content hash, SHA-256 of a canonical encoding of
/// the compiled policy (equal for the same rules in TOML or JSON, in any
/// key order; different after any rule change), as 32 raw bytes into
/// `hash_out`. Stamp it next to every decision you store.
///
/// # Safety
///
/// `policy` NULL or live; `hash_out` NULL or valid for writes of 32 bytes.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_hash(
    policy: *const priceguard_policy,
    hash_out: *mut u8,
) -> priceguard_result {
    ffi_boundary! {
        check_out!(hash_out);
        // SAFETY: the export's contract makes the handle NULL or live.
        let Some(p) = (unsafe { policy_ref(policy) }) else {
            return priceguard_result::NullParameter;
        };
        let hash = p.content_hash();
        // SAFETY: `hash_out` is non-NULL and valid for 32 bytes (caller
        // contract), disjoint from `hash`, which Rust owns.
        unsafe { std::ptr::copy_nonoverlapping(hash.as_ptr(), hash_out, hash.len()) };
        priceguard_result::Ok
    }
}

/// Writes the policy's content hash as 64 lower-case hex digits, as
/// `priceguard_policy_name` (65 bytes suffice).
///
/// # Safety
///
/// As `priceguard_policy_name`.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_hash_hex(
    policy: *const priceguard_policy,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: the export's contract makes the handle NULL or live.
        let Some(p) = (unsafe { policy_ref(policy) }) else {
            return priceguard_result::NullParameter;
        };
        // SAFETY: forwarded caller contract.
        unsafe { write_whole(&p.content_hash_hex(), buf, len, out_n) }
    }
}

/// Writes one decision as a JSON object into `buf`, as
/// `priceguard_policy_name` does (whole and NUL-terminated, or
/// `PRICEGUARD_RESULT_BUFFER_TOO_SMALL` with the needed length in
/// `*written`; 2048 bytes suffice in practice):
/// `{"policy":{"name":..,"version":..,"hash":..},"item":{..},"decision":{..}}`
/// with money as decimal strings in the policy currency, the campaign by
/// name, and the decision's `needs_approval` and rule names, then
/// `"lawful_reference"` when the decision has one (see `docs/audit.md`). An item or decision with values that do not exist
/// gives `PRICEGUARD_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `policy` NULL or live; `item` and `decision` NULL or valid for reads;
/// `buf` NULL or valid for `len` bytes; `written` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_decision_to_json(
    policy: *const priceguard_policy,
    item: *const priceguard_item,
    decision: *const priceguard_decision,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: the export's contract makes the handle NULL or live.
        let Some(p) = (unsafe { policy_ref(policy) }) else {
            return priceguard_result::NullParameter;
        };
        let c_item = try_ref!(item);
        let c_decision = try_ref!(decision);
        check_out!(buf, written);
        let Some(item) = to_item(c_item) else {
            return priceguard_result::InvalidArgument;
        };
        let d = match to_decision(c_decision) {
            Ok(d) => d,
            Err(code) => return code,
        };
        let mut s = String::with_capacity(1024);
        push_decision_record(&mut s, p, &PolicyStamp::of(p), None, &item, &d);
        // SAFETY: forwarded caller contract.
        unsafe { write_whole(&s, buf, len, written) }
    }
}

/// As `priceguard_decision_to_json`, for an item and its decision from
/// `priceguard_policy_evaluate_scaled` at `scale`: the item's money is
/// written exactly (`"19.4373"`), the decision's prices with the
/// currency's digits and `promo_spend` exactly. A decision whose price or
/// interval is not whole minor units at `scale`, or a scale beyond
/// `PRICEGUARD_MAX_SCALE`, gives `PRICEGUARD_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// As `priceguard_decision_to_json`.
#[no_mangle]
pub unsafe extern "C" fn priceguard_decision_to_json_scaled(
    policy: *const priceguard_policy,
    item: *const priceguard_item,
    scale: u8,
    decision: *const priceguard_decision,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: the export's contract makes the handle NULL or live.
        let Some(p) = (unsafe { policy_ref(policy) }) else {
            return priceguard_result::NullParameter;
        };
        let c_item = try_ref!(item);
        let c_decision = try_ref!(decision);
        check_out!(buf, written);
        let Some(item) = to_item_scaled(c_item, scale) else {
            return priceguard_result::InvalidArgument;
        };
        let d = match to_decision_scaled(c_decision, scale) {
            Ok(d) => d,
            Err(code) => return code,
        };
        let mut s = String::with_capacity(1024);
        push_decision_record(&mut s, p, &PolicyStamp::of(p), None, &item, &d);
        // SAFETY: forwarded caller contract.
        unsafe { write_whole(&s, buf, len, written) }
    }
}

/// Decision counters per outcome, reason, violated and binding rule,
/// relaxed class, approvals, batches and breaker trips. Lock-free: any
/// number of threads may record into one at once. Created by
/// `priceguard_metrics_new`, released by `priceguard_metrics_free`.
pub struct priceguard_metrics {
    _private: [u8; 0],
}

/// # Safety
///
/// `ptr` is NULL or a live metrics handle.
unsafe fn metrics_ref<'a>(ptr: *const priceguard_metrics) -> Option<&'a Metrics> {
    // SAFETY: a non-NULL handle is `Box::into_raw` of a `Metrics`, live until
    // `priceguard_metrics_free` (caller contract); shared access only.
    unsafe { ptr.cast::<Metrics>().as_ref() }
}

/// Creates counters, all zero.
///
/// # Safety
///
/// `metrics_out` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_metrics_new(
    metrics_out: *mut *mut priceguard_metrics,
) -> priceguard_result {
    ffi_boundary! {
        check_out!(metrics_out);
        let raw = Box::into_raw(Box::new(Metrics::new())).cast::<priceguard_metrics>();
        // SAFETY: checked non-NULL, valid for a write.
        unsafe { metrics_out.write(raw) };
        priceguard_result::Ok
    }
}

/// Releases counters. NULL does nothing. No thread may use them afterwards.
///
/// # Safety
///
/// `metrics` is NULL or a live handle, freed once.
#[no_mangle]
pub unsafe extern "C" fn priceguard_metrics_free(metrics: *mut priceguard_metrics) {
    ffi_boundary! {
        if !metrics.is_null() {
            // SAFETY: a live handle is `Box::into_raw` of a `Metrics`, freed once.
            drop(unsafe { Box::from_raw(metrics.cast::<Metrics>()) });
        }
    }
}

/// Counts one decision. A decision with codes that do not exist gives
/// `PRICEGUARD_RESULT_INVALID_ARGUMENT` and counts nothing.
///
/// # Safety
///
/// `metrics` NULL or live; `decision` NULL or valid for reads.
#[no_mangle]
pub unsafe extern "C" fn priceguard_metrics_record(
    metrics: *const priceguard_metrics,
    decision: *const priceguard_decision,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: the export's contract makes the handle NULL or live.
        let Some(m) = (unsafe { metrics_ref(metrics) }) else {
            return priceguard_result::NullParameter;
        };
        let c_decision = try_ref!(decision);
        match to_decision(c_decision) {
            Ok(d) => {
                m.record(&d);
                priceguard_result::Ok
            }
            Err(code) => code,
        }
    }
}

/// Counts one batch (and a breaker trip when `summary->breaker_tripped`);
/// record its decisions with `priceguard_metrics_record`.
///
/// # Safety
///
/// `metrics` NULL or live; `summary` NULL or valid for reads.
#[no_mangle]
pub unsafe extern "C" fn priceguard_metrics_record_batch(
    metrics: *const priceguard_metrics,
    summary: *const priceguard_batch_summary,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: the export's contract makes the handle NULL or live.
        let Some(m) = (unsafe { metrics_ref(metrics) }) else {
            return priceguard_result::NullParameter;
        };
        let s = try_ref!(summary);
        m.record_batch(s.breaker_tripped);
        priceguard_result::Ok
    }
}

/// Writes every counter in the Prometheus text exposition format
/// (`# HELP`/`# TYPE` lines, `priceguard_decisions_total{outcome="held"} 3`,
/// ...) into `buf`, as `priceguard_policy_name` does (8192 bytes suffice).
///
/// # Safety
///
/// `metrics` NULL or live; `buf` NULL or valid for `len` bytes; `out_n`
/// NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_metrics_render(
    metrics: *const priceguard_metrics,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: the export's contract makes the handle NULL or live.
        let Some(m) = (unsafe { metrics_ref(metrics) }) else {
            return priceguard_result::NullParameter;
        };
        // SAFETY: forwarded caller contract.
        unsafe { write_whole(&m.render(), buf, len, out_n) }
    }
}
