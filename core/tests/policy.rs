//! Policy files: parsing, validation errors that name the field path and
//! the reason, segments, and TOML/JSON equivalence.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use priceguard::{Class, Item, Policy, PolicyError};

const SPEC_EXAMPLE: &str = r#"
name = "default"
version = "2026-11-27"
currency = "USD"

[bounds]
min_price = "0.99"
max_price = "5000"

[margin]
min_margin = "0.15"

[change]
max_increase = "0.10"
max_decrease = "0.20"
cooldown_secs = 3600
window_secs = 604800
window_increase = "0.25"
max_changes = 6

[promotion]
max_discount = "0.50"
budgets = { spring-sale = "25000" }

[endings]
allowed = ["0.99", "0.49"]

[breaker]
max_violation_ratio = "0.30"
min_batch = 100

[[segments]]
id = 3
margin = { min_margin = "0.40" }
"#;

fn err_toml(text: &str) -> PolicyError {
    match Policy::from_toml_str(text) {
        Ok(_) => panic!("policy was accepted:\n{text}"),
        Err(e) => e,
    }
}

const MIN: &str =
    "name = \"t\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"100\"\n";

#[test]
fn the_spec_example_loads() {
    let p = Policy::from_toml_str(SPEC_EXAMPLE).unwrap();
    assert_eq!(p.name(), "default");
    assert_eq!(p.version(), "2026-11-27");
    assert_eq!(p.currency().code(), "USD");
    assert_eq!(p.tick(), 1);
    assert_eq!(p.campaign_count(), 1);
    assert_eq!(p.budget(p.campaign_id("spring-sale")), Some(2_500_000));
    assert_eq!(p.breaker().map(|b| b.min_batch), Some(100));
    let seg = p.rules_for(Some(3));
    let base = p.rules_for(None);
    assert_eq!(seg.min_margin.map(|r| (r.num, r.den)), Some((4, 10)));
    // Key-level override: the segment keeps every other rule.
    assert_eq!(seg.max_increase, base.max_increase);
    assert_eq!(seg.min_price, base.min_price);
    assert_eq!(p.rules_for(Some(99)), base);
}

#[test]
fn the_issue_example_error() {
    let e = err_toml(&format!("{MIN}[change]\nmax_decrease = \"1.5\"\n"));
    assert_eq!(e.path, "change.max_decrease");
    assert_eq!(e.message, "1.5 is above 1");
    assert_eq!((e.line, e.column), (Some(7), Some(1)));
    assert_eq!(
        e.to_string(),
        "change.max_decrease: 1.5 is above 1 (line 7, column 1)"
    );
}

