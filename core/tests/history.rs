//! The history summariser (docs/spec.md §11.1, H5-H10) against a brute-force
//! reading of the definitions, written here independently: every field is
//! recomputed from the whole sorted history of each SKU, with exact
//! rationals for the quote medians.
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]

use std::collections::BTreeMap;

use num_rational::Ratio;
use num_traits::Signed;
use priceguard::audit::{AuditChain, PolicyStamp};
use priceguard::history::audit_rows::read_record;
use priceguard::history::{HistoryParams, PriceRow, Quote, Summariser, Summary};
use priceguard::money::Amount;
use priceguard::{Field, Item, Policy};
use proptest::prelude::*;
use rust_decimal::Decimal;

const DAY: i64 = 86_400;
/// Times are drawn on a grid of quarter days so that rows fall exactly on
/// window edges often.
const Q: i64 = DAY / 4;

type Q128 = Ratio<i128>;

#[derive(Clone, Debug)]
struct In {
    sku: u8,
    price: Amount,
    at: i64,
    promo: bool,
}

#[derive(Clone, Debug)]
struct QuoteIn {
    sku: u8,
    competitor: u8,
    price: Amount,
    seen_at: i64,
}

fn value(a: Amount) -> Q128 {
    Q128::new(i128::from(a.units), 10_i128.pow(u32::from(a.scale)))
}

fn sku_name(s: u8) -> String {
    format!("S{s}")
}

/// Rows of one SKU at or before `now`, ordered by time, ties in input order.
fn sorted(rows: &[In], sku: u8, now: i64) -> Vec<In> {
    let mut v: Vec<In> = rows
        .iter()
        .filter(|r| r.sku == sku && r.at <= now)
        .cloned()
        .collect();
    v.sort_by_key(|r| r.at); // stable: input order kept among ties
    v
}

fn in_force(rows: &[In], t: i64) -> Option<Q128> {
    rows.iter().rfind(|r| r.at <= t).map(|r| value(r.price))
}

fn is_change(rows: &[In], i: usize) -> bool {
    i == 0 || value(rows[i].price) != value(rows[i - 1].price)
}

fn median(mut v: Vec<Q128>) -> Option<Q128> {
    v.sort();
    let n = v.len();
    if n == 0 {
        None
    } else if n % 2 == 1 {
        Some(v[n / 2])
    } else {
        Some((v[n / 2 - 1] + v[n / 2]) / 2)
    }
}

/// The expected summary, field by field, from the definitions.
#[derive(Debug, PartialEq)]
struct Expect {
    prior_low: Option<Q128>,
    promo_started_at: Option<i64>,
    last_promo_ended_at: Option<i64>,
    reversals: Option<u64>,
    last_change_at: Option<i64>,
    changes: Option<u64>,
    anchor: Option<Q128>,
    competitor: Option<Q128>,
    quotes: Option<u64>,
}

