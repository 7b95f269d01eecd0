//! Money finer than the currency's minor unit (docs/spec.md M1), as every
//! door of the package reads and writes it.
//!
//! - Reading: each value of a column becomes an exact [`Amount`], a count
//!   of `10^-scale` minor units with the least scale that holds it (0 for
//!   whole minor units, almost every real price). [`unify`] then brings
//!   every money value of a row to the row's scale, the largest of its
//!   values' (as `Item::set_amount` would, so a row is the item
//!   `Item::normalized` gives), for `Columns::with_scales`. A chunk whose
//!   values are all whole minor units has no scales at all and keeps every
//!   fast path.
//! - Writing: `promo_spend` is exact in `10^-spend_scale` minor units
//!   ([`spend_f64`], [`amount_decimal`]).

use priceguard::money::{pow10_i64, Amount, Digits, MAX_SCALE};
use priceguard::{Currency, Field, Item, MoneyError, Policy};
use pyo3::prelude::*;

use crate::convert::{decimal_class, set_field};

/// A per-row scale byte meaning "no value" (an absent value of an
/// [`Amount`] column read from Python objects).
pub(crate) const ABSENT: u8 = 0xFE;
/// A per-row scale byte meaning "a value that cannot be used".
pub(crate) const BAD: u8 = 0xFF;

/// One Python value of a money `field` as an [`Amount`] with its state
/// packed in the scale byte: `(units, scale)`, `(0, ABSENT)` or
/// `(0, BAD)`. Read exactly as `Policy.evaluate` reads it (through
/// `set_field` on a scratch item): `Decimal` and `str` exactly, `int` as
/// major units, `float` through its shortest repr, `None`, NaN and
/// `pandas.NA` absent, float32 refused.
pub(crate) fn read_amount(policy: &Policy, field: Field, obj: &Bound<'_, PyAny>) -> (i64, u8) {
    let mut item = Item::new(0);
    if set_field(policy, &mut item, field, obj).is_err() {
        // A missing proposal is refused by `set_field` ("is required"):
        // the columns name it bad too.
        return (0, BAD);
    }
    match item.amount(field) {
        Some(a) => {
            let a = a.reduced();
            (a.units, a.scale)
        }
        None => (0, ABSENT),
    }
}

/// A `decimal128` / `decimal256` value (`digits` of it given as `text`
/// when it does not fit 128 bits), at Arrow scale `scale`, in major units
/// of `cur`, as an [`Amount`]: exact up to [`MAX_SCALE`] digits beyond
/// the minor unit, finer digits as `how` says, through the same reading
/// as text (`Currency::parse_amount`).
pub(crate) fn decimal_amount(
    cur: Currency,
    v: i128,
    scale: i8,
    how: Digits,
) -> Result<Amount, MoneyError> {
    let digits = i32::from(cur.minor_units());
    let s = i32::from(scale);
    let a = if s <= digits {
        // Whole minor units: v x 10^(digits - s).
        let k = u32::try_from(digits - s).map_err(|_| MoneyError::OutOfRange)?;
        let m = 10_i128
            .checked_pow(k)
            .and_then(|p| v.checked_mul(p))
            .or(if v == 0 { Some(0) } else { None })
            .ok_or(MoneyError::OutOfRange)?;
        Amount::minor(i64::try_from(m).map_err(|_| MoneyError::OutOfRange)?)
    } else if s - digits <= i32::from(MAX_SCALE) {
        // `s - digits` digits beyond the minor unit, kept exactly.
        let mut extra = u8::try_from(s - digits).map_err(|_| MoneyError::OutOfRange)?;
        // Trailing zeros dropped before the 64-bit check: 200000000000.000001
        // at Arrow scale 8 is 2 x 10^19 + 100, but 2 x 10^17 + 1 at its own.
        let mut v = v;
        while extra > 0 && v % 10 == 0 {
            v /= 10;
            extra -= 1;
        }
        Amount {
            units: i64::try_from(v).map_err(|_| MoneyError::OutOfRange)?,
            scale: extra,
        }
    } else {
        // More digits than an item keeps: rounded as text would be.
        return cur.parse_amount(&decimal_text(&v.to_string(), scale), how);
    };
    if a.in_range() {
        Ok(a)
    } else {
        Err(MoneyError::OutOfRange)
    }
}

/// The decimal text of an unscaled integer `digits` (`"-12345"`) at
/// Arrow scale `scale` (`"-123.45"` at 2; `"1234500"` at -2).
pub(crate) fn decimal_text(digits: &str, scale: i8) -> String {
    let (sign, body) = match digits.strip_prefix('-') {
        Some(b) => ("-", b),
        None => ("", digits),
    };
    if scale <= 0 {
        let zeros = "0".repeat(usize::from(scale.unsigned_abs()));
        return format!("{sign}{body}{zeros}");
    }
    let s = usize::from(scale.unsigned_abs());
    if body.len() > s {
        let (int, frac) = body.split_at(body.len() - s);
        format!("{sign}{int}.{frac}")
    } else {
        format!("{sign}0.{}{body}", "0".repeat(s - body.len()))
    }
}

