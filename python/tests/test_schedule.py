"""The threads a large batch runs on: core's scheduler (`priceguard::schedule`),
in this process and in a child forked from it."""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from priceguard import Policy

TOML = """
name = "threads"
currency = "USD"
[bounds]
min_price = "0.99"
max_price = "5000"
[margin]
min_margin = "0.15"
"""

# Large enough for two threads (32 768 rows a thread at least).
N = 200_000


def columns() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    cost = rng.integers(100, 10_000, N).astype(np.float64) / 100
    return dict(proposed_price=np.round(cost * rng.uniform(0.8, 2.0, N), 2), unit_cost=cost)


def thread_names() -> list[str]:
    names = []
    for task in Path("/proc/self/task").iterdir():
        try:
            names.append((task / "comm").read_text().strip())
        except OSError:
            pass
    return names


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/task")
def test_a_large_batch_runs_on_cores_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two threads asked for: the batch runs on the pool of core's scheduler
    (threads named `priceguard-N`, kept for the next batch), not on threads
    of the binding's own."""
    monkeypatch.setenv("PRICEGUARD_NUM_THREADS", "2")
    Policy.from_toml(TOML).evaluate_batch(**columns())
    names = thread_names()
    assert "priceguard-0" in names and "priceguard-1" in names, names


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_runs_threaded_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child forked after a threaded batch has none of its parent's worker
    threads: its own threaded batches must still finish, with the parent's
    answer (a pool inherited as is would wait for ever)."""
    monkeypatch.setenv("PRICEGUARD_NUM_THREADS", "2")
    policy = Policy.from_toml(TOML)
    cols = columns()
    want = policy.evaluate_batch(**cols)
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() in a process with threads.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 3
        try:
            got = policy.evaluate_batch(**cols)
            same = np.array_equal(got.price, want.price, equal_nan=True) and np.array_equal(got.outcome, want.outcome)
            code = 0 if same else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + 120
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child's batch did not finish in 120 s")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0