fn brute(
    rows: &[In],
    quotes: Option<&[QuoteIn]>,
    sku: u8,
    p: &HistoryParams,
    k: Option<Q128>,
) -> Expect {
    let now = p.now;
    let h = sorted(rows, sku, now);
    let last_change_at = (0..h.len())
        .filter(|&i| is_change(&h, i))
        .map(|i| h[i].at)
        .max();
    // Spells: maximal runs of promotional rows, as index ranges.
    let mut spells: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < h.len() {
        if h[i].promo {
            let s = i;
            while i < h.len() && h[i].promo {
                i += 1;
            }
            spells.push((s, i));
        } else {
            i += 1;
        }
    }
    let current = spells.iter().find(|&&(_, e)| e == h.len() && !h.is_empty());
    let promo_started_at = current.map(|&(s, _)| h[s].at);
    let earlier = spells.iter().rfind(|&&(_, e)| e < h.len());
    let last_promo_ended_at = earlier.map(|&(_, e)| h[e].at);

    let prior_low = p.prior_days.and_then(|d| {
        let end = promo_started_at.unwrap_or(now);
        let start = end - i64::from(d) * DAY;
        if !h.iter().any(|r| r.at < end) {
            return None;
        }
        let mut set: Vec<Q128> = h
            .iter()
            .filter(|r| r.at > start && r.at < end)
            .map(|r| value(r.price))
            .collect();
        set.extend(in_force(&h, start));
        set.into_iter().min()
    });

    let (anchor, changes, reversals) = match p.window_secs {
        None => (None, None, None),
        Some(w) => {
            let ws = now - w;
            let at_start = in_force(&h, ws);
            let inside: Vec<usize> = (0..h.len())
                .filter(|&i| h[i].at > ws && is_change(&h, i))
                .collect();
            let mut seqp: Vec<Q128> = at_start.into_iter().collect();
            seqp.extend(inside.iter().map(|&i| value(h[i].price)));
            let rev = (2..seqp.len())
                .filter(|&k| {
                    let a = seqp[k] - seqp[k - 1];
                    let b = seqp[k - 1] - seqp[k - 2];
                    (a > Q128::from(0) && b < Q128::from(0))
                        || (a < Q128::from(0) && b > Q128::from(0))
                })
                .count() as u64;
            let first_inside = h.iter().find(|r| r.at > ws).map(|r| value(r.price));
            (
                at_start.or(first_inside),
                Some(inside.len() as u64),
                Some(rev),
            )
        }
    };

    let (competitor, count) = match quotes {
        None => (None, None),
        Some(qs) => {
            // Each competitor's latest quote at or before now (ties: the
            // later one given).
            let mut latest: BTreeMap<u8, &QuoteIn> = BTreeMap::new();
            for q in qs.iter().filter(|q| q.sku == sku && q.seen_at <= now) {
                match latest.get(&q.competitor) {
                    Some(old) if old.seen_at > q.seen_at => {}
                    _ => {
                        latest.insert(q.competitor, q);
                    }
                }
            }
            let oldest = p.max_quote_age_secs.map_or(i64::MIN, |a| now - a);
            let fresh: Vec<Q128> = latest
                .values()
                .filter(|q| q.seen_at >= oldest)
                .map(|q| value(q.price))
                .collect();
            let kept = match (k, median(fresh.clone())) {
                (Some(k), Some(m)) => {
                    let mad =
                        median(fresh.iter().map(|q| (*q - m).abs()).collect()).expect("nonempty");
                    fresh
                        .into_iter()
                        .filter(|q| (*q - m).abs() <= k * mad)
                        .collect()
                }
                _ => fresh,
            };
            let n = kept.len() as u64;
            (median(kept), Some(n))
        }
    };
    Expect {
        prior_low,
        promo_started_at,
        last_promo_ended_at,
        reversals,
        last_change_at,
        changes,
        anchor,
        competitor,
        quotes: count,
    }
}

fn got(s: &Summary) -> Expect {
    Expect {
        prior_low: s.prior_low_price.map(value),
        promo_started_at: s.promo_started_at,
        last_promo_ended_at: s.last_promo_ended_at,
        reversals: s.reversals_in_window,
        last_change_at: s.last_change_at,
        changes: s.changes_in_window,
        anchor: s.window_anchor_price.map(value),
        competitor: s.competitor_price.map(value),
        quotes: s.competitor_quotes,
    }
}

/// A price from a handful of values, written at scale 0, 1 or 2 (cents,
/// tenths of a cent, hundredths): 10.00 and 10.000 are one price.
fn price() -> impl Strategy<Value = Amount> {
    (
        prop_oneof![Just(900i64), Just(1000), Just(1050), Just(1100), 1i64..3000],
        0u8..3,
    )
        .prop_map(|(cents, scale)| Amount {
            units: cents * 10_i64.pow(u32::from(scale)),
            scale,
        })
}

fn rows() -> impl Strategy<Value = Vec<In>> {
    prop::collection::vec(
        (0u8..3, price(), 0i64..240, prop::bool::weighted(0.4)).prop_map(
            |(sku, price, t, promo)| In {
                sku,
                price,
                at: t * Q,
                promo,
            },
        ),
        0..40,
    )
}

fn quotes() -> impl Strategy<Value = Vec<QuoteIn>> {
    prop::collection::vec(
        (
            0u8..3,
            0u8..6,
            prop_oneof![
                Just(1000i64),
                Just(1020),
                Just(1040),
                900i64..1100,
                1i64..5000
            ],
            0i64..240,
        )
            .prop_map(|(sku, competitor, cents, t)| QuoteIn {
                sku,
                competitor,
                price: Amount::minor(cents),
                seen_at: t * Q,
            }),
        0..25,
    )
}

