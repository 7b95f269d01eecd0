//! Policy handles: loading, identity, evaluation, batches, explanations.

use std::ffi::{c_char, CStr};
use std::sync::Arc;

use priceguard::policy::{PolicyErrorKind, MAX_POLICY_BYTES};
use priceguard::{Decision, Item, Policy, PolicyError};

use crate::buffer::{text, write_detail, write_whole};
use crate::priceguard_result;
use crate::types::{
    from_summary, priceguard_batch_summary, priceguard_decision, priceguard_item, scale_decision,
    to_decision, to_decision_scaled, to_item, to_item_scaled, write_decision,
};

/// A validated, compiled policy. Immutable: one handle may be used by any
/// number of threads at once. Created by `priceguard_policy_from_toml`,
/// `priceguard_policy_from_json` or `priceguard_policy_from_path`; release
/// it with `priceguard_policy_free` (a ledger keeps its own reference).
pub struct priceguard_policy {
    _private: [u8; 0],
}

/// Borrows the policy behind a handle.
///
/// # Safety
///
/// `ptr` is NULL or a live handle from this library.
pub(crate) unsafe fn policy_ref<'a>(ptr: *const priceguard_policy) -> Option<&'a Policy> {
    // SAFETY: a non-NULL handle is `Arc::into_raw` of an `Arc<Policy>` that
    // lives until `priceguard_policy_free` (caller contract).
    unsafe { ptr.cast::<Policy>().as_ref() }
}

/// A new strong reference to the policy behind a handle.
///
/// # Safety
///
/// `ptr` is a live, non-NULL handle from this library.
pub(crate) unsafe fn policy_arc(ptr: *const priceguard_policy) -> Arc<Policy> {
    let p = ptr.cast::<Policy>();
    // SAFETY: `p` came from `Arc::into_raw` and its count is at least one
    // while the handle is live; the increment gives the new `Arc` its own count.
    unsafe {
        Arc::increment_strong_count(p);
        Arc::from_raw(p)
    }
}

macro_rules! try_policy {
    ($ptr:expr) => {
        // SAFETY: the export's contract makes the handle NULL or live.
        match unsafe { policy_ref($ptr) } {
            Some(p) => p,
            None => return $crate::boundary::null_parameter(),
        }
    };
}

fn invalid(e: &PolicyError) -> (priceguard_result, String) {
    let code = match e.kind {
        PolicyErrorKind::NotFound | PolicyErrorKind::Io => priceguard_result::PolicyIo,
        PolicyErrorKind::NotAFile => priceguard_result::PolicyNotAFile,
        PolicyErrorKind::TooLarge => priceguard_result::PolicyTooLarge,
        PolicyErrorKind::Encoding => priceguard_result::InvalidUtf8,
        // Syntax, Invalid and any later kind of a policy that was read.
        _ => priceguard_result::PolicyInvalid,
    };
    (code, e.to_string())
}

/// Shared tail of the loaders: detail on failure, handle on success.
///
/// # Safety
///
/// `error_out` is NULL or valid for `error_len` bytes; `policy_out` is
/// valid for one write.
unsafe fn finish(
    result: Result<Policy, (priceguard_result, String)>,
    error_out: *mut c_char,
    error_len: usize,
    policy_out: *mut *const priceguard_policy,
) -> priceguard_result {
    match result {
        Ok(policy) => {
            let raw = Arc::into_raw(Arc::new(policy)).cast::<priceguard_policy>();
            // SAFETY: `policy_out` was checked non-NULL by the export and is valid for a write.
            unsafe { policy_out.write(raw) };
            priceguard_result::Ok
        }
        Err((code, detail)) => {
            // SAFETY: `error_out` is NULL or valid for `error_len` bytes.
            unsafe { write_detail(&detail, error_out, error_len) };
            code
        }
    }
}

fn utf8_detail(what: &str, bytes: &[u8]) -> (priceguard_result, String) {
    let at = std::str::from_utf8(bytes)
        .err()
        .map_or(0, |e| e.valid_up_to());
    (
        priceguard_result::InvalidUtf8,
        format!("{what} is not valid utf-8 (byte {at})"),
    )
}

