//! Price ladders (docs/spec.md §10): the grouped batch calls, their
//! per-row group info and notes, and the ladder explanation.

use std::ffi::c_char;

use priceguard::money::pow10_i64;
use priceguard::{Decision, GroupRow, GroupSummary, Item, LadderNote, Policy, Rule};

use crate::buffer::{text, write_whole};
use crate::policy::{policy_ref, priceguard_policy};
use crate::priceguard_result;
use crate::types::{
    from_summary, priceguard_batch_summary, priceguard_decision, priceguard_item, scale_decision,
    to_decision, to_decision_scaled, to_item, to_item_scaled, write_decision, PRICEGUARD_MAX_SCALE,
};

/// Group row presence bit: the row belongs to group `group`. Without it
/// the row is not grouped and is decided alone (its `rank` and
/// `pack_size` are not read), as a row with an empty group is in every
/// other door.
pub const PRICEGUARD_GROUP_HAS_GROUP: u32 = 1 << 0;
/// Group row presence bit: `rank` is set. A grouped row without it makes
/// its whole group `invalid_input`, field `rank`.
pub const PRICEGUARD_GROUP_HAS_RANK: u32 = 1 << 1;
/// Group row presence bit: `pack_size` is set.
pub const PRICEGUARD_GROUP_HAS_PACK_SIZE: u32 = 1 << 2;
/// Every valid group row presence bit; any other bit is
/// `PRICEGUARD_RESULT_INVALID_ARGUMENT`.
pub const PRICEGUARD_GROUP_HAS_ALL: u32 = 0x7;

/// Ladder note presence bit: the group pass moved the row, and the note's
/// other fields say why.
pub const PRICEGUARD_LADDER_NOTE_MOVED: u32 = 1 << 0;

/// Where a row sits in a price ladder, beside its `priceguard_item`
/// (row `i` of the group rows goes with item `i`). Zero-initialise and
/// fill in: a zeroed row is not grouped.
///
/// The caller interns its group names into `group` ids: equal names, equal
/// ids; any `uint32_t` will do, and dense ids (0, 1, 2, ... in order of
/// first sight) sort fastest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct priceguard_group_row {
    /// `PRICEGUARD_GROUP_HAS_*` bits of the values that are set.
    pub present: u32,
    /// The group id (equal ids are one group).
    pub group: u32,
    /// The row's rank in its group: a higher rank is priced higher. A
    /// repeated rank in a group makes the group `invalid_input`, field `rank`.
    pub rank: i64,
    /// Units in the pack, for the `unit_price` rule: 1 to 1000000; any
    /// other value makes the group `invalid_input`, field `pack_size`.
    pub pack_size: u64,
}

/// What the group pass did in one grouped batch.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct priceguard_group_summary {
    /// Groups seen.
    pub groups: u64,
    /// Groups in which the ladder moved at least one price.
    pub adjusted: u64,
    /// Groups held whole because no price set satisfies their ladder.
    pub held: u64,
    /// Groups refused for a missing or repeated rank or a bad pack size.
    pub invalid: u64,
    /// Items whose price the ladder moved.
    pub moved: u64,
}

/// Why the group pass moved one row, for
/// `priceguard_decision_explain_ladder`. Valid only when `present` has
/// `PRICEGUARD_LADDER_NOTE_MOVED` (else every field is 0). Treat it as
/// opaque data: copy it, never edit it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct priceguard_ladder_note {
    /// `PRICEGUARD_LADDER_NOTE_MOVED` when the ladder moved the row.
    pub present: u32,
    /// The `priceguard_rule` of the edge that moved it (`ladder_gap`,
    /// `ladder_max_gap` or `unit_price`).
    pub rule: u32,
    /// The price the row was decided at alone (in the row's units).
    pub own: i64,
    /// The neighbour's published price (in the row's units).
    pub neighbour_price: i64,
    /// The neighbour's row index in the batch.
    pub neighbour: usize,
    /// Whether the neighbour is the next rank up (else the one below).
    pub neighbour_above: bool,
}

