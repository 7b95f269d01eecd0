"""Apply a priceguard policy to a PySpark DataFrame, on the executors.

>>> from priceguard.spark import guard                          # doctest: +SKIP
>>> decisions = guard(df, policy)                               # doctest: +SKIP

`guard` runs `Policy.evaluate_arrow` inside `DataFrame.mapInArrow`: each
partition's Arrow record batches are read in place by the Rust engine, and the
result keeps every input column followed by the decision columns. The policy
is shipped once: its text is broadcast, and each executor's Python worker
compiles it once and caches it.

Promotion budgets
-----------------
A campaign budget is consumed "in input order" (docs/spec.md §7), but a Spark
DataFrame has no single input order: its partitions run at the same time, on
different machines, and in an order that changes from run to run. Nothing
shared by all partitions can be updated cheaply per row, so there is no exact
equivalent of the single-process answer. `budget_mode` chooses what to do:

- `"refuse"` (the default): a policy with `promotion.budgets` raises
  `ValueError` before any work, so nobody gets a silently different answer.
- `"split"`: each partition gets an equal share of every campaign budget: the
  budget in minor units divided by the number of partitions, rounded down.
  The partitions together can never spend more than the budget (they may
  spend less: a partition that does not use its share cannot lend it). A
  partition whose index is not below the count taken when `guard` was
  called (possible only if Spark re-plans the job) gets no budget at all.

Groups
------
A price ladder is solved from all of a group's rows (docs/spec.md §10), so a
group must never be decided in two pieces. When `df` has a `group` column,
`guard` hash-partitions it by `group` first (keeping the number of
partitions), so every group's rows land in one partition, and each
partition's rows are then decided as one batch (its record batches are
collected first). Rows without a group are spread by a hash of the whole
row, so they do not pile into one partition. Within one call a group is
therefore never split; across calls (two DataFrames, or a stream's
micro-batches) nothing can tell, so give each group's rows in one call.

Circuit breaker
---------------
The breaker judges a whole batch (docs/spec.md §7). `breaker_mode="refuse"` (the
default) refuses a policy with a breaker; `"partition"` lets each partition be
judged as its own batch (all of a partition's rows are collected first).
"""

from __future__ import annotations

import decimal
import json
import threading
from typing import TYPE_CHECKING, Any, Iterator, Literal

from priceguard import _native
from priceguard._extras import require
from priceguard._policy import Extra, Policy, _check_columns, _ignore_extra

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    from pyspark.sql import DataFrame

BudgetMode = Literal["refuse", "split"]
BreakerMode = Literal["refuse", "partition"]

#: Decision columns appended to the input columns, in order.
DECISION_COLUMNS = (
    "outcome",
    "price",
    "lower",
    "upper",
    "violated",
    "binding",
    "unmet",
    "relaxed",
    "reason",
    "promo_spend",
    "needs_approval",
    "invalid_field",
    "lawful_reference",
    "violated_mask",
    "binding_mask",
    "unmet_mask",
    "relaxed_mask",
)

# Compiled policies of this Python process (an executor's worker), by text.
_CACHE: dict[str, Policy] = {}
_CACHE_LOCK = threading.Lock()


def _compiled(text: str) -> Policy:
    """The policy for `text`, compiled at most once per process."""
    with _CACHE_LOCK:
        policy = _CACHE.get(text)
        if policy is None:
            policy = Policy.from_json(text)
            _CACHE[text] = policy
        return policy


