//! `priceguard diff`: shadow mode. The same proposals under the live and a
//! candidate policy, each with its own budgets and breaker, compared row by
//! row.

use std::fmt::Write as _;

use priceguard::rules::RULE_COUNT;
use priceguard::{Decision, Outcome, Rule};

use crate::check::{ensure_distinct, flush_buf, top_rules};
use crate::eval::{pipeline, Evaluator};
use crate::format::Format;
use crate::output::{self, Output};
use crate::read::RowReader;
use crate::write::{money_text, push_diff_header, push_diff_row, DiffRow};
use crate::{load_policy, now_arg, CliError, DiffArgs};

/// One of the largest price moves.
#[derive(Clone, Debug)]
struct Move {
    sku: String,
    line: u64,
    live: i64,
    candidate: i64,
}

impl Move {
    fn size(&self) -> i128 {
        (i128::from(self.candidate) - i128::from(self.live)).abs()
    }
}

/// Totals of a diff run.
#[derive(Debug, Default)]
struct DiffStats {
    rows: u64,
    changed: u64,
    reasons_only: u64,
    transitions: [[u64; 4]; 4],
    starts_binding: [u64; RULE_COUNT],
    stops_binding: [u64; RULE_COUNT],
    both_priced: u64,
    delta_sum: i128,
    top: Vec<Move>,
}

const TOP: usize = 10;

impl DiffStats {
    fn add(
        &mut self,
        sku: &[u8],
        line: u64,
        live: &Decision,
        cand: &Decision,
    ) -> (bool, Option<i64>) {
        self.rows += 1;
        let changed = live.outcome != cand.outcome || live.price != cand.price;
        if changed {
            self.changed += 1;
        } else if live != cand {
            self.reasons_only += 1;
        }
        if let Some(row) = self.transitions.get_mut(live.outcome as usize) {
            if let Some(n) = row.get_mut(cand.outcome as usize) {
                *n += 1;
            }
        }
        for r in cand.binding.iter().filter(|r| !live.binding.contains(*r)) {
            if let Some(n) = self.starts_binding.get_mut(r as usize) {
                *n += 1;
            }
        }
        for r in live.binding.iter().filter(|r| !cand.binding.contains(*r)) {
            if let Some(n) = self.stops_binding.get_mut(r as usize) {
                *n += 1;
            }
        }
        let mut delta = None;
        if let (Some(a), Some(b)) = (live.price, cand.price) {
            self.both_priced += 1;
            let d = i128::from(b) - i128::from(a);
            self.delta_sum += d;
            delta = i64::try_from(d).ok();
            if d != 0 {
                let m = Move {
                    sku: String::from_utf8_lossy(sku).into_owned(),
                    line,
                    live: a,
                    candidate: b,
                };
                let smallest = self.top.iter().map(Move::size).min().unwrap_or(0);
                if self.top.len() < TOP || m.size() > smallest {
                    self.top.push(m);
                    self.top
                        .sort_by(|x, y| y.size().cmp(&x.size()).then(x.line.cmp(&y.line)));
                    self.top.truncate(TOP);
                }
            }
        }
        (changed, delta)
    }
}

