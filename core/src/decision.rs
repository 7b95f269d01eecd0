//! The decision for one item (docs/spec.md §6).

use core::fmt;

use crate::item::Field;
use crate::rules::{ClassSet, Rule, RuleSet};

/// What happens to the proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Outcome {
    /// Published price equals the proposal.
    Accepted = 0,
    /// Published price differs from the proposal.
    Adjusted = 1,
    /// The current price is kept.
    Held = 2,
    /// Nothing may be published.
    Rejected = 3,
}

impl Outcome {
    /// All outcomes in code order.
    pub const ALL: [Outcome; 4] = [
        Outcome::Accepted,
        Outcome::Adjusted,
        Outcome::Held,
        Outcome::Rejected,
    ];

    /// The stable name.
    pub const fn name(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Adjusted => "adjusted",
            Outcome::Held => "held",
            Outcome::Rejected => "rejected",
        }
    }

    /// Parses a name.
    pub fn from_name(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.name() == name)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The primary reason for a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// Accepted as proposed: nothing to explain.
    None,
    /// A rule decided the price.
    Rule(Rule),
    /// The hard class alone admits no price.
    Infeasible,
    /// A cost-based rule applies but the item has no `unit_cost`.
    MissingCost,
    /// The item itself is malformed.
    InvalidInput,
    /// The batch circuit breaker tripped.
    CircuitOpen,
    /// The policy's kill switch is on.
    Freeze,
    /// The interval has no upper bound (or no floor above one tick) and the
    /// policy does not say `allow_unbounded`.
    Unbounded,
    /// The item's group ladder admits no price for every member together,
    /// so the whole group keeps its current prices.
    Ladder,
    /// The market rules apply but too few trustworthy competitor quotes
    /// back `competitor_price` (`market.min_quotes` with
    /// `market.required`).
    CompetitorQuality,
    /// Custom rule `i` of the list the item was evaluated with decided it.
    Custom(u8),
}

impl Reason {
    /// Stable numeric code: 0 none, 1 + rule code for rules, 64.. others,
    /// 100 + i for custom rule `i`.
    pub const fn code(self) -> u32 {
        match self {
            Reason::None => 0,
            Reason::Rule(r) => 1 + r as u32,
            Reason::Infeasible => 64,
            Reason::MissingCost => 65,
            Reason::InvalidInput => 66,
            Reason::CircuitOpen => 67,
            Reason::Freeze => 68,
            Reason::Unbounded => 69,
            Reason::Ladder => 70,
            Reason::CompetitorQuality => 71,
            Reason::Custom(i) => 100 + i as u32,
        }
    }

    /// The reason with this code.
    pub const fn from_code(code: u32) -> Option<Reason> {
        match code {
            0 => Some(Reason::None),
            64 => Some(Reason::Infeasible),
            65 => Some(Reason::MissingCost),
            66 => Some(Reason::InvalidInput),
            67 => Some(Reason::CircuitOpen),
            68 => Some(Reason::Freeze),
            69 => Some(Reason::Unbounded),
            70 => Some(Reason::Ladder),
            71 => Some(Reason::CompetitorQuality),
            c if c >= 100 && c < 132 => Some(Reason::Custom((c - 100) as u8)),
            c if c >= 1 && c <= 63 => match Rule::from_code((c - 1) as u8) {
                Some(r) => Some(Reason::Rule(r)),
                None => None,
            },
            _ => None,
        }
    }

    /// The stable name (`""` for none).
    pub const fn name(self) -> &'static str {
        match self {
            Reason::None => "",
            Reason::Rule(r) => r.name(),
            Reason::Infeasible => "infeasible",
            Reason::MissingCost => "missing_cost",
            Reason::InvalidInput => "invalid_input",
            Reason::CircuitOpen => "circuit_open",
            Reason::Freeze => "freeze",
            Reason::Unbounded => "unbounded",
            Reason::Ladder => "ladder",
            Reason::CompetitorQuality => "competitor_quality",
            Reason::Custom(_) => "custom",
        }
    }

    /// Parses a name (`""` is none).
    pub fn from_name(name: &str) -> Option<Reason> {
        if let Some(r) = Rule::from_name(name) {
            return Some(Reason::Rule(r));
        }
        [
            Reason::None,
            Reason::Infeasible,
            Reason::MissingCost,
            Reason::InvalidInput,
            Reason::CircuitOpen,
            Reason::Freeze,
            Reason::Unbounded,
            Reason::Ladder,
            Reason::CompetitorQuality,
        ]
        .into_iter()
        .find(|r| r.name() == name)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The decision for one item: fixed-size and `Copy`, so batches write
/// decisions into a caller buffer without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decision {
    /// What happens to the proposal.
    pub outcome: Outcome,
    /// The primary reason.
    pub reason: Reason,
    /// The price to publish, minor units; `None` when rejected.
    pub price: Option<i64>,
    /// Lower end of the feasible interval used, when one was computed.
    pub lower: Option<i64>,
    /// Upper end of the feasible interval; `None` when unbounded or not computed.
    pub upper: Option<i64>,
    /// Rules whose bound the proposal broke.
    pub violated: RuleSet,
    /// Rules whose bound equals the published price (or that moved it).
    pub binding: RuleSet,
    /// Rules the published price does not satisfy although their class was
    /// kept (only `price_ending` when no allowed ending fits).
    pub unmet: RuleSet,
    /// Classes dropped to resolve a conflict.
    pub relaxed: ClassSet,
    /// `(reference - price) x expected_units` for a promoted item with a
    /// forecast, never negative; `None` otherwise. Exact: in `10^-spend_scale`
    /// minor units (whole minor units unless the item's reference price
    /// has finer digits, docs/spec.md M1).
    pub promo_spend: Option<i64>,
    /// Digits beyond the minor unit in `promo_spend`: `0` unless the
    /// spend is finer than the currency.
    pub spend_scale: u8,
    /// The published price moves more than `approval.max_auto_change` from
    /// the current price: a person should review it.
    pub needs_approval: bool,
    /// For `invalid_input`: the first offending field.
    pub invalid_field: Option<Field>,
    /// For an item held by `prior_price`: the highest "was" price the
    /// promotion may show (docs/spec.md §11.2), in minor units (rounded
    /// down from finer digits, so it stays lawful); `None` otherwise, and
    /// when `prior_low_price` is missing. 16 bytes of the decision.
    pub lawful_reference: Option<i64>,
}

