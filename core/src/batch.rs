//! Batches: decisions into a caller buffer, budgets consumed in input
//! order, and the circuit breaker (docs/spec.md §7).

pub use crate::budgets::Budgets;
use crate::columns::{gather, Column};
pub use crate::columns::{Columns, ColumnsError};
use crate::decision::{Decision, Outcome, Reason};
use crate::group::{
    resolve_groups, GroupError, GroupRow, GroupScratch, GroupSummary, LadderNote, Member,
};
use crate::item::{Field, Item};
use crate::kernel::{Emit, Kernel};
use crate::lanes::DecisionRows;
use crate::policy::Policy;
use crate::rules::HARD_OR_FINANCIAL;
#[cfg(feature = "parallel")]
use crate::schedule::Schedule;
#[cfg(feature = "parallel")]
use std::vec::Vec;

/// What a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchSummary {
    /// Items evaluated.
    pub items: u64,
    /// Decisions per outcome, indexed by `Outcome as usize`.
    pub outcomes: [u64; 4],
    /// Items whose proposal violated a hard or financial rule.
    pub violators: u64,
    /// Items with at least one relaxed class.
    pub relaxed: u64,
    /// Items flagged `needs_approval`.
    pub needs_approval: u64,
    /// The circuit breaker tripped: every item was held.
    pub breaker_tripped: bool,
}

impl BatchSummary {
    /// Number of decisions with `outcome`.
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.outcomes.get(outcome as usize).copied().unwrap_or(0)
    }

    /// Adds another batch's counts (the breaker flag is or-ed).
    pub fn merge(&mut self, other: &BatchSummary) {
        self.items += other.items;
        for (a, b) in self.outcomes.iter_mut().zip(other.outcomes) {
            *a += b;
        }
        self.violators += other.violators;
        self.relaxed += other.relaxed;
        self.needs_approval += other.needs_approval;
        self.breaker_tripped |= other.breaker_tripped;
    }
}

/// A batch that cannot run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The output buffer's length differs from the input's.
    #[error("output holds {out} decisions but the batch has {items} items")]
    LengthMismatch {
        /// Items given.
        items: usize,
        /// Output slots given.
        out: usize,
    },
}

impl Policy {
    /// Evaluates one item against explicit remaining budgets.
    #[inline]
    pub fn evaluate_with_budgets(&self, item: &Item, budgets: &Budgets) -> Decision {
        crate::engine::evaluate_rules(
            self.rules_for(item.segment()),
            item,
            self.budget_view(item, Some(budgets.as_slice())),
        )
    }
}

impl Policy {
    /// Evaluates `items` into `out` in input order, each campaign starting
    /// from its full budget. See [`Policy::evaluate_batch_with`].
    pub fn evaluate_batch(
        &self,
        items: &[Item],
        out: &mut [Decision],
    ) -> Result<BatchSummary, BatchError> {
        let mut budgets = Budgets::new(self);
        self.evaluate_batch_with(items, out, &mut budgets)
    }

    /// Evaluates `items` into `out` in input order. Accepted and adjusted
    /// promotion items consume `budgets` in that order, so the batch never
    /// spends more than a campaign holds. When the breaker trips, every
    /// valid item is held at its current price (`circuit_open`) and no
    /// budget is consumed. Allocates nothing.
    pub fn evaluate_batch_with(
        &self,
        items: &[Item],
        out: &mut [Decision],
        budgets: &mut Budgets,
    ) -> Result<BatchSummary, BatchError> {
        if items.len() != out.len() {
            return Err(BatchError::LengthMismatch {
                items: items.len(),
                out: out.len(),
            });
        }
        let before = budgets.clone();
        let mut tally = Tally::default();
        let has_budgets = self.campaign_count() > 0;
        for (item, slot) in items.iter().zip(out.iter_mut()) {
            let d = if has_budgets && item.campaign().is_some() {
                let d = self.evaluate_with_budgets(item, budgets);
                budgets.consume(item, &d);
                d
            } else {
                self.evaluate(item)
            };
            tally.add(&d);
            *slot = d;
        }
        Ok(self.finish(tally, out, budgets, before, |i| {
            items.get(i).and_then(Item::current_price_minor)
        }))
    }

