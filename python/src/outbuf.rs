//! Output arrays of `evaluate_batch`: placed for huge pages, handed to
//! numpy without a copy, and recycled once numpy lets go of them.
//!
//! Fresh memory is the most expensive thing a batch touches on a VM: a
//! 4 KiB page fault costs about 4 µs on the benchmark machine, and even
//! with transparent huge pages the kernel (and the hypervisor behind it)
//! zeroes every new page. First-touching the 61 MB of outputs of a
//! 1M-row batch took 5 to 155 ms of system time, against about 45 ms of
//! user time for deciding the rows. So:
//!
//! - a large array starts on a 2 MiB boundary of a slightly larger
//!   allocation, spans whole huge pages, and asks for them with `madvise`
//!   (as numpy does for its own arrays); the slack is never touched;
//! - when every numpy array over a buffer of 64 KiB or more is gone, the
//!   buffer goes to a bounded pool (`PRICEGUARD_BUFFER_POOL_MB`; by
//!   default the larger of 256 MiB and the latest batch's outputs; 0 turns
//!   it off; `priceguard.release_buffers()` empties it) and
//!   the next batch of a similar size writes into it instead of faulting
//!   in new pages. Every row of a recycled buffer is written (`dirty`:
//!   also the arrays whose usual value a fresh buffer already holds), so
//!   it reads exactly as a fresh one would. (Leaving the mostly-zero
//!   arrays, `unmet`, `relaxed` and `needs_approval`, to fresh memory
//!   instead was tried: glibc's adaptive mmap threshold soon serves them
//!   from the heap, so `calloc` clears them with a memset anyway, and some
//!   batches fault in new pages.)

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use numpy::ndarray::ArrayView1;
use pyo3::types::PyDict;

use crate::writer::{FineSpends, LawfulRefs, MoneyWriter, Writer};
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;

/// A 2 MiB transparent huge page.
const HUGE: usize = 2 << 20;

/// Arrays from this size are placed for huge pages.
const LARGE: usize = HUGE / 2;

/// Arrays from this size are recycled (glibc maps anything from 128 KiB
/// afresh, so even a 100k-row batch faulted in all of its results).
const POOL_MIN: usize = 64 << 10;

/// An output array of `len` values at `buf[off..]`.
pub(crate) struct OutCol<T> {
    buf: Vec<T>,
    off: usize,
    len: usize,
    /// Recycled: holds a previous batch's values until every row is written.
    pub(crate) dirty: bool,
}

/// The element types of the outputs, each with its own pool.
pub(crate) trait Pooled: numpy::Element + Copy + Default + Send + 'static {
    fn pool() -> &'static Mutex<VecDeque<(Vec<Self>, usize)>>;
    fn wrap(buf: Vec<Self>, off: usize) -> AnyBuf;
}

/// A buffer of any output type, as a numpy array's owner holds it.
pub(crate) enum AnyBuf {
    F64(Vec<f64>, usize),
    I64(Vec<i64>, usize),
    U64(Vec<u64>, usize),
    U8(Vec<u8>, usize),
    I8(Vec<i8>, usize),
}

macro_rules! pooled {
    ($($t:ty => $v:ident),*) => {$(
        impl Pooled for $t {
            fn pool() -> &'static Mutex<VecDeque<(Vec<$t>, usize)>> {
                static POOL: Mutex<VecDeque<(Vec<$t>, usize)>> = Mutex::new(VecDeque::new());
                &POOL
            }
            fn wrap(buf: Vec<$t>, off: usize) -> AnyBuf {
                AnyBuf::$v(buf, off)
            }
        }
    )*};
}
pooled!(f64 => F64, i64 => I64, u64 => U64, u8 => U8, i8 => I8);

/// The pool's limit when `PRICEGUARD_BUFFER_POOL_MB` is not set: 256 MiB,
/// or the outputs of the latest batch when they are larger.
const DEFAULT_POOL: usize = 256 << 20;

/// `PRICEGUARD_BUFFER_POOL_MB` in bytes, when set (read once).
fn configured_limit() -> Option<usize> {
    static LIMIT: OnceLock<Option<usize>> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::env::var("PRICEGUARD_BUFFER_POOL_MB")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .map(|mb| mb.saturating_mul(1 << 20))
    })
}

/// The output bytes of the latest batch (see `size_pool_for`).
static CALL_BYTES: AtomicUsize = AtomicUsize::new(0);

