//! Policy content hashes, hash-chained audit logs (every kind of tampering
//! is found and the line named) and approval flags.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use priceguard::audit::{self, AuditChain, PolicyStamp, VerifyError, GENESIS};
use priceguard::{Item, Outcome, Policy};
use serde_json::Value;

fn example_toml() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.toml");
    std::fs::read_to_string(p).unwrap()
}

/// JSON text of a value with every object's keys in reverse order and
/// extra whitespace: the same policy, written differently.
fn reversed_json(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            keys.reverse();
            let members: Vec<String> = keys
                .iter()
                .map(|k| format!("\n  {:?} :  {}", k, reversed_json(&m[*k])))
                .collect();
            format!("{{{}\n}}", members.join(","))
        }
        Value::Array(a) => format!(
            "[ {} ]",
            a.iter().map(reversed_json).collect::<Vec<_>>().join(" , ")
        ),
        other => other.to_string(),
    }
}

fn example_json_value() -> Value {
    let t: toml::Value = toml::from_str(&example_toml()).unwrap();
    serde_json::to_value(t).unwrap()
}

#[test]
fn the_hash_is_the_same_for_toml_and_reordered_json() {
    let from_toml = Policy::from_toml_str(&example_toml()).unwrap();
    let json = reversed_json(&example_json_value());
    let from_json = Policy::from_json_str(&json).unwrap();
    assert_eq!(from_toml.content_hash(), from_json.content_hash());
    assert_eq!(from_toml.content_hash_hex().len(), 64);
    assert_eq!(
        from_toml.content_hash_hex(),
        audit::to_hex(&from_toml.content_hash())
    );
}

#[test]
fn number_spelling_does_not_change_the_hash() {
    let a = Policy::from_toml_str(
        "name = \"p\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"100\"\n[margin]\nmin_margin = \"0.15\"\n",
    )
    .unwrap();
    let b = Policy::from_toml_str(
        "currency = \"USD\"\nname = \"p\"\n[margin]\nmin_margin = \"0.150\"\n[bounds]\nmax_price = \"100.00\"\nmin_price = \"1.0\"\n",
    )
    .unwrap();
    assert_eq!(a.content_hash(), b.content_hash());
}

/// Sets `path` (dotted; numbers index arrays) in a JSON policy.
fn with_change(base: &Value, path: &str, value: Value) -> Value {
    let mut v = base.clone();
    let mut cur = &mut v;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        cur = match cur {
            Value::Array(a) => &mut a[part.parse::<usize>().unwrap()],
            Value::Object(m) => {
                if last {
                    m.insert((*part).to_owned(), value);
                    return v;
                }
                m.entry((*part).to_owned())
                    .or_insert_with(|| Value::Object(serde_json::Map::new()))
            }
            _ => panic!("bad path {path}"),
        };
    }
    v
}

#[test]
fn any_rule_change_changes_the_hash() {
    let base = example_json_value();
    let h0 = Policy::from_json_str(&base.to_string())
        .unwrap()
        .content_hash();
    let changes: &[(&str, Value)] = &[
        ("name", "retail-next".into()),
        ("version", "2026-11-28".into()),
        ("currency", "EUR".into()),
        ("freeze", true.into()),
        ("allow_unbounded", true.into()),
        (
            "priority",
            serde_json::json!(["hard", "financial", "market", "stability"]),
        ),
        ("bounds.min_price", "1.00".into()),
        ("bounds.max_price", "4999.99".into()),
        ("margin.min_margin", "0.19".into()),
        ("margin.min_unit_margin", "0.51".into()),
        ("margin.min_markup", "0.1".into()),
        ("margin.max_markup", "3".into()),
        ("change.max_increase", "0.11".into()),
        ("change.max_decrease", "0.21".into()),
        ("change.max_step", "151".into()),
        ("change.cooldown_secs", 3601.into()),
        ("change.window_secs", 604_801.into()),
        ("change.max_changes", 7.into()),
        ("change.window_increase", "0.26".into()),
        ("change.window_decrease", "0.36".into()),
        ("change.min_change", "0.006".into()),
        ("promotion.max_discount", "0.51".into()),
        ("promotion.budgets.clearance", "1500001".into()),
        ("promotion.budgets.summer", "1".into()),
        ("market.min_index", "0.86".into()),
        ("market.max_index", "1.31".into()),
        ("emergency.cap", "0.10".into()),
        ("endings.allowed", serde_json::json!(["0.99"])),
        ("breaker.max_violation_ratio", "0.26".into()),
        ("breaker.min_batch", 501.into()),
        ("approval.max_auto_change", "0.16".into()),
        ("segments.0.id", 4.into()),
        ("segments.1.margin.min_margin", "0.23".into()),
        ("segments.2.change.cooldown_secs", 86_401.into()),
    ];
    let mut seen = std::collections::HashSet::new();
    seen.insert(h0);
    for (path, value) in changes {
        let changed = with_change(&base, path, value.clone());
        let policy =
            Policy::from_json_str(&changed.to_string()).unwrap_or_else(|e| panic!("{path}: {e}"));
        let h = policy.content_hash();
        assert_ne!(h, h0, "changing `{path}` left the hash unchanged");
        assert!(
            seen.insert(h),
            "changing `{path}` gave another change's hash"
        );
    }
}

