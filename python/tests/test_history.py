"""`priceguard.history.summarize` (docs/spec.md §11.1) and the history
fields and `lawful_reference` through every Python path.

Expected summaries are worked by hand in each test's docstring (the same
worked example as the command line's tests, cli/tests/history.rs); where
the command-line binary is built, its `history summarize` output on the
same rows must equal this door's, cell for cell.
"""

from __future__ import annotations

import csv
import io
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pytest

import priceguard
from conftest import REPO
from priceguard import history

pd = pytest.importorskip("pandas")

DAY = 86_400
POLICY_TOML = """
name = "h"
currency = "USD"
[bounds]
min_price = "1.00"
max_price = "1000"
[change]
window_secs = 1728000
[disclosure]
prior_days = 30
[market]
max_quote_age_secs = 86400
outlier_mad = "3"
"""

# SKU A: 12.00 from day 0, 10.00 from day 60, 12.00 from day 85, on
# promotion at 9.00 (was 12.00) from day 90; now = day 100, prior_days 30,
# window 20 days. The promotion began on day 90: the prior period is
# [day 60, day 90), holding 10.00 and 12.00: low 10.00. Window [day 80,
# day 100]: anchor 10.00 (in force on day 80), changes 12.00 (day 85) and
# 9.00 (day 90): up then down, one reversal; last change day 90.
#
# SKU B: 10.00 at 0, a promotion 8.00 (was 10.00) on days 10-12, 10.00
# again from day 12 and repeated on day 95 (no change): not on promotion;
# last promotion ended on day 12; last change day 12; no change in the
# window, anchor 10.00; prior period [day 70, day 100): 10.00.
#
# Quotes for A (now = day 100, max age 1 day, k = 3): fresh 10.00, 10.20,
# 10.40, 30.00 (competitor c's older 9.00 is replaced by its latest,
# 10.40; e's quote is two days old): median 10.30, deviations 0.30, 0.10,
# 0.10, 19.70, MAD 0.20, bound 0.60: 30.00 dropped; median of 10.00, 10.20,
# 10.40 is 10.20, 3 quotes kept. B has no quote: 0 kept.
PRICES = {
    "sku": ["A", "B", "A", "A", "A", "B", "B", "B"],
    "price": ["9.00", "10.00", "12.00", "10.00", "12.00", "8.00", "10.00", "10.00"],
    "at": [90 * DAY, 0, 0, 60 * DAY, 85 * DAY, 10 * DAY, 12 * DAY, 95 * DAY],
    "reference_price": ["12.00", None, None, None, None, "10.00", None, None],
}
QUOTES = {
    "sku": ["A"] * 6,
    "competitor": ["a", "b", "c", "c", "d", "e"],
    "price": ["10.00", "10.20", "9.00", "10.40", "30.00", "10.30"],
    "seen_at": [100 * DAY - 3600, 100 * DAY - 3600, 100 * DAY - 7200, 100 * DAY - 3600, 100 * DAY - 3600, 98 * DAY],
}
NOW = 100 * DAY
EXPECT = {
    "A": ("10.00", 90 * DAY, None, 1, 90 * DAY, 2, "10.00", "10.20", 3),
    "B": ("10.00", None, 12 * DAY, 0, 12 * DAY, 0, "10.00", None, 0),
}


def cells(frame: Any) -> dict[str, tuple[Any, ...]]:
    """A summary frame (pandas or polars) as `{sku: row}`, money as text
    with the exact digits, missing values as None."""
    if type(frame).__module__.startswith("polars"):
        rows = frame.rows()
    else:
        rows = list(frame.astype(object).itertuples(index=False, name=None))
    out = {}
    for r in rows:
        vals = []
        for k, v in zip(history.COLUMNS, r[1:]):
            if v is None or v is pd.NA or (isinstance(v, float) and v != v):
                vals.append(None)
            elif k in ("prior_low_price", "window_anchor_price", "competitor_price"):
                assert isinstance(v, Decimal), (k, v)
                vals.append(str(v))
            else:
                vals.append(int(v))
        out[r[0]] = tuple(vals)
    return out


