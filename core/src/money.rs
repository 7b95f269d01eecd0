//! Money: currencies, minor units, ticks and exact rounding.
//!
//! Inside the engine every amount is an `i64` count of the policy
//! currency's minor units (cents for USD, yen for JPY, fils for KWD).
//! Decimal strings and [`Decimal`] values are converted at the edges, and
//! every bound is computed as an exact rational and rounded once, onto the
//! policy's tick, in the safe direction.

use core::fmt;

use rust_decimal::Decimal;

use crate::currency_table::CURRENCIES;

/// The largest amount, in minor units, accepted anywhere: 10^15 minor units
/// (ten trillion dollars). Larger inputs are `invalid_input`.
pub const MAX_MONEY: i64 = 1_000_000_000_000_000;

/// An ISO 4217 currency with its number of minor-unit digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    minor_units: u8,
}

impl Currency {
    /// Looks up an active ISO 4217 code (upper case, e.g. `"USD"`).
    pub fn from_code(code: &str) -> Option<Currency> {
        CURRENCIES
            .binary_search_by(|(c, _)| (*c).cmp(code))
            .ok()
            .and_then(|i| CURRENCIES.get(i))
            .map(|&(code, minor_units)| Currency { code, minor_units })
    }

    /// The three-letter code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Digits after the decimal point (USD 2, JPY 0, KWD 3).
    pub fn minor_units(&self) -> u8 {
        self.minor_units
    }

    /// Minor units per major unit (USD 100, JPY 1, KWD 1000).
    pub fn minor_per_major(&self) -> i64 {
        10_i64.pow(u32::from(self.minor_units))
    }

    /// Every currency in the table, sorted by code.
    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES
            .iter()
            .map(|&(code, minor_units)| Currency { code, minor_units })
    }

    /// Parses a decimal string such as `"14.30"` into minor units.
    ///
    /// Refuses more fractional digits than the currency has and amounts
    /// beyond [`MAX_MONEY`] in magnitude.
    pub fn parse_minor(&self, text: &str) -> Result<i64, MoneyError> {
        parse_minor(text.trim(), self.minor_units)
    }

    /// Converts an exact decimal into minor units (see [`Currency::parse_minor`]).
    pub fn decimal_to_minor(&self, value: Decimal) -> Result<i64, MoneyError> {
        decimal_to_minor(value, self.minor_units)
    }

    /// The exact decimal value of an amount in minor units.
    pub fn minor_to_decimal(&self, minor: i64) -> Decimal {
        Decimal::new(minor, u32::from(self.minor_units))
    }

    /// Rounds a binary float, in major units, half-even to the minor unit.
    ///
    /// This is the documented entry point for float callers (Python,
    /// float64 columns): NaN and infinities are refused.
    #[inline]
    pub fn float_to_minor(&self, value: f64) -> Result<i64, MoneyError> {
        float_to_minor(value, self.minor_units)
    }

    /// [`Currency::float_to_minor`] over a slice (see [`floats_to_minor`]):
    /// `dst[i]` is exact wherever `fast[i]` comes back `true`.
    #[inline]
    pub fn floats_to_minor(&self, src: &[f64], dst: &mut [i64], fast: &mut [bool]) -> usize {
        floats_to_minor(src, self.minor_units, dst, fast)
    }

    /// Reads a decimal string into an [`Amount`] (see [`parse_amount`]):
    /// digits finer than the currency are kept, never refused (M1).
    pub fn parse_amount(&self, text: &str, how: Digits) -> Result<Amount, MoneyError> {
        parse_amount(text.trim(), self.minor_units, how)
    }

    /// An exact decimal as an [`Amount`] (see [`decimal_to_amount`]).
    pub fn decimal_to_amount(&self, value: Decimal, how: Digits) -> Result<Amount, MoneyError> {
        decimal_to_amount(value, self.minor_units, how)
    }

    /// A float as an [`Amount`] (see [`float_to_amount`]).
    pub fn float_to_amount(&self, value: f64, how: Digits) -> Result<Amount, MoneyError> {
        float_to_amount(value, self.minor_units, how)
    }

    /// Displays an amount exactly: the currency's digits and any finer
    /// ones it has (`"19.4373"`, `"14.30"`).
    pub fn format_amount(&self, amount: Amount) -> FormattedAmount {
        FormattedAmount {
            amount,
            digits: self.minor_units,
        }
    }

    /// Displays `minor` with exactly the currency's digits (`"14.30"`, JPY `"1430"`).
    pub fn format(&self, minor: i64) -> FormattedMoney {
        FormattedMoney {
            minor,
            digits: self.minor_units,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// Why a money value was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// Not a decimal number.
    #[error("is not a decimal number")]
    Syntax,
    /// More fractional digits than the currency's minor units.
    #[error("has more than {0} decimal places")]
    TooPrecise(u8),
    /// Beyond [`MAX_MONEY`] in magnitude.
    #[error("is beyond the supported range")]
    OutOfRange,
    /// NaN or an infinity from a float caller.
    #[error("is not a finite number")]
    NotFinite,
}

/// A money amount rendered with a fixed number of decimals, see [`Currency::format`].
#[derive(Clone, Copy, Debug)]
pub struct FormattedMoney {
    minor: i64,
    digits: u8,
}

impl fmt::Display for FormattedMoney {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.minor < 0;
        let abs = self.minor.unsigned_abs();
        let scale = 10_u64.pow(u32::from(self.digits));
        if neg {
            f.write_str("-")?;
        }
        write!(f, "{}", abs / scale)?;
        if self.digits > 0 {
            write!(
                f,
                ".{:0width$}",
                abs % scale,
                width = usize::from(self.digits)
            )?;
        }
        Ok(())
    }
}

/// The most decimal digits an item's money keeps beyond the currency's
/// minor unit (docs/spec.md M1): USD amounts are exact to 8 decimal places.
pub const MAX_SCALE: u8 = 6;

/// `10^k` as an `i64`, for `k <= 18`; saturates beyond.
#[inline]
pub const fn pow10_i64(k: u8) -> i64 {
    let mut v: i64 = 1;
    let mut i = 0;
    while i < k {
        v = v.saturating_mul(10);
        i += 1;
    }
    v
}

/// The largest magnitude of an item's money at `scale`, in its units:
/// [`MAX_MONEY`] minor units, but at most `2^61` units, so that every sum
/// and rounding onto the tick stays far inside 64 bits (docs/spec.md M3:
/// at scale 6, about 2.3 x 10^12 minor units).
pub const fn max_units(scale: u8) -> i64 {
    let limit = MAX_MONEY.saturating_mul(pow10_i64(scale));
    if limit < 1 << 61 {
        limit
    } else {
        1 << 61
    }
}