const POLICY: &str = r#"
name = "audit-demo"
version = "7"
currency = "USD"
[bounds]
min_price = "1"
max_price = "1000"
[margin]
min_margin = "0.15"
[approval]
max_auto_change = "0.15"
"#;

fn log_of(n: usize) -> (Policy, String, AuditChain) {
    let policy = Policy::from_toml_str(POLICY).unwrap();
    let stamp = PolicyStamp::of(&policy);
    let mut chain = AuditChain::new();
    let mut log = String::new();
    for i in 0..n {
        let item = Item::new(1000 + i as i64 * 37)
            .with_current_price(1100)
            .with_unit_cost(900);
        let d = policy.evaluate(&item);
        let sku = format!("SKU-{i}");
        chain.push_record(
            &policy,
            &stamp,
            Some(&sku),
            Some(&item),
            &d,
            1_795_000_000_000 + i as i64,
            &mut log,
        );
    }
    (policy, log, chain)
}

fn lines(log: &str) -> Vec<String> {
    log.lines().map(str::to_owned).collect()
}

fn join(lines: &[String]) -> String {
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// The line named and the problem, or a panic when the log verifies.
fn tamper_report(log: &str, anchor: Option<[u8; 32]>) -> (u64, String) {
    match audit::verify(log.as_bytes(), anchor) {
        Ok(v) => panic!("a tampered log verified: {v:?}"),
        Err(VerifyError::Tampered(t)) => (t.line, t.problem),
        Err(e) => panic!("unexpected error {e}"),
    }
}

#[test]
fn an_intact_log_verifies_and_records_what_decided() {
    let (policy, log, chain) = log_of(5);
    let v = audit::verify(log.as_bytes(), Some(chain.head())).unwrap();
    assert_eq!(v.records, 5);
    assert_eq!(v.head, chain.head());
    let first: Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(first["seq"], 1);
    assert_eq!(first["prev"], audit::to_hex(&GENESIS));
    assert_eq!(first["policy"]["name"], "audit-demo");
    assert_eq!(first["policy"]["version"], "7");
    assert_eq!(first["policy"]["hash"], policy.content_hash_hex());
    assert_eq!(first["evaluated_at"], "2026-11-18T11:06:40.000Z");
    assert_eq!(first["item"]["sku"], "SKU-0");
    assert_eq!(first["item"]["proposed_price"], "10.00");
    assert_eq!(first["item"]["unit_cost"], "9.00");
    assert_eq!(first["decision"]["outcome"], "adjusted");
    assert_eq!(first["decision"]["price"], "10.59");
    assert_eq!(first["decision"]["binding"], serde_json::json!(["margin"]));
    // Each record chains to the SHA-256 of the previous line.
    let ls = lines(&log);
    for pair in ls.windows(2) {
        let next: Value = serde_json::from_str(&pair[1]).unwrap();
        assert_eq!(
            next["prev"],
            audit::to_hex(&audit::sha256(pair[0].as_bytes()))
        );
    }
    assert_eq!(
        audit::verify(&b""[..], None).unwrap().records,
        0,
        "an empty log is intact"
    );
}

#[test]
fn changing_any_byte_names_that_line() {
    let (_, log, _) = log_of(4);
    let ls = lines(&log);
    for target in 0..ls.len() {
        // Every byte position of one line, a sample of the others.
        for pos in (0..ls[target].len()).step_by(if target == 2 { 1 } else { 13 }) {
            let mut t = ls.clone();
            let mut bytes = t[target].clone().into_bytes();
            bytes[pos] = if bytes[pos] == b'7' { b'8' } else { b'7' };
            t[target] = String::from_utf8(bytes).unwrap();
            let (line, problem) = tamper_report(&join(&t), None);
            assert_eq!(line, target as u64 + 1, "byte {pos}: {problem}");
        }
    }
}

#[test]
fn an_edit_with_a_recomputed_hash_is_caught_at_the_next_line() {
    let (_, log, _) = log_of(3);
    let mut ls = lines(&log);
    // Forge line 2: change the price and recompute its own hash.
    let edited = ls[1].replacen("\"price\":\"10.59\"", "\"price\":\"9.99\"", 1);
    let body = &edited[..edited.len() - 75];
    ls[1] = format!(
        "{body},\"hash\":\"{}\"}}",
        audit::to_hex(&audit::sha256(body.as_bytes()))
    );
    assert_ne!(ls[1], lines(&log)[1]);
    let (line, problem) = tamper_report(&join(&ls), None);
    assert_eq!(line, 3);
    assert!(problem.contains("line 2 was rewritten"), "{problem}");
}

#[test]
fn a_dropped_line_is_named() {
    let (_, log, _) = log_of(5);
    for drop in 0..4 {
        let mut ls = lines(&log);
        ls.remove(drop);
        let (line, problem) = tamper_report(&join(&ls), None);
        assert_eq!(line, drop as u64 + 1);
        assert!(problem.contains("removed"), "{problem}");
    }
}

#[test]
fn swapped_lines_are_named() {
    let (_, log, _) = log_of(5);
    for first in 0..4 {
        let mut ls = lines(&log);
        ls.swap(first, first + 1);
        let (line, problem) = tamper_report(&join(&ls), None);
        assert_eq!(line, first as u64 + 1);
        assert!(problem.contains("reordered"), "{problem}");
    }
}

#[test]
fn forged_appended_lines_are_named() {
    let (policy, log, chain) = log_of(3);
    // A copy of an earlier line.
    let mut ls = lines(&log);
    ls.push(ls[0].clone());
    let (line, _) = tamper_report(&join(&ls), None);
    assert_eq!(line, 4);
    // A hand-written record with the next number but a made-up chain.
    let mut ls = lines(&log);
    ls.push(ls[2].replacen("\"seq\":3", "\"seq\":4", 1));
    let (line, _) = tamper_report(&join(&ls), None);
    assert_eq!(line, 4);
    // A blank line, and garbage.
    let (line, _) = tamper_report(&format!("{log}\n"), None);
    assert_eq!(line, 4);
    let (line, _) = tamper_report(&format!("{log}{{\"seq\":4}}\n"), None);
    assert_eq!(line, 4);
    // A correctly chained forgery is only caught against the anchored head.
    let mut forged_chain = chain;
    let mut forged = log.clone();
    let item = Item::new(500);
    forged_chain.push_record(
        &policy,
        &PolicyStamp::of(&policy),
        Some("FORGED"),
        Some(&item),
        &policy.evaluate(&item),
        0,
        &mut forged,
    );
    assert!(audit::verify(forged.as_bytes(), None).is_ok());
    let (line, problem) = tamper_report(&forged, Some(chain.head()));
    assert_eq!(line, 4);
    assert!(problem.contains("appended"), "{problem}");
    // And a cut log too.
    let cut = join(&lines(&log)[..2]);
    let (line, problem) = tamper_report(&cut, Some(chain.head()));
    assert_eq!(line, 2);
    assert!(problem.contains("cut"), "{problem}");
    // A cut in the middle of a line is an interrupted append, not
    // tampering: see `a_log_cut_mid_record_is_cut_short`.
    assert!(matches!(
        audit::verify(&log.as_bytes()[..log.len() - 10], None),
        Err(VerifyError::CutShort(_))
    ));
}

/// What a crash in the middle of an append leaves: the whole records check
/// out and the last line is the start of the next one. Reported as cut
/// short (with the length to truncate to), never as intact nor tampered.
#[test]
fn a_log_cut_mid_record_is_cut_short() {
    let (_, log, chain) = log_of(3);
    let ls = lines(&log);
    let whole = join(&ls[..2]);
    let third = &ls[2];
    // Anywhere in the third record, its line break included.
    for cut in [1, 7, 20, 90, third.len() - 1, third.len()] {
        let text = format!("{whole}{}", &third[..cut]);
        match audit::verify(text.as_bytes(), None) {
            Err(VerifyError::CutShort(c)) => {
                assert_eq!(c.records, 2, "cut at {cut}");
                assert_eq!(c.valid_len, whole.len() as u64);
                assert_eq!(c.partial_len, cut as u64);
                assert_eq!(c.head, audit::sha256(ls[1].as_bytes()));
                let msg = c.to_string();
                assert!(
                    msg.contains("cut short after its last whole record"),
                    "{msg}"
                );
                assert!(msg.contains("line 3"), "{msg}");
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    // A first record cut short: no whole record.
    match audit::verify(&ls[0].as_bytes()[..30], None) {
        Err(VerifyError::CutShort(c)) => assert_eq!((c.records, c.valid_len), (0, 0)),
        other => panic!("{other:?}"),
    }
    // Anchored at the last whole record: still cut short.
    let anchored = audit::sha256(ls[1].as_bytes());
    let text = format!("{whole}{}", &third[..40]);
    assert!(matches!(
        audit::verify(text.as_bytes(), Some(anchored)),
        Err(VerifyError::CutShort(_))
    ));
    // Anchored at the cut record: the whole records fall short of the head.
    let (line, problem) = tamper_report(&text, Some(chain.head()));
    assert_eq!(line, 2);
    assert!(problem.contains("cut"), "{problem}");
    // A last line without a line break that is not the next record's start
    // is tampering: another `seq`, another `prev`, or anything else.
    for tail in [
        third.replacen("\"seq\":3", "\"seq\":4", 1),
        third.replacen("\"prev\":\"", "\"prev\":\"0", 1),
        String::from("garbage"),
        String::from(" "),
    ] {
        let (line, problem) = tamper_report(&format!("{whole}{tail}"), None);
        assert_eq!(line, 3, "{tail}");
        assert!(problem.contains("not the start of record 3"), "{problem}");
    }
    // Cutting the third line back to its own line break is intact.
    assert_eq!(audit::verify(whole.as_bytes(), None).unwrap().records, 2);
}

#[test]
fn a_resumed_chain_continues_the_log() {
    let (policy, log, chain) = log_of(2);
    let v = audit::verify(log.as_bytes(), None).unwrap();
    let mut resumed = AuditChain::resume(v.records, v.head);
    assert_eq!(resumed, chain);
    let mut more = log.clone();
    let item = Item::new(2000);
    resumed.push_record(
        &policy,
        &PolicyStamp::of(&policy),
        None,
        None,
        &policy.evaluate(&item),
        0,
        &mut more,
    );
    assert_eq!(audit::verify(more.as_bytes(), None).unwrap().records, 3);
    let last: Value = serde_json::from_str(more.lines().last().unwrap()).unwrap();
    assert_eq!(last["item"], serde_json::json!({}));
}

#[test]
fn decision_records_name_the_policy_item_and_approval() {
    let policy = Policy::from_toml_str(POLICY).unwrap();
    let stamp = PolicyStamp::of(&policy);
    // A 20 % rise from 10.00: over max_auto_change 15 %.
    let item = Item::new(1200).with_current_price(1000).with_unit_cost(500);
    let d = policy.evaluate(&item);
    assert_eq!(d.outcome, Outcome::Accepted);
    assert!(d.needs_approval);
    let mut s = String::new();
    audit::push_decision_record(&mut s, &policy, &stamp, Some("A\"1"), &item, &d);
    let v: Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["item"]["sku"], "A\"1");
    assert_eq!(v["item"]["current_price"], "10.00");
    assert_eq!(v["decision"]["needs_approval"], true);
    assert_eq!(v["decision"]["outcome"], "accepted");
    assert_eq!(v["policy"]["hash"], policy.content_hash_hex());
}

#[test]
fn approval_flags_follow_the_threshold() {
    let policy = Policy::from_toml_str(POLICY).unwrap();
    let cases = [
        // (proposed, current, flagged)
        (1150, 1000, false), // exactly 15 %: not more than the threshold
        (1151, 1000, true),  // just over
        (850, 1000, false),  // exactly -15 %
        (849, 1000, true),   // just under
        (1000, 1000, false), // no move
    ];
    for (proposed, current, flagged) in cases {
        let d = policy.evaluate(
            &Item::new(proposed)
                .with_current_price(current)
                .with_unit_cost(100),
        );
        assert!(d.is_change(), "{proposed}: {d:?}");
        assert_eq!(d.needs_approval, flagged, "{proposed} from {current}");
    }
    // New listings are never flagged (no current price to compare).
    let d = policy.evaluate(&Item::new(90_000).with_unit_cost(100));
    assert!(!d.needs_approval);
    // No [approval]: never flagged.
    let plain =
        Policy::from_toml_str(&POLICY.replace("[approval]\nmax_auto_change = \"0.15\"\n", ""))
            .unwrap();
    let d = plain.evaluate(&Item::new(5000).with_current_price(1000).with_unit_cost(100));
    assert!(!d.needs_approval);
    assert_ne!(plain.content_hash(), policy.content_hash());
}