/// The engine's group info for a C row: `Ok(None)` for an ungrouped row,
/// `Err` for an unknown presence bit.
fn to_group_row(c: &priceguard_group_row) -> Result<Option<GroupRow>, priceguard_result> {
    if c.present & !PRICEGUARD_GROUP_HAS_ALL != 0 {
        return Err(priceguard_result::InvalidArgument);
    }
    if c.present & PRICEGUARD_GROUP_HAS_GROUP == 0 {
        return Ok(None);
    }
    let mut row = if c.present & PRICEGUARD_GROUP_HAS_RANK != 0 {
        GroupRow::new(c.group, c.rank)
    } else {
        GroupRow::unranked(c.group)
    };
    if c.present & PRICEGUARD_GROUP_HAS_PACK_SIZE != 0 {
        row = row.with_pack_size(c.pack_size);
    }
    Ok(Some(row))
}

fn from_group_summary(s: &GroupSummary) -> priceguard_group_summary {
    priceguard_group_summary {
        groups: s.groups,
        adjusted: s.adjusted,
        held: s.held,
        invalid: s.invalid,
        moved: s.moved,
    }
}

/// The C note for an engine note, its money multiplied to `10^-scale`
/// minor units; `None` when that does not fit 64 bits.
fn from_note(n: &Option<LadderNote>, scale: u8) -> Option<priceguard_ladder_note> {
    let Some(n) = n else {
        return Some(priceguard_ladder_note::default());
    };
    let f = pow10_i64(scale);
    Some(priceguard_ladder_note {
        present: PRICEGUARD_LADDER_NOTE_MOVED,
        rule: n.rule as u32,
        own: n.own.checked_mul(f)?,
        neighbour_price: n.neighbour_price.checked_mul(f)?,
        neighbour: n.neighbour,
        neighbour_above: n.neighbour_above,
    })
}

/// The engine note for a C note of a row at `scale`; `Ok(None)` when the
/// ladder did not move the row; `Err` for an unknown bit or rule, or
/// money not whole minor units at `scale`.
fn to_note(c: &priceguard_ladder_note, scale: u8) -> Result<Option<LadderNote>, priceguard_result> {
    let bad = priceguard_result::InvalidArgument;
    if c.present & !PRICEGUARD_LADDER_NOTE_MOVED != 0 || scale > PRICEGUARD_MAX_SCALE {
        return Err(bad);
    }
    if c.present == 0 {
        return Ok(None);
    }
    let rule = Rule::ALL
        .iter()
        .copied()
        .find(|r| *r as u32 == c.rule)
        .ok_or(bad)?;
    let f = pow10_i64(scale);
    if c.own % f != 0 || c.neighbour_price % f != 0 {
        return Err(bad);
    }
    Ok(Some(LadderNote::new(
        c.own / f,
        rule,
        c.neighbour,
        c.neighbour_above,
        c.neighbour_price / f,
    )))
}