#[test]
fn unknown_keys_are_refused_with_their_path() {
    let e = err_toml(&format!("{MIN}[margin]\nmin_marign = \"0.1\"\n"));
    assert_eq!(e.path, "margin.min_marign");
    assert!(e.message.contains("unknown field `min_marign`"), "{e}");
    assert_eq!(e.line, Some(7));
    let e = err_toml(&format!("{MIN}colour = \"red\"\n"));
    assert!(e.message.contains("unknown field `colour`"), "{e}");
    let e = Policy::from_json_str(r#"{"name":"t","currency":"USD","bounds":{"min_price":"1","max_price":"2","maxprice":"3"}}"#)
        .unwrap_err();
    assert_eq!(e.path, "bounds.maxprice");
    assert!(e.message.contains("unknown field `maxprice`"), "{e}");
}

#[test]
fn required_keys_and_bad_values() {
    let e = err_toml("currency = \"USD\"\nallow_unbounded = true\n");
    assert!(e.message.contains("missing field `name`"), "{e}");
    let e = err_toml("name = \"t\"\ncurrency = \"usd\"\nallow_unbounded = true\n");
    assert_eq!(e.path, "currency");
    assert_eq!(
        e.message,
        "`usd` is not an active ISO 4217 currency code (codes are upper case)"
    );
    let e = err_toml("name = \"t\"\ncurrency = \"XYZ\"\nallow_unbounded = true\n");
    assert_eq!(e.message, "`XYZ` is not an active ISO 4217 currency code");
    let e = err_toml(&format!("{MIN}[margin]\nmin_margin = \"1\"\n"));
    assert_eq!(
        (e.path.as_str(), e.message.as_str()),
        ("margin.min_margin", "1 is 1 or above")
    );
    let e = err_toml(&format!("{MIN}[margin]\nmin_margin = \"-0.1\"\n"));
    assert_eq!(e.message, "-0.1 is negative");
    let e = err_toml(&format!("{MIN}[margin]\nmin_margin = \"abc\"\n"));
    assert_eq!(e.path, "margin.min_margin");
    assert!(e.message.contains("`abc` is not a decimal number"), "{e}");
    let e = err_toml(
        "name = \"t\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"0.999\"\nmax_price = \"9\"\n",
    );
    assert_eq!(e.path, "bounds.min_price");
    assert_eq!(e.message, "0.999 has more than 2 decimal places for USD");
    let e = err_toml(
        "name = \"t\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"10\"\nmax_price = \"9\"\n",
    );
    assert_eq!(e.message, "10.00 is above bounds.max_price 9.00");
    let e = err_toml(&format!("{MIN}[change]\nmax_changes = 3\n"));
    assert_eq!(e.path, "change.max_changes");
    assert!(e.message.starts_with("needs change.window_secs"), "{e}");
    let e = err_toml(&format!("{MIN}[endings]\nallowed = [\"1.99\"]\n"));
    assert_eq!(e.path, "endings.allowed[0]");
    assert_eq!(e.message, "1.99 is not below the modulus 1.00");
    let e = err_toml(&format!("{MIN}[breaker]\nmin_batch = 10\n"));
    assert_eq!(e.path, "breaker.max_violation_ratio");
    let e = err_toml(&format!("tick = \"0.001\"\n{MIN}"));
    assert_eq!(e.path, "tick");
    assert_eq!(e.message, "0.001 has more than 2 decimal places for USD");
    // A key after a table header belongs to that table.
    let e = err_toml(&format!("{MIN}tick = \"0.05\"\n"));
    assert_eq!(e.path, "bounds.tick");
}

#[test]
fn priority_must_order_all_classes_hard_first() {
    let ok = Policy::from_toml_str(&format!(
        "priority = [\"hard\", \"stability\", \"financial\", \"market\"]\n{MIN}"
    ))
    .unwrap();
    assert_eq!(
        ok.rules_for(None).priority,
        [
            Class::Hard,
            Class::Stability,
            Class::Financial,
            Class::Market
        ]
    );
    let e = err_toml(&format!(
        "priority = [\"financial\", \"hard\", \"stability\", \"market\"]\n{MIN}"
    ));
    assert_eq!(
        (e.path.as_str(), e.message.as_str()),
        ("priority[0]", "`hard` must come first")
    );
    let e = err_toml(&format!(
        "priority = [\"hard\", \"hard\", \"stability\", \"market\"]\n{MIN}"
    ));
    assert_eq!(
        (e.path.as_str(), e.message.as_str()),
        ("priority[1]", "`hard` is listed twice")
    );
    let e = err_toml(&format!(
        "priority = [\"hard\", \"money\", \"stability\", \"market\"]\n{MIN}"
    ));
    assert_eq!(e.path, "priority[1]");
    let e = err_toml(&format!("priority = [\"hard\"]\n{MIN}"));
    assert_eq!(e.path, "priority");
}

#[test]
fn unbounded_policies_are_refused_unless_allowed() {
    let e = err_toml("name = \"t\"\ncurrency = \"USD\"\n[bounds]\nmax_price = \"100\"\n");
    assert_eq!(e.path, "bounds.min_price");
    assert!(e.message.starts_with("no lower bound source"), "{e}");
    let e = err_toml("name = \"t\"\ncurrency = \"USD\"\n[margin]\nmin_margin = \"0.1\"\n");
    assert_eq!(e.path, "bounds.max_price");
    assert!(e.message.starts_with("no upper bound source"), "{e}");
    // A margin floor and a change cap are sources too.
    Policy::from_toml_str("name = \"t\"\ncurrency = \"USD\"\n[margin]\nmin_margin = \"0.1\"\n[change]\nmax_increase = \"0.1\"\n").unwrap();
    Policy::from_toml_str("name = \"t\"\ncurrency = \"USD\"\nallow_unbounded = true\n").unwrap();
}

/// `margin.max_markup` (docs/spec.md §8.1, §8.2): a fraction in [0, 100],
/// not below `min_markup`, not under the `min_margin` floor for every cost;
/// an upper-bound source but not a lower one.
#[test]
fn max_markup_is_checked_against_the_other_margin_keys() {
    let e = err_toml(&format!("{MIN}[margin]\nmax_markup = \"-0.1\"\n"));
    assert_eq!(e.path, "margin.max_markup");
    assert_eq!(e.message, "-0.1 is negative");
    let e = err_toml(&format!("{MIN}[margin]\nmax_markup = \"100.5\"\n"));
    assert_eq!(e.path, "margin.max_markup");
    assert_eq!(e.message, "100.5 is above 100");
    let e = err_toml(&format!(
        "{MIN}[margin]\nmin_markup = \"0.30\"\nmax_markup = \"0.2\"\n"
    ));
    assert_eq!(e.path, "margin.max_markup");
    assert_eq!(e.message, "0.2 is below margin.min_markup 0.3");
    // Equal is allowed: the interval is the single exact price c x (1 + k).
    Policy::from_toml_str(&format!(
        "{MIN}[margin]\nmin_markup = \"0.3\"\nmax_markup = \"0.30\"\n"
    ))
    .unwrap();
    // (1 + 0.9) x (1 - 0.5) = 0.95 < 1: the cap is always under the floor.
    let e = err_toml(&format!(
        "{MIN}[margin]\nmin_margin = \"0.5\"\nmax_markup = \"0.9\"\n"
    ));
    assert_eq!(e.path, "margin.max_markup");
    assert!(e.message.contains("margin.min_margin 0.5"), "{e}");
    // (1 + 1) x (1 - 0.5) = 1: the cap equals the floor, allowed.
    Policy::from_toml_str(&format!(
        "{MIN}[margin]\nmin_margin = \"0.5\"\nmax_markup = \"1\"\n"
    ))
    .unwrap();
    // Checked after the segment merge, naming the segment.
    let e = err_toml(&format!(
        "{MIN}[margin]\nmin_markup = \"0.3\"\nmax_markup = \"1\"\n[[segments]]\nid = 4\nmargin = {{ max_markup = \"0.25\" }}\n"
    ));
    assert_eq!(e.path, "segments[0].margin.max_markup");
    assert_eq!(e.message, "0.25 is below margin.min_markup 0.3");
    // An upper source, not a lower one.
    Policy::from_toml_str(
        "name = \"t\"\ncurrency = \"USD\"\n[margin]\nmin_margin = \"0.1\"\nmax_markup = \"3\"\n",
    )
    .unwrap();
    let e = err_toml("name = \"t\"\ncurrency = \"USD\"\n[margin]\nmax_markup = \"3\"\n");
    assert_eq!(e.path, "bounds.min_price");
    assert!(e.message.starts_with("no lower bound source"), "{e}");
}

#[test]
fn segment_errors_name_the_segment() {
    let e = err_toml(&format!(
        "{MIN}[[segments]]\nid = 1\nmargin = {{ min_margin = \"2\" }}\n"
    ));
    assert_eq!(e.path, "segments[0].margin.min_margin");
    let e = err_toml(&format!(
        "{MIN}[[segments]]\nid = 1\n[[segments]]\nid = 1\n"
    ));
    assert_eq!(e.path, "segments[1].id");
    let e = err_toml(&format!(
        "{MIN}[[segments]]\nid = 1\npromotion = {{ budgets = {{ x = \"1\" }} }}\n"
    ));
    assert_eq!(e.path, "segments[0].promotion.budgets");
    let e = err_toml(&format!(
        "{MIN}[[segments]]\nid = 1\nbounds = {{ min_price = \"500\" }}\n"
    ));
    assert_eq!(e.path, "segments[0].bounds.min_price");
    assert_eq!(e.message, "500.00 is above bounds.max_price 100.00");
}

#[test]
fn toml_and_json_forms_compile_to_the_same_rules() {
    let toml = Policy::from_toml_str(SPEC_EXAMPLE).unwrap();
    let json = Policy::from_json_str(
        r#"{
        "segments": [{"id": 3, "margin": {"min_margin": 0.40}}],
        "breaker": {"min_batch": 100, "max_violation_ratio": 0.3},
        "endings": {"allowed": ["0.99", 0.49]},
        "promotion": {"budgets": {"spring-sale": 25000}, "max_discount": "0.5"},
        "change": {"max_changes": 6, "window_increase": "0.25", "window_secs": 604800,
                   "cooldown_secs": 3600, "max_decrease": "0.2", "max_increase": 0.1},
        "margin": {"min_margin": "0.150"},
        "bounds": {"max_price": 5000, "min_price": "0.99"},
        "currency": "USD", "version": "2026-11-27", "name": "default"
    }"#,
    )
    .unwrap();
    assert_eq!(toml.rules_for(None), json.rules_for(None));
    assert_eq!(toml.rules_for(Some(3)), json.rules_for(Some(3)));
    assert_eq!(
        toml.campaigns().collect::<Vec<_>>(),
        json.campaigns().collect::<Vec<_>>()
    );
    assert_eq!(toml.breaker(), json.breaker());
    let item = Item::new(1249)
        .with_unit_cost(1222)
        .with_current_price(1450);
    assert_eq!(toml.evaluate(&item), json.evaluate(&item));
}

