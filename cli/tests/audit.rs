//! `check --audit`, `check --metrics`, `audit verify`, the policy columns
//! and approval flags through the command line.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use priceguard::Policy;
use tempfile::TempDir;

const POLICY: &str = r#"
name = "approvals"
version = "3"
currency = "USD"

[bounds]
min_price = "0.99"
max_price = "5000"

[margin]
min_margin = "0.15"

[approval]
max_auto_change = "0.15"
"#;

/// Moves of exactly 15 %, just over, just under -15 %, none, a new listing
/// and an unreadable row.
const ROWS: &str = "sku,proposed_price,current_price,unit_cost\n\
    EXACT,11.50,10.00,1.00\n\
    OVER,11.51,10.00,1.00\n\
    DOWN,8.49,10.00,1.00\n\
    SAME,10.00,10.00,1.00\n\
    NEW,900.00,,1.00\n\
    BAD,abc,10.00,1.00\n";

fn bin() -> Command {
    Command::cargo_bin("priceguard").unwrap()
}

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    fs::write(&p, text).unwrap();
    p
}

fn check(dir: &TempDir, out: &str, extra: &[&str]) -> PathBuf {
    let policy = write(dir, "p.toml", POLICY);
    let input = write(dir, "in.csv", ROWS);
    let out = dir.path().join(out);
    bin()
        .current_dir(dir.path())
        .args(["check", "-q", "--policy"])
        .arg(&policy)
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&out)
        .args(extra)
        .assert()
        .success();
    out
}

fn verify(log: &Path) -> assert_cmd::assert::Assert {
    bin().args(["audit", "verify"]).arg(log).assert()
}

#[test]
fn approval_flags_and_policy_columns_in_csv_and_jsonl() {
    let dir = TempDir::new().unwrap();
    let hash = Policy::from_toml_str(POLICY).unwrap().content_hash_hex();
    let out = check(&dir, "out.csv", &[]);
    let mut r = csv::Reader::from_path(&out).unwrap();
    let h = r.headers().unwrap().clone();
    // The policy columns, then `lawful_reference`, added last.
    let last: Vec<&str> = h.iter().rev().take(4).collect();
    assert_eq!(
        last,
        [
            "lawful_reference",
            "policy_hash",
            "policy_version",
            "policy"
        ]
    );
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let flags: Vec<(String, String, String)> = r
        .records()
        .map(|row| {
            let row = row.unwrap();
            assert_eq!(&row[col("policy")], "approvals");
            assert_eq!(&row[col("policy_version")], "3");
            assert_eq!(&row[col("policy_hash")], hash);
            (
                row[0].to_owned(),
                row[col("outcome")].to_owned(),
                row[col("needs_approval")].to_owned(),
            )
        })
        .collect();
    let want = [
        ("EXACT", "accepted", "false"),
        ("OVER", "accepted", "true"),
        ("DOWN", "accepted", "true"),
        ("SAME", "accepted", "false"),
        ("NEW", "accepted", "false"),
        ("BAD", "rejected", "false"),
    ];
    let got: Vec<(&str, &str, &str)> = flags
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    assert_eq!(got, want);

    let out = check(&dir, "out.jsonl", &[]);
    let text = fs::read_to_string(out).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[1]["needs_approval"], true);
    assert_eq!(rows[0]["needs_approval"], false);
    for r in &rows {
        assert_eq!(r["policy"], "approvals");
        assert_eq!(r["policy_version"], "3");
        assert_eq!(r["policy_hash"], hash.as_str());
    }
}

