//! Money finer than the currency (docs/spec.md M1, issue 23) through the
//! command line: files written the way pipelines write them (pandas
//! `to_csv` of float64 columns, JSON numbers, JSON strings) are decided
//! with no row refused for its digits, every form of the same numbers
//! gives the same decisions, `promo_spend` is written exactly, and the
//! other commands (`explain`, `diff`, `audit verify`) work on such rows.
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
use serde_json::Value;
use tempfile::TempDir;

const POLICY: &str = r#"
name = "fine"
version = "1"
currency = "USD"

[bounds]
min_price = "0.99"
max_price = "500"

[margin]
min_margin = "0.15"

[promotion]
max_discount = "0.50"
budgets = { spring = "1000.00" }
"#;

/// The columns of [`ROWS`].
const COLUMNS: [&str; 7] = [
    "sku",
    "proposed_price",
    "unit_cost",
    "current_price",
    "reference_price",
    "expected_units",
    "campaign",
];

/// Rows as pandas writes float64 columns with `to_csv`: each float's
/// shortest round-trip text (`repr`), whole numbers with `.0`, tiny ones
/// with an exponent, NaN as an empty cell. Proposals and costs carry 4 to
/// 15 decimals, as a pricing model and a landed-cost system produce them.
const ROWS: [[&str; 7]; 9] = [
    ["P1", "19.4373", "3.9694", "", "", "", ""],
    ["P2", "4.5", "3.9694", "", "", "", ""],
    [
        "P3",
        "13.580160000000001",
        "1.9999999999999998",
        "13.0",
        "",
        "",
        "",
    ],
    ["P4", "19.99", "1e-05", "20.0", "", "", ""],
    ["P5", "15.0", "1.0", "", "20.4373", "10", "spring"],
    [
        "P6",
        "7.123456789012345",
        "2.718281828459045",
        "7.5",
        "",
        "",
        "",
    ],
    ["P7", "24.999999999999996", "12.345678", "", "", "", ""],
    ["P8", "0.9950000000000001", "0.1", "", "", "", ""],
    [
        "P9",
        "100.00000000000001",
        "33.33333333333333",
        "99.5",
        "",
        "",
        "",
    ],
];

fn bin() -> Command {
    Command::cargo_bin("priceguard").unwrap()
}

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    fs::write(&p, text).unwrap();
    p
}

/// The rows as a CSV file, as pandas writes it.
fn csv_text() -> String {
    let mut s = COLUMNS.join(",");
    s.push('\n');
    for row in ROWS {
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

/// The rows as JSON lines: numbers as JSON numbers (`numbers`) or every
/// value as a string; empty cells left out.
fn jsonl_text(numbers: bool) -> String {
    let mut s = String::new();
    for row in ROWS {
        let members: Vec<String> = COLUMNS
            .iter()
            .zip(row)
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| {
                let number = numbers && !matches!(*k, "sku" | "campaign");
                if number {
                    format!("\"{k}\":{v}")
                } else {
                    format!("\"{k}\":\"{v}\"")
                }
            })
            .collect();
        s.push_str(&format!("{{{}}}\n", members.join(",")));
    }
    s
}

/// Runs `check` on `input`, writing JSON lines; the decisions, each
/// without the `line` column (the CSV header shifts lines by one).
fn check(dir: &TempDir, policy: &Path, input: &Path, extra: &[&str]) -> Vec<Value> {
    let out = dir.path().join(format!(
        "{}.out.jsonl",
        input.file_name().unwrap().to_string_lossy()
    ));
    bin()
        .args(["check", "-q", "--policy"])
        .arg(policy)
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(&out)
        .args(extra)
        .assert()
        .success()
        .stderr("");
    fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("line");
            v
        })
        .collect()
}