#[test]
fn json_errors_carry_line_and_column() {
    let e = Policy::from_json_str(
        "{\n  \"name\": \"t\",\n  \"currency\": \"USD\",\n  \"tick\": true\n}",
    )
    .unwrap_err();
    assert_eq!(e.path, "tick");
    assert_eq!(e.line, Some(4));
    let e = Policy::from_json_str("{\"name\": \"t\"} trailing").unwrap_err();
    assert!(e.line.is_some());
    let e = Policy::from_json_str("").unwrap_err();
    assert!(!e.message.is_empty());
}

#[test]
fn version_may_be_a_number() {
    let p = Policy::from_toml_str(&format!("version = 7\n{MIN}")).unwrap();
    assert_eq!(p.version(), "7");
}

#[test]
fn jpy_kwd_and_chf_ticks() {
    let jpy = Policy::from_toml_str(
        "name = \"j\"\ncurrency = \"JPY\"\n[bounds]\nmin_price = \"100\"\nmax_price = \"100000\"\n",
    )
    .unwrap();
    assert_eq!(jpy.rules_for(None).min_price, Some(100));
    let kwd = Policy::from_toml_str(
        "name = \"k\"\ncurrency = \"KWD\"\n[bounds]\nmin_price = \"0.125\"\nmax_price = \"100\"\n",
    )
    .unwrap();
    assert_eq!(kwd.rules_for(None).min_price, Some(125));
    let chf = Policy::from_toml_str("name = \"c\"\ncurrency = \"CHF\"\ntick = \"0.05\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"100\"\n").unwrap();
    assert_eq!(chf.tick(), 5);
    let e = err_toml(
        "name = \"j\"\ncurrency = \"JPY\"\n[bounds]\nmin_price = \"0.5\"\nmax_price = \"100\"\n",
    );
    assert_eq!(e.message, "0.5 has more than 0 decimal places for JPY");
}