/// Reads a policy from text, by format.
///
/// # Safety
///
/// `ptr` is NULL or valid for `len` bytes.
unsafe fn load(
    ptr: *const u8,
    len: usize,
    json: bool,
) -> Result<Policy, (priceguard_result, String)> {
    // SAFETY: forwarded caller contract.
    let t = match unsafe { text(ptr, len) } {
        Ok(t) => t,
        Err(priceguard_result::InvalidUtf8) => {
            // SAFETY: non-NULL (else `text` says so) and valid for `len` bytes.
            let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
            return Err(utf8_detail("policy text", bytes));
        }
        Err(code) => return Err((code, String::from("policy text is null"))),
    };
    let parsed = if json {
        Policy::from_json_str(t)
    } else {
        Policy::from_toml_str(t)
    };
    parsed.map_err(|e| invalid(&e))
}

/// Parses, validates and compiles a TOML policy from `len` bytes at
/// `toml` (no NUL needed; the text must be UTF-8).
///
/// On success writes a new handle to `*policy_out`. On failure returns
/// `PRICEGUARD_RESULT_POLICY_INVALID` (or `INVALID_UTF8`,
/// `NULL_PARAMETER`) and, when `error_out` is not NULL, writes a
/// NUL-terminated detail naming the field and why, e.g.
/// `margin.min_margin: must be below 1 (line 5, column 1)`, truncated to
/// `error_len` bytes (512 is plenty). `error_out` may be NULL.
///
/// # Safety
///
/// `toml` must be valid for reads of `len` bytes; `error_out` NULL or
/// valid for writes of `error_len` bytes; `policy_out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_from_toml(
    toml: *const u8,
    len: usize,
    error_out: *mut c_char,
    error_len: usize,
    policy_out: *mut *const priceguard_policy,
) -> priceguard_result {
    ffi_boundary! {
        check_out!(policy_out);
        // SAFETY: forwarded caller contract for every pointer.
        unsafe { finish(load(toml, len, false), error_out, error_len, policy_out) }
    }
}

/// As `priceguard_policy_from_toml`, for a JSON policy (same schema).
///
/// # Safety
///
/// As `priceguard_policy_from_toml`.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_from_json(
    json: *const u8,
    len: usize,
    error_out: *mut c_char,
    error_len: usize,
    policy_out: *mut *const priceguard_policy,
) -> priceguard_result {
    ffi_boundary! {
        check_out!(policy_out);
        // SAFETY: forwarded caller contract for every pointer.
        unsafe { finish(load(json, len, true), error_out, error_len, policy_out) }
    }
}

/// Reads a policy file: JSON when the name ends in `.json` (any case),
/// else TOML. `path` is a NUL-terminated file name (bytes, as the OS takes
/// them). The file must be a regular file of at most 4 MiB: a directory, a
/// device such as `/dev/zero` or a pipe gives
/// `PRICEGUARD_RESULT_POLICY_NOT_A_FILE`, a larger file
/// `PRICEGUARD_RESULT_POLICY_TOO_LARGE` (see
/// `priceguard_policy_from_path_limited`), a file that cannot be read
/// `PRICEGUARD_RESULT_POLICY_IO`, one that is not UTF-8
/// `PRICEGUARD_RESULT_INVALID_UTF8`; otherwise as
/// `priceguard_policy_from_toml`.
///
/// # Safety
///
/// `path` must be NULL or a NUL-terminated string; the rest as
/// `priceguard_policy_from_toml`.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_from_path(
    path: *const c_char,
    error_out: *mut c_char,
    error_len: usize,
    policy_out: *mut *const priceguard_policy,
) -> priceguard_result {
    // SAFETY: forwarded caller contract.
    unsafe {
        priceguard_policy_from_path_limited(
            path,
            MAX_POLICY_BYTES,
            error_out,
            error_len,
            policy_out,
        )
    }
}

