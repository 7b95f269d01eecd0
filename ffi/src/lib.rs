//! C ABI for priceguard: `libpriceguard.so` / `libpriceguard.a` and
//! `include/priceguard.h` (generated from this crate by cbindgen).
//!
//! Every exported name starts with `priceguard_` (functions, types) or
//! `PRICEGUARD_` (constants, enum values). Every export runs inside
//! `ffi_boundary!`, so a panic becomes [`priceguard_result::Panic`]
//! instead of unwinding into C. Each `unsafe` block says why it is sound.
//!
//! See `docs/c-api.md` for the conventions (ownership, NULL, threads,
//! errors, buffers).
#![allow(non_camel_case_types)]

#[macro_use]
mod boundary;
mod audit;
mod buffer;
mod group;
mod ledger;
mod money;
mod names;
mod policy;
mod types;

pub use audit::*;
pub use boundary::OnPanic;
pub use group::*;
pub use ledger::*;
pub use money::*;
pub use names::*;
pub use policy::*;
pub use types::*;

/// The outcome of every fallible call. Codes are explicit and never
/// reused; new codes may be added. `PRICEGUARD_RESULT_OK` is zero.
/// `priceguard_result_message` describes a code in words.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum priceguard_result {
    /// Success: the outputs were written.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullParameter = 1,
    /// A text argument is not valid UTF-8.
    InvalidUtf8 = 2,
    /// The caller's buffer is too small; see the function for what was written.
    BufferTooSmall = 3,
    /// An argument is out of its documented domain (an unknown presence
    /// bit, an enum value that does not exist).
    InvalidArgument = 4,
    /// An internal panic was caught at the boundary: a priceguard bug.
    Panic = 5,
    /// The policy text is malformed or breaks a rule; the detail buffer says which field and why.
    PolicyInvalid = 100,
    /// The policy file cannot be read.
    PolicyIo = 101,
    /// The policy path names something that is not a regular file (a
    /// directory, a device such as `/dev/zero`, a pipe).
    PolicyNotAFile = 102,
    /// The policy file is larger than the size cap (4 MiB, or the
    /// `max_bytes` of `priceguard_policy_from_path_limited`).
    PolicyTooLarge = 103,
    /// The money text is not a plain decimal number.
    MoneySyntax = 200,
    /// The money text has more decimal places than the policy currency
    /// (`priceguard_money_parse`, the minor-unit entry point; see
    /// `priceguard_amount_parse` for finer digits).
    MoneyTooPrecise = 201,
    /// The money amount is beyond the supported range (10^15 minor units),
    /// or does not fit 64 bits at the scale asked for.
    MoneyOutOfRange = 202,
    /// The money value is a NaN or an infinity.
    MoneyNotFinite = 203,
    /// The campaign id is not one of the policy's campaigns.
    UnknownCampaign = 300,
    /// The campaign has less budget left than requested.
    InsufficientBudget = 301,
    /// A negative amount was given to the ledger.
    NegativeAmount = 302,
    /// The reservation is not one this ledger made: its token, campaign or
    /// amount differs from what was reserved.
    NotReserved = 303,
    /// The ledger was created from a different policy handle.
    LedgerPolicyMismatch = 304,
    /// The reservation was already committed or released: each settles once.
    AlreadySettled = 305,
    /// The ledger holds as many outstanding reservations as it can
    /// (`priceguard_ledger_new_with_capacity`); settle some first.
    TooManyReservations = 306,
}

impl priceguard_result {
    /// Every code, for the message function and the tests.
    pub const ALL: [priceguard_result; 21] = [
        priceguard_result::Ok,
        priceguard_result::NullParameter,
        priceguard_result::InvalidUtf8,
        priceguard_result::BufferTooSmall,
        priceguard_result::InvalidArgument,
        priceguard_result::Panic,
        priceguard_result::PolicyInvalid,
        priceguard_result::PolicyIo,
        priceguard_result::PolicyNotAFile,
        priceguard_result::PolicyTooLarge,
        priceguard_result::MoneySyntax,
        priceguard_result::MoneyTooPrecise,
        priceguard_result::MoneyOutOfRange,
        priceguard_result::MoneyNotFinite,
        priceguard_result::UnknownCampaign,
        priceguard_result::InsufficientBudget,
        priceguard_result::NegativeAmount,
        priceguard_result::NotReserved,
        priceguard_result::LedgerPolicyMismatch,
        priceguard_result::AlreadySettled,
        priceguard_result::TooManyReservations,
    ];

    /// The result with this code.
    pub fn from_code(code: u32) -> Option<priceguard_result> {
        priceguard_result::ALL
            .into_iter()
            .find(|r| *r as u32 == code)
    }

