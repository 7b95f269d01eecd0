//! Policy errors: every one names the field path and the reason.

use alloc::string::String;
use core::fmt;

/// A policy that cannot be used: the field path (`change.max_decrease`,
/// `segments[1].margin.min_margin`, empty for the whole file), the reason,
/// and for files, the line and column where the problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// Dotted field path; empty when the error is about the whole file.
    pub path: String,
    /// Lower-case reason without a trailing period.
    pub message: String,
    /// 1-based line in the source file, when known.
    pub line: Option<usize>,
    /// 1-based column in the source file, when known.
    pub column: Option<usize>,
}

impl PolicyError {
    /// An error about `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> PolicyError {
        PolicyError {
            path: path.into(),
            message: message.into(),
            line: None,
            column: None,
        }
    }

    /// Sets the line and column from a byte offset into `source`.
    #[must_use]
    pub fn at_offset(mut self, source: &str, offset: usize) -> PolicyError {
        let upto = source.get(..offset.min(source.len())).unwrap_or(source);
        let line = upto.matches('\n').count() + 1;
        let col = upto.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        self.line = Some(line);
        self.column = Some(col);
        self
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)?;
        } else {
            write!(f, "{}: {}", self.path, self.message)?;
        }
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, " (line {l}, column {c})")?;
        }
        Ok(())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PolicyError {}
