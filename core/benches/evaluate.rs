//! Criterion benchmarks for the core engine (more arrive with the performance work).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use priceguard::{Item, Policy};
use std::hint::black_box;

const POLICY: &str = r#"
name = "bench"
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

[promotion]
max_discount = "0.50"
"#;

fn evaluate(c: &mut Criterion) {
    let policy = Policy::from_toml_str(POLICY).unwrap();
    let item = Item::new(1349)
        .with_current_price(1299)
        .with_unit_cost(1000)
        .with_now(1_800_000_000)
        .with_last_change_at(1_799_990_000);
    let mut g = c.benchmark_group("evaluate");
    g.bench_function("typical", |b| b.iter(|| policy.evaluate(black_box(&item))));
    g.finish();
}

criterion_group!(benches, evaluate);
criterion_main!(benches);
