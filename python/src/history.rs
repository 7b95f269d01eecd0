//! `priceguard.history.summarize`: the per-SKU history summaries of
//! docs/spec.md §11.1, computed by core's [`Summariser`] (the one place a
//! summary is computed, so the command line's `history summarize` and this
//! door give one answer for one history).
//!
//! The Python layer (`priceguard/history.py`) reads the frames and hands
//! over plain lists: money as exact decimal text (each value read as every
//! other door reads it), times as whole seconds. Fails closed: the first
//! value that cannot be used raises `ValueError` naming the table, row and
//! column, and no summary is returned.

use std::str::FromStr;

use priceguard::history::audit_rows::read_record;
use priceguard::history::{HistoryParams, PriceRow, Quote, Summariser, Summary};
use priceguard::money::{Amount, Currency, Digits};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rust_decimal::Decimal;

/// The periods of a summary, as `priceguard history summarize` takes them:
/// `prior_days`, `window_secs`, `max_quote_age_secs`, `outlier_mad` (text).
type Periods = (Option<u32>, Option<i64>, Option<i64>, Option<String>);

/// One summary column: money as exact text, times and counts as integers.
type Money = Vec<Option<String>>;
type Ints = Vec<Option<i64>>;

/// What `_history_summarize` returns: the SKUs (sorted) and the nine
/// columns of `priceguard::history::COLUMNS`, in that order.
type Columns = (
    Vec<String>,
    (Money, Ints, Ints, Ints, Ints, Ints, Money, Money, Ints),
);

fn bad(table: &str, row: usize, column: &str, msg: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("{table} row {row}: {column}: {msg}"))
}

fn amount(
    cur: Currency,
    table: &str,
    row: usize,
    column: &str,
    text: Option<&String>,
) -> PyResult<Amount> {
    let text = text.ok_or_else(|| bad(table, row, column, "is missing"))?;
    cur.parse_amount(text, Digits::Exact)
        .map_err(|e| bad(table, row, column, format!("`{text}` {e}")))
}

fn time(table: &str, row: usize, column: &str, v: Option<i64>) -> PyResult<i64> {
    match v {
        Some(t) if t >= 0 => Ok(t),
        Some(t) => Err(bad(
            table,
            row,
            column,
            format!("`{t}` is not a unix time in whole seconds, >= 0"),
        )),
        None => Err(bad(table, row, column, "is missing")),
    }
}

fn get<T: Clone>(v: &[Option<T>], i: usize) -> Option<T> {
    v.get(i).cloned().flatten()
}

/// The price rows an audit log (written by `write_audit` or `check
/// --audit`) stands for, as `_history_summarize` takes them: the
/// `accepted` and `adjusted` decisions' SKUs, prices (exact text), times
/// (the item's `now`, else `evaluated_at`) and reference prices
/// (docs/spec.md H10). A line that cannot be read raises `ValueError`
/// naming the file, line and member.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub(crate) fn _history_audit_rows(
    py: Python<'_>,
    path: std::path::PathBuf,
    currency: &str,
) -> PyResult<(Vec<Option<String>>, Money, Ints, Money)> {
    use std::io::BufRead;
    let cur = Currency::from_code(currency.trim()).ok_or_else(|| {
        PyValueError::new_err(format!("currency `{currency}` is not an ISO 4217 code"))
    })?;
    let name = path.display().to_string();
    py.detach(|| {
        let file = std::fs::File::open(&path)
            .map_err(|e| PyValueError::new_err(format!("cannot read `{name}`: {e}")))?;
        let mut out: (Vec<Option<String>>, Money, Ints, Money) = Default::default();
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line =
                line.map_err(|e| PyValueError::new_err(format!("cannot read `{name}`: {e}")))?;
            if line.trim().is_empty() {
                continue;
            }
            let row = read_record(&line, cur.minor_units())
                .map_err(|e| PyValueError::new_err(format!("`{name}` line {}: {e}", i + 1)))?;
            if let Some(r) = row {
                out.0.push(Some(r.sku));
                out.1.push(Some(cur.format_amount(r.price).to_string()));
                out.2.push(Some(r.at));
                out.3
                    .push(r.reference_price.map(|a| cur.format_amount(a).to_string()));
            }
        }
        Ok(out)
    })
}

/// The minor-unit digits of ISO 4217 currency `code`.
#[pyfunction]
pub(crate) fn _currency_digits(code: &str) -> PyResult<u8> {
    Currency::from_code(code.trim())
        .map(|c| c.minor_units())
        .ok_or_else(|| PyValueError::new_err(format!("currency `{code}` is not an ISO 4217 code")))
}

