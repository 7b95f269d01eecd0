"""Times `Policy.evaluate_arrow` against `Policy.evaluate_batch` on the same
rows, in the same process and run.

    .venv/bin/python python/benches/arrow.py [--rows 1000000] [--repeat 5]

Rows: proposed price, cost, current price and reference price in minor units
(the same numbers fed as int64 minor units to `evaluate_batch(money="minor")`,
as `decimal128(12, 2)` and as int64 to `evaluate_arrow`). Prints the best
wall ns per item of each. Set `PRICEGUARD_NUM_THREADS=1` to compare one
thread with one thread (`evaluate_batch` splits independent batches across
cores; `evaluate_arrow` runs on one).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa

import priceguard

POLICY = """
name = "bench"
currency = "USD"
[bounds]
min_price = "0.99"
max_price = "5000"
[margin]
min_margin = "0.15"
[change]
max_increase = "0.20"
max_decrease = "0.30"
"""


def best(f, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    n = args.rows
    rng = np.random.default_rng(1)
    proposed = rng.integers(50, 600_000, n)
    cost = rng.integers(0, 500_000, n)
    current = rng.integers(50, 600_000, n)
    policy = priceguard.Policy.from_toml(POLICY)

    def batch() -> None:
        policy.evaluate_batch(proposed_price=proposed, unit_cost=cost, current_price=current, money="minor")

    t_dec = pa.table(
        {
            "proposed_price": _decimal(proposed),
            "unit_cost": _decimal(cost),
            "current_price": _decimal(current),
        }
    )
    t_int = pa.table({"proposed_price": proposed, "unit_cost": cost, "current_price": current})

    # Same answers first.
    r = policy.evaluate_batch(proposed_price=proposed, unit_cost=cost, current_price=current, money="minor")
    out = policy.evaluate_arrow(t_dec)
    assert np.array_equal(out.column("violated_mask").to_numpy(), r.violated.astype(np.int64))

    rows = [
        ("evaluate_batch (int64 minor)", best(batch, args.repeat)),
        ("evaluate_arrow (decimal128)", best(lambda: policy.evaluate_arrow(t_dec), args.repeat)),
        ("evaluate_arrow (int64 minor)", best(lambda: policy.evaluate_arrow(t_int), args.repeat)),
    ]
    for name, secs in rows:
        print(f"{name:32} {secs * 1e9 / n:8.1f} ns/item  ({secs * 1e3:.1f} ms for {n} rows)")


def _decimal(minor: np.ndarray) -> pa.Array:
    """decimal128(12, 2) of minor-unit integers, built from the 128-bit values."""
    wide = np.zeros((len(minor), 2), dtype=np.int64)
    wide[:, 0] = minor
    wide[:, 1] = np.where(minor < 0, -1, 0)
    return pa.Array.from_buffers(pa.decimal128(12, 2), len(minor), [None, pa.py_buffer(wide.tobytes())])


if __name__ == "__main__":
    main()
