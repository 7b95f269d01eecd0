//! `priceguard explain`: one item, its decision as JSON and in a sentence.

use std::path::Path;

use priceguard::{Decision, Reason};

use crate::eval::engine_invalid_message;
use crate::format::Format;
use crate::read::chunk_from_json;
use crate::write::{push_check_row, push_lawful_reference_column, CheckRow};
use crate::{load_policy, now_arg, CliError};

/// Runs `explain`.
pub fn run(policy: &Path, item: &str, now: Option<u64>) -> Result<(), CliError> {
    let policy = load_policy(policy)?;
    let now = now_arg(now)?;
    if let Err(e) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(item) {
        return Err(CliError::new(format!("--item: not a JSON object: {e}")));
    }
    let chunk = chunk_from_json(item);
    let (decision, error, sentence) = match chunk.item(0, &policy, now) {
        Ok(it) => {
            let d = policy.evaluate(&it);
            let error = match (d.reason, d.invalid_field) {
                (Reason::InvalidInput, Some(f)) => Some(engine_invalid_message(
                    &policy,
                    f,
                    chunk.raw_text(0, f),
                    &it,
                )),
                _ => None,
            };
            let sentence = d.explain(&policy, &it);
            (d, error, sentence)
        }
        Err(e) => {
            let d = match e.field {
                Some(f) => Decision::invalid(f),
                None => Decision::rejected(Reason::InvalidInput),
            };
            (
                d,
                Some(e.message.clone()),
                format!("rejected: {}", e.message),
            )
        }
    };
    let mut buf = Vec::new();
    push_check_row(
        &mut buf,
        Format::Jsonl,
        policy.currency().minor_units(),
        &CheckRow {
            sku: chunk.sku(0),
            decision: &decision,
            line: 1,
            error: error.as_deref(),
            policy: &priceguard::audit::PolicyStamp::of(&policy),
        },
    );
    push_lawful_reference_column(
        &mut buf,
        Format::Jsonl,
        policy.currency().minor_units(),
        Some(&decision),
    );
    buf.extend_from_slice(sentence.as_bytes());
    buf.push(b'\n');
    crate::output::write_stdout(&buf)
}
