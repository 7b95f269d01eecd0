#!/usr/bin/env bash
# Runs the project's tests. The README's "run every test" command and the
# one command CI runs (.ci/run).
#
#   scripts/test.sh          every test, as CI runs them
#   scripts/test.sh --quick  fmt, clippy, the Rust tests, and the shared
#                            vectors through C and Python; a few minutes
#                            once the build cache is warm
#
# It installs what it needs on a fresh machine and reuses whatever is
# already present (toolchains, cbindgen, cargo-fuzz, .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

mode=full
case "${1:-}" in
  "") ;;
  --quick) mode=quick ;;
  -h | --help)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "usage: scripts/test.sh [--quick]" >&2
    exit 2
    ;;
esac

started=$SECONDS
step() {
  printf '\n==> %s   [%s elapsed]\n' "$*" "$(elapsed $((SECONDS - started)))"
}
elapsed() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
have() { command -v "$1" >/dev/null 2>&1; }
have_toolchain() { rustup toolchain list 2>/dev/null | grep -q "^$1"; }

# Say up front what this run will install and about how long it takes, so a
# quiet compile is not mistaken for a hang.
plan() {
  local missing=()
  if [ "$mode" = full ]; then
    have_toolchain 1.89 || missing+=("Rust 1.89 (the MSRV; rustup, ~1 min)")
    have_toolchain nightly || missing+=("the nightly toolchain for miri and cargo-fuzz (rustup, ~2 min)")
    { have cbindgen && [ "$(cbindgen --version)" = "cbindgen 0.29.4" ]; } ||
      missing+=("cbindgen 0.29.4 (cargo install, ~3 min)")
    cargo fuzz --version >/dev/null 2>&1 || missing+=("cargo-fuzz (cargo install, ~2 min)")
  fi
  for tool in gcc g++ make valgrind pkg-config; do
    have "$tool" || missing+=("$tool (apt-get)")
  done
  [ -x .venv/bin/python ] ||
    missing+=("a Python venv in .venv with numpy, pandas, pyarrow, polars, pyspark, maturin (pip, ~1.1 GB)")
  echo "scripts/test.sh ($mode)"
  if [ "$mode" = full ]; then
    echo "  runs: fmt, clippy (also no_std and MSRV), Rust tests, docs, crate packaging,"
    echo "        the C ABI suite (ASan, UBSan, valgrind), the Python suite and wheel,"
    echo "        fuzz smoke and miri"
    echo "  time: about 25-35 minutes on 2 cores from a cold cache; steps print their elapsed time"
  else
    echo "  runs: fmt, clippy, Rust tests, the shared vectors through C and Python"
    echo "  time: a few minutes with a warm build cache (the first build takes longer)"
  fi
  if ((${#missing[@]})); then
    echo "  installs, because they are missing:"
    printf '    - %s\n' "${missing[@]}"
  else
    echo "  installs: nothing (everything it needs is present)"
  fi
}
plan

step "rustfmt"
cargo fmt --all -- --check

step "clippy (-D warnings)"
cargo clippy --workspace --all-targets --exclude priceguard-python -- -D warnings
cargo clippy -p priceguard --all-targets --features testkit -- -D warnings
if [ "$mode" = full ]; then
  cargo clippy -p priceguard --all-targets --features testkit,parallel -- -D warnings
  # The no_std builds: warnings here are warnings users of those builds see.
  cargo clippy -p priceguard --no-default-features -- -D warnings
  cargo clippy -p priceguard --no-default-features --features alloc -- -D warnings
fi

step "rust tests (unit, integration, property, shared vectors, doc tests)"
cargo test --workspace --exclude priceguard-python --features priceguard/testkit

if [ "$mode" = quick ]; then
  step "shared vectors through the C ABI"
  scripts/test-c.sh --vectors-only
  if [ -x .venv/bin/python ]; then
    step "shared vectors through Python (reusing .venv)"
    (cd python && ../.venv/bin/maturin develop --quiet)
    .venv/bin/python -m pytest -q python/tests/test_vectors.py
  else
    echo "skipped Python vectors: no .venv yet (scripts/test-python.sh creates it)"
  fi
  step "quick tests passed in $(elapsed $((SECONDS - started)))"
  exit 0
fi

step "parallel batch paths (feature parallel) equal the serial ones"
cargo test -p priceguard --features testkit,parallel --test batch_paths

step "property-testing example (an engineer's own policy)"
cargo run -q -p priceguard --example property_test_policy --features testkit

step "benches compile"
cargo test --workspace --exclude priceguard-python --benches --no-run
cargo test -p priceguard --features parallel --benches --no-run

step "docs build with no warnings"
# One at a time: the C library's lib is also named `priceguard`, and so is
# the command, so their doc pages would land on the same path.
for crate in "-p priceguard" "-p priceguard-ffi" "-p priceguard-cli --lib"; do
  # shellcheck disable=SC2086
  RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet $crate
done

step "MSRV: the published crates build with Rust 1.89"
have_toolchain 1.89 || rustup toolchain install 1.89 --profile minimal
CARGO_TARGET_DIR=target/msrv cargo +1.89 check --quiet -p priceguard -p priceguard-cli -p priceguard-ffi
CARGO_TARGET_DIR=target/msrv cargo +1.89 check --quiet -p priceguard --no-default-features

step "the three crates package and verify"
# Cargo unpacks the core's package into CARGO_HOME/registry/src to verify
# the crates that depend on it, and reuses a copy left there by an earlier
# run even when the core has changed since. Verify with a fresh unpack area
# that shares the downloaded index and crates.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
pkg_home="$(mktemp -d)"
mkdir -p "$pkg_home/registry"
for d in index cache; do
  if [ -d "$cargo_home/registry/$d" ]; then ln -s "$cargo_home/registry/$d" "$pkg_home/registry/$d"; fi
done
for f in config.toml config credentials.toml; do
  if [ -f "$cargo_home/$f" ]; then cp "$cargo_home/$f" "$pkg_home/"; fi
done
# --allow-dirty: CI runs in a fresh clone, but a developer may have edits.
CARGO_HOME="$pkg_home" cargo package --quiet --allow-dirty -p priceguard -p priceguard-ffi -p priceguard-cli
rm -rf "$pkg_home"

for extra in scripts/check-header.sh scripts/test-c.sh scripts/test-python.sh fuzz/smoke.sh scripts/test-miri.sh; do
  if [ -x "$extra" ]; then
    step "$extra"
    "$extra"
  fi
done

step "all tests passed in $(elapsed $((SECONDS - started)))"
