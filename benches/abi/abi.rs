//! One evaluation through the C ABI next to the direct Rust call, on the
//! core bench's typical item under `examples/policy.toml`:
//! `cargo bench -p priceguard-abi-bench`. The exported function is called
//! through an `extern "C"` function pointer, as a C caller calls it, so
//! the measured difference is the boundary's own work: the NULL checks,
//! the panic guard, converting the `priceguard_item` into an `Item` and
//! the `Decision` into a `priceguard_decision`. `benches/c/run.sh` times
//! the same call from a C program.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{criterion_group, criterion_main, Criterion};
use priceguard::{Item, Policy};
use priceguard_ffi::{
    priceguard_decision, priceguard_item, priceguard_policy, priceguard_policy_evaluate,
    priceguard_policy_free, priceguard_policy_from_toml, priceguard_result,
    PRICEGUARD_HAS_CURRENT_PRICE, PRICEGUARD_HAS_LAST_CHANGE_AT, PRICEGUARD_HAS_NOW,
    PRICEGUARD_HAS_UNIT_COST,
};
use std::hint::black_box;

const EXAMPLE_POLICY: &str = include_str!("../../examples/policy.toml");
const NOW: i64 = 1_800_000_000;

type Evaluate = unsafe extern "C" fn(
    *const priceguard_policy,
    *const priceguard_item,
    *mut priceguard_decision,
) -> priceguard_result;

fn abi(c: &mut Criterion) {
    let policy = Policy::from_toml_str(EXAMPLE_POLICY).unwrap();
    // The core bench's typical item (core/benches/evaluate.rs), both ways.
    let item = Item::new(1349)
        .with_current_price(1299)
        .with_unit_cost(1000)
        .with_now(NOW)
        .with_last_change_at(NOW - 10_000);
    let citem = priceguard_item {
        present: PRICEGUARD_HAS_CURRENT_PRICE
            | PRICEGUARD_HAS_UNIT_COST
            | PRICEGUARD_HAS_NOW
            | PRICEGUARD_HAS_LAST_CHANGE_AT,
        proposed_price: 1349,
        current_price: 1299,
        unit_cost: 1000,
        now: NOW,
        last_change_at: NOW - 10_000,
        ..priceguard_item::default()
    };
    let mut handle: *const priceguard_policy = std::ptr::null();
    let mut err = [0 as std::ffi::c_char; 512];
    // SAFETY: the policy text is valid for reads of its length, `err` for
    // writes of its length, `handle` for a write.
    let r = unsafe {
        priceguard_policy_from_toml(
            EXAMPLE_POLICY.as_ptr(),
            EXAMPLE_POLICY.len(),
            err.as_mut_ptr(),
            err.len(),
            &mut handle,
        )
    };
    assert_eq!(r, priceguard_result::Ok, "the examples policy compiles");
    // Through a pointer the optimiser cannot see through: a real call.
    let evaluate: Evaluate = black_box(priceguard_policy_evaluate);
    let mut out = priceguard_decision::default();
    // SAFETY: a live policy handle, a valid item, a writable decision.
    let r = unsafe { evaluate(handle, &citem, &mut out) };
    assert_eq!(r, priceguard_result::Ok);
    let direct = policy.evaluate(&item);
    assert_eq!(
        (out.price, out.outcome),
        (direct.price.unwrap(), direct.outcome as u32),
        "both calls decide the same"
    );

    let mut g = c.benchmark_group("c_abi");
    g.bench_function("direct", |b| b.iter(|| policy.evaluate(black_box(&item))));
    g.bench_function("evaluate", |b| {
        b.iter(|| {
            // SAFETY: as above; the handle lives until after the group.
            let r = unsafe { evaluate(handle, black_box(&citem), &mut out) };
            black_box(&out);
            r
        })
    });
    g.finish();
    // SAFETY: the handle came from `priceguard_policy_from_toml` and is
    // not used after this.
    unsafe { priceguard_policy_free(handle) };
}

criterion_group!(benches, abi);
criterion_main!(benches);
