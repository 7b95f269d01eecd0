//! Differential tests: the engine against the reference evaluator in
//! `tests/reference/`, on random policies and items from the testkit.
//!
//! A failure prints the policy as TOML and the item, ready to paste into a
//! regression test.

#![cfg(feature = "testkit")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod reference;

use priceguard::testkit::{arb_item, arb_policy};
use priceguard::{Decision, Item, Outcome, Policy, Rule};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Random policies per run; each is paired with several items.
const POLICIES: u32 = 2_000;
/// Items per policy: 4 to 8, so about 12 000 pairs per run.
const ITEMS: std::ops::Range<usize> = 4..9;

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

fn policy_and_items() -> impl Strategy<Value = (Policy, Vec<Item>)> {
    arb_policy().prop_flat_map(|p| {
        let items = proptest::collection::vec(arb_item(&p), ITEMS);
        (Just(p), items)
    })
}

fn describe(policy: &Policy, item: &Item, engine: &Decision, reference: &Decision) -> String {
    let toml = toml::to_string(policy.spec()).unwrap_or_else(|e| format!("<toml error: {e}>"));
    format!(
        "engine and reference disagree\n--- policy ---\n{toml}\n--- item ---\n{item:?}\n\
         --- engine ---\n{engine:?}\n--- reference ---\n{reference:?}\n"
    )
}

proptest! {
    #![proptest_config(config(POLICIES))]

    /// Every field of every decision, engine == reference.
    #[test]
    fn engine_matches_reference((policy, items) in policy_and_items()) {
        for item in &items {
            let engine = policy.evaluate(item);
            let reference = reference::evaluate(&policy, item);
            prop_assert!(engine == reference, "{}", describe(&policy, item, &engine, &reference));
        }
    }
}

proptest! {
    #![proptest_config(config(300))]

    /// Batches: budgets consumed in input order, the breaker judged on the
    /// whole batch, engine == reference.
    #[test]
    fn batch_matches_reference(
        (policy, items) in arb_policy().prop_flat_map(|p| {
            let items = proptest::collection::vec(arb_item(&p), 0..40);
            (Just(p), items)
        })
    ) {
        let mut out = vec![Decision::default(); items.len()];
        let summary = policy.evaluate_batch(&items, &mut out).unwrap();
        let (want, tripped) = reference::evaluate_batch(&policy, &items);
        prop_assert_eq!(summary.breaker_tripped, tripped);
        for (i, (e, r)) in out.iter().zip(&want).enumerate() {
            prop_assert!(e == r, "item {}: {}", i, describe(&policy, &items[i], e, r));
        }
    }
}

/// Policies that always use the history rules (docs/spec.md §11.2), with
/// items that mostly carry the summaries, so the rules decide often.
fn history_policy_and_items() -> impl Strategy<Value = (Policy, Vec<Item>)> {
    use priceguard::policy::spec::{ChangeSpec, DisclosureSpec, MarketSpec, PromotionSpec};
    use priceguard::testkit::arb_policy_spec;
    (
        arb_policy_spec(),
        (1_u64..40, any::<bool>(), 1_u64..30, 1_u64..60, 1_i64..5),
        (1_u64..5, any::<bool>(), any::<bool>()),
    )
        .prop_filter_map(
            "policy refused",
            |(
                mut spec,
                (days, progressive, max_days, between, _),
                (min_quotes, required, market),
            )| {
                spec.freeze = false;
                let mut d = DisclosureSpec::default();
                d.prior_days = Some(days);
                d.progressive = Some(progressive);
                spec.disclosure = Some(d);
                let p = spec.promotion.get_or_insert_with(PromotionSpec::default);
                p.max_days = Some(max_days);
                p.min_days_between = Some(between);
                let c = spec.change.get_or_insert_with(ChangeSpec::default);
                c.max_reversals = Some(3);
                c.window_secs = Some(604_800);
                let m = spec.market.get_or_insert_with(MarketSpec::default);
                if market && m.min_index.is_none() && m.max_index.is_none() {
                    m.max_index = Some(rust_decimal::Decimal::new(12, 1).into());
                }
                m.min_quotes = Some(min_quotes);
                m.required = Some(required);
                Policy::from_spec(spec).ok()
            },
        )
        .prop_flat_map(|p| {
            let item = (
                arb_item(&p),
                (
                    any::<bool>(),
                    50_i64..150,
                    0_i64..60,
                    0_i64..90,
                    0_i64..6,
                    0_i64..5,
                ),
                proptest::bool::weighted(0.8),
            )
                .prop_map(
                    |(item, (promo, low_pct, started, ended, rev, quotes), with)| {
                        if item.scale() != 0 || !with {
                            return item;
                        }
                        let now = 1_767_225_600;
                        let p = item.current_price().unwrap_or(item.proposed_price()).max(1);
                        let mut out = item
                            .with_reversals_in_window(rev)
                            .with_competitor_quotes(quotes)
                            .with_now(now);
                        if promo {
                            let reference = item
                                .reference_price()
                                .unwrap_or(p.saturating_mul(5) / 4)
                                .max(1);
                            out = out
                                .with_reference_price(reference)
                                .with_prior_low_price(
                                    (reference.saturating_mul(low_pct) / 100).max(1),
                                )
                                .with_promo_started_at(now - started * 86_400)
                                .with_last_promo_ended_at(now - (started + ended) * 86_400);
                        }
                        out
                    },
                );
            (Just(p), proptest::collection::vec(item, ITEMS))
        })
}