/// One money column of a chunk of rows, for [`unify`].
pub(crate) struct MoneyCol<'c> {
    pub(crate) field: Field,
    /// Values in `10^-scales[r]` minor units (whole minor units without
    /// `scales`).
    pub(crate) vals: &'c mut [i64],
    /// Arrow-style validity bits (bit set: a value); `None`: every row.
    pub(crate) valid: Option<&'c [u8]>,
    /// Each row's scale; `None`: every value in whole minor units.
    pub(crate) scales: Option<&'c [u8]>,
}

#[inline(always)]
fn has(valid: Option<&[u8]>, r: usize) -> bool {
    valid.is_none_or(|b| b.get(r / 8).is_some_and(|byte| byte >> (r % 8) & 1 == 1))
}

#[inline(always)]
fn own(scales: Option<&[u8]>, r: usize) -> u8 {
    scales.and_then(|s| s.get(r)).copied().unwrap_or(0)
}

/// The rank of a field in docs/spec.md §3 order: of two bad fields of a
/// row, the one read first is named (M3).
pub(crate) fn spec_rank(field: Field) -> usize {
    Field::SPEC_ORDER
        .iter()
        .position(|f| *f == field)
        .unwrap_or(usize::MAX)
}

/// Brings every money value of rows `0..n` to its row's scale: the largest
/// scale among the row's values. Returns `false`, changing nothing, when
/// every value is whole minor units; else `rows` holds each row's scale
/// (for `Columns::with_scales`) and every column's values are rescaled.
///
/// A value that no longer fits 64 bits at its row's scale makes the row
/// unusable: `bad(row, field)` names the field `Policy.evaluate` would
/// (the values set one by one in docs/spec.md §3 order with
/// `Item::set_amount`).
pub(crate) fn unify(
    cols: &mut [MoneyCol<'_>],
    rows: &mut Vec<u8>,
    n: usize,
    mut bad: impl FnMut(usize, Field),
) -> bool {
    if cols.iter().all(|c| c.scales.is_none()) {
        return false;
    }
    rows.clear();
    rows.resize(n, 0);
    let mut any = false;
    for c in cols.iter() {
        let Some(s) = c.scales else { continue };
        for (r, (row, &sc)) in rows.iter_mut().zip(s).enumerate() {
            if sc > *row && has(c.valid, r) {
                *row = sc;
                any = true;
            }
        }
    }
    if !any {
        return false;
    }
    // Rows with a value that does not fit at the row's scale (rare: only
    // amounts near the range's end with many digits): named before any
    // value is changed, from the values as read.
    let mut over: Vec<usize> = Vec::new();
    for c in cols.iter() {
        for (r, (&row, &v)) in rows.iter().zip(c.vals.iter()).enumerate() {
            let sc = own(c.scales, r);
            if row > sc && has(c.valid, r) && v.checked_mul(pow10_i64(row - sc)).is_none() {
                over.push(r);
            }
        }
    }
    if !over.is_empty() {
        over.sort_unstable();
        over.dedup();
        let mut order: Vec<usize> = (0..cols.len()).collect();
        order.sort_by_key(|&i| cols.get(i).map_or(usize::MAX, |c| spec_rank(c.field)));
        for &r in &over {
            let mut item = Item::new(0);
            let mut named = None;
            for c in order.iter().filter_map(|&i| cols.get(i)) {
                if !has(c.valid, r) {
                    continue;
                }
                let Some(&units) = c.vals.get(r) else {
                    continue;
                };
                let a = Amount {
                    units,
                    scale: own(c.scales, r),
                };
                if let Err(f) = item.set_amount(c.field, a) {
                    named = Some(f);
                    break;
                }
            }
            // Set one by one, some value fails to fit; the field of the
            // first column that does not is the fallback.
            let f = named.or_else(|| {
                order.iter().filter_map(|&i| cols.get(i)).find_map(|c| {
                    let sc = own(c.scales, r);
                    let row = rows.get(r).copied().unwrap_or(0);
                    let v = c.vals.get(r).copied().unwrap_or(0);
                    (row > sc && has(c.valid, r) && v.checked_mul(pow10_i64(row - sc)).is_none())
                        .then_some(c.field)
                })
            });
            if let Some(f) = f {
                bad(r, f);
            }
        }
    }
    for c in cols.iter_mut() {
        let (scales, valid) = (c.scales, c.valid);
        for (r, (v, &row)) in c.vals.iter_mut().zip(rows.iter()).enumerate() {
            let sc = own(scales, r);
            if row > sc && has(valid, r) {
                // Saturated only in a row named bad above.
                *v = v.saturating_mul(pow10_i64(row - sc));
            }
        }
    }
    true
}

/// The float64 nearest the exact amount `units` x `10^-scale` minor units
/// of `cur` (correctly rounded: an exact integer over an exact power of
/// ten, or the decimal text parsed).
pub(crate) fn spend_f64(cur: Currency, units: i64, scale: u8) -> f64 {
    /// The powers of ten a float64 holds exactly.
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let k = usize::from(cur.minor_units()) + usize::from(scale);
    if let (true, Some(p)) = (units.unsigned_abs() <= 1 << 53, POW10.get(k)) {
        return units as f64 / p;
    }
    cur.format_amount(Amount { units, scale })
        .to_string()
        .parse()
        .unwrap_or(f64::NAN)
}

/// `decimal.Decimal` of an exact amount, with the currency's digits and as
/// many finer ones as it has (`Decimal('44.373')`, `Decimal('14.30')`).
pub(crate) fn amount_decimal<'py>(
    py: Python<'py>,
    cur: Currency,
    amount: Option<Amount>,
) -> PyResult<Bound<'py, PyAny>> {
    match amount {
        None => Ok(py.None().into_bound(py)),
        Some(a) => decimal_class(py)?.call1((cur.format_amount(a).to_string(),)),
    }
}

