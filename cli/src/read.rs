//! Reading proposals: CSV (header of SPEC §3 field names) or JSON lines,
//! streamed in chunks whose buffers are reused so memory stays flat.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use priceguard::{Field, Item, Policy};
use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::csvscan::{CsvReader, Records};
use crate::fast;
use crate::format::Format;
use crate::CliError;

/// Why one row cannot be evaluated: the message names the field when
/// there is one (`unit_cost: \`abc\` not a decimal number`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The offending field, when one is to blame.
    pub field: Option<Field>,
    /// The whole message, field first.
    pub message: String,
}

impl RowError {
    fn field(field: Field, message: impl Into<String>) -> RowError {
        RowError {
            field: Some(field),
            message: format!("{field}: {}", message.into()),
        }
    }

    fn row(message: impl Into<String>) -> RowError {
        RowError {
            field: None,
            message: message.into(),
        }
    }
}

/// The column names a CSV header may use, in SPEC §3 order.
pub const COLUMNS: [Field; 18] = Field::SPEC_ORDER;

/// One JSON line, parsed: its sku and field texts, or why it is unusable.
#[derive(Clone, Debug, Default)]
struct JsonRow {
    sku: String,
    /// Field texts; only the first `len` belong to this row (the rest are
    /// buffers kept for reuse).
    fields: Vec<(Field, String)>,
    len: usize,
    error: Option<RowError>,
}

impl JsonRow {
    fn fields(&self) -> &[(Field, String)] {
        self.fields.get(..self.len).unwrap_or(&[])
    }
}

enum Rows {
    Csv(Records),
    Json(Vec<JsonRow>),
}

/// How a CSV column is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    /// Not a field (the header check refuses such files; kept for safety).
    Unknown,
    /// `sku`: required, not an item field.
    Sku,
    /// A money field.
    Money(Field),
    /// A whole-number field.
    Whole(Field),
    /// `campaign`: a name.
    Text(Field),
}

impl Column {
    fn of(field: Option<Field>) -> Column {
        match field {
            None => Column::Unknown,
            Some(Field::Sku) => Column::Sku,
            Some(f) if f.is_money() => Column::Money(f),
            Some(Field::Campaign) => Column::Text(Field::Campaign),
            Some(f) => Column::Whole(f),
        }
    }
}

/// A chunk of rows read from the input. Its buffers are kept and reused
/// from one chunk to the next.
pub struct Chunk {
    rows: Rows,
    lines: Vec<u64>,
    len: usize,
    columns: Vec<Option<Field>>,
    /// How each column is read (CSV).
    kinds: Vec<Column>,
    sku_col: usize,
}

impl Chunk {
    /// Rows in the chunk.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the chunk holds no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empties the chunk, keeping its buffers.
    pub fn clear(&mut self) {
        self.len = 0;
        self.lines.clear();
        if let Rows::Csv(recs) = &mut self.rows {
            recs.clear();
        }
    }

    /// 1-based line where row `i` starts in the input.
    pub fn line(&self, i: usize) -> u64 {
        self.lines.get(i).copied().unwrap_or(0)
    }

    /// The sku of row `i`, as written (empty when absent).
    pub fn sku(&self, i: usize) -> &[u8] {
        match &self.rows {
            Rows::Csv(recs) => recs.field(i, self.sku_col).map_or(&[][..], trim_bytes),
            Rows::Json(rows) => rows.get(i).map_or(&[][..], |r| r.sku.as_bytes()),
        }
    }

    /// The raw text of `field` in row `i`, for error messages.
    pub fn raw_text(&self, i: usize, field: Field) -> Option<String> {
        match &self.rows {
            Rows::Csv(recs) => {
                let col = self.columns.iter().position(|c| *c == Some(field))?;
                recs.field(i, col)
                    .map(|b| String::from_utf8_lossy(trim_bytes(b)).into_owned())
            }
            Rows::Json(rows) => rows
                .get(i)?
                .fields()
                .iter()
                .find(|(f, _)| *f == field)
                .map(|(_, t)| t.clone()),
        }
    }

