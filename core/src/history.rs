//! History summaries (docs/spec.md §11): the per-SKU fields the
//! history-aware rules read, computed from price rows (`sku, price, at`,
//! optionally `reference_price`), from the audit log, and from competitor
//! quotes (`sku, competitor, price, seen_at`).
//!
//! The engine stays stateless; this module is the one place that looks at
//! a history. Rows may come in any order (ties in `at` keep input order);
//! every amount is compared exactly.
//!
//! ```
//! use priceguard::history::{HistoryParams, PriceRow, Summariser};
//! use priceguard::money::Amount;
//! let day = 86_400;
//! let params = HistoryParams::new(40 * day).with_prior_days(30);
//! let mut s = Summariser::new(params);
//! let cents = |c| Amount::minor(c);
//! s.push_price(PriceRow::new("A1", cents(1200), 0)).unwrap();
//! s.push_price(PriceRow::new("A1", cents(1000), 15 * day)).unwrap();
//! s.push_price(PriceRow::new("A1", cents(900), 35 * day).with_reference(cents(1200))).unwrap();
//! let out = s.finish();
//! let (sku, summary) = &out[0];
//! assert_eq!(sku, "A1");
//! assert_eq!(summary.promo_started_at, Some(35 * day));
//! // The "was" price may be at most 10.00, the lowest of the 30 days before.
//! assert_eq!(summary.prior_low_price, Some(cents(1000)));
//! ```
//!
//! Memory: one entry per SKU holding that SKU's rows at or before `now`
//! (32 bytes each; rows after `now` are dropped when read) and its quotes
//! at or before `now` (32 bytes each, competitor names kept once). With input in any order this is the bound: a row
//! arriving late can land anywhere in a SKU's past and change which rows
//! are changes or where a promotion began, so no row at or before `now`
//! can be folded away before the input ends (docs/spec.md H9).

use alloc::string::String;
use alloc::vec::Vec;
use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::money::{pow10_i64, Amount, MAX_SCALE};

/// Seconds in a day, for `prior_days`.
const DAY: i64 = 86_400;

/// The largest `outlier_mad` factor accepted.
const MAX_MAD_FACTOR: i64 = 1_000_000;

/// Why a summariser input was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// A price is zero or negative, or beyond the supported range.
    #[error("must be a positive amount within the supported range")]
    Price,
    /// A time is negative.
    #[error("must be a unix time in seconds, >= 0")]
    Time,
    /// `outlier_mad` is negative, has more than six decimal places or is
    /// above 1000000.
    #[error("outlier_mad must be from 0 to 1000000 with at most 6 decimal places")]
    MadFactor,
    /// `prior_days`, `window_secs` or `max_quote_age_secs` is out of range.
    #[error("must be from 1 to 316224000 seconds (3660 days)")]
    Span,
    /// More than 2^32 - 1 distinct SKUs: refused rather than dropped.
    #[error("more than 4294967295 SKUs in one summary")]
    Capacity,
}

/// What the summaries are computed for: `now` and the periods of the
/// history-aware policy keys. A period left unset leaves the fields that
/// need it empty (`None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryParams {
    /// The moment the summaries describe, unix seconds. Rows and quotes
    /// after it are not yet in force and are ignored.
    pub now: i64,
    /// `[disclosure] prior_days`: the period `prior_low_price` looks back
    /// over. Unset: no `prior_low_price`.
    pub prior_days: Option<u32>,
    /// `change.window_secs`: the window of `window_anchor_price`,
    /// `changes_in_window` and `reversals_in_window`. Unset: those are
    /// empty.
    pub window_secs: Option<i64>,
    /// `[market] max_quote_age_secs`: quotes seen before
    /// `now - max_quote_age_secs` are stale. Unset: every quote is fresh.
    pub max_quote_age_secs: Option<i64>,
    /// `[market] outlier_mad` (k): quotes farther than k median absolute
    /// deviations from the median are dropped. Unset: none are dropped.
    pub outlier_mad: Option<Decimal>,
}

/// The longest period accepted, as for `change.window_secs`: ten years.
const MAX_SPAN: i64 = 316_224_000;

impl HistoryParams {
    /// Summaries at `now`, with no period set.
    pub const fn new(now: i64) -> HistoryParams {
        HistoryParams {
            now,
            prior_days: None,
            window_secs: None,
            max_quote_age_secs: None,
            outlier_mad: None,
        }
    }

