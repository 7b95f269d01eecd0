//! Validation and compilation: a [`PolicySpec`] becomes a [`Policy`] whose
//! rules are flat integers and exact ratios. Every refusal names the field
//! path and the reason.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use rust_decimal::Decimal;

use super::error::PolicyError;
use super::spec::{Dec, EndingsSpec, LadderSpec, PolicySpec, SegmentSpec};
use super::{Breaker, Policy, MAX_CAMPAIGNS, MAX_SEGMENTS};
use crate::compiled::{CompiledRules, Endings, Ratio, MAX_ENDINGS};
use crate::money::{Currency, MoneyError};
use crate::rules::ladder::Ladder;
use crate::rules::Class;

/// Largest factor accepted for increase-like fractions (markup, caps,
/// indices): 100 means +10 000 %.
const MAX_FACTOR: i64 = 100;
/// Longest accepted cooldown or window: ten years.
const MAX_SECS: u64 = 10 * 366 * 24 * 3600;

struct Ctx {
    currency: Currency,
}

fn join(prefix: &str, path: &str) -> String {
    if prefix.is_empty() {
        path.to_owned()
    } else {
        format!("{prefix}.{path}")
    }
}

impl Ctx {
    fn money(&self, path: &str, v: Dec) -> Result<i64, PolicyError> {
        self.currency.decimal_to_minor(v.0).map_err(|e| match e {
            MoneyError::TooPrecise(d) => PolicyError::new(
                path,
                format!("{v} has more than {d} decimal places for {}", self.currency),
            ),
            _ => PolicyError::new(path, format!("{v} is beyond the supported range")),
        })
    }

    fn positive_money(&self, path: &str, v: Dec) -> Result<i64, PolicyError> {
        let m = self.money(path, v)?;
        if m <= 0 {
            return Err(PolicyError::new(path, format!("{v} is not above 0")));
        }
        Ok(m)
    }

