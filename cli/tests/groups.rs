//! Groups (docs/spec.md §10) through the command line: the group vectors
//! (`tests/vectors/groups/*.json`), the sort requirement (a group's rows
//! next to each other), row order within a group, and a file of many
//! groups crossing chunk boundaries decided as the library decides it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use priceguard::{Decision, Field, GroupRow, Item, Policy, RuleSet};
use serde_json::Value;
use tempfile::TempDir;

mod common;
use common::{cell, check_csv, expect_text};

/// The group vectors may grow, never silently shrink.
const MIN_CASES: usize = 25;

/// Every input column: the §3 fields, then `group`, `rank`, `pack_size`.
fn fields() -> Vec<&'static str> {
    Field::SPEC_ORDER
        .iter()
        .chain(&Field::GROUP_FIELDS)
        .map(|f| f.name())
        .collect()
}

fn group_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/groups");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Orders of a case's rows in which each group's rows are next to each
/// other (the CLI's sort requirement): groups by first appearance (an
/// ungrouped row is a block of its own), that order reversed, and blocks
/// and the rows in each rotated by one.
fn contiguous_orders(items: &[Value]) -> Vec<Vec<usize>> {
    let mut blocks: Vec<Vec<usize>> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        let g = cell(it.get("group"));
        if g.is_empty() {
            blocks.push(vec![i]);
            continue;
        }
        match at.get(&g) {
            Some(&b) => blocks[b].push(i),
            None => {
                at.insert(g, blocks.len());
                blocks.push(vec![i]);
            }
        }
    }
    let given: Vec<usize> = blocks.concat();
    let mut reversed = given.clone();
    reversed.reverse();
    let mut rotated = blocks.clone();
    let k = 1.min(rotated.len());
    rotated.rotate_left(k);
    for b in &mut rotated {
        let k = 1.min(b.len());
        b.rotate_left(k);
    }
    vec![given, reversed, rotated.concat()]
}

/// Writes rows as CSV (every column) or JSON lines (the members given).
fn write_input(path: &Path, rows: &[&Value]) {
    if path.extension().is_some_and(|e| e == "csv") {
        let cols = fields();
        let mut w = csv::Writer::from_path(path).unwrap();
        w.write_record(&cols).unwrap();
        for r in rows {
            let row: Vec<String> = cols.iter().map(|f| cell(r.get(*f))).collect();
            w.write_record(&row).unwrap();
        }
        w.flush().unwrap();
    } else {
        let mut text = String::new();
        for r in rows {
            text.push_str(&serde_json::to_string(r).unwrap());
            text.push('\n');
        }
        fs::write(path, text).unwrap();
    }
}

/// The summary line counting groups, as the vectors' `groups` object says.
fn groups_line(g: &Value) -> Option<String> {
    let n = |k: &str| g[k].as_u64().unwrap();
    (n("groups") > 0).then(|| {
        format!(
            "groups:        {} groups: adjusted {}, held {}, invalid {};",
            n("groups"),
            n("adjusted"),
            n("held"),
            n("invalid")
        )
    })
}

