//! Money in a policy's currency: text and whole minor units, and amounts
//! finer than the currency (`units` of `10^-scale` minor units).

use std::ffi::c_char;

use priceguard::money::Amount;
use priceguard::{Field, MoneyError};

use crate::buffer::{text, write_whole};
use crate::policy::{policy_ref, priceguard_policy};
use crate::priceguard_result;
use crate::types::{priceguard_item, set_c_money, to_item, PRICEGUARD_MAX_SCALE};

/// The result code of a money error.
fn money_code(e: MoneyError) -> priceguard_result {
    match e {
        MoneyError::Syntax => priceguard_result::MoneySyntax,
        MoneyError::TooPrecise(_) => priceguard_result::MoneyTooPrecise,
        MoneyError::OutOfRange => priceguard_result::MoneyOutOfRange,
        MoneyError::NotFinite => priceguard_result::MoneyNotFinite,
        // A kind this build does not know: still not a number it can use.
        _ => priceguard_result::MoneySyntax,
    }
}

/// The money field with this `priceguard_field` code (`proposed_price`
/// and `prior_low_price` included: `priceguard_item` carries every one).
fn money_field(code: u32) -> Option<Field> {
    Field::ALL
        .get(usize::try_from(code).ok()?)
        .copied()
        .filter(|f| f.is_money())
}

/// Writes an amount to the two outputs.
///
/// # Safety
///
/// Both pointers are non-NULL and valid for a write.
unsafe fn write_amount(a: Amount, units_out: *mut i64, scale_out: *mut u8) {
    // SAFETY: caller contract.
    unsafe {
        units_out.write(a.units);
        scale_out.write(a.scale);
    }
}

/// Parses a plain decimal (`"14.30"`, `"-0.5"`; `len` bytes, no NUL
/// needed, surrounding spaces ignored) in the policy currency into whole
/// minor units: the entry point for `priceguard_policy_evaluate` and its
/// minor-unit items. More decimal places than the currency has is
/// `PRICEGUARD_RESULT_MONEY_TOO_PRECISE` (never rounded), no exponents or
/// separators (`MONEY_SYNTAX`), at most 10^15 minor units in magnitude
/// (`MONEY_OUT_OF_RANGE`). Money with finer digits (`"19.4373"`, `"1e-05"`)
/// is read by `priceguard_amount_parse` and decided by
/// `priceguard_policy_evaluate_scaled`.
///
/// # Safety
///
/// `policy` NULL or live; `text_ptr` valid for `len` bytes; `minor_out`
/// NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_money_parse(
    policy: *const priceguard_policy,
    text_ptr: *const u8,
    len: usize,
    minor_out: *mut i64,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: the export's contract makes the handle NULL or live.
        let Some(p) = (unsafe { policy_ref(policy) }) else {
            return priceguard_result::NullParameter;
        };
        check_out!(minor_out);
        // SAFETY: forwarded caller contract.
        let t = match unsafe { text(text_ptr, len) } {
            Ok(t) => t,
            Err(code) => return code,
        };
        match p.currency().parse_minor(t) {
            Ok(v) => {
                // SAFETY: checked non-NULL, valid for a write.
                unsafe { minor_out.write(v) };
                priceguard_result::Ok
            }
            // Text is never a NaN: keep the code this call always gave.
            Err(MoneyError::NotFinite) => priceguard_result::MoneySyntax,
            Err(e) => money_code(e),
        }
    }
}

/// Formats `minor` units of the policy currency with exactly its digits
/// (`1430` is `"14.30"` in USD, `"1430"` in JPY) into `buf`, whole or
/// `PRICEGUARD_RESULT_BUFFER_TOO_SMALL` with the needed length in
/// `*out_n` (24 bytes always suffice).
///
/// # Safety
///
/// `policy` NULL or live; `buf` NULL or valid for `len` bytes; `out_n`
/// NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_money_format(
    policy: *const priceguard_policy,
    minor: i64,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: the export's contract makes the handle NULL or live.
        let Some(p) = (unsafe { policy_ref(policy) }) else {
            return priceguard_result::NullParameter;
        };
        let s = p.currency().format(minor).to_string();
        // SAFETY: forwarded caller contract.
        unsafe { write_whole(&s, buf, len, out_n) }
    }
}