    /// The breaker over the whole batch (docs/spec.md §7), then the summary. When
    /// it trips, every valid item is held at its current price
    /// (`current_of(i)`), keeping its `violated`, and budgets are restored.
    fn finish(
        &self,
        tally: Tally,
        out: &mut [Decision],
        budgets: &mut Budgets,
        before: Budgets,
        current_of: impl Fn(usize) -> Option<i64>,
    ) -> BatchSummary {
        let mut summary = tally.summary(out.len());
        if let Some(breaker) = self.breaker() {
            if breaker.trips(summary.violators, summary.items) {
                summary.breaker_tripped = true;
                *budgets = before;
                let mut again = Tally::default();
                for (i, slot) in out.iter_mut().enumerate() {
                    *slot = circuit_open(slot, || current_of(i));
                    again.add(slot);
                }
                summary.outcomes = again.outcomes;
                summary.relaxed = again.relaxed;
                summary.needs_approval = again.needs_approval;
            }
        }
        summary
    }
}

/// What the tripped breaker makes of a decision: a valid item is held at
/// its current price (rejected when new) with reason `circuit_open`,
/// keeping its `violated`; an invalid one stays as it is (B2).
fn circuit_open(d: &Decision, current: impl FnOnce() -> Option<i64>) -> Decision {
    if d.reason == Reason::InvalidInput {
        return *d;
    }
    let mut held = Decision::hold_or_reject(current(), Reason::CircuitOpen);
    held.violated = d.violated;
    held
}

/// Per-decision counts, gathered as decisions are made.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    outcomes: [u64; 4],
    violators: u64,
    relaxed: u64,
    needs_approval: u64,
}

impl Tally {
    /// The summary of a batch of `items` with these counts.
    fn summary(&self, items: usize) -> BatchSummary {
        BatchSummary {
            items: items as u64,
            outcomes: self.outcomes,
            violators: self.violators,
            relaxed: self.relaxed,
            needs_approval: self.needs_approval,
            breaker_tripped: false,
        }
    }

    #[inline(always)]
    fn add(&mut self, d: &Decision) {
        if let Some(c) = self.outcomes.get_mut(d.outcome as usize) {
            *c += 1;
        }
        self.violators += u64::from(d.violated.0 & HARD_OR_FINANCIAL != 0);
        self.relaxed += u64::from(!d.relaxed.is_empty());
        self.needs_approval += u64::from(d.needs_approval);
    }

    /// [`Tally::add`] for every row of `rows` (none relaxed, none needing
    /// approval).
    #[inline]
    fn add_rows(&mut self, rows: &DecisionRows) {
        // Summed by the lanes as they decided the rows.
        let [adjusted, held, violators] = rows.counts;
        let accepted = (rows.len() as u64).saturating_sub(adjusted.saturating_add(held));
        for (o, n) in [
            (Outcome::Accepted, accepted),
            (Outcome::Adjusted, adjusted),
            (Outcome::Held, held),
        ] {
            if let Some(c) = self.outcomes.get_mut(o as usize) {
                *c += n;
            }
        }
        self.violators += violators;
    }

    #[cfg(feature = "parallel")]
    fn merge(mut self, other: Tally) -> Tally {
        for (a, b) in self.outcomes.iter_mut().zip(other.outcomes) {
            *a += b;
        }
        self.violators += other.violators;
        self.relaxed += other.relaxed;
        self.needs_approval += other.needs_approval;
        self
    }
}

impl Policy {
    /// Evaluates a columnar batch into `out`, row by row in input order:
    /// the same decisions and summary as [`Policy::evaluate_batch`] on the
    /// rows as [`Item`]s ([`Columns::item`]). Allocates nothing.
    pub fn evaluate_columns(
        &self,
        cols: &Columns<'_>,
        out: &mut [Decision],
    ) -> Result<BatchSummary, BatchError> {
        let mut budgets = Budgets::new(self);
        self.evaluate_columns_with(cols, out, &mut budgets)
    }

    /// [`Policy::evaluate_columns`] carrying `budgets` across chunks, as
    /// [`Policy::evaluate_batch_with`] does.
    pub fn evaluate_columns_with(
        &self,
        cols: &Columns<'_>,
        out: &mut [Decision],
        budgets: &mut Budgets,
    ) -> Result<BatchSummary, BatchError> {
        self.evaluate_columns_into(cols, out, budgets)
    }

