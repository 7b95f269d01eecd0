//! Writing decisions into a numpy batch's output arrays (`outbuf`): row
//! by row, or 64 rows at a time column by column, and the split of the
//! arrays into the ranges core's scheduler hands each worker.

use std::sync::Mutex;

use priceguard::binding::DecisionRows;
use priceguard::schedule::SplitSink;
use priceguard::{Currency, Decision};

/// Rows whose `promo_spend` is finer than the minor unit, exactly:
/// `(row, units, scale)`, the spend being `units` x `10^-scale` minor
/// units. Such rows are rare (a reference price with finer digits), so
/// the arrays keep their one value per row and this list the exact ones.
pub(crate) type FineSpends = Mutex<Vec<(usize, i64, u8)>>;

/// `(row, minor units)`: the rows whose decision carries a
/// `lawful_reference` (a `prior_price` hold or rejection with a known
/// `prior_low_price`, docs/spec.md §11.2). Rare, so a list rather than two
/// more arrays written for every row.
pub(crate) type LawfulRefs = Mutex<Vec<(usize, i64)>>;

/// Rows in a block of the kernel's `put_rows` (64; a longer call takes the
/// plain path).
pub(crate) const BLOCK: usize = 64;

/// Minor-unit money `v` as int64 values and 0/1 validity (`none` meaning
/// "no value", written as 0 with validity 0).
#[inline(always)]
pub(crate) fn minor_block(raw: &mut [i64], valid: &mut [u8], v: &[i64], none: i64) {
    for ((r, ok), &x) in raw.iter_mut().zip(valid.iter_mut()).zip(v) {
        *r = if x == none { 0 } else { x };
        *ok = u8::from(x != none);
    }
}

/// A range of a money output column.
pub(crate) struct MoneyWriter<'a> {
    pub(crate) minor: bool,
    pub(crate) per_major: f64,
    pub(crate) major: &'a mut [f64],
    pub(crate) raw: &'a mut [i64],
    pub(crate) valid: &'a mut [u8],
}

fn split_slice<T>(s: &mut [T], k: usize) -> (&mut [T], &mut [T]) {
    let k = k.min(s.len());
    s.split_at_mut(k)
}

impl<'a> MoneyWriter<'a> {
    fn split(self, k: usize) -> (MoneyWriter<'a>, MoneyWriter<'a>) {
        let (m0, m1) = split_slice(self.major, k);
        let (r0, r1) = split_slice(self.raw, k);
        let (v0, v1) = split_slice(self.valid, k);
        let (minor, per_major) = (self.minor, self.per_major);
        (
            MoneyWriter {
                minor,
                per_major,
                major: m0,
                raw: r0,
                valid: v0,
            },
            MoneyWriter {
                minor,
                per_major,
                major: m1,
                raw: r1,
                valid: v1,
            },
        )
    }

    /// Rows `at..at + v.len()`: `v` in minor units, `none` meaning "no value".
    #[inline(always)]
    pub(crate) fn put_all(&mut self, at: usize, v: &[i64], none: i64) {
        let end = at + v.len();
        if self.minor {
            if let (Some(r), Some(ok)) = (self.raw.get_mut(at..end), self.valid.get_mut(at..end)) {
                minor_block(r, ok, v, none);
            }
        } else if let Some(m) = self.major.get_mut(at..end) {
            let per_major = self.per_major;
            for (m, &x) in m.iter_mut().zip(v) {
                // `i64_to_f64` is `x as f64`, in a form AVX2 vectorises.
                let f = priceguard::money::i64_to_f64(x) / per_major;
                *m = if x == none { f64::NAN } else { f };
            }
        }
    }

    #[inline(always)]
    fn put(&mut self, at: usize, v: Option<i64>) {
        if self.minor {
            if let (Some(r), Some(ok)) = (self.raw.get_mut(at), self.valid.get_mut(at)) {
                *r = v.unwrap_or(0);
                *ok = u8::from(v.is_some());
            }
        } else if let Some(m) = self.major.get_mut(at) {
            // An exact integer divided by an exact power of ten: the
            // correctly rounded double nearest the decimal amount.
            *m = v.map_or(f64::NAN, |v| v as f64 / self.per_major);
        }
    }
}

