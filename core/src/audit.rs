//! Audit records: one JSON line per decision, stamped with the policy's
//! name, version and content hash and the evaluation time, and chained by
//! SHA-256 so that any edited, removed, inserted or reordered line is found
//! (see `docs/audit.md` for the format).
//!
//! ```
//! use priceguard::audit::{AuditChain, PolicyStamp};
//! use priceguard::{Item, Policy};
//! let policy = Policy::from_toml_str("name = \"demo\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"100\"\n").unwrap();
//! let stamp = PolicyStamp::of(&policy);
//! let item = Item::new(1249);
//! let mut chain = AuditChain::new();
//! let mut log = String::new();
//! chain.push_record(&policy, &stamp, Some("A1"), Some(&item), &policy.evaluate(&item), 0, &mut log);
//! # #[cfg(feature = "serde")]
//! assert!(priceguard::audit::verify(log.as_bytes(), None).is_ok());
//! ```

use alloc::string::String;
use core::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::decision::Decision;
use crate::item::{Field, Item};
use crate::policy::hash::hex;
use crate::policy::Policy;
use crate::rules::{ClassSet, RuleSet};

/// What the first record's `prev` holds: 32 zero bytes (64 `0` digits).
pub const GENESIS: [u8; 32] = [0; 32];

/// The policy fields stamped next to every decision: name, version and
/// [`Policy::content_hash_hex`]. Compute it once per policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyStamp {
    /// The policy's name.
    pub name: String,
    /// The policy's version (empty when the file gives none).
    pub version: String,
    /// The policy's content hash, 64 lower-case hex digits.
    pub hash: String,
}

impl PolicyStamp {
    /// The stamp of `policy`.
    pub fn of(policy: &Policy) -> PolicyStamp {
        PolicyStamp {
            name: String::from(policy.name()),
            version: String::from(policy.version()),
            hash: policy.content_hash_hex(),
        }
    }
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Lower-case hex of a hash.
pub fn to_hex(hash: &[u8; 32]) -> String {
    hex(hash)
}

/// Parses 64 hex digits (either case).
pub fn from_hex(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let s = core::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

/// Appends a JSON string literal.
pub fn push_json_str(out: &mut String, text: &str) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `unix_ms` as RFC 3339 UTC with milliseconds (`2026-11-27T14:05:09.120Z`).
pub fn rfc3339_ms(unix_ms: i64) -> String {
    let secs = unix_ms.div_euclid(1000);
    let ms = unix_ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut s = String::with_capacity(24);
    let _ = write!(
        s,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    );
    s
}

fn push_money(out: &mut String, policy: &Policy, v: Option<i64>) {
    match v {
        Some(v) => {
            let _ = write!(out, "\"{}\"", policy.currency().format(v));
        }
        None => out.push_str("null"),
    }
}

fn push_rules(out: &mut String, set: RuleSet) {
    out.push('[');
    for (i, r) in set.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(out, r.name());
    }
    out.push(']');
}

fn push_classes(out: &mut String, set: ClassSet) {
    out.push('[');
    for (i, c) in set.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(out, c.name());
    }
    out.push(']');
}

/// Appends the policy stamp as a JSON object
/// (`{"name":...,"version":...,"hash":...}`).
pub fn push_policy_json(out: &mut String, stamp: &PolicyStamp) {
    out.push_str("{\"name\":");
    push_json_str(out, &stamp.name);
    out.push_str(",\"version\":");
    push_json_str(out, &stamp.version);
    out.push_str(",\"hash\":");
    push_json_str(out, &stamp.hash);
    out.push('}');
}

/// Appends the item as a JSON object: `sku` when given, then every present
/// field in docs/spec.md §3 order; money as decimal strings with the currency's digits,
/// the campaign by name, times and counts as numbers.
pub fn push_item_json(out: &mut String, policy: &Policy, sku: Option<&str>, item: &Item) {
    out.push('{');
    let mut first = true;
    if let Some(sku) = sku {
        out.push_str("\"sku\":");
        push_json_str(out, sku);
        first = false;
    }
    for field in Field::SPEC_ORDER {
        let Some(v) = item.get(field) else { continue };
        if !first {
            out.push(',');
        }
        first = false;
        push_json_str(out, field.name());
        out.push(':');
        if let Some(a) = item.amount(field) {
            let _ = write!(out, "\"{}\"", policy.currency().format_amount(a));
        } else if field == Field::Campaign {
            match item.campaign().and_then(|id| policy.campaign_name(id)) {
                Some(name) => push_json_str(out, name),
                None => {
                    let _ = write!(out, "{v}");
                }
            }
        } else {
            let _ = write!(out, "{v}");
        }
    }
    out.push('}');
}

