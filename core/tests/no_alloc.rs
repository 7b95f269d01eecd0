//! Proves the hot path allocates nothing once the policy is compiled: a
//! counting global allocator watches `evaluate`, `evaluate_batch`,
//! `evaluate_batch_with` and `evaluate_reserving` over items that take every
//! path (accepted, adjusted, holds, relaxation, endings, budgets, the
//! breaker, invalid input).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use priceguard::{BudgetLedger, Budgets, Decision, Item, Outcome, Policy, Reason};

struct Counting;

thread_local! {
    // Per thread, so tests running in parallel do not see each other.
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    if WATCHING.with(Cell::get) {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
    }
}

// SAFETY: delegates every call to the system allocator unchanged; it only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns how many allocations it made on this thread.
fn allocations_in<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.with(Cell::get);
    WATCHING.with(|w| w.set(true));
    let r = f();
    WATCHING.with(|w| w.set(false));
    (ALLOCATIONS.with(Cell::get) - before, r)
}

const POLICY: &str = r#"
name = "no-alloc"
version = "1"
currency = "USD"
[bounds]
min_price = "0.99"
max_price = "5000"
[margin]
min_margin = "0.15"
[change]
max_increase = "0.10"
max_decrease = "0.20"
cooldown_secs = 3600
window_secs = 604800
window_increase = "0.25"
max_changes = 6
min_change = "0.01"
[promotion]
max_discount = "0.50"
budgets = { spring = "250.00", autumn = "10.00" }
[market]
min_index = "0.8"
max_index = "1.5"
[endings]
allowed = ["0.99", "0.49"]
[breaker]
max_violation_ratio = "0.30"
min_batch = 10
[approval]
max_auto_change = "0.05"
[[segments]]
id = 3
margin = { min_margin = "0.40" }
"#;

fn items(policy: &Policy) -> Vec<Item> {
    let spring = policy.campaign_id("spring");
    let unknown = policy.campaign_id("nope");
    let now = 1_800_000_000;
    let base = Item::new(1349)
        .with_current_price(1299)
        .with_unit_cost(1000)
        .with_now(now);
    vec![
        base,
        base.with_proposed_price(1),
        base.with_proposed_price(999_999),
        base.with_last_change_at(now - 10),
        base.with_changes_in_window(9),
        base.with_proposed_price(1301),
        base.with_segment(3),
        base.with_segment(77),
        base.with_competitor_price(900),
        base.with_pinned_price(2000),
        base.with_reference_price(1999)
            .with_expected_units(40)
            .with_campaign(spring)
            .with_proposed_price(1200),
        base.with_reference_price(1999)
            .with_expected_units(40)
            .with_campaign(unknown),
        Item::new(1234).with_unit_cost(500),
        Item::new(1234),
        Item::new(-5),
        base.with_unit_cost(-1),
        base.with_window_anchor_price(800),
    ]
}

struct CompetitorCeiling;

impl priceguard::engine::CustomRule for CompetitorCeiling {
    fn name(&self) -> &'static str {
        "competitor_ceiling_custom"
    }
    fn class(&self) -> priceguard::Class {
        priceguard::Class::Market
    }
    fn bounds(&self, item: &Item) -> priceguard::engine::CustomBound {
        priceguard::engine::CustomBound {
            lo: None,
            hi: item.competitor_price(),
        }
    }
}

#[test]
fn evaluate_and_batches_do_not_allocate() {
    let policy = Policy::from_toml_str(POLICY).unwrap();
    let items = items(&policy);
    let mut out = vec![Decision::default(); items.len()];
    let mut budgets = Budgets::new(&policy);
    // Small under miri, which initialises every slot step by step.
    let ledger = if cfg!(miri) {
        BudgetLedger::with_capacity(&policy, 64)
    } else {
        BudgetLedger::new(&policy)
    };
    // A batch of wild proposals to trip the breaker.
    let wild: Vec<Item> = (0..50)
        .map(|i| {
            Item::new(1 + i)
                .with_current_price(1299)
                .with_unit_cost(1000)
                .with_now(1_800_000_000)
        })
        .collect();
    let mut wild_out = vec![Decision::default(); wild.len()];

    let (count, (single, summary, tripped)) = allocations_in(|| {
        let mut held = 0;
        for item in &items {
            if policy.evaluate(item).outcome == Outcome::Held {
                held += 1;
            }
        }
        let summary = policy.evaluate_batch(&items, &mut out).unwrap();
        let _ = policy
            .evaluate_batch_with(&items, &mut out, &mut budgets)
            .unwrap();
        for item in &items {
            let (_, r) = policy.evaluate_reserving(item, &ledger);
            if let Some(r) = r {
                ledger.commit(r).unwrap();
            }
        }
        let custom: [&dyn priceguard::engine::CustomRule; 1] = [&CompetitorCeiling];
        for item in &items {
            let _ = policy.evaluate_with(item, &custom);
        }
        let tripped = policy.evaluate_batch(&wild, &mut wild_out).unwrap();
        (held, summary, tripped)
    });
    assert_eq!(count, 0, "the hot path allocated {count} times");
    // The run exercised the paths it claims to.
    assert!(single > 0);
    assert_eq!(summary.items, items.len() as u64);
    assert!(summary.count(Outcome::Rejected) >= 2);
    assert!(summary.count(Outcome::Adjusted) >= 1);
    assert!(tripped.breaker_tripped);
    assert!(wild_out.iter().all(|d| d.reason == Reason::CircuitOpen));
}