/// How digits past [`MAX_SCALE`] are treated when an amount is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Digits {
    /// Rounded half to even to [`MAX_SCALE`] digits beyond the minor unit:
    /// costs, current prices, bounds and every other input (M1).
    Exact,
    /// Kept for the snap to the tick: digits past [`MAX_SCALE`] are folded
    /// into an odd last digit ("round to odd"), which lies strictly
    /// between the same multiples of `10^-(MAX_SCALE - 1)` minor units as
    /// the number given, so the snap, and every comparison with a price on
    /// the tick, is the one the full number gets. For `proposed_price`
    /// and `pinned_price` (see `Field::digits`).
    Snapped,
}

/// A money amount as an item holds it: `units` of `10^-scale` minor units
/// (`scale` at most [`MAX_SCALE`]). `Amount { units: 194373, scale: 2 }` is
/// 19.4373 USD; whole minor units have `scale == 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Amount {
    /// The value in `10^-scale` minor units.
    pub units: i64,
    /// Digits beyond the currency's minor unit, `0..=MAX_SCALE`.
    pub scale: u8,
}

impl Amount {
    /// Whole minor units.
    pub const fn minor(units: i64) -> Amount {
        Amount { units, scale: 0 }
    }

    /// The same value with trailing zero digits dropped: the least scale
    /// that holds it exactly.
    pub const fn reduced(self) -> Amount {
        let mut a = self;
        while a.scale > 0 && a.units % 10 == 0 {
            a.units /= 10;
            a.scale -= 1;
        }
        a
    }

    /// The value at `scale` (not below the amount's own), `None` on overflow.
    pub const fn at_scale(self, scale: u8) -> Option<i64> {
        if scale < self.scale {
            return None;
        }
        self.units.checked_mul(pow10_i64(scale - self.scale))
    }

    /// Whether the amount is within [`max_units`] of its scale in magnitude.
    pub const fn in_range(self) -> bool {
        self.units.unsigned_abs() <= max_units(self.scale) as u64
    }
}

/// `10^-scale` fractional digits beyond an `i128` accumulator's, rounded as
/// `how` says: `value` is the number's digits up to `keep` fractional
/// digits, `rest_nonzero` whether any digit past them is not zero,
/// `first_rest` the first digit past them, `rest_after_first` whether any
/// digit after that one is non-zero.
#[inline]
fn round_digits(value: i128, first_rest: u8, rest_after_first: bool, how: Digits) -> i128 {
    let rest_nonzero = first_rest != 0 || rest_after_first;
    if !rest_nonzero {
        return value;
    }
    match how {
        Digits::Exact => {
            let up = first_rest > 5 || (first_rest == 5 && (rest_after_first || value % 2 != 0));
            if up {
                value + 1
            } else {
                value
            }
        }
        Digits::Snapped => {
            if value % 2 == 0 {
                value + 1
            } else {
                value
            }
        }
    }
}

/// Reads a decimal number, in major units of a currency with `digits`
/// decimals, as an [`Amount`]: an optional sign, digits with an optional
/// fraction, and an optional exponent (`1e-05`, as Python writes small
/// floats). Digits past [`MAX_SCALE`] beyond the minor unit are treated
/// as `how` says; a magnitude beyond [`MAX_MONEY`] minor units, or one
/// that does not fit 64 bits at its scale, is out of range.
pub fn parse_amount(text: &str, digits: u8, how: Digits) -> Result<Amount, MoneyError> {
    // Whole minor units, almost every value: the plain reader (no 128-bit
    // arithmetic). It refuses finer digits and exponents, which the
    // general reader below takes.
    if let Ok(v) = parse_minor(text, digits) {
        return Ok(Amount::minor(v));
    }
    // A plain decimal with at most six digits past the minor unit (a
    // model's 19.4373): exact in 64 bits, no rounding to do.
    if let Some(a) = short_fine(text.as_bytes(), digits) {
        return a;
    }
    let bytes = text.as_bytes();
    let (neg, body) = match bytes.first() {
        Some(b'-') => (true, bytes.get(1..).unwrap_or_default()),
        Some(b'+') => (false, bytes.get(1..).unwrap_or_default()),
        _ => (false, bytes),
    };
    // Split off an exponent.
    let (mantissa, exp) = match body.iter().position(|&b| b == b'e' || b == b'E') {
        Some(i) => {
            let e = body.get(i + 1..).unwrap_or_default();
            let (eneg, ed) = match e.first() {
                Some(b'-') => (true, e.get(1..).unwrap_or_default()),
                Some(b'+') => (false, e.get(1..).unwrap_or_default()),
                _ => (false, e),
            };
            if ed.is_empty() || ed.len() > 4 || !ed.iter().all(u8::is_ascii_digit) {
                return Err(MoneyError::Syntax);
            }
            let mut v: i32 = 0;
            for &d in ed {
                v = v * 10 + i32::from(d - b'0');
            }
            (body.get(..i).unwrap_or_default(), if eneg { -v } else { v })
        }
        None => (body, 0),
    };
    let mut seen_digit = false;
    let mut seen_point = false;
    for &b in mantissa {
        match b {
            b'0'..=b'9' => seen_digit = true,
            b'.' if !seen_point => seen_point = true,
            _ => return Err(MoneyError::Syntax),
        }
    }
    if !seen_digit {
        return Err(MoneyError::Syntax);
    }
    // The digit at position `i` of the mantissa (digits only) has weight
    // 10^(int_len - 1 - i + exp) major units; keep `keep` fractional
    // digits of the minor unit's grid: 10^-(digits + MAX_SCALE) major.
    let keep = i32::from(digits) + i32::from(MAX_SCALE);
    let int_len = mantissa.iter().take_while(|&&b| b != b'.').count() as i32;
    let mut value: i128 = 0;
    let mut first_rest: Option<u8> = None;
    let mut rest_after_first = false;
    let mut pos: i32 = int_len - 1 + exp; // power of ten of the next digit
                                          // A value needs at most 19 + keep digits before overflow matters.
    let limit: i128 = i128::from(MAX_MONEY) * 10_i128.pow(u32::from(MAX_SCALE)) * 10;
    for &b in mantissa {
        if b == b'.' {
            continue;
        }
        let d = b - b'0';
        if pos >= -keep {
            value = value * 10 + i128::from(d);
            if value > limit {
                return Err(MoneyError::OutOfRange);
            }
        } else if first_rest.is_none() {
            // The first digit past the grid is at `-keep - 1`; an
            // exponent can start the digits further out (`7e-10`), and
            // the implied zeros before them are that first digit.
            if pos == -keep - 1 {
                first_rest = Some(d);
            } else {
                first_rest = Some(0);
                rest_after_first |= d != 0;
            }
        } else {
            rest_after_first |= d != 0;
        }
        pos -= 1;
    }
    // Digits that stop before the grid: scale up to it.
    while pos >= -keep {
        value *= 10;
        if value > limit {
            return Err(MoneyError::OutOfRange);
        }
        pos -= 1;
    }
    let value = round_digits(value, first_rest.unwrap_or(0), rest_after_first, how);
    let signed = if neg { -value } else { value };
    amount_from_grid(signed)
}

