//! TOML and JSON policy files (feature `serde`).

use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;
use core::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::error::{PolicyError, PolicyErrorKind};
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

/// The kind of a deserialization error: the shape of the text (a wrong
/// type, an array for a table) is [`PolicyErrorKind::Syntax`]; a missing,
/// unknown or unreadable value is [`PolicyErrorKind::Invalid`].
fn shape_kind(reason: &str) -> PolicyErrorKind {
    if reason.starts_with("invalid type")
        || reason.starts_with("invalid length")
        || reason == NOT_AN_ARRAY
    {
        PolicyErrorKind::Syntax
    } else {
        PolicyErrorKind::Invalid
    }
}

/// Parses the TOML text of a policy into its data model.
pub fn spec_from_toml(text: &str) -> Result<PolicySpec, PolicyError> {
    let de = toml::Deserializer::parse(text)
        .map_err(|e| toml_error(text, "", &e, PolicyErrorKind::Syntax))?;
    serde_path_to_error::deserialize(TablesOnly(de)).map_err(|e| {
        let path = path_string(e.path());
        let inner = e.inner();
        toml_error(text, &path, inner, shape_kind(&tidy(inner.message())))
    })
}

fn toml_error(text: &str, path: &str, e: &toml::de::Error, kind: PolicyErrorKind) -> PolicyError {
    let mut message = tidy(e.message());
    if message == NOT_AN_ARRAY {
        message = String::from("must be a table, not an array");
    }
    let err = PolicyError::with_kind(kind, path, message);
    match e.span() {
        Some(span) => err.at_offset(text, span.start),
        None => err,
    }
}

/// Parses the JSON text of a policy into its data model. Every table,
/// the policy itself included, must be a JSON object.
pub fn spec_from_json(text: &str) -> Result<PolicySpec, PolicyError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let spec: PolicySpec = serde_path_to_error::deserialize(TablesOnly(&mut de)).map_err(|e| {
        let path = path_string(e.path());
        let inner = e.inner();
        let msg = inner.to_string();
        // serde_json appends " at line L column C"; keep the reason only.
        let reason = tidy(msg.split(" at line ").next().unwrap_or(&msg));
        let kind = match inner.classify() {
            serde_json::error::Category::Data => shape_kind(&reason),
            _ => PolicyErrorKind::Syntax,
        };
        let message = if path.is_empty() && kind == PolicyErrorKind::Syntax {
            if reason == NOT_AN_ARRAY {
                String::from("a policy must be a JSON object, not an array")
            } else if reason.starts_with("invalid type") {
                // "invalid type: string \"x\", expected struct PolicySpec"
                let got = reason
                    .trim_start_matches("invalid type: ")
                    .split(", expected")
                    .next()
                    .unwrap_or("");
                format!("a policy must be a JSON object, not {got}")
            } else {
                reason
            }
        } else {
            reason
        };
        let mut err = PolicyError::with_kind(kind, path, message);
        if inner.line() > 0 {
            err.line = Some(inner.line());
            err.column = Some(inner.column());
        }
        err
    })?;
    de.end().map_err(|e| {
        let mut err = PolicyError::with_kind(
            PolicyErrorKind::Syntax,
            "",
            "trailing characters after the policy object",
        );
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

/// The message for a table written as an array. Serde's derived structs
/// also accept a sequence (fields by position), so
/// `["p","1","USD",...]` would otherwise load as a policy: a file whose
/// keys are gone is not a policy anyone reviewed (docs/spec.md §8).
const NOT_AN_ARRAY: &str = "must be an object, not an array";

/// Forwards to the wrapped deserializer, except that a struct (a policy
/// table) must be a map: a sequence is refused at every depth.
struct TablesOnly<D>(D);

/// Wraps the visitor of a value; `table` when the value is a struct.
struct TablesOnlyVisitor<V> {
    inner: V,
    table: bool,
}

/// Wraps a seed so the value it reads is checked too.
struct TablesOnlySeed<S>(S);

/// Wraps the elements of a sequence.
struct TablesOnlySeq<A>(A);

/// Wraps the keys and values of a map.
struct TablesOnlyMap<A>(A);

macro_rules! forward_deserialize {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.0.$method(TablesOnlyVisitor { inner: visitor, table: false })
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for TablesOnly<D> {
    type Error = D::Error;

    forward_deserialize!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let inner = TablesOnlyVisitor {
            inner: visitor,
            table: false,
        };
        self.0.deserialize_unit_struct(name, inner)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let inner = TablesOnlyVisitor {
            inner: visitor,
            table: false,
        };
        self.0.deserialize_newtype_struct(name, inner)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let inner = TablesOnlyVisitor {
            inner: visitor,
            table: false,
        };
        self.0.deserialize_tuple(len, inner)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let inner = TablesOnlyVisitor {
            inner: visitor,
            table: false,
        };
        self.0.deserialize_tuple_struct(name, len, inner)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let inner = TablesOnlyVisitor {
            inner: visitor,
            table: true,
        };
        self.0.deserialize_struct(name, fields, inner)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        // The policy model has no enums; their content is not re-wrapped.
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                self.inner.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for TablesOnlyVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit!(
        visit_bool: bool,
        visit_i8: i8,
        visit_i16: i16,
        visit_i32: i32,
        visit_i64: i64,
        visit_i128: i128,
        visit_u8: u8,
        visit_u16: u16,
        visit_u32: u32,
        visit_u64: u64,
        visit_u128: u128,
        visit_f32: f32,
        visit_f64: f64,
        visit_char: char,
        visit_str: &str,
        visit_borrowed_str: &'de str,
        visit_string: String,
        visit_bytes: &[u8],
        visit_borrowed_bytes: &'de [u8],
        visit_byte_buf: alloc::vec::Vec<u8>,
    );

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(TablesOnly(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(TablesOnly(d))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        if self.table {
            return Err(de::Error::custom(NOT_AN_ARRAY));
        }
        self.inner.visit_seq(TablesOnlySeq(seq))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(TablesOnlyMap(map))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(data)
    }
}

impl<'de, S: de::DeserializeSeed<'de>> de::DeserializeSeed<'de> for TablesOnlySeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(TablesOnly(d))
    }
}

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for TablesOnlySeq<A> {
    type Error = A::Error;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(TablesOnlySeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for TablesOnlyMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(TablesOnlySeed(seed))
    }

    fn next_value_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(TablesOnlySeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}
