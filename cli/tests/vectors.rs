//! The shared vectors (`tests/vectors/*.json` and the history rules'
//! `tests/vectors/history/*.json`) through the command line:
//! each file's items become an input file, `priceguard check` decides
//! them, and every decision must equal the file's `expect`. This is how
//! the CLI is shown to give the same answers as the library.
//!
//! Every case runs in each form of tests/vectors/README.md:
//!
//! - text form, twice: as a CSV file, and as JSON lines with money as
//!   strings (the vector's texts as written);
//! - float form: JSON lines with every money value a JSON number, the
//!   shortest text of the binary float nearest the vector's text, written
//!   as Python writes it (`19.4373`, `1e-05`). Only for cases whose every
//!   money text has exactly the value of that float (Python:
//!   `Decimal(repr(float(t))) == Decimal(t)`) and that do not say
//!   `"forms": ["text"]`; a batch file runs in float form only when all its
//!   cases can, since leaving a case out would change the batch.
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

mod common;
use common::{cell, expect_text, text_of};

/// Every §3 field, as the CSV header names them (the history summary
/// fields of §11 included).
const FIELDS: [&str; Field::SPEC_ORDER.len()] = {
    let mut names = [""; Field::SPEC_ORDER.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = Field::SPEC_ORDER[i].name();
        i += 1;
    }
    names
};

/// The vector files: `tests/vectors/*.json` and the history rules' cases
/// in `tests/vectors/history/` (the same format; `groups/` has its own
/// runner, `groups.rs`).
fn vector_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let mut files = json_files(&root);
    let history = json_files(&root.join("history"));
    assert!(
        !history.is_empty(),
        "no vector files in tests/vectors/history"
    );
    files.extend(history);
    files
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// How a case's items are handed to the command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// A CSV file of the vector's texts.
    Csv,
    /// JSON lines, money as the vector's strings.
    JsonText,
    /// JSON lines, money as JSON numbers (the nearest binary float).
    JsonFloat,
}

impl Form {
    fn name(self) -> &'static str {
        match self {
            Form::Csv => "text form, CSV",
            Form::JsonText => "text form, JSON lines of strings",
            Form::JsonFloat => "float form, JSON lines of numbers",
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Form::Csv => "csv",
            Form::JsonText | Form::JsonFloat => "jsonl",
        }
    }
}

fn is_money(name: &str) -> bool {
    Field::from_name(name).is_some_and(Field::is_money)
}

/// A decimal number as sign, significant digits and the power of ten of
/// the last one (`-12.50` is `(true, "125", -1)`); zero is `(false, "", 0)`.
/// `None` for anything that is not a plain or exponent decimal.
fn decimal_parts(text: &str) -> Option<(bool, String, i64)> {
    let t = text.trim();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i64>().ok()?),
        None => (t, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let all = format!("{int}{frac}");
    let mut exp = exp - frac.len() as i64;
    let digits = all.trim_start_matches('0');
    let trimmed = digits.trim_end_matches('0');
    exp += (digits.len() - trimmed.len()) as i64;
    if trimmed.is_empty() {
        return Some((false, String::new(), 0));
    }
    Some((neg, trimmed.to_string(), exp))
}

/// The float form of a money text: the binary float nearest to it, as
/// Python's `repr` writes it, when that float's shortest decimal is the
/// text's value exactly; `None` otherwise (the case runs in text form only).
fn float_text(text: &str) -> Option<String> {
    let want = decimal_parts(text)?;
    let f: f64 = text.trim().parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    let repr = py_repr(f);
    (decimal_parts(&repr)? == want).then_some(repr)
}

