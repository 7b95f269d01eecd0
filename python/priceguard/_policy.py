"""`Policy`, the batch column handling and `BatchResult`.

The Rust extension does the work; this module turns what a Python caller has
(scalars, numpy arrays, masked arrays, pandas and polars columns) into plain
float64 / int64 columns plus "absent" masks, and wraps the result arrays.
Every check here happens before any item is evaluated.
"""

from __future__ import annotations

import datetime
import decimal
import errno
import json
import os
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Optional, Sequence, Union, overload

import numpy as np

from priceguard import _native
from priceguard._extras import require

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import polars as pl
    import pyarrow as pa

Money = Literal["major", "minor"]
#: What to do with a column (or item key) that is not a docs/spec.md §3
#: field: `"forbid"` (the default) raises `ValueError` naming it and the
#: nearest field, `"ignore"` skips it (for frames that carry other data).
Extra = Literal["forbid", "ignore"]
#: How a DataFrame holds the name columns (`outcome`, `violated`, `binding`,
#: `unmet`, `relaxed`, `reason`, `invalid_field`): `"category"` (the
#: default) as categoricals whose categories are the names present, one
#: small code a row; `"string"` as pandas' `string` dtype (polars `Utf8`),
#: one string a row, which costs several times more to build and hold.
Labels = Literal["category", "string"]

#: The default cap on a policy file's size in bytes (4 MiB).
MAX_POLICY_BYTES: int = _native.MAX_POLICY_BYTES


class PolicyFileNotFoundError(FileNotFoundError, _native.PolicyError):
    """`Policy.from_file` was given a path where there is no file.

    A `FileNotFoundError` (so `errno`, `filename` and `except OSError` work)
    and a `PolicyError` (so `except PolicyError` keeps working).
    """

    kind: str
    path: str
    line: Optional[int]
    column: Optional[int]
    reason: str

#: docs/spec.md §3 fields of an item, in the engine's bit order (`sku` excluded).
ITEM_FIELDS = tuple(f for f in _native.FIELDS if f != "sku")
_MONEY_FIELDS = frozenset(
    {
        "proposed_price",
        "current_price",
        "unit_cost",
        "min_price",
        "max_price",
        "map_price",
        "reference_price",
        "window_anchor_price",
        "baseline_price",
        "competitor_price",
        "pinned_price",
        "prior_low_price",
    }
)
_TIME_FIELDS = frozenset({"now", "last_change_at", "promo_started_at", "last_promo_ended_at"})
_UNKNOWN_CAMPAIGN = 2**32 - 1
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
# A value the extension reads as "cannot be used" for every field kind
# (a non-finite float): the items become rejected / invalid_input.
_BAD = float("inf")


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    raise TypeError(f"`{type(value).__name__}` values cannot appear in a policy")