/// Runs `diff`.
pub fn run(args: &DiffArgs) -> Result<(), CliError> {
    let live = load_policy(&args.policy)?;
    let cand = load_policy(&args.candidate)?;
    if live.currency() != cand.currency() {
        return Err(CliError::new(format!(
            "policy `{}` is in {} but candidate `{}` is in {}: prices cannot be compared",
            args.policy.display(),
            live.currency(),
            args.candidate.display(),
            cand.currency()
        )));
    }
    let now = now_arg(args.now)?;
    let in_format = Format::for_input(&args.input, args.format)?;
    let out_format = Format::for_output(args.output.as_deref(), args.format, in_format);
    let (reader, _) = RowReader::open(&args.input, in_format, args.max_line_bytes)?;
    ensure_distinct(&args.input, args.output.as_deref(), "--output")?;
    // The report goes to standard output: it must be open before any work.
    output::ensure_stdout_open()?;
    let mut out = match &args.output {
        Some(p) => Some(Output::open(Some(p))?),
        None => None,
    };
    let out_name = out
        .as_ref()
        .map_or_else(String::new, |o| o.name().to_string());
    let digits = live.currency().minor_units();

    let mut a = Evaluator::new(&live);
    let mut b = Evaluator::new(&cand);
    let mut stats = DiffStats::default();
    let mut buf = Vec::new();
    push_diff_header(&mut buf, out_format);
    pipeline(reader, &[&live, &cand], now, args.chunk_size, |work| {
        let (Some(pa), Some(pb)) = (work.parsed.first(), work.parsed.get(1)) else {
            return Err(CliError::new("internal error: no items read"));
        };
        let chunk = &work.chunk;
        let groups = work.grouped.then_some(work.groups.as_slice());
        a.run(pa, groups)?;
        b.run(pb, groups)?;
        for i in 0..chunk.len() {
            let (dl, dc) = (a.decision(i), b.decision(i));
            let (changed, delta) = stats.add(chunk.sku(i), chunk.line(i), &dl, &dc);
            if out.is_some() {
                let error = a.error(chunk, pa, i).or_else(|| b.error(chunk, pb, i));
                push_diff_row(
                    &mut buf,
                    out_format,
                    digits,
                    &DiffRow {
                        sku: chunk.sku(i),
                        line: chunk.line(i),
                        changed,
                        delta,
                        live: &dl,
                        candidate: &dc,
                        error: error.as_deref(),
                    },
                );
            }
        }
        if let Some(out) = out.as_mut() {
            flush_buf(out, &mut buf, &out_name)?;
        }
        Ok(())
    })?;
    if let Some(mut out) = out {
        flush_buf(&mut out, &mut buf, &out_name)?;
        out.commit()?;
    }
    let report = report(&stats, &a, &b, digits);
    output::write_stdout(report.as_bytes())
}

fn report(s: &DiffStats, a: &Evaluator<'_>, b: &Evaluator<'_>, digits: u8) -> String {
    let mut out = String::new();
    let (lp, cp) = (a.policy(), b.policy());
    let _ = writeln!(
        out,
        "priceguard diff: {} rows, live `{}` {} vs candidate `{}` {}",
        s.rows,
        lp.name(),
        lp.version(),
        cp.name(),
        cp.version()
    );
    let share = if s.rows > 0 {
        s.changed as f64 * 100.0 / s.rows as f64
    } else {
        0.0
    };
    let _ = writeln!(
        out,
        "  decisions that change (outcome or price): {} ({share:.1} %); only reasons or rules differ: {}",
        s.changed, s.reasons_only
    );
    let _ = writeln!(out, "  outcome changes (live -> candidate):");
    let mut any = false;
    for from in Outcome::ALL {
        for to in Outcome::ALL {
            let n = s
                .transitions
                .get(from as usize)
                .and_then(|r| r.get(to as usize))
                .copied()
                .unwrap_or(0);
            if from != to && n > 0 {
                any = true;
                let _ = writeln!(out, "    {from} -> {to}: {n}");
            }
        }
    }
    if !any {
        let _ = writeln!(out, "    none");
    }
    let list = |v: Vec<(Rule, u64)>| {
        if v.is_empty() {
            String::from("none")
        } else {
            v.iter()
                .map(|(r, n)| format!("{r} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let _ = writeln!(
        out,
        "  rules that start binding: {}",
        list(top_rules(&s.starts_binding, RULE_COUNT))
    );
    let _ = writeln!(
        out,
        "  rules that stop binding:  {}",
        list(top_rules(&s.stops_binding, RULE_COUNT))
    );
    let _ = writeln!(
        out,
        "  sum of price deltas (candidate - live) over {} rows priced by both: {}",
        s.both_priced,
        money_text(s.delta_sum, digits)
    );
    let _ = writeln!(out, "  largest price moves:");
    if s.top.is_empty() {
        let _ = writeln!(out, "    none");
    }
    for m in &s.top {
        let _ = writeln!(
            out,
            "    {} (line {}): {} -> {} ({}{})",
            m.sku,
            m.line,
            money_text(i128::from(m.live), digits),
            money_text(i128::from(m.candidate), digits),
            if m.candidate > m.live { "+" } else { "" },
            money_text(i128::from(m.candidate) - i128::from(m.live), digits)
        );
    }
    let _ = writeln!(
        out,
        "  breaker chunks tripped: live {} of {}, candidate {} of {}",
        a.stats.chunks_tripped, a.stats.chunks, b.stats.chunks_tripped, b.stats.chunks
    );
    out
}