/// As `priceguard_policy_from_path`, refusing a file larger than
/// `max_bytes` bytes (`PRICEGUARD_RESULT_POLICY_TOO_LARGE`) instead of
/// 4 MiB. The read itself stops at the cap, whatever the file claims.
///
/// # Safety
///
/// As `priceguard_policy_from_path`.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_from_path_limited(
    path: *const c_char,
    max_bytes: u64,
    error_out: *mut c_char,
    error_len: usize,
    policy_out: *mut *const priceguard_policy,
) -> priceguard_result {
    ffi_boundary! {
        check_out!(policy_out);
        if path.is_null() {
            // SAFETY: `error_out` is NULL or valid for `error_len` bytes.
            unsafe { write_detail("path is null", error_out, error_len) };
            return priceguard_result::NullParameter;
        }
        // SAFETY: non-NULL and NUL-terminated (caller contract).
        let cpath = unsafe { CStr::from_ptr(path) };
        let result = Policy::from_path_limited(path_of(cpath), max_bytes).map_err(|e| invalid(&e));
        // SAFETY: forwarded caller contract.
        unsafe { finish(result, error_out, error_len, policy_out) }
    }
}

#[cfg(unix)]
fn path_of(c: &CStr) -> std::path::PathBuf {
    use std::os::unix::ffi::OsStrExt;
    std::path::PathBuf::from(std::ffi::OsStr::from_bytes(c.to_bytes()))
}

#[cfg(not(unix))]
fn path_of(c: &CStr) -> std::path::PathBuf {
    std::path::PathBuf::from(c.to_string_lossy().into_owned())
}

/// Releases a policy handle. NULL does nothing. Ledgers created from the
/// policy stay valid (they hold their own reference). The handle must not
/// be used afterwards, by any thread.
///
/// # Safety
///
/// `policy` is NULL or a live handle, freed once.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_free(policy: *const priceguard_policy) {
    ffi_boundary! {
        if !policy.is_null() {
            // SAFETY: a live handle is `Arc::into_raw` of an `Arc<Policy>`;
            // freeing gives back the handle's one count.
            drop(unsafe { Arc::from_raw(policy.cast::<Policy>()) });
        }
    }
}

/// Writes the policy's `name` into `buf` (see "buffers" in the header
/// notes: whole string and NUL, or `PRICEGUARD_RESULT_BUFFER_TOO_SMALL`
/// with the needed length, NUL excluded, in `*out_n`).
///
/// # Safety
///
/// `policy` NULL or live; `buf` NULL or valid for `len` bytes; `out_n`
/// NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_name(
    policy: *const priceguard_policy,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> priceguard_result {
    ffi_boundary! {
        let p = try_policy!(policy);
        // SAFETY: forwarded caller contract.
        unsafe { write_whole(p.name(), buf, len, out_n) }
    }
}

/// Writes the policy's `version` (empty when the file gives none), as
/// `priceguard_policy_name`.
///
/// # Safety
///
/// As `priceguard_policy_name`.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_version(
    policy: *const priceguard_policy,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> priceguard_result {
    ffi_boundary! {
        let p = try_policy!(policy);
        // SAFETY: forwarded caller contract.
        unsafe { write_whole(p.version(), buf, len, out_n) }
    }
}

/// Writes the policy's ISO 4217 currency code (`"USD"`; 4 bytes suffice),
/// as `priceguard_policy_name`, and its number of minor-unit digits (USD 2,
/// JPY 0) into `*minor_units_out`.
///
/// # Safety
///
/// As `priceguard_policy_name`; `minor_units_out` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_currency(
    policy: *const priceguard_policy,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
    minor_units_out: *mut u32,
) -> priceguard_result {
    ffi_boundary! {
        let p = try_policy!(policy);
        check_out!(buf, out_n, minor_units_out);
        // SAFETY: forwarded caller contract.
        let r = unsafe { write_whole(p.currency().code(), buf, len, out_n) };
        if r == priceguard_result::Ok {
            // SAFETY: checked non-NULL, valid for a write.
            unsafe { minor_units_out.write(u32::from(p.currency().minor_units())) };
        }
        r
    }
}

