//! Runs the shared test vectors in `tests/vectors/*.json` through the Rust
//! engine: every file, every case, every expected field. All mismatches are
//! collected and reported (file, case, field, expected, actual) before the
//! test fails. The format is described in `tests/vectors/README.md`.
//!
//! Every case runs in each of its forms (README "Forms"): the text form
//! (`Policy::set_field_text`), the float form (`set_field_float` with the
//! nearest binary float to each money text, when the convention allows)
//! and a `Decimal` form (`set_field_decimal`, when every money text is an
//! exact `Decimal`). Every form must give the expected decision.
//!
//! Every case also runs through the columnar paths: tiled to a 64-row
//! block through `evaluate_columns_into` (the SIMD lanes, the row kernel,
//! or the general engine for rows finer than the currency, each row with
//! its scale) and, where its fields allow, through the float64 block path
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
use priceguard::money::Amount;
use priceguard::{Budgets, ClassSet, Decision, DecisionSink, Field, Item, Policy, RuleSet};
use rust_decimal::Decimal;
use serde_json::Value;

/// The suite may grow, never silently shrink.
const MIN_CASES: usize = 80;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

/// Every vector file: `tests/vectors/*.json`, then the history rules'
/// `tests/vectors/history/*.json` (docs/spec.md §11).
fn vector_files() -> Vec<PathBuf> {
    let mut files = json_files(&vectors_dir());
    files.extend(json_files(&vectors_dir().join("history")));
    files
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// How a case's item is handed to the engine (README "Forms").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// Every field through `Policy::set_field_text`.
    Text,
    /// Money through `Policy::set_field_float`, as the binary float nearest
    /// to its text; the other fields as text.
    Float,
    /// Money through `Policy::set_field_decimal`; the other fields as text.
    Decimal,
}

impl Form {
    const ALL: [Form; 3] = [Form::Text, Form::Float, Form::Decimal];

    fn name(self) -> &'static str {
        match self {
            Form::Text => "text",
            Form::Float => "float",
            Form::Decimal => "decimal",
        }
    }
}

/// A decimal number's value as (negative, significant digits, exponent of
/// the last digit), the same for every way of writing it (`"1.50"`,
/// `"15e-1"`); `None` when `t` is not a plain decimal number.
fn canonical(t: &str) -> Option<(bool, String, i64)> {
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i64>().ok()?),
        None => (body, 0),
    };
    let (int, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if int.len() + fraction.len() == 0 || !all_digits(int) || !all_digits(fraction) {
        return None;
    }
    let digits = format!("{int}{fraction}");
    let mut exp = exp - fraction.len() as i64;
    let trimmed = digits.trim_end_matches('0');
    exp += (digits.len() - trimmed.len()) as i64;
    let significant = trimmed.trim_start_matches('0');
    if significant.is_empty() {
        return Some((false, String::from("0"), 0));
    }
    Some((neg, significant.to_owned(), exp))
}

/// The float form of a money text (README "Forms"): the nearest binary
/// float, when the shortest decimal that reads back as it is the text's
/// number; `None` otherwise (the case then runs in text form only).
fn float_of(text: &str) -> Option<f64> {
    let f: f64 = text.parse().ok()?;
    // `Display` prints a float's shortest round-trip decimal.
    let shortest = format!("{f}");
    (f.is_finite() && canonical(&shortest)? == canonical(text)?).then_some(f)
}

/// The `Decimal` form of a money text, when a `Decimal` holds it exactly.
fn decimal_of(text: &str) -> Option<Decimal> {
    let d = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).ok()?
    } else {
        Decimal::from_str_exact(text).ok()?
    };
    (canonical(&d.to_string())? == canonical(text)?).then_some(d)
}

