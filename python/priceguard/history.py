"""History summaries (docs/spec.md §11.1): the per-SKU item fields the
history-aware rules read, from published prices and competitor quotes.

>>> from priceguard import history
>>> day = 86_400
>>> prices = {
...     "sku": ["A1", "A1", "A1"],
...     "price": ["12.00", "10.00", "9.00"],
...     "at": [0, 15 * day, 35 * day],
...     "reference_price": [None, None, "12.00"],
... }
>>> s = history.summarize(prices, now=40 * day, prior_days=30, currency="USD")
>>> s.loc[0, "prior_low_price"], int(s.loc[0, "promo_started_at"]) // day
(Decimal('10.00'), 35)

The engine stays stateless: `summarize` computes, once per run, the
columns that `Policy.evaluate_frame` (or any other door) then reads as item
fields. Join the result onto the proposals on `sku`. The summaries are
those of `priceguard history summarize` on the same rows (one core
function computes both).
"""

from __future__ import annotations

import datetime
import decimal
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np

from priceguard import _native
from priceguard._extras import require
from priceguard._policy import Policy

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["COLUMNS", "summarize"]

#: The summary columns after `sku`, in output order (docs/spec.md §11.1).
COLUMNS = (
    "prior_low_price",
    "promo_started_at",
    "last_promo_ended_at",
    "reversals_in_window",
    "last_change_at",
    "changes_in_window",
    "window_anchor_price",
    "competitor_price",
    "competitor_quotes",
)
_MONEY = frozenset({"prior_low_price", "window_anchor_price", "competitor_price"})
_PRICE_COLUMNS = ("sku", "price", "at", "reference_price")
_QUOTE_COLUMNS = ("sku", "competitor", "price", "seen_at")
# The policy keys that set a period, as `priceguard history summarize` reads them.
_POLICY_KEYS = (
    ("disclosure", "prior_days"),
    ("change", "window_secs"),
    ("market", "max_quote_age_secs"),
    ("market", "outlier_mad"),
)


def _missing(v: Any) -> bool:
    """None, a float NaN, `pandas.NA` or `NaT`."""
    if v is None:
        return True
    if isinstance(v, float) and v != v:
        return True
    return type(v).__name__ in ("NAType", "NaTType")


