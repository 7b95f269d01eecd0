//! Criterion benchmark of the command line's CSV path: `priceguard check`
//! reading a generated sample file, evaluating it under
//! `examples/policy.toml` and writing the decisions CSV. Rows per second
//! is the throughput criterion prints. Reproduce with
//! `cargo bench -p priceguard-cli --bench csv` (BENCHMARKS.md).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::PathBuf;
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_priceguard");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rows() -> usize {
    std::env::var("PRICEGUARD_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

fn check_csv(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("sample.csv");
    let output = dir.path().join("decisions.csv");
    let policy = repo().join("examples/policy.toml");
    let n = rows();
    let status = Command::new(EXE)
        .args([
            "sample",
            "--rows",
            &n.to_string(),
            "--seed",
            "7",
            "--output",
        ])
        .arg(&input)
        .status()
        .unwrap();
    assert!(status.success(), "priceguard sample failed");
    let mut g = c.benchmark_group("cli");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("check_csv/{n}"), |b| {
        b.iter(|| {
            let status = Command::new(EXE)
                .arg("check")
                .arg("--policy")
                .arg(&policy)
                .arg("--input")
                .arg(&input)
                .arg("--output")
                .arg(&output)
                .arg("--quiet")
                .status()
                .unwrap();
            assert!(status.success());
        })
    });
    g.finish();
}

criterion_group!(benches, check_csv);
criterion_main!(benches);
