#!/usr/bin/env bash
# Builds libpriceguard (debug) and runs the C ABI tests: the API test (every
# function and error path), the shared vectors (the group and history files too), the 8-thread test, every
# macro of the header (the list generated from the header), the header as
# C++17, each plain, under ASan+UBSan and under valgrind; the price ladder
# and history examples of docs/c-api.md; the ffi crate's
# Rust unit tests; the header freshness check when the pinned cbindgen is
# installed; and the examples/c program, built exactly as docs/c-api.md says
# (a release build, then `make -C examples/c run` and `run-static`). Works on a fresh Debian machine
# (installs gcc, g++, make, python3, valgrind, pkg-config when missing).
#
#   scripts/test-c.sh                  everything above
#   scripts/test-c.sh --vectors-only   only the shared vectors through the C ABI
#                                      (what scripts/test.sh --quick runs)
set -euo pipefail

vectors_only=0
case "${1:-}" in
  "") ;;
  --vectors-only) vectors_only=1 ;;
  *)
    echo "usage: scripts/test-c.sh [--vectors-only]" >&2
    exit 2
    ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

step() { printf '\n== %s\n' "$*"; }

need=()
for tool in gcc g++ make python3 valgrind pkg-config; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
if ((${#need[@]})); then
  step "installing ${need[*]}"
  pkgs=()
  for tool in "${need[@]}"; do
    case "$tool" in
      python3) pkgs+=(python3) ;;
      *) pkgs+=("$tool") ;;
    esac
  done
  sudo_cmd=()
  [[ "$(id -u)" != 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${pkgs[@]}" libc6-dev
fi

step "cargo build -p priceguard-ffi"
cargo build -p priceguard-ffi
target="$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
lib="$target/debug"
build="$root/tests/c/build"
mkdir -p "$build"

step "vectors table"
shopt -s nullglob
vectors=(tests/vectors/*.json tests/vectors/groups/*.json tests/vectors/history/*.json tests/c/vectors/*.json)
python3 tests/c/gen_vectors.py "$build/vectors_table.h" "${vectors[@]}"
echo "${#vectors[@]} vector files"

CFLAGS=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -Iinclude -Itests/c -I"$build")
LINK_SO=(-L"$lib" -lpriceguard -Wl,-rpath,"$lib" -lpthread)

if ((vectors_only)); then
  gcc "${CFLAGS[@]}" tests/c/test_vectors.c -o "$build/test_vectors" "${LINK_SO[@]}"
  step "shared vectors through the C ABI"
  exec "$build/test_vectors"
fi

step "cargo test -p priceguard-ffi (boundary, NULL handling, code tables)"
cargo test -p priceguard-ffi --quiet

step "header"
if command -v cbindgen >/dev/null 2>&1 && [[ "$(cbindgen --version)" == "cbindgen 0.29.4" ]]; then
  scripts/gen-header.sh --check
else
  echo "cbindgen 0.29.4 not installed: skipping the freshness check (CI runs scripts/gen-header.sh --check)"
fi


step "macro list (every #define of include/priceguard.h)"
python3 tests/c/gen_macros.py include/priceguard.h "$build/macros_table.h"

LINK_A=("$lib/libpriceguard.a" -lpthread -ldl -lm)
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
tests=(api vectors threads macros)

step "compile (C11, -Wpedantic -Werror; header also as C++17)"
for t in "${tests[@]}"; do
  gcc "${CFLAGS[@]}" "tests/c/test_$t.c" -o "$build/test_$t" "${LINK_SO[@]}"
  gcc "${CFLAGS[@]}" "${SAN[@]}" "tests/c/test_$t.c" -o "$build/test_${t}_san" "${LINK_SO[@]}"
done
gcc "${CFLAGS[@]}" tests/c/test_api.c -o "$build/test_api_static" "${LINK_A[@]}"
g++ -std=c++17 -Wall -Wextra -Werror -Iinclude tests/c/test_header.cpp -o "$build/test_header" "${LINK_SO[@]}"

failed=()
run() { "$@" || failed+=("$*"); }

step "run"
for t in "${tests[@]}"; do run "$build/test_$t"; done
run "$build/test_api_static"
run "$build/test_header" && echo "c++17 header: ok"

step "run under AddressSanitizer + UBSan"
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${tests[@]}"; do run "$build/test_${t}_san"; done
unset ASAN_OPTIONS UBSAN_OPTIONS

step "run under valgrind"
VG=(valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible)
run "${VG[@]}" "$build/test_api"
run "${VG[@]}" "$build/test_vectors"
run "${VG[@]}" "$build/test_threads" 5
run "${VG[@]}" "$build/test_macros"

step "docs/c-api.md: the price ladder example compiles and prints its comment"
python3 - "$build/doc_groups.c" <<'PY'
import re, sys
text = open("docs/c-api.md", encoding="utf-8").read()
section = text.split("## Price ladders (groups)\n", 1)[1].split("\n## ", 1)[0]
open(sys.argv[1], "w").write(re.search(r"```c\n(.*?)```", section, re.S).group(1))
PY
gcc "${CFLAGS[@]}" "${SAN[@]}" "$build/doc_groups.c" -o "$build/doc_groups" "${LINK_SO[@]}"
run grep -qx 'SKU-2: raised 14.99 to 15.75 to stay 5 % above SKU-1 (rank 1, 15.00)' <("$build/doc_groups")
run grep -qx 'groups 1, adjusted 1, held 0' <("$build/doc_groups")

step "docs/c-api.md: the history example compiles and prints its comments"
python3 - "$build/doc_history.c" <<'PY'
import re, sys
text = open("docs/c-api.md", encoding="utf-8").read()
section = text.split("## History summaries\n", 1)[1].split("\n## ", 1)[0]
open(sys.argv[1], "w").write(re.search(r"```c\n(.*?)```", section, re.S).group(1))
PY
gcc "${CFLAGS[@]}" "${SAN[@]}" "$build/doc_history.c" -o "$build/doc_history" "${LINK_SO[@]}"
run grep -qx 'proposed 19.99 held at 24.99 by prior_price (was 29.99 is above the 30-day low 24.99; lawful reference 24.99)' \
  <("$build/doc_history")
run grep -qx 'show was 24.99' <("$build/doc_history")

step "examples/c, as docs/c-api.md documents it"
cargo build --release -p priceguard-ffi
make -s -C examples/c clean
run make -s -C examples/c run
run make -s -C examples/c run-static
# The explanation of a value the library refuses is specific.
run grep -q 'G7,rejected,,invalid_input,,,"rejected: proposed_price: `0.00` must be greater than zero"' \
  <(make -s -C examples/c run)
# A "was" price above the 30-day low is held and the lawful one printed;
# one equal to it is lawful (docs/spec.md §11.2).
run grep -qx 'I9,held,10.00,prior_price,,,"proposed 9.99 held at 10.00 by prior_price (was 12.99 is above the 30-day low 9.99; lawful reference 9.99)",9.99' \
  <(make -s -C examples/c run)
run grep -qx 'J10,accepted,9.99,,,,"proposed 9.99 accepted",' <(make -s -C examples/c run)
make -s -C examples/c clean

if ((${#failed[@]})); then
  step "FAILED:"
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
step "all C tests passed"