/// [`parse_amount`] for plain text (an optional sign, digits, a point
/// and at most `digits + MAX_SCALE` fractional digits, 18 digits in all):
/// the value needs no rounding and fits 64 bits. `None` for any other
/// text, which the general reader takes.
fn short_fine(bytes: &[u8], digits: u8) -> Option<Result<Amount, MoneyError>> {
    let (neg, body) = match bytes.first() {
        Some(b'-') => (true, bytes.get(1..)?),
        Some(b'+') => (false, bytes.get(1..)?),
        _ => (false, bytes),
    };
    let point = body.iter().position(|&b| b == b'.')?;
    let (int, frac) = (body.get(..point)?, body.get(point + 1..)?);
    let frac_digits = u8::try_from(frac.len()).ok()?;
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if frac_digits <= digits || frac_digits > digits + MAX_SCALE || int.len() + frac.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &b in int.iter().chain(frac) {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(b - b'0');
    }
    let a = Amount {
        units: if neg { -v } else { v },
        scale: frac_digits - digits,
    }
    .reduced();
    Some(if a.in_range() {
        Ok(a)
    } else {
        Err(MoneyError::OutOfRange)
    })
}

/// An [`Amount`] from a value in `10^-MAX_SCALE` minor units, reduced,
/// range-checked.
fn amount_from_grid(value: i128) -> Result<Amount, MoneyError> {
    // In range, the value fits 64 bits times 10^6: reduce it in 64 bits
    // when it fits there (a 128-bit division is a library call).
    let (mut v, mut scale) = match i64::try_from(value) {
        Ok(v) => (v, MAX_SCALE),
        Err(_) => {
            let mut v = value;
            let mut scale = MAX_SCALE;
            while scale > 0 && v % 10 == 0 {
                v /= 10;
                scale -= 1;
            }
            (i64::try_from(v).map_err(|_| MoneyError::OutOfRange)?, scale)
        }
    };
    while scale > 0 && v % 10 == 0 {
        v /= 10;
        scale -= 1;
    }
    let units = v;
    let a = Amount { units, scale };
    if !a.in_range() {
        return Err(MoneyError::OutOfRange);
    }
    Ok(a)
}

/// An exact decimal, in major units with `digits` decimals, as an [`Amount`]
/// (see [`parse_amount`]).
pub fn decimal_to_amount(value: Decimal, digits: u8, how: Digits) -> Result<Amount, MoneyError> {
    let keep = u32::from(digits) + u32::from(MAX_SCALE);
    let v = value.normalize();
    if v.scale() <= keep {
        let m = v
            .mantissa()
            .checked_mul(10_i128.pow(keep - v.scale()))
            .ok_or(MoneyError::OutOfRange)?;
        return amount_from_grid(m);
    }
    // More digits than kept: split the mantissa at the grid.
    let drop = v.scale() - keep;
    let m = v.mantissa();
    let neg = m < 0;
    let a = m.unsigned_abs();
    let p = 10_u128.pow(drop);
    let kept = i128::try_from(a / p).map_err(|_| MoneyError::OutOfRange)?;
    let rest = a % p;
    let first = u8::try_from(rest / (p / 10)).unwrap_or(9);
    let after = !rest.is_multiple_of(p / 10);
    let r = round_digits(kept, first, after, how);
    amount_from_grid(if neg { -r } else { r })
}

/// A binary float, in major units with `digits` decimals, as an
/// [`Amount`]: read as its shortest round-trip decimal (`0.1` is 0.1,
/// `13.580160000000001` is that), then as [`parse_amount`]. NaN and
/// infinities are refused.
pub fn float_to_amount(value: f64, digits: u8, how: Digits) -> Result<Amount, MoneyError> {
    if !value.is_finite() {
        return Err(MoneyError::NotFinite);
    }
    // Whole minor units, almost every real price: no formatting.
    if let Some(&pow) = POW10.get(usize::from(digits)) {
        if value.abs() <= 1e16 {
            let nearest = (value * pow).round_ties_even_compat();
            if nearest.abs() <= MAX_MONEY as f64 && nearest / pow == value {
                return Ok(Amount::minor(nearest as i64));
            }
        }
    }
    if value.abs() > 1e16 {
        return Err(MoneyError::OutOfRange);
    }
    // `Display` prints the shortest round-trip digits, never an exponent.
    let mut buf = Buf::<400>::new();
    fmt::write(&mut buf, format_args!("{value}")).map_err(|_| MoneyError::OutOfRange)?;
    parse_amount(buf.as_str(), digits, how)
}

/// A fixed-size text buffer: float formatting without allocating.
struct Buf<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Buf<N> {
    const fn new() -> Self {
        Buf {
            bytes: [0; N],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        core::str::from_utf8(self.bytes.get(..self.len).unwrap_or_default()).unwrap_or("")
    }
}

impl<const N: usize> fmt::Write for Buf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.bytes
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// An amount rendered exactly, with the currency's digits and as many more
/// as it has (`19.4373`, `14.30`), see [`Currency::format_amount`].
#[derive(Clone, Copy, Debug)]
pub struct FormattedAmount {
    amount: Amount,
    digits: u8,
}

impl fmt::Display for FormattedAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.amount.reduced();
        let total = self.digits + a.scale;
        let neg = a.units < 0;
        let abs = a.units.unsigned_abs();
        let scale = 10_u64.pow(u32::from(total));
        if neg {
            f.write_str("-")?;
        }
        write!(f, "{}", abs / scale)?;
        if total > 0 {
            write!(f, ".{:0width$}", abs % scale, width = usize::from(total))?;
        }
        Ok(())
    }
}