class Policy:
    """A validated, compiled policy. Immutable; safe to share across threads.

    Build one with `Policy.from_toml`, `from_json`, `from_file` or `from_dict`;
    a policy that cannot be used raises `PolicyError` naming the field.
    """

    __slots__ = ("_native",)

    if TYPE_CHECKING:  # pragma: no cover - set by priceguard/_audit.py

        @property
        def content_hash(self) -> str: ...

    def __init__(self, native: _native.NativePolicy) -> None:
        if not isinstance(native, _native.NativePolicy):
            raise TypeError("use Policy.from_toml, from_json, from_file or from_dict")
        self._native = native

    # -- construction -------------------------------------------------------

    @classmethod
    def from_toml(cls, text: str) -> Policy:
        """Parses, validates and compiles a TOML policy (docs/spec.md §8)."""
        return cls(_native.NativePolicy.from_toml(text))

    @classmethod
    def from_json(cls, text: str) -> Policy:
        """Parses, validates and compiles a JSON policy (same schema as TOML)."""
        return cls(_native.NativePolicy.from_json(text))

    @classmethod
    def from_file(cls, path: Union[str, os.PathLike[str]], *, max_bytes: int = MAX_POLICY_BYTES) -> Policy:
        """Reads a policy file: JSON when the name ends in `.json`, else TOML.

        A missing file raises `PolicyFileNotFoundError`, a `FileNotFoundError`
        (and `PolicyError`) whose `filename` is `path`. Anything that is not
        a regular file (a directory, `/dev/zero`), a file larger than
        `max_bytes` (default `MAX_POLICY_BYTES`, 4 MiB), a file that is not
        UTF-8 or cannot be read raises `PolicyError`; its `kind` says which
        (`"not_a_file"`, `"too_large"`, `"encoding"`, `"io"`; `"syntax"` and
        `"invalid"` for the text).
        """
        shown = os.fspath(path)
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
            raise ValueError(f"max_bytes must be a whole number of bytes, not `{max_bytes!r}`")
        try:
            return cls(_native.NativePolicy.from_file(shown, max_bytes))
        except _native.PolicyError as e:
            if getattr(e, "kind", None) != "not_found":
                raise
            missing = PolicyFileNotFoundError(errno.ENOENT, "no such policy file", shown)
            for k in ("kind", "path", "line", "column", "reason"):
                setattr(missing, k, getattr(e, k, None))
            raise missing from None

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Policy:
        """Compiles a policy given as a dict of the TOML/JSON schema.

        Fractions and money may be `str`, `Decimal`, `int` or `float` (floats
        are read through their shortest repr, so `0.15` is exactly 0.15).
        """
        if not isinstance(spec, Mapping):
            raise TypeError(f"a policy must be a mapping, not `{type(spec).__name__}`")
        text = json.dumps(dict(spec), default=_json_default)
        return cls(_native.NativePolicy.from_generated_json(text))

    # -- identity -----------------------------------------------------------

    @property
    def name(self) -> str:
        """The policy's name."""
        return self._native.name

    @property
    def version(self) -> str:
        """The policy's version (`""` when the file gives none)."""
        return self._native.version

    @property
    def currency(self) -> str:
        """The ISO 4217 currency code."""
        return self._native.currency

    @property
    def minor_units(self) -> int:
        """Digits after the decimal point (USD 2, JPY 0, KWD 3)."""
        return self._native.minor_units

    @property
    def tick(self) -> decimal.Decimal:
        """The price tick (one minor unit unless the policy sets `tick`)."""
        return self._native.tick

    @property
    def budgets(self) -> dict[str, decimal.Decimal]:
        """`promotion.budgets`: campaign name to configured budget."""
        return self._native.budgets

    @property
    def segment_ids(self) -> tuple[int, ...]:
        """The segment ids of `[[segments]]`, ascending."""
        return self._native.segment_ids

    @property
    def has_breaker(self) -> bool:
        """Whether the policy configures a batch circuit breaker."""
        return self._native.has_breaker

    def to_dict(self) -> dict[str, Any]:
        """The policy model as a dict (money and fractions as strings)."""
        out: dict[str, Any] = json.loads(self._native.to_json())
        return out

    def __repr__(self) -> str:
        return repr(self._native)

    # -- evaluation ---------------------------------------------------------

    def evaluate(self, item: Mapping[str, Any], *, extra: Extra = "forbid") -> _native.Decision:
        """Evaluates one item: a mapping of docs/spec.md §3 field names.

        Money may be `Decimal`, `str`, `int` (major units: 12 is 12.00) or
        `float` (read as its shortest repr, so 19.4373 is 19.4373), of any
        precision (docs/spec.md M1, M2): a proposed or pinned price is
        snapped to the tick, ties to even (19.4373 becomes 19.44); other
        amounts are used exactly to six digits beyond the minor unit, finer
        digits rounded half to even. `promo_spend` is exact. `None`, a
        float NaN and `pandas.NA` are absent (as in a batch column). A
        value that cannot be used (infinity, a numpy float32, a negative
        count, ...) gives a `rejected` decision with reason
        `invalid_input` naming the field; `explain()` says why. An unknown
        key raises `ValueError` naming the nearest field, unless
        `extra="ignore"`.
        """
        try:
            if extra == "forbid":  # the hot path: no helper call
                return self._native.evaluate(item, False)
            return self._native.evaluate(item, _ignore_extra(extra))
        except _native.GroupedItem:
            # `group`, `rank` or `pack_size`: a group of one, checked as
            # every group is (a missing rank is `invalid_input`).
            return self.evaluate_items([item], extra=extra)[0]

    def evaluate_items(self, items: Sequence[Mapping[str, Any]], *, extra: Extra = "forbid") -> list[_native.Decision]:
        """Evaluates a list of items (mappings, as `evaluate` reads them) as
        one batch (docs/spec.md §7): budgets are consumed in list order,
        and rows with `group`, `rank` and `pack_size` are fitted onto the
        policy's `[ladder]` after every row is decided alone (docs/spec.md
        §10; see `evaluate_batch` for the group fields). Returns one
        `Decision` per item, in order; `explain()` of a row the ladder moved
        names the neighbour that set its price (`raised 14.99 to 15.75 to
        stay 5 % above SKU-1 (rank 1, 15.00)`). The list is the batch: a
        group is solved from the rows of this call only.
        """
        ignore = _ignore_extra(extra)
        plain: list[dict[Any, Any]] = []
        placed: dict[str, list[Any]] = {k: [] for k in _GROUP_FIELDS}
        for it in items:
            if not isinstance(it, Mapping):
                raise TypeError(f"an item must be a mapping of docs/spec.md §3 field names, not `{type(it).__name__}`")
            row = dict(it)
            for k in _GROUP_FIELDS:
                placed[k].append(row.pop(k, None))
            plain.append(row)
        n = len(plain)
        cols = {
            k: _Column(k, np.array([*vals, None], dtype=object)[:-1], None, True)
            for k, vals in placed.items()
            if any(v is not None for v in vals)
        }
        decisions: list[_native.Decision] = self._native._evaluate_items(plain, _group_columns(cols, n), ignore)
        return decisions

    def evaluate_batch(
        self,
        *,
        proposed_price: Any,
        current_price: Any = None,
        unit_cost: Any = None,
        min_price: Any = None,
        max_price: Any = None,
        map_price: Any = None,
        reference_price: Any = None,
        expected_units: Any = None,
        campaign: Any = None,
        now: Any = None,
        last_change_at: Any = None,
        changes_in_window: Any = None,
        window_anchor_price: Any = None,
        baseline_price: Any = None,
        competitor_price: Any = None,
        segment: Any = None,
        pinned_price: Any = None,
        prior_low_price: Any = None,
        promo_started_at: Any = None,
        last_promo_ended_at: Any = None,
        reversals_in_window: Any = None,
        competitor_quotes: Any = None,
        group: Any = None,
        rank: Any = None,
        pack_size: Any = None,
        money: Money = "major",
    ) -> BatchResult:
        """Evaluates a batch given as columns, in input order (docs/spec.md §7).

        Each field is a 1-d array (numpy, numpy masked, pandas or polars) or a
        scalar (a number, `Decimal`, `str`, 0-d array) that applies to every
        item. Arrays are paired by position, so all arrays must have the same
        length: a length-1 array is not broadcast. pandas Series are not
        aligned by label: two Series whose indexes differ raise `ValueError`
        naming both (align them first, or use `evaluate_frame`).

        With `money="major"` money arrays are float64 in major units (NaN is
        absent; each float read exactly through its shortest repr, as
        `evaluate` reads it), integers in major units, or `Decimal` / `str`
        values (object, string or Arrow-decimal columns; read exactly);
        with `money="minor"` integer arrays are minor units (`Decimal` /
        `str` values stay major units). Digits finer than the currency are
        kept (docs/spec.md M1): rows with such values are decided exactly,
        the others on the fast paths. float32 (and other non-float64
        floats) are refused: a float32 cannot hold every price to the cent. `campaign` is str values, `segment` whole
        numbers, `now` / `last_change_at` unix seconds (or datetime64).
        The history fields (docs/spec.md §11.1, from
        `priceguard.history.summarize`) are `prior_low_price` money,
        `promo_started_at` / `last_promo_ended_at` unix seconds (or
        datetime64) and `reversals_in_window` / `competitor_quotes` counts.
        Masked / NA entries are absent. Budgets are consumed in input order
        and the circuit breaker judges the whole batch. Items that cannot be
        read become `rejected` / `invalid_input`; mismatched lengths,
        misaligned Series or an unusable dtype raise `ValueError` before any
        work.

        `group`, `rank` and `pack_size` place rows in price ladders
        (docs/spec.md §10; python/README.md, "Groups"): `group` is str
        (or int) ids, rows with equal ids being one group (None, NA or
        `""`: the row is not grouped); `rank` whole numbers, distinct
        within a group (missing or repeated: the whole group is
        `invalid_input` naming `rank`); `pack_size` whole units, 1 to
        1,000,000. Every row is decided alone first, then each group is
        fitted onto the policy's `[ladder]`. The call is the batch: a
        group is solved from the rows of this call only, so give each
        group's rows in one call. `summary` then counts `groups`,
        `groups_adjusted`, `groups_held` and `groups_invalid`.
        """
        given = {
            "proposed_price": proposed_price,
            "current_price": current_price,
            "unit_cost": unit_cost,
            "min_price": min_price,
            "max_price": max_price,
            "map_price": map_price,
            "reference_price": reference_price,
            "expected_units": expected_units,
            "campaign": campaign,
            "now": now,
            "last_change_at": last_change_at,
            "changes_in_window": changes_in_window,
            "window_anchor_price": window_anchor_price,
            "baseline_price": baseline_price,
            "competitor_price": competitor_price,
            "segment": segment,
            "pinned_price": pinned_price,
            "prior_low_price": prior_low_price,
            "promo_started_at": promo_started_at,
            "last_promo_ended_at": last_promo_ended_at,
            "reversals_in_window": reversals_in_window,
            "competitor_quotes": competitor_quotes,
            "group": group,
            "rank": rank,
            "pack_size": pack_size,
        }
        return self._batch(given, money)

    def _batch(self, given: Mapping[str, Any], money: str) -> BatchResult:
        if money not in ("major", "minor"):
            raise ValueError(f'money must be "major" or "minor", not `{money}`')
        minor = money == "minor"
        if given.get("proposed_price") is None:
            raise ValueError("`proposed_price` is required")
        _check_aligned(given)
        read = {k: _Column.read(k, v) for k, v in given.items() if v is not None}
        cols = {k: c for k, c in read.items() if c is not None}
        if "proposed_price" not in cols:
            raise ValueError("`proposed_price` is required")
        # Arrays are paired by position: every one must have the batch's
        # length. Only scalars apply to every item; a length-1 array next to
        # longer ones is a mistake more often than a constant.
        lengths = {k: len(c.values) for k, c in cols.items() if c.is_array}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"`{k}` {n}" for k, n in lengths.items())
            raise ValueError(
                f"columns have different lengths: {shown} (arrays are paired by position; "
                "only a scalar applies to every item)"
            )
        n = next(iter(lengths.values()), 1)
        # Group fields live beside the items (docs/spec.md §10): read here,
        # not as item columns.
        placed = {k: cols.pop(k) for k in _GROUP_FIELDS if k in cols}
        grouped = any(given.get(k) is not None for k in _GROUP_FIELDS)
        groups = _group_columns(placed, n) if grouped else None
        prepared = (c.prepare(self._native, minor, n) for c in cols.values())
        spec = [p for p in prepared if p is not None]
        raw = self._native._evaluate_batch(n, minor, spec, groups)
        result = BatchResult(raw, money, self.currency, self.minor_units)
        result._source = (self, n, spec)  # for policy_hash and write_audit (priceguard/_audit.py)
        return result

    @overload
    def evaluate_frame(
        self,
        frame: pd.DataFrame,
        *,
        money: Money = "major",
        now: Any = None,
        extra: Extra = "forbid",
        labels: Labels = "category",
    ) -> pd.DataFrame: ...

    @overload
    def evaluate_frame(
        self,
        frame: pl.DataFrame,
        *,
        money: Money = "major",
        now: Any = None,
        extra: Extra = "forbid",
        labels: Labels = "category",
    ) -> pl.DataFrame: ...

    def evaluate_frame(
        self,
        frame: Any,
        *,
        money: Money = "major",
        now: Any = None,
        extra: Extra = "forbid",
        labels: Labels = "category",
    ) -> Any:
        """Evaluates a pandas (or polars) DataFrame with docs/spec.md §3 column names.

        Money columns are read as `evaluate_batch` reads them: float64
        (each float exactly, through its shortest repr), integers, or
        `Decimal` / `str` values (object, `string`, Arrow-decimal, polars
        `Decimal` / `String` columns), digits finer than the currency kept
        (docs/spec.md M1). `sku` is copied to the result. A column that is
        not an item field raises `ValueError` naming it and the nearest
        field (`max_prce`: did you mean `max_price`?), unless
        `extra="ignore"`, which skips such columns. `now` supplies the time for every row when the frame has no
        `now` column. Returns a DataFrame of the same kind with one decision
        per row (same index for pandas): `sku`, `outcome`, `price`, `lower`,
        `upper`, `violated`, `binding`, `unmet`, `relaxed` (`;`-joined
        names), `reason`, `promo_spend`, `needs_approval`, `invalid_field`,
        `lawful_reference` (money: a `prior_price` hold's lawful "was"
        price), in nullable dtypes. The name columns are categoricals (pandas
        `category`, polars `Enum`) of the names present, or with
        `labels="string"` pandas `string` / polars `Utf8` columns; either
        way the same values (`df.outcome == "accepted"`).
        """
        ignore = _ignore_extra(extra)
        _check_labels(labels)
        module = type(frame).__module__.split(".")[0]
        if module == "polars":
            names = list(frame.columns)
            _check_columns(names, ignore)
            given = {k: frame.get_column(k) for k in names if k in ITEM_FIELDS}
            if now is not None and "now" not in given:
                given["now"] = now
            if "proposed_price" not in given:
                raise ValueError("the frame has no `proposed_price` column")
            result = self._batch(given, money)
            # The result is this call's own: the inputs it keeps (filled
            # copies, masks) for write_audit can go before the frame is built.
            result._source = None
            del given
            sku = frame.get_column("sku") if "sku" in names else None
            return result._to_polars(sku, labels)
        if not (hasattr(frame, "columns") and hasattr(frame, "index")):
            raise TypeError(f"expected a pandas or polars DataFrame, not `{type(frame).__name__}`")
        _check_columns(list(frame.columns), ignore)
        given = {str(k): frame[k] for k in frame.columns if str(k) in ITEM_FIELDS}
        if now is not None and "now" not in given:
            given["now"] = now
        if "proposed_price" not in given:
            raise ValueError("the frame has no `proposed_price` column")
        result = self._batch(given, money)
        result._source = None  # as above: no audit of this call's own result
        del given
        out = result._pandas(frame.index, consume=True, labels=labels)
        if "sku" in frame.columns:
            out.insert(0, "sku", frame["sku"].to_numpy())
        return out

    def evaluate_arrow(self, data: Any, *, extra: Extra = "forbid") -> pa.Table:
        """Evaluates Arrow data: a pyarrow Table or RecordBatch, a polars or
        pandas DataFrame, a DuckDB result, ... (anything with the Arrow
        PyCapsule interface, `__arrow_c_stream__` or `__arrow_c_array__`).

        Columns with docs/spec.md §3 names are read in place (`sku` is
        copied to the result). Any other column raises `ValueError` naming
        it and the nearest field, unless `extra="ignore"`, which skips it.
        Money columns may be:

        - `decimal128(p, s)` or `decimal256(p, s)`, any scale: exact, digits
          finer than the currency too (docs/spec.md M1; `decimal128(18, 6)`
          19.437300 is 19.4373, a proposal snapped to the tick);
        - an integer type: minor units (`1249` is 12.49 USD);
        - `float64`: major units, each float read exactly through its
          shortest repr (M2); NaN is absent, as in `evaluate` and
          `evaluate_batch`.

        Nulls are absent values. Counts and ids may be integers, whole
        `float64` or `decimal128` values; `now` / `last_change_at` also
        timestamps (whole seconds, rounded down); `campaign` strings or a
        dictionary of strings. A column of another type raises `ValueError`
        before any work. All rows are one batch (docs/spec.md §7): budgets are
        consumed in input order and the circuit breaker judges every row.

        Returns a `pyarrow.Table` with one row per input row, in order:
        `sku` (when given), `outcome`, `price`, `lower`, `upper`,
        `violated`, `binding`, `unmet`, `relaxed` (`list<string>`),
        `reason` (`""` for none), `promo_spend`, `needs_approval`,
        `invalid_field`, `lawful_reference` (money, as `price`), and the
        bitmasks `violated_mask`, `binding_mask`,
        `unmet_mask` (int64, the `evaluate_batch` masks) and `relaxed_mask`
        (int8). Money is `decimal128(38, s)` at the currency's scale, except
        `promo_spend`: `decimal128(38, s + 6)`, which holds the exact spend
        (finer than the currency when a reference price is) whatever the
        data.
        """
        ignore = _ignore_extra(extra)
        if not (hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__")):
            raise TypeError(
                "evaluate_arrow needs Arrow data (an object with `__arrow_c_stream__` or "
                f"`__arrow_c_array__`), not `{type(data).__name__}`"
            )
        require("pyarrow", "evaluate_arrow")  # the result is a pyarrow.Table
        return self._native._evaluate_arrow(data, None, ignore)


class _Column:
    """One input column: a 1-d numpy array with an optional absent mask, or a scalar."""

    __slots__ = ("field", "values", "mask", "is_array", "scalar")

    def __init__(self, field: str, values: Any, mask: Optional[np.ndarray], is_array: bool) -> None:
        self.field = field
        self.values = values
        self.mask = mask
        self.is_array = is_array

    @classmethod
    def read(cls, field: str, value: Any) -> Optional[_Column]:
        """Normalises what the caller gave; `None` when the whole column is absent."""
        if value is None or value is np.ma.masked or _is_na_scalar(value):
            return None
        module = type(value).__module__.split(".")[0]
        mask: Optional[np.ndarray] = None
        if module == "polars":
            dtype = value.dtype
            if dtype.is_numeric() and value.null_count() == 0:
                # Read in place: no filled copy, no mask.
                value = value.to_numpy()
            elif str(dtype) == "Float64":
                # Nulls as NaN (absent), no mask: one copy, and the float
                # block path (a mask would leave it).
                value = value.fill_null(float("nan")).to_numpy()
            elif dtype.is_numeric():
                mask = np.asarray(value.is_null().to_numpy(), dtype=bool)
                value = value.fill_null(0).to_numpy()
            elif dtype.is_temporal():
                mask = np.asarray(value.is_null().to_numpy(), dtype=bool)
                # Unix seconds whatever the time unit (a cast to int gives
                # the unit's ticks: microseconds for a pandas conversion).
                value = value.dt.epoch("s").fill_null(0).to_numpy()
            else:
                mask = np.asarray(value.is_null().to_numpy(), dtype=bool)
                value = value.to_numpy()
        elif module == "pandas" or (hasattr(value, "isna") and hasattr(value, "to_numpy")):
            mask = np.asarray(value.isna(), dtype=bool)
            dtype = getattr(value, "dtype", None)
            kind = getattr(dtype, "kind", "O")
            if kind in "iu":
                value = value.to_numpy(dtype=np.int64, na_value=0)
            elif kind == "f":
                _refuse_narrow_float(field, dtype)
                value = value.to_numpy(dtype=np.float64, na_value=np.nan)
                # Missing values are NaN now, and NaN is absent: no mask
                # (a masked float column leaves the float block path).
                mask = None
            elif kind == "M":
                value = value.to_numpy(dtype="datetime64[s]")
            elif kind == "b":
                raise ValueError(f"`{field}` has dtype `{dtype}`; expected numbers")
            else:
                value = value.to_numpy(dtype=object)
            if mask is not None and not mask.any():
                mask = None
        elif isinstance(value, np.ma.MaskedArray):
            mask = np.ma.getmaskarray(value)
            value = value.data
            if not mask.any():
                mask = None
        if isinstance(value, (np.ndarray, list, tuple)) or hasattr(value, "__array__"):
            arr = np.asarray(value)
            if arr.ndim == 0:
                return cls(field, arr[()], None, False)
            if arr.ndim != 1:
                raise ValueError(f"`{field}` must be 1-d, not {arr.ndim}-d")
            if mask is not None and mask.shape != arr.shape:
                raise ValueError(f"`{field}` mask has {mask.size} values but the column has {arr.size}")
            return cls(field, arr, mask, True)
        return cls(field, value, None, False)

    def prepare(self, native: _native.NativePolicy, minor: bool, n: int) -> Optional[tuple[str, Any, Any, bool]]:
        """`(field, values, mask, minor)` for the extension: float64 / int64 arrays or
        scalars; `minor` says whether integers are minor units. `None`: absent."""
        field = self.field
        if not self.is_array:
            return self._scalar(native, minor)
        arr: np.ndarray = self.values
        mask = self.mask
        kind = arr.dtype.kind
        is_money = field in _MONEY_FIELDS
        if field == "campaign":
            if kind not in "OUST":
                raise ValueError(f"`campaign` must be str values, not dtype `{arr.dtype}`")
            ids, absent = _campaign_ids(native, arr)
            mask = absent if mask is None else (mask | absent)
            return (field, ids, _mask_or_none(mask), False)
        if kind == "f":
            _refuse_narrow_float(field, arr.dtype)
            if is_money and minor:
                raise ValueError(
                    f'`{field}` has dtype `{arr.dtype}` but money="minor" needs integer minor units'
                )
            values = np.ascontiguousarray(arr, dtype=np.float64)
            if mask is not None and mask.any():
                # NaN is absent: the masked rows as NaN, and no mask. A
                # masked float column leaves the float block path for the
                # row path (a pandas frame with NaN in `reference_price`
                # took 590 ns/item instead of 60).
                values = np.where(mask, np.nan, values)
            return (field, values, None, False)
        if kind in "iu":
            if kind == "u" and arr.dtype.itemsize == 8 and arr.size and int(arr.max()) > _I64_MAX:
                raise ValueError(f"`{field}` has values beyond the int64 range")
            values = np.ascontiguousarray(arr, dtype=np.int64)
            return (field, values, _mask_or_none(mask), is_money and minor)
        if kind == "M" and field in _TIME_FIELDS:
            secs = arr.astype("datetime64[s]")
            nat = np.isnat(secs)
            values = np.ascontiguousarray(secs.astype(np.int64))
            mask = nat if mask is None else (mask | nat)
            return (field, values, _mask_or_none(mask), False)
        if is_money and kind in "OU":
            # Decimal or str values (an object, string or Arrow decimal
            # column): read exactly in the extension, each value as
            # `evaluate` reads it (docs/spec.md M1).
            values = np.ascontiguousarray(arr, dtype=object)
            return (field, values, _mask_or_none(mask), False)
        what = "money" if is_money else "whole numbers"
        raise ValueError(f"`{field}` has dtype `{arr.dtype}`; expected {what}")

    def _scalar(self, native: _native.NativePolicy, minor: bool) -> Optional[tuple[str, Any, Any, bool]]:
        field, v = self.field, self.values
        if isinstance(v, np.datetime64) and field in _TIME_FIELDS:
            if np.isnat(v):
                return None
            return (field, int(v.astype("datetime64[s]").astype(np.int64)), None, False)
        if isinstance(v, datetime.datetime) and field in _TIME_FIELDS:
            if v.tzinfo is None:
                raise ValueError(f"`{field}` is a naive datetime; give it a timezone or pass unix seconds")
            return (field, int(v.timestamp()), None, False)
        if isinstance(v, np.floating):
            _refuse_narrow_float(field, v.dtype)
        if isinstance(v, np.generic):
            v = v.item()
        if field == "campaign":
            if isinstance(v, str):
                return (field, native.campaign_ids([v])[0], None, False)
            return (field, -1, None, False)  # not a name: every item is invalid_input
        if isinstance(v, bool):
            raise ValueError(f"`{field}` is a bool; expected a number")
        if isinstance(v, int):
            if not _I64_MIN <= v <= _I64_MAX:
                return (field, _BAD, None, False)
            return (field, v, None, field in _MONEY_FIELDS and minor)
        if isinstance(v, float):
            if field in _MONEY_FIELDS and minor:
                raise ValueError(f'`{field}` is a float but money="minor" needs integer minor units')
            return (field, v, None, False)
        if isinstance(v, (str, decimal.Decimal)):
            if field in _MONEY_FIELDS:
                # Exact, digits finer than the currency too: read in the
                # extension the way single items are (docs/spec.md M1).
                return (field, v, None, False)
            # Counts: whole numbers only.
            try:
                d = decimal.Decimal(v.strip() if isinstance(v, str) else v)
            except decimal.InvalidOperation:
                return (field, _BAD, None, False)
            if not d.is_finite():
                return (field, _BAD, None, False)
            if d != d.to_integral_value() or abs(d) >= 2**62:
                return (field, _BAD, None, False)
            return (field, int(d), None, False)
        raise ValueError(f"`{field}` cannot be a `{type(v).__name__}`")


#: Fields that place a row in a group (docs/spec.md §10), beside the item.
_GROUP_FIELDS = ("group", "rank", "pack_size")
# The states of a row's `rank` / `pack_size` for the extension.
_GIVEN, _ABSENT, _UNREADABLE = 0, 1, 2
# A `group` id for "not grouped" and for "cannot be read".
_NO_GROUP, _BAD_GROUP = -1, -2


def _group_columns(placed: Mapping[str, _Column], n: int) -> tuple[np.ndarray, ...]:
    """`(group, rank, rank_state, pack_size, pack_state)` for the extension:
    dense int64 group ids (`_NO_GROUP`, `_BAD_GROUP`), and each whole-number
    field as int64 values with a uint8 state per row."""
    group = placed.get("group")
    codes = np.full(n, _NO_GROUP, dtype=np.int64) if group is None else _group_ids(group, n)
    rank, rank_state = _whole_numbers(placed.get("rank"), n)
    pack, pack_state = _whole_numbers(placed.get("pack_size"), n)
    return (codes, rank, rank_state, pack, pack_state)


def _group_key(v: Any) -> Optional[Union[str, int]]:
    """A group id as its text (an int as its decimal digits, so `7` and
    `"7"` are one group, as in a CSV file); `None`: not grouped; `_BAD_GROUP`
    (an int below zero) when the value cannot be an id."""
    if v is None or _is_na_scalar(v) or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, str):
        return v if v != "" else None
    if isinstance(v, (bool, np.bool_)):
        return _BAD_GROUP
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return _BAD_GROUP


