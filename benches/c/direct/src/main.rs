//! 7 runs of 1M direct `Policy::evaluate` calls on the core bench's
//! "typical" item: the baseline for `bench_c.c`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::Instant;

use priceguard::{Item, Policy};

const RUNS: usize = 7;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "policy.toml".into());
    // Calls per run (default 1M).
    let calls: u32 = std::env::args()
        .nth(2)
        .map_or(1_000_000, |n| n.parse().unwrap());
    let policy = Policy::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let item = Item::new(1349)
        .with_current_price(1299)
        .with_unit_cost(1000)
        .with_now(1_800_000_000)
        .with_last_change_at(1_799_990_000);
    let mut sink = 0i64;
    for _ in 0..calls / 10 {
        sink = sink.wrapping_add(
            black_box(policy.evaluate(black_box(&item)))
                .price
                .unwrap_or(0),
        );
    }
    let mut per_call = [0f64; RUNS];
    let mut last = policy.evaluate(&item);
    for slot in &mut per_call {
        let t0 = Instant::now();
        for _ in 0..calls {
            // Like the C loop: the item is re-read each call, the decision stored.
            last = black_box(policy.evaluate(black_box(&item)));
            sink = sink.wrapping_add(last.price.unwrap_or(0));
        }
        *slot = t0.elapsed().as_nanos() as f64 / f64::from(calls);
    }
    per_call.sort_by(f64::total_cmp);
    println!(
        "rust    median {:.2} ns/call (min {:.2}, max {:.2}) outcome={} price={}",
        per_call[RUNS / 2],
        per_call[0],
        per_call[RUNS - 1],
        last.outcome,
        last.price.unwrap_or(0)
    );
    black_box(sink);
}