/// The columnar kernel's policy: every rule family it decides itself, a
/// budget (rows with a campaign go to the engine) and a breaker.
const KERNEL_POLICY: &str = r#"
name = "no-alloc-columns"
currency = "USD"
[bounds]
min_price = "0.99"
max_price = "5000"
[margin]
min_margin = "0.15"
[change]
max_increase = "0.10"
max_decrease = "0.20"
cooldown_secs = 3600
min_change = "0.01"
[promotion]
max_discount = "0.50"
budgets = { spring = "250.00" }
[market]
min_index = "0.8"
max_index = "1.5"
[breaker]
max_violation_ratio = "0.30"
min_batch = 10
[approval]
max_auto_change = "0.05"
"#;

#[test]
fn columnar_batches_do_not_allocate() {
    use priceguard::batch::Columns;
    use priceguard::Field;
    let policy = Policy::from_toml_str(KERNEL_POLICY).unwrap();
    let n = 64;
    let proposed: Vec<i64> = (0..n).map(|i| 1000 + 37 * i).collect();
    let current: Vec<i64> = (0..n).map(|i| 1300 + i).collect();
    let cost: Vec<i64> = (0..n).map(|i| if i == 5 { -1 } else { 900 }).collect();
    let last: Vec<i64> = (0..n).map(|i| 1_800_000_000 - 600 * i).collect();
    let now = vec![1_800_000_000_i64; n as usize];
    let competitor: Vec<i64> = (0..n).map(|i| 1200 + 3 * i).collect();
    let campaign = vec![0_i64; n as usize];
    let some = [0b0000_0101_u8, 0, 0, 0, 0, 0, 0, 0];
    let cols = Columns::new(&proposed)
        .with(Field::CurrentPrice, &current, None)
        .unwrap()
        .with(Field::UnitCost, &cost, None)
        .unwrap()
        .with(Field::LastChangeAt, &last, None)
        .unwrap()
        .with(Field::Now, &now, None)
        .unwrap()
        .with(Field::CompetitorPrice, &competitor, None)
        .unwrap()
        .with(Field::Campaign, &campaign, Some(&some))
        .unwrap();
    // Wild proposals to trip the breaker (the replay path).
    let wild: Vec<i64> = vec![1; n as usize];
    let wild_cols = Columns::new(&wild)
        .with(Field::CurrentPrice, &current, None)
        .unwrap()
        .with(Field::UnitCost, &cost, None)
        .unwrap();
    let mut out = vec![Decision::default(); n as usize];
    let mut wild_out = vec![Decision::default(); n as usize];
    let mut budgets = Budgets::new(&policy);
    let (count, (summary, tripped)) = allocations_in(|| {
        let summary = policy.evaluate_columns(&cols, &mut out).unwrap();
        let _ = policy
            .evaluate_columns_into(&cols, out.as_mut_slice(), &mut budgets)
            .unwrap();
        let tripped = policy.evaluate_columns(&wild_cols, &mut wild_out).unwrap();
        (summary, tripped)
    });
    assert_eq!(count, 0, "the columnar path allocated {count} times");
    assert_eq!(summary.items, n as u64);
    assert!(summary.count(Outcome::Held) >= 1);
    assert!(summary.count(Outcome::Adjusted) >= 1);
    assert_eq!(out[5].reason, Reason::InvalidInput);
    assert!(tripped.breaker_tripped);
    // Every row is held by the breaker except the invalid one (row 5).
    for (i, d) in wild_out.iter().enumerate() {
        let want = if i == 5 {
            Reason::InvalidInput
        } else {
            Reason::CircuitOpen
        };
        assert_eq!(d.reason, want, "row {i}");
    }
}

#[test]
fn the_counter_sees_allocations() {
    // Guard against a counter that cannot fail.
    let (count, v) = allocations_in(|| vec![1u8; 64]);
    assert!(count >= 1);
    assert_eq!(v.len(), 64);
}