def _column(table: Any, name: str, where: str) -> Optional[list[Any]]:
    """Column `name` of `table` as a list of Python values (times as int
    seconds where the column is a datetime), or None when absent."""
    module = type(table).__module__.split(".")[0]
    if module == "polars":
        if name not in table.columns:
            return None
        col = table.get_column(name)
        if col.dtype.is_temporal():
            if (col.dt.epoch("ns").drop_nulls() % 10**9 != 0).any():
                raise ValueError(f"{where}: {name}: has a time finer than a whole second")
            col = col.dt.epoch("s")
        out: list[Any] = col.to_list()
        return out
    if isinstance(table, Mapping):
        if name not in table:
            return None
        col = table[name]
    elif hasattr(table, "columns") and hasattr(table, "index"):
        if name not in table.columns:
            return None
        col = table[name]
    else:
        raise TypeError(f"{where}: expected a pandas or polars DataFrame or a dict of columns, not `{type(table).__name__}`")
    if isinstance(col, (str, bytes)) or not hasattr(col, "__len__"):
        raise TypeError(f"{where}: `{name}` is not a column (a sequence of values)")
    dtype = getattr(col, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "") == "M":
        arr = np.asarray(col).astype("datetime64[ns]")
        ns = arr.view(np.int64)
        nat = np.isnat(arr)
        if np.any((ns % 10**9 != 0) & ~nat):
            raise ValueError(f"{where}: {name}: has a time finer than a whole second")
        return [None if m else int(v) for v, m in zip((ns // 10**9).tolist(), nat.tolist())]
    if isinstance(col, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(col).tolist()
        return [None if m else v for v, m in zip(col.data.tolist(), mask)]
    if dtype is not None and getattr(dtype, "kind", "") == "f" and getattr(dtype, "itemsize", 8) != 8:
        raise ValueError(f"{where}: {name}: is float{8 * dtype.itemsize}; give float64, Decimal, str or int")
    if hasattr(col, "tolist"):
        values: list[Any] = col.tolist()
        return values
    return list(col)


def _money_text(v: Any, minor: bool, digits: int, where: str, row: int, name: str) -> Optional[str]:
    """One money value as exact decimal text, read as every other door reads
    money: `Decimal` and `str` exactly, a float through its shortest repr, an
    int as major units (minor units with `money="minor"`)."""
    # The common cases first, by exact type (a million rows a second).
    t = type(v)
    if t is str:
        return v.strip() or None
    if t is float and not minor and v - v == 0.0:
        return repr(v)
    if _missing(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        raise ValueError(f"{where} row {row}: {name}: `{v}` is not a number")
    if isinstance(v, str):
        return v.strip() or None
    if isinstance(v, decimal.Decimal):
        if not v.is_finite():
            raise ValueError(f"{where} row {row}: {name}: `{v}` is not a finite number")
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(decimal.Decimal(int(v)).scaleb(-digits)) if minor else str(int(v))
    if isinstance(v, np.floating) and v.dtype.itemsize != 8:
        raise ValueError(f"{where} row {row}: {name}: `{v}` is a float{8 * v.dtype.itemsize}; give float64, Decimal, str or int")
    if isinstance(v, float):
        if minor:
            raise ValueError(f'{where} row {row}: {name}: `{v}` is a float but money="minor" needs integer minor units')
        if v in (float("inf"), float("-inf")):
            raise ValueError(f"{where} row {row}: {name}: `{v}` is not a finite number")
        return repr(float(v))
    raise ValueError(f"{where} row {row}: {name}: `{v}` is a `{type(v).__name__}`, not a number")


def _seconds(v: Any, where: str, row: int, name: str) -> Optional[int]:
    """A unix time in whole seconds (an integral float, as a pandas column
    with NaN carries whole numbers, is accepted)."""
    if type(v) is int:
        return v
    if _missing(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        raise ValueError(f"{where} row {row}: {name}: `{v}` is not a unix time in whole seconds")
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return int(v)
    if isinstance(v, datetime.datetime) and v.tzinfo is not None:
        if v.microsecond:
            raise ValueError(f"{where} row {row}: {name}: `{v}` is finer than a whole second")
        return int(v.timestamp())
    raise ValueError(f"{where} row {row}: {name}: `{v}` is not a unix time in whole seconds")


def _names(values: list[Any], where: str, name: str) -> list[Optional[str]]:
    out: list[Optional[str]] = []
    for i, v in enumerate(values):
        if _missing(v) or v == "":
            out.append(None)
        elif isinstance(v, str):
            out.append(v)
        else:
            raise ValueError(f"{where} row {i}: {name}: `{v}` is not a str")
    return out


def _read(table: Any, where: str, columns: tuple[str, ...], required: int) -> dict[str, list[Any]]:
    """The columns of a prices / quotes table (the first `required` must be
    there; any other column is refused, as the command line refuses it)."""
    if isinstance(table, Mapping):
        given = [str(k) for k in table]
    elif hasattr(table, "columns"):
        given = [str(c) for c in table.columns]
    else:
        raise TypeError(f"{where}: expected a pandas or polars DataFrame or a dict of columns, not `{type(table).__name__}`")
    extra = [c for c in given if c not in columns]
    if extra:
        raise ValueError(f"{where}: unknown column `{extra[0]}` (the columns are {', '.join(columns)})")
    out: dict[str, list[Any]] = {}
    for i, c in enumerate(columns):
        col = _column(table, c, where)
        if col is None:
            if i < required:
                raise ValueError(f"{where}: no `{c}` column")
            continue
        out[c] = col
    lengths = {len(v) for v in out.values()}
    if len(lengths) > 1:
        raise ValueError(f"{where}: the columns have different lengths")
    return out


def _periods(
    policy: Optional[Policy],
    prior_days: Optional[int],
    window_secs: Optional[int],
    max_quote_age_secs: Optional[int],
    outlier_mad: Any,
) -> tuple[Optional[int], Optional[int], Optional[int], Optional[str]]:
    """The periods: the keyword arguments, else the policy's keys."""
    keys: dict[str, Any] = {}
    if policy is not None:
        spec = policy.to_dict()
        for table, key in _POLICY_KEYS:
            base = (spec.get(table) or {}).get(key)
            # One period per key for every item: a segment with its own
            # would be summarised with the wrong one (fail closed).
            for i, seg in enumerate(spec.get("segments") or []):
                own = (seg.get(table) or {}).get(key)
                if own is not None and own != base:
                    raise ValueError(
                        f"policy: segments[{i}].{table}.{key}: history summaries use one period "
                        "for every item; a segment with its own is not supported"
                    )
            keys[key] = base

    def whole(name: str, v: Any) -> Optional[int]:
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{name}: `{v}` is not a whole number")
        return int(v)

    mad = outlier_mad if outlier_mad is not None else keys.get("outlier_mad")
    if mad is not None and (isinstance(mad, bool) or not isinstance(mad, (str, int, decimal.Decimal, float))):
        raise ValueError(f"outlier_mad: `{mad}` is not a decimal number")
    if isinstance(mad, float):
        mad = repr(mad)
    return (
        whole("prior_days", prior_days if prior_days is not None else keys.get("prior_days")),
        whole("window_secs", window_secs if window_secs is not None else keys.get("window_secs")),
        whole(
            "max_quote_age_secs",
            max_quote_age_secs if max_quote_age_secs is not None else keys.get("max_quote_age_secs"),
        ),
        None if mad is None else str(mad),
    )


def summarize(
    prices: Any,
    quotes: Any = None,
    *,
    now: Union[int, datetime.datetime],
    policy: Optional[Policy] = None,
    prior_days: Optional[int] = None,
    window_secs: Optional[int] = None,
    max_quote_age_secs: Optional[int] = None,
    outlier_mad: Union[str, decimal.Decimal, int, float, None] = None,
    currency: Optional[str] = None,
    money: str = "major",
) -> Any:
    """The history summary of each SKU at `now`, one row per SKU sorted by SKU.

    `prices`: a pandas or polars DataFrame or a dict of columns with `sku`,
    `price`, `at` and optionally `reference_price` (a row with one is on
    promotion), in any order: the price each SKU had from `at` until its
    next row. `quotes` (optional), likewise: `sku`, `competitor`, `price`,
    `seen_at`. `prices` may also be the path of an audit log (written by
    `write_audit` or `priceguard check --audit`): its `accepted` and
    `adjusted` decisions are the published prices, at the item's `now`
    (else the record's `evaluated_at`), with the item's `reference_price`;
    the result is then a pandas frame. Money is read as every door reads it: `Decimal` and `str`
    exactly, a float64 through its shortest repr, an int as major units (as
    minor units with `money="minor"`). Times are unix seconds (ints, or
    datetime columns in whole seconds); rows and quotes after `now` are not
    yet in force and are ignored.

    The periods come from `policy` where it sets them (`[disclosure]
    prior_days`, `change.window_secs`, `[market] max_quote_age_secs` and
    `outlier_mad`); a keyword argument overrides the policy's. The currency
    is the policy's, or `currency`. A period left unset leaves the columns
    that need it empty.

    Returns a frame of the kind of `prices` (pandas for a dict) with the
    columns `sku` and `COLUMNS`: money as exact `Decimal` values (pandas
    `object`, polars `Decimal`; a median of two quotes can be finer than the
    currency, and is kept exactly), times and counts as nullable integers
    (pandas `Int64`). An empty cell is a value that does not exist
    (docs/spec.md §11.1). Any value that cannot be read raises `ValueError`
    naming the table, row and column, and nothing is returned.
    """
    if money not in ("major", "minor"):
        raise ValueError(f'money must be "major" or "minor", not `{money}`')
    if policy is not None and not isinstance(policy, Policy):
        raise TypeError(f"policy must be a priceguard.Policy, not `{type(policy).__name__}`")
    code = currency if currency is not None else (policy.currency if policy is not None else None)
    if code is None:
        raise ValueError("the currency of the prices is unknown: give policy= or currency=")
    if isinstance(now, datetime.datetime):
        if now.tzinfo is None:
            raise ValueError("now: a datetime needs a time zone")
        now = int(now.timestamp())
    if isinstance(now, bool) or not isinstance(now, (int, np.integer)) or now < 0:
        raise ValueError(f"now: `{now}` is not a unix time in whole seconds, >= 0")
    periods = _periods(policy, prior_days, window_secs, max_quote_age_secs, outlier_mad)
    digits = _native._currency_digits(code)
    minor = money == "minor"

    ref: Optional[list[Optional[str]]] = None
    if isinstance(prices, (str, os.PathLike)):
        # An audit log: its accepted and adjusted decisions are the
        # published prices (docs/spec.md H10), read by the core.
        skus, price, at, ref = _native._history_audit_rows(os.fspath(prices), code)
    else:
        p = _read(prices, "prices", _PRICE_COLUMNS, 3)
        skus = _names(p["sku"], "prices", "sku")
        price = [_money_text(v, minor, digits, "prices", i, "price") for i, v in enumerate(p["price"])]
        at = [_seconds(v, "prices", i, "at") for i, v in enumerate(p["at"])]
        if "reference_price" in p:
            ref = [_money_text(v, minor, digits, "prices", i, "reference_price") for i, v in enumerate(p["reference_price"])]
    q = None
    if quotes is not None:
        t = _read(quotes, "quotes", _QUOTE_COLUMNS, 4)
        q = (
            _names(t["sku"], "quotes", "sku"),
            _names(t["competitor"], "quotes", "competitor"),
            [_money_text(v, minor, digits, "quotes", i, "price") for i, v in enumerate(t["price"])],
            [_seconds(v, "quotes", i, "seen_at") for i, v in enumerate(t["seen_at"])],
        )
    names, cols = _native._history_summarize(code, int(now), periods, skus, price, at, ref, q)
    by_name = dict(zip(COLUMNS, cols))
    if type(prices).__module__.split(".")[0] == "polars":
        return _polars(names, by_name)
    return _pandas(names, by_name)


def _pandas(names: list[str], cols: dict[str, list[Any]]) -> pd.DataFrame:
    pandas: Any = require("pandas", "priceguard.history.summarize")
    out: dict[str, Any] = {"sku": np.array(names, dtype=object)}
    for k in COLUMNS:
        if k in _MONEY:
            out[k] = np.array([None if v is None else decimal.Decimal(v) for v in cols[k]] + [None], dtype=object)[:-1]
        else:
            out[k] = pandas.array(cols[k], dtype="Int64")
    frame: pd.DataFrame = pandas.DataFrame(out)
    return frame


def _polars(names: list[str], cols: dict[str, list[Any]]) -> Any:
    import polars as pl

    out: dict[str, Any] = {"sku": pl.Series("sku", names, dtype=pl.Utf8)}
    for k in COLUMNS:
        if k in _MONEY:
            values = [None if v is None else decimal.Decimal(v) for v in cols[k]]
            # The column's scale: the finest value's (a quote median can be
            # finer than the currency), so every value is exact.
            scale = max((-int(v.as_tuple().exponent) for v in values if v is not None), default=0)
            out[k] = pl.Series(k, values, dtype=pl.Decimal(38, scale))
        else:
            out[k] = pl.Series(k, cols[k], dtype=pl.Int64)
    return pl.DataFrame(out)
