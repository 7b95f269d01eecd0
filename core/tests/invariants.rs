//! Invariants over random policies and items (testkit strategies): the
//! decision checks of `testkit::check_invariants`, idempotence of a
//! published price, monotonicity in the proposal, no panic on any input,
//! and batch == single evaluation when nothing couples the items.

#![cfg(feature = "testkit")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use priceguard::testkit::{arb_item, arb_policy, arb_policy_spec, check_invariants};
use priceguard::{CampaignId, Decision, Field, Item, Outcome, Policy, MAX_MONEY};
use proptest::prelude::*;
use proptest::test_runner::Config;

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

fn policy_and_items(n: std::ops::Range<usize>) -> impl Strategy<Value = (Policy, Vec<Item>)> {
    arb_policy().prop_flat_map(move |p| {
        let items = proptest::collection::vec(arb_item(&p), n.clone());
        (Just(p), items)
    })
}

fn toml(policy: &Policy) -> String {
    toml::to_string(policy.spec()).unwrap_or_default()
}

/// Any `i64`, weighted towards the edges of the supported ranges.
fn any_value() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        proptest::sample::select(vec![
            i64::MIN,
            i64::MIN + 1,
            -1,
            0,
            1,
            2,
            MAX_MONEY - 1,
            MAX_MONEY,
            MAX_MONEY + 1,
            1 << 32,
            1 << 29,
            1_000_000_000,
            i64::MAX - 1,
            i64::MAX,
        ]),
        1_i64..10_000,
    ]
}

/// Items with any value in any field (including campaign and segment ids).
fn wild_item() -> impl Strategy<Value = Item> {
    (
        any_value(),
        proptest::collection::vec(proptest::option::of(any_value()), 16),
        proptest::option::of(any::<u32>()),
        proptest::option::of(prop_oneof![any::<u32>(), 0_u32..10]),
    )
        .prop_map(|(proposed, values, campaign, segment)| {
            let mut item = Item::new(proposed);
            let fields = Field::ALL.iter().filter(|f| {
                !matches!(
                    f,
                    Field::ProposedPrice | Field::Sku | Field::Campaign | Field::Segment
                )
            });
            for (f, v) in fields.zip(values) {
                if let Some(v) = v {
                    item.set(*f, v);
                }
            }
            if let Some(c) = campaign {
                item = item.with_campaign(CampaignId(c));
            }
            if let Some(s) = segment {
                item = item.with_segment(s);
            }
            item
        })
}

proptest! {
    #![proptest_config(config(1_500))]

    /// Every decision satisfies the testkit invariants.
    #[test]
    fn decisions_satisfy_invariants((policy, items) in policy_and_items(4..9)) {
        for item in &items {
            let d = policy.evaluate(item);
            if let Err(v) = check_invariants(&policy, item, &d) {
                prop_assert!(false, "{v}\n--- policy ---\n{}\n--- item ---\n{item:?}\n--- decision ---\n{d:?}", toml(&policy));
            }
        }
    }

    /// Proposing the published price again, in the same context, is accepted.
    #[test]
    fn republishing_is_accepted((policy, items) in policy_and_items(4..9)) {
        for item in &items {
            let d = policy.evaluate(item);
            let Some(price) = d.price else { continue };
            // A price above MAX_MONEY (a floor over a huge cost) cannot be
            // proposed at all: that is reported, not checked here.
            if !d.is_change() || price > MAX_MONEY {
                continue;
            }
            // In the item's own units (a finer item's proposal is too).
            let unit = priceguard::money::pow10_i64(item.scale());
            let again = policy.evaluate(&item.with_proposed_price(price * unit));
            prop_assert_eq!(
                again.outcome, Outcome::Accepted,
                "first {:?}\nagain {:?}\n--- policy ---\n{}\n--- item ---\n{:?}",
                d, again, toml(&policy), item
            );
            prop_assert_eq!(again.price, Some(price));
        }
    }

    /// A higher proposal never gives a lower published price.
    #[test]
    fn monotone_in_the_proposal(
        (policy, items, steps) in policy_and_items(2..6).prop_flat_map(|(p, items)| {
            let n = items.len();
            (Just(p), Just(items), proptest::collection::vec((1_i64..2_000, 0_i64..3_000), n))
        })
    ) {
        for (item, (a, delta)) in items.iter().zip(steps) {
            // proposals around the item's own, a <= b
            let base = item.proposed_price().clamp(1, MAX_MONEY / 2);
            let lo = (base * a / 1_000).max(1);
            let hi = lo + delta * base.max(1_000) / 1_000;
            let da = policy.evaluate(&item.with_proposed_price(lo));
            let db = policy.evaluate(&item.with_proposed_price(hi));
            if let (Some(pa), Some(pb)) = (da.price, db.price) {
                prop_assert!(
                    pa <= pb,
                    "proposal {lo} published {pa} but higher proposal {hi} published {pb}\n{da:?}\n{db:?}\n--- policy ---\n{}\n--- item ---\n{item:?}",
                    toml(&policy)
                );
            }
        }
    }

}

proptest! {
    #![proptest_config(config(500))]

    /// With no budgets and no breaker, a batch is single evaluation item by item.
    #[test]
    fn batch_equals_single(
        (policy, items) in arb_policy_spec()
            .prop_filter_map("policy refused", |mut spec| {
                spec.breaker = None;
                if let Some(p) = spec.promotion.as_mut() {
                    p.budgets = None;
                }
                Policy::from_spec(spec).ok()
            })
            .prop_flat_map(|p| {
                let items = proptest::collection::vec(arb_item(&p), 0..40);
                (Just(p), items)
            })
    ) {
        let mut out = vec![Decision::default(); items.len()];
        let summary = policy.evaluate_batch(&items, &mut out).unwrap();
        prop_assert_eq!(summary.items, items.len() as u64);
        prop_assert!(!summary.breaker_tripped);
        for (item, d) in items.iter().zip(&out) {
            prop_assert_eq!(*d, policy.evaluate(item));
        }
    }

    /// Batch decisions (budgets consumed, breaker judged) satisfy the invariants too.
    #[test]
    fn batch_decisions_satisfy_invariants((policy, items) in policy_and_items(0..40)) {
        let mut out = vec![Decision::default(); items.len()];
        policy.evaluate_batch(&items, &mut out).unwrap();
        for (item, d) in items.iter().zip(&out) {
            if let Err(v) = check_invariants(&policy, item, d) {
                prop_assert!(false, "{v}\n--- policy ---\n{}\n--- item ---\n{item:?}\n--- decision ---\n{d:?}", toml(&policy));
            }
        }
    }
}

proptest! {
    #![proptest_config(config(1_500))]

    /// No panic on any input: every field any `i64`, ids any `u32`; the
    /// decision still satisfies the invariants and explains itself.
    #[test]
    fn no_panic_on_any_input(
        (policy, items) in arb_policy().prop_flat_map(|p| {
            (Just(p), proptest::collection::vec(wild_item(), 1..4))
        })
    ) {
        for item in &items {
            let d = policy.evaluate(item);
            let text = d.explain(&policy, item);
            prop_assert!(!text.is_empty());
            if let Err(v) = check_invariants(&policy, item, &d) {
                prop_assert!(false, "{v}\n--- policy ---\n{}\n--- item ---\n{item:?}\n--- decision ---\n{d:?}", toml(&policy));
            }
        }
        let mut out = vec![Decision::default(); items.len()];
        prop_assert!(policy.evaluate_batch(&items, &mut out).is_ok());
    }
}