/// A decision's exact `promo_spend`.
pub(crate) fn spend_amount(d: &priceguard::Decision) -> Option<Amount> {
    d.promo_spend.map(|units| Amount {
        units,
        scale: d.spend_scale,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn usd() -> Currency {
        Currency::from_code("USD").unwrap()
    }

    #[test]
    fn decimals_of_any_scale() {
        let a = |v: i128, s: i8| decimal_amount(usd(), v, s, Digits::Exact);
        assert_eq!(a(1999, 2), Ok(Amount::minor(1999)));
        assert_eq!(a(19, 0), Ok(Amount::minor(1900)));
        assert_eq!(a(2, -1), Ok(Amount::minor(2000)));
        assert_eq!(
            a(19_437_300, 6),
            Ok(Amount {
                units: 194_373,
                scale: 2
            })
        );
        assert_eq!(a(19_990_000, 6), Ok(Amount::minor(1999)));
        // Nine digits beyond the cent: rounded half to even at eight.
        assert_eq!(a(1_000_000_005, 9), Ok(Amount::minor(100)));
        assert_eq!(
            a(1_000_000_015, 9),
            Ok(Amount {
                units: 100_000_002,
                scale: 6
            })
        );
        assert_eq!(a(10_i128.pow(30), 2), Err(MoneyError::OutOfRange));
        assert_eq!(a(0, -40), Ok(Amount::minor(0)));
        assert_eq!(a(1, -40), Err(MoneyError::OutOfRange));
    }

    #[test]
    fn decimal_texts() {
        assert_eq!(decimal_text("-12345", 2), "-123.45");
        assert_eq!(decimal_text("5", 3), "0.005");
        assert_eq!(decimal_text("12", -2), "1200");
        assert_eq!(decimal_text("-7", 1), "-0.7");
    }

    #[test]
    fn unify_rescales_rows_and_names_overflow() {
        let mut proposed = [1999, 194_373, 1_000_000_000_000_000];
        let mut cost = [1000, 50, 1];
        let cost_scales = [0, 0, 6];
        let p_scales = [0, 2, 0];
        let mut rows = Vec::new();
        let mut named = Vec::new();
        let mut cols = [
            MoneyCol {
                field: Field::ProposedPrice,
                vals: &mut proposed,
                valid: None,
                scales: Some(&p_scales),
            },
            MoneyCol {
                field: Field::UnitCost,
                vals: &mut cost,
                valid: None,
                scales: Some(&cost_scales),
            },
        ];
        assert!(unify(&mut cols, &mut rows, 3, |r, f| named.push((r, f))));
        assert_eq!(rows, [0, 2, 6]);
        assert_eq!(proposed[..2], [1999, 194_373]);
        assert_eq!(cost[..2], [1000, 5000]);
        assert_eq!(named, [(2, Field::ProposedPrice)]);
    }

    #[test]
    fn spends_as_floats() {
        assert_eq!(spend_f64(usd(), 44_373, 1), 44.373);
        assert_eq!(spend_f64(usd(), 1999, 0), 19.99);
        let big = spend_f64(usd(), 123_456_789_012_345_678, 6);
        assert_eq!(big, "1234567890.12345678".parse::<f64>().unwrap());
    }
}