def _group_ids(col: _Column, n: int) -> np.ndarray:
    """Dense int64 ids, one per row: each distinct id read once."""
    if not col.is_array:
        key = _group_key(col.values)
        code = _NO_GROUP if key is None else (key if isinstance(key, int) else 0)
        return np.full(n, code, dtype=np.int64)
    arr: np.ndarray = col.values
    if arr.dtype.kind == "f":
        _refuse_narrow_float("group", arr.dtype)
    if arr.dtype.kind not in "iufOUS":
        raise ValueError(f"`group` has dtype `{arr.dtype}`; expected str or integer ids")
    try:
        import pandas as pd

        # Integers factorize as they are; text (and mixed values) as objects.
        keys = arr if arr.dtype.kind in "iu" else arr.astype(object, copy=False)
        raw, found = pd.factorize(keys, use_na_sentinel=True)
        uniques: list[Any] = list(found)
    except ImportError:  # pragma: no cover - pandas is optional
        index: dict[Any, int] = {}
        raw = np.empty(len(arr), dtype=np.int64)
        for i, v in enumerate(arr.tolist()):
            raw[i] = -1 if v is None else index.setdefault(v, len(index))
        uniques = list(index)
    raw = np.asarray(raw, dtype=np.int64)
    if arr.dtype.kind in "iu" or all(type(u) is str for u in uniques):
        # Distinct ints, or distinct str values, are distinct ids already:
        # the factorized codes are the dense ids (`""` is no group).
        codes = raw
        if arr.dtype.kind not in "iu" and "" in uniques:
            codes = np.where(raw == uniques.index(""), _NO_GROUP, raw)
        if col.mask is not None:
            codes = np.where(col.mask, _NO_GROUP, codes)
        return np.ascontiguousarray(codes, dtype=np.int64)
    dense: dict[str, int] = {}
    table = np.empty(len(uniques) + 1, dtype=np.int64)
    for j, u in enumerate(uniques):
        key = _group_key(u)
        if key is None:
            table[j] = _NO_GROUP
        elif isinstance(key, int):
            table[j] = key
        else:
            table[j] = dense.setdefault(key, len(dense))
    table[-1] = _NO_GROUP
    raw = np.asarray(raw, dtype=np.int64)
    codes = table[np.where(raw < 0, len(uniques), raw)]
    if col.mask is not None:
        codes = np.where(col.mask, _NO_GROUP, codes)
    return np.ascontiguousarray(codes, dtype=np.int64)


