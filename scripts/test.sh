#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: Rust (fmt, clippy,
# unit, integration, property, doc tests, no_std build, benches compile),
# the C ABI suite, the Python suite, fuzz smoke runs and miri where present.
# Installs what it needs by itself. The README's "run every test" command.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
step() { printf '\n==> %s\n' "$*"; }

step "rustfmt"
cargo fmt --all -- --check

step "clippy (-D warnings)"
cargo clippy --workspace --all-targets --exclude priceguard-python -- -D warnings
cargo clippy -p priceguard --all-targets --features testkit -- -D warnings
cargo clippy -p priceguard --all-targets --features testkit,parallel -- -D warnings

step "rust tests"
cargo test --workspace --exclude priceguard-python --features priceguard/testkit

step "parallel batch paths (feature parallel) equal the serial ones"
cargo test -p priceguard --features testkit,parallel --test batch_paths

step "no_std core builds without default features"
cargo build -p priceguard --no-default-features
cargo build -p priceguard --no-default-features --features alloc

step "property-testing example (an engineer's own policy)"
cargo run -q -p priceguard --example property_test_policy --features testkit

step "benches compile"
cargo test --workspace --exclude priceguard-python --benches --no-run
cargo test -p priceguard --features parallel --benches --no-run

for extra in scripts/check-header.sh scripts/test-c.sh scripts/test-python.sh fuzz/smoke.sh scripts/test-miri.sh; do
  if [ -x "$extra" ]; then
    step "$extra"
    "$extra"
  fi
done

step "all tests passed"
