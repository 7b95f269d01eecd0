//! `priceguard`: dry-run, diff and validate pricing policies on real files.
//!
//! See `cli/README.md` for the commands. Exit status: 0 when the run
//! completed (whatever the decisions), 2 with a one-line message when the
//! policy or a file cannot be used.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use priceguard_cli::format::Format;
use priceguard_cli::{audit, check, describe, diff, explain, history, sample};
use priceguard_cli::{CheckArgs, CliError, DiffArgs, CHECK_HELP};

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
        /// The item as a JSON object of docs/spec.md §3 field names, e.g.
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
    /// Price histories: the summaries the history-aware rules read
    #[command(subcommand)]
    History(HistoryCommand),
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
        /// Workload: `clean`, or `real` (proposals with 4 decimals, as a
        /// model's float output, and about 3 % of rows whose cost rose past
        /// max_increase, so the stability rules relax)
        #[arg(long, value_enum, default_value_t = sample::Mix::Clean)]
        mix: sample::Mix,
    },
}

const VERIFY_HELP: &str = "\
Checks every record's own hash, its number and its link to the previous line, and names the first
line that does not check out (edited, removed, inserted, reordered or forged). A chain alone cannot
tell a log cut at the end or extended by someone who rewrote the chain: give --head, the head hash
printed when the log was written (kept somewhere the log's writer cannot change), to catch those.

A last line without a line break that is the start of the next record is what a crash or a full
disk in the middle of an append leaves: the log is reported as cut short after its last whole
record (exit 3), with the length to truncate it to; `check --audit` refuses to continue such a log
until it is cut back. Any other unterminated last line is tampering.

Exit status: 0 when the log is intact, 1 when it was tampered with, 2 when it cannot be read, 3
when it was cut short after its last whole record.";

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

/// `history` subcommands.
#[derive(Subcommand, Debug)]
enum HistoryCommand {
    /// Summarize price rows (or an audit log) and competitor quotes per SKU
    #[command(after_long_help = history::SUMMARIZE_HELP)]
    Summarize(history::SummarizeArgs),
}

fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let done = match cli.command {
        Command::Audit(AuditCommand::Verify { file, head }) => {
            return audit::verify(&file, head.as_deref())
        }
        Command::History(HistoryCommand::Summarize(args)) => history::summarize(&args),
        Command::Check(args) => check::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Validate { file } => describe::run(&file),
        Command::Explain { policy, item, now } => explain::run(&policy, &item, now),
        Command::Sample {
            rows,
            seed,
            output,
            format,
            mix,
        } => sample::run(rows, seed, output.as_deref(), format, mix),
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
