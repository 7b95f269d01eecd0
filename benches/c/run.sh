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

# Wall-clock time on a busy machine is noisy; instructions per call are not.
# Count them with callgrind at two call counts (the difference removes
# start-up and policy loading). Skip with INSTRUCTIONS=0.
if [[ "${INSTRUCTIONS:-1}" == 1 ]] && command -v valgrind >/dev/null 2>&1; then
  count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
      sed -nE 's/.*Collected : ([0-9]+).*/\1/p'
  }
  c1="$(count "$out/bench_c" policy.toml 1000)"
  c2="$(count "$out/bench_c" policy.toml 11000)"
  r1="$(count "$direct" policy.toml 1000)"
  r2="$(count "$direct" policy.toml 11000)"
  # Each program makes 7.1 x calls-per-run evaluations (7 runs + a 10 % warm-up).
  python3 -c "
import sys
c1, c2, r1, r2 = map(int, sys.argv[1:])
calls = 7.1 * 10000
c, r = (c2 - c1) / calls, (r2 - r1) / calls
print(f'instructions/call:  c abi {c:.0f}, rust {r:.0f}, difference {c - r:+.0f} ({(c / r - 1) * 100:+.1f} %)')
" "$c1" "$c2" "$r1" "$r2"
fi
