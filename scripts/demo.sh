#!/usr/bin/env bash
# The main job, end to end: build the command line, make a realistic
# 50k-row proposals file for examples/policy.toml, guard it, and print the
# summary.
#
#   scripts/demo.sh            # 50 000 rows
#   ROWS=1000000 scripts/demo.sh
#
# Needs only cargo. Writes target/sample.csv and target/decisions.csv.
set -euo pipefail

cd "$(dirname "$0")/.."
ROWS="${ROWS:-50000}"
SEED="${SEED:-7}"
TARGET="${CARGO_TARGET_DIR:-target}"
PG="$TARGET/release/priceguard"

# The first build compiles about 60 crates (a few minutes on 2 cores):
# show cargo's own progress instead of a silent wait.
echo "== building the priceguard command (cargo build --release -p priceguard-cli)"
started=$SECONDS
cargo build --release -p priceguard-cli
echo "   built in $((SECONDS - started)) s: $PG"
mkdir -p target

echo
echo "== the policy: examples/policy.toml"
# The rules the top level enforces (the per-segment overrides follow them).
summary="$("$PG" validate examples/policy.toml)"
awk '/^segments/ { exit } { print }' <<<"$summary"
echo
echo "== $ROWS proposals (seed $SEED) -> target/sample.csv"
"$PG" sample --rows "$ROWS" --seed "$SEED" --output target/sample.csv
echo
echo "== priceguard check -> target/decisions.csv"
"$PG" check --policy examples/policy.toml --input target/sample.csv --output target/decisions.csv
echo
echo "== first decisions"
sed -n 1,6p target/decisions.csv
