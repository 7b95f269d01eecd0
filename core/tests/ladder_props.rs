//! Property tests of the group pass (docs/spec.md §10): the engine equals
//! the reference pass (`reference/group.rs`) on random batches, a
//! published group satisfies every edge or is wholly held, each price
//! stays in its own solo interval, a group that already satisfies its
//! edges is unchanged, and shuffling the rows changes no decision.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod reference;

use std::collections::BTreeMap;

use priceguard::{Decision, Field, GroupRow, Item, Outcome, Policy, Reason, RuleSet};
use proptest::prelude::*;
use proptest::test_runner::Config;

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// A policy with a random `[ladder]` and a few per-item rules that give
/// holds, caps, endings and approval flags.
fn arb_policy() -> impl Strategy<Value = Policy> {
    (
        any::<bool>(),
        prop::option::of(prop::sample::select(vec!["0", "0.05", "0.1", "0.333"])),
        prop::option::of(prop::sample::select(vec!["0.2", "0.5", "1"])),
        prop::option::of(prop::sample::select(vec!["0", "0.1", "0.25"])),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_filter_map(
            "a ladder needs a key",
            |(chf, min_gap, max_gap, saving, endings, cooldown, increase, approval)| {
                if min_gap.is_none() && max_gap.is_none() && saving.is_none() {
                    return None;
                }
                let (code, tick, ends) = if chf {
                    ("CHF", "tick = \"0.05\"\n", "[\"0.50\", \"0.95\"]")
                } else {
                    ("USD", "", "[\"0.49\", \"0.99\"]")
                };
                let mut t = format!(
                    "name = \"p\"\ncurrency = \"{code}\"\n{tick}[bounds]\nmin_price = \"1.00\"\nmax_price = \"1000\"\n"
                );
                if cooldown || increase {
                    t.push_str("[change]\n");
                    if cooldown {
                        t.push_str("cooldown_secs = 3600\n");
                    }
                    if increase {
                        t.push_str("max_increase = \"0.2\"\n");
                    }
                }
                if endings {
                    t.push_str(&format!("[endings]\nallowed = {ends}\n"));
                }
                if approval {
                    t.push_str("[approval]\nmax_auto_change = \"0.1\"\n");
                }
                t.push_str("[ladder]\n");
                for (k, v) in [("min_gap", min_gap), ("max_gap", max_gap), ("min_unit_saving", saving)] {
                    if let Some(v) = v {
                        t.push_str(&format!("{k} = \"{v}\"\n"));
                    }
                }
                Policy::from_toml_str(&t).ok()
            },
        )
}

/// One row: an item and its group info. Group ids are mostly dense (the
/// counting sort) and sometimes huge (the comparison sort).
fn arb_row() -> impl Strategy<Value = (Item, Option<GroupRow>)> {
    (
        prop_oneof![20 => 100i64..20_000, 1 => Just(0i64)],
        prop::option::of(100i64..20_000),
        prop_oneof![3 => Just(None), 1 => Just(Some(5_000i64)), 1 => Just(Some(9_000i64))],
        prop::option::of(100i64..20_000),
        prop::option::of(100i64..20_000),
        prop_oneof![
            1 => Just(None),
            6 => (prop_oneof![6 => 0u32..3, 1 => Just(4_000_000_000u32)], prop_oneof![12 => (0i64..8).prop_map(Some), 1 => Just(None)],
                  prop_oneof![2 => Just(None), 3 => (1u64..13).prop_map(Some), 1 => Just(Some(0u64))])
                .prop_map(Some),
        ],
    )
        .prop_map(|(p, cur, last, min, max, g)| {
            let mut it = Item::new(p);
            if let Some(c) = cur {
                it.set(Field::CurrentPrice, c);
                if let Some(l) = last {
                    it.set(Field::LastChangeAt, l);
                    it.set(Field::Now, 10_000);
                }
            }
            // Rarely an item bound, so some chains are infeasible.
            if let Some(m) = min.filter(|m| m % 5 == 0) {
                it.set(Field::MinPrice, m);
            }
            if let Some(m) = max.filter(|m| m % 5 == 1) {
                it.set(Field::MaxPrice, m);
            }
            let row = g.map(|(group, rank, pack)| {
                let mut r = match rank {
                    Some(k) => GroupRow::new(group, k),
                    None => GroupRow::unranked(group),
                };
                if let Some(s) = pack {
                    r = r.with_pack_size(s);
                }
                r
            });
            (it, row)
        })
}

fn arb_batch() -> impl Strategy<Value = (Policy, Vec<Item>, Vec<Option<GroupRow>>, Vec<usize>)> {
    (arb_policy(), prop::collection::vec(arb_row(), 0..14)).prop_flat_map(|(policy, rows)| {
        let n = rows.len();
        let perm = Just((0..n).collect::<Vec<usize>>()).prop_shuffle();
        (Just(policy), Just(rows), perm).prop_map(|(policy, rows, perm)| {
            let (items, groups) = rows.into_iter().unzip();
            (policy, items, groups, perm)
        })
    })
}

fn grouped(policy: &Policy, items: &[Item], rows: &[Option<GroupRow>]) -> Vec<Decision> {
    let mut out = vec![Decision::default(); items.len()];
    policy
        .evaluate_batch_grouped(items, rows, &mut out)
        .unwrap();
    out
}

/// The kept members of each valid group, sorted by rank.
fn chains(rows: &[Option<GroupRow>], solo: &[Decision], after: &[Decision]) -> Vec<Vec<usize>> {
    let mut groups: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(r) = r {
            groups.entry(r.group).or_default().push(i);
        }
    }
    groups
        .into_values()
        .filter(|m| {
            !m.iter().any(|i| {
                after[*i].reason == Reason::InvalidInput
                    && matches!(after[*i].invalid_field, Some(Field::Rank | Field::PackSize))
            })
        })
        .map(|mut m| {
            m.retain(|i| solo[*i].outcome != Outcome::Rejected);
            m.sort_by_key(|i| rows[*i].and_then(|r| r.rank));
            m
        })
        .collect()
}