#[test]
fn the_audit_log_verifies_and_names_tampered_lines() {
    let dir = TempDir::new().unwrap();
    let log = dir.path().join("audit.jsonl");
    check(&dir, "out.csv", &["--audit", "audit.jsonl"]);
    verify(&log)
        .code(0)
        .stdout(predicate::str::contains("intact, 6 records"));
    let text = fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6);
    let rec: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(rec["item"]["sku"], "OVER");
    assert_eq!(rec["decision"]["needs_approval"], true);
    assert_eq!(
        rec["policy"]["hash"],
        Policy::from_toml_str(POLICY).unwrap().content_hash_hex()
    );
    let bad: serde_json::Value = serde_json::from_str(lines[5]).unwrap();
    assert_eq!(bad["item"], serde_json::json!({"sku": "BAD"}));
    assert_eq!(bad["decision"]["invalid_field"], "proposed_price");

    let tampered = |name: &str, lines: &[&str]| -> PathBuf {
        let mut t = lines.join("\n");
        t.push('\n');
        write(&dir, name, &t)
    };
    // One byte changed in line 3.
    let edited = lines[2].replacen("accepted", "adjusted", 1);
    let mut l = lines.clone();
    l[2] = &edited;
    verify(&tampered("edit.jsonl", &l))
        .code(1)
        .stdout(predicate::str::contains("line 3: the record was edited"));
    // Line 2 dropped.
    let mut l = lines.clone();
    l.remove(1);
    verify(&tampered("drop.jsonl", &l))
        .code(1)
        .stdout(predicate::str::contains("line 2: holds record 3"));
    // Lines 4 and 5 swapped.
    let mut l = lines.clone();
    l.swap(3, 4);
    verify(&tampered("swap.jsonl", &l))
        .code(1)
        .stdout(predicate::str::contains("line 4: holds record 5"));
    // A forged line appended.
    let forged = lines[5].replacen("\"seq\":6", "\"seq\":7", 1);
    let mut l = lines.clone();
    l.push(&forged);
    verify(&tampered("forged.jsonl", &l))
        .code(1)
        .stdout(predicate::str::contains("line 7:"));
    // Unreadable.
    bin()
        .args(["audit", "verify"])
        .arg(dir.path().join("missing.jsonl"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read"));
}

#[test]
fn a_second_run_continues_the_chain_and_head_anchors_it() {
    let dir = TempDir::new().unwrap();
    let log = dir.path().join("audit.jsonl");
    check(&dir, "out.csv", &["--audit", "audit.jsonl"]);
    let first = String::from_utf8(verify(&log).code(0).get_output().stdout.clone()).unwrap();
    let head = first.split("head ").nth(1).unwrap().trim().to_owned();
    check(&dir, "out.csv", &["--audit", "audit.jsonl"]);
    verify(&log)
        .code(0)
        .stdout(predicate::str::contains("intact, 12 records"));
    // Against the first run's head, the second run's lines were appended.
    bin()
        .args(["audit", "verify", "--head", &head])
        .arg(&log)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "line 7: written after the anchored head",
        ));
    bin()
        .args(["audit", "verify", "--head", "xyz"])
        .arg(&log)
        .assert()
        .code(2);
    // A tampered log is never appended to.
    let text = fs::read_to_string(&log)
        .unwrap()
        .replacen("OVER", "OVEr", 1);
    fs::write(&log, text).unwrap();
    let policy = dir.path().join("p.toml");
    bin()
        .args(["check", "-q", "--policy"])
        .arg(&policy)
        .arg("--input")
        .arg(dir.path().join("in.csv"))
        .arg("--output")
        .arg(dir.path().join("o.csv"))
        .arg("--audit")
        .arg(&log)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 2").and(predicate::str::contains("refusing")));
}

#[test]
fn metrics_are_written_in_the_prometheus_format() {
    let dir = TempDir::new().unwrap();
    check(&dir, "out.csv", &["--metrics", "m.prom"]);
    let text = fs::read_to_string(dir.path().join("m.prom")).unwrap();
    for want in [
        "# TYPE priceguard_decisions_total counter",
        "priceguard_decisions_total{outcome=\"accepted\"} 5",
        "priceguard_decisions_total{outcome=\"rejected\"} 1",
        "priceguard_decision_reasons_total{reason=\"invalid_input\"} 1",
        "priceguard_needs_approval_total 2",
        "priceguard_batches_total 1",
    ] {
        assert!(text.contains(want), "missing `{want}` in\n{text}");
    }
}

/// A decision without a `lawful_reference` (every one but a `prior_price`
/// hold) is written without the member, byte for byte as before the member
/// existed, so a log from an older release is continued and verifies whole.
#[test]
fn records_without_a_lawful_reference_keep_their_old_bytes() {
    let dir = TempDir::new().unwrap();
    check(&dir, "out.csv", &["--audit", "log.jsonl"]);
    let first = fs::read_to_string(dir.path().join("log.jsonl")).unwrap();
    assert_eq!(first.lines().count(), 6);
    assert!(!first.contains("lawful_reference"), "{first}");
    assert!(first.lines().all(|l| l.contains(",\"invalid_field\":")));
    check(&dir, "out.csv", &["--audit", "log.jsonl"]);
    let log = fs::read_to_string(dir.path().join("log.jsonl")).unwrap();
    assert!(log.starts_with(&first));
    assert_eq!(log.lines().count(), 12);
    verify(&dir.path().join("log.jsonl"))
        .success()
        .stdout(predicate::str::contains("12 records"));
}
