//! The CSV and JSON lines readers and writers round-trip every field of
//! docs/spec.md §3 (items) and §6 (decisions): a file read by the command gives the
//! items the library's builder gives, and the decisions written are the
//! library's decisions, field by field. A quarter of the money values
//! carry digits finer than the currency (docs/spec.md M1), mixed with whole
//! cents in any column order, so the CSV fast path and the general reader
//! are shown to build the items `Item::set_amount` builds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use priceguard::money::Amount;
use priceguard::{Budgets, Decision, Field, Item, Policy};
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

/// A tiny deterministic generator (splitmix64) so the rows vary.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// `minor` cents as an amount, a quarter of the time with 1 to 4 more
/// digits (`12.3456`), and its text.
fn money(g: &mut Mix, policy: &Policy, minor: i64) -> (Amount, String) {
    let a = if g.chance(25) {
        let scale = 1 + g.below(4) as u8;
        let f = 10_i64.pow(u32::from(scale));
        Amount {
            units: minor * f + g.below(f as u64),
            scale,
        }
    } else {
        Amount::minor(minor)
    };
    (a, policy.currency().format_amount(a).to_string())
}

/// Rows with every field present in some rows and absent in others, and
/// the items the library's builder makes of them.
fn rows(policy: &Policy, n: usize) -> (Vec<Vec<String>>, Vec<Item>) {
    let mut g = Mix(11);
    // Which values carry finer digits, apart from `g` so the rows stay as
    // they were.
    let mut fine = Mix(23);
    let mut rows = Vec::new();
    let mut items = Vec::new();
    for i in 0..n {
        let current = 500 + g.below(20_000);
        let mut row = vec![String::new(); FIELDS.len()];
        let proposed = (current as f64 * (0.7 + g.below(60) as f64 / 100.0)) as i64 + 1;
        row[0] = format!("RT-{i}");
        let mut item = Item::new(0);
        let (a, text) = money(&mut fine, policy, proposed);
        row[1] = text;
        item.set_amount(Field::ProposedPrice, a).unwrap();
        let mut set_money = |row: &mut Vec<String>, item: &mut Item, k: usize, f: Field, v: i64| {
            let (a, text) = money(&mut fine, policy, v);
            row[k] = text;
            item.set_amount(f, a).unwrap();
        };
        if g.chance(90) {
            set_money(&mut row, &mut item, 2, Field::CurrentPrice, current);
        }
        if g.chance(90) {
            set_money(
                &mut row,
                &mut item,
                3,
                Field::UnitCost,
                current * (50 + g.below(30)) / 100,
            );
        }
        if g.chance(20) {
            set_money(&mut row, &mut item, 4, Field::MinPrice, current * 80 / 100);
        }
        if g.chance(20) {
            set_money(&mut row, &mut item, 5, Field::MaxPrice, current * 130 / 100);
        }
        if g.chance(20) {
            set_money(&mut row, &mut item, 6, Field::MapPrice, current * 85 / 100);
        }
        if g.chance(30) {
            set_money(
                &mut row,
                &mut item,
                7,
                Field::ReferencePrice,
                current * 110 / 100,
            );
            let units = 1 + g.below(50);
            row[8] = units.to_string();
            item.set(Field::ExpectedUnits, units);
            if g.chance(80) {
                let name = if g.chance(50) {
                    "spring-sale"
                } else {
                    "clearance"
                };
                row[9] = name.to_string();
                item = item.with_campaign(policy.campaign_id(name));
            }
        }
        let now = 1_795_000_000 + i as i64;
        if g.chance(95) {
            row[10] = now.to_string();
            item.set(Field::Now, now);
        }
        if g.chance(70) {
            let at = now - g.below(10_000);
            row[11] = at.to_string();
            item.set(Field::LastChangeAt, at);
            let c = g.below(8);
            row[12] = c.to_string();
            item.set(Field::ChangesInWindow, c);
        }
        if g.chance(40) {
            set_money(
                &mut row,
                &mut item,
                13,
                Field::WindowAnchorPrice,
                current * (90 + g.below(20)) / 100,
            );
        }
        if g.chance(80) {
            set_money(
                &mut row,
                &mut item,
                14,
                Field::BaselinePrice,
                current * (95 + g.below(10)) / 100,
            );
        }
        if g.chance(60) {
            set_money(
                &mut row,
                &mut item,
                15,
                Field::CompetitorPrice,
                current * (85 + g.below(35)) / 100,
            );
        }
        if g.chance(50) {
            let s = g.below(5) as u32;
            row[16] = s.to_string();
            item = item.with_segment(s);
        }
        if g.chance(5) {
            set_money(
                &mut row,
                &mut item,
                17,
                Field::PinnedPrice,
                current * 97 / 100,
            );
        }
        rows.push(row);
        items.push(item);
    }
    (rows, items)
}