/// The shared body of the grouped batch calls: `scales` is `None` for
/// whole minor units.
///
/// # Safety
///
/// As `priceguard_policy_evaluate_batch_grouped_scaled`, with `scales`
/// NULL for the unscaled call.
#[allow(clippy::too_many_arguments)] // the export's arguments, passed on
unsafe fn grouped(
    policy: *const priceguard_policy,
    items: *const priceguard_item,
    scales: Option<*const u8>,
    rows: *const priceguard_group_row,
    len: usize,
    decisions_out: *mut priceguard_decision,
    notes_out: *mut priceguard_ladder_note,
    summary_out: *mut priceguard_batch_summary,
    group_summary_out: *mut priceguard_group_summary,
) -> priceguard_result {
    // SAFETY: the export's contract makes the handle NULL or live.
    let Some(p) = (unsafe { policy_ref(policy) }) else {
        return crate::boundary::null_parameter();
    };
    check_out!(summary_out, group_summary_out);
    if len > 0
        && (items.is_null()
            || rows.is_null()
            || decisions_out.is_null()
            || scales.is_some_and(|s| s.is_null()))
    {
        return priceguard_result::NullParameter;
    }
    let (c_items, c_rows): (&[priceguard_item], &[priceguard_group_row]) = if len == 0 {
        (&[], &[])
    } else {
        // SAFETY: non-NULL and valid for `len` reads each (caller contract).
        unsafe {
            (
                std::slice::from_raw_parts(items, len),
                std::slice::from_raw_parts(rows, len),
            )
        }
    };
    let c_scales: &[u8] = match scales {
        // SAFETY: non-NULL and valid for `len` reads (caller contract).
        Some(s) if len > 0 => unsafe { std::slice::from_raw_parts(s, len) },
        _ => &[],
    };
    let scale_of = |i: usize| c_scales.get(i).copied().unwrap_or(0);
    let mut engine_items: Vec<Item> = Vec::with_capacity(len);
    let mut group_rows: Vec<Option<GroupRow>> = Vec::with_capacity(len);
    for (i, (c, r)) in c_items.iter().zip(c_rows).enumerate() {
        let item = if scales.is_some() {
            to_item_scaled(c, scale_of(i))
        } else {
            to_item(c)
        };
        let Some(item) = item else {
            return priceguard_result::InvalidArgument;
        };
        engine_items.push(item);
        match to_group_row(r) {
            Ok(g) => group_rows.push(g),
            Err(code) => return code,
        }
    }
    let mut out = vec![Decision::default(); len];
    let mut notes: Vec<Option<LadderNote>> = vec![None; len];
    let (summary, groups) = match run(p, &engine_items, &group_rows, &mut out, &mut notes) {
        Ok(s) => s,
        // Lengths are equal and the scratch sized here: not reached.
        Err(_) => return priceguard_result::InvalidArgument,
    };
    let mut c_out = Vec::with_capacity(len);
    let mut c_notes = Vec::with_capacity(len);
    for (i, (d, n)) in out.iter().zip(&notes).enumerate() {
        let s = scale_of(i);
        let (Some(d), Some(n)) = (scale_decision(*d, s), from_note(n, s)) else {
            return priceguard_result::MoneyOutOfRange;
        };
        c_out.push(d);
        c_notes.push(n);
    }
    if len > 0 {
        // SAFETY: non-NULL and valid for `len` writes, disjoint from the inputs (caller contract).
        let dst = unsafe { std::slice::from_raw_parts_mut(decisions_out, len) };
        for (slot, d) in dst.iter_mut().zip(&c_out) {
            // SAFETY: `slot` is a live, exclusive reference.
            unsafe { write_decision(d, slot) };
        }
        if !notes_out.is_null() {
            // SAFETY: non-NULL, so valid for `len` writes (caller contract).
            let dst = unsafe { std::slice::from_raw_parts_mut(notes_out, len) };
            dst.copy_from_slice(&c_notes);
        }
    }
    // SAFETY: checked non-NULL, valid for writes.
    unsafe {
        summary_out.write(from_summary(&summary));
        group_summary_out.write(from_group_summary(&groups));
    }
    priceguard_result::Ok
}

/// The core call, out of line so the export's frame stays small.
#[inline(never)]
fn run(
    p: &Policy,
    items: &[Item],
    rows: &[Option<GroupRow>],
    out: &mut [Decision],
    notes: &mut [Option<LadderNote>],
) -> Result<(priceguard::BatchSummary, GroupSummary), priceguard::GroupError> {
    let need = rows.iter().filter(|r| r.is_some()).count();
    let mut scratch = vec![priceguard::GroupScratch::default(); need];
    let mut budgets = priceguard::Budgets::new(p);
    p.evaluate_batch_grouped_with(items, rows, out, &mut budgets, &mut scratch, Some(notes))
}