#[test]
fn a_pandas_csv_is_decided_like_json_numbers_and_json_strings() {
    let dir = TempDir::new().unwrap();
    let policy = write(&dir, "p.toml", POLICY);
    let from_csv = check(&dir, &policy, &write(&dir, "in.csv", &csv_text()), &[]);
    let numbers = check(
        &dir,
        &policy,
        &write(&dir, "numbers.jsonl", &jsonl_text(true)),
        &[],
    );
    let strings = check(
        &dir,
        &policy,
        &write(&dir, "strings.jsonl", &jsonl_text(false)),
        &[],
    );
    assert_eq!(from_csv.len(), ROWS.len());
    for d in &from_csv {
        assert_ne!(d["reason"], "invalid_input", "{d}");
        assert_eq!(d["error"], Value::Null, "{d}");
    }
    assert_eq!(from_csv, numbers);
    assert_eq!(from_csv, strings);

    let by_sku = |sku: &str| from_csv.iter().find(|d| d["sku"] == sku).unwrap();
    // The proposal snaps to the tick, half to even.
    let p1 = by_sku("P1");
    assert_eq!(p1["outcome"], "adjusted");
    assert_eq!(p1["price"], "19.44");
    assert_eq!(p1["reason"], "tick");
    // 3.9694 / 0.85 = 4.66988...: the floor is 4.67 (from 3.97 it would be 4.68).
    let p2 = by_sku("P2");
    assert_eq!(p2["price"], "4.67");
    assert_eq!(p2["lower"], "4.67");
    assert_eq!(p2["reason"], "margin");
    // pandas' 13.580160000000001 is that number: it snaps to 13.58.
    assert_eq!(by_sku("P3")["price"], "13.58");
    // A cost of 1e-05 is a thousandth of a cent, not unreadable.
    assert_eq!(by_sku("P4")["outcome"], "accepted");
    // (20.4373 - 15.00) x 10 = 54.373, exactly.
    let p5 = by_sku("P5");
    assert_eq!(p5["outcome"], "accepted");
    assert_eq!(p5["promo_spend"], "54.373");
    // 24.999999999999996 snaps to 25.00; 0.995... to 1.00, above min_price.
    assert_eq!(by_sku("P7")["price"], "25.00");
    assert_eq!(by_sku("P8")["price"], "1.00");
}

#[test]
fn csv_output_has_the_same_decisions_and_the_exact_spend() {
    let dir = TempDir::new().unwrap();
    let policy = write(&dir, "p.toml", POLICY);
    let input = write(&dir, "in.csv", &csv_text());
    let out = dir.path().join("out.csv");
    bin()
        .args(["check", "--policy"])
        .arg(&policy)
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("invalid rows:  0"))
        // The budget is charged the spend rounded up to the cent.
        .stderr(predicate::str::contains("spring 54.38 of 1000.00"));
    let mut r = csv::Reader::from_path(&out).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|x| x == name).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let json = check(&dir, &policy, &input, &[]);
    assert_eq!(rows.len(), json.len());
    for (row, d) in rows.iter().zip(&json) {
        for k in [
            "outcome",
            "price",
            "lower",
            "upper",
            "promo_spend",
            "reason",
        ] {
            let want = d[k].as_str().unwrap_or("");
            assert_eq!(&row[col(k)], want, "{k} of {}", &row[0]);
        }
    }
}

/// A finer value first raises the item's scale; a whole-cent value read
/// after it (the CSV fast path) must be put in at that scale, exactly as
/// the general path and JSON lines do.
#[test]
fn a_whole_cent_column_after_a_finer_one_keeps_its_value() {
    let dir = TempDir::new().unwrap();
    let policy = write(&dir, "p.toml", POLICY);
    let csv = write(
        &dir,
        "in.csv",
        "sku,proposed_price,unit_cost,current_price\nA,19.4373,12.22,14.00\nB,14.00,12.2201,19.4373\n",
    );
    let jsonl = write(
        &dir,
        "in.jsonl",
        "{\"sku\":\"A\",\"proposed_price\":\"19.4373\",\"unit_cost\":\"12.22\",\"current_price\":\"14.00\"}\n\
         {\"sku\":\"B\",\"proposed_price\":\"14.00\",\"unit_cost\":\"12.2201\",\"current_price\":\"19.4373\"}\n",
    );
    let a = check(&dir, &policy, &csv, &[]);
    let b = check(&dir, &policy, &jsonl, &[]);
    assert_eq!(a, b);
    // 12.22 / 0.85 = 14.376...: 14.38 (a cost read as 0.1222 would allow 0.99).
    assert_eq!(a[0]["lower"], "14.38");
    assert_eq!(a[0]["price"], "19.44");
    // 12.2201 / 0.85 = 14.3765...: still 14.38, and the proposal 14.00 is raised.
    assert_eq!(a[1]["price"], "14.38");
}

