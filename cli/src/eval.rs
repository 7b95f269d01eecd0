//! Evaluating a stream chunk by chunk: rows become items the one shared way
//! (`Policy::set_field_text`), chunks go through `evaluate_batch_with` so
//! promotion budgets are consumed in input order across the whole file,
//! and the circuit breaker judges each chunk.

use priceguard::metrics::Metrics;
use priceguard::rules::RULE_COUNT;
use priceguard::{
    BatchSummary, Budgets, Decision, Field, GroupRow, GroupScratch, GroupSummary, Item, LadderNote,
    Outcome, Policy, Reason, Rule, RuleSet,
};

use std::collections::HashMap;
use std::sync::mpsc;

use priceguard::history::History;

use crate::read::{Chunk, RowError, RowReader};
use crate::CliError;

/// Rows per chunk unless `--chunk-size` says otherwise.
pub const DEFAULT_CHUNK: usize = 8192;

/// Running totals over a whole file.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Rows evaluated.
    pub rows: u64,
    /// Decisions per outcome, indexed by `Outcome as usize`.
    pub outcomes: [u64; 4],
    /// Rows rejected as `invalid_input`.
    pub invalid: u64,
    /// Rows per violated rule, indexed by rule code.
    pub violated: [u64; RULE_COUNT],
    /// Rows per binding rule, indexed by rule code.
    pub binding: [u64; RULE_COUNT],
    /// Rows per relaxed class, indexed by class.
    pub relaxed: [u64; 5],
    /// Rows per primary reason code (held and rejected).
    pub reasons: Vec<(Reason, u64)>,
    /// Rows flagged `needs_approval`.
    pub needs_approval: u64,
    /// Chunks evaluated.
    pub chunks: u64,
    /// Chunks in which the circuit breaker tripped.
    pub chunks_tripped: u64,
    /// Rows held because their chunk's breaker tripped.
    pub rows_tripped: u64,
    /// What the group pass did, summed over the chunks.
    pub groups: GroupSummary,
}

impl Stats {
    fn add(&mut self, summary: &BatchSummary, out: &[Decision]) {
        self.rows += summary.items;
        self.chunks += 1;
        if summary.breaker_tripped {
            self.chunks_tripped += 1;
        }
        for d in out {
            if let Some(c) = self.outcomes.get_mut(d.outcome as usize) {
                *c += 1;
            }
            match d.reason {
                Reason::InvalidInput => self.invalid += 1,
                Reason::CircuitOpen => self.rows_tripped += 1,
                _ => {}
            }
            if matches!(d.outcome, Outcome::Held | Outcome::Rejected) {
                match self.reasons.iter_mut().find(|(r, _)| *r == d.reason) {
                    Some((_, n)) => *n += 1,
                    None => self.reasons.push((d.reason, 1)),
                }
            }
            count_rules(&mut self.violated, d.violated);
            count_rules(&mut self.binding, d.binding);
            if !d.relaxed.is_empty() {
                for c in d.relaxed.iter() {
                    if let Some(n) = self.relaxed.get_mut(c as usize) {
                        *n += 1;
                    }
                }
            }
            if d.needs_approval {
                self.needs_approval += 1;
            }
        }
    }
}

/// Adds one to the count of every rule in `set` (by code, as iterating the
/// set does: bits without a rule, such as custom rules, are not counted).
fn count_rules(counts: &mut [u64; RULE_COUNT], set: RuleSet) {
    let mut bits = set.bits();
    while bits != 0 {
        let code = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        if u8::try_from(code).ok().and_then(Rule::from_code).is_none() {
            continue;
        }
        if let Some(c) = counts.get_mut(code) {
            *c += 1;
        }
    }
}

/// One policy evaluating a stream: its budgets carry over from chunk to
/// chunk.
pub struct Evaluator<'p> {
    policy: &'p Policy,
    metrics: Option<&'p Metrics>,
    budgets: Budgets,
    out: Vec<Decision>,
    scratch: Vec<GroupScratch>,
    notes: Vec<Option<LadderNote>>,
    /// Totals so far.
    pub stats: Stats,
}

/// The items of one chunk read for one policy, and the rows that could
/// not be read.
#[derive(Debug, Default)]
pub struct Parsed {
    items: Vec<Item>,
    errors: Vec<Option<RowError>>,
}

