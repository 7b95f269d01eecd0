//! Rule identities, classes and the per-family bound computations.
//!
//! Every rule has a stable name and a stable numeric code (its bit in a
//! [`RuleSet`]); codes are never reused. One file per rule family computes
//! that family's bounds for one item, in integer minor units.

use core::fmt;

use crate::item::{Field, Item};
use crate::money::{
    ceil_money_to_tick, ceil_ratio_to_tick, ceil_to_tick, clamp_bound, floor_money_to_tick,
    floor_ratio_to_tick, floor_to_tick, MAX_MONEY,
};
use params::CompiledRules;

pub(crate) mod bounds;
pub(crate) mod change;
mod custom;
pub(crate) mod disclosure;
pub(crate) mod emergency;
pub(crate) mod endings;
pub mod ladder;
pub(crate) mod margin;
pub(crate) mod market;
pub(crate) mod params;
pub(crate) mod promotion;
mod record;

pub use custom::{CustomBound, CustomRule, CUSTOM_BASE, MAX_CUSTOM_RULES};
pub(crate) use record::mask;
pub use record::Budget;
pub(crate) use record::{Bounds, NO_HI, NO_LO};

/// `x × num / den`: how a rule family scales one input (a cost, the current
/// price, a reference or competitor price) into a bound. The family's file
/// is the only place that says what `num` and `den` are for its rule; each
/// evaluator computes the product in its own arithmetic (exactly here, as a
/// scaled reciprocal in the row kernel, in doubles in the SIMD lanes) and
/// rounds it onto the tick on the rule's safe side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Factor {
    pub(crate) num: i128,
    pub(crate) den: i128,
}

impl Factor {
    /// `x × (den + num) / den` for a fraction `num / den`: "up by the fraction".
    #[inline]
    pub(crate) fn plus(num: i64, den: i64) -> Factor {
        Factor {
            num: i128::from(den) + i128::from(num),
            den: i128::from(den),
        }
    }

    /// `x × (den - num) / den`: "down by the fraction".
    #[inline]
    pub(crate) fn minus(num: i64, den: i64) -> Factor {
        Factor {
            num: i128::from(den) - i128::from(num),
            den: i128::from(den),
        }
    }

    /// `x × a / b`.
    #[inline]
    pub(crate) fn of(a: i64, b: i64) -> Factor {
        Factor {
            num: i128::from(a),
            den: i128::from(b),
        }
    }

    /// The factor as two `i64`, for the evaluators that need them
    /// (`None` sends the policy to the general engine).
    #[inline]
    pub(crate) fn narrow(self) -> Option<(i64, i64)> {
        Some((i64::try_from(self.num).ok()?, i64::try_from(self.den).ok()?))
    }

    /// `ceil_T(x × num / den)`, exact, clamped to ±2^62 (a lower bound).
    #[inline(always)]
    pub(crate) fn ceil(self, x: i64, tick: i64) -> i64 {
        match self.narrow() {
            Some((a, b)) => ceil_ratio_to_tick(x, a, b, tick),
            None => clamp_bound(ceil_to_tick(
                i128::from(x).saturating_mul(self.num),
                self.den,
                tick,
            )),
        }
    }

    /// `floor_T(x × num / den)`, exact, clamped to ±2^62 (an upper bound).
    #[inline(always)]
    pub(crate) fn floor(self, x: i64, tick: i64) -> i64 {
        match self.narrow() {
            Some((a, b)) => floor_ratio_to_tick(x, a, b, tick),
            None => clamp_bound(floor_to_tick(
                i128::from(x).saturating_mul(self.num),
                self.den,
                tick,
            )),
        }
    }
}

/// How an evaluator computes a rule family's [`Factor`] on the policy's
/// tick: `ceil_T(x × num / den)` for a lower bound, `floor_T` for an upper
/// one. [`Exact`] is the general engine's `i128` arithmetic; the row
/// kernel has a scaled reciprocal. The family files build their
/// parameters and record their bounds once, generic over this trait, so
/// every evaluator computes the same rule from the same definition.
pub(crate) trait Scale: Copy {
    /// `f` on ticks of `tick`, or `None` when this arithmetic cannot hold
    /// it (the policy then takes the general engine).
    fn new(f: Factor, tick: i64) -> Option<Self>;
    /// Whether a money parameter `v` that a rule adds to or subtracts from
    /// a valid price (`unit_margin`, `max_step`) is in this arithmetic's
    /// range: at most [`MAX_MONEY`] (policy validation allows no more), so
    /// the sum or difference with a price is far inside ±2^62 and needs no
    /// clamp (see [`offset_ceil`]).
    fn offset_ok(v: i64) -> bool;
    /// `ceil_T(x × num / den)`, a lower bound.
    fn ceil(&self, x: i64) -> i64;
    /// `floor_T(x × num / den)`, an upper bound.
    fn floor(&self, x: i64) -> i64;
}

