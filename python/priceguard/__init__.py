"""priceguard: hard, explainable guardrails between a pricing engine and the storefront.

A model proposes a price; priceguard returns the price that may be published,
the outcome (accepted / adjusted / held / rejected) and the rules that decided
it, in exact decimal money. Fail closed, always.

>>> import priceguard
>>> policy = priceguard.Policy.from_toml('''
... name = "demo"
... currency = "USD"
... [bounds]
... min_price = "0.99"
... max_price = "5000"
... [margin]
... min_margin = "0.15"
... ''')
>>> d = policy.evaluate({"sku": "A1", "proposed_price": "12.49", "unit_cost": "12.22"})
>>> d.outcome, d.price, d.reason
('adjusted', Decimal('14.38'), 'margin')
"""

# No `from __future__ import annotations` and only underscore names for
# helper modules here: every public name of the package is in `__all__`
# (tests/test_bad_input.py checks `dir(priceguard)`).
import enum as _enum

# Also adds the audit attributes (content_hash, policy_hash, write_audit, ...).
from priceguard._audit import Metrics, verify_audit, write_audit
from priceguard._native import (
    CLASSES,
    FIELDS,
    OUTCOMES,
    REASONS,
    RULES,
    Decision,
    PolicyError,
    __version__,
    class_names,
    reason_name,
    release_buffers,
    simd,
    rule_names,
)
from priceguard._policy import MAX_POLICY_BYTES, BatchResult, Policy, PolicyFileNotFoundError

# `priceguard.history.summarize` without a second import (numpy only, as the
# rest of the package; spark stays opt-in for its heavy dependency).
from priceguard import history


class Outcome(_enum.IntEnum):
    """Outcome codes of `BatchResult.outcome` (the `outcome` strings of `Decision`)."""

    ACCEPTED = 0
    ADJUSTED = 1
    HELD = 2
    REJECTED = 3


__all__ = [
    "CLASSES",
    "FIELDS",
    "MAX_POLICY_BYTES",
    "OUTCOMES",
    "REASONS",
    "RULES",
    "BatchResult",
    "Decision",
    "Metrics",
    "Outcome",
    "Policy",
    "PolicyError",
    "PolicyFileNotFoundError",
    "__version__",
    "class_names",
    "history",
    "reason_name",
    "release_buffers",
    "simd",
    "rule_names",
    "verify_audit",
    "write_audit",
]
