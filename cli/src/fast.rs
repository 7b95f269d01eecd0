//! Fast paths for the plain numbers that make up almost every CSV field.
//!
//! Each function accepts only a narrow, unambiguous form and returns `None`
//! for anything else; the caller then takes the general path
//! ([`priceguard::Policy::set_field_text`]), which reads every form SPEC
//! allows and words every error. For the forms accepted here, the value is
//! exactly the one the general path gives (the tests compare them), so a
//! fast path changes no decision and no message.

use priceguard::MAX_MONEY;

/// Powers of ten up to the most minor-unit digits handled here.
const POW10: [u64; 5] = [1, 10, 100, 1_000, 10_000];

/// Most integer digits of a money amount handled here: 15 digits stay
/// below [`MAX_MONEY`] in major units and cannot overflow once scaled.
const MAX_INT_DIGITS: usize = 15;

/// Most digits of a whole number handled here (always fits `i64`); also
/// the most digits [`digits`] is ever asked for.
const MAX_WHOLE_DIGITS: usize = 18;

/// Reads the leading ASCII digits of `bytes`: their value and count, and
/// the rest. At most `max` digits are read; more give `None`.
#[inline]
fn digits(bytes: &[u8], max: usize) -> Option<(u64, usize, &[u8])> {
    let mut value: u64 = 0;
    let mut n = 0;
    let mut rest = bytes;
    while let Some((&b, tail)) = rest.split_first() {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if n == max {
            return None;
        }
        // At most 18 digits: below 10^18, no overflow (wrapping ops skip
        // the overflow checks of release builds on this hot loop).
        value = value.wrapping_mul(10).wrapping_add(u64::from(d));
        n += 1;
        rest = tail;
    }
    Some((value, n, rest))
}

/// Minor units of a plain decimal (`1234`, `12.5`, `-0.99`) with at most
/// `digits` fraction digits, within [`MAX_MONEY`]; `None` for any other
/// text (surrounding space, `+`, a leading `.`, extra digits even when
/// zero, out of range, not a number), which the general path decides.
#[inline]
pub fn money(text: &[u8], digits: u8) -> Option<i64> {
    let scale = *POW10.get(usize::from(digits))?;
    let (neg, body) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let (int, n_int, rest) = self::digits(body, MAX_INT_DIGITS)?;
    if n_int == 0 {
        return None;
    }
    let frac = match rest.split_first() {
        None => 0,
        Some((b'.', fraction)) => {
            let (frac, n_frac, tail) = self::digits(fraction, usize::from(digits))?;
            if !tail.is_empty() {
                return None;
            }
            frac.wrapping_mul(*POW10.get(usize::from(digits) - n_frac)?)
        }
        Some(_) => return None,
    };
    // int < 10^15, scale <= 10^4 and frac < scale: no overflow in u64.
    let value = int.wrapping_mul(scale).wrapping_add(frac);
    if value > MAX_MONEY.unsigned_abs() {
        return None;
    }
    let value = i64::try_from(value).ok()?;
    Some(if neg { -value } else { value })
}

