#!/usr/bin/env bash
# Builds the Python package `priceguard` (python/) into the repository's
# .venv and runs its pytest suite. Works on a fresh machine by itself:
# creates .venv when missing and installs python/requirements-dev.txt.
#
#   scripts/test-python.sh [pytest args...]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "test-python: creating $venv"
    "$python" -m venv "$venv"
fi
export VIRTUAL_ENV="$venv"
export PATH="$venv/bin:$PATH"

pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
reqs="$repo/python/requirements-dev.txt"
# pyspark is a ~450 MB download: fetch it in the background while the
# extension compiles (network against CPU), and wait for it before pytest.
spark_reqs="$(mktemp)"
grep -E '^pyspark' "$reqs" >"$spark_reqs" || true

echo "test-python: installing python/requirements-dev.txt"
grep -vE '^pyspark' "$reqs" | "${pip[@]}" -r /dev/stdin
spark_pid=""
if [[ -s "$spark_reqs" ]]; then
    "${pip[@]}" -r "$spark_reqs" &
    spark_pid=$!
fi

echo "test-python: building the extension (maturin develop --release)"
cd "$repo/python"
"$venv/bin/maturin" develop --release --quiet

if [[ -n "$spark_pid" ]]; then
    echo "test-python: waiting for pyspark"
    wait "$spark_pid"
fi
rm -f "$spark_reqs"

echo "test-python: running pytest"
exec "$venv/bin/python" -m pytest "$@"
