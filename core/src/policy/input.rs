//! Filling an [`Item`] from text or exact decimals, as the command line,
//! Python and Arrow edges do, so every interface reads inputs the same way.

use alloc::string::String;
use core::fmt;

use rust_decimal::Decimal;

use super::Policy;
use crate::item::{Field, Item};
use crate::money::{Amount, MoneyError};

/// A field value that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldError {
    /// The field.
    pub field: Field,
    /// Why, lower case.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for FieldError {}

fn err(field: Field, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

fn money_err(field: Field, text: &str, e: MoneyError) -> FieldError {
    err(field, alloc::format!("`{text}` {e}"))
}

impl Policy {
    /// Sets `field` of `item` from its text form: money as a decimal in
    /// major units of the policy currency, of any precision (docs/spec.md
    /// M1: digits finer than the currency are kept exactly, raising the
    /// item's [`scale`](Item::scale)),
    /// counts and times as whole numbers, `campaign` as a name resolved
    /// against the policy, `segment` as a whole number. An empty string
    /// leaves the field absent. `sku` is not an item field and is refused.
    pub fn set_field_text(
        &self,
        item: &mut Item,
        field: Field,
        text: &str,
    ) -> Result<(), FieldError> {
        // ASCII whitespace only, once: this runs for every field of every row.
        let t = text.trim_ascii();
        if t.is_empty() {
            if field == Field::ProposedPrice {
                return Err(err(field, "is required"));
            }
            return Ok(());
        }
        match field {
            Field::Sku | Field::Group | Field::Rank | Field::PackSize => {
                Err(err(field, "is not an item field"))
            }
            Field::Campaign => {
                *item = item.with_campaign(self.campaign_id(t));
                Ok(())
            }
            f if f.is_money() => {
                let a = self
                    .currency()
                    .parse_amount(t, f.digits())
                    .map_err(|e| money_err(f, t, e))?;
                set_amount(item, f, a, t)
            }
            f => {
                let v = parse_whole(t)
                    .ok_or_else(|| err(f, alloc::format!("`{t}` is not a whole number")))?;
                if !item.set(f, v) {
                    return Err(err(f, alloc::format!("`{t}` is out of range")));
                }
                Ok(())
            }
        }
    }

    /// Sets a money or count `field` from an exact decimal (money in major
    /// units of the policy currency).
    pub fn set_field_decimal(
        &self,
        item: &mut Item,
        field: Field,
        value: Decimal,
    ) -> Result<(), FieldError> {
        if field.is_money() {
            let a = self
                .currency()
                .decimal_to_amount(value, field.digits())
                .map_err(|e| err(field, alloc::format!("`{value}` {e}")))?;
            return set_amount(item, field, a, value);
        }
        let n = value.normalize();
        if n.scale() != 0 {
            return Err(err(
                field,
                alloc::format!("`{value}` is not a whole number"),
            ));
        }
        let v = i64::try_from(n.mantissa())
            .map_err(|_| err(field, alloc::format!("`{value}` is out of range")))?;
        match field {
            Field::Sku | Field::Campaign | Field::Group => Err(err(field, "is not numeric")),
            f => {
                if item.set(f, v) {
                    Ok(())
                } else {
                    Err(err(f, alloc::format!("`{value}` is out of range")))
                }
            }
        }
    }

    /// Sets a money or count `field` from a float: money in major units is
    /// read as its shortest round-trip decimal, then as text is (M1);
    /// counts must be whole. NaN is
    /// absent for callers that use it as a missing marker, so it is
    /// refused here: test for it before calling.
    pub fn set_field_float(
        &self,
        item: &mut Item,
        field: Field,
        value: f64,
    ) -> Result<(), FieldError> {
        if field.is_money() {
            let a = self
                .currency()
                .float_to_amount(value, field.digits())
                .map_err(|e| err(field, alloc::format!("`{value}` {e}")))?;
            return set_amount(item, field, a, value);
        }
        // `f64::fract` and `abs` need std; a round trip through i64 is exact
        // for whole numbers within +-9e15 and works in no_std.
        if !value.is_finite()
            || !(-9.0e15..=9.0e15).contains(&value)
            || (value as i64) as f64 != value
        {
            return Err(err(
                field,
                alloc::format!("`{value}` is not a whole number"),
            ));
        }
        if item.set(field, value as i64) {
            Ok(())
        } else {
            Err(err(field, alloc::format!("`{value}` is out of range")))
        }
    }
}

fn parse_whole(t: &str) -> Option<i64> {
    if let Ok(v) = t.parse::<i64>() {
        return Some(v);
    }
    // Accept `12.0` from spreadsheets, nothing with a real fraction.
    let d = Decimal::from_str_exact(t).ok()?.normalize();
    if d.scale() != 0 {
        return None;
    }
    i64::try_from(d.mantissa()).ok()
}

/// Puts an amount into the item, naming the field that no longer fits 64
/// bits when the item's scale rises.
fn set_amount(
    item: &mut Item,
    field: Field,
    a: Amount,
    shown: impl fmt::Display,
) -> Result<(), FieldError> {
    item.set_amount(field, a).map_err(|f| {
        if f == field {
            err(f, alloc::format!("`{shown}` {}", MoneyError::OutOfRange))
        } else {
            err(f, "is beyond the supported range at the item's precision")
        }
    })
}
