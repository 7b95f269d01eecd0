//! The `#[repr(C)]` values that cross the boundary: items, decisions,
//! batch summaries, reservations, and the code enums.

use priceguard::money::{pow10_i64, Amount};
#[cfg(test)]
use priceguard::Rule;
use priceguard::{BatchSummary, Class, ClassSet, Decision, Field, Item, Outcome, Reason, RuleSet};

use crate::priceguard_result;

/// Item presence bit: `current_price` is set.
pub const PRICEGUARD_HAS_CURRENT_PRICE: u32 = 1 << 0;
/// Item presence bit: `unit_cost` is set.
pub const PRICEGUARD_HAS_UNIT_COST: u32 = 1 << 1;
/// Item presence bit: `min_price` is set.
pub const PRICEGUARD_HAS_MIN_PRICE: u32 = 1 << 2;
/// Item presence bit: `max_price` is set.
pub const PRICEGUARD_HAS_MAX_PRICE: u32 = 1 << 3;
/// Item presence bit: `map_price` is set.
pub const PRICEGUARD_HAS_MAP_PRICE: u32 = 1 << 4;
/// Item presence bit: `reference_price` is set (the item is on promotion).
pub const PRICEGUARD_HAS_REFERENCE_PRICE: u32 = 1 << 5;
/// Item presence bit: `expected_units` is set.
pub const PRICEGUARD_HAS_EXPECTED_UNITS: u32 = 1 << 6;
/// Item presence bit: `campaign` is set.
pub const PRICEGUARD_HAS_CAMPAIGN: u32 = 1 << 7;
/// Item presence bit: `now` is set.
pub const PRICEGUARD_HAS_NOW: u32 = 1 << 8;
/// Item presence bit: `last_change_at` is set.
pub const PRICEGUARD_HAS_LAST_CHANGE_AT: u32 = 1 << 9;
/// Item presence bit: `changes_in_window` is set.
pub const PRICEGUARD_HAS_CHANGES_IN_WINDOW: u32 = 1 << 10;
/// Item presence bit: `window_anchor_price` is set.
pub const PRICEGUARD_HAS_WINDOW_ANCHOR_PRICE: u32 = 1 << 11;
/// Item presence bit: `baseline_price` is set.
pub const PRICEGUARD_HAS_BASELINE_PRICE: u32 = 1 << 12;
/// Item presence bit: `competitor_price` is set.
pub const PRICEGUARD_HAS_COMPETITOR_PRICE: u32 = 1 << 13;
/// Item presence bit: `segment` is set.
pub const PRICEGUARD_HAS_SEGMENT: u32 = 1 << 14;
/// Item presence bit: `pinned_price` is set.
pub const PRICEGUARD_HAS_PINNED_PRICE: u32 = 1 << 15;
/// Item presence bit: `prior_low_price` is set (history summary). Bits 16
/// and 17 are `proposed_price` and `sku`, which have none.
pub const PRICEGUARD_HAS_PRIOR_LOW_PRICE: u32 = 1 << 18;
/// Item presence bit: `promo_started_at` is set (history summary).
pub const PRICEGUARD_HAS_PROMO_STARTED_AT: u32 = 1 << 19;
/// Item presence bit: `last_promo_ended_at` is set (history summary).
pub const PRICEGUARD_HAS_LAST_PROMO_ENDED_AT: u32 = 1 << 20;
/// Item presence bit: `reversals_in_window` is set (history summary).
pub const PRICEGUARD_HAS_REVERSALS_IN_WINDOW: u32 = 1 << 21;
/// Item presence bit: `competitor_quotes` is set (history summary).
pub const PRICEGUARD_HAS_COMPETITOR_QUOTES: u32 = 1 << 22;
/// The presence bits of the five history summary fields.
pub const PRICEGUARD_HAS_HISTORY: u32 = PRICEGUARD_HAS_PRIOR_LOW_PRICE
    | PRICEGUARD_HAS_PROMO_STARTED_AT
    | PRICEGUARD_HAS_LAST_PROMO_ENDED_AT
    | PRICEGUARD_HAS_REVERSALS_IN_WINDOW
    | PRICEGUARD_HAS_COMPETITOR_QUOTES;
/// Every valid item presence bit (`0x7CFFFF`); any other bit is
/// `PRICEGUARD_RESULT_INVALID_ARGUMENT`.
pub const PRICEGUARD_HAS_ALL: u32 = 0xFFFF | PRICEGUARD_HAS_HISTORY;

/// Decision presence bit: `price` is set (absent when rejected).
pub const PRICEGUARD_DECISION_HAS_PRICE: u32 = 1 << 0;
/// Decision presence bit: `lower` is set.
pub const PRICEGUARD_DECISION_HAS_LOWER: u32 = 1 << 1;
/// Decision presence bit: `upper` is set (absent when unbounded or not computed).
pub const PRICEGUARD_DECISION_HAS_UPPER: u32 = 1 << 2;
/// Decision presence bit: `promo_spend` is set.
pub const PRICEGUARD_DECISION_HAS_PROMO_SPEND: u32 = 1 << 3;
/// Decision presence bit: `invalid_field` is set (reason `invalid_input`).
pub const PRICEGUARD_DECISION_HAS_INVALID_FIELD: u32 = 1 << 4;
/// Decision presence bit: `lawful_reference` is set (held or rejected by
/// `prior_price` with a known `prior_low_price`).
pub const PRICEGUARD_DECISION_HAS_LAWFUL_REFERENCE: u32 = 1 << 5;