/// Reads money text of any precision (`"19.4373"`, `"14.30"`, `"1e-05"`,
/// as pricing models and pandas write it; `len` bytes, no NUL needed,
/// surrounding spaces ignored) in the policy currency as an amount:
/// `*units_out` units of `10^-*scale_out` minor units, at the least scale
/// that holds it (`"19.4373"` in USD is 194373 at scale 2, `"14.30"` is
/// 1430 at scale 0). `field` (a `priceguard_field`, a money one) says how
/// digits past `PRICEGUARD_MAX_SCALE` beyond the minor unit are kept,
/// exactly as every interface reads that field (docs/spec.md M1):
/// `proposed_price` and `pinned_price` keep what their snap to the tick
/// needs, every other field rounds half to even. Put the amount into an
/// item with `priceguard_item_set_amount`.
///
/// `PRICEGUARD_RESULT_MONEY_SYNTAX` for text that is not a decimal number
/// (separators, `"N/A"`), `MONEY_OUT_OF_RANGE` beyond 10^15 minor units
/// in magnitude, `INVALID_ARGUMENT` for a field that is not money.
///
/// # Safety
///
/// `policy` NULL or live; `text_ptr` valid for `len` bytes; `units_out`
/// and `scale_out` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_amount_parse(
    policy: *const priceguard_policy,
    text_ptr: *const u8,
    len: usize,
    field: u32,
    units_out: *mut i64,
    scale_out: *mut u8,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: the export's contract makes the handle NULL or live.
        let Some(p) = (unsafe { policy_ref(policy) }) else {
            return priceguard_result::NullParameter;
        };
        check_out!(units_out, scale_out);
        // SAFETY: forwarded caller contract.
        let t = match unsafe { text(text_ptr, len) } {
            Ok(t) => t,
            Err(code) => return code,
        };
        let Some(f) = money_field(field) else {
            return priceguard_result::InvalidArgument;
        };
        match p.currency().parse_amount(t, f.digits()) {
            Ok(a) => {
                // SAFETY: both checked non-NULL, valid for a write.
                unsafe { write_amount(a, units_out, scale_out) };
                priceguard_result::Ok
            }
            Err(e) => money_code(e),
        }
    }
}

/// Reads a binary float, in major units of the policy currency, as an
/// amount (see `priceguard_amount_parse`): the float's shortest round-trip
/// decimal is read as text is, so `0.1` is 0.1 and `13.580160000000001`
/// (what pandas writes for 13.58016) is that number, never the binary
/// float's long expansion. The same number gives the same decision as
/// text, a float or a whole-minor-unit integer. A NaN or an infinity is
/// `PRICEGUARD_RESULT_MONEY_NOT_FINITE` (test for a NaN used as a missing
/// marker first); `MONEY_OUT_OF_RANGE` and `INVALID_ARGUMENT` as there.
///
/// # Safety
///
/// `policy` NULL or live; `units_out` and `scale_out` NULL or valid for a
/// write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_amount_from_double(
    policy: *const priceguard_policy,
    value: f64,
    field: u32,
    units_out: *mut i64,
    scale_out: *mut u8,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: the export's contract makes the handle NULL or live.
        let Some(p) = (unsafe { policy_ref(policy) }) else {
            return priceguard_result::NullParameter;
        };
        check_out!(units_out, scale_out);
        let Some(f) = money_field(field) else {
            return priceguard_result::InvalidArgument;
        };
        match p.currency().float_to_amount(value, f.digits()) {
            Ok(a) => {
                // SAFETY: both checked non-NULL, valid for a write.
                unsafe { write_amount(a, units_out, scale_out) };
                priceguard_result::Ok
            }
            Err(e) => money_code(e),
        }
    }
}