@pytest.fixture(scope="module")
def policy() -> priceguard.Policy:
    return priceguard.Policy.from_toml(POLICY_TOML)


def test_worked_example_dict(policy: priceguard.Policy) -> None:
    s = history.summarize(PRICES, QUOTES, now=NOW, policy=policy)
    assert list(s.columns) == ["sku", *history.COLUMNS]
    assert s["sku"].tolist() == ["A", "B"]
    assert str(s["promo_started_at"].dtype) == "Int64"
    assert s["prior_low_price"].dtype == object
    assert cells(s) == EXPECT


def test_worked_example_pandas_forms(policy: priceguard.Policy) -> None:
    """float64 money (shortest repr), Decimal money, datetime64 times: one answer."""
    floats = pd.DataFrame({**PRICES, "price": [float(p) for p in PRICES["price"]]})
    floats["reference_price"] = [np.nan if r is None else float(r) for r in PRICES["reference_price"]]
    assert floats["reference_price"].dtype == np.float64
    quotes = pd.DataFrame({**QUOTES, "price": [Decimal(p) for p in QUOTES["price"]]})
    quotes["seen_at"] = pd.to_datetime(quotes["seen_at"], unit="s")
    s = history.summarize(floats, quotes, now=NOW, policy=policy)
    assert cells(s) == EXPECT


def test_reachable_from_the_package() -> None:
    assert priceguard.history.summarize is history.summarize


def test_worked_example_polars(policy: priceguard.Policy) -> None:
    pl = pytest.importorskip("polars")
    prices = pl.DataFrame(PRICES).with_columns(pl.col("price").cast(pl.Decimal(10, 2)))
    s = history.summarize(prices, pl.DataFrame(QUOTES), now=NOW, policy=policy)
    assert isinstance(s, pl.DataFrame)
    assert s.columns == ["sku", *history.COLUMNS]
    assert s.schema["prior_low_price"] == pl.Decimal(38, 2)
    assert cells(s) == EXPECT
    # Joined onto polars proposals, the Decimal and Int64 columns decide as
    # the pandas join does.
    props = {"sku": ["A", "B"], "proposed_price": ["8.50", "9.50"], "current_price": ["9.00", "10.00"],
             "reference_price": ["12.00", "11.00"], "now": [NOW, NOW]}
    got = policy.evaluate_frame(pl.DataFrame(props).join(s, on="sku", how="left"), labels="string")
    want = policy.evaluate_frame(
        pd.DataFrame(props).merge(history.summarize(PRICES, QUOTES, now=NOW, policy=policy), on="sku", how="left"),
        labels="string",
    )
    assert got["reason"].to_list() == want["reason"].tolist() == ["prior_price", "prior_price"]
    assert got["lawful_reference"].to_list() == want["lawful_reference"].tolist() == [10.0, 10.0]


def test_minor_units(policy: priceguard.Policy) -> None:
    """`money="minor"`: int columns are cents; without it an int is major units."""
    cents = {**PRICES, "price": [int(Decimal(p) * 100) for p in PRICES["price"]]}
    cents["reference_price"] = [None if r is None else int(Decimal(r) * 100) for r in PRICES["reference_price"]]
    s = history.summarize(cents, QUOTES, now=NOW, policy=policy, money="minor")
    assert cells(s) == EXPECT
    # 12 as major units is 12.00.
    one = {"sku": ["X"], "price": [12], "at": [0]}
    assert cells(history.summarize(one, now=DAY, prior_days=30, currency="USD"))["X"][0] == "12.00"


def test_keywords_override_the_policy(policy: priceguard.Policy) -> None:
    """A 5-day prior period before day 90 is [day 85, day 90): only 12.00.
    Without quotes the competitor columns are empty."""
    s = cells(history.summarize(PRICES, now=NOW, policy=policy, prior_days=5))
    assert s["A"][0] == "12.00"
    assert s["B"][7:] == (None, None)
    # No policy, no period: the fields needing one are empty.
    bare = cells(history.summarize(PRICES, now=NOW, currency="USD"))
    assert bare["A"] == (None, 90 * DAY, None, None, 90 * DAY, None, None, None, None)


