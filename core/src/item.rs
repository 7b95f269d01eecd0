//! One proposal to evaluate (docs/spec.md §3), in integer minor units.

use core::fmt;

#[cfg(doc)]
use crate::money::MAX_SCALE;
use crate::money::{pow10_i64, Amount, Digits};

/// An item field, for presence bits and for naming the field of a bad input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum Field {
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
    /// `sku` (the engine never sees it; named by edge parsers)
    Sku = 17,
    /// `prior_low_price`: the lowest price in force in the disclosure
    /// window before the current promotion began.
    PriorLowPrice = 18,
    /// `promo_started_at`: when the promotion in force began.
    PromoStartedAt = 19,
    /// `last_promo_ended_at`: when the previous promotion ended.
    LastPromoEndedAt = 20,
    /// `reversals_in_window`: direction flips of the price in the window.
    ReversalsInWindow = 21,
    /// `competitor_quotes`: competitor quotes kept for `competitor_price`.
    CompetitorQuotes = 22,
    /// `group`: the group id a row belongs to (beside the item, docs/spec.md §10)
    Group = 23,
    /// `rank`: the row's place in its group's ladder
    Rank = 24,
    /// `pack_size`: units in the row's pack
    PackSize = 25,
}

impl Field {
    /// Every field in code order (`Field::ALL[i] as u8 == i`): the first
    /// sixteen optional fields, `proposed_price`, `sku`, the history
    /// summary fields (optional item fields), then the group fields (beside
    /// the item).
    pub const ALL: [Field; 26] = [
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
        Field::ProposedPrice,
        Field::Sku,
        Field::PriorLowPrice,
        Field::PromoStartedAt,
        Field::LastPromoEndedAt,
        Field::ReversalsInWindow,
        Field::CompetitorQuotes,
        Field::Group,
        Field::Rank,
        Field::PackSize,
    ];

    /// The history summary fields (docs/spec.md §11), in code order.
    pub const HISTORY: [Field; 5] = [
        Field::PriorLowPrice,
        Field::PromoStartedAt,
        Field::LastPromoEndedAt,
        Field::ReversalsInWindow,
        Field::CompetitorQuotes,
    ];

    /// The fields that place a row in a group (docs/spec.md §10). They live
    /// beside the item, not in it, so they are not in [`Field::SPEC_ORDER`].
    pub const GROUP_FIELDS: [Field; 3] = [Field::Group, Field::Rank, Field::PackSize];

    /// Every field in docs/spec.md §3 table order: the order in which inputs are
    /// read and checked, so the first bad field named is the same in every
    /// interface.
    pub const SPEC_ORDER: [Field; 23] = [
        Field::Sku,
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
        Field::PriorLowPrice,
        Field::PromoStartedAt,
        Field::LastPromoEndedAt,
        Field::ReversalsInWindow,
        Field::CompetitorQuotes,
    ];

    /// The docs/spec.md §3 name.
    pub const fn name(self) -> &'static str {
        match self {
            Field::CurrentPrice => "current_price",
            Field::UnitCost => "unit_cost",
            Field::MinPrice => "min_price",
            Field::MaxPrice => "max_price",
            Field::MapPrice => "map_price",
            Field::ReferencePrice => "reference_price",
            Field::ExpectedUnits => "expected_units",
            Field::Campaign => "campaign",
            Field::Now => "now",
            Field::LastChangeAt => "last_change_at",
            Field::ChangesInWindow => "changes_in_window",
            Field::WindowAnchorPrice => "window_anchor_price",
            Field::BaselinePrice => "baseline_price",
            Field::CompetitorPrice => "competitor_price",
            Field::Segment => "segment",
            Field::PinnedPrice => "pinned_price",
            Field::ProposedPrice => "proposed_price",
            Field::Sku => "sku",
            Field::PriorLowPrice => "prior_low_price",
            Field::PromoStartedAt => "promo_started_at",
            Field::LastPromoEndedAt => "last_promo_ended_at",
            Field::ReversalsInWindow => "reversals_in_window",
            Field::CompetitorQuotes => "competitor_quotes",
            Field::Group => "group",
            Field::Rank => "rank",
            Field::PackSize => "pack_size",
        }
    }

    /// The field with this docs/spec.md §3 name.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether the field holds money in the policy currency.
    pub const fn is_money(self) -> bool {
        matches!(
            self,
            Field::CurrentPrice
                | Field::UnitCost
                | Field::MinPrice
                | Field::MaxPrice
                | Field::MapPrice
                | Field::ReferencePrice
                | Field::WindowAnchorPrice
                | Field::BaselinePrice
                | Field::CompetitorPrice
                | Field::PinnedPrice
                | Field::ProposedPrice
                | Field::PriorLowPrice
        )
    }

    /// How a money value of this field keeps digits past
    /// [`MAX_SCALE`]: the proposal and the pin
    /// keep what their snap to the tick needs, every other field is
    /// rounded half to even (docs/spec.md M1).
    pub const fn digits(self) -> Digits {
        match self {
            Field::ProposedPrice | Field::PinnedPrice => Digits::Snapped,
            _ => Digits::Exact,
        }
    }

    /// The presence bit, for the optional fields.
    pub const fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