def _whole_number(v: Any) -> tuple[int, int]:
    """One `rank` / `pack_size` value as `(value, state)`."""
    if v is None or _is_na_scalar(v) or (isinstance(v, float) and v != v):
        return (0, _ABSENT)
    if isinstance(v, (bool, np.bool_)):
        return (0, _UNREADABLE)
    if isinstance(v, (int, np.integer)):
        i = int(v)
        return (i, _GIVEN) if _I64_MIN <= i <= _I64_MAX else (0, _UNREADABLE)
    if isinstance(v, str):
        v = v.strip()
        if v == "":
            return (0, _ABSENT)
    if isinstance(v, (str, decimal.Decimal, float, np.floating)):
        try:
            d = decimal.Decimal(v) if not isinstance(v, (float, np.floating)) else decimal.Decimal(repr(float(v)))
        except (decimal.InvalidOperation, ValueError):
            return (0, _UNREADABLE)
        if not d.is_finite() or d != d.to_integral_value() or abs(d) >= 2**62:
            return (0, _UNREADABLE)
        return (int(d), _GIVEN)
    return (0, _UNREADABLE)


def _whole_numbers(col: Optional[_Column], n: int) -> tuple[np.ndarray, np.ndarray]:
    """A whole-number group field as int64 values and uint8 states."""
    if col is None:
        return np.zeros(n, dtype=np.int64), np.full(n, _ABSENT, dtype=np.uint8)
    if not col.is_array:
        v, st = _whole_number(col.values)
        return np.full(n, v, dtype=np.int64), np.full(n, st, dtype=np.uint8)
    arr: np.ndarray = col.values
    kind = arr.dtype.kind
    if kind == "b":
        raise ValueError(f"`{col.field}` has dtype `{arr.dtype}`; expected whole numbers")
    if kind in "iu":
        if kind == "u" and arr.dtype.itemsize == 8 and arr.size and int(arr.max()) > _I64_MAX:
            raise ValueError(f"`{col.field}` has values beyond the int64 range")
        values = np.ascontiguousarray(arr, dtype=np.int64)
        states = np.zeros(n, dtype=np.uint8)
    elif kind == "f":
        _refuse_narrow_float(col.field, arr.dtype)
        f = np.asarray(arr, dtype=np.float64)
        absent = np.isnan(f)
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(f) & (np.floor(f) == f) & (np.abs(f) < 2.0**62)
        values = np.where(whole, f, 0).astype(np.int64)
        states = np.where(absent, _ABSENT, np.where(whole, _GIVEN, _UNREADABLE)).astype(np.uint8)
    else:
        pairs = [_whole_number(v) for v in arr.tolist()]
        values = np.array([p[0] for p in pairs], dtype=np.int64).reshape(-1)
        states = np.array([p[1] for p in pairs], dtype=np.uint8).reshape(-1)
    if col.mask is not None:
        states = np.where(col.mask, _ABSENT, states).astype(np.uint8)
    return np.ascontiguousarray(values), np.ascontiguousarray(states)