#[test]
fn the_cli_gives_the_group_vectors_answers() {
    let dir = TempDir::new().unwrap();
    let mut cases = 0;
    let mut failures = Vec::new();
    // Sentences and summaries compared, so a runner that matches no
    // column cannot pass.
    let (mut explained, mut counted) = (0, 0);
    for path in group_files() {
        let file: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let fname = path.file_name().unwrap().to_string_lossy().to_string();
        let policy = dir.path().join(format!("{fname}.policy.json"));
        fs::write(&policy, file["policy"].to_string()).unwrap();
        for (c, case) in file["cases"].as_array().unwrap().iter().enumerate() {
            cases += 1;
            let name = case["name"].as_str().unwrap();
            let items = case["items"].as_array().unwrap();
            let expect = case["expect"].as_object().unwrap();
            for (o, order) in contiguous_orders(items).iter().enumerate() {
                let rows: Vec<&Value> = order.iter().map(|&i| &items[i]).collect();
                for ext in ["csv", "jsonl"] {
                    let at = format!("{fname} / {name} (order {o}, {ext})");
                    let input = dir.path().join(format!("{fname}-{c}-{o}.{ext}"));
                    write_input(&input, &rows);
                    // The given order in one chunk; the others in chunks of
                    // 1 and 2 rows, so every group runs past a chunk's end.
                    let chunk = ["8192", "1", "2"][o];
                    let args = ["--explain", "--chunk-size", chunk];
                    let (h, out, summary) = check_csv(&policy, &input, &args);
                    assert_eq!(out.len(), rows.len(), "{at}: one decision per row");
                    let col = |k: &str| h.iter().position(|x| x == k).unwrap();
                    for row in &out {
                        let sku = &row[col("sku")];
                        let want = expect
                            .get(sku)
                            .unwrap_or_else(|| panic!("{at}: no expectation for {sku}"));
                        for k in [
                            "outcome",
                            "price",
                            "reason",
                            "violated",
                            "binding",
                            "unmet",
                            "promo_spend",
                            "explain",
                        ] {
                            if let Some(v) = want.get(k) {
                                explained += usize::from(k == "explain");
                                let (got, w) = (&row[col(k)], expect_text(Some(v)));
                                if *got != w {
                                    failures.push(format!(
                                        "{at}: {sku} {k} is `{got}`, expected `{w}`"
                                    ));
                                }
                            }
                        }
                        if let Some(f) = want.get("invalid_field").and_then(Value::as_str) {
                            let err = &row[col("error")];
                            if !err.starts_with(&format!("{f}:")) {
                                failures
                                    .push(format!("{at}: {sku} error `{err}` should name `{f}`"));
                            }
                        }
                    }
                    if let Some(g) = case.get("groups") {
                        counted += 1;
                        match groups_line(g) {
                            Some(line) if !summary.contains(&line) => {
                                failures.push(format!("{at}: summary lacks `{line}`:\n{summary}"))
                            }
                            None if summary.contains("  groups:") => {
                                failures.push(format!("{at}: summary counts groups:\n{summary}"))
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    assert!(cases >= MIN_CASES, "only {cases} group cases");
    assert!(
        explained >= 7 * 6 && counted >= 7 * 6,
        "{explained} {counted}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const POLICY: &str = r#"
name = "ladder"
currency = "USD"
[bounds]
min_price = "1.00"
max_price = "1000"
[ladder]
min_gap = "0.05"
max_gap = "0.50"
min_unit_saving = "0.10"
"#;

#[test]
fn a_group_that_reappears_is_refused_and_no_output_is_written() {
    let dir = TempDir::new().unwrap();
    let policy = dir.path().join("p.toml");
    fs::write(&policy, POLICY).unwrap();
    let input = dir.path().join("in.csv");
    fs::write(
        &input,
        "sku,proposed_price,group,rank\nA1,10.00,a,1\nB1,10.00,b,1\nA2,11.00,a,2\n",
    )
    .unwrap();
    let output = dir.path().join("out.csv");
    fs::write(&output, "old\n").unwrap();
    for chunk in ["1", "8192"] {
        let out = Command::cargo_bin("priceguard")
            .unwrap()
            .args(["check", "--chunk-size", chunk, "--policy"])
            .arg(&policy)
            .arg("--input")
            .arg(&input)
            .arg("--output")
            .arg(&output)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("group `a` at line 4 appeared before (line 2) and is not contiguous")
                && err.contains("sort the file by group"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&output).unwrap(), "old\n");
    }
    // An ungrouped row between a group's rows breaks it too (a file
    // sorted by group keeps them apart).
    fs::write(
        &input,
        "{\"sku\":\"A1\",\"proposed_price\":\"10\",\"group\":\"a\",\"rank\":1}\n{\"sku\":\"X\",\"proposed_price\":\"10\"}\n{\"sku\":\"A2\",\"proposed_price\":\"11\",\"group\":\"a\",\"rank\":2}\n",
    )
    .unwrap();
    let out = Command::cargo_bin("priceguard")
        .unwrap()
        .args(["check", "--format", "jsonl", "--policy"])
        .arg(&policy)
        .arg("--input")
        .arg(&input)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("group `a` at line 3 appeared before (line 1)"),
        "{err}"
    );
}

#[test]
fn unreadable_group_fields_name_the_field_and_refuse_the_group() {
    let dir = TempDir::new().unwrap();
    let policy = dir.path().join("p.toml");
    fs::write(&policy, POLICY).unwrap();
    let input = dir.path().join("in.csv");
    fs::write(
        &input,
        "sku,proposed_price,group,rank,pack_size\n\
         A1,10.00,a,1,\nA2,11.00,a,abc,\n\
         B1,10.00,b,1,2\nB2,19.00,b,2,2.5\n\
         C1,10.00,c,1,-1\n\
         D1,10.00,d,1,\nD2,12.00,d,1,\n\
         E1,10.00,e,,\nE2,12.00,e,2,\n",
    )
    .unwrap();
    let (h, rows, _) = check_csv(&policy, &input, &[]);
    let col = |k: &str| h.iter().position(|x| x == k).unwrap();
    let want = [
        ("A1", "rank:"),
        ("A2", "rank: `abc` is not a whole number"),
        ("B1", "pack_size:"),
        ("B2", "pack_size: `2.5` is not a whole number"),
        ("C1", "pack_size: `-1` is not a whole number"),
        (
            "D1",
            "rank: group `d` has a missing, unreadable or repeated rank",
        ),
        ("D2", "rank: group `d`"),
        ("E1", "rank: missing; every row of group `e` needs a rank"),
        ("E2", "rank: group `e`"),
    ];
    assert_eq!(rows.len(), want.len());
    for (row, (sku, error)) in rows.iter().zip(want) {
        assert_eq!(&row[col("sku")], sku);
        assert_eq!(&row[col("outcome")], "rejected", "{sku}");
        assert_eq!(&row[col("reason")], "invalid_input", "{sku}");
        assert!(
            row[col("error")].starts_with(error),
            "{sku}: {}",
            &row[col("error")]
        );
    }
}

/// A deterministic generator (a 64-bit LCG).
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.next(i as u64 + 1) as usize);
        }
    }
}

/// A file's rows: `(sku, proposed, current, max_price, group, rank,
/// pack_size)` as texts, groups of 1 to 12 rows next to each other, some
/// rows ungrouped between them, some groups with a repeated rank.
type GenRow = [String; 7];

fn generate(groups: usize, rng: &mut Rng) -> Vec<Vec<GenRow>> {
    let money = |c: u64| format!("{}.{:02}", c / 100, c % 100);
    let mut blocks = Vec::new();
    for g in 0..groups {
        if rng.next(4) == 0 {
            let p = 500 + rng.next(4000);
            blocks.push(vec![[
                format!("U{g}"),
                money(p),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]]);
        }
        let size = 1 + rng.next(12) as i64;
        let packs = rng.next(3) == 0;
        let mut block = Vec::new();
        let mut base = 500 + rng.next(3000);
        for r in 1..=size {
            // Rising prices with noise: some edges hold, some break.
            base += rng.next(200);
            let p = base.saturating_sub(rng.next(150)).max(100);
            let rank = if rng.next(60) == 0 { 1 } else { r };
            let current = if rng.next(3) == 0 {
                money(p + rng.next(100))
            } else {
                String::new()
            };
            let max = if rng.next(10) == 0 {
                money(p.saturating_sub(rng.next(300)).max(150))
            } else {
                String::new()
            };
            let pack = if packs {
                (r as u64 * (1 + rng.next(2))).to_string()
            } else {
                String::new()
            };
            block.push([
                format!("G{g}-{r}"),
                money(p),
                current,
                max,
                format!("grp-{g}"),
                rank.to_string(),
                pack,
            ]);
        }
        blocks.push(block);
    }
    blocks
}

const GEN_COLS: [&str; 7] = [
    "sku",
    "proposed_price",
    "current_price",
    "max_price",
    "group",
    "rank",
    "pack_size",
];

fn write_gen(path: &Path, rows: &[&GenRow]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(GEN_COLS).unwrap();
    for r in rows {
        w.write_record(r.iter()).unwrap();
    }
    w.flush().unwrap();
}

fn rules(set: RuleSet) -> String {
    set.iter().map(|r| r.name()).collect::<Vec<_>>().join(";")
}

/// What the CLI writes for a decision, in the columns compared.
fn decision_cells(policy: &Policy, d: &Decision) -> Vec<String> {
    let m = |v: Option<i64>| v.map_or(String::new(), |v| policy.currency().format(v).to_string());
    vec![
        d.outcome.name().to_string(),
        m(d.price),
        m(d.lower),
        m(d.upper),
        rules(d.violated),
        rules(d.binding),
        d.reason.name().to_string(),
        rules(d.unmet),
        d.needs_approval.to_string(),
    ]
}

const COMPARED: [&str; 9] = [
    "outcome",
    "price",
    "lower",
    "upper",
    "violated",
    "binding",
    "reason",
    "unmet",
    "needs_approval",
];

#[test]
fn many_groups_across_chunk_boundaries_match_the_library() {
    let dir = TempDir::new().unwrap();
    let policy_path = dir.path().join("p.toml");
    fs::write(&policy_path, POLICY).unwrap();
    let policy = Policy::from_toml_str(POLICY).unwrap();
    let mut rng = Rng(7);
    let blocks = generate(600, &mut rng);
    let rows: Vec<&GenRow> = blocks.iter().flatten().collect();
    let input = dir.path().join("many.csv");
    write_gen(&input, &rows);

    // The library on the whole file as one batch.
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let mut items = Vec::new();
    let mut groups = Vec::new();
    for r in &rows {
        let mut item = Item::new(0);
        for (k, f) in [
            (1, Field::ProposedPrice),
            (2, Field::CurrentPrice),
            (3, Field::MaxPrice),
        ] {
            policy.set_field_text(&mut item, f, &r[k]).unwrap();
        }
        items.push(item);
        groups.push((!r[4].is_empty()).then(|| {
            let n = ids.len() as u32;
            let id = *ids.entry(r[4].as_str()).or_insert(n);
            let row = GroupRow::new(id, r[5].parse().unwrap());
            match r[6].parse::<u64>() {
                Ok(p) => row.with_pack_size(p),
                Err(_) => row,
            }
        }));
    }
    let mut want = vec![Decision::default(); items.len()];
    let (_, gs) = policy
        .evaluate_batch_grouped(&items, &groups, &mut want)
        .unwrap();
    // The file must exercise what it claims to.
    assert!(
        gs.groups >= 600 && gs.adjusted > 50 && gs.held > 5 && gs.invalid > 3,
        "{gs:?}"
    );

    for chunk in ["1", "5", "64", "8192"] {
        let (h, out, summary) = check_csv(&policy_path, &input, &["--chunk-size", chunk]);
        assert_eq!(out.len(), rows.len());
        let cols: Vec<usize> = COMPARED
            .iter()
            .map(|k| h.iter().position(|x| x == *k).unwrap())
            .collect();
        for (i, row) in out.iter().enumerate() {
            let got: Vec<String> = cols.iter().map(|&c| row[c].to_string()).collect();
            assert_eq!(
                got,
                decision_cells(&policy, &want[i]),
                "chunk size {chunk}, row {} ({})",
                i + 2,
                rows[i][0]
            );
        }
        let line = format!(
            "groups:        {} groups: adjusted {}, held {}, invalid {}; {} rows moved",
            gs.groups, gs.adjusted, gs.held, gs.invalid, gs.moved
        );
        assert!(summary.contains(&line), "chunk size {chunk}: {summary}");
    }
}

#[test]
fn rows_shuffled_within_their_groups_give_the_same_decisions() {
    let dir = TempDir::new().unwrap();
    let policy = dir.path().join("p.toml");
    fs::write(&policy, POLICY).unwrap();
    let mut rng = Rng(11);
    let mut blocks = generate(200, &mut rng);
    let sorted: Vec<GenRow> = blocks.iter().flatten().cloned().collect();
    let a = dir.path().join("sorted.csv");
    write_gen(&a, &sorted.iter().collect::<Vec<_>>());
    for b in &mut blocks {
        rng.shuffle(b);
    }
    let shuffled: Vec<GenRow> = blocks.iter().flatten().cloned().collect();
    let b = dir.path().join("shuffled.csv");
    write_gen(&b, &shuffled.iter().collect::<Vec<_>>());
    let by_sku = |path: &Path| {
        let (h, out, _) = check_csv(&policy, path, &["--chunk-size", "16", "--explain"]);
        let line = h.iter().position(|x| x == "line").unwrap();
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for row in out {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != line)
                .map(|(_, c)| c.to_string())
                .collect();
            m.insert(row[0].to_string(), cells);
        }
        m
    };
    let (x, y) = (by_sku(&a), by_sku(&b));
    assert_eq!(x.len(), sorted.len());
    assert!(sorted != shuffled, "the shuffle moved rows");
    for (sku, cells) in &x {
        assert_eq!(Some(cells), y.get(sku), "{sku}");
    }
}

/// The example of cli/README.md ("Groups"), by hand: SKU-2 rises to
/// ceil(1.05 x 15.00) = 15.75; SKU-3 falls to 2 x 15.75 = 31.50 (max_gap
/// 1.00); Q2 (6-pack over Q1's 3-pack at 5.00) to 5.00 x 6/3 x 0.9 = 9.00;
/// H1 and H2, two 6-packs, need H2 >= 1.05 x H1 and H2 <= 0.9 x H1: held.
#[test]
fn the_readme_example_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("ladder.csv");
    fs::copy(root.join("examples/ladder.csv"), &input).unwrap();
    let (h, rows, summary) = check_csv(&root.join("examples/ladder.toml"), &input, &["--explain"]);
    let col = |k: &str| h.iter().position(|x| x == k).unwrap();
    let want = [
        ("SKU-1", "accepted", "15.00", "", "proposed 15.00 accepted"),
        ("SKU-2", "adjusted", "15.75", "ladder_gap", "raised 14.99 to 15.75 to stay 5 % above SKU-1 (rank 1, 15.00)"),
        ("SKU-3", "adjusted", "31.50", "ladder_max_gap", "lowered 40.00 to 31.50 to stay at most 100 % above SKU-2 (rank 2, 15.75)"),
        ("Q1", "accepted", "5.00", "", "proposed 5.00 accepted"),
        ("Q2", "adjusted", "9.00", "unit_price", "lowered 9.60 to 9.00 to keep its unit price at least 10 % below that of Q1 (rank 1, 5.00, pack of 3)"),
        ("H1", "held", "9.50", "ladder", "proposed 10.00 held at 9.50 by ladder (no set of prices satisfies the group's ladder, so the whole group keeps its prices)"),
        ("H2", "held", "10.00", "ladder", "proposed 10.50 held at 10.00 by ladder (no set of prices satisfies the group's ladder, so the whole group keeps its prices)"),
        ("X1", "accepted", "5.00", "", "proposed 5.00 accepted"),
    ];
    assert_eq!(rows.len(), want.len());
    for (row, w) in rows.iter().zip(want) {
        let got = (
            &row[col("sku")],
            &row[col("outcome")],
            &row[col("price")],
            &row[col("reason")],
            &row[col("explain")],
        );
        assert_eq!(got, w);
    }
    assert!(
        summary.contains(
            "groups:        3 groups: adjusted 2, held 1, invalid 0; 3 rows moved by the ladder"
        ),
        "{summary}"
    );
}

/// A line that cannot be split into fields inside a group is rejected
/// alone and neither closes nor splits the group, whatever the chunk size:
/// A3 is still held to 5 % above A1 (ceil(1.05 x 10.00) = 10.50).
#[test]
fn an_unreadable_line_inside_a_group_is_rejected_alone() {
    let dir = TempDir::new().unwrap();
    let policy = dir.path().join("p.toml");
    fs::write(&policy, POLICY).unwrap();
    let input = dir.path().join("in.csv");
    fs::write(
        &input,
        "sku,proposed_price,group,rank\nA1,10.00,a,1\nA2,10.20,a\nA3,10.10,a,3\nB1,7.00,b,1\n",
    )
    .unwrap();
    for chunk in ["1", "2", "8192"] {
        let (h, rows, _) = check_csv(&policy, &input, &["--chunk-size", chunk]);
        let col = |k: &str| h.iter().position(|x| x == k).unwrap();
        let got: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| (&r[col("sku")], &r[col("outcome")], &r[col("price")]))
            .collect();
        assert_eq!(
            got,
            [
                ("A1", "accepted", "10.00"),
                ("A2", "rejected", ""),
                ("A3", "adjusted", "10.50"),
                ("B1", "accepted", "7.00"),
            ],
            "chunk size {chunk}"
        );
    }
}

