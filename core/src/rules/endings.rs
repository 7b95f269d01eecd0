//! Cosmetic price endings: `endings.allowed` modulo `endings.modulus`.

use crate::rules::params::Endings;

/// Whether `price` ends in an allowed residue.
#[inline]
pub(crate) fn is_allowed(e: &Endings, price: i64) -> bool {
    let r = price.rem_euclid(e.modulus);
    e.residues().contains(&r)
}

/// The allowed ending nearest to `x` inside `[lo, hi]`; on a tie, the one
/// above when `prefer_up` (the proposal lies above `x`), else the one below.
/// `None` when no allowed ending lies in the interval.
#[inline]
pub(crate) fn nearest(e: &Endings, x: i64, lo: i64, hi: i64, prefer_up: bool) -> Option<i64> {
    let m = i128::from(e.modulus);
    let xi = i128::from(x);
    let base = xi.div_euclid(m) * m;
    let mut below: Option<i128> = None;
    let mut above: Option<i128> = None;
    for &res in e.residues() {
        let res = i128::from(res);
        // The candidates with this residue just below (<= x) and just above (>= x).
        let c0 = base + res;
        let (b, a) = if c0 <= xi { (c0, c0 + m) } else { (c0 - m, c0) };
        if b >= i128::from(lo) && b <= i128::from(hi) && below.is_none_or(|v| b > v) {
            below = Some(b);
        }
        if a >= i128::from(lo) && a <= i128::from(hi) && above.is_none_or(|v| a < v) {
            above = Some(a);
        }
    }
    let pick = match (below, above) {
        (Some(b), Some(a)) => {
            let db = xi - b;
            let da = a - xi;
            if da < db || (da == db && prefer_up) {
                a
            } else {
                b
            }
        }
        (Some(b), None) => b,
        (None, Some(a)) => a,
        (None, None) => return None,
    };
    i64::try_from(pick).ok()
}