/// The general engine's arithmetic: exact, any factor, clamped to ±2^62.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Exact {
    f: Factor,
    tick: i64,
}

impl Scale for Exact {
    #[inline(always)]
    fn new(f: Factor, tick: i64) -> Option<Exact> {
        Some(Exact { f, tick })
    }

    #[inline(always)]
    fn offset_ok(v: i64) -> bool {
        (0..=MAX_MONEY).contains(&v)
    }

    #[inline(always)]
    fn ceil(&self, x: i64) -> i64 {
        self.f.ceil(x, self.tick)
    }

    #[inline(always)]
    fn floor(&self, x: i64) -> i64 {
        self.f.floor(x, self.tick)
    }
}

/// An optional parameter's factor in arithmetic `S`: `Some(None)` when
/// the parameter is absent, `None` when `S` cannot hold it.
#[inline(always)]
pub(crate) fn scale<S: Scale, T>(v: Option<T>, f: fn(T) -> Factor, tick: i64) -> Option<Option<S>> {
    match v {
        None => Some(None),
        Some(x) => S::new(f(x), tick).map(Some),
    }
}

/// An optional money parameter that a rule adds to a price, when `S`
/// can hold it (see [`Scale::offset_ok`]).
#[inline(always)]
pub(crate) fn offset<S: Scale>(v: Option<i64>) -> Option<Option<i64>> {
    match v {
        Some(x) if !S::offset_ok(x) => None,
        _ => Some(v),
    }
}

/// `ceil_T(x + u)` for a valid price or cost `x` and an offset `u` that
/// [`Scale::offset_ok`] admitted (`|x + u| <= 2 × MAX_MONEY`): no overflow
/// and no clamp, so none is computed.
#[inline(always)]
pub(crate) fn offset_ceil(x: i64, u: i64, t: i64) -> i64 {
    let v = x.wrapping_add(u);
    if t == 1 {
        v
    } else {
        ceil_money_to_tick(v, t)
    }
}

/// `floor_T(x + u)`, as [`offset_ceil`].
#[inline(always)]
pub(crate) fn offset_floor(x: i64, u: i64, t: i64) -> i64 {
    let v = x.wrapping_add(u);
    if t == 1 {
        v
    } else {
        floor_money_to_tick(v, t)
    }
}

/// Where the family files record each rule's bound: the general engine's
/// per-class [`Bounds`], or the row kernel's passes.
pub(crate) trait BoundSink {
    /// Whether the sink needs every rule's bound; when not, only the
    /// interval and the hold rules' bits matter, and a bound that can
    /// never be the interval's end may be left out.
    const ALL: bool;
    /// A lower bound of `rule`.
    fn lower(&mut self, rule: Rule, v: i64);
    /// An upper bound of `rule`.
    fn upper(&mut self, rule: Rule, v: i64);
}

/// One item's inputs as the family files read them: the proposal, and
/// each optional value by its [`Field`]. An [`Item`] answers from its
/// presence mask; the row kernel from its columns.
pub(crate) trait Row {
    /// The proposed price.
    fn p(&self) -> i64;
    /// The value of `f`, if present.
    fn get(&self, f: Field) -> Option<i64>;
}

impl Row for Item {
    #[inline(always)]
    fn p(&self) -> i64 {
        self.proposed_price()
    }

    #[inline(always)]
    fn get(&self, f: Field) -> Option<i64> {
        if self.presence() & f.bit() != 0 {
            Some(self.raw(f))
        } else {
            None
        }
    }
}