    /// Sets `prior_days`.
    pub const fn with_prior_days(mut self, days: u32) -> HistoryParams {
        self.prior_days = Some(days);
        self
    }

    /// Sets `window_secs`.
    pub const fn with_window_secs(mut self, secs: i64) -> HistoryParams {
        self.window_secs = Some(secs);
        self
    }

    /// Sets `max_quote_age_secs`.
    pub const fn with_max_quote_age_secs(mut self, secs: i64) -> HistoryParams {
        self.max_quote_age_secs = Some(secs);
        self
    }

    /// Sets `outlier_mad` (k).
    pub const fn with_outlier_mad(mut self, k: Decimal) -> HistoryParams {
        self.outlier_mad = Some(k);
        self
    }

    /// Checks the parameters: `now >= 0`; periods from 1 second (1 day) to
    /// ten years; k from 0 to 1000000 with at most six decimal places.
    pub fn validate(&self) -> Result<(), HistoryError> {
        if self.now < 0 {
            return Err(HistoryError::Time);
        }
        let span_ok = |s: i64| (1..=MAX_SPAN).contains(&s);
        if let Some(d) = self.prior_days {
            if !span_ok(i64::from(d).saturating_mul(DAY)) {
                return Err(HistoryError::Span);
            }
        }
        for s in [self.window_secs, self.max_quote_age_secs]
            .into_iter()
            .flatten()
        {
            if !span_ok(s) {
                return Err(HistoryError::Span);
            }
        }
        if let Some(k) = self.outlier_mad {
            mad_factor(k).ok_or(HistoryError::MadFactor)?;
        }
        Ok(())
    }
}

/// k as `mantissa / 10^exp` with `exp <= 6`, `0 <= k <= 10^6`.
fn mad_factor(k: Decimal) -> Option<(i128, u32)> {
    let k = k.normalize();
    if k.is_sign_negative() && !k.is_zero() {
        return None;
    }
    if k.scale() > 6 || k > Decimal::from(MAX_MAD_FACTOR) {
        return None;
    }
    Some((k.mantissa(), k.scale()))
}

/// One price row: the price `sku` had from `at` until its next row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PriceRow<'a> {
    /// The SKU.
    pub sku: &'a str,
    /// The price set at `at`.
    pub price: Amount,
    /// When it was set, unix seconds.
    pub at: i64,
    /// The "was" price shown beside it; present means the row is on
    /// promotion.
    pub reference_price: Option<Amount>,
}

impl<'a> PriceRow<'a> {
    /// A row without a reference price (not on promotion).
    pub const fn new(sku: &'a str, price: Amount, at: i64) -> PriceRow<'a> {
        PriceRow {
            sku,
            price,
            at,
            reference_price: None,
        }
    }

    /// The same row on promotion, showing `reference` as its "was" price.
    pub const fn with_reference(mut self, reference: Amount) -> PriceRow<'a> {
        self.reference_price = Some(reference);
        self
    }
}

/// One competitor quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quote<'a> {
    /// The SKU quoted.
    pub sku: &'a str,
    /// Who quoted it.
    pub competitor: &'a str,
    /// The competitor's price.
    pub price: Amount,
    /// When the quote was seen, unix seconds.
    pub seen_at: i64,
}

impl<'a> Quote<'a> {
    /// A quote.
    pub const fn new(sku: &'a str, competitor: &'a str, price: Amount, seen_at: i64) -> Quote<'a> {
        Quote {
            sku,
            competitor,
            price,
            seen_at,
        }
    }
}

/// One SKU's summary: the item fields of docs/spec.md §11.1. `None` is
/// "no such value" (the field stays absent on the item), as §11.1 and
/// H5-H8 define it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// The lowest price in force during the `prior_days` before the
    /// current promotion began (or before `now`).
    pub prior_low_price: Option<Amount>,
    /// When the promotion in force at `now` began.
    pub promo_started_at: Option<i64>,
    /// When the latest earlier promotion ended.
    pub last_promo_ended_at: Option<i64>,
    /// Changes of direction in the window.
    pub reversals_in_window: Option<u64>,
    /// The latest change at or before `now`.
    pub last_change_at: Option<i64>,
    /// Changes in the window.
    pub changes_in_window: Option<u64>,
    /// The price in force at the window's start.
    pub window_anchor_price: Option<Amount>,
    /// The median of the kept competitor quotes.
    pub competitor_price: Option<Amount>,
    /// How many quotes were kept after the freshness and outlier filters
    /// (set for every SKU when quotes were given, 0 when none were kept).
    pub competitor_quotes: Option<u64>,
}

