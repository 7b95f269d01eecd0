//! The command line's doors fail closed: one test per way a file or an
//! output can go wrong (issue 20). Each names what used to happen.
//!
//! What counts as a data line (the promise these tests hold the command
//! to): every physical line after the CSV header (every line, in JSON
//! lines) is exactly one decision, except a blank line, one holding
//! nothing but ASCII whitespace (space, tab, `\r`, form feed), which is
//! none. A last line without a final `\n` is a line like any other. A line
//! longer than `--max-line-bytes` is always one decision (`invalid_input`),
//! even when it is blank.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use proptest::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

const EXE: &str = env!("CARGO_BIN_EXE_priceguard");

const POLICY: &str = r#"
name = "faults"
version = "1"
currency = "USD"

[bounds]
min_price = "0.99"
max_price = "5000"

[margin]
min_margin = "0.15"
"#;

fn example_policy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.toml")
}

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    fs::write(&p, bytes).unwrap();
    p
}

fn policy(dir: &TempDir) -> PathBuf {
    write(dir, "p.toml", POLICY.as_bytes())
}

fn run(args: &[&str]) -> Output {
    Command::new(EXE).args(args).output().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `check` of `input` into `out` (whose extension sets the output format),
/// quiet, with `extra` arguments.
fn check(policy: &Path, input: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "check",
        "-q",
        "--policy",
        s(policy),
        "--input",
        s(input),
        "--output",
        s(out),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// The decisions of a JSON lines output.
fn decisions(out: &Path) -> Vec<Value> {
    fs::read_to_string(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The lines of `data` that are one decision each, by 1-based line number
/// (see the module docs): `first` is the number of the first line.
fn data_lines(data: &[u8], first: u64, max_line: usize) -> Vec<u64> {
    let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    // The piece after a final `\n` is no line.
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.len() > max_line || !l.iter().all(u8::is_ascii_whitespace))
        .map(|(k, _)| first + k as u64)
        .collect()
}

/// `priceguard sample --rows 50000 --seed 7`, then `sed -i
/// '11s/,/,"/'`: the quote used to run 13k lines to the next one (36,763
/// decisions for 50,000 rows, exit 0). Now every line is one decision and
/// line 11 is rejected naming its field.
#[test]
fn a_stray_quote_loses_no_row() {
    let dir = TempDir::new().unwrap();
    let sample = dir.path().join("s.csv");
    let o = run(&[
        "sample",
        "--rows",
        "50000",
        "--seed",
        "7",
        "--output",
        s(&sample),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read(&sample).unwrap();
    let mut lines: Vec<Vec<u8>> = text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    let comma = lines[10].iter().position(|&b| b == b',').unwrap();
    lines[10].insert(comma + 1, b'"');
    fs::write(&sample, lines.join(&b'\n')).unwrap();

    let out = dir.path().join("o.jsonl");
    let o = Command::new(EXE)
        .args(["check", "--policy"])
        .arg(example_policy())
        .args(["--input", s(&sample), "--output", s(&out)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let d = decisions(&out);
    assert_eq!(d.len(), 50_000);
    // The summary counts the data lines too.
    assert!(
        stderr(&o).contains("priceguard check: 50000 rows"),
        "{}",
        stderr(&o)
    );
    let bad = d.iter().find(|r| r["line"] == 11).unwrap();
    assert_eq!(bad["sku"], "SKU-0000010");
    assert_eq!(bad["reason"], "invalid_input");
    let error = bad["error"].as_str().unwrap();
    assert!(
        error.starts_with("proposed_price: has a quote that is not closed"),
        "{error}"
    );
    // Every line is there, in order; the next line is decided as usual.
    for (k, r) in d.iter().enumerate() {
        assert_eq!(r["line"], k as u64 + 2);
    }
    let next = d[10]["error"].as_str().unwrap_or("");
    assert!(!next.contains("quote"), "{next}");
}

/// One byte that is not UTF-8 in a JSON line used to stop the run (exit 2,
/// the first 16,384 decisions left in the output). It is that row's
/// `invalid_input`, as in CSV.
#[test]
fn a_json_line_that_is_not_utf8_is_one_rejected_row() {
    let dir = TempDir::new().unwrap();
    let p = policy(&dir);
    let mut data = Vec::new();
    for i in 0..20_000 {
        writeln!(
            data,
            "{{\"sku\":\"A{i}\",\"proposed_price\":\"12.49\",\"unit_cost\":\"10.00\"}}"
        )
        .unwrap();
    }
    data.extend_from_slice(b"{\"sku\":\"BAD\",\"proposed_price\":\"12.\xff49\"}\n");
    data.extend_from_slice(
        b"{\"sku\":\"LAST\",\"proposed_price\":\"12.49\",\"unit_cost\":\"10.00\"}\n",
    );
    let input = write(&dir, "in.jsonl", &data);
    let out = dir.path().join("out.jsonl");
    let o = check(&p, &input, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = decisions(&out);
    assert_eq!(d.len(), 20_002);
    let bad = &d[20_000];
    assert_eq!(bad["line"], 20_001);
    assert_eq!(bad["reason"], "invalid_input");
    assert_eq!(bad["sku"], "BAD");
    let error = bad["error"].as_str().unwrap();
    assert!(error.contains("not valid UTF-8"), "{error}");
    assert_eq!(d[20_001]["sku"], "LAST");
    assert_eq!(d[20_001]["outcome"], "accepted");
}

/// In CSV, a byte that is not UTF-8 rejects its row naming the field,
/// whichever field it is in (the sku used to pass through).
#[test]
fn a_csv_field_that_is_not_utf8_rejects_its_row_naming_the_field() {
    let dir = TempDir::new().unwrap();
    let p = policy(&dir);
    let data = b"sku,proposed_price,unit_cost\nA1,12.49,10.00\nB\xff2,12.49,10.00\nC3,12.49,1\xc30\nD4,12.49,10.00\n";
    let input = write(&dir, "in.csv", data);
    let out = dir.path().join("out.jsonl");
    let o = check(&p, &input, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = decisions(&out);
    assert_eq!(d.len(), 4);
    assert_eq!(d[0]["outcome"], "accepted");
    assert_eq!(d[1]["reason"], "invalid_input");
    assert_eq!(d[1]["error"], "sku: is not valid UTF-8");
    assert_eq!(d[2]["reason"], "invalid_input");
    assert_eq!(d[2]["error"], "unit_cost: is not valid UTF-8");
    assert_eq!(d[3]["outcome"], "accepted");
}

/// `["A","12.00",null,"5"]` used to be read positionally as sku,
/// proposed_price, current_price and unit_cost, and accepted. Only an
/// object is a row; any other JSON value is that row's `invalid_input`.
#[test]
fn a_json_line_that_is_not_an_object_is_rejected() {
    let dir = TempDir::new().unwrap();
    let p = policy(&dir);
    let data = b"[\"A\",\"12.00\",null,\"5\"]\n\"A\"\n12\nnull\ntrue\n  [1]\n{\"sku\":\"OK\",\"proposed_price\":\"12.00\",\"unit_cost\":\"5\"}\n";
    let input = write(&dir, "in.jsonl", data);
    let out = dir.path().join("out.jsonl");
    let o = check(&p, &input, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = decisions(&out);
    assert_eq!(d.len(), 7);
    let kinds = [
        "an array",
        "a string",
        "a number",
        "null",
        "a boolean",
        "an array",
    ];
    for (r, kind) in d.iter().zip(kinds) {
        assert_eq!(r["outcome"], "rejected", "{r}");
        assert_eq!(r["reason"], "invalid_input", "{r}");
        assert_eq!(r["sku"], "", "{r}");
        let error = r["error"].as_str().unwrap();
        assert!(error.starts_with("not a JSON object"), "{error}");
        assert!(error.contains(kind), "{error}");
    }
    assert_eq!(d[6]["sku"], "OK");
    assert_eq!(d[6]["outcome"], "accepted");
}

/// A line longer than `--max-line-bytes` is one `invalid_input` row,
/// skipped to its line break; the lines around it are read as usual, in
/// CSV and in JSON lines.
#[test]
fn a_line_over_the_cap_is_one_rejected_row() {
    let dir = TempDir::new().unwrap();
    let p = policy(&dir);
    let long = "9".repeat(500);
    let csv = format!("sku,proposed_price,unit_cost\nA,12.49,10.00\nB,{long},10.00\nC,12.49,10.00");
    let json = format!(
        "{{\"sku\":\"A\",\"proposed_price\":\"12.49\",\"unit_cost\":\"10\"}}\n{{\"sku\":\"B\",\"proposed_price\":\"{long}\"}}\n{{\"sku\":\"C\",\"proposed_price\":\"12.49\",\"unit_cost\":\"10\"}}\n"
    );
    for (name, data, long_line) in [("in.csv", csv, 3), ("in.jsonl", json, 2)] {
        let input = write(&dir, name, data.as_bytes());
        let out = dir.path().join("out.jsonl");
        let o = check(&p, &input, &out, &["--max-line-bytes", "100"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let d = decisions(&out);
        assert_eq!(d.len(), 3, "{name}");
        let bad = &d[1];
        assert_eq!(bad["line"], long_line, "{name}");
        assert_eq!(bad["reason"], "invalid_input", "{name}");
        assert_eq!(
            bad["error"],
            "the line is longer than the cap of 100 bytes (--max-line-bytes)"
        );
        assert_eq!(d[0]["outcome"], "accepted", "{name}");
        assert_eq!(d[2]["sku"], "C", "{name}");
        assert_eq!(d[2]["outcome"], "accepted", "{name}");
    }
    // Without the option, these lines are well within the default cap.
    let input = dir.path().join("in.csv");
    let out = dir.path().join("out.jsonl");
    assert!(check(&p, &input, &out, &[]).status.success());
    assert_ne!(
        decisions(&out)[1]["error"],
        "the line is longer than the cap of 100 bytes (--max-line-bytes)"
    );
}

/// The default cap is 1 MiB: a 3 MiB line is rejected with it named.
#[test]
fn the_default_cap_is_one_mebibyte() {
    let dir = TempDir::new().unwrap();
    let p = policy(&dir);
    let mut data = b"sku,proposed_price,unit_cost\nA,12.49,10.00\n".to_vec();
    data.extend_from_slice(b"B,");
    data.extend(std::iter::repeat_n(b'1', 3 << 20));
    data.extend_from_slice(b",10.00\nC,12.49,10.00\n");
    let input = write(&dir, "in.csv", &data);
    let out = dir.path().join("out.jsonl");
    let o = check(&p, &input, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = decisions(&out);
    assert_eq!(d.len(), 3);
    assert_eq!(
        d[1]["error"],
        "the line is longer than the cap of 1048576 bytes (--max-line-bytes)"
    );
    assert_eq!(d[2]["outcome"], "accepted");
}

/// Memory does not grow with the longest line: a 160 MiB line streamed on
/// standard input is read under a 128 MB address-space limit (it used to
/// be buffered whole, 938 MB of memory for a 400 MB line).
#[cfg(target_os = "linux")]
#[test]
fn a_huge_line_is_skipped_in_bounded_memory() {
    let dir = TempDir::new().unwrap();
    let p = policy(&dir);
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 131072 && exec \"$0\" \"$@\"")
        .arg(EXE)
        .args([
            "check",
            "-q",
            "--format",
            "jsonl",
            "--policy",
            s(&p),
            "--input",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let block = vec![b' '; 1 << 20];
        stdin
            .write_all(b"{\"sku\":\"A\",\"proposed_price\":\"12.49\",\"unit_cost\":\"10\"}\n{\"sku\":\"HUGE\",\"x\":\"")
            .unwrap();
        for _ in 0..160 {
            if stdin.write_all(&block).is_err() {
                return;
            }
        }
        let _ = stdin
            .write_all(b"\"}\n{\"sku\":\"C\",\"proposed_price\":\"12.49\",\"unit_cost\":\"10\"}\n");
    });
    let o = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(o.status.success(), "{:?} {}", o.status, stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let d: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(d.len(), 3);
    assert_eq!(d[1]["line"], 2);
    assert_eq!(
        d[1]["error"],
        "the line is longer than the cap of 1048576 bytes (--max-line-bytes)"
    );
    assert_eq!(d[2]["sku"], "C");
}

/// `check ... >&-` used to exit 0 having written nothing anywhere.
#[cfg(unix)]
#[test]
fn a_closed_standard_output_is_an_error() {
    let dir = TempDir::new().unwrap();
    let p = policy(&dir);
    let input = write(&dir, "in.csv", b"sku,proposed_price\nA,12.49\n");
    for args in [
        vec!["check", "--policy", s(&p), "--input", s(&input)],
        vec!["validate", s(&p)],
        vec!["sample", "--rows", "3"],
    ] {
        let o = Command::new("sh")
            .arg("-c")
            .arg("exec \"$0\" \"$@\" >&-")
            .arg(EXE)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).contains("standard output is closed"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    // diff writes its report there: with stdout closed it stops before
    // anything is written, leaving an existing --output as it was.
    let out = write(&dir, "side.csv", OLD);
    let o = Command::new("sh")
        .arg("-c")
        .arg("exec \"$0\" \"$@\" >&-")
        .arg(EXE)
        .args(["diff", "--policy", s(&p), "--candidate", s(&p)])
        .args(["--input", s(&input), "--output", s(&out)])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("standard output is closed"));
    assert_eq!(fs::read(&out).unwrap(), OLD);
    // Sending it to /dev/null on purpose is fine.
    let o = Command::new(EXE)
        .args(["check", "-q", "--policy", s(&p), "--input", s(&input)])
        .stdout(Stdio::from(fs::File::create("/dev/null").unwrap()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A full disk (`/dev/full`) as the output, given as --output or as
/// standard output, and a broken pipe: exit 2 with a message.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_or_a_broken_pipe_is_an_error() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("s.csv");
    assert!(run(&["sample", "--rows", "20000", "--output", s(&input)])
        .status
        .success());
    let pol = example_policy();
    let o = Command::new(EXE)
        .args(["check", "-q", "--policy", s(&pol), "--input", s(&input)])
        .args(["--output", "/dev/full"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("No space left"), "{}", stderr(&o));
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = Command::new(EXE)
        .args(["check", "-q", "--policy", s(&pol), "--input", s(&input)])
        .stdout(Stdio::from(full))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot write standard output"),
        "{}",
        stderr(&o)
    );
    // The reading end closed before anything is written.
    let mut child = Command::new(EXE)
        .args(["check", "-q", "--policy", s(&pol), "--input", s(&input)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Broken pipe"), "{}", stderr(&o));
}

const OLD: &[u8] = b"the previous decisions\n";

/// A bad --audit path used to empty an existing --output (it was created
/// before the log was opened). Now the output is untouched.
#[test]
fn a_bad_audit_path_leaves_the_output_untouched() {
    let dir = TempDir::new().unwrap();
    let p = policy(&dir);
    let input = write(
        &dir,
        "in.csv",
        b"sku,proposed_price,unit_cost\nA,12.49,10.00\n",
    );
    let out = write(&dir, "out.csv", OLD);
    let metrics = write(&dir, "m.prom", OLD);
    let bad = dir.path().join("no/such/dir/audit.jsonl");
    let o = check(
        &p,
        &input,
        &out,
        &["--audit", s(&bad), "--metrics", s(&metrics)],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--audit"), "{}", stderr(&o));
    assert_eq!(fs::read(&out).unwrap(), OLD);
    assert_eq!(fs::read(&metrics).unwrap(), OLD);
    // No temporary file is left behind.
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains("priceguard-tmp")),
        "{names:?}"
    );
}

/// A tampered audit log used to empty an existing --output too.
#[test]
fn a_tampered_audit_log_leaves_the_output_untouched() {
    let dir = TempDir::new().unwrap();
    let p = policy(&dir);
    let input = write(
        &dir,
        "in.csv",
        b"sku,proposed_price,unit_cost\nA,12.49,10.00\nB,13.49,10.00\n",
    );
    let log = dir.path().join("audit.jsonl");
    let first = dir.path().join("first.csv");
    assert!(check(&p, &input, &first, &["--audit", s(&log)])
        .status
        .success());
    let text = fs::read_to_string(&log)
        .unwrap()
        .replacen("\"A\"", "\"Z\"", 1);
    fs::write(&log, text).unwrap();
    let out = write(&dir, "out.csv", OLD);
    let o = check(&p, &input, &out, &["--audit", s(&log)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("tampered"), "{}", stderr(&o));
    assert_eq!(fs::read(&out).unwrap(), OLD);
}

/// `kill -9` in the middle of a run used to leave a truncated output (it
/// was opened with O_TRUNC on its final path). The decisions are written
/// to a temporary file renamed over the output only at the end.
#[cfg(unix)]
#[test]
fn kill_9_mid_run_leaves_the_previous_output_intact() {
    use std::os::unix::process::ExitStatusExt;
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("s.csv");
    assert!(run(&["sample", "--rows", "400000", "--output", s(&input)])
        .status
        .success());
    let out = write(&dir, "out.csv", OLD);
    let mut child = Command::new(EXE)
        .args(["check", "-q", "--policy"])
        .arg(example_policy())
        .args(["--input", s(&input), "--output", s(&out)])
        .spawn()
        .unwrap();
    // Kill it once it has written some decisions, wherever it writes them
    // (the temporary file, or the output itself as it used to).
    let written = || {
        fs::read_dir(dir.path()).unwrap().any(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let len = e.metadata().unwrap().len();
            (name.contains("priceguard-tmp") && len > 0)
                || (name == "out.csv" && len != OLD.len() as u64)
        })
    };
    let mut waited = 0;
    while !written() && waited < 30_000 {
        std::thread::sleep(std::time::Duration::from_millis(5));
        waited += 5;
    }
    assert!(written(), "no decision was written in 30 s");
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "the run ended before the kill");
    assert_eq!(fs::read(&out).unwrap(), OLD);
    // Run to completion, the decisions replace the old file.
    let o = check(&example_policy(), &input, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 400_001);
}

/// A log cut in the middle of a record (what a crash mid-append leaves) is
/// reported as cut short after its last whole record, with its own exit
/// status (3), distinct from tampering (1); `check --audit` refuses to
/// continue it until it is cut back.
#[test]
fn an_audit_log_cut_mid_record_is_cut_short() {
    let dir = TempDir::new().unwrap();
    let p = policy(&dir);
    let input = write(
        &dir,
        "in.csv",
        b"sku,proposed_price,unit_cost\nA,12.49,10.00\nB,13.49,10.00\nC,14.49,10.00\n",
    );
    let log = dir.path().join("audit.jsonl");
    let out = dir.path().join("out.csv");
    assert!(check(&p, &input, &out, &["--audit", s(&log)])
        .status
        .success());
    let full = fs::read(&log).unwrap();
    let whole = full[..full.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    fs::write(&log, &full[..whole + 50]).unwrap();
    let o = run(&["audit", "verify", s(&log)]);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("cut short after its last whole record, record 2"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("cut it back to its first {whole} bytes")),
        "{stdout}"
    );
    assert!(!stdout.contains("tampered"), "{stdout}");
    // Tampering is another status and message.
    let mut edited = full.clone();
    let at = edited.windows(3).position(|w| w == b"\"B\"").unwrap();
    edited[at + 1] = b'b';
    let tampered = write(&dir, "tampered.jsonl", &edited);
    let o = run(&["audit", "verify", s(&tampered)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("tampered"));
    // check refuses to append to the cut log, and leaves the output.
    fs::write(&out, OLD).unwrap();
    let o = check(&p, &input, &out, &["--audit", s(&log)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cut short"), "{}", stderr(&o));
    assert_eq!(fs::read(&out).unwrap(), OLD);
    // Cut back to its whole records, the log verifies and continues.
    fs::write(&log, &full[..whole]).unwrap();
    assert_eq!(run(&["audit", "verify", s(&log)]).status.code(), Some(0));
    assert!(check(&p, &input, &out, &["--audit", s(&log)])
        .status
        .success());
    let o = run(&["audit", "verify", s(&log)]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("intact, 5 records"));
}

/// Bytes dense in what matters to the readers: quotes, separators, line
/// breaks, whitespace, bytes that are not UTF-8, JSON punctuation.
fn messy_bytes() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b"\"\",,\n\n\n\r \t\x0c{}[]:\\ab19.-\xff\xc3\xa9".to_vec();
    prop::collection::vec(prop::sample::select(alphabet), 0..300)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// For any bytes after a valid CSV header, and any bytes as JSON
    /// lines: one decision per data line (module docs), in order, each
    /// naming its own line. The cap is the default or a small one (above
    /// the header's 28 bytes, which a smaller cap would refuse).
    #[test]
    fn one_decision_per_data_line(data in messy_bytes(), max_line in prop_oneof![Just(1_048_576usize), 30usize..60]) {
        let dir = TempDir::new().unwrap();
        let p = policy(&dir);
        let cap = max_line.to_string();
        for (name, header) in [("in.csv", &b"sku,proposed_price,unit_cost\n"[..]), ("in.jsonl", &b""[..])] {
            let mut bytes = header.to_vec();
            bytes.extend_from_slice(&data);
            let input = write(&dir, name, &bytes);
            let out = dir.path().join("out.jsonl");
            let o = check(&p, &input, &out, &["--max-line-bytes", &cap, "--chunk-size", "3"]);
            prop_assert!(o.status.success(), "{}", stderr(&o));
            let first = if header.is_empty() { 1 } else { 2 };
            let want = data_lines(&data, first, max_line);
            let got: Vec<u64> = decisions(&out).iter().map(|d| d["line"].as_u64().unwrap()).collect();
            prop_assert_eq!(got, want, "{}", name);
        }
    }
}
