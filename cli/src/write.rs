//! Writing decisions: CSV or JSON lines, money as decimal strings with the
//! currency's digits. Rows are formatted by hand into a reused byte buffer
//! (no per-row allocation).

use priceguard::audit::PolicyStamp;
use priceguard::rules::RULE_COUNT;
use priceguard::{ClassSet, Decision, Rule, RuleSet};

use crate::format::Format;

/// The decision columns, in output order (between `sku` and `line`).
pub const DECISION_COLUMNS: [&str; 11] = [
    "outcome",
    "price",
    "lower",
    "upper",
    "violated",
    "binding",
    "relaxed",
    "reason",
    "promo_spend",
    "unmet",
    "needs_approval",
];

/// Appends `minor` as a decimal with exactly `digits` fraction digits
/// (`1430` with 2 digits is `14.30`).
#[inline]
pub fn push_money(buf: &mut Vec<u8>, minor: i64, digits: u8) {
    let mut itoa = itoa::Buffer::new();
    if minor < 0 {
        buf.push(b'-');
    }
    // One integer conversion of the whole amount; the point goes in
    // `digits` from the end, after zero padding for amounts below one.
    let text = itoa.format(minor.unsigned_abs()).as_bytes();
    let frac_len = usize::from(digits);
    if frac_len == 0 {
        buf.extend_from_slice(text);
        return;
    }
    match text.split_at_checked(text.len().wrapping_sub(frac_len)) {
        Some((int, frac)) if !int.is_empty() => {
            buf.extend_from_slice(int);
            buf.push(b'.');
            buf.extend_from_slice(frac);
        }
        _ => {
            buf.extend_from_slice(b"0.");
            for _ in text.len()..frac_len {
                buf.push(b'0');
            }
            buf.extend_from_slice(text);
        }
    }
}

/// A signed money amount of any size as text (for sums).
pub fn money_text(minor: i128, digits: u8) -> String {
    let neg = minor < 0;
    let abs = minor.unsigned_abs();
    let scale = 10u128.pow(u32::from(digits));
    let sign = if neg { "-" } else { "" };
    if digits == 0 {
        return format!("{sign}{abs}");
    }
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = usize::from(digits)
    )
}

/// Rule names by code, so a set is written straight from its bits.
// Evaluated at compile time: an index out of range would fail the build,
// never panic at run time.
#[allow(clippy::indexing_slicing)]
const RULE_NAMES: [&str; RULE_COUNT] = {
    let mut names = [""; RULE_COUNT];
    let mut code = 0;
    while code < RULE_COUNT {
        if let Some(r) = Rule::from_code(code as u8) {
            names[code] = r.name();
        }
        code += 1;
    }
    names
};

fn push_rules(buf: &mut Vec<u8>, set: RuleSet, sep: &[u8], quote: bool) {
    let mut bits = set.bits();
    let mut first = true;
    while bits != 0 {
        let code = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        // Codes without a rule are skipped, as `RuleSet::iter` does.
        let Some(name) = RULE_NAMES.get(code).filter(|n| !n.is_empty()) else {
            continue;
        };
        if !first {
            buf.extend_from_slice(sep);
        }
        first = false;
        if quote {
            buf.push(b'"');
        }
        buf.extend_from_slice(name.as_bytes());
        if quote {
            buf.push(b'"');
        }
    }
}

fn push_classes(buf: &mut Vec<u8>, set: ClassSet, sep: &[u8], quote: bool) {
    if set.is_empty() {
        return;
    }
    for (i, c) in set.iter().enumerate() {
        if i > 0 {
            buf.extend_from_slice(sep);
        }
        if quote {
            buf.push(b'"');
        }
        buf.extend_from_slice(c.name().as_bytes());
        if quote {
            buf.push(b'"');
        }
    }
}

/// Appends a CSV field, quoted when it holds a delimiter, quote, line
/// break or surrounding space.
pub fn push_csv_field(buf: &mut Vec<u8>, field: &[u8]) {
    let needs_quotes = field
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        || field.first().is_some_and(u8::is_ascii_whitespace)
        || field.last().is_some_and(u8::is_ascii_whitespace);
    if !needs_quotes {
        buf.extend_from_slice(field);
        return;
    }
    buf.push(b'"');
    for &b in field {
        if b == b'"' {
            buf.push(b'"');
        }
        buf.push(b);
    }
    buf.push(b'"');
}

