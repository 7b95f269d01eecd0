//! The group vectors (`tests/vectors/groups/*.json`, docs/spec.md §10)
//! through every Rust path that decides groups: the allocating batch, the
//! allocation-free batch with caller scratch and notes, and the columns.
//! Each case also runs with its rows reversed, rotated and shuffled: the
//! decisions must not change.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use priceguard::batch::Columns;
use priceguard::{
    Budgets, Decision, Field, GroupRow, GroupScratch, GroupSummary, Item, LadderNote, Policy,
    RuleSet,
};
use serde_json::Value;

/// The suite may grow, never silently shrink.
const MIN_CASES: usize = 25;

fn files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/groups");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// One row of a case: its sku, item (or the field it could not read) and
/// group info (the group text interned in order of first sight).
struct Row {
    sku: String,
    item: Result<Item, Field>,
    group: Option<GroupRow>,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn rows_of(policy: &Policy, items: &[Value]) -> Vec<Row> {
    let mut ids: HashMap<String, u32> = HashMap::new();
    items
        .iter()
        .map(|v| {
            let obj = v.as_object().expect("item is an object");
            let mut item = Ok(Item::new(0));
            for field in Field::SPEC_ORDER {
                if field == Field::Sku {
                    continue;
                }
                let Some(t) = obj.get(field.name()).map(text) else {
                    continue;
                };
                if let Ok(it) = item.as_mut() {
                    if let Err(e) = policy.set_field_text(it, field, &t) {
                        item = Err(e.field);
                    }
                }
            }
            for key in obj.keys() {
                assert!(
                    key == "sku" || Field::from_name(key).is_some(),
                    "unknown item field `{key}`"
                );
            }
            let group = obj.get("group").map(|g| {
                let n = ids.len() as u32;
                let id = *ids.entry(text(g)).or_insert(n);
                let mut row = match obj.get("rank") {
                    Some(r) => GroupRow::new(id, r.as_i64().expect("rank is an integer")),
                    None => GroupRow::unranked(id),
                };
                if let Some(p) = obj.get("pack_size") {
                    row = row.with_pack_size(p.as_u64().expect("pack_size is a whole number"));
                }
                row
            });
            Row {
                sku: text(&obj["sku"]),
                item,
                group,
            }
        })
        .collect()
}

fn rules(set: RuleSet) -> Vec<String> {
    set.iter().map(|r| r.name().to_string()).collect()
}

fn money(policy: &Policy, v: Option<i64>) -> Value {
    v.map_or(Value::Null, |v| {
        Value::String(policy.currency().format(v).to_string())
    })
}

/// Compares one decision with its expectation; every key present is checked.
fn check(policy: &Policy, d: &Decision, want: &Value, explain: Option<String>, at: &str) {
    let w = want.as_object().expect("expectation is an object");
    let mut errors = Vec::new();
    let mut eq = |key: &str, got: Value| {
        if let Some(e) = w.get(key) {
            if *e != got {
                errors.push(format!("{key}: want {e}, got {got}"));
            }
        }
    };
    eq("outcome", Value::from(d.outcome.name()));
    eq("price", money(policy, d.price));
    eq("reason", Value::from(d.reason.name()));
    eq("violated", Value::from(rules(d.violated)));
    eq("binding", Value::from(rules(d.binding)));
    eq("unmet", Value::from(rules(d.unmet)));
    eq(
        "invalid_field",
        d.invalid_field
            .map_or(Value::Null, |f| Value::from(f.name())),
    );
    eq("promo_spend", money(policy, d.promo_spend_minor()));
    if let (Some(e), Some(got)) = (w.get("explain"), explain) {
        if e.as_str() != Some(got.as_str()) {
            errors.push(format!("explain: want {e}, got {got:?}"));
        }
    }
    assert!(errors.is_empty(), "{at}: {}", errors.join("; "));
}

/// The case's rows in `order`, decided by every path; returns the
/// decisions and notes by input position of `order`, after checking the
/// paths agree.
fn decide(
    policy: &Policy,
    rows: &[&Row],
    at: &str,
) -> (Vec<Decision>, Vec<Option<LadderNote>>, GroupSummary) {
    let items: Vec<Item> = rows
        .iter()
        .map(|r| r.item.unwrap_or(Item::new(0)))
        .collect();
    let groups: Vec<Option<GroupRow>> = rows.iter().map(|r| r.group).collect();
    let n = items.len();

    let mut a = vec![Decision::default(); n];
    let (_, sa) = policy
        .evaluate_batch_grouped(&items, &groups, &mut a)
        .unwrap();

    let mut b = vec![Decision::default(); n];
    let mut scratch = vec![GroupScratch::default(); n];
    let mut notes = vec![None; n];
    let (_, sb) = policy
        .evaluate_batch_grouped_with(
            &items,
            &groups,
            &mut b,
            &mut Budgets::new(policy),
            &mut scratch,
            Some(&mut notes),
        )
        .unwrap();
    assert_eq!(a, b, "{at}: batch and no-alloc batch differ");
    assert_eq!(sa, sb, "{at}: group summaries differ");

    // Columns: one column per field the items carry.
    let proposed: Vec<i64> = items.iter().map(Item::proposed_price).collect();
    let mut owned: Vec<(Field, Vec<i64>, Vec<u8>)> = Vec::new();
    for field in Field::ALL {
        if matches!(field, Field::ProposedPrice) || items.iter().all(|it| it.get(field).is_none()) {
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
        owned.push((field, values, valid));
    }
    let mut cols = Columns::new(&proposed);
    for (field, values, valid) in &owned {
        cols = cols.with(*field, values, Some(valid)).unwrap();
    }
    let mut c = vec![Decision::default(); n];
    let (_, sc) = policy
        .evaluate_columns_grouped(
            &cols,
            &groups,
            &mut c,
            &mut Budgets::new(policy),
            &mut scratch,
            None,
        )
        .unwrap();
    assert_eq!(a, c, "{at}: batch and columns differ");
    assert_eq!(sa, sc, "{at}: columns group summary differs");
    (a, notes, sa)
}

/// Deterministic permutations of `0..n`: as given, reversed, rotated and
/// a fixed shuffle.
fn orders(n: usize) -> Vec<Vec<usize>> {
    let id: Vec<usize> = (0..n).collect();
    let mut rev = id.clone();
    rev.reverse();
    let mut rot = id.clone();
    rot.rotate_left(1.min(n));
    let mut shuf = id.clone();
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..n).rev() {
        s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        shuf.swap(i, (s >> 33) as usize % (i + 1));
    }
    vec![id, rev, rot, shuf]
}

#[test]
fn group_vectors() {
    let mut cases = 0;
    for path in files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let file: Value = serde_json::from_str(&text).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let policy = Policy::from_json_str(&file["policy"].to_string())
            .unwrap_or_else(|e| panic!("{name}: policy: {e}"));
        for case in file["cases"].as_array().expect("cases") {
            cases += 1;
            let cname = case["name"].as_str().unwrap();
            assert!(
                case["note"].as_str().is_some_and(|n| !n.is_empty()),
                "{name} / {cname}: every case shows its arithmetic in `note`"
            );
            let rows = rows_of(&policy, case["items"].as_array().unwrap());
            let expect = case["expect"].as_object().unwrap();
            assert_eq!(
                expect.len(),
                rows.len(),
                "{name} / {cname}: one expectation per item"
            );
            for order in orders(rows.len()) {
                let at = format!("{name} / {cname} / order {order:?}");
                let ordered: Vec<&Row> = order.iter().map(|i| &rows[*i]).collect();
                let (ds, notes, summary) = decide(&policy, &ordered, &at);
                for (i, r) in ordered.iter().enumerate() {
                    let want = expect
                        .get(&r.sku)
                        .unwrap_or_else(|| panic!("{at}: no expectation for {}", r.sku));
                    let explain = notes[i].map(|note| {
                        let nb = ordered[note.neighbour];
                        let g = nb
                            .group
                            .unwrap_or_else(|| panic!("{at}: note {note:?} names ungrouped row"));
                        assert!(g.rank.is_some(), "{at}: note {note:?} {g:?}");
                        ds[i].explain_ladder(
                            &policy,
                            &r.item.unwrap(),
                            &note,
                            &nb.sku,
                            g.rank.unwrap(),
                            g.pack_size,
                        )
                    });
                    if want.get("explain").is_some() {
                        assert!(explain.is_some(), "{at} / {}: no ladder note", r.sku);
                    }
                    check(&policy, &ds[i], want, explain, &format!("{at} / {}", r.sku));
                }
                if let Some(g) = case.get("groups") {
                    let got = serde_json::json!({
                        "groups": summary.groups,
                        "adjusted": summary.adjusted,
                        "held": summary.held,
                        "invalid": summary.invalid,
                    });
                    assert_eq!(*g, got, "{at}: group summary");
                }
            }
        }
    }
    assert!(cases >= MIN_CASES, "only {cases} group cases");
}