/// Parses a plain decimal string into minor units with `digits` decimals.
pub fn parse_minor(text: &str, digits: u8) -> Result<i64, MoneyError> {
    let bytes = text.as_bytes();
    // Accept only plain decimal notation: optional sign, digits, optional
    // fraction. No exponents, no thousands separators, no spaces.
    let (neg, body) = match bytes.first() {
        Some(b'-') => (true, bytes.get(1..).unwrap_or_default()),
        Some(b'+') => (false, bytes.get(1..).unwrap_or_default()),
        _ => (false, bytes),
    };
    let mut int_part: i64 = 0;
    let mut frac: i64 = 0;
    let mut frac_digits: u8 = 0;
    let mut seen_digit = false;
    let mut seen_point = false;
    for &b in body {
        match b {
            b'0'..=b'9' => {
                seen_digit = true;
                let d = i64::from(b - b'0');
                if seen_point {
                    if d == 0 && frac_digits >= digits {
                        // Trailing zeros beyond the currency's digits are exact.
                        frac_digits = frac_digits.saturating_add(1);
                        continue;
                    }
                    if frac_digits >= digits {
                        return Err(MoneyError::TooPrecise(digits));
                    }
                    frac = frac * 10 + d;
                    frac_digits += 1;
                } else {
                    int_part = int_part
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(d))
                        .ok_or(MoneyError::OutOfRange)?;
                    if int_part > MAX_MONEY {
                        return Err(MoneyError::OutOfRange);
                    }
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => return Err(MoneyError::Syntax),
        }
    }
    if !seen_digit {
        return Err(MoneyError::Syntax);
    }
    let used = frac_digits.min(digits);
    let frac_scaled = frac * 10_i64.pow(u32::from(digits - used));
    let value = int_part
        .checked_mul(10_i64.pow(u32::from(digits)))
        .and_then(|v| v.checked_add(frac_scaled))
        .ok_or(MoneyError::OutOfRange)?;
    if value > MAX_MONEY {
        return Err(MoneyError::OutOfRange);
    }
    Ok(if neg { -value } else { value })
}

/// Converts an exact decimal into minor units with `digits` decimals.
pub fn decimal_to_minor(value: Decimal, digits: u8) -> Result<i64, MoneyError> {
    let v = value.normalize();
    if v.scale() > u32::from(digits) {
        return Err(MoneyError::TooPrecise(digits));
    }
    let factor = 10_i128.pow(digits_u32(digits) - v.scale());
    let m = v
        .mantissa()
        .checked_mul(factor)
        .ok_or(MoneyError::OutOfRange)?;
    if m.unsigned_abs() > u128::from(MAX_MONEY.unsigned_abs()) {
        return Err(MoneyError::OutOfRange);
    }
    i64::try_from(m).map_err(|_| MoneyError::OutOfRange)
}

fn digits_u32(d: u8) -> u32 {
    u32::from(d)
}

/// Rounds a float in major units half-even to minor units with `digits` decimals.
///
/// The float is first turned into its shortest round-trip decimal form
/// (`0.1` is `0.1`, not `0.1000000000000000055…`), then rounded half-even
/// exactly, so `2.675` gives `2.68` as a person reading it expects.
#[inline]
pub fn float_to_minor(value: f64, digits: u8) -> Result<i64, MoneyError> {
    // Fast path: floats that are (to within a rounding error) whole minor
    // units, which is almost every real price. `scaled` is exact to within
    // half an ulp; the shortest decimal of `value` has at most `digits`
    // decimals exactly when the nearest integer reproduces `value`.
    if let Some(&pow) = POW10.get(usize::from(digits)) {
        if value.abs() <= 1e16 {
            let nearest = (value * pow).round_ties_even_compat();
            if nearest.abs() <= MAX_MONEY as f64 && nearest / pow == value {
                return Ok(nearest as i64);
            }
        }
    }
    float_to_minor_slow(value, digits)
}

/// [`float_to_minor`] over a slice, in a loop the compiler vectorizes:
/// wherever `fast[i]` comes back `true`, `dst[i]` is
/// `float_to_minor(src[i], digits)`; elsewhere (NaN, infinities, values
/// off the minor unit or beyond [`MAX_MONEY`]) `dst[i]` is unspecified
/// and the caller calls [`float_to_minor`]. Returns how many are fast.
/// Only the first `min(src.len(), dst.len(), fast.len())` values are read.
pub fn floats_to_minor(src: &[f64], digits: u8, dst: &mut [i64], fast: &mut [bool]) -> usize {
    crate::cpu::run(
        ToMinor {
            src,
            digits,
            dst,
            fast,
        },
        crate::Simd::Avx512,
    )
    .0
}

/// [`floats_to_minor`]'s loop, for every SIMD copy.
struct ToMinor<'a> {
    src: &'a [f64],
    digits: u8,
    dst: &'a mut [i64],
    fast: &'a mut [bool],
}

impl crate::cpu::Kernel for ToMinor<'_> {
    type Output = usize;
    #[inline(always)]
    fn run(self) -> usize {
        floats_to_minor_body(self.src, self.digits, self.dst, self.fast)
    }
}

#[inline(always)]
fn floats_to_minor_body(src: &[f64], digits: u8, dst: &mut [i64], fast: &mut [bool]) -> usize {
    let Some(&pow) = POW10.get(usize::from(digits)) else {
        fast.iter_mut().for_each(|f| *f = false);
        return 0;
    };
    let mut count: usize = 0;
    for ((&v, d), f) in src.iter().zip(dst.iter_mut()).zip(fast.iter_mut()) {
        let (minor, ok) = fast_minor(v, pow);
        *d = minor;
        *f = ok;
        // Wrapping: cannot overflow, and a checked add would stop the
        // loop from vectorising (release builds keep overflow checks).
        count = count.wrapping_add(usize::from(ok));
    }
    count
}

/// One value of the slice conversions, branch-free so that their loops
/// vectorise: `(v * pow rounded half-even, whether that is exact)`. The
/// second is `float_to_minor`'s fast-path test (NaN fails it); where it is
/// false the first is unspecified.
#[inline(always)]
fn fast_minor(v: f64, pow: f64) -> (i64, bool) {
    let (t, _, ok) = fast_parts(v, pow);
    (
        (t.to_bits() as i64).wrapping_sub(ROUNDER.to_bits() as i64),
        ok,
    )
}

/// 1.5 x 2^52: `x + M - M` rounds `|x| < 2^51` to an integer, ties to
/// even, and `(x + M).to_bits() - M.to_bits()` is that integer.
const ROUNDER: f64 = 6_755_399_441_055_744.0;

