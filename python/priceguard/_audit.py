"""Audit trail, metrics and policy identity (docs/audit.md).

Adds to the public classes:

- `Policy.content_hash`: 64 hex digits of SHA-256 over the compiled policy
  (equal for the same rules in TOML or JSON, whatever the key order);
- `Decision.policy_name`, `.policy_version`, `.policy_hash`, `.to_json()`;
- `BatchResult.policy_name`, `.policy_version`, `.policy_hash` and
  `.write_audit(path, skus=None)`;

and defines `write_audit(path, decisions)`, `verify_audit(path, head=None)`
and `Metrics` (lock-free counters rendered in the Prometheus text format).
"""

from __future__ import annotations

import os
import time
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np

from priceguard import _native
from priceguard._native import Decision, Metrics, verify_audit
from priceguard._policy import BatchResult, Policy

PathLike = Union[str, "os.PathLike[str]"]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _policy_content_hash(self: Policy) -> str:
    """SHA-256 of the compiled policy, 64 lower-case hex digits: the same
    for the same rules written in TOML or JSON, in any key order or number
    spelling; different after any rule change. Stamp it next to every
    decision you keep."""
    return _native.policy_hash(self._native)


def _decision_policy_name(self: Decision) -> str:
    """The name of the policy that made this decision."""
    return _native._decision_policy(self).name


def _decision_policy_version(self: Decision) -> str:
    """The version of the policy that made this decision ("" when none)."""
    return _native._decision_policy(self).version


def _decision_policy_hash(self: Decision) -> str:
    """The content hash of the policy that made this decision."""
    return _native.policy_hash(_native._decision_policy(self))


def _decision_to_json(self: Decision) -> str:
    """The decision as one JSON object `{"policy": {name, version, hash},
    "item": {...}, "decision": {...}}` (an audit record without the chain)."""
    return _native.decision_json(self)


def _batch_policy(self: BatchResult) -> Policy:
    if self._source is None:
        raise ValueError("this BatchResult was not made by Policy.evaluate_batch")
    return self._source[0]


def _batch_policy_name(self: BatchResult) -> str:
    """The name of the policy that decided the batch."""
    return _batch_policy(self).name


def _batch_policy_version(self: BatchResult) -> str:
    """The version of the policy that decided the batch."""
    return _batch_policy(self).version


def _batch_policy_hash(self: BatchResult) -> str:
    """The content hash of the policy that decided the batch."""
    return _policy_content_hash(_batch_policy(self))


def _minor(self: BatchResult, name: str) -> tuple[np.ndarray, np.ndarray]:
    arr = getattr(self, name)
    if self.money == "minor":
        return np.ascontiguousarray(arr, dtype=np.int64), np.ascontiguousarray(getattr(self, f"{name}_valid"), dtype=bool)
    valid = ~np.isnan(arr)
    scaled = np.rint(np.where(valid, arr, 0.0) * 10.0**self.minor_units)
    return scaled.astype(np.int64), valid


def _batch_write_audit(self: BatchResult, path: PathLike, skus: Optional[Sequence[Any]] = None) -> str:
    """Appends one hash-chained JSON record per item to the audit log at
    `path` (created when missing; an existing log is verified first and a
    tampered one raises `ValueError`). Each record holds the item, its
    decision, the policy's name, version and content hash and the time.
    `skus`, one per item, are recorded with them. Returns the new head hash:
    keep it elsewhere to detect a cut or re-chained log later
    (`verify_audit(path, head=...)`)."""
    policy, n, spec = self._source if self._source is not None else (None, 0, [])
    if policy is None:
        raise ValueError("this BatchResult was not made by Policy.evaluate_batch")
    sku_list: Optional[list[Optional[str]]] = None
    if skus is not None:
        sku_list = [None if s is None else str(s) for s in skus]
        if len(sku_list) != n:
            raise ValueError(f"`skus` has {len(sku_list)} values but the batch has {n} items")
    out: dict[str, Any] = {
        "outcome": np.ascontiguousarray(self.outcome, dtype=np.uint8),
        "reason": np.ascontiguousarray(self.reason, dtype=np.uint8),
        "violated": np.ascontiguousarray(self.violated, dtype=np.uint64),
        "binding": np.ascontiguousarray(self.binding, dtype=np.uint64),
        "unmet": np.ascontiguousarray(self.unmet, dtype=np.uint64),
        "relaxed": np.ascontiguousarray(self.relaxed, dtype=np.uint8),
        "needs_approval": np.ascontiguousarray(self.needs_approval, dtype=bool),
        "invalid_field": np.ascontiguousarray(self.invalid_field, dtype=np.int8),
    }
    for k in ("price", "lower", "upper", "promo_spend"):
        out[k], out[f"{k}_valid"] = _minor(self, k)
    # The exact spends finer than the minor unit (docs/spec.md M1).
    out["promo_spend_fine"] = self._fine_spend
    # The lawful "was" prices of `prior_price` holds, by row (minor units).
    out["lawful_reference_rows"] = self._lawful_rows
    _, _, head = _native._audit_append_batch(policy._native, os.fspath(path), n, spec, sku_list, out, _now_ms())
    return str(head)


def write_audit(path: PathLike, decisions: Iterable[Decision]) -> str:
    """Appends one hash-chained JSON record per `Decision` (from
    `Policy.evaluate`) to the audit log at `path`, as
    `BatchResult.write_audit` does. Returns the new head hash."""
    _, _, head = _native._audit_append_decisions(os.fspath(path), list(decisions), _now_ms())
    return str(head)


def _metrics_record_batch(self: Metrics, result: BatchResult) -> None:
    """Counts every decision of a `BatchResult` and the batch itself (and a
    breaker trip when it tripped)."""
    self._record_arrays(
        np.ascontiguousarray(result.outcome, dtype=np.uint8),
        np.ascontiguousarray(result.reason, dtype=np.uint8),
        np.ascontiguousarray(result.violated, dtype=np.uint64),
        np.ascontiguousarray(result.binding, dtype=np.uint64),
        np.ascontiguousarray(result.relaxed, dtype=np.uint8),
        np.ascontiguousarray(result.needs_approval, dtype=bool),
        bool(result.summary["breaker_tripped"]),
    )


# setattr: the stubs and class bodies declare these for type checkers
# (priceguard/_native.pyi, priceguard/_policy.py); here they get their code.
setattr(Policy, "content_hash", property(_policy_content_hash))
setattr(Decision, "policy_name", property(_decision_policy_name))
setattr(Decision, "policy_version", property(_decision_policy_version))
setattr(Decision, "policy_hash", property(_decision_policy_hash))
setattr(Decision, "to_json", _decision_to_json)
setattr(BatchResult, "policy_name", property(_batch_policy_name))
setattr(BatchResult, "policy_version", property(_batch_policy_version))
setattr(BatchResult, "policy_hash", property(_batch_policy_hash))
setattr(BatchResult, "write_audit", _batch_write_audit)
setattr(Metrics, "record_batch", _metrics_record_batch)

__all__ = ["Metrics", "verify_audit", "write_audit"]
