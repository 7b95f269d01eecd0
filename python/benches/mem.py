"""Peak memory of each Python path against its input plus output.

Each path runs once in a fresh process (so nothing recycled or cached by
an earlier path hides its allocations) on the shared workload's real mix:
the input is built, the RSS high-water mark reset (Linux), the call made,
and the peak RSS it added compared with the bytes of its output. Prints
`(input + added) / (input + output)`: 1.0 is no memory beyond the output,
the issue's bound is 1.3.

    .venv/bin/python python/benches/mem.py [--n 1000000]

A benchmark: asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PATHS = ("evaluate_batch float64", "evaluate_batch minor", "evaluate_frame pandas", "BatchResult.to_pandas",
         "evaluate_frame polars", "evaluate_arrow int64", "evaluate_arrow decimal128")


def status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def nbytes(x: Any) -> int:
    if hasattr(x, "memory_usage"):  # pandas
        return int(x.memory_usage(deep=False, index=False).sum())
    if hasattr(x, "estimated_size"):  # polars
        # A String column is views of 16 bytes a row (short strings
        # inline), which `estimated_size` leaves out.
        return sum(max(int(c.estimated_size()), 16 * len(c) if str(c.dtype) == "String" else 0)
                   for c in x.get_columns())
    if hasattr(x, "nbytes") and not hasattr(x, "summary"):  # pyarrow
        return int(x.nbytes)
    arrays = (getattr(x, k, None) for k in ("price", "lower", "upper", "promo_spend", "price_valid", "lower_valid",
                                            "upper_valid", "promo_spend_valid", "outcome", "reason", "violated",
                                            "binding", "unmet", "relaxed", "needs_approval", "invalid_field"))
    return sum(a.nbytes for a in arrays if a is not None)


def child(path: str, n: int, shared: Path) -> None:
    import numpy as np
    import pandas as pd

    import priceguard

    sys.path.insert(0, str(shared))
    import workload  # type: ignore[import-not-found]

    w = workload.make(n, mix="real")
    policy = priceguard.Policy.from_toml(workload.POLICY_TOML)
    promo = w["reference"] > 0
    now = int(w["now"])
    major = dict(
        proposed_price=w["proposed_major"], current_price=w["current"] / 100.0, unit_cost=w["cost"] / 100.0,
        reference_price=np.where(promo, w["reference"] / 100.0, np.nan),
        expected_units=np.where(promo, w["expected_units"].astype(np.float64), np.nan),
        last_change_at=w["last_change_at"],
    )
    minor = dict(
        proposed_price=w["proposed"], current_price=w["current"], unit_cost=w["cost"],
        reference_price=np.ma.masked_array(w["reference"], mask=~promo),
        expected_units=np.ma.masked_array(w["expected_units"], mask=~promo), last_change_at=w["last_change_at"],
    )
    fn: Any
    if path == "evaluate_batch float64":
        inp: Any = major
        fn = lambda: policy.evaluate_batch(**major, now=now)  # noqa: E731
    elif path == "evaluate_batch minor":
        inp = minor
        fn = lambda: policy.evaluate_batch(**minor, now=now, money="minor")  # noqa: E731
    elif path == "evaluate_frame pandas":
        inp = pd.DataFrame(major)
        fn = lambda: policy.evaluate_frame(inp, now=now)  # noqa: E731
    elif path == "BatchResult.to_pandas":
        inp = policy.evaluate_batch(**major, now=now)
        fn = inp.to_pandas
    elif path == "evaluate_frame polars":
        import polars as pl

        inp = pl.from_pandas(pd.DataFrame(major))
        fn = lambda: policy.evaluate_frame(inp, now=now)  # noqa: E731
    else:
        import pyarrow as pa

        if path.endswith("int64"):
            cols = {k: pa.array(np.asarray(v.filled(0) if hasattr(v, "filled") else v),
                                mask=np.ma.getmaskarray(v) if hasattr(v, "filled") else None)
                    for k, v in minor.items()}
        else:
            cols = {k: pa.array(np.asarray(v.filled(0) if hasattr(v, "filled") else v),
                                mask=np.ma.getmaskarray(v) if hasattr(v, "filled") else None)
                    for k, v in minor.items()}
            for k in ("proposed_price", "current_price", "unit_cost", "reference_price"):
                cents = np.asarray(minor[k])
                cols[k] = pa.array(cents / 100.0, mask=np.ma.getmaskarray(minor[k])).cast(pa.decimal128(18, 2))
        cols["now"] = pa.array(np.full(n, now))
        inp = pa.table(cols)
        fn = lambda: policy.evaluate_arrow(inp)  # noqa: E731
    in_bytes = nbytes(inp) if not isinstance(inp, dict) else sum(
        v.nbytes + (np.ma.getmaskarray(v).nbytes if hasattr(v, "mask") else 0) for v in inp.values())
    del w
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status("VmRSS:")
    out = fn()
    added = status("VmHWM:") - before
    out_bytes = nbytes(out)
    print(json.dumps(dict(input=in_bytes, output=out_bytes, added=added)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "bench")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.n, args.shared)
        return 0
    mib = 2**20
    print(f"{args.n} rows, real mix, each path in a fresh process")
    print(f"{'path':28} {'input MiB':>9} {'output MiB':>10} {'added MiB':>9} {'(in+added)/(in+out)':>20}")
    for path in PATHS:
        cmd = [sys.executable, __file__, "--child", path, "--n", str(args.n), "--shared", str(args.shared)]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode:
            print(f"{path:28} failed: {run.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(run.stdout)
        ratio = (r["input"] + r["added"]) / (r["input"] + r["output"])
        print(f"{path:28} {r['input'] / mib:>9.1f} {r['output'] / mib:>10.1f} {r['added'] / mib:>9.1f} {ratio:>20.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
