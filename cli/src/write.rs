//! Writing decisions: CSV or JSON lines, money as decimal strings with the
//! currency's digits (`promo_spend` exactly, with any finer digits it
//! has). Rows are formatted by hand into a reused byte buffer (no per-row
//! allocation).

use priceguard::audit::PolicyStamp;
use priceguard::money::Amount;
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

/// `promo_spend` as the digits to print: its units and the fraction
/// digits they carry, the currency's and any finer ones the spend has
/// (docs/spec.md M1), trailing zeros beyond the currency's dropped, as
/// [`priceguard::Currency::format_amount`] prints it (`44.373`, `12.00`).
#[inline(always)]
fn spend(d: &Decision, digits: u8) -> Option<(i64, u8)> {
    let units = d.promo_spend?;
    if d.spend_scale == 0 {
        return Some((units, digits));
    }
    let a = Amount {
        units,
        scale: d.spend_scale,
    }
    .reduced();
    Some((a.units, digits + a.scale))
}

fn push_opt_spend_csv(buf: &mut Vec<u8>, d: &Decision, digits: u8) {
    if let Some((v, digits)) = spend(d, digits) {
        push_money(buf, v, digits);
    }
}

fn push_opt_spend_json(buf: &mut Vec<u8>, d: &Decision, digits: u8) {
    match spend(d, digits) {
        Some((v, digits)) => {
            buf.push(b'"');
            push_money(buf, v, digits);
            buf.push(b'"');
        }
        None => buf.extend_from_slice(b"null"),
    }
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
    push_opt_spend_csv(buf, d, digits);
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
    push_opt_spend_json(buf, d, digits);
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
    /// The name tables of the CSV fast path ([`CheckRowWriter::push_csv_fast`]).
    names: Option<Box<Names>>,
    /// Where the fast path builds a row before appending it whole.
    scratch: Vec<u8>,
}

/// Bytes of a [`Padded`] name: the longest text a table holds (a class
/// list with its comma) is 41.
const PAD: usize = 48;

/// Room for one row on the fast path; a row that does not fit (a very
/// long sku or rule lists) is written the general way.
const SCRATCH: usize = 1024;

/// A short text in a fixed-size array, so that it is copied as one
/// fixed-size move (the bytes after `len` are zero and overwritten next).
#[derive(Clone, Copy)]
struct Padded {
    bytes: [u8; PAD],
    len: usize,
}

impl Padded {
    fn of(text: &[u8]) -> Option<Padded> {
        let mut bytes = [0; PAD];
        bytes.get_mut(..text.len())?.copy_from_slice(text);
        Some(Padded {
            bytes,
            len: text.len(),
        })
    }

    /// `text` followed by a comma.
    fn field(text: &[u8]) -> Option<Padded> {
        let mut v = text.to_vec();
        v.push(b',');
        Padded::of(&v)
    }
}

/// The texts of a CSV row's fixed vocabularies, each made by the general
/// writer's own functions, so the fast path writes the same bytes.
struct Names {
    /// `outcome,` by `Outcome as usize`.
    outcomes: Vec<Padded>,
    /// Rule name by code (empty for codes without a rule, which are
    /// skipped as in [`push_rules`]).
    rules: Vec<Padded>,
    /// `relaxed,` for every class set.
    classes: Vec<Padded>,
    /// `reason,` by [`Reason::code`](priceguard::Reason::code); `None` for
    /// codes of no reason.
    reasons: Vec<Option<Padded>>,
    /// `false,` and `true,`.
    approval: (Padded, Padded),
}