/// Appends the decision as a JSON object with the members of the command
/// line's JSON output (`outcome`, `price`, `lower`, `upper`, `violated`,
/// `binding`, `relaxed`, `reason`, `promo_spend`, `unmet`,
/// `needs_approval`), `invalid_field` and `lawful_reference` (last, so
/// records written before it existed read the same up to it).
pub fn push_decision_json(out: &mut String, policy: &Policy, d: &Decision) {
    out.push_str("{\"outcome\":");
    push_json_str(out, d.outcome.name());
    out.push_str(",\"price\":");
    push_money(out, policy, d.price);
    out.push_str(",\"lower\":");
    push_money(out, policy, d.lower);
    out.push_str(",\"upper\":");
    push_money(out, policy, d.upper);
    out.push_str(",\"violated\":");
    push_rules(out, d.violated);
    out.push_str(",\"binding\":");
    push_rules(out, d.binding);
    out.push_str(",\"relaxed\":");
    push_classes(out, d.relaxed);
    out.push_str(",\"reason\":");
    push_json_str(out, d.reason.name());
    out.push_str(",\"promo_spend\":");
    match d.promo_spend {
        Some(units) => {
            let a = crate::money::Amount {
                units,
                scale: d.spend_scale,
            };
            let _ = write!(out, "\"{}\"", policy.currency().format_amount(a));
        }
        None => out.push_str("null"),
    }
    out.push_str(",\"unmet\":");
    push_rules(out, d.unmet);
    out.push_str(",\"needs_approval\":");
    out.push_str(if d.needs_approval { "true" } else { "false" });
    out.push_str(",\"invalid_field\":");
    match d.invalid_field {
        Some(f) => push_json_str(out, f.name()),
        None => out.push_str("null"),
    }
    out.push_str(",\"lawful_reference\":");
    push_money(out, policy, d.lawful_reference);
    out.push('}');
}

/// Appends one decision as a JSON object
/// `{"policy":{...},"item":{...},"decision":{...}}` (no line break, no
/// chain): what the C function `priceguard_decision_to_json` writes.
pub fn push_decision_record(
    out: &mut String,
    policy: &Policy,
    stamp: &PolicyStamp,
    sku: Option<&str>,
    item: &Item,
    d: &Decision,
) {
    out.push_str("{\"policy\":");
    push_policy_json(out, stamp);
    out.push_str(",\"item\":");
    push_item_json(out, policy, sku, item);
    out.push_str(",\"decision\":");
    push_decision_json(out, policy, d);
    out.push('}');
}

/// The state of a hash-chained audit log: the number of records written
/// and the SHA-256 of the last line (the next record's `prev`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditChain {
    records: u64,
    head: [u8; 32],
}

impl Default for AuditChain {
    fn default() -> AuditChain {
        AuditChain::new()
    }
}

impl AuditChain {
    /// A new log: no records, chained to [`GENESIS`].
    pub const fn new() -> AuditChain {
        AuditChain {
            records: 0,
            head: GENESIS,
        }
    }

    /// Continues a log that holds `records` records whose last line hashes
    /// to `head` (see [`verify`]).
    pub const fn resume(records: u64, head: [u8; 32]) -> AuditChain {
        AuditChain { records, head }
    }

    /// Records written so far.
    pub const fn records(&self) -> u64 {
        self.records
    }

    /// SHA-256 of the last line written ([`GENESIS`] when none): keep it
    /// somewhere the log's writer cannot change to detect a cut or a
    /// re-chained log (`priceguard audit verify --head`).
    pub const fn head(&self) -> [u8; 32] {
        self.head
    }

