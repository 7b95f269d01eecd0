"""Every Python door refuses the same bad input the same way (docs/spec.md §6).

Unknown columns, misaligned pandas Series, length-1 arrays, policy files that
are missing, too large or not files, float32 and NaN values, and the reason
`explain()` gives for a value that cannot be used.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import priceguard
from priceguard import Policy, PolicyError

TOML = """
name = "bad-input"
currency = "USD"

[bounds]
min_price = "0.99"
max_price = "5000"

[margin]
min_margin = "0.15"
"""

NOW = 1_800_000_000


@pytest.fixture
def policy() -> Policy:
    return Policy.from_toml(TOML)


# -- unknown columns ---------------------------------------------------------

TYPO = "unknown column `max_prce`; did you mean `max_price`?"


def typo_frame() -> dict[str, list[float]]:
    # The frame: with `max_price` the price is capped at 10.00; the
    # typo used to be dropped silently and 500.00 published.
    return {"proposed_price": [500.0], "unit_cost": [100.0], "max_prce": [10.0]}


def test_unknown_column_pandas(policy: Policy) -> None:
    with pytest.raises(ValueError, match=TYPO):
        policy.evaluate_frame(pd.DataFrame(typo_frame()))
    fixed = pd.DataFrame({**typo_frame(), "max_price": [10.0]}).drop(columns=["max_prce"])
    assert policy.evaluate_frame(fixed)["price"].tolist() == [10.0]


def test_unknown_column_polars(policy: Policy) -> None:
    with pytest.raises(ValueError, match=TYPO):
        policy.evaluate_frame(pl.DataFrame(typo_frame()))


@pytest.mark.parametrize("kind", ["table", "record_batch", "pandas", "polars"])
def test_unknown_column_arrow(policy: Policy, kind: str) -> None:
    makers: dict[str, Callable[[], Any]] = {
        "table": lambda: pa.table(typo_frame()),
        "record_batch": lambda: pa.record_batch(typo_frame()),
        "pandas": lambda: pd.DataFrame(typo_frame()),
        "polars": lambda: pl.DataFrame(typo_frame()),
    }
    data = makers[kind]()
    with pytest.raises(ValueError, match=TYPO):
        policy.evaluate_arrow(data)


def test_unknown_column_without_a_near_name_lists_the_fields(policy: Policy) -> None:
    df = pd.DataFrame({"proposed_price": [12.0], "title": ["a hat"]})
    with pytest.raises(ValueError, match=r"unknown column `title` \(.*proposed_price.*\).*extra=\"ignore\""):
        policy.evaluate_frame(df)
    with pytest.raises(ValueError, match="unknown column `title`"):
        policy.evaluate_arrow(pa.table({"proposed_price": [12.0], "title": ["a hat"]}))


def test_extra_ignore_opts_out(policy: Policy) -> None:
    df = pd.DataFrame({"sku": ["A"], "proposed_price": [12.49], "unit_cost": [12.22], "title": ["a hat"]})
    out = policy.evaluate_frame(df, extra="ignore")
    assert out["price"].tolist() == [14.38] and out["sku"].tolist() == ["A"]
    assert policy.evaluate_frame(pl.from_pandas(df), extra="ignore")["price"].to_list() == [14.38]
    t = policy.evaluate_arrow(pa.Table.from_pandas(df, preserve_index=False), extra="ignore")
    assert t.column("price").to_pylist() == [Decimal("14.38")]
    d = policy.evaluate({"proposed_price": "12.49", "unit_cost": "12.22", "title": "a hat"}, extra="ignore")
    assert d.price == Decimal("14.38")
    with pytest.raises(ValueError, match='extra must be "forbid" or "ignore"'):
        policy.evaluate_frame(df, extra="allow")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match='extra must be "forbid" or "ignore"'):
        policy.evaluate_arrow(pa.table({"proposed_price": [1.0]}), extra="Ignore")  # type: ignore[arg-type]


def test_evaluate_suggests_the_nearest_field(policy: Policy) -> None:
    with pytest.raises(ValueError, match="unknown item field `unit_csot`; did you mean `unit_cost`?"):
        policy.evaluate({"proposed_price": "12.49", "unit_csot": "12.22"})
    with pytest.raises(ValueError, match="did you mean `unit_cost`?"):
        policy.evaluate({"proposed_price": "12.49", "Unit_Cost": "12.22"})


def test_spark_guard_refuses_unknown_columns_before_any_work(policy: Policy) -> None:
    from priceguard.spark import guard

    class Columns:
        """Only `columns`: guard must refuse before it touches Spark."""

        columns = ["sku", "proposed_price", "max_prce"]

    with pytest.raises(ValueError, match=TYPO):
        guard(Columns(), policy)  # type: ignore[arg-type]


# -- pairing of batch columns --------------------------------------------------


def test_misaligned_series_are_refused(policy: Policy) -> None:
    # B's price next to A's cost would publish B at 90.00 under its floor.
    with pytest.raises(ValueError, match="`proposed_price` and `unit_cost` are pandas Series with different indexes"):
        policy.evaluate_batch(
            proposed_price=pd.Series([12.0, 90.0], index=["A", "B"]),
            unit_cost=pd.Series([80.0, 5.0], index=["B", "A"]),
        )
    # Aligned first, the answer is B at its margin floor (80 / 0.85).
    cost = pd.Series([80.0, 5.0], index=["B", "A"])
    price = pd.Series([12.0, 90.0], index=["A", "B"])
    r = policy.evaluate_batch(proposed_price=price, unit_cost=cost.reindex(price.index))
    assert r.decision(1)["price"] == Decimal("94.12")
    # A Series next to a numpy array (no index) pairs by position.
    r = policy.evaluate_batch(proposed_price=price, unit_cost=np.array([5.0, 80.0]))
    assert r.decision(1)["price"] == Decimal("94.12")


def test_length_one_array_is_not_broadcast(policy: Policy) -> None:
    with pytest.raises(ValueError, match="different lengths: `proposed_price` 2, `unit_cost` 1"):
        policy.evaluate_batch(proposed_price=np.array([12.0, 90.0]), unit_cost=np.array([80.0]))
    with pytest.raises(ValueError, match="different lengths"):
        policy.evaluate_batch(proposed_price=np.array([12.0]), unit_cost=np.array([80.0, 5.0]))
    with pytest.raises(ValueError, match="different lengths"):
        policy.evaluate_batch(proposed_price=[12.0, 90.0], unit_cost=[80.0])
    # Scalars still apply to every item, as documented.
    r = policy.evaluate_batch(proposed_price=np.array([12.0, 90.0]), unit_cost=80.0)
    assert r.price.tolist() == [94.12, 94.12]
    assert len(policy.evaluate_batch(proposed_price=np.array([12.0]), unit_cost=np.array([5.0]))) == 1


# -- policy files and text -------------------------------------------------------


def test_positional_json_policy_is_refused() -> None:
    with pytest.raises(PolicyError, match="object") as e:
        Policy.from_json('["p", "1", "USD", null, null, false, false, {"min_price": "1"}]')
    assert e.value.kind == "syntax"


def test_policy_error_kind_tells_text_problems_apart() -> None:
    with pytest.raises(PolicyError) as e:
        Policy.from_toml("name = ")
    assert e.value.kind == "syntax"
    with pytest.raises(PolicyError) as e:
        Policy.from_toml(TOML.replace('min_margin = "0.15"', 'min_margin = "2"'))
    assert (e.value.kind, e.value.path) == ("invalid", "margin.min_margin")


def test_missing_policy_file_is_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(FileNotFoundError) as e:
        Policy.from_file(path)
    assert e.value.errno == errno.ENOENT and e.value.filename == str(path)
    assert isinstance(e.value, PolicyError) and e.value.kind == "not_found"
    assert isinstance(e.value, priceguard.PolicyFileNotFoundError)


@pytest.mark.parametrize("path", ["/dev/zero", "directory", "fifo"])
def test_a_policy_path_that_is_not_a_file(tmp_path: Path, path: str) -> None:
    target = tmp_path if path == "directory" else Path(path)
    if path == "fifo":
        # A named pipe with no writer: refused, not waited on.
        target = tmp_path / "policy.toml"
        os.mkfifo(target)
    if not target.exists():  # pragma: no cover - every Linux has /dev/zero
        pytest.skip(f"{target} does not exist here")
    with pytest.raises(PolicyError, match="is not a regular file") as e:
        Policy.from_file(target)
    assert e.value.kind == "not_a_file"


def test_policy_file_size_cap(tmp_path: Path) -> None:
    assert priceguard.MAX_POLICY_BYTES == 4 * 1024 * 1024
    path = tmp_path / "p.toml"
    # Valid TOML padded past the cap with a comment.
    path.write_text(TOML + "#" + "x" * priceguard.MAX_POLICY_BYTES + "\n")
    with pytest.raises(PolicyError, match="larger than the policy size cap") as e:
        Policy.from_file(path)
    assert e.value.kind == "too_large"
    big = Policy.from_file(path, max_bytes=2 * priceguard.MAX_POLICY_BYTES)
    assert big.name == "bad-input"
    small = tmp_path / "small.json"
    small.write_text(json.dumps(Policy.from_toml(TOML).to_dict()))
    with pytest.raises(PolicyError, match="larger than the policy size cap of 10 bytes"):
        Policy.from_file(small, max_bytes=10)
    with pytest.raises(ValueError, match="max_bytes"):
        Policy.from_file(small, max_bytes=-1)


# -- one value, one answer in every door ---------------------------------------------


def doors(policy: Policy, field: str, value: Any) -> dict[str, Any]:
    """The decision for one item {proposed_price 20.00, unit_cost 10.00,
    field: value} through each door, as `BatchResult.decision` dicts."""
    base: dict[str, Any] = {"proposed_price": 20.0, "unit_cost": 10.0, "reference_price": 25.0, "now": NOW}
    item = {**base, field: value}
    single = {k: v for k, v in policy.evaluate(item).to_dict().items() if k != "sku"}
    as_numpy: dict[str, Any] = {k: np.array([v]) for k, v in item.items()}
    as_pandas: dict[str, Any] = {k: pd.Series([v]) for k, v in item.items()}
    arrow = policy.evaluate_arrow(pa.table({k: pa.array([float(v)], type=pa.float64()) for k, v in item.items()}))
    row = {k: arrow.column(k)[0].as_py() for k in single}
    for k in ("violated", "binding", "unmet", "relaxed"):
        row[k] = tuple(row[k])
    return {
        "evaluate": single,
        "numpy": policy.evaluate_batch(**as_numpy).decision(0),
        "pandas": policy.evaluate_batch(**as_pandas).decision(0),
        "arrow": row,
    }


FIELDS = ["proposed_price", "unit_cost", "reference_price", "expected_units", "now", "changes_in_window"]


def test_one_float_value_one_decision_in_every_door(policy: Policy) -> None:
    for field in FIELDS:
        for value in [float("nan"), float("inf"), -1.0, 0.0, 1e300]:
            got = doors(policy, field, value)
            for door in ("numpy", "pandas", "arrow"):
                assert got[door] == got["evaluate"], (field, value, door)


def test_nan_is_absent_in_every_door(policy: Policy) -> None:
    # A NaN cost is a missing cost (pandas' missing marker), not an error
    # in one door and a gap in another.
    for door, d in doors(policy, "unit_cost", float("nan")).items():
        assert (d["outcome"], d["reason"], d["invalid_field"]) == ("rejected", "missing_cost", None), door
    for door, d in doors(policy, "proposed_price", float("nan")).items():
        assert (d["reason"], d["invalid_field"]) == ("invalid_input", "proposed_price"), door
    assert policy.evaluate({"proposed_price": 20.0, "unit_cost": pd.NA}).reason == "missing_cost"


def test_float32_is_refused_in_every_door(policy: Policy) -> None:
    price = np.float32(19.99)
    d = policy.evaluate({"proposed_price": price, "unit_cost": 1})
    assert (d.reason, d.invalid_field) == ("invalid_input", "proposed_price")
    assert d.explain() == "rejected: proposed_price: `19.99` is a float32; give a float64, Decimal, str or int"
    refusals: list[Callable[[], Any]] = [
        lambda: policy.evaluate_batch(proposed_price=np.array([19.99], dtype=np.float32)),
        lambda: policy.evaluate_batch(proposed_price=np.array([20.0]), unit_cost=np.array([1.0], dtype=np.float32)),
        lambda: policy.evaluate_batch(proposed_price=np.array([20.0]), unit_cost=price),
        lambda: policy.evaluate_batch(proposed_price=pd.Series([19.99], dtype="float32")),
        lambda: policy.evaluate_batch(proposed_price=pd.Series([19.99], dtype="Float32")),
        lambda: policy.evaluate_batch(proposed_price=np.array([19.99], dtype=np.float16)),
        lambda: policy.evaluate_frame(pl.DataFrame({"proposed_price": [19.99]}, schema={"proposed_price": pl.Float32})),
    ]
    for refuse in refusals:
        with pytest.raises(ValueError, match="float"):
            refuse()
    with pytest.raises(ValueError, match="float"):
        policy.evaluate_arrow(pa.table({"proposed_price": pa.array([19.99], type=pa.float32())}))


# -- explain() says why ------------------------------------------------------------


EXPLAINED: list[tuple[dict[str, Any], str]] = [
    ({"proposed_price": "abc"}, "rejected: proposed_price: `abc` is not a decimal number"),
    ({"proposed_price": 2**70}, f"rejected: proposed_price: `{2**70}` is beyond the supported range"),
    ({"proposed_price": 0}, "rejected: proposed_price: `0.00` must be greater than zero"),
    ({"proposed_price": "20", "unit_cost": -1}, "rejected: unit_cost: `-1.00` must not be negative"),
    ({"proposed_price": float("inf")}, "rejected: proposed_price: `inf` is not a finite number"),
    ({"unit_cost": "1"}, "rejected: proposed_price: is required"),
    ({"proposed_price": "20", "expected_units": "1.5"}, "rejected: expected_units: `1.5` is not a whole number"),
    ({"proposed_price": True}, "rejected: proposed_price: `True` is not a number"),
    ({"proposed_price": "20", "campaign": 7}, "rejected: campaign: `7` is not a campaign name (a str)"),
]


def test_explain_gives_the_reason(policy: Policy) -> None:
    # The command line's words for each value (cli/src/read.rs, eval.rs).
    for item, want in EXPLAINED:
        d = policy.evaluate(item)
        assert d.reason == "invalid_input", item
        assert d.explain() == want


# -- the package's namespace ------------------------------------------------------------


def test_dir_shows_only_the_public_names(tmp_path: Path) -> None:
    # A fresh interpreter (other tests import priceguard.spark and .testing),
    # away from the source tree so it imports the installed package.
    code = "import priceguard, json; print(json.dumps(sorted(dir(priceguard))))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ, cwd=tmp_path
    )
    names = json.loads(out.stdout)
    assert "annotations" not in names and "enum" not in names
    public = {n for n in names if not n.startswith("_")}
    assert public == {n for n in priceguard.__all__ if not n.startswith("_")}