    /// Reads row `i` into an item for `policy` (money in its currency,
    /// campaigns resolved against its budgets), with `now` filled in when
    /// the row lacks it.
    pub fn item(&self, i: usize, policy: &Policy, now: Option<i64>) -> Result<Item, RowError> {
        let mut item = Item::new(0);
        match &self.rows {
            Rows::Csv(recs) => {
                let Some((data, bounds)) = recs.row(i) else {
                    return Err(RowError::row("missing row"));
                };
                let n = bounds.len() - 1;
                if n != self.kinds.len() {
                    return Err(RowError::row(format!(
                        "has {n} fields but the header has {}",
                        self.kinds.len()
                    )));
                }
                let digits = policy.currency().minor_units();
                for (w, kind) in bounds.windows(2).zip(&self.kinds) {
                    let &[before, end] = w else { continue };
                    let start = before + 1;
                    let field = match *kind {
                        Column::Unknown => continue,
                        Column::Sku => {
                            let sku = data.get(start..end).unwrap_or(&[]);
                            if trim_bytes(sku).is_empty() {
                                return Err(RowError::field(Field::Sku, "is required"));
                            }
                            continue;
                        }
                        // Plain numbers, nearly every field, skip the
                        // general path; they read to the same value (see
                        // `fast`). Empty fields are absent.
                        Column::Money(field) => {
                            if start == end {
                                if field != Field::ProposedPrice {
                                    continue;
                                }
                            } else if let Some(v) = fast::short_money(data, start, end, digits)
                                .or_else(|| {
                                    fast::money(data.get(start..end).unwrap_or(&[]), digits)
                                })
                            {
                                item.set(field, v);
                                continue;
                            }
                            field
                        }
                        Column::Whole(field) => {
                            if start == end {
                                continue;
                            }
                            // `set` refuses a segment beyond u32: the
                            // general path then words the error.
                            if let Some(v) = fast::long_whole(data, start, end)
                                .or_else(|| fast::whole(data.get(start..end).unwrap_or(&[])))
                            {
                                if item.set(field, v) {
                                    continue;
                                }
                            }
                            field
                        }
                        Column::Text(field) => {
                            if start == end {
                                continue;
                            }
                            field
                        }
                    };
                    let bytes = data.get(start..end).unwrap_or(&[]);
                    let text = std::str::from_utf8(bytes)
                        .map_err(|_| RowError::field(field, "is not valid UTF-8"))?;
                    policy
                        .set_field_text(&mut item, field, text)
                        .map_err(|e| RowError::field(field, e.message))?;
                }
            }
            Rows::Json(rows) => {
                let row = rows.get(i).ok_or_else(|| RowError::row("missing row"))?;
                if let Some(e) = &row.error {
                    return Err(e.clone());
                }
                let mut proposed = false;
                for (field, text) in row.fields() {
                    proposed |= *field == Field::ProposedPrice;
                    policy
                        .set_field_text(&mut item, *field, text)
                        .map_err(|e| RowError::field(*field, e.message))?;
                }
                if !proposed {
                    return Err(RowError::field(Field::ProposedPrice, "is required"));
                }
            }
        }
        if let Some(now) = now {
            if !item.has(Field::Now) {
                item.set(Field::Now, now);
            }
        }
        Ok(item)
    }
}

fn trim_bytes(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

enum Source {
    Csv(CsvReader),
    Json {
        reader: Box<dyn BufRead + Send>,
        line: u64,
        buf: String,
    },
}

/// A streaming reader of proposals.
pub struct RowReader {
    source: Source,
    columns: Vec<Option<Field>>,
    sku_col: usize,
    name: String,
    bytes: u64,
}

/// Opens `path` (`-` for standard input), returning the reader and the
/// input's size in bytes when known.
pub fn open_input(path: &Path) -> Result<(Box<dyn Read + Send>, Option<u64>), CliError> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(io::stdin()), None));
    }
    let f = File::open(path)
        .map_err(|e| CliError::new(format!("cannot read `{}`: {e}", path.display())))?;
    let size = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
    Ok((Box::new(f), size))
}

impl RowReader {
    /// Opens `path` in `format`. A CSV header is checked at once: every
    /// column must be a SPEC §3 field, `sku` and `proposed_price` must be
    /// there, none twice.
    pub fn open(path: &Path, format: Format) -> Result<(RowReader, Option<u64>), CliError> {
        let (input, size) = open_input(path)?;
        let reader = RowReader::from_reader(input, &path.display().to_string(), format)?;
        Ok((reader, size))
    }

    /// Reads rows from any byte stream (`name` is used in messages); the
    /// CSV header is checked at once as in [`RowReader::open`].
    pub fn from_reader(
        input: Box<dyn Read + Send>,
        name: &str,
        format: Format,
    ) -> Result<RowReader, CliError> {
        let name = name.to_string();
        let reader = match format {
            Format::Csv => {
                let mut rdr = CsvReader::new(input);
                let mut header = Records::new();
                rdr.read_record(&mut header).map_err(|e| {
                    CliError::new(format!("cannot read the header of `{name}`: {e}"))
                })?;
                let (columns, sku_col) = parse_header(&header, &name)?;
                RowReader {
                    source: Source::Csv(rdr),
                    columns,
                    sku_col,
                    name,
                    bytes: 0,
                }
            }
            Format::Jsonl => RowReader {
                source: Source::Json {
                    reader: Box::new(BufReader::with_capacity(1 << 16, input)),
                    line: 0,
                    buf: String::new(),
                },
                columns: Vec::new(),
                sku_col: 0,
                name,
                bytes: 0,
            },
        };
        Ok(reader)
    }

