//! `priceguard check`: one decision per input row, in input order, and a
//! summary on standard error.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use priceguard::audit::{self, AuditChain, PolicyStamp, VerifyError};
use priceguard::history::{History, Summariser};
use priceguard::metrics::Metrics;
use priceguard::{Class, Decision, Outcome, Policy, Reason, Rule};

use crate::eval::{pipeline_staged, Evaluator, Parsed, Stats, Work};
use crate::format::Format;
use crate::history;
use crate::output::Output;
use crate::read::Chunk;
use crate::read::RowReader;
use crate::write::{
    money_text, push_check_header, push_explain_column, push_lawful_reference_column,
    CheckRowWriter,
};
use crate::{load_policy, now_arg, CheckArgs, CliError};

/// Refuses an output path (given by `flag`) that names the input file:
/// replacing it would lose the rows being read.
pub fn ensure_distinct(input: &Path, output: Option<&Path>, flag: &str) -> Result<(), CliError> {
    let Some(out) = output else { return Ok(()) };
    if let (Ok(a), Ok(b)) = (std::fs::canonicalize(input), std::fs::canonicalize(out)) {
        if a == b {
            return Err(CliError::new(format!(
                "{flag} `{}` is the input file: write it elsewhere",
                out.display()
            )));
        }
    }
    Ok(())
}

/// Writes `buf` to `out` and clears it.
pub fn flush_buf(out: &mut dyn Write, buf: &mut Vec<u8>, name: &str) -> Result<(), CliError> {
    out.write_all(buf)
        .map_err(|e| CliError::new(format!("cannot write {name}: {e}")))?;
    buf.clear();
    Ok(())
}

