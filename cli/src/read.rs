//! Reading proposals: CSV (header of docs/spec.md §3 field names) or JSON lines,
//! streamed in chunks whose buffers are reused so memory stays flat.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use priceguard::money::Amount;
use priceguard::{Field, Item, Policy};
use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::csvscan::{CsvReader, Fault, Records, DEFAULT_MAX_LINE};
use crate::fast;
use crate::format::Format;
use crate::CliError;

/// Why one row cannot be evaluated: the message names the field when
/// there is one (`unit_cost: \`abc\` is not a decimal number`).
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

/// The column names a CSV header may use, in docs/spec.md §3 order.
pub const COLUMNS: [Field; 18] = Field::SPEC_ORDER;

/// Where a field's text lies in [`JsonRow::buf`]: `start..end`.
type Span = Option<(u32, u32)>;

/// One JSON line, parsed: the line itself, and where its sku and field
/// texts lie in it (or why it is unusable). Its buffer is reused from one
/// chunk to the next, so a line costs no allocation; field values are
/// read into the item straight from the line's bytes.
#[derive(Clone, Debug, Default)]
struct JsonRow {
    /// The line as read, then the texts it needs that are not in it as
    /// written (a string with escapes, unescaped; the sku of a line that
    /// is not UTF-8, made valid).
    buf: Vec<u8>,
    /// Each field's text (the sku's trimmed), by `Field as usize`.
    fields: [Span; 18],
    error: Option<RowError>,
}

/// A row buffer grown past this by a long line is dropped rather than
/// kept for the next line (a chunk holds thousands of rows).
const KEEP_LINE: usize = 1 << 16;

impl JsonRow {
    /// The text of `field`, when present.
    fn text(&self, field: Field) -> Option<&[u8]> {
        let (s, e) = self.fields.get(field as usize).copied().flatten()?;
        self.buf.get(s as usize..e as usize)
    }

    /// The sku as given (empty when absent).
    fn sku(&self) -> &[u8] {
        self.text(Field::Sku).unwrap_or(&[])
    }

    /// Makes this row one that cannot be used, for `error`.
    fn fail(&mut self, error: RowError) {
        self.fields = [None; 18];
        self.error = Some(error);
    }
}