fn run(rows: &[In], quotes: Option<&[QuoteIn]>, p: HistoryParams) -> Vec<(String, Summary)> {
    let mut s = Summariser::new(p);
    if quotes.is_some() {
        s.expect_quotes();
    }
    for r in rows {
        let name = sku_name(r.sku);
        let mut row = PriceRow::new(&name, r.price, r.at);
        if r.promo {
            row = row.with_reference(Amount::minor(99_999));
        }
        s.push_price(row).expect("valid row");
    }
    for q in quotes.unwrap_or_default() {
        let (name, comp) = (sku_name(q.sku), format!("c{}", q.competitor));
        s.push_quote(Quote::new(&name, &comp, q.price, q.seen_at))
            .expect("valid quote");
    }
    s.finish()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn summaries_follow_the_definitions(
        rows in rows(),
        quotes in prop::option::of(quotes()),
        now_q in 100i64..260,
        now_off in prop_oneof![Just(0i64), 1i64..Q],
        prior_days in prop::option::of(1u32..20),
        window_q in prop::option::of(1i64..80),
        age_q in prop::option::of(1i64..120),
        k in prop::option::of(prop_oneof![Just(0i64), Just(10), Just(15), Just(30), 0i64..60]),
    ) {
        let now = now_q * Q + now_off;
        let mut p = HistoryParams::new(now);
        if let Some(d) = prior_days { p = p.with_prior_days(d); }
        if let Some(w) = window_q { p = p.with_window_secs(w * Q); }
        if let Some(a) = age_q { p = p.with_max_quote_age_secs(a * Q); }
        // k in tenths: 0, 1, 1.5, 3, ...
        if let Some(k) = k { p = p.with_outlier_mad(Decimal::new(k, 1)); }
        prop_assert!(p.validate().is_ok());
        let out = run(&rows, quotes.as_deref(), p);
        let mut skus: Vec<u8> = rows.iter().map(|r| r.sku)
            .chain(quotes.iter().flatten().map(|q| q.sku)).collect();
        skus.sort();
        skus.dedup();
        prop_assert_eq!(out.len(), skus.len());
        let kq = k.map(|k| Q128::new(i128::from(k), 10));
        for (name, s) in &out {
            let sku: u8 = name[1..].parse().unwrap();
            prop_assert_eq!(got(s), brute(&rows, quotes.as_deref(), sku, &p, kq), "sku {}", name);
        }
    }

    /// A history read once answers for any earlier moment as a summariser
    /// run at that moment does.
    #[test]
    fn history_answers_for_earlier_moments(
        rows in rows(),
        quotes in prop::option::of(quotes()),
        at_q in 0i64..260,
    ) {
        let base = HistoryParams::new(260 * Q)
            .with_prior_days(10)
            .with_window_secs(40 * Q)
            .with_max_quote_age_secs(30 * Q)
            .with_outlier_mad(Decimal::new(2, 0));
        let mut whole = Summariser::new(base);
        if quotes.is_some() { whole.expect_quotes(); }
        for r in &rows {
            let name = sku_name(r.sku);
            let mut row = PriceRow::new(&name, r.price, r.at);
            if r.promo { row = row.with_reference(Amount::minor(99_999)); }
            whole.push_price(row).unwrap();
        }
        for q in quotes.iter().flatten() {
            let (name, comp) = (sku_name(q.sku), format!("c{}", q.competitor));
            whole.push_quote(Quote::new(&name, &comp, q.price, q.seen_at)).unwrap();
        }
        let history = whole.into_history();
        let mut at = base;
        at.now = at_q * Q;
        let at_once = run(&rows, quotes.as_deref(), at);
        // Every SKU seen at 260 Q is known to the history; at an earlier
        // moment the summariser saw the same SKUs (rows after now still
        // name their SKU).
        prop_assert_eq!(history.skus().count(), at_once.len());
        for (sku, summary) in &at_once {
            prop_assert_eq!(history.summary(sku, at.now).unwrap(), Some(*summary));
        }
        prop_assert!(history.summary("nobody", at.now).unwrap().is_none());
        prop_assert!(history.summary("S0", 261 * Q).is_err());
    }

    /// Any order of the same rows (ties in time keeping their relative
    /// order) gives the same summaries.
    #[test]
    fn input_order_does_not_matter(rows in rows(), seed in any::<u64>()) {
        let p = HistoryParams::new(200 * Q).with_prior_days(10).with_window_secs(40 * Q);
        let mut shuffled: Vec<(usize, In)> = rows.iter().cloned().enumerate().collect();
        // A deterministic shuffle, then ties restored to input order.
        shuffled.sort_by_key(|(i, r)| ((*i as u64).wrapping_mul(seed | 1).rotate_left(17), r.at));
        shuffled.sort_by_key(|(i, r)| (r.at, *i));
        let back: Vec<In> = shuffled.iter().map(|(_, r)| r.clone()).collect();
        let mut scrambled: Vec<(usize, In)> = rows.iter().cloned().enumerate().collect();
        scrambled.sort_by_key(|(i, _)| (*i as u64).wrapping_mul(seed | 1).rotate_left(17));
        // Restore input order within equal times only.
        let mut by_time: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() { by_time.entry(r.at).or_default().push(i); }
        let mut taken: BTreeMap<i64, usize> = BTreeMap::new();
        let reordered: Vec<In> = scrambled.iter().map(|(_, r)| {
            let n = taken.entry(r.at).or_default();
            let i = by_time[&r.at][*n];
            *n += 1;
            rows[i].clone()
        }).collect();
        prop_assert_eq!(run(&back, None, p), run(&rows, None, p));
        prop_assert_eq!(run(&reordered, None, p), run(&rows, None, p));
    }

    /// The audit log gives the summaries of the prices it published.
    #[test]
    fn audit_log_equals_its_published_prices(
        items in prop::collection::vec((0u8..3, 100i64..15000, 0i64..240, prop::bool::weighted(0.4)), 0..30),
    ) {
        let policy = Policy::from_toml_str(
            "name = \"demo\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"100\"\n",
        ).unwrap();
        let stamp = PolicyStamp::of(&policy);
        let mut chain = AuditChain::new();
        let mut log = String::new();
        let p = HistoryParams::new(200 * Q).with_prior_days(10).with_window_secs(40 * Q);
        let mut direct = Summariser::new(p);
        for (sku, cents, t, promo) in &items {
            let name = sku_name(*sku);
            let mut item = Item::new(*cents);
            item.set(Field::Now, t * Q);
            if *promo {
                item.set_amount(Field::ReferencePrice, Amount::minor(20000)).unwrap();
            }
            let d = policy.evaluate(&item);
            chain.push_record(&policy, &stamp, Some(&name), Some(&item), &d, 0, &mut log);
            if matches!(d.outcome, priceguard::Outcome::Accepted | priceguard::Outcome::Adjusted) {
                let mut row = PriceRow::new(&name, Amount::minor(d.price.unwrap()), t * Q);
                if *promo { row = row.with_reference(Amount::minor(20000)); }
                direct.push_price(row).unwrap();
            }
        }
        let mut from_log = Summariser::new(p);
        for line in log.lines() {
            if let Some(r) = read_record(line, 2).unwrap() {
                let mut row = PriceRow::new(&r.sku, r.price, r.at);
                if let Some(rp) = r.reference_price { row = row.with_reference(rp); }
                from_log.push_price(row).unwrap();
            }
        }
        prop_assert_eq!(from_log.finish(), direct.finish());
    }
}

