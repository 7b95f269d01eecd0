"""The float block path: float64 columns whose 64-row blocks the block
kernel decides straight from the floats (no conversion to minor units
first), with the blocks it cannot decide converted and decided as before.
Every row must read exactly as when decided alone, and as the minor-unit
path decides it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import priceguard
from test_buffers import ARRAYS, BLOCK_POLICY, _blocky, _to_minor

NOW = 10**9


def _single(policy: priceguard.Policy, cols: dict[str, Any], i: int) -> dict[str, Any]:
    item: dict[str, Any] = {"now": NOW}
    for k, v in cols.items():
        x = v[i]
        if isinstance(x, (float, np.floating)):
            if np.isnan(x):
                continue
            item[k] = float(x)
        else:
            item[k] = int(x)
    want = policy.evaluate(item).to_dict()
    del want["sku"]
    return want


def _odd(n: int) -> dict[str, np.ndarray]:
    """Mostly blocks the kernel decides, with a value the float path must
    leave to the conversion in some blocks: off the cent, not finite,
    negative, too large, a missing proposal, units that are not whole."""
    cols = _blocky(n)
    # Outside the messy stretch of `_blocky` (rows 1000..6000).
    odd = [
        ("proposed_price", 7_000, np.nan),
        ("proposed_price", 7_100, 12.345),
        ("current_price", 7_300, 2.675),
        ("unit_cost", 7_500, np.inf),
        ("unit_cost", 7_700, -1.0),
        ("reference_price", 7_900, 1e17),
        ("current_price", 8_100, 0.0),
        ("expected_units", 8_300, 2.5),
        ("expected_units", 8_500, -3.0),
        ("expected_units", 8_700, 1e12),
        ("proposed_price", 8_900, 0.1 + 0.2),
        ("unit_cost", 9_100, np.nan),
        ("current_price", 9_300, np.nan),
    ]
    for k, at, v in odd:
        cols[k][at] = v
    return cols


def _assert_rows_alone(policy: priceguard.Policy, cols: dict[str, Any], r: Any, rows: range) -> None:
    for i in rows:
        assert r.decision(i) == _single(policy, cols, i), f"row {i}"


def test_float_blocks_read_as_rows_alone() -> None:
    policy = priceguard.Policy.from_toml(BLOCK_POLICY)
    cols = _odd(12_011)
    r = policy.evaluate_batch(**cols, now=NOW)
    # The data reaches every kind of decision, and rows rejected in place.
    assert {0, 1, 2, 3} <= set(np.unique(r.outcome).tolist())
    assert (r.promo_spend > 0).any()
    _assert_rows_alone(policy, cols, r, range(len(cols["proposed_price"])))


def test_a_block_in_every_few_missed_gives_up_the_float_path() -> None:
    """Many blocks with a value the float path cannot read: after enough
    misses the rest of the range is converted; the rows are the same."""
    policy = priceguard.Policy.from_toml(BLOCK_POLICY)
    n = 40_000
    cols = _blocky(n)
    cols["proposed_price"][::200] = np.nan
    cols["unit_cost"][37::300] = 0.125
    r = policy.evaluate_batch(**cols, now=NOW)
    assert (r.invalid_field >= 0).sum() >= n // 200
    _assert_rows_alone(policy, cols, r, range(0, n, 7))
    _assert_rows_alone(policy, cols, r, range(n - 200, n))


@pytest.mark.parametrize("threads", ["1", "2"])
def test_float_blocks_match_the_minor_path(threads: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch large enough for several threads and streaming stores: the
    float columns decide every row as the same values in minor units do."""
    monkeypatch.setenv("PRICEGUARD_NUM_THREADS", threads)
    policy = priceguard.Policy.from_toml(BLOCK_POLICY)
    n = 300_007
    cols = _odd(n)
    f = policy.evaluate_batch(**cols, now=NOW)
    # Rows with a value that is off the unit (rounded half-even from its
    # shortest decimal), cannot be read, or a missing proposal are checked
    # alone; every other row against the minor path.
    odd = np.isnan(cols["proposed_price"])
    for k, v in cols.items():
        if v.dtype == np.float64:
            scale = 1 if k == "expected_units" else 100
            with np.errstate(invalid="ignore", over="ignore"):
                odd |= ~np.isnan(v) & ((np.round(v * scale) / scale != v) | (np.abs(v) > 1e15))
    assert 0 < odd.sum() < n // 10
    clean = {k: np.where(odd, np.nan, v) if v.dtype == np.float64 else v for k, v in cols.items()}
    m = policy.evaluate_batch(**_to_minor(clean), now=NOW, money="minor")
    for a in ARRAYS:
        got, want = getattr(f, a)[~odd], getattr(m, a)[~odd]
        if a in ("price", "lower", "upper", "promo_spend"):
            # Money: float64 major units (NaN: none) against int64 cents
            # with a validity array.
            want = np.where(getattr(m, f"{a}_valid")[~odd], want, -1)
            got = np.where(np.isnan(got), -1, np.round(np.nan_to_num(got) * 100)).astype(np.int64)
        np.testing.assert_array_equal(got, want, err_msg=a)
    for i in np.flatnonzero(odd):
        assert f.decision(int(i)) == _single(policy, cols, int(i)), f"row {i}"
    assert f.summary["items"] == n
