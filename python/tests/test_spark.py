"""`priceguard.spark.guard` on a local Spark (pyspark from PyPI, the machine's Java).

Skipped, saying why, only when Java or pyspark is missing.
"""

from __future__ import annotations

import os
import shutil
import sys
from decimal import Decimal
from typing import Any, Iterator

import pytest

import priceguard

pytestmark = [
    pytest.mark.spark,
    # pyspark's own deprecation and compatibility warnings are not ours.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]

if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java (17 or later): no `java` on PATH and no JAVA_HOME", allow_module_level=True)
pytest.importorskip("pyspark", reason="pyspark is not installed (python/requirements-dev.txt)")
pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed")

from priceguard.spark import DECISION_COLUMNS, guard, split_budgets  # noqa: E402

ROWS = 100_000
PARTITIONS = 4

POLICY = """
name = "spark"
currency = "USD"
[bounds]
min_price = "0.99"
max_price = "5000"
[margin]
min_margin = "0.15"
[change]
max_increase = "0.20"
max_decrease = "0.30"
"""

BUDGET_POLICY = POLICY + """
[promotion]
budgets = { spring = "1000.00", summer = "333.33" }
"""


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("priceguard-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def frame(spark: Any, rows: int = ROWS) -> Any:
    """Deterministic rows: decimal128 money at three scales, with digits
    finer than the cent (docs/spec.md M1: a model's 4-decimal proposals in
    a third of the rows, costs in hundredths of a cent), float64 money with
    nulls and tenths of a cent, int counts, campaign names."""
    return spark.range(0, rows, numPartitions=PARTITIONS).selectExpr(
        "concat('S', id) AS sku",
        "CAST(CASE WHEN id % 3 = 0 THEN (id * 7919 % 2000000 + 6000) / 10000"
        " ELSE (id * 7919 % 20000 + 60) / 100 END AS DECIMAL(18, 6)) AS proposed_price",
        "CAST((id * 31 % 1500000) / 10000 AS DECIMAL(14, 4)) AS unit_cost",
        "CASE WHEN id % 10 = 0 THEN NULL ELSE (id * 17 % 200000 + 600) / 1000.0 END AS current_price",
        "CAST((id * 7919 % 20000 + 500) / 100 AS DECIMAL(12, 2)) AS reference_price",
        "CAST(id % 5 + 1 AS INT) AS expected_units",
        "CASE id % 7 WHEN 0 THEN 'spring' WHEN 1 THEN 'summer' ELSE NULL END AS campaign",
    )


def sorted_by_sku(t: Any) -> Any:
    return t.sort_by("sku")


def test_guard_equals_single_process(spark: Any) -> None:
    policy = priceguard.Policy.from_toml(POLICY)
    df = frame(spark)
    assert df.rdd.getNumPartitions() == PARTITIONS
    out = guard(df, policy)
    assert out.columns == df.columns + list(DECISION_COLUMNS)
    got = sorted_by_sku(out.toArrow())
    local_input = df.toArrow()
    want = sorted_by_sku(priceguard.Policy.from_toml(POLICY).evaluate_arrow(local_input))
    assert got.num_rows == ROWS == want.num_rows
    assert got.column("sku").equals(want.column("sku"))
    for name in DECISION_COLUMNS:
        g, w = got.column(name), want.column(name)
        if g.type != w.type:
            g = g.cast(w.type)
        assert g.equals(w), f"`{name}` differs between Spark and the single process"
    outcomes = set(got.column("outcome").to_pylist())
    assert {"accepted", "adjusted"} <= outcomes
    # Finer money is decided, not refused.
    assert "invalid_input" not in set(got.column("reason").to_pylist())
    assert out.schema["promo_spend"].dataType.scale == 8


def test_split_never_overspends(spark: Any) -> None:
    policy = priceguard.Policy.from_toml(BUDGET_POLICY)
    df = frame(spark)
    with pytest.raises(ValueError, match='budget_mode="split"'):
        guard(df, policy)
    out = guard(df, policy, budget_mode="split").toArrow()
    spent: dict[str, Decimal] = {}
    for c, s in zip(out.column("campaign").to_pylist(), out.column("promo_spend").to_pylist()):
        if c is not None and s is not None:
            spent[c] = spent.get(c, Decimal(0)) + s
    assert spent, "no row drew on a budget: the test data must exercise the split"
    for name, budget in policy.budgets.items():
        share = Decimal(split_budgets(policy, PARTITIONS)["promotion"]["budgets"][name])
        assert spent.get(name, Decimal(0)) <= share * PARTITIONS <= budget, name
    # Each partition spends at most its share.
    per_part = guard(df, policy, budget_mode="split").selectExpr(
        "spark_partition_id() AS p", "campaign", "promo_spend"
    ).groupBy("p", "campaign").sum("promo_spend").collect()
    shares = split_budgets(policy, PARTITIONS)["promotion"]["budgets"]
    for r in per_part:
        if r["campaign"] is not None and r[2] is not None:
            assert r[2] <= Decimal(shares[r["campaign"]])


def test_split_shares() -> None:
    policy = priceguard.Policy.from_toml(BUDGET_POLICY)
    shares = split_budgets(policy, 3)["promotion"]["budgets"]
    # 333.33 / 3 = 111.11 exactly; 1000.00 / 3 = 333.333... rounded down.
    assert shares == {"spring": "333.33", "summer": "111.11"}
    assert split_budgets(policy, 100_001)["promotion"]["budgets"]["summer"] == "0.00"
    with pytest.raises(ValueError, match="at least 1"):
        split_budgets(policy, 0)


def test_guard_refusals(spark: Any) -> None:
    policy = priceguard.Policy.from_toml(POLICY)
    df = frame(spark, 10)
    with pytest.raises(ValueError, match="already has decision column names: `price`"):
        guard(df.withColumnRenamed("reference_price", "price"), policy)
    with pytest.raises(ValueError, match="no `proposed_price` column"):
        guard(df.drop("proposed_price"), policy)
    with pytest.raises(ValueError, match="budget_mode"):
        guard(df, policy, budget_mode="share")  # type: ignore[arg-type]
    breaker = priceguard.Policy.from_toml(POLICY + "[breaker]\nmax_violation_ratio = \"0.5\"\nmin_batch = 2\n")
    with pytest.raises(ValueError, match="circuit breaker"):
        guard(df, breaker)
    rows = guard(df, breaker, breaker_mode="partition").count()
    assert rows == 10


LADDER_POLICY = POLICY + """
[ladder]
min_gap = "0.05"
"""


def test_guard_keeps_a_group_whole(spark: Any) -> None:
    """A group whose rows start in different input partitions (and arrive
    one row per Arrow batch) is decided as the single process decides the
    same rows: rank 2 is raised to stay 5 % above rank 1 in each group."""
    from pyspark.sql import types as T

    rows = []
    for g in range(6):
        # Rank 2 first, rank 1 last: the two are in different slices.
        rows.append((f"G{g}-2", Decimal("14.99"), Decimal("14.99"), Decimal("5.00"), f"g{g}", 2))
        rows.append((f"U{g}", Decimal("10.00"), Decimal("10.00"), Decimal("5.00"), None, None))
        rows.append((f"G{g}-1", Decimal("15.00"), Decimal("15.00"), Decimal("5.00"), f"g{g}", 1))
    schema = T.StructType(
        [
            T.StructField("sku", T.StringType()),
            T.StructField("proposed_price", T.DecimalType(12, 2)),
            T.StructField("current_price", T.DecimalType(12, 2)),
            T.StructField("unit_cost", T.DecimalType(12, 2)),
            T.StructField("group", T.StringType()),
            T.StructField("rank", T.LongType()),
        ]
    )
    df = spark.createDataFrame(spark.sparkContext.parallelize(rows, len(rows)), schema)
    assert df.rdd.getNumPartitions() == len(rows)
    policy = priceguard.Policy.from_toml(LADDER_POLICY)
    before = spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch")
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "1")
    try:
        got = {r["sku"]: r for r in guard(df, policy).collect()}
    finally:
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", before)
    assert len(got) == len(rows)
    keys = ("sku", "proposed_price", "current_price", "unit_cost", "group", "rank")
    want = policy.evaluate_items([dict(zip(keys, r)) for r in rows])
    for d in want:
        r = got[d.sku]
        assert (r["outcome"], r["price"], r["reason"]) == (d.outcome, d.price, d.reason), d.sku
    # 1.05 x 15.00 = 15.75 (docs/spec.md §10.5, "A rank raised").
    assert {got[f"G{g}-2"]["price"] for g in range(6)} == {Decimal("15.75")}
    assert {got[f"G{g}-1"]["price"] for g in range(6)} == {Decimal("15.00")}


def test_guard_history_fields(spark: Any) -> None:
    """The history fields reach Spark's partitions and `lawful_reference`
    comes back in the declared schema: rows whose "was" price (25.99 every
    third row, else 24.99) exceeds the 30-day low 24.99 are held by
    `prior_price` at their current 24.99, the lawful reference 24.99."""
    policy = priceguard.Policy.from_toml(
        'name = "h"\ncurrency = "USD"\n[bounds]\nmin_price = "1.00"\nmax_price = "1000"\n'
        "[disclosure]\nprior_days = 30\n[change]\nwindow_secs = 86400\nmax_reversals = 5\n"
    )
    df = spark.range(0, 60, numPartitions=PARTITIONS).selectExpr(
        "concat('H', id) AS sku",
        "CAST(19.99 AS DECIMAL(12, 2)) AS proposed_price",
        "CAST(24.99 AS DECIMAL(12, 2)) AS current_price",
        "CAST(CASE WHEN id % 3 = 0 THEN 25.99 ELSE 24.99 END AS DECIMAL(12, 2)) AS reference_price",
        "CAST(24.99 AS DECIMAL(12, 2)) AS prior_low_price",
        "CAST(id % 4 AS BIGINT) AS reversals_in_window",
        "CAST(1000000 AS BIGINT) AS now",
    )
    out = guard(df, policy)
    assert out.schema["lawful_reference"].dataType.scale == 2
    got = sorted_by_sku(out.toArrow())
    want = sorted_by_sku(policy.evaluate_arrow(df.toArrow()))
    for name in DECISION_COLUMNS:
        g, w = got.column(name), want.column(name)
        if g.type != w.type:
            g = g.cast(w.type)
        assert g.equals(w), f"`{name}` differs between Spark and the single process"
    ids = [int(s[1:]) for s in got.column("sku").to_pylist()]
    reasons = got.column("reason").to_pylist()
    refs = got.column("lawful_reference").to_pylist()
    for i, r, ref in zip(ids, reasons, refs):
        if i % 3 == 0:
            assert (r, ref) == ("prior_price", Decimal("24.99")), i
        else:
            assert (r, ref) == ("", None), i