/// The summaries of price rows (`sku`, `price`, `at`, `reference`) and,
/// when given, quotes (`q_sku`, `q_competitor`, `q_price`, `q_seen_at`) at
/// `now`, in `currency`.
#[pyfunction]
#[pyo3(signature = (currency, now, periods, sku, price, at, reference, quotes=None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub(crate) fn _history_summarize(
    py: Python<'_>,
    currency: &str,
    now: i64,
    periods: Periods,
    sku: Vec<Option<String>>,
    price: Vec<Option<String>>,
    at: Vec<Option<i64>>,
    reference: Option<Vec<Option<String>>>,
    quotes: Option<(Money, Money, Money, Ints)>,
) -> PyResult<Columns> {
    let cur = Currency::from_code(currency.trim()).ok_or_else(|| {
        PyValueError::new_err(format!("currency `{currency}` is not an ISO 4217 code"))
    })?;
    let (prior_days, window_secs, max_quote_age_secs, outlier_mad) = periods;
    let mut params = HistoryParams::new(now);
    if let Some(d) = prior_days {
        params = params.with_prior_days(d);
    }
    if let Some(w) = window_secs {
        params = params.with_window_secs(w);
    }
    if let Some(a) = max_quote_age_secs {
        params = params.with_max_quote_age_secs(a);
    }
    if let Some(k) = &outlier_mad {
        let k = Decimal::from_str(k.trim()).map_err(|_| {
            PyValueError::new_err(format!("outlier_mad: `{k}` is not a decimal number"))
        })?;
        params = params.with_outlier_mad(k);
    }
    params
        .validate()
        .map_err(|e| PyValueError::new_err(format!("history parameters: {e}")))?;
    let n = sku.len();
    if price.len() != n || at.len() != n || reference.as_ref().is_some_and(|r| r.len() != n) {
        return Err(PyValueError::new_err(
            "prices: the columns have different lengths",
        ));
    }
    if let Some((s, c, p, t)) = &quotes {
        let m = s.len();
        if c.len() != m || p.len() != m || t.len() != m {
            return Err(PyValueError::new_err(
                "quotes: the columns have different lengths",
            ));
        }
    }
    let summaries = py.detach(|| -> PyResult<Vec<(String, Summary)>> {
        let mut s = Summariser::new(params);
        for i in 0..n {
            let name = sku
                .get(i)
                .and_then(|s| s.as_deref())
                .ok_or_else(|| bad("prices", i, "sku", "is missing"))?;
            let p = amount(
                cur,
                "prices",
                i,
                "price",
                price.get(i).and_then(Option::as_ref),
            )?;
            let t = time("prices", i, "at", get(&at, i))?;
            let mut row = PriceRow::new(name, p, t);
            if let Some(r) = reference
                .as_ref()
                .and_then(|r| r.get(i))
                .and_then(Option::as_ref)
            {
                let r = amount(cur, "prices", i, "reference_price", Some(r))?;
                if r.units <= 0 {
                    return Err(bad(
                        "prices",
                        i,
                        "reference_price",
                        priceguard::history::HistoryError::Price,
                    ));
                }
                row = row.with_reference(r);
            }
            s.push_price(row)
                .map_err(|e| bad("prices", i, "price", e))?;
        }
        if let Some((qs, qc, qp, qt)) = &quotes {
            s.expect_quotes();
            for i in 0..qs.len() {
                let name = qs
                    .get(i)
                    .and_then(|s| s.as_deref())
                    .ok_or_else(|| bad("quotes", i, "sku", "is missing"))?;
                let who = qc
                    .get(i)
                    .and_then(|s| s.as_deref())
                    .ok_or_else(|| bad("quotes", i, "competitor", "is missing"))?;
                let p = amount(
                    cur,
                    "quotes",
                    i,
                    "price",
                    qp.get(i).and_then(Option::as_ref),
                )?;
                let t = time("quotes", i, "seen_at", get(qt, i))?;
                s.push_quote(Quote::new(name, who, p, t))
                    .map_err(|e| bad("quotes", i, "price", e))?;
            }
        }
        Ok(s.finish())
    })?;
    let money = |a: Option<Amount>| a.map(|a| cur.format_amount(a).to_string());
    let count = |v: Option<u64>| v.and_then(|v| i64::try_from(v).ok());
    let mut skus = Vec::with_capacity(summaries.len());
    let mut cols: (Money, Ints, Ints, Ints, Ints, Ints, Money, Money, Ints) = Default::default();
    for (name, s) in summaries {
        skus.push(name);
        cols.0.push(money(s.prior_low_price));
        cols.1.push(s.promo_started_at);
        cols.2.push(s.last_promo_ended_at);
        cols.3.push(count(s.reversals_in_window));
        cols.4.push(s.last_change_at);
        cols.5.push(count(s.changes_in_window));
        cols.6.push(money(s.window_anchor_price));
        cols.7.push(money(s.competitor_price));
        cols.8.push(count(s.competitor_quotes));
    }
    Ok((skus, cols))
}
