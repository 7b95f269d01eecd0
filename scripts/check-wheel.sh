#!/usr/bin/env bash
# Checks the Python wheel as a user gets it: installs it into a fresh
# virtualenv with nothing else (no dev requirements, no extras), imports
# `priceguard` from there, evaluates one item and one batch, and checks that
# every API needing an extra raises an ImportError naming that extra.
#
#   scripts/check-wheel.sh                 # builds the wheel first (maturin build --release)
#   scripts/check-wheel.sh path/to/x.whl   # checks a wheel already built
#
# MATURIN (default: .venv/bin/maturin, else maturin on PATH) and PYTHON
# (default: python3) choose the tools.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"

wheel="${1:-}"
if [[ -z "$wheel" ]]; then
    maturin="${MATURIN:-}"
    if [[ -z "$maturin" ]]; then
        if [[ -x "$repo/.venv/bin/maturin" ]]; then
            maturin="$repo/.venv/bin/maturin"
        else
            maturin="maturin"
        fi
    fi
    out="$repo/target/wheels"
    echo "check-wheel: building the wheel (maturin build --release)"
    rm -f "$out"/priceguard-*.whl
    (cd "$repo/python" && "$maturin" build --release --quiet --out "$out")
    wheel="$(ls "$out"/priceguard-*.whl)"
fi
[[ -f "$wheel" ]] || { echo "check-wheel: no wheel at \`$wheel\`" >&2; exit 1; }
wheel="$(cd "$(dirname "$wheel")" && pwd)/$(basename "$wheel")"

# One wheel for every CPython from 3.9 on (pyo3 feature abi3-py39).
case "$(basename "$wheel")" in
    *-cp39-abi3-*) ;;
    *) echo "check-wheel: \`$(basename "$wheel")\` is not an abi3 (cp39-abi3) wheel" >&2; exit 1 ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "check-wheel: installing $(basename "$wheel") into a fresh virtualenv"
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel"

# From an empty directory, so the source tree cannot be what is imported.
cd "$tmp"
"$tmp/venv/bin/python" - "$tmp/venv" <<'EOF'
import importlib
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np

import priceguard

venv = Path(sys.argv[1]).resolve()
where = Path(priceguard.__file__).resolve()
assert venv in where.parents, f"imported from {where}, not from the fresh virtualenv"

policy = priceguard.Policy.from_toml(
    'name = "wheel"\ncurrency = "USD"\n[bounds]\nmin_price = "0.99"\nmax_price = "5000"\n'
    '[margin]\nmin_margin = "0.15"\n'
)
d = policy.evaluate({"sku": "A1", "proposed_price": "12.49", "unit_cost": "12.22"})
assert (d.outcome, d.price, d.reason) == ("adjusted", Decimal("14.38"), "margin"), d
r = policy.evaluate_batch(
    proposed_price=np.array([12.49, 20.0]), unit_cost=np.array([12.22, 10.0]), campaign=np.array(["a", None], dtype=object)
)
assert r.price.tolist() == [14.38, 20.0], r.price

# Each API that needs an extra says which one.
for module in ("pandas", "polars", "pyarrow", "pyspark", "hypothesis"):
    try:
        importlib.import_module(module)
    except ImportError:
        continue
    raise SystemExit(f"check-wheel: {module} is installed in the fresh virtualenv")


class ArrowLike:
    def __arrow_c_stream__(self, requested_schema=None):  # pragma: no cover - never called
        raise AssertionError("read before the extra was checked")


class SparkLike:
    columns = ["sku", "proposed_price"]


def expect(extra, call):
    try:
        call()
    except ImportError as e:
        assert f"priceguard[{extra}]" in str(e), f"the ImportError does not name the extra: {e}"
        print(f"check-wheel: without [{extra}]: {e}")
        return
    raise SystemExit(f"check-wheel: no ImportError without the [{extra}] extra")


expect("pandas", r.to_pandas)
expect("arrow", lambda: policy.evaluate_arrow(ArrowLike()))
expect("spark", lambda: importlib.import_module("priceguard.spark").guard(SparkLike(), policy))
expect("testing", lambda: importlib.import_module("priceguard.testing"))
print(f"check-wheel: ok ({priceguard.__version__}, {where.parent})")
EOF