/// The campaign id of a name the policy has no budget for. An item
/// drawing on it is held (`promo_budget`), never priced unguarded.
pub const PRICEGUARD_CAMPAIGN_UNKNOWN: u32 = u32::MAX;

/// What happens to a proposal (`priceguard_decision.outcome`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum priceguard_outcome {
    /// The published price equals the proposal.
    Accepted = 0,
    /// The published price differs from the proposal.
    Adjusted = 1,
    /// The current price is kept.
    Held = 2,
    /// Nothing may be published.
    Rejected = 3,
}

/// A rule class; bit `1 << class` in `priceguard_decision.relaxed`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum priceguard_class {
    /// Absolute limits: never relaxed.
    Hard = 0,
    /// Cost and promotion floors.
    Financial = 1,
    /// Change-rate limits and holds.
    Stability = 2,
    /// Competitor-relative bounds.
    Market = 3,
    /// Price endings and tick snapping.
    Cosmetic = 4,
    /// Cross-item rules within a group (ladders, pack sizes).
    Group = 5,
}

/// A rule's stable code: bit `UINT64_C(1) << code` in the `violated`,
/// `binding` and `unmet` masks. Codes are never reused.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum priceguard_rule {
    /// `min_price` (hard).
    MinPrice = 0,
    /// `max_price` (hard).
    MaxPrice = 1,
    /// `map` (hard).
    Map = 2,
    /// `emergency_cap` (hard).
    EmergencyCap = 3,
    /// `margin` (financial).
    Margin = 4,
    /// `markup` (financial).
    Markup = 5,
    /// `unit_margin` (financial).
    UnitMargin = 6,
    /// `max_discount` (financial).
    MaxDiscount = 7,
    /// `promo_budget` (financial).
    PromoBudget = 8,
    /// `max_increase` (stability).
    MaxIncrease = 9,
    /// `max_decrease` (stability).
    MaxDecrease = 10,
    /// `max_step` (stability).
    MaxStep = 11,
    /// `window_increase` (stability).
    WindowIncrease = 12,
    /// `window_decrease` (stability).
    WindowDecrease = 13,
    /// `cooldown` (stability).
    Cooldown = 14,
    /// `max_changes` (stability).
    MaxChanges = 15,
    /// `min_change` (stability).
    MinChange = 16,
    /// `competitor_floor` (market).
    CompetitorFloor = 17,
    /// `competitor_ceiling` (market).
    CompetitorCeiling = 18,
    /// `price_ending` (cosmetic).
    PriceEnding = 19,
    /// `tick` (cosmetic).
    Tick = 20,
    /// `pinned` (cosmetic).
    Pinned = 21,
    /// `max_markup` (financial).
    MaxMarkup = 22,
    /// `ladder_gap` (group).
    LadderGap = 23,
    /// `ladder_max_gap` (group).
    LadderMaxGap = 24,
    /// `unit_price` (group).
    UnitPrice = 25,
    /// `prior_price` (hard): a promotion's "was" price above the lowest
    /// price of the disclosure window.
    PriorPrice = 26,
    /// `promo_spell` (financial): a promotion too long or too soon after
    /// the last: no discount.
    PromoSpell = 27,
    /// `oscillation` (stability): a price that keeps changing direction.
    Oscillation = 28,
}

/// The primary reason of a decision (`priceguard_decision.reason`): 0 for
/// none, `1 + rule code` when a rule decided, 64 and up for the rest.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum priceguard_reason {
    /// Accepted as proposed: nothing to explain (name `""`).
    None = 0,
    /// Rule `min_price`.
    MinPrice = 1,
    /// Rule `max_price`.
    MaxPrice = 2,
    /// Rule `map`.
    Map = 3,
    /// Rule `emergency_cap`.
    EmergencyCap = 4,
    /// Rule `margin`.
    Margin = 5,
    /// Rule `markup`.
    Markup = 6,
    /// Rule `unit_margin`.
    UnitMargin = 7,
    /// Rule `max_discount`.
    MaxDiscount = 8,
    /// Rule `promo_budget`.
    PromoBudget = 9,
    /// Rule `max_increase`.
    MaxIncrease = 10,
    /// Rule `max_decrease`.
    MaxDecrease = 11,
    /// Rule `max_step`.
    MaxStep = 12,
    /// Rule `window_increase`.
    WindowIncrease = 13,
    /// Rule `window_decrease`.
    WindowDecrease = 14,
    /// Rule `cooldown`.
    Cooldown = 15,
    /// Rule `max_changes`.
    MaxChanges = 16,
    /// Rule `min_change`.
    MinChange = 17,
    /// Rule `competitor_floor`.
    CompetitorFloor = 18,
    /// Rule `competitor_ceiling`.
    CompetitorCeiling = 19,
    /// Rule `price_ending`.
    PriceEnding = 20,
    /// Rule `tick`.
    Tick = 21,
    /// Rule `pinned`.
    Pinned = 22,
    /// Rule `max_markup`.
    MaxMarkup = 23,
    /// Rule `ladder_gap`.
    LadderGap = 24,
    /// Rule `ladder_max_gap`.
    LadderMaxGap = 25,
    /// Rule `unit_price`.
    UnitPrice = 26,
    /// Rule `prior_price`.
    PriorPrice = 27,
    /// Rule `promo_spell`.
    PromoSpell = 28,
    /// Rule `oscillation`.
    Oscillation = 29,
    /// `infeasible`: the hard class alone admits no price.
    Infeasible = 64,
    /// `missing_cost`: a cost rule applies but the item has no `unit_cost`.
    MissingCost = 65,
    /// `invalid_input`: the item itself is malformed (see `invalid_field`).
    InvalidInput = 66,
    /// `circuit_open`: the batch circuit breaker tripped.
    CircuitOpen = 67,
    /// `freeze`: the policy's kill switch is on.
    Freeze = 68,
    /// `unbounded`: no rule bounds the price on one side.
    Unbounded = 69,
    /// `ladder`: the item's group ladder admits no prices; the group is held.
    Ladder = 70,
    /// `competitor_quality`: too few trustworthy competitor quotes back
    /// `competitor_price` and the policy requires them.
    CompetitorQuality = 71,
}