/// A progress bar over the input's bytes, shown only on a terminal and
/// for files large enough to be worth it.
pub fn progress(size: Option<u64>, quiet: bool) -> Option<ProgressBar> {
    let size = size?;
    if quiet || size < (8 << 20) || !io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(size);
    let style =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// Reads `--history` (and `--quotes`) whole: every row is kept, so each
/// proposal is summarised at its own `now`. Periods come from the policy
/// file's history keys.
fn read_history(args: &CheckArgs, path: &Path, digits: u8) -> Result<History, CliError> {
    let params = history::policy_params(&args.policy, i64::MAX)?;
    let mut s = Summariser::new(params);
    history::read_price_file(path, None, false, args.quiet, digits, &mut s)?;
    if let Some(q) = &args.quotes {
        s.expect_quotes();
        history::read_quotes(q, None, args.quiet, digits, &mut s)?;
    }
    Ok(s.into_history())
}

/// Runs `check`.
pub fn run(args: &CheckArgs) -> Result<(), CliError> {
    let policy = load_policy(&args.policy)?;
    let now = now_arg(args.now)?;
    let in_format = Format::for_input(&args.input, args.format)?;
    let out_format = Format::for_output(args.output.as_deref(), args.format, in_format);
    let (reader, size) = RowReader::open(&args.input, in_format, args.max_line_bytes)?;
    ensure_distinct(&args.input, args.output.as_deref(), "--output")?;
    ensure_distinct(&args.input, args.metrics.as_deref(), "--metrics")?;
    ensure_distinct(&args.input, args.audit.as_deref(), "--audit")?;
    // The output first (a closed standard output stops the run before an
    // audit log is created); it replaces nothing until the run succeeded,
    // so a log that cannot be continued leaves the old file as it was.
    let mut out = Output::open(args.output.as_deref())?;
    let out_name = out.name().to_string();
    let mut audit = match &args.audit {
        Some(path) => Some(AuditFile::open(path)?),
        None => None,
    };
    let bar = progress(size, args.quiet);
    let start = Instant::now();

    let digits = policy.currency().minor_units();
    let history = match &args.history {
        Some(path) => Some(read_history(args, path, digits)?),
        None => None,
    };
    let stamp = PolicyStamp::of(&policy);
    let metrics = Metrics::new();
    let mut eval = Evaluator::new(&policy);
    if args.metrics.is_some() {
        eval = eval.with_metrics(&metrics);
    }
    let mut buf = Vec::with_capacity(1 << 20);
    push_check_header(&mut buf, out_format);
    if args.explain && out_format == Format::Csv {
        push_explain_column(&mut buf, out_format, None);
    }
    if out_format == Format::Csv {
        push_lawful_reference_column(&mut buf, out_format, digits, None);
    }
    let mut rows = CheckRowWriter::new(out_format, digits, &stamp);
    // Three stages: reading, evaluation (budgets carry over in input
    // order), formatting and writing.
    let eval_ref = &mut eval;
    let middle = |work: &mut Work| -> Result<(), CliError> {
        let Some(parsed) = work.parsed.first_mut() else {
            return Err(CliError::new("internal error: no items read"));
        };
        let chunk = &work.chunk;
        if let Some(h) = &history {
            parsed.apply_history(chunk, h);
        }
        let parsed = &*parsed;
        eval_ref.run(parsed, work.grouped.then_some(work.groups.as_slice()))?;
        work.notes.clear();
        for i in 0..chunk.len() {
            if eval_ref.decision(i).reason == Reason::InvalidInput {
                if let Some(e) = eval_ref.error(chunk, parsed, i) {
                    work.notes.push((i, e));
                }
            }
        }
        eval_ref.move_decisions(&mut work.decisions);
        eval_ref.move_ladder_notes(&mut work.ladder);
        Ok(())
    };
    pipeline_staged(reader, &[&policy], now, args.chunk_size, middle, |work| {
        let chunk = &work.chunk;
        if let Some(audit) = &mut audit {
            let parsed = work.parsed.first();
            audit.append(&policy, &stamp, chunk, parsed, &work.decisions)?;
        }
        let none = Decision::default();
        let mut notes = work.notes.iter().peekable();
        for i in 0..chunk.len() {
            let d = work.decisions.get(i).unwrap_or(&none);
            let error = notes.next_if(|(j, _)| *j == i).map(|(_, e)| e.as_str());
            rows.push(&mut buf, chunk.sku(i), d, chunk.line(i), error);
            if args.explain {
                let text = explain_row(&policy, work, i, d, error);
                push_explain_column(&mut buf, out_format, Some(&text));
            }
            push_lawful_reference_column(&mut buf, out_format, digits, Some(d));
        }
        flush_buf(&mut out, &mut buf, &out_name)?;
        if let Some(bar) = &bar {
            bar.set_position(work.bytes);
        }
        Ok(())
    })?;
    flush_buf(&mut out, &mut buf, &out_name)?;
    let audit_note = match audit {
        Some(a) => Some(a.finish()?),
        None => None,
    };
    let metrics_out = match &args.metrics {
        Some(path) => {
            let mut m = Output::file(path)?;
            let name = m.name().to_string();
            m.write_all(metrics.render().as_bytes())
                .map_err(|e| CliError::new(format!("cannot write {name}: {e}")))?;
            Some(m)
        }
        None => None,
    };
    // Every output is complete: only now do they replace the old files.
    out.commit()?;
    if let Some(m) = metrics_out {
        m.commit()?;
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let elapsed = start.elapsed();
    if !args.quiet {
        let mut err = io::stderr().lock();
        let mut text = summary(&policy, &eval, args.chunk_size, elapsed);
        if let Some(note) = audit_note {
            text.push_str(&note);
        }
        // The summary is informative: a closed stderr is no reason to fail.
        let _ = err.write_all(text.as_bytes());
    }
    Ok(())
}

/// The sentence of row `i`'s decision: a row the ladder moved names the
/// neighbour whose edge set its price (`Decision::explain_ladder`).
fn explain_row(
    policy: &Policy,
    work: &Work,
    i: usize,
    d: &Decision,
    error: Option<&str>,
) -> String {
    let item = work.parsed.first().and_then(|p| p.item(i));
    let Some(item) = item else {
        return format!("rejected: {}", error.unwrap_or("the row cannot be read"));
    };
    if let Some(e) = error.filter(|_| d.reason == Reason::InvalidInput) {
        return format!("rejected: {e}");
    }
    let note = work.ladder.get(i).copied().flatten();
    let Some(note) = note else {
        return d.explain(policy, item);
    };
    let n = note.neighbour;
    let sku = String::from_utf8_lossy(work.chunk.sku(n));
    let row = work.groups.get(n).copied().flatten();
    let rank = row.and_then(|r| r.rank).unwrap_or(0);
    d.explain_ladder(
        policy,
        item,
        &note,
        &sku,
        rank,
        row.and_then(|r| r.pack_size),
    )
}

fn pct(n: u64, total: u64) -> String {
    if total == 0 {
        return String::from("0 %");
    }
    format!("{:.1} %", n as f64 * 100.0 / total as f64)
}

/// Rules by count, most first, at most `k`.
pub fn top_rules(counts: &[u64], k: usize) -> Vec<(Rule, u64)> {
    let mut v: Vec<(Rule, u64)> = counts
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .filter_map(|(code, n)| {
            u8::try_from(code)
                .ok()
                .and_then(Rule::from_code)
                .map(|r| (r, *n))
        })
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(k);
    v
}

fn rule_list(v: &[(Rule, u64)]) -> String {
    if v.is_empty() {
        return String::from("none");
    }
    v.iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn rate(rows: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs <= 0.0 {
        return String::from("-");
    }
    let r = rows as f64 / secs;
    if r >= 1e6 {
        format!("{:.2}M", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.1}k", r / 1e3)
    } else {
        format!("{r:.0}")
    }
}

/// The end-of-run summary.
fn summary(policy: &Policy, eval: &Evaluator<'_>, chunk_size: usize, elapsed: Duration) -> String {
    let s: &Stats = &eval.stats;
    let mut out = String::new();
    let version = if policy.version().is_empty() {
        String::new()
    } else {
        format!(" version {}", policy.version())
    };

    out.push_str(&format!(
        "priceguard check: {} rows in {:.2} s ({} rows/s), policy `{}`{version} ({})\n",
        s.rows,
        elapsed.as_secs_f64(),
        rate(s.rows, elapsed),
        policy.name(),
        policy.currency().code(),
    ));
    out.push_str(&format!("  policy hash:   {}\n", policy.content_hash_hex()));
    let outcomes: Vec<String> = Outcome::ALL
        .iter()
        .map(|o| {
            let n = s.outcomes.get(*o as usize).copied().unwrap_or(0);
            format!("{o} {n} ({})", pct(n, s.rows))
        })
        .collect();
    out.push_str(&format!("  outcomes:      {}\n", outcomes.join(", ")));
    if !s.reasons.is_empty() {
        let mut reasons = s.reasons.clone();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.code().cmp(&b.0.code())));
        let list: Vec<String> = reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
        out.push_str(&format!("  held/rejected: {}\n", list.join(", ")));
    }
    out.push_str(&format!("  invalid rows:  {}\n", s.invalid));
    out.push_str(&format!(
        "  most violated: {}\n",
        rule_list(&top_rules(&s.violated, 5))
    ));
    out.push_str(&format!(
        "  most binding:  {}\n",
        rule_list(&top_rules(&s.binding, 5))
    ));
    let relaxed: Vec<String> = [
        Class::Hard,
        Class::Financial,
        Class::Stability,
        Class::Market,
        Class::Cosmetic,
    ]
    .iter()
    .filter_map(|c| {
        let n = s.relaxed.get(*c as usize).copied().unwrap_or(0);
        (n > 0).then(|| format!("{c} {n}"))
    })
    .collect();
    out.push_str(&format!(
        "  relaxed:       {}\n",
        if relaxed.is_empty() {
            String::from("none")
        } else {
            relaxed.join(", ")
        }
    ));
    out.push_str(&format!("  needs approval: {}\n", s.needs_approval));
    let g = &s.groups;
    if g.groups > 0 {
        out.push_str(&format!(
            "  groups:        {} groups: adjusted {}, held {}, invalid {}; {} rows moved by the ladder\n",
            g.groups, g.adjusted, g.held, g.invalid, g.moved
        ));
    }
    let digits = policy.currency().minor_units();
    if policy.campaign_count() > 0 {
        let remaining = eval.budgets().as_slice();
        let list: Vec<String> = policy
            .campaigns()
            .zip(remaining)
            .map(|((name, budget), left)| {
                let spent = i128::from(budget) - i128::from(*left);
                let share = if budget > 0 {
                    spent as f64 * 100.0 / budget as f64
                } else {
                    0.0
                };
                format!(
                    "{name} {} of {} ({share:.1} %)",
                    money_text(spent, digits),
                    money_text(i128::from(budget), digits)
                )
            })
            .collect();
        out.push_str(&format!("  promo spend:   {}\n", list.join("; ")));
    }
    match policy.breaker() {
        Some(b) => out.push_str(&format!(
            "  breaker:       over {} violators in a chunk of {chunk_size} rows (min {}): tripped in {} of {} chunks, {} rows held\n",
            pct_ratio(b.max_violation_ratio),
            b.min_batch,
            s.chunks_tripped,
            s.chunks,
            s.rows_tripped
        )),
        None => out.push_str("  breaker:       not configured\n"),
    }
    out
}

/// A ratio as a percentage (`0.25` is `25 %`).
pub fn pct_ratio(r: priceguard::Ratio) -> String {
    format!(
        "{} %",
        (r.to_decimal() * rust_decimal::Decimal::ONE_HUNDRED).normalize()
    )
}

/// A hash-chained audit log opened for appending: an existing log is
/// verified first and continued; a tampered one is refused.
pub struct AuditFile {
    path: std::path::PathBuf,
    file: File,
    chain: AuditChain,
    before: u64,
    text: String,
}

impl AuditFile {
    /// Opens (or creates) the log at `path`.
    pub fn open(path: &Path) -> Result<AuditFile, CliError> {
        let name = path.display();
        let chain = match File::open(path) {
            Ok(f) => match audit::verify(io::BufReader::new(f), None) {
                Ok(v) => AuditChain::resume(v.records, v.head),
                Err(VerifyError::Tampered(t)) => {
                    return Err(CliError::new(format!(
                    "--audit `{name}`: the log was tampered with ({t}): refusing to append to it"
                )))
                }
                Err(VerifyError::CutShort(c)) => {
                    return Err(CliError::new(format!(
                        "--audit `{name}`: the log was {c}: refusing to append to it; to continue it, cut it back to its first {} bytes, its whole records (`truncate -s BYTES FILE`)",
                        c.valid_len
                    )))
                }
                Err(VerifyError::Io(e)) => {
                    return Err(CliError::new(format!("--audit: cannot read `{name}`: {e}")))
                }
                Err(e) => {
                    return Err(CliError::new(format!(
                        "--audit `{name}`: not verified ({e}): refusing to append to it"
                    )))
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => AuditChain::new(),
            Err(e) => return Err(CliError::new(format!("--audit: cannot read `{name}`: {e}"))),
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| CliError::new(format!("--audit: cannot write `{name}`: {e}")))?;
        Ok(AuditFile {
            path: path.to_path_buf(),
            file,
            before: chain.records(),
            chain,
            text: String::with_capacity(1 << 20),
        })
    }

    /// Appends one record per row of the chunk just evaluated.
    pub fn append(
        &mut self,
        policy: &Policy,
        stamp: &PolicyStamp,
        chunk: &Chunk,
        parsed: Option<&Parsed>,
        decisions: &[Decision],
    ) -> Result<(), CliError> {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        self.text.clear();
        for i in 0..chunk.len() {
            let sku = String::from_utf8_lossy(chunk.sku(i));
            let d = decisions.get(i).copied().unwrap_or_default();
            self.chain.push_record(
                policy,
                stamp,
                Some(&sku),
                parsed.and_then(|p| p.item(i)),
                &d,
                now_ms,
                &mut self.text,
            );
        }
        self.file
            .write_all(self.text.as_bytes())
            .map_err(|e| CliError::new(format!("cannot write `{}`: {e}", self.path.display())))
    }

    /// Flushes the log to disk; the summary line naming the new head.
    pub fn finish(self) -> Result<String, CliError> {
        self.file
            .sync_all()
            .map_err(|e| CliError::new(format!("cannot write `{}`: {e}", self.path.display())))?;
        Ok(format!(
            "  audit:         {} records appended to `{}` ({} in all), head {}\n",
            self.chain.records() - self.before,
            self.path.display(),
            self.chain.records(),
            audit::to_hex(&self.chain.head())
        ))
    }
}