/// A policy of only the rules the block path (`lanes`) decides, with a
/// breaker: full 64-row blocks of the shared workload's shape take it.
const LANES_POLICY: &str = r#"
name = "no-alloc-lanes"
currency = "USD"
[bounds]
min_price = "0.99"
max_price = "5000"
[margin]
min_margin = "0.15"
[change]
max_increase = "0.10"
max_decrease = "0.20"
cooldown_secs = 3600
[promotion]
max_discount = "0.50"
[breaker]
max_violation_ratio = "0.30"
min_batch = 10
"#;

/// Rows of `LANES_POLICY`'s block tests (minor units, times in seconds).
struct LaneRows {
    proposed: Vec<i64>,
    current: Vec<i64>,
    cost: Vec<i64>,
    last: Vec<i64>,
}

fn lane_rows(n: usize) -> LaneRows {
    let n = n as i64;
    let cost: Vec<i64> = (0..n).map(|i| 500 + 13 * i).collect();
    let current: Vec<i64> = cost.iter().map(|c| c * 3 / 2).collect();
    // Mostly near the live price, every tenth one doubled.
    let proposed: Vec<i64> = current
        .iter()
        .zip(0..)
        .map(|(c, i)| if i % 10 == 3 { 2 * c } else { c + i % 50 - 25 })
        .collect();
    let last: Vec<i64> = (0..n).map(|i| 1_800_000_000 - 97 * i).collect();
    LaneRows {
        proposed,
        current,
        cost,
        last,
    }
}

#[test]
fn lane_blocks_do_not_allocate() {
    use priceguard::batch::Columns;
    use priceguard::Field;
    let policy = Policy::from_toml_str(LANES_POLICY).unwrap();
    let n = 256;
    let LaneRows {
        proposed,
        current,
        cost,
        last,
    } = lane_rows(n as usize);
    let now = vec![1_800_000_000_i64; n as usize];
    let reference: Vec<i64> = current.clone();
    let units: Vec<i64> = (0..n).map(|i| 1 + i % 7).collect();
    let promo = vec![0b0001_0001_u8; (n as usize).div_ceil(8)];
    let cols = Columns::new(&proposed)
        .with(Field::CurrentPrice, &current, None)
        .unwrap()
        .with(Field::UnitCost, &cost, None)
        .unwrap()
        .with(Field::ReferencePrice, &reference, Some(&promo))
        .unwrap()
        .with(Field::ExpectedUnits, &units, Some(&promo))
        .unwrap()
        .with(Field::LastChangeAt, &last, None)
        .unwrap()
        .with(Field::Now, &now, None)
        .unwrap();
    let wild: Vec<i64> = vec![1; n as usize];
    let wild_cols = Columns::new(&wild)
        .with(Field::CurrentPrice, &current, None)
        .unwrap()
        .with(Field::UnitCost, &cost, None)
        .unwrap();
    let mut out = vec![Decision::default(); n as usize];
    let mut wild_out = vec![Decision::default(); n as usize];
    let (count, (summary, tripped)) = allocations_in(|| {
        let summary = policy.evaluate_columns(&cols, &mut out).unwrap();
        let tripped = policy.evaluate_columns(&wild_cols, &mut wild_out).unwrap();
        (summary, tripped)
    });
    assert_eq!(count, 0, "the block path allocated {count} times");
    assert_eq!(summary.items, n as u64);
    assert!(summary.count(Outcome::Held) >= 1);
    assert!(summary.count(Outcome::Adjusted) >= 1);
    assert!(summary.count(Outcome::Accepted) >= 1);
    assert!(out.iter().any(|d| d.promo_spend.is_some()));
    assert!(tripped.breaker_tripped);
    assert!(wild_out.iter().all(|d| d.reason == Reason::CircuitOpen));
}

