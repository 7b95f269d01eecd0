//! Runs the shared test vectors in `tests/vectors/*.json` through the Rust
//! engine: every file, every case, every expected field. All mismatches are
//! collected and reported (file, case, field, expected, actual) before the
//! test fails. The format is described in `tests/vectors/README.md`.
//!
//! Every case also runs through the columnar paths: tiled to a 64-row
//! block through `evaluate_columns_into` (the SIMD lanes or the row kernel)
//! and, where its fields allow, through the float64 block path
//! (`evaluate_float_blocks`); `every_simd_level` re-runs that test under
//! each SIMD copy the CPU has (`PRICEGUARD_SIMD`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use priceguard::batch::Columns;
use priceguard::binding::{DecisionRows, FloatColumns, TimeColumn};
use priceguard::{Budgets, ClassSet, Decision, DecisionSink, Field, Item, Policy, RuleSet};
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
    let mut actual = actual_fields(policy, d);
    // `explain` (optional): the decision's sentence, for a readable item.
    if case.expect.contains_key("explain") {
        match case.item {
            Ok(item) => {
                actual.insert("explain".into(), Value::String(d.explain(policy, &item)));
            }
            Err(_) => errors.push(format!(
                "{file}: case `{}`: `explain` needs an item whose values are all readable",
                case.name
            )),
        }
    }
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
            (None, _) => continue, // invalid_field, explain: checked only when present
        };
        if &want != got {
            errors.push(format!(
                "{file}: case `{}`: {key}: expected {want}, got {got}",
                case.name
            ));
        }
    }
}

/// One vector file, read.
struct VectorFile {
    file: String,
    doc: Value,
    policy: Policy,
    batch: bool,
    cases: Vec<Case>,
}

fn load(path: &Path) -> VectorFile {
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
    VectorFile {
        file,
        doc,
        policy,
        batch,
        cases,
    }
}

fn evaluate_file(path: &Path, errors: &mut Vec<String>) -> usize {
    let VectorFile {
        file,
        doc,
        policy,
        batch,
        cases,
    } = load(path);
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

/// Records each row's decision and how many rows arrived as whole blocks
/// (`put_rows`: the SIMD lanes), so the suite knows which path decided.
struct Recorder {
    out: Vec<Decision>,
    block_rows: usize,
}

impl Recorder {
    fn new(n: usize) -> Recorder {
        Recorder {
            out: vec![Decision::default(); n],
            block_rows: 0,
        }
    }
}

impl DecisionSink for Recorder {
    fn rows(&self) -> usize {
        self.out.len()
    }
    fn put(&mut self, i: usize, d: &Decision) {
        self.out[i] = *d;
    }
    fn put_rows(&mut self, start: usize, rows: &DecisionRows) {
        self.block_rows += rows.len();
        for j in 0..rows.len() {
            self.out[start + j] = rows.decision(j);
        }
    }
}

/// One column per field the items carry, with a validity bitmap.
struct OwnedColumns {
    proposed: Vec<i64>,
    columns: Vec<(Field, Vec<i64>, Vec<u8>)>,
}

impl OwnedColumns {
    fn of(items: &[Item]) -> OwnedColumns {
        let n = items.len();
        let mut columns = Vec::new();
        for field in Field::ALL {
            if matches!(field, Field::Sku | Field::ProposedPrice) {
                continue;
            }
            if items.iter().all(|it| it.get(field).is_none()) {
                continue;
            }
            let mut values = vec![0; n];
            let mut valid = vec![0u8; n.div_ceil(8)];
            for (i, it) in items.iter().enumerate() {
                if let Some(v) = it.get(field) {
                    values[i] = v;
                    valid[i / 8] |= 1 << (i % 8);
                }
            }
            columns.push((field, values, valid));
        }
        OwnedColumns {
            proposed: items.iter().map(Item::proposed_price).collect(),
            columns,
        }
    }

    fn columns(&self) -> Columns<'_> {
        let mut cols = Columns::new(&self.proposed);
        for (field, values, valid) in &self.columns {
            cols = cols.with(*field, values, Some(valid)).unwrap();
        }
        cols
    }
}

/// The same decisions through `evaluate_columns_into`.
fn decide_columns(policy: &Policy, items: &[Item]) -> Recorder {
    let owned = OwnedColumns::of(items);
    let mut rec = Recorder::new(items.len());
    policy
        .evaluate_columns_into(&owned.columns(), &mut rec, &mut Budgets::new(policy))
        .unwrap();
    rec
}

/// Fields the float64 block path reads; an item with any other cannot take it.
const FLOAT_FIELDS: [Field; 7] = [
    Field::ProposedPrice,
    Field::CurrentPrice,
    Field::UnitCost,
    Field::ReferencePrice,
    Field::ExpectedUnits,
    Field::Now,
    Field::LastChangeAt,
];

