//! Which SIMD copies of the vectorised loops this CPU can run, and the one
//! place that runs them.
//!
//! The columnar kernel (`lanes`) and the float conversions of
//! [`crate::money`] are compiled up to three times: portable, AVX2 and
//! AVX-512. The copy is picked per call from what the CPU reports, capped
//! by the environment variable `PRICEGUARD_SIMD` (`portable`, `avx2`;
//! anything else, or unset, means the widest the CPU has), read once: a
//! way to rule a SIMD copy out when chasing a problem, and how the Python
//! tests run every copy. Every copy gives the same answers (tests compare
//! them with each other and with the general engine).
//!
//! This module is the only one in the crate allowed `unsafe` code
//! (`#![deny(unsafe_code)]` holds everywhere else): a vectorised loop is a
//! `Kernel` whose body is written once, and `run` calls it through a
//! `#[target_feature]` function of the copy the CPU has, after checking
//! that it has it. (memchr's `unsafe_ifunc!` and pulp's `WithSimd` are the
//! same idea.)

/// The SIMD copies of the vectorised loops (see [`simd`]), narrowest
/// first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Simd {
    /// Plain code for any CPU (the compiler still uses what the build
    /// target allows, SSE2 on x86-64).
    Portable,
    /// AVX2: four rows per instruction.
    Avx2,
    /// AVX-512 F, DQ, BW and VL: eight rows per instruction.
    Avx512,
}

impl Simd {
    /// `"portable"`, `"avx2"` or `"avx512"`.
    pub fn name(self) -> &'static str {
        match self {
            Simd::Portable => "portable",
            Simd::Avx2 => "avx2",
            Simd::Avx512 => "avx512",
        }
    }
}

/// The widest SIMD copy in use: what the CPU has, capped by
/// `PRICEGUARD_SIMD` (read once per process; later calls are one load).
#[inline]
pub fn simd() -> Simd {
    #[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
    {
        detect::simd()
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64", not(miri))))]
    {
        Simd::Portable
    }
}

/// A loop to run in the widest SIMD copy the CPU allows. The body is
/// written once, in [`Kernel::run`], which must be `#[inline(always)]`
/// (with everything it calls on the hot path) so that each copy compiles
/// it for its own instruction set.
pub(crate) trait Kernel {
    /// What the loop returns.
    type Output;
    /// The loop itself.
    fn run(self) -> Self::Output;
}

/// Runs `kernel` in the widest copy that both this CPU (see [`simd`]) and
/// `cap` allow, and says which copy that was. `cap` is for tests and
/// benches that pin a copy; everything else passes [`Simd::Avx512`].
#[inline]
#[cfg_attr(
    not(all(feature = "std", target_arch = "x86_64", not(miri))),
    allow(unused_variables)
)]
pub(crate) fn run<K: Kernel>(kernel: K, cap: Simd) -> (K::Output, Simd) {
    #[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
    match simd().min(cap) {
        // SAFETY: `simd()` reports AVX-512 F, DQ, BW and VL only when the
        // CPU has all four (`detect::ask`).
        Simd::Avx512 => return (unsafe { copies::avx512(kernel) }, Simd::Avx512),
        // SAFETY: `simd()` reports AVX2 or wider only when the CPU has AVX2.
        Simd::Avx2 => return (unsafe { copies::avx2(kernel) }, Simd::Avx2),
        Simd::Portable => {}
    }
    (kernel.run(), Simd::Portable)
}

#[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
mod copies {
    use super::Kernel;

    /// `kernel` compiled for AVX2 (four 64-bit lanes per instruction).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn avx2<K: Kernel>(kernel: K) -> K::Output {
        kernel.run()
    }

    /// `kernel` compiled for AVX-512 (eight lanes per instruction, mask
    /// registers, and the 64-bit multiply and conversions AVX2 lacks).
    ///
    /// # Safety
    /// The CPU must support AVX-512 F, DQ, BW and VL.
    #[target_feature(enable = "avx512f,avx512dq,avx512bw,avx512vl")]
    pub(super) unsafe fn avx512<K: Kernel>(kernel: K) -> K::Output {
        kernel.run()
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
mod detect {
    use super::Simd;
    use core::sync::atomic::{AtomicU8, Ordering};

    /// 0 not asked yet; else 1 + the copy's place in [`Simd`]'s order.
    static LEVEL: AtomicU8 = AtomicU8::new(0);

    const ALL: [Simd; 3] = [Simd::Portable, Simd::Avx2, Simd::Avx512];

    #[inline]
    pub(super) fn simd() -> Simd {
        let l = match LEVEL.load(Ordering::Relaxed) {
            0 => {
                let l = ask() as u8;
                LEVEL.store(l + 1, Ordering::Relaxed);
                l
            }
            l => l - 1,
        };
        ALL.get(usize::from(l)).copied().unwrap_or(Simd::Portable)
    }

    #[cold]
    fn ask() -> Simd {
        let cap = match std::env::var("PRICEGUARD_SIMD").as_deref() {
            Ok("portable") => Simd::Portable,
            Ok("avx2") => Simd::Avx2,
            _ => Simd::Avx512,
        };
        let has = if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vl")
        {
            Simd::Avx512
        } else if std::is_x86_feature_detected!("avx2") {
            Simd::Avx2
        } else {
            Simd::Portable
        };
        cap.min(has)
    }
}
