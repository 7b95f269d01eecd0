//! The command line's CSV and JSON-lines readers and writers on arbitrary
//! bytes: never a panic, every row becomes an item or a row error, and what
//! the writers emit for a sku parses back to the same sku.
#![no_main]

use std::io::Cursor;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use priceguard::{Decision, Policy, Reason};
use priceguard_cli::format::Format;
use priceguard_cli::read::RowReader;
use priceguard_cli::write::{push_csv_field, push_decision_csv, push_decision_json, push_json_str};

fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        Policy::from_toml_str(include_str!("../../examples/policy.toml")).expect("the example policy loads")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let format = if first & 1 == 0 { Format::Csv } else { Format::Jsonl };
    let Ok(mut reader) = RowReader::from_reader(Box::new(Cursor::new(rest.to_vec())), "fuzz", format) else {
        return;
    };
    let mut chunk = reader.new_chunk();
    for _ in 0..256 {
        match reader.read_row(&mut chunk) {
            Ok(true) => {}
            Ok(false) | Err(_) => break,
        }
    }
    let policy = policy();
    let digits = policy.currency().minor_units();
    let mut out = Vec::new();
    for i in 0..chunk.len() {
        let now = if first & 2 == 0 { None } else { Some(1_800_000_000) };
        let d = match chunk.item(i, policy, now) {
            Ok(item) => policy.evaluate(&item),
            Err(_) => Decision::rejected(Reason::InvalidInput),
        };
        out.clear();
        push_decision_csv(&mut out, &d, digits);
        push_decision_json(&mut out, &d, digits);

        let sku = chunk.sku(i);
        // CSV: a field written for the sku reads back as the same bytes.
        out.clear();
        push_csv_field(&mut out, sku);
        out.push(b'\n');
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(out.as_slice());
        let mut rec = csv::ByteRecord::new();
        if rdr.read_byte_record(&mut rec).unwrap_or(false) && !sku.is_empty() {
            assert_eq!(rec.get(0), Some(sku), "CSV field does not round-trip");
        }
        // JSON: a string written for a UTF-8 sku parses back to it.
        if let Ok(text) = std::str::from_utf8(sku) {
            out.clear();
            push_json_str(&mut out, sku);
            let back: String = serde_json::from_slice(&out).expect("JSON string does not parse");
            assert_eq!(back, text);
        }
    }
});