    /// Evaluates a columnar batch, handing each row's decision to `sink`
    /// (for instance straight into output columns, with no `Decision`
    /// buffer): the same decisions, in the same order, and the same
    /// summary as [`Policy::evaluate_columns_with`]. `sink` must hold at
    /// least one slot per row. Allocates nothing.
    ///
    /// Rows on the common path (valid values, no relaxed class, no
    /// campaign or segment, and a policy without freeze or an emergency
    /// cap) are decided by a structure-of-arrays kernel prepared once
    /// per call; every other row by the general engine. When the circuit
    /// breaker trips, every row is handed to `sink` a second time, held.
    pub fn evaluate_columns_into<S: DecisionSink + ?Sized>(
        &self,
        cols: &Columns<'_>,
        sink: &mut S,
        budgets: &mut Budgets,
    ) -> Result<BatchSummary, BatchError> {
        let n = cols.len();
        if sink.rows() < n {
            return Err(BatchError::LengthMismatch {
                items: n,
                out: sink.rows(),
            });
        }
        let before = budgets.clone();
        let (given, k) = cols.given();
        let given = given.get(..k).unwrap_or(&[]);
        let kernel = Kernel::new(self.prepared_for(None).1, cols);
        let mut tally = Tally::default();
        self.columns_pass(
            cols,
            given,
            kernel.as_ref(),
            budgets,
            &mut Tallied {
                tally: &mut tally,
                sink: &mut *sink,
            },
        );
        let mut summary = tally.summary(n);
        if let Some(breaker) = self.breaker() {
            if breaker.trips(summary.violators, summary.items) {
                // Replay the batch from the budgets it started with to get
                // each row's own decision again, and hold every valid row.
                summary.breaker_tripped = true;
                *budgets = before.clone();
                let mut replay = before;
                let mut again = Tally::default();
                self.columns_pass(
                    cols,
                    given,
                    kernel.as_ref(),
                    &mut replay,
                    &mut |i: usize, d: &Decision| {
                        let held = circuit_open(d, || {
                            gather(cols, given, i)
                                .ok()
                                .and_then(|item| item.current_price_minor())
                        });
                        again.add(&held);
                        sink.put(i, &held);
                    },
                );
                summary.outcomes = again.outcomes;
                summary.relaxed = again.relaxed;
                summary.needs_approval = again.needs_approval;
            }
        }
        Ok(summary)
    }

    /// One pass over a columnar batch in row order: the kernel's decision
    /// where it has one, else the general engine's (consuming `budgets`).
    #[inline(always)]
    fn columns_pass(
        &self,
        cols: &Columns<'_>,
        given: &[Column<'_>],
        kernel: Option<&Kernel<'_>>,
        budgets: &mut Budgets,
        emit: &mut impl Emit,
    ) {
        match kernel {
            Some(k) => k.run(
                0..k.len(),
                |i| self.general_row(cols, given, i, budgets, true),
                emit,
            ),
            None => {
                for i in 0..cols.len() {
                    let d = self.general_row(cols, given, i, budgets, false);
                    emit.emit(i, &d);
                }
            }
        }
    }

    /// Row `i` of a columnar batch through the general engine, consuming
    /// `budgets` when it draws on one. Kept out of line: the kernel's loop
    /// stays small, and this is the rare path when the kernel runs.
    #[inline(never)]
    fn general_row(
        &self,
        cols: &Columns<'_>,
        given: &[Column<'_>],
        i: usize,
        budgets: &mut Budgets,
        kernel_tried: bool,
    ) -> Decision {
        match gather(cols, given, i) {
            Err(field) => Decision::invalid(field),
            Ok(item) if self.campaign_count() > 0 && item.campaign().is_some() => {
                let d = self.evaluate_with_budgets(&item, budgets);
                budgets.consume(&item, &d);
                d
            }
            // The row kernel (or the lanes) already left this row: straight
            // to the general engine, not through the kernel a second time.
            Ok(item) if kernel_tried => crate::engine::evaluate_rules(
                self.rules_for(item.segment()),
                &item,
                self.budget_view(&item, None),
            ),
            Ok(item) => self.evaluate(&item),
        }
    }
}

/// Float64 columns for [`Policy::evaluate_float_blocks`]: what a caller
/// holding NumPy or Arrow `float64` data has before any conversion.
///
/// Money is in major units of the policy currency (`12.5` is 12.50) and
/// `expected_units` a whole number, `NaN` where a row has no value; the
/// times are integers, present in every row. Every given column must be
/// as long as `proposed_price`.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct FloatColumns<'a> {
    /// `proposed_price`; `NaN` is a missing proposal (never decided here).
    pub proposed_price: &'a [f64],
    /// `current_price`.
    pub current_price: Option<&'a [f64]>,
    /// `unit_cost`.
    pub unit_cost: Option<&'a [f64]>,
    /// `reference_price`.
    pub reference_price: Option<&'a [f64]>,
    /// `expected_units`.
    pub expected_units: Option<&'a [f64]>,
    /// `now`.
    pub now: Option<TimeColumn<'a>>,
    /// `last_change_at`.
    pub last_change_at: Option<TimeColumn<'a>>,
}

/// A time column of [`FloatColumns`] (seconds).
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum TimeColumn<'a> {
    /// One value per row.
    Values(&'a [i64]),
    /// The same value in every row (a batch's `now`).
    Same(i64),
}

/// What [`Policy::evaluate_float_blocks`] decided.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FloatBlocks {
    /// Rows decided, from the first row asked for on: a multiple of 64.
    pub rows: usize,
    /// Their counts, to [`BatchSummary::merge`] with the rest of the
    /// batch's.
    pub summary: BatchSummary,
}

