"""Type stubs for the Rust extension `priceguard._native`."""

from decimal import Decimal
from typing import Any, Mapping, Optional

import numpy as np

__version__: str

#: rule code -> rule name
RULES: dict[int, str]
#: reason code -> reason name ("" for 0)
REASONS: dict[int, str]
#: class bit index -> class name
CLASSES: dict[int, str]
#: outcome names by code
OUTCOMES: tuple[str, str, str, str]
#: docs/spec.md §3 field names by field code (`invalid_field` codes)
FIELDS: tuple[str, ...]
#: the default cap on a policy file's size, in bytes (4 MiB)
MAX_POLICY_BYTES: int

class GroupedItem(ValueError):
    """`NativePolicy.evaluate` was given an item with group fields."""

class PolicyError(ValueError):
    """A policy that cannot be used."""

    #: "invalid", "syntax", "not_found", "not_a_file", "too_large",
    #: "encoding" or "io"
    kind: str
    #: dotted field path, e.g. `change.max_decrease` ("" for the whole file)
    path: str
    #: 1-based line in a TOML file, when known
    line: Optional[int]
    #: 1-based column in a TOML file, when known
    column: Optional[int]
    #: the reason, without the path
    reason: str

def rule_names(mask: int) -> tuple[str, ...]: ...
def class_names(mask: int) -> tuple[str, ...]: ...
def reason_name(code: int) -> str: ...
def _unknown_field(what: str, name: str) -> str: ...
def simd() -> str:
    """The SIMD copy in use: "avx512", "avx2" or "portable" (capped by PRICEGUARD_SIMD)."""
    ...

def _dense_codes(codes: Any) -> tuple[Any, list[int]]:
    """`(codes, uniques)`: the distinct non-negative values of a contiguous uint8,
    int8, int32, int64 or uint64 array, ascending, and each row's index among
    them (-1 for a negative value), as int8, int16 or int32."""
    ...

def _take_names(columns: list[tuple[str, Any, list[Optional[str]]]]) -> Any:
    """A pyarrow.Table of large_string columns, one per `(name, indices, table)`:
    row i is `table[indices[i]]` (None: null); `indices` a contiguous uint8, int8,
    int32 or int64 numpy array."""
    ...

def release_buffers() -> int:
    """Empties the pool of recycled batch output buffers; returns the bytes released."""
    ...

class Decision:
    """The decision for one item (docs/spec.md §6).

    Money is `Decimal` with the currency's digits, or `None`; `promo_spend`
    is exact, with finer digits when the item's reference price has them
    (docs/spec.md M1: `Decimal('44.373')`).
    """

    @property
    def outcome(self) -> str: ...
    @property
    def price(self) -> Optional[Decimal]: ...
    @property
    def lower(self) -> Optional[Decimal]: ...
    @property
    def upper(self) -> Optional[Decimal]: ...
    @property
    def promo_spend(self) -> Optional[Decimal]:
        """`(reference - price) x expected_units`, exact; `None` unless promoted."""
        ...
    @property
    def violated(self) -> tuple[str, ...]: ...
    @property
    def binding(self) -> tuple[str, ...]: ...
    @property
    def unmet(self) -> tuple[str, ...]: ...
    @property
    def relaxed(self) -> tuple[str, ...]: ...
    @property
    def reason(self) -> str: ...
    @property
    def needs_approval(self) -> bool: ...
    @property
    def invalid_field(self) -> Optional[str]: ...
    @property
    def lawful_reference(self) -> Optional[Decimal]:
        """For a `prior_price` hold: the highest lawful "was" price."""
        ...
    @property
    def sku(self) -> Any: ...
    def explain(self) -> str:
        """One sentence: what happened and why, naming the proposal as given
        ("proposed 19.4373 snapped to 19.44 by tick (tick 0.01)")."""
        ...
    def to_dict(self) -> dict[str, Any]: ...
    # Added by priceguard/_audit.py.
    @property
    def policy_name(self) -> str: ...
    @property
    def policy_version(self) -> str: ...
    @property
    def policy_hash(self) -> str: ...
    def to_json(self) -> str: ...

