//! Proptest strategies and invariant checks for user constraint sets (feature `testkit`).
//!
//! Three things for people who write policies and want to test them the way
//! priceguard tests itself:
//!
//! - [`arb_policy`] and [`arb_item`]: random valid policies (every rule
//!   table, segments, endings, budgets, breaker, approval, random priority
//!   orders) and random items around realistic prices, with every optional
//!   field sometimes absent and sometimes extreme (one minor unit,
//!   [`MAX_MONEY`], zero, negatives, unknown campaigns and segments).
//! - [`policy_from_file`] and [`items_around`]: your own policy file and
//!   items near your own price and cost ranges.
//! - [`check_invariants`]: what must hold for every decision, whatever the
//!   policy: the published price lies in the interval and on the tick,
//!   satisfies every rule of every class that was not relaxed (recomputed
//!   here independently of the engine), accepted means the proposal was
//!   published, held means the current price was kept, rejected means
//!   nothing is published, and `promo_spend` follows its formula.
//!
//! ```
//! use priceguard::testkit::{check_invariants, items_around};
//! use priceguard::Policy;
//! use proptest::prelude::*;
//! use proptest::test_runner::{Config, TestRunner};
//!
//! let policy = Policy::from_toml_str(r#"
//!     name = "shop"
//!     currency = "USD"
//!     [bounds]
//!     min_price = "0.99"
//!     max_price = "500"
//!     [margin]
//!     min_margin = "0.15"
//!     [change]
//!     max_increase = "0.10"
//!     max_decrease = "0.20"
//!     [endings]
//!     allowed = ["0.99", "0.49"]
//! "#).unwrap();
//! // A policy from disk works the same way:
//! // let policy = priceguard::testkit::policy_from_file("policy.toml").unwrap();
//!
//! // Prices between 5.00 and 80.00, costs between 2.00 and 60.00.
//! let mut runner = TestRunner::new(Config::with_cases(200));
//! runner
//!     .run(&items_around(&policy, 500..=8_000, 200..=6_000), |item| {
//!         let decision = policy.evaluate(&item);
//!         check_invariants(&policy, &item, &decision)
//!             .map_err(|v| TestCaseError::fail(v.to_string()))
//!     })
//!     .unwrap();
//! ```
//!
//! Inside a `proptest!` block the same check reads
//! `prop_assert!(check_invariants(&policy, &item, &d).is_ok())`, or map the
//! error into a failure as above to see which invariant broke and why.

use core::fmt;
use core::ops::RangeInclusive;

use std::collections::BTreeMap;
use std::string::{String, ToString};
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::compiled::{CompiledRules, Ratio};
use crate::decision::{Decision, Outcome, Reason};
use crate::item::{CampaignId, Field, Item};
use crate::money::{pow10_i64, MAX_MONEY, MAX_SCALE};
use crate::policy::spec::{
    ApprovalSpec, BoundsSpec, BreakerSpec, ChangeSpec, Dec, DisclosureSpec, EmergencySpec,
    EndingsSpec, MarginSpec, MarketSpec, PromotionSpec, SegmentSpec,
};
use crate::policy::{Policy, PolicyError, PolicySpec};
use crate::rules::{change, margin, market, promotion, Class, Factor, Rule};

/// A decision that breaks an invariant, with what was expected and seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantViolation {
    /// Short stable name of the invariant, e.g. `price_in_interval`.
    pub invariant: &'static str,
    /// What was expected and what the decision says.
    pub detail: String,
}

impl fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invariant `{}` violated: {}",
            self.invariant, self.detail
        )
    }
}

impl std::error::Error for InvariantViolation {}

fn violation(invariant: &'static str, detail: String) -> Result<(), InvariantViolation> {
    Err(InvariantViolation { invariant, detail })
}

/// Reads a policy file (TOML, or JSON when the name ends in `.json`).
pub fn policy_from_file(path: impl AsRef<std::path::Path>) -> Result<Policy, PolicyError> {
    Policy::from_path(path)
}

// ---------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------

/// What the generator knows about one currency: its digits, a tick, a
/// typical price, and endings that suit it.
#[derive(Clone, Copy, Debug)]
struct CurrencyPlan {
    code: &'static str,
    digits: u32,
    tick: i64,
    typical: i64,
    /// `(modulus or default, candidate endings)` in minor units.
    endings: &'static [(Option<i64>, &'static [i64])],
}

const PLANS: [CurrencyPlan; 5] = [
    CurrencyPlan {
        code: "USD",
        digits: 2,
        tick: 1,
        typical: 5_000,
        endings: &[
            (None, &[99, 49, 95, 0, 50, 90]),
            (Some(1_000), &[999, 499, 990]),
        ],
    },
    CurrencyPlan {
        code: "JPY",
        digits: 0,
        tick: 1,
        typical: 5_000,
        endings: &[(Some(100), &[0, 80, 98, 50]), (Some(1_000), &[980, 500, 0])],
    },
    CurrencyPlan {
        code: "KWD",
        digits: 3,
        tick: 1,
        typical: 20_000,
        endings: &[(None, &[0, 990, 500, 950, 250])],
    },
    CurrencyPlan {
        code: "CHF",
        digits: 2,
        tick: 5,
        typical: 5_000,
        endings: &[(None, &[0, 50, 95, 90, 45, 25]), (Some(500), &[495, 250])],
    },
    CurrencyPlan {
        code: "EUR",
        digits: 2,
        tick: 1,
        typical: 5_000,
        endings: &[(None, &[99, 49, 0, 95])],
    },
];

/// Segment ids the generated policies list; items also use 2, 9 and 0.
const SEGMENT_IDS: [u32; 3] = [1, 3, 7];

fn money(plan: CurrencyPlan, minor: i64) -> Dec {
    Dec(Decimal::new(minor, plan.digits))
}