/// How each field of [`JSON_ORDER`] is read.
// Indexing in a constant fails the build, never the program.
#[allow(clippy::indexing_slicing)]
const JSON_KINDS: [Column; 17] = {
    let mut kinds = [Column::Unknown; 17];
    let mut k = 0;
    while k < 17 {
        let f = JSON_ORDER[k];
        kinds[k] = match f {
            Field::Sku => Column::Sku,
            Field::Campaign => Column::Text(f),
            _ if f.is_money() => Column::Money(f),
            _ => Column::Whole(f),
        };
        k += 1;
    }
    kinds
};

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
    /// The line cap, for the message of a line longer than it.
    max_line: usize,
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
            Rows::Json(rows) => rows.get(i).map_or(&[][..], JsonRow::sku),
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
                .text(field)
                .map(|t| String::from_utf8_lossy(t).into_owned()),
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
                match recs.fault(i) {
                    Fault::None => {}
                    Fault::TooLong => return Err(too_long(self.max_line)),
                    Fault::OpenQuote { field } => {
                        let why = "has a quote that is not closed before the end of the line (no field may hold a line break)";
                        return Err(match self.columns.get(field).copied().flatten() {
                            Some(f) => RowError::field(f, why),
                            None => RowError::row(format!("field {} {why}", field + 1)),
                        });
                    }
                }
                let n = bounds.len() - 1;
                if n != self.kinds.len() {
                    let header = self.kinds.len();
                    return Err(RowError::row(format!(
                        "the row has {n} field{} but the header has {header}",
                        if n == 1 { "" } else { "s" }
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
                            if std::str::from_utf8(sku).is_err() {
                                return Err(RowError::field(Field::Sku, "is not valid UTF-8"));
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
                                // Whole minor units. Once a finer value has
                                // raised the item's scale, every value is
                                // put in at that scale, as set_field_text
                                // does; one that no longer fits takes the
                                // general path, which words the error.
                                if item.scale() == 0 {
                                    item.set(field, v);
                                    continue;
                                }
                                if item.set_amount(field, Amount::minor(v)).is_ok() {
                                    continue;
                                }
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
                        // The field the error names: a finer value can make
                        // another, already read, too large (M1).
                        .map_err(|e| RowError::field(e.field, e.message))?;
                }
            }
            Rows::Json(rows) => {
                let row = rows.get(i).ok_or_else(|| RowError::row("missing row"))?;
                if let Some(e) = &row.error {
                    return Err(e.clone());
                }
                let data = row.buf.as_slice();
                let digits = policy.currency().minor_units();
                // As the CSV branch reads its fields: plain numbers from
                // the line's bytes, anything else through set_field_text.
                for (field, kind) in JSON_ORDER.into_iter().zip(JSON_KINDS) {
                    let Some((start, end)) = row.fields.get(field as usize).copied().flatten()
                    else {
                        continue;
                    };
                    let (start, end) = (start as usize, end as usize);
                    match kind {
                        Column::Money(field) => {
                            if let Some(v) =
                                fast::short_money(data, start, end, digits).or_else(|| {
                                    fast::money(data.get(start..end).unwrap_or(&[]), digits)
                                })
                            {
                                if item.scale() == 0 {
                                    item.set(field, v);
                                    continue;
                                }
                                if item.set_amount(field, Amount::minor(v)).is_ok() {
                                    continue;
                                }
                            }
                        }
                        Column::Whole(field) => {
                            if let Some(v) = fast::long_whole(data, start, end)
                                .or_else(|| fast::whole(data.get(start..end).unwrap_or(&[])))
                            {
                                if item.set(field, v) {
                                    continue;
                                }
                            }
                        }
                        Column::Text(_) | Column::Sku | Column::Unknown => {}
                    }
                    // The line was checked to be UTF-8 and a span never
                    // splits a character.
                    let text = std::str::from_utf8(data.get(start..end).unwrap_or(&[]))
                        .map_err(|_| RowError::field(field, "is not valid UTF-8"))?;
                    policy
                        .set_field_text(&mut item, field, text)
                        .map_err(|e| RowError::field(e.field, e.message))?;
                }
                if row
                    .fields
                    .get(Field::ProposedPrice as usize)
                    .copied()
                    .flatten()
                    .is_none()
                {
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

/// The error of a line longer than the cap.
fn too_long(max_line: usize) -> RowError {
    RowError::row(format!(
        "the line is longer than the cap of {max_line} bytes (--max-line-bytes)"
    ))
}

/// Reads one line, its `\n` included, into `buf`, keeping at most
/// `max_line` bytes of it: a longer line is consumed to its line break
/// without being held, and `buf` is left empty. Returns the bytes consumed
/// (0 at the end of the input) and whether the line was longer than the cap.
fn read_line_capped(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max_line: usize,
) -> io::Result<(usize, bool)> {
    let mut total = 0;
    let mut long = false;
    loop {
        let avail = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            break;
        }
        let (part, done) = match memchr::memchr(b'\n', avail) {
            Some(p) => (avail.get(..=p).unwrap_or(avail), true),
            None => (avail, false),
        };
        let n = part.len();
        if !long {
            // Room for the cap and the line break.
            if buf.len() + n <= max_line.saturating_add(1) {
                buf.extend_from_slice(part);
            } else {
                long = true;
                buf.clear();
            }
        }
        reader.consume(n);
        total += n;
        if done {
            break;
        }
    }
    let text = buf.strip_suffix(b"\n").unwrap_or(buf);
    if text.len() > max_line {
        long = true;
        buf.clear();
    }
    Ok((total, long))
}

enum Source {
    Csv(CsvReader),
    Json {
        reader: Box<dyn BufRead + Send>,
        line: u64,
    },
}

/// A streaming reader of proposals.
pub struct RowReader {
    source: Source,
    columns: Vec<Option<Field>>,
    sku_col: usize,
    name: String,
    bytes: u64,
    max_line: usize,
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
    /// column must be a docs/spec.md §3 field, `sku` and `proposed_price` must be
    /// there, none twice.
    /// Lines longer than `max_line` bytes become rejected rows.
    pub fn open(
        path: &Path,
        format: Format,
        max_line: usize,
    ) -> Result<(RowReader, Option<u64>), CliError> {
        let (input, size) = open_input(path)?;
        let reader =
            RowReader::from_reader_capped(input, &path.display().to_string(), format, max_line)?;
        Ok((reader, size))
    }

    /// Reads rows from any byte stream (`name` is used in messages) with
    /// the default line cap; the CSV header is checked at once as in
    /// [`RowReader::open`].
    pub fn from_reader(
        input: Box<dyn Read + Send>,
        name: &str,
        format: Format,
    ) -> Result<RowReader, CliError> {
        RowReader::from_reader_capped(input, name, format, DEFAULT_MAX_LINE)
    }

    /// [`RowReader::from_reader`] with lines capped at `max_line` bytes
    /// (their line break not counted).
    pub fn from_reader_capped(
        input: Box<dyn Read + Send>,
        name: &str,
        format: Format,
        max_line: usize,
    ) -> Result<RowReader, CliError> {
        let name = name.to_string();
        let max_line = max_line.max(1);
        let reader = match format {
            Format::Csv => {
                let mut rdr = CsvReader::new(input).with_max_line(max_line);
                let mut header = Records::new();
                rdr.read_record(&mut header).map_err(|e| {
                    CliError::new(format!("cannot read the header of `{name}`: {e}"))
                })?;
                match header.fault(0) {
                    Fault::None => {}
                    Fault::TooLong => {
                        return Err(CliError::new(format!(
                            "`{name}`: the header {}",
                            too_long(max_line).message.trim_start_matches("the line ")
                        )))
                    }
                    Fault::OpenQuote { field } => {
                        return Err(CliError::new(format!(
                            "`{name}`: column {} of the header has a quote that is not closed before the end of the line",
                            field + 1
                        )))
                    }
                }
                let (columns, sku_col) = parse_header(&header, &name)?;
                RowReader {
                    source: Source::Csv(rdr),
                    columns,
                    sku_col,
                    name,
                    bytes: 0,
                    max_line,
                }
            }
            Format::Jsonl => RowReader {
                // A row's spans into its line are 32-bit (the command
                // line caps lines at 1 GiB already).
                max_line: max_line.min(1 << 30),
                source: Source::Json {
                    reader: Box::new(BufReader::with_capacity(1 << 16, input)),
                    line: 0,
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
            max_line: self.max_line,
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
            // Blank lines are skipped by the CSV reader itself.
            (Source::Csv(rdr), Rows::Csv(recs)) => {
                let Some(line) = rdr
                    .read_record(recs)
                    .map_err(|e| CliError::new(format!("cannot read `{}`: {e}", self.name)))?
                else {
                    return Ok(false);
                };
                chunk.lines.push(line);
                chunk.len += 1;
                Ok(true)
            }
            (Source::Json { reader, line }, Rows::Json(rows)) => {
                if rows.len() <= chunk.len {
                    rows.push(JsonRow::default());
                }
                let Some(row) = rows.get_mut(chunk.len) else {
                    return Ok(false);
                };
                if row.buf.capacity() > KEEP_LINE {
                    row.buf = Vec::new();
                }
                // The line is read into the row's own buffer, where its
                // fields stay until the row is read into items.
                loop {
                    row.buf.clear();
                    let (n, long) = read_line_capped(reader.as_mut(), &mut row.buf, self.max_line)
                        .map_err(|e| CliError::new(format!("cannot read `{}`: {e}", self.name)))?;
                    if n == 0 {
                        return Ok(false);
                    }
                    self.bytes += n as u64;
                    *line += 1;
                    // A line of nothing but ASCII whitespace is not a row
                    // (as in CSV); any other line is exactly one row.
                    if long {
                        row.fail(too_long(self.max_line));
                    } else if row.buf.trim_ascii().is_empty() {
                        continue;
                    } else {
                        parse_json_line(row, true);
                    }
                    chunk.lines.push(*line);
                    chunk.len += 1;
                    return Ok(true);
                }
            }
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
                .map_err(|e| {
                    RowError::field(field, format!("`{text}` is not a valid JSON string ({e})"))
                }),
        },
        Some(b'-' | b'0'..=b'9') => Ok(Some(Cow::Borrowed(text))),
        Some(b'n') => Ok(None),
        _ => Err(RowError::field(
            field,
            format!("`{text}` is not a string or a number"),
        )),
    }
}

/// One JSON line: every docs/spec.md §3 field, unknown and repeated keys refused
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

/// The order [`JsonItem::values`] gives the fields in.
const JSON_ORDER: [Field; 17] = [
    Field::ProposedPrice,
    Field::CurrentPrice,
    Field::UnitCost,
    Field::MinPrice,
    Field::MaxPrice,
    Field::MapPrice,
    Field::ReferencePrice,
    Field::ExpectedUnits,
    Field::Campaign,
    Field::Now,
    Field::LastChangeAt,
    Field::ChangesInWindow,
    Field::WindowAnchorPrice,
    Field::BaselinePrice,
    Field::CompetitorPrice,
    Field::Segment,
    Field::PinnedPrice,
];

/// Eight copies of byte `b`.
const fn splat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

/// The first byte from `start` that ends a plain string's contents: a
/// quote, a backslash or a control character (which only a string that
/// serde must read has), eight bytes at a time.
#[inline(always)]
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    const HIGH: u64 = splat(0x80);
    let mut i = start;
    while let Some(w) = b.get(i..).and_then(|r| r.first_chunk::<8>()) {
        let x = u64::from_le_bytes(*w);
        let q = x ^ splat(b'"');
        let e = x ^ splat(b'\\');
        // A zero byte of q or e, or a byte below 0x20 in x: the lowest set
        // high bit is the first such byte (borrows only carry upwards).
        let hit = (q.wrapping_sub(splat(1)) & !q)
            | (e.wrapping_sub(splat(1)) & !e)
            | (x.wrapping_sub(splat(0x20)) & !x);
        let hit = hit & HIGH;
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Reads the common JSON line without serde: one flat object whose keys
/// are field names without escapes, each at most once, and whose values
/// are strings without escapes or control characters, JSON numbers or
/// `null`, with JSON whitespace between tokens. `false` for anything else
/// (an escape, an unknown or repeated key, a nested value, a malformed
/// number, trailing text): the serde reading then decides the line, with
/// its error messages. Serde on every line was most of the time a JSON
/// file took, 4.7 times a CSV file's. Each value read (a string's
/// contents or a number as written; nothing for `null`) is put in `out`
/// as a byte range of `text` moved up by `at`; those ranges start and end
/// at ASCII bytes, so at character boundaries. `out` is left partly
/// written when the answer is `false`.
fn scan_flat(text: &str, at: u32, out: &mut [Span; 18]) -> bool {
    scan_flat_bytes(text.as_bytes(), at, out).is_some()
}

/// [`scan_flat`] on the line's bytes; `None` for `false`.
#[inline(always)]
fn scan_flat_bytes(b: &[u8], at: u32, out: &mut [Span; 18]) -> Option<()> {
    let ws = |i: &mut usize| {
        while matches!(b.get(*i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            *i += 1;
        }
    };
    // The byte at `i` once JSON whitespace is skipped (most lines have
    // none between tokens: one compare).
    let next = |i: &mut usize| -> Option<u8> {
        let c = *b.get(*i)?;
        if c > b' ' {
            return Some(c);
        }
        ws(i);
        b.get(*i).copied()
    };
    // A string's contents from the byte after its opening quote to its
    // closing quote; `None` at an escape or a control character.
    let string = |start: usize| -> Option<(usize, usize)> {
        let end = string_end(b, start)?;
        (b.get(end) == Some(&b'"')).then_some((start, end))
    };
    let span = |start: usize, end: usize| -> Span {
        let s = at.checked_add(u32::try_from(start).ok()?)?;
        let e = at.checked_add(u32::try_from(end).ok()?)?;
        Some((s, e))
    };
    let mut i = 0usize;
    let mut seen = 0u32;
    if next(&mut i)? != b'{' {
        return None;
    }
    i += 1;
    if next(&mut i)? == b'}' {
        i += 1;
    } else {
        loop {
            if b.get(i) != Some(&b'"') {
                return None;
            }
            let (field, end) = key_at(b, i + 1)?;
            i = end;
            let bit = 1u32 << (field as u32);
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            if next(&mut i)? != b':' {
                return None;
            }
            i += 1;
            let value = match next(&mut i)? {
                b'"' => {
                    let (s, e) = string(i + 1)?;
                    i = e + 1;
                    Some(span(s, e)?)
                }
                b'n' => {
                    if b.get(i..i + 4)? != b"null" {
                        return None;
                    }
                    i += 4;
                    None
                }
                b'-' | b'0'..=b'9' => {
                    let start = i;
                    i = json_number_end(b, i)?;
                    Some(span(start, i)?)
                }
                _ => return None,
            };
            *out.get_mut(field as usize)? = value;
            match next(&mut i)? {
                b',' => {
                    i += 1;
                    if next(&mut i)? != b'"' {
                        return None;
                    }
                }
                b'}' => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    ws(&mut i);
    (i == b.len()).then_some(())
}

/// The field whose name, then a closing quote, is at `b[i..]`, and the
/// index after that quote: a key read in place, without looking for its
/// end first (a few word compares after a branch on the first letter).
/// `None` for any other key: an unknown name, or one with an escape,
/// which serde then reads or refuses.
#[inline(always)]
fn key_at(b: &[u8], i: usize) -> Option<(Field, usize)> {
    let rest = b.get(i..)?;
    macro_rules! keys {
        ($($name:literal => $field:expr),+ $(,)?) => {{
            $(
                if rest.starts_with($name) {
                    return Some(($field, i + $name.len()));
                }
            )+
            None
        }};
    }
    match *rest.first()? {
        b's' => keys!(b"sku\"" => Field::Sku, b"segment\"" => Field::Segment),
        b'p' => keys!(
            b"proposed_price\"" => Field::ProposedPrice,
            b"pinned_price\"" => Field::PinnedPrice,
        ),
        b'c' => keys!(
            b"current_price\"" => Field::CurrentPrice,
            b"competitor_price\"" => Field::CompetitorPrice,
            b"changes_in_window\"" => Field::ChangesInWindow,
            b"campaign\"" => Field::Campaign,
        ),
        b'u' => keys!(b"unit_cost\"" => Field::UnitCost),
        b'm' => keys!(
            b"max_price\"" => Field::MaxPrice,
            b"min_price\"" => Field::MinPrice,
            b"map_price\"" => Field::MapPrice,
        ),
        b'r' => keys!(b"reference_price\"" => Field::ReferencePrice),
        b'e' => keys!(b"expected_units\"" => Field::ExpectedUnits),
        b'n' => keys!(b"now\"" => Field::Now),
        b'l' => keys!(b"last_change_at\"" => Field::LastChangeAt),
        b'w' => keys!(b"window_anchor_price\"" => Field::WindowAnchorPrice),
        b'b' => keys!(b"baseline_price\"" => Field::BaselinePrice),
        _ => None,
    }
}

/// The end of the JSON number starting at `i`
/// (`-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`), `None` when it is
/// not one.
fn json_number_end(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => {
            digits(&mut i);
        }
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    Some(i)
}

/// Just the sku of a JSON line that is otherwise refused.
#[derive(serde::Deserialize)]
struct SkuOnly<'a> {
    #[serde(borrow, default)]
    sku: Option<&'a RawValue>,
}

/// The sku of a line that is otherwise refused, when it is an object that
/// has one, so the row can be found.
fn sku_of(text: &str) -> Option<Cow<'_, str>> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    match serde_json::from_str::<SkuOnly<'_>>(text) {
        Ok(SkuOnly { sku: Some(v) }) => raw_text(Field::Sku, v).ok().flatten(),
        _ => None,
    }
}

/// `text` trimmed, still borrowed when it was.
fn trim_cow(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(t) => Cow::Borrowed(t.trim()),
        Cow::Owned(t) => Cow::Owned(t.trim().to_string()),
    }
}

/// Where `text` lies in `base`, when it is a slice of it.
fn span_in(base: &[u8], text: &str) -> Span {
    let start = (text.as_ptr() as usize).checked_sub(base.as_ptr() as usize)?;
    let end = start.checked_add(text.len())?;
    if end > base.len() {
        return None;
    }
    Some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
}

/// The texts of a line being parsed: spans of the line, and texts that
/// are not in it (appended to the row's buffer once the line is read).
struct Found<'a> {
    fields: [Span; 18],
    owned: Vec<(Field, String)>,
    base: &'a [u8],
}

impl Found<'_> {
    fn put(&mut self, field: Field, text: Cow<'_, str>) {
        let span = match &text {
            Cow::Borrowed(t) => span_in(self.base, t),
            Cow::Owned(_) => None,
        };
        match (span, self.fields.get_mut(field as usize)) {
            (Some(span), Some(slot)) => *slot = Some(span),
            _ => self.owned.push((field, text.into_owned())),
        }
    }
}

/// What a JSON value that is not an object is, from its first byte.
fn json_kind(text: &str) -> &'static str {
    match text.as_bytes().first() {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(b'-' | b'0'..=b'9') => "a number",
        _ => "not JSON",
    }
}

/// Parses the JSON line in `row.buf` (its line break included or not)
/// into `row`. Only an object of field names is a row: serde would read
/// an array positionally (`["A","12.00"]` as sku and proposed_price), which
/// must never happen. With `fast` false (for tests) every line is read by
/// serde.
fn parse_json_line(row: &mut JsonRow, fast: bool) {
    let JsonRow { buf, fields, error } = row;
    let mut found = Found {
        fields: [None; 18],
        owned: Vec::new(),
        base: buf,
    };
    *error = read_json_line(&mut found, fast).err();
    *fields = found.fields;
    for (field, text) in found.owned {
        let start = buf.len();
        buf.extend_from_slice(text.as_bytes());
        // Only the sku of a line longer than 1 GiB (past the cap of
        // `--max-line-bytes`) made valid UTF-8 could end beyond 4 GiB: the
        // row is refused anyway and then shows no sku.
        let span = u32::try_from(start).ok().zip(u32::try_from(buf.len()).ok());
        if let Some(slot) = fields.get_mut(field as usize) {
            *slot = span;
        }
    }
}

/// Reads the line `found.base` into `found`; the row's error, when it is
/// unusable (its sku is still found when it has one).
fn read_json_line(found: &mut Found<'_>, fast: bool) -> Result<(), RowError> {
    let text = found.base.trim_ascii();
    let text = match std::str::from_utf8(text) {
        Ok(text) => text,
        Err(e) => {
            let lossy = String::from_utf8_lossy(text);
            if let Some(sku) = sku_of(&lossy) {
                found.put(Field::Sku, Cow::Owned(sku.trim().to_string()));
            }
            return Err(RowError::row(format!(
                "the line is not valid UTF-8 (byte {} of the line)",
                e.valid_up_to() + 1
            )));
        }
    };
    if !text.starts_with('{') {
        return Err(RowError::row(format!(
            "not a JSON object: the line is {} (each line must be one object of field names)",
            json_kind(text)
        )));
    }
    // Where the text starts in the line (always within the cap of
    // `--max-line-bytes`, so the spans fit 32 bits).
    let at = span_in(found.base, text).map(|(s, _)| s);
    if let (true, Some(at)) = (fast, at) {
        if scan_flat(text, at, &mut found.fields) {
            // The common line, read without serde: the same fields as
            // the serde reading below gives, the sku trimmed.
            let sku = found
                .fields
                .get_mut(Field::Sku as usize)
                .and_then(Option::take);
            if let Some((s, e)) = sku {
                let range = s.saturating_sub(at) as usize..e.saturating_sub(at) as usize;
                if let Some(sku) = text.get(range) {
                    found.put(Field::Sku, Cow::Borrowed(sku.trim()));
                }
            }
            return sku_present(found);
        }
        found.fields = [None; 18];
    }
    let parsed = match serde_json::from_str::<JsonItem<'_>>(text) {
        Ok(m) => m,
        Err(e) => {
            // Keep the sku when the line has one, so the row can be found.
            if let Some(sku) = sku_of(text) {
                found.put(Field::Sku, trim_cow(sku));
            }
            let msg = e.to_string();
            let reason = msg.split(" at line ").next().unwrap_or(&msg);
            return Err(RowError::row(
                if reason.starts_with("unknown field") || reason.starts_with("duplicate field") {
                    reason
                        .split(", expected")
                        .next()
                        .unwrap_or(reason)
                        .to_string()
                } else {
                    format!("the line is not valid JSON: {reason}")
                },
            ));
        }
    };
    if let Some(v) = parsed.sku {
        if let Some(s) = raw_text(Field::Sku, v)? {
            found.put(Field::Sku, trim_cow(s));
        }
    }
    for (field, v) in parsed.values() {
        let Some(v) = v else { continue };
        if let Some(t) = raw_text(field, v)? {
            found.put(field, t);
        }
    }
    sku_present(found)
}

/// The error of a row without a sku (an empty one is none).
fn sku_present(found: &Found<'_>) -> Result<(), RowError> {
    let empty = match found.fields.get(Field::Sku as usize).copied().flatten() {
        Some((s, e)) => s == e,
        None => !found
            .owned
            .iter()
            .any(|(f, t)| *f == Field::Sku && !t.is_empty()),
    };
    if empty {
        return Err(RowError::field(Field::Sku, "is required"));
    }
    Ok(())
}

/// A one-row chunk from one JSON object (for `explain`).
pub fn chunk_from_json(text: &str) -> Chunk {
    let mut row = JsonRow {
        buf: text.as_bytes().to_vec(),
        ..JsonRow::default()
    };
    parse_json_line(&mut row, true);
    Chunk {
        rows: Rows::Json(vec![row]),
        lines: vec![1],
        len: 1,
        columns: Vec::new(),
        kinds: Vec::new(),
        sku_col: 0,
        max_line: DEFAULT_MAX_LINE,
    }
}

#[cfg(test)]
mod json_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    /// The serde-free reading lists the fields in `JSON_ORDER`, the serde
    /// one in `JsonItem::values`: the two lists are one order, so both
    /// readings name the same first bad field.
    #[test]
    fn json_order_is_the_serde_readings_order() {
        let item: JsonItem<'_> = serde_json::from_str("{}").unwrap();
        let order: Vec<Field> = item.values().iter().map(|(f, _)| *f).collect();
        assert_eq!(order, JSON_ORDER.to_vec());
    }

    /// What a parsed row holds, for comparing the two readings: its sku,
    /// its fields' texts in the order they are read, its error.
    fn seen(text: &str, fast: bool) -> (String, Vec<(Field, String)>, Option<String>) {
        let mut row = JsonRow {
            buf: text.as_bytes().to_vec(),
            ..JsonRow::default()
        };
        parse_json_line(&mut row, fast);
        let fields = if row.error.is_some() {
            Vec::new()
        } else {
            JSON_ORDER
                .iter()
                .filter_map(|f| {
                    let t = row.text(*f)?;
                    Some((*f, String::from_utf8(t.to_vec()).unwrap()))
                })
                .collect()
        };
        (
            String::from_utf8_lossy(row.sku()).into_owned(),
            fields,
            row.error.as_ref().map(|e| format!("{e:?}")),
        )
    }

    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => Just(String::new()),
            1 => Just(" ".to_string()),
            1 => Just("\t".to_string()),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            8 => proptest::sample::select(Field::ALL.to_vec()).prop_map(|f| f.name().to_string()),
            1 => Just("colour".to_string()),
            1 => proptest::sample::select(Field::ALL.to_vec())
                .prop_flat_map(|f| {
                    let n = f.name();
                    prop_oneof![
                        Just(n[..n.len() - 1].to_string()),
                        Just(format!("{n}s")),
                        Just(n.to_uppercase()),
                    ]
                }),
            1 => Just("unit_c\\u006fst".to_string()),
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[0-9]{1,4}(\\.[0-9]{1,6})?".prop_map(|v| format!("\"{v}\"")),
            3 => "-?(0|[1-9][0-9]{0,3})(\\.[0-9]{1,5})?([eE][+-]?[0-9]{1,2})?",
            1 => Just("null".to_string()),
            1 => Just("01".to_string()),
            1 => Just("1.".to_string()),
            1 => Just("true".to_string()),
            1 => Just("\"SKU-\\\"7\"".to_string()),
            1 => Just("\"a\\u00e9b\"".to_string()),
            1 => Just("[1]".to_string()),
            1 => Just("{}".to_string()),
            1 => Just("\"caf\u{e9}\"".to_string()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        /// The serde-free reading gives exactly the serde reading's row
        /// (sku, fields in order, error) on every line it takes.
        #[test]
        fn fast_json_lines_read_as_serde_reads_them(
            pairs in proptest::collection::vec((key(), value(), token(), token()), 0..8),
            lead in token(),
            tail in prop_oneof![4 => Just(String::new()), 1 => Just(" x".to_string()), 1 => Just(",".to_string())],
        ) {
            let body: Vec<String> = pairs
                .iter()
                .map(|(k, v, a, b)| format!("{a}\"{k}\"{b}:{a}{v}{b}"))
                .collect();
            let line = format!("{lead}{{{}}}{tail}", body.join(","));
            prop_assert_eq!(seen(&line, true), seen(&line, false), "{}", line);
        }
    }

    /// A value as a CSV field and as a JSON value (a string, or a number
    /// as written when it is one).
    fn cell() -> impl Strategy<Value = (String, bool)> {
        let text = prop_oneof![
            6 => "[0-9]{1,5}\\.[0-9]{2}",
            3 => "[0-9]{1,4}(\\.[0-9]{1,6})?",
            2 => "-?[0-9]{1,3}(\\.[0-9]{1,3})?",
            2 => "1[0-9]{9}",
            1 => "[0-9]{1,2}[eE][+-]?[0-9]",
            1 => "9{14,20}(\\.9{1,2})?",
            1 => Just(String::new()),
            1 => Just(" 5".to_string()),
            1 => Just("+5".to_string()),
            1 => Just(".5".to_string()),
            1 => Just("N/A".to_string()),
            1 => Just("spring".to_string()),
        ];
        (text, any::<bool>())
    }

    /// Reads one row given as a CSV file and as a JSON line: the item, or
    /// the error, from each.
    fn both(row: &[(Field, String, bool)], policy: &Policy) -> [Result<Item, RowError>; 2] {
        let mut header = vec!["sku"];
        let mut csv = vec!["SKU-1".to_string()];
        let mut json = vec![r#""sku":"SKU-1""#.to_string()];
        for (field, text, bare) in row {
            header.push(field.name());
            csv.push(text.clone());
            let number =
                !text.is_empty() && json_number_end(text.as_bytes(), 0) == Some(text.len());
            json.push(if *bare && number {
                format!("\"{}\":{text}", field.name())
            } else {
                format!("\"{}\":\"{text}\"", field.name())
            });
        }
        let csv = format!("{}\n{}\n", header.join(","), csv.join(","));
        let json = format!("{{{}}}\n", json.join(","));
        [(csv, Format::Csv), (json, Format::Jsonl)].map(|(text, format)| {
            let input: Box<dyn Read + Send> = Box::new(io::Cursor::new(text.into_bytes()));
            let mut reader = RowReader::from_reader(input, "t", format).unwrap();
            let mut chunk = reader.new_chunk();
            assert!(reader.read_row(&mut chunk).unwrap());
            chunk.item(0, policy, Some(1_795_000_000))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

        /// The same row read from CSV and from JSON lines gives the same
        /// item (so the same decision) or the same error: both read plain
        /// numbers from the line's bytes and leave the rest to
        /// set_field_text, in the same field order.
        #[test]
        fn json_and_csv_rows_read_alike(
            proposed in cell(),
            rest in proptest::collection::vec(cell(), 17),
            present in proptest::collection::vec(any::<bool>(), 17),
            cents in any::<bool>(),
        ) {
            let policy = Policy::from_toml_str(if cents {
                "name = \"p\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"0.99\"\nmax_price = \"5000\"\n"
            } else {
                "name = \"p\"\ncurrency = \"JPY\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"500000\"\n"
            })
            .unwrap();
            // Fields in the order JSON lines are read (the CSV header's
            // order is the order CSV reads them in).
            let mut row = vec![(Field::ProposedPrice, proposed.0, proposed.1)];
            for ((field, (text, bare)), on) in JSON_ORDER.iter().skip(1).zip(rest).zip(present) {
                if on {
                    row.push((*field, text, bare));
                }
            }
            let [csv, json] = both(&row, &policy);
            prop_assert_eq!(&csv, &json, "{:?}", row);
            if let (Ok(a), Ok(b)) = (&csv, &json) {
                prop_assert_eq!(policy.evaluate(a), policy.evaluate(b));
            }
        }
    }

    /// The fast reading takes the common line (the comparison above is
    /// not only of lines it leaves to serde).
    #[test]
    fn common_lines_take_the_fast_reading() {
        let line = r#"{"sku":"SKU-1","proposed_price":"9.97","current_price":9.99,"now":"1795000000","campaign":null}"#;
        let scan = |line: &str| {
            let mut v = [None; 18];
            scan_flat(line, 0, &mut v).then_some(v)
        };
        let v = scan(line).unwrap();
        let text = |f: Field| v[f as usize].map(|(s, e)| &line[s as usize..e as usize]);
        assert_eq!(text(Field::Sku), Some("SKU-1"));
        assert_eq!(text(Field::CurrentPrice), Some("9.99"));
        assert_eq!(text(Field::Campaign), None);
        assert!(scan(r#"{"sku":"a\"b"}"#).is_none());
        assert!(scan(r#"{"sku":"a","sku":"b"}"#).is_none());
        // The item fields a line may carry (the group fields are read beside
        // the item, once the command line learns them).
        for f in Field::SPEC_ORDER {
            let key = format!("\"{}\":1", f.name());
            assert_eq!(key_at(key.as_bytes(), 1), Some((f, f.name().len() + 2)));
            let near = format!("\"{}s\":1", f.name());
            assert_eq!(key_at(near.as_bytes(), 1), None);
            assert_eq!(key_at(&key.as_bytes()[..f.name().len()], 1), None);
        }
        // The fast reading finds a field by its index in Field::ALL.
        for (k, f) in Field::ALL.iter().enumerate() {
            assert_eq!(*f as usize, k);
        }
        for (f, kind) in JSON_ORDER.iter().zip(JSON_KINDS) {
            assert_eq!(kind, Column::of(Some(*f)));
        }
        assert!(scan(r#"{"sku":"a"} x"#).is_none());
    }
}