/// Evaluates `len` items as one batch, as `priceguard_policy_evaluate_batch`
/// does, then fits each group of the batch onto the policy's `[ladder]`
/// (docs/spec.md §10): `rows[i]` places item `i` in a group (or not, when
/// its `present` lacks `PRICEGUARD_GROUP_HAS_GROUP`). A group is solved
/// from the rows this call holds: give all of a group's rows in one call
/// (a caller that streams must not split a group across calls; it is not
/// decided half).
///
/// Writes decision `i` into `decisions_out[i]`, the batch counts into
/// `*summary_out` (after the group pass) and the group counts into
/// `*group_summary_out`. `notes_out` may be NULL; when given it receives
/// one `priceguard_ladder_note` per row, for
/// `priceguard_decision_explain_ladder`. `items`, `rows`, `decisions_out`
/// (and `notes_out`) may be NULL when `len` is 0.
///
/// A missing or repeated rank, or a pack size outside 1 to 1000000, is not
/// an error of the call: the group's items are `rejected` /
/// `invalid_input` naming `rank` or `pack_size`. An unknown presence bit
/// in an item or a row is `PRICEGUARD_RESULT_INVALID_ARGUMENT`. Nothing is
/// written unless the call succeeds. Uses scratch memory proportional to
/// `len`.
///
/// # Safety
///
/// `items` and `rows` valid for reads of `len` values, `decisions_out`
/// for writes of `len` decisions and `notes_out` NULL or valid for writes
/// of `len` notes (NULL only when `len == 0`), none overlapping;
/// `summary_out` and `group_summary_out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_evaluate_batch_grouped(
    policy: *const priceguard_policy,
    items: *const priceguard_item,
    rows: *const priceguard_group_row,
    len: usize,
    decisions_out: *mut priceguard_decision,
    notes_out: *mut priceguard_ladder_note,
    summary_out: *mut priceguard_batch_summary,
    group_summary_out: *mut priceguard_group_summary,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: forwarded caller contract.
        unsafe {
            grouped(
                policy, items, None, rows, len, decisions_out, notes_out, summary_out,
                group_summary_out,
            )
        }
    }
}

/// As `priceguard_policy_evaluate_batch_grouped`, for items whose money
/// is in `10^-scales[i]` minor units, item by item (see
/// `priceguard_policy_evaluate_batch_scaled`): decision `i` and note `i`
/// come back in item `i`'s units (a note's `neighbour_price` too).
/// `PRICEGUARD_RESULT_INVALID_ARGUMENT` when a scale is beyond
/// `PRICEGUARD_MAX_SCALE`, `MONEY_OUT_OF_RANGE` when a value does not fit
/// 64 bits at its item's scale; nothing is written unless the call succeeds.
///
/// # Safety
///
/// As `priceguard_policy_evaluate_batch_grouped`; `scales` valid for reads
/// of `len` bytes (NULL only when `len == 0`).
#[no_mangle]
pub unsafe extern "C" fn priceguard_policy_evaluate_batch_grouped_scaled(
    policy: *const priceguard_policy,
    items: *const priceguard_item,
    scales: *const u8,
    rows: *const priceguard_group_row,
    len: usize,
    decisions_out: *mut priceguard_decision,
    notes_out: *mut priceguard_ladder_note,
    summary_out: *mut priceguard_batch_summary,
    group_summary_out: *mut priceguard_group_summary,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: forwarded caller contract.
        unsafe {
            grouped(
                policy, items, Some(scales), rows, len, decisions_out, notes_out, summary_out,
                group_summary_out,
            )
        }
    }
}