/// The presence bits of the sixteen optional fields [`Item::from_parts`]
/// takes (the history fields are set one by one).
const ALL_OPTIONAL: u32 = 0xFFFF;

/// The presence bits of the history summary fields.
pub(crate) const HISTORY_BITS: u32 = Field::PriorLowPrice.bit()
    | Field::PromoStartedAt.bit()
    | Field::LastPromoEndedAt.bit()
    | Field::ReversalsInWindow.bit()
    | Field::CompetitorQuotes.bit();

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A campaign reference resolved against a policy with
/// [`Policy::campaign_id`](crate::Policy::campaign_id). Names are resolved
/// once at the edge so the hot path never compares strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CampaignId(pub u32);

impl CampaignId {
    /// A campaign the policy has no budget for: items naming it are held.
    pub const UNKNOWN: CampaignId = CampaignId(u32::MAX);
}

/// One proposal with its context. Money is in minor units of the policy
/// currency; every field but `proposed_price` is optional.
///
/// Compact by design (optional fields share one presence mask) so that a
/// batch of items streams through the cache: see [`Item::SIZE`].
///
/// ```
/// use priceguard::Item;
/// let item = Item::new(1249).with_current_price(1299).with_unit_cost(1222);
/// assert_eq!(item.current_price(), Some(1299));
/// assert_eq!(item.competitor_price(), None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Item {
    present: u32,
    campaign: u32,
    segment: u32,
    /// Money is in `10^-scale` minor units (docs/spec.md M1); in the
    /// padding before the first `i64`, so items stay the same size.
    scale: u8,
    proposed_price: i64,
    current_price: i64,
    unit_cost: i64,
    min_price: i64,
    max_price: i64,
    map_price: i64,
    reference_price: i64,
    expected_units: i64,
    now: i64,
    last_change_at: i64,
    changes_in_window: i64,
    window_anchor_price: i64,
    baseline_price: i64,
    competitor_price: i64,
    pinned_price: i64,
    // The history summary (docs/spec.md §11): 40 bytes more per item
    // (136 -> 176), still a multiple of 8.
    prior_low_price: i64,
    promo_started_at: i64,
    last_promo_ended_at: i64,
    reversals_in_window: i64,
    competitor_quotes: i64,
}

macro_rules! optional_fields {
    ($( $field:ident, $with:ident, $variant:ident, $doc:literal; )*) => {
        impl Item {
            $(
                #[doc = concat!("`", stringify!($field), "`: ", $doc)]
                #[inline]
                pub const fn $field(&self) -> Option<i64> {
                    if self.present & Field::$variant.bit() != 0 { Some(self.$field) } else { None }
                }

                #[doc = concat!("Sets `", stringify!($field), "`.")]
                #[inline]
                #[must_use]
                pub const fn $with(mut self, value: i64) -> Item {
                    self.$field = value;
                    self.present |= Field::$variant.bit();
                    self
                }
            )*
        }
    };
}