/// Resolves a campaign name (`len` bytes, UTF-8, no NUL needed) to the id
/// to put in `priceguard_item.campaign`. A name the policy has no budget
/// for gives `PRICEGUARD_CAMPAIGN_UNKNOWN` (and `PRICEGUARD_RESULT_OK`):
/// items drawing on it are held, as SPEC requires.
///
/// # Safety
///
/// `policy` NULL or live; `name` valid for `len` bytes; `id_out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_campaign_id(
    policy: *const priceguard_policy,
    name: *const u8,
    len: usize,
    id_out: *mut u32,
) -> priceguard_result {
    ffi_boundary! {
        let p = try_policy!(policy);
        check_out!(id_out);
        // SAFETY: forwarded caller contract.
        let name = match unsafe { text(name, len) } {
            Ok(n) => n,
            Err(code) => return code,
        };
        // SAFETY: checked non-NULL, valid for a write.
        unsafe { id_out.write(p.campaign_id(name).0) };
        priceguard_result::Ok
    }
}

/// Writes the number of campaigns in `promotion.budgets`; ids run from 0
/// to that number minus one, in name order.
///
/// # Safety
///
/// `policy` NULL or live; `count_out` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_campaign_count(
    policy: *const priceguard_policy,
    count_out: *mut usize,
) -> priceguard_result {
    ffi_boundary! {
        let p = try_policy!(policy);
        check_out!(count_out);
        // SAFETY: checked non-NULL, valid for a write.
        unsafe { count_out.write(p.campaign_count()) };
        priceguard_result::Ok
    }
}

/// Evaluates one item, each campaign's full configured budget available
/// (use `priceguard_policy_evaluate_reserving` to draw on a shared ledger).
/// Bad item values are not an error of the call: the decision is
/// `rejected` / `invalid_input`. Allocates nothing.
///
/// # Safety
///
/// `policy` NULL or live; `item` NULL or valid for reads; `decision_out`
/// NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_evaluate(
    policy: *const priceguard_policy,
    item: *const priceguard_item,
    decision_out: *mut priceguard_decision,
) -> priceguard_result {
    ffi_boundary! {
        let p = try_policy!(policy);
        let c = try_ref!(item);
        check_out!(decision_out);
        let Some(item) = to_item(c) else {
            return priceguard_result::InvalidArgument;
        };
        let d = evaluate_one(p, &item);
        // SAFETY: checked non-NULL, valid for a write.
        unsafe { write_decision(&d, decision_out) };
        priceguard_result::Ok
    }
}

/// `Policy::evaluate`, kept out of line. Inlined into the export, its
/// general-engine fallback came along and made the export's frame large:
/// the item and the decision were spilled and copied around the fast path.
#[inline(never)]
fn evaluate_one(p: &Policy, item: &Item) -> Decision {
    p.evaluate(item)
}

/// Evaluates `len` items as one batch (docs/spec.md §7): decision `i` for item `i`
/// into `decisions_out[i]`, budgets consumed in input order, the circuit
/// breaker applied, counts into `*summary_out`. `items` and
/// `decisions_out` may be NULL when `len` is 0. Nothing is written unless
/// the call succeeds. Uses scratch memory proportional to `len`.
///
/// # Safety
///
/// `items` valid for reads of `len` items and `decisions_out` for writes
/// of `len` decisions (NULL only when `len == 0`), not overlapping;
/// `summary_out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_evaluate_batch(
    policy: *const priceguard_policy,
    items: *const priceguard_item,
    len: usize,
    decisions_out: *mut priceguard_decision,
    summary_out: *mut priceguard_batch_summary,
) -> priceguard_result {
    ffi_boundary! {
        let p = try_policy!(policy);
        check_out!(summary_out);
        if len > 0 && (items.is_null() || decisions_out.is_null()) {
            return priceguard_result::NullParameter;
        }
        let c_items: &[priceguard_item] = if len == 0 {
            &[]
        } else {
            // SAFETY: non-NULL and valid for `len` reads (caller contract).
            unsafe { std::slice::from_raw_parts(items, len) }
        };
        let mut engine_items = Vec::with_capacity(len);
        for c in c_items {
            match to_item(c) {
                Some(i) => engine_items.push(i),
                None => return priceguard_result::InvalidArgument,
            }
        }
        let mut out = vec![Decision::default(); len];
        let Ok(summary) = p.evaluate_batch(&engine_items, &mut out) else {
            return priceguard_result::InvalidArgument;
        };
        if len > 0 {
            // SAFETY: non-NULL and valid for `len` writes, disjoint from `items` (caller contract).
            let dst = unsafe { std::slice::from_raw_parts_mut(decisions_out, len) };
            for (slot, d) in dst.iter_mut().zip(&out) {
                // SAFETY: `slot` is a live, exclusive reference.
                unsafe { write_decision(d, slot) };
            }
        }
        // SAFETY: checked non-NULL, valid for a write.
        unsafe { summary_out.write(from_summary(&summary)) };
        priceguard_result::Ok
    }
}

