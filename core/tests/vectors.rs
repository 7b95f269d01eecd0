//! Runs the shared test vectors in `tests/vectors/*.json` through the Rust
//! engine: every file, every case, every expected field. All mismatches are
//! collected and reported (file, case, field, expected, actual) before the
//! test fails. The format is described in `tests/vectors/README.md`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use priceguard::{ClassSet, Decision, Field, Item, Policy, RuleSet};
use serde_json::Value;

/// The suite may grow, never silently shrink.
const MIN_CASES: usize = 80;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn vector_files() -> Vec<PathBuf> {
    let dir = vectors_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// Builds an item the way every edge does: each field through
/// `Policy::set_field_text`, integers via their decimal text. The first
/// unreadable field (in `Field::ALL` order) makes the decision `invalid`.
fn build_item(policy: &Policy, item: &serde_json::Map<String, Value>) -> Result<Item, Field> {
    for key in item.keys() {
        assert!(
            key == "sku" || Field::from_name(key).is_some(),
            "unknown item field `{key}`"
        );
    }
    // An absent proposed_price stays 0, which the engine refuses.
    let mut out = Item::new(0);
    for field in Field::ALL {
        if field == Field::Sku {
            continue;
        }
        let Some(value) = item.get(field.name()) else {
            continue;
        };
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => other.to_string(),
        };
        policy
            .set_field_text(&mut out, field, &text)
            .map_err(|e| e.field)?;
    }
    Ok(out)
}

fn money(policy: &Policy, v: Option<i64>) -> Value {
    match v {
        Some(m) => Value::String(policy.currency().format(m).to_string()),
        None => Value::Null,
    }
}

fn rules(set: RuleSet) -> Value {
    Value::Array(
        set.iter()
            .map(|r| Value::String(r.name().to_owned()))
            .collect(),
    )
}

fn classes(set: ClassSet) -> Value {
    Value::Array(
        set.iter()
            .map(|c| Value::String(c.name().to_owned()))
            .collect(),
    )
}

/// The decision in the vectors' JSON shape.
fn actual_fields(policy: &Policy, d: &Decision) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("outcome".into(), Value::String(d.outcome.name().to_owned()));
    m.insert("price".into(), money(policy, d.price));
    m.insert("lower".into(), money(policy, d.lower));
    m.insert("upper".into(), money(policy, d.upper));
    m.insert("promo_spend".into(), money(policy, d.promo_spend));
    m.insert("violated".into(), rules(d.violated));
    m.insert("binding".into(), rules(d.binding));
    m.insert("relaxed".into(), classes(d.relaxed));
    m.insert("reason".into(), Value::String(d.reason.name().to_owned()));
    m.insert("unmet".into(), rules(d.unmet));
    m.insert("needs_approval".into(), Value::Bool(d.needs_approval));
    m.insert(
        "invalid_field".into(),
        d.invalid_field
            .map_or(Value::Null, |f| Value::String(f.name().to_owned())),
    );
    m
}

const REQUIRED: [&str; 9] = [
    "outcome",
    "price",
    "lower",
    "upper",
    "promo_spend",
    "violated",
    "binding",
    "relaxed",
    "reason",
];

struct Case {
    name: String,
    expect: serde_json::Map<String, Value>,
    item: Result<Item, Field>,
}

/// Compares one case; pushes a line per mismatching field.
fn compare(file: &str, case: &Case, policy: &Policy, d: &Decision, errors: &mut Vec<String>) {
    let actual = actual_fields(policy, d);
    for key in case.expect.keys() {
        assert!(
            actual.contains_key(key),
            "{file}: case `{}`: unknown expect key `{key}`",
            case.name
        );
    }
    for key in REQUIRED {
        assert!(
            case.expect.contains_key(key),
            "{file}: case `{}`: expect lacks required key `{key}`",
            case.name
        );
    }
    for (key, got) in &actual {
        let want = match (case.expect.get(key.as_str()), key.as_str()) {
            (Some(v), _) => v.clone(),
            (None, "unmet") => Value::Array(vec![]),
            (None, "needs_approval") => Value::Bool(false),
            (None, _) => continue, // invalid_field: checked only when present
        };
        if &want != got {
            errors.push(format!(
                "{file}: case `{}`: {key}: expected {want}, got {got}",
                case.name
            ));
        }
    }
}

fn evaluate_file(path: &Path, errors: &mut Vec<String>) -> usize {
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: not valid JSON: {e}"));
    let policy_text = serde_json::to_string(&doc["policy"]).unwrap();
    let policy = Policy::from_json_str(&policy_text)
        .unwrap_or_else(|e| panic!("{file}: policy refused: {e}"));
    let batch = doc.get("batch").and_then(Value::as_bool).unwrap_or(false);
    let cases: Vec<Case> = doc["cases"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: `cases` is not an array"))
        .iter()
        .map(|c| {
            let name = c["name"]
                .as_str()
                .unwrap_or_else(|| panic!("{file}: a case has no name"));
            let item = c["item"]
                .as_object()
                .unwrap_or_else(|| panic!("{file}: case `{name}`: `item` is not an object"));
            let expect = c["expect"]
                .as_object()
                .unwrap_or_else(|| panic!("{file}: case `{name}`: `expect` is not an object"));
            Case {
                name: name.to_owned(),
                expect: expect.clone(),
                item: build_item(&policy, item),
            }
        })
        .collect();
    assert!(!cases.is_empty(), "{file}: no cases");

    if batch {
        // Unreadable rows are invalid decisions in place and never reach the
        // engine (so they do not count towards the breaker's batch size);
        // the readable ones run as one batch in input order.
        let items: Vec<Item> = cases.iter().filter_map(|c| c.item.ok()).collect();
        let mut out = vec![Decision::default(); items.len()];
        let summary = policy.evaluate_batch(&items, &mut out).unwrap();
        let mut decided = out.into_iter();
        for case in &cases {
            let d = match case.item {
                Ok(_) => decided.next().unwrap(),
                Err(field) => Decision::invalid(field),
            };
            compare(&file, case, &policy, &d, errors);
        }
        let want_tripped = doc
            .get("summary")
            .and_then(|s| s.get("breaker_tripped"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if summary.breaker_tripped != want_tripped {
            errors.push(format!(
                "{file}: summary: breaker_tripped: expected {want_tripped}, got {}",
                summary.breaker_tripped
            ));
        }
    } else {
        for case in &cases {
            let d = match case.item {
                Ok(item) => policy.evaluate(&item),
                Err(field) => Decision::invalid(field),
            };
            compare(&file, case, &policy, &d, errors);
        }
    }
    cases.len()
}

#[test]
fn shared_vectors() {
    let files = vector_files();
    assert!(
        !files.is_empty(),
        "no vector files in `{}`",
        vectors_dir().display()
    );
    let mut errors = Vec::new();
    let mut total = 0;
    let mut per_file = String::new();
    for path in &files {
        let n = evaluate_file(path, &mut errors);
        let _ = writeln!(per_file, "  {}: {n} cases", path.display());
        total += n;
    }
    eprintln!("{} vector files, {total} cases\n{per_file}", files.len());
    if !errors.is_empty() {
        panic!(
            "{} mismatches in the shared vectors:\n{}",
            errors.len(),
            errors.join("\n")
        );
    }
    assert!(
        total >= MIN_CASES,
        "only {total} vector cases: the suite must keep at least {MIN_CASES}"
    );
}
