"""Batches larger than the buffer pool: a loop of `evaluate_batch` calls.

Each setting runs in its own process (the pool limit is read once): a loop
of `--calls` batches of `--n` rows of the shared workload (float64 major
units, `r = policy.evaluate_batch(...)` as a loop over batches does, so the
previous result is alive during each call), and prints the median ns/item
system-time ns/item and minor page faults of the calls after the first, and the peak RSS the loop added over its input against the outputs
alive at once (two results: the one held and the one being written).

    .venv/bin/python python/benches/pool.py [--n 10000000] [--calls 6]

Settings: `PRICEGUARD_BUFFER_POOL_MB` unset (the pool sized from the
call), 256 (the fixed limit before), 2048. A benchmark: asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def child(n: int, calls: int, shared: Path) -> None:
    import numpy as np

    import priceguard

    sys.path.insert(0, str(shared))
    import workload  # type: ignore[import-not-found]

    w = workload.make(n, mix="real")
    policy = priceguard.Policy.from_toml(workload.POLICY_TOML)
    promo = w["reference"] > 0
    cols = dict(
        proposed_price=w["proposed_major"],
        current_price=w["current"] / 100.0,
        unit_cost=w["cost"] / 100.0,
        reference_price=np.where(promo, w["reference"] / 100.0, np.nan),
        expected_units=np.where(promo, w["expected_units"].astype(np.float64), np.nan),
        last_change_at=w["last_change_at"],
    )
    now = int(w["now"])
    del w
    inputs = sum(a.nbytes for a in cols.values())
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status("VmRSS:")
    walls, syss, faults = [], [], []
    r = None
    out_bytes = 0
    for _ in range(calls):
        t0, s0, f0 = time.perf_counter(), os.times().system, resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        r = policy.evaluate_batch(**cols, now=now)
        walls.append((time.perf_counter() - t0) / n * 1e9)
        syss.append((os.times().system - s0) / n * 1e9)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
        out_bytes = sum(getattr(r, k).nbytes for k in (
            "price", "lower", "upper", "promo_spend", "outcome", "reason", "violated", "binding", "unmet",
            "relaxed", "needs_approval", "invalid_field"))
    peak = status("VmHWM:") - before
    print(json.dumps(dict(wall=statistics.median(walls[1:]), sys=statistics.median(syss[1:]), faults=statistics.median(faults[1:]),
                          first=walls[0], peak=peak, inputs=inputs, outputs=out_bytes)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--calls", type=int, default=6)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "bench")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.n, args.calls, args.shared)
        return 0
    print(f"{args.n} rows, {args.calls} calls per setting, load average {os.getloadavg()[0]:.1f}")
    print(f"{'PRICEGUARD_BUFFER_POOL_MB':26} {'ns/item':>8} {'sys ns':>7} {'1st call':>9} "
          f"{'faults/call':>11} {'peak MiB':>9} {'out MiB':>8} {'peak/2 outs':>12}")
    for setting in (None, "256", "2048"):
        env = dict(os.environ)
        env.pop("PRICEGUARD_BUFFER_POOL_MB", None)
        if setting is not None:
            env["PRICEGUARD_BUFFER_POOL_MB"] = setting
        cmd = [sys.executable, __file__, "--child", "--n", str(args.n), "--calls", str(args.calls),
               "--shared", str(args.shared)]
        res = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)
        mib = 2**20
        print(f"{setting or 'unset (sized from call)':26} {res['wall']:>8.1f} {res['sys']:>7.1f} {res['first']:>9.1f} {res['faults']:>11.0f} "
              f"{res['peak'] / mib:>9.0f} {res['outputs'] / mib:>8.0f} {res['peak'] / (2 * res['outputs']):>12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