proptest! {
    #![proptest_config(config(600))]

    /// The history rules, dense: engine == reference on every field
    /// (`lawful_reference` too).
    #[test]
    fn history_rules_match_reference((policy, items) in history_policy_and_items()) {
        for item in &items {
            let engine = policy.evaluate(item);
            let reference = reference::evaluate(&policy, item);
            prop_assert!(engine == reference, "{}", describe(&policy, item, &engine, &reference));
        }
    }
}

/// The dense generator above is not vacuous: each history rule decides
/// some items.
#[test]
fn history_generator_reaches_every_rule() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = history_policy_and_items();
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for _ in 0..300 {
        let (policy, items) = strategy.new_tree(&mut runner).unwrap().current();
        for item in &items {
            let d = policy.evaluate(item);
            *seen.entry(d.reason.name()).or_default() += 1;
            if d.lawful_reference.is_some() {
                *seen.entry("lawful_reference").or_default() += 1;
            }
            if d.binding.contains(Rule::PromoSpell) {
                *seen.entry("promo_spell binding").or_default() += 1;
            }
        }
    }
    eprintln!("{seen:?}");
    for key in [
        "prior_price",
        "lawful_reference",
        "promo_spell binding",
        "oscillation",
        "competitor_quality",
    ] {
        assert!(seen.get(key).copied().unwrap_or(0) >= 10, "{key}: {seen:?}");
    }
}

/// The engine and the reference agree on one fixed case.
fn agree(policy_toml: &str, item: Item) {
    let policy = Policy::from_toml_str(policy_toml).unwrap();
    let engine = policy.evaluate(&item);
    let reference = reference::evaluate(&policy, &item);
    assert_eq!(
        engine,
        reference,
        "{}",
        describe(&policy, &item, &engine, &reference)
    );
}

/// The reference alone gives the documented answer (checks the reference).
fn reference_says(policy_toml: &str, item: Item, price: Option<i64>, reason: &str) -> Decision {
    let policy = Policy::from_toml_str(policy_toml).unwrap();
    let d = reference::evaluate(&policy, &item);
    assert_eq!((d.price, d.reason.name()), (price, reason), "{d:?}");
    d
}

const USD: &str =
    "name = 't'\ncurrency = 'USD'\n[bounds]\nmin_price = '0.99'\nmax_price = '5000'\n";
const CHF: &str =
    "name = 't'\ncurrency = 'CHF'\ntick = '0.05'\n[bounds]\nmin_price = '0.05'\nmax_price = '5000'\n";

