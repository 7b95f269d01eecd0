//! The group pass (docs/spec.md §10): after every item is decided alone,
//! the members of each group are fitted onto their ladder, or the whole
//! group keeps its current prices.
//!
//! Group information stays beside the items ([`GroupRow`], one per row),
//! so [`Item`] and the solo hot path do not grow. The pass sorts row
//! indices by (group, rank) in caller scratch, so the order of rows in the
//! input never changes a decision, and allocates nothing.

use core::fmt;

use crate::compiled::CompiledRules;
use crate::decision::{Decision, Outcome, Reason};
use crate::item::{Field, Item};
use crate::rules::ladder::{Ladder, MAX_PACK_SIZE};
use crate::rules::{endings, Rule, RuleSet, NO_HI, NO_LO};

/// Where a row sits in a group: the door interns the `group` text into a
/// dense id, and reads `rank` and `pack_size` as given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct GroupRow {
    /// The group id (equal ids are one group).
    pub group: u32,
    /// The row's rank in its group; `None` when missing (the whole group
    /// is then `invalid_input`, field `rank`).
    pub rank: Option<i64>,
    /// Units in the pack, for `unit_price` (1 to [`MAX_PACK_SIZE`]).
    pub pack_size: Option<u64>,
}

impl GroupRow {
    /// A row of `group` at `rank`, without a pack size.
    pub const fn new(group: u32, rank: i64) -> GroupRow {
        GroupRow {
            group,
            rank: Some(rank),
            pack_size: None,
        }
    }

    /// A row of `group` that names no rank.
    pub const fn unranked(group: u32) -> GroupRow {
        GroupRow {
            group,
            rank: None,
            pack_size: None,
        }
    }

    /// With `pack_size` units in the pack.
    #[must_use]
    pub const fn with_pack_size(mut self, units: u64) -> GroupRow {
        self.pack_size = Some(units);
        self
    }
}

/// One slot of the pass's working memory; give [`resolve_groups`] at least
/// one per grouped row.
#[derive(Clone, Copy, Debug, Default)]
pub struct GroupScratch {
    row: usize,
    lo: i64,
    hi: i64,
    rank: i64,
    /// The member's price decided alone.
    own: i64,
    /// The tick its bounds are rounded onto (1 for a fixed point).
    tick: i64,
    /// `pack_size`, 0 when absent.
    pack: u64,
    group: u32,
    ranked: bool,
}

impl GroupScratch {
    /// The sort key: group, then missing ranks first, then rank.
    #[inline]
    fn key(&self) -> (u32, bool, i64) {
        (self.group, self.ranked, self.rank)
    }

    /// Fills the slot from row `i`'s group info.
    #[inline]
    fn set(&mut self, i: usize, r: &GroupRow) {
        self.row = i;
        self.group = r.group;
        self.rank = r.rank.unwrap_or(0);
        self.ranked = r.rank.is_some();
        self.pack = r.pack_size.unwrap_or(0);
    }

    #[inline]
    fn pack(&self) -> Option<u64> {
        (self.pack != 0).then_some(self.pack)
    }
}

/// What the group pass reads of a row's item: far less than an [`Item`],
/// so a door that has no `Item` at hand (columns) builds it cheaply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Member {
    /// The proposal in whole minor units (`None` when finer).
    pub proposal: Option<i64>,
    /// The current price in minor units.
    pub current: Option<i64>,
    /// Whether the item names a campaign.
    pub campaign: bool,
    /// The item's segment.
    pub segment: Option<u32>,
}

impl Member {
    /// The member view of `item`.
    #[inline]
    pub fn of(item: &Item) -> Member {
        Member {
            proposal: proposal_minor(item),
            current: item.current_price_minor(),
            campaign: item.campaign().is_some(),
            segment: item.segment(),
        }
    }
}

/// What the group pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupSummary {
    /// Groups seen.
    pub groups: u64,
    /// Groups in which the ladder moved at least one price.
    pub adjusted: u64,
    /// Groups held whole because no price set satisfies their ladder.
    pub held: u64,
    /// Groups refused for a missing or duplicate rank or a bad pack size.
    pub invalid: u64,
    /// Items whose price the ladder moved.
    pub moved: u64,
}

