"""The name columns of `to_pandas` / `evaluate_frame`, built from a table of
the distinct codes and one take (`labels="string"`) or as categoricals
(the default), against a straightforward reference: one name per row,
then `pd.array(..., dtype="string")` as before."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import priceguard
from priceguard import _native
from priceguard._policy import _code_table, _decode

pd = pytest.importorskip("pandas")


def rule_text(m: int) -> str:
    return ";".join(_native.rule_names(m))


def label(c: int) -> str:
    return f"code-{c}"


def reference(codes: np.ndarray, name: Callable[[int], str]) -> np.ndarray:
    return np.array([name(int(c)) for c in codes], dtype=object)


def cases() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(24)
    all_rules = (1 << 23) - 1
    return [
        ("empty u64", np.zeros(0, dtype=np.uint64)),
        ("empty u8", np.zeros(0, dtype=np.uint8)),
        ("all zero u64", np.zeros(1000, dtype=np.uint64)),
        ("all zero u8", np.zeros(1000, dtype=np.uint8)),
        ("one row", np.array([5], dtype=np.uint64)),
        ("all equal small", np.full(777, 9, dtype=np.uint64)),
        ("all equal large", np.full(777, 1 << 40, dtype=np.uint64)),
        ("all distinct small", rng.permutation(5000).astype(np.uint64)),
        ("all distinct large", rng.permutation(5000).astype(np.uint64) * 1_000_003),
        ("dense edge", np.array([(1 << 16) - 1, 0, (1 << 16) - 1], dtype=np.uint64)),
        ("just past dense", np.array([1 << 16, 0, 1 << 16, 3], dtype=np.uint64)),
        ("u64 max", np.array([2**64 - 1, 0, 1], dtype=np.uint64)),
        ("random u8", rng.integers(0, 256, 10_000).astype(np.uint8)),
        ("random rule masks", rng.integers(0, all_rules + 1, 10_000).astype(np.uint64)),
        ("few rule masks", rng.choice(np.array([0, 1, 1 << 20, (1 << 20) | 16], dtype=np.uint64), 10_000)),
        ("int64 indices", rng.integers(0, 40, 3000).astype(np.int64)),
    ]


@pytest.mark.parametrize("case", cases(), ids=lambda c: c[0])
def test_code_table_names_every_row_as_the_reference(case: tuple[str, np.ndarray]) -> None:
    _, codes = case
    name = rule_text if codes.dtype == np.uint64 and (len(codes) == 0 or int(codes.max()) < 1 << 23) else label
    expected = reference(codes, name)
    indices, table = _code_table(codes, name)
    assert len(indices) == len(codes)
    got = np.array(table, dtype=object)[indices] if len(codes) else np.array([], dtype=object)
    assert got.tolist() == expected.tolist()
    assert _decode(codes, name).tolist() == expected.tolist()
    # The pandas column: same values and dtype as the object array converted.
    want = pd.array(expected, dtype="string")
    col = pd.array(table, dtype="string").take(indices)
    assert col.dtype == want.dtype
    assert type(col) is type(want)
    assert col.tolist() == want.tolist()


def test_code_table_names_each_distinct_code_once() -> None:
    calls: list[int] = []

    def name(c: int) -> str:
        calls.append(c)
        return label(c)

    codes = np.array([3, 3, 1 << 30, 3, 1 << 30, 0], dtype=np.uint64)
    _code_table(codes, name)
    assert sorted(calls) == [0, 3, 1 << 30]
    calls.clear()
    _code_table(np.array([7, 7, 2], dtype=np.uint8), name)
    assert sorted(calls) == [2, 7]


def old_to_pandas(r: priceguard.BatchResult) -> Any:
    """`BatchResult.to_pandas` as it was: an object array per name column."""
    names: dict[str, Any] = {}
    names["outcome"] = np.array(_native.OUTCOMES, dtype=object)[r.outcome]
    for k in ("violated", "binding", "unmet"):
        names[k] = reference(getattr(r, k), rule_text)
    names["relaxed"] = reference(r.relaxed, lambda m: ";".join(_native.class_names(m)))
    names["reason"] = reference(r.reason, _native.reason_name)
    fields = np.array(list(_native.FIELDS) + [None], dtype=object)
    names["invalid_field"] = fields[np.where(r.invalid_field < 0, len(_native.FIELDS), r.invalid_field)]
    cols: dict[str, Any] = {"outcome": pd.array(names["outcome"], dtype="string")}
    for k in ("price", "lower", "upper"):
        cols[k] = r._pandas_money(pd, k)
    for k in ("violated", "binding", "unmet", "relaxed", "reason"):
        cols[k] = pd.array(names[k], dtype="string")
    cols["promo_spend"] = r._pandas_money(pd, "promo_spend")
    cols["needs_approval"] = pd.array(r.needs_approval, dtype="boolean")
    cols["invalid_field"] = pd.array(names["invalid_field"], dtype="string")
    cols["lawful_reference"] = r._pandas_money(pd, "lawful_reference")
    return pd.DataFrame(cols)


def random_batch(n: int, money: str) -> priceguard.BatchResult:
    """A batch touching every outcome, relaxed rows, promotions, invalid rows and rules past bit 16."""
    policy = priceguard.Policy.from_toml(
        'name = "t"\nversion = "1"\ncurrency = "USD"\ntick = "0.05"\n'
        '[bounds]\nmin_price = "0.99"\nmax_price = "5000"\n'
        '[margin]\nmin_margin = "0.15"\n'
        '[change]\nmax_increase = "0.10"\nmax_decrease = "0.20"\ncooldown_secs = 3600\n'
        '[promotion]\nmax_discount = "0.50"\n'
    )
    rng = np.random.default_rng(7)
    cost = rng.integers(1, 10_000, n)
    current = (cost * rng.uniform(0.9, 1.8, n)).astype(np.int64)
    proposed = (current * rng.uniform(0.5, 1.5, n)).astype(np.int64)
    proposed[rng.random(n) < 0.02] = -5  # invalid input
    promo = rng.random(n) < 0.2
    reference_price = np.ma.masked_array(current, mask=~promo)
    units = np.ma.masked_array(rng.integers(1, 100, n), mask=~promo)
    last = 1_800_000_000 - rng.integers(0, 7200, n)
    if money == "minor":
        return policy.evaluate_batch(
            proposed_price=proposed, current_price=current, unit_cost=cost, reference_price=reference_price,
            expected_units=units, last_change_at=last, now=1_800_000_000, money="minor",
        )
    return policy.evaluate_batch(
        proposed_price=proposed / 100, current_price=current / 100, unit_cost=cost / 100,
        reference_price=np.where(promo, current / 100, np.nan), expected_units=units.filled(0).astype(float),
        last_change_at=last, now=1_800_000_000,
    )


NAME_COLUMNS = ("outcome", "violated", "binding", "unmet", "relaxed", "reason", "invalid_field")


@pytest.mark.parametrize("money", ["major", "minor"])
@pytest.mark.parametrize("n", [0, 1, 5000])
def test_to_pandas_equals_the_object_array_reference(money: str, n: int) -> None:
    r = random_batch(n, money)
    got, want = r.to_pandas(labels="string"), old_to_pandas(r)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.dtypes.tolist() == want.dtypes.tolist()
    # The default: the same values as categoricals of the names present.
    cat = r.to_pandas()
    for k in NAME_COLUMNS:
        assert isinstance(cat[k].dtype, pd.CategoricalDtype), k
        assert cat[k].astype(object).where(cat[k].notna(), None).tolist() == [
            None if v is pd.NA else v for v in want[k].tolist()
        ], k
        assert cat[k].cat.categories.is_unique
        if k == "outcome":  # every outcome, in code order, present or not
            assert cat[k].cat.categories.tolist() == list(_native.OUTCOMES)
        else:
            assert set(cat[k].cat.categories) == set(want[k].dropna().unique()), k
    others = [k for k in want.columns if k not in NAME_COLUMNS]
    pd.testing.assert_frame_equal(cat[others], want[others], check_exact=True)
    if n > 1000:
        # The data reaches both tables: dense small codes and hashed masks past bit 16.
        assert got["outcome"].nunique() >= 3
        assert int(r.binding.max()) >= 1 << 16 or int(r.violated.max()) >= 1 << 16
        assert got["invalid_field"].notna().any() and got["invalid_field"].isna().any()


@pytest.mark.parametrize("labels", ["category", "string"])
def test_to_polars_equals_the_list_reference(labels: Any) -> None:
    pl = pytest.importorskip("polars")
    r = random_batch(3000, "major")
    want = old_to_pandas(r)
    got = r._to_polars(labels=labels)  # consumes r (evaluate_frame's own result)
    for k in NAME_COLUMNS:
        if labels == "string":
            assert got[k].dtype == pl.Utf8
        else:
            assert isinstance(got[k].dtype, pl.Enum), k
        assert got[k].to_list() == [None if v is pd.NA else v for v in want[k].tolist()]


@pytest.mark.parametrize(
    "codes",
    [
        np.zeros(0, dtype=np.uint64),
        np.zeros(1000, dtype=np.uint8),
        np.array([5, -1, 5, 0, -1], dtype=np.int8),
        np.array([2**63 - 1, 0, 3, 2**63 - 1], dtype=np.uint64),
        np.random.default_rng(1).choice(np.array([0, 1 << 20, 16, (1 << 20) | 16, 1 << 40], dtype=np.uint64), 10_000),
        np.random.default_rng(2).integers(0, 256, 5000).astype(np.uint8),  # past int8's 127 categories
        np.random.default_rng(3).integers(0, 40_000, 100_000).astype(np.int64),  # past int16's
        np.arange(300, dtype=np.int32)[::-1].copy(),
    ],
    ids=lambda c: f"{c.dtype}-{len(c)}",
)
def test_dense_codes_equal_a_sorting_reference(codes: np.ndarray) -> None:
    got, uniques = _native._dense_codes(codes)
    values = codes.astype(np.int64)
    present = values >= 0
    want_uniques = np.unique(values[present])
    assert uniques == want_uniques.tolist()
    want = np.full(len(codes), -1, dtype=np.int64)
    want[present] = np.searchsorted(want_uniques, values[present])
    assert got.astype(np.int64).tolist() == want.tolist()
    k = len(uniques)
    assert got.dtype == (np.int8 if k <= 127 else np.int16 if k <= 32767 else np.int32)


def test_dense_codes_refuse_a_mask_past_bit_62() -> None:
    with pytest.raises(ValueError, match="above 2\\^63"):
        _native._dense_codes(np.array([0, 2**63], dtype=np.uint64))


def test_masked_float_columns_decide_as_nan() -> None:
    """A mask on a float64 column is NaN (absent) under the mask, even over
    a value; a pandas frame's missing floats likewise: same decisions."""
    rng = np.random.default_rng(3)
    n = 2000
    policy = priceguard.Policy.from_toml(
        'name = "t"\nversion = "1"\ncurrency = "USD"\n[bounds]\nmin_price = "0.99"\nmax_price = "5000"\n'
        '[promotion]\nmax_discount = "0.50"\n[change]\nmax_decrease = "0.20"\n'
    )
    current = rng.integers(100, 10_000, n) / 100
    proposed = current * rng.uniform(0.3, 1.3, n)
    gone = rng.random(n) < 0.6
    no_proposal = gone & (rng.random(n) < 0.05)
    nan = np.where(gone, np.nan, current)
    masked = policy.evaluate_batch(
        proposed_price=np.ma.masked_array(proposed, mask=no_proposal),
        current_price=current,
        reference_price=np.ma.masked_array(np.where(gone, 1e9, current), mask=gone),
    ).to_pandas()
    plain = policy.evaluate_batch(
        proposed_price=np.where(no_proposal, np.nan, proposed), current_price=current, reference_price=nan,
    ).to_pandas()
    pd.testing.assert_frame_equal(masked, plain, check_exact=True)
    assert masked["outcome"].nunique() > 1
    assert masked["invalid_field"].eq("proposed_price").sum() == no_proposal.sum() > 0
    frame = policy.evaluate_frame(
        pd.DataFrame({
            "proposed_price": pd.array(np.where(no_proposal, np.nan, proposed), dtype="Float64"),
            "current_price": current,
            "reference_price": pd.Series(nan),
        })
    )
    pd.testing.assert_frame_equal(frame, plain, check_exact=True)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int32, np.int64])
def test_take_names_writes_each_rows_name(dtype: Any) -> None:
    pa = pytest.importorskip("pyarrow")
    rng = np.random.default_rng(5)
    table = ["", "accepted", None, "margin;max_increase;tick", "é"]
    for n in (0, 1, 1000):
        idx = rng.integers(0, len(table), n).astype(dtype)
        got = _native._take_names([("c", idx, table)]).column(0)
        assert got.type == pa.large_string()
        assert got.to_pylist() == [table[i] for i in idx]
    all_set = _native._take_names([("c", np.array([1, 0, 1], dtype=dtype), ["a", "b"])]).column(0)
    assert all_set.null_count == 0 and all_set.to_pylist() == ["b", "a", "b"]


def test_take_names_refuses_an_index_outside_the_table() -> None:
    for bad in (np.array([0, 2], dtype=np.int64), np.array([-1], dtype=np.int32)):
        with pytest.raises(ValueError, match="outside its table"):
            _native._take_names([("c", bad, ["a", "b"])])
    with pytest.raises(ValueError, match="name indices"):
        _native._take_names([("c", np.arange(10, dtype=np.int64)[::2], ["a"] * 10)])
