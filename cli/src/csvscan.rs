//! The CSV reader of the command line: one dialect (`,` delimiter, `"`
//! quotes doubled inside quoted fields, a leading UTF-8 byte order mark
//! skipped) in which **every physical line is one record**: no field holds
//! a line break, so a stray quote can never swallow the lines after it.
//! Each line is read the way the `csv` crate reads that line alone
//! (`flexible(true)`): the same fields. A quote still open at the end of
//! its line ends the record there and marks it [`Fault::OpenQuote`] (the
//! field is named, the row is rejected, reading resumes on the next line).
//! A line longer than the cap is skipped to its line break without being
//! held in memory and marked [`Fault::TooLong`]. Blank lines (nothing but
//! ASCII whitespace) are not records. A record's line is its 1-based
//! physical line number. `\r` is an ordinary byte.
//!
//! Records without a quote, nearly all of them, are found eight bytes at a
//! time and copied whole into the chunk's buffer; records with a quote go
//! through the byte-at-a-time state machine of the dialect.

use std::io::{self, Read};

/// Why a line could not be read into fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Fault {
    /// The line was read into fields.
    #[default]
    None,
    /// A quote opened in field `field` (0-based) was still open at the end
    /// of the line: the record holds the fields up to and including it.
    OpenQuote {
        /// 0-based index of the field whose quote was left open.
        field: usize,
    },
    /// The line is longer than the cap: it was skipped to its line break
    /// and the record holds one empty field.
    TooLong,
}

/// Rows read from CSV: every field's bytes in one buffer, each field
/// followed by one separator byte, so a field is `data[end_before + 1..end]`.
#[derive(Debug)]
pub struct Records {
    /// Field bytes; starts with one separator byte.
    data: Vec<u8>,
    /// End of every field in `data`; starts with the leading separator's
    /// index, `0`.
    ends: Vec<usize>,
    /// Index in `ends` of each row's first field, and one past the last row.
    firsts: Vec<usize>,
    /// Per row: whether its line could be read into fields.
    faults: Vec<Fault>,
}

impl Default for Records {
    fn default() -> Self {
        Records::new()
    }
}

impl Records {
    /// No rows.
    pub fn new() -> Records {
        Records {
            data: vec![b'\n'],
            ends: vec![0],
            firsts: vec![1],
            faults: Vec::new(),
        }
    }

    /// Forgets every row, keeping the buffers.
    pub fn clear(&mut self) {
        self.data.truncate(1);
        self.ends.truncate(1);
        self.firsts.truncate(1);
        self.faults.clear();
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.firsts.len() - 1
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Field ends of row `i`, with the end before its first field in front.
    fn bounds(&self, i: usize) -> &[usize] {
        let (Some(&first), Some(&next)) = (self.firsts.get(i), self.firsts.get(i + 1)) else {
            return &[];
        };
        self.ends.get(first - 1..next).unwrap_or(&[])
    }

    /// Row `i` as the buffer and its field bounds: field `k` is
    /// `data[bounds[k] + 1..bounds[k + 1]]`.
    pub fn row(&self, i: usize) -> Option<(&[u8], &[usize])> {
        let bounds = self.bounds(i);
        (!bounds.is_empty()).then_some((self.data.as_slice(), bounds))
    }

    /// The fields of row `i` (none when there is no such row).
    pub fn fields(&self, i: usize) -> impl Iterator<Item = &[u8]> + '_ {
        self.bounds(i).windows(2).map(|w| match *w {
            [before, end] => self.data.get(before + 1..end).unwrap_or(&[]),
            _ => &[],
        })
    }

    /// Number of fields of row `i`.
    pub fn field_count(&self, i: usize) -> usize {
        self.bounds(i).len().saturating_sub(1)
    }

    /// Field `col` of row `i`.
    pub fn field(&self, i: usize, col: usize) -> Option<&[u8]> {
        let b = self.bounds(i);
        let before = *b.get(col)?;
        let end = *b.get(col + 1)?;
        self.data.get(before + 1..end)
    }