impl Policy {
    /// Decides rows of a float64 batch straight from the floats, 64 at a
    /// time, for bindings whose callers hold `float64` columns: the
    /// vectorised block path of [`Policy::evaluate_columns_into`] without
    /// a conversion pass to minor units first.
    ///
    /// Starting at row `from`, each block of 64 rows is decided into
    /// `sink` (through [`DecisionSink::put_rows`]) while every one of its
    /// rows takes the common path. It stops at the first block that does
    /// not, or when fewer than 64 rows remain, and says how many rows it
    /// decided: the caller converts the next rows itself (with
    /// [`Currency::float_to_minor`](crate::Currency::float_to_minor), `NaN`
    /// as absent) and decides them with [`Policy::evaluate_columns_into`],
    /// then calls this again after them. A value not exactly on the minor
    /// unit, not finite or out of range, a missing proposal, a missing
    /// cost where the policy needs one, or a row the block path leaves to
    /// the rows path always stops it, so every row it
    /// decides gets the decision `evaluate_columns_into` gives for the
    /// converted row (a property test checks this decision by decision).
    ///
    /// `None` when the policy has no block path (rules it does not cover,
    /// a circuit breaker, which judges a batch as a whole), when a column
    /// is shorter than `proposed_price`, or when `sink` has fewer slots:
    /// then use `evaluate_columns_into` for the whole batch. No campaign
    /// or segment column is read: a batch with either cannot use this.
    /// Allocates nothing.
    #[doc(hidden)]
    pub fn evaluate_float_blocks<S: DecisionSink + ?Sized>(
        &self,
        cols: &FloatColumns<'_>,
        from: usize,
        sink: &mut S,
    ) -> Option<FloatBlocks> {
        use crate::lanes::{FloatInputs, Scratch, Source, Times, BLOCK};
        if self.breaker().is_some() {
            return None;
        }
        let lanes = self.prepared_for(None).1?.lanes()?;
        let n = cols.proposed_price.len();
        let fits = |c: Option<&[f64]>| c.is_none_or(|c| c.len() == n);
        let fits_time = |c: Option<TimeColumn<'_>>| match c {
            Some(TimeColumn::Values(v)) => v.len() == n,
            _ => true,
        };
        if !(fits(cols.current_price)
            && fits(cols.unit_cost)
            && fits(cols.reference_price)
            && fits(cols.expected_units)
            && fits_time(cols.now)
            && fits_time(cols.last_change_at)
            && sink.rows() >= n)
        {
            return None;
        }
        let pow = crate::money::pow10(self.currency().minor_units())?;
        let (now_block, last_block) = (
            match cols.now {
                Some(TimeColumn::Same(v)) => [v; BLOCK],
                _ => [0; BLOCK],
            },
            match cols.last_change_at {
                Some(TimeColumn::Same(v)) => [v; BLOCK],
                _ => [0; BLOCK],
            },
        );
        fn times<'t>(c: Option<TimeColumn<'t>>, block: &'t [i64; BLOCK]) -> Times<'t> {
            match c {
                None => Times::Absent,
                Some(TimeColumn::Values(v)) => Times::Column(v),
                Some(TimeColumn::Same(_)) => Times::Same(block),
            }
        }
        let inp = FloatInputs {
            proposed: cols.proposed_price,
            current: cols.current_price,
            cost: cols.unit_cost,
            reference: cols.reference_price,
            units: cols.expected_units,
            now: times(cols.now, &now_block),
            last_change: times(cols.last_change_at, &last_block),
            pow,
        };
        let mut out = DecisionRows::default();
        let mut scratch = Scratch::default();
        let mut tally = Tally::default();
        let mut i = from;
        while i + BLOCK <= n {
            let Some(left) = lanes.block(Source::Floats(&inp), i, &mut out, &mut scratch) else {
                break;
            };
            let mut emit = Tallied {
                tally: &mut tally,
                sink: &mut *sink,
            };
            if left == 0 {
                emit.emit_rows(i, &out);
            } else {
                // The rows the lanes leave (a class to relax, an unbounded
                // interval) are read from their floats as every door reads
                // them and decided by the engine: they cost only
                // themselves. Every value of the block passed the lanes'
                // loaders, so each reads.
                let mut items = [Item::new(0); BLOCK];
                // Rows the lanes decided with a class relaxed need no item.
                let engine_rows = left & !out.relaxed_rows();
                for (j, slot) in items.iter_mut().enumerate() {
                    if engine_rows >> j & 1 != 0 {
                        match self.float_row(cols, i + j) {
                            Some(item) => *slot = item,
                            None => return Some(self.float_blocks_done(from, i, tally)),
                        }
                    }
                }
                crate::kernel::emit_around(
                    &mut out,
                    i,
                    left,
                    &mut |k: usize| self.evaluate(items.get(k - i).unwrap_or(&Item::new(0))),
                    &mut emit,
                );
            }
            i += BLOCK;
        }
        Some(self.float_blocks_done(from, i, tally))
    }

    /// What [`Policy::evaluate_float_blocks`] reports when it stops at row `i`.
    fn float_blocks_done(&self, from: usize, i: usize, tally: Tally) -> FloatBlocks {
        let rows = i.saturating_sub(from);
        FloatBlocks {
            rows,
            summary: tally.summary(rows),
        }
    }

    /// Row `i` of float columns as an item, read as
    /// [`Policy::set_field_float`] reads each value (`NaN` absent); `None`
    /// when a value does not read.
    fn float_row(&self, cols: &FloatColumns<'_>, i: usize) -> Option<Item> {
        let mut item = Item::new(0);
        self.set_field_float(
            &mut item,
            Field::ProposedPrice,
            *cols.proposed_price.get(i)?,
        )
        .ok()?;
        for (field, col) in [
            (Field::CurrentPrice, cols.current_price),
            (Field::UnitCost, cols.unit_cost),
            (Field::ReferencePrice, cols.reference_price),
            (Field::ExpectedUnits, cols.expected_units),
        ] {
            if let Some(v) = col.and_then(|c| c.get(i)).copied().filter(|v| !v.is_nan()) {
                self.set_field_float(&mut item, field, v).ok()?;
            }
        }
        for (field, col) in [
            (Field::Now, cols.now),
            (Field::LastChangeAt, cols.last_change_at),
        ] {
            let v = match col {
                None => continue,
                Some(TimeColumn::Same(v)) => v,
                Some(TimeColumn::Values(vals)) => *vals.get(i)?,
            };
            item.set(field, v);
        }
        Some(item)
    }
}