/// Money in `[lo, hi]` minor units, on the plan's tick most of the time.
fn arb_money(plan: CurrencyPlan, lo: i64, hi: i64) -> BoxedStrategy<Dec> {
    let t = plan.tick;
    let lo = lo.max(1);
    let hi = hi.max(lo);
    prop_oneof![
        8 => (lo..=hi).prop_map(move |m| money(plan, (m / t).max(1) * t)),
        1 => (lo..=hi).prop_map(move |m| money(plan, m)),
        1 => Just(money(plan, lo)),
    ]
    .boxed()
}

/// A fraction in `[lo_bp, hi_bp]` basis points, sometimes with 12 decimals.
fn arb_fraction(lo_bp: i64, hi_bp: i64) -> BoxedStrategy<Dec> {
    prop_oneof![
        6 => (lo_bp..=hi_bp).prop_map(|n| Dec(Decimal::new(n, 4))),
        1 => (lo_bp..=hi_bp, 0_i64..100_000_000).prop_map(move |(n, extra)| {
            let v = i128::from(n) * 100_000_000 + i128::from(extra);
            let top = i128::from(hi_bp) * 100_000_000;
            Dec(Decimal::from_i128_with_scale(v.min(top), 12))
        }),
        1 => Just(Dec(Decimal::new(lo_bp, 4))),
        1 => Just(Dec(Decimal::new(hi_bp, 4))),
    ]
    .boxed()
}

fn opt<T: core::fmt::Debug + Clone + 'static>(
    p: f64,
    s: BoxedStrategy<T>,
) -> BoxedStrategy<Option<T>> {
    proptest::option::weighted(p, s).boxed()
}

fn arb_bounds(plan: CurrencyPlan) -> BoxedStrategy<BoundsSpec> {
    let t = plan.typical;
    (
        opt(0.7, arb_money(plan, 1, t / 2)),
        opt(0.7, arb_money(plan, t * 2, t * 40)),
    )
        .prop_map(|(min_price, max_price)| BoundsSpec {
            min_price,
            max_price,
        })
        .boxed()
}

fn arb_margin(plan: CurrencyPlan) -> BoxedStrategy<MarginSpec> {
    let t = plan.typical;
    (
        opt(0.6, arb_fraction(0, 9_000)),
        opt(0.3, arb_fraction(0, 30_000)),
        opt(
            0.3,
            prop_oneof![3 => arb_money(plan, 1, t / 5), 1 => Just(money(plan, 0))].boxed(),
        ),
        // Mostly above what the floors drawn here need (docs/spec.md §8.2
        // refuses a cap under min_markup or under the min_margin floor);
        // sometimes low, so the cap binds and conflicts with the floors.
        opt(
            0.2,
            prop_oneof![1 => arb_fraction(0, 30_000), 3 => arb_fraction(90_000, 1_000_000)].boxed(),
        ),
    )
        .prop_map(
            |(min_margin, min_markup, min_unit_margin, max_markup)| MarginSpec {
                min_margin,
                min_markup,
                max_markup,
                min_unit_margin,
            },
        )
        .boxed()
}

fn arb_change(plan: CurrencyPlan) -> BoxedStrategy<ChangeSpec> {
    let t = plan.typical;
    (
        (
            opt(
                0.5,
                prop_oneof![5 => arb_fraction(0, 5_000), 1 => Just(Dec(Decimal::from(100)))]
                    .boxed(),
            ),
            opt(0.5, arb_fraction(0, 10_000)),
            opt(0.3, arb_money(plan, 1, t / 2)),
        ),
        (
            opt(0.3, (0_u64..100_000).boxed()),
            opt(0.3, (0_u64..10).boxed()),
            opt(0.3, arb_fraction(0, 10_000)),
            opt(0.3, arb_fraction(0, 10_000)),
            opt(0.3, arb_fraction(0, 1_000)),
            prop_oneof![20 => Just(true), 1 => Just(false)],
        ),
        opt(0.15, (1_u64..6).boxed()),
    )
        .prop_map(
            |(
                (max_increase, max_decrease, max_step),
                (cooldown_secs, max_changes, window_increase, window_decrease, min_change, window),
                max_reversals,
            )| {
                // `window_secs` is required by the window rules; very rarely
                // leave it out so the validation error path is exercised.
                let needs_window = max_changes.is_some()
                    || max_reversals.is_some()
                    || window_increase.is_some()
                    || window_decrease.is_some();
                ChangeSpec {
                    max_increase,
                    max_decrease,
                    max_step,
                    cooldown_secs,
                    max_changes,
                    window_secs: (needs_window && window).then_some(604_800),
                    window_increase,
                    window_decrease,
                    min_change,
                    max_reversals,
                }
            },
        )
        .boxed()
}

fn arb_budgets(plan: CurrencyPlan) -> BoxedStrategy<BTreeMap<String, Dec>> {
    let t = plan.typical;
    (
        opt(0.8, arb_money(plan, 1, t * 200)),
        opt(0.5, arb_money(plan, 1, t * 5)),
        proptest::bool::weighted(0.3),
    )
        .prop_map(move |(spring, summer, zero)| {
            let mut m = BTreeMap::new();
            for (name, v) in [("spring", spring), ("summer", summer)] {
                if let Some(v) = v {
                    m.insert(name.to_string(), v);
                }
            }
            if zero {
                m.insert("zero".to_string(), money(plan, 0));
            }
            m
        })
        .boxed()
}

fn arb_market() -> BoxedStrategy<MarketSpec> {
    (
        opt(0.7, arb_fraction(5_000, 12_000)),
        opt(0.7, arb_fraction(10_000, 30_000)),
        opt(0.2, (1_u64..5).boxed()),
        proptest::bool::weighted(0.5),
        opt(0.1, (60_u64..100_000).boxed()),
        opt(0.1, arb_fraction(0, 50_000)),
    )
        .prop_map(
            |(min_index, max_index, min_quotes, required, max_quote_age_secs, outlier_mad)| {
                MarketSpec {
                    min_index,
                    max_index,
                    max_quote_age_secs,
                    min_quotes,
                    outlier_mad,
                    // `required` needs `min_quotes`.
                    required: min_quotes.map(|_| required),
                }
            },
        )
        .boxed()
}