/// [`fast_minor`] with its result as a double: `(v * pow rounded
/// half-even, whether that is float_to_minor's exact value)`. Where the
/// second is true the first is an integer of magnitude at most
/// [`MAX_MONEY`], so exactly the `i64` [`fast_minor`] gives; a NaN `v`
/// gives NaN. For the block kernel, which keeps money as doubles (its
/// float64 entry point is in `batch`, which needs `alloc`).
#[cfg_attr(not(feature = "alloc"), allow(dead_code))]
#[inline(always)]
pub(crate) fn nearest_minor(v: f64, pow: f64) -> (f64, bool) {
    let (_, nearest, ok) = fast_parts(v, pow);
    (nearest, ok)
}

/// `(v * pow + M, v * pow rounded half-even, exact)`: see [`fast_minor`].
#[inline(always)]
fn fast_parts(v: f64, pow: f64) -> (f64, f64, bool) {
    const LIMIT: f64 = 2_251_799_813_685_248.0; // 2^51
    let y = v * pow;
    let t = y + ROUNDER;
    let nearest = t - ROUNDER;
    let ok = (y.abs() < LIMIT) & (nearest.abs() <= MAX_MONEY as f64) & (nearest / pow == v);
    (t, nearest, ok)
}

/// `x` rounded to an integer, ties to even, for `|x| < 2^51` (larger
/// values are already integers); branch-free, for the block loops.
#[cfg_attr(not(feature = "alloc"), allow(dead_code))]
#[inline(always)]
pub(crate) fn round_half_even_f64(x: f64) -> f64 {
    (x + ROUNDER) - ROUNDER
}

/// `10^digits` as a double, for digits a currency can have.
#[cfg(feature = "alloc")]
#[inline]
pub(crate) fn pow10(digits: u8) -> Option<f64> {
    POW10.get(usize::from(digits)).copied()
}

/// [`floats_to_minor`] for a float column with gaps, in the same one
/// vectorised pass: `flags[i]` is [`FLAG_FAST`] where `dst[i]` is
/// `float_to_minor(src[i], digits)`, [`FLAG_NAN`] where `src[i]` is NaN
/// (an absent value, to most callers) and [`FLAG_LOOK`] for the rest
/// (infinities, values off the minor unit or beyond [`MAX_MONEY`]), which
/// the caller converts one by one. One byte a row, so that eight rows read
/// as one `u64` tell the caller at once whether any needs a look. Only the
/// first `min(src.len(), dst.len(), flags.len())` values are read; returns
/// how many are fast.
#[doc(hidden)]
pub fn floats_to_minor_flags(src: &[f64], digits: u8, dst: &mut [i64], flags: &mut [u8]) -> usize {
    crate::cpu::run(
        ToMinorFlags {
            src,
            digits,
            dst,
            flags,
        },
        crate::Simd::Avx512,
    )
    .0
}

/// [`floats_to_minor_flags`]' loop, for every SIMD copy.
struct ToMinorFlags<'a> {
    src: &'a [f64],
    digits: u8,
    dst: &'a mut [i64],
    flags: &'a mut [u8],
}

impl crate::cpu::Kernel for ToMinorFlags<'_> {
    type Output = usize;
    #[inline(always)]
    fn run(self) -> usize {
        floats_to_minor_flags_body(self.src, self.digits, self.dst, self.flags)
    }
}

/// [`floats_to_minor_flags`]: `dst` holds the exact minor units.
#[doc(hidden)]
pub const FLAG_FAST: u8 = 1;
/// [`floats_to_minor_flags`]: the value is NaN.
#[doc(hidden)]
pub const FLAG_NAN: u8 = 0;
/// [`floats_to_minor_flags`]: neither; convert it with [`float_to_minor`].
#[doc(hidden)]
pub const FLAG_LOOK: u8 = 2;

#[inline(always)]
fn floats_to_minor_flags_body(src: &[f64], digits: u8, dst: &mut [i64], flags: &mut [u8]) -> usize {
    let Some(&pow) = POW10.get(usize::from(digits)) else {
        for (f, v) in flags.iter_mut().zip(src) {
            *f = if v.is_nan() { FLAG_NAN } else { FLAG_LOOK };
        }
        return 0;
    };
    let mut count: usize = 0;
    for ((&v, d), f) in src.iter().zip(dst.iter_mut()).zip(flags.iter_mut()) {
        let (minor, ok) = fast_minor(v, pow);
        *d = minor;
        // 1 when fast, else 2 unless NaN.
        *f = u8::from(ok) | (u8::from(!ok & !v.is_nan()) << 1);
        count = count.wrapping_add(usize::from(ok));
    }
    count
}

/// `x as f64` (the nearest double, ties to even), written so that a loop
/// over it vectorises without AVX-512, which alone has a 64-bit integer to
/// double instruction: `x + 2^63` split into two 32-bit halves, each exact
/// as a double, and one rounding in the final add. Used to turn minor-unit
/// results into floats a column at a time.
#[inline(always)]
pub fn i64_to_f64(x: i64) -> f64 {
    const TWO52: f64 = 4_503_599_627_370_496.0;
    const TWO52_BITS: u64 = 0x4330_0000_0000_0000;
    // Order-preserving: `u` is `x + 2^63` as an unsigned number.
    let u = (x as u64) ^ (1 << 63);
    let hi = f64::from_bits((u >> 32) | TWO52_BITS) - TWO52;
    let lo = f64::from_bits((u & 0xFFFF_FFFF) | TWO52_BITS) - TWO52;
    // `(hi - 2^31) * 2^32` has at most 33 significant bits: exact.
    (hi - 2_147_483_648.0) * 4_294_967_296.0 + lo
}

/// [`float_to_minor`] for the rest: non-finite, out-of-range and
/// off-the-unit values, through an exact decimal.
#[cold]
#[inline(never)]
fn float_to_minor_slow(value: f64, digits: u8) -> Result<i64, MoneyError> {
    if !value.is_finite() {
        return Err(MoneyError::NotFinite);
    }
    // |value| beyond MAX_MONEY in major units is out of range for any currency.
    if value.abs() > 1e16 {
        return Err(MoneyError::OutOfRange);
    }
    let pow = POW10
        .get(usize::from(digits))
        .copied()
        .ok_or(MoneyError::OutOfRange)?;
    let nearest = (value * pow).round_ties_even_compat();
    if nearest.abs() <= MAX_MONEY as f64 && nearest / pow == value {
        return Ok(nearest as i64);
    }
    let d = Decimal::try_from(value).map_err(|_| MoneyError::OutOfRange)?;
    let r = d.round_dp_with_strategy(
        u32::from(digits),
        rust_decimal::RoundingStrategy::MidpointNearestEven,
    );
    decimal_to_minor(r, digits)
}

