//! Runs a numpy batch with the GIL released: each worker converts its rows
//! chunk by chunk (`columns`) and has core decide them straight into its
//! range of the output arrays (`sink`); the workers, the cut of the batch
//! and what stays serial are core's scheduler's (`priceguard::schedule`).

use priceguard::batch::Columns;
use priceguard::binding::{DecisionRows, FloatColumns};
use priceguard::schedule::Schedule;
use priceguard::{
    BatchSummary, Budgets, Decision, DecisionSink, Field, GroupRow, GroupScratch, GroupSummary,
    Policy,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::amounts::{spec_rank, unify, MoneyCol};
use crate::columns::{convert, float_columns, float_range, ChunkColumn, Column, NO_BAD};
use crate::outbuf::Outputs;
use crate::stream;
use crate::writer::{Writer, BLOCK};

/// Items per chunk: the chunk's items and decisions stay in L2.
pub(crate) const CHUNK: usize = 1024;

/// The decisions of one chunk, written straight into the output arrays at
/// `at..`, with the field of a value that could not be read named.
struct ChunkSink<'s, 'a> {
    sink: &'s mut Writer<'a>,
    at: usize,
    bad: &'s [u8],
    /// Some row of the chunk has a value that cannot be read (else no
    /// block of rows needs checking).
    any_bad: bool,
}

impl DecisionSink for ChunkSink<'_, '_> {
    fn rows(&self) -> usize {
        self.bad.len()
    }

    #[inline(always)]
    fn put(&mut self, i: usize, decision: &Decision) {
        match self.bad.get(i) {
            Some(&b) if b != NO_BAD => {
                // Rejected in place as an invalid proposal (never counted by
                // the breaker, never spending budget); the field is named here.
                let mut d = *decision;
                d.invalid_field = Field::ALL.get(usize::from(b)).copied();
                self.sink.put(self.at + i, &d);
            }
            _ => self.sink.put(self.at + i, decision),
        }
    }

    #[inline]
    fn put_rows(&mut self, start: usize, rows: &DecisionRows) {
        let clean = !self.any_bad
            || self
                .bad
                .get(start..start + rows.len())
                .is_some_and(|b| b.iter().all(|b| *b == NO_BAD));
        if clean {
            self.sink.put_rows(self.at + start, rows);
        } else {
            for j in 0..rows.len() {
                self.put(start + j, &rows.decision(j));
            }
        }
    }
}

/// The float block path's [`DecisionSink`]: a range's rows, straight into
/// its [`Writer`].
struct RangeSink<'s, 'a> {
    sink: &'s mut Writer<'a>,
    rows: usize,
}

impl DecisionSink for RangeSink<'_, '_> {
    fn rows(&self) -> usize {
        self.rows
    }

    fn put(&mut self, i: usize, decision: &Decision) {
        self.sink.put(i, decision);
    }

    #[inline]
    fn put_rows(&mut self, start: usize, rows: &DecisionRows) {
        self.sink.put_rows(start, rows);
    }
}

/// Blocks the float path may miss before the rest of a range is
/// converted instead: a miss costs a block read twice and a small batch
/// through the conversion, so a range where many blocks need the rows
/// path goes the plain way.
#[inline]
fn too_many_misses(misses: usize, blocks: usize) -> bool {
    misses.saturating_mul(16) > blocks.saturating_add(64)
}

/// Evaluates items `start..start + len` (in chunks of `chunk`) into `sink`,
/// which covers exactly that range, consuming `budgets` in order.
///
/// With `float` (the batch's columns as the float block path reads them:
/// see [`float_columns`]), blocks of 64 rows are decided straight from the
/// caller's floats while they can be ([`Policy::evaluate_float_blocks`]),
/// and only a block that cannot be is converted and evaluated as below.
#[allow(clippy::too_many_arguments)]
fn run_range(
    policy: &Policy,
    cols: &[Column<'_>],
    float: Option<&FloatColumns<'_>>,
    start: usize,
    len: usize,
    chunk: usize,
    budgets: &mut Budgets,
    mut sink: Writer<'_>,
) -> Result<BatchSummary, priceguard::BatchError> {
    let cur = policy.currency();
    let chunk = chunk.min(len).max(1);
    let mut converted: Vec<ChunkColumn> = cols
        .iter()
        .map(|c| ChunkColumn::new(c.field, chunk))
        .collect();
    let mut bad = vec![NO_BAD; chunk];
    // Each row's scale, for a chunk with money finer than the minor unit.
    let mut row_scales: Vec<u8> = Vec::new();
    let mut summary = BatchSummary::default();
    let mut done = 0;
    let mut float = float.and_then(|f| float_range(f, start, len));
    let (mut blocks, mut misses) = (0usize, 0usize);
    while done < len {
        let mut k = (len - done).min(chunk);
        if let Some(fc) = &float {
            let mut out = RangeSink {
                sink: &mut sink,
                rows: len,
            };
            match policy.evaluate_float_blocks(fc, done, &mut out) {
                Some(b) => {
                    summary.merge(&b.summary);
                    done += b.rows;
                    blocks += b.rows / BLOCK;
                    if done >= len {
                        break;
                    }
                    // The block it stopped at (or the tail) through the
                    // conversion below.
                    misses += 1;
                    k = (len - done).min(BLOCK);
                    if too_many_misses(misses, blocks) {
                        float = None;
                    }
                }
                // No float path for this policy: whole chunks below.
                None => float = None,
            }
        }
        let Some(bad) = bad.get_mut(..k) else {
            break;
        };
        bad.fill(NO_BAD);
        for (col, out) in cols.iter().zip(converted.iter_mut()) {
            convert(col, cur, start + done, k, out, bad);
        }
        // Values finer than the minor unit: each row's money at one scale.
        let fine = converted.iter().any(|c| c.fine)
            && unify_chunk(&mut converted, &mut row_scales, k, bad);
        let Some(proposed_at) = converted
            .iter()
            .position(|c| c.field == Field::ProposedPrice)
        else {
            break;
        };
        // A row with a value that cannot be read goes to the engine as an
        // invalid proposal (zero), so it is rejected in place.
        //
        // An OR over every byte, with no early exit, so that it vectorises:
        // `any` compared a byte at a time (2.5 % of a one-thread profile).
        let any_bad = bad.iter().fold(0u8, |acc, b| acc | (b ^ NO_BAD)) != 0;
        if let Some(p) = converted.get_mut(proposed_at) {
            if any_bad {
                if let Some(src) = p.borrowed.take() {
                    p.vals.clear();
                    p.vals.extend_from_slice(src);
                }
                for (v, b) in p.vals.iter_mut().zip(bad.iter()) {
                    if *b != NO_BAD {
                        *v = 0;
                    }
                }
            }
        }
        let mut columns = match converted.get(proposed_at) {
            Some(p) => Columns::new(p.values()),
            None => break,
        };
        if fine {
            columns = columns
                .with_scales(row_scales.get(..k).unwrap_or(&[]))
                .map_err(|_| priceguard::BatchError::LengthMismatch {
                    items: k,
                    out: row_scales.len(),
                })?;
        }
        for c in converted.iter().filter(|c| c.field != Field::ProposedPrice) {
            let bits = (!c.full).then_some(c.bits.as_slice());
            columns = columns.with(c.field, c.values(), bits).map_err(|_| {
                priceguard::BatchError::LengthMismatch {
                    items: k,
                    out: c.values().len(),
                }
            })?;
        }
        let mut out = ChunkSink {
            sink: &mut sink,
            at: done,
            bad,
            any_bad,
        };
        let s = policy.evaluate_columns_into(&columns, &mut out, budgets)?;
        summary.merge(&s);
        done += k;
    }
    // Streaming stores (`Writer::put_rows_stream`) are weakly ordered: make
    // them visible before the range counts as done.
    stream::fence();
    Ok(summary)
}

/// Brings the money of each row of a converted chunk (`k` rows) to the
/// row's scale (`amounts::unify`), naming in `bad` a row whose value no
/// longer fits. `false` when every value is whole minor units after all.
fn unify_chunk(
    converted: &mut [ChunkColumn],
    rows: &mut Vec<u8>,
    k: usize,
    bad: &mut [u8],
) -> bool {
    // Values may change: a borrowed input is copied first (in chunks with
    // a finer value only).
    for c in converted.iter_mut().filter(|c| c.field.is_money()) {
        c.values_mut();
    }
    let mut money: Vec<MoneyCol<'_>> = Vec::new();
    for c in converted.iter_mut().filter(|c| c.field.is_money()) {
        money.push(MoneyCol {
            field: c.field,
            vals: c.vals.get_mut(..k).unwrap_or(&mut []),
            valid: (!c.full).then_some(c.bits.as_slice()),
            scales: c.fine.then_some(c.scales.as_slice()),
        });
    }
    unify(&mut money, rows, k, |r, f| {
        if let Some(b) = bad.get_mut(r) {
            let earlier = Field::ALL
                .get(usize::from(*b))
                .is_some_and(|old| spec_rank(*old) < spec_rank(f));
            if *b == NO_BAD || !earlier {
                *b = f as u8;
            }
        }
    })
}

/// Rows a worker takes at a time (32 chunks): pieces handed out as
/// workers free up rather than one range per thread, so that on a shared
/// machine a thread that loses its core for a while does not hold up the
/// batch while the other one idles.
const PIECE: usize = 32 * CHUNK;

/// Runs the batch on plain slices; no Python involved (the GIL is released).
///
/// Core's scheduler decides how: serial when rows draw on a campaign
/// budget (consumed in input order) or the policy has a circuit breaker
/// (then the whole batch is one chunk, which the breaker judges as a
/// whole); else pieces of the batch on several threads. The result is the
/// same as one pass.
pub(crate) fn run(
    policy: &Policy,
    n: usize,
    cols: &[Column<'_>],
    outs: &mut Outputs,
) -> PyResult<(BatchSummary, Budgets)> {
    let mut budgets = Budgets::new(policy);
    let whole = policy.breaker().is_some();
    let float = if whole { None } else { float_columns(cols) };
    let float = float.as_ref();
    let chunk = if whole { n } else { CHUNK };
    let draws_budgets =
        policy.campaign_count() > 0 && cols.iter().any(|c| c.field == Field::Campaign);
    let parts = Schedule::for_batch(policy, n, draws_budgets, PIECE)
        .run(
            n,
            &mut budgets,
            outs.sink(policy.currency()),
            |rows, sink, budgets| {
                run_range(
                    policy,
                    cols,
                    float,
                    rows.start,
                    rows.len(),
                    chunk,
                    budgets,
                    sink,
                )
            },
        )
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let mut summary = BatchSummary::default();
    for s in &parts {
        summary.merge(s);
    }
    Ok((summary, budgets))
}

/// Rows a grouped batch is decided in at a time, when its groups come in
/// order (each chunk then also holds whole groups, so it runs longer when
/// a group crosses the mark).
const GROUP_CHUNK: usize = 4 * CHUNK;

/// Runs a batch whose rows carry groups (docs/spec.md §10): every row is
/// decided alone, then core's group pass fits each group onto the policy's
/// ladder ([`Policy::evaluate_columns_grouped`]), on one thread, budgets
/// consumed in input order as always. When the groups come in order (as
/// ids interned by first appearance do for input whose groups are each
/// together) and no breaker judges the whole batch, the batch is decided
/// in chunks cut only between groups, each converted, decided and grouped
/// while in cache: the same decisions, as no group spans two chunks.
/// Otherwise it is converted and decided as one chunk. `extra_bad[i]`
/// names a group field of row `i` that cannot be read (`NO_BAD` for
/// none); such a row is rejected alone, like any row with a value that
/// cannot be read.
pub(crate) fn run_grouped(
    policy: &Policy,
    n: usize,
    cols: &[Column<'_>],
    rows: &[Option<GroupRow>],
    extra_bad: &[u8],
    outs: &mut Outputs,
) -> PyResult<(BatchSummary, GroupSummary, Budgets)> {
    let mut budgets = Budgets::new(policy);
    let mut summary = BatchSummary::default();
    let mut groups = GroupSummary::default();
    let ends = match policy.breaker() {
        None => group_chunks(rows, n),
        Some(_) => None,
    }
    .unwrap_or_else(|| vec![n]);
    let widest = ends
        .iter()
        .scan(0, |at, &end| {
            let k = end - *at;
            *at = end;
            Some(k)
        })
        .max()
        .unwrap_or(0);
    let mut work = GroupWork::new(cols, widest);
    let mut sink = outs.sink(policy.currency());
    let mut start = 0;
    for end in ends {
        let (Some(r), Some(b)) = (rows.get(start..end), extra_bad.get(start..end)) else {
            break;
        };
        let (s, g) = work.decide(policy, cols, start, r, b, &mut budgets, &mut sink)?;
        summary.merge(&s);
        groups.merge(&g);
        start = end;
    }
    stream::fence();
    Ok((summary, groups, budgets))
}

/// Where the chunks of a grouped batch end: about every `GROUP_CHUNK`
/// rows, moved on past the last row of the group the mark falls in. `None`
/// when the groups do not come in order of id (a group may then be
/// anywhere, and the batch is one chunk).
fn group_chunks(rows: &[Option<GroupRow>], n: usize) -> Option<Vec<usize>> {
    // Each group's last row, by id: one pass, so cutting costs O(n).
    let mut last: Vec<usize> = Vec::new();
    let mut prev = 0;
    for (i, r) in rows.iter().enumerate() {
        let Some(r) = r else { continue };
        if r.group < prev {
            return None;
        }
        prev = r.group;
        let g = r.group as usize;
        if g >= last.len() {
            if g > 2 * n + 1024 {
                // Ids far from dense: not what this door interns.
                return None;
            }
            last.resize(g + 1, 0);
        }
        if let Some(slot) = last.get_mut(g) {
            *slot = i;
        }
    }
    let mut ends = Vec::with_capacity(n / GROUP_CHUNK + 1);
    let mut start = 0;
    while start < n {
        let mut end = (start + GROUP_CHUNK).min(n);
        // The group of the last grouped row before the mark ends the chunk.
        let open = rows
            .get(start..end)
            .and_then(|c| c.iter().rev().flatten().next())
            .map(|r| r.group as usize);
        if let Some(g) = open.and_then(|g| last.get(g)) {
            end = end.max(g + 1).min(n);
        }
        ends.push(end);
        start = end;
    }
    Some(ends)
}

/// The buffers one chunk of a grouped batch is decided in, reused.
struct GroupWork<'a> {
    converted: Vec<ChunkColumn<'a>>,
    bad: Vec<u8>,
    row_scales: Vec<u8>,
    decisions: Vec<Decision>,
    scratch: Vec<GroupScratch>,
}

impl<'a> GroupWork<'a> {
    fn new(cols: &[Column<'a>], rows: usize) -> Self {
        GroupWork {
            converted: cols
                .iter()
                .map(|c| ChunkColumn::new(c.field, rows.max(1)))
                .collect(),
            bad: Vec::with_capacity(rows),
            row_scales: Vec::new(),
            decisions: Vec::with_capacity(rows),
            scratch: Vec::with_capacity(rows),
        }
    }

    /// Decides rows `start..start + rows.len()` alone and then their
    /// groups (all of which they hold whole), writing the decisions into
    /// `sink` at their rows.
    #[allow(clippy::too_many_arguments)]
    fn decide(
        &mut self,
        policy: &Policy,
        cols: &[Column<'a>],
        start: usize,
        rows: &[Option<GroupRow>],
        extra_bad: &[u8],
        budgets: &mut Budgets,
        sink: &mut Writer<'_>,
    ) -> PyResult<(BatchSummary, GroupSummary)> {
        let cur = policy.currency();
        let k = rows.len();
        self.bad.clear();
        self.bad.resize(k, NO_BAD);
        let bad = &mut self.bad;
        for (col, out) in cols.iter().zip(self.converted.iter_mut()) {
            convert(col, cur, start, k, out, bad);
        }
        let fine = self.converted.iter().any(|c| c.fine)
            && unify_chunk(&mut self.converted, &mut self.row_scales, k, bad);
        // A group field that cannot be read comes after every item field in
        // docs/spec.md §3 order, so it is named only when nothing else is.
        for (b, e) in bad.iter_mut().zip(extra_bad) {
            if *b == NO_BAD {
                *b = *e;
            }
        }
        let Some(proposed_at) = self
            .converted
            .iter()
            .position(|c| c.field == Field::ProposedPrice)
        else {
            return Err(PyValueError::new_err("`proposed_price` is required"));
        };
        // As in `run_range`: a row with a value that cannot be read goes to
        // the engine as an invalid proposal, so it is rejected alone (and
        // leaves its group's chain) before the group pass.
        if bad.iter().any(|b| *b != NO_BAD) {
            if let Some(p) = self.converted.get_mut(proposed_at) {
                if let Some(src) = p.borrowed.take() {
                    p.vals.clear();
                    p.vals.extend_from_slice(src);
                }
                for (v, b) in p.vals.iter_mut().zip(bad.iter()) {
                    if *b != NO_BAD {
                        *v = 0;
                    }
                }
            }
        }
        let len_err = |got: usize| PyValueError::new_err(format!("{got} values for {k} rows"));
        let mut columns = match self.converted.get(proposed_at) {
            Some(p) => Columns::new(p.values()),
            None => return Err(PyValueError::new_err("`proposed_price` is required")),
        };
        if fine {
            columns = columns
                .with_scales(self.row_scales.get(..k).unwrap_or(&[]))
                .map_err(|_| len_err(self.row_scales.len()))?;
        }
        for c in self
            .converted
            .iter()
            .filter(|c| c.field != Field::ProposedPrice)
        {
            let bits = (!c.full).then_some(c.bits.as_slice());
            columns = columns
                .with(c.field, c.values(), bits)
                .map_err(|_| len_err(c.values().len()))?;
        }
        self.decisions.clear();
        self.decisions
            .resize(k, Decision::invalid(Field::ProposedPrice));
        self.scratch.clear();
        self.scratch.resize(
            rows.iter().filter(|r| r.is_some()).count(),
            GroupScratch::default(),
        );
        let (summary, groups) = policy
            .evaluate_columns_grouped(
                &columns,
                rows,
                &mut self.decisions,
                budgets,
                &mut self.scratch,
                None,
            )
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        for (i, (d, b)) in self.decisions.iter_mut().zip(bad.iter()).enumerate() {
            if *b != NO_BAD {
                // Rejected alone, so the group pass left it as it was: name
                // the field here, as `ChunkSink` does.
                d.invalid_field = Field::ALL.get(usize::from(*b)).copied();
            }
            sink.put(start + i, d);
        }
        Ok((summary, groups))
    }
}