/// `[disclosure]` and the promotion spell keys (docs/spec.md §11).
fn arb_history() -> BoxedStrategy<(Option<DisclosureSpec>, Option<u64>, Option<u64>)> {
    (
        opt(
            0.12,
            (
                opt(0.9, (1_u64..60).boxed()),
                opt(0.5, any::<bool>().boxed()),
            )
                .prop_map(|(prior_days, progressive)| DisclosureSpec {
                    prior_days,
                    progressive,
                })
                .boxed(),
        ),
        opt(0.08, (1_u64..60).boxed()),
        opt(0.08, (1_u64..60).boxed()),
    )
        .boxed()
}

fn arb_endings(plan: CurrencyPlan) -> BoxedStrategy<EndingsSpec> {
    let choices: Vec<(Option<i64>, Vec<i64>)> =
        plan.endings.iter().map(|(m, e)| (*m, e.to_vec())).collect();
    proptest::sample::select(choices)
        .prop_flat_map(move |(modulus, endings)| {
            let n = endings.len();
            (Just(modulus), proptest::sample::subsequence(endings, 1..=n))
        })
        .prop_map(move |(modulus, allowed)| EndingsSpec {
            allowed: Some(allowed.into_iter().map(|e| money(plan, e)).collect()),
            modulus: modulus.map(|m| money(plan, m)),
        })
        .boxed()
}

/// The rule tables a segment may override (no budgets).
fn arb_tables(plan: CurrencyPlan, p: f64) -> BoxedStrategy<SegmentSpec> {
    (
        opt(p, arb_bounds(plan)),
        opt(p, arb_margin(plan)),
        opt(p, arb_change(plan)),
        opt(p * 0.6, opt(0.8, arb_fraction(0, 10_000))),
        opt(p * 0.6, arb_market()),
        opt(p * 0.25, arb_fraction(0, 5_000)),
        opt(p * 0.5, arb_endings(plan)),
        opt(p * 0.4, arb_fraction(1, 5_000)),
        arb_history(),
    )
        .prop_map(
            |(bounds, margin, change, discount, market, cap, endings, approval, history)| {
                let (disclosure, max_days, min_days_between) = history;
                let promotion = match (discount, max_days, min_days_between) {
                    (None, None, None) => None,
                    (discount, max_days, min_days_between) => Some(PromotionSpec {
                        max_discount: discount.flatten(),
                        budgets: None,
                        max_days,
                        min_days_between,
                    }),
                };
                SegmentSpec {
                    id: 0,
                    bounds,
                    margin,
                    change,
                    promotion,
                    disclosure,
                    market,
                    emergency: cap.map(|cap| EmergencySpec { cap: Some(cap) }),
                    endings,
                    approval: approval.map(|a| ApprovalSpec {
                        max_auto_change: Some(a),
                    }),
                }
            },
        )
        .boxed()
}

fn arb_priority() -> BoxedStrategy<Option<Vec<String>>> {
    let rest = vec![Class::Financial, Class::Stability, Class::Market];
    opt(
        0.5,
        Just(rest)
            .prop_shuffle()
            .prop_map(|r| {
                let mut out = vec![Class::Hard.name().to_string()];
                out.extend(r.into_iter().map(|c| c.name().to_string()));
                out
            })
            .boxed(),
    )
}

fn arb_breaker() -> BoxedStrategy<BreakerSpec> {
    (arb_fraction(0, 10_000), opt(0.8, (1_u64..60).boxed()))
        .prop_map(|(ratio, min_batch)| BreakerSpec {
            max_violation_ratio: Some(ratio),
            min_batch,
        })
        .boxed()
}

/// Random policy models, valid or not (see [`arb_policy`] for valid ones).
pub fn arb_policy_spec() -> impl Strategy<Value = PolicySpec> {
    proptest::sample::select(PLANS.to_vec()).prop_flat_map(|plan| {
        (
            arb_tables(plan, 0.8),
            opt(0.5, arb_budgets(plan)),
            opt(0.2, arb_breaker()),
            arb_priority(),
            proptest::bool::weighted(0.15),
            proptest::bool::weighted(0.02),
            proptest::collection::vec(arb_tables(plan, 0.4), 0..=3),
            proptest::bool::weighted(0.05),
        )
            .prop_map(
                move |(
                    base,
                    budgets,
                    breaker,
                    priority,
                    allow_unbounded,
                    freeze,
                    segs,
                    version,
                )| {
                    let mut promotion = base.promotion;
                    if let Some(b) = budgets {
                        promotion.get_or_insert_with(PromotionSpec::default).budgets = Some(b);
                    }
                    let segments = segs
                        .into_iter()
                        .zip(SEGMENT_IDS)
                        .map(|(s, id)| SegmentSpec { id, ..s })
                        .collect();
                    PolicySpec {
                        name: "generated".to_string(),
                        version: version.then(|| "1".to_string()),
                        currency: plan.code.to_string(),
                        tick: (plan.tick != 1 || allow_unbounded).then(|| money(plan, plan.tick)),
                        priority,
                        allow_unbounded,
                        freeze,
                        bounds: base.bounds,
                        margin: base.margin,
                        change: base.change,
                        promotion,
                        market: base.market,
                        disclosure: base.disclosure,
                        emergency: base.emergency,
                        endings: base.endings,
                        breaker,
                        approval: base.approval,
                        ladder: None,
                        segments,
                    }
                },
            )
    })
}

/// Random valid policies: a random currency (USD, JPY, KWD, CHF with tick
/// 0.05, EUR), random subsets of every rule table, segments, endings,
/// budgets, a breaker, approval, a random priority order (hard first) and
/// sometimes `allow_unbounded`. Each is built as a [`PolicySpec`] and
/// compiled with [`Policy::from_spec`], so validation runs; specs it
/// refuses are skipped.
pub fn arb_policy() -> impl Strategy<Value = Policy> {
    arb_policy_spec().prop_filter_map("policy spec refused by validation", |s| {
        Policy::from_spec(s).ok()
    })
}

// ---------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------

