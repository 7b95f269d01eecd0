//! `priceguard history summarize`: the per-SKU history summaries of
//! docs/spec.md §11.1 from price rows (CSV or JSON lines), or from an
//! audit log, and competitor quotes, written as one CSV row per SKU.
//!
//! Fails closed: a row that cannot be read stops the run with an error
//! naming the file, line and field, and nothing is written.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use priceguard::history::audit_rows::read_record;
use priceguard::history::{
    HistoryError, HistoryParams, PriceRow, Quote, Summariser, Summary, COLUMNS,
};
use priceguard::money::{parse_amount, Amount, Currency, Digits};
use rust_decimal::Decimal;

use crate::check::progress;
use crate::csvscan::{CsvReader, Fault, Records, DEFAULT_MAX_LINE};
use crate::format::Format;
use crate::output::Output;
use crate::read::open_input;
use crate::write::push_csv_field;
use crate::CliError;

/// Long help of `history summarize`.
pub const SUMMARIZE_HELP: &str = "\
--prices holds price rows with the columns sku, price, at and optionally reference_price (a row
with one is on promotion), CSV or JSON lines by extension (--format to force), in any order; or an
audit log written by `check --audit` (--from-audit, or detected from its first line), whose
accepted and adjusted decisions are the published prices. --quotes holds competitor quotes with the
columns sku, competitor, price, seen_at. Money is text in major units (\"12.49\"), times are unix
seconds.

Periods come from --policy where it sets them ([disclosure] prior_days, change.window_secs,
[market] max_quote_age_secs and outlier_mad) and the flags override them; the currency comes from
the policy or --currency. Output: one CSV row per SKU, sorted by SKU, with the columns sku,
prior_low_price, promo_started_at, last_promo_ended_at, reversals_in_window, last_change_at,
changes_in_window, window_anchor_price, competitor_price, competitor_quotes; an empty cell is a
value that does not exist (see docs/spec.md §11). The output is written whole or not at all: any
row that cannot be read stops the run (exit 2) naming its file, line and field.";

/// Arguments of `history summarize`.
#[derive(clap::Args, Debug)]
pub struct SummarizeArgs {
    /// Price rows (sku, price, at[, reference_price]) or an audit log
    #[arg(long)]
    prices: PathBuf,
    /// Competitor quotes (sku, competitor, price, seen_at)
    #[arg(long)]
    quotes: Option<PathBuf>,
    /// Unix seconds the summaries describe; later rows are not yet in force
    #[arg(long)]
    now: u64,
    /// Policy file to take the currency and periods from
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Currency of the prices (ISO 4217), when no policy gives it
    #[arg(long)]
    currency: Option<String>,
    /// Days `prior_low_price` looks back over ([disclosure] prior_days)
    #[arg(long)]
    prior_days: Option<u32>,
    /// The change window in seconds (change.window_secs)
    #[arg(long)]
    window_secs: Option<i64>,
    /// Oldest quote kept, in seconds before --now ([market] max_quote_age_secs)
    #[arg(long)]
    max_quote_age_secs: Option<i64>,
    /// Quotes farther than this many median absolute deviations from the
    /// median are dropped ([market] outlier_mad)
    #[arg(long)]
    outlier_mad: Option<String>,
    /// Read --prices as an audit log
    #[arg(long)]
    from_audit: bool,
    /// Summaries file (CSV); standard output when absent
    #[arg(long)]
    output: Option<PathBuf>,
    /// Format of --prices and --quotes, overriding their extensions
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// No summary on standard error
    #[arg(long, short)]
    quiet: bool,
}

/// The policy keys the summaries use, read from the file as written (the
/// base rules; segments do not change history periods).
#[derive(Default)]
struct PolicyKeys {
    currency: Option<String>,
    prior_days: Option<u32>,
    window_secs: Option<i64>,
    max_quote_age_secs: Option<i64>,
    outlier_mad: Option<String>,
}

/// The policy keys that set history periods.
const HISTORY_KEYS: [(&str, &str); 4] = [
    ("disclosure", "prior_days"),
    ("change", "window_secs"),
    ("market", "max_quote_age_secs"),
    ("market", "outlier_mad"),
];

fn policy_keys(path: &Path) -> Result<PolicyKeys, CliError> {
    let name = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::new(format!("cannot read `{name}`: {e}")))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let doc: serde_json::Value = if is_json {
        serde_json::from_str(&text).map_err(|e| CliError::new(format!("policy `{name}`: {e}")))?
    } else {
        let v: toml::Value =
            toml::from_str(&text).map_err(|e| CliError::new(format!("policy `{name}`: {e}")))?;
        serde_json::to_value(v).map_err(|e| CliError::new(format!("policy `{name}`: {e}")))?
    };
    let get = |table: &str, key: &str| doc.get(table).and_then(|t| t.get(key));
    // One period per key for every item: a segment that sets its own would
    // be summarised with the wrong one, so it is refused (fail closed).
    let segments = doc.get("segments").and_then(|v| v.as_array());
    for (i, seg) in segments.into_iter().flatten().enumerate() {
        for (table, key) in HISTORY_KEYS {
            let own = seg.get(table).and_then(|t| t.get(key));
            if own.is_some() && own != get(table, key) {
                return Err(CliError::new(format!(
                    "policy `{name}`: segments[{i}].{table}.{key}: history summaries use one \
                     period for every item; a segment with its own is not supported"
                )));
            }
        }
    }
    let int = |table: &str, key: &str| -> Result<Option<i64>, CliError> {
        match get(table, key) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                CliError::new(format!(
                    "policy `{name}`: {table}.{key}: is not a whole number"
                ))
            }),
        }
    };
    let prior_days = int("disclosure", "prior_days")?
        .map(|d| {
            u32::try_from(d).map_err(|_| {
                CliError::new(format!(
                    "policy `{name}`: disclosure.prior_days: is out of range"
                ))
            })
        })
        .transpose()?;
    let outlier_mad = match get("market", "outlier_mad") {
        None => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            return Err(CliError::new(format!(
                "policy `{name}`: market.outlier_mad: is not a number"
            )))
        }
    };
    Ok(PolicyKeys {
        currency: doc
            .get("currency")
            .and_then(|c| c.as_str())
            .map(String::from),
        prior_days,
        window_secs: int("change", "window_secs")?,
        max_quote_age_secs: int("market", "max_quote_age_secs")?,
        outlier_mad,
    })
}

