//! Financial cost bounds: the floors `margin`, `markup`, `unit_margin` and
//! the cap `max_markup`.

use crate::item::Field;
use crate::rules::params::{CompiledRules, Ratio};
use crate::rules::{offset, offset_ceil, scale, BoundSink, Factor, Row, Rule, Scale};

/// `margin`: the price whose gross margin over cost `c` is `m` is
/// `c / (1 - m)`, so the floor is `c × den / (den - num)`; validation keeps
/// `m < 1`.
#[inline]
pub(crate) fn margin_factor(m: Ratio) -> Factor {
    Factor {
        num: i128::from(m.den),
        den: i128::from(m.den) - i128::from(m.num),
    }
}

/// `markup`: the floor is `c × (1 + k)`; `max_markup`: the cap is `c × (1 + k)`.
#[inline]
pub(crate) fn markup_factor(k: Ratio) -> Factor {
    Factor::plus(k.num, k.den)
}

/// The rules [`Margin::collect`] records.
#[cfg_attr(not(feature = "alloc"), allow(dead_code))] // read by the row kernel (alloc)
pub(crate) const RULES: u64 = (1 << Rule::Margin as u8)
    | (1 << Rule::Markup as u8)
    | (1 << Rule::UnitMargin as u8)
    | (1 << Rule::MaxMarkup as u8);

/// The family's parameters in arithmetic `S`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Margin<S> {
    pub(crate) margin: Option<S>,
    pub(crate) markup: Option<S>,
    pub(crate) unit_margin: Option<i64>,
    pub(crate) max_markup: Option<S>,
}

impl<S: Scale> Margin<S> {
    #[inline(always)]
    pub(crate) fn new(r: &CompiledRules) -> Option<Margin<S>> {
        Some(Margin {
            margin: scale(r.min_margin, margin_factor, r.tick)?,
            markup: scale(r.min_markup, markup_factor, r.tick)?,
            unit_margin: offset::<S>(r.min_unit_margin)?,
            max_markup: scale(r.max_markup, markup_factor, r.tick)?,
        })
    }

    /// `margin`: lo = ceil_T(c / (1 - m));
    /// `markup`: lo = ceil_T(c x (1 + k));
    /// `unit_margin`: lo = ceil_T(c + u);
    /// `max_markup`: hi = floor_T(c x (1 + k)), skipped when c = 0
    /// (docs/spec.md R10).
    /// Items without `unit_cost` never reach here when the policy has one
    /// of these: they are held as `missing_cost`.
    #[inline(always)]
    pub(crate) fn collect(&self, v: &impl Row, t: i64, b: &mut impl BoundSink) {
        let Some(c) = v.get(Field::UnitCost) else {
            return;
        };
        if let Some(s) = &self.margin {
            b.lower(Rule::Margin, s.ceil(c));
        }
        if let Some(s) = &self.markup {
            b.lower(Rule::Markup, s.ceil(c));
        }
        if let Some(u) = self.unit_margin {
            b.lower(Rule::UnitMargin, offset_ceil(c, u, t));
        }
        if let Some(s) = &self.max_markup {
            // A markup over no cost means nothing: no cap.
            if c > 0 {
                b.upper(Rule::MaxMarkup, s.floor(c));
            }
        }
    }

    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // read by the row kernel (alloc)
    pub(crate) fn each_factor(&self, f: &mut impl FnMut(Field, &S)) {
        for s in [&self.margin, &self.markup, &self.max_markup]
            .into_iter()
            .flatten()
        {
            f(Field::UnitCost, s);
        }
    }
}