    /// Appends one record line, with its line break, to `out`:
    /// `{"seq":N,"prev":H,"evaluated_at":T,"policy":{...},"item":{...},"decision":{...},"hash":S}`
    /// where `prev` is the SHA-256 of the previous line, `evaluated_at` is
    /// `unix_ms` in RFC 3339 UTC, and `hash` is the SHA-256 of the line up
    /// to (not including) `,"hash":`. `item` is `None` for an input that
    /// could not be read into an item (the record then holds only the sku;
    /// the decision is `invalid_input` and names the field).
    #[allow(clippy::too_many_arguments)]
    pub fn push_record(
        &mut self,
        policy: &Policy,
        stamp: &PolicyStamp,
        sku: Option<&str>,
        item: Option<&Item>,
        d: &Decision,
        unix_ms: i64,
        out: &mut String,
    ) {
        let start = out.len();
        let seq = self.records + 1;
        let _ = write!(
            out,
            "{{\"seq\":{seq},\"prev\":\"{}\",\"evaluated_at\":\"{}\",\"policy\":",
            hex(&self.head),
            rfc3339_ms(unix_ms)
        );
        push_policy_json(out, stamp);
        out.push_str(",\"item\":");
        match item {
            Some(item) => push_item_json(out, policy, sku, item),
            None => {
                out.push('{');
                if let Some(sku) = sku {
                    out.push_str("\"sku\":");
                    push_json_str(out, sku);
                }
                out.push('}');
            }
        }
        out.push_str(",\"decision\":");
        push_decision_json(out, policy, d);
        let own = sha256(out.get(start..).unwrap_or("").as_bytes());
        let _ = write!(out, ",\"hash\":\"{}\"}}", hex(&own));
        self.head = sha256(out.get(start..).unwrap_or("").as_bytes());
        self.records = seq;
        out.push('\n');
    }
}

/// An intact log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Records in the log.
    pub records: u64,
    /// SHA-256 of the last line ([`GENESIS`] for an empty log).
    pub head: [u8; 32],
}

/// Where and how a log was found tampered with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tampered {
    /// 1-based line number of the first line that does not check out.
    pub line: u64,
    /// What is wrong, in words.
    pub problem: String,
}

impl core::fmt::Display for Tampered {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

/// A log whose last line has no line break and is the start of the next
/// record: what a crash (or a full disk) in the middle of an append leaves.
/// Every whole record before it checks out. This is not tampering, but the
/// log is not intact either: it cannot be continued until the incomplete
/// line is removed (truncate the file to [`CutShort::valid_len`] bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CutShort {
    /// Whole records before the incomplete line.
    pub records: u64,
    /// SHA-256 of the last whole record's line ([`GENESIS`] when none).
    pub head: [u8; 32],
    /// Bytes of the log up to and including the last whole record's line
    /// break.
    pub valid_len: u64,
    /// Bytes of the incomplete line after them.
    pub partial_len: u64,
}

impl core::fmt::Display for CutShort {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "cut short after its last whole record, record {}: line {} is an incomplete record of {} bytes, as a crash during an append leaves (the {} bytes before it check out)",
            self.records,
            self.records + 1,
            self.partial_len,
            self.valid_len
        )
    }
}

/// Why a log could not be verified.
#[cfg(feature = "serde")]
#[derive(Debug)]
#[non_exhaustive]
pub enum VerifyError {
    /// The log could not be read.
    Io(std::io::Error),
    /// The log was edited: the first line that does not check out.
    Tampered(Tampered),
    /// The log ends in an incomplete record after whole ones that check
    /// out: an append was interrupted.
    CutShort(CutShort),
}

#[cfg(feature = "serde")]
impl core::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            VerifyError::Io(e) => write!(f, "cannot read the log: {e}"),
            VerifyError::Tampered(t) => t.fmt(f),
            VerifyError::CutShort(c) => c.fmt(f),
        }
    }
}

#[cfg(feature = "serde")]
impl std::error::Error for VerifyError {}

#[cfg(feature = "serde")]
fn tampered(line: u64, problem: String) -> VerifyError {
    VerifyError::Tampered(Tampered { line, problem })
}

/// The length of `,"hash":"<64 hex>"}` at the end of every record line.
#[cfg(feature = "serde")]
const HASH_SUFFIX_LEN: usize = 9 + 64 + 2;