/// The rules every evaluator computes alike (the cost floors, the
/// promotion discount, the change limits and holds, the market bounds),
/// each family's parameters prepared in arithmetic `S` by the family's
/// own file. The general engine adds what only it decides (item bounds,
/// MAP, the emergency cap, campaign budgets, custom rules).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Formulas<S> {
    pub(crate) margin: margin::Margin<S>,
    pub(crate) promotion: promotion::Discount<S>,
    pub(crate) change: change::Change<S>,
    pub(crate) market: market::Market<S>,
}

/// The rules [`Formulas::collect`] records, from each family's list.
#[cfg_attr(not(feature = "alloc"), allow(dead_code))] // read by the row kernel (alloc)
pub(crate) const FORMULA_RULES: u64 =
    margin::RULES | promotion::RULES | change::RULES | market::RULES;

impl<S: Scale> Formulas<S> {
    /// `r`'s parameters in arithmetic `S`, or `None` when one does not fit it.
    #[inline(always)]
    pub(crate) fn new(r: &CompiledRules) -> Option<Formulas<S>> {
        Some(Formulas {
            margin: margin::Margin::new(r)?,
            promotion: promotion::Discount::new(r)?,
            change: change::Change::new(r)?,
            market: market::Market::new(r)?,
        })
    }

    /// Records every rule's bound for `v` into `b`. `moving` is false for a
    /// pinned price, which bypasses the stability and market classes
    /// (docs/spec.md §5.6).
    #[inline(always)]
    pub(crate) fn collect(&self, v: &impl Row, tick: i64, moving: bool, b: &mut impl BoundSink) {
        self.margin.collect(v, tick, b);
        self.promotion.collect(v, b);
        if moving {
            self.change.collect(v, tick, b);
            self.market.collect(v, b);
        }
    }

    /// Every prepared factor with the field it multiplies, for the row
    /// kernel's admission limits (an input beyond a factor's range takes
    /// the general engine).
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // read by the row kernel (alloc)
    pub(crate) fn each_factor(&self, mut f: impl FnMut(Field, &S)) {
        self.margin.each_factor(&mut f);
        self.promotion.each_factor(&mut f);
        self.change.each_factor(&mut f);
        self.market.each_factor(&mut f);
    }
}

/// A rule class. Conflicts are resolved by relaxing whole classes in the
/// policy's priority order (docs/spec.md §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Class {
    /// Absolute limits: never relaxed.
    Hard = 0,
    /// Cost and promotion floors.
    Financial = 1,
    /// Change-rate limits and holds.
    Stability = 2,
    /// Competitor-relative bounds.
    Market = 3,
    /// Price endings and tick snapping: applied last among the per-item
    /// classes, never relaxed.
    Cosmetic = 4,
    /// Cross-item rules between the members of a group (ladders, pack
    /// sizes): applied after every per-item class, to the group as a whole,
    /// never relaxed and not part of priority ordering.
    Group = 5,
}

impl Class {
    /// Every class, in code order.
    pub const ALL: [Class; 6] = [
        Class::Hard,
        Class::Financial,
        Class::Stability,
        Class::Market,
        Class::Cosmetic,
        Class::Group,
    ];

    /// The four classes that take part in priority ordering.
    pub const ORDERED: [Class; 4] = [
        Class::Hard,
        Class::Financial,
        Class::Stability,
        Class::Market,
    ];

