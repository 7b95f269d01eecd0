//! Custom rules compose with the built-in ones: same relaxation, same
//! reporting, same invariants, no allocation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use priceguard::engine::{CustomBound, CustomRule, CUSTOM_BASE};
use priceguard::{Class, Item, Outcome, Policy, Reason, Rule};
#[cfg(feature = "testkit")]
use proptest::prelude::*;

/// Key-value items (those in segment `kvi_segment`) are never priced above
/// the competitor: shoppers compare these prices, so losing on them costs
/// the whole basket.
struct NeverAboveCompetitor {
    kvi_segment: u32,
}

impl CustomRule for NeverAboveCompetitor {
    fn name(&self) -> &'static str {
        "kvi_competitor_ceiling"
    }
    fn class(&self) -> Class {
        Class::Market
    }
    fn bounds(&self, item: &Item) -> CustomBound {
        match (item.segment(), item.competitor_price()) {
            (Some(s), Some(k)) if s == self.kvi_segment => CustomBound {
                lo: None,
                hi: Some(k),
            },
            _ => CustomBound::default(),
        }
    }
}

/// A hard floor from a contract: never below 5.00.
struct ContractFloor;

impl CustomRule for ContractFloor {
    fn name(&self) -> &'static str {
        "contract_floor"
    }
    fn class(&self) -> Class {
        Class::Hard
    }
    fn bounds(&self, _item: &Item) -> CustomBound {
        CustomBound {
            lo: Some(500),
            hi: None,
        }
    }
}

const POLICY: &str = r#"
name = "kvi"
currency = "USD"
[bounds]
min_price = "1.00"
max_price = "100"
[margin]
min_margin = "0.10"
[change]
max_increase = "0.10"
max_decrease = "0.20"
"#;

const KVI: NeverAboveCompetitor = NeverAboveCompetitor { kvi_segment: 1 };

#[test]
fn kvi_ceiling_binds_and_is_reported() {
    let p = Policy::from_toml_str(POLICY).unwrap();
    let rules: [&dyn CustomRule; 1] = [&KVI];
    let item = Item::new(1299)
        .with_segment(1)
        .with_competitor_price(1249)
        .with_unit_cost(1000)
        .with_current_price(1250);
    let d = p.evaluate_with(&item, &rules);
    assert_eq!(d.outcome, Outcome::Adjusted);
    assert_eq!(d.price, Some(1249));
    assert_eq!(d.upper, Some(1249));
    assert_eq!(d.reason, Reason::Custom(0));
    assert_eq!(d.reason.code(), 100);
    assert_eq!(
        d.violated.custom_names(&rules).collect::<Vec<_>>(),
        ["kvi_competitor_ceiling"]
    );
    assert_eq!(
        d.binding.custom_names(&rules).collect::<Vec<_>>(),
        ["kvi_competitor_ceiling"]
    );
    assert!(d.binding.0 & (1 << CUSTOM_BASE) != 0);
    // Built-in names still iterate as before and skip custom bits.
    assert_eq!(d.violated.iter().count(), 0);
    // Not a key-value item: the rule sets nothing.
    let other = item.with_segment(2);
    assert_eq!(p.evaluate_with(&other, &rules), p.evaluate(&other));
    assert_eq!(p.evaluate_with(&other, &rules).price, Some(1299));
}

#[test]
fn a_market_rule_is_relaxed_before_a_cost_floor() {
    let p = Policy::from_toml_str(POLICY).unwrap();
    let rules: [&dyn CustomRule; 1] = [&KVI];
    // The competitor sells at 10.00; our floor is 12.00 / 0.9 = 13.34.
    let item = Item::new(1500)
        .with_segment(1)
        .with_competitor_price(1000)
        .with_unit_cost(1200);
    let d = p.evaluate_with(&item, &rules);
    assert!(d.relaxed.contains(Class::Market));
    assert_eq!(d.price, Some(1500));
    assert_eq!(d.outcome, Outcome::Accepted);
    assert_eq!(
        d.violated.custom_names(&rules).collect::<Vec<_>>(),
        ["kvi_competitor_ceiling"]
    );
    assert_eq!(d.binding.custom_indices().count(), 0);
}