/// A field's value as the text every form starts from.
fn field_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// Builds an item the way every edge does, in `form`: each field through
/// `Policy::set_field_text` (money through `set_field_float` or
/// `set_field_decimal` in those forms), integers via their decimal text.
/// The first unreadable field (in `Field::ALL` order) makes the decision
/// `invalid`. `None` when the case does not run in `form`.
fn build_item(
    policy: &Policy,
    item: &serde_json::Map<String, Value>,
    form: Form,
) -> Option<Result<Item, Field>> {
    for key in item.keys() {
        assert!(
            key == "sku" || Field::from_name(key).is_some(),
            "unknown item field `{key}`"
        );
    }
    // Every money text must have the form, or the case runs without it.
    let texts = || {
        Field::ALL
            .into_iter()
            .filter(|f| f.is_money() || *f == Field::ProposedPrice)
            .filter_map(|f| item.get(f.name()).and_then(field_text))
    };
    match form {
        Form::Text => {}
        Form::Float => {
            if !texts().all(|t| float_of(&t).is_some()) {
                return None;
            }
        }
        Form::Decimal => {
            if !texts().all(|t| decimal_of(&t).is_some()) {
                return None;
            }
        }
    }
    // An absent proposed_price stays 0, which the engine refuses.
    let mut out = Item::new(0);
    for field in Field::ALL {
        if field == Field::Sku {
            continue;
        }
        let Some(text) = item.get(field.name()).and_then(field_text) else {
            continue;
        };
        let money = field.is_money() || field == Field::ProposedPrice;
        let read = match form {
            Form::Float if money => {
                policy.set_field_float(&mut out, field, float_of(&text).unwrap())
            }
            Form::Decimal if money => {
                policy.set_field_decimal(&mut out, field, decimal_of(&text).unwrap())
            }
            _ => policy.set_field_text(&mut out, field, &text),
        };
        if let Err(e) = read {
            return Some(Err(e.field));
        }
    }
    Some(Ok(out))
}

/// Every float the float64 block path would be handed for a case: each
/// money text's float form, and `None` when the case has no float form.
fn money_floats(item: &serde_json::Map<String, Value>) -> Option<Vec<(Field, f64)>> {
    Field::ALL
        .into_iter()
        .filter(|f| f.is_money() || *f == Field::ProposedPrice)
        .filter_map(|f| item.get(f.name()).and_then(field_text).map(|t| (f, t)))
        .map(|(f, t)| float_of(&t).map(|x| (f, x)))
        .collect()
}

fn money(policy: &Policy, v: Option<i64>) -> Value {
    match v {
        Some(m) => Value::String(policy.currency().format(m).to_string()),
        None => Value::Null,
    }
}

