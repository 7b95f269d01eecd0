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

echo "test-python: installing python/requirements-dev.txt"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$repo/python/requirements-dev.txt"

echo "test-python: building the extension (maturin develop --release)"
cd "$repo/python"
"$venv/bin/maturin" develop --release --quiet

echo "test-python: running pytest"
exec "$venv/bin/python" -m pytest "$@"
