//! File formats: CSV or JSON lines, chosen by `--format` or by extension.

use std::path::Path;

use crate::CliError;

/// A proposals or decisions file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// The format a file name's extension implies (`.csv`; `.jsonl`,
    /// `.ndjson`, `.json`), if any.
    pub fn from_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            _ => None,
        }
    }

    /// The input format: `--format` when given, else the extension.
    pub fn for_input(path: &Path, forced: Option<Format>) -> Result<Format, CliError> {
        if let Some(f) = forced {
            return Ok(f);
        }
        Format::from_extension(path).ok_or_else(|| {
            CliError::new(format!(
                "cannot tell the format of `{}` from its name: use --format csv or --format jsonl",
                path.display()
            ))
        })
    }

    /// The output format: `--format` when given, else the output file's
    /// extension, else the input's format.
    pub fn for_output(path: Option<&Path>, forced: Option<Format>, input: Format) -> Format {
        forced
            .or_else(|| path.and_then(Format::from_extension))
            .unwrap_or(input)
    }
}