/// The summary columns, in output order after `sku`.
pub const COLUMNS: [&str; 9] = [
    "prior_low_price",
    "promo_started_at",
    "last_promo_ended_at",
    "reversals_in_window",
    "last_change_at",
    "changes_in_window",
    "window_anchor_price",
    "competitor_price",
    "competitor_quotes",
];

/// A row as kept (32 bytes): the price as given, compared at
/// [`MAX_SCALE`] (exact for every item amount) so that 10.0 and 10.00 are
/// one price.
#[derive(Clone, Copy, Debug)]
struct Row {
    at: i64,
    seq: u64,
    units: i64,
    scale: u8,
    promo: bool,
}

// The memory bound documented in docs/spec.md H9.
const _: () = assert!(core::mem::size_of::<Row>() == 32);

impl Row {
    fn price(&self) -> i128 {
        // Checked when the row was added.
        scaled(Amount {
            units: self.units,
            scale: self.scale,
        })
        .unwrap_or(i128::MAX)
    }
}

/// FxHash (the Rust compiler's hasher) with a final mix: SKU names are short and come from
/// the caller's own files, so a fast hash beats a DoS-resistant one.
#[derive(Clone, Copy, Debug, Default)]
struct FxHasher(u64);

impl core::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        // The multiply only carries low bits upwards, and the table indexes
        // by the low bits: a final mix (murmur3's) spreads every input bit.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// Hands a hash already computed (a `u64` key) to the table unchanged.
#[derive(Clone, Copy, Debug, Default)]
struct PassHasher(u64);

impl core::hash::Hasher for PassHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed (`write_u64`); fold anything else.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type PassBuild = core::hash::BuildHasherDefault<PassHasher>;

/// A quote as kept: the competitor by number (names are interned).
#[derive(Clone, Copy, Debug)]
struct CompetitorQuote {
    competitor: u32,
    seen_at: i64,
    seq: u64,
    price: i128,
}

#[derive(Clone, Debug, Default)]
struct SkuState {
    rows: Vec<Row>,
    quotes: Vec<CompetitorQuote>,
}

/// Builds summaries from price rows and quotes given in any order:
/// [`Summariser::push_price`] and [`Summariser::push_quote`] per input,
/// then [`Summariser::finish`].
#[derive(Debug)]
pub struct Summariser {
    params: HistoryParams,
    /// A SKU name's 64-bit hash to its index in `states`: the table holds
    /// no pointer to chase, and the name is checked in `states`.
    index: HashMap<u64, u32, PassBuild>,
    /// SKUs whose hash another SKU took first (practically never).
    collided: HashMap<String, u32>,
    states: Vec<(String, SkuState)>,
    /// The last SKU looked up: files grouped by SKU skip the hash.
    last: Option<u32>,
    seq: u64,
    quotes_given: bool,
    /// Competitor names to their numbers.
    competitors: HashMap<String, u32>,
}

fn scaled(a: Amount) -> Option<i128> {
    if a.scale > MAX_SCALE || !a.in_range() {
        return None;
    }
    i128::from(a.units).checked_mul(i128::from(pow10_i64(MAX_SCALE - a.scale)))
}

fn positive(a: Amount) -> Result<i128, HistoryError> {
    match scaled(a) {
        Some(v) if v > 0 => Ok(v),
        _ => Err(HistoryError::Price),
    }
}

/// A price kept at [`MAX_SCALE`] back as the shortest exact [`Amount`].
fn amount(v: i128) -> Option<Amount> {
    Some(
        Amount {
            units: i64::try_from(v).ok()?,
            scale: MAX_SCALE,
        }
        .reduced(),
    )
}

