//! The columnar and parallel batch entry points give exactly the decisions
//! and summary of the serial array-of-structs path.
#![cfg(feature = "testkit")]
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use priceguard::batch::{Columns, ColumnsError};
use priceguard::testkit::{arb_item, arb_policy};
use priceguard::{Budgets, Decision, Field, Item, Policy};
use proptest::prelude::*;
use proptest::test_runner::Config;

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

fn policy_and_items() -> impl Strategy<Value = (Policy, Vec<Item>)> {
    arb_policy().prop_flat_map(|p| {
        let items = proptest::collection::vec(arb_item(&p), 0..60);
        (Just(p), items)
    })
}

/// Every optional field (all but the proposal and the sku), the history
/// summary's too.
fn optional() -> impl Iterator<Item = Field> {
    Field::ALL
        .into_iter()
        .filter(|f| !matches!(f, Field::ProposedPrice | Field::Sku))
}

/// The items as one value column and one validity bitmap per optional field.
struct Owned {
    proposed: Vec<i64>,
    scales: Vec<u8>,
    values: Vec<(Field, Vec<i64>, Vec<u8>)>,
}

fn to_columns(items: &[Item], with_bitmaps: bool) -> Owned {
    let n = items.len();
    let mut values = Vec::new();
    for field in optional() {
        let mut v = vec![0; n];
        let mut bits = vec![0u8; n.div_ceil(8)];
        let mut any = false;
        for (i, item) in items.iter().enumerate() {
            if let Some(x) = item.get(field) {
                v[i] = x;
                bits[i / 8] |= 1 << (i % 8);
                any = true;
            }
        }
        // A column present in every row may go without a bitmap.
        if any || with_bitmaps {
            values.push((field, v, bits));
        }
    }
    Owned {
        proposed: items.iter().map(Item::proposed_price).collect(),
        scales: items.iter().map(Item::scale).collect(),
        values,
    }
}

#[cfg(feature = "parallel")]
/// `item` without item bounds, MAP, baseline and pin, the columns that
/// send a whole columnar batch to the general engine.
fn without_item_bounds(item: &Item) -> Item {
    let mut out = Item::new(item.proposed_price()).with_scale(item.scale());
    for field in optional() {
        let skip = matches!(
            field,
            Field::MinPrice
                | Field::MaxPrice
                | Field::MapPrice
                | Field::BaselinePrice
                | Field::PinnedPrice
        );
        if let (false, Some(v)) = (skip, item.get(field)) {
            out.set(field, v);
        }
    }
    out
}

fn columns(owned: &Owned, with_bitmaps: bool) -> Columns<'_> {
    // Each row's scale: finer rows (docs/spec.md M1) are decided exactly.
    let mut cols = Columns::new(&owned.proposed)
        .with_scales(&owned.scales)
        .unwrap();
    for (field, v, bits) in &owned.values {
        let all = bits
            .iter()
            .enumerate()
            .all(|(byte, b)| (0..8).all(|k| byte * 8 + k >= v.len() || b & (1 << k) != 0));
        let bitmap = if with_bitmaps || !all {
            Some(bits.as_slice())
        } else {
            None
        };
        cols = cols.with(*field, v, bitmap).unwrap();
    }
    cols
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn columns_match_items((policy, items) in policy_and_items(), with_bitmaps in any::<bool>()) {
        let mut want = vec![Decision::default(); items.len()];
        let want_summary = policy.evaluate_batch(&items, &mut want).unwrap();
        let owned = to_columns(&items, with_bitmaps);
        let cols = columns(&owned, with_bitmaps);
        for (i, item) in items.iter().enumerate() {
            prop_assert_eq!(cols.item(i), Ok(*item));
        }
        let mut got = vec![Decision::default(); items.len()];
        let got_summary = policy.evaluate_columns(&cols, &mut got).unwrap();
        prop_assert_eq!(got_summary, want_summary);
        prop_assert_eq!(got, want);
    }

    #[test]
    fn chunked_columns_carry_budgets((policy, items) in policy_and_items(), split in 0usize..60) {
        let split = split.min(items.len());
        let mut want = vec![Decision::default(); items.len()];
        let mut budgets = Budgets::new(&policy);
        policy.evaluate_batch_with(&items[..split], &mut want[..split], &mut budgets).unwrap();
        policy.evaluate_batch_with(&items[split..], &mut want[split..], &mut budgets).unwrap();
        let mut got = vec![Decision::default(); items.len()];
        let mut got_budgets = Budgets::new(&policy);
        for range in [0..split, split..items.len()] {
            let owned = to_columns(&items[range.clone()], true);
            let cols = columns(&owned, true);
            policy.evaluate_columns_with(&cols, &mut got[range], &mut got_budgets).unwrap();
        }
        prop_assert_eq!(got, want);
        prop_assert_eq!(got_budgets, budgets);
    }
}