/// An item field (`priceguard_decision.invalid_field`); for the optional
/// fields, the presence bit is `1 << field`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum priceguard_field {
    /// `current_price`
    CurrentPrice = 0,
    /// `unit_cost`
    UnitCost = 1,
    /// `min_price`
    MinPrice = 2,
    /// `max_price`
    MaxPrice = 3,
    /// `map_price`
    MapPrice = 4,
    /// `reference_price`
    ReferencePrice = 5,
    /// `expected_units`
    ExpectedUnits = 6,
    /// `campaign`
    Campaign = 7,
    /// `now`
    Now = 8,
    /// `last_change_at`
    LastChangeAt = 9,
    /// `changes_in_window`
    ChangesInWindow = 10,
    /// `window_anchor_price`
    WindowAnchorPrice = 11,
    /// `baseline_price`
    BaselinePrice = 12,
    /// `competitor_price`
    CompetitorPrice = 13,
    /// `segment`
    Segment = 14,
    /// `pinned_price`
    PinnedPrice = 15,
    /// `proposed_price` (always present)
    ProposedPrice = 16,
    /// `sku` (never in `priceguard_item`; named by callers' parsers)
    Sku = 17,
    /// `prior_low_price` (history summary)
    PriorLowPrice = 18,
    /// `promo_started_at` (history summary)
    PromoStartedAt = 19,
    /// `last_promo_ended_at` (history summary)
    LastPromoEndedAt = 20,
    /// `reversals_in_window` (history summary)
    ReversalsInWindow = 21,
    /// `competitor_quotes` (history summary)
    CompetitorQuotes = 22,
    /// `group` (beside the item, for the group pass)
    Group = 23,
    /// `rank` (beside the item, for the group pass)
    Rank = 24,
    /// `pack_size` (beside the item, for the group pass)
    PackSize = 25,
}

/// One proposal with its context. Money is `int64_t` minor units of the
/// policy currency (cents for USD, yen for JPY); in the `*_scaled` calls,
/// `10^-scale` minor units (hundredths of a cent at scale 2). Every field but
/// `proposed_price` is optional: set its `PRICEGUARD_HAS_*` bit in
/// `present`, or the value is ignored. Zero-initialise and fill in.
/// Out-of-range values are not an error of the call: they make the
/// decision `rejected` / `invalid_input`, naming the field.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct priceguard_item {
    /// `PRICEGUARD_HAS_*` bits of the optional fields that are set.
    pub present: u32,
    /// Campaign id from `priceguard_policy_campaign_id`.
    pub campaign: u32,
    /// Segment id selecting a per-segment rule override.
    pub segment: u32,
    /// What the pricing engine proposes (required).
    pub proposed_price: i64,
    /// Live price now; absent for a new listing.
    pub current_price: i64,
    /// Landed unit cost.
    pub unit_cost: i64,
    /// Per-item minimum, tightened with the policy's.
    pub min_price: i64,
    /// Per-item maximum, tightened with the policy's.
    pub max_price: i64,
    /// Minimum advertised price.
    pub map_price: i64,
    /// Regular price a promotion discounts from; marks the item as on promotion.
    pub reference_price: i64,
    /// Forecast units sold at the promoted price (a count, not money).
    pub expected_units: i64,
    /// Evaluation time, unix seconds.
    pub now: i64,
    /// Time of the last price change, unix seconds.
    pub last_change_at: i64,
    /// Price changes already made in the policy's window (a count).
    pub changes_in_window: i64,
    /// The price at the start of the drift window.
    pub window_anchor_price: i64,
    /// Pre-emergency price for the emergency cap.
    pub baseline_price: i64,
    /// A reference competitor price.
    pub competitor_price: i64,
    /// A merchandiser's manual price.
    pub pinned_price: i64,
    /// History summary: the lowest price in force in the policy's
    /// `disclosure.prior_days` before the current promotion began (money).
    pub prior_low_price: i64,
    /// History summary: when the current promotion began, unix seconds.
    pub promo_started_at: i64,
    /// History summary: when the last promotion ended, unix seconds.
    pub last_promo_ended_at: i64,
    /// History summary: direction reversals of the price in the policy's
    /// change window (a count).
    pub reversals_in_window: i64,
    /// History summary: trustworthy competitor quotes behind
    /// `competitor_price` (a count).
    pub competitor_quotes: i64,
}