/// The shared body of the ladder explanations.
///
/// # Safety
///
/// As `priceguard_decision_explain_ladder_scaled`.
#[allow(clippy::too_many_arguments)] // the export's arguments, passed on
unsafe fn explain_ladder(
    policy: *const priceguard_policy,
    item: *const priceguard_item,
    scale: Option<u8>,
    decision: *const priceguard_decision,
    note: *const priceguard_ladder_note,
    neighbour_sku: *const u8,
    neighbour_sku_len: usize,
    neighbour_row: *const priceguard_group_row,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> priceguard_result {
    // SAFETY: the export's contract makes the handle NULL or live.
    let Some(p) = (unsafe { policy_ref(policy) }) else {
        return crate::boundary::null_parameter();
    };
    let c_item = try_ref!(item);
    let c_decision = try_ref!(decision);
    let c_note = try_ref!(note);
    check_out!(buf, out_n);
    let s = scale.unwrap_or(0);
    let Some(item) = (match scale {
        Some(s) => to_item_scaled(c_item, s),
        None => to_item(c_item),
    }) else {
        return priceguard_result::InvalidArgument;
    };
    let d = match scale {
        Some(s) => to_decision_scaled(c_decision, s),
        None => to_decision(c_decision),
    };
    let d = match d {
        Ok(d) => d,
        Err(code) => return code,
    };
    let note = match to_note(c_note, s) {
        Ok(n) => n,
        Err(code) => return code,
    };
    let sentence = match note {
        None => d.explain(p, &item),
        Some(note) => {
            let row = try_ref!(neighbour_row);
            // SAFETY: forwarded caller contract (NULL is checked inside).
            let sku = match unsafe { text(neighbour_sku, neighbour_sku_len) } {
                Ok(t) => t,
                Err(code) => return code,
            };
            let Ok(Some(g)) = to_group_row(row) else {
                return priceguard_result::InvalidArgument;
            };
            // The neighbour that moved a row always has a rank.
            let Some(rank) = g.rank else {
                return priceguard_result::InvalidArgument;
            };
            d.explain_ladder(p, &item, &note, sku, rank, g.pack_size)
        }
    };
    // SAFETY: forwarded caller contract.
    unsafe { write_whole(&sentence, buf, len, out_n) }
}

/// Writes one sentence explaining `decision` for `item`, a row of
/// `priceguard_policy_evaluate_batch_grouped`, with its `note`: for a row
/// the ladder moved it names the neighbour whose edge set the price, e.g.
/// `raised 14.99 to 15.75 to stay 5 % above SKU-1 (rank 1, 15.00)`, where
/// `neighbour_sku` (UTF-8, `neighbour_sku_len` bytes) and `neighbour_row`
/// are those of row `note->neighbour`, which only the caller knows by
/// name. For a row the ladder did not move (`note->present` is 0) it is
/// the sentence of `priceguard_decision_explain`, and `neighbour_sku` and
/// `neighbour_row` are not read (they may be NULL).
///
/// The buffer as `priceguard_decision_explain` fills it. A note, decision
/// or neighbour row with codes or bits that do not exist, or a neighbour
/// row without a group or rank, gives `PRICEGUARD_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `policy` NULL or live; `item`, `decision`, `note` and `neighbour_row`
/// NULL or valid for reads; `neighbour_sku` NULL or valid for
/// `neighbour_sku_len` bytes; `buf` NULL or valid for `len` bytes; `out_n`
/// NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn priceguard_decision_explain_ladder(
    policy: *const priceguard_policy,
    item: *const priceguard_item,
    decision: *const priceguard_decision,
    note: *const priceguard_ladder_note,
    neighbour_sku: *const u8,
    neighbour_sku_len: usize,
    neighbour_row: *const priceguard_group_row,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: forwarded caller contract.
        unsafe {
            explain_ladder(
                policy, item, None, decision, note, neighbour_sku, neighbour_sku_len,
                neighbour_row, buf, len, out_n,
            )
        }
    }
}