/// Formats `units` of `10^-scale` minor units of the policy currency
/// exactly: the currency's digits and as many more as the amount has
/// (`194373` at scale 2 is `"19.4373"`, `144000` at scale 2 is `"14.40"`
/// in USD) into `buf`, as `priceguard_money_format` does (32 bytes always
/// suffice). A scale beyond `PRICEGUARD_MAX_SCALE` is
/// `PRICEGUARD_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `policy` NULL or live; `buf` NULL or valid for `len` bytes; `out_n`
/// NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_amount_format(
    policy: *const priceguard_policy,
    units: i64,
    scale: u8,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: the export's contract makes the handle NULL or live.
        let Some(p) = (unsafe { policy_ref(policy) }) else {
            return priceguard_result::NullParameter;
        };
        check_out!(buf, out_n);
        if scale > PRICEGUARD_MAX_SCALE {
            return priceguard_result::InvalidArgument;
        }
        let s = p.currency().format_amount(Amount { units, scale }).to_string();
        // SAFETY: forwarded caller contract.
        unsafe { write_whole(&s, buf, len, out_n) }
    }
}

/// Sets money field `field` (a `priceguard_field`: `proposed_price` or an
/// optional money field, whose presence bit is set) of an item whose money
/// is in `10^-*item_scale` minor units to the amount `units` at `scale`,
/// as `priceguard_amount_parse` gives it. When the amount is finer than
/// the item, every money value the item holds (the proposal and each
/// present money field) is rescaled exactly and `*item_scale` raised to
/// the amount's scale; other fields are not touched. Start from a
/// zero-initialised item with `*item_scale` 0, set each value, then pass
/// `*item_scale` to `priceguard_policy_evaluate_scaled`.
///
/// `PRICEGUARD_RESULT_MONEY_OUT_OF_RANGE` when a value would not fit 64
/// bits at the new scale: `*bad_field_out` (when not NULL) then names the
/// value that does not fit, which may be one set before (a finer value
/// raises the scale of every other), `INVALID_ARGUMENT` for a field that is not
/// money, a scale beyond `PRICEGUARD_MAX_SCALE` or an item with an unknown
/// presence bit; on any error the item and `*item_scale` are unchanged.
///
/// # Safety
///
/// `item` NULL or valid for reads and writes; `item_scale` NULL or valid
/// for a read and a write, and not inside `*item`; `bad_field_out` NULL
/// or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_item_set_amount(
    item: *mut priceguard_item,
    item_scale: *mut u8,
    field: u32,
    units: i64,
    scale: u8,
    bad_field_out: *mut u32,
) -> priceguard_result {
    ffi_boundary! {
        check_out!(item, item_scale);
        // SAFETY: non-NULL and valid for reads (caller contract). Copies,
        // so no reference into caller memory is held while it is written.
        let (mut c, s) = unsafe { (item.read(), item_scale.read()) };
        let Some(f) = money_field(field) else {
            return priceguard_result::InvalidArgument;
        };
        if scale > PRICEGUARD_MAX_SCALE || s > PRICEGUARD_MAX_SCALE {
            return priceguard_result::InvalidArgument;
        }
        let Some(engine) = to_item(&c) else {
            return priceguard_result::InvalidArgument;
        };
        let mut engine = engine.with_scale(s);
        if let Err(bad) = engine.set_amount(f, Amount { units, scale }) {
            if !bad_field_out.is_null() {
                // SAFETY: non-NULL and valid for a write (caller contract).
                unsafe { bad_field_out.write(bad as u32) };
            }
            return priceguard_result::MoneyOutOfRange;
        }
        for g in Field::ALL {
            if g.is_money() {
                if let Some(v) = engine.get(g) {
                    set_c_money(&mut c, g, v);
                }
            }
        }
        // SAFETY: non-NULL and valid for writes (caller contract).
        unsafe {
            item.write(c);
            item_scale.write(engine.scale());
        }
        priceguard_result::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{
        priceguard_decision_explain_scaled, priceguard_policy_evaluate,
        priceguard_policy_evaluate_batch_scaled, priceguard_policy_evaluate_scaled,
        priceguard_policy_free, priceguard_policy_from_toml,
    };
    use crate::types::{
        priceguard_batch_summary, priceguard_decision, to_decision_scaled,
        PRICEGUARD_DECISION_HAS_PROMO_SPEND,
    };
    use priceguard::Policy;

    const POLICY: &str = "name = \"fine\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"0.99\"\nmax_price = \"500\"\n[margin]\nmin_margin = \"0.15\"\n[promotion]\nmax_discount = \"0.5\"\nbudgets = { spring = \"100\" }\n";

    fn policy() -> *const priceguard_policy {
        let mut p = std::ptr::null();
        // SAFETY: the text and the output are live locals; NULL detail buffer is allowed.
        let r = unsafe {
            priceguard_policy_from_toml(
                POLICY.as_ptr(),
                POLICY.len(),
                std::ptr::null_mut(),
                0,
                &mut p,
            )
        };
        assert_eq!(r, priceguard_result::Ok);
        p
    }

    fn parse(
        p: *const priceguard_policy,
        t: &str,
        f: Field,
    ) -> Result<(i64, u8), priceguard_result> {
        let (mut u, mut s) = (0, 0);
        // SAFETY: live handle and locals.
        let r =
            unsafe { priceguard_amount_parse(p, t.as_ptr(), t.len(), f as u32, &mut u, &mut s) };
        if r == priceguard_result::Ok {
            Ok((u, s))
        } else {
            Err(r)
        }
    }

    fn from_double(
        p: *const priceguard_policy,
        v: f64,
        f: Field,
    ) -> Result<(i64, u8), priceguard_result> {
        let (mut u, mut s) = (0, 0);
        // SAFETY: live handle and locals.
        let r = unsafe { priceguard_amount_from_double(p, v, f as u32, &mut u, &mut s) };
        if r == priceguard_result::Ok {
            Ok((u, s))
        } else {
            Err(r)
        }
    }

    fn format(p: *const priceguard_policy, units: i64, scale: u8) -> String {
        let mut buf = [0 as c_char; 32];
        let mut n = 0;
        // SAFETY: live handle and locals of the stated sizes.
        let r = unsafe {
            priceguard_amount_format(p, units, scale, buf.as_mut_ptr(), buf.len(), &mut n)
        };
        assert_eq!(r, priceguard_result::Ok);
        // SAFETY: NUL-terminated by the call.
        unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    /// An item built from texts the C way: parse, then set each amount.
    fn item(p: *const priceguard_policy, values: &[(Field, &str)]) -> (priceguard_item, u8) {
        let mut c = priceguard_item::default();
        let mut scale = 0u8;
        for &(f, t) in values {
            let (u, s) = parse(p, t, f).unwrap();
            // SAFETY: live locals.
            let r = unsafe {
                priceguard_item_set_amount(&mut c, &mut scale, f as u32, u, s, std::ptr::null_mut())
            };
            assert_eq!(r, priceguard_result::Ok, "{f} {t}");
        }
        (c, scale)
    }

    fn evaluate(
        p: *const priceguard_policy,
        c: &priceguard_item,
        scale: u8,
    ) -> priceguard_decision {
        let mut d = priceguard_decision::default();
        // SAFETY: live handle and locals.
        let r = unsafe { priceguard_policy_evaluate_scaled(p, c, scale, &mut d) };
        assert_eq!(r, priceguard_result::Ok);
        d
    }

    #[test]
    fn amounts_read_any_precision_and_format_exactly() {
        let p = policy();
        assert_eq!(parse(p, "19.4373", Field::ProposedPrice), Ok((194_373, 2)));
        assert_eq!(parse(p, " 14.30 ", Field::UnitCost), Ok((1430, 0)));
        assert_eq!(parse(p, "1e-05", Field::UnitCost), Ok((1, 3)));
        assert_eq!(
            parse(p, "abc", Field::UnitCost),
            Err(priceguard_result::MoneySyntax)
        );
        assert_eq!(
            parse(p, "1e20", Field::UnitCost),
            Err(priceguard_result::MoneyOutOfRange)
        );
        assert_eq!(
            parse(p, "1", Field::Now),
            Err(priceguard_result::InvalidArgument)
        );
        assert_eq!(
            parse(p, "1", Field::Sku),
            Err(priceguard_result::InvalidArgument)
        );
        // Past 6 digits beyond the cent: costs round half to even, the
        // proposal keeps an odd last digit for its snap.
        assert_eq!(parse(p, "1.000000005", Field::UnitCost), Ok((100, 0)));
        assert_eq!(
            parse(p, "1.000000005", Field::ProposedPrice),
            Ok((100_000_001, 6))
        );
        assert_eq!(
            from_double(p, 13.580160000000001, Field::UnitCost),
            Ok((1_358_016, 3))
        );
        assert_eq!(from_double(p, 0.1, Field::UnitCost), Ok((10, 0)));
        assert_eq!(
            from_double(p, f64::NAN, Field::UnitCost),
            Err(priceguard_result::MoneyNotFinite)
        );
        assert_eq!(
            from_double(p, f64::INFINITY, Field::ProposedPrice),
            Err(priceguard_result::MoneyNotFinite)
        );
        assert_eq!(format(p, 194_373, 2), "19.4373");
        assert_eq!(format(p, 144_000, 2), "14.40");
        assert_eq!(format(p, -1, 6), "-0.00000001");
        assert_eq!(format(p, i64::MIN, 6), "-92233720368.54775808");
        let mut buf = [0 as c_char; 8];
        let mut n = 0;
        // SAFETY: live handle and locals.
        let r = unsafe { priceguard_amount_format(p, 1, 7, buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(r, priceguard_result::InvalidArgument);
        // SAFETY: the handle is live and freed once.
        unsafe { priceguard_policy_free(p) };
    }

    #[test]
    fn set_amount_raises_the_scale_exactly_or_changes_nothing() {
        let p = policy();
        let (c, scale) = item(
            p,
            &[(Field::ProposedPrice, "19.99"), (Field::UnitCost, "3.9694")],
        );
        assert_eq!((c.proposed_price, c.unit_cost, scale), (199_900, 39_694, 2));
        assert_eq!(c.present, Field::UnitCost.bit());
        let mut big = priceguard_item {
            proposed_price: 1_000_000_000_000_000_000,
            ..priceguard_item::default()
        };
        let mut s = 0;
        let mut bad = u32::MAX;
        // SAFETY: live locals.
        let r = unsafe {
            priceguard_item_set_amount(&mut big, &mut s, Field::UnitCost as u32, 1, 1, &mut bad)
        };
        assert_eq!(r, priceguard_result::MoneyOutOfRange);
        // The proposal set before is what no longer fits, not the cost.
        assert_eq!(bad, Field::ProposedPrice as u32);
        assert_eq!(
            (big.proposed_price, big.present, s),
            (1_000_000_000_000_000_000, 0, 0)
        );
        // SAFETY: live locals.
        let r = unsafe {
            priceguard_item_set_amount(
                &mut big,
                &mut s,
                Field::UnitCost as u32,
                1,
                7,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(r, priceguard_result::InvalidArgument);
        // SAFETY: NULL is checked.
        let r = unsafe {
            priceguard_item_set_amount(std::ptr::null_mut(), &mut s, 1, 1, 0, std::ptr::null_mut())
        };
        assert_eq!(r, priceguard_result::NullParameter);
        // SAFETY: the handle is live and freed once.
        unsafe { priceguard_policy_free(p) };
    }

    #[test]
    fn scaled_calls_decide_finer_items_exactly() {
        let p = policy();
        // 19.4373 snaps to 19.44.
        let (c, s) = item(
            p,
            &[(Field::ProposedPrice, "19.4373"), (Field::UnitCost, "5")],
        );
        let d = evaluate(p, &c, s);
        assert_eq!((d.price, s), (194_400, 2));
        assert_eq!(format(p, d.price, s), "19.44");
        let mut buf = [0 as c_char; 256];
        let mut n = 0;
        // SAFETY: live handle and locals.
        let r = unsafe {
            priceguard_decision_explain_scaled(p, &c, s, &d, buf.as_mut_ptr(), buf.len(), &mut n)
        };
        assert_eq!(r, priceguard_result::Ok);
        // SAFETY: NUL-terminated by the call.
        let sentence = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        assert_eq!(
            sentence,
            "proposed 19.4373 snapped to 19.44 by tick (tick 0.01)"
        );
        // 3.9694 / 0.85 = 4.6699: 4.67.
        let (c, s) = item(
            p,
            &[(Field::ProposedPrice, "4.50"), (Field::UnitCost, "3.9694")],
        );
        let d = evaluate(p, &c, s);
        assert_eq!(format(p, d.price, s), "4.67");
        // (20.4373 - 15) x 10 = 54.373, exactly.
        let (mut c, s) = item(
            p,
            &[
                (Field::ProposedPrice, "15"),
                (Field::UnitCost, "1"),
                (Field::ReferencePrice, "20.4373"),
            ],
        );
        c.expected_units = 10;
        c.campaign = 0;
        c.present |= Field::ExpectedUnits.bit() | Field::Campaign.bit();
        let d = evaluate(p, &c, s);
        assert_ne!(d.present & PRICEGUARD_DECISION_HAS_PROMO_SPEND, 0);
        assert_eq!(format(p, d.promo_spend, s), "54.373");
        // A scale beyond 6 is a mistake of the call.
        let mut out = priceguard_decision::default();
        // SAFETY: live handle and locals.
        let r = unsafe { priceguard_policy_evaluate_scaled(p, &c, 7, &mut out) };
        assert_eq!(r, priceguard_result::InvalidArgument);
        // SAFETY: the handle is live and freed once.
        unsafe { priceguard_policy_free(p) };
    }

    /// Random items at random scales: the scaled call, brought back to
    /// minor units, is the engine's decision for the same item; a batch of
    /// them decides each as alone (no campaign here); at scale 0 it is
    /// `priceguard_policy_evaluate`'s.
    #[test]
    fn scaled_calls_are_the_engines_decisions() {
        let p = policy();
        // SAFETY: a live handle.
        let engine: &Policy = unsafe { policy_ref(p) }.unwrap();
        let mut x: u64 = 7;
        let mut next = |n: u64| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) % n
        };
        let mut items = Vec::new();
        let mut scales = Vec::new();
        for _ in 0..2000 {
            let scale = next(7) as u8;
            let f = 10_i64.pow(u32::from(scale));
            let price = |cents: u64, extra: u64| cents as i64 * f + (extra % f as u64) as i64;
            let mut c = priceguard_item {
                proposed_price: price(100 + next(40_000), next(1 << 30)),
                ..priceguard_item::default()
            };
            if next(10) < 8 {
                c.unit_cost = price(next(20_000), next(1 << 30));
                c.present |= Field::UnitCost.bit();
            }
            if next(10) < 5 {
                c.current_price = price(100 + next(40_000), next(1 << 30));
                c.present |= Field::CurrentPrice.bit();
            }
            let d = evaluate(p, &c, scale);
            let want = engine.evaluate(&to_item(&c).unwrap().with_scale(scale));
            assert_eq!(to_decision_scaled(&d, scale), Ok(want), "{c:?} at {scale}");
            if scale == 0 {
                let mut plain = priceguard_decision::default();
                // SAFETY: live handle and locals.
                unsafe { priceguard_policy_evaluate(p, &c, &mut plain) };
                assert_eq!(plain, d);
            }
            items.push(c);
            scales.push(scale);
        }
        let mut out = vec![priceguard_decision::default(); items.len()];
        let mut summary = priceguard_batch_summary::default();
        // SAFETY: live handle; the slices have `items.len()` entries each.
        let r = unsafe {
            priceguard_policy_evaluate_batch_scaled(
                p,
                items.as_ptr(),
                scales.as_ptr(),
                items.len(),
                out.as_mut_ptr(),
                &mut summary,
            )
        };
        assert_eq!(r, priceguard_result::Ok);
        for ((c, &s), d) in items.iter().zip(&scales).zip(&out) {
            assert_eq!(*d, evaluate(p, c, s));
        }
        scales[5] = 7;
        // SAFETY: as above.
        let r = unsafe {
            priceguard_policy_evaluate_batch_scaled(
                p,
                items.as_ptr(),
                scales.as_ptr(),
                items.len(),
                out.as_mut_ptr(),
                &mut summary,
            )
        };
        assert_eq!(r, priceguard_result::InvalidArgument);
        // SAFETY: NULL scales with items is refused.
        let r = unsafe {
            priceguard_policy_evaluate_batch_scaled(
                p,
                items.as_ptr(),
                std::ptr::null(),
                items.len(),
                out.as_mut_ptr(),
                &mut summary,
            )
        };
        assert_eq!(r, priceguard_result::NullParameter);
        // SAFETY: the handle is live and freed once.
        unsafe { priceguard_policy_free(p) };
    }
}