/// The decision for one item. Optional values are valid only when their
/// `PRICEGUARD_DECISION_HAS_*` bit is set in `present` (else they are 0).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct priceguard_decision {
    /// A `priceguard_outcome`.
    pub outcome: u32,
    /// A `priceguard_reason` code; `priceguard_reason_name` names it.
    pub reason: u32,
    /// `PRICEGUARD_DECISION_HAS_*` bits.
    pub present: u32,
    /// Classes relaxed to resolve a conflict: bit `1 << priceguard_class`.
    pub relaxed: u32,
    /// The price to publish, minor units.
    pub price: i64,
    /// Lower end of the feasible interval used.
    pub lower: i64,
    /// Upper end of the feasible interval used.
    pub upper: i64,
    /// Rules whose bound the proposal broke: bit `UINT64_C(1) << priceguard_rule`.
    pub violated: u64,
    /// Rules whose bound equals the published price (or that moved it).
    pub binding: u64,
    /// Rules the published price does not satisfy although kept (`price_ending`).
    pub unmet: u64,
    /// `(reference_price - price) * expected_units` for a promoted item, never
    /// negative; exact in the `*_scaled` calls (in the item's units).
    pub promo_spend: i64,
    /// For `invalid_input`: the first offending `priceguard_field`.
    pub invalid_field: u32,
    /// The price moves more than `approval.max_auto_change` from the current
    /// price: a person should review it.
    pub needs_approval: bool,
    /// For an item held (or rejected) by `prior_price`: the highest "was"
    /// price the promotion may show, in the units of `price` (rounded down
    /// to the minor unit, so it stays lawful).
    pub lawful_reference: i64,
}

/// What a batch did.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct priceguard_batch_summary {
    /// Items evaluated.
    pub items: u64,
    /// Decisions `accepted`.
    pub accepted: u64,
    /// Decisions `adjusted`.
    pub adjusted: u64,
    /// Decisions `held`.
    pub held: u64,
    /// Decisions `rejected`.
    pub rejected: u64,
    /// Items whose proposal violated a hard or financial rule.
    pub violators: u64,
    /// Items with at least one relaxed class.
    pub relaxed: u64,
    /// Items flagged `needs_approval`.
    pub needs_approval: u64,
    /// The circuit breaker tripped: every valid item was held (`circuit_open`).
    pub breaker_tripped: bool,
}

/// Budget taken from a campaign by `priceguard_ledger_reserve` or
/// `priceguard_policy_evaluate_reserving`. Settle each reservation exactly
/// once with `priceguard_ledger_commit` or `priceguard_ledger_release`: the
/// ledger knows each one by its `token`, so settling a copy again gives
/// `PRICEGUARD_RESULT_ALREADY_SETTLED` and a changed copy
/// `PRICEGUARD_RESULT_NOT_RESERVED`, and the budget is untouched. When
/// nothing was reserved (`token == 0`, `amount == 0`) settling does nothing.
/// Treat the struct as opaque data: copy it, never edit it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct priceguard_reservation {
    /// The campaign id (`PRICEGUARD_CAMPAIGN_UNKNOWN` when nothing is reserved).
    pub campaign: u32,
    /// Minor units reserved.
    pub amount: i64,
    /// Names this reservation in its ledger (slot and generation); 0 when
    /// nothing is reserved.
    pub token: u64,
}

/// The engine's item for a C item; `None` when `present` has an unknown bit.
#[inline(always)]
pub(crate) fn to_item(c: &priceguard_item) -> Option<Item> {
    if c.present & !PRICEGUARD_HAS_ALL != 0 {
        return None;
    }
    // The `PRICEGUARD_HAS_*` bits are the engine's field bits (a test
    // checks it), so the item is built in one step, no branch per field.
    let item = Item::from_parts(
        c.present,
        c.campaign,
        c.segment,
        c.proposed_price,
        [
            c.current_price,
            c.unit_cost,
            c.min_price,
            c.max_price,
            c.map_price,
            c.reference_price,
            c.expected_units,
            c.now,
            c.last_change_at,
            c.changes_in_window,
            c.window_anchor_price,
            c.baseline_price,
            c.competitor_price,
            c.pinned_price,
        ],
    );
    // The history fields are set one by one (`from_parts` takes the
    // sixteen first), behind one test: most items carry none.
    if c.present & PRICEGUARD_HAS_HISTORY == 0 {
        return Some(item);
    }
    Some(with_history(item, c))
}

/// `item` with the history fields `c` marks present.
#[inline(never)]
fn with_history(mut item: Item, c: &priceguard_item) -> Item {
    for (f, v) in [
        (Field::PriorLowPrice, c.prior_low_price),
        (Field::PromoStartedAt, c.promo_started_at),
        (Field::LastPromoEndedAt, c.last_promo_ended_at),
        (Field::ReversalsInWindow, c.reversals_in_window),
        (Field::CompetitorQuotes, c.competitor_quotes),
    ] {
        if c.present & f.bit() != 0 {
            item.set(f, v);
        }
    }
    item
}

/// The most digits beyond the minor unit a scaled call takes
/// (`priceguard_policy_evaluate_scaled` and the `priceguard_amount_*`
/// functions): money in `10^-6` minor units is exact to 8 decimal places
/// in USD. A larger scale is `PRICEGUARD_RESULT_INVALID_ARGUMENT`.
pub const PRICEGUARD_MAX_SCALE: u8 = 6;

/// The engine's item for a C item whose money is in `10^-scale` minor
/// units, at the least scale that holds its values (whole minor units take
/// every fast path); `None` for an unknown presence bit or a scale beyond
/// [`PRICEGUARD_MAX_SCALE`].
#[inline]
pub(crate) fn to_item_scaled(c: &priceguard_item, scale: u8) -> Option<Item> {
    if scale > PRICEGUARD_MAX_SCALE {
        return None;
    }
    let item = to_item(c)?;
    if scale == 0 {
        return Some(item);
    }
    Some(item.with_scale(scale).normalized())
}

