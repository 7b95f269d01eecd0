#!/usr/bin/env bash
# Regenerates include/priceguard.h from ffi/ with the pinned cbindgen.
#   scripts/gen-header.sh          write the header
#   scripts/gen-header.sh --check  fail when the committed header is stale (CI)
set -euo pipefail

CBINDGEN_VERSION=0.29.4
root="$(cd "$(dirname "$0")/.." && pwd)"
header="$root/include/priceguard.h"

if ! command -v cbindgen >/dev/null 2>&1 || [[ "$(cbindgen --version)" != "cbindgen $CBINDGEN_VERSION" ]]; then
  echo "installing cbindgen $CBINDGEN_VERSION" >&2
  cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --force >&2
  export PATH="$HOME/.cargo/bin:$PATH"
fi

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
(cd "$root/ffi" && cbindgen --quiet --config cbindgen.toml --crate priceguard-ffi --output "$tmp")

case "${1:-}" in
  --check)
    if ! diff -u "$header" "$tmp"; then
      echo "include/priceguard.h is stale: run scripts/gen-header.sh and commit it" >&2
      exit 1
    fi
    echo "include/priceguard.h is up to date"
    ;;
  "")
    mkdir -p "$(dirname "$header")"
    cp "$tmp" "$header"
    echo "wrote include/priceguard.h"
    ;;
  *)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac
