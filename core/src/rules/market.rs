//! Market rules: bounds as multiples of a competitor price.

use crate::item::{Field, Item};
use crate::rules::params::{CompiledRules, Ratio};
use crate::rules::{scale, BoundSink, Factor, Row, Rule, Scale};

/// `competitor_floor` and `competitor_ceiling`: `K × index`.
#[inline]
pub(crate) fn index_factor(index: Ratio) -> Factor {
    Factor::of(index.num, index.den)
}

/// The rules [`Market::collect`] records.
#[cfg_attr(not(feature = "alloc"), allow(dead_code))] // read by the row kernel (alloc)
pub(crate) const RULES: u64 =
    (1 << Rule::CompetitorFloor as u8) | (1 << Rule::CompetitorCeiling as u8);

/// The family's parameters in arithmetic `S`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Market<S> {
    pub(crate) floor: Option<S>,
    pub(crate) ceiling: Option<S>,
}

impl<S: Scale> Market<S> {
    #[inline(always)]
    pub(crate) fn new(r: &CompiledRules) -> Option<Market<S>> {
        Some(Market {
            floor: scale(r.min_index, index_factor, r.tick)?,
            ceiling: scale(r.max_index, index_factor, r.tick)?,
        })
    }

    /// `competitor_floor`: lo = ceil_T(K x min_index);
    /// `competitor_ceiling`: hi = floor_T(K x max_index).
    /// Skipped without a `competitor_price`.
    #[inline(always)]
    pub(crate) fn collect(&self, v: &impl Row, b: &mut impl BoundSink) {
        let Some(k) = v.get(Field::CompetitorPrice) else {
            return;
        };
        if let Some(s) = &self.floor {
            b.lower(Rule::CompetitorFloor, s.ceil(k));
        }
        if let Some(s) = &self.ceiling {
            b.upper(Rule::CompetitorCeiling, s.floor(k));
        }
    }

    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // read by the row kernel (alloc)
    pub(crate) fn each_factor(&self, f: &mut impl FnMut(Field, &S)) {
        for s in [&self.floor, &self.ceiling].into_iter().flatten() {
            f(Field::CompetitorPrice, s);
        }
    }
}

/// What the competitor quote gate makes of an item (docs/spec.md §11.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quotes {
    /// Enough quotes (or no gate): the market rules apply.
    Trusted,
    /// Too few quotes, `market.required = false`: the market rules are
    /// skipped for the item.
    Skip,
    /// Too few quotes, `market.required = true`: the item is held
    /// (`competitor_quality`).
    Hold,
}

/// The gate: with `market.min_quotes` and a market rule on, an item whose
/// `competitor_quotes` is missing or below the minimum has a competitor
/// price no one should trust. A missing count is no quote at all.
#[inline]
pub(crate) fn quote_gate(r: &CompiledRules, item: &Item) -> Quotes {
    if !r.quote_gate() {
        return Quotes::Trusted;
    }
    let Some(min) = r.min_quotes else {
        return Quotes::Trusted;
    };
    if item.competitor_quotes().unwrap_or(0) >= min {
        Quotes::Trusted
    } else if r.market_required {
        Quotes::Hold
    } else {
        Quotes::Skip
    }
}
