//! Money text in a policy's currency.

use std::ffi::c_char;

use priceguard::MoneyError;

use crate::buffer::{text, write_whole};
use crate::policy::{policy_ref, priceguard_policy};
use crate::priceguard_result;

/// Parses a plain decimal (`"14.30"`, `"-0.5"`; `len` bytes, no NUL
/// needed, surrounding spaces ignored) in the policy currency into minor
/// units, exactly as every interface reads money: more decimal places than
/// the currency has is `PRICEGUARD_RESULT_MONEY_TOO_PRECISE` (never
/// rounded), no exponents or separators (`MONEY_SYNTAX`), at most 10^15
/// minor units in magnitude (`MONEY_OUT_OF_RANGE`).
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
            Err(MoneyError::Syntax | MoneyError::NotFinite) => priceguard_result::MoneySyntax,
            Err(MoneyError::TooPrecise(_)) => priceguard_result::MoneyTooPrecise,
            Err(MoneyError::OutOfRange) => priceguard_result::MoneyOutOfRange,
            // A kind this build does not know: still not a number it can use.
            Err(_) => priceguard_result::MoneySyntax,
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
