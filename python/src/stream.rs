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
//! `batch.rs`); a small batch's results stay in cache for the caller.
//! They are weakly ordered: each worker ends its range with [`fence`]
//! before its results are handed to another thread.

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