/// Appends a JSON string literal (invalid UTF-8 replaced).
pub fn push_json_str(buf: &mut Vec<u8>, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    buf.push(b'"');
    for ch in text.chars() {
        match ch {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            '\n' => buf.extend_from_slice(b"\\n"),
            '\r' => buf.extend_from_slice(b"\\r"),
            '\t' => buf.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                buf.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut tmp = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
        }
    }
    buf.push(b'"');
}

fn push_opt_money_csv(buf: &mut Vec<u8>, v: Option<i64>, digits: u8) {
    if let Some(v) = v {
        push_money(buf, v, digits);
    }
}

fn push_opt_money_json(buf: &mut Vec<u8>, v: Option<i64>, digits: u8) {
    match v {
        Some(v) => {
            buf.push(b'"');
            push_money(buf, v, digits);
            buf.push(b'"');
        }
        None => buf.extend_from_slice(b"null"),
    }
}

/// Appends the decision columns as CSV fields, each followed by a comma
/// except the last.
pub fn push_decision_csv(buf: &mut Vec<u8>, d: &Decision, digits: u8) {
    buf.extend_from_slice(d.outcome.name().as_bytes());
    buf.push(b',');
    push_opt_money_csv(buf, d.price, digits);
    buf.push(b',');
    push_opt_money_csv(buf, d.lower, digits);
    buf.push(b',');
    push_opt_money_csv(buf, d.upper, digits);
    buf.push(b',');
    push_rules(buf, d.violated, b";", false);
    buf.push(b',');
    push_rules(buf, d.binding, b";", false);
    buf.push(b',');
    push_classes(buf, d.relaxed, b";", false);
    buf.push(b',');
    buf.extend_from_slice(d.reason.name().as_bytes());
    buf.push(b',');
    push_opt_money_csv(buf, d.promo_spend, digits);
    buf.push(b',');
    push_rules(buf, d.unmet, b";", false);
    buf.push(b',');
    buf.extend_from_slice(if d.needs_approval { b"true" } else { b"false" });
}

/// Appends the decision columns as JSON members (`"outcome":...,...`),
/// without braces.
pub fn push_decision_json(buf: &mut Vec<u8>, d: &Decision, digits: u8) {
    buf.extend_from_slice(b"\"outcome\":\"");
    buf.extend_from_slice(d.outcome.name().as_bytes());
    buf.extend_from_slice(b"\",\"price\":");
    push_opt_money_json(buf, d.price, digits);
    buf.extend_from_slice(b",\"lower\":");
    push_opt_money_json(buf, d.lower, digits);
    buf.extend_from_slice(b",\"upper\":");
    push_opt_money_json(buf, d.upper, digits);
    buf.extend_from_slice(b",\"violated\":[");
    push_rules(buf, d.violated, b",", true);
    buf.extend_from_slice(b"],\"binding\":[");
    push_rules(buf, d.binding, b",", true);
    buf.extend_from_slice(b"],\"relaxed\":[");
    push_classes(buf, d.relaxed, b",", true);
    buf.extend_from_slice(b"],\"reason\":\"");
    buf.extend_from_slice(d.reason.name().as_bytes());
    buf.extend_from_slice(b"\",\"promo_spend\":");
    push_opt_money_json(buf, d.promo_spend, digits);
    buf.extend_from_slice(b",\"unmet\":[");
    push_rules(buf, d.unmet, b",", true);
    buf.extend_from_slice(b"],\"needs_approval\":");
    buf.extend_from_slice(if d.needs_approval { b"true" } else { b"false" });
}

/// Appends the header line of `check` output (CSV only; JSON lines have none).
pub fn push_check_header(buf: &mut Vec<u8>, format: Format) {
    if format == Format::Csv {
        buf.extend_from_slice(b"sku,");
        buf.extend_from_slice(DECISION_COLUMNS.join(",").as_bytes());
        buf.extend_from_slice(b",line,error,policy,policy_version,policy_hash\n");
    }
}