optional_fields! {
    current_price, with_current_price, CurrentPrice, "live price now; absent for a new listing.";
    unit_cost, with_unit_cost, UnitCost, "landed unit cost.";
    min_price, with_min_price, MinPrice, "per-item minimum, tightened with the policy's.";
    max_price, with_max_price, MaxPrice, "per-item maximum, tightened with the policy's.";
    map_price, with_map_price, MapPrice, "minimum advertised price.";
    reference_price, with_reference_price, ReferencePrice, "regular price a promotion discounts from; marks the item as on promotion.";
    expected_units, with_expected_units, ExpectedUnits, "forecast units sold at the promoted price (a whole number).";
    now, with_now, Now, "evaluation time, unix seconds.";
    last_change_at, with_last_change_at, LastChangeAt, "time of the last price change, unix seconds.";
    changes_in_window, with_changes_in_window, ChangesInWindow, "price changes already made in the policy's window.";
    window_anchor_price, with_window_anchor_price, WindowAnchorPrice, "the price at the start of the drift window.";
    baseline_price, with_baseline_price, BaselinePrice, "pre-emergency price for the emergency cap.";
    competitor_price, with_competitor_price, CompetitorPrice, "a reference competitor price.";
    pinned_price, with_pinned_price, PinnedPrice, "a merchandiser's manual price.";
    prior_low_price, with_prior_low_price, PriorLowPrice, "the lowest price in force in the `prior_days` before the current promotion began (the lawful \"was\" price).";
    promo_started_at, with_promo_started_at, PromoStartedAt, "when the promotion in force began, unix seconds.";
    last_promo_ended_at, with_last_promo_ended_at, LastPromoEndedAt, "when the previous promotion ended, unix seconds.";
    reversals_in_window, with_reversals_in_window, ReversalsInWindow, "times the price changed direction in the policy's window.";
    competitor_quotes, with_competitor_quotes, CompetitorQuotes, "competitor quotes kept (fresh, not outliers) for `competitor_price`.";
}

impl Item {
    /// An item from the raw parts an FFI or columnar caller holds: the
    /// presence mask (bit [`Field::bit`] of each optional field that is
    /// set; other bits are ignored), the campaign and segment ids, the
    /// proposal, and the fourteen other optional values in [`Field`] order
    /// (`current_price`, `unit_cost`, `min_price`, `max_price`, `map_price`,
    /// `reference_price`, `expected_units`, `now`, `last_change_at`,
    /// `changes_in_window`, `window_anchor_price`, `baseline_price`,
    /// `competitor_price`, `pinned_price`). Values whose bit is clear are
    /// stored as zero, so equal items compare equal. No branch per field.
    ///
    /// ```
    /// use priceguard::{Field, Item};
    /// let present = Field::CurrentPrice.bit() | Field::Now.bit();
    /// let mut values = [0; 14];
    /// values[0] = 1299; // current_price
    /// values[7] = 1_800_000_000; // now
    /// values[1] = 999; // unit_cost: bit clear, ignored
    /// let item = Item::from_parts(present, 0, 0, 1249, values);
    /// assert_eq!(item, Item::new(1249).with_current_price(1299).with_now(1_800_000_000));
    /// ```
    #[inline]
    pub const fn from_parts(
        present: u32,
        campaign: u32,
        segment: u32,
        proposed_price: i64,
        values: [i64; 14],
    ) -> Item {
        let present = present & ALL_OPTIONAL;
        /// All ones when `field` is present. Written as a select, not as
        /// `-(bit as i64)`: LLVM then builds the fourteen masks two at a
        /// time with one vector AND and compare (about 40 fewer
        /// instructions per item than shifting each bit into place).
        const fn keep(present: u32, field: Field) -> i64 {
            if present & field.bit() != 0 {
                -1
            } else {
                0
            }
        }
        let [current_price, unit_cost, min_price, max_price, map_price, reference_price, expected_units, now, last_change_at, changes_in_window, window_anchor_price, baseline_price, competitor_price, pinned_price] =
            values;
        Item {
            present,
            scale: 0,
            campaign: campaign & (keep(present, Field::Campaign) as u32),
            segment: segment & (keep(present, Field::Segment) as u32),
            proposed_price,
            current_price: current_price & keep(present, Field::CurrentPrice),
            unit_cost: unit_cost & keep(present, Field::UnitCost),
            min_price: min_price & keep(present, Field::MinPrice),
            max_price: max_price & keep(present, Field::MaxPrice),
            map_price: map_price & keep(present, Field::MapPrice),
            reference_price: reference_price & keep(present, Field::ReferencePrice),
            expected_units: expected_units & keep(present, Field::ExpectedUnits),
            now: now & keep(present, Field::Now),
            last_change_at: last_change_at & keep(present, Field::LastChangeAt),
            changes_in_window: changes_in_window & keep(present, Field::ChangesInWindow),
            window_anchor_price: window_anchor_price & keep(present, Field::WindowAnchorPrice),
            baseline_price: baseline_price & keep(present, Field::BaselinePrice),
            competitor_price: competitor_price & keep(present, Field::CompetitorPrice),
            pinned_price: pinned_price & keep(present, Field::PinnedPrice),
            prior_low_price: 0,
            promo_started_at: 0,
            last_promo_ended_at: 0,
            reversals_in_window: 0,
            competitor_quotes: 0,
        }
    }