/// The hot path's [`Emit`]: count the decision, hand it to the sink.
struct Tallied<'a, S: ?Sized> {
    tally: &'a mut Tally,
    sink: &'a mut S,
}

impl<S: DecisionSink + ?Sized> Emit for Tallied<'_, S> {
    #[inline(always)]
    fn emit(&mut self, i: usize, d: &Decision) {
        self.tally.add(d);
        self.sink.put(i, d);
    }

    #[inline]
    fn emit_rows(&mut self, start: usize, rows: &DecisionRows) {
        self.tally.add_rows(rows);
        self.sink.put_rows(start, rows);
    }
}

/// Where [`Policy::evaluate_columns_into`] puts each row's decision.
///
/// Implemented for `[Decision]`; implement it to write decisions straight
/// into output columns. `put` is called once per row in row order, and
/// once more per row if the circuit breaker trips.
pub trait DecisionSink {
    /// Slots available (at least the batch's rows).
    fn rows(&self) -> usize;
    /// Row `i`'s decision.
    fn put(&mut self, i: usize, decision: &Decision);

    /// The decisions of rows `start..start + rows.len()`, as columns: the
    /// same decisions `put` would receive one by one (which is what the
    /// default does). Override it to copy whole columns at once.
    #[inline]
    #[doc(hidden)]
    fn put_rows(&mut self, start: usize, rows: &DecisionRows) {
        for j in 0..rows.len() {
            self.put(start + j, &rows.decision(j));
        }
    }
}

