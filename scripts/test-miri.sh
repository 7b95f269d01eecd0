#!/usr/bin/env bash
# miri over the core crate (unit tests, the ledger's threads, the
# allocation counter, custom rules) and the C ABI crate's unit tests, which
# exercise its unsafe pointer handling. Under miri the property tests run a
# handful of cases, and the 188 shared vectors and the columnar kernel's
# property tests are left out: the core has no unsafe code and these alone
# take minutes in the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
rustup component add miri --toolchain nightly >/dev/null
cargo +nightly miri setup >/dev/null
export CARGO_TARGET_DIR="$PWD/target/miri"
# proptest looks up the working directory for its failure files.
export MIRIFLAGS="${MIRIFLAGS:-} -Zmiri-disable-isolation"
cargo +nightly miri test -p priceguard --features testkit --lib --test ledger_concurrency --test no_alloc --test custom_rules
cargo +nightly miri test -p priceguard-ffi --lib