#[test]
fn reference_follows_the_documented_examples() {
    // M5: 12.22 / 0.85 = 14.3764..., so 14.38; on the CHF tick 14.40
    let margin = "[margin]\nmin_margin = '0.15'\n";
    reference_says(
        &format!("{USD}{margin}"),
        Item::new(1249).with_unit_cost(1222),
        Some(1438),
        "margin",
    );
    reference_says(
        &format!("{CHF}{margin}"),
        Item::new(1250).with_unit_cost(1222),
        Some(1440),
        "margin",
    );
    // R7: 12.74 is as far from 12.49 as from 12.99: the lower one
    let endings = "[endings]\nallowed = ['0.99', '0.49']\n";
    reference_says(
        &format!("{USD}{endings}"),
        Item::new(1274),
        Some(1249),
        "price_ending",
    );
    // R5: a hold keeps an off-tick CHF price as it is
    let d = reference_says(
        &format!("{CHF}[change]\ncooldown_secs = 3600\n"),
        Item::new(1400)
            .with_current_price(1233)
            .with_last_change_at(100)
            .with_now(200),
        Some(1233),
        "cooldown",
    );
    assert_eq!(d.outcome, Outcome::Held);
    // I3: last_change_at without now holds
    reference_says(
        &format!("{USD}[change]\ncooldown_secs = 3600\n"),
        Item::new(1400)
            .with_current_price(1300)
            .with_last_change_at(100),
        Some(1300),
        "cooldown",
    );
}

/// docs/spec.md M1: the reference reads an item's finer digits as the
/// number they are (checks the reference, then that the engine agrees).
#[test]
fn reference_follows_the_fine_money_examples() {
    let fine = |policy: &str, item: Item, price: Option<i64>, reason: &str| {
        let d = reference_says(policy, item, price, reason);
        agree(policy, item);
        d
    };
    // 19.4373 (hundredths of a cent) snaps to 19.44.
    let d = fine(USD, Item::new(194_373).with_scale(2), Some(1944), "tick");
    assert_eq!(d.outcome, Outcome::Adjusted);
    // Cost 3.9694: 3.9694 / 0.85 = 4.66988..., so the floor is 4.67.
    let margin = format!("{USD}[margin]\nmin_margin = '0.15'\n");
    let d = fine(
        &margin,
        Item::new(40_000).with_unit_cost(39_694).with_scale(2),
        Some(467),
        "margin",
    );
    assert_eq!(d.lower, Some(467));
    // A hold at 12.345 publishes 12.34 (half to even), its interval too.
    let cooldown = format!("{USD}[change]\ncooldown_secs = 3600\n");
    let d = fine(
        &cooldown,
        Item::new(14_000)
            .with_current_price(12_345)
            .with_last_change_at(100)
            .with_now(200)
            .with_scale(1),
        Some(1234),
        "cooldown",
    );
    assert_eq!(
        (d.outcome, d.lower, d.upper),
        (Outcome::Held, Some(1234), Some(1234))
    );
    // (19.4373 - 15.00) x 10 = 44.373: exact, in tenths of a cent.
    let promo = format!("{USD}[promotion]\nmax_discount = '0.5'\n");
    let d = fine(
        &promo,
        Item::new(150_000)
            .with_reference_price(194_373)
            .with_expected_units(10)
            .with_scale(2),
        Some(1500),
        "",
    );
    assert_eq!((d.promo_spend, d.spend_scale), (Some(44_373), 1));
    // More than six digits beyond the cent: not an item (M1).
    let d = reference_says(USD, Item::new(1).with_scale(7), None, "invalid_input");
    assert_eq!(d.invalid_field, Some(priceguard::Field::ProposedPrice));
    agree(USD, Item::new(1).with_scale(7));
}

// Regressions for disagreements the differential test found (see the
// report); each is a minimal case with the docs/spec.md clause.

/// R6: `min_change` applies when it is the only stability rule (the class
/// has no bound, so it is not relaxed).
#[test]
fn min_change_as_the_only_stability_rule() {
    agree(
        &format!("{USD}[change]\nmin_change = '0.1'\n"),
        Item::new(10_500).with_current_price(10_000),
    );
}

/// R7: an off-tick proposal whose snapped value sits exactly between two
/// endings goes to the lower one (the price is the snapped proposal).
#[test]
fn ending_tie_after_snapping_goes_down() {
    agree(
        &format!("{CHF}[endings]\nallowed = ['0.00', '0.50']\n"),
        Item::new(1226),
    );
}

/// C5: an off-tick pin snapped onto the tick, nothing clamping: the reason
/// is `pinned` ("when nothing clamped ... `pinned` for a pin, else `tick`").
#[test]
fn off_tick_pin_reason_is_pinned() {
    agree(CHF, Item::new(2000).with_pinned_price(1237));
}

