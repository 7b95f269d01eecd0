//! Non-temporal ("streaming") stores for the output arrays of a large
//! batch.
//!
//! A plain store to memory that is not in cache first reads the line
//! (read-for-ownership) and only then overwrites it: writing the 51 bytes
//! of results of a row moved about 102 bytes over the memory bus. A
//! million-row batch's outputs (about 51 MB) do not fit in cache, so every
//! line of them took that round trip. A streaming store writes a whole
//! line without reading it. Measured on the benchmark machine (see
//! BENCHMARKS.md), reading seven int64 columns and writing the outputs'
//! volume took about 18 ns a row with plain stores and 8 to 13 ns with
//! streaming ones on one thread.
//!
//! Streaming stores bypass the cache, so they are used only for batches
//! whose outputs are much larger than it (see `STREAM_MIN_ROWS` in
//! `outbuf.rs`); a small batch's results stay in cache for the caller.
//! They are weakly ordered: each worker ends its range with [`fence`]
//! before its results are handed to another thread.

#[cfg(target_arch = "x86_64")]
use crate::writer::{minor_block, Writer, BLOCK};
#[cfg(target_arch = "x86_64")]
use priceguard::binding::DecisionRows;

/// Copies `src` into `dst` (same length), with streaming stores when `dst`
/// starts on a 32-byte boundary and both are a whole number of 32-byte
/// lanes; otherwise a plain copy. Mismatched lengths copy nothing.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) unsafe fn copy<T: Copy>(dst: &mut [T], src: &[T]) {
    use std::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_stream_si256};
    if dst.len() != src.len() {
        return;
    }
    let bytes = std::mem::size_of_val(src);
    let lanes = bytes / 32;
    if !bytes.is_multiple_of(32) || !(dst.as_ptr() as usize).is_multiple_of(32) {
        dst.copy_from_slice(src);
        return;
    }
    let d = dst.as_mut_ptr().cast::<__m256i>();
    let s = src.as_ptr().cast::<__m256i>();
    for k in 0..lanes {
        // SAFETY: `k < lanes`, so both 32-byte lanes lie inside the two
        // slices (`bytes = 32 lanes` of each); `d` is 32-byte aligned, as
        // the streaming store requires; `loadu` needs no alignment; `T` is
        // `Copy`, so its bytes may be copied as they are.
        unsafe { _mm256_stream_si256(d.add(k), _mm256_loadu_si256(s.add(k))) };
    }
}

/// Orders this thread's streaming stores before its later stores, so that
/// a thread that sees the range as done also sees its results.
#[cfg(target_arch = "x86_64")]
pub(crate) fn fence() {
    // SAFETY: `sfence` is SSE, which every x86_64 CPU has.
    unsafe { std::arch::x86_64::_mm_sfence() };
}

/// No streaming stores off x86_64: nothing to order.
#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn fence() {}

/// The streaming-store writer of a range of the output arrays.
#[cfg(target_arch = "x86_64")]
impl Writer<'_> {
    /// [`Writer::put_rows`] with streaming stores: each column's block is
    /// read from `rows` (or, for minor-unit money, built on the stack),
    /// then written a cache line at a time without reading the lines
    /// first. Float64 money keeps plain stores (measured: streaming it was
    /// no faster). The same values as `put_rows_body` (a test compares
    /// them).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn put_rows_stream(&mut self, at: usize, rows: &DecisionRows) {
        let n = rows.len();
        let end = at + n;
        if n > BLOCK {
            self.put_rows_body(at, rows);
            return;
        }
        /// The rows' slice of an output array, if it has them.
        fn part<T>(v: &mut [T], at: usize, end: usize) -> Option<&mut [T]> {
            v.get_mut(at..end)
        }
        let mut i = [0i64; BLOCK];
        let mut b = [0u8; BLOCK];
        for (m, v, none) in [
            (&mut self.price, rows.price(), i64::MIN),
            (&mut self.lower, rows.lower(), i64::MIN),
            (&mut self.upper, rows.upper(), i64::MAX),
            (&mut self.promo_spend, rows.promo_spend(), -1),
        ] {
            if m.minor {
                let (Some(ti), Some(tb)) = (i.get_mut(..n), b.get_mut(..n)) else {
                    continue;
                };
                minor_block(ti, tb, v, none);
                if let (Some(d), Some(dv)) = (part(m.raw, at, end), part(m.valid, at, end)) {
                    // SAFETY: AVX2, this function's requirement.
                    unsafe {
                        copy(d, ti);
                        copy(dv, tb);
                    }
                }
            } else {
                // Float64 money columns take plain stores: streaming them
                // too measured slower at two threads (24.5 against 19.8
                // ns a row, medians of 6 alternating runs), while the
                // minor-unit columns gain from it (18.2 against 16.1).
                m.put_all(at, v, none);
            }
        }
        // SAFETY (each `stream::copy` below): AVX2, this function's
        // requirement.
        if let Some(d) = part(self.outcome, at, end) {
            unsafe { copy(d, rows.outcome()) };
        }
        if let Some(d) = part(self.reason, at, end) {
            unsafe { copy(d, rows.reason()) };
        }
        if let Some(d) = part(self.violated, at, end) {
            unsafe { copy(d, rows.violated()) };
        }
        if let Some(d) = part(self.binding, at, end) {
            unsafe { copy(d, rows.binding()) };
        }
        // As in `put_rows_body`: the usual values only into recycled memory.
        if self.dirty {
            let (zeros, zero_bytes) = ([0u64; BLOCK], [0u8; BLOCK]);
            let (z, zb) = (
                zeros.get(..n).unwrap_or(&[]),
                zero_bytes.get(..n).unwrap_or(&[]),
            );
            if let Some(d) = part(self.unmet, at, end) {
                unsafe { copy(d, z) };
            }
            if let Some(d) = part(self.relaxed, at, end) {
                unsafe { copy(d, zb) };
            }
            if let Some(d) = part(self.needs_approval, at, end) {
                unsafe { copy(d, zb) };
            }
        }
        if self.dirty_invalid {
            if let (Some(d), Some(none)) =
                (part(self.invalid_field, at, end), [-1i8; BLOCK].get(..n))
            {
                unsafe { copy(d, none) };
            }
        }
    }
}
