//! Writing strings into caller buffers.

use std::ffi::c_char;

use crate::priceguard_result;

/// Writes `s` and a NUL into `buf` when all of it fits (`s.len() < len`)
/// and its length into `*out_n`. When it does not fit, `buf` is untouched,
/// `*out_n` receives the length needed (without the NUL) and
/// `PRICEGUARD_RESULT_BUFFER_TOO_SMALL` is returned.
///
/// # Safety
///
/// `buf` is NULL or valid for writes of `len` bytes; `out_n` is NULL or
/// valid for one write.
pub(crate) unsafe fn write_whole(
    s: &str,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> priceguard_result {
    if buf.is_null() || out_n.is_null() {
        return priceguard_result::NullParameter;
    }
    let n = s.len();
    if n >= len {
        // SAFETY: `out_n` is non-NULL and valid for one write (caller contract).
        unsafe { out_n.write(n) };
        return priceguard_result::BufferTooSmall;
    }
    // SAFETY: `buf` holds `len > n` bytes (caller contract) and cannot
    // overlap `s`, which Rust owns; the NUL goes to index `n < len`.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), n);
        buf.add(n).write(0);
        out_n.write(n);
    }
    priceguard_result::Ok
}

/// Writes as much of `s` as fits in `len - 1` bytes, cut at a UTF-8
/// character boundary, plus a NUL, and the bytes written (without the NUL)
/// into `*out_n`. Returns `PRICEGUARD_RESULT_BUFFER_TOO_SMALL` when `s`
/// was cut (with `len == 0` nothing is written to `buf`).
///
/// # Safety
///
/// As [`write_whole`].
pub(crate) unsafe fn write_truncated(
    s: &str,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> priceguard_result {
    if buf.is_null() || out_n.is_null() {
        return priceguard_result::NullParameter;
    }
    if len == 0 {
        // SAFETY: `out_n` is non-NULL and valid for one write.
        unsafe { out_n.write(0) };
        return priceguard_result::BufferTooSmall;
    }
    let mut n = s.len().min(len - 1);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    // SAFETY: `n + 1 <= len` bytes are written into `buf`, valid for `len`
    // bytes and disjoint from `s`; `out_n` is valid for one write.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), n);
        buf.add(n).write(0);
        out_n.write(n);
    }
    if n < s.len() {
        priceguard_result::BufferTooSmall
    } else {
        priceguard_result::Ok
    }
}

/// Writes `s` truncated into an optional detail buffer (`buf` NULL or
/// `len == 0`: nothing is written).
///
/// # Safety
///
/// `buf` is NULL or valid for writes of `len` bytes.
pub(crate) unsafe fn write_detail(s: &str, buf: *mut c_char, len: usize) {
    if buf.is_null() || len == 0 {
        return;
    }
    let mut n = 0usize;
    // SAFETY: `buf` is valid for `len` bytes (caller contract); `n` is a local.
    let _ = unsafe { write_truncated(s, buf, len, &mut n) };
}

/// Borrows `len` bytes at `ptr` as UTF-8.
///
/// # Safety
///
/// `ptr` is NULL or valid for reads of `len` bytes that stay unchanged for `'a`.
pub(crate) unsafe fn text<'a>(ptr: *const u8, len: usize) -> Result<&'a str, priceguard_result> {
    if ptr.is_null() {
        return Err(priceguard_result::NullParameter);
    }
    // SAFETY: non-NULL and valid for `len` bytes (caller contract).
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    std::str::from_utf8(bytes).map_err(|_| priceguard_result::InvalidUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_or_nothing() {
        let mut buf = [0x55 as c_char; 6];
        let mut n = 0;
        // SAFETY: live locals of the stated sizes.
        assert_eq!(
            unsafe { write_whole("hello", buf.as_mut_ptr(), 6, &mut n) },
            priceguard_result::Ok
        );
        assert_eq!((n, buf[5]), (5, 0));
        let mut small = [0x55 as c_char; 5];
        // SAFETY: as above.
        assert_eq!(
            unsafe { write_whole("hello", small.as_mut_ptr(), 5, &mut n) },
            priceguard_result::BufferTooSmall
        );
        assert_eq!(n, 5);
        assert!(small.iter().all(|&b| b == 0x55));
    }

    #[test]
    fn truncates_on_char_boundary() {
        let mut buf = [0 as c_char; 4];
        let mut n = 0;
        // "aé" is 3 bytes; "aéb" 4: with 4 bytes of room, 3 bytes plus the NUL fit.
        // SAFETY: live locals of the stated sizes.
        let r = unsafe { write_truncated("aéé", buf.as_mut_ptr(), 4, &mut n) };
        assert_eq!((r, n), (priceguard_result::BufferTooSmall, 3));
        // SAFETY: as above.
        let r = unsafe { write_truncated("éé", buf.as_mut_ptr(), 2, &mut n) };
        assert_eq!((r, n, buf[0]), (priceguard_result::BufferTooSmall, 0, 0));
    }

    #[test]
    fn text_checks() {
        // SAFETY: NULL is checked; the arrays are live.
        unsafe {
            assert_eq!(
                text(std::ptr::null(), 0),
                Err(priceguard_result::NullParameter)
            );
            assert_eq!(
                text([0xff_u8].as_ptr(), 1),
                Err(priceguard_result::InvalidUtf8)
            );
            assert_eq!(text(b"ok".as_ptr(), 2), Ok("ok"));
        }
    }
}