/// An exact amount: the currency's digits and any finer ones it has.
fn amount(policy: &Policy, v: Option<i64>, scale: u8) -> Value {
    match v {
        Some(units) => Value::String(
            policy
                .currency()
                .format_amount(Amount { units, scale })
                .to_string(),
        ),
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
    m.insert(
        "promo_spend".into(),
        amount(policy, d.promo_spend, d.spend_scale),
    );
    m.insert("violated".into(), rules(d.violated));
    m.insert("binding".into(), rules(d.binding));
    m.insert("relaxed".into(), classes(d.relaxed));
    m.insert("reason".into(), Value::String(d.reason.name().to_owned()));
    m.insert("unmet".into(), rules(d.unmet));
    m.insert("needs_approval".into(), Value::Bool(d.needs_approval));
    m.insert("lawful_reference".into(), money(policy, d.lawful_reference));
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
    /// The item in each form the case runs in, the text form first.
    forms: Vec<(Form, Result<Item, Field>)>,
    /// The float64 block path's inputs, when the case has a float form.
    floats: Option<Vec<(Field, f64)>>,
}

impl Case {
    /// The item in `form`, or in text form when the case lacks `form`.
    fn item_in(&self, form: Form) -> Result<Item, Field> {
        self.forms
            .iter()
            .find(|(f, _)| *f == form)
            .or_else(|| self.forms.first())
            .map(|(_, item)| *item)
            .unwrap()
    }

    fn has(&self, form: Form) -> bool {
        self.forms.iter().any(|(f, _)| *f == form)
    }
}

/// Compares one case's decision for `item`; pushes a line per mismatching
/// field.
fn compare(
    file: &str,
    case: &Case,
    item: Result<Item, Field>,
    policy: &Policy,
    d: &Decision,
    errors: &mut Vec<String>,
) {
    let mut actual = actual_fields(policy, d);
    // `explain` (optional): the decision's sentence, for a readable item.
    if case.expect.contains_key("explain") {
        match item {
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
            (None, "lawful_reference") => Value::Null,
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
            // `forms` (optional) narrows the forms the case runs in.
            let allowed: Vec<&str> = match c.get("forms") {
                None => Form::ALL.iter().map(|f| f.name()).collect(),
                Some(v) => v
                    .as_array()
                    .unwrap_or_else(|| panic!("{file}: case `{name}`: `forms` is not an array"))
                    .iter()
                    .map(|f| {
                        let f = f.as_str().unwrap_or_default();
                        assert!(
                            Form::ALL.iter().any(|x| x.name() == f),
                            "{file}: case `{name}`: unknown form `{f}`"
                        );
                        f
                    })
                    .collect(),
            };
            assert!(
                allowed.contains(&"text"),
                "{file}: case `{name}`: every case runs in text form"
            );
            let forms: Vec<(Form, Result<Item, Field>)> = Form::ALL
                .into_iter()
                .filter(|f| allowed.contains(&f.name()))
                .filter_map(|f| build_item(&policy, item, f).map(|i| (f, i)))
                .collect();
            let floats = if allowed.contains(&"float") {
                money_floats(item)
            } else {
                None
            };
            Case {
                name: name.to_owned(),
                expect: expect.clone(),
                forms,
                floats,
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

/// Runs one file in every form; returns its cases and how many of them
/// ran in float form.
fn evaluate_file(path: &Path, errors: &mut Vec<String>) -> (usize, usize) {
    let VectorFile {
        file,
        doc,
        policy,
        batch,
        cases,
    } = load(path);
    for form in Form::ALL {
        if !cases.iter().any(|c| c.has(form)) {
            continue;
        }
        let label = format!("{file} ({} form)", form.name());
        if batch {
            // Unreadable rows are invalid decisions in place and never reach
            // the engine (so they do not count towards the breaker's batch
            // size); the readable ones run as one batch in input order. A
            // case without this form takes part in its text form.
            let items: Vec<Item> = cases.iter().filter_map(|c| c.item_in(form).ok()).collect();
            let mut out = vec![Decision::default(); items.len()];
            let summary = policy.evaluate_batch(&items, &mut out).unwrap();
            let mut decided = out.into_iter();
            for case in &cases {
                let item = case.item_in(form);
                let d = match item {
                    Ok(_) => decided.next().unwrap(),
                    Err(field) => Decision::invalid(field),
                };
                compare(&label, case, item, &policy, &d, errors);
            }
            let want_tripped = doc
                .get("summary")
                .and_then(|s| s.get("breaker_tripped"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if summary.breaker_tripped != want_tripped {
                errors.push(format!(
                    "{label}: summary: breaker_tripped: expected {want_tripped}, got {}",
                    summary.breaker_tripped
                ));
            }
        } else {
            for case in cases.iter().filter(|c| c.has(form)) {
                let item = case.item_in(form);
                let d = match item {
                    Ok(item) => policy.evaluate(&item),
                    Err(field) => Decision::invalid(field),
                };
                compare(&label, case, item, &policy, &d, errors);
            }
        }
    }
    let floats = cases.iter().filter(|c| c.has(Form::Float)).count();
    (cases.len(), floats)
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
    let (mut total, mut total_floats) = (0, 0);
    let mut per_file = String::new();
    for path in &files {
        let (n, floats) = evaluate_file(path, &mut errors);
        let _ = writeln!(
            per_file,
            "  {}: {n} cases ({floats} in float form too)",
            path.display()
        );
        total += n;
        total_floats += floats;
    }
    eprintln!(
        "{} vector files, {total} cases ({total_floats} in float form too)\n{per_file}",
        files.len()
    );
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
    // Not vacuous: almost every case is a number a float can carry.
    assert!(
        total_floats * 10 >= total * 9,
        "only {total_floats} of {total} cases ran in float form"
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

/// One column per field the items carry, with a validity bitmap, and
/// each row's scale (its money in `10^-scale` minor units).
struct OwnedColumns {
    proposed: Vec<i64>,
    scales: Vec<u8>,
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
            scales: items.iter().map(Item::scale).collect(),
            columns,
        }
    }

    fn columns(&self) -> Columns<'_> {
        let mut cols = Columns::new(&self.proposed);
        for (field, values, valid) in &self.columns {
            cols = cols.with(*field, values, Some(valid)).unwrap();
        }
        // Whole-minor-unit batches are also run without a scales column,
        // the way callers that never see finer digits build them.
        if self.scales.iter().all(|k| *k == 0) {
            return cols;
        }
        cols.with_scales(&self.scales).unwrap()
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
/// float64 major units the way the Python binding hands them over (each
/// money text's float form, `floats`); `None` when the item has fields
/// that path does not read, or the path declines the block (the binding
/// then converts it and uses the columns).
fn decide_floats(item: &Item, floats: &[(Field, f64)], policy: &Policy) -> Option<Decision> {
    if Field::ALL
        .iter()
        .any(|f| !FLOAT_FIELDS.contains(f) && *f != Field::Sku && item.get(*f).is_some())
    {
        return None;
    }
    let float = |f: Field| floats.iter().find(|(g, _)| *g == f).map(|(_, x)| *x);
    let money = |f: Field| float(f).map(|x| vec![x; BLOCK]);
    let proposed = vec![float(Field::ProposedPrice)?; BLOCK];
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
    // One row repeated: the lanes decide all of it, or leave all of it
    // to the engine row by row (a class to relax, an unbounded interval).
    assert!(
        rec.block_rows == BLOCK || rec.block_rows == 0,
        "a repeated row arrives as a whole block or row by row, not {}",
        rec.block_rows
    );
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
            // A batch is judged as a whole (budgets, breaker): run it as is,
            // in each form whose items differ from the text form's.
            let mut done: Vec<Vec<Item>> = Vec::new();
            for form in Form::ALL {
                if !cases.iter().any(|c| c.has(form)) {
                    continue;
                }
                let items: Vec<Item> = cases.iter().filter_map(|c| c.item_in(form).ok()).collect();
                if done.contains(&items) {
                    continue;
                }
                let rec = decide_columns(&policy, &items);
                rows += items.len();
                block_rows += rec.block_rows;
                let mut decided = rec.out.into_iter();
                for case in &cases {
                    let item = case.item_in(form);
                    if item.is_ok() {
                        let d = decided.next().unwrap();
                        let label = format!("{file} (columns, {} form)", form.name());
                        compare(&label, case, item, &policy, &d, &mut errors);
                    }
                }
                done.push(items);
            }
            cases_run += cases.len();
            continue;
        }
        for case in &cases {
            // Each distinct item the case's forms give (they should all be
            // the same item).
            let mut items: Vec<(Form, Item)> = Vec::new();
            for (form, item) in &case.forms {
                if let Ok(item) = item {
                    if !items.iter().any(|(_, i)| i == item) {
                        items.push((*form, *item));
                    }
                }
            }
            if items.is_empty() {
                continue;
            }
            cases_run += 1;
            for (form, item) in items {
                let copies = if item.get(Field::Campaign).is_some() {
                    1
                } else {
                    BLOCK
                };
                let rec = decide_columns(&policy, &vec![item; copies]);
                rows += copies;
                block_rows += rec.block_rows;
                for (i, d) in rec.out.iter().enumerate() {
                    let label = format!("{file} (columns, row {i}, {} form)", form.name());
                    compare(&label, case, Ok(item), &policy, d, &mut errors);
                }
            }
            let (Some(floats), Ok(item)) = (&case.floats, case.item_in(Form::Float)) else {
                continue;
            };
            if let Some(d) = decide_floats(&item, floats, &policy) {
                float_cases += 1;
                let label = format!("{file} (float64 blocks)");
                compare(&label, case, Ok(item), &policy, &d, &mut errors);
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