/// A decision as text, the way both output formats carry it.
#[derive(Debug, PartialEq, Eq)]
struct Text {
    outcome: String,
    price: Option<String>,
    lower: Option<String>,
    upper: Option<String>,
    violated: Vec<String>,
    binding: Vec<String>,
    relaxed: Vec<String>,
    reason: String,
    promo_spend: Option<String>,
    unmet: Vec<String>,
    needs_approval: bool,
}

fn from_decision(policy: &Policy, d: &Decision) -> Text {
    let m = |v: Option<i64>| v.map(|v| policy.currency().format(v).to_string());
    Text {
        outcome: d.outcome.name().to_string(),
        price: m(d.price),
        lower: m(d.lower),
        upper: m(d.upper),
        violated: d.violated.iter().map(|r| r.name().to_string()).collect(),
        binding: d.binding.iter().map(|r| r.name().to_string()).collect(),
        relaxed: d.relaxed.iter().map(|c| c.name().to_string()).collect(),
        reason: d.reason.name().to_string(),
        promo_spend: d.promo_spend.map(|units| {
            let a = Amount {
                units,
                scale: d.spend_scale,
            };
            policy.currency().format_amount(a).to_string()
        }),
        unmet: d.unmet.iter().map(|r| r.name().to_string()).collect(),
        needs_approval: d.needs_approval,
    }
}

fn from_csv(h: &csv::StringRecord, r: &csv::StringRecord) -> Text {
    let get = |name: &str| r[h.iter().position(|x| x == name).unwrap()].to_string();
    let opt = |name: &str| Some(get(name)).filter(|s| !s.is_empty());
    let list = |name: &str| {
        let s = get(name);
        if s.is_empty() {
            Vec::new()
        } else {
            s.split(';').map(String::from).collect()
        }
    };
    Text {
        outcome: get("outcome"),
        price: opt("price"),
        lower: opt("lower"),
        upper: opt("upper"),
        violated: list("violated"),
        binding: list("binding"),
        relaxed: list("relaxed"),
        reason: get("reason"),
        promo_spend: opt("promo_spend"),
        unmet: list("unmet"),
        needs_approval: match get("needs_approval").as_str() {
            "true" => true,
            "false" => false,
            other => panic!("needs_approval `{other}`"),
        },
    }
}

fn from_json(v: &serde_json::Value) -> Text {
    let opt = |k: &str| match &v[k] {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => panic!("{k}: money must be a string or null, not {other}"),
    };
    let list = |k: &str| {
        v[k].as_array()
            .unwrap_or_else(|| panic!("{k} must be an array"))
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    Text {
        outcome: v["outcome"].as_str().unwrap().to_string(),
        price: opt("price"),
        lower: opt("lower"),
        upper: opt("upper"),
        violated: list("violated"),
        binding: list("binding"),
        relaxed: list("relaxed"),
        reason: v["reason"].as_str().unwrap().to_string(),
        promo_spend: opt("promo_spend"),
        unmet: list("unmet"),
        needs_approval: v["needs_approval"].as_bool().unwrap(),
    }
}

fn policy_text() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut text = fs::read_to_string(root.join("examples/policy.toml")).unwrap();
    // Turn emergency mode on so `baseline_price` is read and used too.
    text = text.replace(
        "# [emergency]\n# cap = \"0.10\"",
        "[emergency]\ncap = \"0.10\"",
    );
    assert!(
        text.contains("[emergency]\ncap"),
        "the example policy keeps its emergency block"
    );
    // No breaker: this test is about fields, not about tripping.
    text.replace(
        "max_violation_ratio = \"0.25\"",
        "max_violation_ratio = \"1\"",
    )
}