/// As `priceguard_decision_explain_ladder`, for a row of
/// `priceguard_policy_evaluate_batch_grouped_scaled` at `scale` (its item,
/// decision and note in `10^-scale` minor units). Money that is not whole
/// minor units at `scale` where a scaled call gives whole ones, or a scale
/// beyond `PRICEGUARD_MAX_SCALE`, gives `PRICEGUARD_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// As `priceguard_decision_explain_ladder`.
#[no_mangle]
pub unsafe extern "C" fn priceguard_decision_explain_ladder_scaled(
    policy: *const priceguard_policy,
    item: *const priceguard_item,
    scale: u8,
    decision: *const priceguard_decision,
    note: *const priceguard_ladder_note,
    neighbour_sku: *const u8,
    neighbour_sku_len: usize,
    neighbour_row: *const priceguard_group_row,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> priceguard_result {
    ffi_boundary! {
        // SAFETY: forwarded caller contract.
        unsafe {
            explain_ladder(
                policy, item, Some(scale), decision, note, neighbour_sku, neighbour_sku_len,
                neighbour_row, buf, len, out_n,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_rows_read_by_presence_bits() {
        let zero = priceguard_group_row::default();
        assert_eq!(to_group_row(&zero), Ok(None));
        // Rank and pack size without a group: not grouped, not read.
        let loose = priceguard_group_row {
            present: PRICEGUARD_GROUP_HAS_RANK | PRICEGUARD_GROUP_HAS_PACK_SIZE,
            group: 3,
            rank: 1,
            pack_size: 0,
        };
        assert_eq!(to_group_row(&loose), Ok(None));
        let full = priceguard_group_row {
            present: PRICEGUARD_GROUP_HAS_ALL,
            group: 3,
            rank: -4,
            pack_size: 6,
        };
        assert_eq!(
            to_group_row(&full),
            Ok(Some(GroupRow::new(3, -4).with_pack_size(6)))
        );
        let unranked = priceguard_group_row {
            present: PRICEGUARD_GROUP_HAS_GROUP,
            ..full
        };
        assert_eq!(to_group_row(&unranked), Ok(Some(GroupRow::unranked(3))));
        let unknown = priceguard_group_row {
            present: 1 << 3,
            ..full
        };
        assert_eq!(
            to_group_row(&unknown),
            Err(priceguard_result::InvalidArgument)
        );
    }

    #[test]
    fn notes_round_trip_at_every_scale() {
        let note = LadderNote::new(1499, Rule::LadderGap, 4, true, 1500);
        for scale in 0..=PRICEGUARD_MAX_SCALE {
            let c = from_note(&Some(note), scale).unwrap_or_default();
            assert_eq!(c.present, PRICEGUARD_LADDER_NOTE_MOVED);
            assert_eq!(c.own, 1499 * pow10_i64(scale));
            assert_eq!(to_note(&c, scale), Ok(Some(note)));
        }
        let none = from_note(&None, 2).unwrap_or_default();
        assert_eq!(none, priceguard_ladder_note::default());
        assert_eq!(to_note(&none, 2), Ok(None));
        // Money a scaled call never gives, unknown rules and bits are refused.
        let c = from_note(&Some(note), 2).unwrap_or_default();
        let bad = [
            priceguard_ladder_note {
                own: c.own + 1,
                ..c
            },
            priceguard_ladder_note { rule: 999, ..c },
            priceguard_ladder_note { present: 3, ..c },
        ];
        for b in bad {
            assert_eq!(to_note(&b, 2), Err(priceguard_result::InvalidArgument));
        }
        assert_eq!(
            to_note(&c, PRICEGUARD_MAX_SCALE + 1),
            Err(priceguard_result::InvalidArgument)
        );
        // A note whose money does not fit 64 bits at the scale.
        let huge = LadderNote::new(i64::MAX / 10, Rule::LadderGap, 0, false, 1);
        assert_eq!(from_note(&Some(huge), 2), None);
    }
}
