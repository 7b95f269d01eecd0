//! The `priceguard` command's library: readers, writers and subcommands,
//! shared by the binary and the fuzz targets (`cli_rows`).
//!
//! `priceguard`: dry-run, diff and validate pricing policies on real files.
//!
//! See `cli/README.md` for the commands. Exit status: 0 when the run
//! completed (whatever the decisions), 2 with a one-line message when the
//! policy or a file cannot be used.
#![forbid(unsafe_code)]

use std::fmt;
use std::path::PathBuf;

pub mod audit;
pub mod check;
pub mod csvscan;
pub mod describe;
pub mod diff;
pub mod eval;
pub mod explain;
pub mod fast;
pub mod format;
pub mod history;
pub mod output;
pub mod read;
pub mod sample;
pub mod write;

use format::Format;

/// A fatal error: the policy or a file cannot be used.
#[derive(Debug)]
pub struct CliError(String);

impl CliError {
    /// An error with this one-line message.
    pub fn new(message: impl Into<String>) -> CliError {
        CliError(message.into())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Long help of `check`.
pub const CHECK_HELP: &str = "\
Rows are read in chunks (--chunk-size, default 8192; a chunk full inside a group runs on to the
group's last row) and each chunk is evaluated as one batch:
promotion budgets are carried from chunk to chunk, so they are consumed in input order across the
whole file and a campaign never spends more than it holds. The circuit breaker ([breaker]) judges
each chunk on its own: when too many rows of a chunk violate a hard or financial rule, every row of
that chunk is held with reason `circuit_open` (the summary counts such chunks).

Output: one decision per input line (blank lines aside), in input order, with the columns sku,
outcome, price, lower, upper, violated, binding, relaxed, reason, promo_spend, unmet,
needs_approval, line, error, policy, policy_version, policy_hash (the policy's content hash), and
explain with --explain. A row that cannot be read is `rejected` / `invalid_input` with its line and an error naming the
field, and the run goes on: a quote left open at the end of its line (no field may hold a line
break), a line that is not UTF-8 or longer than --max-line-bytes (1 MiB by default), a JSON line
that is not an object. Unknown CSV columns refuse the file. --output and --metrics are written to
a temporary file renamed over the target once the run succeeded: a failed run leaves them as they
were.

Groups (docs/spec.md §10): rows naming a `group` (with a `rank`, and optionally a `pack_size`) are
fitted onto the policy's [ladder] after each is decided alone, or held whole. A group is solved
from all its rows at once, so the rows of a group must be next to each other (sort the file by
group; any order within it); a group that appears again after another row refuses the file (exit
2, no output written). A chunk never ends inside a group. --explain adds an `explain` column
naming, for a row the ladder moved, the neighbour that moved it. The summary counts groups
adjusted, held and refused.

--audit FILE appends one hash-chained JSON record per decision (see docs/audit.md); check it with
`priceguard audit verify FILE`. --metrics FILE writes the decision counters in the Prometheus text
format.

--history FILE (price rows sku, price, at[, reference_price], or an audit log) and --quotes FILE
fill each row's history fields (last_change_at, changes_in_window, window_anchor_price,
competitor_price) at the row's own now, with the periods of the policy (docs/spec.md H11); a row
without now, or one carrying a field the history also gives, is invalid_input naming the field.

Exit status: 0 when the run completed (whatever the decisions), 2 when the policy or a file cannot
be used, an output cannot be written (a closed standard output, a full disk, a broken pipe) or the
audit log is tampered with or cut short.";

/// Arguments of `check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Policy file (TOML, or JSON when it ends in .json)
    #[arg(long)]
    policy: PathBuf,
    /// Proposals: CSV with a header of docs/spec.md §3 field names (and `group`, `rank`,
    /// `pack_size`; a group's rows next to each other), or JSON lines (`-` for standard input)
    #[arg(long)]
    input: PathBuf,
    /// Decisions file; standard output when absent
    #[arg(long)]
    output: Option<PathBuf>,
    /// Format of input and output, overriding the file extensions
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Unix seconds used as `now` for rows that have none
    #[arg(long)]
    now: Option<u64>,
    /// Rows per batch: budgets carry across batches, the breaker judges each one
    #[arg(long, default_value_t = eval::DEFAULT_CHUNK, value_parser = parse_chunk_size)]
    chunk_size: usize,
    /// No summary on standard error
    #[arg(long, short)]
    quiet: bool,
    /// Append one hash-chained JSON record per decision to this audit log
    /// (created when missing; an existing log is verified and continued)
    #[arg(long)]
    audit: Option<PathBuf>,
    /// Write decision counters in the Prometheus text format to this file
    #[arg(long)]
    metrics: Option<PathBuf>,
    /// Longest line read, in bytes (its line break not counted): a longer
    /// line is skipped and becomes an `invalid_input` row
    #[arg(long, default_value_t = csvscan::DEFAULT_MAX_LINE, value_parser = parse_max_line)]
    max_line_bytes: usize,
    /// Price history (sku, price, at[, reference_price]) or an audit log:
    /// each row's history fields are summarized from it at the row's `now`
    #[arg(long)]
    history: Option<PathBuf>,
    /// Competitor quotes (sku, competitor, price, seen_at) for --history
    #[arg(long, requires = "history")]
    quotes: Option<PathBuf>,
    /// Add an `explain` column, the last: each decision in a sentence (a
    /// row the group ladder moved names the neighbour that moved it)
    #[arg(long)]
    explain: bool,
}

/// Arguments of `diff`.
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The live policy
    #[arg(long)]
    policy: PathBuf,
    /// The candidate policy
    #[arg(long)]
    candidate: PathBuf,
    /// Proposals: CSV or JSON lines (`-` for standard input)
    #[arg(long)]
    input: PathBuf,
    /// Both decisions side by side per row (CSV or JSON lines)
    #[arg(long)]
    output: Option<PathBuf>,
    /// Format of input and output, overriding the file extensions
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Unix seconds used as `now` for rows that have none
    #[arg(long)]
    now: Option<u64>,
    /// Rows per batch
    #[arg(long, default_value_t = eval::DEFAULT_CHUNK, value_parser = parse_chunk_size)]
    chunk_size: usize,
    /// Longest line read, in bytes (its line break not counted): a longer
    /// line is skipped and becomes an `invalid_input` row
    #[arg(long, default_value_t = csvscan::DEFAULT_MAX_LINE, value_parser = parse_max_line)]
    max_line_bytes: usize,
}

fn parse_max_line(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=1 << 30).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` is not a whole number from 1 to 1073741824")),
    }
}

fn parse_chunk_size(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=10_000_000).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` is not a whole number from 1 to 10000000")),
    }
}

/// Loads a policy or explains in one line why it cannot be used.
pub fn load_policy(path: &std::path::Path) -> Result<priceguard::Policy, CliError> {
    priceguard::Policy::from_path(path)
        .map_err(|e| CliError::new(format!("policy `{}`: {e}", path.display())))
}

/// `--now` as the engine's signed seconds.
pub fn now_arg(now: Option<u64>) -> Result<Option<i64>, CliError> {
    now.map(|n| {
        i64::try_from(n).map_err(|_| CliError::new(format!("--now: `{n}` is out of range")))
    })
    .transpose()
}
