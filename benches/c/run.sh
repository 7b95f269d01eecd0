#!/usr/bin/env bash
# Times one evaluation through the C ABI against the direct Rust call
# (release builds, median of 7 runs of 1M calls each) and prints the
# difference. Not part of the test suite: timings depend on the machine.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

cargo build -p priceguard-ffi --release --quiet
target="$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
lib="$target/release"

# The direct loop is its own workspace; give it the project's lockfile so it
# builds the same dependency versions.
cp Cargo.lock "$here/direct/Cargo.lock"
CARGO_TARGET_DIR="$target/bench-direct" cargo build --release --quiet --manifest-path "$here/direct/Cargo.toml"
direct="$target/bench-direct/release/priceguard-bench-direct"

out="$target/bench-c"
mkdir -p "$out"
gcc -std=c11 -O2 -Wall -Wextra -Wpedantic -Werror -I"$root/include" "$here/bench_c.c" -o "$out/bench_c" \
  -L"$lib" -lpriceguard -Wl,-rpath,"$lib"

cd "$here"
# The machine may be shared: alternate the two programs ROUNDS times and
# compare the median of their medians (and the best run of each).
ROUNDS="${ROUNDS:-5}"
pin=()
command -v taskset >/dev/null 2>&1 && pin=(taskset -c 0)
c_lines=() r_lines=()
for _ in $(seq "$ROUNDS"); do
  c_lines+=("$("${pin[@]}" "$out/bench_c" policy.toml)")
  r_lines+=("$("${pin[@]}" "$direct" policy.toml)")
done
printf '%s\n' "${c_lines[@]}" "${r_lines[@]}"
python3 - "${c_lines[@]}" -- "${r_lines[@]}" <<'PY'
import re
import statistics
import sys

args = sys.argv[1:]
cut = args.index("--")
def stats(lines):
    med = [float(re.search(r"median ([0-9.]+)", l).group(1)) for l in lines]
    low = [float(re.search(r"min ([0-9.]+)", l).group(1)) for l in lines]
    return statistics.median(med), min(low)
c_med, c_min = stats(args[:cut])
r_med, r_min = stats(args[cut + 1:])
print(f"median of medians: c abi {c_med:.2f} ns, rust {r_med:.2f} ns, difference {c_med - r_med:+.2f} ns/call")
print(f"best runs:         c abi {c_min:.2f} ns, rust {r_min:.2f} ns, difference {c_min - r_min:+.2f} ns/call")
PY