/// The history parameters a policy file sets (`[disclosure] prior_days`,
/// `change.window_secs`, `[market] max_quote_age_secs`, `outlier_mad`),
/// at `now`.
pub fn policy_params(path: &Path, now: i64) -> Result<HistoryParams, CliError> {
    let keys = policy_keys(path)?;
    let mut params = HistoryParams::new(now);
    if let Some(d) = keys.prior_days {
        params = params.with_prior_days(d);
    }
    if let Some(w) = keys.window_secs {
        params = params.with_window_secs(w);
    }
    if let Some(a) = keys.max_quote_age_secs {
        params = params.with_max_quote_age_secs(a);
    }
    if let Some(k) = keys.outlier_mad {
        let k = Decimal::from_str(k.trim())
            .map_err(|_| CliError::new(format!("outlier_mad: `{k}` is not a decimal number")))?;
        params = params.with_outlier_mad(k);
    }
    params
        .validate()
        .map_err(|e| CliError::new(format!("history parameters: {e}")))?;
    Ok(params)
}

/// Runs `history summarize`.
pub fn summarize(args: &SummarizeArgs) -> Result<(), CliError> {
    let keys = match &args.policy {
        Some(p) => policy_keys(p)?,
        None => PolicyKeys::default(),
    };
    let code = args.currency.clone().or(keys.currency).ok_or_else(|| {
        CliError::new("the currency of the prices is unknown: give --policy or --currency")
    })?;
    let currency = Currency::from_code(code.trim())
        .ok_or_else(|| CliError::new(format!("currency `{code}` is not an ISO 4217 code")))?;
    let now = i64::try_from(args.now)
        .map_err(|_| CliError::new(format!("--now: `{}` is out of range", args.now)))?;
    let mut params = HistoryParams::new(now);
    if let Some(d) = args.prior_days.or(keys.prior_days) {
        params = params.with_prior_days(d);
    }
    if let Some(w) = args.window_secs.or(keys.window_secs) {
        params = params.with_window_secs(w);
    }
    if let Some(a) = args.max_quote_age_secs.or(keys.max_quote_age_secs) {
        params = params.with_max_quote_age_secs(a);
    }
    if let Some(k) = args.outlier_mad.clone().or(keys.outlier_mad) {
        let k = Decimal::from_str(k.trim())
            .map_err(|_| CliError::new(format!("outlier_mad: `{k}` is not a decimal number")))?;
        params = params.with_outlier_mad(k);
    }
    params
        .validate()
        .map_err(|e| CliError::new(format!("history parameters: {e}")))?;

    let mut s = Summariser::new(params);
    let digits = currency.minor_units();
    let rows = read_prices(args, digits, &mut s)?;
    let mut quotes = 0u64;
    if let Some(q) = &args.quotes {
        s.expect_quotes();
        quotes = read_quotes(q, args.format, args.quiet, digits, &mut s)?;
    }
    let summaries = s.finish();
    let mut buf = Vec::with_capacity(64 * summaries.len() + 256);
    buf.extend_from_slice(b"sku");
    for c in COLUMNS {
        buf.push(b',');
        buf.extend_from_slice(c.as_bytes());
    }
    buf.push(b'\n');
    for (sku, summary) in &summaries {
        push_summary(&mut buf, currency, sku, summary);
    }
    let mut out = Output::open(args.output.as_deref())?;
    out.write_all(&buf)
        .map_err(|e| CliError::new(format!("cannot write {}: {e}", out.name())))?;
    let name = out.name().to_string();
    out.commit()?;
    if !args.quiet {
        eprintln!(
            "{rows} price rows, {quotes} quotes: {} SKUs summarized to {name}",
            summaries.len()
        );
    }
    Ok(())
}