impl Decision {
    /// A rejection with no interval.
    pub const fn rejected(reason: Reason) -> Decision {
        Decision {
            outcome: Outcome::Rejected,
            reason,
            price: None,
            lower: None,
            upper: None,
            violated: RuleSet::EMPTY,
            binding: RuleSet::EMPTY,
            unmet: RuleSet::EMPTY,
            relaxed: ClassSet::EMPTY,
            promo_spend: None,
            spend_scale: 0,
            needs_approval: false,
            invalid_field: None,
            lawful_reference: None,
        }
    }

    /// `invalid_input`, naming the field.
    pub const fn invalid(field: Field) -> Decision {
        let mut d = Decision::rejected(Reason::InvalidInput);
        d.invalid_field = Some(field);
        d
    }

    /// Held at `current` when there is one, else rejected, for `reason`.
    pub const fn hold_or_reject(current: Option<i64>, reason: Reason) -> Decision {
        let mut d = Decision::rejected(reason);
        if let Some(p) = current {
            d.outcome = Outcome::Held;
            d.price = Some(p);
        }
        d
    }

    /// The decision for an item evaluated in `10^-scale` minor units,
    /// brought back to minor units: prices and the interval are on the
    /// tick and divide exactly, except a hold at a finer current price,
    /// which rounds half to even; the spend stays exact ([`Decision::spend_scale`]).
    #[must_use]
    pub fn to_minor(mut self, scale: u8) -> Decision {
        if scale == 0 {
            return self;
        }
        let m = |v: Option<i64>| v.map(|v| crate::money::round_to_minor(v, scale));
        self.price = m(self.price);
        self.lower = m(self.lower);
        self.upper = m(self.upper);
        // Down, never up: a "was" price above the lawful one is the breach.
        self.lawful_reference = self
            .lawful_reference
            .map(|v| crate::money::floor_to_minor(v, scale));
        if let Some(s) = self.promo_spend {
            let a = crate::money::Amount { units: s, scale }.reduced();
            self.promo_spend = Some(a.units);
            self.spend_scale = a.scale;
        }
        self
    }

    /// `promo_spend` in whole minor units, rounded up: what a budget is
    /// charged, so that finer spends never add up past a campaign's budget.
    pub fn promo_spend_minor(&self) -> Option<i64> {
        self.promo_spend
            .map(|s| crate::money::ceil_to_minor(s, self.spend_scale))
    }

    /// Whether the price may be published at a new value
    /// (`accepted` or `adjusted`).
    pub const fn is_change(&self) -> bool {
        matches!(self.outcome, Outcome::Accepted | Outcome::Adjusted)
    }
}

impl Default for Decision {
    fn default() -> Decision {
        Decision::rejected(Reason::None)
    }
}

/// The outcome and reason of a decision that publishes `price`, the last
/// step every evaluator takes: accepted when the price is the proposal;
/// held when a kept hold (`cooldown`, `max_changes`) or `min_change` set
/// it back to the live price; else adjusted, for the rule `adjusted_by`
/// names (asked only then: finding it is the dear part).
#[inline(always)]
pub(crate) fn outcome_of(
    price: i64,
    proposal: i64,
    hold: Option<Rule>,
    min_change_applied: bool,
    adjusted_by: impl FnOnce() -> Reason,
) -> (Outcome, Reason) {
    if price == proposal {
        (Outcome::Accepted, Reason::None)
    } else if let Some(rule) = hold {
        // A kept hold pins the interval to [P, P], so the price is P.
        (Outcome::Held, Reason::Rule(rule))
    } else if min_change_applied {
        (Outcome::Held, Reason::Rule(Rule::MinChange))
    } else {
        (Outcome::Adjusted, adjusted_by())
    }
}
