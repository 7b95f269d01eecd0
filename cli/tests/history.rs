//! `priceguard history summarize`: summaries from CSV and JSON lines price
//! rows, from an audit log, and from quotes; policy keys and flags; errors
//! naming file, line and field, with nothing written.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

const DAY: i64 = 86_400;

const HEADER: &str = "sku,prior_low_price,promo_started_at,last_promo_ended_at,reversals_in_window,last_change_at,changes_in_window,window_anchor_price,competitor_price,competitor_quotes\n";

fn bin() -> Command {
    Command::cargo_bin("priceguard").unwrap()
}

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    fs::write(&p, text).unwrap();
    p
}

fn summarize(dir: &TempDir, args: &[&str]) -> String {
    let out = bin()
        .current_dir(dir.path())
        .args(["history", "summarize", "-q"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The docs/spec.md §11 worked examples in one file, rows out of order.
///
/// SKU A: 12.00 from day 0, 10.00 from day 60, 12.00 from day 85, on
/// promotion at 9.00 (was 12.00) from day 90; now = day 100, prior_days
/// 30, window 20 days. The promotion began on day 90, so the prior period
/// is [day 60, day 90): 10.00 (set at its start) and 12.00: low 10.00.
/// Window [day 80, day 100]: anchor 10.00 (in force on day 80), changes
/// 12.00 (day 85) and 9.00 (day 90): up then down, one reversal.
///
/// SKU B: 10.00 at 0, a promotion 8.00 (was 10.00) on days 10-12, 10.00
/// again from day 12, 10.00 repeated on day 95 (no change): not on
/// promotion now; the prior period is [day 70, day 100): only 10.00 in
/// force; last promotion ended on day 12; last change day 12; no change
/// in the window.
///
/// Quotes for A (now = day 100, max age 1 day, k = 3): fresh 10.00,
/// 10.20, 10.40, 30.00 (competitor c's older 9.00 is replaced by its
/// latest, 10.40; e's quote is two days old): median 10.30, deviations
/// 0.30, 0.10, 0.10, 19.70, MAD 0.20, bound 0.60: 30.00 dropped; median of
/// 10.00, 10.20, 10.40 is 10.20, 3 quotes kept. B has no quote: 0 kept.
#[test]
fn worked_examples() {
    let dir = TempDir::new().unwrap();
    let d = |n: i64| (n * DAY).to_string();
    let prices = format!(
        "sku,price,at,reference_price\n\
         A,9.00,{},12.00\nB,10.00,0,\nA,12.00,0,\nA,10.00,{},\nA,12.00,{},\n\
         B,8.00,{},10.00\nB,10.00,{},\nB,10.00,{},\n",
        d(90),
        d(60),
        d(85),
        d(10),
        d(12),
        d(95)
    );
    let quotes = format!(
        "sku,competitor,price,seen_at\n\
         A,a,10.00,{t}\nA,b,10.20,{t}\nA,c,9.00,{old}\nA,c,10.40,{t}\nA,d,30.00,{t}\nA,e,10.30,{stale}\n",
        t = 100 * DAY - 3600,
        old = 100 * DAY - 7200,
        stale = 98 * DAY
    );
    write(&dir, "prices.csv", &prices);
    write(&dir, "quotes.csv", &quotes);
    let policy = "name = \"h\"\ncurrency = \"USD\"\n[change]\nwindow_secs = 1728000\n\
                  [disclosure]\nprior_days = 30\n[market]\nmax_quote_age_secs = 86400\noutlier_mad = \"3\"\n";
    write(&dir, "p.toml", policy);
    let now = d(100);
    let out = summarize(
        &dir,
        &[
            "--prices",
            "prices.csv",
            "--quotes",
            "quotes.csv",
            "--now",
            &now,
            "--policy",
            "p.toml",
        ],
    );
    let expect = format!(
        "{HEADER}A,10.00,{},,1,{},2,10.00,10.20,3\nB,10.00,,{},0,{},0,10.00,,0\n",
        d(90),
        d(90),
        d(12),
        d(12)
    );
    assert_eq!(out, expect);

    // Flags override the policy: a 5-day prior period before day 90 is
    // [day 85, day 90): only 12.00 was in force.
    let out = summarize(
        &dir,
        &[
            "--prices",
            "prices.csv",
            "--now",
            &now,
            "--policy",
            "p.toml",
            "--prior-days",
            "5",
        ],
    );
    assert!(out.starts_with(&format!("{HEADER}A,12.00,")), "{out}");
    // Without quotes the competitor columns stay empty.
    assert!(out.contains(&format!("B,10.00,,{},0,{},0,10.00,,\n", d(12), d(12))));
}

/// The same rows as JSON lines give the same summaries as CSV.
#[test]
fn json_lines_read_like_csv() {
    let dir = TempDir::new().unwrap();
    write(
        &dir,
        "p.csv",
        "sku,price,at,reference_price\nA,10.00,100,\nA,11.00,200,\nA,9.00,300,11.00\n",
    );
    write(
        &dir,
        "p.jsonl",
        "{\"sku\":\"A\",\"price\":\"10.00\",\"at\":100}\n\n{\"sku\":\"A\",\"price\":11,\"at\":200,\"reference_price\":null}\n{\"sku\":\"A\",\"price\":\"9.00\",\"at\":300,\"reference_price\":\"11.00\"}\n",
    );
    let args = [
        "--now",
        "1000",
        "--currency",
        "USD",
        "--window-secs",
        "850",
        "--prior-days",
        "1",
    ];
    let csv = summarize(&dir, &[&["--prices", "p.csv"][..], &args[..]].concat());
    let jsonl = summarize(&dir, &[&["--prices", "p.jsonl"][..], &args[..]].concat());
    assert_eq!(csv, jsonl);
    // Window [150, 1000]: anchor 10.00, then 11.00 and 9.00: one reversal.
    // Prior period [1000 - 86400, 300): 10.00 and 11.00: low 10.00.
    assert_eq!(csv, format!("{HEADER}A,10.00,300,,1,300,2,10.00,,\n"));
}

/// An audit log written by `check --audit` gives the summaries of the
/// prices it published, given as rows: held and rejected decisions
/// publish nothing.
#[test]
fn audit_log_equals_published_rows() {
    let dir = TempDir::new().unwrap();
    write(
        &dir,
        "p.toml",
        "name = \"a\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"100\"\n",
    );
    // 150.00 is above max_price: adjusted to 100.00 and published; 0.50
    // is below min_price: adjusted to 1.00.
    write(
        &dir,
        "in.csv",
        "sku,proposed_price,reference_price,now\n\
         A,10.00,,100\nA,12.00,,200\nB,150.00,,150\nA,9.00,12.00,300\nA,9.50,12.00,400\nB,0.50,,250\nA,12.00,,500\n",
    );
    bin()
        .current_dir(dir.path())
        .args(["check", "-q", "--policy", "p.toml", "--input", "in.csv"])
        .args(["--output", "out.csv", "--audit", "log.jsonl"])
        .assert()
        .success();
    write(
        &dir,
        "rows.csv",
        "sku,price,at,reference_price\n\
         A,10.00,100,\nA,12.00,200,\nB,100.00,150,\nA,9.00,300,12.00\nA,9.50,400,12.00\nB,1.00,250,\nA,12.00,500,\n",
    );
    let args = [
        "--now",
        "600",
        "--currency",
        "USD",
        "--window-secs",
        "450",
        "--prior-days",
        "1",
    ];
    let from_log = summarize(&dir, &[&["--prices", "log.jsonl"][..], &args[..]].concat());
    let forced = summarize(
        &dir,
        &[&["--prices", "log.jsonl", "--from-audit"][..], &args[..]].concat(),
    );
    let from_rows = summarize(&dir, &[&["--prices", "rows.csv"][..], &args[..]].concat());
    assert_eq!(from_log, from_rows);
    assert_eq!(forced, from_rows);
    // check --history reads the log as it reads the rows.
    write(
        &dir,
        "p2.toml",
        "name = \"a\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"100\"\n[change]\nwindow_secs = 450\nmax_changes = 4\n",
    );
    write(
        &dir,
        "next.csv",
        "sku,proposed_price,current_price,now\nA,13.00,12.00,600\nB,2.00,1.00,600\n",
    );
    let decide = |history: &str| {
        let out = bin()
            .current_dir(dir.path())
            .args(["check", "-q", "--policy", "p2.toml", "--input", "next.csv"])
            .args(["--history", history])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let by_log = decide("log.jsonl");
    assert_eq!(by_log, decide("rows.csv"));
    // A changed 4 times in [150, 600]: held by max_changes; B twice.
    assert!(by_log.contains("A,held"), "{by_log}");
    assert!(by_log.contains("B,accepted"), "{by_log}");
    // A: spell 300-400 ended at 500; window [150, 600]: anchor 10.00,
    // 12.00, 9.00, 9.50, 12.00: two reversals (up, down, up).
    assert!(
        from_rows.contains("A,9.00,,500,2,500,4,10.00,,\n"),
        "{from_rows}"
    );
}

/// A bad row stops the run naming file, line and field; the output file
/// is left as it was.
#[test]
fn bad_rows_fail_closed() {
    let dir = TempDir::new().unwrap();
    let out = write(&dir, "out.csv", "previous\n");
    for (text, message) in [
        (
            "sku,price,at\nA,10.00,1\nA,abc,2\n",
            "`bad.csv` line 3: price: `abc` is not a decimal number",
        ),
        ("sku,price,at\nA,10.00,-1\n", "`bad.csv` line 2: at:"),
        ("sku,price,at\nA,0,1\n", "`bad.csv` line 2: price:"),
        (
            "sku,price,at,reference_price\nA,1,1,-2\n",
            "`bad.csv` line 2: reference_price:",
        ),
        (
            "sku,price,at\nA,,1\n",
            "`bad.csv` line 2: price: is missing",
        ),
        ("sku,prce,at\nA,1,1\n", "unknown column `prce`"),
        ("sku,at\nA,1\n", "no `price` column"),
    ] {
        write(&dir, "bad.csv", text);
        bin()
            .current_dir(dir.path())
            .args(["history", "summarize", "--prices", "bad.csv", "--now", "5"])
            .args(["--currency", "USD", "--output", "out.csv"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
        assert_eq!(fs::read_to_string(&out).unwrap(), "previous\n");
    }
    // A segment with its own window would be summarised with the wrong
    // one: refused.
    write(
        &dir,
        "seg.toml",
        "name = \"s\"\ncurrency = \"USD\"\n[change]\nwindow_secs = 100\n\
         [[segments]]\nid = 1\nchange = { window_secs = 200 }\n",
    );
    write(&dir, "ok.csv", "sku,price,at\nA,1,1\n");
    bin()
        .current_dir(dir.path())
        .args(["history", "summarize", "--prices", "ok.csv", "--now", "5"])
        .args(["--policy", "seg.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("segments[0].change.window_secs"));
    // No currency: refused rather than guessed.
    write(&dir, "ok.csv", "sku,price,at\nA,1,1\n");
    bin()
        .current_dir(dir.path())
        .args(["history", "summarize", "--prices", "ok.csv", "--now", "5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--currency"));
}

/// The end-to-end fixture `tests/history/weekly_year.csv`: a year of weekly
/// prices of one SKU (20.00 regular) with three promotions, replayed week
/// by week. Hand-computed, with 30 days = 4 2/7 weeks:
///
/// - weeks 10-11 at 18.00 (a plain cut), promotion 15.00 "was 20.00" in
///   weeks 14-15: the period before week 14 starts in week 9 5/7, where
///   20.00 (week 9) is in force, then 18.00, 18.00, 20.00, 20.00: low
///   18.00, below the "was" 20.00: not lawful;
/// - promotion 16.00 "was 20.00" in weeks 30-31: weeks 25 5/7 to 30 hold
///   only 20.00: lawful;
/// - 22.00 in weeks 38-39, then 15.00 "was 22.00" in week 40 (the price
///   raised just before the sale): the period holds 20.00 (weeks 35-37)
///   and 22.00: low 20.00: not lawful.
///
/// So the "was" price exceeds the 30-day low in weeks 14, 15 and 40
/// exactly: where `prior_price` will hold once it reads these summaries.
#[test]
fn a_year_of_weekly_prices() {
    const T0: i64 = 1_767_225_600;
    const WEEK: i64 = 7 * DAY;
    let dir = TempDir::new().unwrap();
    let fixture: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/history/weekly_year.csv"
    );
    let text = fs::read_to_string(fixture).unwrap();
    let mut unlawful = Vec::new();
    for week in 0..52i64 {
        let now = (T0 + week * WEEK).to_string();
        let out = summarize(
            &dir,
            &[
                "--prices",
                fixture,
                "--now",
                &now,
                "--currency",
                "USD",
                "--prior-days",
                "30",
            ],
        );
        let row: Vec<&str> = out.lines().nth(1).unwrap().split(',').collect();
        let (low, started, ended) = (row[1], row[2], row[3]);
        // The reference in force this week, from the fixture itself.
        let reference = text
            .lines()
            .find(|l| l.contains(&format!(",{now},")))
            .unwrap()
            .rsplit(',')
            .next()
            .unwrap();
        // Not on promotion, the period is [now - 30 days, now): the rows of
        // weeks k-5 (in force at its start) to k-1; on promotion, the same
        // before the spell's first week.
        let expect_low = match week {
            0 => "", // no row before now
            1..=10 => "20.00",
            11..=15 => "18.00",
            16..=20 => "15.00",
            21..=31 => "20.00",
            32..=36 => "16.00",
            37..=40 => "20.00",
            41..=45 => "15.00",
            _ => "20.00",
        };
        assert_eq!(low, expect_low, "week {week}");
        let promo_start = match week {
            14 | 15 => Some(14),
            30 | 31 => Some(30),
            40 => Some(40),
            _ => None,
        };
        assert_eq!(
            started,
            promo_start.map_or(String::new(), |w| (T0 + w * WEEK).to_string()),
            "week {week}"
        );
        let last_end = match week {
            0..=15 => None,
            16..=31 => Some(16),
            32..=40 => Some(32),
            _ => Some(41),
        };
        assert_eq!(
            ended,
            last_end.map_or(String::new(), |w| (T0 + w * WEEK).to_string()),
            "week {week}"
        );
        if !reference.is_empty() {
            let cents = |t: &str| t.replace('.', "").parse::<i64>().unwrap();
            if cents(reference) > cents(low) {
                unlawful.push(week);
            }
        }
    }
    assert_eq!(unlawful, [14, 15, 40]);
}

/// `check --history` decides as `check` does on rows that carry the
/// summary fields themselves (here computed by hand).
///
/// Window 1000 s at now = 1000, so [0, 1000]. A: 10.00 at 100 (its first
/// row: no price in force at 0, so the anchor is 10.00, and the listing
/// is a change), 11.00 at 600, 10.50 at 700: changes 3, last change 700.
/// B: 20.00 at 50 only: anchor 20.00, 1 change, last change 50. C has no
/// history: no field. Quotes (no age limit, no outlier filter): A's
/// median of 10.00 and 11.00 is 10.50.
#[test]
fn check_history_equals_rows_with_the_fields() {
    let dir = TempDir::new().unwrap();
    write(
        &dir,
        "p.toml",
        "name = \"h\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"100\"\n\
         [change]\nwindow_secs = 1000\nmax_changes = 3\nwindow_increase = \"0.15\"\ncooldown_secs = 200\n",
    );
    write(
        &dir,
        "h.csv",
        "sku,price,at\nA,11.00,600\nB,20.00,50\nA,10.00,100\nA,10.50,700\n",
    );
    write(
        &dir,
        "q.csv",
        "sku,competitor,price,seen_at\nA,x,10.00,900\nA,y,11.00,950\n",
    );
    write(
        &dir,
        "in.csv",
        "sku,proposed_price,current_price,now\nA,12.00,10.50,1000\nB,23.50,20.00,1000\nC,5.00,5.00,1000\n",
    );
    write(
        &dir,
        "with.csv",
        "sku,proposed_price,current_price,now,last_change_at,changes_in_window,window_anchor_price,competitor_price\n\
         A,12.00,10.50,1000,700,3,10.00,10.50\nB,23.50,20.00,1000,50,1,20.00,\nC,5.00,5.00,1000,,,,\n",
    );
    let check = |args: &[&str]| {
        let out = bin()
            .current_dir(dir.path())
            .args(["check", "-q", "--policy", "p.toml"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let with_history = check(&[
        "--input",
        "in.csv",
        "--history",
        "h.csv",
        "--quotes",
        "q.csv",
    ]);
    let with_fields = check(&["--input", "with.csv"]);
    assert_eq!(with_history, with_fields);
    // The history mattered: A is held by max_changes (3 >= 3), B capped
    // by window_increase at 23.00.
    assert!(with_history.contains("max_changes"), "{with_history}");
    assert!(with_history.contains("B,adjusted,23.00"), "{with_history}");

    // A row without now, and one carrying a field the history also gives,
    // are refused naming the field.
    write(
        &dir,
        "bad.csv",
        "sku,proposed_price,now,last_change_at\nA,12.00,,\nB,21.00,1000,10\n",
    );
    let bad = check(&["--input", "bad.csv", "--history", "h.csv"]);
    assert!(bad.contains("now: is needed to read the history"), "{bad}");
    assert!(
        bad.contains("last_change_at: is given by both the row and --history"),
        "{bad}"
    );

    check_history_equals_rows_with_the_history_fields(&dir);
}

/// The same for the five fields of the history rules (`prior_low_price`,
/// `promo_started_at`, `last_promo_ended_at`, `reversals_in_window`,
/// `competitor_quotes`), under a policy whose rules read them: prior_days
/// 30, promotions at most 10 days and 5 days apart, 2 reversals in a
/// 10-day window, market band 0.80-1.10 from at least 2 quotes (not
/// required). Times in days, `now` = day 40, window [day 30, day 40],
/// prior period [day 10, day 40) for a SKU not on promotion at `now`.
/// Every SKU is in the quotes file's summary, so every SKU with history
/// gets `competitor_quotes` (0 when it has no quote).
///
/// - P: 20.00 (day 0), 18.00 (day 20), 20.00 (day 30); proposal 15.00 "was
///   20.00". Low of the period: 20.00 in force at day 10, 18.00, 20.00:
///   18.00. Anchor 20.00 (the day-30 row is at the window's start), no
///   change inside, last change day 30. No promotion in force, so it
///   starts now (H11): `promo_started_at` = day 40. 20.00 > 18.00: held at
///   20.00 by `prior_price`, `lawful_reference` 18.00.
/// - S: 30.00 (day 0), 25.00 "was 30.00" (day 20), 30.00 (day 37);
///   proposal 20.00 "was 25.00". Low 25.00 (lawful: 25.00 <= 25.00); the
///   spell of day 20 ended on day 37; the new one starts now, 3 days later
///   (< 5): no discount, `lo` = 25.00: adjusted to 25.00 by
///   `promo_spell`. Anchor 25.00, one change (day 37), no reversal.
/// - O: 10.00 (day 25), 11.00 (day 32), 10.50 (day 34), 11.50 (day 36);
///   proposal 12.00. Anchor 10.00, changes up, down, up: 3 changes, 2
///   reversals >= 2: held at 11.50 by `oscillation`. Low: no price in
///   force at day 10, the rows inside: 10.00.
/// - M: 50.00 (day 0); quotes 40.00 and 44.00: median 42.00 from 2 quotes:
///   ceiling floor(42.00 x 1.10) = 46.20: proposal 55.00 adjusted to 46.20
///   (`competitor_ceiling`). Low 50.00, anchor 50.00, last change 0.
/// - Q: 50.00 (day 0); one quote 40.00: 1 < 2, the market rules are
///   skipped: 55.00 accepted.
/// - N: no history (no field): proposal 15.00 "was 20.00", new: rejected by
///   `prior_price` (nothing proves the reference lawful, H3).
fn check_history_equals_rows_with_the_history_fields(dir: &TempDir) {
    let d = |n: i64| (n * DAY).to_string();
    write(
        dir,
        "p5.toml",
        "name = \"h5\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"1000\"\n\
         [change]\nwindow_secs = 864000\nmax_reversals = 2\n\
         [disclosure]\nprior_days = 30\n\
         [promotion]\nmax_days = 10\nmin_days_between = 5\n\
         [market]\nmin_index = \"0.80\"\nmax_index = \"1.10\"\nmin_quotes = 2\nrequired = false\n",
    );
    write(
        dir,
        "h5.csv",
        &format!(
            "sku,price,at,reference_price\n\
             P,20.00,0,\nP,18.00,{},\nP,20.00,{},\n\
             S,30.00,0,\nS,25.00,{},30.00\nS,30.00,{},\n\
             O,10.00,{},\nO,11.00,{},\nO,10.50,{},\nO,11.50,{},\n\
             M,50.00,0,\nQ,50.00,0,\n",
            d(20),
            d(30),
            d(20),
            d(37),
            d(25),
            d(32),
            d(34),
            d(36)
        ),
    );
    write(
        dir,
        "q5.csv",
        &format!(
            "sku,competitor,price,seen_at\nM,a,40.00,{t}\nM,b,44.00,{t}\nQ,a,40.00,{t}\n",
            t = d(39)
        ),
    );
    let now = d(40);
    write(
        dir,
        "in5.csv",
        &format!(
            "sku,proposed_price,current_price,reference_price,now\n\
             P,15.00,20.00,20.00,{now}\nS,20.00,30.00,25.00,{now}\nO,12.00,11.50,,{now}\n\
             M,55.00,50.00,,{now}\nQ,55.00,50.00,,{now}\nN,15.00,,20.00,{now}\n"
        ),
    );
    // The same rows with all nine fields, by hand.
    write(
        dir,
        "with5.csv",
        &format!(
            "sku,proposed_price,current_price,reference_price,now,\
             prior_low_price,promo_started_at,last_promo_ended_at,reversals_in_window,competitor_quotes,\
             last_change_at,changes_in_window,window_anchor_price,competitor_price\n\
             P,15.00,20.00,20.00,{now},18.00,{now},,0,0,{},0,20.00,\n\
             S,20.00,30.00,25.00,{now},25.00,{now},{},0,0,{},1,25.00,\n\
             O,12.00,11.50,,{now},10.00,,,2,0,{},3,10.00,\n\
             M,55.00,50.00,,{now},50.00,,,0,2,0,0,50.00,42.00\n\
             Q,55.00,50.00,,{now},50.00,,,0,1,0,0,50.00,40.00\n\
             N,15.00,,20.00,{now},,,,,,,,,\n",
            d(30),
            d(37),
            d(37),
            d(36)
        ),
    );
    // The fields by hand are the summaries (without the promotion that
    // starts with the proposal, which only `check` knows of), so the
    // comparison below is field for field, not only decision for decision.
    let summary = summarize(
        dir,
        &[
            "--prices", "h5.csv", "--quotes", "q5.csv", "--now", &now, "--policy", "p5.toml",
        ],
    );
    assert_eq!(
        summary,
        format!(
            "{HEADER}M,50.00,,,0,0,0,50.00,42.00,2\nO,10.00,,,2,{},3,10.00,,0\n\
             P,18.00,,,0,{},0,20.00,,0\nQ,50.00,,,0,0,0,50.00,40.00,1\n\
             S,25.00,,{},0,{},1,25.00,,0\n",
            d(36),
            d(30),
            d(37),
            d(37)
        )
    );
    let check = |args: &[&str]| {
        let out = bin()
            .current_dir(dir.path())
            .args(["check", "-q", "--policy", "p5.toml"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let with_history = check(&[
        "--input",
        "in5.csv",
        "--history",
        "h5.csv",
        "--quotes",
        "q5.csv",
    ]);
    let with_fields = check(&["--input", "with5.csv"]);
    assert_eq!(with_history, with_fields);
    // Every field mattered: each SKU decided by the rule that reads it.
    let mut r = csv::Reader::from_reader(with_history.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let got: Vec<[String; 4]> = r
        .records()
        .map(|row| {
            let row = row.unwrap();
            ["sku", "outcome", "price", "reason"].map(|k| row[col(k)].to_string())
        })
        .collect();
    let lawful: Vec<String> = csv::Reader::from_reader(with_history.as_bytes())
        .records()
        .map(|row| row.unwrap()[col("lawful_reference")].to_string())
        .collect();
    let want = [
        ["P", "held", "20.00", "prior_price"],
        ["S", "adjusted", "25.00", "promo_spell"],
        ["O", "held", "11.50", "oscillation"],
        ["M", "adjusted", "46.20", "competitor_ceiling"],
        ["Q", "accepted", "55.00", ""],
        ["N", "rejected", "", "prior_price"],
    ];
    assert_eq!(got, want.map(|r| r.map(String::from)));
    assert_eq!(lawful, ["18.00", "", "", "", "", ""]);
}

/// The year of weekly prices (`tests/history/weekly_year.csv`) replayed
/// through `check --history` under `[disclosure] prior_days = 30`: each
/// week's row is proposed (its price, its "was" price as
/// `reference_price`, last week's price as `current_price`) with the
/// history published before it. From the fixture's hand computation in
/// `a_year_of_weekly_prices`:
///
/// - week 14, 15.00 "was 20.00": no promotion in force before, so it starts
///   now (H11); the prior period [week 14 - 30 days, week 14) holds 20.00
///   (week 9, in force at its start), 18.00 (weeks 10-11) and 20.00: low
///   18.00 < 20.00: held at the current 20.00, `lawful_reference` 18.00;
/// - week 15, 15.00 "was 20.00": the promotion began in week 14, so the
///   same period, low 18.00: held at the current 15.00 (week 14's price),
///   `lawful_reference` 18.00;
/// - week 40, 15.00 "was 22.00": a new promotion; the period [week 40 - 30
///   days, week 40) holds 20.00 (weeks 35-37) and 22.00 (weeks 38-39): low
///   20.00 < 22.00: held at the current 22.00, `lawful_reference` 20.00;
/// - weeks 30-31, 16.00 "was 20.00": only 20.00 in the period: lawful,
///   and 16.00 is no deeper than the running promotion's 16.00 in week 31.
///
/// Every other week has no "was" price (or a lawful one) and no other rule
/// bites inside [1.00, 1000.00]: accepted at its proposal.
#[test]
fn a_year_of_weekly_prices_through_check() {
    const T0: i64 = 1_767_225_600;
    const WEEK: i64 = 7 * DAY;
    let dir = TempDir::new().unwrap();
    let fixture: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/history/weekly_year.csv"
    );
    let text = fs::read_to_string(fixture).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert_eq!(header, "sku,price,at,reference_price");
    // (price, at, reference) of each week, in order.
    let weeks: Vec<(String, i64, String)> = lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[1].to_string(), c[2].parse().unwrap(), c[3].to_string())
        })
        .collect();
    assert_eq!(weeks.len(), 52);
    write(
        &dir,
        "p.toml",
        "name = \"weekly\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"1000\"\n\
         [disclosure]\nprior_days = 30\n",
    );
    let held: &[(usize, &str, &str)] = &[
        (14, "20.00", "18.00"),
        (15, "15.00", "18.00"),
        (40, "22.00", "20.00"),
    ];
    let proposal = |k: usize| {
        let (price, at, reference) = &weeks[k];
        assert_eq!(*at, T0 + k as i64 * WEEK);
        let current = k.checked_sub(1).map_or("", |j| weeks[j].0.as_str());
        format!("WEEKLY,{price},{current},{reference},{at}\n")
    };
    // What was published before week k.
    let history_before = |k: usize| {
        let mut history = format!("{header}\n");
        for l in text.lines().skip(1).take(k) {
            history.push_str(l);
            history.push('\n');
        }
        history
    };
    let in_header = "sku,proposed_price,current_price,reference_price,now\n";
    let mut seen = Vec::new();
    for (k, (price, _, _)) in weeks.iter().enumerate() {
        write(&dir, "h.csv", &history_before(k));
        write(&dir, "in.csv", &format!("{in_header}{}", proposal(k)));
        bin()
            .current_dir(dir.path())
            .args(["check", "-q", "--policy", "p.toml", "--input", "in.csv"])
            .args(["--history", "h.csv", "--output", "out.csv"])
            .assert()
            .success();
        let mut r = csv::Reader::from_path(dir.path().join("out.csv")).unwrap();
        let h = r.headers().unwrap().clone();
        let row = r.records().next().unwrap().unwrap();
        let get = |name: &str| row[h.iter().position(|c| c == name).unwrap()].to_string();
        match held.iter().find(|(w, _, _)| *w == k) {
            Some((_, at, lawful)) => {
                assert_eq!(
                    (get("outcome"), get("reason"), get("price")),
                    ("held".into(), "prior_price".into(), (*at).into()),
                    "week {k}"
                );
                assert_eq!(get("lawful_reference"), *lawful, "week {k}");
                seen.push(k);
            }
            None => {
                assert_eq!(
                    (get("outcome"), get("reason"), get("price")),
                    ("accepted".into(), String::new(), price.clone()),
                    "week {k}"
                );
                assert_eq!(get("lawful_reference"), "", "week {k}");
            }
        }
    }
    assert_eq!(seen, [14, 15, 40]);

    // With --explain, `lawful_reference` stays the last column, after the
    // sentence, which names it too (week 14 again).
    write(&dir, "in.csv", &format!("{in_header}{}", proposal(14)));
    write(&dir, "h.csv", &history_before(14));
    bin()
        .current_dir(dir.path())
        .args(["check", "-q", "--policy", "p.toml", "--input", "in.csv"])
        .args(["--history", "h.csv", "--output", "out.csv", "--explain"])
        .assert()
        .success();
    let mut r = csv::Reader::from_path(dir.path().join("out.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let n = h.len();
    assert_eq!((&h[n - 2], &h[n - 1]), ("explain", "lawful_reference"));
    let row = r.records().next().unwrap().unwrap();
    assert_eq!(&row[n - 1], "18.00");
    assert!(
        row[n - 2].contains("lawful reference 18.00"),
        "{:?}",
        &row[n - 2]
    );

    // The whole year at once, as JSON lines, with the whole fixture as
    // history (rows after a proposal's `now` are not read) and an audit
    // log: the same three holds, their lawful references in the output
    // and in the log.
    let mut input = String::from(in_header);
    input.extend((0..weeks.len()).map(proposal));
    write(&dir, "year.csv", &input);
    bin()
        .current_dir(dir.path())
        .args(["check", "-q", "--policy", "p.toml", "--input", "year.csv"])
        .arg("--history")
        .arg(fixture)
        .args(["--output", "year.jsonl", "--audit", "log.jsonl"])
        .assert()
        .success();
    let out = fs::read_to_string(dir.path().join("year.jsonl")).unwrap();
    let log = fs::read_to_string(dir.path().join("log.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!((rows.len(), records.len()), (52, 52));
    for (k, (row, record)) in rows.iter().zip(&records).enumerate() {
        let want = held
            .iter()
            .find(|(w, _, _)| *w == k)
            .map(|(_, _, lawful)| serde_json::Value::from(*lawful))
            .unwrap_or(serde_json::Value::Null);
        assert_eq!(row["lawful_reference"], want, "week {k}");
        assert_eq!(record["decision"]["lawful_reference"], want, "week {k}");
        let reason = if want.is_null() { "" } else { "prior_price" };
        assert_eq!(row["reason"], reason, "week {k}");
    }
    bin()
        .current_dir(dir.path())
        .args(["audit", "verify", "log.jsonl"])
        .assert()
        .success();
}

/// `diff` shows what turning `prior_price` on would do, with the lawful
/// reference of each side (the vector case H3 of
/// tests/vectors/history/prior_price.json): "was 29.99" against a 30-day
/// low of 24.99 is accepted by the live policy, which has no `[disclosure]`,
/// and held at 24.99 with `lawful_reference` 24.99 by the candidate;
/// "was 24.99" is lawful under both.
#[test]
fn diff_shows_the_lawful_reference_of_both_sides() {
    let dir = TempDir::new().unwrap();
    let live =
        "name = \"l\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"1000\"\n";
    write(&dir, "live.toml", live);
    write(
        &dir,
        "cand.toml",
        &format!("{live}[disclosure]\nprior_days = 30\n"),
    );
    write(
        &dir,
        "in.csv",
        "sku,proposed_price,current_price,reference_price,prior_low_price\n\
         H3,19.99,24.99,29.99,24.99\nH1,19.99,24.99,24.99,24.99\n",
    );
    let diff = |out: &str| {
        bin()
            .current_dir(dir.path())
            .args(["diff", "--policy", "live.toml", "--candidate", "cand.toml"])
            .args(["--input", "in.csv", "--output", out])
            .assert()
            .success();
        fs::read_to_string(dir.path().join(out)).unwrap()
    };
    let text = diff("d.csv");
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().unwrap().clone();
    let n = h.len();
    assert_eq!(
        (&h[n - 3], &h[n - 2], &h[n - 1]),
        (
            "error",
            "live_lawful_reference",
            "candidate_lawful_reference"
        )
    );
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let got: Vec<[String; 5]> = r
        .records()
        .map(|row| {
            let row = row.unwrap();
            [
                "live_outcome",
                "live_lawful_reference",
                "candidate_outcome",
                "candidate_price",
                "candidate_lawful_reference",
            ]
            .map(|k| row[col(k)].to_string())
        })
        .collect();
    let want = [
        ["accepted", "", "held", "24.99", "24.99"],
        ["accepted", "", "accepted", "19.99", ""],
    ];
    assert_eq!(got, want.map(|r| r.map(String::from)));

    let text = diff("d.jsonl");
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[0]["live"]["lawful_reference"], serde_json::Value::Null);
    assert_eq!(rows[0]["candidate"]["lawful_reference"], "24.99");
    assert_eq!(
        rows[1]["candidate"]["lawful_reference"],
        serde_json::Value::Null
    );
}