impl DecisionSink for [Decision] {
    #[inline(always)]
    fn rows(&self) -> usize {
        self.len()
    }

    #[inline(always)]
    fn put(&mut self, i: usize, decision: &Decision) {
        if let Some(slot) = self.get_mut(i) {
            *slot = *decision;
        }
    }
}

/// The pieces' counts added up (their order does not matter).
#[cfg(feature = "parallel")]
fn merged(tallies: Result<Vec<Tally>, core::convert::Infallible>) -> Tally {
    match tallies {
        Ok(t) => t.into_iter().fold(Tally::default(), Tally::merge),
        Err(never) => match never {},
    }
}

#[cfg(feature = "parallel")]
impl Policy {
    /// [`Policy::evaluate_columns`] on all cores (rayon): the same
    /// decisions and summary. Rows that draw on no campaign budget are
    /// evaluated in parallel chunks; rows that do are then evaluated
    /// serially in input order, so budgets are consumed exactly as in the
    /// serial path; the breaker judges the whole batch last.
    pub fn evaluate_columns_par(
        &self,
        cols: &Columns<'_>,
        out: &mut [Decision],
    ) -> Result<BatchSummary, BatchError> {
        let mut budgets = Budgets::new(self);
        self.evaluate_columns_par_with(cols, out, &mut budgets)
    }

    /// [`Policy::evaluate_columns_par`] carrying `budgets` across chunks.
    pub fn evaluate_columns_par_with(
        &self,
        cols: &Columns<'_>,
        out: &mut [Decision],
        budgets: &mut Budgets,
    ) -> Result<BatchSummary, BatchError> {
        /// Rows per parallel task: big enough to amortise scheduling.
        const CHUNK: usize = 8192;
        if cols.len() != out.len() {
            return Err(BatchError::LengthMismatch {
                items: cols.len(),
                out: out.len(),
            });
        }
        let before = budgets.clone();
        let (given, k) = cols.given();
        let given = given.get(..k).unwrap_or(&[]);
        let kernel = Kernel::new(self.prepared_for(None).1, cols);
        let campaign = cols
            .column(Field::Campaign)
            .filter(|_| self.campaign_count() > 0);
        let draws = |i: usize| campaign.is_some_and(|c| c.present(i));
        let tallies = Schedule::rayon(CHUNK).run(
            cols.len(),
            budgets,
            &mut *out,
            |rows, chunk: &mut [Decision], unused| {
                let start = rows.start;
                let mut tally = Tally::default();
                // Rows here draw on no budget: `unused` is never consumed.
                let mut emit = |i: usize, d: &Decision| {
                    if !draws(i) {
                        tally.add(d);
                        if let Some(slot) = chunk.get_mut(i - start) {
                            *slot = *d;
                        }
                    }
                };
                let mut slow = |i: usize| {
                    if draws(i) {
                        Decision::default()
                    } else {
                        self.general_row(cols, given, i, unused, kernel.is_some())
                    }
                };
                match &kernel {
                    Some(k) => k.run(rows, slow, &mut emit),
                    None => {
                        for i in rows {
                            let d = slow(i);
                            emit(i, &d);
                        }
                    }
                }
                Ok::<_, core::convert::Infallible>(tally)
            },
        );
        let mut tally = merged(tallies);
        if let Some(c) = campaign {
            for (i, slot) in out.iter_mut().enumerate() {
                if c.present(i) {
                    let d = self.general_row(cols, given, i, budgets, false);
                    tally.add(&d);
                    *slot = d;
                }
            }
        }
        Ok(self.finish(tally, out, budgets, before, |i| {
            gather(cols, given, i)
                .ok()
                .and_then(|item| item.current_price_minor())
        }))
    }

    /// [`Policy::evaluate_batch`] on all cores (rayon): the same decisions
    /// and summary. Items that draw on no campaign budget are evaluated in
    /// parallel; items that do are then evaluated serially in input order,
    /// so budgets are consumed exactly as in the serial path; the breaker
    /// judges the whole batch last.
    pub fn evaluate_batch_par(
        &self,
        items: &[Item],
        out: &mut [Decision],
    ) -> Result<BatchSummary, BatchError> {
        let mut budgets = Budgets::new(self);
        self.evaluate_batch_par_with(items, out, &mut budgets)
    }

