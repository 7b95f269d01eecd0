//! The shared vectors (`tests/vectors/*.json`) through the command line:
//! each file's items become a CSV, `priceguard check` decides them, and
//! every decision must equal the file's `expect`. This is how the CLI is
//! shown to give the same answers as the library.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use priceguard::Field;
use serde_json::Value;
use tempfile::TempDir;

/// Every §3 field, as the CSV header names them.
const FIELDS: [&str; 18] = {
    let mut names = [""; 18];
    let mut i = 0;
    while i < 18 {
        names[i] = Field::SPEC_ORDER[i].name();
        i += 1;
    }
    names
};

fn vector_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => panic!("unexpected item value {other}"),
    }
}

/// Runs `check` on `cases` as one CSV file; returns the output rows.
fn run(
    dir: &Path,
    policy: &Path,
    cases: &[&Value],
    tag: &str,
) -> (csv::StringRecord, Vec<csv::StringRecord>, String) {
    let input = dir.join(format!("{tag}.csv"));
    let mut w = csv::Writer::from_path(&input).unwrap();
    w.write_record(FIELDS).unwrap();
    for c in cases {
        let item = &c["item"];
        let row: Vec<String> = FIELDS.iter().map(|f| cell(item.get(*f))).collect();
        w.write_record(&row).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let output = dir.join(format!("{tag}.out.csv"));
    let assert = Command::cargo_bin("priceguard")
        .unwrap()
        .args(["check", "--policy"])
        .arg(policy)
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .assert()
        .success();
    let summary = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    let mut r = csv::Reader::from_path(&output).unwrap();
    let h = r.headers().unwrap().clone();
    let rows = r.records().map(|x| x.unwrap()).collect();
    (h, rows, summary)
}

fn expect_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect::<Vec<_>>()
            .join(";"),
        Some(other) => panic!("unexpected expect value {other}"),
    }
}

fn compare(
    file: &str,
    case: &Value,
    h: &csv::StringRecord,
    row: &csv::StringRecord,
    failures: &mut Vec<String>,
) {
    let name = case["name"].as_str().unwrap_or("?");
    let expect = &case["expect"];
    let get = |k: &str| row[h.iter().position(|x| x == k).unwrap()].to_string();
    let mut keys = vec![
        "outcome",
        "price",
        "lower",
        "upper",
        "violated",
        "binding",
        "relaxed",
        "reason",
        "promo_spend",
    ];
    keys.extend(["unmet", "needs_approval"]);
    for k in keys {
        let want = match (k, expect.get(k)) {
            ("needs_approval", None) => String::from("false"),
            (_, v) => expect_text(v),
        };
        let got = get(k);
        if got != want {
            failures.push(format!(
                "{file} / {name}: {k} is `{got}`, expected `{want}`"
            ));
        }
    }
    if let Some(field) = expect.get("invalid_field").and_then(Value::as_str) {
        let err = get("error");
        if !err.starts_with(&format!("{field}:")) {
            failures.push(format!(
                "{file} / {name}: error `{err}` should name `{field}`"
            ));
        }
    }
}

#[test]
fn the_cli_gives_the_shared_vectors_answers() {
    let files = vector_files();
    assert!(!files.is_empty(), "no vector files in tests/vectors");
    let dir = TempDir::new().unwrap();
    let mut failures = Vec::new();
    let mut cases_run = 0;
    for (k, path) in files.iter().enumerate() {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let doc: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        let policy = dir.path().join(format!("policy-{k}.json"));
        fs::write(&policy, doc["policy"].to_string()).unwrap();
        let cases: Vec<&Value> = doc["cases"].as_array().unwrap().iter().collect();
        if doc["batch"].as_bool().unwrap_or(false) {
            // One batch, in order: one file, one chunk.
            let (h, rows, summary) = run(dir.path(), &policy, &cases, &format!("v{k}"));
            assert_eq!(rows.len(), cases.len(), "{file}");
            for (c, r) in cases.iter().zip(&rows) {
                compare(&file, c, &h, r, &mut failures);
                cases_run += 1;
            }
            if let Some(tripped) = doc
                .pointer("/summary/breaker_tripped")
                .and_then(Value::as_bool)
            {
                let said = summary.contains("tripped in 1 of 1 chunks");
                if said != tripped {
                    failures.push(format!(
                        "{file}: breaker_tripped {tripped} but the summary says: {summary}"
                    ));
                }
            }
        } else {
            // Each case on its own, with full budgets: one file per case.
            for (i, c) in cases.iter().enumerate() {
                let (h, rows, _) = run(dir.path(), &policy, &[*c], &format!("v{k}-{i}"));
                assert_eq!(rows.len(), 1, "{file}");
                compare(&file, c, &h, &rows[0], &mut failures);
                cases_run += 1;
            }
        }
    }
    assert!(cases_run > 0);
    assert!(
        failures.is_empty(),
        "{} of {cases_run} vector cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