/// A price the policy's own numbers suggest is typical.
fn typical_price(policy: &Policy) -> i64 {
    let r = policy.rules_for(None);
    let major = policy.currency().minor_per_major();
    let t = match (r.min_price, r.max_price) {
        (Some(lo), Some(hi)) => {
            // geometric mean, computed without floats
            let mut g = lo.max(1);
            while g.saturating_mul(g) < lo.saturating_mul(hi) && g < hi {
                g = g.saturating_mul(2);
            }
            g
        }
        (None, Some(hi)) => hi / 5,
        (Some(lo), None) => lo.saturating_mul(5),
        (None, None) => major.saturating_mul(50),
    };
    t.clamp(1, MAX_MONEY / 1_000)
}

/// Money near `center`, between `lo_pct` and `hi_pct` percent of it.
fn near(center: i64, lo_pct: i64, hi_pct: i64) -> BoxedStrategy<i64> {
    let lo = (center.saturating_mul(lo_pct) / 100).max(1);
    let hi = (center.saturating_mul(hi_pct) / 100).max(lo);
    (lo..=hi).boxed()
}

/// Values at and beyond the edges of the supported range.
fn extreme_money() -> BoxedStrategy<i64> {
    proptest::sample::select(vec![
        1,
        2,
        MAX_MONEY,
        MAX_MONEY - 1,
        0,
        -1,
        MAX_MONEY + 1,
        i64::MIN,
        i64::MAX,
    ])
    .boxed()
}

/// History times and counts no summary can give.
fn bad_history() -> BoxedStrategy<i64> {
    proptest::sample::select(vec![-1, i64::MIN]).boxed()
}

/// `None` with weight `absent`, a normal value with weight `normal`, an
/// extreme one with weight `extreme`.
fn field(
    absent: u32,
    normal: u32,
    extreme: u32,
    normal_values: BoxedStrategy<i64>,
    extreme_values: BoxedStrategy<i64>,
) -> BoxedStrategy<Option<i64>> {
    prop_oneof![
        absent => Just(None),
        normal => normal_values.prop_map(Some),
        extreme => extreme_values.prop_map(Some),
    ]
    .boxed()
}

const NOW: i64 = 1_767_225_600; // 2026-01-01

fn build_item(values: &[(Field, Option<i64>)], proposed: i64) -> Item {
    let mut item = Item::new(proposed);
    for (f, v) in values {
        if let Some(v) = v {
            item.set(*f, *v);
        }
    }
    item
}

/// Random items for `policy`, around prices its own bounds suggest, with
/// every optional field sometimes absent and sometimes extreme: one minor
/// unit, [`MAX_MONEY`], zero, negatives and `i64` limits (the invalid
/// paths), campaigns the policy budgets and ones it does not, segments it
/// lists and ones it does not.
///
/// A fifth of the items carry money finer than the currency (docs/spec.md
/// M1): one to four more digits, with every money value rescaled and some
/// given digits of their own.
pub fn arb_item(policy: &Policy) -> impl Strategy<Value = Item> {
    (
        arb_minor_item(policy),
        proptest::option::weighted(
            0.2,
            (
                1u8..=4,
                proptest::array::uniform12(proptest::option::of(0i64..10_000)),
            ),
        ),
    )
        .prop_map(|(item, fine)| match fine {
            Some((k, digits)) => finer(item, k, digits),
            None => item,
        })
}

/// `item` at `k` more digits: every money value times `10^k`, plus the
/// low digits `extra` gives it (for the first twelve money fields, in
/// [`Field::ALL`] order, proposal last), kept positive where it was.
fn finer(item: Item, k: u8, extra: [Option<i64>; 12]) -> Item {
    let f = pow10_i64(k);
    let mut out = item.with_scale(k);
    let money = Field::ALL.into_iter().filter(|g| g.is_money()).enumerate();
    for (i, g) in money {
        // Every money field is rescaled; the first twelve get digits.
        let low = extra.get(i).copied().flatten();
        let Some(v) = item.get(g) else { continue };
        let scaled = v.saturating_mul(f);
        let low = low.map_or(0, |d| d % f);
        let w = if scaled > 0 {
            scaled.saturating_add(low)
        } else {
            scaled
        };
        out.set(g, w);
    }
    out
}