const LADDER_BASE: &str =
    "name = \"l\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"100\"\n";

/// `[ladder]` is read as exact fractions, in TOML and JSON alike, and
/// changes the policy hash only when present.
#[test]
fn ladder_table_loads_in_both_forms() {
    let toml = format!(
        "{LADDER_BASE}[ladder]\nmin_gap = \"0.05\"\nmax_gap = 0.5\nmin_unit_saving = \"0.10\"\n"
    );
    let p = Policy::from_toml_str(&toml).unwrap();
    let l = p.ladder().unwrap();
    assert_eq!(l.min_gap.map(|r| (r.num, r.den)), Some((5, 100)));
    assert_eq!(l.max_gap.map(|r| (r.num, r.den)), Some((5, 10)));
    assert_eq!(l.min_unit_saving.map(|r| (r.num, r.den)), Some((1, 10)));
    let json = r#"{"name":"l","currency":"USD","bounds":{"min_price":"1","max_price":"100"},
        "ladder":{"min_gap":"0.050","max_gap":"0.5","min_unit_saving":"0.1"}}"#;
    let j = Policy::from_json_str(json).unwrap();
    assert_eq!(p.content_hash(), j.content_hash());
    let without = Policy::from_toml_str(LADDER_BASE).unwrap();
    assert_eq!(without.ladder(), None);
    assert_ne!(without.content_hash(), p.content_hash());
}