/// As `priceguard_policy_evaluate`, for an item whose money (every money
/// field and the proposal) is in `10^-scale` minor units, `scale` from 0
/// (whole minor units: the same decision as `priceguard_policy_evaluate`)
/// to `PRICEGUARD_MAX_SCALE`: 19.4373 USD is `proposed_price = 194373`
/// with `scale = 2` (`priceguard_amount_parse` and
/// `priceguard_item_set_amount` build such items from text,
/// `priceguard_amount_from_double` from floats). The item is decided
/// exactly (docs/spec.md M1): the proposal and a pin snap to the tick half
/// to even, every other value is used as given.
///
/// The decision's money comes back in the same `10^-scale` minor units:
/// `price`, `lower` and `upper` lie on the tick (a hold at a finer current
/// price publishes it rounded half to even to the minor unit), so they are
/// whole minor units times `10^scale`; `promo_spend` is exact (a finer
/// reference price gives a finer spend; a budget is charged it rounded up
/// to the minor unit). Format them with `priceguard_amount_format`.
///
/// `PRICEGUARD_RESULT_INVALID_ARGUMENT` for a scale beyond
/// `PRICEGUARD_MAX_SCALE` (a mistake of the call, like an unknown presence
/// bit, not a value of the item); `MONEY_OUT_OF_RANGE` in the rare case a
/// decision's value does not fit 64 bits at `scale` (a price above about
/// 9.2 * 10^18 / 10^scale minor units). Nothing is written then.
///
/// # Safety
///
/// As `priceguard_policy_evaluate`.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_evaluate_scaled(
    policy: *const priceguard_policy,
    item: *const priceguard_item,
    scale: u8,
    decision_out: *mut priceguard_decision,
) -> priceguard_result {
    ffi_boundary! {
        let p = try_policy!(policy);
        let c = try_ref!(item);
        check_out!(decision_out);
        let Some(item) = to_item_scaled(c, scale) else {
            return priceguard_result::InvalidArgument;
        };
        let Some(d) = scale_decision(evaluate_one(p, &item), scale) else {
            return priceguard_result::MoneyOutOfRange;
        };
        // SAFETY: checked non-NULL, valid for a write.
        unsafe { write_decision(&d, decision_out) };
        priceguard_result::Ok
    }
}