def _ignore_extra(extra: str) -> bool:
    if extra not in ("forbid", "ignore"):
        raise ValueError(f'extra must be "forbid" or "ignore", not `{extra!r}`')
    return extra == "ignore"


def _check_labels(labels: str) -> None:
    if labels not in ("category", "string"):
        raise ValueError(f'labels must be "category" or "string", not `{labels!r}`')


def _check_columns(names: list[Any], ignore: bool) -> None:
    """Refuses a column that is neither an item field nor `sku` (a typo such
    as `max_prce` must not silently drop a bound), naming the nearest field."""
    if ignore:
        return
    for k in names:
        if not isinstance(k, str) or (k not in ITEM_FIELDS and k != "sku"):
            message = _native._unknown_field("column", str(k))
            raise ValueError(f'{message} (pass extra="ignore" to skip columns that are not item fields)')


def _check_aligned(given: Mapping[str, Any]) -> None:
    """Refuses pandas Series whose indexes differ: the batch pairs values by
    position, and pairing `A`'s price with `B`'s cost would publish a price
    under the wrong floor."""
    first: Optional[tuple[str, Any]] = None
    for k, v in given.items():
        index = getattr(v, "index", None)
        if v is None or type(v).__module__.split(".")[0] != "pandas" or index is None or not hasattr(index, "equals"):
            continue
        if first is None:
            first = (k, index)
        elif not first[1].equals(index):
            raise ValueError(
                f"`{first[0]}` and `{k}` are pandas Series with different indexes; evaluate_batch pairs "
                f"values by position, not by label: align them first (e.g. `{k}.reindex({first[0]}.index)`) "
                "or pass one DataFrame to evaluate_frame"
            )


