"""Times `Policy.evaluate_batch` on float64 columns whose values are whole
cents, the case that must keep its speed now that money finer than the
currency is read exactly (docs/spec.md M1), next to the same rows as int64
minor units and to rows whose costs carry four more decimals.

    .venv/bin/python python/benches/float_batch.py [--rows 1000000] [--repeat 9]

Cases (1M rows by default, each timed `--repeat` times; the median and the
best wall ns per item are printed):

- `float64 cents, block path`: proposed, current and cost in whole cents,
  a policy the float64 block path decides straight from the floats;
- `float64 cents, converted`: the same floats with a `changes_in_window`
  column, which the float block path does not read, so every chunk goes
  through the conversion to exact amounts (`columns::convert`);
- `int64 minor`: the same rows as int64 cents (`money="minor"`);
- `float64, costs 4 more decimals`: costs such as 3.9694, decided exactly
  row by row (the engine's path for finer items);
- `float64, proposals 4 decimals`: a model's proposals in dollars with 4
  decimals (19.4373), which the block path snaps to the cent itself
  (docs/spec.md M1, B2c): issue 23 asks this to stay within 1.5x of
  `float64 cents, block path` in the same run.

A benchmark, not a test: it asserts nothing about time. Compare builds by
running it with each in the same session.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

import numpy as np

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
max_increase = "0.10"
max_decrease = "0.20"
[promotion]
max_discount = "0.50"
"""


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    fn()  # warm: pools, pages, caches
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    n = args.rows
    rng = np.random.default_rng(3)
    current_c = rng.integers(500, 50_000, n)
    proposed_c = (current_c * rng.uniform(0.85, 1.15, n)).round().astype(np.int64)
    cost_c = (current_c * rng.uniform(0.3, 0.7, n)).round().astype(np.int64)
    cents = {
        "proposed_price": proposed_c / 100,
        "current_price": current_c / 100,
        "unit_cost": cost_c / 100,
    }
    minor = {"proposed_price": proposed_c, "current_price": current_c, "unit_cost": cost_c}
    fine = dict(cents, unit_cost=np.round(cost_c / 100 + rng.integers(1, 99, n) / 10_000, 4))
    model = dict(cents, proposed_price=np.round(proposed_c / 100 + rng.uniform(-0.005, 0.005, n), 4))
    windows = np.zeros(n, dtype=np.int64)
    policy = priceguard.Policy.from_toml(POLICY)

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("float64 cents, block path", lambda: policy.evaluate_batch(**cents)),
        ("float64 cents, converted", lambda: policy.evaluate_batch(**cents, changes_in_window=windows)),
        ("int64 minor", lambda: policy.evaluate_batch(**minor, money="minor")),
        ("float64, costs 4 more decimals", lambda: policy.evaluate_batch(**fine)),
        ("float64, proposals 4 decimals", lambda: policy.evaluate_batch(**model)),
    ]
    for name, fn in cases:
        times = timed(fn, args.repeat)
        med, low = statistics.median(times), min(times)
        print(f"{name:34} median {med * 1e9 / n:7.1f} ns/item  best {low * 1e9 / n:7.1f}  ({med * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
