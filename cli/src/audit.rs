//! `priceguard audit verify`: checks a hash-chained audit log.

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

use priceguard::audit::{self, VerifyError};

use crate::CliError;

/// Verifies `path`; exit 0 when intact, 1 when tampered with, 3 when cut
/// short by an interrupted append. An unreadable log or a bad `--head` is
/// a [`CliError`] (exit 2).
pub fn verify(path: &Path, head: Option<&str>) -> Result<ExitCode, CliError> {
    let name = path.display();
    let anchor = head
        .map(|h| {
            audit::from_hex(h.trim())
                .ok_or_else(|| CliError::new(format!("--head: `{h}` is not 64 hex digits")))
        })
        .transpose()?;
    let file = File::open(path).map_err(|e| CliError::new(format!("cannot read `{name}`: {e}")))?;
    let mut out = io::stdout().lock();
    // The verdict is the exit status; a closed stdout is no reason to fail.
    match audit::verify(BufReader::new(file), anchor) {
        Ok(v) => {
            let anchored = if anchor.is_some() {
                ", matching --head"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "`{name}`: intact, {} records, head {}{anchored}",
                v.records,
                audit::to_hex(&v.head)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(VerifyError::Tampered(t)) => {
            let _ = writeln!(out, "`{name}`: tampered: {t}");
            Ok(ExitCode::from(1))
        }
        Err(VerifyError::CutShort(c)) => {
            let _ = writeln!(
                out,
                "`{name}`: {c}; head of the whole records {}. To continue the log, cut it back to its first {} bytes, its whole records (`truncate -s BYTES FILE`)",
                audit::to_hex(&c.head),
                c.valid_len
            );
            Ok(ExitCode::from(3))
        }
        Err(VerifyError::Io(e)) => Err(CliError::new(format!("cannot read `{name}`: {e}"))),
        // A verdict this build does not know is no proof the log is whole.
        Err(e) => Err(CliError::new(format!("`{name}`: not verified: {e}"))),
    }
}
