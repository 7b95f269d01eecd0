//! The policy file's data model (docs/spec.md §8): what TOML and JSON deserialize
//! into, before validation. Keys are exactly those of docs/spec.md §8; unknown keys are
//! refused.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use rust_decimal::Decimal;

/// A decimal written as a string (`"0.15"`) or a number (`0.15`, `3600`).
///
/// Floats are read through their shortest round-trip form, so `0.15` in a
/// TOML or JSON file means exactly 0.15.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Dec(pub Decimal);

impl From<Decimal> for Dec {
    fn from(d: Decimal) -> Dec {
        Dec(d)
    }
}

impl core::fmt::Display for Dec {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&self.0.normalize(), f)
    }
}

/// `[bounds]`
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct BoundsSpec {
    /// Absolute minimum price.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub min_price: Option<Dec>,
    /// Absolute maximum price.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_price: Option<Dec>,
}

/// `[margin]`
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct MarginSpec {
    /// Gross margin floor, a fraction below 1.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub min_margin: Option<Dec>,
    /// Markup floor over cost, a fraction.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub min_markup: Option<Dec>,
    /// Markup cap over cost, a fraction.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_markup: Option<Dec>,
    /// Money over cost.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub min_unit_margin: Option<Dec>,
}

/// `[change]`
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct ChangeSpec {
    /// Largest increase per change, fraction of P.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_increase: Option<Dec>,
    /// Largest decrease per change, fraction of P (at most 1).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_decrease: Option<Dec>,
    /// Largest move per change, money.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_step: Option<Dec>,
    /// Hold window after a change, seconds.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub cooldown_secs: Option<u64>,
    /// Changes allowed per window.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_changes: Option<u64>,
    /// The window over which callers count `changes_in_window` and pick
    /// `window_anchor_price`, seconds.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub window_secs: Option<u64>,
    /// Largest drift above the window anchor, fraction.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub window_increase: Option<Dec>,
    /// Largest drift below the window anchor, fraction (at most 1).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub window_decrease: Option<Dec>,
    /// Anti-flapping band, fraction of P.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub min_change: Option<Dec>,
    /// Direction reversals in the window that hold the item (`oscillation`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_reversals: Option<u64>,
}

/// `[promotion]`
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct PromotionSpec {
    /// Deepest discount off `reference_price`, fraction.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_discount: Option<Dec>,
    /// Campaign budgets (policy-wide; refused inside a segment).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub budgets: Option<BTreeMap<String, Dec>>,
    /// Longest a promotion may discount, days (`promo_spell`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_days: Option<u64>,
    /// Shortest pause between promotions, days (`promo_spell`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub min_days_between: Option<u64>,
}

/// `[market]`
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct MarketSpec {
    /// Floor as a multiple of `competitor_price`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub min_index: Option<Dec>,
    /// Ceiling as a multiple of `competitor_price`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_index: Option<Dec>,
    /// Oldest competitor quote the summariser keeps, seconds.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_quote_age_secs: Option<u64>,
    /// Fewest kept quotes that make `competitor_price` trusted.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub min_quotes: Option<u64>,
    /// Quotes further than this many median absolute deviations from the median are dropped.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub outlier_mad: Option<Dec>,
    /// Too few quotes hold the item (`competitor_quality`) instead of skipping the market rules.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub required: Option<bool>,
}

/// `[disclosure]`: announced reductions (docs/spec.md §11.2).
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct DisclosureSpec {
    /// Days before a promotion whose lowest price is the lawful reference (`prior_price`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub prior_days: Option<u64>,
    /// A deeper cut inside a running promotion keeps the reference from before it began.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub progressive: Option<bool>,
}

/// `[emergency]`
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct EmergencySpec {
    /// When present: price <= baseline x (1 + cap).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub cap: Option<Dec>,
}

/// `[endings]`
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct EndingsSpec {
    /// Allowed endings, e.g. `["0.99"]`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub allowed: Option<Vec<Dec>>,
    /// Modulus, default one major unit.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub modulus: Option<Dec>,
}

/// `[breaker]`
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct BreakerSpec {
    /// Largest tolerated share of violating items.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_violation_ratio: Option<Dec>,
    /// Smallest batch the breaker judges.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub min_batch: Option<u64>,
}

/// `[approval]`
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct ApprovalSpec {
    /// Moves larger than this fraction of P are flagged `needs_approval`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_auto_change: Option<Dec>,
}

/// `[ladder]`: the group rules between the ranks of a group (docs/spec.md
/// §10). Policy-wide: a segment cannot change it.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct LadderSpec {
    /// The next rank costs at least `1 + min_gap` times the one below, fraction.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub min_gap: Option<Dec>,
    /// The next rank costs at most `1 + max_gap` times the one below, fraction.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_gap: Option<Dec>,
    /// A larger pack's unit price is at least this fraction below the
    /// smaller pack's (below 1).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub min_unit_saving: Option<Dec>,
}

/// One entry of `segments`: an id and rule tables that override the
/// policy's, key by key.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct SegmentSpec {
    /// The `segment` value of the items it applies to.
    pub id: u32,
    /// Overrides of `[bounds]`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub bounds: Option<BoundsSpec>,
    /// Overrides of `[margin]`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub margin: Option<MarginSpec>,
    /// Overrides of `[change]`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub change: Option<ChangeSpec>,
    /// Overrides of `[promotion]` (`max_discount` only).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub promotion: Option<PromotionSpec>,
    /// Overrides of `[market]`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub market: Option<MarketSpec>,
    /// Overrides of `[disclosure]`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub disclosure: Option<DisclosureSpec>,
    /// Overrides of `[emergency]`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub emergency: Option<EmergencySpec>,
    /// Overrides of `[endings]`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub endings: Option<EndingsSpec>,
    /// Overrides of `[approval]`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub approval: Option<ApprovalSpec>,
}

/// A whole policy file.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct PolicySpec {
    /// Policy name, stamped on decisions.
    pub name: String,
    /// Policy version (a string; a number is accepted and kept as written).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            deserialize_with = "crate::policy::parse::string_or_number",
            skip_serializing_if = "Option::is_none"
        )
    )]
    pub version: Option<String>,
    /// ISO 4217 code.
    pub currency: String,
    /// Tick, default one minor unit.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub tick: Option<Dec>,
    /// Class order, `hard` first.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub priority: Option<Vec<String>>,
    /// Permit a policy with no lower or no upper bound source.
    #[cfg_attr(feature = "serde", serde(default))]
    pub allow_unbounded: bool,
    /// Kill switch: hold everything.
    #[cfg_attr(feature = "serde", serde(default))]
    pub freeze: bool,
    /// `[bounds]`
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub bounds: Option<BoundsSpec>,
    /// `[margin]`
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub margin: Option<MarginSpec>,
    /// `[change]`
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub change: Option<ChangeSpec>,
    /// `[promotion]`
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub promotion: Option<PromotionSpec>,
    /// `[market]`
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub market: Option<MarketSpec>,
    /// `[disclosure]`
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub disclosure: Option<DisclosureSpec>,
    /// `[emergency]`
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub emergency: Option<EmergencySpec>,
    /// `[endings]`
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub endings: Option<EndingsSpec>,
    /// `[breaker]`
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub breaker: Option<BreakerSpec>,
    /// `[approval]`
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub approval: Option<ApprovalSpec>,
    /// `[ladder]`
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub ladder: Option<LadderSpec>,
    /// `[[segments]]`
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub segments: Vec<SegmentSpec>,
}
