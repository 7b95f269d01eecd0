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

/// Eight ASCII zeros.
const ZEROS: u64 = 0x3030_3030_3030_3030;

/// The value of the eight ASCII digits of `w` (the first in the lowest
/// byte), `None` when a byte is not a digit: the digits are combined
/// pairwise, then in fours, then in eights (Lemire).
#[inline(always)]
fn eight_digits(w: u64) -> Option<u64> {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    // A digit's high nibble is 3 and adding 6 keeps it so (no carry
    // leaves a byte whose high nibble is 3).
    if (w & HIGH) != ZEROS || (w.wrapping_add(0x0606_0606_0606_0606) & HIGH) != ZEROS {
        return None;
    }
    let v = w.wrapping_sub(ZEROS);
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let a = (v & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
    let b = ((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
    Some(a.wrapping_add(b) >> 32)
}

/// [`whole`] of `data[start..end]` when it is 9 to 16 plain digits (unix
/// times), read as two eight-byte words: the first eight digits, and the
/// last eight bytes of the field (which overlap the first word; the
/// overlap is dropped). `None` for any other field, and when the field
/// does not lie in `data`; the caller then asks [`whole`].
#[inline(always)]
pub fn long_whole(data: &[u8], start: usize, end: usize) -> Option<i64> {
    let field = data.get(start..end)?;
    let n = field.len();
    if !(9..=16).contains(&n) {
        return None;
    }
    let (first, _) = field.split_first_chunk::<8>()?;
    let (_, last) = field.split_last_chunk::<8>()?;
    let hi = eight_digits(u64::from_le_bytes(*first))?;
    // The last n - 8 digits are the top bytes of the last word; the bytes
    // below them (already read in `first`) become zeros.
    let keep = 8 * (16 - n) as u32;
    let low = u64::from_le_bytes(*last);
    let lo = eight_digits(((low >> keep) << keep) | (ZEROS & ((1u64 << keep) - 1)))?;
    let scale = *POW10_8.get(n - 8)?;
    i64::try_from(hi.wrapping_mul(scale).wrapping_add(lo)).ok()
}

/// [`money`] of `data[start..end]` when it has the commonest form: an
/// unsigned amount with exactly `digits` (1 to 4) fraction digits and at
/// most eight digits in all (`103.98`). The eight bytes of `data` that end
/// with the field are read as one word: the point must be the byte
/// `digits` from the end, the integer digits move up one byte over it,
/// and the bytes before the field become zeros. `None` for any other
/// field, and when fewer than eight bytes of `data` end with it; the
/// caller then asks [`money`].
#[inline(always)]
pub fn short_money(data: &[u8], start: usize, end: usize, digits: u8) -> Option<i64> {
    let d = u32::from(digits);
    let n = end.checked_sub(start)?;
    // At least one integer digit, the point and the fraction; the point
    // is not the first byte of the word.
    if d == 0 || d > 4 || n < d as usize + 2 || n > 8 {
        return None;
    }
    let word: [u8; 8] = data.get(end.checked_sub(8)?..end)?.try_into().ok()?;
    let w = u64::from_le_bytes(word);
    // Byte 7 - d is the point.
    if (w >> (8 * (7 - d))) & 0xFF != u64::from(b'.') {
        return None;
    }
    let frac = (w >> (8 * (8 - d))) << (8 * (8 - d));
    // The integer digits, one byte up, over the point; only the field's
    // bytes (the top n of the word, one fewer once the point is gone).
    let below = 8 * (9 - n as u32);
    let int = ((w << 8) >> below << below) & ((1u64 << (8 * (8 - d))) - 1);
    let fill = ZEROS & ((1u64 << below) - 1);
    let v = eight_digits(frac | int | fill)?;
    i64::try_from(v).ok()
}

/// `10^k` for `k <= 8`.
const POW10_8: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

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

    /// The two-word reader answers only where [`whole`] does, with the
    /// same value, and answers for the unix times of the sample.
    #[test]
    fn long_whole_agrees_with_whole() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(14);
        let alphabet = b"0123456789012345678901234567890123456789-.x ";
        let mut accepted = 0;
        for _ in 0..200_000 {
            let len = rng.random_range(0..20);
            let field = random_text(&mut rng, alphabet);
            let field = field.get(..len.min(field.len())).unwrap_or(&[]).to_vec();
            let mut data = b"1,".to_vec();
            data.extend_from_slice(&field);
            data.extend_from_slice(b",42");
            if let Some(v) = long_whole(&data, 2, 2 + field.len()) {
                accepted += 1;
                assert_eq!(
                    whole(&field),
                    Some(v),
                    "{}",
                    String::from_utf8_lossy(&field)
                );
            }
        }
        assert!(accepted > 1_000, "too few accepted: {accepted}");
        for text in [
            &b"1795000000"[..],
            b"100000000",
            b"9999999999999999",
            b"0000000000",
        ] {
            let v = long_whole(text, 0, text.len());
            assert!(v.is_some());
            assert_eq!(v, whole(text));
        }
    }

    /// The one-word money reader answers only where [`money`] does, with
    /// the same value, and answers for the prices of the sample.
    #[test]
    fn short_money_agrees_with_money() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(15);
        let alphabet = b"0123456789012345678901234567890123456789..-x";
        let mut accepted = 0;
        for _ in 0..300_000 {
            let len = rng.random_range(0..11);
            let field = random_text(&mut rng, alphabet);
            let field = field.get(..len.min(field.len())).unwrap_or(&[]).to_vec();
            // Bytes before the field: any, or too few for a word.
            let before = random_text(&mut rng, b"0123456789.,-");
            let mut data = before.clone();
            data.extend_from_slice(&field);
            data.push(b',');
            let digits = rng.random_range(0..=4u8);
            let (start, end) = (before.len(), before.len() + field.len());
            if let Some(v) = short_money(&data, start, end, digits) {
                accepted += 1;
                let s = String::from_utf8_lossy(&field);
                assert_eq!(money(&field, digits), Some(v), "{s} {digits}");
            }
        }
        assert!(accepted > 1_000, "too few accepted: {accepted}");
        let row = b"sku,103.98,9.97,0.05,99999.99,";
        for (start, end) in [(4, 10), (11, 15), (16, 20), (21, 29)] {
            let v = short_money(row, start, end, 2);
            assert!(v.is_some());
            assert_eq!(v, money(row.get(start..end).unwrap_or(&[]), 2));
        }
    }

    #[test]
    fn fast_paths_agree_with_set_field_text() {
        // Any policy in a currency of two decimals (the crate ships no
        // files from outside it, so not examples/policy.toml).
        let policy = Policy::from_toml_str(
            "name = \"fast\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"0.99\"\nmax_price = \"5000\"\n",
        )
        .unwrap();
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