/// Python's `repr` of a float: the shortest round-trip digits, positional
/// for decimal exponents from -4 to 15 (`19.4373`, `20.0`), else an
/// exponent with a sign and at least two digits (`1e-05`, `1.5e+16`).
fn py_repr(f: f64) -> String {
    // The fewest digits, correctly rounded (half to even, as Python),
    // that read back as `f`: "1.94373e1", "-1e-5". (Rust's `{:e}` also
    // gives shortest digits, but breaks a tie between two of them the
    // other way: 864825872121071.25 is 864825872121071.3 there.)
    let sci = (0..17)
        .map(|p| format!("{f:.p$e}"))
        .find(|s| s.parse::<f64>() == Ok(f))
        .unwrap_or_else(|| format!("{f:e}"));
    let (mantissa, exp) = sci.split_once('e').unwrap();
    let exp: i64 = exp.parse().unwrap();
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exp) {
        let n = digits.len() as i64;
        let point = exp + 1; // digits before the point
        let body = if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point >= n {
            format!("{digits}{}.0", "0".repeat((point - n) as usize))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{body}")
    } else {
        let m = if digits.len() == 1 {
            digits
        } else {
            format!("{}.{}", &digits[..1], &digits[1..])
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{esign}{:02}", exp.abs())
    }
}

/// The case's item as a JSON line: values as the vector gives them
/// (numbers with their text) in text form; in float form every money
/// value a JSON number, its float text. `None` when the case has no float
/// form (it runs in text form only).
fn json_line(case: &Value, float: bool) -> Option<String> {
    if float {
        if let Some(forms) = case.get("forms").and_then(Value::as_array) {
            if !forms.iter().any(|f| f == "float") {
                return None;
            }
        }
    }
    let mut members = Vec::new();
    for (k, v) in case["item"].as_object().unwrap() {
        let value = match v {
            Value::Null => String::from("null"),
            v if float && is_money(k) => float_text(&text_of(v))?,
            Value::Number(n) => n.to_string(),
            other => other.to_string(),
        };
        members.push(format!("{}:{value}", Value::String(k.clone())));
    }
    Some(format!("{{{}}}", members.join(",")))
}

/// Writes `cases` in `form`, runs `check` on them as one input file and
/// returns the output rows (always CSV).
fn run(
    dir: &Path,
    policy: &Path,
    cases: &[&Value],
    form: Form,
    tag: &str,
) -> (csv::StringRecord, Vec<csv::StringRecord>, String) {
    let input = dir.join(format!("{tag}.{}", form.ext()));
    match form {
        Form::Csv => {
            let mut w = csv::Writer::from_path(&input).unwrap();
            w.write_record(FIELDS).unwrap();
            for c in cases {
                let item = &c["item"];
                let row: Vec<String> = FIELDS.iter().map(|f| cell(item.get(*f))).collect();
                w.write_record(&row).unwrap();
            }
            w.flush().unwrap();
        }
        Form::JsonText | Form::JsonFloat => {
            let mut text = String::new();
            for c in cases {
                let line = json_line(c, form == Form::JsonFloat);
                text.push_str(&line.expect("a case with a float form"));
                text.push('\n');
            }
            fs::write(&input, text).unwrap();
        }
    }
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

fn compare(
    file: &str,
    form: Form,
    case: &Value,
    h: &csv::StringRecord,
    row: &csv::StringRecord,
    failures: &mut Vec<String>,
) -> bool {
    let name = case["name"].as_str().unwrap_or("?");
    let expect = &case["expect"];
    let get = |k: &str| row[h.iter().position(|x| x == k).unwrap()].to_string();
    let keys = [
        "outcome",
        "price",
        "lower",
        "upper",
        "violated",
        "binding",
        "relaxed",
        "reason",
        "promo_spend",
        "unmet",
        "needs_approval",
        "lawful_reference",
    ];
    for k in keys {
        let want = match (k, expect.get(k)) {
            ("needs_approval", None) => String::from("false"),
            // Absent means none: checked too (tests/vectors/README.md).
            ("lawful_reference", None) => String::new(),
            (_, v) => expect_text(v),
        };
        let got = get(k);
        if got != want {
            failures.push(format!(
                "{file} / {name} ({}): {k} is `{got}`, expected `{want}`",
                form.name()
            ));
        }
    }
    if let Some(field) = expect.get("invalid_field").and_then(Value::as_str) {
        let err = get("error");
        if !err.starts_with(&format!("{field}:")) {
            failures.push(format!(
                "{file} / {name} ({}): error `{err}` should name `{field}`",
                form.name()
            ));
        }
    }
    // Whether this run checked a lawful reference that is there.
    expect.get("lawful_reference").is_some_and(Value::is_string)
}

#[test]
fn the_cli_gives_the_shared_vectors_answers() {
    let files = vector_files();
    assert!(!files.is_empty(), "no vector files in tests/vectors");
    let dir = TempDir::new().unwrap();
    let mut failures = Vec::new();
    let mut runs = [0usize; 3];
    let mut lawful = 0usize;
    let forms = [Form::Csv, Form::JsonText, Form::JsonFloat];
    for (k, path) in files.iter().enumerate() {
        let file = path
            .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors"))
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        let doc: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        let policy = dir.path().join(format!("policy-{k}.json"));
        fs::write(&policy, doc["policy"].to_string()).unwrap();
        let cases: Vec<&Value> = doc["cases"].as_array().unwrap().iter().collect();
        if doc["batch"].as_bool().unwrap_or(false) {
            // One batch, in order: one file, one chunk.
            for (n, form) in forms.iter().enumerate() {
                if *form == Form::JsonFloat && !cases.iter().all(|c| json_line(c, true).is_some()) {
                    continue;
                }
                let (h, rows, summary) = run(dir.path(), &policy, &cases, *form, &format!("v{k}"));
                assert_eq!(rows.len(), cases.len(), "{file}");
                for (c, r) in cases.iter().zip(&rows) {
                    lawful += usize::from(compare(&file, *form, c, &h, r, &mut failures));
                    runs[n] += 1;
                }
                if let Some(tripped) = doc
                    .pointer("/summary/breaker_tripped")
                    .and_then(Value::as_bool)
                {
                    let said = summary.contains("tripped in 1 of 1 chunks");
                    if said != tripped {
                        failures.push(format!(
                            "{file} ({}): breaker_tripped {tripped} but the summary says: {summary}",
                            form.name()
                        ));
                    }
                }
            }
        } else {
            // Each case on its own, with full budgets: one file per case.
            for (i, c) in cases.iter().enumerate() {
                for (n, form) in forms.iter().enumerate() {
                    if *form == Form::JsonFloat && json_line(c, true).is_none() {
                        continue;
                    }
                    let (h, rows, _) = run(dir.path(), &policy, &[*c], *form, &format!("v{k}-{i}"));
                    assert_eq!(rows.len(), 1, "{file}");
                    lawful += usize::from(compare(&file, *form, c, &h, &rows[0], &mut failures));
                    runs[n] += 1;
                }
            }
        }
    }
    assert!(runs[0] > 0 && runs[0] == runs[1]);
    // The history cases ran: their lawful references were compared.
    assert!(lawful > 0, "no run compared a lawful_reference");
    // Nearly every case has a float form: a runner that skipped them all
    // would test nothing.
    assert!(runs[2] * 10 >= runs[0] * 9, "float form runs: {runs:?}");
    assert!(
        failures.is_empty(),
        "{} of {} vector runs differ:\n{}",
        failures.len(),
        runs.iter().sum::<usize>(),
        failures.join("\n")
    );
}

#[test]
fn float_forms_are_pythons_and_exact_only() {
    for (text, want) in [
        ("19.4373", Some("19.4373")),
        ("12.50", Some("12.5")),
        ("20", Some("20.0")),
        ("0.00001", Some("1e-05")),
        ("1e-05", Some("1e-05")),
        ("13.580160000000001", Some("13.580160000000001")),
        ("1.9999999999999998", Some("1.9999999999999998")),
        ("10000000000000000", Some("1e+16")),
        ("99999999999999999", None),
        ("123456789012.345678", None),
        ("0.1000000000000000055511151231257827", None),
        ("-3.9694", Some("-3.9694")),
        ("0", Some("0.0")),
        ("abc", None),
        ("", None),
        ("inf", None),
        ("NaN", None),
    ] {
        assert_eq!(float_text(text).as_deref(), want, "{text}");
    }
    assert_eq!(py_repr(1.5e-7), "1.5e-07");
    assert_eq!(py_repr(1234.5), "1234.5");
    assert_eq!(py_repr(0.0001), "0.0001");
    assert_eq!(py_repr(1e15), "1000000000000000.0");
}