fn cents(c: i64) -> Amount {
    Amount::minor(c)
}

/// docs/spec.md §11.1 example: the "was" price of a promotion against the
/// lowest price of the 30 days before it began.
#[test]
fn worked_example_prior_low() {
    let p = HistoryParams::new(100 * DAY).with_prior_days(30);
    let mut s = Summariser::new(p);
    // 12.00 since day 0, 10.00 from day 60, 12.00 again from day 85, on
    // promotion at 9.00 "was 12.00" from day 90.
    s.push_price(PriceRow::new("A", cents(1200), 0)).unwrap();
    s.push_price(PriceRow::new("A", cents(900), 90 * DAY).with_reference(cents(1200)))
        .unwrap();
    s.push_price(PriceRow::new("A", cents(1000), 60 * DAY))
        .unwrap();
    s.push_price(PriceRow::new("A", cents(1200), 85 * DAY))
        .unwrap();
    let out = s.finish();
    // Period [day 60, day 90): 10.00 in force at its start (set exactly
    // then), 12.00 from day 85: the lowest is 10.00.
    assert_eq!(out[0].1.promo_started_at, Some(90 * DAY));
    assert_eq!(out[0].1.prior_low_price, Some(cents(1000)));
}

/// docs/spec.md §11.1 example: anchor 10.00, then 11.00, 11.00 (no
/// change), 10.50, 11.50: three changes, two reversals.
#[test]
fn worked_example_reversals() {
    let p = HistoryParams::new(1000).with_window_secs(500);
    let mut s = Summariser::new(p);
    for (c, at) in [
        (1000, 100),
        (1100, 600),
        (1100, 650),
        (1050, 700),
        (1150, 800),
    ] {
        s.push_price(PriceRow::new("A", cents(c), at)).unwrap();
    }
    let out = s.finish();
    let x = &out[0].1;
    assert_eq!(x.window_anchor_price, Some(cents(1000)));
    assert_eq!(x.changes_in_window, Some(3));
    assert_eq!(x.reversals_in_window, Some(2));
    assert_eq!(x.last_change_at, Some(800));
}