/// A range of the output arrays: what one worker writes.
pub(crate) struct Writer<'a> {
    pub(crate) price: MoneyWriter<'a>,
    pub(crate) lower: MoneyWriter<'a>,
    pub(crate) upper: MoneyWriter<'a>,
    pub(crate) promo_spend: MoneyWriter<'a>,
    pub(crate) outcome: &'a mut [u8],
    pub(crate) reason: &'a mut [u8],
    pub(crate) violated: &'a mut [u64],
    pub(crate) binding: &'a mut [u64],
    pub(crate) unmet: &'a mut [u64],
    pub(crate) relaxed: &'a mut [u8],
    pub(crate) needs_approval: &'a mut [u8],
    pub(crate) invalid_field: &'a mut [i8],
    /// The batch's row of this range's first row.
    pub(crate) base: usize,
    pub(crate) cur: Currency,
    /// Every writer's exact finer spends.
    pub(crate) fine: &'a FineSpends,
    /// Every writer's lawful references.
    pub(crate) lawful: &'a LawfulRefs,
    /// `unmet`, `relaxed` or `needs_approval` is a recycled buffer (see
    /// `outbuf`): they are written for every row, not only where a row
    /// differs from the usual zero (which leaves a fresh array's untouched
    /// pages unfaulted). Every other array is written for every row anyway.
    pub(crate) dirty: bool,
    /// Likewise `invalid_field` (usual value -1), which is recycled.
    pub(crate) dirty_invalid: bool,
    /// Write blocks of rows with streaming stores (see `stream`): the
    /// outputs are far larger than the cache.
    pub(crate) stream: bool,
}

impl<'a> Writer<'a> {
    /// The first `k` items and the rest.
    fn split(self, k: usize) -> (Writer<'a>, Writer<'a>) {
        let (p0, p1) = self.price.split(k);
        let (l0, l1) = self.lower.split(k);
        let (u0, u1) = self.upper.split(k);
        let (s0, s1) = self.promo_spend.split(k);
        let (o0, o1) = split_slice(self.outcome, k);
        let (r0, r1) = split_slice(self.reason, k);
        let (v0, v1) = split_slice(self.violated, k);
        let (b0, b1) = split_slice(self.binding, k);
        let (m0, m1) = split_slice(self.unmet, k);
        let (x0, x1) = split_slice(self.relaxed, k);
        let (a0, a1) = split_slice(self.needs_approval, k);
        let (f0, f1) = split_slice(self.invalid_field, k);
        (
            Writer {
                price: p0,
                lower: l0,
                upper: u0,
                promo_spend: s0,
                outcome: o0,
                reason: r0,
                violated: v0,
                binding: b0,
                unmet: m0,
                relaxed: x0,
                needs_approval: a0,
                invalid_field: f0,
                base: self.base,
                cur: self.cur,
                fine: self.fine,
                lawful: self.lawful,
                dirty: self.dirty,
                dirty_invalid: self.dirty_invalid,
                stream: self.stream,
            },
            Writer {
                price: p1,
                lower: l1,
                upper: u1,
                promo_spend: s1,
                outcome: o1,
                reason: r1,
                violated: v1,
                binding: b1,
                unmet: m1,
                relaxed: x1,
                needs_approval: a1,
                invalid_field: f1,
                base: self.base + k,
                cur: self.cur,
                fine: self.fine,
                lawful: self.lawful,
                dirty: self.dirty,
                dirty_invalid: self.dirty_invalid,
                stream: self.stream,
            },
        )
    }

    /// Writes item `at`'s decision (an index into this range).
    #[inline(always)]
    pub(crate) fn put(&mut self, at: usize, d: &Decision) {
        self.price.put(at, d.price);
        self.lower.put(at, d.lower);
        self.upper.put(at, d.upper);
        if d.spend_scale == 0 {
            self.promo_spend.put(at, d.promo_spend);
        } else {
            self.put_fine_spend(at, d);
        }
        macro_rules! col {
            ($vec:ident, $v:expr) => {
                if let Some(x) = self.$vec.get_mut(at) {
                    *x = $v;
                }
            };
        }
        col!(outcome, d.outcome as u8);
        // Reason codes are 0..=69 and 100..=131: they fit a byte.
        col!(reason, u8::try_from(d.reason.code()).unwrap_or(u8::MAX));
        col!(violated, d.violated.0);
        col!(binding, d.binding.0);
        // Fresh, these start as zero (`invalid_field` as -1) and each row is
        // written once: only a value that differs is stored, so their pages
        // stay untouched unless a row needs them (see `put_rows`).
        let all = self.dirty;
        if all || d.unmet.0 != 0 {
            col!(unmet, d.unmet.0);
        }
        if all || d.relaxed.0 != 0 {
            col!(relaxed, d.relaxed.0);
        }
        if all || d.needs_approval {
            col!(needs_approval, u8::from(d.needs_approval));
        }
        if self.dirty_invalid || d.invalid_field.is_some() {
            col!(invalid_field, d.invalid_field.map_or(-1, |f| f as i8));
        }
        if let Some(v) = d.lawful_reference {
            self.put_lawful(at, v);
        }
    }

