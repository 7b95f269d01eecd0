//! Helpers shared by the tests that run vector files through the command
//! line (`vectors.rs`, `groups.rs`).
#![allow(dead_code, clippy::panic, clippy::unwrap_used)]

use serde_json::Value;

/// A value's text as the vector gives it.
pub fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("unexpected item value {other}"),
    }
}

/// A row's cell for an item value (empty when absent).
pub fn cell(v: Option<&Value>) -> String {
    v.map(text_of).unwrap_or_default()
}

/// An expected value as the CSV output writes it (rule lists joined by `;`).
pub fn expect_text(v: Option<&Value>) -> String {
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

/// Runs `priceguard check` on `input` with `args` added and returns the
/// CSV output's header and rows and the summary (standard error).
pub fn check_csv(
    policy: &std::path::Path,
    input: &std::path::Path,
    args: &[&str],
) -> (csv::StringRecord, Vec<csv::StringRecord>, String) {
    let output = input.with_extension("out.csv");
    let assert = assert_cmd::Command::cargo_bin("priceguard")
        .unwrap()
        .args(["check", "--policy"])
        .arg(policy)
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(&output)
        .args(args)
        .assert()
        .success();
    let summary = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    let mut r = csv::Reader::from_path(&output).unwrap();
    let h = r.headers().unwrap().clone();
    let rows = r.records().map(|x| x.unwrap()).collect();
    (h, rows, summary)
}