/// Appends one SKU's CSV row; empty cells for values that do not exist.
pub fn push_summary(buf: &mut Vec<u8>, currency: Currency, sku: &str, s: &Summary) {
    use std::io::Write as _;
    push_csv_field(buf, sku.as_bytes());
    let money = |buf: &mut Vec<u8>, a: Option<Amount>| {
        buf.push(b',');
        if let Some(a) = a {
            let _ = write!(buf, "{}", currency.format_amount(a));
        }
    };
    let int = |buf: &mut Vec<u8>, v: Option<i64>| {
        buf.push(b',');
        if let Some(v) = v {
            let _ = write!(buf, "{v}");
        }
    };
    let count = |v: Option<u64>| v.and_then(|v| i64::try_from(v).ok());
    money(buf, s.prior_low_price);
    int(buf, s.promo_started_at);
    int(buf, s.last_promo_ended_at);
    int(buf, count(s.reversals_in_window));
    int(buf, s.last_change_at);
    int(buf, count(s.changes_in_window));
    money(buf, s.window_anchor_price);
    money(buf, s.competitor_price);
    int(buf, count(s.competitor_quotes));
    buf.push(b'\n');
}

/// A table's cells by column, for one row: `None` is an absent or empty
/// cell.
type Cells<'a> = [Option<&'a str>];