impl Parsed {
    /// Forgets every row, keeping the buffers.
    pub fn clear(&mut self) {
        self.items.clear();
        self.errors.clear();
    }

    /// The item read from row `i`; `None` when the row could not be read.
    pub fn item(&self, i: usize) -> Option<&Item> {
        match self.errors.get(i) {
            Some(None) => self.items.get(i),
            _ => None,
        }
    }

    /// Reads row `i` of `chunk` for `policy` (money in its currency,
    /// campaigns resolved against its budgets), `now` filled in when the
    /// row has none.
    pub fn push(&mut self, chunk: &Chunk, i: usize, policy: &Policy, now: Option<i64>) {
        match chunk.item(i, policy, now) {
            Ok(item) => {
                self.items.push(item);
                self.errors.push(None);
            }
            Err(e) => {
                // A placeholder the engine itself rejects (proposed 0), so
                // the row counts in the batch like any invalid item and
                // spends nothing; its decision is replaced after the batch.
                self.items.push(Item::new(0));
                self.errors.push(Some(e));
            }
        }
    }
}

impl Parsed {
    /// Fills every readable row's history fields from `history` at the
    /// row's `now` (`check --history`): `last_change_at`,
    /// `changes_in_window`, `window_anchor_price`, `competitor_price`. A
    /// row without `now`, or one that carries a field the history also
    /// gives, becomes `invalid_input` naming the field: two sources for
    /// one value are refused rather than one picked.
    pub fn apply_history(&mut self, chunk: &Chunk, history: &History) {
        for i in 0..chunk.len() {
            let (Some(item), Some(None)) = (self.items.get_mut(i), self.errors.get(i)) else {
                continue;
            };
            let sku = String::from_utf8_lossy(chunk.sku(i));
            if let Err(e) = fill_history(item, &sku, history) {
                *item = Item::new(0);
                if let Some(slot) = self.errors.get_mut(i) {
                    *slot = Some(e);
                }
            }
        }
    }
}

fn fill_history(item: &mut Item, sku: &str, history: &History) -> Result<(), RowError> {
    let fail = |field: Field, message: &str| RowError {
        field: Some(field),
        message: format!("{field}: {message}"),
    };
    let Some(now) = item.get(Field::Now) else {
        return Err(fail(
            Field::Now,
            "is needed to read the history (--history): give the column or --now",
        ));
    };
    let summary = history
        .summary(sku, now)
        .map_err(|e| fail(Field::Now, &e.to_string()))?;
    let Some(s) = summary else { return Ok(()) };
    let count = |c: Option<u64>| c.and_then(|c| i64::try_from(c).ok());
    // A row on promotion whose history shows none in force starts its
    // promotion now, with this proposal (docs/spec.md H11): without it
    // `promo_spell` would read the start as unknown and refuse a discount.
    let started = s.promo_started_at.or_else(|| {
        (item.get(Field::ReferencePrice).is_some() && item.get(Field::PromoStartedAt).is_none())
            .then_some(now)
    });
    let counts = [
        (Field::LastChangeAt, s.last_change_at),
        (Field::ChangesInWindow, count(s.changes_in_window)),
        (Field::PromoStartedAt, started),
        (Field::LastPromoEndedAt, s.last_promo_ended_at),
        (Field::ReversalsInWindow, count(s.reversals_in_window)),
        (Field::CompetitorQuotes, count(s.competitor_quotes)),
    ];
    let money = [
        (Field::WindowAnchorPrice, s.window_anchor_price),
        (Field::CompetitorPrice, s.competitor_price),
        (Field::PriorLowPrice, s.prior_low_price),
    ];
    for (field, v) in counts {
        if let Some(v) = v {
            if item.get(field).is_some() {
                return Err(fail(field, "is given by both the row and --history"));
            }
            item.set(field, v);
        }
    }
    for (field, v) in money {
        if let Some(v) = v {
            if item.get(field).is_some() {
                return Err(fail(field, "is given by both the row and --history"));
            }
            item.set_amount(field, v)
                .map_err(|f| fail(f, "does not fit beside the history's finer digits"))?;
        }
    }
    Ok(())
}