proptest! {
    #![proptest_config(config(1_000))]

    #[test]
    fn group_pass_properties((policy, items, rows, perm) in arb_batch()) {
        let got = grouped(&policy, &items, &rows);
        let (solo, _) = reference::evaluate_batch(&policy, &items);
        let mut engine_solo = vec![Decision::default(); items.len()];
        policy.evaluate_batch(&items, &mut engine_solo).unwrap();
        prop_assert_eq!(&engine_solo, &solo, "solo decisions differ from the reference");

        // The engine's pass equals the reference pass.
        let want = reference::group::resolve(&policy, &items, &rows, &solo);
        for i in 0..items.len() {
            prop_assert_eq!(got[i], want[i], "row {} of {:?}", i, rows);
        }

        for chain in chains(&rows, &solo, &got) {
            let prices: Vec<i64> = chain.iter().map(|i| got[*i].price.unwrap_or(0)).collect();
            // Published: some member publishes a price. (A chain of members all
            // held alone changes nothing, whatever its edges say.)
            let published = chain.iter().any(|i| got[*i].is_change());
            if published {
                prop_assert!(chain.iter().all(|i| got[*i].reason != Reason::Ladder));
                // Every edge holds between published neighbours.
                let broken = reference::group::broken_edges(&policy, &items, &rows, &chain, &prices);
                prop_assert_eq!(broken, RuleSet::EMPTY, "chain {:?} prices {:?} ladder {:?} rows {:?} solo {:?} got {:?}",
                    chain, prices, policy.ladder(), chain.iter().map(|i| rows[*i]).collect::<Vec<_>>(),
                    chain.iter().map(|i| solo[*i]).collect::<Vec<_>>(), chain.iter().map(|i| got[*i]).collect::<Vec<_>>());
                for i in &chain {
                    let (d, s) = (&got[*i], &solo[*i]);
                    if reference::group::is_fixed(&items[*i], s) {
                        prop_assert_eq!(d.price, s.price);
                    } else {
                        let p = d.price.unwrap();
                        prop_assert!(s.lower.is_none_or(|l| p >= l) && s.upper.is_none_or(|u| p <= u),
                            "row {} price {} outside its solo interval {:?}..{:?}", i, p, s.lower, s.upper);
                    }
                }
            } else {
                // Wholly held: nothing in the chain publishes a change.
                for i in &chain {
                    prop_assert!(matches!(got[*i].outcome, Outcome::Held | Outcome::Rejected));
                }
            }
            // A chain whose solo prices satisfy its edges is unchanged.
            let own: Vec<i64> = chain.iter().map(|i| solo[*i].price.unwrap_or(0)).collect();
            if reference::group::broken_edges(&policy, &items, &rows, &chain, &own) == RuleSet::EMPTY {
                for i in &chain {
                    prop_assert_eq!(got[*i], solo[*i], "row {} changed in a satisfied chain", i);
                }
            }
        }

        // Rows sorted by group (the chunked path when the policy has no
        // breaker): the same decision for every row.
        let mut by_group: Vec<usize> = (0..items.len()).collect();
        by_group.sort_by_key(|i| rows[*i].map(|r| r.group));
        let items3: Vec<Item> = by_group.iter().map(|i| items[*i]).collect();
        let rows3: Vec<Option<GroupRow>> = by_group.iter().map(|i| rows[*i]).collect();
        let got3 = grouped(&policy, &items3, &rows3);
        for (k, i) in by_group.iter().enumerate() {
            prop_assert_eq!(got3[k], got[*i], "row {} sorted to {}", i, k);
        }

        // Shuffled rows: the same decision for every row.
        let items2: Vec<Item> = perm.iter().map(|i| items[*i]).collect();
        let rows2: Vec<Option<GroupRow>> = perm.iter().map(|i| rows[*i]).collect();
        let got2 = grouped(&policy, &items2, &rows2);
        for (k, i) in perm.iter().enumerate() {
            prop_assert_eq!(got2[k], got[*i], "row {} moved to {}", i, k);
        }
    }
}