/// `item` tiled to one block, decided by `evaluate_float_blocks` from
/// float64 major units the way the Python binding hands them over; `None`
/// when the item has fields that path does not read, or the path declines
/// the block (the binding then converts it and uses the columns).
fn decide_floats(policy: &Policy, item: &Item) -> Option<Decision> {
    if Field::ALL
        .iter()
        .any(|f| !FLOAT_FIELDS.contains(f) && *f != Field::Sku && item.get(*f).is_some())
    {
        return None;
    }
    let pow = 10f64.powi(i32::from(policy.currency().minor_units()));
    let money = |f: Field| item.get(f).map(|v| vec![v as f64 / pow; BLOCK]);
    let proposed = vec![item.proposed_price() as f64 / pow; BLOCK];
    let (current, cost, reference) = (
        money(Field::CurrentPrice),
        money(Field::UnitCost),
        money(Field::ReferencePrice),
    );
    let units = item
        .get(Field::ExpectedUnits)
        .map(|v| vec![v as f64; BLOCK]);
    let cols = FloatColumns {
        proposed_price: &proposed,
        current_price: current.as_deref(),
        unit_cost: cost.as_deref(),
        reference_price: reference.as_deref(),
        expected_units: units.as_deref(),
        now: item.get(Field::Now).map(TimeColumn::Same),
        last_change_at: item.get(Field::LastChangeAt).map(TimeColumn::Same),
    };
    let mut rec = Recorder::new(BLOCK);
    let done = policy.evaluate_float_blocks(&cols, 0, &mut rec)?;
    if done.rows != BLOCK {
        return None;
    }
    assert_eq!(rec.block_rows, BLOCK, "float blocks arrive as whole blocks");
    let first = rec.out[0];
    assert!(
        rec.out.iter().all(|d| *d == first),
        "one block, one decision"
    );
    Some(first)
}

/// The vectorised paths' block size.
const BLOCK: usize = 64;

/// Every case through the columnar paths: each single-item case tiled to a
/// 64-row block (every row must get the case's decision) and every batch
/// file as it is. Cases drawing on a campaign are run alone, not tiled:
/// copies would draw on the same budget one after another.
#[test]
fn shared_vectors_through_columns() {
    if let Ok(want) = std::env::var("PRICEGUARD_EXPECT_SIMD") {
        assert_eq!(
            priceguard::simd().name(),
            want,
            "PRICEGUARD_SIMD was not honoured"
        );
    }
    let mut errors = Vec::new();
    let (mut rows, mut block_rows, mut float_cases, mut cases_run) = (0, 0, 0, 0);
    for path in vector_files() {
        let VectorFile {
            file,
            policy,
            batch,
            cases,
            ..
        } = load(&path);
        if batch || policy.breaker().is_some() {
            // A batch is judged as a whole (budgets, breaker): run it as is.
            let items: Vec<Item> = cases.iter().filter_map(|c| c.item.ok()).collect();
            let rec = decide_columns(&policy, &items);
            rows += items.len();
            block_rows += rec.block_rows;
            let mut decided = rec.out.into_iter();
            for case in &cases {
                if case.item.is_ok() {
                    let d = decided.next().unwrap();
                    compare(&format!("{file} (columns)"), case, &policy, &d, &mut errors);
                }
            }
            cases_run += cases.len();
            continue;
        }
        for case in &cases {
            let Ok(item) = case.item else { continue };
            cases_run += 1;
            let copies = if item.get(Field::Campaign).is_some() {
                1
            } else {
                BLOCK
            };
            let rec = decide_columns(&policy, &vec![item; copies]);
            rows += copies;
            block_rows += rec.block_rows;
            for (i, d) in rec.out.iter().enumerate() {
                compare(
                    &format!("{file} (columns, row {i})"),
                    case,
                    &policy,
                    d,
                    &mut errors,
                );
            }
            if let Some(d) = decide_floats(&policy, &item) {
                float_cases += 1;
                compare(
                    &format!("{file} (float64 blocks)"),
                    case,
                    &policy,
                    &d,
                    &mut errors,
                );
            }
        }
    }
    eprintln!(
        "{cases_run} cases as {rows} column rows ({block_rows} decided in SIMD blocks \
         at {}), {float_cases} cases through the float64 block path",
        priceguard::simd().name()
    );
    if !errors.is_empty() {
        panic!(
            "{} mismatches on the columnar paths:\n{}",
            errors.len(),
            errors.join("\n")
        );
    }
    // Not vacuous: the blocks and the float path decided real cases.
    assert!(
        block_rows >= 20 * BLOCK,
        "only {block_rows} rows in SIMD blocks"
    );
    assert!(
        float_cases >= 20,
        "only {float_cases} cases through float64 blocks"
    );
}

/// `shared_vectors_through_columns` again under each SIMD copy this CPU
/// can run, each in its own process (the copy is chosen once per process).
#[test]
fn every_simd_level() {
    if std::env::var_os("PRICEGUARD_EXPECT_SIMD").is_some() {
        return; // the child runs only the test it is asked for
    }
    let widest = priceguard::simd();
    let exe = std::env::current_exe().unwrap();
    let mut ran = 0;
    for level in [
        priceguard::Simd::Portable,
        priceguard::Simd::Avx2,
        priceguard::Simd::Avx512,
    ] {
        if level > widest {
            continue;
        }
        let out = std::process::Command::new(&exe)
            .args(["--exact", "shared_vectors_through_columns", "--nocapture"])
            .env("PRICEGUARD_SIMD", level.name())
            .env("PRICEGUARD_EXPECT_SIMD", level.name())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "under {}:\n{text}", level.name());
        assert!(
            text.contains("1 passed"),
            "under {}: test not run:\n{text}",
            level.name()
        );
        ran += 1;
    }
    assert!(ran >= 1);
}
