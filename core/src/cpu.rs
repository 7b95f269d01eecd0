//! Which SIMD copies of the vectorised loops this CPU can run.
//!
//! The columnar kernel (`lanes`) and the float conversions of
//! [`crate::money`] are compiled up to three times: portable, AVX2 and
//! AVX-512. The copy is picked per call from what the CPU reports, capped
//! by the environment variable `PRICEGUARD_SIMD` (`portable`, `avx2`;
//! anything else, or unset, means the widest the CPU has), read once: a
//! way to rule a SIMD copy out when chasing a problem, and how the Python
//! tests run every copy. Every copy gives the same answers (tests compare
//! them with each other and with the general engine).

#[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
mod detect {
    use core::sync::atomic::{AtomicU8, Ordering};

    /// 0 not asked yet; else 1 + the level (0 portable, 1 AVX2, 2 AVX-512).
    static LEVEL: AtomicU8 = AtomicU8::new(0);

    /// The widest copy allowed: 0 portable, 1 AVX2, 2 AVX-512.
    #[inline]
    pub(crate) fn level() -> u8 {
        match LEVEL.load(Ordering::Relaxed) {
            0 => {
                let l = ask();
                LEVEL.store(l + 1, Ordering::Relaxed);
                l
            }
            l => l - 1,
        }
    }

    #[cold]
    fn ask() -> u8 {
        let cap = match std::env::var("PRICEGUARD_SIMD").as_deref() {
            Ok("portable") => 0,
            Ok("avx2") => 1,
            _ => 2,
        };
        let has = if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vl")
        {
            2
        } else if std::is_x86_feature_detected!("avx2") {
            1
        } else {
            0
        };
        cap.min(has)
    }
}

/// The CPU runs AVX2 code (and `PRICEGUARD_SIMD` allows it).
#[inline]
pub(crate) fn avx2() -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
    {
        detect::level() >= 1
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64", not(miri))))]
    {
        false
    }
}

/// The CPU runs the AVX-512 subsets the wide copies use (F, DQ, BW, VL),
/// and `PRICEGUARD_SIMD` allows them: eight rows per instruction, compares
/// into mask registers, and the 64-bit integer multiply and
/// integer/double conversions AVX2 lacks.
#[inline]
pub(crate) fn wide() -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
    {
        detect::level() >= 2
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64", not(miri))))]
    {
        false
    }
}

/// The SIMD copies of the vectorised loops (see [`simd`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
/// `PRICEGUARD_SIMD` (read once per process).
#[inline]
pub fn simd() -> Simd {
    if wide() {
        Simd::Avx512
    } else if avx2() {
        Simd::Avx2
    } else {
        Simd::Portable
    }
}