/// The pool's limit in bytes: `PRICEGUARD_BUFFER_POOL_MB` when set (0
/// turns the pool off), else the larger of 256 MiB and the latest batch's
/// outputs. A fixed 256 MiB held none of a 10M-row batch's 510 MB of
/// outputs, so every such batch faulted in fresh pages (21.5-37.7 ns/item
/// against 13.4-17.4 with a 2 GB pool); sized from the call, a loop of
/// batches of any size writes into the buffers of the one before last,
/// and never holds more than one batch's outputs beyond 256 MiB.
fn pool_limit() -> usize {
    configured_limit().unwrap_or_else(|| DEFAULT_POOL.max(CALL_BYTES.load(Ordering::Relaxed)))
}

/// Sizes the pool for a batch whose outputs take `bytes`, and drops the
/// oldest pooled buffers beyond the new limit (after a batch larger than
/// 256 MiB, a smaller one gives the surplus back to the system).
fn size_pool_for(call: usize) {
    if configured_limit().is_some() {
        return;
    }
    CALL_BYTES.store(call, Ordering::Relaxed);
    let limit = pool_limit();
    let Ok(mut total) = POOLED.lock() else {
        return;
    };
    fn trim<T: Pooled>(total: &mut usize, limit: usize) {
        if let Ok(mut pool) = T::pool().lock() {
            while *total > limit {
                let Some((old, _)) = pool.pop_front() else {
                    return;
                };
                *total = total.saturating_sub(bytes(&old));
            }
        }
    }
    trim::<f64>(&mut total, limit);
    trim::<i64>(&mut total, limit);
    trim::<u64>(&mut total, limit);
    trim::<u8>(&mut total, limit);
    trim::<i8>(&mut total, limit);
}

/// Bytes held by all pools.
static POOLED: Mutex<usize> = Mutex::new(0);

fn bytes<T>(buf: &[T]) -> usize {
    std::mem::size_of_val(buf)
}

/// Takes a pooled buffer that holds `len` values at its offset and is not
/// more than twice the size a fresh one would be.
fn take<T: Pooled>(len: usize, fresh_len: usize) -> Option<(Vec<T>, usize)> {
    // Lock order everywhere: `POOLED`, then a type's pool.
    let mut total = POOLED.lock().ok()?;
    let mut pool = T::pool().lock().ok()?;
    let at = pool.iter().position(|(b, off)| {
        b.len().saturating_sub(*off) >= len && b.len() <= fresh_len.saturating_mul(2)
    })?;
    let got = pool.remove(at)?;
    *total = total.saturating_sub(bytes(&got.0));
    Some(got)
}

/// Gives a buffer back, dropping the oldest of its type beyond the limit.
fn give_back<T: Pooled>(buf: Vec<T>, off: usize) {
    let size = bytes(&buf);
    let limit = pool_limit();
    if size > limit {
        return;
    }
    let Ok(mut total) = POOLED.lock() else {
        return;
    };
    let Ok(mut pool) = T::pool().lock() else {
        return;
    };
    while *total + size > limit {
        let Some((old, _)) = pool.pop_front() else {
            // Other types hold the bytes: this one is not kept.
            return;
        };
        *total = total.saturating_sub(bytes(&old));
    }
    *total += size;
    pool.push_back((buf, off));
}

/// Empties every pool; returns the bytes released.
pub(crate) fn release() -> usize {
    fn drain<T: Pooled>() {
        if let Ok(mut p) = T::pool().lock() {
            p.clear();
        }
    }
    let Ok(mut total) = POOLED.lock() else {
        return 0;
    };
    drain::<f64>();
    drain::<i64>();
    drain::<u64>();
    drain::<u8>();
    drain::<i8>();
    std::mem::take(&mut *total)
}

/// The owner of a numpy output array's memory (its `base`): gives the
/// buffer back to the pool when numpy frees the last array over it.
#[pyclass(module = "priceguard._native")]
pub(crate) struct OutBuffer {
    buf: Option<AnyBuf>,
}

impl Drop for OutBuffer {
    fn drop(&mut self) {
        match self.buf.take() {
            Some(AnyBuf::F64(b, o)) => give_back(b, o),
            Some(AnyBuf::I64(b, o)) => give_back(b, o),
            Some(AnyBuf::U64(b, o)) => give_back(b, o),
            Some(AnyBuf::U8(b, o)) => give_back(b, o),
            Some(AnyBuf::I8(b, o)) => give_back(b, o),
            None => {}
        }
    }
}

/// The bytes `OutCol::zeroed` allocates for `len` values of `size` bytes
/// (huge-page placed arrays span whole huge pages, plus one of slack).
fn alloc_bytes(len: usize, size: usize) -> usize {
    let want = len.saturating_mul(size);
    if cfg!(target_os = "linux") && want >= LARGE {
        want.next_multiple_of(HUGE).saturating_add(HUGE)
    } else {
        want.saturating_add(64)
    }
}

