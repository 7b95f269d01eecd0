"""priceguard's Python batch path against the peers a user would otherwise write.

Runs the shared workload (`workload.py`, `peer_numpy.py` in the shared bench
folder, `../shared/bench` from the repository root unless `--shared DIR`) on
1M items in one process and prints ns per item for:

- priceguard `evaluate_batch`, float64 major-unit columns (NaN = absent);
- priceguard `evaluate_batch`, int64 minor-unit columns (`money="minor"`);
- the float64 batch once more into fresh memory (the pool of recycled
  result buffers emptied first: what a one-off batch pays);
- the vectorised float64 numpy peer;
- the exact pure-Python Decimal loop (on the first 20k items);

then priceguard's agreement with the Decimal peer on those 20k prices (must be
100 %) and the peak resident memory each priceguard batch added (Rust
allocations are invisible to tracemalloc, so this reads the kernel's RSS
high-water mark, reset before each run where Linux allows it).

This is a benchmark, not a test: it asserts nothing about time.

    .venv/bin/python benches/python/compare.py [--n 1000000] [--k 20000] [--shared DIR]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

import priceguard

REPO = Path(__file__).resolve().parents[2]


def peak_rss_kib() -> int:
    """The process's resident-set high-water mark in KiB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def current_rss_kib() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak() -> bool:
    """Resets VmHWM to the current RSS (Linux >= 4.0); False when not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


CPU: dict[int, float] = {}


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Best wall time of `repeat` runs; the CPU time of that run (all threads) goes to CPU[id(result)]."""
    best, cpu, out = float("inf"), 0.0, None
    for _ in range(repeat):
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall, used = time.perf_counter() - t, time.process_time() - c
        if wall < best:
            best, cpu = wall, used
    CPU[id(out)] = cpu
    return best, out


