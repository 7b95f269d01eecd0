//! A sequence of C API calls with arbitrary buffers, lengths, codes and
//! NULLs: never a crash, never a write past a buffer, only documented
//! result codes, and decisions equal to the Rust engine's.
#![no_main]

use std::ffi::c_char;
use std::ptr;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use priceguard_ffi::*;

const POLICIES: [&str; 3] = [
    "name = \"f\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"0.99\"\nmax_price = \"5000\"\n[margin]\nmin_margin = \"0.15\"\n[change]\nmax_increase = \"0.1\"\ncooldown_secs = 60\n[promotion]\nmax_discount = \"0.5\"\nbudgets = { a = \"100\", b = \"0\" }\n[endings]\nallowed = [\"0.99\"]\n",
    "name = \"j\"\ncurrency = \"JPY\"\n[bounds]\nmin_price = \"100\"\nmax_price = \"100000\"\n",
    "name = \"c\"\ncurrency = \"CHF\"\ntick = \"0.05\"\nallow_unbounded = true\n[breaker]\nmax_violation_ratio = \"0.1\"\nmin_batch = 2\n",
];

#[derive(Arbitrary, Debug)]
enum Op {
    LoadToml(u8, Vec<u8>, u8),
    LoadJson(Vec<u8>, u8),
    Evaluate(RawItem, bool),
    Batch(Vec<RawItem>, bool),
    MoneyParse(Vec<u8>, bool),
    MoneyFormat(i64, u8),
    Explain(RawItem, u8),
    Names(u32),
    Message(u32, u8),
    Identity(u8),
    Campaign(Vec<u8>),
    Ledger(u32, i64, u8),
    EvaluateScaled(RawItem, u8, u8),
    BatchScaled(Vec<(RawItem, u8)>),
    AmountParse(Vec<u8>, u32, bool),
    AmountDouble(f64, u32),
    AmountFormat(i64, u8, u8),
    ItemSetAmount(RawItem, u8, u32, i64, u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct RawItem {
    present: u32,
    campaign: u32,
    segment: u32,
    values: [i64; 14],
    proposed: i64,
    history: [i64; 5],
}

fn to_c(r: &RawItem) -> priceguard_item {
    let v = r.values;
    priceguard_item {
        present: r.present,
        campaign: r.campaign % 4,
        segment: r.segment,
        proposed_price: r.proposed,
        current_price: v[0],
        unit_cost: v[1],
        min_price: v[2],
        max_price: v[3],
        map_price: v[4],
        reference_price: v[5],
        expected_units: v[6],
        now: v[7],
        last_change_at: v[8],
        changes_in_window: v[9],
        window_anchor_price: v[10],
        baseline_price: v[11],
        competitor_price: v[12],
        pinned_price: v[13],
        prior_low_price: r.history[0],
        promo_started_at: r.history[1],
        last_promo_ended_at: r.history[2],
        reversals_in_window: r.history[3],
        competitor_quotes: r.history[4],
    }
}

/// A buffer with a guard zone after `len` bytes that must stay untouched.
struct Guarded {
    bytes: Vec<u8>,
    len: usize,
}

impl Guarded {
    fn new(len: u8) -> Guarded {
        let len = usize::from(len);
        Guarded {
            bytes: vec![0xAB; len + 16],
            len,
        }
    }
    fn ptr(&mut self) -> *mut c_char {
        self.bytes.as_mut_ptr().cast()
    }
    fn check(&self) {
        assert!(self.bytes[self.len..].iter().all(|b| *b == 0xAB), "write past the buffer");
    }
}

/// Whether the loaded policy is one whose budgets this target does not know
/// (a fuzzed TOML text).
unsafe fn policy_budget_unknown(policy: *const priceguard_policy) -> bool {
    let mut buf = [0 as c_char; 8];
    let mut n = 0usize;
    // SAFETY: buf has 8 bytes; policy is NULL or a live handle.
    let r = unsafe { priceguard_policy_name(policy, buf.as_mut_ptr(), buf.len(), &mut n) };
    !(r == priceguard_result::Ok && n == 1 && buf[0] == b'f' as c_char)
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let mut policy: *const priceguard_policy = ptr::null();
    let mut ledger: *mut priceguard_ledger = ptr::null_mut();
    let mut reservations: Vec<priceguard_reservation> = Vec::new();
    for _ in 0..32 {
        let Ok(op) = Op::arbitrary(&mut u) else { break };
        // SAFETY (all calls below): every pointer passed is NULL, a live handle
        // owned here, or a buffer of at least the length given.
        unsafe {
            match op {
                Op::LoadToml(which, extra, cut) => {
                    let mut text = POLICIES[usize::from(which) % POLICIES.len()].as_bytes().to_vec();
                    if cut % 4 == 0 {
                        text = extra;
                    } else if cut % 4 == 1 {
                        text.extend_from_slice(&extra);
                    }
                    let mut err = Guarded::new(cut);
                    let mut out: *const priceguard_policy = ptr::null();
                    let r = priceguard_policy_from_toml(text.as_ptr(), text.len(), err.ptr(), err.len, &mut out);
                    err.check();
                    if r == priceguard_result::Ok {
                        assert!(!out.is_null());
                        priceguard_ledger_free(ledger);
                        ledger = ptr::null_mut();
                        reservations.clear();
                        priceguard_policy_free(policy);
                        policy = out;
                    } else {
                        assert!(out.is_null(), "output written on failure");
                    }
                }
                Op::LoadJson(bytes, cut) => {
                    let mut err = Guarded::new(cut);
                    let mut out: *const priceguard_policy = ptr::null();
                    let r = priceguard_policy_from_json(bytes.as_ptr(), bytes.len(), err.ptr(), err.len, &mut out);
                    err.check();
                    if r == priceguard_result::Ok {
                        priceguard_policy_free(out);
                    }
                    let _ = priceguard_policy_from_json(ptr::null(), 3, ptr::null_mut(), 0, &mut out);
                }
                Op::Evaluate(raw, null_out) => {
                    let item = to_c(&raw);
                    let mut d = priceguard_decision::default();
                    let out = if null_out { ptr::null_mut() } else { &mut d as *mut _ };
                    let r = priceguard_policy_evaluate(policy, &item, out);
                    if policy.is_null() || null_out {
                        assert_ne!(r, priceguard_result::Ok);
                    }
                    if r == priceguard_result::Ok {
                        let mut again = priceguard_decision::default();
                        assert_eq!(priceguard_policy_evaluate(policy, &item, &mut again), priceguard_result::Ok);
                        assert_eq!(d, again, "evaluation is deterministic");
                        if let Some(m) = ptr::NonNull::new(ledger) {
                            let mut res = priceguard_reservation::default();
                            let r = priceguard_policy_evaluate_reserving(policy, m.as_ptr(), &item, &mut d, &mut res);
                            if r == priceguard_result::Ok && res.amount > 0 {
                                reservations.push(res);
                            }
                        }
                    }
                }
                Op::Batch(raws, null_summary) => {
                    let items: Vec<priceguard_item> = raws.iter().take(64).map(to_c).collect();
                    let mut out = vec![priceguard_decision::default(); items.len()];
                    let mut summary = priceguard_batch_summary::default();
                    let s = if null_summary { ptr::null_mut() } else { &mut summary as *mut _ };
                    let r = priceguard_policy_evaluate_batch(policy, items.as_ptr(), items.len(), out.as_mut_ptr(), s);
                    if r == priceguard_result::Ok && !null_summary {
                        assert_eq!(summary.items, items.len() as u64);
                    }
                }
                Op::MoneyParse(text, null_text) => {
                    let mut minor = 0i64;
                    let p = if null_text { ptr::null() } else { text.as_ptr() };
                    let _ = priceguard_money_parse(policy, p, text.len(), &mut minor);
                }
                Op::MoneyFormat(minor, len) => {
                    let mut buf = Guarded::new(len);
                    let mut n = 0usize;
                    let r = priceguard_money_format(policy, minor, buf.ptr(), buf.len, &mut n);
                    buf.check();
                    if r == priceguard_result::Ok {
                        assert!(n < buf.len);
                        assert_eq!(buf.bytes[n], 0, "NUL-terminated");
                    }
                }
                Op::Explain(raw, len) => {
                    let item = to_c(&raw);
                    let mut d = priceguard_decision::default();
                    if priceguard_policy_evaluate(policy, &item, &mut d) == priceguard_result::Ok {
                        let mut buf = Guarded::new(len);
                        let mut n = 0usize;
                        let _ = priceguard_decision_explain(policy, &item, &d, buf.ptr(), buf.len, &mut n);
                        buf.check();
                    }
                }
                Op::Names(code) => {
                    for p in [
                        priceguard_rule_name(code),
                        priceguard_reason_name(code),
                        priceguard_outcome_name(code),
                        priceguard_class_name(code),
                        priceguard_field_name(code),
                    ] {
                        if !p.is_null() {
                            let _ = std::ffi::CStr::from_ptr(p).to_bytes().len();
                        }
                    }
                }
                Op::Message(code, len) => {
                    let mut buf = Guarded::new(len);
                    let mut n = 0usize;
                    let _ = priceguard_result_message(code, buf.ptr(), buf.len, &mut n);
                    buf.check();
                }
                Op::Identity(len) => {
                    let mut n = 0usize;
                    let mut units = 0u32;
                    let mut buf = Guarded::new(len);
                    let _ = priceguard_policy_name(policy, buf.ptr(), buf.len, &mut n);
                    buf.check();
                    let _ = priceguard_policy_version(policy, buf.ptr(), buf.len, &mut n);
                    buf.check();
                    let _ = priceguard_policy_currency(policy, buf.ptr(), buf.len, &mut n, &mut units);
                    buf.check();
                }
                Op::Campaign(name) => {
                    let mut id = 0u32;
                    let _ = priceguard_policy_campaign_id(policy, name.as_ptr(), name.len(), &mut id);
                    let mut count = 0usize;
                    let _ = priceguard_policy_campaign_count(policy, &mut count);
                }
                Op::EvaluateScaled(raw, scale, len) => {
                    let item = to_c(&raw);
                    let scale = scale % 9; // mostly valid, sometimes beyond PRICEGUARD_MAX_SCALE
                    let mut d = priceguard_decision::default();
                    let r = priceguard_policy_evaluate_scaled(policy, &item, scale, &mut d);
                    if scale > PRICEGUARD_MAX_SCALE {
                        assert_ne!(r, priceguard_result::Ok, "a scale beyond the maximum was taken");
                    }
                    if r == priceguard_result::Ok {
                        let mut again = priceguard_decision::default();
                        assert_eq!(
                            priceguard_policy_evaluate_scaled(policy, &item, scale, &mut again),
                            priceguard_result::Ok
                        );
                        assert_eq!(d, again, "evaluation is deterministic");
                        if scale == 0 {
                            let mut plain = priceguard_decision::default();
                            assert_eq!(priceguard_policy_evaluate(policy, &item, &mut plain), priceguard_result::Ok);
                            assert_eq!(d, plain, "scale 0 is the minor-unit call");
                        }
                        let mut buf = Guarded::new(len);
                        let mut n = 0usize;
                        let e = priceguard_decision_explain_scaled(policy, &item, scale, &d, buf.ptr(), buf.len, &mut n);
                        buf.check();
                        assert_ne!(e, priceguard_result::InvalidArgument, "a scaled decision explains itself");
                        let _ = priceguard_decision_to_json_scaled(policy, &item, scale, &d, buf.ptr(), buf.len, &mut n);
                        buf.check();
                        if let Some(m) = ptr::NonNull::new(ledger) {
                            let mut res = priceguard_reservation::default();
                            let r = priceguard_policy_evaluate_reserving_scaled(
                                policy,
                                m.as_ptr(),
                                &item,
                                scale,
                                &mut d,
                                &mut res,
                            );
                            if r == priceguard_result::Ok && res.amount > 0 {
                                reservations.push(res);
                            }
                        }
                    }
                }
                Op::BatchScaled(raws) => {
                    let items: Vec<priceguard_item> = raws.iter().take(64).map(|(r, _)| to_c(r)).collect();
                    let scales: Vec<u8> = raws.iter().take(64).map(|(_, s)| s % 8).collect();
                    let mut out = vec![priceguard_decision::default(); items.len()];
                    let mut summary = priceguard_batch_summary::default();
                    let r = priceguard_policy_evaluate_batch_scaled(
                        policy,
                        items.as_ptr(),
                        scales.as_ptr(),
                        items.len(),
                        out.as_mut_ptr(),
                        &mut summary,
                    );
                    if r == priceguard_result::Ok {
                        assert_eq!(summary.items, items.len() as u64);
                    }
                }
                Op::AmountParse(text, field, null_text) => {
                    let (mut units, mut scale) = (0i64, 0u8);
                    let p = if null_text { ptr::null() } else { text.as_ptr() };
                    let r = priceguard_amount_parse(policy, p, text.len(), field % 20, &mut units, &mut scale);
                    if r == priceguard_result::Ok {
                        assert!(scale <= PRICEGUARD_MAX_SCALE);
                        // What is printed reads back as the same amount.
                        let mut buf = [0 as c_char; 32];
                        let mut n = 0usize;
                        let f = priceguard_amount_format(policy, units, scale, buf.as_mut_ptr(), buf.len(), &mut n);
                        assert_eq!(f, priceguard_result::Ok);
                        let (mut u2, mut s2) = (0i64, 0u8);
                        let back = priceguard_amount_parse(policy, buf.as_ptr().cast(), n, field % 20, &mut u2, &mut s2);
                        assert_eq!((back, u2, s2), (priceguard_result::Ok, units, scale), "format, parse");
                    }
                }
                Op::AmountDouble(value, field) => {
                    let (mut units, mut scale) = (0i64, 0u8);
                    let r = priceguard_amount_from_double(policy, value, field % 20, &mut units, &mut scale);
                    if r == priceguard_result::Ok {
                        assert!(value.is_finite() && scale <= PRICEGUARD_MAX_SCALE);
                    }
                }
                Op::AmountFormat(units, scale, len) => {
                    let mut buf = Guarded::new(len);
                    let mut n = 0usize;
                    let r = priceguard_amount_format(policy, units, scale % 8, buf.ptr(), buf.len, &mut n);
                    buf.check();
                    if r == priceguard_result::Ok {
                        assert!(n < buf.len && n < 32);
                        assert_eq!(buf.bytes[n], 0, "NUL-terminated");
                    }
                }
                Op::ItemSetAmount(raw, item_scale, field, units, scale) => {
                    let mut item = to_c(&raw);
                    let before = item;
                    let mut s = item_scale % 8;
                    let s_before = s;
                    let mut bad_field = u32::MAX;
                    let r = priceguard_item_set_amount(&mut item, &mut s, field % 20, units, scale % 8, &mut bad_field);
                    if r == priceguard_result::Ok {
                        assert!(s >= s_before && s <= PRICEGUARD_MAX_SCALE);
                    } else {
                        if r == priceguard_result::MoneyOutOfRange {
                            assert!(bad_field < 17, "names a money field: {bad_field}");
                        }
                        assert_eq!((item, s), (before, s_before), "changed on an error");
                    }
                }
                Op::Ledger(campaign, amount, action) => {
                    if ledger.is_null() {
                        let mut out: *mut priceguard_ledger = ptr::null_mut();
                        if priceguard_ledger_new(policy, &mut out) == priceguard_result::Ok {
                            ledger = out;
                        }
                        continue;
                    }
                    let mut before = 0i64;
                    let known = priceguard_ledger_remaining(ledger, campaign % 4, &mut before) == priceguard_result::Ok;
                    match action % 4 {
                        0 => {
                            let mut res = priceguard_reservation::default();
                            let r = priceguard_ledger_reserve(ledger, campaign % 4, amount, &mut res);
                            if r == priceguard_result::Ok {
                                assert!(known && amount >= 0 && amount <= before, "reserved beyond what was left");
                                reservations.push(res);
                            }
                        }
                        1 => {
                            if let Some(res) = reservations.pop() {
                                let _ = priceguard_ledger_commit(ledger, &res);
                            }
                        }
                        2 => {
                            if let Some(res) = reservations.pop() {
                                let first = priceguard_ledger_release(ledger, &res);
                                // A reservation settles once: a second release
                                // is refused, whatever else is outstanding.
                                let second = priceguard_ledger_release(ledger, &res);
                                if first == priceguard_result::Ok && res.token != 0 {
                                    assert_ne!(second, priceguard_result::Ok, "a reservation was released twice");
                                }
                            }
                        }
                        _ => {
                            // A token the ledger never issued (from the input).
                            let forged = priceguard_reservation { campaign: campaign % 4, amount, token: amount as u64 };
                            let _ = priceguard_ledger_release(ledger, &forged);
                        }
                    }
                    let mut after = 0i64;
                    if priceguard_ledger_remaining(ledger, campaign % 4, &mut after) == priceguard_result::Ok {
                        // Budgets of POLICIES[0]: a = 100.00, b = 0.
                        let budget = if campaign % 4 == 0 { 10_000 } else { 0 };
                        assert!(after >= 0, "a campaign went below zero");
                        assert!(after <= budget || policy_budget_unknown(policy), "remaining {after} above the budget");
                    }
                }
            }
        }
    }
    // SAFETY: handles owned here, freed once; NULL is a no-op.
    unsafe {
        priceguard_ledger_free(ledger);
        priceguard_policy_free(policy);
        priceguard_policy_free(ptr::null());
    }
});