/// docs/spec.md §11.1 example: quotes 10.00, 10.20, 10.40, 30.00 and a
/// stale 5.00, k = 3: median 10.30, MAD 0.20, 30.00 dropped, 10.20 kept
/// as the median of three.
#[test]
fn worked_example_quotes() {
    let p = HistoryParams::new(10_000)
        .with_max_quote_age_secs(3600)
        .with_outlier_mad(Decimal::new(3, 0));
    let mut s = Summariser::new(p);
    for (c, comp, at) in [
        (1000, "a", 9000),
        (1020, "b", 9000),
        (1040, "c", 9000),
        (3000, "d", 9000),
        (500, "e", 1000),
    ] {
        s.push_quote(Quote::new("A", comp, cents(c), at)).unwrap();
    }
    let out = s.finish();
    assert_eq!(out[0].1.competitor_price, Some(cents(1020)));
    assert_eq!(out[0].1.competitor_quotes, Some(3));
}

/// The midpoint of two quotes one cent apart is half a cent: kept exact.
#[test]
fn even_median_is_the_exact_midpoint() {
    let mut s = Summariser::new(HistoryParams::new(10));
    s.push_quote(Quote::new("A", "a", cents(1000), 1)).unwrap();
    s.push_quote(Quote::new("A", "b", cents(1001), 1)).unwrap();
    let out = s.finish();
    assert_eq!(
        out[0].1.competitor_price,
        Some(Amount {
            units: 10005,
            scale: 1
        })
    );
}

/// Two quotes one unit of the sixth finer digit apart: the midpoint needs
/// a seventh and is rounded half to even (H8).
#[test]
fn midpoint_beyond_six_digits_rounds_half_even() {
    let mut s = Summariser::new(HistoryParams::new(10));
    let a = Amount {
        units: 1_000_000_001,
        scale: 6,
    };
    let b = Amount {
        units: 1_000_000_002,
        scale: 6,
    };
    s.push_quote(Quote::new("A", "a", a, 1)).unwrap();
    s.push_quote(Quote::new("A", "b", b, 1)).unwrap();
    // 1000.0000015 minor units -> 1000.000002 (the even neighbour).
    assert_eq!(s.finish()[0].1.competitor_price, Some(b));
}

/// Bad rows are refused, naming what is wrong; nothing is half-added.
#[test]
fn bad_rows_are_refused() {
    let mut s = Summariser::new(HistoryParams::new(10));
    assert!(s.push_price(PriceRow::new("A", cents(0), 1)).is_err());
    assert!(s.push_price(PriceRow::new("A", cents(-5), 1)).is_err());
    assert!(s.push_price(PriceRow::new("A", cents(5), -1)).is_err());
    assert!(s
        .push_price(PriceRow::new("A", cents(5), 1).with_reference(cents(0)))
        .is_err());
    assert!(s.finish().is_empty());
    assert!(HistoryParams::new(0)
        .with_outlier_mad(Decimal::new(-1, 0))
        .validate()
        .is_err());
    assert!(HistoryParams::new(0)
        .with_window_secs(0)
        .validate()
        .is_err());
}

/// A promotion that began before the window and runs on past its start:
/// its first row is outside the window (it is the anchor, not a change),
/// its start is still `promo_started_at`, and the prior period is taken
/// before the promotion, not before the window.
#[test]
fn promotion_spanning_the_window_edge() {
    let p = HistoryParams::new(100 * DAY)
        .with_window_secs(7 * DAY)
        .with_prior_days(30);
    let mut s = Summariser::new(p);
    let was = cents(2000);
    for (c, day, promo) in [
        (2000, 0, false),
        (1800, 50, false),
        (2000, 70, false),
        (1500, 90, true), // promotion begins, before the window (day 93)
        (1500, 95, true), // repeated: no change, still the same spell
        (1400, 97, true), // deeper cut inside the window
    ] {
        let mut row = PriceRow::new("A", cents(c), day * DAY);
        if promo {
            row = row.with_reference(was);
        }
        s.push_price(row).unwrap();
    }
    let x = s.finish()[0].1;
    assert_eq!(x.promo_started_at, Some(90 * DAY));
    // [day 60, day 90): 18.00 in force at day 60, 20.00 from day 70.
    assert_eq!(x.prior_low_price, Some(cents(1800)));
    // In force at day 93: 15.00; then 14.00 on day 97 (day 95 repeats).
    assert_eq!(x.window_anchor_price, Some(cents(1500)));
    assert_eq!(x.changes_in_window, Some(1));
    assert_eq!(x.reversals_in_window, Some(0));
    assert_eq!(x.last_change_at, Some(97 * DAY));
    assert_eq!(x.last_promo_ended_at, None);
}