    fn non_negative_money(&self, path: &str, v: Dec) -> Result<i64, PolicyError> {
        let m = self.money(path, v)?;
        if m < 0 {
            return Err(PolicyError::new(path, format!("{v} is negative")));
        }
        Ok(m)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Upper {
    /// `<= 1`
    One,
    /// `< 1`
    BelowOne,
    /// `<= MAX_FACTOR`
    Factor,
}

fn fraction(path: &str, v: Dec, upper: Upper, positive: bool) -> Result<Ratio, PolicyError> {
    let d = v.0;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(PolicyError::new(path, format!("{v} is negative")));
    }
    if positive && d.is_zero() {
        return Err(PolicyError::new(path, format!("{v} is not above 0")));
    }
    match upper {
        Upper::One if d > Decimal::ONE => {
            return Err(PolicyError::new(path, format!("{v} is above 1")));
        }
        Upper::BelowOne if d >= Decimal::ONE => {
            return Err(PolicyError::new(path, format!("{v} is 1 or above")));
        }
        Upper::Factor if d > Decimal::from(MAX_FACTOR) => {
            return Err(PolicyError::new(path, format!("{v} is above {MAX_FACTOR}")));
        }
        _ => {}
    }
    Ratio::from_decimal(d).ok_or_else(|| {
        PolicyError::new(
            path,
            format!("{v} has more than {} decimal places", Ratio::MAX_SCALE),
        )
    })
}

fn secs(path: &str, v: u64) -> Result<i64, PolicyError> {
    if v > MAX_SECS {
        return Err(PolicyError::new(
            path,
            format!("{v} is above {MAX_SECS} seconds (ten years)"),
        ));
    }
    i64::try_from(v).map_err(|_| PolicyError::new(path, format!("{v} is too large")))
}

/// Most days `disclosure.prior_days` and the promotion keys accept: ten
/// years, as [`MAX_SECS`].
const MAX_DAYS: u64 = 10 * 366;

/// A whole number of days, above 0 unless `zero` is allowed.
fn days(path: &str, v: u64, zero: bool) -> Result<i64, PolicyError> {
    if v == 0 && !zero {
        return Err(PolicyError::new(path, "0 is not above 0"));
    }
    if v > MAX_DAYS {
        return Err(PolicyError::new(
            path,
            format!("{v} is above {MAX_DAYS} days (ten years)"),
        ));
    }
    i64::try_from(v).map_err(|_| PolicyError::new(path, format!("{v} is too large")))
}

/// A count that switches a rule on: at least 1 (a count of 0 would hold or
/// gate every item).
fn count(path: &str, v: u64) -> Result<i64, PolicyError> {
    if v == 0 {
        return Err(PolicyError::new(path, "0 is not above 0"));
    }
    i64::try_from(v).map_err(|_| PolicyError::new(path, format!("{v} is too large")))
}

/// Applies one set of rule tables (the policy's, or a segment's overrides)
/// on top of `rules`, key by key.
fn apply_tables(
    ctx: &Ctx,
    prefix: &str,
    t: &SegmentSpec,
    base_endings: Option<&EndingsSpec>,
    rules: &mut CompiledRules,
    window_secs: &mut Option<i64>,
) -> Result<(), PolicyError> {
    let p = |k: &str| join(prefix, k);
    if let Some(b) = &t.bounds {
        if let Some(v) = b.min_price {
            rules.min_price = Some(ctx.positive_money(&p("bounds.min_price"), v)?);
        }
        if let Some(v) = b.max_price {
            rules.max_price = Some(ctx.positive_money(&p("bounds.max_price"), v)?);
        }
    }
    if let Some(m) = &t.margin {
        if let Some(v) = m.min_margin {
            rules.min_margin = Some(fraction(
                &p("margin.min_margin"),
                v,
                Upper::BelowOne,
                false,
            )?);
        }
        if let Some(v) = m.min_markup {
            rules.min_markup = Some(fraction(&p("margin.min_markup"), v, Upper::Factor, false)?);
        }
        if let Some(v) = m.max_markup {
            rules.max_markup = Some(fraction(&p("margin.max_markup"), v, Upper::Factor, false)?);
        }
        if let Some(v) = m.min_unit_margin {
            rules.min_unit_margin = Some(ctx.non_negative_money(&p("margin.min_unit_margin"), v)?);
        }
    }
    if let Some(c) = &t.change {
        if let Some(v) = c.max_increase {
            rules.max_increase = Some(fraction(
                &p("change.max_increase"),
                v,
                Upper::Factor,
                false,
            )?);
        }
        if let Some(v) = c.max_decrease {
            rules.max_decrease = Some(fraction(&p("change.max_decrease"), v, Upper::One, false)?);
        }
        if let Some(v) = c.max_step {
            rules.max_step = Some(ctx.positive_money(&p("change.max_step"), v)?);
        }
        if let Some(v) = c.cooldown_secs {
            rules.cooldown_secs = Some(secs(&p("change.cooldown_secs"), v)?);
        }
        if let Some(v) = c.max_changes {
            rules.max_changes = Some(i64::try_from(v).map_err(|_| {
                PolicyError::new(p("change.max_changes"), format!("{v} is too large"))
            })?);
        }
        if let Some(v) = c.window_secs {
            if v == 0 {
                return Err(PolicyError::new(
                    p("change.window_secs"),
                    "0 is not above 0",
                ));
            }
            *window_secs = Some(secs(&p("change.window_secs"), v)?);
        }
        if let Some(v) = c.window_increase {
            rules.window_increase = Some(fraction(
                &p("change.window_increase"),
                v,
                Upper::Factor,
                false,
            )?);
        }
        if let Some(v) = c.window_decrease {
            rules.window_decrease = Some(fraction(
                &p("change.window_decrease"),
                v,
                Upper::One,
                false,
            )?);
        }
        if let Some(v) = c.min_change {
            rules.min_change = Some(fraction(
                &p("change.min_change"),
                v,
                Upper::BelowOne,
                false,
            )?);
        }
        if let Some(v) = c.max_reversals {
            rules.max_reversals = Some(count(&p("change.max_reversals"), v)?);
        }
    }
    if let Some(d) = &t.disclosure {
        if let Some(v) = d.prior_days {
            rules.prior_days = Some(days(&p("disclosure.prior_days"), v, false)?);
        }
        if let Some(v) = d.progressive {
            rules.progressive = v;
        }
    }
    if let Some(pr) = &t.promotion {
        if let Some(v) = pr.max_discount {
            rules.max_discount = Some(fraction(
                &p("promotion.max_discount"),
                v,
                Upper::One,
                false,
            )?);
        }
        if let Some(v) = pr.max_days {
            rules.promo_max_days = Some(days(&p("promotion.max_days"), v, false)?);
        }
        if let Some(v) = pr.min_days_between {
            rules.promo_min_days_between = Some(days(&p("promotion.min_days_between"), v, false)?);
        }
    }
    if let Some(m) = &t.market {
        if let Some(v) = m.min_index {
            rules.min_index = Some(fraction(&p("market.min_index"), v, Upper::Factor, true)?);
        }
        if let Some(v) = m.max_index {
            rules.max_index = Some(fraction(&p("market.max_index"), v, Upper::Factor, true)?);
        }
        if let Some(v) = m.max_quote_age_secs {
            if v == 0 {
                return Err(PolicyError::new(
                    p("market.max_quote_age_secs"),
                    "0 is not above 0",
                ));
            }
            rules.max_quote_age_secs = Some(secs(&p("market.max_quote_age_secs"), v)?);
        }
        if let Some(v) = m.min_quotes {
            rules.min_quotes = Some(count(&p("market.min_quotes"), v)?);
        }
        if let Some(v) = m.outlier_mad {
            let k = fraction(&p("market.outlier_mad"), v, Upper::Factor, false)?;
            rules.outlier_mad = Some(k);
        }
        if let Some(v) = m.required {
            rules.market_required = v;
        }
    }
    if let Some(e) = &t.emergency {
        if let Some(v) = e.cap {
            rules.emergency_cap = Some(fraction(&p("emergency.cap"), v, Upper::Factor, false)?);
        }
    }
    if let Some(e) = &t.endings {
        let merged = EndingsSpec {
            allowed: e
                .allowed
                .clone()
                .or_else(|| base_endings.and_then(|b| b.allowed.clone())),
            modulus: e.modulus.or_else(|| base_endings.and_then(|b| b.modulus)),
        };
        rules.endings = Some(compile_endings(ctx, prefix, &merged, rules.tick)?);
    }
    if let Some(a) = &t.approval {
        if let Some(v) = a.max_auto_change {
            rules.max_auto_change = Some(fraction(
                &p("approval.max_auto_change"),
                v,
                Upper::Factor,
                true,
            )?);
        }
    }
    Ok(())
}

fn compile_endings(
    ctx: &Ctx,
    prefix: &str,
    e: &EndingsSpec,
    tick: i64,
) -> Result<Endings, PolicyError> {
    let p = |k: &str| join(prefix, k);
    let modulus = match e.modulus {
        Some(v) => ctx.positive_money(&p("endings.modulus"), v)?,
        None => ctx.currency.minor_per_major(),
    };
    if modulus % tick != 0 {
        return Err(PolicyError::new(
            p("endings.modulus"),
            format!(
                "{} is not a multiple of the tick",
                ctx.currency.format(modulus)
            ),
        ));
    }
    let Some(allowed) = &e.allowed else {
        return Err(PolicyError::new(
            p("endings.allowed"),
            "is required when [endings] is present",
        ));
    };
    if allowed.is_empty() {
        return Err(PolicyError::new(p("endings.allowed"), "is empty"));
    }
    if allowed.len() > MAX_ENDINGS {
        return Err(PolicyError::new(
            p("endings.allowed"),
            format!(
                "has {} endings; at most {MAX_ENDINGS} are supported",
                allowed.len()
            ),
        ));
    }
    let mut out = Endings {
        modulus,
        allowed: [0; MAX_ENDINGS],
        count: 0,
    };
    for (i, v) in allowed.iter().enumerate() {
        let path = format!("{}[{i}]", p("endings.allowed"));
        let m = ctx.non_negative_money(&path, *v)?;
        if m >= modulus {
            return Err(PolicyError::new(
                path,
                format!(
                    "{v} is not below the modulus {}",
                    ctx.currency.format(modulus)
                ),
            ));
        }
        if m % tick != 0 {
            return Err(PolicyError::new(
                path,
                format!("{v} is not a multiple of the tick"),
            ));
        }
        if out.residues().contains(&m) {
            return Err(PolicyError::new(path, format!("{v} is listed twice")));
        }
        if let Some(slot) = out.allowed.get_mut(usize::from(out.count)) {
            *slot = m;
            out.count += 1;
        }
    }
    let n = usize::from(out.count);
    if let Some(s) = out.allowed.get_mut(..n) {
        s.sort_unstable();
    }
    Ok(out)
}

/// Cross-field checks on one segment's merged rules.
fn check_merged(
    ctx: &Ctx,
    prefix: &str,
    r: &CompiledRules,
    window_secs: Option<i64>,
) -> Result<(), PolicyError> {
    let p = |k: &str| join(prefix, k);
    if let (Some(lo), Some(hi)) = (r.min_price, r.max_price) {
        if lo > hi {
            return Err(PolicyError::new(
                p("bounds.min_price"),
                format!(
                    "{} is above bounds.max_price {}",
                    ctx.currency.format(lo),
                    ctx.currency.format(hi)
                ),
            ));
        }
    }
    if let (Some(lo), Some(hi)) = (r.min_index, r.max_index) {
        if i128::from(lo.num) * i128::from(hi.den) > i128::from(hi.num) * i128::from(lo.den) {
            return Err(PolicyError::new(
                p("market.min_index"),
                format!(
                    "{} is above market.max_index {}",
                    lo.to_decimal(),
                    hi.to_decimal()
                ),
            ));
        }
    }
    if let (Some(lo), Some(hi)) = (r.min_markup, r.max_markup) {
        if i128::from(hi.num) * i128::from(lo.den) < i128::from(lo.num) * i128::from(hi.den) {
            return Err(PolicyError::new(
                p("margin.max_markup"),
                format!(
                    "{} is below margin.min_markup {}",
                    hi.to_decimal(),
                    lo.to_decimal()
                ),
            ));
        }
    }
    if let (Some(m), Some(k)) = (r.min_margin, r.max_markup) {
        // The cap c (1 + k) is under the floor c / (1 - m) for every cost
        // exactly when (1 + k)(1 - m) < 1 (docs/spec.md §8.2).
        let (kn, kd) = (i128::from(k.num), i128::from(k.den));
        let (mn, md) = (i128::from(m.num), i128::from(m.den));
        if (kd + kn) * (md - mn) < kd * md {
            return Err(PolicyError::new(
                p("margin.max_markup"),
                format!(
                    "{} with margin.min_margin {} puts the cap under the margin floor for every cost: (1 + max_markup) x (1 - min_margin) < 1",
                    k.to_decimal(),
                    m.to_decimal()
                ),
            ));
        }
    }
    if window_secs.is_none() {
        for (key, on) in [
            ("change.max_changes", r.max_changes.is_some()),
            ("change.max_reversals", r.max_reversals.is_some()),
            ("change.window_increase", r.window_increase.is_some()),
            ("change.window_decrease", r.window_decrease.is_some()),
        ] {
            if on {
                return Err(PolicyError::new(
                    p(key),
                    "needs change.window_secs, the window it counts over",
                ));
            }
        }
    }
    if r.market_required && r.min_quotes.is_none() {
        return Err(PolicyError::new(
            p("market.required"),
            "needs market.min_quotes, the fewest quotes the market rules trust",
        ));
    }
    if !r.allow_unbounded {
        // `max_markup` needs a cost too, but it is a cap, not a floor.
        let lower = r.min_price.is_some()
            || r.min_margin.is_some()
            || r.min_markup.is_some()
            || r.min_unit_margin.is_some();
        let upper = r.max_price.is_some()
            || r.max_markup.is_some()
            || r.max_increase.is_some()
            || r.window_increase.is_some();
        if !lower {
            return Err(PolicyError::new(
                p("bounds.min_price"),
                "no lower bound source (bounds.min_price or a margin rule): a blank minimum would let prices fall to one tick; add one or set allow_unbounded = true",
            ));
        }
        if !upper {
            return Err(PolicyError::new(
                p("bounds.max_price"),
                "no upper bound source (bounds.max_price, margin.max_markup, change.max_increase or change.window_increase): nothing would cap the price; add one or set allow_unbounded = true",
            ));
        }
    }
    Ok(())
}

fn priority(spec: &PolicySpec) -> Result<[Class; 4], PolicyError> {
    let Some(names) = &spec.priority else {
        return Ok(Class::ORDERED);
    };
    let mut out = Class::ORDERED;
    if names.len() != 4 {
        return Err(PolicyError::new(
            "priority",
            format!(
                "lists {} classes; it must order all four: hard, financial, stability, market",
                names.len()
            ),
        ));
    }
    for (i, name) in names.iter().enumerate() {
        let class = Class::from_name(name)
            .filter(|c| *c != Class::Cosmetic)
            .ok_or_else(|| {
                PolicyError::new(
                    format!("priority[{i}]"),
                    format!("`{name}` is not a class (hard, financial, stability, market)"),
                )
            })?;
        if out.get(..i).is_some_and(|seen| seen.contains(&class)) {
            return Err(PolicyError::new(
                format!("priority[{i}]"),
                format!("`{name}` is listed twice"),
            ));
        }
        if let Some(slot) = out.get_mut(i) {
            *slot = class;
        }
    }
    if out.first() != Some(&Class::Hard) {
        return Err(PolicyError::new("priority[0]", "`hard` must come first"));
    }
    Ok(out)
}

fn base_tables(spec: &PolicySpec) -> SegmentSpec {
    SegmentSpec {
        id: 0,
        bounds: spec.bounds.clone(),
        margin: spec.margin.clone(),
        change: spec.change.clone(),
        promotion: spec.promotion.clone(),
        market: spec.market.clone(),
        disclosure: spec.disclosure.clone(),
        emergency: spec.emergency.clone(),
        endings: spec.endings.clone(),
        approval: spec.approval.clone(),
    }
}

/// Validates and compiles a policy.
pub(crate) fn compile(spec: PolicySpec) -> Result<Policy, PolicyError> {
    if spec.name.trim().is_empty() {
        return Err(PolicyError::new("name", "is empty"));
    }
    if spec.name.len() > 256 {
        return Err(PolicyError::new("name", "is longer than 256 bytes"));
    }
    if spec.version.as_ref().is_some_and(|v| v.len() > 256) {
        return Err(PolicyError::new("version", "is longer than 256 bytes"));
    }
    let currency = Currency::from_code(&spec.currency).ok_or_else(|| {
        let hint = if Currency::from_code(&spec.currency.to_ascii_uppercase()).is_some() {
            " (codes are upper case)"
        } else {
            ""
        };
        PolicyError::new(
            "currency",
            format!(
                "`{}` is not an active ISO 4217 currency code{hint}",
                spec.currency
            ),
        )
    })?;
    let ctx = Ctx { currency };
    let tick = match spec.tick {
        Some(v) => ctx.positive_money("tick", v)?,
        None => 1,
    };
    let mut base = CompiledRules::empty(tick);
    base.priority = priority(&spec)?;
    base.freeze = spec.freeze;
    base.allow_unbounded = spec.allow_unbounded;
    let base_t = base_tables(&spec);
    let mut base_window = None;
    apply_tables(&ctx, "", &base_t, None, &mut base, &mut base_window)?;
    check_merged(&ctx, "", &base, base_window)?;

    let mut campaigns = Vec::new();
    let mut budgets = Vec::new();
    if let Some(b) = spec.promotion.as_ref().and_then(|p| p.budgets.as_ref()) {
        if b.len() > MAX_CAMPAIGNS {
            return Err(PolicyError::new(
                "promotion.budgets",
                format!(
                    "has {} campaigns; at most {MAX_CAMPAIGNS} are supported",
                    b.len()
                ),
            ));
        }
        for (name, v) in b {
            let path = format!("promotion.budgets.{name}");
            if name.trim().is_empty() {
                return Err(PolicyError::new(
                    "promotion.budgets",
                    "has an empty campaign name",
                ));
            }
            budgets.push(ctx.non_negative_money(&path, *v)?);
            campaigns.push(name.to_string());
        }
    }

    let mut breaker = None;
    if let Some(b) = &spec.breaker {
        let ratio = match b.max_violation_ratio {
            Some(v) => fraction("breaker.max_violation_ratio", v, Upper::One, false)?,
            None => {
                return Err(PolicyError::new(
                    "breaker.max_violation_ratio",
                    "is required when [breaker] is present",
                ))
            }
        };
        let min_batch = b.min_batch.unwrap_or(Breaker::DEFAULT_MIN_BATCH);
        if min_batch == 0 {
            return Err(PolicyError::new("breaker.min_batch", "0 is not above 0"));
        }
        breaker = Some(Breaker {
            max_violation_ratio: ratio,
            min_batch,
        });
    }

    let ladder = match &spec.ladder {
        Some(l) => Some(ladder(l)?),
        None => None,
    };

    if spec.segments.len() > MAX_SEGMENTS {
        return Err(PolicyError::new(
            "segments",
            format!(
                "has {} segments; at most {MAX_SEGMENTS} are supported",
                spec.segments.len()
            ),
        ));
    }
    let mut segments: Vec<(u32, CompiledRules)> = Vec::with_capacity(spec.segments.len());
    for (i, seg) in spec.segments.iter().enumerate() {
        let prefix = format!("segments[{i}]");
        if segments.iter().any(|(id, _)| *id == seg.id) {
            return Err(PolicyError::new(
                format!("{prefix}.id"),
                format!("{} is used by an earlier segment", seg.id),
            ));
        }
        if seg.promotion.as_ref().is_some_and(|p| p.budgets.is_some()) {
            return Err(PolicyError::new(
                format!("{prefix}.promotion.budgets"),
                "budgets are policy-wide; set them in [promotion]",
            ));
        }
        let mut rules = base;
        let mut window = base_window;
        apply_tables(
            &ctx,
            &prefix,
            seg,
            spec.endings.as_ref(),
            &mut rules,
            &mut window,
        )?;
        check_merged(&ctx, &prefix, &rules, window)?;
        segments.push((seg.id, rules));
    }
    segments.sort_by_key(|(id, _)| *id);

    let prepared = core::iter::once(&base)
        .chain(segments.iter().map(|(_, r)| r))
        .map(crate::kernel::Prepared::new)
        .collect();
    Ok(Policy {
        name: spec.name.clone(),
        version: spec.version.clone().unwrap_or_default(),
        currency,
        base,
        segments,
        prepared,
        campaigns,
        budgets,
        breaker,
        window_secs: base_window,
        ladder,
        spec,
    })
}

/// `[ladder]`: each fraction like the other tables' fractions, then the
/// contradictions between them.
fn ladder(l: &LadderSpec) -> Result<Ladder, PolicyError> {
    let frac = |path: &str, v: Option<Dec>, upper: Upper| match v {
        Some(v) => fraction(path, v, upper, false).map(Some),
        None => Ok(None),
    };
    let min_gap = frac("ladder.min_gap", l.min_gap, Upper::Factor)?;
    let max_gap = frac("ladder.max_gap", l.max_gap, Upper::Factor)?;
    let min_unit_saving = frac("ladder.min_unit_saving", l.min_unit_saving, Upper::BelowOne)?;
    if let (Some(lo), Some(hi)) = (l.min_gap, l.max_gap) {
        if hi.0 < lo.0 {
            return Err(PolicyError::new(
                "ladder.max_gap",
                format!("{hi} is below ladder.min_gap {lo}: no price could satisfy both"),
            ));
        }
    }
    if min_gap.is_none() && max_gap.is_none() && min_unit_saving.is_none() {
        return Err(PolicyError::new(
            "ladder",
            "sets no rule (min_gap, max_gap or min_unit_saving)",
        ));
    }
    Ok(Ladder::new(min_gap, max_gap, min_unit_saving))
}
