"""Shared fixtures: the repository's vector files and hypothesis settings."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors"
DATA = Path(__file__).resolve().parent / "data"

# CI runs a fixed, bounded search; `HYPOTHESIS_PROFILE=dev` searches longer.
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
