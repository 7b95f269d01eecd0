#!/usr/bin/env bash
# The main job, end to end: build the CLI, make a realistic 50k-row proposals
# file for examples/policy.toml, guard it, and print the summary.
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

cargo build --release --quiet -p priceguard-cli
PG="$TARGET/release/priceguard"
mkdir -p target

echo "== the policy"
"$PG" validate examples/policy.toml | sed -n 1,4p
echo
echo "== $ROWS proposals (seed $SEED) -> target/sample.csv"
"$PG" sample --rows "$ROWS" --seed "$SEED" --output target/sample.csv
echo
echo "== priceguard check -> target/decisions.csv"
"$PG" check --policy examples/policy.toml --input target/sample.csv --output target/decisions.csv
echo
echo "== first decisions"
sed -n 1,6p target/decisions.csv