/// A decision's money in `10^-scale` minor units, as a scaled call returns
/// it: prices and the interval (whole minor units) multiplied out, the
/// spend (exact, never finer than the item) brought to `scale`. `None`
/// when a value does not fit 64 bits at that scale.
pub(crate) fn scale_decision(mut d: Decision, scale: u8) -> Option<Decision> {
    if scale == 0 && d.spend_scale == 0 {
        return Some(d);
    }
    let f = pow10_i64(scale);
    let up = |v: Option<i64>| match v {
        Some(v) => v.checked_mul(f).map(Some),
        None => Some(None),
    };
    d.price = up(d.price)?;
    d.lower = up(d.lower)?;
    d.upper = up(d.upper)?;
    d.lawful_reference = up(d.lawful_reference)?;
    if let Some(units) = d.promo_spend {
        let spend = Amount {
            units,
            scale: d.spend_scale,
        };
        d.promo_spend = Some(spend.at_scale(scale)?);
    }
    d.spend_scale = scale;
    Some(d)
}

/// The engine's decision for a C decision from a scaled call: prices and
/// the interval back to minor units (they must divide exactly, as those
/// of a scaled call do), the spend exact at its least scale.
pub(crate) fn to_decision_scaled(
    c: &priceguard_decision,
    scale: u8,
) -> Result<Decision, priceguard_result> {
    let bad = priceguard_result::InvalidArgument;
    if scale > PRICEGUARD_MAX_SCALE {
        return Err(bad);
    }
    let mut d = to_decision(c)?;
    if scale == 0 {
        return Ok(d);
    }
    let f = pow10_i64(scale);
    let down = |v: Option<i64>| match v {
        Some(v) if v % f != 0 => Err(bad),
        v => Ok(v.map(|v| v / f)),
    };
    d.price = down(d.price)?;
    d.lower = down(d.lower)?;
    d.upper = down(d.upper)?;
    d.lawful_reference = down(d.lawful_reference)?;
    if let Some(units) = d.promo_spend {
        let spend = Amount { units, scale }.reduced();
        d.promo_spend = Some(spend.units);
        d.spend_scale = spend.scale;
    }
    Ok(d)
}

/// Sets money field `field` of a C item (its presence bit too);
/// `proposed_price` has no bit. Other fields are left alone.
pub(crate) fn set_c_money(c: &mut priceguard_item, field: Field, v: i64) {
    let slot = match field {
        Field::ProposedPrice => {
            c.proposed_price = v;
            return;
        }
        Field::CurrentPrice => &mut c.current_price,
        Field::UnitCost => &mut c.unit_cost,
        Field::MinPrice => &mut c.min_price,
        Field::MaxPrice => &mut c.max_price,
        Field::MapPrice => &mut c.map_price,
        Field::ReferencePrice => &mut c.reference_price,
        Field::WindowAnchorPrice => &mut c.window_anchor_price,
        Field::BaselinePrice => &mut c.baseline_price,
        Field::CompetitorPrice => &mut c.competitor_price,
        Field::PinnedPrice => &mut c.pinned_price,
        Field::PriorLowPrice => &mut c.prior_low_price,
        _ => return,
    };
    *slot = v;
    c.present |= field.bit();
}

/// Writes the C form of a decision to `out`, field by field.
///
/// Cheaper than building a `priceguard_decision` and writing it whole. The
/// reason code is a jump table; taken first, it no longer sits in the middle
/// of the conversion, so each field is loaded, converted and stored in turn
/// and the export needs half the callee-saved registers it did.
///
/// # Safety
///
/// `out` is valid for a write of a `priceguard_decision`.
#[inline(always)]
pub(crate) unsafe fn write_decision(d: &Decision, out: *mut priceguard_decision) {
    use std::ptr::addr_of_mut;
    // SAFETY (every write below): `out` is valid for a write of the whole
    // struct (caller contract), so of each field.
    unsafe { addr_of_mut!((*out).reason).write(d.reason.code()) };
    let mut present = 0;
    let mut opt = |v: Option<i64>, bit: u32| match v {
        Some(v) => {
            present |= bit;
            v
        }
        None => 0,
    };
    let price = opt(d.price, PRICEGUARD_DECISION_HAS_PRICE);
    let lower = opt(d.lower, PRICEGUARD_DECISION_HAS_LOWER);
    let upper = opt(d.upper, PRICEGUARD_DECISION_HAS_UPPER);
    let promo_spend = opt(d.promo_spend, PRICEGUARD_DECISION_HAS_PROMO_SPEND);
    let lawful_reference = opt(d.lawful_reference, PRICEGUARD_DECISION_HAS_LAWFUL_REFERENCE);
    let invalid_field = match d.invalid_field {
        Some(f) => {
            present |= PRICEGUARD_DECISION_HAS_INVALID_FIELD;
            f as u32
        }
        None => 0,
    };
    unsafe {
        addr_of_mut!((*out).outcome).write(d.outcome as u32);
        addr_of_mut!((*out).present).write(present);
        addr_of_mut!((*out).relaxed).write(u32::from(d.relaxed.0));
        addr_of_mut!((*out).price).write(price);
        addr_of_mut!((*out).lower).write(lower);
        addr_of_mut!((*out).upper).write(upper);
        addr_of_mut!((*out).violated).write(d.violated.0);
        addr_of_mut!((*out).binding).write(d.binding.0);
        addr_of_mut!((*out).unmet).write(d.unmet.0);
        addr_of_mut!((*out).promo_spend).write(promo_spend);
        addr_of_mut!((*out).invalid_field).write(invalid_field);
        addr_of_mut!((*out).needs_approval).write(d.needs_approval);
        addr_of_mut!((*out).lawful_reference).write(lawful_reference);
    }
}