/// Each bad `[ladder]` value is refused naming its key.
#[test]
fn ladder_table_errors_name_the_key() {
    for (body, path, message) in [
        ("min_gap = \"-0.1\"", "ladder.min_gap", "-0.1 is negative"),
        ("max_gap = \"101\"", "ladder.max_gap", "101 is above 100"),
        (
            "min_unit_saving = \"1\"",
            "ladder.min_unit_saving",
            "1 is 1 or above",
        ),
        (
            "min_gap = \"0.2\"\nmax_gap = \"0.1\"",
            "ladder.max_gap",
            "0.1 is below ladder.min_gap 0.2: no price could satisfy both",
        ),
        (
            "",
            "ladder",
            "sets no rule (min_gap, max_gap or min_unit_saving)",
        ),
    ] {
        let e = err_toml(&format!("{LADDER_BASE}[ladder]\n{body}\n"));
        assert_eq!(e.path, path, "{body}");
        assert_eq!(e.message, message, "{body}");
    }
    let e = err_toml(&format!("{LADDER_BASE}[ladder]\nmin_gapp = \"0.1\"\n"));
    assert!(e.message.contains("unknown field `min_gapp`"), "{e}");
    // Policy-wide: a segment cannot carry it.
    let e = err_toml(&format!(
        "{LADDER_BASE}[[segments]]\nid = 1\nladder = {{ min_gap = \"0.1\" }}\n"
    ));
    assert!(e.message.contains("unknown field `ladder`"), "{e}");
}