    /// [`Policy::evaluate_batch_par`] carrying `budgets` across chunks.
    pub fn evaluate_batch_par_with(
        &self,
        items: &[Item],
        out: &mut [Decision],
        budgets: &mut Budgets,
    ) -> Result<BatchSummary, BatchError> {
        /// Items per parallel task: big enough to amortise scheduling.
        const CHUNK: usize = 4096;
        if items.len() != out.len() {
            return Err(BatchError::LengthMismatch {
                items: items.len(),
                out: out.len(),
            });
        }
        let before = budgets.clone();
        let has_budgets = self.campaign_count() > 0;
        let draws = |item: &Item| has_budgets && item.campaign().is_some();
        let tallies = Schedule::rayon(CHUNK).run(
            items.len(),
            budgets,
            &mut *out,
            |rows, out: &mut [Decision], _unused| {
                let mut tally = Tally::default();
                let items = items.get(rows).unwrap_or(&[]);
                for (item, slot) in items.iter().zip(out.iter_mut()) {
                    if !draws(item) {
                        let d = self.evaluate(item);
                        tally.add(&d);
                        *slot = d;
                    }
                }
                Ok::<_, core::convert::Infallible>(tally)
            },
        );
        let mut tally = merged(tallies);
        if has_budgets {
            for (item, slot) in items.iter().zip(out.iter_mut()) {
                if draws(item) {
                    let d = self.evaluate_with_budgets(item, budgets);
                    budgets.consume(item, &d);
                    tally.add(&d);
                    *slot = d;
                }
            }
        }
        Ok(self.finish(tally, out, budgets, before, |i| {
            items.get(i).and_then(Item::current_price_minor)
        }))
    }
}

/// The batch-level counts after the group pass changed some decisions:
/// outcomes and approvals are counted again (`violators` stays the solo
/// count: group rules are neither hard nor financial).
fn recount(summary: &mut BatchSummary, out: &[Decision]) {
    let mut again = Tally::default();
    for d in out {
        again.add(d);
    }
    summary.outcomes = again.outcomes;
    summary.needs_approval = again.needs_approval;
}

/// Whether the grouped rows come in order of group id (each group's rows
/// together, ungrouped rows anywhere).
fn grouped_in_order(rows: &[Option<GroupRow>]) -> bool {
    let mut last = 0;
    rows.iter().flatten().all(|r| {
        let ok = r.group >= last;
        last = r.group;
        ok
    })
}

fn group_len_error(e: BatchError) -> GroupError {
    match e {
        BatchError::LengthMismatch { items, out } => GroupError::LengthMismatch {
            items,
            rows: items,
            out,
        },
    }
}

impl Policy {
    /// Evaluates `items` alone ([`Policy::evaluate_batch`]), then fits the
    /// groups their `rows` describe onto the policy's `[ladder]`
    /// ([`resolve_groups`], docs/spec.md
    /// §10). `rows[i]` places item `i` in a group, or `None`. The batch is
    /// the unit: a group is solved from the rows it holds, so a door that
    /// splits input into batches must keep each group in one (or refuse
    /// with [`GroupError::SplitGroup`]). Allocates the pass's scratch; see
    /// [`Policy::evaluate_batch_grouped_with`] for the allocation-free form.
    pub fn evaluate_batch_grouped(
        &self,
        items: &[Item],
        rows: &[Option<GroupRow>],
        out: &mut [Decision],
    ) -> Result<(BatchSummary, GroupSummary), GroupError> {
        let mut budgets = Budgets::new(self);
        let need = rows.iter().filter(|r| r.is_some()).count();
        let mut scratch = alloc::vec![GroupScratch::default(); need];
        self.evaluate_batch_grouped_with(items, rows, out, &mut budgets, &mut scratch, None)
    }

    /// [`Policy::evaluate_batch_grouped`] with caller budgets, caller
    /// scratch (at least one slot per grouped row) and optional
    /// [`LadderNote`]s (one slot per row) for
    /// [`Decision::explain_ladder`]. Allocates nothing.
    pub fn evaluate_batch_grouped_with(
        &self,
        items: &[Item],
        rows: &[Option<GroupRow>],
        out: &mut [Decision],
        budgets: &mut Budgets,
        scratch: &mut [GroupScratch],
        notes: Option<&mut [Option<LadderNote>]>,
    ) -> Result<(BatchSummary, GroupSummary), GroupError> {
        if rows.len() != items.len() {
            return Err(GroupError::LengthMismatch {
                items: items.len(),
                rows: rows.len(),
                out: out.len(),
            });
        }
        if self.breaker().is_none() && out.len() == items.len() && grouped_in_order(rows) {
            return self.grouped_in_chunks(items, rows, out, budgets, scratch, notes);
        }
        let mut summary = self
            .evaluate_batch_with(items, out, budgets)
            .map_err(group_len_error)?;
        let ladder = self.ladder().unwrap_or_default();
        let member = |i: usize| items.get(i).map(Member::of).unwrap_or_default();
        let groups = resolve_groups(self, &ladder, member, rows, out, scratch, notes)?;
        recount(&mut summary, out);
        Ok((summary, groups))
    }