/// A whole number written as plain digits with an optional `-`
/// (`1795000000`, `-3`), at most 18 digits; `None` for any other text.
#[inline]
pub fn whole(text: &[u8]) -> Option<i64> {
    let (neg, body) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let (value, n, rest) = digits(body, MAX_WHOLE_DIGITS)?;
    if n == 0 || !rest.is_empty() {
        return None;
    }
    let value = i64::try_from(value).ok()?;
    Some(if neg { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use priceguard::{Field, Item, Policy};
    use rand::{Rng, SeedableRng};

    #[test]
    fn money_reads_plain_decimals() {
        assert_eq!(money(b"14.30", 2), Some(1430));
        assert_eq!(money(b"14.3", 2), Some(1430));
        assert_eq!(money(b"14", 2), Some(1400));
        assert_eq!(money(b"14.", 2), Some(1400));
        assert_eq!(money(b"0.05", 2), Some(5));
        assert_eq!(money(b"-0.05", 2), Some(-5));
        assert_eq!(money(b"-0", 2), Some(0));
        assert_eq!(money(b"1430", 0), Some(1430));
        assert_eq!(money(b"1234.567", 3), Some(1_234_567));
        assert_eq!(money(b"1.2345", 4), Some(12_345));
        assert_eq!(money(b"10000000000000", 2), Some(1_000_000_000_000_000));
    }

    #[test]
    fn money_leaves_everything_else_to_the_general_path() {
        for text in [
            &b""[..],
            b"-",
            b".",
            b".5",
            b"+5",
            b" 5",
            b"5 ",
            b"5\r",
            b"1,299.00",
            b"12.345",
            b"12.300",
            b"1e3",
            b"N/A",
            b"--5",
            b"5-",
            b"1.2.3",
            b"10000000000000.01",
            b"1000000000000000",
            b"99999999999999999999999",
            b"\xff",
        ] {
            assert_eq!(money(text, 2), None, "{}", String::from_utf8_lossy(text));
        }
        assert_eq!(money(b"1.5", 0), None);
        assert_eq!(money(b"1", 5), None);
    }

    #[test]
    fn whole_reads_plain_integers() {
        assert_eq!(whole(b"1795000000"), Some(1_795_000_000));
        assert_eq!(whole(b"0"), Some(0));
        assert_eq!(whole(b"-3"), Some(-3));
        assert_eq!(whole(b"999999999999999999"), Some(999_999_999_999_999_999));
        for text in [
            &b""[..],
            b"-",
            b"+3",
            b"3.0",
            b" 3",
            b"3 ",
            b"1e3",
            b"9999999999999999999",
            b"x",
        ] {
            assert_eq!(whole(text), None, "{}", String::from_utf8_lossy(text));
        }
    }

    /// Random texts near the accepted forms: wherever a fast path answers,
    /// the core's reading of the same text gives the same value.
    fn random_text(rng: &mut rand_pcg::Pcg64, alphabet: &[u8]) -> Vec<u8> {
        let len = rng.random_range(0..22);
        (0..len)
            .map(|_| {
                let k = rng.random_range(0..alphabet.len());
                alphabet.get(k).copied().unwrap_or(b'0')
            })
            .collect()
    }

    #[test]
    fn fast_paths_agree_with_the_core_on_random_texts() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(11);
        let alphabet = b"0123456789000009999.-+ e,";
        let mut accepted = 0;
        for digits in 0..=4u8 {
            for _ in 0..40_000 {
                let text = random_text(&mut rng, alphabet);
                let s = String::from_utf8_lossy(&text);
                if let Some(v) = money(&text, digits) {
                    accepted += 1;
                    assert_eq!(priceguard::money::parse_minor(&s, digits), Ok(v), "{s}");
                }
                if let Some(v) = whole(&text) {
                    accepted += 1;
                    assert_eq!(s.parse::<i64>(), Ok(v), "{s}");
                }
            }
        }
        assert!(accepted > 10_000, "too few accepted texts: {accepted}");
    }

    #[test]
    fn fast_paths_agree_with_set_field_text() {
        let policy = Policy::from_toml_str(include_str!("../../examples/policy.toml")).unwrap();
        let digits = policy.currency().minor_units();
        let mut rng = rand_pcg::Pcg64::seed_from_u64(12);
        let alphabet = b"0123456789.-";
        for _ in 0..20_000 {
            let text = random_text(&mut rng, alphabet);
            let s = String::from_utf8_lossy(&text);
            for field in [Field::UnitCost, Field::ProposedPrice] {
                if let Some(v) = money(&text, digits) {
                    let mut a = Item::new(0);
                    assert!(policy.set_field_text(&mut a, field, &s).is_ok(), "{s}");
                    let mut b = Item::new(0);
                    b.set(field, v);
                    assert_eq!(a, b, "{s}");
                }
            }
            for field in [Field::Now, Field::ExpectedUnits, Field::ChangesInWindow] {
                if let Some(v) = whole(&text) {
                    let mut a = Item::new(0);
                    assert!(policy.set_field_text(&mut a, field, &s).is_ok(), "{s}");
                    let mut b = Item::new(0);
                    b.set(field, v);
                    assert_eq!(a, b, "{s}");
                }
            }
        }
    }
}