impl Summariser {
    /// An empty summariser for `params` (see [`HistoryParams::validate`]).
    pub fn new(params: HistoryParams) -> Summariser {
        Summariser {
            params,
            index: HashMap::default(),
            collided: HashMap::new(),
            states: Vec::new(),
            last: None,
            seq: 0,
            quotes_given: false,
            competitors: HashMap::new(),
        }
    }

    /// The parameters.
    pub fn params(&self) -> &HistoryParams {
        &self.params
    }

    /// Marks that quotes were given, even if none: every SKU then gets
    /// `competitor_quotes` (0 without a usable quote).
    pub fn expect_quotes(&mut self) {
        self.quotes_given = true;
    }

    /// Adds a price row. A price that is not positive, a reference that
    /// is not positive or a negative time is refused (the row is not
    /// added). Rows after `now` are read and dropped.
    pub fn push_price(&mut self, row: PriceRow<'_>) -> Result<(), HistoryError> {
        positive(row.price)?;
        if let Some(r) = row.reference_price {
            positive(r)?;
        }
        if row.at < 0 {
            return Err(HistoryError::Time);
        }
        let seq = self.seq;
        self.seq += 1;
        let now = self.params.now;
        let Some(state) = self.sku_entry(row.sku) else {
            return Err(HistoryError::Capacity);
        };
        if row.at > now {
            return Ok(());
        }
        state.rows.push(Row {
            at: row.at,
            seq,
            units: row.price.units,
            scale: row.price.scale,
            promo: row.reference_price.is_some(),
        });
        Ok(())
    }

    fn sku_entry(&mut self, sku: &str) -> Option<&mut SkuState> {
        // One probe per row (none when the SKU repeats); a SKU's name is
        // copied once.
        let named = |states: &[(String, SkuState)], i: u32| {
            states.get(i as usize).is_some_and(|(n, _)| n == sku)
        };
        let i = match self.last {
            Some(i) if named(&self.states, i) => i,
            _ => {
                let h = {
                    let mut f = FxHasher::default();
                    core::hash::Hasher::write(&mut f, sku.as_bytes());
                    core::hash::Hasher::finish(&f)
                };
                match self.index.get(&h) {
                    Some(&i) if named(&self.states, i) => i,
                    taken => match self.collided.get(sku) {
                        Some(&i) => i,
                        None => {
                            let i = u32::try_from(self.states.len()).ok()?;
                            if taken.is_some() {
                                self.collided.insert(String::from(sku), i);
                            } else {
                                self.index.insert(h, i);
                            }
                            self.states.push((String::from(sku), SkuState::default()));
                            i
                        }
                    },
                }
            }
        };
        self.last = Some(i);
        self.states.get_mut(i as usize).map(|(_, s)| s)
    }

    /// Adds a competitor quote. Each competitor's latest quote counts
    /// (ties in `seen_at`: the later one given); quotes after `now` are
    /// dropped.
    pub fn push_quote(&mut self, quote: Quote<'_>) -> Result<(), HistoryError> {
        let price = positive(quote.price)?;
        if quote.seen_at < 0 {
            return Err(HistoryError::Time);
        }
        self.quotes_given = true;
        let now = self.params.now;
        let seq = self.seq;
        self.seq += 1;
        let competitor = match self.competitors.get(quote.competitor) {
            Some(&c) => c,
            None => {
                let c =
                    u32::try_from(self.competitors.len()).map_err(|_| HistoryError::Capacity)?;
                self.competitors.insert(String::from(quote.competitor), c);
                c
            }
        };
        let Some(state) = self.sku_entry(quote.sku) else {
            return Err(HistoryError::Capacity);
        };
        if quote.seen_at > now {
            return Ok(());
        }
        state.quotes.push(CompetitorQuote {
            competitor,
            seen_at: quote.seen_at,
            seq,
            price,
        });
        Ok(())
    }

    /// Every SKU seen (in a row or a quote, even one after `now`), sorted
    /// by SKU, with its summary.
    pub fn finish(self) -> Vec<(String, Summary)> {
        let history = self.into_history();
        let now = history.params.now;
        history
            .states
            .iter()
            .map(|(sku, state)| (sku.clone(), history.summarise(state, now)))
            .collect()
    }