def split_budgets(policy: Policy, parts: int) -> dict[str, Any]:
    """The policy as a dict with every campaign budget divided by `parts`,
    rounded down to the minor unit (the `"split"` share of one partition)."""
    if parts < 1:
        raise ValueError(f"the number of partitions must be at least 1, not `{parts}`")
    spec = policy.to_dict()
    unit = decimal.Decimal(1).scaleb(-policy.minor_units)
    shares = {}
    for name, budget in policy.budgets.items():
        minor = int(budget.scaleb(policy.minor_units))
        shares[name] = str((decimal.Decimal(minor // parts) * unit).quantize(unit))
    spec.setdefault("promotion", {})["budgets"] = shares
    return spec


#: Digits of `promo_spend` beyond the currency's: the exact spend, finer
#: than the currency when a reference price is (docs/spec.md M1), always fits.
SPEND_EXTRA_DIGITS = 6


def _decision_fields(minor_units: int) -> list[Any]:
    from pyspark.sql import types as T

    money = T.DecimalType(38, minor_units)
    spend = T.DecimalType(38, minor_units + SPEND_EXTRA_DIGITS)
    names = T.ArrayType(T.StringType(), containsNull=False)
    return [
        T.StructField("outcome", T.StringType(), False),
        T.StructField("price", money, True),
        T.StructField("lower", money, True),
        T.StructField("upper", money, True),
        T.StructField("violated", names, False),
        T.StructField("binding", names, False),
        T.StructField("unmet", names, False),
        T.StructField("relaxed", names, False),
        T.StructField("reason", T.StringType(), False),
        T.StructField("promo_spend", spend, True),
        T.StructField("needs_approval", T.BooleanType(), False),
        T.StructField("invalid_field", T.StringType(), True),
        T.StructField("lawful_reference", money, True),
        T.StructField("violated_mask", T.LongType(), False),
        T.StructField("binding_mask", T.LongType(), False),
        T.StructField("unmet_mask", T.LongType(), False),
        T.StructField("relaxed_mask", T.ByteType(), False),
    ]


def _by_group(df: DataFrame, parts: int) -> DataFrame:
    """`df` hash-partitioned into `parts` partitions by its `group` column,
    so that all of a group's rows are in one partition. Rows in no group
    (null or `""`) are spread by a hash of the whole row: deterministic, so
    a retried task sees the same rows."""
    from pyspark.sql import functions as F

    g = F.col("group").cast("string")
    ungrouped = g.isNull() | (g == F.lit(""))
    key = F.when(ungrouped, F.xxhash64(*[F.col(c) for c in df.columns])).otherwise(F.xxhash64(g))
    return df.repartition(parts, key)


def guard(
    df: DataFrame,
    policy: Policy,
    *,
    budget_mode: BudgetMode = "refuse",
    breaker_mode: BreakerMode = "refuse",
    extra: Extra = "forbid",
) -> DataFrame:
    """Applies `policy` to every row of `df` on the executors.

    `df` has docs/spec.md §3 column names (read as `Policy.evaluate_arrow`
    reads them: `DecimalType` money of any scale exactly, integer money as
    minor units, `DoubleType` money as major units read through each
    double's shortest repr (docs/spec.md M1/M2: digits finer than the
    currency are kept, the proposal snapped to the tick); null and NaN are
    absent). A column that is not an item field (nor `sku`) raises
    `ValueError` naming it and the nearest field, before any work, unless
    `extra="ignore"`: such columns are then carried through unread.
    Returns a DataFrame with every column of `df` followed by the decision
    columns (`DECISION_COLUMNS`); a name clash raises `ValueError`. With a
    `group` column (docs/spec.md §10; `rank` and `pack_size` beside it) the
    rows are repartitioned by `group` so no group is split across tasks
    (see the module documentation), and the result's row order follows
    the new partitions. Money is
    `DecimalType(38, s)` at the currency's scale `s`, except `promo_spend`:
    `DecimalType(38, s + 6)`, which holds the exact spend whatever the data.

    `budget_mode`: `"refuse"` (default) refuses a policy with campaign
    budgets; `"split"` gives each partition `budget // partitions` minor
    units of each campaign, so the job never overspends. `breaker_mode`:
    `"refuse"` (default) refuses a policy with a circuit breaker;
    `"partition"` judges each partition as its own batch. See the module
    documentation for why.
    """
    require("pyspark", "priceguard.spark.guard")
    from pyspark.sql import types as T

    if not isinstance(policy, Policy):
        raise TypeError(f"policy must be a priceguard.Policy, not `{type(policy).__name__}`")
    if budget_mode not in ("refuse", "split"):
        raise ValueError(f'budget_mode must be "refuse" or "split", not `{budget_mode}`')
    if breaker_mode not in ("refuse", "partition"):
        raise ValueError(f'breaker_mode must be "refuse" or "partition", not `{breaker_mode}`')
    clash = [c for c in df.columns if c in DECISION_COLUMNS]
    if clash:
        shown = ", ".join(f"`{c}`" for c in clash)
        raise ValueError(f"the DataFrame already has decision column names: {shown}; rename them first")
    _check_columns(list(df.columns), _ignore_extra(extra))
    if "proposed_price" not in df.columns:
        raise ValueError("the DataFrame has no `proposed_price` column")
    if policy.has_breaker and breaker_mode == "refuse":
        raise ValueError(
            "the policy has a circuit breaker, which judges a whole batch, but a Spark "
            "DataFrame is evaluated partition by partition; pass breaker_mode=\"partition\" "
            "to judge each partition as its own batch"
        )
    budgets = policy.budgets
    parts = max(1, df.rdd.getNumPartitions())
    grouped = "group" in df.columns
    if grouped:
        df = _by_group(df, parts)
    if budgets and budget_mode == "refuse":
        names = ", ".join(f"`{n}`" for n in budgets)
        raise ValueError(
            f"the policy has promotion budgets ({names}), which are consumed in input order, "
            "but Spark partitions have no common order and run at the same time; pass "
            f'budget_mode="split" to give each of the {parts} partitions an equal share'
        )
    spec = split_budgets(policy, parts) if budgets else policy.to_dict()
    text = json.dumps(spec)
    # Partitions at or beyond `parts` (only if Spark re-plans) get no budget.
    empty = json.dumps(split_budgets(policy, 2**62)) if budgets else text
    sc = df.sparkSession.sparkContext
    shipped = sc.broadcast((text, empty))
    by_partition = breaker_mode == "partition" and policy.has_breaker
    schema = T.StructType(list(df.schema.fields) + _decision_fields(policy.minor_units))

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa
        from pyspark import TaskContext

        text, empty = shipped.value
        ctx = TaskContext.get()
        pid = ctx.partitionId() if ctx is not None else 0
        p = _compiled(text if pid < parts else empty)
        state = _native.ArrowBudgets(p._native) if budgets else None
        if by_partition or grouped:
            # The breaker judges, and a ladder is solved from, all of the
            # partition's rows at once.
            collected = list(batches)
            if not collected:
                return
            batches = iter([pa.Table.from_batches(collected)])
        for b in batches:
            if b.num_rows == 0:
                continue
            # The columns were checked on the driver; the others ride along.
            t = p._native._evaluate_arrow(b, state, True)
            if "sku" in t.column_names:
                t = t.drop_columns(["sku"])
            src = b if isinstance(b, pa.Table) else pa.Table.from_batches([b])
            out = pa.Table.from_arrays(
                list(src.columns) + list(t.columns), names=list(src.column_names) + list(t.column_names)
            )
            yield from out.to_batches()

    return df.mapInArrow(run, schema)