impl<T: Pooled> OutCol<T> {
    /// `len` zeros (or, `dirty`, a recycled buffer every row of which gets written).
    pub(crate) fn zeroed(len: usize) -> OutCol<T> {
        let size = std::mem::size_of::<T>().max(1);
        let want = len.saturating_mul(size);
        let huge = cfg!(target_os = "linux") && want >= LARGE && HUGE.is_multiple_of(size);
        let span = want.next_multiple_of(HUGE);
        let fresh_len = if huge { (span + HUGE) / size } else { len };
        if want >= POOL_MIN && pool_limit() > 0 {
            if let Some((buf, off)) = take::<T>(len, fresh_len) {
                return OutCol {
                    buf,
                    off,
                    len,
                    dirty: true,
                };
            }
        }
        if huge {
            let buf = vec![T::default(); fresh_len];
            let start = buf.as_ptr() as usize;
            let aligned = start.next_multiple_of(HUGE);
            let off = (aligned - start) / size;
            if (aligned - start).is_multiple_of(size) && off + len <= buf.len() {
                advise_huge(aligned, span);
                return OutCol {
                    buf,
                    off,
                    len,
                    dirty: false,
                };
            }
        }
        if want >= POOL_MIN {
            // A cache-line boundary, so that blocks of rows can be written
            // a whole line at a time (`stream`).
            let buf = vec![T::default(); len + 64 / size];
            let start = buf.as_ptr() as usize;
            let skip = start.next_multiple_of(64) - start;
            if skip.is_multiple_of(size) && skip / size + len <= buf.len() {
                return OutCol {
                    buf,
                    off: skip / size,
                    len,
                    dirty: false,
                };
            }
        }
        OutCol {
            buf: vec![T::default(); len],
            off: 0,
            len,
            dirty: false,
        }
    }

    /// The numpy array, sharing this memory.
    pub(crate) fn into_pyarray(self, py: Python<'_>) -> PyResult<Bound<'_, PyArray1<T>>> {
        let OutCol {
            mut buf, off, len, ..
        } = self;
        let size = std::mem::size_of::<T>();
        if len.saturating_mul(size) < POOL_MIN || pool_limit() == 0 {
            if off == 0 {
                buf.truncate(len);
                return Ok(buf.into_pyarray(py));
            }
            buf.truncate(off + len);
            let all = numpy::ndarray::Array1::from_vec(buf);
            return Ok(PyArray1::from_owned_array(
                py,
                all.slice_move(numpy::ndarray::s![off..]),
            ));
        }
        let Some(values) = buf.get(off..off + len) else {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "output buffer shorter than its array (a priceguard bug)",
            ));
        };
        // SAFETY: `values` is `len` initialised values of `buf`, whose heap
        // memory neither moves nor is freed while the owner below lives:
        // the owner only gives `buf` back when numpy drops the last array
        // with it as base.
        let view = unsafe { ArrayView1::from_shape_ptr(len, values.as_ptr()) };
        let owner = Bound::new(
            py,
            OutBuffer {
                buf: Some(T::wrap(buf, off)),
            },
        )?;
        // SAFETY: as above; `owner` becomes the array's base object.
        Ok(unsafe { PyArray1::borrow_from_array(&view, owner.into_any()) })
    }
}

impl OutCol<u8> {
    /// A numpy bool array over these bytes. Bool outputs are kept as
    /// bytes on the Rust side: the memory is recycled, and numpy code may
    /// store any byte in a bool array, which Rust must never read as a
    /// `bool`. Every byte written here is 0 or 1.
    pub(crate) fn into_bool_pyarray(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        self.into_pyarray(py)?
            .call_method1("view", (numpy::dtype::<bool>(py),))
    }
}

impl<T> std::ops::Deref for OutCol<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.buf.get(self.off..self.off + self.len).unwrap_or(&[])
    }
}

impl<T> std::ops::DerefMut for OutCol<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.buf
            .get_mut(self.off..self.off + self.len)
            .unwrap_or(&mut [])
    }
}