def test_a_median_finer_than_the_currency() -> None:
    """The median of 10.00 and 10.01 is 10.005: kept exactly."""
    prices = {"sku": ["A"], "price": ["10.00"], "at": [0]}
    quotes = {"sku": ["A", "A"], "competitor": ["a", "b"], "price": ["10.00", "10.01"], "seen_at": [0, 0]}
    s = history.summarize(prices, quotes, now=10, currency="USD")
    assert s.loc[0, "competitor_price"] == Decimal("10.005")
    assert int(s.loc[0, "competitor_quotes"]) == 2
    pl = pytest.importorskip("polars")
    p = history.summarize(pl.DataFrame(prices), pl.DataFrame(quotes), now=10, currency="USD")
    assert p.schema["competitor_price"] == pl.Decimal(38, 3)
    assert p["competitor_price"].to_list() == [Decimal("10.005")]


@pytest.mark.parametrize(
    "prices, message",
    [
        ({"sku": ["A"], "price": ["x"], "at": [0]}, "prices row 0: price: `x`"),
        ({"sku": ["A", "A"], "price": ["1.00", "-1.00"], "at": [0, 1]}, "prices row 1: price"),
        ({"sku": ["A"], "price": ["1.00"], "at": [-5]}, "prices row 0: at: `-5`"),
        ({"sku": ["A"], "price": ["1.00"], "at": [1.5]}, "prices row 0: at: `1.5`"),
        ({"sku": ["A"], "price": [None], "at": [0]}, "prices row 0: price: is missing"),
        ({"sku": [None], "price": ["1.00"], "at": [0]}, "prices row 0: sku: is missing"),
        ({"sku": ["A"], "price": ["1.00"]}, "no `at` column"),
        ({"sku": ["A"], "price": ["1.00"], "at": [0], "prise": [1]}, "unknown column `prise`"),
        ({"sku": ["A"], "price": ["1.00"], "at": [0], "reference_price": ["0"]}, "reference_price"),
        ({"sku": ["A"], "price": [np.float32(1.0)], "at": [0]}, "float32"),
        ({"sku": ["A"], "price": [True], "at": [0]}, "not a number"),
    ],
)
def test_bad_rows_fail_closed(prices: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        history.summarize(prices, now=10, prior_days=30, currency="USD")


def test_bad_arguments() -> None:
    rows = {"sku": ["A"], "price": ["1.00"], "at": [0]}
    with pytest.raises(ValueError, match="currency"):
        history.summarize(rows, now=10)
    with pytest.raises(ValueError, match="ISO 4217"):
        history.summarize(rows, now=10, currency="XYZ")
    with pytest.raises(ValueError, match="history parameters"):
        history.summarize(rows, now=10, currency="USD", prior_days=0)
    with pytest.raises(ValueError, match="outlier_mad"):
        history.summarize(rows, now=10, currency="USD", outlier_mad="-1")
    with pytest.raises(ValueError, match="now"):
        history.summarize(rows, now=-1, currency="USD")
    with pytest.raises(ValueError, match="money"):
        history.summarize(rows, now=10, currency="USD", money="cents")
    with pytest.raises(ValueError, match="quotes: no `seen_at` column"):
        history.summarize(rows, {"sku": [], "competitor": [], "price": []}, now=10, currency="USD")
    with pytest.raises(TypeError, match="DataFrame"):
        history.summarize([1, 2], now=10, currency="USD")


def cli() -> Optional[Path]:
    """The built command-line binary, if it has `history summarize`."""
    for profile in ("release", "debug"):
        exe = REPO / "target" / profile / "priceguard"
        if exe.exists():
            done = subprocess.run([exe, "history", "summarize", "--help"], capture_output=True)
            if done.returncode == 0:
                return exe
    return None


def write_csv(path: Path, cols: dict[str, list[Any]]) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for row in zip(*cols.values()):
            w.writerow(["" if v is None else v for v in row])


def test_equals_the_command_line(tmp_path: Path) -> None:
    """`history.summarize` and `priceguard history summarize` on the same
    files give the same cells (this door's frame written as the CLI writes
    its CSV). The weekly fixture at every week, and the worked example."""
    exe = cli()
    if exe is None:
        pytest.skip("the priceguard binary is not built (cargo build -p priceguard-cli)")
    write_csv(tmp_path / "prices.csv", PRICES)
    write_csv(tmp_path / "quotes.csv", QUOTES)
    (tmp_path / "p.toml").write_text(POLICY_TOML)
    weekly = REPO / "tests" / "history" / "weekly_year.csv"
    runs = [
        (tmp_path / "prices.csv", tmp_path / "quotes.csv", NOW, ["--policy", str(tmp_path / "p.toml")]),
        (tmp_path / "prices.csv", None, NOW, ["--policy", str(tmp_path / "p.toml"), "--prior-days", "5"]),
    ] + [(weekly, None, 1_767_225_600 + w * 7 * DAY, ["--currency", "USD", "--prior-days", "30"]) for w in (0, 14, 31, 40, 51)]
    for prices, quotes, now, flags in runs:
        args = [str(exe), "history", "summarize", "-q", "--prices", str(prices), "--now", str(now), *flags]
        if quotes is not None:
            args += ["--quotes", str(quotes)]
        want = subprocess.run(args, capture_output=True, text=True, check=True).stdout
        table = pd.read_csv(prices, dtype=str, keep_default_na=False)
        table = {k: [None if v == "" else v for v in table[k]] for k in table.columns}
        table["at"] = [int(v) for v in table["at"]]
        q = None
        if quotes is not None:
            qt = pd.read_csv(quotes, dtype=str)
            q = {k: list(qt[k]) for k in qt.columns}
            q["seen_at"] = [int(v) for v in q["seen_at"]]
        kw: dict[str, Any] = {"currency": "USD"}
        if "--policy" in flags:
            kw = {"policy": priceguard.Policy.from_file(flags[1])}
        if "--prior-days" in flags:
            kw["prior_days"] = int(flags[flags.index("--prior-days") + 1])
        got = history.summarize(table, q, now=now, **kw)
        buf = io.StringIO()
        buf.write(",".join(got.columns) + "\n")
        for r in got.astype(object).itertuples(index=False, name=None):
            buf.write(",".join("" if v is None or v is pd.NA else str(v) for v in r) + "\n")
        assert buf.getvalue() == want, (prices.name, now)


T0 = 1_767_225_600
WEEK = 7 * DAY


def test_a_year_of_weekly_prices() -> None:
    """The end-to-end fixture `tests/history/weekly_year.csv` (one SKU,
    20.00 regular, three promotions) replayed week by week: summarised at
    each week, joined onto that week's proposal on `sku` and decided by
    `evaluate_frame`. Hand-computed (cli/tests/history.rs gives the
    arithmetic, 30 days being 4 2/7 weeks): the "was" price exceeds the
    30-day low in weeks 14 and 15 (was 20.00, low 18.00 from the cut in
    weeks 10-11) and week 40 (was 22.00 after a raise in weeks 38-39, low
    20.00), and nowhere else, so `prior_price` holds exactly there, with
    the low as the lawful reference."""
    policy = priceguard.Policy.from_toml(
        'name = "omnibus"\ncurrency = "USD"\n[bounds]\nmin_price = "1.00"\nmax_price = "1000"\n'
        "[disclosure]\nprior_days = 30\n"
    )
    rows = pd.read_csv(REPO / "tests" / "history" / "weekly_year.csv", dtype={"price": str, "reference_price": str})
    rows["reference_price"] = rows["reference_price"].where(rows["reference_price"].notna(), None)
    held = {}
    for week in range(52):
        now = T0 + week * WEEK
        past = rows[rows["at"] < now]
        this = rows[rows["at"] == now]
        assert len(this) == 1
        summary = history.summarize(past, now=now, policy=policy) if len(past) else None
        proposal = pd.DataFrame(
            {
                "sku": this["sku"].to_numpy(),
                "proposed_price": this["price"].to_numpy(),
                "reference_price": this["reference_price"].to_numpy(),
                # The price in force until now: last week's (a hold keeps it).
                "current_price": [past["price"].iloc[-1] if len(past) else None],
                "now": [now],
            }
        )
        if summary is not None:
            # A running promotion's start is in the summary only from its
            # own row on: this week's row starts (or continues) it.
            proposal = proposal.merge(summary[["sku", "prior_low_price"]], on="sku", how="left")
        d = policy.evaluate_frame(proposal)
        if d.loc[0, "reason"] == "prior_price":
            held[week] = (d.loc[0, "outcome"], d.loc[0, "lawful_reference"])
    assert held == {14: ("held", 18.0), 15: ("held", 18.0), 40: ("held", 20.0)}


def test_joined_summary_equals_fields_given_by_hand(policy: priceguard.Policy) -> None:
    """Proposals joined with the summary decide as the same proposals
    carrying the (hand-computed, EXPECT) fields themselves."""
    props = pd.DataFrame({"sku": ["A", "B"], "proposed_price": ["8.50", "9.50"], "current_price": ["9.00", "10.00"]})
    props["reference_price"] = ["12.00", "11.00"]
    props["now"] = NOW
    summary = history.summarize(PRICES, QUOTES, now=NOW, policy=policy)
    joined = props.merge(summary, on="sku", how="left")
    by_hand = props.copy()
    for i, k in enumerate(history.COLUMNS):
        by_hand[k] = [EXPECT[s][i] for s in props["sku"]]
    a = policy.evaluate_frame(joined, labels="string")
    b = policy.evaluate_frame(by_hand, labels="string")
    pd.testing.assert_frame_equal(a, b)
    # B's "was" 11.00 is above its 30-day low 10.00: held at the lawful 10.00.
    assert a.loc[1, "reason"] == "prior_price" and a.loc[1, "lawful_reference"] == 10.0


# A prior_price hold (was 25.99 > low 24.99, lawful reference 24.99) and an
# accepted row (was 24.99 = low), through every path.
HOLD_POLICY = 'name = "p"\ncurrency = "USD"\n[bounds]\nmin_price = "1.00"\nmax_price = "1000"\n[disclosure]\nprior_days = 30\n'
ITEMS = [
    {"sku": "H", "proposed_price": "19.99", "current_price": "24.99", "reference_price": "25.99", "prior_low_price": "24.99"},
    {"sku": "L", "proposed_price": "19.99", "current_price": "24.99", "reference_price": "24.99", "prior_low_price": "24.99"},
]


def test_lawful_reference_every_path() -> None:
    policy = priceguard.Policy.from_toml(HOLD_POLICY)
    want = [Decimal("24.99"), None]
    for i, item in enumerate(ITEMS):
        d = policy.evaluate(item)
        assert d.lawful_reference == want[i] and d.to_dict()["lawful_reference"] == want[i]
    assert [d.lawful_reference for d in policy.evaluate_items(ITEMS)] == want
    cols = {k: np.array([it[k] for it in ITEMS], dtype=object) for k in ITEMS[0] if k != "sku"}
    major = policy.evaluate_batch(**cols)
    assert major.lawful_reference[0] == 24.99 and np.isnan(major.lawful_reference[1])
    assert [major.decision(i)["lawful_reference"] for i in range(2)] == want
    minor = policy.evaluate_batch(**cols, money="minor")
    assert minor.lawful_reference.tolist()[0] == 2499 and minor.lawful_reference_valid.tolist() == [True, False]
    assert [minor.decision(i)["lawful_reference"] for i in range(2)] == want
    df = major.to_pandas()
    assert str(df["lawful_reference"].dtype) == "Float64" and df["lawful_reference"].isna().tolist() == [False, True]
    assert str(minor.to_pandas()["lawful_reference"].dtype) == "Int64"
    frame = policy.evaluate_frame(pd.DataFrame(ITEMS))
    assert frame["lawful_reference"].tolist()[0] == 24.99 and frame["lawful_reference"].isna().tolist() == [False, True]
    pl = pytest.importorskip("polars")
    p = policy.evaluate_frame(pl.DataFrame(ITEMS))
    assert p["lawful_reference"].to_list() == [24.99, None]
    pa = pytest.importorskip("pyarrow")
    t = policy.evaluate_arrow(pa.Table.from_pylist([{k: v if k == "sku" else Decimal(v) for k, v in it.items()} for it in ITEMS]))
    assert t.schema.field("lawful_reference").type == pa.decimal128(38, 2)
    assert t.column("lawful_reference").to_pylist() == want


def test_history_fields_every_path() -> None:
    """Each history field reaches the engine through every path: a
    `promo_spell` past `max_days`, an `oscillation` over `max_reversals`,
    a quote gate with too few quotes and a `prior_price` hold, in a pandas
    frame with a datetime64 `promo_started_at`, a polars frame, Arrow with
    a timestamp column, batch columns and items."""
    policy = priceguard.Policy.from_toml(
        'name = "all"\ncurrency = "USD"\n[bounds]\nmin_price = "1.00"\nmax_price = "1000"\n'
        "[disclosure]\nprior_days = 30\n[promotion]\nmax_days = 10\nmin_days_between = 5\n"
        "[change]\nwindow_secs = 86400\nmax_reversals = 2\n"
    )
    now = 100 * DAY
    items = [
        # Promotion running 20 days > max_days 10.
        {"proposed_price": "9.00", "current_price": "9.00", "reference_price": "10.00", "prior_low_price": "10.00",
         "promo_started_at": now - 20 * DAY, "now": now},
        # 3 reversals > 2.
        {"proposed_price": "11.00", "current_price": "10.00", "reversals_in_window": 3, "now": now},
        # A new promotion 2 days after the last ended < min_days_between 5.
        {"proposed_price": "9.00", "current_price": "10.00", "reference_price": "10.00", "prior_low_price": "10.00",
         "last_promo_ended_at": now - 2 * DAY, "now": now},
        {"proposed_price": "9.00", "current_price": "10.00", "reference_price": "12.00", "prior_low_price": "10.00", "now": now},
    ]
    alone = [policy.evaluate(it) for it in items]
    reasons = [d.reason for d in alone]
    assert reasons[1] == "oscillation" and reasons[3] == "prior_price"
    assert all(r != "" for r in reasons), reasons
    want = [d.to_dict() for d in alone]
    for w in want:
        w.pop("sku")

    def same(got: list[dict[str, Any]], where: str) -> None:
        for i, (g, w) in enumerate(zip(got, want)):
            assert {k: g[k] for k in w} == w, f"{where} row {i}"

    same([d.to_dict() for d in policy.evaluate_items(items)], "items")
    keys = sorted({k for it in items for k in it})
    frame = pd.DataFrame([{k: it.get(k) for k in keys} for it in items])
    frame["promo_started_at"] = pd.to_datetime(frame["promo_started_at"], unit="s")
    for k in ("last_promo_ended_at", "reversals_in_window"):
        frame[k] = frame[k].astype("Int64")
    r = policy.evaluate_batch(**{k: frame[k] for k in keys})
    same([r.decision(i) for i in range(len(items))], "evaluate_batch")
    out = policy.evaluate_frame(frame, labels="string")
    assert out["reason"].tolist() == reasons
    pl = pytest.importorskip("polars")
    pout = policy.evaluate_frame(pl.from_pandas(frame))
    assert pout["reason"].cast(pl.Utf8).to_list() == reasons
    pa = pytest.importorskip("pyarrow")
    money = ("proposed_price", "current_price", "reference_price", "prior_low_price")
    arrow = frame.copy()
    for k in money:
        arrow[k] = [None if v is None else Decimal(v) for v in arrow[k]]
    t = policy.evaluate_arrow(pa.Table.from_pandas(arrow, preserve_index=False))
    assert pa.types.is_timestamp(t.column("promo_started_at").type) if "promo_started_at" in t.column_names else True
    assert t.schema.field("reason").type == pa.string()
    assert t.column("reason").to_pylist() == reasons


def test_audit_log_equals_published_rows(tmp_path: Path) -> None:
    """One history, one answer: the summary of an audit log equals the
    summary of the prices it published, given as rows.

    Decided under bounds [1.00, 1000] only: A 12.00 on day 0 (accepted),
    B "abc" on day 0 (rejected, invalid input: not published), A 10.00 on day 60 and A 9.00 "was 12.00" on day 90
    (accepted). Summarised at day 100 with prior_days 30: A's promotion
    began on day 90; the 30 days before hold 10.00 (from day 60): low
    10.00."""
    decide = priceguard.Policy.from_toml('name = "d"\ncurrency = "USD"\n[bounds]\nmin_price = "1.00"\nmax_price = "1000"\n')
    items = [
        {"sku": "A", "proposed_price": "12.00", "now": 0},
        {"sku": "B", "proposed_price": "abc", "now": 0},
        {"sku": "A", "proposed_price": "10.00", "current_price": "12.00", "now": 60 * DAY},
        {"sku": "A", "proposed_price": "9.00", "current_price": "10.00", "reference_price": "12.00", "now": 90 * DAY},
    ]
    decisions = [decide.evaluate(it) for it in items]
    assert [d.outcome for d in decisions][0::2] == ["accepted", "accepted"] and decisions[3].outcome == "accepted"
    assert decisions[1].outcome == "rejected"
    log = tmp_path / "audit.jsonl"
    priceguard.write_audit(log, decisions)
    published = [(it, d) for it, d in zip(items, decisions) if d.outcome in ("accepted", "adjusted")]
    rows = {
        "sku": [it["sku"] for it, _ in published],
        "price": [d.price for _, d in published],
        "at": [it["now"] for it, _ in published],
        "reference_price": [it.get("reference_price") for it, _ in published],
    }
    from_log = history.summarize(log, now=NOW, prior_days=30, window_secs=20 * DAY, currency="USD")
    from_rows = history.summarize(rows, now=NOW, prior_days=30, window_secs=20 * DAY, currency="USD")
    pd.testing.assert_frame_equal(from_log, from_rows)
    assert from_log["sku"].tolist() == ["A"]
    a = cells(from_log)["A"]
    assert a[0] == "10.00" and a[1] == 90 * DAY
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"seq": 1, "item": {"sku": "A"}, "decision": {"outcome": "accepted", "price": "x"}}\n')
    with pytest.raises(ValueError, match="line 1: decision.price"):
        history.summarize(bad, now=NOW, currency="USD")


def test_row_order_and_future_rows_do_not_matter(policy: priceguard.Policy) -> None:
    """Rows in any order give one summary (ties in `at` excepted, none
    here), and rows after `now` are not yet in force: adding a day-150 row
    and quote changes nothing at day 100."""
    want = history.summarize(PRICES, QUOTES, now=NOW, policy=policy)
    rng = np.random.default_rng(3)
    for _ in range(5):
        order = rng.permutation(len(PRICES["sku"]))
        shuffled = {k: [v[i] for i in order] for k, v in PRICES.items()}
        later = {k: v + [x] for (k, v), x in zip(shuffled.items(), ["A", "1.00", 150 * DAY, None])}
        quotes = {k: v + [x] for (k, v), x in zip(QUOTES.items(), ["A", "z", "1.00", 150 * DAY])}
        got = history.summarize(later, quotes, now=NOW, policy=policy)
        pd.testing.assert_frame_equal(got, want)
