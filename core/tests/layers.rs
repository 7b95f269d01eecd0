//! The core's modules import each other in one direction only: policy
//! model and rules at the bottom, then the evaluators, then the compiled
//! policy that holds them, then batches and scheduling, then what sits on
//! top (explanations, the ledger, the audit log, the testkit). This reads
//! every `crate::<module>` path in the non-test code of `core/src` and
//! fails on any path that points up a layer (or across to a module of the
//! same layer that points back: an import cycle).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom first. A module may use modules of its own layer or below.
const LAYERS: &[&[&str]] = &[
    &["currency_table", "item", "cpu", "money"],
    &["rules", "compiled", "decision", "metrics", "tail"],
    &["columns", "engine", "lanes", "kernel"],
    &["policy"],
    &["budgets", "schedule", "group", "batch"],
    &["explain", "ledger", "audit", "binding", "testkit"],
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file belongs to (`rules/margin.rs` is `rules`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.trim_end_matches(".rs").to_owned()
}

/// `crate::x` references in code (not comments), up to the test module.
fn uses(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("mod tests") || t.starts_with("pub(crate) mod tests") {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        let code = t.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
            rest = after;
        }
    }
    out
}

#[test]
fn modules_import_down_the_layers_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layer_of: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.iter().map(move |m| (*m, i)))
        .collect();
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for f in &files {
        let m = module_of(&src, f);
        if m == "lib" {
            continue; // the crate root re-exports from every layer
        }
        let Some(&from) = layer_of.get(m.as_str()) else {
            problems.push(format!(
                "module `{m}` ({}) has no layer in LAYERS",
                f.display()
            ));
            continue;
        };
        for used in uses(&std::fs::read_to_string(f).unwrap()) {
            if used == m {
                continue;
            }
            // Names re-exported at the root (`crate::Policy`) are not modules.
            let Some(&to) = layer_of.get(used.as_str()) else {
                if used.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                    problems.push(format!(
                        "{}: `crate::{used}` is no module in LAYERS",
                        f.display()
                    ));
                }
                continue;
            };
            if to > from {
                problems.push(format!(
                    "{}: `{m}` (layer {from}) uses `{used}` (layer {to})",
                    f.display()
                ));
            }
            edges.entry(m.clone()).or_default().insert(used);
        }
    }
    // Within a layer: no cycle.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        cycles: &mut Vec<String>,
    ) {
        if done.contains(n) {
            return;
        }
        if let Some(i) = stack.iter().position(|s| s == n) {
            cycles.push(format!("{} -> {n}", stack[i..].join(" -> ")));
            return;
        }
        stack.push(n.to_owned());
        for m in edges.get(n).into_iter().flatten() {
            visit(m, edges, stack, done, cycles);
        }
        stack.pop();
        done.insert(n.to_owned());
    }
    let mut cycles = Vec::new();
    let mut done = BTreeSet::new();
    for n in edges.keys() {
        visit(n, &edges, &mut Vec::new(), &mut done, &mut cycles);
    }
    problems.extend(cycles.into_iter().map(|c| format!("import cycle: {c}")));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        edges.len() >= 10,
        "only {} modules import others: is the scan reading the sources?",
        edges.len()
    );
}
