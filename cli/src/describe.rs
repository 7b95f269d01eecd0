//! `priceguard validate`: refuse a bad policy with the field path, line and
//! column; for a good one, say in plain words what it enforces.

use std::fmt::Write as _;

use std::path::Path;

use priceguard::{CompiledRules, Currency, Policy, Ratio};

use crate::check::pct_ratio;
use crate::{load_policy, CliError};

fn dec(r: Ratio) -> String {
    r.to_decimal().normalize().to_string()
}

fn duration(secs: i64) -> String {
    let units = [(86_400, "day"), (3_600, "hour"), (60, "minute")];
    for (n, name) in units {
        if secs >= n && secs % n == 0 {
            let k = secs / n;
            return format!("{k} {name}{}", if k == 1 { "" } else { "s" });
        }
    }
    format!("{secs} seconds")
}

/// One plain sentence per rule that is on, keyed by rule name.
fn rule_lines(
    r: &CompiledRules,
    cur: Currency,
    window: Option<i64>,
) -> Vec<(&'static str, String)> {
    let m = |v: i64| format!("{} {}", cur.format(v), cur.code());
    let mut v = Vec::new();
    if r.freeze {
        v.push((
            "freeze",
            String::from("FROZEN: every item is held at its current price (kill switch)"),
        ));
    }
    if let Some(x) = r.min_price {
        v.push((
            "min_price",
            format!(
                "never below {} (or the item's own min_price, whichever is higher)",
                m(x)
            ),
        ));
    }
    if let Some(x) = r.max_price {
        v.push((
            "max_price",
            format!(
                "never above {} (or the item's own max_price, whichever is lower)",
                m(x)
            ),
        ));
    }
    v.push((
        "map",
        String::from("never below an item's map_price (minimum advertised price) when it has one"),
    ));
    if let Some(x) = r.emergency_cap {
        v.push((
            "emergency_cap",
            format!("emergency mode: at most {} over the item's baseline_price; items without one are held", pct_ratio(x)),
        ));
    }
    if let Some(x) = r.min_margin {
        v.push((
            "margin",
            format!("gross margin of at least {}: price >= unit_cost / (1 - {}); items without unit_cost are held", pct_ratio(x), dec(x)),
        ));
    }
    if let Some(x) = r.min_markup {
        v.push((
            "markup",
            format!(
                "markup of at least {} over unit_cost: price >= unit_cost x (1 + {})",
                pct_ratio(x),
                dec(x)
            ),
        ));
    }
    if let Some(x) = r.max_markup {
        v.push((
            "max_markup",
            format!(
                "markup of at most {} over unit_cost: price <= unit_cost x (1 + {}); items with unit_cost 0 are not capped by it; items without unit_cost are held",
                pct_ratio(x),
                dec(x)
            ),
        ));
    }
    if let Some(x) = r.min_unit_margin {
        v.push((
            "unit_margin",
            format!("at least {} over unit_cost per unit", m(x)),
        ));
    }
    if let Some(x) = r.max_discount {
        v.push((
            "max_discount",
            format!(
                "promotions at most {} off the reference_price",
                pct_ratio(x)
            ),
        ));
    }
    if let Some(x) = r.max_increase {
        v.push((
            "max_increase",
            format!(
                "one change raises the price by at most {} of the current price",
                pct_ratio(x)
            ),
        ));
    }
    if let Some(x) = r.max_decrease {
        v.push((
            "max_decrease",
            format!(
                "one change lowers the price by at most {} of the current price",
                pct_ratio(x)
            ),
        ));
    }
    if let Some(x) = r.max_step {
        v.push((
            "max_step",
            format!("one change moves the price by at most {}", m(x)),
        ));
    }
    if let Some(x) = r.cooldown_secs {
        v.push((
            "cooldown",
            format!(
                "no change within {} of the last one (last_change_at; needs now)",
                duration(x)
            ),
        ));
    }
    let win = window.map_or_else(
        || String::from("the window"),
        |w| format!("a window of {}", duration(w)),
    );
    if let Some(x) = r.max_changes {
        v.push((
            "max_changes",
            format!("at most {x} changes in {win} (changes_in_window)"),
        ));
    }
    if let Some(x) = r.window_increase {
        v.push((
            "window_increase",
            format!(
                "at most {} above the price at the start of {win} (window_anchor_price)",
                pct_ratio(x)
            ),
        ));
    }
    if let Some(x) = r.window_decrease {
        v.push((
            "window_decrease",
            format!(
                "at most {} below the price at the start of {win} (window_anchor_price)",
                pct_ratio(x)
            ),
        ));
    }
    if let Some(x) = r.min_change {
        v.push((
            "min_change",
            format!(
                "moves smaller than {} of the current price are not made (anti-flapping)",
                pct_ratio(x)
            ),
        ));
    }
    if let Some(x) = r.min_index {
        v.push((
            "competitor_floor",
            format!("at least {} x the competitor_price when known", dec(x)),
        ));
    }
    if let Some(x) = r.max_index {
        v.push((
            "competitor_ceiling",
            format!("at most {} x the competitor_price when known", dec(x)),
        ));
    }
    if let Some(e) = &r.endings {
        let endings: Vec<String> = e
            .residues()
            .iter()
            .map(|x| cur.format(*x).to_string())
            .collect();
        v.push((
            "price_ending",
            format!(
                "prices end in {} (modulo {}) when one fits",
                endings.join(" or "),
                cur.format(e.modulus)
            ),
        ));
    }
    if let Some(x) = r.max_auto_change {
        v.push((
            "approval",
            format!(
                "moves over {} of the current price are flagged needs_approval",
                pct_ratio(x)
            ),
        ));
    }
    v
}