/// C6: an off-tick proposal snapped onto P, moved off it by an ending and
/// back to P by `min_change`: the published price is `min_change`'s, so
/// only `min_change` is binding (the snap was undone by the ending).
#[test]
fn min_change_back_to_a_snapped_proposal_binds_alone() {
    let toml = format!(
        "{CHF}[change]\nmin_change = '0.0727'\n\
         [endings]\nallowed = ['4.95', '2.5']\nmodulus = '5'\n"
    );
    let item = Item::new(10_553).with_current_price(10_555);
    // `evaluate` takes the prepared kernel; the general engine too.
    agree(&toml, item);
    let policy = Policy::from_toml_str(&toml).unwrap();
    let engine =
        priceguard::evaluate_rules(policy.rules_for(None), &item, priceguard::Budget::None);
    let reference = reference::evaluate(&policy, &item);
    assert_eq!(
        engine,
        reference,
        "{}",
        describe(&policy, &item, &engine, &reference)
    );
    assert_eq!(engine.binding.iter().collect::<Vec<_>>(), [Rule::MinChange]);
}

/// M3: `reference_price x expected_units <= 2^61` is valid; exactly 2^61 too.
#[test]
fn reference_times_units_of_exactly_two_to_the_61_is_valid() {
    agree(
        "name = 't'\ncurrency = 'USD'\nallow_unbounded = true\n",
        Item::new(100)
            .with_reference_price(1 << 32)
            .with_expected_units(1 << 29),
    );
}

#[test]
fn a_floor_above_the_money_range_is_infeasible() {
    // No price ceiling, so the cost floor (10 x 10^15) is kept, not relaxed.
    let toml =
        "name = 't'\ncurrency = 'USD'\nallow_unbounded = true\n[margin]\nmin_margin = '0.9'\n";
    let item = Item::new(100).with_unit_cost(priceguard::MAX_MONEY);
    agree(toml, item);
    let held = item.with_current_price(500);
    agree(toml, held);
    let policy = Policy::from_toml_str(toml).unwrap();
    assert_eq!(
        policy.evaluate(&item).reason,
        priceguard::Reason::Infeasible
    );
    assert_eq!(policy.evaluate(&held).price, Some(500));
}

/// Builds a vector item through `Policy::set_field_text`, as the edges do.
fn vector_item(
    policy: &Policy,
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Option<Item> {
    let mut item = Item::new(0);
    for field in priceguard::Field::ALL {
        if field == priceguard::Field::Sku {
            continue;
        }
        let Some(v) = fields.get(field.name()) else {
            continue;
        };
        let text = match v {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        policy.set_field_text(&mut item, field, &text).ok()?;
    }
    Some(item)
}

/// The reference agrees with the engine on every readable item of the
/// shared vectors (which `tests/vectors.rs` checks against the hand-checked
/// expectations), batches included.
#[test]
fn reference_agrees_on_the_shared_vectors() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut compared = 0;
    let mut errors = Vec::new();
    for path in &files {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let policy = Policy::from_json_str(&doc["policy"].to_string()).unwrap();
        let items: Vec<Item> = doc["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| vector_item(&policy, c["item"].as_object().unwrap()))
            .collect();
        let (engine, reference) = if doc["batch"].as_bool().unwrap_or(false) {
            let mut out = vec![Decision::default(); items.len()];
            policy.evaluate_batch(&items, &mut out).unwrap();
            (out, reference::evaluate_batch(&policy, &items).0)
        } else {
            let engine = items.iter().map(|i| policy.evaluate(i)).collect();
            (
                engine,
                items
                    .iter()
                    .map(|i| reference::evaluate(&policy, i))
                    .collect(),
            )
        };
        for ((e, r), item) in engine.iter().zip(&reference).zip(&items) {
            compared += 1;
            if e != r {
                errors.push(format!(
                    "{}: {}",
                    path.display(),
                    describe(&policy, item, e, r)
                ));
            }
        }
    }
    assert!(compared >= 80, "only {compared} vector items compared");
    assert!(
        errors.is_empty(),
        "{} disagreements:\n{}",
        errors.len(),
        errors.join("\n")
    );
}