fn arb_minor_item(policy: &Policy) -> impl Strategy<Value = Item> {
    let typical = typical_price(policy);
    let mut campaigns: Vec<u32> = policy
        .campaigns()
        .map(|(n, _)| policy.campaign_id(n).0)
        .collect();
    campaigns.push(CampaignId::UNKNOWN.0);
    campaigns.push(policy.campaign_id("unknown").0);
    let mut segments: Vec<u32> = policy.segment_ids().collect();
    segments.extend([0, 2, 9]);
    // item centres spread from a tenth to five times the typical price
    (10_i64..=500).prop_flat_map(move |pct| {
        let c = (typical.saturating_mul(pct) / 100).max(1);
        let campaigns = campaigns.clone();
        let segments = segments.clone();
        let units = prop_oneof![
            8 => 1_i64..=1_000,
            1 => Just(1_000_000_000_i64),
            1 => Just(1_i64),
        ]
        .boxed();
        let bad_units =
            proptest::sample::select(vec![0, -1, 1_000_000_001, i64::MAX, 536_870_912]).boxed();
        let times = (NOW - 200_000..=NOW + 1_000).boxed();
        let bad_times = proptest::sample::select(vec![0, -1, i64::MIN, i64::MAX]).boxed();
        (
            prop_oneof![30 => near(c, 50, 150), 1 => extreme_money()],
            (
                field(3, 7, 0, near(c, 70, 130), extreme_money()),
                field(1, 6, 0, near(c, 20, 110), extreme_money()),
                field(17, 3, 0, near(c, 30, 95), extreme_money()),
                field(17, 3, 0, near(c, 105, 300), extreme_money()),
                field(17, 3, 0, near(c, 40, 100), extreme_money()),
                field(14, 6, 0, near(c, 100, 160), extreme_money()),
            ),
            (
                field(14, 6, 0, units, bad_units),
                field(5, 5, 0, Just(NOW).boxed(), bad_times.clone()),
                field(6, 4, 0, times, bad_times.clone()),
                field(6, 4, 0, (0_i64..12).boxed(), bad_times),
                field(14, 6, 0, near(c, 70, 130), extreme_money()),
                field(2, 8, 0, near(c, 60, 120), extreme_money()),
                field(6, 4, 0, near(c, 50, 150), extreme_money()),
                field(23, 2, 0, near(c, 50, 150), extreme_money()),
            ),
            // The history summary (docs/spec.md §11), mostly absent.
            (
                // (an invalid value rarely: one in 80 per field)
                field(48, 31, 1, near(c, 60, 140), extreme_money()),
                field(40, 39, 1, (NOW - 90 * 86_400..=NOW).boxed(), bad_history()),
                field(48, 31, 1, (NOW - 200 * 86_400..=NOW).boxed(), bad_history()),
                field(40, 39, 1, (0_i64..8).boxed(), bad_history()),
                field(40, 39, 1, (0_i64..6).boxed(), bad_history()),
            ),
            proptest::option::weighted(0.3, proptest::sample::select(campaigns)),
            proptest::option::weighted(0.4, proptest::sample::select(segments)),
            // which field (if any) gets an extreme value: one at a time
            // keeps the first-invalid-field question out of most cases
            prop_oneof![20 => Just(None), 1 => (0_usize..14).prop_map(Some)],
            extreme_money(),
            proptest::bool::weighted(0.3),
        )
            .prop_map(
                move |(proposed, a, b, h, campaign, segment, which, extreme, cost_zero)| {
                    let (current, cost, min, max, map, reference) = a;
                    let (units, now, last, changes, anchor, baseline, competitor, pinned) = b;
                    let cost = if cost_zero && cost.is_some() {
                        Some(0)
                    } else {
                        cost
                    };
                    let mut fields = [
                        (Field::CurrentPrice, current),
                        (Field::UnitCost, cost),
                        (Field::MinPrice, min),
                        (Field::MaxPrice, max),
                        (Field::MapPrice, map),
                        (Field::ReferencePrice, reference),
                        (Field::ExpectedUnits, units),
                        (Field::Now, now),
                        (Field::LastChangeAt, last),
                        (Field::ChangesInWindow, changes),
                        (Field::WindowAnchorPrice, anchor),
                        (Field::BaselinePrice, baseline),
                        (Field::CompetitorPrice, competitor),
                        (Field::PinnedPrice, pinned),
                    ];
                    if let Some(slot) = which.and_then(|i| fields.get_mut(i)) {
                        slot.1 = Some(extreme);
                    }
                    let mut item = build_item(&fields, proposed);
                    let (low, started, ended, reversals, quotes) = h;
                    for (f, v) in [
                        (Field::PriorLowPrice, low),
                        (Field::PromoStartedAt, started),
                        (Field::LastPromoEndedAt, ended),
                        (Field::ReversalsInWindow, reversals),
                        (Field::CompetitorQuotes, quotes),
                    ] {
                        if let Some(v) = v {
                            item.set(f, v);
                        }
                    }
                    if let Some(id) = campaign {
                        item = item.with_campaign(CampaignId(id));
                    }
                    if let Some(s) = segment {
                        item = item.with_segment(s);
                    }
                    item
                },
            )
    })
}

/// Valid items for `policy` near your own ranges: proposals and current,
/// competitor and reference prices in `price_range_minor`, costs in
/// `cost_range_minor` (both in minor units of the policy currency), with
/// optional fields sometimes absent, campaigns from the policy's budgets
/// and segments from its `[[segments]]`.
pub fn items_around(
    policy: &Policy,
    price_range_minor: RangeInclusive<i64>,
    cost_range_minor: RangeInclusive<i64>,
) -> impl Strategy<Value = Item> {
    let (plo, phi) = (
        (*price_range_minor.start()).clamp(1, MAX_MONEY),
        (*price_range_minor.end()).clamp(1, MAX_MONEY),
    );
    let phi = phi.max(plo);
    let (clo, chi) = (
        (*cost_range_minor.start()).clamp(0, MAX_MONEY),
        (*cost_range_minor.end()).clamp(0, MAX_MONEY),
    );
    let chi = chi.max(clo);
    let campaigns: Vec<u32> = policy
        .campaigns()
        .map(|(n, _)| policy.campaign_id(n).0)
        .collect();
    let segments: Vec<u32> = policy.segment_ids().collect();
    let price = move || (plo..=phi).boxed();
    let campaign = if campaigns.is_empty() {
        Just(None).boxed()
    } else {
        proptest::option::weighted(0.3, proptest::sample::select(campaigns)).boxed()
    };
    let segment = if segments.is_empty() {
        Just(None).boxed()
    } else {
        proptest::option::weighted(0.5, proptest::sample::select(segments)).boxed()
    };
    (
        price(),
        proptest::option::weighted(0.8, price()),
        proptest::option::weighted(0.8, clo..=chi),
        proptest::option::weighted(0.4, price()),
        proptest::option::weighted(0.3, price()),
        proptest::option::weighted(0.8, 1_i64..=500),
        proptest::option::weighted(0.3, (NOW - 100_000..=NOW, 0_i64..6)),
        campaign,
        segment,
    )
        .prop_map(
            |(
                proposed,
                current,
                cost,
                competitor,
                reference,
                units,
                history,
                campaign,
                segment,
            )| {
                let (last, changes) = match history {
                    Some((l, c)) => (Some(l), Some(c)),
                    None => (None, None),
                };
                let fields = [
                    (Field::CurrentPrice, current),
                    (Field::UnitCost, cost),
                    (Field::CompetitorPrice, competitor),
                    (Field::ReferencePrice, reference),
                    (Field::ExpectedUnits, units),
                    (Field::Now, Some(NOW)),
                    (Field::LastChangeAt, last),
                    (Field::ChangesInWindow, changes),
                ];
                let mut item = build_item(&fields, proposed);
                if let Some(id) = campaign {
                    item = item.with_campaign(CampaignId(id));
                }
                if let Some(s) = segment {
                    item = item.with_segment(s);
                }
                item
            },
        )
}