    /// Everything read, kept for summaries at any moment up to `now`
    /// ([`History::summary`]): for callers whose items each have their
    /// own `now`, such as a proposals file.
    pub fn into_history(self) -> History {
        let mut states = self.states;
        for (_, state) in &mut states {
            state.rows.sort_unstable_by_key(|r| (r.at, r.seq));
        }
        states.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        History {
            params: self.params,
            states,
            quotes_given: self.quotes_given,
        }
    }
}

/// A history read whole, to summarise at any moment up to its `now`
/// (see [`Summariser::into_history`]).
#[derive(Debug)]
pub struct History {
    params: HistoryParams,
    /// Sorted by SKU; each SKU's rows sorted by time, ties in input order.
    states: Vec<(String, SkuState)>,
    quotes_given: bool,
}

impl History {
    /// The parameters the history was read with.
    pub fn params(&self) -> &HistoryParams {
        &self.params
    }

    /// The SKUs seen, sorted.
    pub fn skus(&self) -> impl Iterator<Item = &str> + '_ {
        self.states.iter().map(|(s, _)| s.as_str())
    }

    /// `sku`'s summary at `now`, as [`Summariser::finish`] would give it
    /// with `now` as the parameter: `None` for a SKU never seen. A `now`
    /// later than the history's own is refused ([`HistoryError::Time`]):
    /// rows after it were not kept.
    pub fn summary(&self, sku: &str, now: i64) -> Result<Option<Summary>, HistoryError> {
        if now > self.params.now || now < 0 {
            return Err(HistoryError::Time);
        }
        Ok(self
            .states
            .binary_search_by(|(s, _)| s.as_str().cmp(sku))
            .ok()
            .and_then(|i| self.states.get(i))
            .map(|(_, state)| self.summarise(state, now)))
    }

    fn summarise(&self, state: &SkuState, now: i64) -> Summary {
        let upto = state.rows.partition_point(|r| r.at <= now);
        let rows = state.rows.get(..upto).unwrap_or_default();
        let mut s = summarise_rows(&self.params, now, rows);
        if self.quotes_given {
            let (price, kept) = summarise_quotes(&self.params, now, &state.quotes);
            s.competitor_price = price;
            s.competitor_quotes = Some(kept);
        }
        s
    }
}

/// The row fields of one SKU at `now` (docs/spec.md §11.1) from its rows
/// at or before `now`, sorted.
fn summarise_rows(params: &HistoryParams, now: i64, rows: &[Row]) -> Summary {
    let mut s = Summary::default();

    // Changes: the first row sets a price where there was none (H6).
    let mut prev: Option<i128> = None;
    for r in rows.iter() {
        if prev != Some(r.price()) {
            s.last_change_at = Some(r.at);
        }
        prev = Some(r.price());
    }

    // Promotion spells.
    let spell_start = match rows.last() {
        Some(last) if last.promo => {
            let n = rows.iter().rev().take_while(|r| r.promo).count();
            let first = rows.len() - n;
            s.promo_started_at = rows.get(first).map(|r| r.at);
            first
        }
        _ => rows.len(),
    };
    let before = rows.get(..spell_start).unwrap_or_default();
    if let Some(j) = before.iter().rposition(|r| r.promo) {
        s.last_promo_ended_at = before.get(j + 1).map(|r| r.at);
    }

    // The prior period [T - prior_days, T), T the promotion's start or now.
    if let Some(days) = params.prior_days {
        let end = s.promo_started_at.unwrap_or(now);
        let start = end.saturating_sub(i64::from(days).saturating_mul(DAY));
        let earlier = rows.partition_point(|r| r.at < end);
        let earlier = rows.get(..earlier).unwrap_or_default();
        let first_inside = earlier.partition_point(|r| r.at <= start);
        // The price in force at the start, then every price set inside.
        let from = first_inside.saturating_sub(1);
        s.prior_low_price = earlier
            .get(from..)
            .unwrap_or_default()
            .iter()
            .map(|r| r.price())
            .min()
            .and_then(amount);
    }

    // The window [now - window_secs, now].
    if let Some(w) = params.window_secs {
        let start = now.saturating_sub(w);
        let first_inside = rows.partition_point(|r| r.at <= start);
        let anchor = first_inside
            .checked_sub(1)
            .and_then(|i| rows.get(i))
            .map(|r| r.price());
        let mut prev = anchor;
        let mut seq: Option<i128> = anchor;
        let mut dir = 0i8;
        let (mut changes, mut reversals) = (0u64, 0u64);
        for r in rows.get(first_inside..).unwrap_or_default() {
            if prev == Some(r.price()) {
                continue;
            }
            prev = Some(r.price());
            changes += 1;
            if let Some(p) = seq {
                let d: i8 = if r.price() > p { 1 } else { -1 };
                if dir != 0 && d != dir {
                    reversals += 1;
                }
                dir = d;
            }
            seq = Some(r.price());
        }
        // No price in force at the start: the SKU's first price (H7).
        let first = rows.get(first_inside).map(|r| r.price());
        s.window_anchor_price = anchor.or(first).and_then(amount);
        s.changes_in_window = Some(changes);
        s.reversals_in_window = Some(reversals);
    }
    s
}