#[test]
fn explain_names_the_proposal_as_given_and_its_snap() {
    let dir = TempDir::new().unwrap();
    let policy = write(&dir, "p.toml", POLICY);
    let assert = bin()
        .args(["explain", "--policy"])
        .arg(&policy)
        .arg("--item")
        .arg(r#"{"sku":"X","proposed_price":19.4373,"unit_cost":"3.9694"}"#)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "proposed 19.4373 snapped to 19.44 by tick (tick 0.01)",
        ));
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let d: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(d["price"], "19.44");

    // A spend from a finer reference price is exact in the JSON too.
    bin()
        .args(["explain", "--policy"])
        .arg(&policy)
        .arg("--item")
        .arg(r#"{"sku":"Y","proposed_price":"15","unit_cost":"1","reference_price":"20.4373","expected_units":10,"campaign":"spring"}"#)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"promo_spend\":\"54.373\""));
}

#[test]
fn diff_compares_decisions_of_finer_rows() {
    let dir = TempDir::new().unwrap();
    let live = write(&dir, "live.toml", POLICY);
    let cand = write(
        &dir,
        "cand.toml",
        &POLICY.replace("min_margin = \"0.15\"", "min_margin = \"0.25\""),
    );
    let input = write(&dir, "in.csv", &csv_text());
    let out = dir.path().join("diff.jsonl");
    bin()
        .args(["diff", "--policy"])
        .arg(&live)
        .arg("--candidate")
        .arg(&cand)
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&out)
        .assert()
        .success()
        // P2: 3.9694 / 0.85 = 4.6699 -> 4.67; / 0.75 = 5.2925 -> 5.30.
        .stdout(predicate::str::contains(
            "P2 (line 3): 4.67 -> 5.30 (+0.63)",
        ));
    let rows: Vec<Value> = fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), ROWS.len());
    for r in &rows {
        assert_eq!(r["error"], Value::Null, "{r}");
    }
    let p5 = rows.iter().find(|r| r["sku"] == "P5").unwrap();
    assert_eq!(p5["live"]["promo_spend"], "54.373");
    assert_eq!(p5["changed"], false);
}

/// The audit log keeps finer values exactly; it verifies, and its items,
/// read back as JSON lines, give the decisions it recorded.
#[test]
fn the_audit_log_keeps_finer_values_and_reads_back() {
    let dir = TempDir::new().unwrap();
    let policy = write(&dir, "p.toml", POLICY);
    let input = write(&dir, "in.csv", &csv_text());
    let log = dir.path().join("audit.log");
    let decided = check(&dir, &policy, &input, &["--audit", log.to_str().unwrap()]);
    bin()
        .args(["audit", "verify"])
        .arg(&log)
        .assert()
        .success()
        .stdout(predicate::str::contains("intact, 9 records"));
    let records: Vec<Value> = fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), ROWS.len());
    let p1 = &records[0]["item"];
    assert_eq!(p1["proposed_price"], "19.4373");
    assert_eq!(p1["unit_cost"], "3.9694");
    let p3 = &records[2]["item"];
    // Kept to 8 decimal places (6 past the cent): the cost 1.9999999999999998
    // rounds half to even to 2.00; the proposal's digits past those fold
    // into an odd last digit, which snaps as the full number does.
    assert_eq!(p3["proposed_price"], "13.58016001");
    assert_eq!(p3["unit_cost"], "2.00");
    assert_eq!(records[4]["decision"]["promo_spend"], "54.373");

    let items: String = records.iter().map(|r| format!("{}\n", r["item"])).collect();
    let again = check(&dir, &policy, &write(&dir, "items.jsonl", &items), &[]);
    for ((rec, d), first) in records.iter().zip(&again).zip(&decided) {
        for k in [
            "outcome",
            "price",
            "lower",
            "upper",
            "reason",
            "promo_spend",
        ] {
            assert_eq!(rec["decision"][k], d[k], "{k}: {rec}");
            assert_eq!(first[k], d[k], "{k}: {rec}");
        }
    }
}

/// Policy money keeps its check: a policy is written by a person, and a
/// third decimal in USD there is a typo (docs/spec.md M4).
#[test]
fn policy_money_still_refuses_extra_digits() {
    let dir = TempDir::new().unwrap();
    let policy = write(
        &dir,
        "p.toml",
        &POLICY.replace("min_price = \"0.99\"", "min_price = \"0.999\""),
    );
    bin()
        .args(["validate"])
        .arg(&policy)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("more than 2 decimal places"));
}
