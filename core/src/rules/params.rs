//! The compiled, flat form of a policy's rules for one segment: integers in
//! minor units and exact rationals, `Copy`, no strings, no maps.

use rust_decimal::Decimal;

use super::{Class, Rule, RuleSet};

/// An exact non-negative fraction `num / den` with `den = 10^scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ratio {
    /// Numerator.
    pub num: i64,
    /// Denominator, a power of ten.
    pub den: i64,
}

impl Ratio {
    /// Zero.
    pub const ZERO: Ratio = Ratio { num: 0, den: 1 };

    /// The most decimal places a policy fraction may have.
    pub const MAX_SCALE: u32 = 12;

    /// The exact fraction of a decimal with at most [`Ratio::MAX_SCALE`]
    /// decimal places and a numerator that fits `i64`.
    pub fn from_decimal(value: Decimal) -> Option<Ratio> {
        let v = value.normalize();
        if v.scale() > Ratio::MAX_SCALE || v.is_sign_negative() && !v.is_zero() {
            return None;
        }
        let num = i64::try_from(v.mantissa()).ok()?;
        let den = 10_i64.checked_pow(v.scale())?;
        Some(Ratio { num, den })
    }

    /// The fraction as a decimal.
    pub fn to_decimal(self) -> Decimal {
        let scale = self.den.ilog10();
        Decimal::new(self.num, scale)
    }

    /// `num` as `i128`.
    #[inline]
    pub(crate) fn n(self) -> i128 {
        i128::from(self.num)
    }

    /// `den` as `i128`.
    #[inline]
    pub(crate) fn d(self) -> i128 {
        i128::from(self.den)
    }
}

/// Most allowed endings in `endings.allowed`.
pub const MAX_ENDINGS: usize = 16;

/// Allowed price endings modulo a modulus, in minor units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Endings {
    /// The modulus (default one major unit).
    pub modulus: i64,
    /// Allowed residues, sorted ascending; only the first `count` are used.
    pub allowed: [i64; MAX_ENDINGS],
    /// Number of allowed residues.
    pub count: u8,
}

impl Endings {
    /// The allowed residues.
    pub fn residues(&self) -> &[i64] {
        self.allowed.get(..usize::from(self.count)).unwrap_or(&[])
    }
}

/// Every rule parameter that applies to one segment, compiled.
///
/// Money is in minor units, fractions are exact [`Ratio`]s, durations are
/// seconds. `None` switches a rule off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CompiledRules {
    /// Tick in minor units (>= 1).
    pub tick: i64,
    /// Class order; `Hard` first.
    pub priority: [Class; 4],
    /// Kill switch.
    pub freeze: bool,
    /// Permit an interval with no upper bound or no floor above one tick.
    pub allow_unbounded: bool,
    /// `bounds.min_price`.
    pub min_price: Option<i64>,
    /// `bounds.max_price`.
    pub max_price: Option<i64>,
    /// `emergency.cap`.
    pub emergency_cap: Option<Ratio>,
    /// `margin.min_margin`.
    pub min_margin: Option<Ratio>,
    /// `margin.min_markup`.
    pub min_markup: Option<Ratio>,
    /// `margin.max_markup`.
    pub max_markup: Option<Ratio>,
    /// `margin.min_unit_margin`.
    pub min_unit_margin: Option<i64>,
    /// `promotion.max_discount`.
    pub max_discount: Option<Ratio>,
    /// `change.max_increase`.
    pub max_increase: Option<Ratio>,
    /// `change.max_decrease`.
    pub max_decrease: Option<Ratio>,
    /// `change.max_step`.
    pub max_step: Option<i64>,
    /// `change.cooldown_secs`.
    pub cooldown_secs: Option<i64>,
    /// `change.max_changes`.
    pub max_changes: Option<i64>,
    /// `change.window_increase`.
    pub window_increase: Option<Ratio>,
    /// `change.window_decrease`.
    pub window_decrease: Option<Ratio>,
    /// `change.min_change`.
    pub min_change: Option<Ratio>,
    /// `market.min_index`.
    pub min_index: Option<Ratio>,
    /// `market.max_index`.
    pub max_index: Option<Ratio>,
    /// `endings`.
    pub endings: Option<Endings>,
    /// `approval.max_auto_change`.
    pub max_auto_change: Option<Ratio>,
    /// `disclosure.prior_days`: turns on `prior_price`.
    pub prior_days: Option<i64>,
    /// `disclosure.progressive`: a deeper cut inside a running promotion
    /// keeps the reference from before the promotion began.
    pub progressive: bool,
    /// `promotion.max_days`: the longest a promotion may discount.
    pub promo_max_days: Option<i64>,
    /// `promotion.min_days_between`: the shortest pause between promotions.
    pub promo_min_days_between: Option<i64>,
    /// `change.max_reversals`: direction flips in the window that hold.
    pub max_reversals: Option<i64>,
    /// `market.max_quote_age_secs`: the oldest quote the summariser keeps.
    pub max_quote_age_secs: Option<i64>,
    /// `market.min_quotes`: the fewest kept quotes the market rules trust.
    pub min_quotes: Option<i64>,
    /// `market.outlier_mad`: quotes further than this many median absolute
    /// deviations from the median are dropped by the summariser.
    pub outlier_mad: Option<Ratio>,
    /// `market.required`: too few quotes hold the item instead of
    /// skipping the market rules.
    pub market_required: bool,
}

