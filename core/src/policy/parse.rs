//! TOML and JSON policy files (feature `serde`).

use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;
use core::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::error::PolicyError;
use super::spec::{Dec, PolicySpec};

struct DecVisitor;

impl Visitor<'_> for DecVisitor {
    type Value = Dec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number or a decimal string such as \"0.15\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dec, E> {
        let t = v.trim();
        Decimal::from_str_exact(t)
            .map(Dec)
            .map_err(|_| E::custom(format!("`{v}` is not a decimal number")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dec, E> {
        Ok(Dec(Decimal::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dec, E> {
        Ok(Dec(Decimal::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dec, E> {
        if !v.is_finite() {
            return Err(E::custom(format!("`{v}` is not a finite number")));
        }
        // The shortest round-trip form: 0.15 means 0.15.
        let s = format!("{v}");
        Decimal::from_str(&s)
            .or_else(|_| Decimal::from_scientific(&s))
            .map(Dec)
            .map_err(|_| E::custom(format!("`{v}` is out of the decimal range")))
    }
}

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dec, D::Error> {
        d.deserialize_any(DecVisitor)
    }
}

impl Serialize for Dec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.normalize())
    }
}

struct StringOrNumber;

impl Visitor<'_> for StringOrNumber {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(format!("{v}")))
    }
}

/// Deserializes `version` from a string or a number.
pub(crate) fn string_or_number<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    d.deserialize_any(StringOrNumber)
}

fn path_string(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            serde_path_to_error::Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            serde_path_to_error::Segment::Map { key }
            | serde_path_to_error::Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    out
}

/// Turns a serde message into the house style: lower case, no trailing period.
fn tidy(message: &str) -> String {
    let m = message.trim().trim_end_matches('.');
    let first_line = m.lines().next().unwrap_or(m);
    first_line.to_string()
}

/// Parses the TOML text of a policy into its data model.
pub fn spec_from_toml(text: &str) -> Result<PolicySpec, PolicyError> {
    let de = toml::Deserializer::parse(text).map_err(|e| toml_error(text, "", &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = path_string(e.path());
        let inner = e.inner();
        toml_error(text, &path, inner)
    })
}

fn toml_error(text: &str, path: &str, e: &toml::de::Error) -> PolicyError {
    let err = PolicyError::new(path, tidy(e.message()));
    match e.span() {
        Some(span) => err.at_offset(text, span.start),
        None => err,
    }
}

/// Parses the JSON text of a policy into its data model.
pub fn spec_from_json(text: &str) -> Result<PolicySpec, PolicyError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let spec: PolicySpec = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = path_string(e.path());
        let inner = e.inner();
        let msg = inner.to_string();
        // serde_json appends " at line L column C"; keep the reason only.
        let reason = msg.split(" at line ").next().unwrap_or(&msg);
        let mut err = PolicyError::new(path, tidy(reason));
        if inner.line() > 0 {
            err.line = Some(inner.line());
            err.column = Some(inner.column());
        }
        err
    })?;
    de.end().map_err(|e| {
        let mut err = PolicyError::new("", "trailing characters after the policy object");
        err.line = Some(e.line());
        err.column = Some(e.column());
        err
    })?;
    Ok(spec)
}

/// The byte offset of the value at a dotted `path` (`change.max_decrease`,
/// `segments[1].margin`) in a TOML document, for pointing at a validation
/// error. `None` when the path is not written in the file.
pub fn toml_offset(text: &str, path: &str) -> Option<usize> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let mut span = root.span();
    let mut table = Some(root.into_inner());
    let mut value: Option<toml::Spanned<toml::de::DeValue<'_>>> = None;
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let t = match (table.take(), value.take()) {
            (Some(t), _) => t,
            (None, Some(v)) => match v.into_inner() {
                toml::de::DeValue::Table(t) => t,
                _ => return Some(span.start),
            },
            (None, None) => return Some(span.start),
        };
        let found = t.into_iter().find(|(k, _)| k.get_ref().as_ref() == key)?;
        let (k, mut v) = found;
        span = k.span();
        if let Some(i) = index {
            match v.into_inner() {
                toml::de::DeValue::Array(a) => {
                    let el = a.into_iter().nth(i)?;
                    span = el.span();
                    v = el;
                }
                _ => return Some(span.start),
            }
        }
        value = Some(v);
    }
    Some(span.start)
}