/// As `priceguard_policy_evaluate_batch`, for items whose money is in
/// `10^-scales[i]` minor units, item by item (see
/// `priceguard_policy_evaluate_scaled`); decision `i` comes back in item
/// `i`'s units. A scale per item, not one for the batch: each item keeps
/// the least scale its values need, so a large price at scale 0 and a
/// finer cost at scale 4 share a batch without bringing every value to the
/// finest scale, where a large one would no longer fit 64 bits. Whole
/// minor units (scale 0) take the batch fast paths.
///
/// `PRICEGUARD_RESULT_INVALID_ARGUMENT` when any scale is beyond
/// `PRICEGUARD_MAX_SCALE`, `MONEY_OUT_OF_RANGE` when a decision's value
/// does not fit 64 bits at its item's scale; nothing is written unless the
/// call succeeds.
///
/// # Safety
///
/// As `priceguard_policy_evaluate_batch`; `scales` valid for reads of
/// `len` bytes (NULL only when `len == 0`).
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_evaluate_batch_scaled(
    policy: *const priceguard_policy,
    items: *const priceguard_item,
    scales: *const u8,
    len: usize,
    decisions_out: *mut priceguard_decision,
    summary_out: *mut priceguard_batch_summary,
) -> priceguard_result {
    ffi_boundary! {
        let p = try_policy!(policy);
        check_out!(summary_out);
        if len > 0 && (items.is_null() || scales.is_null() || decisions_out.is_null()) {
            return priceguard_result::NullParameter;
        }
        let (c_items, c_scales): (&[priceguard_item], &[u8]) = if len == 0 {
            (&[], &[])
        } else {
            // SAFETY: non-NULL and valid for `len` reads each (caller contract).
            unsafe {
                (
                    std::slice::from_raw_parts(items, len),
                    std::slice::from_raw_parts(scales, len),
                )
            }
        };
        let mut engine_items = Vec::with_capacity(len);
        for (c, &scale) in c_items.iter().zip(c_scales) {
            match to_item_scaled(c, scale) {
                Some(i) => engine_items.push(i),
                None => return priceguard_result::InvalidArgument,
            }
        }
        let mut out = vec![Decision::default(); len];
        let Ok(summary) = p.evaluate_batch(&engine_items, &mut out) else {
            return priceguard_result::InvalidArgument;
        };
        for (d, &scale) in out.iter_mut().zip(c_scales) {
            match scale_decision(*d, scale) {
                Some(s) => *d = s,
                None => return priceguard_result::MoneyOutOfRange,
            }
        }
        if len > 0 {
            // SAFETY: non-NULL and valid for `len` writes, disjoint from `items` (caller contract).
            let dst = unsafe { std::slice::from_raw_parts_mut(decisions_out, len) };
            for (slot, d) in dst.iter_mut().zip(&out) {
                // SAFETY: `slot` is a live, exclusive reference.
                unsafe { write_decision(d, slot) };
            }
        }
        // SAFETY: checked non-NULL, valid for a write.
        unsafe { summary_out.write(from_summary(&summary)) };
        priceguard_result::Ok
    }
}

/// Writes one sentence explaining `decision` for `item` under `policy`,
/// e.g. `proposed 12.49 raised to 14.38 by margin (15 % over cost 12.22)`,
/// into `buf` as `priceguard_policy_name` does (whole or
/// `PRICEGUARD_RESULT_BUFFER_TOO_SMALL` with the needed length; 1024 bytes
/// suffice for any decision in practice). A decision with codes that do
/// not exist gives `PRICEGUARD_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `policy` NULL or live; `item` and `decision` NULL or valid for reads;
/// `buf` NULL or valid for `len` bytes; `out_n` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_decision_explain(
    policy: *const priceguard_policy,
    item: *const priceguard_item,
    decision: *const priceguard_decision,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> priceguard_result {
    ffi_boundary! {
        let p = try_policy!(policy);
        let c_item = try_ref!(item);
        let c_decision = try_ref!(decision);
        check_out!(buf, out_n);
        let Some(item) = to_item(c_item) else {
            return priceguard_result::InvalidArgument;
        };
        let d = match to_decision(c_decision) {
            Ok(d) => d,
            Err(code) => return code,
        };
        let s = d.explain(p, &item);
        // SAFETY: forwarded caller contract.
        unsafe { write_whole(&s, buf, len, out_n) }
    }
}

/// As `priceguard_decision_explain`, for an item and its decision from
/// `priceguard_policy_evaluate_scaled` at `scale`: the proposal is named
/// as given and its snap, e.g. `proposed 19.4373 snapped to 19.44 by tick
/// (tick 0.01)`. A decision whose price or interval is not whole minor
/// units at `scale` (none from a scaled call is), or a scale beyond
/// `PRICEGUARD_MAX_SCALE`, gives `PRICEGUARD_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// As `priceguard_decision_explain`.
#[no_mangle]
pub unsafe extern "C" fn priceguard_decision_explain_scaled(
    policy: *const priceguard_policy,
    item: *const priceguard_item,
    scale: u8,
    decision: *const priceguard_decision,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> priceguard_result {
    ffi_boundary! {
        let p = try_policy!(policy);
        let c_item = try_ref!(item);
        let c_decision = try_ref!(decision);
        check_out!(buf, out_n);
        let Some(item) = to_item_scaled(c_item, scale) else {
            return priceguard_result::InvalidArgument;
        };
        let d = match to_decision_scaled(c_decision, scale) {
            Ok(d) => d,
            Err(code) => return code,
        };
        let s = d.explain(p, &item);
        // SAFETY: forwarded caller contract.
        unsafe { write_whole(&s, buf, len, out_n) }
    }
}