impl CompiledRules {
    /// Rules with only a tick and the default priority: everything off.
    pub const fn empty(tick: i64) -> CompiledRules {
        CompiledRules {
            tick,
            priority: Class::ORDERED,
            freeze: false,
            allow_unbounded: false,
            min_price: None,
            max_price: None,
            emergency_cap: None,
            min_margin: None,
            min_markup: None,
            max_markup: None,
            min_unit_margin: None,
            max_discount: None,
            max_increase: None,
            max_decrease: None,
            max_step: None,
            cooldown_secs: None,
            max_changes: None,
            window_increase: None,
            window_decrease: None,
            min_change: None,
            min_index: None,
            max_index: None,
            endings: None,
            max_auto_change: None,
            prior_days: None,
            progressive: false,
            promo_max_days: None,
            promo_min_days_between: None,
            max_reversals: None,
            max_quote_age_secs: None,
            min_quotes: None,
            outlier_mad: None,
            market_required: false,
        }
    }

    /// The same rules for items whose money is in `10^-k` minor units,
    /// `factor = 10^k`: every money parameter (the tick, price bounds, unit
    /// margin, step, endings) is multiplied by `factor`, saturating, and
    /// fractions are unchanged. Evaluating a finer item against these
    /// rules is evaluating it exactly against the policy (docs/spec.md M1).
    #[must_use]
    pub fn scaled(&self, factor: i64) -> CompiledRules {
        // Every parameter, named without `..`: a new money parameter must
        // say here whether it scales.
        let CompiledRules {
            tick,
            priority,
            freeze,
            allow_unbounded,
            min_price,
            max_price,
            emergency_cap,
            min_margin,
            min_markup,
            max_markup,
            min_unit_margin,
            max_discount,
            max_increase,
            max_decrease,
            max_step,
            cooldown_secs,
            max_changes,
            window_increase,
            window_decrease,
            min_change,
            min_index,
            max_index,
            endings,
            max_auto_change,
            // Days, seconds, counts and a ratio: none is money.
            prior_days,
            progressive,
            promo_max_days,
            promo_min_days_between,
            max_reversals,
            max_quote_age_secs,
            min_quotes,
            outlier_mad,
            market_required,
        } = *self;
        let money = |v: i64| v.saturating_mul(factor);
        let endings = endings.map(|e| {
            let mut allowed = e.allowed;
            for a in &mut allowed {
                *a = money(*a);
            }
            Endings {
                modulus: money(e.modulus),
                allowed,
                count: e.count,
            }
        });
        CompiledRules {
            tick: money(tick),
            priority,
            freeze,
            allow_unbounded,
            min_price: min_price.map(money),
            max_price: max_price.map(money),
            emergency_cap,
            min_margin,
            min_markup,
            max_markup,
            min_unit_margin: min_unit_margin.map(money),
            max_discount,
            max_increase,
            max_decrease,
            max_step: max_step.map(money),
            cooldown_secs,
            max_changes,
            window_increase,
            window_decrease,
            min_change,
            min_index,
            max_index,
            endings,
            max_auto_change,
            prior_days,
            progressive,
            promo_max_days,
            promo_min_days_between,
            max_reversals,
            max_quote_age_secs,
            min_quotes,
            outlier_mad,
            market_required,
        }
    }

