//! Policy errors: every one names the field path and the reason.

use alloc::string::String;
use core::fmt;

/// What kind of problem a [`PolicyError`] is, for callers that react
/// differently to a missing file and to a typo in one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// The text parsed but a value is wrong, missing or unknown.
    Invalid,
    /// The text is not TOML or JSON of the policy's shape (including a
    /// JSON array where an object is expected).
    Syntax,
    /// The policy file does not exist.
    NotFound,
    /// The path names something that is not a regular file (a directory,
    /// a device such as `/dev/zero`, a pipe).
    NotAFile,
    /// The file is larger than the cap (see [`MAX_POLICY_BYTES`]).
    TooLarge,
    /// The file is not UTF-8.
    Encoding,
    /// Any other failure to read the file (permissions, I/O).
    Io,
}

/// The default cap on a policy file's size: 4 MiB. A real policy is a few
/// kilobytes; the cap keeps a wrong path (`/dev/zero`, a data file) from
/// growing the process before it fails. Callers that need more pass their
/// own cap to [`Policy::from_path_limited`](crate::Policy::from_path_limited).
pub const MAX_POLICY_BYTES: u64 = 4 << 20;

/// A policy that cannot be used: the field path (`change.max_decrease`,
/// `segments[1].margin.min_margin`, empty for the whole file), the reason,
/// and for files, the line and column where the problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyError {
    /// What kind of problem this is.
    pub kind: PolicyErrorKind,
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
    /// An [`PolicyErrorKind::Invalid`] error about `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> PolicyError {
        PolicyError::with_kind(PolicyErrorKind::Invalid, path, message)
    }

    /// An error of `kind` about `path`.
    pub fn with_kind(
        kind: PolicyErrorKind,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> PolicyError {
        PolicyError {
            kind,
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
