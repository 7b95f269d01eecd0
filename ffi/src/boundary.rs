//! The one panic boundary every export runs inside.

use std::ffi::c_char;

use crate::priceguard_result;

/// What an export returns when a panic is caught at the boundary.
pub trait OnPanic {
    /// The value returned to C after a caught panic.
    fn on_panic() -> Self;
}

impl OnPanic for priceguard_result {
    fn on_panic() -> Self {
        priceguard_result::Panic
    }
}

impl OnPanic for *const c_char {
    fn on_panic() -> Self {
        std::ptr::null()
    }
}

impl OnPanic for () {
    fn on_panic() -> Self {}
}

/// Runs the body of an export inside `catch_unwind`, turning a panic into
/// [`OnPanic::on_panic`] for the export's return type. `return` inside the
/// body returns from the export. Every `extern "C"` function of this crate
/// wraps its whole body in this macro.
macro_rules! ffi_boundary {
    ($($body:tt)*) => {{
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| { $($body)* })) {
            Ok(value) => value,
            Err(_) => $crate::boundary::OnPanic::on_panic(),
        }
    }};
}

/// `PRICEGUARD_RESULT_NULL_PARAMETER`, from a function the compiler keeps
/// out of the hot path: the NULL checks of an export then stay one test and
/// branch each, instead of being merged into flag arithmetic on every call.
#[cold]
#[inline(never)]
pub(crate) fn null_parameter() -> priceguard_result {
    priceguard_result::NullParameter
}

/// Borrows `*ptr`, or returns `PRICEGUARD_RESULT_NULL_PARAMETER` from the
/// enclosing boundary closure when it is NULL.
macro_rules! try_ref {
    ($ptr:expr) => {{
        let ptr = $ptr;
        // SAFETY: every caller passes a pointer the C contract of the export
        // declares valid for reads (or NULL, handled here), living for the call.
        match unsafe { ptr.as_ref() } {
            Some(r) => r,
            None => return $crate::boundary::null_parameter(),
        }
    }};
}

/// Returns `PRICEGUARD_RESULT_NULL_PARAMETER` from the enclosing boundary
/// closure when an output pointer is NULL.
macro_rules! check_out {
    ($($ptr:expr),+) => {{
        $( if $ptr.is_null() { return $crate::boundary::null_parameter(); } )+
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" fn panics(flag: bool) -> priceguard_result {
        ffi_boundary! {
            if flag {
                #[allow(clippy::panic)]
                {
                    panic!("boom");
                }
            }
            priceguard_result::Ok
        }
    }

    extern "C" fn panics_str() -> *const c_char {
        ffi_boundary! {
            let v: Vec<u8> = Vec::new();
            #[allow(clippy::indexing_slicing)]
            let _ = v[1];
            c"x".as_ptr()
        }
    }

    #[test]
    fn panic_becomes_result() {
        assert_eq!(panics(false), priceguard_result::Ok);
        assert_eq!(panics(true), priceguard_result::Panic);
        assert!(panics_str().is_null());
    }

    fn null_check(p: *const u32) -> priceguard_result {
        ffi_boundary! {
            let v = try_ref!(p);
            if *v == 7 { priceguard_result::Ok } else { priceguard_result::InvalidArgument }
        }
    }

    #[test]
    fn null_is_refused() {
        assert_eq!(
            null_check(std::ptr::null()),
            priceguard_result::NullParameter
        );
        assert_eq!(null_check(&7), priceguard_result::Ok);
    }
}