/// One output row of `check`.
pub struct CheckRow<'a> {
    /// The sku as read.
    pub sku: &'a [u8],
    /// The decision.
    pub decision: &'a Decision,
    /// 1-based input line.
    pub line: u64,
    /// Why the row could not be evaluated, for `invalid_input`.
    pub error: Option<&'a str>,
    /// The policy that decided it.
    pub policy: &'a PolicyStamp,
}

/// Writes `check` output rows with what is the same on every row (the
/// policy columns) formatted once.
pub struct CheckRowWriter {
    format: Format,
    digits: u8,
    /// Everything after the `error` column, line end included.
    tail: Vec<u8>,
}

impl CheckRowWriter {
    /// A writer for rows decided by the policy of `stamp`, money with
    /// `digits` fraction digits.
    pub fn new(format: Format, digits: u8, stamp: &PolicyStamp) -> CheckRowWriter {
        let mut tail = Vec::new();
        match format {
            Format::Csv => {
                tail.push(b',');
                push_csv_field(&mut tail, stamp.name.as_bytes());
                tail.push(b',');
                push_csv_field(&mut tail, stamp.version.as_bytes());
                tail.push(b',');
                tail.extend_from_slice(stamp.hash.as_bytes());
                tail.push(b'\n');
            }
            Format::Jsonl => {
                tail.extend_from_slice(b",\"policy\":");
                push_json_str(&mut tail, stamp.name.as_bytes());
                tail.extend_from_slice(b",\"policy_version\":");
                push_json_str(&mut tail, stamp.version.as_bytes());
                tail.extend_from_slice(b",\"policy_hash\":\"");
                tail.extend_from_slice(stamp.hash.as_bytes());
                tail.extend_from_slice(b"\"}\n");
            }
        }
        CheckRowWriter {
            format,
            digits,
            tail,
        }
    }

    /// Appends one row: the same bytes as [`push_check_row`] with this
    /// writer's policy.
    pub fn push(
        &self,
        buf: &mut Vec<u8>,
        sku: &[u8],
        decision: &Decision,
        line: u64,
        error: Option<&str>,
    ) {
        let mut itoa = itoa::Buffer::new();
        match self.format {
            Format::Csv => {
                push_csv_field(buf, sku);
                buf.push(b',');
                push_decision_csv(buf, decision, self.digits);
                buf.push(b',');
                buf.extend_from_slice(itoa.format(line).as_bytes());
                buf.push(b',');
                if let Some(e) = error {
                    push_csv_field(buf, e.as_bytes());
                }
            }
            Format::Jsonl => {
                buf.extend_from_slice(b"{\"sku\":");
                push_json_str(buf, sku);
                buf.push(b',');
                push_decision_json(buf, decision, self.digits);
                buf.extend_from_slice(b",\"line\":");
                buf.extend_from_slice(itoa.format(line).as_bytes());
                buf.extend_from_slice(b",\"error\":");
                match error {
                    Some(e) => push_json_str(buf, e.as_bytes()),
                    None => buf.extend_from_slice(b"null"),
                }
            }
        }
        buf.extend_from_slice(&self.tail);
    }
}

/// Appends one `check` output row.
pub fn push_check_row(buf: &mut Vec<u8>, format: Format, digits: u8, row: &CheckRow<'_>) {
    let mut itoa = itoa::Buffer::new();
    match format {
        Format::Csv => {
            push_csv_field(buf, row.sku);
            buf.push(b',');
            push_decision_csv(buf, row.decision, digits);
            buf.push(b',');
            buf.extend_from_slice(itoa.format(row.line).as_bytes());
            buf.push(b',');
            if let Some(e) = row.error {
                push_csv_field(buf, e.as_bytes());
            }
            buf.push(b',');
            push_csv_field(buf, row.policy.name.as_bytes());
            buf.push(b',');
            push_csv_field(buf, row.policy.version.as_bytes());
            buf.push(b',');
            buf.extend_from_slice(row.policy.hash.as_bytes());
            buf.push(b'\n');
        }
        Format::Jsonl => {
            buf.extend_from_slice(b"{\"sku\":");
            push_json_str(buf, row.sku);
            buf.push(b',');
            push_decision_json(buf, row.decision, digits);
            buf.extend_from_slice(b",\"line\":");
            buf.extend_from_slice(itoa.format(row.line).as_bytes());
            buf.extend_from_slice(b",\"error\":");
            match row.error {
                Some(e) => push_json_str(buf, e.as_bytes()),
                None => buf.extend_from_slice(b"null"),
            }
            buf.extend_from_slice(b",\"policy\":");
            push_json_str(buf, row.policy.name.as_bytes());
            buf.extend_from_slice(b",\"policy_version\":");
            push_json_str(buf, row.policy.version.as_bytes());
            buf.extend_from_slice(b",\"policy_hash\":\"");
            buf.extend_from_slice(row.policy.hash.as_bytes());
            buf.extend_from_slice(b"\"}\n");
        }
    }
}