impl Names {
    fn new() -> Option<Names> {
        let outcomes = priceguard::Outcome::ALL
            .iter()
            .enumerate()
            .map(|(i, o)| (i == *o as usize).then(|| Padded::field(o.name().as_bytes()))?)
            .collect::<Option<Vec<_>>>()?;
        let rules = (0..64)
            .map(|code| Padded::of(RULE_NAMES.get(code).copied().unwrap_or("").as_bytes()))
            .collect::<Option<Vec<_>>>()?;
        let classes = (0..=u8::MAX)
            .map(|bits| {
                let mut b = Vec::new();
                push_classes(&mut b, ClassSet(bits), b";", false);
                Padded::field(&b)
            })
            .collect::<Option<Vec<_>>>()?;
        let reasons = (0..132)
            .map(|code| match priceguard::Reason::from_code(code) {
                Some(r) if r.code() == code => Padded::field(r.name().as_bytes()).map(Some),
                _ => Some(None),
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Names {
            outcomes,
            rules,
            classes,
            reasons,
            approval: (Padded::field(b"false")?, Padded::field(b"true")?),
        })
    }
}

/// `"00"` to `"99"`.
// Evaluated at compile time (see `RULE_NAMES`).
#[allow(clippy::indexing_slicing)]
const PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// `10^k` for every `k` a `u64` holds.
#[allow(clippy::indexing_slicing)]
const POW10_U64: [u64; 20] = {
    let mut t = [1; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Decimal digits of `v` (one for zero), from its bit length: `bits *
/// 1233 / 4096` is `floor(log10(2^bits))`, one too many at most.
#[inline(always)]
fn decimal_digits(v: u64) -> usize {
    let bits = (u64::BITS - v.leading_zeros()) as usize;
    let t = (bits * 1233) >> 12;
    let below = POW10_U64.get(t).is_some_and(|p| v < *p);
    (t + 1 - usize::from(below)).max(1)
}

/// Writes the last two decimal digits of `v` to `out[k - 2..k]` and drops
/// them from `v`.
#[inline(always)]
fn pair(out: &mut [u8], k: usize, v: &mut u64) -> Option<()> {
    let q = *v / 100;
    let [a, b] = *PAIRS.get((*v - q * 100) as usize)?;
    *v = q;
    let slot = out.get_mut(k.checked_sub(2)?..k)?;
    if let [x, y] = slot {
        *x = a;
        *y = b;
    }
    Some(())
}

/// A row being built in the scratch buffer. Every write checks its room
/// and fails (`None`) when there is none: the row is then written the
/// general way.
struct Cursor<'a> {
    out: &'a mut [u8],
    pos: usize,
}

impl Cursor<'_> {
    #[inline(always)]
    fn byte(&mut self, b: u8) -> Option<()> {
        *self.out.get_mut(self.pos)? = b;
        self.pos += 1;
        Some(())
    }

    #[inline(always)]
    fn name(&mut self, p: &Padded) -> Option<()> {
        self.out
            .get_mut(self.pos..self.pos + PAD)?
            .copy_from_slice(&p.bytes);
        self.pos += p.len;
        Some(())
    }

    /// The sku as [`push_csv_field`] writes it when it needs no quotes;
    /// `None` when it does.
    #[inline(always)]
    fn sku(&mut self, sku: &[u8]) -> Option<()> {
        let out = self.out.get_mut(self.pos..self.pos + sku.len())?;
        let mut special = false;
        for (o, &b) in out.iter_mut().zip(sku) {
            special |= matches!(b, b',' | b'"' | b'\n' | b'\r');
            *o = b;
        }
        if special
            || sku.first().is_some_and(u8::is_ascii_whitespace)
            || sku.last().is_some_and(u8::is_ascii_whitespace)
        {
            return None;
        }
        self.pos += sku.len();
        Some(())
    }

    /// `v` in decimal (the digits [`itoa`] writes), zero padded to at
    /// least `frac + 1` digits with a point before the last `frac` when
    /// `frac > 0`.
    #[inline(always)]
    fn digits(&mut self, v: u64, frac: usize) -> Option<()> {
        let n = decimal_digits(v);
        let (width, point) = if frac == 0 {
            (n, 0)
        } else {
            (n.max(frac + 1), 1)
        };
        let len = width + point;
        let out = self.out.get_mut(self.pos..self.pos + len)?;
        let mut v = v;
        let mut k = len;
        // Two digits at a time, from the right: the fraction, the point,
        // then the integer part (`k` digits are left once the point is in).
        let mut f = frac;
        while f >= 2 {
            pair(out, k, &mut v)?;
            k -= 2;
            f -= 2;
        }
        if f == 1 {
            k -= 1;
            *out.get_mut(k)? = b'0' + (v % 10) as u8;
            v /= 10;
        }
        if point == 1 {
            k -= 1;
            *out.get_mut(k)? = b'.';
        }
        while k >= 2 {
            pair(out, k, &mut v)?;
            k -= 2;
        }
        if k == 1 {
            *out.get_mut(0)? = b'0' + (v % 10) as u8;
        }
        self.pos += len;
        Some(())
    }

    /// What [`push_money`] writes.
    #[inline(always)]
    fn money(&mut self, minor: i64, digits: u8) -> Option<()> {
        if minor < 0 {
            self.byte(b'-')?;
        }
        self.digits(minor.unsigned_abs(), usize::from(digits))
    }

    /// What [`push_opt_money_csv`] writes, then a comma.
    #[inline(always)]
    fn opt_money(&mut self, v: Option<i64>, digits: u8) -> Option<()> {
        if let Some(v) = v {
            self.money(v, digits)?;
        }
        self.byte(b',')
    }

    /// What [`push_rules`] writes with `;`, then a comma.
    #[inline(always)]
    fn rules(&mut self, names: &[Padded], set: RuleSet) -> Option<()> {
        let mut bits = set.bits();
        let mut first = true;
        while bits != 0 {
            let code = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let name = names.get(code)?;
            if name.len == 0 {
                continue;
            }
            if !first {
                self.byte(b';')?;
            }
            first = false;
            self.name(name)?;
        }
        self.byte(b',')
    }
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
            names: Names::new().map(Box::new),
            scratch: vec![0; SCRATCH],
        }
    }

    /// Appends one CSV row without an error the fast way: built in the
    /// scratch buffer from fixed-size name copies and hand-formatted
    /// numbers, then appended whole. `false` (nothing written) when the
    /// row needs the general path: a sku that needs quotes, or a row too
    /// long for the scratch buffer.
    fn push_csv_fast(&mut self, buf: &mut Vec<u8>, sku: &[u8], d: &Decision, line: u64) -> bool {
        let Some(t) = self.names.as_deref() else {
            return false;
        };
        let digits = self.digits;
        let mut w = Cursor {
            out: &mut self.scratch,
            pos: 0,
        };
        let written = (|| -> Option<()> {
            w.sku(sku)?;
            w.byte(b',')?;
            w.name(t.outcomes.get(d.outcome as usize)?)?;
            w.opt_money(d.price, digits)?;
            w.opt_money(d.lower, digits)?;
            w.opt_money(d.upper, digits)?;
            w.rules(&t.rules, d.violated)?;
            w.rules(&t.rules, d.binding)?;
            w.name(t.classes.get(usize::from(d.relaxed.0))?)?;
            let reason = t.reasons.get(usize::try_from(d.reason.code()).ok()?)?;
            w.name(reason.as_ref()?)?;
            if let Some((v, digits)) = spend(d, digits) {
                w.money(v, digits)?;
            }
            w.byte(b',')?;
            w.rules(&t.rules, d.unmet)?;
            w.name(if d.needs_approval {
                &t.approval.1
            } else {
                &t.approval.0
            })?;
            w.digits(line, 0)?;
            w.byte(b',')
        })();
        let Some(row) = written.and_then(|()| w.out.get(..w.pos)) else {
            return false;
        };
        buf.extend_from_slice(row);
        buf.extend_from_slice(&self.tail);
        true
    }

    /// Appends one row: the same bytes as [`push_check_row`] with this
    /// writer's policy.
    pub fn push(
        &mut self,
        buf: &mut Vec<u8>,
        sku: &[u8],
        decision: &Decision,
        line: u64,
        error: Option<&str>,
    ) {
        if self.format == Format::Csv
            && error.is_none()
            && self.push_csv_fast(buf, sku, decision, line)
        {
            return;
        }
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

/// Appends an `explain` column to the row or header just written at the
/// end of `buf` (`text` is `None` for the CSV header).
pub fn push_explain_column(buf: &mut Vec<u8>, format: Format, text: Option<&str>) {
    match format {
        Format::Csv => {
            if buf.last() == Some(&b'\n') {
                buf.pop();
            }
            buf.push(b',');
            match text {
                Some(t) => push_csv_field(buf, t.as_bytes()),
                None => buf.extend_from_slice(b"explain"),
            }
            buf.push(b'\n');
        }
        Format::Jsonl => {
            let Some(t) = text else { return };
            if buf.ends_with(b"}\n") {
                buf.truncate(buf.len() - 2);
            }
            buf.extend_from_slice(b",\"explain\":");
            push_json_str(buf, t.as_bytes());
            buf.extend_from_slice(b"}\n");
        }
    }
}

/// Appends the `lawful_reference` column (docs/spec.md §11.2: the "was"
/// price the law allows, on a `prior_price` hold or rejection) to the row
/// or header just written at the end of `buf`; `d` is `None` for the CSV
/// header. It goes last, after `explain` too, so that the columns readers
/// already find by position keep their places.
pub fn push_lawful_reference_column(
    buf: &mut Vec<u8>,
    format: Format,
    digits: u8,
    d: Option<&Decision>,
) {
    match format {
        Format::Csv => {
            if buf.last() == Some(&b'\n') {
                buf.pop();
            }
            buf.push(b',');
            match d {
                Some(d) => push_opt_money_csv(buf, d.lawful_reference, digits),
                None => buf.extend_from_slice(b"lawful_reference"),
            }
            buf.push(b'\n');
        }
        Format::Jsonl => {
            let Some(d) = d else { return };
            if buf.ends_with(b"}\n") {
                buf.truncate(buf.len() - 2);
            }
            buf.extend_from_slice(b",\"lawful_reference\":");
            push_opt_money_json(buf, d.lawful_reference, digits);
            buf.extend_from_slice(b"}\n");
        }
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
        // Added after `error`, so that the older columns keep their places.
        buf.extend_from_slice(b",error,live_lawful_reference,candidate_lawful_reference\n");
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
            buf.push(b',');
            push_opt_money_csv(buf, row.live.lawful_reference, digits);
            buf.push(b',');
            push_opt_money_csv(buf, row.candidate.lawful_reference, digits);
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
            buf.extend_from_slice(b",\"lawful_reference\":");
            push_opt_money_json(buf, row.live.lawful_reference, digits);
            buf.extend_from_slice(b"},\"candidate\":{");
            push_decision_json(buf, row.candidate, digits);
            buf.extend_from_slice(b",\"lawful_reference\":");
            push_opt_money_json(buf, row.candidate.lawful_reference, digits);
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
                let mut w = CheckRowWriter::new(format, digits, &stamp);
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
    fn decimal_digits_counts_every_magnitude() {
        let mut v: u64 = 1;
        for _ in 0..20 {
            for x in [v - 1, v, v + 1, v.saturating_mul(2), v.saturating_mul(9)] {
                assert_eq!(decimal_digits(x), x.to_string().len(), "{x}");
            }
            v = v.saturating_mul(10);
        }
        assert_eq!(decimal_digits(u64::MAX), 20);
    }

    /// The fast CSV row path writes what the general one does, on random
    /// decisions, skus and lines; and it is the path taken for plain rows.
    #[test]
    fn the_fast_csv_row_is_the_general_row() {
        use priceguard::{Outcome, Reason};
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(21);
        let stamp = PolicyStamp {
            name: String::from("retail, \"main\""),
            version: String::from("2026-11-27"),
            hash: String::from("0ec7"),
        };
        let magnitude = |rng: &mut rand_pcg::Pcg64| -> i64 {
            match rng.random_range(0..6) {
                0 => rng.random_range(-1000..1000),
                1 => rng.random_range(0..1_000_000),
                2 => i64::MIN + rng.random_range(0..3),
                3 => i64::MAX - rng.random_range(0..3),
                4 => 10i64.pow(rng.random_range(0..19)) - rng.random_range(0..2),
                _ => rng.random(),
            }
        };
        let mut fast = 0;
        for digits in 0..=4u8 {
            let mut w = CheckRowWriter::new(Format::Csv, digits, &stamp);
            for _ in 0..4000 {
                let opt = |rng: &mut rand_pcg::Pcg64| rng.random_bool(0.7).then(|| magnitude(rng));
                let rules = |rng: &mut rand_pcg::Pcg64| match rng.random_range(0..4) {
                    0 => RuleSet::EMPTY,
                    1 => RuleSet(1 << rng.random_range(0..64)),
                    2 => RuleSet(rng.random::<u64>() & ((1 << RULE_COUNT) - 1)),
                    _ => RuleSet(rng.random()),
                };
                let reason = Reason::from_code(rng.random_range(0..140))
                    .unwrap_or(Reason::Custom(rng.random()));
                let d = Decision {
                    outcome: Outcome::ALL[rng.random_range(0..4)],
                    reason,
                    price: opt(&mut rng),
                    lower: opt(&mut rng),
                    upper: opt(&mut rng),
                    violated: rules(&mut rng),
                    binding: rules(&mut rng),
                    unmet: rules(&mut rng),
                    relaxed: ClassSet(rng.random()),
                    promo_spend: opt(&mut rng),
                    spend_scale: if rng.random_bool(0.7) {
                        0
                    } else {
                        rng.random_range(1..=6)
                    },
                    needs_approval: rng.random(),
                    invalid_field: None,
                    lawful_reference: None,
                };
                let len = rng.random_range(0..40);
                // Mostly plain skus, some with bytes that need quotes.
                let alphabet: &[u8] = if rng.random_bool(0.8) {
                    b"SKU-0123456789x\xff"
                } else {
                    b"SKU-0123456789 ,\"\n\r\tx\xff"
                };
                let sku: Vec<u8> = (0..len)
                    .map(|_| {
                        let k = rng.random_range(0..alphabet.len());
                        alphabet.get(k).copied().unwrap_or(b'x')
                    })
                    .collect();
                let shift = rng.random_range(0..64);
                let line = rng.random_range(0..u64::MAX >> shift);
                let mut want = Vec::new();
                push_check_row(
                    &mut want,
                    Format::Csv,
                    digits,
                    &CheckRow {
                        sku: &sku,
                        decision: &d,
                        line,
                        error: None,
                        policy: &stamp,
                    },
                );
                let mut got = b"before".to_vec();
                if w.push_csv_fast(&mut got, &sku, &d, line) {
                    fast += 1;
                    assert_eq!(got.get(6..), Some(&want[..]), "{d:?}");
                } else {
                    assert_eq!(got, b"before");
                }
                let mut got = Vec::new();
                w.push(&mut got, &sku, &d, line, None);
                assert_eq!(got, want);
            }
        }
        assert!(fast > 5000, "the fast path took only {fast} rows");
    }

    /// `promo_spend` is written exactly, as `Currency::format_amount`
    /// prints it, in both formats and on the fast CSV path.
    #[test]
    fn promo_spend_is_written_exactly() {
        use priceguard::Currency;
        let stamp = PolicyStamp {
            name: String::from("p"),
            version: String::new(),
            hash: String::from("00"),
        };
        for (code, units, scale) in [
            ("USD", 44_373, 1),
            ("USD", 1_200, 0),
            ("USD", 443_730, 2),
            ("USD", 5, 6),
            ("USD", -7, 3),
            ("JPY", 12_345, 2),
            ("KWD", 1, 6),
            ("KWD", 0, 4),
        ] {
            let cur = Currency::from_code(code).unwrap();
            let digits = cur.minor_units();
            let d = Decision {
                promo_spend: Some(units),
                spend_scale: scale,
                ..Decision::default()
            };
            let want = cur.format_amount(Amount { units, scale }).to_string();
            let mut b = Vec::new();
            push_decision_csv(&mut b, &d, digits);
            let csv = String::from_utf8(b).unwrap();
            assert_eq!(csv.split(',').nth(8), Some(want.as_str()), "{csv}");
            let mut b = Vec::new();
            push_decision_json(&mut b, &d, digits);
            let json: serde_json::Value =
                serde_json::from_slice(&[b"{", &b[..], b"}"].concat()).unwrap();
            assert_eq!(json["promo_spend"], want.as_str());
            let mut w = CheckRowWriter::new(Format::Csv, digits, &stamp);
            let mut fast = Vec::new();
            assert!(w.push_csv_fast(&mut fast, b"A", &d, 1));
            let mut general = Vec::new();
            push_check_row(
                &mut general,
                Format::Csv,
                digits,
                &CheckRow {
                    sku: b"A",
                    decision: &d,
                    line: 1,
                    error: None,
                    policy: &stamp,
                },
            );
            assert_eq!(fast, general);
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
