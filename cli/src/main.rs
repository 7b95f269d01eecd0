//! `priceguard`: dry-run, diff and validate pricing policies on real files.
//!
//! See `cli/README.md` for the commands. Exit status: 0 when the run
//! completed (whatever the decisions), 2 with a one-line message when the
//! policy or a file cannot be used.

use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod audit;
mod check;
mod describe;
mod diff;
mod eval;
mod explain;
mod format;
mod read;
mod sample;
mod write;

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

const CHECK_HELP: &str = "\
Rows are read in chunks (--chunk-size, default 8192) and each chunk is evaluated as one batch:
promotion budgets are carried from chunk to chunk, so they are consumed in input order across the
whole file and a campaign never spends more than it holds. The circuit breaker ([breaker]) judges
each chunk on its own: when too many rows of a chunk violate a hard or financial rule, every row of
that chunk is held with reason `circuit_open` (the summary counts such chunks).

Output: one decision per input row, in input order, with the columns sku, outcome, price, lower,
upper, violated, binding, relaxed, reason, promo_spend, unmet, needs_approval, line, error, policy,
policy_version, policy_hash (the policy's content hash). A row that cannot be read is `rejected` /
`invalid_input` with its line and an error naming the field; the run goes on. Unknown CSV columns
refuse the file.

--audit FILE appends one hash-chained JSON record per decision (see docs/audit.md); check it with
`priceguard audit verify FILE`. --metrics FILE writes the decision counters in the Prometheus text
format.

Exit status: 0 when the run completed (whatever the decisions), 2 when the policy or a file cannot
be used.";

#[derive(Parser, Debug)]
#[command(
    name = "priceguard",
    version,
    about = "Hard, explainable guardrails between a pricing engine and the storefront",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decide every proposal of a CSV or JSON lines file under a policy
    #[command(after_long_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Shadow mode: compare a candidate policy with the live one on the same proposals
    Diff(DiffArgs),
    /// Check a policy file and say in plain words what it enforces
    Validate {
        /// Policy file (TOML, or JSON when it ends in .json)
        file: PathBuf,
    },
    /// Decide one item given as JSON and explain the decision in a sentence
    Explain {
        /// Policy file (TOML, or JSON when it ends in .json)
        #[arg(long)]
        policy: PathBuf,
        /// The item as a JSON object of SPEC field names, e.g.
        /// '{"sku":"A1","proposed_price":"12.49","unit_cost":"12.22"}'
        #[arg(long)]
        item: String,
        /// Unix seconds to use as `now` when the item has none
        #[arg(long)]
        now: Option<u64>,
    },
    /// Audit logs written by `check --audit`
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a realistic, deterministic proposals file matching examples/policy.toml
    Sample {
        /// Number of rows
        #[arg(long, default_value_t = 10_000)]
        rows: u64,
        /// Random seed: the same seed gives the same file
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file (CSV, or JSON lines for .jsonl); standard output when absent
        #[arg(long)]
        output: Option<PathBuf>,
        /// Output format, overriding the output file's extension
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
}

const VERIFY_HELP: &str = "\
Checks every record's own hash, its number and its link to the previous line, and names the first
line that does not check out (edited, removed, inserted, reordered or forged). A chain alone cannot
tell a log cut at the end or extended by someone who rewrote the chain: give --head, the head hash
printed when the log was written (kept somewhere the log's writer cannot change), to catch those.

Exit status: 0 when the log is intact, 1 when it was tampered with, 2 when it cannot be read.";

/// `audit` subcommands.
#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Verify a hash-chained audit log and name the first tampered line
    #[command(after_long_help = VERIFY_HELP)]
    Verify {
        /// The audit log
        file: PathBuf,
        /// The head hash recorded when the log was written (64 hex digits)
        #[arg(long)]
        head: Option<String>,
    },
}

/// Arguments of `check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Policy file (TOML, or JSON when it ends in .json)
    #[arg(long)]
    policy: PathBuf,
    /// Proposals: CSV with a header of SPEC field names, or JSON lines (`-` for standard input)
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

fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let done = match cli.command {
        Command::Audit(AuditCommand::Verify { file, head }) => {
            return audit::verify(&file, head.as_deref())
        }
        Command::Check(args) => check::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Validate { file } => describe::run(&file),
        Command::Explain { policy, item, now } => explain::run(&policy, &item, now),
        Command::Sample {
            rows,
            seed,
            output,
            format,
        } => sample::run(rows, seed, output.as_deref(), format),
    };
    done.map(|()| ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("priceguard: {e}");
            ExitCode::from(2)
        }
    }
}