/// A chunk on its way through the pipeline: the rows as read, and their
/// items for each policy.
pub struct Work {
    /// The rows.
    pub chunk: Chunk,
    /// One per policy, in the order the policies were given.
    pub parsed: Vec<Parsed>,
    /// Input bytes consumed after this chunk (for progress).
    pub bytes: u64,
    /// Decisions handed from a middle stage to the last one (see
    /// [`Evaluator::move_decisions`]).
    pub decisions: Vec<Decision>,
    /// Error messages of the rows rejected as `invalid_input`, by row
    /// index in increasing order, handed on like `decisions`.
    pub notes: Vec<(usize, String)>,
    /// Each row's place in its group (`None` for a row decided alone),
    /// group ids dense within the chunk.
    pub groups: Vec<Option<GroupRow>>,
    /// Whether any row of the chunk names a group.
    pub grouped: bool,
    /// The group pass's notes, one slot per row, for explaining moved
    /// rows (filled by a middle stage that keeps them).
    pub ladder: Vec<Option<LadderNote>>,
}

/// Chunks in flight: one being read, one being evaluated, one spare.
const IN_FLIGHT: usize = 3;

/// Chunks in flight in [`pipeline_staged`]: one per stage and one spare.
const IN_FLIGHT_STAGED: usize = 4;

/// Fresh chunks for `reader`, sent to `free_tx`.
fn fill_free(
    reader: &RowReader,
    policies: &[&Policy],
    n: usize,
    free_tx: &mpsc::SyncSender<Work>,
) -> Result<(), CliError> {
    for _ in 0..n {
        let work = Work {
            chunk: reader.new_chunk(),
            parsed: policies.iter().map(|_| Parsed::default()).collect(),
            bytes: 0,
            decisions: Vec::new(),
            notes: Vec::new(),
            groups: Vec::new(),
            grouped: false,
            ladder: Vec::new(),
        };
        free_tx
            .send(work)
            .map_err(|_| CliError::new("internal error: pipeline closed"))?;
    }
    Ok(())
}

/// Where the reader stands in the file's groups: a chunk never ends
/// inside a group, and a group met again after another row is refused.
#[derive(Default)]
struct Groups {
    /// The group of the last row read (`None`: it named none).
    open: Option<Vec<u8>>,
    /// Every group seen, with the line of its first row. Memory grows
    /// with the number of groups (their names), not with their rows.
    seen: HashMap<Vec<u8>, u64>,
    /// Groups started in the current chunk (the next dense id).
    in_chunk: u32,
}

impl Groups {
    /// Places row `i` of `work`'s chunk in its group.
    fn place(&mut self, work: &mut Work, i: usize) -> Result<(), CliError> {
        let chunk = &work.chunk;
        if chunk.unreadable(i) {
            // Rejected alone; neither opens nor closes a group, so a bad
            // line inside a group does not refuse the file.
            work.groups.push(None);
            return Ok(());
        }
        let Some(g) = chunk.group(i) else {
            self.open = None;
            work.groups.push(None);
            return Ok(());
        };
        if self.open.as_deref() != Some(g) {
            let line = chunk.line(i);
            if let Some(first) = self.seen.get(g) {
                return Err(CliError::new(format!(
                    "group `{}` at line {line} appeared before (line {first}) and is not contiguous: the rows of a group must be next to each other; sort the file by group",
                    String::from_utf8_lossy(g)
                )));
            }
            self.seen.insert(g.to_vec(), line);
            self.open = Some(g.to_vec());
            self.in_chunk += 1;
        } else if self.in_chunk == 0 {
            // The reader never ends a chunk inside a group; if it did,
            // refuse rather than decide half a ladder.
            return Err(CliError::new(format!(
                "internal error: group `{}` split across chunks",
                String::from_utf8_lossy(g)
            )));
        }
        let id = self.in_chunk - 1;
        // A rank or pack size that cannot be read refuses the row alone
        // (its item error) and its whole group: the ladder cannot be
        // checked without it (fail closed).
        let row = match chunk.rank(i) {
            Ok(Some(r)) => GroupRow::new(id, r),
            _ => GroupRow::unranked(id),
        };
        let row = match chunk.pack_size(i) {
            Ok(None) => row,
            Ok(Some(p)) => row.with_pack_size(p),
            // 0 is outside the pack sizes the pass accepts: the group is
            // refused naming `pack_size`.
            Err(_) => row.with_pack_size(0),
        };
        work.groups.push(Some(row));
        work.grouped = true;
        Ok(())
    }