    /// A lower-case sentence describing the code.
    pub const fn message(self) -> &'static str {
        match self {
            priceguard_result::Ok => "success",
            priceguard_result::NullParameter => "a required pointer argument is null",
            priceguard_result::InvalidUtf8 => "text is not valid utf-8",
            priceguard_result::BufferTooSmall => "the output buffer is too small",
            priceguard_result::InvalidArgument => "an argument is outside its documented values",
            priceguard_result::Panic => {
                "internal error: a panic was caught (please report this bug)"
            }
            priceguard_result::PolicyInvalid => "the policy is invalid",
            priceguard_result::PolicyIo => "the policy file cannot be read",
            priceguard_result::PolicyNotAFile => "the policy path is not a regular file",
            priceguard_result::PolicyTooLarge => "the policy file is larger than the size cap",
            priceguard_result::MoneySyntax => "money is not a plain decimal number",
            priceguard_result::MoneyTooPrecise => {
                "money has more decimal places than the policy currency"
            }
            priceguard_result::MoneyOutOfRange => "money is beyond the supported range",
            priceguard_result::MoneyNotFinite => "money is not a finite number",
            priceguard_result::UnknownCampaign => "unknown campaign",
            priceguard_result::InsufficientBudget => "insufficient budget",
            priceguard_result::NegativeAmount => "negative amount",
            priceguard_result::NotReserved => "no such reservation in this ledger",
            priceguard_result::LedgerPolicyMismatch => "the ledger belongs to a different policy",
            priceguard_result::AlreadySettled => "the reservation was already settled",
            priceguard_result::TooManyReservations => "too many outstanding reservations",
        }
    }
}

/// Writes the message for result `code` into `buf` (at most `len` bytes,
/// always NUL-terminated when `len > 0`) and its length, without the NUL,
/// into `*out_n`.
///
/// A message that does not fit is truncated at a UTF-8 character boundary
/// and `PRICEGUARD_RESULT_BUFFER_TOO_SMALL` is returned; 128 bytes always
/// suffice. An unknown code gives "unknown result code" and
/// `PRICEGUARD_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `buf` must be valid for writes of `len` bytes and `out_n` for one
/// `size_t`, or NULL.
#[no_mangle]
pub unsafe extern "C" fn priceguard_result_message(
    code: u32,
    buf: *mut std::ffi::c_char,
    len: usize,
    out_n: *mut usize,
) -> priceguard_result {
    ffi_boundary! {
        let (msg, unknown) = match priceguard_result::from_code(code) {
            Some(r) => (r.message(), false),
            None => ("unknown result code", true),
        };
        // SAFETY: the caller guarantees `buf`/`len` and `out_n` (or NULL, checked inside).
        let r = unsafe { buffer::write_truncated(msg, buf, len, out_n) };
        if unknown && r == priceguard_result::Ok {
            priceguard_result::InvalidArgument
        } else {
            r
        }
    }
}

/// The library version, e.g. `"0.1.0"`: a static NUL-terminated string
/// that must not be freed.
#[no_mangle]
pub extern "C" fn priceguard_version() -> *const std::ffi::c_char {
    ffi_boundary! {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_stable() {
        let mut codes: Vec<u32> = priceguard_result::ALL.iter().map(|r| *r as u32).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), priceguard_result::ALL.len());
        // Published values: changing one breaks every compiled C caller.
        assert_eq!(priceguard_result::Ok as u32, 0);
        assert_eq!(priceguard_result::Panic as u32, 5);
        assert_eq!(priceguard_result::PolicyInvalid as u32, 100);
        assert_eq!(priceguard_result::LedgerPolicyMismatch as u32, 304);
        assert_eq!(priceguard_result::PolicyNotAFile as u32, 102);
        assert_eq!(priceguard_result::PolicyTooLarge as u32, 103);
        assert_eq!(priceguard_result::AlreadySettled as u32, 305);
        assert_eq!(priceguard_result::TooManyReservations as u32, 306);
        assert_eq!(priceguard_result::MoneyNotFinite as u32, 203);
        for r in priceguard_result::ALL {
            assert_eq!(priceguard_result::from_code(r as u32), Some(r));
            assert!(r.message().len() < 128);
        }
    }

    #[test]
    fn result_message_writes_and_truncates() {
        let mut buf = [0 as std::ffi::c_char; 128];
        let mut n = 0usize;
        // SAFETY: `buf` and `n` are live locals of the given sizes.
        let r = unsafe { priceguard_result_message(100, buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(r, priceguard_result::Ok);
        assert_eq!(n, "the policy is invalid".len());
        let mut small = [0 as std::ffi::c_char; 4];
        // SAFETY: as above.
        let r = unsafe { priceguard_result_message(100, small.as_mut_ptr(), small.len(), &mut n) };
        assert_eq!(r, priceguard_result::BufferTooSmall);
        assert_eq!(n, 3);
        assert_eq!(small[3], 0);
        // SAFETY: as above.
        let r = unsafe { priceguard_result_message(9999, buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(r, priceguard_result::InvalidArgument);
        // SAFETY: NULL pointers are checked.
        let r = unsafe { priceguard_result_message(0, std::ptr::null_mut(), 10, &mut n) };
        assert_eq!(r, priceguard_result::NullParameter);
        // SAFETY: NULL pointers are checked.
        let r = unsafe { priceguard_result_message(0, buf.as_mut_ptr(), 10, std::ptr::null_mut()) };
        assert_eq!(r, priceguard_result::NullParameter);
    }

    #[test]
    fn version_is_nul_terminated() {
        // SAFETY: the version is a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(priceguard_version()) };
        assert_eq!(v.to_str().ok(), Some(env!("CARGO_PKG_VERSION")));
    }
}