    /// Size of one item in bytes (for batch memory planning).
    pub const SIZE: usize = core::mem::size_of::<Item>();

    /// An item proposing `proposed_price` minor units, with no context.
    pub const fn new(proposed_price: i64) -> Item {
        Item {
            present: 0,
            scale: 0,
            campaign: 0,
            segment: 0,
            proposed_price,
            current_price: 0,
            unit_cost: 0,
            min_price: 0,
            max_price: 0,
            map_price: 0,
            reference_price: 0,
            expected_units: 0,
            now: 0,
            last_change_at: 0,
            changes_in_window: 0,
            window_anchor_price: 0,
            baseline_price: 0,
            competitor_price: 0,
            pinned_price: 0,
            prior_low_price: 0,
            promo_started_at: 0,
            last_promo_ended_at: 0,
            reversals_in_window: 0,
            competitor_quotes: 0,
        }
    }

    /// `proposed_price`: what the engine wants, in minor units.
    #[inline]
    pub const fn proposed_price(&self) -> i64 {
        self.proposed_price
    }

    /// Replaces `proposed_price`.
    #[must_use]
    pub const fn with_proposed_price(mut self, value: i64) -> Item {
        self.proposed_price = value;
        self
    }

    /// `campaign`: the promotion budget the item draws on.
    #[inline]
    pub const fn campaign(&self) -> Option<CampaignId> {
        if self.present & Field::Campaign.bit() != 0 {
            Some(CampaignId(self.campaign))
        } else {
            None
        }
    }

    /// Sets `campaign`.
    #[must_use]
    pub const fn with_campaign(mut self, id: CampaignId) -> Item {
        self.campaign = id.0;
        self.present |= Field::Campaign.bit();
        self
    }

    /// `segment`: selects a per-segment rule override.
    #[inline]
    pub const fn segment(&self) -> Option<u32> {
        if self.present & Field::Segment.bit() != 0 {
            Some(self.segment)
        } else {
            None
        }
    }

    /// Sets `segment`.
    #[must_use]
    pub const fn with_segment(mut self, segment: u32) -> Item {
        self.segment = segment;
        self.present |= Field::Segment.bit();
        self
    }

    /// The stored value of a numeric field whether or not it is present
    /// (meaningless when absent), for code that tests [`Item::presence`]
    /// itself: with a constant `field` it is one load.
    #[inline(always)]
    pub(crate) const fn raw(&self, field: Field) -> i64 {
        match field {
            Field::ProposedPrice => self.proposed_price,
            Field::Sku | Field::Group | Field::Rank | Field::PackSize => 0,
            Field::Campaign => self.campaign as i64,
            Field::Segment => self.segment as i64,
            Field::CurrentPrice => self.current_price,
            Field::UnitCost => self.unit_cost,
            Field::MinPrice => self.min_price,
            Field::MaxPrice => self.max_price,
            Field::MapPrice => self.map_price,
            Field::ReferencePrice => self.reference_price,
            Field::ExpectedUnits => self.expected_units,
            Field::Now => self.now,
            Field::LastChangeAt => self.last_change_at,
            Field::ChangesInWindow => self.changes_in_window,
            Field::WindowAnchorPrice => self.window_anchor_price,
            Field::BaselinePrice => self.baseline_price,
            Field::CompetitorPrice => self.competitor_price,
            Field::PinnedPrice => self.pinned_price,
            Field::PriorLowPrice => self.prior_low_price,
            Field::PromoStartedAt => self.promo_started_at,
            Field::LastPromoEndedAt => self.last_promo_ended_at,
            Field::ReversalsInWindow => self.reversals_in_window,
            Field::CompetitorQuotes => self.competitor_quotes,
        }
    }

    /// Digits beyond the currency's minor unit that the item's money
    /// carries: every money field (the proposal too) is a count of
    /// `10^-scale` minor units. `0`, whole minor units, for most items.
    #[inline]
    pub const fn scale(&self) -> u8 {
        self.scale
    }