/// `diff` decides groups as `check` does, for both policies: the example's
/// SKU-2 is 15.75 on both sides (ceil(1.05 x 15.00)), H1 held at 9.50.
#[test]
fn diff_decides_groups_for_both_policies() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = TempDir::new().unwrap();
    let output = dir.path().join("diff.csv");
    let policy = root.join("examples/ladder.toml");
    Command::cargo_bin("priceguard")
        .unwrap()
        .args(["diff", "--policy"])
        .arg(&policy)
        .arg("--candidate")
        .arg(&policy)
        .arg("--input")
        .arg(root.join("examples/ladder.csv"))
        .arg("--output")
        .arg(&output)
        .assert()
        .success();
    let mut r = csv::Reader::from_path(&output).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |k: &str| h.iter().position(|x| x == k).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let find = |sku: &str| rows.iter().find(|r| &r[col("sku")] == sku).unwrap();
    for (sku, price, reason) in [("SKU-2", "15.75", "ladder_gap"), ("H1", "9.50", "ladder")] {
        let row = find(sku);
        for side in ["live", "candidate"] {
            assert_eq!(&row[col(&format!("{side}_price"))], price, "{sku} {side}");
            assert_eq!(&row[col(&format!("{side}_reason"))], reason, "{sku} {side}");
        }
    }
}

/// The group fields are known columns; a misspelt one refuses the file
/// and the message lists them with the §3 names.
#[test]
fn group_columns_are_known_and_a_misspelt_one_is_refused() {
    let dir = TempDir::new().unwrap();
    let policy = dir.path().join("p.toml");
    fs::write(&policy, POLICY).unwrap();
    let input = dir.path().join("in.csv");
    fs::write(&input, "sku,proposed_price,grup,rank\nA1,10.00,a,1\n").unwrap();
    let out = Command::cargo_bin("priceguard")
        .unwrap()
        .args(["check", "--policy"])
        .arg(&policy)
        .arg("--input")
        .arg(&input)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("unknown column `grup`")
            && err.contains("competitor_quotes, group, rank, pack_size)"),
        "{err}"
    );
}