/// Twice the median of `v` (sorted here): the sum of the middle two when
/// the count is even, so the midpoint stays exact.
fn median2(v: &mut [i128]) -> Option<i128> {
    v.sort_unstable();
    let n = v.len();
    if n == 0 {
        return None;
    }
    let hi = *v.get(n / 2)?;
    if n % 2 == 1 {
        Some(hi * 2)
    } else {
        Some(*v.get(n / 2 - 1)? + hi)
    }
}

/// `competitor_price` and `competitor_quotes` from a SKU's latest quote
/// per competitor.
fn summarise_quotes(
    params: &HistoryParams,
    now: i64,
    quotes: &[CompetitorQuote],
) -> (Option<Amount>, u64) {
    let oldest = params
        .max_quote_age_secs
        .map_or(i64::MIN, |age| now.saturating_sub(age));
    // Each competitor's latest quote at or before now.
    let mut seen: Vec<CompetitorQuote> = quotes
        .iter()
        .filter(|q| q.seen_at <= now)
        .copied()
        .collect();
    seen.sort_unstable_by_key(|q| (q.competitor, q.seen_at, q.seq));
    let mut fresh: Vec<i128> = seen
        .iter()
        .enumerate()
        .filter(|&(i, q)| {
            seen.get(i + 1)
                .is_none_or(|next| next.competitor != q.competitor)
        })
        .map(|(_, q)| q)
        .filter(|q| q.seen_at >= oldest)
        .map(|q| q.price)
        .collect();
    let kept: Vec<i128> = match params.outlier_mad.and_then(mad_factor) {
        Some((m, e)) => {
            let Some(med2) = median2(&mut fresh) else {
                return (None, 0);
            };
            // In half units: |2q - 2med|; MAD in quarter units (median2).
            let mut dev2: Vec<i128> = fresh.iter().map(|&q| (2 * q - med2).abs()).collect();
            let mad4 = median2(&mut dev2).unwrap_or(0);
            // |q - med| <= k x MAD  <=>  2 dev2 10^e <= m mad4.
            let scale = 10_i128.pow(e);
            fresh
                .iter()
                .copied()
                .filter(|&q| {
                    let lhs = (2 * q - med2).abs() * 2 * scale;
                    lhs <= m * mad4
                })
                .collect()
        }
        None => fresh,
    };
    let mut kept = kept;
    let count = kept.len() as u64;
    let price = median2(&mut kept).and_then(|m2| {
        // The midpoint, exact whenever it fits MAX_SCALE digits; half a
        // unit of the sixth finer digit is rounded half to even (H8).
        let half = m2.div_euclid(2);
        let v = if m2.rem_euclid(2) == 1 && half % 2 != 0 {
            half + 1
        } else {
            half
        };
        amount(v)
    });
    (price, count)
}

/// The price rows an audit log's records stand for (docs/spec.md H10):
/// `(sku, price, at, reference_price)` per `accepted` or `adjusted`
/// decision, `at` the item's `now` (else `evaluated_at`, whole seconds).
#[cfg(feature = "serde")]
pub mod audit_rows {
    use alloc::string::String;

    use crate::money::{parse_amount, Amount, Digits};