    /// An empty chunk shaped for this reader.
    pub fn new_chunk(&self) -> Chunk {
        Chunk {
            rows: match self.source {
                Source::Csv(_) => Rows::Csv(Records::new()),
                Source::Json { .. } => Rows::Json(Vec::new()),
            },
            lines: Vec::new(),
            len: 0,
            columns: self.columns.clone(),
            kinds: self.columns.iter().map(|c| Column::of(*c)).collect(),
            sku_col: self.sku_col,
        }
    }

    /// Bytes consumed so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        match &self.source {
            Source::Csv(r) => r.bytes_read(),
            Source::Json { .. } => self.bytes,
        }
    }

    /// Appends the next row of the input to `chunk`; `false` at the end.
    pub fn read_row(&mut self, chunk: &mut Chunk) -> Result<bool, CliError> {
        match (&mut self.source, &mut chunk.rows) {
            (Source::Csv(rdr), Rows::Csv(recs)) => loop {
                let Some(line) = rdr
                    .read_record(recs)
                    .map_err(|e| CliError::new(format!("cannot read `{}`: {e}", self.name)))?
                else {
                    return Ok(false);
                };
                // A blank line (or one holding only `\r`) is not a row.
                let last = recs.len() - 1;
                let blank = recs.field_count(last) == 1
                    && recs
                        .field(last, 0)
                        .is_some_and(|f| trim_bytes(f).is_empty());
                if blank {
                    recs.pop();
                    continue;
                }
                chunk.lines.push(line);
                chunk.len += 1;
                return Ok(true);
            },
            (Source::Json { reader, line, buf }, Rows::Json(rows)) => loop {
                buf.clear();
                let n = reader
                    .read_line(buf)
                    .map_err(|e| CliError::new(format!("cannot read `{}`: {e}", self.name)))?;
                if n == 0 {
                    return Ok(false);
                }
                self.bytes += n as u64;
                *line += 1;
                let text = buf.trim();
                if text.is_empty() {
                    continue;
                }
                if rows.len() <= chunk.len {
                    rows.push(JsonRow::default());
                }
                let Some(row) = rows.get_mut(chunk.len) else {
                    return Ok(false);
                };
                parse_json_row(text, row);
                chunk.lines.push(*line);
                chunk.len += 1;
                return Ok(true);
            },
            _ => Err(CliError::new(
                "internal error: chunk does not match its reader",
            )),
        }
    }
}

/// Maps header names to fields; refuses unknown and repeated columns.
fn parse_header(header: &Records, name: &str) -> Result<(Vec<Option<Field>>, usize), CliError> {
    let mut columns = Vec::with_capacity(header.field_count(0));
    let mut unknown = Vec::new();
    let mut seen = 0u32;
    for (i, raw) in header.fields(0).enumerate() {
        let mut raw = raw;
        if i == 0 {
            raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
        }
        let text = String::from_utf8_lossy(trim_bytes(raw)).into_owned();
        match Field::from_name(&text) {
            Some(f) => {
                let bit = 1u32 << (f as u8);
                if seen & bit != 0 {
                    return Err(CliError::new(format!(
                        "`{name}`: column `{text}` appears twice"
                    )));
                }
                seen |= bit;
                columns.push(Some(f));
            }
            None => {
                unknown.push(format!("`{text}`"));
                columns.push(None);
            }
        }
    }
    if !unknown.is_empty() {
        let names: Vec<&str> = COLUMNS.iter().map(|f| f.name()).collect();
        return Err(CliError::new(format!(
            "`{name}`: unknown column{} {} (the header must use these names: {})",
            if unknown.len() > 1 { "s" } else { "" },
            unknown.join(", "),
            names.join(", ")
        )));
    }
    for required in [Field::Sku, Field::ProposedPrice] {
        if seen & (1u32 << (required as u8)) == 0 {
            return Err(CliError::new(format!(
                "`{name}`: the header has no `{required}` column"
            )));
        }
    }
    let sku_col = columns
        .iter()
        .position(|c| *c == Some(Field::Sku))
        .unwrap_or(0);
    Ok((columns, sku_col))
}

/// The text of one JSON value: a string's contents, a number exactly as
/// written (so `12.20` stays `12.20` and is read as a decimal, never through
/// a binary float), `None` for `null`.
fn raw_text<'a>(field: Field, raw: &'a RawValue) -> Result<Option<Cow<'a, str>>, RowError> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => match serde_json::from_str::<&str>(text) {
            Ok(s) => Ok(Some(Cow::Borrowed(s))),
            // Escapes need an owned string.
            Err(_) => serde_json::from_str::<String>(text)
                .map(|s| Some(Cow::Owned(s)))
                .map_err(|e| RowError::field(field, format!("`{text}` {e}"))),
        },
        Some(b'-' | b'0'..=b'9') => Ok(Some(Cow::Borrowed(text))),
        Some(b'n') => Ok(None),
        _ => Err(RowError::field(
            field,
            format!("`{text}` is not a string or a number"),
        )),
    }
}