    /// Whether row `i` of `chunk` may not start a new chunk: a group is
    /// open and the row goes on with it (or cannot be read, and so cannot
    /// close it).
    fn continues(&self, chunk: &Chunk, i: usize) -> bool {
        self.open
            .as_deref()
            .is_some_and(|open| chunk.unreadable(i) || chunk.group(i) == Some(open))
    }
}

/// The reading stage: fills each free chunk with rows read into items and
/// sends it on, until the input ends or the next stage is gone. A chunk
/// past `chunk_size` rows goes on while its rows continue the group of its
/// last row, so a group is never cut at a chunk boundary: the first row of
/// the next group is held back for the next chunk.
fn produce(
    mut reader: RowReader,
    policies: &[&Policy],
    now: Option<i64>,
    chunk_size: usize,
    free_rx: mpsc::Receiver<Work>,
    full_tx: mpsc::SyncSender<Work>,
) -> Result<(), CliError> {
    let mut groups = Groups::default();
    let mut held = reader.new_chunk();
    while let Ok(mut work) = free_rx.recv() {
        work.chunk.clear();
        work.parsed.iter_mut().for_each(Parsed::clear);
        work.groups.clear();
        work.grouped = false;
        groups.in_chunk = 0;
        let take = |work: &mut Work, groups: &mut Groups| -> Result<(), CliError> {
            let i = work.chunk.len() - 1;
            groups.place(work, i)?;
            // Each row is read into items at once, while it is in cache.
            for (parsed, policy) in work.parsed.iter_mut().zip(policies) {
                parsed.push(&work.chunk, i, policy, now);
            }
            Ok(())
        };
        if !held.is_empty() {
            held.move_last_to(&mut work.chunk);
            take(&mut work, &mut groups)?;
        }
        loop {
            let full = work.chunk.len() >= chunk_size;
            // A full chunk with no group open ends here.
            if full && groups.open.is_none() {
                break;
            }
            if !reader.read_row(&mut work.chunk)? {
                break;
            }
            let i = work.chunk.len() - 1;
            if full && !groups.continues(&work.chunk, i) {
                work.chunk.move_last_to(&mut held);
                break;
            }
            take(&mut work, &mut groups)?;
        }
        if work.chunk.is_empty() {
            break;
        }
        work.bytes = reader.bytes_read();
        if full_tx.send(work).is_err() {
            break;
        }
    }
    Ok(())
}

/// Streams `reader` through `consume`, chunk by chunk, in input order.
/// Reading and parsing run on a second thread while the caller's thread
/// evaluates and writes; at most `IN_FLIGHT` chunks exist, so memory
/// stays flat whatever the file size.
pub fn pipeline(
    reader: RowReader,
    policies: &[&Policy],
    now: Option<i64>,
    chunk_size: usize,
    mut consume: impl FnMut(&Work) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let (free_tx, free_rx) = mpsc::sync_channel::<Work>(IN_FLIGHT);
    let (full_tx, full_rx) = mpsc::sync_channel::<Work>(IN_FLIGHT);
    fill_free(&reader, policies, IN_FLIGHT, &free_tx)?;
    std::thread::scope(|scope| {
        let producer =
            scope.spawn(move || produce(reader, policies, now, chunk_size, free_rx, full_tx));
        let mut result = Ok(());
        for work in full_rx.iter() {
            if let Err(e) = consume(&work) {
                result = Err(e);
                break;
            }
            // The producer may have finished: a spare chunk is then dropped.
            let _ = free_tx.send(work);
        }
        drop(full_rx);
        drop(free_tx);
        let produced = producer
            .join()
            .unwrap_or_else(|_| Err(CliError::new("internal error: the reader thread stopped")));
        result.and(produced)
    })
}