    /// [`Policy::evaluate_batch_grouped_with`] for rows whose groups come
    /// in order of group id and a policy without a breaker: each chunk of
    /// a few thousand rows, cut only between groups, is decided alone and
    /// then grouped while its items and decisions are still in cache. The
    /// decisions are those of the two passes over the whole batch: groups
    /// never span chunks, budgets are consumed in input order, and no
    /// breaker judges the whole.
    fn grouped_in_chunks(
        &self,
        items: &[Item],
        rows: &[Option<GroupRow>],
        out: &mut [Decision],
        budgets: &mut Budgets,
        scratch: &mut [GroupScratch],
        mut notes: Option<&mut [Option<LadderNote>]>,
    ) -> Result<(BatchSummary, GroupSummary), GroupError> {
        const CHUNK: usize = 2048;
        let n = items.len();
        let need = rows.iter().filter(|r| r.is_some()).count();
        if scratch.len() < need {
            return Err(GroupError::ScratchTooSmall {
                need,
                got: scratch.len(),
            });
        }
        if notes.as_ref().is_some_and(|s| s.len() != n) {
            return Err(GroupError::LengthMismatch {
                items: n,
                rows: n,
                out: out.len(),
            });
        }
        let ladder = self.ladder().unwrap_or_default();
        let mut summary = BatchSummary::default();
        let mut groups = GroupSummary::default();
        let mut start = 0;
        while start < n {
            // Past CHUNK rows, cut before the first grouped row of a new group.
            let mut end = (start + CHUNK).min(n);
            let mut last = rows
                .get(start..end)
                .and_then(|r| r.iter().rev().find_map(|r| r.map(|r| r.group)));
            while end < n {
                match rows.get(end).copied().flatten() {
                    Some(r) if Some(r.group) != last && last.is_some() => break,
                    Some(r) => last = Some(r.group),
                    None => {}
                }
                end += 1;
            }
            let (Some(it), Some(rs), Some(o)) = (
                items.get(start..end),
                rows.get(start..end),
                out.get_mut(start..end),
            ) else {
                break;
            };
            let s = self
                .evaluate_batch_with(it, o, budgets)
                .map_err(group_len_error)?;
            summary.merge(&s);
            let member = |i: usize| it.get(i).map(Member::of).unwrap_or_default();
            let mut nt = notes.as_deref_mut().and_then(|nt| nt.get_mut(start..end));
            let g = resolve_groups(self, &ladder, member, rs, o, scratch, nt.as_deref_mut())?;
            // The pass names neighbours by chunk row; the caller by batch row.
            for note in nt.into_iter().flatten().flatten() {
                note.neighbour += start;
            }
            groups.merge(&g);
            start = end;
        }
        recount(&mut summary, out);
        Ok((summary, groups))
    }

    /// [`Policy::evaluate_batch_grouped_with`] for a columnar batch: the
    /// rows decided alone as [`Policy::evaluate_columns_with`] does, then
    /// the group pass. Allocates nothing.
    pub fn evaluate_columns_grouped(
        &self,
        cols: &Columns<'_>,
        rows: &[Option<GroupRow>],
        out: &mut [Decision],
        budgets: &mut Budgets,
        scratch: &mut [GroupScratch],
        notes: Option<&mut [Option<LadderNote>]>,
    ) -> Result<(BatchSummary, GroupSummary), GroupError> {
        if rows.len() != cols.len() {
            return Err(GroupError::LengthMismatch {
                items: cols.len(),
                rows: rows.len(),
                out: out.len(),
            });
        }
        let mut summary = self
            .evaluate_columns_with(cols, out, budgets)
            .map_err(group_len_error)?;
        let ladder = self.ladder().unwrap_or_default();
        // A row that is no item was rejected alone and leaves its chain
        // before the pass reads it.
        let member = |i: usize| cols.item(i).map(|it| Member::of(&it)).unwrap_or_default();
        let groups = resolve_groups(self, &ladder, member, rows, out, scratch, notes)?;
        recount(&mut summary, out);
        Ok((summary, groups))
    }
}