    /// One price row read from an audit record.
    #[derive(Clone, Debug, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct AuditRow {
        /// The item's SKU.
        pub sku: String,
        /// The published price.
        pub price: Amount,
        /// When it was decided, unix seconds.
        pub at: i64,
        /// The item's reference price (on promotion).
        pub reference_price: Option<Amount>,
    }

    /// Why a record could not be read.
    #[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
    #[error("{field}: {message}")]
    #[non_exhaustive]
    pub struct AuditRowError {
        /// The member at fault (`item.sku`, `decision.price`, ...).
        pub field: &'static str,
        /// What is wrong with it.
        pub message: String,
    }

    fn fail(field: &'static str, message: &str) -> AuditRowError {
        AuditRowError {
            field,
            message: String::from(message),
        }
    }

    /// Reads one audit line: `Ok(None)` for a decision that published no
    /// price (`held`, `rejected`). `digits` is the currency's.
    pub fn read_record(line: &str, digits: u8) -> Result<Option<AuditRow>, AuditRowError> {
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|_| fail("record", "is not a JSON object"))?;
        let decision = v
            .get("decision")
            .ok_or_else(|| fail("decision", "is missing"))?;
        let outcome = decision
            .get("outcome")
            .and_then(|o| o.as_str())
            .ok_or_else(|| fail("decision.outcome", "is missing"))?;
        if !matches!(outcome, "accepted" | "adjusted") {
            return Ok(None);
        }
        let item = v.get("item").ok_or_else(|| fail("item", "is missing"))?;
        let sku = item
            .get("sku")
            .and_then(|s| s.as_str())
            .ok_or_else(|| fail("item.sku", "is missing"))?;
        let money = |field: &'static str, v: Option<&serde_json::Value>| match v {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => parse_amount(s, digits, Digits::Exact)
                .map(Some)
                .map_err(|e| AuditRowError {
                    field,
                    message: alloc::format!("{e}"),
                }),
            Some(_) => Err(fail(field, "is not a decimal string")),
        };
        let price = money("decision.price", decision.get("price"))?
            .ok_or_else(|| fail("decision.price", "is missing"))?;
        let reference_price = money("item.reference_price", item.get("reference_price"))?;
        let at = match item.get("now") {
            Some(n) => n
                .as_i64()
                .ok_or_else(|| fail("item.now", "is not a whole number"))?,
            None => {
                let text = v
                    .get("evaluated_at")
                    .and_then(|t| t.as_str())
                    .ok_or_else(|| fail("evaluated_at", "is missing"))?;
                rfc3339_secs(text)
                    .ok_or_else(|| fail("evaluated_at", "is not an RFC 3339 UTC time"))?
            }
        };
        Ok(Some(AuditRow {
            sku: String::from(sku),
            price,
            at,
            reference_price,
        }))
    }

    /// `2026-11-27T14:05:09.120Z` as unix seconds (milliseconds dropped).
    pub fn rfc3339_secs(text: &str) -> Option<i64> {
        let b = text.as_bytes();
        if b.len() < 20 || b.last() != Some(&b'Z') {
            return None;
        }
        let num = |from: usize, to: usize| -> Option<i64> {
            core::str::from_utf8(b.get(from..to)?).ok()?.parse().ok()
        };
        let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let (hh, mm, ss) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
            return None;
        }
        // Days from civil (H. Hinnant), the inverse of `audit::rfc3339_ms`.
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two SKUs with one hash keep apart: the later one goes to the
    /// collision table (forced here, since a real 64-bit collision cannot
    /// be made to order).
    #[test]
    fn a_hash_collision_keeps_skus_apart() {
        let mut s = Summariser::new(HistoryParams::new(100));
        s.push_price(PriceRow::new("A", Amount::minor(100), 1))
            .unwrap_or_default();
        let hash = |name: &str| {
            let mut f = FxHasher::default();
            core::hash::Hasher::write(&mut f, name.as_bytes());
            core::hash::Hasher::finish(&f)
        };
        // "B"'s hash now points at "A".
        s.index.insert(hash("B"), 0);
        for (sku, cents, at) in [("B", 200, 2), ("A", 300, 3), ("B", 400, 4)] {
            s.push_price(PriceRow::new(sku, Amount::minor(cents), at))
                .unwrap_or_default();
        }
        assert_eq!(s.collided.len(), 1);
        let out = s.finish();
        let last: Vec<(&str, Option<i64>)> = out
            .iter()
            .map(|(n, x)| (n.as_str(), x.last_change_at))
            .collect();
        assert_eq!(last, [("A", Some(3)), ("B", Some(4))]);
    }
}