/// Checks one line against its position and the previous line's hash.
#[cfg(feature = "serde")]
fn check_line(n: u64, line: &[u8], prev: &[u8; 32]) -> Result<(), String> {
    use alloc::format;
    let value: serde_json::Value = serde_json::from_slice(line)
        .map_err(|e| format!("not a JSON record ({e}): the line was edited or forged"))?;
    let obj = value
        .as_object()
        .ok_or_else(|| String::from("not a JSON object: the line was edited or forged"))?;
    let seq = obj
        .get("seq")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| String::from("`seq` is missing or not a whole number"))?;
    let own = obj
        .get("hash")
        .and_then(serde_json::Value::as_str)
        .and_then(from_hex)
        .ok_or_else(|| String::from("`hash` is missing or not 64 hex digits"))?;
    let claimed_prev = obj
        .get("prev")
        .and_then(serde_json::Value::as_str)
        .and_then(from_hex)
        .ok_or_else(|| String::from("`prev` is missing or not 64 hex digits"))?;
    let body = line
        .len()
        .checked_sub(HASH_SUFFIX_LEN)
        .and_then(|at| line.get(..at))
        .ok_or_else(|| String::from("the record is too short to hold its `hash`"))?;
    let suffix = line.get(body.len()..).unwrap_or(&[]);
    let expected_suffix = format!(",\"hash\":\"{}\"}}", hex(&own));
    if suffix != expected_suffix.as_bytes() || sha256(body) != own {
        return Err(String::from(
            "the record was edited: its content does not match its `hash`",
        ));
    }
    if seq != n {
        let how = if seq > n {
            "a record before it was removed, or lines were reordered"
        } else {
            "a line was inserted, repeated or reordered"
        };
        return Err(format!(
            "holds record {seq} where record {n} was expected: {how}"
        ));
    }
    if claimed_prev != *prev {
        return Err(if n == 1 {
            String::from(
                "`prev` is not the genesis value: the log does not start at its first record",
            )
        } else {
            format!(
                "`prev` is not the SHA-256 of line {}: line {} was rewritten, or a line was replaced",
                n - 1,
                n - 1
            )
        });
    }
    Ok(())
}

/// Verifies a hash-chained audit log line by line. With `anchor`, the head
/// hash recorded elsewhere when the log was written, it also finds lines
/// cut from or appended to the end (a chain alone cannot: whoever can write
/// the file can extend it consistently).
///
/// Returns the number of records and the head hash when every line checks
/// out; [`VerifyError::Tampered`] names the first line that does not.
/// A last line without a line break that is the start of the next record
/// (its `seq` and `prev` as far as they go) is what an interrupted append
/// leaves: [`VerifyError::CutShort`], once the whole records before it
/// check out (and match `anchor` when given). Any other last line without a
/// line break is tampering.
#[cfg(feature = "serde")]
pub fn verify(
    mut reader: impl std::io::BufRead,
    anchor: Option<[u8; 32]>,
) -> Result<Verified, VerifyError> {
    use alloc::format;
    use alloc::vec::Vec;
    let mut line = Vec::with_capacity(1024);
    let mut prev = GENESIS;
    let mut n: u64 = 0;
    let mut anchored_at = (anchor == Some(GENESIS)).then_some(0u64);
    let mut valid_len: u64 = 0;
    let mut partial_len: u64 = 0;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(VerifyError::Io)?;
        if read == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            // The start every record `n + 1` written after `prev` has.
            let start = format!(
                "{{\"seq\":{},\"prev\":\"{}\",\"evaluated_at\":\"",
                n + 1,
                hex(&prev)
            );
            let start = start.as_bytes();
            if line.starts_with(start) || start.starts_with(&line) {
                partial_len = read as u64;
                break;
            }
            return Err(tampered(
                n + 1,
                format!(
                    "no line break at the end, and the line is not the start of record {}: the log was edited",
                    n + 1
                ),
            ));
        }
        n += 1;
        valid_len += read as u64;
        line.pop();
        if line.is_empty() {
            return Err(tampered(
                n,
                String::from("empty line: a line was inserted or a record erased"),
            ));
        }
        check_line(n, &line, &prev).map_err(|p| tampered(n, p))?;
        prev = sha256(&line);
        if anchor == Some(prev) {
            anchored_at = Some(n);
        }
    }
    if anchor.is_some() {
        match anchored_at {
            Some(m) if m == n => {}
            Some(m) => {
                return Err(tampered(
                    m + 1,
                    format!("written after the anchored head (line {m}): lines were appended"),
                ))
            }
            None => {
                return Err(tampered(
                    n,
                    String::from(
                        "no line hashes to the anchored head: the log was cut or re-chained",
                    ),
                ))
            }
        }
    }
    if partial_len > 0 {
        return Err(VerifyError::CutShort(CutShort {
            records: n,
            head: prev,
            valid_len,
            partial_len,
        }));
    }
    Ok(Verified {
        records: n,
        head: prev,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc3339() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_795_000_000_123), "2026-11-18T11:06:40.123Z");
        assert_eq!(rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn hex_round_trips() {
        let h = sha256(b"abc");
        assert_eq!(
            to_hex(&h),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(from_hex(&to_hex(&h)), Some(h));
        assert_eq!(from_hex("zz"), None);
    }
}