    /// The stable name (`"hard"`, `"financial"`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Class::Hard => "hard",
            Class::Financial => "financial",
            Class::Stability => "stability",
            Class::Market => "market",
            Class::Cosmetic => "cosmetic",
            Class::Group => "group",
        }
    }

    /// Parses a class name.
    pub fn from_name(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The bit of this class in a [`ClassSet`].
    pub const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of classes (the `relaxed` field of a decision).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClassSet(pub u8);

impl ClassSet {
    /// The empty set.
    pub const EMPTY: ClassSet = ClassSet(0);

    /// Whether `class` is in the set.
    pub const fn contains(self, class: Class) -> bool {
        self.0 & class.bit() != 0
    }

    /// Adds `class`.
    pub fn insert(&mut self, class: Class) {
        self.0 |= class.bit();
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The classes in the set, in class order.
    pub fn iter(self) -> impl Iterator<Item = Class> {
        Class::ALL.into_iter().filter(move |c| self.contains(*c))
    }
}

macro_rules! rules {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $name:literal, $class:ident; )*) => {
        /// A guardrail rule. The discriminant is the stable code used by the C
        /// ABI and the bit in a [`RuleSet`]; codes are never reused.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[$doc])* $variant = $code, )*
        }

        impl Rule {
            /// Every rule, in code order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The stable name used in every interface.
            pub const fn name(self) -> &'static str {
                match self { $(Rule::$variant => $name,)* }
            }

            /// [`Rule::name`] as a NUL-terminated C string, for the C ABI
            /// (written here once, so the C library has no table of its own).
            pub const fn c_name(self) -> &'static core::ffi::CStr {
                match self {
                    $(Rule::$variant => match core::ffi::CStr::from_bytes_with_nul(
                        concat!($name, "\0").as_bytes(),
                    ) {
                        Ok(c) => c,
                        // Unreachable: a rule name has no NUL (a test checks
                        // every c_name against name).
                        Err(_) => c"",
                    },)*
                }
            }

            /// The class the rule belongs to.
            pub const fn class(self) -> Class {
                match self { $(Rule::$variant => Class::$class,)* }
            }

            /// The rule with this stable code.
            pub const fn from_code(code: u8) -> Option<Rule> {
                match code { $($code => Some(Rule::$variant),)* _ => None }
            }

            /// The rule with this stable name.
            pub fn from_name(name: &str) -> Option<Rule> {
                match name { $($name => Some(Rule::$variant),)* _ => None }
            }
        }
    };
}

rules! {
    /// Absolute minimum (policy and item), `hi`-side never.
    MinPrice = 0, "min_price", Hard;
    /// Absolute maximum (policy and item).
    MaxPrice = 1, "max_price", Hard;
    /// Minimum advertised price.
    Map = 2, "map", Hard;
    /// Emergency cap over the baseline price.
    EmergencyCap = 3, "emergency_cap", Hard;
    /// Gross margin floor `c / (1 - m)`.
    Margin = 4, "margin", Financial;
    /// Markup floor `c (1 + k)`.
    Markup = 5, "markup", Financial;
    /// Unit margin floor `c + u`.
    UnitMargin = 6, "unit_margin", Financial;
    /// Deepest promotion discount off the reference price.
    MaxDiscount = 7, "max_discount", Financial;
    /// Promotion budget of the item's campaign.
    PromoBudget = 8, "promo_budget", Financial;
    /// Largest increase per change, as a fraction of the current price.
    MaxIncrease = 9, "max_increase", Stability;
    /// Largest decrease per change, as a fraction of the current price.
    MaxDecrease = 10, "max_decrease", Stability;
    /// Largest move per change, in money.
    MaxStep = 11, "max_step", Stability;
    /// Largest drift above the window anchor.
    WindowIncrease = 12, "window_increase", Stability;
    /// Largest drift below the window anchor.
    WindowDecrease = 13, "window_decrease", Stability;
    /// Hold after a recent change.
    Cooldown = 14, "cooldown", Stability;
    /// Hold once the window's change count is used up.
    MaxChanges = 15, "max_changes", Stability;
    /// Anti-flapping band: smaller moves are not made.
    MinChange = 16, "min_change", Stability;
    /// Floor as a multiple of the competitor price.
    CompetitorFloor = 17, "competitor_floor", Market;
    /// Ceiling as a multiple of the competitor price.
    CompetitorCeiling = 18, "competitor_ceiling", Market;
    /// Allowed price endings.
    PriceEnding = 19, "price_ending", Cosmetic;
    /// The proposal was snapped to the tick.
    Tick = 20, "tick", Cosmetic;
    /// A merchandiser's pinned price replaced the proposal.
    Pinned = 21, "pinned", Cosmetic;
    /// Markup cap `c (1 + k)`: an upper bound from cost.
    MaxMarkup = 22, "max_markup", Financial;
    /// A group's next rank costs at least `1 + ladder.min_gap` times the one below.
    LadderGap = 23, "ladder_gap", Group;
    /// A group's next rank costs at most `1 + ladder.max_gap` times the one below.
    LadderMaxGap = 24, "ladder_max_gap", Group;
    /// A larger pack's unit price is at least `ladder.min_unit_saving` below the smaller's.
    UnitPrice = 25, "unit_price", Group;
    /// A promotion's "was" price above the lowest price of the disclosure
    /// window before it: held.
    PriorPrice = 26, "prior_price", Hard;
    /// A promotion run too long, or started too soon after the last: no
    /// discount off the reference price.
    PromoSpell = 27, "promo_spell", Financial;
    /// A price that keeps changing direction (a repricer war): held.
    Oscillation = 28, "oscillation", Stability;
}

