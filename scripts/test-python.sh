#!/usr/bin/env bash
# Builds the Python package `priceguard` (python/) once, as a release wheel,
# and tests that wheel: installed into the repository's .venv for mypy and
# pytest, and into a fresh virtualenv by scripts/check-wheel.sh (the
# install a user gets, without extras). Works on a fresh machine by itself:
# creates .venv when missing and installs python/requirements-dev.txt.
#
#   scripts/test-python.sh [pytest args...]   # e.g. -k bad_input test_batch.py
#
# For quick iterations use `cd python && ../.venv/bin/maturin develop` and
# `../.venv/bin/python -m pytest` instead.
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

# One compile: the wheel that check-wheel.sh installs is the one tested here.
echo "test-python: building the wheel (maturin build --release)"
wheels="$repo/target/wheels"
rm -f "$wheels"/priceguard-*.whl
start=$SECONDS
(cd "$repo/python" && "$venv/bin/maturin" build --release --quiet --out "$wheels")
wheel="$(ls "$wheels"/priceguard-*.whl)"
echo "test-python: built $(basename "$wheel") in $((SECONDS - start)) s"
"${pip[@]}" --force-reinstall --no-deps "$wheel"
# A `maturin develop` build left in the source tree would shadow nothing now
# (its .pth went with the reinstall), but remove it so nothing can load it.
rm -f "$repo"/python/priceguard/_native*.so

if [[ -n "$spark_pid" ]]; then
    echo "test-python: waiting for pyspark"
    wait "$spark_pid"
fi
rm -f "$spark_reqs"

echo "test-python: mypy --strict (the package and the README's examples)"
(cd "$repo/python" && "$venv/bin/python" tests/readme_examples.py --mypy)

echo "test-python: checking the wheel in a fresh virtualenv"
start=$SECONDS
"$repo/scripts/check-wheel.sh" "$wheel"
echo "test-python: check-wheel took $((SECONDS - start)) s"

echo "test-python: running pytest"
# From python/tests, with the `pytest` script (not `python -m pytest`): the
# tests and the processes they start (Spark workers, SIMD subprocesses) must
# import the installed wheel, never python/priceguard/ (the source package,
# without the extension), which a current directory of python/ would put
# first on sys.path. Name test files relative to python/tests.
cd "$repo/python/tests"
exec "$venv/bin/pytest" "$@"
