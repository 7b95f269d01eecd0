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
use priceguard::binding::{DecisionRows, FloatColumns, TimeColumn};
use priceguard::{Budgets, Decision, DecisionSink, Field, Item, Policy};
use std::hint::black_box;

use common::{make, make_mix, BENCH_POLICY, NOW};

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
        // The same rows as float64 major units (NaN: absent), decided
        // straight from the floats: what the Python float64 batch runs.
        // On this workload every full block takes the float path.
        let major = |v: &[i64], valid: Option<&[u8]>, scale: f64| -> Vec<f64> {
            v.iter()
                .enumerate()
                .map(|(i, &x)| match valid {
                    Some(bits) if bits[i / 8] & (1 << (i % 8)) == 0 => f64::NAN,
                    _ => x as f64 / scale,
                })
                .collect()
        };
        let fp = major(&w.proposed, None, 100.0);
        let fcur = major(&w.current, None, 100.0);
        let fcost = major(&w.cost, None, 100.0);
        let fref = major(&w.reference, Some(&w.promo_valid), 100.0);
        let funits = major(&w.expected_units, Some(&w.promo_valid), 1.0);
        let fcols = FloatColumns {
            proposed_price: &fp,
            current_price: Some(&fcur),
            unit_cost: Some(&fcost),
            reference_price: Some(&fref),
            expected_units: Some(&funits),
            now: Some(TimeColumn::Same(NOW)),
            last_change_at: Some(TimeColumn::Values(&w.last_change_at)),
        };
        let decided = policy
            .evaluate_float_blocks(&fcols, 0, &mut soa)
            .unwrap()
            .rows;
        assert_eq!(decided, n - n % 64, "the float path stopped early");
        g.bench_function(format!("columns_float/{n}"), |b| {
            b.iter(|| {
                policy
                    .evaluate_float_blocks(black_box(&fcols), 0, &mut soa)
                    .unwrap()
            })
        });
        // A model's proposals, as the shared workload's real mix has them:
        // dollars with 4 decimals, half a cent either side (docs/spec.md
        // M1: snapped to the cent, the float path reads them too).
        let mut rng = common::Rng::new(11);
        let fp4: Vec<f64> = fp
            .iter()
            .map(|&v| ((v + rng.uniform(-0.005, 0.005)) * 1e4).round() / 1e4)
            .collect();
        let fcols4 = FloatColumns {
            proposed_price: &fp4,
            ..fcols
        };
        let decided = policy
            .evaluate_float_blocks(&fcols4, 0, &mut soa)
            .unwrap()
            .rows;
        assert_eq!(
            decided,
            n - n % 64,
            "the float path stopped early on 4 decimals"
        );
        g.bench_function(format!("columns_float_4dp/{n}"), |b| {
            b.iter(|| {
                policy
                    .evaluate_float_blocks(black_box(&fcols4), 0, &mut soa)
                    .unwrap()
            })
        });
        // The shared workload's real mix (benches/common `make_mix`): 3 % of
        // rows relax their stability class, proposals carry 4 decimals.
        // Same columns, ints and floats.
        let r = make_mix(n, 7, true);
        let rcols = Columns::new(&r.proposed)
            .with(Field::CurrentPrice, &r.current, None)
            .unwrap()
            .with(Field::UnitCost, &r.cost, None)
            .unwrap()
            .with(Field::ReferencePrice, &r.reference, Some(&r.promo_valid))
            .unwrap()
            .with(
                Field::ExpectedUnits,
                &r.expected_units,
                Some(&r.promo_valid),
            )
            .unwrap()
            .with(Field::Now, &r.now, None)
            .unwrap()
            .with(Field::LastChangeAt, &r.last_change_at, None)
            .unwrap();
        g.bench_function(format!("columns_real/{n}"), |b| {
            b.iter(|| {
                let mut budgets = Budgets::new(&policy);
                policy
                    .evaluate_columns_into(black_box(&rcols), &mut soa, &mut budgets)
                    .unwrap()
            })
        });
        let rcur = major(&r.current, None, 100.0);
        let rcost = major(&r.cost, None, 100.0);
        let rref = major(&r.reference, Some(&r.promo_valid), 100.0);
        let runits = major(&r.expected_units, Some(&r.promo_valid), 1.0);
        let rf = FloatColumns {
            proposed_price: &r.proposed_major,
            current_price: Some(&rcur),
            unit_cost: Some(&rcost),
            reference_price: Some(&rref),
            expected_units: Some(&runits),
            now: Some(TimeColumn::Same(NOW)),
            last_change_at: Some(TimeColumn::Values(&r.last_change_at)),
        };
        g.bench_function(format!("columns_float_real/{n}"), |b| {
            b.iter(|| {
                policy
                    .evaluate_float_blocks(black_box(&rf), 0, &mut soa)
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
    // The floor with results: the same reads, plus writing 26 bytes a row
    // (`SoaOut`'s columns: an i64, two u8, two u64) in 64-row blocks as
    // the kernel's `put_rows` hands them out, with plain stores (which read
    // each line first) and, on x86_64, with streaming stores (which do not).
    let mut out = SoaOut::new(n + 64);
    for stream in [false, true] {
        if stream && !cfg!(target_arch = "x86_64") {
            continue;
        }
        let name = if stream { "stream" } else { "plain" };
        g.bench_function(format!("read_7_write_26_{name}/{n}"), |b| {
            b.iter(|| write_floor(&columns, &mut out, n, stream))
        });
    }
    g.finish();
}

/// Reads the seven columns a 64-row block at a time and writes a block of
/// each output column from them (see `bandwidth`).
fn write_floor(columns: &[&Vec<i64>; 7], out: &mut SoaOut, n: usize, stream: bool) -> i64 {
    const B: usize = 64;
    let mut acc = 0i64;
    let (mut p, mut o, mut v) = ([0i64; B], [0u8; B], [0u64; B]);
    // Output columns start on a 64-byte boundary, as pooled outputs do.
    let skip = |addr: usize, size: usize| (addr.next_multiple_of(64) - addr) / size;
    let (sp, so) = (
        skip(out.price.as_ptr() as usize, 8),
        skip(out.outcome.as_ptr() as usize, 1),
    );
    let (sr, sv, sb) = (
        skip(out.reason.as_ptr() as usize, 1),
        skip(out.violated.as_ptr() as usize, 8),
        skip(out.binding.as_ptr() as usize, 8),
    );
    for s in (0..n - n % B).step_by(B) {
        for j in 0..B {
            let mut x = 0i64;
            for col in columns {
                x = x.wrapping_add(col[s + j]);
            }
            p[j] = x;
            o[j] = x as u8;
            v[j] = x as u64;
        }
        acc = acc.wrapping_add(p[0]);
        put(&mut out.price[sp + s..sp + s + B], &p, stream);
        put(&mut out.outcome[so + s..so + s + B], &o, stream);
        put(&mut out.reason[sr + s..sr + s + B], &o, stream);
        put(&mut out.violated[sv + s..sv + s + B], &v, stream);
        put(&mut out.binding[sb + s..sb + s + B], &v, stream);
    }
    #[cfg(target_arch = "x86_64")]
    if stream {
        // SAFETY: `sfence` is SSE, which every x86_64 CPU has.
        unsafe { std::arch::x86_64::_mm_sfence() };
    }
    acc
}

/// `dst.copy_from_slice(src)`, or with streaming stores (`dst` must then
/// start on a 32-byte boundary; it does, see `write_floor`).
fn put<T: Copy>(dst: &mut [T], src: &[T], stream: bool) {
    #[cfg(target_arch = "x86_64")]
    if stream && std::is_x86_feature_detected!("avx2") && (dst.as_ptr() as usize).is_multiple_of(32)
    {
        assert!(dst.len() == src.len() && std::mem::size_of_val(src).is_multiple_of(32));
        // SAFETY: AVX2 is present (checked just above).
        unsafe { stream_avx2(dst, src) };
        return;
    }
    dst.copy_from_slice(src);
}

/// The streaming copy, compiled for AVX2 so that the intrinsics inline.
///
/// # Safety
/// AVX2; `dst` 32-byte aligned; both the same whole number of 32-byte lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn stream_avx2<T: Copy>(dst: &mut [T], src: &[T]) {
    use std::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_stream_si256};
    let lanes = std::mem::size_of_val(src) / 32;
    let (d, s) = (
        dst.as_mut_ptr().cast::<__m256i>(),
        src.as_ptr().cast::<__m256i>(),
    );
    for k in 0..lanes {
        // SAFETY: lane `k` lies inside both slices (the caller's contract);
        // `d` is 32-byte aligned.
        unsafe { _mm256_stream_si256(d.add(k), _mm256_loadu_si256(s.add(k))) };
    }
}

/// docs/spec.md §10: 1M items in 100k groups of ten, decided alone and
/// then with the group pass, in the same run. Rows of a group are
/// contiguous in ranks given in reverse (so the pass sorts every group),
/// and again interleaved across the whole batch (row i in group
/// i mod 100k).
fn groups(c: &mut Criterion) {
    use priceguard::{GroupRow, GroupScratch};
    let policy = Policy::from_toml_str(&format!(
        "{BENCH_POLICY}\n[ladder]\nmin_gap = \"0.05\"\nmax_gap = \"0.50\"\n"
    ))
    .unwrap();
    let n = 1_000_000;
    let g = 100_000;
    let w = make(n, 7);
    let items = w.items();
    let mut out = vec![Decision::default(); n];
    let mut scratch = vec![GroupScratch::default(); n];
    let contiguous: Vec<Option<GroupRow>> = (0..n)
        .map(|i| Some(GroupRow::new((i / 10) as u32, 10 - (i % 10) as i64)))
        .collect();
    let interleaved: Vec<Option<GroupRow>> = (0..n)
        .map(|i| Some(GroupRow::new((i % g) as u32, (i / g) as i64)))
        .collect();
    let mut grp = c.benchmark_group("groups");
    grp.sample_size(10);
    grp.throughput(Throughput::Elements(n as u64));
    grp.bench_function("solo/1M", |b| {
        b.iter(|| {
            let mut budgets = Budgets::new(&policy);
            policy
                .evaluate_batch_with(black_box(&items), &mut out, &mut budgets)
                .unwrap()
        })
    });
    for (name, rows) in [("contiguous", &contiguous), ("interleaved", &interleaved)] {
        grp.bench_function(format!("grouped_{name}/1M"), |b| {
            b.iter(|| {
                let mut budgets = Budgets::new(&policy);
                policy
                    .evaluate_batch_grouped_with(
                        black_box(&items),
                        rows,
                        &mut out,
                        &mut budgets,
                        &mut scratch,
                        None,
                    )
                    .unwrap()
            })
        });
    }
    grp.finish();
}

criterion_group!(benches, compile, single, batch, bandwidth, groups);
criterion_main!(benches);