#[test]
fn csv_and_jsonl_round_trip_every_item_and_decision_field() {
    let dir = TempDir::new().unwrap();
    let text = policy_text();
    let policy = Policy::from_toml_str(&text).unwrap();
    let policy_path = dir.path().join("p.toml");
    fs::write(&policy_path, &text).unwrap();

    let n = 3000;
    let (rows, items) = rows(&policy, n);
    let mut w = csv::Writer::from_path(dir.path().join("in.csv")).unwrap();
    w.write_record(FIELDS).unwrap();
    for r in &rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    // The same rows as JSON lines (absent fields left out, counts as numbers).
    let mut jl = String::new();
    for r in &rows {
        let mut obj = serde_json::Map::new();
        for (k, v) in FIELDS.iter().zip(r) {
            if v.is_empty() {
                continue;
            }
            let value = match *k {
                "expected_units" | "now" | "last_change_at" | "changes_in_window" | "segment" => {
                    serde_json::Value::from(v.parse::<i64>().unwrap())
                }
                _ => serde_json::Value::from(v.clone()),
            };
            obj.insert((*k).to_string(), value);
        }
        jl.push_str(&serde_json::Value::Object(obj).to_string());
        jl.push('\n');
    }
    fs::write(dir.path().join("in.jsonl"), jl).unwrap();

    // The library: one batch in input order.
    let mut expect = vec![Decision::default(); n];
    policy
        .evaluate_batch_with(&items, &mut expect, &mut Budgets::new(&policy))
        .unwrap();
    assert!(items.iter().filter(|i| i.scale() > 0).count() > n / 2);
    assert!(expect.iter().any(|d| d.spend_scale > 0));
    let expect: Vec<Text> = expect.iter().map(|d| from_decision(&policy, d)).collect();
    let changed = expect.iter().filter(|t| t.outcome == "adjusted").count();
    assert!(changed > 100, "rows should exercise the rules");

    for (input, output) in [
        ("in.csv", "out.csv"),
        ("in.csv", "out.jsonl"),
        ("in.jsonl", "out2.csv"),
        ("in.jsonl", "out2.jsonl"),
    ] {
        Command::cargo_bin("priceguard")
            .unwrap()
            .args(["check", "-q", "--policy"])
            .arg(&policy_path)
            .arg("--input")
            .arg(dir.path().join(input))
            .arg("--output")
            .arg(dir.path().join(output))
            .assert()
            .success();
        let got: Vec<(String, Text)> = if output.ends_with(".csv") {
            let mut r = csv::Reader::from_path(dir.path().join(output)).unwrap();
            let h = r.headers().unwrap().clone();
            r.records()
                .map(|rec| {
                    let rec = rec.unwrap();
                    (rec[0].to_string(), from_csv(&h, &rec))
                })
                .collect()
        } else {
            fs::read_to_string(dir.path().join(output))
                .unwrap()
                .lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    (v["sku"].as_str().unwrap().to_string(), from_json(&v))
                })
                .collect()
        };
        assert_eq!(got.len(), n, "{input} -> {output}");
        for (i, ((sku, g), e)) in got.iter().zip(&expect).enumerate() {
            assert_eq!(sku, &rows[i][0], "{input} -> {output} row {i}");
            assert_eq!(g, e, "{input} -> {output} row {i} ({sku}): {:?}", rows[i]);
        }
    }
}