impl GroupSummary {
    /// Adds another pass's counts (as the chunks of one batch add up).
    pub fn merge(&mut self, o: &GroupSummary) {
        self.groups += o.groups;
        self.adjusted += o.adjusted;
        self.held += o.held;
        self.invalid += o.invalid;
        self.moved += o.moved;
    }
}

/// Why the ladder moved one item: the edge rule and the neighbour it
/// binds against, for [`Decision::explain_ladder`](crate::Decision).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LadderNote {
    /// The price the item was decided at alone.
    pub own: i64,
    /// The edge rule that moved it.
    pub rule: Rule,
    /// The neighbour's row index.
    pub neighbour: usize,
    /// Whether the neighbour is the next rank up (else the one below).
    pub neighbour_above: bool,
    /// The neighbour's published price.
    pub neighbour_price: i64,
}

/// A group pass that cannot run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupError {
    /// Items, group rows and decisions differ in length.
    LengthMismatch {
        /// Items given.
        items: usize,
        /// Group rows given.
        rows: usize,
        /// Decision slots given.
        out: usize,
    },
    /// The scratch holds fewer slots than there are grouped rows.
    ScratchTooSmall {
        /// Slots needed.
        need: usize,
        /// Slots given.
        got: usize,
    },
    /// A group's rows arrive in more than one batch. A door that streams
    /// batches returns this (naming the group) rather than decide half a
    /// group: a batch is the unit a ladder is solved in.
    SplitGroup {
        /// The group's id as the door interned it.
        group: u32,
    },
}

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupError::LengthMismatch { items, rows, out } => write!(
                f,
                "{items} items, {rows} group rows and {out} decision slots differ"
            ),
            GroupError::ScratchTooSmall { need, got } => {
                write!(f, "group scratch holds {got} slots but {need} are needed")
            }
            GroupError::SplitGroup { group } => write!(
                f,
                "group {group} is split across batches; all of a group's rows must be in one batch"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for GroupError {}

/// The rules an item is judged by, from its segment (a policy, or one set
/// of compiled rules for every item).
pub trait Segments {
    /// The rules for items of `segment`.
    fn rules_for(&self, segment: Option<u32>) -> &CompiledRules;
}

impl Segments for CompiledRules {
    fn rules_for(&self, _: Option<u32>) -> &CompiledRules {
        self
    }
}

#[cfg(feature = "alloc")]
impl Segments for crate::policy::Policy {
    fn rules_for(&self, segment: Option<u32>) -> &CompiledRules {
        crate::policy::Policy::rules_for(self, segment)
    }
}

/// `solve`'s flags for `publish`: no allowed ending fits the range.
const NO_ENDING: i64 = 1;
/// The nearest allowed ending moved the price off the edge's bound.
const ENDING_MOVED: i64 = 2;

/// Whether a decision's price is fixed for the ladder: a hold (its
/// current price is what stays) or a change drawing on a campaign (the
/// budget was consumed at that price).
#[inline]
fn fixed(m: &Member, d: &Decision) -> bool {
    d.outcome == Outcome::Held || (m.campaign && d.is_change())
}

/// The proposal in whole minor units, when it is one.
#[inline]
fn proposal_minor(item: &Item) -> Option<i64> {
    let p = item.proposed_price();
    if item.scale() == 0 {
        return Some(p);
    }
    let k = crate::money::pow10_i64(item.scale());
    (p % k == 0).then(|| p / k)
}

/// Runs the group pass over decisions already made alone (`out`, one per
/// row): rows with `Some` group info form chains by (group, rank); rows
/// with `None` are left as they are. `member(i)` gives what the pass reads
/// of row `i`'s item ([`Member::of`]).
/// Writes a [`LadderNote`] for every moved row into `notes` when given
/// (one slot per row; others are set to `None`). Allocates nothing.
#[allow(clippy::too_many_arguments)] // the pass's inputs, each a slice the door owns
pub fn resolve_groups<S: Segments + ?Sized>(
    rules: &S,
    ladder: &Ladder,
    member: impl Fn(usize) -> Member,
    rows: &[Option<GroupRow>],
    out: &mut [Decision],
    scratch: &mut [GroupScratch],
    mut notes: Option<&mut [Option<LadderNote>]>,
) -> Result<GroupSummary, GroupError> {
    let n = rows.len();
    if out.len() != n || notes.as_ref().is_some_and(|s| s.len() != n) {
        return Err(GroupError::LengthMismatch {
            items: n,
            rows: n,
            out: out.len(),
        });
    }
    let need = rows.iter().filter(|r| r.is_some()).count();
    if scratch.len() < need {
        return Err(GroupError::ScratchTooSmall {
            need,
            got: scratch.len(),
        });
    }
    if let Some(s) = notes.as_deref_mut() {
        s.fill(None);
    }
    let scratch = scratch.get_mut(..need).unwrap_or_default();
    sort_rows(rows, scratch);

    let mut summary = GroupSummary::default();
    for chain in scratch.chunk_by_mut(|a, b| a.group == b.group) {
        summary.groups += 1;
        if let Some(field) = bad_group(rows, chain) {
            summary.invalid += 1;
            for s in chain.iter() {
                if let Some(d) = out.get_mut(s.row) {
                    // An item refused on its own keeps its first bad field.
                    if d.reason != Reason::InvalidInput {
                        *d = Decision::invalid(field);
                    }
                }
            }
            continue;
        }
        // Rejected items leave the chain.
        let mut m = 0;
        for t in 0..chain.len() {
            let row = chain.get(t).map_or(usize::MAX, |s| s.row);
            if out.get(row).is_some_and(|d| d.outcome != Outcome::Rejected) {
                chain.swap(m, t);
                m += 1;
            }
        }
        let Some(chain) = chain.get_mut(..m).filter(|c| !c.is_empty()) else {
            continue;
        };
        let feasible = solve(rules, ladder, &member, out, chain);
        if !feasible {
            summary.held += 1;
            for s in chain.iter() {
                if let Some(d) = out.get_mut(s.row) {
                    if d.outcome != Outcome::Held {
                        let mut h = Decision::hold_or_reject(member(s.row).current, Reason::Ladder);
                        h.violated = d.violated;
                        *d = h;
                    }
                }
            }
            continue;
        }
        let moved = publish(rules, ladder, &member, out, chain, notes.as_deref_mut());
        summary.moved += moved;
        summary.adjusted += u64::from(moved > 0);
    }
    Ok(summary)
}

/// Sorts the grouped rows' indices by (group, rank) into `scratch`, one
/// slot per grouped row, whatever the input order. Dense group ids (below
/// the number of grouped rows, as a door that interns group names gives)
/// take a counting sort by group, O(n), then a sort of each group by rank;
/// other ids a comparison sort. Input already grouped only has each group
/// sorted by rank.
fn sort_rows(rows: &[Option<GroupRow>], scratch: &mut [GroupScratch]) {
    let mut slots = scratch.iter_mut();
    let mut max_group = 0;
    for (i, r) in rows.iter().enumerate() {
        if let Some(r) = r {
            if let Some(s) = slots.next() {
                s.set(i, r);
                max_group = max_group.max(r.group);
            }
        }
    }
    if scratch.windows(2).all(|w| match w {
        [a, b] => a.group <= b.group,
        _ => true,
    }) {
        // Groups already together (a door that sorts by group): only each
        // group's ranks may need sorting.
        for chain in scratch.chunk_by_mut(|a, b| a.group == b.group) {
            sort_chain(chain);
        }
        return;
    }
    let n = scratch.len();
    if (max_group as usize) >= n {
        // Equal keys are repeated ranks, refused whole: their order does
        // not matter.
        scratch.sort_unstable_by_key(GroupScratch::key);
        return;
    }
    // Counting sort by group: `hi` of slot g counts, then places, group g;
    // `lo` of slot k receives the row that lands at position k.
    for s in scratch.iter_mut() {
        s.hi = 0;
    }
    for k in 0..n {
        let g = scratch.get(k).map_or(0, |s| s.group as usize);
        if let Some(c) = scratch.get_mut(g) {
            c.hi += 1;
        }
    }
    let mut start = 0;
    for s in scratch.iter_mut().take(max_group as usize + 1) {
        let c = s.hi;
        s.hi = start;
        start += c;
    }
    for k in 0..n {
        let (g, row) = scratch.get(k).map_or((0, 0), |s| (s.group as usize, s.row));
        let pos = scratch.get_mut(g).map_or(0, |c| {
            c.hi += 1;
            c.hi - 1
        });
        if let Some(d) = usize::try_from(pos).ok().and_then(|p| scratch.get_mut(p)) {
            d.lo = row as i64;
        }
    }
    for s in scratch.iter_mut() {
        let i = s.lo as usize;
        if let Some(r) = rows.get(i).copied().flatten() {
            s.set(i, &r);
        }
    }
    for chain in scratch.chunk_by_mut(|a, b| a.group == b.group) {
        sort_chain(chain);
    }
}

/// Sorts one group's slots by rank: ranks given in order, or in reverse
/// (best tier first, as catalogues often list them), take no sort.
fn sort_chain(chain: &mut [GroupScratch]) {
    if chain.is_sorted_by_key(GroupScratch::key) {
        return;
    }
    chain.reverse();
    if !chain.is_sorted_by_key(GroupScratch::key) {
        chain.sort_unstable_by_key(GroupScratch::key);
    }
}

/// The field that makes a whole group `invalid_input`, if any: a missing
/// or repeated rank, or a pack size outside 1 to [`MAX_PACK_SIZE`].
fn bad_group(rows: &[Option<GroupRow>], chain: &[GroupScratch]) -> Option<Field> {
    // Sorted by rank with missing ranks first, so a repeat is next to its
    // twin.
    if chain.first().is_some_and(|s| !s.ranked)
        || chain.windows(2).any(|w| match w {
            [a, b] => a.rank == b.rank,
            _ => false,
        })
    {
        return Some(Field::Rank);
    }
    chain
        .iter()
        .any(|s| {
            rows.get(s.row)
                .copied()
                .flatten()
                .and_then(|r| r.pack_size)
                .is_some_and(|p| p == 0 || p > MAX_PACK_SIZE)
        })
        .then_some(Field::PackSize)
}

/// The backward then the forward pass over one chain of kept members,
/// sorted by rank. Leaves each member's published price in `lo`; `false`
/// when some range is empty.
fn solve<S: Segments + ?Sized>(
    rules: &S,
    ladder: &Ladder,
    member: &impl Fn(usize) -> Member,
    out: &[Decision],
    chain: &mut [GroupScratch],
) -> bool {
    // Backward: F_top = I_top; F_i = I_i narrowed by what F_j needs. A
    // fixed point's interval is [p, p] judged on the minor unit (a held
    // current price may be off the tick); any other member's is its
    // decision's [lower, upper] on its rules' tick.
    let mut next: Option<(i64, i64, Option<u64>)> = None;
    for s in chain.iter_mut().rev() {
        let Some(d) = out.get(s.row) else {
            return false;
        };
        let m = member(s.row);
        let own = d.price.unwrap_or(0);
        let (mut lo, mut hi) = if fixed(&m, d) {
            s.tick = 1;
            (own, own)
        } else {
            s.tick = rules.rules_for(m.segment).tick;
            (d.lower.unwrap_or(NO_LO), d.upper.unwrap_or(NO_HI))
        };
        s.own = own;
        let size = s.pack();
        if let Some((lo_j, hi_j, size_j)) = next {
            let e = ladder.edge(size, size_j);
            lo = e.raise_below(lo, lo_j, s.tick);
            hi = e.lower_below(hi, hi_j, s.tick);
        }
        if lo > hi {
            return false;
        }
        s.lo = lo;
        s.hi = hi;
        next = Some((lo, hi, size));
    }
    // Forward: each own price clamped into what the rank below leaves it.
    let mut prev: Option<(i64, Option<u64>)> = None;
    for s in chain.iter_mut() {
        let size = s.pack();
        let (mut lo, mut hi) = (s.lo, s.hi);
        if let Some((p_i, size_i)) = prev {
            let e = ladder.edge(size_i, size);
            lo = e.raise_above(lo, p_i, s.tick);
            hi = e.lower_above(hi, p_i, s.tick);
        }
        if lo > hi {
            return false;
        }
        let own = s.own;
        let clamped = own.clamp(lo, hi);
        let mut p = clamped;
        let mut flags = 0;
        // A fixed point's range holds its own price, so only others move.
        if p != own {
            // A moved price takes the nearest allowed ending inside the range.
            let m = member(s.row);
            if let Some(e) = rules.rules_for(m.segment).endings.as_ref() {
                let up = m.proposal.is_some_and(|q| q > p);
                match endings::nearest(e, p, lo, hi, up) {
                    Some(v) => p = v,
                    None => flags |= NO_ENDING,
                }
                if p != clamped {
                    flags |= ENDING_MOVED;
                }
            }
        }
        s.lo = p;
        // `hi` is free now: it carries the endings' flags to `publish`.
        s.hi = flags;
        prev = Some((p, size));
    }
    true
}

/// Writes the published prices `solve` left in `lo` into the decisions of
/// the members that moved; returns how many moved.
fn publish<S: Segments + ?Sized>(
    rules: &S,
    ladder: &Ladder,
    member: &impl Fn(usize) -> Member,
    out: &mut [Decision],
    chain: &[GroupScratch],
    mut notes: Option<&mut [Option<LadderNote>]>,
) -> u64 {
    let mut moved = 0;
    for (t, s) in chain.iter().enumerate() {
        let (own, p) = (s.own, s.lo);
        if p == own {
            continue;
        }
        let Some(d) = out.get(s.row).copied() else {
            continue;
        };
        moved += 1;
        let m = member(s.row);
        let size = s.pack();
        let below = t.checked_sub(1).and_then(|u| chain.get(u));
        let above = chain.get(t + 1);
        let edge_below = below.map(|b| ladder.edge(b.pack(), size));
        let edge_above = above.map(|a| ladder.edge(size, a.pack()));
        // The edges the own price broke against the published neighbours:
        // those moved it.
        let broke_below = match (below, edge_below) {
            (Some(b), Some(e)) => e.broken(b.lo, own),
            _ => RuleSet::EMPTY,
        };
        let broke_above = match (above, edge_above) {
            (Some(a), Some(e)) => e.broken(own, a.lo),
            _ => RuleSet::EMPTY,
        };
        let broke = RuleSet(broke_below.0 | broke_above.0);
        let r = rules.rules_for(m.segment);
        let mut nd = d;
        nd.price = Some(p);
        nd.outcome = if m.proposal == Some(p) {
            Outcome::Accepted
        } else {
            Outcome::Adjusted
        };
        nd.violated = RuleSet(d.violated.0 | broke.0);
        let mut binding = broke;
        if s.hi & ENDING_MOVED != 0 {
            binding.insert(Rule::PriceEnding);
        }
        nd.binding = binding;
        if s.hi & NO_ENDING != 0 {
            nd.unmet.insert(Rule::PriceEnding);
        } else {
            nd.unmet = RuleSet(nd.unmet.0 & !(1 << Rule::PriceEnding as u8));
        }
        let (rule, nb, up) = match (broke_below.iter().next(), broke_above.iter().next()) {
            (Some(rule), _) => (rule, below, false),
            (None, Some(rule)) => (rule, above, true),
            (None, None) => (
                Rule::LadderGap,
                below.or(above),
                above.is_some() && below.is_none(),
            ),
        };
        nd.reason = if nd.outcome == Outcome::Accepted {
            Reason::None
        } else {
            Reason::Rule(rule)
        };
        nd.needs_approval = match (r.max_auto_change, m.current) {
            (Some(limit), Some(cur)) if cur > 0 => {
                crate::rules::change::needs_approval(limit, cur, p)
            }
            _ => false,
        };
        if let (Some(slots), Some(nb)) = (notes.as_deref_mut(), nb) {
            if let Some(slot) = slots.get_mut(s.row) {
                *slot = Some(LadderNote {
                    own,
                    rule,
                    neighbour: nb.row,
                    neighbour_above: up,
                    neighbour_price: nb.lo,
                });
            }
        }
        if let Some(slot) = out.get_mut(s.row) {
            *slot = nd;
        }
    }
    moved
}