/// The C form of a decision, as a value (tests).
#[cfg(test)]
pub(crate) fn from_decision(d: &Decision) -> priceguard_decision {
    let mut c = priceguard_decision::default();
    // SAFETY: `c` is a live local.
    unsafe { write_decision(d, &mut c) };
    c
}

/// The engine's decision for a C decision, checking every code.
pub(crate) fn to_decision(c: &priceguard_decision) -> Result<Decision, priceguard_result> {
    let bad = priceguard_result::InvalidArgument;
    let outcome = *Outcome::ALL.get(c.outcome as usize).ok_or(bad)?;
    let reason = Reason::from_code(c.reason).ok_or(bad)?;
    let relaxed = u8::try_from(c.relaxed)
        .ok()
        .filter(|r| r & !0x1f == 0)
        .ok_or(bad)?;
    let opt = |v: i64, bit: u32| (c.present & bit != 0).then_some(v);
    let invalid_field = if c.present & PRICEGUARD_DECISION_HAS_INVALID_FIELD != 0 {
        Some(*Field::ALL.get(c.invalid_field as usize).ok_or(bad)?)
    } else {
        None
    };
    Ok(Decision {
        outcome,
        reason,
        price: opt(c.price, PRICEGUARD_DECISION_HAS_PRICE),
        lower: opt(c.lower, PRICEGUARD_DECISION_HAS_LOWER),
        upper: opt(c.upper, PRICEGUARD_DECISION_HAS_UPPER),
        violated: RuleSet(c.violated),
        binding: RuleSet(c.binding),
        unmet: RuleSet(c.unmet),
        relaxed: ClassSet(relaxed),
        promo_spend: opt(c.promo_spend, PRICEGUARD_DECISION_HAS_PROMO_SPEND),
        spend_scale: 0,
        needs_approval: c.needs_approval,
        invalid_field,
        lawful_reference: opt(c.lawful_reference, PRICEGUARD_DECISION_HAS_LAWFUL_REFERENCE),
    })
}

/// The C form of a batch summary.
pub(crate) fn from_summary(s: &BatchSummary) -> priceguard_batch_summary {
    priceguard_batch_summary {
        items: s.items,
        accepted: s.count(Outcome::Accepted),
        adjusted: s.count(Outcome::Adjusted),
        held: s.count(Outcome::Held),
        rejected: s.count(Outcome::Rejected),
        violators: s.violators,
        relaxed: s.relaxed,
        needs_approval: s.needs_approval,
        breaker_tripped: s.breaker_tripped,
    }
}

#[cfg(test)]
/// The core rule of each C rule code, for the tests that keep them in step.
pub(crate) const RULES: [(priceguard_rule, Rule); 29] = [
    (priceguard_rule::MinPrice, Rule::MinPrice),
    (priceguard_rule::MaxPrice, Rule::MaxPrice),
    (priceguard_rule::Map, Rule::Map),
    (priceguard_rule::EmergencyCap, Rule::EmergencyCap),
    (priceguard_rule::Margin, Rule::Margin),
    (priceguard_rule::Markup, Rule::Markup),
    (priceguard_rule::UnitMargin, Rule::UnitMargin),
    (priceguard_rule::MaxDiscount, Rule::MaxDiscount),
    (priceguard_rule::PromoBudget, Rule::PromoBudget),
    (priceguard_rule::MaxIncrease, Rule::MaxIncrease),
    (priceguard_rule::MaxDecrease, Rule::MaxDecrease),
    (priceguard_rule::MaxStep, Rule::MaxStep),
    (priceguard_rule::WindowIncrease, Rule::WindowIncrease),
    (priceguard_rule::WindowDecrease, Rule::WindowDecrease),
    (priceguard_rule::Cooldown, Rule::Cooldown),
    (priceguard_rule::MaxChanges, Rule::MaxChanges),
    (priceguard_rule::MinChange, Rule::MinChange),
    (priceguard_rule::CompetitorFloor, Rule::CompetitorFloor),
    (priceguard_rule::CompetitorCeiling, Rule::CompetitorCeiling),
    (priceguard_rule::PriceEnding, Rule::PriceEnding),
    (priceguard_rule::Tick, Rule::Tick),
    (priceguard_rule::Pinned, Rule::Pinned),
    (priceguard_rule::MaxMarkup, Rule::MaxMarkup),
    (priceguard_rule::LadderGap, Rule::LadderGap),
    (priceguard_rule::LadderMaxGap, Rule::LadderMaxGap),
    (priceguard_rule::UnitPrice, Rule::UnitPrice),
    (priceguard_rule::PriorPrice, Rule::PriorPrice),
    (priceguard_rule::PromoSpell, Rule::PromoSpell),
    (priceguard_rule::Oscillation, Rule::Oscillation),
];