/// The history keys (docs/spec.md §8.1, §11.2): each bad value is refused
/// naming its key, and the cross-key checks name the key that needs the
/// other.
#[test]
fn history_keys_are_validated() {
    let cases: [(&str, &str, &str); 8] = [
        (
            "[disclosure]\nprior_days = 0\n",
            "disclosure.prior_days",
            "0 is not above 0",
        ),
        (
            "[disclosure]\nprior_days = 4000\n",
            "disclosure.prior_days",
            "4000 is above 3660 days (ten years)",
        ),
        (
            "[promotion]\nmax_days = 0\n",
            "promotion.max_days",
            "0 is not above 0",
        ),
        (
            "[promotion]\nmin_days_between = 0\n",
            "promotion.min_days_between",
            "0 is not above 0",
        ),
        (
            "[change]\nmax_reversals = 0\nwindow_secs = 3600\n",
            "change.max_reversals",
            "0 is not above 0",
        ),
        (
            "[market]\nmin_quotes = 0\n",
            "market.min_quotes",
            "0 is not above 0",
        ),
        (
            "[market]\nmax_quote_age_secs = 0\n",
            "market.max_quote_age_secs",
            "0 is not above 0",
        ),
        (
            "[market]\noutlier_mad = \"-1\"\n",
            "market.outlier_mad",
            "-1 is negative",
        ),
    ];
    for (tail, path, message) in cases {
        let e = err_toml(&format!("{MIN}{tail}"));
        assert_eq!(
            (e.path.as_str(), e.message.as_str()),
            (path, message),
            "{tail}"
        );
    }
    let e = err_toml(&format!("{MIN}[change]\nmax_reversals = 3\n"));
    assert_eq!(e.path, "change.max_reversals");
    assert!(e.message.starts_with("needs change.window_secs"), "{e}");
    let e = err_toml(&format!("{MIN}[market]\nrequired = true\n"));
    assert_eq!(e.path, "market.required");
    assert!(e.message.starts_with("needs market.min_quotes"), "{e}");
    let e = err_toml(&format!("{MIN}[disclosure]\nprior_days = 30\nwas = 1\n"));
    assert!(e.path.starts_with("disclosure"), "{e}");
}

/// The history keys compile to the rules they switch on, from TOML and
/// JSON alike, and change the policy hash only when set: a policy without
/// them keeps the hash it had before they existed.
#[test]
fn history_keys_compile_and_hash() {
    let plain = Policy::from_toml_str(MIN).unwrap();
    let text = format!(
        "{MIN}[disclosure]\nprior_days = 30\nprogressive = true\n\
         [promotion]\nmax_days = 14\nmin_days_between = 30\n\
         [change]\nmax_reversals = 3\nwindow_secs = 604800\n\
         [market]\nmin_index = \"0.9\"\nmax_quote_age_secs = 86400\nmin_quotes = 3\noutlier_mad = \"3\"\nrequired = true\n"
    );
    let p = Policy::from_toml_str(&text).unwrap();
    let r = p.rules_for(None);
    assert_eq!(r.prior_days, Some(30));
    assert!(r.progressive);
    assert_eq!(
        (r.promo_max_days, r.promo_min_days_between),
        (Some(14), Some(30))
    );
    assert_eq!(r.max_reversals, Some(3));
    assert_eq!(
        (r.max_quote_age_secs, r.min_quotes),
        (Some(86_400), Some(3))
    );
    assert_eq!(r.outlier_mad.map(|k| (k.num, k.den)), Some((3, 1)));
    assert!(r.market_required && r.quote_gate());
    let names: Vec<&str> = r.rules().iter().map(|x| x.name()).collect();
    for rule in ["prior_price", "promo_spell", "oscillation"] {
        assert!(names.contains(&rule), "{rule} in {names:?}");
    }
    let json = r#"{"name":"t","currency":"USD","bounds":{"min_price":"1","max_price":"100"},
        "disclosure":{"prior_days":30,"progressive":true},
        "promotion":{"max_days":14,"min_days_between":30},
        "change":{"max_reversals":3,"window_secs":604800},
        "market":{"min_index":"0.9","max_quote_age_secs":86400,"min_quotes":3,"outlier_mad":3,"required":true}}"#;
    let j = Policy::from_json_str(json).unwrap();
    assert_eq!(j.rules_for(None), r);
    assert_eq!(j.content_hash(), p.content_hash());
    assert_ne!(p.content_hash(), plain.content_hash());
    // `progressive = false` is the default: written or not, one hash.
    let off = Policy::from_toml_str(&format!("{MIN}[disclosure]\nprior_days = 30\n")).unwrap();
    let off_written = Policy::from_toml_str(&format!(
        "{MIN}[disclosure]\nprior_days = 30\nprogressive = false\n"
    ))
    .unwrap();
    assert_eq!(off.content_hash(), off_written.content_hash());
    assert_ne!(off.content_hash(), plain.content_hash());
}