/// Appends the header line of `diff` output (CSV only).
pub fn push_diff_header(buf: &mut Vec<u8>, format: Format) {
    if format == Format::Csv {
        buf.extend_from_slice(b"sku,line,changed,delta");
        for side in ["live", "candidate"] {
            for c in DECISION_COLUMNS {
                buf.push(b',');
                buf.extend_from_slice(side.as_bytes());
                buf.push(b'_');
                buf.extend_from_slice(c.as_bytes());
            }
        }
        buf.extend_from_slice(b",error\n");
    }
}

/// One output row of `diff`: the live and candidate decisions side by side.
pub struct DiffRow<'a> {
    /// The sku as read.
    pub sku: &'a [u8],
    /// 1-based input line.
    pub line: u64,
    /// Whether the two decisions differ.
    pub changed: bool,
    /// Candidate price minus live price, when both publish one.
    pub delta: Option<i64>,
    /// Under the live policy.
    pub live: &'a Decision,
    /// Under the candidate policy.
    pub candidate: &'a Decision,
    /// Why the row could not be evaluated, for `invalid_input`.
    pub error: Option<&'a str>,
}

/// Appends one `diff` output row.
pub fn push_diff_row(buf: &mut Vec<u8>, format: Format, digits: u8, row: &DiffRow<'_>) {
    let mut itoa = itoa::Buffer::new();
    let changed: &[u8] = if row.changed { b"true" } else { b"false" };
    match format {
        Format::Csv => {
            push_csv_field(buf, row.sku);
            buf.push(b',');
            buf.extend_from_slice(itoa.format(row.line).as_bytes());
            buf.push(b',');
            buf.extend_from_slice(changed);
            buf.push(b',');
            push_opt_money_csv(buf, row.delta, digits);
            buf.push(b',');
            push_decision_csv(buf, row.live, digits);
            buf.push(b',');
            push_decision_csv(buf, row.candidate, digits);
            buf.push(b',');
            if let Some(e) = row.error {
                push_csv_field(buf, e.as_bytes());
            }
            buf.push(b'\n');
        }
        Format::Jsonl => {
            buf.extend_from_slice(b"{\"sku\":");
            push_json_str(buf, row.sku);
            buf.extend_from_slice(b",\"line\":");
            buf.extend_from_slice(itoa.format(row.line).as_bytes());
            buf.extend_from_slice(b",\"changed\":");
            buf.extend_from_slice(changed);
            buf.extend_from_slice(b",\"delta\":");
            push_opt_money_json(buf, row.delta, digits);
            buf.extend_from_slice(b",\"live\":{");
            push_decision_json(buf, row.live, digits);
            buf.extend_from_slice(b"},\"candidate\":{");
            push_decision_json(buf, row.candidate, digits);
            buf.extend_from_slice(b"},\"error\":");
            match row.error {
                Some(e) => push_json_str(buf, e.as_bytes()),
                None => buf.extend_from_slice(b"null"),
            }
            buf.extend_from_slice(b"}\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(minor: i64, digits: u8) -> String {
        let mut b = Vec::new();
        push_money(&mut b, minor, digits);
        String::from_utf8_lossy(&b).into_owned()
    }

    #[test]
    fn money_has_the_currency_digits() {
        assert_eq!(money(1430, 2), "14.30");
        assert_eq!(money(5, 2), "0.05");
        assert_eq!(money(-5, 2), "-0.05");
        assert_eq!(money(1430, 0), "1430");
        assert_eq!(money(1_234_567, 3), "1234.567");
        assert_eq!(money_text(-123_456, 2), "-1234.56");
        assert_eq!(money_text(7, 0), "7");
    }

    #[test]
    fn money_pads_and_signs_every_magnitude() {
        assert_eq!(money(0, 2), "0.00");
        assert_eq!(money(-1, 2), "-0.01");
        assert_eq!(money(10, 2), "0.10");
        assert_eq!(money(100, 2), "1.00");
        assert_eq!(money(0, 0), "0");
        assert_eq!(money(-7, 0), "-7");
        assert_eq!(money(7, 4), "0.0007");
        assert_eq!(money(i64::MIN, 2), "-92233720368547758.08");
        assert_eq!(money(i64::MAX, 3), "9223372036854775.807");
        // The same text as the arbitrary-size formatter, for all sizes.
        let mut v: i64 = 1;
        for _ in 0..19 {
            for m in [v - 1, v, v + 1, -v, -(v - 1), -(v + 1)] {
                for d in 0..=4 {
                    assert_eq!(money(m, d), money_text(i128::from(m), d), "{m} {d}");
                }
            }
            v = v.saturating_mul(10);
        }
    }

    #[test]
    fn rule_lists_name_every_rule_in_code_order() {
        let all = RuleSet(u64::MAX);
        let mut b = Vec::new();
        push_rules(&mut b, all, b";", false);
        let want: Vec<&str> = all.iter().map(|r| r.name()).collect();
        assert_eq!(String::from_utf8_lossy(&b), want.join(";"));
        b.clear();
        push_rules(&mut b, RuleSet(0b1010), b",", true);
        let want: Vec<String> = RuleSet(0b1010)
            .iter()
            .map(|r| format!("\"{}\"", r.name()))
            .collect();
        assert_eq!(String::from_utf8_lossy(&b), want.join(","));
        b.clear();
        push_rules(&mut b, RuleSet::EMPTY, b";", false);
        assert!(b.is_empty());
    }

    #[test]
    fn the_row_writer_writes_what_push_check_row_writes() {
        let stamp = PolicyStamp {
            name: String::from("a, \"b\""),
            version: String::from(" v1"),
            hash: String::from("ab12"),
        };
        let decisions = [
            Decision::default(),
            Decision::invalid(priceguard::Field::UnitCost),
            Decision {
                price: Some(1499),
                lower: Some(-5),
                upper: Some(123_456),
                promo_spend: Some(0),
                violated: RuleSet(0b101),
                binding: RuleSet(0b110),
                unmet: RuleSet(1 << 40),
                relaxed: ClassSet(0b11),
                needs_approval: true,
                ..Decision::default()
            },
        ];
        for format in [Format::Csv, Format::Jsonl] {
            for digits in [0, 2, 3] {
                let w = CheckRowWriter::new(format, digits, &stamp);
                for d in &decisions {
                    for (sku, error) in [(&b"A-1"[..], None), (b"x,\"y\"\n", Some("bad, \"x\""))] {
                        let mut want = Vec::new();
                        push_check_row(
                            &mut want,
                            format,
                            digits,
                            &CheckRow {
                                sku,
                                decision: d,
                                line: 42,
                                error,
                                policy: &stamp,
                            },
                        );
                        let mut got = Vec::new();
                        w.push(&mut got, sku, d, 42, error);
                        assert_eq!(got, want);
                    }
                }
            }
        }
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        let mut b = Vec::new();
        push_csv_field(&mut b, b"a,\"b\"");
        assert_eq!(b, b"\"a,\"\"b\"\"\"");
        b.clear();
        push_csv_field(&mut b, b"plain");
        assert_eq!(b, b"plain");
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut b = Vec::new();
        push_json_str(&mut b, b"a\"b\\c\n\x01");
        assert_eq!(String::from_utf8_lossy(&b), "\"a\\\"b\\\\c\\n\\u0001\"");
    }
}
