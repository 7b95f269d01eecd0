//! Criterion benchmark of the command line: `priceguard check` reading a
//! generated sample file, as CSV and as JSON lines, evaluating it under
//! `examples/policy.toml` and writing the decisions CSV. Each format runs
//! on both workloads of `priceguard sample --mix`: `clean`, and `real`
//! (proposals with 4 decimals, about 3 % of rows whose stability rules
//! relax). Rows per second is the throughput criterion prints. Reproduce
//! with `cargo bench -p priceguard-cli --bench csv` (BENCHMARKS.md);
//! `PRICEGUARD_BENCH_ROWS` sets the rows (200000 by default).
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

fn check(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("decisions.csv");
    let policy = repo().join("examples/policy.toml");
    let n = rows();
    let mut g = c.benchmark_group("cli");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    for mix in ["clean", "real"] {
        for format in ["csv", "jsonl"] {
            let input = dir.path().join(format!("sample-{mix}.{format}"));
            let status = Command::new(EXE)
                .args([
                    "sample",
                    "--rows",
                    &n.to_string(),
                    "--seed",
                    "7",
                    "--mix",
                    mix,
                    "--output",
                ])
                .arg(&input)
                .status()
                .unwrap();
            assert!(status.success(), "priceguard sample failed");
            // `check_csv/{n}` keeps the name of the clean CSV run from before
            // the other three were added.
            let name = match (mix, format) {
                ("clean", "csv") => format!("check_csv/{n}"),
                ("clean", _) => format!("check_{format}/{n}"),
                _ => format!("check_{format}_{mix}/{n}"),
            };
            g.bench_function(name, |b| {
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
        }
    }
    g.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