const POW10: [f64; 5] = [1.0, 10.0, 100.0, 1000.0, 10000.0];

trait RoundTiesEven {
    fn round_ties_even_compat(self) -> f64;
}

impl RoundTiesEven for f64 {
    #[inline(always)]
    fn round_ties_even_compat(self) -> f64 {
        // `f64::round_ties_even` needs std; this is the no_std equivalent for
        // |x| < 2^52, where adding and removing 2^52 rounds half-even.
        const TWO52: f64 = 4_503_599_627_370_496.0;
        if self.abs() >= TWO52 {
            return self;
        }
        if self >= 0.0 {
            (self + TWO52) - TWO52
        } else {
            (self - TWO52) + TWO52
        }
    }
}

/// `ceil(a / b)` for `b > 0`, exact, in `i128`.
#[inline]
pub fn ceil_div(a: i128, b: i128) -> i128 {
    if let (Ok(a64), Ok(b64)) = (i64::try_from(a), i64::try_from(b)) {
        let q = a64.wrapping_div(b64);
        let r = a64.wrapping_rem(b64);
        return i128::from(if r > 0 { q + 1 } else { q });
    }
    let q = a.wrapping_div(b);
    let r = a.wrapping_rem(b);
    if r > 0 {
        q + 1
    } else {
        q
    }
}

/// `floor(a / b)` for `b > 0`, exact, in `i128`.
#[inline]
pub fn floor_div(a: i128, b: i128) -> i128 {
    if let (Ok(a64), Ok(b64)) = (i64::try_from(a), i64::try_from(b)) {
        let q = a64.wrapping_div(b64);
        let r = a64.wrapping_rem(b64);
        return i128::from(if r < 0 { q - 1 } else { q });
    }
    let q = a.wrapping_div(b);
    let r = a.wrapping_rem(b);
    if r < 0 {
        q - 1
    } else {
        q
    }
}

/// `ceil_T(num / den)`: the least multiple of `tick` that is `>= num / den`
/// minor units. `den > 0`, `tick > 0`.
#[inline]
pub fn ceil_to_tick(num: i128, den: i128, tick: i64) -> i128 {
    let t = i128::from(tick);
    ceil_div(num, den.saturating_mul(t)).saturating_mul(t)
}

/// `floor_T(num / den)`: the greatest multiple of `tick` that is `<= num / den`.
#[inline]
pub fn floor_to_tick(num: i128, den: i128, tick: i64) -> i128 {
    let t = i128::from(tick);
    floor_div(num, den.saturating_mul(t)).saturating_mul(t)
}

/// Bounds beyond ±2^62 minor units are equivalent for every valid price:
/// the engine clamps every computed bound into this range.
pub(crate) const BOUND_LIMIT: i64 = 1 << 62;

/// `x * y` exactly, in `i128` (cannot overflow: the widened product of two
/// `i64` always fits, so no overflow check is emitted).
#[inline]
pub(crate) fn wide_mul(x: i64, y: i64) -> i128 {
    i128::from(x).wrapping_mul(i128::from(y))
}

/// Clamps an exact bound into [`BOUND_LIMIT`]'s range.
#[inline]
pub(crate) fn clamp_bound(v: i128) -> i64 {
    v.clamp(-i128::from(BOUND_LIMIT), i128::from(BOUND_LIMIT)) as i64
}

/// `ceil_T(x * a / b)` clamped to ±2^62, for `b > 0`, `tick > 0`: the same
/// value as `ceil_to_tick(x * a, b, tick)`, computed in `i64` when every
/// intermediate fits (almost always) and in `i128` otherwise.
#[inline]
pub(crate) fn ceil_ratio_to_tick(x: i64, a: i64, b: i64, tick: i64) -> i64 {
    if let (Some(num), Some(den)) = (x.checked_mul(a), b.checked_mul(tick)) {
        if den > 0 {
            let q = num.wrapping_div(den);
            let r = num.wrapping_rem(den);
            let q = if r > 0 { q.wrapping_add(1) } else { q };
            if let Some(v) = q.checked_mul(tick) {
                return v.clamp(-BOUND_LIMIT, BOUND_LIMIT);
            }
        }
    }
    clamp_bound(ceil_to_tick(wide_mul(x, a), i128::from(b), tick))
}

/// `floor_T(x * a / b)` clamped to ±2^62, for `b > 0`, `tick > 0` (see
/// [`ceil_ratio_to_tick`]).
#[inline]
pub(crate) fn floor_ratio_to_tick(x: i64, a: i64, b: i64, tick: i64) -> i64 {
    if let (Some(num), Some(den)) = (x.checked_mul(a), b.checked_mul(tick)) {
        if den > 0 {
            let q = num.wrapping_div(den);
            let r = num.wrapping_rem(den);
            let q = if r < 0 { q.wrapping_sub(1) } else { q };
            if let Some(v) = q.checked_mul(tick) {
                return v.clamp(-BOUND_LIMIT, BOUND_LIMIT);
            }
        }
    }
    clamp_bound(floor_to_tick(wide_mul(x, a), i128::from(b), tick))
}

/// `ceil_T(x)` clamped to ±2^62 (`tick > 0`).
#[inline]
pub(crate) fn ceil_money_to_tick(x: i64, tick: i64) -> i64 {
    if tick == 1 {
        return x.clamp(-BOUND_LIMIT, BOUND_LIMIT);
    }
    ceil_ratio_to_tick(x, 1, 1, tick)
}

/// `floor_T(x)` clamped to ±2^62 (`tick > 0`).
#[inline]
pub(crate) fn floor_money_to_tick(x: i64, tick: i64) -> i64 {
    if tick == 1 {
        return x.clamp(-BOUND_LIMIT, BOUND_LIMIT);
    }
    floor_ratio_to_tick(x, 1, 1, tick)
}

/// `value` in `10^-scale` minor units, rounded half to even to whole minor
/// units.
#[inline]
pub fn round_to_minor(value: i64, scale: u8) -> i64 {
    if scale == 0 {
        return value;
    }
    snap_half_even(value, pow10_i64(scale)) / pow10_i64(scale)
}

/// `value` in `10^-scale` minor units rounded up to whole minor units.
#[inline]
pub fn ceil_to_minor(value: i64, scale: u8) -> i64 {
    if scale == 0 {
        return value;
    }
    let f = pow10_i64(scale);
    value.div_euclid(f) + i64::from(value.rem_euclid(f) != 0)
}