#[cfg(feature = "parallel")]
proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn parallel_matches_serial((policy, items) in policy_and_items(), repeat in 1usize..200) {
        // Repeat the items so that batches span several parallel chunks.
        let items: Vec<Item> = items.iter().cycle().take(items.len() * repeat).copied().collect();
        let mut want = vec![Decision::default(); items.len()];
        let mut want_budgets = Budgets::new(&policy);
        let want_summary = policy.evaluate_batch_with(&items, &mut want, &mut want_budgets).unwrap();
        let mut got = vec![Decision::default(); items.len()];
        let mut got_budgets = Budgets::new(&policy);
        let got_summary = policy.evaluate_batch_par_with(&items, &mut got, &mut got_budgets).unwrap();
        prop_assert_eq!(got_summary, want_summary);
        prop_assert_eq!(got_budgets, want_budgets);
        prop_assert_eq!(got, want);
    }

    #[test]
    fn parallel_columns_match_serial(
        (policy, items) in policy_and_items(),
        repeat in 1usize..400,
        with_bitmaps in any::<bool>(),
        kernel_only in any::<bool>(),
    ) {
        // Repeat the items so that batches span several parallel chunks;
        // half the time without the columns that turn the kernel off.
        let items: Vec<Item> = items
            .iter()
            .cycle()
            .take(items.len() * repeat)
            .map(|item| if kernel_only { without_item_bounds(item) } else { *item })
            .collect();
        let owned = to_columns(&items, with_bitmaps);
        let cols = columns(&owned, with_bitmaps);
        let mut want = vec![Decision::default(); items.len()];
        let mut want_budgets = Budgets::new(&policy);
        let want_summary = policy.evaluate_columns_with(&cols, &mut want, &mut want_budgets).unwrap();
        let mut got = vec![Decision::default(); items.len()];
        let mut got_budgets = Budgets::new(&policy);
        let got_summary = policy.evaluate_columns_par_with(&cols, &mut got, &mut got_budgets).unwrap();
        prop_assert_eq!(got_summary, want_summary);
        prop_assert_eq!(got_budgets, want_budgets);
        prop_assert_eq!(got, want);
    }
}

#[test]
fn out_of_range_ids_are_invalid_rows() {
    let policy = Policy::from_toml_str(
        "name = \"p\"\ncurrency = \"USD\"\nbounds = { min_price = \"1\", max_price = \"100\" }\n",
    )
    .unwrap();
    let proposed = [1000, 1000];
    let segment = [1, -1];
    let cols = Columns::new(&proposed)
        .with(Field::Segment, &segment, None)
        .unwrap();
    let mut out = vec![Decision::default(); 2];
    let summary = policy.evaluate_columns(&cols, &mut out).unwrap();
    assert_eq!(out[0].price, Some(1000));
    assert_eq!(out[1], Decision::invalid(Field::Segment));
    assert_eq!(summary.items, 2);
}

#[test]
fn bad_columns_are_refused_with_the_field_named() {
    let proposed = [1, 2, 3];
    let short = [1, 2];
    let err = Columns::new(&proposed)
        .with(Field::UnitCost, &short, None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "column `unit_cost` holds 2 values but the batch has 3 rows"
    );
    let err = Columns::new(&proposed)
        .with(Field::UnitCost, &proposed, Some(&[]))
        .unwrap_err();
    assert_eq!(
        err,
        ColumnsError::Validity {
            field: Field::UnitCost,
            bytes: 0,
            items: 3,
            needed: 1
        }
    );
    let err = Columns::new(&proposed)
        .with(Field::ProposedPrice, &proposed, None)
        .unwrap_err();
    assert_eq!(err, ColumnsError::NotOptional(Field::ProposedPrice));
    let mut out = vec![Decision::default(); 2];
    let policy = Policy::from_toml_str(
        "name = \"p\"\ncurrency = \"USD\"\nbounds = { min_price = \"1\", max_price = \"100\" }\n",
    )
    .unwrap();
    assert!(policy
        .evaluate_columns(&Columns::new(&proposed), &mut out)
        .is_err());
}
