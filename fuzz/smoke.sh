#!/usr/bin/env bash
# Fuzz smoke: every cargo-fuzz target runs a bounded number of executions
# with a fixed seed, starting from the committed seeds, the committed
# regression inputs (crashes found earlier and fixed) and the shared test
# vectors. Installs nightly and cargo-fuzz when missing.
# FUZZ_RUNS (default 20000) sets the executions per target.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${FUZZ_RUNS:-20000}"

if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

# Seed corpora (regenerated each run; fuzz/corpus is not committed).
rm -rf fuzz/corpus
mkdir -p fuzz/corpus/policy_toml fuzz/corpus/policy_json fuzz/corpus/evaluate fuzz/corpus/ffi_calls fuzz/corpus/cli_rows
cp fuzz/seeds/policy_toml/* fuzz/corpus/policy_toml/ 2>/dev/null || true
cp fuzz/seeds/policy_json/* fuzz/corpus/policy_json/ 2>/dev/null || true
cp fuzz/seeds/evaluate/* fuzz/corpus/evaluate/ 2>/dev/null || true
cp fuzz/seeds/cli_rows/* fuzz/corpus/cli_rows/ 2>/dev/null || true
cp examples/*.toml fuzz/corpus/policy_toml/ 2>/dev/null || true
python3 - <<'PY'
import glob, json, os
for i, path in enumerate(sorted(glob.glob("tests/vectors/*.json"))):
    with open(path) as f:
        v = json.load(f)
    with open(f"fuzz/corpus/policy_json/vector{i}.json", "w") as out:
        json.dump(v["policy"], out)
PY

export CARGO_TARGET_DIR="$PWD/fuzz/target"
cd fuzz
for target in policy_toml policy_json evaluate ffi_calls cli_rows; do
  dirs=("corpus/$target")
  if [ -d "regressions/$target" ]; then dirs+=("regressions/$target"); fi
  echo "fuzz: $target, $runs runs, seed 1"
  cargo +nightly fuzz run "$target" "${dirs[@]}" -- -runs="$runs" -seed=1 -max_total_time=120 2>&1 | tail -n 3
done