/// Asks for transparent huge pages on `len` bytes at `addr`, both
/// multiples of 2 MiB inside one of our allocations.
#[cfg(target_os = "linux")]
fn advise_huge(addr: usize, len: usize) {
    // SAFETY: a hint on whole pages inside an allocation we own; it changes
    // no contents and no mapping. A failure (no THP support, another page
    // size) leaves ordinary pages, so it is ignored.
    unsafe {
        libc::madvise(addr as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_: usize, _: usize) {}

/// A money output column: float64 major units with NaN for none, or int64
/// minor units with a validity array.
pub(crate) struct MoneyOut {
    minor: bool,
    major: OutCol<f64>,
    raw: OutCol<i64>,
    /// 0 / 1, handed to numpy as bool (see `OutCol::into_bool_pyarray`).
    valid: OutCol<u8>,
}

impl MoneyOut {
    fn new(minor: bool, n: usize) -> MoneyOut {
        MoneyOut {
            minor,
            major: OutCol::zeroed(if minor { 0 } else { n }),
            raw: OutCol::zeroed(if minor { n } else { 0 }),
            valid: OutCol::zeroed(if minor { n } else { 0 }),
        }
    }

    fn sink(&mut self, per_major: f64) -> MoneyWriter<'_> {
        MoneyWriter {
            minor: self.minor,
            per_major,
            major: &mut self.major,
            raw: &mut self.raw,
            valid: &mut self.valid,
        }
    }

    pub(crate) fn export<'py>(
        self,
        py: Python<'py>,
        dict: &Bound<'py, PyDict>,
        name: &str,
    ) -> PyResult<()> {
        if self.minor {
            dict.set_item(name, self.raw.into_pyarray(py)?)?;
            dict.set_item(format!("{name}_valid"), self.valid.into_bool_pyarray(py)?)?;
        } else {
            dict.set_item(name, self.major.into_pyarray(py)?)?;
        }
        Ok(())
    }
}

/// The output arrays of a whole batch.
pub(crate) struct Outputs {
    pub(crate) price: MoneyOut,
    pub(crate) lower: MoneyOut,
    pub(crate) upper: MoneyOut,
    pub(crate) promo_spend: MoneyOut,
    pub(crate) outcome: OutCol<u8>,
    pub(crate) reason: OutCol<u8>,
    pub(crate) violated: OutCol<u64>,
    pub(crate) binding: OutCol<u64>,
    pub(crate) unmet: OutCol<u64>,
    pub(crate) relaxed: OutCol<u8>,
    /// 0 / 1, handed to numpy as bool.
    pub(crate) needs_approval: OutCol<u8>,
    pub(crate) invalid_field: OutCol<i8>,
    pub(crate) rows: usize,
    /// The exact `promo_spend` of rows where it is finer than the minor unit.
    pub(crate) fine_spends: FineSpends,
    /// The rows with a `lawful_reference`.
    pub(crate) lawful: LawfulRefs,
}

impl Outputs {
    pub(crate) fn new(minor: bool, n: usize) -> Outputs {
        // Four money columns (f64, or i64 and a validity byte), three u64
        // masks and five byte columns, as `OutCol::zeroed` allocates them.
        let (wide, narrow) = if minor { (4 + 3, 4 + 5) } else { (4 + 3, 5) };
        size_pool_for(
            alloc_bytes(n, 8).saturating_mul(wide) + alloc_bytes(n, 1).saturating_mul(narrow),
        );
        Outputs {
            rows: n,
            fine_spends: FineSpends::default(),
            lawful: LawfulRefs::default(),
            price: MoneyOut::new(minor, n),
            lower: MoneyOut::new(minor, n),
            upper: MoneyOut::new(minor, n),
            promo_spend: MoneyOut::new(minor, n),
            outcome: OutCol::zeroed(n),
            reason: OutCol::zeroed(n),
            violated: OutCol::zeroed(n),
            binding: OutCol::zeroed(n),
            unmet: OutCol::zeroed(n),
            relaxed: OutCol::zeroed(n),
            needs_approval: OutCol::zeroed(n),
            invalid_field: {
                let mut v = OutCol::zeroed(n);
                // A recycled buffer gets -1 written for every row anyway
                // (`Writer::dirty`); only fresh zeros need it here.
                if !v.dirty {
                    v.fill(-1);
                }
                v
            },
        }
    }

    pub(crate) fn sink(&mut self, cur: priceguard::Currency) -> Writer<'_> {
        let per_major = cur.minor_per_major() as f64;
        let dirty = self.unmet.dirty || self.relaxed.dirty || self.needs_approval.dirty;
        let dirty_invalid = self.invalid_field.dirty;
        Writer {
            price: self.price.sink(per_major),
            lower: self.lower.sink(per_major),
            upper: self.upper.sink(per_major),
            promo_spend: self.promo_spend.sink(per_major),
            outcome: &mut self.outcome,
            reason: &mut self.reason,
            violated: &mut self.violated,
            binding: &mut self.binding,
            unmet: &mut self.unmet,
            relaxed: &mut self.relaxed,
            needs_approval: &mut self.needs_approval,
            invalid_field: &mut self.invalid_field,
            base: 0,
            cur,
            fine: &self.fine_spends,
            lawful: &self.lawful,
            dirty,
            dirty_invalid,
            stream: self.rows >= STREAM_MIN_ROWS,
        }
    }
}

/// Batches from this size write blocks of results with streaming stores:
/// their outputs (about 51 bytes a row) are several times any cache.
const STREAM_MIN_ROWS: usize = 256 * 1024;