/// The core class of each C class code.
pub(crate) const CLASSES: [(priceguard_class, Class); 6] = [
    (priceguard_class::Hard, Class::Hard),
    (priceguard_class::Financial, Class::Financial),
    (priceguard_class::Stability, Class::Stability),
    (priceguard_class::Market, Class::Market),
    (priceguard_class::Cosmetic, Class::Cosmetic),
    (priceguard_class::Group, Class::Group),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_codes_match_core() {
        assert_eq!(RULES.len(), Rule::ALL.len());
        for (c, r) in RULES {
            assert_eq!(c as u32, r as u32, "{}", r.name());
            assert_eq!(Reason::Rule(r).code(), c as u32 + 1);
        }
        for (c, k) in CLASSES {
            assert_eq!(c as u32, k as u32);
        }
        let others = [
            (priceguard_reason::None, Reason::None),
            (priceguard_reason::Infeasible, Reason::Infeasible),
            (priceguard_reason::MissingCost, Reason::MissingCost),
            (priceguard_reason::InvalidInput, Reason::InvalidInput),
            (priceguard_reason::CircuitOpen, Reason::CircuitOpen),
            (priceguard_reason::Freeze, Reason::Freeze),
            (priceguard_reason::Unbounded, Reason::Unbounded),
            (priceguard_reason::Ladder, Reason::Ladder),
            (priceguard_reason::UnitPrice, Reason::Rule(Rule::UnitPrice)),
            (priceguard_reason::Pinned, Reason::Rule(Rule::Pinned)),
            (priceguard_reason::MaxMarkup, Reason::Rule(Rule::MaxMarkup)),
            (priceguard_reason::MinPrice, Reason::Rule(Rule::MinPrice)),
            (
                priceguard_reason::PriorPrice,
                Reason::Rule(Rule::PriorPrice),
            ),
            (
                priceguard_reason::PromoSpell,
                Reason::Rule(Rule::PromoSpell),
            ),
            (
                priceguard_reason::Oscillation,
                Reason::Rule(Rule::Oscillation),
            ),
            (
                priceguard_reason::CompetitorQuality,
                Reason::CompetitorQuality,
            ),
        ];
        for (c, r) in others {
            assert_eq!(c as u32, r.code());
        }
    }

    #[test]
    fn field_bits_match_core() {
        let bits = [
            (
                PRICEGUARD_HAS_CURRENT_PRICE,
                Field::CurrentPrice,
                priceguard_field::CurrentPrice,
            ),
            (
                PRICEGUARD_HAS_UNIT_COST,
                Field::UnitCost,
                priceguard_field::UnitCost,
            ),
            (
                PRICEGUARD_HAS_MIN_PRICE,
                Field::MinPrice,
                priceguard_field::MinPrice,
            ),
            (
                PRICEGUARD_HAS_MAX_PRICE,
                Field::MaxPrice,
                priceguard_field::MaxPrice,
            ),
            (
                PRICEGUARD_HAS_MAP_PRICE,
                Field::MapPrice,
                priceguard_field::MapPrice,
            ),
            (
                PRICEGUARD_HAS_REFERENCE_PRICE,
                Field::ReferencePrice,
                priceguard_field::ReferencePrice,
            ),
            (
                PRICEGUARD_HAS_EXPECTED_UNITS,
                Field::ExpectedUnits,
                priceguard_field::ExpectedUnits,
            ),
            (
                PRICEGUARD_HAS_CAMPAIGN,
                Field::Campaign,
                priceguard_field::Campaign,
            ),
            (PRICEGUARD_HAS_NOW, Field::Now, priceguard_field::Now),
            (
                PRICEGUARD_HAS_LAST_CHANGE_AT,
                Field::LastChangeAt,
                priceguard_field::LastChangeAt,
            ),
            (
                PRICEGUARD_HAS_CHANGES_IN_WINDOW,
                Field::ChangesInWindow,
                priceguard_field::ChangesInWindow,
            ),
            (
                PRICEGUARD_HAS_WINDOW_ANCHOR_PRICE,
                Field::WindowAnchorPrice,
                priceguard_field::WindowAnchorPrice,
            ),
            (
                PRICEGUARD_HAS_BASELINE_PRICE,
                Field::BaselinePrice,
                priceguard_field::BaselinePrice,
            ),
            (
                PRICEGUARD_HAS_COMPETITOR_PRICE,
                Field::CompetitorPrice,
                priceguard_field::CompetitorPrice,
            ),
            (
                PRICEGUARD_HAS_SEGMENT,
                Field::Segment,
                priceguard_field::Segment,
            ),
            (
                PRICEGUARD_HAS_PINNED_PRICE,
                Field::PinnedPrice,
                priceguard_field::PinnedPrice,
            ),
            (
                PRICEGUARD_HAS_PRIOR_LOW_PRICE,
                Field::PriorLowPrice,
                priceguard_field::PriorLowPrice,
            ),
            (
                PRICEGUARD_HAS_PROMO_STARTED_AT,
                Field::PromoStartedAt,
                priceguard_field::PromoStartedAt,
            ),
            (
                PRICEGUARD_HAS_LAST_PROMO_ENDED_AT,
                Field::LastPromoEndedAt,
                priceguard_field::LastPromoEndedAt,
            ),
            (
                PRICEGUARD_HAS_REVERSALS_IN_WINDOW,
                Field::ReversalsInWindow,
                priceguard_field::ReversalsInWindow,
            ),
            (
                PRICEGUARD_HAS_COMPETITOR_QUOTES,
                Field::CompetitorQuotes,
                priceguard_field::CompetitorQuotes,
            ),
        ];
        let mut all = 0;
        for (bit, f, c) in bits {
            assert_eq!(bit, f.bit(), "{f}");
            assert_eq!(c as u32, f as u32);
            all |= bit;
        }
        assert_eq!(all, PRICEGUARD_HAS_ALL);
        let history = Field::HISTORY.iter().fold(0, |b, f| b | f.bit());
        assert_eq!(history, PRICEGUARD_HAS_HISTORY);
        assert_eq!(
            priceguard_field::ProposedPrice as u32,
            Field::ProposedPrice as u32
        );
        assert_eq!(priceguard_field::Sku as u32, Field::Sku as u32);
        assert_eq!(
            PRICEGUARD_CAMPAIGN_UNKNOWN,
            priceguard::CampaignId::UNKNOWN.0
        );
    }

    #[test]
    fn item_round_trips_every_field() {
        let c = priceguard_item {
            present: PRICEGUARD_HAS_ALL,
            campaign: 3,
            segment: 9,
            proposed_price: 1,
            current_price: 2,
            unit_cost: 3,
            min_price: 4,
            max_price: 5,
            map_price: 6,
            reference_price: 7,
            expected_units: 8,
            now: 9,
            last_change_at: 10,
            changes_in_window: 11,
            window_anchor_price: 12,
            baseline_price: 13,
            competitor_price: 14,
            pinned_price: 15,
            prior_low_price: 18,
            promo_started_at: 19,
            last_promo_ended_at: 20,
            reversals_in_window: 21,
            competitor_quotes: 22,
        };
        let item = to_item(&c).unwrap();
        assert_eq!(item.presence(), PRICEGUARD_HAS_ALL);
        assert_eq!(item.proposed_price(), 1);
        assert_eq!(item.pinned_price(), Some(15));
        assert_eq!(item.get(Field::Campaign), Some(3));
        assert_eq!(item.get(Field::Segment), Some(9));
        for (i, f) in Field::ALL.iter().take(16).enumerate() {
            if !matches!(f, Field::Campaign | Field::Segment) {
                assert!(item.get(*f).is_some(), "{f} {i}");
            }
        }
        // Each history field lands in its own slot (value = its code).
        for f in Field::HISTORY {
            assert_eq!(item.get(f), Some(f as i64), "{f}");
        }
        let none = priceguard_item { present: 0, ..c };
        assert_eq!(to_item(&none).unwrap(), Item::new(1));
        // One history field alone: the others stay absent.
        let one = priceguard_item {
            present: PRICEGUARD_HAS_REVERSALS_IN_WINDOW,
            ..c
        };
        assert_eq!(
            to_item(&one).unwrap(),
            Item::new(1).with_reversals_in_window(21)
        );
        // 16 (`proposed_price`), 17 (`sku`) and 23 up are no presence bits.
        for bit in [16, 17, 23, 31] {
            assert!(to_item(&priceguard_item {
                present: 1 << bit,
                ..c
            })
            .is_none());
        }
    }

    #[test]
    fn max_scale_is_the_cores() {
        assert_eq!(PRICEGUARD_MAX_SCALE, priceguard::money::MAX_SCALE);
    }

    #[test]
    fn scaled_decisions_round_trip() {
        let d = Decision {
            price: Some(1944),
            lower: Some(589),
            upper: None,
            promo_spend: Some(54_373),
            spend_scale: 1,
            lawful_reference: Some(1999),
            ..Decision::default()
        };
        let c = scale_decision(d, 2).map(|d| from_decision(&d)).unwrap();
        assert_eq!(
            (c.price, c.lower, c.promo_spend, c.lawful_reference),
            (194_400, 58_900, 543_730, 199_900)
        );
        assert_ne!(c.present & PRICEGUARD_DECISION_HAS_LAWFUL_REFERENCE, 0);
        assert_eq!(to_decision_scaled(&c, 2), Ok(d));
        // Prices that are not whole minor units did not come from a scaled call.
        let odd = priceguard_decision {
            price: 194_373,
            ..c
        };
        assert_eq!(
            to_decision_scaled(&odd, 2),
            Err(priceguard_result::InvalidArgument)
        );
        assert_eq!(
            to_decision_scaled(&c, 7),
            Err(priceguard_result::InvalidArgument)
        );
        // Too large for 64 bits at the scale.
        let big = Decision {
            price: Some(i64::MAX / 10),
            ..Decision::default()
        };
        assert_eq!(scale_decision(big, 2), None);
        assert_eq!(scale_decision(big, 0), Some(big));
    }

    #[test]
    fn decision_round_trips() {
        let mut d = Decision::invalid(Field::UnitCost);
        d.lower = Some(5);
        let mut held = Decision::hold_or_reject(Some(2499), Reason::Rule(Rule::PriorPrice));
        held.lawful_reference = Some(2499);
        let h = from_decision(&held);
        assert_eq!(
            (h.present, h.lawful_reference),
            (
                PRICEGUARD_DECISION_HAS_PRICE | PRICEGUARD_DECISION_HAS_LAWFUL_REFERENCE,
                2499
            )
        );
        assert_eq!(to_decision(&h), Ok(held));
        d.relaxed = ClassSet(0b110);
        d.violated = RuleSet(1 << 4);
        let c = from_decision(&d);
        assert_eq!(
            c.present,
            PRICEGUARD_DECISION_HAS_LOWER | PRICEGUARD_DECISION_HAS_INVALID_FIELD
        );
        assert_eq!(to_decision(&c), Ok(d));
        assert_eq!(
            to_decision(&priceguard_decision { outcome: 4, ..c }),
            Err(priceguard_result::InvalidArgument)
        );
        assert_eq!(
            to_decision(&priceguard_decision { reason: 63, ..c }),
            Err(priceguard_result::InvalidArgument)
        );
        assert_eq!(
            to_decision(&priceguard_decision { relaxed: 0x20, ..c }),
            Err(priceguard_result::InvalidArgument)
        );
        assert_eq!(
            to_decision(&priceguard_decision {
                invalid_field: Field::ALL.len() as u32,
                ..c
            }),
            Err(priceguard_result::InvalidArgument)
        );
    }
}