#[test]
fn pins_skip_market_custom_rules_but_not_hard_ones() {
    let p = Policy::from_toml_str(POLICY).unwrap();
    let rules: [&dyn CustomRule; 2] = [&KVI, &ContractFloor];
    let pinned = Item::new(1299)
        .with_segment(1)
        .with_competitor_price(1000)
        .with_unit_cost(100)
        .with_pinned_price(1500);
    let d = p.evaluate_with(&pinned, &rules);
    assert_eq!(d.price, Some(1500));
    assert_eq!(d.reason, Reason::Rule(Rule::Pinned));
    let low_pin = pinned.with_pinned_price(300);
    let d = p.evaluate_with(&low_pin, &rules);
    assert_eq!(d.price, Some(500));
    assert_eq!(d.reason, Reason::Custom(1));
    assert_eq!(
        d.binding.custom_names(&rules).collect::<Vec<_>>(),
        ["contract_floor"]
    );
}

#[test]
fn custom_bounds_are_rounded_onto_the_tick_safely() {
    let p = Policy::from_toml_str(
        "name = \"c\"\ncurrency = \"CHF\"\ntick = \"0.05\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"100\"\n",
    )
    .unwrap();
    let rules: [&dyn CustomRule; 1] = [&KVI];
    let item = Item::new(1300).with_segment(1).with_competitor_price(1249);
    let d = p.evaluate_with(&item, &rules);
    assert_eq!(d.price, Some(1245), "upper bounds round down onto the tick");
}

#[test]
fn an_infeasible_hard_custom_rule_holds() {
    struct Impossible;
    impl CustomRule for Impossible {
        fn name(&self) -> &'static str {
            "impossible"
        }
        fn class(&self) -> Class {
            Class::Hard
        }
        fn bounds(&self, _: &Item) -> CustomBound {
            CustomBound {
                lo: Some(20_000),
                hi: None,
            }
        }
    }
    let p = Policy::from_toml_str(POLICY).unwrap();
    let d = p.evaluate_with(
        &Item::new(1000).with_unit_cost(10).with_current_price(990),
        &[&Impossible],
    );
    assert_eq!(d.outcome, Outcome::Held);
    assert_eq!(d.reason, Reason::Infeasible);
    assert_eq!(d.price, Some(990));
}

#[cfg(feature = "testkit")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 8 } else { 2_000 }))]

    /// The published price respects the custom ceiling unless the market
    /// class was relaxed, the decision obeys the built-in invariants, and a
    /// higher proposal never publishes lower.
    #[test]
    fn custom_rule_invariants(
        proposed in 1i64..20_000,
        delta in 0i64..500,
        competitor in 1i64..20_000,
        cost in 0i64..10_000,
        current in proptest::option::of(1i64..20_000),
        kvi in any::<bool>(),
    ) {
        let p = Policy::from_toml_str(POLICY).unwrap();
        let rules: [&dyn CustomRule; 1] = [&KVI];
        let mut item = Item::new(proposed)
            .with_competitor_price(competitor)
            .with_unit_cost(cost)
            .with_segment(if kvi { 1 } else { 2 });
        if let Some(c) = current {
            item = item.with_current_price(c);
        }
        let d = p.evaluate_with(&item, &rules);
        if let (Some(price), true) = (d.price, kvi) {
            if d.outcome != Outcome::Held && !d.relaxed.contains(Class::Market) {
                prop_assert!(price <= competitor, "{price} above competitor {competitor}: {d:?}");
            }
        }
        priceguard::testkit::check_invariants(&p, &item, &d)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let higher = p.evaluate_with(&item.with_proposed_price(proposed + delta), &rules);
        if let (Some(a), Some(b)) = (d.price, higher.price) {
            prop_assert!(b >= a, "proposal +{delta} published {b} < {a}");
        }
        if !kvi {
            prop_assert_eq!(d, p.evaluate(&item));
        }
    }
}
