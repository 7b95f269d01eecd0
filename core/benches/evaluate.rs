//! Criterion benchmarks for the core engine. Reproduce with
//! `cargo bench -p priceguard --bench evaluate [--features parallel]`
//! (see BENCHMARKS.md at the repository root).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use priceguard::batch::Columns;
use priceguard::{Budgets, Decision, DecisionRows, DecisionSink, Field, Item, Policy};
use std::hint::black_box;

use common::{make, BENCH_POLICY, NOW};

const EXAMPLE_POLICY: &str = include_str!("../../examples/policy.toml");

/// A typical item: live price, cost, a change two hours ago (no cooldown).
fn typical() -> Item {
    Item::new(1349)
        .with_current_price(1299)
        .with_unit_cost(1000)
        .with_now(NOW)
        .with_last_change_at(NOW - 10_000)
}

/// Every field present, so every rule of examples/policy.toml computes a
/// bound (the competitor pulls the price down, endings move it).
fn worst_case() -> Item {
    Item::new(1637)
        .with_current_price(1499)
        .with_unit_cost(1000)
        .with_min_price(1000)
        .with_max_price(3000)
        .with_map_price(1100)
        .with_reference_price(1599)
        .with_expected_units(40)
        .with_now(NOW)
        .with_last_change_at(NOW - 90_000)
        .with_changes_in_window(2)
        .with_window_anchor_price(1399)
        .with_baseline_price(1450)
        .with_competitor_price(1390)
}

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    g.bench_function("examples_policy", |b| {
        b.iter(|| Policy::from_toml_str(black_box(EXAMPLE_POLICY)).unwrap())
    });
    g.bench_function("bench_policy", |b| {
        b.iter(|| Policy::from_toml_str(black_box(BENCH_POLICY)).unwrap())
    });
    g.finish();
}

fn single(c: &mut Criterion) {
    let example = Policy::from_toml_str(EXAMPLE_POLICY).unwrap();
    let bench = Policy::from_toml_str(BENCH_POLICY).unwrap();
    let (t, w) = (typical(), worst_case());
    let mut g = c.benchmark_group("evaluate");
    g.bench_function("typical/examples_policy", |b| {
        b.iter(|| example.evaluate(black_box(&t)))
    });
    g.bench_function("typical/bench_policy", |b| {
        b.iter(|| bench.evaluate(black_box(&t)))
    });
    g.bench_function("worst_case/examples_policy", |b| {
        b.iter(|| example.evaluate(black_box(&w)))
    });
    g.finish();
}

/// Decisions as columns, the way a columnar caller keeps them: price,
/// outcome, reason code and the two rule bitmasks (26 bytes a row instead
/// of a 96-byte `Decision`).
struct SoaOut {
    price: Vec<i64>,
    outcome: Vec<u8>,
    reason: Vec<u8>,
    violated: Vec<u64>,
    binding: Vec<u64>,
}

impl SoaOut {
    fn new(n: usize) -> SoaOut {
        SoaOut {
            price: vec![0; n],
            outcome: vec![0; n],
            reason: vec![0; n],
            violated: vec![0; n],
            binding: vec![0; n],
        }
    }
}

impl DecisionSink for SoaOut {
    fn rows(&self) -> usize {
        self.price.len()
    }

    #[inline(always)]
    fn put(&mut self, i: usize, d: &Decision) {
        self.price[i] = d.price.unwrap_or(0);
        self.outcome[i] = d.outcome as u8;
        self.reason[i] = d.reason.code() as u8;
        self.violated[i] = d.violated.0;
        self.binding[i] = d.binding.0;
    }

    /// Whole columns at a time for the rows the lanes decided.
    fn put_rows(&mut self, start: usize, rows: &DecisionRows) {
        let end = start + rows.len();
        self.price[start..end].copy_from_slice(rows.price());
        self.outcome[start..end].copy_from_slice(rows.outcome());
        self.reason[start..end].copy_from_slice(rows.reason());
        self.violated[start..end].copy_from_slice(rows.violated());
        self.binding[start..end].copy_from_slice(rows.binding());
    }
}

/// Batch sizes measured; `PRICEGUARD_BENCH_SIZES=1000,10000,100000,1000000`
/// widens the sweep (BENCHMARKS.md's growth table).
fn sizes() -> Vec<usize> {
    match std::env::var("PRICEGUARD_BENCH_SIZES") {
        Ok(s) => s.split(',').filter_map(|v| v.trim().parse().ok()).collect(),
        Err(_) => vec![1_000, 1_000_000],
    }
}

fn batch(c: &mut Criterion) {
    let policy = Policy::from_toml_str(BENCH_POLICY).unwrap();
    let mut g = c.benchmark_group("batch");
    g.sample_size(10);
    for n in sizes() {
        let w = make(n, 7);
        let items = w.items();
        let mut out = vec![Decision::default(); n];
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("aos/{n}"), |b| {
            b.iter(|| policy.evaluate_batch(black_box(&items), &mut out).unwrap())
        });
        let cols = Columns::new(&w.proposed)
            .with(Field::CurrentPrice, &w.current, None)
            .unwrap()
            .with(Field::UnitCost, &w.cost, None)
            .unwrap()
            .with(Field::ReferencePrice, &w.reference, Some(&w.promo_valid))
            .unwrap()
            .with(
                Field::ExpectedUnits,
                &w.expected_units,
                Some(&w.promo_valid),
            )
            .unwrap()
            .with(Field::Now, &w.now, None)
            .unwrap()
            .with(Field::LastChangeAt, &w.last_change_at, None)
            .unwrap();
        g.bench_function(format!("columns/{n}"), |b| {
            b.iter(|| policy.evaluate_columns(black_box(&cols), &mut out).unwrap())
        });
        let mut soa = SoaOut::new(n);
        g.bench_function(format!("columns_soa/{n}"), |b| {
            b.iter(|| {
                let mut budgets = Budgets::new(&policy);
                policy
                    .evaluate_columns_into(black_box(&cols), &mut soa, &mut budgets)
                    .unwrap()
            })
        });
        #[cfg(feature = "parallel")]
        g.bench_function(format!("columns_parallel/{n}"), |b| {
            b.iter(|| {
                policy
                    .evaluate_columns_par(black_box(&cols), &mut out)
                    .unwrap()
            })
        });
        #[cfg(feature = "parallel")]
        g.bench_function(format!("aos_parallel/{n}"), |b| {
            b.iter(|| {
                policy
                    .evaluate_batch_par(black_box(&items), &mut out)
                    .unwrap()
            })
        });
    }
    g.finish();
}

/// The floor for a columnar batch: reading the workload's seven int64
/// columns (56 bytes a row) once, with no decision at all.
fn bandwidth(c: &mut Criterion) {
    let mut g = c.benchmark_group("bandwidth");
    g.sample_size(10);
    let n = 1_000_000;
    let w = make(n, 7);
    let columns = [
        &w.proposed,
        &w.current,
        &w.cost,
        &w.reference,
        &w.expected_units,
        &w.now,
        &w.last_change_at,
    ];
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("read_7_columns/{n}"), |b| {
        b.iter(|| {
            let mut acc = 0i64;
            for col in columns {
                acc = black_box(col).iter().fold(acc, |a, &v| a.wrapping_add(v));
            }
            acc
        })
    });
    g.finish();
}

criterion_group!(benches, compile, single, batch, bandwidth);
criterion_main!(benches);
