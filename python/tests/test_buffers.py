"""Recycled output buffers: a batch written into a previous batch's memory
reads exactly as one written into fresh memory."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest

import priceguard

REPO = Path(__file__).resolve().parents[2]

# Every output array is recycled from 64 KiB, and placed for huge pages
# from 1 MiB: both kinds.
N = (1 << 20) + 4099
SIZES = [70_001, N]

ARRAYS = ("price", "lower", "upper", "promo_spend", "outcome", "reason", "violated", "binding",
          "unmet", "relaxed", "needs_approval", "invalid_field")


# Only rules the 64-row block path decides: its batches write results a
# column block at a time (`put_rows`), the examples policy's row by row.
BLOCK_POLICY = """
name = "blocks"
version = "1"
currency = "USD"
[bounds]
min_price = "0.99"
max_price = "5000"
[margin]
min_margin = "0.15"
[change]
max_increase = "0.10"
max_decrease = "0.20"
cooldown_secs = 3600
[promotion]
max_discount = "0.50"
"""


def _policy() -> priceguard.Policy:
    return priceguard.Policy.from_file(REPO / "examples" / "policy.toml")


def _messy(n: int) -> dict[str, np.ndarray]:
    """Rows that set what a clean batch leaves at zero: relaxed classes,
    approvals, unreadable values, promotion spend."""
    rng = np.random.default_rng(5)
    current = np.round(rng.uniform(5, 50, n), 2)
    proposed = np.round(current * rng.uniform(0.5, 1.6, n), 2)
    proposed[rng.random(n) < 0.05] = np.nan
    # A few items cost more than they sell for (a class gets relaxed); not
    # so many that the circuit breaker holds the batch.
    cost = np.round(current * np.where(rng.random(n) < 0.05, 2.0, rng.uniform(0.3, 0.7, n)), 2)
    return dict(
        proposed_price=proposed,
        current_price=current,
        unit_cost=cost,
        reference_price=np.where(rng.random(n) < 0.3, current, np.nan),
        expected_units=np.where(rng.random(n) < 0.3, 7.0, np.nan),
        last_change_at=np.zeros(n, dtype=np.int64),
    )


def _clean(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(9)
    current = np.round(rng.uniform(5, 50, n), 2)
    return dict(
        proposed_price=np.round(current * 1.01, 2),
        current_price=current,
        unit_cost=np.round(current * 0.5, 2),
        last_change_at=np.zeros(n, dtype=np.int64),
    )


@pytest.mark.parametrize("blocks", [False, True])
@pytest.mark.parametrize("n", SIZES)
def test_a_recycled_buffer_reads_as_a_fresh_one(n: int, blocks: bool) -> None:
    """The messy batch (examples policy, row by row) leaves its values in
    the buffers; the clean batch is written row by row or by blocks."""
    policy = _policy()
    clean_policy = priceguard.Policy.from_toml(BLOCK_POLICY) if blocks else policy
    priceguard.release_buffers()
    fresh = clean_policy.evaluate_batch(**_clean(n), now=10**9)
    messy = policy.evaluate_batch(**_messy(n), now=10**9)
    # The messy batch really wrote what the clean one must not show.
    assert messy.relaxed.any() and messy.needs_approval.any()
    assert (messy.invalid_field >= 0).any() and (messy.promo_spend > 0).any()
    addresses = {getattr(messy, name).ctypes.data for name in ARRAYS}
    # numpy bools as bytes: only ever 0 or 1.
    assert set(np.unique(messy.needs_approval.view(np.uint8)).tolist()) == {0, 1}
    del messy
    gc.collect()
    again = clean_policy.evaluate_batch(**_clean(n), now=10**9)
    # Written into the messy batch's memory: every array sits where one of
    # the messy batch's arrays was.
    reused = [name for name in ARRAYS if getattr(again, name).ctypes.data in addresses]
    assert len(reused) == len(ARRAYS), reused
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(again, name), getattr(fresh, name), err_msg=name)
    assert not again.relaxed.any() and not again.needs_approval.any()
    assert again.needs_approval.dtype == np.bool_
    assert set(np.unique(again.needs_approval.view(np.uint8)).tolist()) == {0}
    assert (again.invalid_field == -1).all()


def test_live_arrays_are_never_recycled() -> None:
    policy = _policy()
    priceguard.release_buffers()
    first = policy.evaluate_batch(**_clean(N), now=10**9)
    keep = first.price[10:20]  # a view keeps the whole buffer alive
    want = keep.copy()
    del first
    gc.collect()
    second = policy.evaluate_batch(**_messy(N), now=10**9)
    np.testing.assert_array_equal(keep, want)
    assert not np.shares_memory(keep, second.price)


def test_release_buffers_empties_the_pool() -> None:
    policy = _policy()
    priceguard.release_buffers()
    r = policy.evaluate_batch(**_clean(N), now=10**9)
    del r
    gc.collect()
    assert priceguard.release_buffers() > 8 * N
    assert priceguard.release_buffers() == 0


def test_a_large_batch_reads_as_its_parts() -> None:
    """A batch this large writes its results with streaming stores (whole
    cache lines, past the cache), and divides money into major units with
    fused multiply-adds; parts below 256k rows take the plain stores. Under
    a policy with no budget and no circuit breaker the rows are
    independent, so the whole batch equals its parts, array for array."""
    policy = priceguard.Policy.from_toml(BLOCK_POLICY)
    cols = _messy(N)
    cols["reference_price"] = np.where(np.isnan(cols["reference_price"]), np.nan,
                                       cols["current_price"] * 1.7)
    whole = policy.evaluate_batch(**cols, now=10**9)
    cuts = [0, 1, 65, 200_003, 400_000, 655_360, 900_001, N]
    parts = [policy.evaluate_batch(**{k: v[a:b] for k, v in cols.items()}, now=10**9)
             for a, b in zip(cuts, cuts[1:])]
    # The data reaches every column: spend, clamps both ways, invalid rows.
    assert (whole.promo_spend > 0).any() and (whole.invalid_field >= 0).any()
    assert len(np.unique(whole.outcome)) >= 3
    for name in ARRAYS:
        joined = np.concatenate([getattr(p, name) for p in parts])
        np.testing.assert_array_equal(getattr(whole, name), joined, err_msg=name)
    # The minor-unit path, likewise.
    def to_minor(v: np.ndarray, scale: int) -> np.ma.MaskedArray:
        gap = np.isnan(v)
        return np.ma.masked_array(np.where(gap, 0, np.round(v * scale)).astype(np.int64), mask=gap)

    minor = {k: to_minor(v, 1 if k == "expected_units" else 100) if v.dtype == np.float64 else v
             for k, v in cols.items()}
    whole_m = policy.evaluate_batch(**minor, now=10**9, money="minor")
    parts_m = [policy.evaluate_batch(**{k: v[a:b] for k, v in minor.items()}, now=10**9,
                                     money="minor") for a, b in zip(cuts, cuts[1:])]
    for name in ARRAYS + ("price_valid", "lower_valid", "upper_valid", "promo_spend_valid"):
        if not hasattr(whole_m, name):
            continue
        joined = np.concatenate([getattr(p, name) for p in parts_m])
        np.testing.assert_array_equal(getattr(whole_m, name), joined, err_msg=name)



def _blocky(n: int) -> dict[str, np.ndarray]:
    """Rows most of whose 64-row blocks the block kernel decides (clamps
    both ways, cooldowns, promotion spend), with a messy stretch that
    takes the row path."""
    rng = np.random.default_rng(11)
    current = np.round(rng.uniform(5, 50, n), 2)
    promo = rng.random(n) < 0.3
    cols = dict(
        proposed_price=np.round(current * rng.uniform(0.6, 1.5, n), 2),
        current_price=current,
        unit_cost=np.round(current * rng.uniform(0.3, 0.7, n), 2),
        reference_price=np.where(promo, np.round(current * 1.3, 2), np.nan),
        expected_units=np.where(promo, rng.integers(1, 500, n).astype(np.float64), np.nan),
        last_change_at=10**9 - rng.integers(0, 7200, n),
    )
    messy = _messy(5_000)
    for k, v in cols.items():
        v[1_000:6_000] = messy[k]
    return cols


def _to_minor(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    def conv(k: str, v: np.ndarray) -> np.ndarray:
        if v.dtype != np.float64:
            return v
        gap = np.isnan(v)
        scale = 1 if k == "expected_units" else 100
        return np.ma.masked_array(np.where(gap, 0, np.round(v * scale)).astype(np.int64), mask=gap)

    return {k: conv(k, v) for k, v in cols.items()}


_SIMD_CHILD = """
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import priceguard
import test_buffers as t
policy = priceguard.Policy.from_toml(t.BLOCK_POLICY)
cols = t._blocky(t.SIMD_ROWS)
f = policy.evaluate_batch(**cols, now=10**9)
m = policy.evaluate_batch(**t._to_minor(cols), now=10**9, money="minor")
out = {"simd": np.array(priceguard.simd())}
out.update({"f_" + a: getattr(f, a) for a in t.ARRAYS})
out.update({"m_" + a: getattr(m, a) for a in t.ARRAYS})
np.savez(sys.argv[2], **out)
"""

# Above the streaming-store threshold (256k rows), so that both ways of
# writing the results run in every copy.
SIMD_ROWS = 300_007


@pytest.mark.parametrize("cap", ["portable", "avx2"])
def test_every_simd_copy_gives_the_same_batch(cap: str, tmp_path: Path) -> None:
    """`PRICEGUARD_SIMD` caps the SIMD copy of the vectorised loops (the
    block kernel, the float conversion, the result writer). A process held
    to the portable or AVX2 copy gives exactly this process's results
    (which run the widest copy the CPU has)."""
    import os
    import subprocess
    import sys

    out = tmp_path / "r.npz"
    env = dict(os.environ, PRICEGUARD_SIMD=cap)
    subprocess.run([sys.executable, "-c", _SIMD_CHILD, str(Path(__file__).parent), str(out)],
                   env=env, check=True)
    got = np.load(out)
    order = ["portable", "avx2", "avx512"]
    # The child runs at most the copy asked for (less where the CPU lacks it).
    assert order.index(str(got["simd"])) <= order.index(cap)
    assert order.index(str(got["simd"])) <= order.index(priceguard.simd())
    policy = priceguard.Policy.from_toml(BLOCK_POLICY)
    cols = _blocky(SIMD_ROWS)
    mine = policy.evaluate_batch(**cols, now=10**9)
    mine_m = policy.evaluate_batch(**_to_minor(cols), now=10**9, money="minor")
    # The data reaches every kind of decision the block kernel makes.
    assert {0, 1, 2} <= set(np.unique(mine.outcome).tolist())
    assert (mine.promo_spend > 0).any() and (mine.invalid_field >= 0).any()
    for a in ARRAYS:
        np.testing.assert_array_equal(got["f_" + a], getattr(mine, a), err_msg=a)
        np.testing.assert_array_equal(got["m_" + a], getattr(mine_m, a), err_msg=a)


POOL_SIZED_FROM_CALL = """
import gc, json, sys
import numpy as np
import priceguard
sys.path.insert(0, sys.argv[1])
from test_buffers import BLOCK_POLICY
policy = priceguard.Policy.from_toml(BLOCK_POLICY)
n = 4_600_000  # outputs of about 280 MB: past the 256 MiB default
p = np.full(n, 12.5)
r = policy.evaluate_batch(proposed_price=p, current_price=p, unit_cost=p / 2, now=10**9)
out = sum(a.nbytes for a in (r.price, r.lower, r.upper, r.promo_spend, r.outcome, r.reason, r.violated,
                             r.binding, r.unmet, r.relaxed, r.needs_approval, r.invalid_field))
del r
gc.collect()
big = priceguard.release_buffers()
r = policy.evaluate_batch(proposed_price=p, current_price=p, unit_cost=p / 2, now=10**9)
del r
small = policy.evaluate_batch(proposed_price=p[:100_000], current_price=p[:100_000], unit_cost=p[:100_000], now=10**9)
after_small = priceguard.release_buffers()
print(json.dumps(dict(out=out, big=big, after_small=after_small)))
"""


def test_the_pool_holds_a_batch_larger_than_its_default() -> None:
    """Unless `PRICEGUARD_BUFFER_POOL_MB` is set, the pool is sized from
    the latest batch: a batch past 256 MiB is kept whole for the next one
    (no fresh pages), and a smaller batch after it trims the pool back."""
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PRICEGUARD_BUFFER_POOL_MB"}
    got = json.loads(subprocess.run(
        [sys.executable, "-c", POOL_SIZED_FROM_CALL, str(Path(__file__).parent)],
        env=env, check=True, capture_output=True, text=True,
    ).stdout)
    assert got["out"] > 256 << 20
    assert got["big"] >= got["out"]
    assert got["after_small"] <= 256 << 20