    /// The rules the policy switches on (those an item's own values bring
    /// in, such as `map` or `promo_budget`, are not among them). An
    /// evaluator compares this with the rules it decides, so that it
    /// leaves a policy with any other rule to the general engine.
    pub fn rules(&self) -> RuleSet {
        // Every parameter, named without `..`: a new one does not compile
        // until it says which rule it switches on.
        let CompiledRules {
            tick: _,
            priority: _,
            freeze: _,
            allow_unbounded: _,
            min_price,
            max_price,
            emergency_cap,
            min_margin,
            min_markup,
            max_markup,
            min_unit_margin,
            max_discount,
            max_increase,
            max_decrease,
            max_step,
            cooldown_secs,
            max_changes,
            window_increase,
            window_decrease,
            min_change,
            min_index,
            max_index,
            endings,
            max_auto_change: _,
            prior_days,
            progressive: _,
            promo_max_days,
            promo_min_days_between,
            max_reversals,
            // The summariser's; the gate is [`CompiledRules::quote_gate`].
            max_quote_age_secs: _,
            min_quotes: _,
            outlier_mad: _,
            market_required: _,
        } = *self;
        let mut set = RuleSet::EMPTY;
        for (on, rule) in [
            (min_price.is_some(), Rule::MinPrice),
            (max_price.is_some(), Rule::MaxPrice),
            (emergency_cap.is_some(), Rule::EmergencyCap),
            (min_margin.is_some(), Rule::Margin),
            (min_markup.is_some(), Rule::Markup),
            (max_markup.is_some(), Rule::MaxMarkup),
            (min_unit_margin.is_some(), Rule::UnitMargin),
            (max_discount.is_some(), Rule::MaxDiscount),
            (max_increase.is_some(), Rule::MaxIncrease),
            (max_decrease.is_some(), Rule::MaxDecrease),
            (max_step.is_some(), Rule::MaxStep),
            (cooldown_secs.is_some(), Rule::Cooldown),
            (max_changes.is_some(), Rule::MaxChanges),
            (window_increase.is_some(), Rule::WindowIncrease),
            (window_decrease.is_some(), Rule::WindowDecrease),
            (min_change.is_some(), Rule::MinChange),
            (min_index.is_some(), Rule::CompetitorFloor),
            (max_index.is_some(), Rule::CompetitorCeiling),
            (endings.is_some(), Rule::PriceEnding),
            (prior_days.is_some(), Rule::PriorPrice),
            (
                promo_max_days.is_some() || promo_min_days_between.is_some(),
                Rule::PromoSpell,
            ),
            (max_reversals.is_some(), Rule::Oscillation),
        ] {
            if on {
                set.insert(rule);
            }
        }
        set
    }

    /// Whether the competitor quote gate is on: `market.min_quotes` with a
    /// market rule to gate. Only the general engine decides it.
    #[inline]
    pub const fn quote_gate(&self) -> bool {
        self.min_quotes.is_some() && (self.min_index.is_some() || self.max_index.is_some())
    }

    /// Whether a rule needing `unit_cost` is on.
    #[inline]
    pub const fn needs_cost(&self) -> bool {
        self.min_margin.is_some()
            || self.min_markup.is_some()
            || self.max_markup.is_some()
            || self.min_unit_margin.is_some()
    }
}