/// `value` in `10^-scale` minor units rounded down to whole minor units.
#[inline]
pub fn floor_to_minor(value: i64, scale: u8) -> i64 {
    if scale == 0 {
        return value;
    }
    value.div_euclid(pow10_i64(scale))
}

/// Snaps `value` minor units to the nearest multiple of `tick`, ties to the
/// even multiple (docs/spec.md §2).
#[inline]
pub fn snap_half_even(value: i64, tick: i64) -> i64 {
    if tick <= 1 {
        return value;
    }
    let q = value.div_euclid(tick);
    let r = value.rem_euclid(tick);
    // 2r > t and 2r == t without doubling (0 <= r < t, so t - r cannot overflow).
    let half = tick - r;
    let up = r > half || (r == half && q % 2 != 0);
    (if up { q + 1 } else { q }).saturating_mul(tick)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    /// `i64_to_f64` is `as f64` everywhere: the ends, powers of two and
    /// their neighbours (where rounding starts), halfway cases, random values.
    #[test]
    fn i64_to_f64_is_as_f64() {
        let mut vals = [0, 1, -1, i64::MIN, i64::MAX, i64::MIN + 1, i64::MAX - 1].to_vec();
        for k in 0..63 {
            for d in -3..=3 {
                vals.push((1i64 << k).wrapping_add(d));
                vals.push((-(1i64 << k)).wrapping_add(d));
            }
        }
        // Halfway between two doubles above 2^53, and one either side.
        for k in 54..63 {
            let half = (1i64 << k) + (1i64 << (k - 53));
            vals.extend([half - 1, half, half + 1, half + (1i64 << (k - 52))]);
        }
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..if cfg!(miri) { 200 } else { 100_000 } {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            vals.push(x as i64);
            vals.push((x >> (x % 60)) as i64);
        }
        for v in vals {
            assert_eq!(i64_to_f64(v).to_bits(), (v as f64).to_bits(), "{v}");
        }
    }

    /// Both slice conversions of every compiled copy this CPU can run.
    #[allow(clippy::type_complexity)]
    fn copies() -> alloc::vec::Vec<(
        &'static str,
        fn(&[f64], u8, &mut [i64], &mut [bool], &mut [i64], &mut [u8]) -> (usize, usize),
    )> {
        use crate::Simd;
        fn at(
            level: Simd,
        ) -> fn(&[f64], u8, &mut [i64], &mut [bool], &mut [i64], &mut [u8]) -> (usize, usize)
        {
            match level {
                Simd::Portable => |s, d, a, f, b, g| {
                    (
                        run(
                            ToMinor {
                                src: s,
                                digits: d,
                                dst: a,
                                fast: f,
                            },
                            Simd::Portable,
                        ),
                        run(
                            ToMinorFlags {
                                src: s,
                                digits: d,
                                dst: b,
                                flags: g,
                            },
                            Simd::Portable,
                        ),
                    )
                },
                Simd::Avx2 => |s, d, a, f, b, g| {
                    (
                        run(
                            ToMinor {
                                src: s,
                                digits: d,
                                dst: a,
                                fast: f,
                            },
                            Simd::Avx2,
                        ),
                        run(
                            ToMinorFlags {
                                src: s,
                                digits: d,
                                dst: b,
                                flags: g,
                            },
                            Simd::Avx2,
                        ),
                    )
                },
                Simd::Avx512 => |s, d, a, f, b, g| {
                    (
                        run(
                            ToMinor {
                                src: s,
                                digits: d,
                                dst: a,
                                fast: f,
                            },
                            Simd::Avx512,
                        ),
                        run(
                            ToMinorFlags {
                                src: s,
                                digits: d,
                                dst: b,
                                flags: g,
                            },
                            Simd::Avx512,
                        ),
                    )
                },
            }
        }
        /// Runs `kernel` at exactly `level`: the copies under test must be
        /// the ones asked for, not a narrower one.
        fn run<K: crate::cpu::Kernel>(kernel: K, level: Simd) -> K::Output {
            let (out, ran) = crate::cpu::run(kernel, level);
            assert_eq!(ran, level, "asked for the {} copy", level.name());
            out
        }
        [Simd::Portable, Simd::Avx2, Simd::Avx512]
            .into_iter()
            .filter(|&l| l <= crate::cpu::simd())
            .map(|l| (l.name(), at(l)))
            .collect()
    }

    /// The slice conversion agrees with `float_to_minor` on every value it
    /// calls fast, and calls the common prices fast.
    #[test]
    fn floats_to_minor_matches_the_scalar_path() {
        let specials = [
            0.0,
            -0.0,
            0.01,
            0.1,
            2.675,
            0.995,
            1.005,
            19.99,
            -19.99,
            1e15,
            1e16,
            2.5e13,
            22_517_998_136_852.47,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
            f64::MIN_POSITIVE,
            5e-324,
            1.0 / 3.0,
            123.456_7,
            9.007_199_254_740_993e15,
        ];
        let mut vals = specials.to_vec();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        // A few hundred under miri, which interprets every step.
        let rounds = if cfg!(miri) { 200 } else { 20_000u64 };
        for k in 0..rounds {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            vals.push((k as f64) / 100.0);
            vals.push(((x % 2_000_000) as f64 - 1e6) / 100.0);
            vals.push(f64::from_bits(x));
            vals.push((x % 10_000_000) as f64 / 1000.0);
        }
        for digits in 0..=4u8 {
            let mut dst = alloc::vec![0i64; vals.len()];
            let mut fast = alloc::vec![false; vals.len()];
            let n = floats_to_minor(&vals, digits, &mut dst, &mut fast);
            assert_eq!(n, fast.iter().filter(|f| **f).count());
            for ((v, d), f) in vals.iter().zip(&dst).zip(&fast) {
                if *f {
                    assert_eq!(float_to_minor(*v, digits), Ok(*d), "{v} at {digits} digits");
                }
            }
            // The flags variant: the same values and fast rows, and every
            // other row told apart as NaN or needing a look.
            let mut dst2 = alloc::vec![0i64; vals.len()];
            let mut flags = alloc::vec![7u8; vals.len()];
            assert_eq!(
                floats_to_minor_flags(&vals, digits, &mut dst2, &mut flags),
                n
            );
            for (((v, d), d2), (f, fl)) in vals
                .iter()
                .zip(&dst)
                .zip(&dst2)
                .zip(fast.iter().zip(&flags))
            {
                let want = match (*f, v.is_nan()) {
                    (true, _) => FLAG_FAST,
                    (false, true) => FLAG_NAN,
                    (false, false) => FLAG_LOOK,
                };
                assert_eq!(*fl, want, "{v} at {digits} digits");
                if *f {
                    assert_eq!(d, d2, "{v} at {digits} digits");
                }
            }
            // Every copy the CPU can run (portable, AVX2, AVX-512) gives
            // the same answers as the one dispatched above.
            for (copy, f) in copies() {
                let mut dst3 = alloc::vec![0i64; vals.len()];
                let mut fast3 = alloc::vec![false; vals.len()];
                let mut flags3 = alloc::vec![7u8; vals.len()];
                let mut dst4 = alloc::vec![0i64; vals.len()];
                assert_eq!(
                    f(&vals, digits, &mut dst3, &mut fast3, &mut dst4, &mut flags3),
                    (n, n),
                    "{copy}"
                );
                assert_eq!(fast3, fast, "{copy}");
                assert_eq!(flags3, flags, "{copy}");
                for (i, f) in fast.iter().enumerate() {
                    if *f {
                        assert_eq!((dst3[i], dst4[i]), (dst[i], dst[i]), "{copy}: {}", vals[i]);
                    }
                }
            }
            // Every whole-cent price k / 100 is fast at two digits or more.
            if digits >= 2 {
                assert!(
                    fast.iter().skip(specials.len()).step_by(4).all(|f| *f),
                    "{digits}"
                );
            }
        }
        let mut none = [0i64; 1];
        assert_eq!(floats_to_minor(&[1.0], 9, &mut none, &mut [true]), 0);
        let mut flags = [FLAG_FAST; 2];
        let (mut two, nan) = ([0i64; 2], f64::NAN);
        assert_eq!(
            floats_to_minor_flags(&[1.0, nan], 9, &mut two, &mut flags),
            0
        );
        assert_eq!(flags, [FLAG_LOOK, FLAG_NAN]);
    }

    #[test]
    fn table_lookup() {
        assert_eq!(Currency::from_code("USD").map(|c| c.minor_units()), Some(2));
        assert_eq!(Currency::from_code("JPY").map(|c| c.minor_units()), Some(0));
        assert_eq!(Currency::from_code("KWD").map(|c| c.minor_units()), Some(3));
        assert_eq!(Currency::from_code("CLF").map(|c| c.minor_units()), Some(4));
        assert_eq!(Currency::from_code("usd"), None);
        assert_eq!(Currency::from_code("XAU"), None);
        assert!(Currency::all().count() > 150);
    }

    #[test]
    fn parse_and_format() {
        let usd = Currency::from_code("USD").unwrap();
        assert_eq!(usd.parse_minor("14.3"), Ok(1430));
        assert_eq!(usd.parse_minor("14.300"), Ok(1430));
        assert_eq!(usd.parse_minor("-0.01"), Ok(-1));
        assert_eq!(usd.parse_minor("14.301"), Err(MoneyError::TooPrecise(2)));
        assert_eq!(usd.parse_minor("1e3"), Err(MoneyError::Syntax));
        assert_eq!(usd.parse_minor(""), Err(MoneyError::Syntax));
        assert_eq!(usd.parse_minor("."), Err(MoneyError::Syntax));
        assert_eq!(
            usd.parse_minor("99999999999999999999"),
            Err(MoneyError::OutOfRange)
        );
        assert_eq!(usd.format(1430).to_string(), "14.30");
        assert_eq!(usd.format(-5).to_string(), "-0.05");
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(jpy.format(1430).to_string(), "1430");
        assert_eq!(jpy.parse_minor("1430.0"), Ok(1430));
        assert_eq!(jpy.parse_minor("1430.5"), Err(MoneyError::TooPrecise(0)));
        let kwd = Currency::from_code("KWD").unwrap();
        assert_eq!(kwd.format(1234).to_string(), "1.234");
    }

    #[test]
    fn floats_round_half_even() {
        assert_eq!(float_to_minor(2.675, 2), Ok(268));
        assert_eq!(float_to_minor(0.125, 2), Ok(12));
        assert_eq!(float_to_minor(0.135, 2), Ok(14));
        assert_eq!(float_to_minor(19.99, 2), Ok(1999));
        assert_eq!(float_to_minor(f64::NAN, 2), Err(MoneyError::NotFinite));
        assert_eq!(float_to_minor(1e300, 2), Err(MoneyError::OutOfRange));
    }

    #[test]
    fn tick_rounding() {
        assert_eq!(ceil_to_tick(1001, 1, 5), 1005);
        assert_eq!(ceil_to_tick(1000, 1, 5), 1000);
        assert_eq!(floor_to_tick(1004, 1, 5), 1000);
        assert_eq!(ceil_to_tick(-3, 1, 5), 0);
        assert_eq!(floor_to_tick(-3, 1, 5), -5);
        assert_eq!(ceil_to_tick(1222 * 100, 85, 1), 1438);
        assert_eq!(snap_half_even(1002, 5), 1000);
        assert_eq!(snap_half_even(1003, 5), 1005);
        assert_eq!(snap_half_even(12, 4), 12);
        assert_eq!(snap_half_even(10, 4), 8);
        assert_eq!(snap_half_even(14, 4), 16);
        assert_eq!(snap_half_even(-3, 2), -4);
        assert_eq!(snap_half_even(i64::MAX - 1, 1 << 40), i64::MAX);
    }

    #[test]
    fn ratio_rounding_matches_i128() {
        let xs = [
            -MAX_MONEY,
            -12345,
            -7,
            -1,
            0,
            1,
            7,
            99,
            1000,
            1299,
            12345,
            MAX_MONEY,
            i64::MAX / 3,
        ];
        let ratios = [
            (1, 1),
            (11, 10),
            (100, 85),
            (80, 100),
            (7, 3),
            (1_000_000_000_001, 1_000_000_000_000),
            (3, 1 << 62),
        ];
        for &x in &xs {
            for &(a, b) in &ratios {
                for t in [1, 2, 5, 25, 100, 1 << 40] {
                    let c = clamp_bound(ceil_to_tick(wide_mul(x, a), i128::from(b), t));
                    let f = clamp_bound(floor_to_tick(wide_mul(x, a), i128::from(b), t));
                    assert_eq!(
                        ceil_ratio_to_tick(x, a, b, t),
                        c,
                        "ceil {x} {a}/{b} tick {t}"
                    );
                    assert_eq!(
                        floor_ratio_to_tick(x, a, b, t),
                        f,
                        "floor {x} {a}/{b} tick {t}"
                    );
                    if a == 1 && b == 1 {
                        assert_eq!(ceil_money_to_tick(x, t), c);
                        assert_eq!(floor_money_to_tick(x, t), f);
                    }
                }
            }
        }
    }
}