def _refuse_narrow_float(field: str, dtype: Any) -> None:
    """float32 (or float16, longdouble) is refused in every door: a float32
    cannot hold every price to the cent (above 2**24 minor units, 167,772.16
    USD, it skips cents), and widening it would invent digits."""
    if getattr(dtype, "itemsize", 8) != 8:
        raise ValueError(
            f"`{field}` has dtype `{dtype}`; only float64 floats are read (a float32 cannot hold every "
            "price to the cent): give float64, integer or Decimal values"
        )


def _is_na_scalar(value: Any) -> bool:
    # pandas.NA and NaT without importing pandas.
    return type(value).__name__ in ("NAType", "NaTType")


def _mask_or_none(mask: Optional[np.ndarray]) -> Optional[np.ndarray]:
    if mask is None or not mask.any():
        return None
    return np.ascontiguousarray(mask, dtype=bool)


def _campaign_ids(native: _native.NativePolicy, arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Raw campaign ids (-1 where the value is not a str) and the absent mask.

    Each distinct value is resolved once.
    """
    try:
        import pandas as pd

        codes, found = pd.factorize(arr.astype(object, copy=False), use_na_sentinel=True)
        uniques: list[Any] = list(found)
    except ImportError:  # pragma: no cover - pandas is optional
        index: dict[Any, int] = {}
        codes = np.empty(len(arr), dtype=np.int64)
        for i, v in enumerate(arr.tolist()):
            if v is None or (isinstance(v, float) and v != v):
                codes[i] = -1
            else:
                codes[i] = index.setdefault(v, len(index))
        uniques = list(index)
    names = [u for u in uniques if isinstance(u, str)]
    resolved = dict(zip(names, native.campaign_ids(names)))
    table = np.array([resolved.get(u, -1) if isinstance(u, str) else -1 for u in uniques] + [0], dtype=np.int64)
    codes = np.asarray(codes, dtype=np.int64)
    absent = codes < 0
    ids = table[np.where(absent, len(uniques), codes)]
    return np.ascontiguousarray(ids), absent


class BatchResult:
    """Decisions of a batch as numpy arrays, one entry per item in input order.

    Money arrays (`price`, `lower`, `upper`, `promo_spend`) are float64 in
    major units with NaN for none when the batch was given `money="major"`,
    else int64 minor units with boolean `*_valid` arrays. A `promo_spend`
    finer than the minor unit (docs/spec.md M1) is the nearest float64, or
    in int64 minor units rounded up (what the budget is charged);
    `decision(i)` gives it exactly. `outcome` is uint8
    (`priceguard.Outcome`), `reason` uint8 codes (`priceguard.reason_name`),
    `violated` / `binding` / `unmet` uint64 rule bitmasks
    (`priceguard.rule_names`), `relaxed` a uint8 class bitmask
    (`priceguard.class_names`), `needs_approval` bool, `invalid_field` int8
    field codes (`priceguard.FIELDS`, -1 for none). `lawful_reference` is
    the lawful "was" price of a `prior_price` hold or rejection (the
    30-day low rounded down to the minor unit, docs/spec.md §11.2; none on
    every other row), in the batch's money form like `price`. `summary`
    counts outcomes and says whether the circuit breaker tripped.
    """

    __slots__ = (
        "price",
        "lower",
        "upper",
        "promo_spend",
        "lawful_reference",
        "price_valid",
        "lower_valid",
        "upper_valid",
        "promo_spend_valid",
        "lawful_reference_valid",
        "outcome",
        "reason",
        "violated",
        "binding",
        "unmet",
        "relaxed",
        "needs_approval",
        "invalid_field",
        "summary",
        "money",
        "currency",
        "minor_units",
        "_source",
        "_fine_spend",
        "_lawful_rows",
    )

    price: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    promo_spend: np.ndarray
    lawful_reference: np.ndarray
    price_valid: Optional[np.ndarray]
    lower_valid: Optional[np.ndarray]
    upper_valid: Optional[np.ndarray]
    promo_spend_valid: Optional[np.ndarray]
    lawful_reference_valid: Optional[np.ndarray]
    outcome: np.ndarray
    reason: np.ndarray
    violated: np.ndarray
    binding: np.ndarray
    unmet: np.ndarray
    relaxed: np.ndarray
    needs_approval: np.ndarray
    invalid_field: np.ndarray
    summary: dict[str, Any]
    money: str
    currency: str
    minor_units: int
    _source: Optional[tuple[Policy, int, list[Any]]]
    #: The exact `promo_spend` of rows where it is finer than the minor
    #: unit: `(rows, units, scales)` arrays, the spend of `rows[j]` being
    #: `units[j]` x 10**-`scales[j]` minor units (usually empty).
    _fine_spend: tuple[np.ndarray, np.ndarray, np.ndarray]
    _lawful_rows: tuple[np.ndarray, np.ndarray]

    if TYPE_CHECKING:  # pragma: no cover - set by priceguard/_audit.py

        @property
        def policy_name(self) -> str: ...
        @property
        def policy_version(self) -> str: ...
        @property
        def policy_hash(self) -> str: ...
        def write_audit(self, path: Union[str, os.PathLike[str]], skus: Optional[Sequence[Any]] = None) -> str: ...

    def __init__(self, raw: dict[str, Any], money: str, currency: str, minor_units: int) -> None:
        for k in ("price", "lower", "upper", "promo_spend"):
            setattr(self, k, raw[k])
            setattr(self, f"{k}_valid", raw.get(f"{k}_valid"))
        for k in (
            "outcome",
            "reason",
            "violated",
            "binding",
            "unmet",
            "relaxed",
            "needs_approval",
            "invalid_field",
            "summary",
        ):
            setattr(self, k, raw[k])
        self.money = money
        self.currency = currency
        self.minor_units = minor_units
        self._source: Optional[tuple[Policy, int, list[Any]]] = None
        empty = np.zeros(0, dtype=np.int64)
        # Only `prior_price` holds carry a lawful reference: the extension
        # hands over `(rows, minor units)` and the column is built here.
        rows, refs = raw.get("lawful_reference_rows", (empty, empty))
        self._lawful_rows = (rows, refs)  # for write_audit
        n = len(self.outcome)
        if money == "minor":
            self.lawful_reference = np.zeros(n, dtype=np.int64)
            self.lawful_reference_valid = np.zeros(n, dtype=bool)
            self.lawful_reference[rows] = refs
            self.lawful_reference_valid[rows] = True
        else:
            self.lawful_reference = np.full(n, np.nan, dtype=np.float64)
            self.lawful_reference_valid = None
            self.lawful_reference[rows] = refs / float(10**minor_units)
        self._fine_spend = raw.get("promo_spend_fine", (empty, empty, np.zeros(0, dtype=np.uint8)))

    def __len__(self) -> int:
        return len(self.outcome)

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"BatchResult(items={s['items']}, accepted={s['accepted']}, adjusted={s['adjusted']}, "
            f"held={s['held']}, rejected={s['rejected']}, breaker_tripped={s['breaker_tripped']})"
        )

    def _money_decimal(self, name: str, i: int) -> Optional[decimal.Decimal]:
        if name == "promo_spend" and len(self._fine_spend[0]):
            rows, units, scales = self._fine_spend
            j = int(np.searchsorted(rows, i))
            if j < len(rows) and int(rows[j]) == i:
                # Finer than the minor unit: the exact spend, with the
                # currency's digits and its own finer ones.
                return decimal.Decimal(int(units[j])).scaleb(-(self.minor_units + int(scales[j])))
        arr = getattr(self, name)
        if self.money == "minor":
            if not getattr(self, f"{name}_valid")[i]:
                return None
            return decimal.Decimal(int(arr[i])).scaleb(-self.minor_units)
        v = float(arr[i])
        if v != v:
            return None
        return decimal.Decimal(repr(v)).quantize(decimal.Decimal(1).scaleb(-self.minor_units))

    def decision(self, i: int) -> dict[str, Any]:
        """Item `i`'s decision as a dict with the keys and types of `Decision.to_dict()` (no `sku`)."""
        f = int(self.invalid_field[i])
        return {
            "outcome": _native.OUTCOMES[int(self.outcome[i])],
            "price": self._money_decimal("price", i),
            "lower": self._money_decimal("lower", i),
            "upper": self._money_decimal("upper", i),
            "violated": _native.rule_names(int(self.violated[i])),
            "binding": _native.rule_names(int(self.binding[i])),
            "unmet": _native.rule_names(int(self.unmet[i])),
            "relaxed": _native.class_names(int(self.relaxed[i])),
            "reason": _native.reason_name(int(self.reason[i])),
            "promo_spend": self._money_decimal("promo_spend", i),
            "needs_approval": bool(self.needs_approval[i]),
            "invalid_field": None if f < 0 else _native.FIELDS[f],
            "lawful_reference": self._money_decimal("lawful_reference", i),
        }

    def _coded(self, k: str) -> tuple[np.ndarray, list[Optional[str]]]:
        """A code or bitmask column as `(indices, names)`: row `i` is
        `names[indices[i]]`, each distinct code named once. A DataFrame's
        string column is then one take from a short table, not a Python
        object per row."""
        if k == "outcome":
            return (self.outcome, list(_native.OUTCOMES))
        if k != "invalid_field":
            return _code_table(getattr(self, k), _namer(k))
        fields: list[Optional[str]] = [*_native.FIELDS, None]
        return (np.where(self.invalid_field < 0, len(_native.FIELDS), self.invalid_field), fields)

    def _let_go(self, k: str) -> None:
        """Drops this result's array `k` (a result consumed into a frame:
        its memory is freed, or recycled, as soon as the frame's column is
        built, so the peak is the frame, not the frame and the result)."""
        arr = getattr(self, k)
        setattr(self, k, arr[:0].copy())

    def to_pandas(self, index: Any = None, *, labels: Labels = "category") -> pd.DataFrame:
        """The decisions as a DataFrame with nullable dtypes (`Float64` or
        `Int64` money, `boolean` flags); the name columns are `category`
        (the names present), or `string` with `labels="string"`."""
        _check_labels(labels)
        return self._pandas(index, consume=False, labels=labels)

    def _categories(self, k: str) -> tuple[np.ndarray, list[str]]:
        """A code or bitmask column as a categorical's `(codes, categories)`:
        the names present, in code order, and each row's index among them
        (-1, missing, for no `invalid_field`)."""
        if k == "outcome":
            return (self.outcome, list(_native.OUTCOMES))
        codes, uniques = _native._dense_codes(np.ascontiguousarray(getattr(self, k)))
        name = (lambda f: _native.FIELDS[f]) if k == "invalid_field" else _namer(k)
        return (codes, [name(u) for u in uniques])

    def _pandas(self, index: Any, consume: bool, labels: Labels = "category") -> pd.DataFrame:
        """`to_pandas`; `consume`: the frame takes this result's arrays
        (money without a copy) and empties the result (`evaluate_frame`)."""
        require("pandas", "BatchResult.to_pandas")
        import pandas as pd

        if labels == "category":
            def names(k: str) -> Any:
                # One small code a row and the few names: no string a row.
                codes, categories = self._categories(k)
                col = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))
                del codes
                if consume:
                    self._let_go(k)
                return col

            return self._pandas_frame(index, consume, names)

        string = pd.StringDtype()  # what `dtype="string"` means, looked up once
        arrow = string.storage == "pyarrow"
        wrap: Any = type(pd.array([], dtype=string))

        def strings(k: str) -> Any:
            # The few names, then one per row: pyarrow-backed strings
            # written by the extension (offsets and bytes, 2-3 ns a row
            # where an Arrow take cost 11-13), else a take from the
            # `string` array of the names. Either way the same values and
            # dtype as `pd.array(object_array, dtype="string")`.
            indices, table = self._coded(k)
            if arrow:
                chunked = _native._take_names([(k, np.ascontiguousarray(indices), table)]).column(0)
                col = wrap(chunked)
            else:
                col = pd.array(table, dtype=string).take(indices)
            del indices
            if consume:
                self._let_go(k)
            return col

        return self._pandas_frame(index, consume, strings)

    def _pandas_frame(self, index: Any, consume: bool, names: Callable[[str], Any]) -> pd.DataFrame:
        import pandas as pd

        cols: dict[str, Any] = {}
        cols["outcome"] = names("outcome")
        for k in ("price", "lower", "upper"):
            cols[k] = self._pandas_money(pd, k, consume)
        for k in ("violated", "binding", "unmet", "relaxed", "reason"):
            cols[k] = names(k)
        cols["promo_spend"] = self._pandas_money(pd, "promo_spend", consume)
        cols["needs_approval"] = pd.array(self.needs_approval, dtype="boolean")
        cols["invalid_field"] = names("invalid_field")
        cols["lawful_reference"] = self._pandas_money(pd, "lawful_reference", consume)
        # The arrays above are this frame's own: no second copy.
        out: pd.DataFrame = pd.DataFrame(cols, index=index, copy=False)
        return out

    def _pandas_money(self, pd: Any, name: str, consume: bool = False) -> Any:
        arr = getattr(self, name)
        if not consume:
            arr = arr.copy()
        if self.money == "minor":
            return pd.arrays.IntegerArray(arr, ~getattr(self, f"{name}_valid"))
        return pd.arrays.FloatingArray(arr, np.isnan(arr))

    def _to_polars(self, sku: Any = None, labels: Labels = "category") -> Any:
        """The decisions as a polars DataFrame; empties this result (`evaluate_frame`'s own)."""
        import polars as pl

        def names(k: str) -> Any:
            # The few names, then one gather per row (not a str per row).
            if labels == "category":
                codes, categories = self._categories(k)
                missing = codes < 0
                idx = pl.Series(np.where(missing, 0, codes).astype(np.uint32))
                if missing.any():
                    idx = idx.scatter(np.flatnonzero(missing), None)
                col = pl.Series(k, categories, dtype=pl.Enum(categories)).gather(idx)
                del codes, idx
            else:
                indices, table = self._coded(k)
                col = pl.Series(k, table, dtype=pl.Utf8).gather(indices)
                del indices
            self._let_go(k)
            return col

        def money(k: str) -> Any:
            col = self._polars_money(pl, k)
            self._let_go(k)
            return col

        cols: dict[str, Any] = {}
        if sku is not None:
            cols["sku"] = sku
        cols["outcome"] = names("outcome")
        for k in ("price", "lower", "upper"):
            cols[k] = money(k)
        for k in ("violated", "binding", "unmet", "relaxed", "reason"):
            cols[k] = names(k)
        cols["promo_spend"] = money("promo_spend")
        cols["needs_approval"] = pl.Series("needs_approval", self.needs_approval)
        cols["invalid_field"] = names("invalid_field")
        cols["lawful_reference"] = money("lawful_reference")
        return pl.DataFrame(cols)

    def _polars_money(self, pl: Any, name: str) -> Any:
        arr = getattr(self, name)
        if self.money == "minor":
            valid = getattr(self, f"{name}_valid")
            return pl.Series(name, arr).set(pl.Series(~valid), None)
        return pl.Series(name, arr, nan_to_null=True)