/// The plain-words description of a policy.
pub fn describe(policy: &Policy) -> String {
    let cur = policy.currency();
    let base = policy.rules_for(None);
    let mut out = String::new();
    let version = if policy.version().is_empty() {
        String::from("(no version)")
    } else {
        format!("version {}", policy.version())
    };
    let _ = writeln!(out, "policy `{}` {version}: valid", policy.name());
    let _ = writeln!(
        out,
        "  prices in {} with {} decimals, on a tick of {}",
        cur.code(),
        cur.minor_units(),
        cur.format(policy.tick())
    );
    let order: Vec<&str> = base.priority.iter().map(|c| c.name()).collect();
    let _ = writeln!(
        out,
        "  conflicts are resolved by relaxing classes from the end of: {} (hard is never relaxed)",
        order.join(" > ")
    );
    if base.allow_unbounded {
        let _ = writeln!(
            out,
            "  allow_unbounded: a price may be published without a lower or upper bound source"
        );
    }
    let _ = writeln!(out, "rules:");
    let base_lines = rule_lines(base, cur, policy.window_secs());
    for (name, line) in &base_lines {
        let _ = writeln!(out, "  {name}: {line}");
    }
    let ids: Vec<u32> = policy.segment_ids().collect();
    if !ids.is_empty() {
        let _ = writeln!(
            out,
            "segments (items with that `segment`; others use the rules above):"
        );
    }
    for id in ids {
        let lines = rule_lines(policy.rules_for(Some(id)), cur, policy.window_secs());
        let changed: Vec<&(&str, String)> =
            lines.iter().filter(|l| !base_lines.contains(l)).collect();
        if changed.is_empty() {
            let _ = writeln!(out, "  segment {id}: same rules as above");
        } else {
            let _ = writeln!(out, "  segment {id}:");
            for (name, line) in changed {
                let _ = writeln!(out, "    {name}: {line}");
            }
        }
    }
    if policy.campaign_count() > 0 {
        let _ = writeln!(out, "promotion budgets (spend = (reference_price - price) x expected_units, consumed in input order):");
        for (name, budget) in policy.campaigns() {
            let _ = writeln!(out, "  {name}: {} {}", cur.format(budget), cur.code());
        }
        let _ = writeln!(
            out,
            "  items naming another campaign, or without expected_units, are held"
        );
    }
    match policy.breaker() {
        Some(b) => {
            let _ = writeln!(
                out,
                "breaker: when more than {} of a batch of at least {} items breaks a hard or financial rule, the whole batch is held (circuit_open)",
                pct_ratio(b.max_violation_ratio),
                b.min_batch
            );
        }
        None => {
            let _ = writeln!(out, "breaker: none");
        }
    }
    out
}

/// The warning `validate` gives when `bounds.max_price` is not set (for
/// the policy's own rules or a segment's): without it a price is capped
/// only by what the item brings (docs/spec.md §5), so an item that brings
/// nothing, such as a new listing without current_price, is rejected as
/// `unbounded`, or published with no cap under `allow_unbounded`.
pub fn max_price_warning(policy: &Policy) -> Option<String> {
    let mut missing = Vec::new();
    let base = policy.rules_for(None);
    if base.max_price.is_none() {
        missing.push(String::from("the policy's own rules"));
    }
    for id in policy.segment_ids() {
        let r = policy.rules_for(Some(id));
        if r.max_price.is_none() {
            missing.push(format!("segment {id}"));
        }
    }
    if missing.is_empty() {
        return None;
    }
    let r = if base.max_price.is_none() {
        base
    } else {
        policy
            .segment_ids()
            .map(|id| policy.rules_for(Some(id)))
            .find(|r| r.max_price.is_none())
            .unwrap_or(base)
    };
    let mut caps = vec![String::from("its own max_price")];
    if r.max_markup.is_some() {
        // docs/spec.md R10: no cap over a zero cost.
        caps.push(String::from("a unit_cost above 0 (margin.max_markup)"));
    }
    if r.max_increase.is_some() {
        caps.push(String::from("a current_price (change.max_increase)"));
    }
    if r.window_increase.is_some() {
        caps.push(String::from(
            "a window_anchor_price (change.window_increase)",
        ));
    }
    if r.max_index.is_some() {
        caps.push(String::from("a competitor_price (market.max_index)"));
    }
    if r.emergency_cap.is_some() {
        caps.push(String::from("a baseline_price (emergency)"));
    }
    let then = if r.allow_unbounded {
        "is published with no upper bound at all (allow_unbounded = true)"
    } else {
        "is not priced: it is rejected as `unbounded`, or held at its current price when it has one"
    };
    Some(format!(
        "warning: `bounds.max_price` is not set ({}): a price is capped only by what the item brings: {}. An item with none of these (a new listing without current_price, say) {then}.",
        missing.join(", "),
        caps.join(", ")
    ))
}

/// Runs `validate`.
pub fn run(file: &Path) -> Result<(), CliError> {
    let policy = load_policy(file)?;
    crate::output::write_stdout(describe(&policy).as_bytes())?;
    if let Some(w) = max_price_warning(&policy) {
        // A warning only: the policy is valid and the exit status stays 0.
        eprintln!("priceguard: {w}");
    }
    Ok(())
}
