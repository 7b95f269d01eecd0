//! Metrics over the shared vectors: every counter equals the count of the
//! expected decisions, and the Prometheus text carries them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::path::Path;

use priceguard::metrics::Metrics;
use priceguard::{Budgets, Decision, Field, Item, Outcome, Policy, Reason, Rule};
use serde_json::Value;

fn build_item(policy: &Policy, item: &serde_json::Map<String, Value>) -> Result<Item, Field> {
    let mut out = Item::new(0);
    for field in Field::ALL {
        if field == Field::Sku {
            continue;
        }
        let text = match item.get(field.name()) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        policy
            .set_field_text(&mut out, field, &text)
            .map_err(|e| e.field)?;
    }
    Ok(out)
}

#[derive(Default)]
struct Expected {
    outcomes: HashMap<String, u64>,
    reasons: HashMap<String, u64>,
    violated: HashMap<String, u64>,
    binding: HashMap<String, u64>,
    needs_approval: u64,
    batches: u64,
    trips: u64,
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn metrics_totals_equal_the_vector_decision_counts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let metrics = Metrics::new();
    let mut want = Expected::default();
    let mut cases = 0u64;
    for file in &files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let policy = Policy::from_json_str(&v["policy"].to_string()).unwrap();
        let batch = v["batch"].as_bool().unwrap_or(false);
        let mut items = Vec::new();
        for case in v["cases"].as_array().unwrap() {
            let e = &case["expect"];
            cases += 1;
            *want
                .outcomes
                .entry(e["outcome"].as_str().unwrap().to_owned())
                .or_default() += 1;
            let reason = e["reason"].as_str().unwrap();
            let reason = if reason.is_empty() { "none" } else { reason };
            *want.reasons.entry(reason.to_owned()).or_default() += 1;
            for r in names(&e["violated"]) {
                *want.violated.entry(r).or_default() += 1;
            }
            for r in names(&e["binding"]) {
                *want.binding.entry(r).or_default() += 1;
            }
            if e["needs_approval"].as_bool().unwrap_or(false) {
                want.needs_approval += 1;
            }
            items.push(build_item(&policy, case["item"].as_object().unwrap()));
        }
        if batch {
            // Unreadable items are decided `invalid` by the edge; the
            // batch holds the readable ones in place.
            let valid: Vec<Item> = items.iter().map(|i| i.unwrap_or(Item::new(0))).collect();
            let mut out = vec![Decision::default(); valid.len()];
            let mut budgets = Budgets::new(&policy);
            let summary = policy
                .evaluate_batch_metered(&valid, &mut out, &mut budgets, &Metrics::new())
                .unwrap();
            for (item, d) in items.iter().zip(out.iter_mut()) {
                if let Err(f) = item {
                    *d = Decision::invalid(*f);
                }
                metrics.record(d);
            }
            metrics.record_batch(summary.breaker_tripped);
            want.batches += 1;
            if v["summary"]["breaker_tripped"].as_bool().unwrap_or(false) {
                want.trips += 1;
            }
        } else {
            for item in &items {
                let d = match item {
                    Ok(i) => policy.evaluate(i),
                    Err(f) => Decision::invalid(*f),
                };
                metrics.record(&d);
            }
        }
    }
    assert_eq!(metrics.total(), cases);
    for o in Outcome::ALL {
        assert_eq!(
            metrics.decisions(o),
            want.outcomes.get(o.name()).copied().unwrap_or(0),
            "outcome {o}"
        );
    }
    for r in Rule::ALL {
        let n = r.name();
        assert_eq!(
            metrics.violated(*r),
            want.violated.get(n).copied().unwrap_or(0),
            "violated {n}"
        );
        assert_eq!(
            metrics.binding(*r),
            want.binding.get(n).copied().unwrap_or(0),
            "binding {n}"
        );
    }
    let mut reasons_total = 0;
    for (name, n) in &want.reasons {
        let reason = if name == "none" {
            Reason::None
        } else {
            Reason::from_name(name).unwrap()
        };
        assert_eq!(metrics.reason(reason), *n, "reason {name}");
        reasons_total += n;
    }
    assert_eq!(reasons_total, cases);
    assert_eq!(metrics.needs_approval(), want.needs_approval);
    assert_eq!(metrics.batches(), want.batches);
    assert_eq!(metrics.breaker_trips(), want.trips);

    // The exposition text carries the same numbers.
    let text = metrics.render();
    for o in Outcome::ALL {
        let line = format!(
            "priceguard_decisions_total{{outcome=\"{o}\"}} {}\n",
            metrics.decisions(o)
        );
        assert!(text.contains(&line), "missing {line}");
    }
    let sum: u64 = text
        .lines()
        .filter(|l| l.starts_with("priceguard_decisions_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(sum, cases);
}

#[test]
fn the_exposition_format_is_well_formed() {
    let m = Metrics::new();
    let mut d = Decision::rejected(Reason::Rule(Rule::Margin));
    d.violated.0 = 1 << Rule::Margin as u8;
    d.binding.0 = 1 << Rule::Margin as u8;
    d.needs_approval = true;
    m.record(&d);
    m.record(&Decision::rejected(Reason::Custom(3)));
    m.record_batch(true);
    let text = m.render();
    let mut families = 0;
    let mut declared = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            families += 1;
            declared = rest.split(' ').next().unwrap().to_owned();
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            assert_eq!(rest, format!("{declared} counter"));
            continue;
        }
        // name{labels} value, the name of the declared family.
        let (series, value) = line.rsplit_once(' ').unwrap();
        value.parse::<u64>().unwrap();
        assert!(series.starts_with(&declared), "{line}");
        assert!(declared.ends_with("_total"));
    }
    assert_eq!(families, 8);
    for want in [
        "priceguard_decision_reasons_total{reason=\"margin\"} 1",
        "priceguard_decision_reasons_total{reason=\"custom\"} 1",
        "priceguard_decision_reasons_total{reason=\"none\"} 0",
        "priceguard_rule_violations_total{rule=\"margin\"} 1",
        "priceguard_rule_binding_total{rule=\"margin\"} 1",
        "priceguard_needs_approval_total 1",
        "priceguard_batches_total 1",
        "priceguard_breaker_trips_total 1",
        "priceguard_decisions_total{outcome=\"rejected\"} 2",
    ] {
        assert!(text.contains(want), "missing `{want}` in\n{text}");
    }
}

#[test]
fn counters_are_shared_across_threads() {
    let m = Metrics::new();
    let d = Decision::hold_or_reject(Some(100), Reason::Rule(Rule::Cooldown));
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..1000 {
                    m.record(&d);
                }
            });
        }
    });
    assert_eq!(m.decisions(Outcome::Held), 4000);
    assert_eq!(m.reason(Reason::Rule(Rule::Cooldown)), 4000);
}