/// Number of rules (one past the highest code).
pub const RULE_COUNT: usize = 29;

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of rules as a bitmask (bit `n` = rule with code `n`). Iterates as
/// rules, in code order; `bits()` is the `uint64_t` the C ABI carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RuleSet(pub u64);

impl RuleSet {
    /// The empty set.
    pub const EMPTY: RuleSet = RuleSet(0);

    /// The set's bitmask.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Whether `rule` is in the set.
    pub const fn contains(self, rule: Rule) -> bool {
        self.0 & (1 << rule as u8) != 0
    }

    /// Adds `rule`.
    #[inline]
    pub fn insert(&mut self, rule: Rule) {
        self.0 |= 1 << rule as u8;
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of rules in the set.
    pub const fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// The built-in rules in code order (custom rule bits are skipped).
    pub fn iter(self) -> RuleIter {
        RuleIter(self.0)
    }

    /// Indices of the custom rules in the set (bit `32 + i` is custom rule `i`).
    pub fn custom_indices(self) -> impl Iterator<Item = usize> {
        let bits = self.0 >> 32;
        (0..32).filter(move |i| bits & (1 << i) != 0)
    }

    /// Names of the custom rules in the set, from the list the decision was
    /// evaluated with.
    pub fn custom_names<'a>(
        self,
        rules: &'a [&'a dyn CustomRule],
    ) -> impl Iterator<Item = &'static str> + 'a {
        self.custom_indices()
            .filter_map(|i| rules.get(i).map(|r| r.name()))
    }
}

impl IntoIterator for RuleSet {
    type Item = Rule;
    type IntoIter = RuleIter;
    fn into_iter(self) -> RuleIter {
        self.iter()
    }
}

impl fmt::Display for RuleSet {
    /// `;`-joined rule names, as in the CSV files.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            f.write_str(r.name())?;
        }
        Ok(())
    }
}

/// Iterator over the rules of a [`RuleSet`].
#[derive(Clone, Debug)]
pub struct RuleIter(u64);

impl Iterator for RuleIter {
    type Item = Rule;
    fn next(&mut self) -> Option<Rule> {
        while self.0 != 0 {
            let code = self.0.trailing_zeros();
            self.0 &= self.0 - 1;
            if let Some(r) = u8::try_from(code).ok().and_then(Rule::from_code) {
                return Some(r);
            }
        }
        None
    }
}

/// Bitmask of the rules in each class, indexed by `Class as usize`,
/// computed at compile time.
pub(crate) const CLASS_MASKS: [u64; 6] = [
    compute_class_mask(Class::Hard),
    compute_class_mask(Class::Financial),
    compute_class_mask(Class::Stability),
    compute_class_mask(Class::Market),
    compute_class_mask(Class::Cosmetic),
    compute_class_mask(Class::Group),
];

/// Bitmask of the rules in a class.
#[inline]
pub const fn class_mask(class: Class) -> u64 {
    match class {
        Class::Hard => CLASS_MASKS[0],
        Class::Financial => CLASS_MASKS[1],
        Class::Stability => CLASS_MASKS[2],
        Class::Market => CLASS_MASKS[3],
        Class::Cosmetic => CLASS_MASKS[4],
        Class::Group => CLASS_MASKS[5],
    }
}

/// The rules whose violation counts towards the circuit breaker.
#[cfg(feature = "alloc")]
pub(crate) const HARD_OR_FINANCIAL: u64 = class_mask(Class::Hard) | class_mask(Class::Financial);

const fn compute_class_mask(class: Class) -> u64 {
    let mut mask = 0u64;
    let mut code = 0u8;
    while (code as usize) < RULE_COUNT {
        if let Some(r) = Rule::from_code(code) {
            if r.class() as u8 == class as u8 {
                mask |= 1 << code;
            }
        }
        code += 1;
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::Rule;

    /// The C ABI's names are the rules' names, NUL-terminated.
    #[test]
    fn every_c_name_is_the_name() {
        for r in Rule::ALL {
            assert_eq!(r.c_name().to_str(), Ok(r.name()), "{r:?}");
            assert!(!r.name().is_empty());
        }
    }
}