/// One JSON line: every SPEC §3 field, unknown and repeated keys refused
/// (a key given twice must not silently pick one of its values).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonItem<'a> {
    #[serde(borrow, default)]
    sku: Option<&'a RawValue>,
    #[serde(borrow, default)]
    proposed_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    current_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    unit_cost: Option<&'a RawValue>,
    #[serde(borrow, default)]
    min_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    max_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    map_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    reference_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    expected_units: Option<&'a RawValue>,
    #[serde(borrow, default)]
    campaign: Option<&'a RawValue>,
    #[serde(borrow, default)]
    now: Option<&'a RawValue>,
    #[serde(borrow, default)]
    last_change_at: Option<&'a RawValue>,
    #[serde(borrow, default)]
    changes_in_window: Option<&'a RawValue>,
    #[serde(borrow, default)]
    window_anchor_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    baseline_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    competitor_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    segment: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pinned_price: Option<&'a RawValue>,
}

impl<'a> JsonItem<'a> {
    fn values(&self) -> [(Field, Option<&'a RawValue>); 17] {
        [
            (Field::ProposedPrice, self.proposed_price),
            (Field::CurrentPrice, self.current_price),
            (Field::UnitCost, self.unit_cost),
            (Field::MinPrice, self.min_price),
            (Field::MaxPrice, self.max_price),
            (Field::MapPrice, self.map_price),
            (Field::ReferencePrice, self.reference_price),
            (Field::ExpectedUnits, self.expected_units),
            (Field::Campaign, self.campaign),
            (Field::Now, self.now),
            (Field::LastChangeAt, self.last_change_at),
            (Field::ChangesInWindow, self.changes_in_window),
            (Field::WindowAnchorPrice, self.window_anchor_price),
            (Field::BaselinePrice, self.baseline_price),
            (Field::CompetitorPrice, self.competitor_price),
            (Field::Segment, self.segment),
            (Field::PinnedPrice, self.pinned_price),
        ]
    }
}

/// Just the sku of a JSON line that is otherwise refused.
#[derive(serde::Deserialize)]
struct SkuOnly<'a> {
    #[serde(borrow, default)]
    sku: Option<&'a RawValue>,
}

/// Parses one JSON line into `row` (reusing its buffers).
fn parse_json_row(text: &str, row: &mut JsonRow) {
    row.sku.clear();
    row.len = 0;
    row.error = None;
    let parsed = match serde_json::from_str::<JsonItem<'_>>(text) {
        Ok(m) => m,
        Err(e) => {
            let msg = e.to_string();
            let reason = msg.split(" at line ").next().unwrap_or(&msg);
            row.error = Some(RowError::row(
                if reason.starts_with("unknown field") || reason.starts_with("duplicate field") {
                    reason
                        .split(", expected")
                        .next()
                        .unwrap_or(reason)
                        .to_string()
                } else {
                    format!("not a JSON object: {reason}")
                },
            ));
            // Keep the sku when the line has one, so the row can be found.
            if let Ok(SkuOnly { sku: Some(v) }) = serde_json::from_str::<SkuOnly<'_>>(text) {
                if let Ok(Some(s)) = raw_text(Field::Sku, v) {
                    row.sku.push_str(s.trim());
                }
            }
            return;
        }
    };
    if let Some(v) = parsed.sku {
        match raw_text(Field::Sku, v) {
            Ok(Some(s)) => row.sku.push_str(s.trim()),
            Ok(None) => {}
            Err(e) => {
                row.error = Some(e);
                return;
            }
        }
    }
    for (field, v) in parsed.values() {
        let Some(v) = v else { continue };
        match raw_text(field, v) {
            Ok(Some(t)) => {
                match row.fields.get_mut(row.len) {
                    Some((f, buf)) => {
                        *f = field;
                        buf.clear();
                        buf.push_str(&t);
                    }
                    None => row.fields.push((field, t.into_owned())),
                }
                row.len += 1;
            }
            Ok(None) => {}
            Err(e) => {
                row.error = Some(e);
                return;
            }
        }
    }
    if row.sku.is_empty() {
        row.error = Some(RowError::field(Field::Sku, "is required"));
    }
}

/// A one-row chunk from one JSON object (for `explain`).
pub fn chunk_from_json(text: &str) -> Chunk {
    let mut row = JsonRow::default();
    parse_json_row(text, &mut row);
    Chunk {
        rows: Rows::Json(vec![row]),
        lines: vec![1],
        len: 1,
        columns: Vec::new(),
        kinds: Vec::new(),
        sku_col: 0,
    }
}