    /// Declares that the item's money values are in `10^-scale` minor units
    /// (at most [`MAX_SCALE`]; a larger scale makes the item
    /// `invalid_input`). The values are not changed: use
    /// [`Item::set_amount`] to mix amounts of different scales.
    ///
    /// ```
    /// use priceguard::Item;
    /// // 19.4373 USD proposed, 3.9694 cost: hundredths of a cent.
    /// let item = Item::new(194373).with_unit_cost(39694).with_scale(2);
    /// assert_eq!(item.scale(), 2);
    /// ```
    #[must_use]
    pub const fn with_scale(mut self, scale: u8) -> Item {
        self.scale = scale;
        self
    }

    /// A money field (or the proposal) as an exact [`Amount`].
    pub const fn amount(&self, field: Field) -> Option<Amount> {
        if !field.is_money() {
            return None;
        }
        let v = match field {
            Field::ProposedPrice => self.proposed_price,
            _ if self.present & field.bit() != 0 => self.raw(field),
            _ => return None,
        };
        Some(Amount {
            units: v,
            scale: self.scale,
        })
    }

    /// Sets a money field (or the proposal) to an exact amount, raising
    /// the item's [`scale`](Item::scale) when the amount is finer (every
    /// money value is rescaled, exactly). Fails, leaving the item as it
    /// was, when `field` is not money, or when a value would not fit 64
    /// bits at the new scale: the error names the field that does not
    /// fit.
    ///
    /// ```
    /// use priceguard::{money::Amount, Field, Item};
    /// let mut item = Item::new(1999); // 19.99
    /// item.set_amount(Field::UnitCost, Amount { units: 39694, scale: 2 }).unwrap();
    /// assert_eq!((item.proposed_price(), item.unit_cost(), item.scale()), (199900, Some(39694), 2));
    /// ```
    pub fn set_amount(&mut self, field: Field, amount: Amount) -> Result<(), Field> {
        if !field.is_money() {
            return Err(field);
        }
        // Whole minor units into an item of whole minor units: every door's
        // common case.
        if amount.scale == 0 && self.scale == 0 {
            self.set(field, amount.units);
            return Ok(());
        }
        let amount = amount.reduced();
        let mut next = *self;
        if amount.scale > self.scale {
            let f = pow10_i64(amount.scale - self.scale);
            for g in Field::ALL {
                if !g.is_money() {
                    continue;
                }
                let Some(v) = self.get(g) else { continue };
                let Some(w) = v.checked_mul(f) else {
                    return Err(g);
                };
                next.set(g, w);
            }
            next.scale = amount.scale;
        }
        let Some(v) = amount.at_scale(next.scale) else {
            return Err(field);
        };
        next.set(field, v);
        *self = next;
        Ok(())
    }

    /// The same item at the least scale that holds every money value
    /// exactly: an item whose values are all whole minor units comes back
    /// at scale 0, where every fast path takes it.
    #[must_use]
    pub fn normalized(&self) -> Item {
        if self.scale == 0 {
            return *self;
        }
        let mut drop = self.scale;
        for g in Field::ALL {
            if !g.is_money() {
                continue;
            }
            let Some(mut v) = self.get(g) else { continue };
            let mut z = 0;
            while z < drop && v % 10 == 0 {
                v /= 10;
                z += 1;
            }
            drop = z;
            if drop == 0 {
                return *self;
            }
        }
        let mut out = *self;
        let f = pow10_i64(drop);
        for g in Field::ALL {
            if g.is_money() {
                if let Some(v) = self.get(g) {
                    out.set(g, v / f);
                }
            }
        }
        out.scale = self.scale - drop;
        out
    }

    /// The current price in minor units, rounded half to even when the
    /// item carries finer digits: the price a hold publishes (M1).
    pub fn current_price_minor(&self) -> Option<i64> {
        let v = self.current_price()?;
        Some(if self.scale == 0 {
            v
        } else {
            crate::money::round_to_minor(v, self.scale)
        })
    }

    /// The presence mask: bit [`Field::bit`] set for each present optional field.
    pub const fn presence(&self) -> u32 {
        self.present
    }

    /// Whether an optional field is present.
    pub const fn has(&self, field: Field) -> bool {
        self.present & field.bit() != 0
    }