    /// Whether row `i`'s line could be read into fields.
    pub fn fault(&self, i: usize) -> Fault {
        self.faults.get(i).copied().unwrap_or_default()
    }

    /// Appends a copy of row `i` of `from`, its fault included.
    pub fn push_copy(&mut self, from: &Records, i: usize) {
        let n = from.field_count(i);
        for (k, field) in from.fields(i).enumerate() {
            self.data.extend_from_slice(field);
            if k + 1 < n {
                self.end_field(b',');
            }
        }
        self.end_row_with(from.fault(i));
    }

    /// Drops the last row.
    pub fn pop(&mut self) {
        if self.firsts.len() < 2 {
            return;
        }
        self.firsts.pop();
        self.faults.pop();
        let first = self.firsts.last().copied().unwrap_or(1);
        self.ends.truncate(first);
        let data_end = self.ends.last().map_or(1, |e| e + 1);
        self.data.truncate(data_end);
    }

    /// Ends the current field at the end of `data`.
    #[inline]
    fn end_field(&mut self, sep: u8) {
        self.ends.push(self.data.len());
        self.data.push(sep);
    }

    /// Ends the row being written.
    #[inline]
    fn end_row(&mut self) {
        self.end_row_with(Fault::None);
    }

    /// Ends the row being written, marked with `fault`.
    #[inline]
    fn end_row_with(&mut self, fault: Fault) {
        self.end_field(b'\n');
        self.firsts.push(self.ends.len());
        self.faults.push(fault);
    }

