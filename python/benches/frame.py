"""DataFrame in, DataFrame out: `evaluate_frame` against the numpy peer.

Runs the shared workload (`workload.py`, `peer_numpy.py`, `../shared/bench`
from the repository root unless `--shared DIR`), both mixes by default, and
prints the median (and best) ns per item of, in one process and interleaved
run by run:

- the numpy peer (`peer_numpy.guard_numpy`, float64 arrays in and out);
- priceguard `evaluate_batch` on the frame's columns (no DataFrame out);
- `BatchResult.to_pandas` of that result;
- `evaluate_frame`, pandas float64 columns in, pandas DataFrame out;
- `evaluate_frame` on a polars DataFrame (when polars is installed).

Peak memory: python/benches/mem.py (each path in a fresh process; here
memory freed by an earlier run would hide it). This is a benchmark, not a
test: it asserts nothing about time.

    .venv/bin/python python/benches/frame.py [--n 1000000] [--repeat 7] [--mix real]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

import priceguard

REPO = Path(__file__).resolve().parents[2]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--mix", choices=("clean", "real", "both"), default="both")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "bench")
    args = ap.parse_args()
    sys.path.insert(0, str(args.shared))
    import peer_numpy  # type: ignore[import-not-found]
    import workload  # type: ignore[import-not-found]

    for mix in ("clean", "real") if args.mix == "both" else (args.mix,):
        w = workload.make(args.n, mix=mix)
        policy = priceguard.Policy.from_toml(workload.POLICY_TOML)
        promo = w["reference"] > 0
        cols = dict(
            proposed_price=w["proposed_major"] if "proposed_major" in w else w["proposed"] / 100.0,
            current_price=w["current"] / 100.0,
            unit_cost=w["cost"] / 100.0,
            reference_price=np.where(promo, w["reference"] / 100.0, np.nan),
            expected_units=np.where(promo, w["expected_units"].astype(np.float64), np.nan),
            last_change_at=w["last_change_at"],
        )
        frame = pd.DataFrame(cols)
        now = int(w["now"])
        paths: dict[str, Callable[[], Any]] = {
            "numpy peer": lambda: peer_numpy.guard_numpy(w),
            "evaluate_batch (frame columns)": lambda: policy.evaluate_batch(**cols, now=now),
            "evaluate_frame, pandas": lambda: policy.evaluate_frame(frame, now=now),
        }
        result = policy.evaluate_batch(**cols, now=now)
        paths["BatchResult.to_pandas"] = lambda: result.to_pandas()
        try:
            import polars as pl

            pframe = pl.from_pandas(frame)
            paths["evaluate_frame, polars"] = lambda: policy.evaluate_frame(pframe, now=now)
        except ImportError:
            pass
        times: dict[str, list[float]] = {k: [] for k in paths}
        for _ in range(args.repeat):
            for name, fn in paths.items():
                gc.collect()
                t = time.perf_counter()
                out = fn()
                times[name].append((time.perf_counter() - t) / args.n * 1e9)
                del out
        peer = statistics.median(times["numpy peer"])
        print(f"== mix {mix}, {args.n} rows, {args.repeat} runs interleaved")
        print(f"{'path':34} {'median ns':>10} {'best ns':>8} {'peer/path':>10}")
        for name, ts in times.items():
            med = statistics.median(ts)
            print(f"{name:34} {med:>10.1f} {min(ts):>8.1f} {peer / med:>9.2f}x")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