    /// Removes an optional field (no effect on `proposed_price`).
    #[must_use]
    pub const fn without(self, field: Field) -> Item {
        // Rebuilt through `from_parts`, which stores absent values as zero:
        // the item compares and hashes equal to one never given the field.
        let mut item = Item::from_parts(
            self.present & !field.bit(),
            self.campaign,
            self.segment,
            self.proposed_price,
            [
                self.current_price,
                self.unit_cost,
                self.min_price,
                self.max_price,
                self.map_price,
                self.reference_price,
                self.expected_units,
                self.now,
                self.last_change_at,
                self.changes_in_window,
                self.window_anchor_price,
                self.baseline_price,
                self.competitor_price,
                self.pinned_price,
            ],
        );
        item.scale = self.scale;
        // `from_parts` takes the sixteen first fields: the history ones
        // are carried over here, zero when absent as there.
        item = item.keep_history(&self, field, Field::PriorLowPrice);
        item = item.keep_history(&self, field, Field::PromoStartedAt);
        item = item.keep_history(&self, field, Field::LastPromoEndedAt);
        item = item.keep_history(&self, field, Field::ReversalsInWindow);
        item = item.keep_history(&self, field, Field::CompetitorQuotes);
        item
    }

    /// `from`'s history field `f` carried over, unless it is `dropped`.
    const fn keep_history(self, from: &Item, dropped: Field, f: Field) -> Item {
        if f as u8 != dropped as u8 && from.present & f.bit() != 0 {
            self.with_raw(f, from.raw(f))
        } else {
            self
        }
    }

    /// Sets a history field in a `const` context (see [`Item::without`]).
    const fn with_raw(mut self, field: Field, value: i64) -> Item {
        match field {
            Field::PriorLowPrice => self.prior_low_price = value,
            Field::PromoStartedAt => self.promo_started_at = value,
            Field::LastPromoEndedAt => self.last_promo_ended_at = value,
            Field::ReversalsInWindow => self.reversals_in_window = value,
            Field::CompetitorQuotes => self.competitor_quotes = value,
            _ => return self,
        }
        self.present |= field.bit();
        self
    }

    /// Sets a numeric field by name-independent [`Field`]. `campaign` takes
    /// the raw [`CampaignId`] value; `segment` must fit `u32` (else the
    /// item is left unchanged and `false` returned).
    pub fn set(&mut self, field: Field, value: i64) -> bool {
        let slot = match field {
            Field::ProposedPrice => {
                self.proposed_price = value;
                return true;
            }
            Field::Sku | Field::Group | Field::Rank | Field::PackSize => return false,
            Field::Campaign | Field::Segment => {
                let Ok(v) = u32::try_from(value) else {
                    return false;
                };
                if field == Field::Campaign {
                    self.campaign = v;
                } else {
                    self.segment = v;
                }
                self.present |= field.bit();
                return true;
            }
            Field::CurrentPrice => &mut self.current_price,
            Field::UnitCost => &mut self.unit_cost,
            Field::MinPrice => &mut self.min_price,
            Field::MaxPrice => &mut self.max_price,
            Field::MapPrice => &mut self.map_price,
            Field::ReferencePrice => &mut self.reference_price,
            Field::ExpectedUnits => &mut self.expected_units,
            Field::Now => &mut self.now,
            Field::LastChangeAt => &mut self.last_change_at,
            Field::ChangesInWindow => &mut self.changes_in_window,
            Field::WindowAnchorPrice => &mut self.window_anchor_price,
            Field::BaselinePrice => &mut self.baseline_price,
            Field::CompetitorPrice => &mut self.competitor_price,
            Field::PinnedPrice => &mut self.pinned_price,
            Field::PriorLowPrice => &mut self.prior_low_price,
            Field::PromoStartedAt => &mut self.promo_started_at,
            Field::LastPromoEndedAt => &mut self.last_promo_ended_at,
            Field::ReversalsInWindow => &mut self.reversals_in_window,
            Field::CompetitorQuotes => &mut self.competitor_quotes,
        };
        *slot = value;
        self.present |= field.bit();
        true
    }

    /// Reads a field as an integer (`campaign` and `segment` as their raw ids).
    pub fn get(&self, field: Field) -> Option<i64> {
        match field {
            Field::ProposedPrice => Some(self.proposed_price),
            Field::Sku | Field::Group | Field::Rank | Field::PackSize => None,
            _ => self.has(field).then(|| self.raw(field)),
        }
    }
}