    /// Forgets a partly written row (its fields past `ends_len`).
    fn rollback(&mut self, data_len: usize, ends_len: usize) {
        self.data.truncate(data_len);
        self.ends.truncate(ends_len);
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;

/// The high bit of every byte of `w` equal to `b`, and no other bit.
#[inline]
fn bytes_equal(w: u64, b: u8) -> u64 {
    let x = w ^ (ONES * u64::from(b));
    // Exact (no borrow between bytes): a byte's high bit is set in `t`
    // when its low seven bits are not all zero.
    let t = (x & LOW7).wrapping_add(LOW7);
    !(t | x | LOW7)
}

/// How a scan of the buffered input ended.
enum Scan {
    /// A whole record was stored: bytes consumed and line breaks in them.
    Record(usize, u64),
    /// The record goes on past the buffered input.
    NeedMore,
}

/// Stores the record at the start of `input` (which does not start with
/// `\n`) if it has no quote before its end; `None` when it has one.
#[inline]
fn scan_plain(input: &[u8], eof: bool, out: &mut Records) -> Option<Scan> {
    let base = out.data.len();
    let mut pos = 0;
    let mut words = input.chunks_exact(8);
    let mut line_end = None;
    for word in words.by_ref() {
        let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        let quotes = bytes_equal(w, b'"');
        let newlines = bytes_equal(w, b'\n');
        let mut commas = bytes_equal(w, b',');
        // Where this word's bytes go in `data` (a buffer index: no wrap).
        let at = base.wrapping_add(pos);
        if newlines != 0 {
            let nl = newlines.trailing_zeros();
            if quotes != 0 && quotes.trailing_zeros() < nl {
                return None;
            }
            // Commas before the line break only.
            commas &= (1u64 << nl) - 1;
            while commas != 0 {
                out.ends
                    .push(at.wrapping_add((commas.trailing_zeros() / 8) as usize));
                commas &= commas - 1;
            }
            line_end = Some(pos + (nl / 8) as usize);
            break;
        }
        if quotes != 0 {
            return None;
        }
        while commas != 0 {
            out.ends
                .push(at.wrapping_add((commas.trailing_zeros() / 8) as usize));
            commas &= commas - 1;
        }
        pos += 8;
    }
    if line_end.is_none() {
        for &b in words.remainder() {
            match b {
                b'\n' => {
                    line_end = Some(pos);
                    break;
                }
                b'"' => return None,
                b',' => out.ends.push(base + pos),
                _ => {}
            }
            pos += 1;
        }
    }
    let (len, consumed, lines) = match line_end {
        Some(end) => (end, end + 1, 1),
        None if eof => (input.len(), input.len(), 0),
        None => return Some(Scan::NeedMore),
    };
    out.data
        .extend_from_slice(input.get(..len).unwrap_or(input));
    out.end_row();
    Some(Scan::Record(consumed, lines))
}

/// Field states of the dialect (those of `csv_core`'s reader).
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    StartField,
    InField,
    InQuoted,
    /// A quote inside a quoted field: doubled, or the end of the quotes.
    QuoteInQuoted,
}

/// Stores the record at the start of `input` (which does not start with
/// `\n`), byte by byte. The record ends at the first `\n` whatever the
/// state: a quote still open there marks it [`Fault::OpenQuote`].
fn scan_quoted(input: &[u8], eof: bool, out: &mut Records) -> Scan {
    let mut state = State::StartField;
    let first_end = out.ends.len();
    let open = |state: State, out: &Records| {
        if state == State::InQuoted {
            Fault::OpenQuote {
                field: out.ends.len() - first_end,
            }
        } else {
            Fault::None
        }
    };
    for (i, &b) in input.iter().enumerate() {
        if b == b'\n' {
            let fault = open(state, out);
            out.end_row_with(fault);
            return Scan::Record(i + 1, 1);
        }
        state = match (state, b) {
            (State::StartField, b'"') => State::InQuoted,
            (State::InQuoted, b'"') => State::QuoteInQuoted,
            (State::QuoteInQuoted, b'"') => {
                out.data.push(b'"');
                State::InQuoted
            }
            (State::InQuoted, _) => {
                out.data.push(b);
                State::InQuoted
            }
            (_, b',') => {
                out.end_field(b',');
                State::StartField
            }
            (_, _) => {
                out.data.push(b);
                State::InField
            }
        };
    }
    if !eof {
        return Scan::NeedMore;
    }
    let fault = open(state, out);
    out.end_row_with(fault);
    Scan::Record(input.len(), 0)
}

/// The default cap on one line's bytes (1 MiB, `--max-line-bytes`).
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

/// Reads records from a byte stream.
pub struct CsvReader {
    input: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// Unconsumed input is `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    /// One plus the line breaks consumed.
    line: u64,
    /// Bytes consumed.
    bytes: u64,
    /// Whether the byte order mark check was done.
    began: bool,
    /// Most bytes of one line, its line break not counted.
    max_line: usize,
}

impl CsvReader {
    /// A reader of `input` with lines of at most [`DEFAULT_MAX_LINE`] bytes.
    pub fn new(input: Box<dyn Read + Send>) -> CsvReader {
        CsvReader::with_capacity(input, 1 << 16)
    }

    /// A reader of `input` reading `capacity` bytes at a time (at least 8).
    pub fn with_capacity(input: Box<dyn Read + Send>, capacity: usize) -> CsvReader {
        CsvReader {
            input,
            buf: vec![0; capacity.max(8)],
            start: 0,
            end: 0,
            eof: false,
            line: 1,
            bytes: 0,
            began: false,
            max_line: DEFAULT_MAX_LINE,
        }
    }

    /// Caps one line at `max_line` bytes (its line break not counted): a
    /// longer line becomes a [`Fault::TooLong`] record. The buffer never
    /// grows past about twice the cap.
    pub fn with_max_line(mut self, max_line: usize) -> CsvReader {
        self.max_line = max_line.max(1);
        self
    }