class NativePolicy:
    @staticmethod
    def from_toml(text: str) -> NativePolicy: ...
    @staticmethod
    def from_json(text: str) -> NativePolicy: ...
    @staticmethod
    def from_generated_json(text: str) -> NativePolicy: ...
    @staticmethod
    def from_file(path: str, max_bytes: int = ...) -> NativePolicy: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def minor_units(self) -> int: ...
    @property
    def tick(self) -> Decimal: ...
    @property
    def budgets(self) -> dict[str, Decimal]: ...
    @property
    def segment_ids(self) -> tuple[int, ...]: ...
    @property
    def has_breaker(self) -> bool: ...
    def to_json(self) -> str: ...
    def campaign_ids(self, names: list[str]) -> list[int]: ...
    def evaluate(self, item: Mapping[str, Any], ignore_extra: bool = False) -> Decision: ...
    def _evaluate_batch(
        self,
        n: int,
        minor: bool,
        columns: list[tuple[str, Any, Any, bool]],
        groups: Optional[tuple[np.ndarray, ...]] = None,
    ) -> dict[str, Any]:
        """`columns`: `(field, values, absent mask or None, ints are minor units)`;
        values a float64 / int64 array, an object array of money (`Decimal`,
        `str`, ...), or a scalar. `groups`: `(group, rank, rank_state,
        pack_size, pack_state)` int64 / uint8 arrays (the group pass runs).
        Returns the result arrays, `summary`, and `promo_spend_fine`:
        `(rows, units, scales)` of the spends finer than the minor unit."""
        ...
    def _evaluate_items(
        self, items: list[dict[Any, Any]], groups: tuple[np.ndarray, ...], ignore_extra: bool = False
    ) -> list[Decision]: ...
    def _evaluate_arrow(self, data: Any, budgets: Optional[ArrowBudgets] = None, ignore_extra: bool = False) -> Any: ...

# Audit and metrics (python/src/audit.rs; the Python glue is priceguard/_audit.py).
def policy_hash(policy: NativePolicy) -> str: ...
def decision_json(decision: Decision) -> str: ...
def verify_audit(path: str, head: Optional[str] = None) -> tuple[int, str]: ...
def _decision_policy(decision: Decision) -> NativePolicy: ...
def _audit_append_decisions(path: str, decisions: list[Decision], unix_ms: int) -> tuple[int, int, str]: ...
def _audit_append_batch(
    policy: NativePolicy,
    path: str,
    n: int,
    spec: list[Any],
    skus: Optional[list[Optional[str]]],
    out: dict[str, Any],
    unix_ms: int,
) -> tuple[int, int, str]: ...

class Metrics:
    """Lock-free decision counters, rendered in the Prometheus text format."""

    def __init__(self) -> None: ...
    def record(self, decision: Decision) -> None: ...
    def record_batch(self, result: Any) -> None: ...
    def _record_arrays(
        self,
        outcome: Any,
        reason: Any,
        violated: Any,
        binding: Any,
        relaxed: Any,
        needs_approval: Any,
        breaker_tripped: bool,
    ) -> None: ...
    @property
    def total(self) -> int: ...
    @property
    def needs_approval(self) -> int: ...
    def outcomes(self) -> list[tuple[str, int]]: ...
    def render(self) -> str: ...

class ArrowBudgets:
    """Promotion budgets carried across `_evaluate_arrow` calls (one Spark partition)."""

    def __init__(self, policy: NativePolicy) -> None: ...
    def remaining_minor(self) -> list[tuple[str, int]]: ...

def _history_summarize(
    currency: str,
    now: int,
    periods: tuple[Optional[int], Optional[int], Optional[int], Optional[str]],
    sku: list[Optional[str]],
    price: list[Optional[str]],
    at: list[Optional[int]],
    reference: Optional[list[Optional[str]]],
    quotes: Optional[
        tuple[list[Optional[str]], list[Optional[str]], list[Optional[str]], list[Optional[int]]]
    ] = None,
) -> tuple[list[str], tuple[list[Any], ...]]:
    """The summaries (docs/spec.md §11.1) of price rows and quotes at `now`:
    the SKUs, sorted, and the nine columns of `priceguard.history.COLUMNS`
    (money as exact decimal text, times and counts as ints; None: no value)."""
    ...

def _currency_digits(code: str) -> int:
    """The minor-unit digits of ISO 4217 currency `code` (ValueError if unknown)."""
    ...

def _history_audit_rows(
    path: Any, currency: str
) -> tuple[list[Optional[str]], list[Optional[str]], list[Optional[int]], list[Optional[str]]]:
    """The price rows (sku, price text, at, reference text) of an audit log's
    accepted and adjusted decisions (docs/spec.md H10)."""
    ...