// ---------------------------------------------------------------------------
// Invariants
// ---------------------------------------------------------------------------

/// `ceil(a / b)` for `b > 0`.
fn ceil_div(a: i128, b: i128) -> i128 {
    -((-a).div_euclid(b))
}

/// The least multiple of `t` that is `>= num / den` (`den, t > 0`).
fn ceil_t(num: i128, den: i128, t: i64) -> i128 {
    let t = i128::from(t);
    ceil_div(num, den.saturating_mul(t)).saturating_mul(t)
}

/// The greatest multiple of `t` that is `<= num / den` (`den, t > 0`).
fn floor_t(num: i128, den: i128, t: i64) -> i128 {
    let t = i128::from(t);
    num.div_euclid(den.saturating_mul(t)).saturating_mul(t)
}

fn rn(r: Ratio) -> i128 {
    i128::from(r.num)
}

fn rd(r: Ratio) -> i128 {
    i128::from(r.den)
}

/// `ceil_T(x × f)` in exact `i128`, unclamped, with the rule family's factor.
fn up_t(x: i128, f: Factor, t: i64) -> i128 {
    ceil_t(x.saturating_mul(f.num), f.den, t)
}

/// `floor_T(x × f)` in exact `i128`, unclamped.
fn down_t(x: i128, f: Factor, t: i64) -> i128 {
    floor_t(x.saturating_mul(f.num), f.den, t)
}

/// docs/spec.md §6 and docs/spec.md M3: the first field out of range, in the
/// order of the docs/spec.md §3 table, or `None` when the item is valid.
fn first_invalid(item: &Item, tick: i64) -> Option<Field> {
    // In the item's own units (docs/spec.md M1): the range scales with it.
    let max = crate::money::max_units(item.scale());
    if item.scale() > MAX_SCALE {
        return Some(Field::ProposedPrice);
    }
    let price_ok = |v: i64| v > 0 && v <= max;
    if !price_ok(item.proposed_price()) {
        return Some(Field::ProposedPrice);
    }
    for f in Field::ALL {
        let Some(v) = item.get(f) else { continue };
        let ok = match f {
            Field::UnitCost => (0..=max).contains(&v),
            Field::ExpectedUnits => {
                (1..=1_000_000_000).contains(&v)
                    && item
                        .reference_price()
                        .is_none_or(|r| i128::from(r) * i128::from(v) <= 1_i128 << 61)
            }
            Field::Now
            | Field::LastChangeAt
            | Field::ChangesInWindow
            | Field::PromoStartedAt
            | Field::LastPromoEndedAt
            | Field::ReversalsInWindow
            | Field::CompetitorQuotes => v >= 0,
            Field::Campaign | Field::Segment | Field::Sku | Field::ProposedPrice => true,
            _ => price_ok(v),
        };
        if !ok {
            return Some(f);
        }
    }
    // A proposal or pin that snaps to zero on the tick (docs/spec.md §2.3).
    if item.proposed_price() <= tick / 2 {
        return Some(Field::ProposedPrice);
    }
    if item.pinned_price().is_some_and(|p| p <= tick / 2) {
        return Some(Field::PinnedPrice);
    }
    None
}

/// One rule's bound, recomputed from the policy and the item.
struct Bound {
    rule: Rule,
    lo: Option<i128>,
    hi: Option<i128>,
}