    #[cold]
    #[inline(never)]
    fn put_lawful(&mut self, at: usize, v: i64) {
        if let Ok(mut list) = self.lawful.lock() {
            list.push((self.base + at, v));
        }
    }

    /// A `promo_spend` finer than the minor unit (docs/spec.md M1): float64
    /// major units get the float nearest the exact value, int64 minor units
    /// the spend rounded up (what the campaign's budget is charged); the
    /// exact value goes to the list of fine spends.
    #[cold]
    #[inline(never)]
    fn put_fine_spend(&mut self, at: usize, d: &Decision) {
        let Some(units) = d.promo_spend else {
            self.promo_spend.put(at, None);
            return;
        };
        let m = &mut self.promo_spend;
        if m.minor {
            if let (Some(r), Some(ok)) = (m.raw.get_mut(at), m.valid.get_mut(at)) {
                *r = d.promo_spend_minor().unwrap_or(0);
                *ok = 1;
            }
        } else if let Some(x) = m.major.get_mut(at) {
            *x = crate::amounts::spend_f64(self.cur, units, d.spend_scale);
        }
        if let Ok(mut list) = self.fine.lock() {
            list.push((self.base + at, units, d.spend_scale));
        }
    }

    /// Writes the decisions of items `at..at + rows.len()`, column by column
    /// (with AVX2 when the CPU has it: the copies and conversions below are
    /// loops over 64 rows that the compiler vectorises).
    pub(crate) fn put_rows(&mut self, at: usize, rows: &DecisionRows) {
        #[cfg(target_arch = "x86_64")]
        {
            // The copy the core's loops use too (`PRICEGUARD_SIMD` caps it).
            match priceguard::simd() {
                // SAFETY: the CPU has AVX-512 F, DQ, BW and VL.
                priceguard::Simd::Avx512 => return unsafe { self.put_rows_avx512(at, rows) },
                // SAFETY: the CPU has AVX2.
                priceguard::Simd::Avx2 => return unsafe { self.put_rows_avx2(at, rows) },
                // Portable, or a copy this binding has no writer for.
                _ => {}
            }
        }
        self.put_rows_body(at, rows);
    }

    /// [`Writer::put_rows`] compiled for AVX-512 (eight rows an
    /// instruction and a native integer-to-double conversion; the
    /// streaming stores stay 32 bytes wide).
    ///
    /// # Safety
    /// The CPU must support AVX-512 F, DQ, BW and VL.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq,avx512bw,avx512vl")]
    unsafe fn put_rows_avx512(&mut self, at: usize, rows: &DecisionRows) {
        if self.stream {
            // SAFETY: AVX-512 F implies AVX2, `put_rows_stream`'s need.
            unsafe { self.put_rows_stream(at, rows) };
        } else {
            self.put_rows_body(at, rows);
        }
    }

    /// [`Writer::put_rows`] compiled for AVX2.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn put_rows_avx2(&mut self, at: usize, rows: &DecisionRows) {
        if self.stream {
            // SAFETY: this function's own requirement (AVX2).
            unsafe { self.put_rows_stream(at, rows) };
        } else {
            self.put_rows_body(at, rows);
        }
    }

    #[inline(always)]
    pub(crate) fn put_rows_body(&mut self, at: usize, rows: &DecisionRows) {
        let end = at + rows.len();
        self.price.put_all(at, rows.price(), i64::MIN);
        self.lower.put_all(at, rows.lower(), i64::MIN);
        self.upper.put_all(at, rows.upper(), i64::MAX);
        self.promo_spend.put_all(at, rows.promo_spend(), -1);
        macro_rules! copy {
            ($vec:ident, $src:expr, |$x:ident| $f:expr) => {
                if let Some(dst) = self.$vec.get_mut(at..end) {
                    for (d, $x) in dst.iter_mut().zip($src) {
                        *d = $f;
                    }
                }
            };
        }
        copy!(outcome, rows.outcome(), |x| *x);
        copy!(reason, rows.reason(), |x| *x);
        copy!(violated, rows.violated(), |x| *x);
        copy!(binding, rows.binding(), |x| *x);
        // The rows path's invariants: nothing unmet, relaxed, flagged or
        // invalid. Fresh arrays already hold exactly that (made zeroed,
        // `invalid_field` filled with -1) and each row is written once, so
        // they are left alone: pages nobody writes are never faulted in.
        if self.dirty {
            copy!(unmet, rows.price(), |_x| 0);
            copy!(relaxed, rows.price(), |_x| 0);
            copy!(needs_approval, rows.price(), |_x| 0);
        }
        if self.dirty_invalid {
            copy!(invalid_field, rows.price(), |_x| -1);
        }
    }
}

impl SplitSink for Writer<'_> {
    fn split_at(self, row: usize) -> (Self, Self) {
        self.split(row)
    }
}