def peak_of(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Extra peak RSS (KiB) while `fn` runs, over the RSS before it."""
    gc.collect()
    reset_peak()
    before = current_rss_kib()
    out = fn()
    return peak_rss_kib() - before, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="items in the batch runs")
    ap.add_argument("--k", type=int, default=20_000, help="items in the Decimal loop")
    ap.add_argument("--repeat", type=int, default=3, help="runs per timing (best is shown)")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "bench", help="folder of workload.py")
    ap.add_argument("--mix", choices=("clean", "real", "both"), default="both",
                    help="workload mix: clean, real (relaxed rows, 4-decimal float proposals) or both")
    args = ap.parse_args()
    if not (args.shared / "workload.py").exists():
        print(f"no workload.py in `{args.shared}`: pass --shared DIR", file=sys.stderr)
        return 2
    sys.path.insert(0, str(args.shared))
    import peer_numpy  # type: ignore[import-not-found]
    import workload  # type: ignore[import-not-found]

    status = 0
    for mix in (("clean", "real") if args.mix == "both" else (args.mix,)):
        print(f"== mix {mix}")
        status |= run(args, workload, peer_numpy, mix)
        print()
    return status


def run(args: argparse.Namespace, workload: Any, peer_numpy: Any, mix: str) -> int:
    """One mix of the shared workload through every path and peer."""
    n, k = args.n, min(args.k, args.n)
    w = workload.make(n, mix=mix)
    policy = priceguard.Policy.from_toml(workload.POLICY_TOML)

    # What each kind of caller holds before calling: float64 major units with
    # NaN for "absent", or int64 cents with a mask. Built outside the timings.
    promo = w["reference"] > 0
    # The real mix's float proposal is the model's own, dollars with 4
    # decimals, which priceguard snaps to the cent exactly (docs/spec.md M1);
    # the peers and the minor-unit path take it snapped (`proposed`).
    major = dict(
        proposed_price=w["proposed_major"] if "proposed_major" in w else w["proposed"] / 100.0,
        current_price=w["current"] / 100.0,
        unit_cost=w["cost"] / 100.0,
        reference_price=np.where(promo, w["reference"] / 100.0, np.nan),
        expected_units=np.where(promo, w["expected_units"].astype(np.float64), np.nan),
        last_change_at=w["last_change_at"],
        now=int(w["now"]),
    )
    minor = dict(
        proposed_price=w["proposed"],
        current_price=w["current"],
        unit_cost=w["cost"],
        reference_price=np.ma.masked_array(w["reference"], mask=~promo),
        expected_units=np.ma.masked_array(w["expected_units"], mask=~promo),
        last_change_at=w["last_change_at"],
        now=int(w["now"]),
    )

    # Memory, and one batch into fresh memory: each with the pool of
    # recycled result buffers emptied first. The timed runs below reuse the
    # buffers of results already dropped, as a loop over batches does.
    priceguard.release_buffers()
    rss_major, _ = peak_of(lambda: policy.evaluate_batch(**major))
    priceguard.release_buffers()
    rss_minor, _ = peak_of(lambda: policy.evaluate_batch(**minor, money="minor"))
    priceguard.release_buffers()
    gc.collect()
    t_fresh, _ = best_of(1, lambda: policy.evaluate_batch(**major))
    t_major, r_major = best_of(args.repeat, lambda: policy.evaluate_batch(**major))
    t_minor, r_minor = best_of(args.repeat, lambda: policy.evaluate_batch(**minor, money="minor"))
    t_numpy, (np_price, _) = best_of(args.repeat, lambda: peer_numpy.guard_numpy(w))
    t_dec, (dec_price, _) = best_of(1, lambda: peer_numpy.guard_decimal(w, k))
    t_single, _ = best_of(1, lambda: [policy.evaluate(
        {"proposed_price": int(w["proposed"][i]) / 100, "current_price": int(w["current"][i]) / 100,
         "unit_cost": int(w["cost"][i]) / 100, "last_change_at": int(w["last_change_at"][i]), "now": int(w["now"])})
        for i in range(k)])

    ns = lambda t, items: t / items * 1e9  # noqa: E731
    pg_major, pg_minor = ns(t_major, n), ns(t_minor, n)
    cpu = lambda r, items: CPU.get(id(r), float("nan")) / items * 1e9  # noqa: E731
    rows = [
        ("priceguard batch, float64 major", n, pg_major, cpu(r_major, n)),
        ("priceguard batch, int64 minor", n, pg_minor, cpu(r_minor, n)),
        ("  float64, fresh memory (no reuse)", n, ns(t_fresh, n), float("nan")),
        ("numpy peer (float64)", n, ns(t_numpy, n), float("nan")),
        ("Decimal loop", k, ns(t_dec, k), float("nan")),
        ("priceguard evaluate(), dict per item", k, ns(t_single, k), float("nan")),
    ]
    threads = os.environ.get("PRICEGUARD_NUM_THREADS") or str(os.cpu_count())
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; batch threads <= {threads}")
    print(f"{'implementation':34} {'items':>9} {'ns/item':>10} {'cpu ns/item':>12} {'vs float64 path':>16}")
    for name, items, v, c in rows:
        print(f"{name:34} {items:>9} {v:>10.1f} {c:>12.1f} {v / pg_major:>15.1f}x")

    price_minor = np.where(r_minor.price_valid, r_minor.price, -1)
    price_major = np.where(np.isnan(r_major.price), -1, np.round(r_major.price * 100)).astype(np.int64)
    agree_dec = np.mean(price_minor[:k] == dec_price) * 100
    agree_paths = np.mean(price_minor == price_major) * 100
    agree_numpy = np.mean(price_minor == np_price) * 100
    print()
    print(f"agreement with the Decimal peer on {k} prices: {agree_dec:.3f} %")
    print(f"float64 and minor-unit paths agree on {n} prices: {agree_paths:.3f} %"
          + (" (the workload snaps 4-decimal proposals with float rounding; priceguard exactly)" if mix == "real" else ""))
    print(f"agreement with the numpy peer on {n} prices: {agree_numpy:.3f} % (float rounding in the peer)")
    print(f"speed-up over the numpy peer: {ns(t_numpy, n) / pg_major:.1f}x (float64), "
          f"{ns(t_numpy, n) / pg_minor:.1f}x (minor)")
    print(f"speed-up over the Decimal loop: {ns(t_dec, k) / pg_major:.0f}x (float64), "
          f"{ns(t_dec, k) / pg_minor:.0f}x (minor)")
    print(f"peak RSS added by one {n}-item batch: {rss_major / 1024:.1f} MiB (float64), "
          f"{rss_minor / 1024:.1f} MiB (minor)")
    print(f"summary: {r_minor.summary}")
    if agree_dec < 100.0:
        bad = np.nonzero(price_minor[:k] != dec_price)[0][:5]
        for i in bad:
            print(f"  item {i}: priceguard {price_minor[i]} decimal peer {dec_price[i]} "
                  f"{r_minor.decision(int(i))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if os.environ.get("OPENBLAS_CORETYPE"):
        print("note: OPENBLAS_CORETYPE is set; numpy kernels may be slower", file=sys.stderr)
    sys.exit(main())