/// Every bound a rule sets for this item (docs/spec.md §4), independently of the
/// engine. Promotion budgets are taken at their configured amount, the
/// loosest the item can see.
fn bounds(policy: &Policy, r: &CompiledRules, item: &Item) -> Vec<Bound> {
    let t = r.tick;
    let mut out = Vec::new();
    let mut lower = |rule, v| {
        out.push(Bound {
            rule,
            lo: Some(v),
            hi: None,
        })
    };
    let min = match (r.min_price, item.min_price()) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    if let Some(m) = min {
        lower(Rule::MinPrice, ceil_t(m.into(), 1, t));
    }
    if let Some(m) = item.map_price() {
        lower(Rule::Map, ceil_t(m.into(), 1, t));
    }
    if let (Some(_), false, Some(_), Some(rp), Some(p)) = (
        r.prior_days,
        r.progressive,
        item.promo_started_at(),
        item.reference_price(),
        item.current_price(),
    ) {
        if rp > p {
            lower(Rule::PriorPrice, ceil_t(p.into(), 1, t));
        }
    }
    if let Some(c) = item.unit_cost().map(i128::from) {
        if let Some(m) = r.min_margin {
            lower(Rule::Margin, up_t(c, margin::margin_factor(m), t));
        }
        if let Some(k) = r.min_markup {
            lower(Rule::Markup, up_t(c, margin::markup_factor(k), t));
        }
        if let Some(u) = r.min_unit_margin {
            lower(Rule::UnitMargin, ceil_t(c + i128::from(u), 1, t));
        }
    }
    let promo = item.reference_price().map(i128::from);
    if let (Some(rp), Some(x)) = (promo, r.max_discount) {
        lower(
            Rule::MaxDiscount,
            up_t(rp, promotion::discount_factor(x), t),
        );
    }
    if let (Some(rp), true) = (promo, promotion::spell_broken(r, item)) {
        if r.promo_max_days.is_some() || r.promo_min_days_between.is_some() {
            lower(Rule::PromoSpell, ceil_t(rp, 1, t));
        }
    }
    if let (Some(rp), Some(id), Some(u)) = (promo, item.campaign(), item.expected_units()) {
        if let Some(b) = policy
            .budget(id)
            .map(|b| b.saturating_mul(pow10_i64(item.scale())))
        {
            let u = i128::from(u);
            lower(Rule::PromoBudget, ceil_t(rp * u - i128::from(b), u, t));
        }
    }
    let mut upper = |rule, v| {
        out.push(Bound {
            rule,
            lo: None,
            hi: Some(v),
        })
    };
    let max = match (r.max_price, item.max_price()) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if let Some(m) = max {
        upper(Rule::MaxPrice, floor_t(m.into(), 1, t));
    }
    if let (Some(cap), Some(b)) = (r.emergency_cap, item.baseline_price()) {
        upper(
            Rule::EmergencyCap,
            down_t(i128::from(b), Factor::plus(cap.num, cap.den), t),
        );
    }
    // docs/spec.md R10: no cap over a zero cost.
    if let (Some(k), Some(c)) = (r.max_markup, item.unit_cost().filter(|c| *c > 0)) {
        upper(
            Rule::MaxMarkup,
            down_t(i128::from(c), margin::markup_factor(k), t),
        );
    }
    let pinned = item.pinned_price().is_some();
    if let (Some(p), false) = (item.current_price().map(i128::from), pinned) {
        let w = item.window_anchor_price().map_or(p, i128::from);
        if let Some(x) = r.max_increase {
            out.push(Bound {
                rule: Rule::MaxIncrease,
                lo: None,
                hi: Some(down_t(p, change::increase_factor(x), t)),
            });
        }
        if let Some(x) = r.max_decrease {
            out.push(Bound {
                rule: Rule::MaxDecrease,
                lo: Some(up_t(p, change::decrease_factor(x), t)),
                hi: None,
            });
        }
        if let Some(s) = r.max_step.map(i128::from) {
            out.push(Bound {
                rule: Rule::MaxStep,
                lo: Some(ceil_t(p - s, 1, t)),
                hi: Some(floor_t(p + s, 1, t)),
            });
        }
        if let Some(x) = r.window_increase {
            out.push(Bound {
                rule: Rule::WindowIncrease,
                lo: None,
                hi: Some(down_t(w, change::increase_factor(x), t)),
            });
        }
        if let Some(x) = r.window_decrease {
            out.push(Bound {
                rule: Rule::WindowDecrease,
                lo: Some(up_t(w, change::decrease_factor(x), t)),
                hi: None,
            });
        }
        if let (Some(cd), Some(last)) = (r.cooldown_secs, item.last_change_at()) {
            let recent = item
                .now()
                .is_none_or(|now| i128::from(now) - i128::from(last) < i128::from(cd));
            if recent {
                out.push(Bound {
                    rule: Rule::Cooldown,
                    lo: Some(p),
                    hi: Some(p),
                });
            }
        }
        if let Some(m) = r.max_changes {
            if item.changes_in_window().unwrap_or(0) >= m {
                out.push(Bound {
                    rule: Rule::MaxChanges,
                    lo: Some(p),
                    hi: Some(p),
                });
            }
        }
        if let Some(m) = r.max_reversals {
            if item.reversals_in_window().is_none_or(|n| n >= m) {
                out.push(Bound {
                    rule: Rule::Oscillation,
                    lo: Some(p),
                    hi: Some(p),
                });
            }
        }
    }
    let trusted = market::quote_gate(r, item) == market::Quotes::Trusted;
    if let (Some(k), false, true) = (item.competitor_price().map(i128::from), pinned, trusted) {
        if let Some(x) = r.min_index {
            out.push(Bound {
                rule: Rule::CompetitorFloor,
                lo: Some(up_t(k, market::index_factor(x), t)),
                hi: None,
            });
        }
        if let Some(x) = r.max_index {
            out.push(Bound {
                rule: Rule::CompetitorCeiling,
                lo: None,
                hi: Some(down_t(k, market::index_factor(x), t)),
            });
        }
    }
    out
}

fn is_allowed_ending(r: &CompiledRules, price: i64) -> bool {
    r.endings
        .is_none_or(|e| e.residues().contains(&price.rem_euclid(e.modulus.max(1))))
}