def _namer(k: str) -> Callable[[int], str]:
    """The name of one code of result column `k` (`violated`, `binding`,
    `unmet`, `relaxed` or `reason`), as every DataFrame column writes it."""
    if k == "relaxed":
        return lambda m: ";".join(_native.class_names(m))
    if k == "reason":
        return _native.reason_name
    return lambda m: ";".join(_native.rule_names(m))


#: Codes below this are named through a dense table (one `bincount`, no sort).
_DENSE_CODES = 1 << 16


def _code_table(codes: np.ndarray, name: Callable[[int], str]) -> tuple[np.ndarray, list[Optional[str]]]:
    """`(indices, names)` with `names[indices[i]] == name(codes[i])`, `name`
    called once per distinct code (a batch has few distinct masks).

    Small codes (every `relaxed` and `reason`, and masks of the first 16
    rules) index a dense table directly: a `bincount` finds the codes
    present, O(n) where `np.unique` sorted (115 ns per row). Larger masks
    are factorized by hash (pandas), or sorted when pandas is missing."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.intp), []
    hi = int(codes.max())
    if hi < _DENSE_CODES:
        indices = codes if codes.dtype.itemsize <= 4 else codes.astype(np.int32)
        table: list[Optional[str]] = [""] * (hi + 1)
        for c in np.flatnonzero(np.bincount(indices, minlength=hi + 1)).tolist():
            table[c] = name(c)
        return indices, table
    try:
        import pandas as pd
    except ImportError:
        uniq, inverse = np.unique(codes, return_inverse=True)
        return inverse.reshape(-1), [name(int(u)) for u in uniq]
    inverse, uniq = pd.factorize(codes, sort=False)
    return inverse, [name(int(u)) for u in uniq]


def _decode(codes: np.ndarray, name: Callable[[int], str]) -> np.ndarray:
    """Object array of `name(code)` per row (each distinct code named once)."""
    indices, table = _code_table(codes, name)
    out: np.ndarray = np.array(table, dtype=object)[indices]
    return out