/// Reads a CSV or JSON lines table whose columns are `columns` (the
/// first `required` of them must be there; no other column is allowed),
/// calling `row(line, cells)` for each row.
fn read_table(
    path: &Path,
    format: Format,
    columns: &[&str],
    required: usize,
    quiet: bool,
    mut row: impl FnMut(u64, &Cells<'_>) -> Result<(), String>,
) -> Result<u64, CliError> {
    let name = path.display().to_string();
    let (input, size) = open_input(path)?;
    let bar = progress(size, quiet);
    let at_line = |line: u64, e: String| CliError::new(format!("`{name}` line {line}: {e}"));
    let mut count = 0u64;
    match format {
        Format::Csv => {
            let mut rdr = CsvReader::new(input).with_max_line(DEFAULT_MAX_LINE);
            let mut rec = Records::new();
            let read_err = |e: std::io::Error| CliError::new(format!("cannot read `{name}`: {e}"));
            if rdr.read_record(&mut rec).map_err(read_err)?.is_none() {
                return Err(CliError::new(format!("`{name}` is empty: no header")));
            }
            let mut map: Vec<usize> = Vec::new();
            for field in rec.fields(0) {
                let col = std::str::from_utf8(field).unwrap_or("").trim();
                let Some(i) = columns.iter().position(|c| *c == col) else {
                    return Err(CliError::new(format!(
                        "`{name}`: unknown column `{col}` (the columns are {})",
                        columns.join(", ")
                    )));
                };
                if map.contains(&i) {
                    return Err(CliError::new(format!(
                        "`{name}`: column `{col}` appears twice"
                    )));
                }
                map.push(i);
            }
            for (i, c) in columns.iter().enumerate().take(required) {
                if !map.contains(&i) {
                    return Err(CliError::new(format!("`{name}`: no `{c}` column")));
                }
            }
            loop {
                rec.clear();
                let Some(line) = rdr.read_record(&mut rec).map_err(read_err)? else {
                    break;
                };
                match rec.fault(0) {
                    Fault::None => {}
                    Fault::TooLong => return Err(at_line(line, "the line is too long".into())),
                    Fault::OpenQuote { .. } => {
                        return Err(at_line(line, "a quote is not closed".into()))
                    }
                }
                // At most 8 columns: a row's cells live on the stack.
                let mut cells: [Option<&str>; 8] = [None; 8];
                if rec.field_count(0) > map.len() {
                    return Err(at_line(line, "more fields than the header".into()));
                }
                let mut bad = None;
                for (field, &col) in rec.fields(0).zip(&map) {
                    let text = std::str::from_utf8(field).map_err(|_| {
                        at_line(
                            line,
                            format!("{}: is not UTF-8", columns.get(col).unwrap_or(&"")),
                        )
                    });
                    match text {
                        Ok(t) => {
                            let t = t.trim();
                            if let Some(c) = cells.get_mut(col) {
                                *c = (!t.is_empty()).then_some(t);
                            }
                        }
                        Err(e) => bad = Some(e),
                    }
                }
                if let Some(e) = bad {
                    return Err(e);
                }
                row(line, &cells).map_err(|e| at_line(line, e))?;
                count += 1;
                if count.is_multiple_of(65_536) {
                    if let Some(b) = &bar {
                        b.set_position(rdr.bytes_read());
                    }
                }
            }
        }
        Format::Jsonl => {
            let mut lines = BufReader::with_capacity(1 << 16, input);
            let mut text = String::new();
            let mut line = 0u64;
            let mut bytes = 0u64;
            let mut owned: Vec<Option<String>> = vec![None; columns.len()];
            loop {
                text.clear();
                let n = lines
                    .read_line(&mut text)
                    .map_err(|e| CliError::new(format!("cannot read `{name}`: {e}")))?;
                if n == 0 {
                    break;
                }
                line += 1;
                bytes += n as u64;
                if text.trim().is_empty() {
                    continue;
                }
                let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
                    .map_err(|_| at_line(line, "is not a JSON object".into()))?;
                owned.iter_mut().for_each(|c| *c = None);
                for (k, v) in &v {
                    let Some(i) = columns.iter().position(|c| c == k) else {
                        return Err(at_line(line, format!("unknown member `{k}`")));
                    };
                    let t = match v {
                        serde_json::Value::Null => None,
                        serde_json::Value::String(s) => Some(s.trim().to_string()),
                        serde_json::Value::Number(n) => Some(n.to_string()),
                        _ => return Err(at_line(line, format!("{k}: is not a string or number"))),
                    };
                    if let Some(c) = owned.get_mut(i) {
                        *c = t.filter(|t| !t.is_empty());
                    }
                }
                for (i, c) in columns.iter().enumerate().take(required) {
                    if owned.get(i).is_none_or(Option::is_none) {
                        return Err(at_line(line, format!("{c}: is missing")));
                    }
                }
                let cells: Vec<Option<&str>> = owned.iter().map(|c| c.as_deref()).collect();
                row(line, &cells).map_err(|e| at_line(line, e))?;
                count += 1;
                if count.is_multiple_of(65_536) {
                    if let Some(b) = &bar {
                        b.set_position(bytes);
                    }
                }
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(count)
}

fn cell<'a>(cells: &Cells<'a>, i: usize, column: &str) -> Result<&'a str, String> {
    cells
        .get(i)
        .copied()
        .flatten()
        .ok_or_else(|| format!("{column}: is missing"))
}

fn money(text: &str, digits: u8, column: &str) -> Result<Amount, String> {
    parse_amount(text, digits, Digits::Exact).map_err(|e| format!("{column}: `{text}` {e}"))
}

fn time(text: &str, column: &str) -> Result<i64, String> {
    match text.parse::<i64>() {
        Ok(t) if t >= 0 => Ok(t),
        _ => Err(format!(
            "{column}: `{text}` is not a unix time in whole seconds, >= 0"
        )),
    }
}

/// Whether the first non-blank line of a JSON lines file is an audit
/// record (it has `seq`, `item` and `decision`).
fn looks_like_audit(path: &Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut first = String::new();
    for line in BufReader::new(f.take(1 << 20)).lines() {
        let Ok(line) = line else { return false };
        if !line.trim().is_empty() {
            first = line;
            break;
        }
    }
    serde_json::from_str::<serde_json::Value>(&first).is_ok_and(|v| {
        v.get("seq").is_some() && v.get("item").is_some() && v.get("decision").is_some()
    })
}

fn read_prices(args: &SummarizeArgs, digits: u8, s: &mut Summariser) -> Result<u64, CliError> {
    read_price_file(
        &args.prices,
        args.format,
        args.from_audit,
        args.quiet,
        digits,
        s,
    )
}

/// Reads price rows, or an audit log (`from_audit`, or detected from a
/// JSON lines file's first line), into `s`; the rows read.
pub fn read_price_file(
    path: &Path,
    forced: Option<Format>,
    from_audit: bool,
    quiet: bool,
    digits: u8,
    s: &mut Summariser,
) -> Result<u64, CliError> {
    let name = path.display().to_string();
    let audit = from_audit
        || (path.as_os_str() != "-"
            && Format::for_input(path, forced).ok() == Some(Format::Jsonl)
            && looks_like_audit(path));
    if audit {
        return read_audit(path, &name, quiet, digits, s);
    }
    let format = Format::for_input(path, forced)?;
    let columns = ["sku", "price", "at", "reference_price"];
    read_table(path, format, &columns, 3, quiet, |_, c| {
        let sku = cell(c, 0, "sku")?;
        let price = money(cell(c, 1, "price")?, digits, "price")?;
        let at = time(cell(c, 2, "at")?, "at")?;
        let mut row = PriceRow::new(sku, price, at);
        if let Some(r) = c.get(3).copied().flatten() {
            let r = money(r, digits, "reference_price")?;
            if r.units <= 0 {
                return Err(format!("reference_price: {}", HistoryError::Price));
            }
            row = row.with_reference(r);
        }
        s.push_price(row).map_err(|e| format!("price: {e}"))
    })
}

fn read_audit(
    path: &Path,
    name: &str,
    quiet: bool,
    digits: u8,
    s: &mut Summariser,
) -> Result<u64, CliError> {
    let (input, size) = open_input(path)?;
    let bar = progress(size, quiet);
    let mut lines = BufReader::with_capacity(1 << 16, input);
    let mut text = String::new();
    let (mut line, mut bytes, mut count) = (0u64, 0u64, 0u64);
    loop {
        text.clear();
        let n = lines
            .read_line(&mut text)
            .map_err(|e| CliError::new(format!("cannot read `{name}`: {e}")))?;
        if n == 0 {
            break;
        }
        line += 1;
        bytes += n as u64;
        if text.trim().is_empty() {
            continue;
        }
        let at_line = |e: String| CliError::new(format!("`{name}` line {line}: {e}"));
        let Some(r) = read_record(&text, digits).map_err(|e| at_line(e.to_string()))? else {
            continue;
        };
        let mut row = PriceRow::new(&r.sku, r.price, r.at);
        if let Some(rp) = r.reference_price {
            row = row.with_reference(rp);
        }
        s.push_price(row)
            .map_err(|e| at_line(format!("decision.price: {e}")))?;
        count += 1;
        if count.is_multiple_of(65_536) {
            if let Some(b) = &bar {
                b.set_position(bytes);
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(count)
}

/// Reads competitor quotes into `s`; the quotes read.
pub fn read_quotes(
    path: &Path,
    forced: Option<Format>,
    quiet: bool,
    digits: u8,
    s: &mut Summariser,
) -> Result<u64, CliError> {
    let format = Format::for_input(path, forced)?;
    let columns = ["sku", "competitor", "price", "seen_at"];
    read_table(path, format, &columns, 4, quiet, |_, c| {
        let sku = cell(c, 0, "sku")?;
        let competitor = cell(c, 1, "competitor")?;
        let price = money(cell(c, 2, "price")?, digits, "price")?;
        let seen_at = time(cell(c, 3, "seen_at")?, "seen_at")?;
        s.push_quote(Quote::new(sku, competitor, price, seen_at))
            .map_err(|e| format!("price: {e}"))
    })
}