#[test]
fn float_blocks_do_not_allocate() {
    use priceguard::batch::Columns;
    use priceguard::binding::{FloatColumns, TimeColumn};
    use priceguard::Field;
    // The block policy without its breaker (which the float path leaves
    // to `evaluate_columns_into`).
    let toml = LANES_POLICY.split("[breaker]").next().unwrap();
    let policy = Policy::from_toml_str(toml).unwrap();
    let n = 256usize;
    let LaneRows {
        proposed,
        current,
        cost,
        last,
    } = lane_rows(n);
    let promo = |i: usize| i.is_multiple_of(4);
    let units: Vec<i64> = (0..n as i64).map(|i| 1 + i % 7).collect();
    let major = |v: &[i64], scale: f64, some: &dyn Fn(usize) -> bool| -> Vec<f64> {
        (0..n)
            .map(|i| {
                if some(i) {
                    v[i] as f64 / scale
                } else {
                    f64::NAN
                }
            })
            .collect()
    };
    let all = |_: usize| true;
    let (fp, fcur, fcost) = (
        major(&proposed, 100.0, &all),
        major(&current, 100.0, &all),
        major(&cost, 100.0, &all),
    );
    let (fref, funits) = (major(&current, 100.0, &promo), major(&units, 1.0, &promo));
    let fcols = FloatColumns {
        proposed_price: &fp,
        current_price: Some(&fcur),
        unit_cost: Some(&fcost),
        reference_price: Some(&fref),
        expected_units: Some(&funits),
        now: Some(TimeColumn::Same(1_800_000_000)),
        last_change_at: Some(TimeColumn::Values(&last)),
    };
    let mut out = vec![Decision::default(); n];
    let (count, blocks) =
        allocations_in(|| policy.evaluate_float_blocks(&fcols, 0, out.as_mut_slice()));
    assert_eq!(count, 0, "the float block path allocated {count} times");
    let blocks = blocks.unwrap();
    assert_eq!(blocks.rows, n, "every block is decided from the floats");
    assert_eq!(blocks.summary.items, n as u64);
    // The same decisions as the integer columns give.
    let bits: Vec<u8> = (0..n.div_ceil(8))
        .map(|b| {
            (0..8)
                .filter(|j| promo(8 * b + j))
                .fold(0, |a, j| a | 1 << j)
        })
        .collect();
    let now = vec![1_800_000_000_i64; n];
    let cols = Columns::new(&proposed)
        .with(Field::CurrentPrice, &current, None)
        .unwrap()
        .with(Field::UnitCost, &cost, None)
        .unwrap()
        .with(Field::ReferencePrice, &current, Some(&bits))
        .unwrap()
        .with(Field::ExpectedUnits, &units, Some(&bits))
        .unwrap()
        .with(Field::LastChangeAt, &last, None)
        .unwrap()
        .with(Field::Now, &now, None)
        .unwrap();
    let mut want = vec![Decision::default(); n];
    let summary = policy.evaluate_columns(&cols, &mut want).unwrap();
    assert_eq!(out, want);
    assert_eq!(blocks.summary, summary);
    assert!(summary.count(Outcome::Held) >= 1 && summary.count(Outcome::Adjusted) >= 1);
    assert!(out.iter().any(|d| d.promo_spend.is_some()));
}

/// The grouped batch with caller scratch and notes allocates nothing
/// either: the pass sorts row indices in the scratch.
#[test]
fn grouped_batch_does_not_allocate() {
    use priceguard::{GroupRow, GroupScratch};
    let policy = Policy::from_toml_str(
        "name = \"g\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"1000\"\n\
         [endings]\nallowed = [\"0.49\", \"0.99\"]\n[ladder]\nmin_gap = \"0.05\"\nmax_gap = \"0.5\"\n",
    )
    .unwrap();
    // Groups of three in reverse rank order, some needing a move, one
    // infeasible (a capped top), one with a repeated rank.
    let n = 60;
    let items: Vec<Item> = (0..n)
        .map(|i| {
            let it = Item::new(1000 + (i as i64 % 7) * 40).with_current_price(999);
            // Group 1: rank 1 (row 5) at least 10.00, rank 3 (row 3) at most 9.00.
            match i {
                5 => it.with_min_price(1000),
                3 => it.with_max_price(900),
                _ => it,
            }
        })
        .collect();
    let rows: Vec<Option<GroupRow>> = (0..n)
        .map(|i| match i {
            10 | 11 => Some(GroupRow::new(1000, 1)),
            _ if i % 10 == 9 => None,
            _ => Some(GroupRow::new((i / 3) as u32, 3 - (i % 3) as i64)),
        })
        .collect();
    let mut out = vec![Decision::default(); n];
    let mut scratch = vec![GroupScratch::default(); n];
    let mut notes = vec![None; n];
    let mut budgets = Budgets::new(&policy);
    let (count, summary) = allocations_in(|| {
        policy
            .evaluate_batch_grouped_with(
                &items,
                &rows,
                &mut out,
                &mut budgets,
                &mut scratch,
                Some(&mut notes),
            )
            .unwrap()
    });
    assert_eq!(count, 0, "the grouped batch allocated {count} times");
    let (_, groups) = summary;
    // The batch really took the pass's paths.
    assert!(
        groups.adjusted > 0 && groups.held > 0 && groups.invalid > 0,
        "{groups:?}"
    );
    assert!(out.iter().any(|d| d.reason == Reason::Ladder));
}