/// A batch long enough to be cut into chunks gives the decisions, notes
/// and counts of the two passes over the whole batch.
#[test]
fn chunked_batches_equal_two_whole_passes() {
    use priceguard::{resolve_groups, Budgets, GroupScratch, Member};
    let policy = Policy::from_toml_str(
        "name = \"c\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"1000\"\n\
         [change]\ncooldown_secs = 3600\n[endings]\nallowed = [\"0.49\", \"0.99\"]\n\
         [ladder]\nmin_gap = \"0.05\"\nmax_gap = \"0.6\"\nmin_unit_saving = \"0.1\"\n",
    )
    .unwrap();
    let mut s: u64 = 42;
    let mut next = |m: u64| {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (s >> 33) % m
    };
    let (mut items, mut rows) = (Vec::new(), Vec::new());
    let mut group = 0;
    while items.len() < 10_000 {
        let size = 1 + next(17) as i64;
        for k in 0..size {
            let mut it = Item::new(100 + next(20_000) as i64).with_current_price(5_000);
            if next(7) == 0 {
                it = it.with_now(10_000).with_last_change_at(9_000);
            }
            items.push(it);
            rows.push(if next(11) == 0 {
                None
            } else {
                Some(GroupRow::new(group, size - k).with_pack_size(1 + next(6)))
            });
        }
        group += 1 + next(3) as u32;
    }
    let n = items.len();
    let mut scratch = vec![GroupScratch::default(); n];
    let mut got = vec![Decision::default(); n];
    let mut got_notes = vec![None; n];
    let (_, g1) = policy
        .evaluate_batch_grouped_with(
            &items,
            &rows,
            &mut got,
            &mut Budgets::new(&policy),
            &mut scratch,
            Some(&mut got_notes),
        )
        .unwrap();
    let mut want = vec![Decision::default(); n];
    let mut want_notes = vec![None; n];
    policy.evaluate_batch(&items, &mut want).unwrap();
    let ladder = policy.ladder().unwrap();
    let g2 = resolve_groups(
        &policy,
        &ladder,
        |i| Member::of(&items[i]),
        &rows,
        &mut want,
        &mut scratch,
        Some(&mut want_notes),
    )
    .unwrap();
    assert_eq!(got, want);
    assert_eq!(got_notes, want_notes);
    assert_eq!(g1, g2);
    assert!(g1.adjusted > 10 && g1.held > 10, "{g1:?}");
}