/// Like [`pipeline`] with three stages on three threads: reading and
/// parsing, then `middle` (evaluation, in input order), then `last` on the
/// caller's thread (formatting and writing, in input order). Each stage
/// works on its own chunk, so the work of a chunk spreads over the cores;
/// at most `IN_FLIGHT_STAGED` chunks exist.
pub fn pipeline_staged(
    reader: RowReader,
    policies: &[&Policy],
    now: Option<i64>,
    chunk_size: usize,
    mut middle: impl FnMut(&mut Work) -> Result<(), CliError> + Send,
    mut last: impl FnMut(&Work) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let (free_tx, free_rx) = mpsc::sync_channel::<Work>(IN_FLIGHT_STAGED);
    let (full_tx, full_rx) = mpsc::sync_channel::<Work>(IN_FLIGHT_STAGED);
    let (done_tx, done_rx) = mpsc::sync_channel::<Work>(IN_FLIGHT_STAGED);
    fill_free(&reader, policies, IN_FLIGHT_STAGED, &free_tx)?;
    std::thread::scope(|scope| {
        let producer =
            scope.spawn(move || produce(reader, policies, now, chunk_size, free_rx, full_tx));
        let evaluator = scope.spawn(move || -> Result<(), CliError> {
            for mut work in full_rx.iter() {
                middle(&mut work)?;
                if done_tx.send(work).is_err() {
                    break;
                }
            }
            Ok(())
        });
        let mut result = Ok(());
        for work in done_rx.iter() {
            if let Err(e) = last(&work) {
                result = Err(e);
                break;
            }
            // The producer may have finished: a spare chunk is then dropped.
            let _ = free_tx.send(work);
        }
        drop(done_rx);
        drop(free_tx);
        let evaluated = evaluator.join().unwrap_or_else(|_| {
            Err(CliError::new(
                "internal error: the evaluation thread stopped",
            ))
        });
        let produced = producer
            .join()
            .unwrap_or_else(|_| Err(CliError::new("internal error: the reader thread stopped")));
        result.and(evaluated).and(produced)
    })
}