/// Checks what must hold for every decision of `policy` on `item`,
/// whatever the rules: see the module docs. Bounds are recomputed here,
/// independently of the engine, from [`Policy::rules_for`] and
/// [`Policy::budget`]. For decisions made in a batch or against a ledger
/// the promotion budget bound is checked at the configured budget, the
/// loosest the item can have seen.
pub fn check_invariants(
    policy: &Policy,
    item: &Item,
    decision: &Decision,
) -> Result<(), InvariantViolation> {
    // Everything is checked in the item's own units (docs/spec.md M1): the
    // rules scaled to them, and the decision's prices, which are on the
    // tick, scaled back exactly; a price equal to the current price
    // rounded to the minor unit, on a hold, is the current price itself.
    // The engine reads an item at its least scale (`Item::normalized`):
    // its limits are those of the values, not of how they were written.
    let item = &item.normalized();
    let k = item.scale();
    let f = pow10_i64(k);
    let r = &policy.rules_for(item.segment()).scaled(f);
    let current = item.current_price();
    let current_minor = item.current_price_minor();
    let held = decision.outcome == Outcome::Held;
    let fine = |v: Option<i64>| {
        v.map(|v| match current {
            Some(c) if held && k > 0 && Some(v) == current_minor => c,
            _ => v.saturating_mul(f),
        })
    };
    let mut at_item = *decision;
    at_item.price = fine(decision.price);
    at_item.lower = fine(decision.lower);
    at_item.upper = fine(decision.upper);
    if k > 0 {
        if decision.spend_scale > k {
            return violation(
                "promo_spend",
                std::format!(
                    "spend scale {} finer than the item's {k}",
                    decision.spend_scale
                ),
            );
        }
        at_item.promo_spend = decision
            .promo_spend
            .map(|s| s.saturating_mul(pow10_i64(k - decision.spend_scale)));
        at_item.spend_scale = k;
    }
    let d = &at_item;
    if d.spend_scale != k {
        return violation(
            "promo_spend",
            std::format!("spend scale {} for an item at scale {k}", d.spend_scale),
        );
    }

    // invalid input is exactly the out-of-range items
    let invalid = first_invalid(item, r.tick);
    if invalid.is_some() != (d.reason == Reason::InvalidInput) {
        return violation(
            "invalid_input",
            std::format!(
                "first out-of-range field {invalid:?}, decision reason `{}`",
                d.reason
            ),
        );
    }
    if (d.reason == Reason::InvalidInput) != d.invalid_field.is_some() {
        return violation(
            "invalid_field",
            std::format!(
                "reason `{}` with invalid_field {:?}",
                d.reason,
                d.invalid_field
            ),
        );
    }

    // outcome and price agree
    match (d.outcome, d.price) {
        (Outcome::Rejected, None) => {
            if d.reason == Reason::None {
                return violation("reason", "a rejection without a reason".to_string());
            }
            if d.reason != Reason::InvalidInput && current.is_some() {
                return violation(
                    "rejected_only_new",
                    std::format!(
                        "rejected for `{}` although current_price {:?} could be kept",
                        d.reason,
                        current
                    ),
                );
            }
            return Ok(());
        }
        (Outcome::Rejected, Some(p)) => {
            return violation("rejected_no_price", std::format!("rejected with price {p}"));
        }
        (_, None) => {
            return violation(
                "price_present",
                std::format!("{} without a price", d.outcome),
            );
        }
        (Outcome::Accepted, Some(p)) if p != item.proposed_price() => {
            return violation(
                "accepted_is_proposal",
                std::format!(
                    "accepted price {p} differs from proposed_price {}",
                    item.proposed_price()
                ),
            );
        }
        (Outcome::Held, Some(p)) if Some(p) != current => {
            return violation(
                "held_is_current",
                std::format!("held price {p} differs from current_price {current:?}"),
            );
        }
        _ => {}
    }
    let price = d.price.unwrap_or_default();
    if (d.outcome == Outcome::Accepted) != (d.reason == Reason::None) {
        return violation(
            "reason",
            std::format!("outcome {} with reason `{}`", d.outcome, d.reason),
        );
    }
    // A price may exceed MAX_MONEY when a floor over a huge cost demands it.
    if price <= 0 {
        return violation(
            "price_positive",
            std::format!("price {price} is not positive"),
        );
    }
    if d.relaxed.contains(Class::Hard) || d.relaxed.contains(Class::Cosmetic) {
        return violation(
            "relaxed",
            std::format!("relaxed {:?} includes hard or cosmetic", d.relaxed),
        );
    }

    // the tick: everything published anew is on it (a kept current price may not be)
    if price % r.tick != 0 && Some(price) != current {
        return violation(
            "on_tick",
            std::format!("price {price} is not a multiple of the tick {}", r.tick),
        );
    }

    // the interval
    if let Some(lo) = d.lower {
        if price < lo || d.upper.is_some_and(|hi| price > hi) {
            return violation(
                "price_in_interval",
                std::format!("price {price} outside [{lo}, {:?}]", d.upper),
            );
        }
        if d.upper.is_none() && !r.allow_unbounded {
            return violation(
                "bounded",
                "no upper bound although the policy does not allow unbounded intervals".to_string(),
            );
        }
        if lo < r.tick {
            return violation(
                "tick_floor",
                std::format!("lower {lo} below one tick {}", r.tick),
            );
        }
        // every bound of every class that was not relaxed, but a financial
        // cap that yields to a higher financial floor (docs/spec.md R10)
        let all = bounds(policy, r, item);
        let fin_floor = all
            .iter()
            .filter(|b| b.rule.class() == Class::Financial)
            .filter_map(|b| b.lo)
            .max();
        for b in &all {
            let class = b.rule.class();
            if d.relaxed.contains(class) {
                continue;
            }
            if class == Class::Financial && d.unmet.contains(b.rule) {
                if let Some(hi) = b.hi {
                    if fin_floor.is_some_and(|f| f > hi) {
                        continue;
                    }
                    return violation(
                        "cap_yield",
                        std::format!(
                            "`{}` {hi} reported unmet with no financial floor above it",
                            b.rule.name()
                        ),
                    );
                }
            }
            let p = i128::from(price);
            if b.lo.is_some_and(|lo| p < lo) || b.hi.is_some_and(|hi| p > hi) {
                return violation(
                    "kept_bounds",
                    std::format!(
                        "price {price} breaks `{}` [{:?}, {:?}] although class {} was not relaxed",
                        b.rule.name(),
                        b.lo,
                        b.hi,
                        class.name()
                    ),
                );
            }
        }
        // endings, when applied and met
        if d.is_change()
            && item.pinned_price().is_none()
            && !d.unmet.contains(Rule::PriceEnding)
            && Some(price) != current
            && !is_allowed_ending(r, price)
        {
            return violation(
                "price_ending",
                std::format!(
                    "price {price} is not an allowed ending and price_ending is not unmet"
                ),
            );
        }
    }

    // promo_spend: (R - price) x units, never negative
    match (d.promo_spend, item.reference_price(), item.expected_units()) {
        (Some(s), Some(rp), Some(u)) => {
            let want = (i128::from(rp) - i128::from(price)).max(0) * i128::from(u);
            if i128::from(s) != want {
                return violation(
                    "promo_spend",
                    std::format!("promo_spend {s}, expected max(0, {rp} - {price}) x {u} = {want}"),
                );
            }
        }
        (Some(s), _, _) => {
            return violation(
                "promo_spend",
                std::format!(
                    "promo_spend {s} for an item without reference_price and expected_units"
                ),
            );
        }
        (None, Some(_), Some(_)) if d.is_change() => {
            return violation(
                "promo_spend",
                "no promo_spend for a promoted item with a forecast".to_string(),
            );
        }
        _ => {}
    }

    // approval
    let over = match (r.max_auto_change, current) {
        (Some(x), Some(p)) => {
            (i128::from(price) - i128::from(p)).abs() * rd(x) > rn(x) * i128::from(p)
        }
        _ => false,
    };
    if d.needs_approval != (over && d.is_change()) {
        return violation(
            "needs_approval",
            std::format!(
                "needs_approval {} but the move from {current:?} to {price} {} the limit",
                d.needs_approval,
                if over { "exceeds" } else { "is within" }
            ),
        );
    }
    Ok(())
}