    /// Bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Moves unconsumed input to the front, grows the buffer when it is
    /// full, and reads until it is full or the input ends.
    fn refill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let len = self.buf.len();
            self.buf.resize(len * 2, 0);
        }
        while !self.eof && self.end < self.buf.len() {
            let Some(free) = self.buf.get_mut(self.end..) else {
                break;
            };
            match self.input.read(free) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn consume(&mut self, n: usize, lines: u64) {
        self.start += n;
        self.bytes += n as u64;
        self.line += lines;
    }

    /// Consumes the rest of the current line, its line break included,
    /// without keeping it: the buffer does not grow.
    fn skip_line(&mut self) -> io::Result<()> {
        loop {
            let input = self.buf.get(self.start..self.end).unwrap_or(&[]);
            if let Some(p) = input.iter().position(|&b| b == b'\n') {
                self.consume(p + 1, 1);
                return Ok(());
            }
            let n = input.len();
            self.consume(n, 0);
            if self.eof {
                return Ok(());
            }
            self.refill()?;
        }
    }

    /// Appends the next record to `out`; its line, or `None` at the end.
    pub fn read_record(&mut self, out: &mut Records) -> io::Result<Option<u64>> {
        if !self.began {
            while !self.eof && self.end - self.start < 3 {
                self.refill()?;
            }
            if self
                .buf
                .get(self.start..self.end)
                .unwrap_or(&[])
                .starts_with(b"\xEF\xBB\xBF")
            {
                self.consume(3, 0);
            }
            self.began = true;
        }
        let (data_len, ends_len) = (out.data.len(), out.ends.len());
        loop {
            let line = self.line;
            let input = self.buf.get(self.start..self.end).unwrap_or(&[]);
            // Line breaks before a record are blank lines: skipped.
            let blank = input.iter().take_while(|&&b| b == b'\n').count();
            if blank > 0 {
                self.consume(blank, blank as u64);
                continue;
            }
            if input.is_empty() {
                if self.eof {
                    return Ok(None);
                }
                self.refill()?;
                continue;
            }
            let scan = match scan_plain(input, self.eof, out) {
                Some(scan) => scan,
                None => {
                    // Drop the field ends the plain scan found first.
                    out.rollback(data_len, ends_len);
                    scan_quoted(input, self.eof, out)
                }
            };
            match scan {
                Scan::Record(n, lines) => {
                    let text = input.get(..n - lines as usize).unwrap_or(&[]);
                    if text.len() > self.max_line {
                        out.pop();
                        out.rollback(data_len, ends_len);
                        self.consume(n, lines);
                        out.end_row_with(Fault::TooLong);
                        return Ok(Some(line));
                    }
                    // A line of nothing but whitespace is not a record.
                    if text.iter().all(u8::is_ascii_whitespace) {
                        out.pop();
                        out.rollback(data_len, ends_len);
                        self.consume(n, lines);
                        continue;
                    }
                    self.consume(n, lines);
                    return Ok(Some(line));
                }
                Scan::NeedMore => {
                    out.rollback(data_len, ends_len);
                    if self.end - self.start > self.max_line {
                        // Longer than the cap with no line break yet: skip
                        // to the next one rather than buffer the line.
                        self.skip_line()?;
                        out.end_row_with(Fault::TooLong);
                        return Ok(Some(line));
                    }
                    self.refill()?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use std::io::Cursor;

    /// A reader that hands out at most `step` bytes per read.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    /// Every record with its line and fault, as this reader reads them
    /// with lines capped at `max_line` bytes.
    fn ours_capped(
        data: &[u8],
        capacity: usize,
        step: usize,
        max_line: usize,
    ) -> Vec<(u64, Vec<Vec<u8>>, Fault)> {
        let input = Trickle {
            data: data.to_vec(),
            pos: 0,
            step,
        };
        let mut r = CsvReader::with_capacity(Box::new(input), capacity).with_max_line(max_line);
        let mut recs = Records::new();
        let mut out = Vec::new();
        while let Some(line) = r.read_record(&mut recs).unwrap() {
            let i = recs.len() - 1;
            assert_eq!(recs.field_count(i), recs.fields(i).count());
            let fields: Vec<Vec<u8>> = recs.fields(i).map(<[u8]>::to_vec).collect();
            for (k, f) in fields.iter().enumerate() {
                assert_eq!(recs.field(i, k), Some(&f[..]));
            }
            out.push((line, fields, recs.fault(i)));
        }
        assert_eq!(r.bytes_read(), data.len() as u64);
        // The buffer stays within about twice the cap (or the capacity).
        assert!(
            r.buf.len() <= (2 * max_line + 16).max(capacity),
            "{}",
            r.buf.len()
        );
        out
    }

    /// Every record with its line, as this reader reads them.
    fn ours(data: &[u8], capacity: usize, step: usize) -> Vec<(u64, Vec<Vec<u8>>)> {
        ours_capped(data, capacity, step, DEFAULT_MAX_LINE)
            .into_iter()
            .map(|(line, fields, _)| (line, fields))
            .collect()
    }

    /// Every record with its line, as the `csv` crate reads each physical
    /// line alone: a line of nothing but ASCII whitespace is no record, any
    /// other line exactly one (a byte order mark at the very start skipped).
    fn reference(data: &[u8]) -> Vec<(u64, Vec<Vec<u8>>)> {
        let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        let mut out = Vec::new();
        for (k, line) in data.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .terminator(csv::Terminator::Any(b'\n'))
                .from_reader(Cursor::new([&b"-\n"[..], line].concat()));
            let mut rec = csv::ByteRecord::new();
            // The crate skips a byte order mark only at the start of its
            // input: a first line keeps one inside the file's lines as data.
            assert!(rdr.read_byte_record(&mut rec).unwrap());
            assert!(rdr.read_byte_record(&mut rec).unwrap());
            out.push((k as u64 + 1, rec.iter().map(<[u8]>::to_vec).collect()));
            assert!(!rdr.read_byte_record(&mut rec).unwrap(), "{line:?}");
        }
        out
    }

    #[test]
    fn reads_the_dialect() {
        let data = b"\xEF\xBB\xBFsku,p\r\n\n\"A,1\",\"x\"\"y\"\n \t\r\nB,\"q\"z,a\"b\n\"multi\nline\",2\nlast,\"open";
        let got = ours_capped(data, 8, 3, DEFAULT_MAX_LINE);
        let ok = Fault::None;
        let want: Vec<(u64, Vec<Vec<u8>>, Fault)> = vec![
            (1, vec![b"sku".to_vec(), b"p\r".to_vec()], ok),
            (3, vec![b"A,1".to_vec(), b"x\"y".to_vec()], ok),
            (5, vec![b"B".to_vec(), b"qz".to_vec(), b"a\"b".to_vec()], ok),
            // A quote open at the end of its line ends the record there.
            (6, vec![b"multi".to_vec()], Fault::OpenQuote { field: 0 }),
            (7, vec![b"line\"".to_vec(), b"2".to_vec()], ok),
            (
                8,
                vec![b"last".to_vec(), b"open".to_vec()],
                Fault::OpenQuote { field: 1 },
            ),
        ];
        assert_eq!(got, want);
        let plain: Vec<(u64, Vec<Vec<u8>>)> = want.into_iter().map(|(l, f, _)| (l, f)).collect();
        assert_eq!(plain, reference(data));
    }

    /// A line over the cap is one `TooLong` record, skipped without being
    /// held (the buffer stays small), and the next line is read as usual.
    #[test]
    fn lines_over_the_cap_are_skipped() {
        let mut data = b"sku,p\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 5000));
        data.extend_from_slice(b",\"9\n");
        data.extend_from_slice(b"A,1\n");
        data.extend(std::iter::repeat_n(b'y', 41));
        data.extend_from_slice(b"\nB,\"2\"\n");
        data.extend(std::iter::repeat_n(b' ', 41));
        data.extend_from_slice(b"\n0123456789012345678901234567890123456789");
        for (capacity, step) in [(8, 1), (16, 7), (64, 5000), (1 << 16, 1 << 20)] {
            let got = ours_capped(&data, capacity, step, 40);
            let too = Fault::TooLong;
            let ok = Fault::None;
            let want: Vec<(u64, Vec<Vec<u8>>, Fault)> = vec![
                (1, vec![b"sku".to_vec(), b"p".to_vec()], ok),
                (2, vec![Vec::new()], too),
                (3, vec![b"A".to_vec(), b"1".to_vec()], ok),
                (4, vec![Vec::new()], too),
                (5, vec![b"B".to_vec(), b"2".to_vec()], ok),
                // Over the cap even though blank: every line over it is a row.
                (6, vec![Vec::new()], too),
                // Exactly the cap, without a final line break.
                (
                    7,
                    vec![b"0123456789012345678901234567890123456789".to_vec()],
                    ok,
                ),
            ];
            assert_eq!(got, want, "capacity {capacity}, step {step}");
        }
    }

    #[test]
    fn empty_inputs_have_no_record() {
        for data in [&b""[..], b"\n\n\n", b"\xEF\xBB\xBF", b"\xEF\xBB\xBF\n"] {
            assert!(ours(data, 8, 1).is_empty());
            assert!(reference(data).is_empty());
        }
        assert_eq!(
            ours(b"a,", 8, 8),
            vec![(1, vec![b"a".to_vec(), Vec::new()])]
        );
        for data in [&b" \n\t\r\n"[..], b"\xEF\xBB\xBF  \r\n", b"\r"] {
            assert!(ours(data, 8, 1).is_empty());
            assert!(reference(data).is_empty());
        }
    }

    #[test]
    fn pop_drops_the_last_row_only() {
        let mut r = CsvReader::new(Box::new(Cursor::new(b"a,b\nc\nd,e,f\n".to_vec())));
        let mut recs = Records::new();
        assert_eq!(r.read_record(&mut recs).unwrap(), Some(1));
        assert_eq!(r.read_record(&mut recs).unwrap(), Some(2));
        recs.pop();
        assert_eq!(recs.len(), 1);
        assert_eq!(r.read_record(&mut recs).unwrap(), Some(3));
        assert_eq!(recs.len(), 2);
        assert_eq!(recs.fields(0).collect::<Vec<_>>(), vec![&b"a"[..], b"b"]);
        assert_eq!(
            recs.fields(1).collect::<Vec<_>>(),
            vec![&b"d"[..], b"e", b"f"]
        );
        let (data, bounds) = recs.row(1).unwrap();
        assert_eq!(bounds.len(), 4);
        assert_eq!(&data[bounds[1] + 1..bounds[2]], b"e");
        assert!(recs.row(2).is_none());
        assert_eq!(recs.field(1, 3), None);
        assert_eq!(recs.field(2, 0), None);
        assert_eq!(recs.fields(2).count(), 0);
        recs.clear();
        assert!(recs.is_empty());
        assert_eq!(r.read_record(&mut recs).unwrap(), None);
    }

    /// Random inputs over the bytes that matter to the dialect, read with
    /// small buffers and short reads: the same records and lines as the
    /// `csv` crate reading each line alone.
    #[test]
    fn agrees_with_the_csv_crate_on_random_inputs() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
        // Dense in special bytes, and mostly plain long lines.
        let dense = &b"ab1.,,,\"\"\n\n\r \xEF\xBB\xBF"[..];
        let plain = &b"abcdefghijklmnopqrstuvwxyz0123456789.,,,,,\n\"\r"[..];
        for round in 0..6_000 {
            let alphabet = if round % 2 == 0 { dense } else { plain };
            let len = rng.random_range(0..300);
            let data: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            let want = reference(&data);
            let capacity = [8, 16, 64, 1 << 16][round % 4];
            let step = [1, 3, 7, 1 << 20][(round / 8) % 4];
            assert_eq!(ours(&data, capacity, step), want, "{data:?}");
        }
    }
}
