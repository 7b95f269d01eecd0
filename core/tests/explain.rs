//! Explanations of `invalid_input` name the field, the value as sent and
//! the specific reason, the same words as the CLI's row errors
//! (docs/spec.md §6 bad input).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use priceguard::{invalid_reason, Field, Item, Outcome, Policy, Reason, MAX_MONEY};

fn policy(currency: &str) -> Policy {
    Policy::from_toml_str(&format!(
        "name = \"t\"\ncurrency = \"{currency}\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"100\"\n"
    ))
    .unwrap()
}

/// Evaluates `item`, checks it is `invalid_input` naming `field`, and
/// returns the explanation.
fn explain(p: &Policy, item: Item, field: Field) -> String {
    let d = p.evaluate(&item);
    assert_eq!(d.outcome, Outcome::Rejected);
    assert_eq!(d.reason, Reason::InvalidInput);
    assert_eq!(d.invalid_field, Some(field));
    d.explain(p, &item)
}

#[test]
fn zero_and_negative_prices_must_be_greater_than_zero() {
    let p = policy("USD");
    assert_eq!(
        explain(&p, Item::new(0), Field::ProposedPrice),
        "rejected: proposed_price: `0.00` must be greater than zero"
    );
    assert_eq!(
        explain(&p, Item::new(-1250), Field::ProposedPrice),
        "rejected: proposed_price: `-12.50` must be greater than zero"
    );
    assert_eq!(
        explain(
            &p,
            Item::new(100).with_current_price(0),
            Field::CurrentPrice
        ),
        "rejected: current_price: `0.00` must be greater than zero"
    );
    assert_eq!(
        explain(&p, Item::new(100).with_pinned_price(-5), Field::PinnedPrice),
        "rejected: pinned_price: `-0.05` must be greater than zero"
    );
}

#[test]
fn a_negative_cost_must_not_be_negative_but_zero_cost_is_fine() {
    let p = policy("USD");
    assert_eq!(
        explain(&p, Item::new(100).with_unit_cost(-1), Field::UnitCost),
        "rejected: unit_cost: `-0.01` must not be negative"
    );
    assert_ne!(
        p.evaluate(&Item::new(100).with_unit_cost(0)).reason,
        Reason::InvalidInput
    );
}

#[test]
fn money_beyond_the_range_is_named() {
    let p = policy("JPY");
    assert_eq!(
        explain(&p, Item::new(MAX_MONEY + 1), Field::ProposedPrice),
        format!(
            "rejected: proposed_price: `{}` is beyond the supported range",
            MAX_MONEY + 1
        )
    );
    assert_eq!(
        explain(
            &p,
            Item::new(100).with_unit_cost(MAX_MONEY + 1),
            Field::UnitCost
        ),
        format!(
            "rejected: unit_cost: `{}` is beyond the supported range",
            MAX_MONEY + 1
        )
    );
}

#[test]
fn expected_units_out_of_range_say_which_limit() {
    let p = policy("USD");
    let promo = Item::new(100).with_reference_price(200);
    assert_eq!(
        explain(&p, promo.with_expected_units(0), Field::ExpectedUnits),
        "rejected: expected_units: `0` must be at least 1"
    );
    assert_eq!(
        explain(&p, promo.with_expected_units(-3), Field::ExpectedUnits),
        "rejected: expected_units: `-3` must be at least 1"
    );
    assert_eq!(
        explain(
            &p,
            promo.with_expected_units(1_000_000_001),
            Field::ExpectedUnits
        ),
        "rejected: expected_units: `1000000001` is more than 1000000000"
    );
    let big = Item::new(100)
        .with_reference_price(MAX_MONEY)
        .with_expected_units(1_000_000);
    assert_eq!(
        explain(&p, big, Field::ExpectedUnits),
        "rejected: expected_units: `1000000` times reference_price is beyond the supported range"
    );
}

#[test]
fn negative_times_and_counts_must_not_be_negative() {
    let p = policy("USD");
    assert_eq!(
        explain(&p, Item::new(100).with_now(-1), Field::Now),
        "rejected: now: `-1` must not be negative"
    );
    assert_eq!(
        explain(
            &p,
            Item::new(100).with_last_change_at(-7),
            Field::LastChangeAt
        ),
        "rejected: last_change_at: `-7` must not be negative"
    );
    assert_eq!(
        explain(
            &p,
            Item::new(100).with_changes_in_window(-2),
            Field::ChangesInWindow
        ),
        "rejected: changes_in_window: `-2` must not be negative"
    );
}

#[test]
fn invalid_reason_is_the_cli_wording_after_the_value() {
    let item = Item::new(0).with_expected_units(0);
    assert_eq!(
        invalid_reason(Field::ProposedPrice, &item),
        "must be greater than zero"
    );
    assert_eq!(
        invalid_reason(Field::ExpectedUnits, &item),
        "must be at least 1"
    );
    // A field the item does not carry cannot have a bad value.
    assert_eq!(
        invalid_reason(Field::CompetitorPrice, &item),
        "is missing or not a valid value"
    );
}