impl<'p> Evaluator<'p> {
    /// A fresh evaluator: every campaign starts from its full budget.
    pub fn new(policy: &'p Policy) -> Evaluator<'p> {
        Evaluator {
            policy,
            metrics: None,
            budgets: Budgets::new(policy),
            out: Vec::new(),
            scratch: Vec::new(),
            notes: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// Counts every decision (and each chunk as a batch) in `metrics`.
    pub fn with_metrics(mut self, metrics: &'p Metrics) -> Evaluator<'p> {
        self.metrics = Some(metrics);
        self
    }

    /// The policy.
    pub fn policy(&self) -> &'p Policy {
        self.policy
    }

    /// Remaining budgets.
    pub fn budgets(&self) -> &Budgets {
        &self.budgets
    }

    /// Evaluates the rows of one chunk, read for this policy, as one batch;
    /// with `groups` (one per row), the group pass runs over the decisions
    /// (docs/spec.md §10).
    pub fn run(
        &mut self,
        parsed: &Parsed,
        groups: Option<&[Option<GroupRow>]>,
    ) -> Result<(), CliError> {
        self.out.clear();
        self.out.resize(parsed.items.len(), Decision::default());
        self.notes.clear();
        let summary = match groups {
            None => self
                .policy
                .evaluate_batch_with(&parsed.items, &mut self.out, &mut self.budgets)
                .map_err(|e| CliError::new(format!("internal error: {e}")))?,
            Some(groups) => {
                let need = groups.iter().filter(|g| g.is_some()).count();
                self.scratch.resize(need, GroupScratch::default());
                self.notes.resize(parsed.items.len(), None);
                // A row that could not be read is a placeholder the engine
                // rejects alone, so it leaves its group's chain.
                let (summary, g) = self
                    .policy
                    .evaluate_batch_grouped_with(
                        &parsed.items,
                        groups,
                        &mut self.out,
                        &mut self.budgets,
                        &mut self.scratch,
                        Some(&mut self.notes),
                    )
                    .map_err(|e| CliError::new(format!("internal error: {e}")))?;
                let t = &mut self.stats.groups;
                t.groups += g.groups;
                t.adjusted += g.adjusted;
                t.held += g.held;
                t.invalid += g.invalid;
                t.moved += g.moved;
                summary
            }
        };
        for (d, e) in self.out.iter_mut().zip(&parsed.errors) {
            if let Some(e) = e {
                *d = match e.field {
                    Some(f) => Decision::invalid(f),
                    None => Decision::rejected(Reason::InvalidInput),
                };
            }
        }
        self.stats.add(&summary, &self.out);
        if let Some(m) = self.metrics {
            for d in &self.out {
                m.record(d);
            }
            m.record_batch(summary.breaker_tripped);
        }
        Ok(())
    }

    /// Hands the decisions of the last chunk to `into` (for a later
    /// pipeline stage), taking its buffer in exchange; [`Evaluator::decision`]
    /// and [`Evaluator::error`] no longer see them.
    pub fn move_decisions(&mut self, into: &mut Vec<Decision>) {
        std::mem::swap(&mut self.out, into);
        self.out.clear();
    }

    /// Hands the group pass's notes of the last chunk (one per row, empty
    /// when it had no groups) to `into`, as [`Evaluator::move_decisions`].
    pub fn move_ladder_notes(&mut self, into: &mut Vec<Option<LadderNote>>) {
        std::mem::swap(&mut self.notes, into);
        self.notes.clear();
    }

    /// The decision for row `i` of the last chunk.
    pub fn decision(&self, i: usize) -> Decision {
        self.out.get(i).copied().unwrap_or_default()
    }

    /// The error message of row `i` of the last chunk, when it was
    /// rejected as `invalid_input`.
    pub fn error(&self, chunk: &Chunk, parsed: &Parsed, i: usize) -> Option<String> {
        if let Some(Some(e)) = parsed.errors.get(i) {
            return Some(e.message.clone());
        }
        let d = self.out.get(i)?;
        if d.reason != Reason::InvalidInput {
            return None;
        }
        let field = d.invalid_field?;
        if let (Field::Rank | Field::PackSize, Some(g)) = (field, chunk.group(i)) {
            return Some(group_invalid_message(
                field,
                g,
                chunk.rank(i).ok().flatten(),
            ));
        }
        let item = parsed.items.get(i)?;
        Some(engine_invalid_message(
            self.policy,
            field,
            chunk.raw_text(i, field),
            item,
        ))
    }
}

/// Why the group pass refused a whole group (a member that could itself
/// be read): the group's ranks or pack sizes cannot give a ladder.
fn group_invalid_message(field: Field, group: &[u8], rank: Option<i64>) -> String {
    let g = String::from_utf8_lossy(group);
    match (field, rank) {
        (Field::Rank, None) => {
            format!("rank: missing; every row of group `{g}` needs a rank, so the group is refused whole")
        }
        (Field::Rank, Some(r)) => format!(
            "rank: group `{g}` has a missing, unreadable or repeated rank (this row's is {r}), so the group is refused whole"
        ),
        _ => format!(
            "{field}: group `{g}` has a pack size that cannot be used (whole units from 1 to 1000000), so the group is refused whole"
        ),
    }
}

/// Why the engine refused a value that parsed: names the field and the
/// text as written (or, without one, the value: money exactly at the
/// item's scale), then the reason in the words every interface uses
/// ([`priceguard::invalid_reason`]).
pub fn engine_invalid_message(
    policy: &Policy,
    field: Field,
    raw: Option<String>,
    item: &Item,
) -> String {
    let text = raw.unwrap_or_else(|| match item.amount(field) {
        Some(a) => policy.currency().format_amount(a).to_string(),
        None => item.get(field).unwrap_or(0).to_string(),
    });
    let why = priceguard::invalid_reason(field, item);
    format!("{field}: `{text}` {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_counts_are_those_of_iterating_the_set() {
        for bits in [
            0,
            1,
            0b1011,
            (1 << 21) | 1,
            u64::MAX,
            0xFFFF_FFFF_0000_0000,
            1 << 40,
        ] {
            let set = RuleSet(bits);
            let mut want = [0u64; RULE_COUNT];
            for r in set {
                want[r as usize] += 1;
            }
            let mut got = [0u64; RULE_COUNT];
            count_rules(&mut got, set);
            assert_eq!(got, want, "{bits:#x}");
        }
    }
}
