//! Policy text must have the policy's shape: every table is an object (a
//! JSON object, a TOML table), never an array of its values by position,
//! and each error says what kind of problem it is (docs/spec.md §8).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use priceguard::policy::PolicyErrorKind;
use priceguard::{Policy, PolicyError};

fn json_err(text: &str) -> PolicyError {
    match Policy::from_json_str(text) {
        Ok(_) => panic!("policy was accepted:\n{text}"),
        Err(e) => e,
    }
}

fn toml_err(text: &str) -> PolicyError {
    match Policy::from_toml_str(text) {
        Ok(_) => panic!("policy was accepted:\n{text}"),
        Err(e) => e,
    }
}

const OK_JSON: &str =
    r#"{"name":"p","currency":"USD","bounds":{"min_price":"1","max_price":"100"}}"#;

#[test]
fn the_object_form_loads() {
    Policy::from_json_str(OK_JSON).unwrap();
}

#[test]
fn a_positional_policy_is_refused() {
    let e =
        json_err(r#"["p","1","USD",null,null,false,false,{"min_price":"1","max_price":"100"}]"#);
    assert_eq!(e.kind, PolicyErrorKind::Syntax);
    assert_eq!(e.path, "");
    assert_eq!(e.message, "a policy must be a JSON object, not an array");
    assert_eq!((e.line, e.column), (Some(1), Some(1)));
}

#[test]
fn a_policy_that_is_not_an_object_says_so() {
    let e = json_err(r#""policy""#);
    assert_eq!(e.kind, PolicyErrorKind::Syntax);
    assert!(
        e.message
            .starts_with("a policy must be a JSON object, not string"),
        "{e}"
    );
}

#[test]
fn a_positional_table_is_refused_at_every_depth() {
    let cases = [
        (
            r#"{"name":"p","currency":"USD","bounds":["1","100"]}"#,
            "bounds",
        ),
        (
            r#"{"name":"p","currency":"USD","bounds":{"min_price":"1","max_price":"100"},"margin":["0.1"]}"#,
            "margin",
        ),
        (
            r#"{"name":"p","currency":"USD","bounds":{"min_price":"1","max_price":"100"},"change":["0.1","0.2"]}"#,
            "change",
        ),
        (
            r#"{"name":"p","currency":"USD","bounds":{"min_price":"1","max_price":"100"},"breaker":["0.3",100]}"#,
            "breaker",
        ),
        (
            r#"{"name":"p","currency":"USD","bounds":{"min_price":"1","max_price":"100"},"segments":[[3]]}"#,
            "segments[0]",
        ),
        (
            r#"{"name":"p","currency":"USD","bounds":{"min_price":"1","max_price":"100"},"segments":[{"id":3,"margin":["0.4"]}]}"#,
            "segments[0].margin",
        ),
    ];
    for (text, path) in cases {
        let e = json_err(text);
        assert_eq!(e.kind, PolicyErrorKind::Syntax, "{text}");
        assert_eq!(e.path, path, "{text}");
        assert_eq!(e.message, "must be an object, not an array", "{text}");
        assert!(e.line.is_some(), "{text}");
    }
}

#[test]
fn a_toml_table_written_as_an_array_is_refused() {
    let base = "name = \"p\"\ncurrency = \"USD\"\n";
    let cases = [
        (format!("{base}bounds = [\"1\", \"100\"]\n"), "bounds"),
        (
            format!("{base}[[bounds]]\nmin_price = \"1\"\nmax_price = \"100\"\n"),
            "bounds",
        ),
        (
            format!(
                "{base}[bounds]\nmin_price = \"1\"\nmax_price = \"100\"\n[[segments]]\nid = 3\nmargin = [\"0.4\"]\n"
            ),
            "segments[0].margin",
        ),
    ];
    for (text, path) in cases {
        let e = toml_err(&text);
        assert_eq!(e.kind, PolicyErrorKind::Syntax, "{text}");
        assert_eq!(e.path, path, "{text}");
        assert_eq!(e.message, "must be a table, not an array", "{text}");
    }
}

#[test]
fn malformed_text_is_a_syntax_error() {
    assert_eq!(json_err("{\"name\": ").kind, PolicyErrorKind::Syntax);
    let e = json_err(&format!("{OK_JSON} x"));
    assert_eq!(e.kind, PolicyErrorKind::Syntax, "{e:?}");
    let e = toml_err("name = = 3");
    assert_eq!(e.kind, PolicyErrorKind::Syntax, "{e:?}");
    // A wrong type is the text's shape too.
    let e = toml_err("name = \"p\"\ncurrency = \"USD\"\nfreeze = \"yes\"\n");
    assert_eq!(e.kind, PolicyErrorKind::Syntax, "{e}");
    assert_eq!(e.path, "freeze");
}

#[test]
fn wrong_values_are_invalid_not_syntax() {
    // Unknown key, missing key, a decimal that is not one, a rule value
    // out of range: the text parsed, the policy is wrong.
    let bounds = "[bounds]\nmin_price = \"1\"\nmax_price = \"100\"\n";
    let cases = [
        format!("name = \"p\"\ncurrency = \"USD\"\ncolour = 1\n{bounds}"),
        format!("name = \"p\"\n{bounds}"),
        format!("name = \"p\"\ncurrency = \"USD\"\n{bounds}[margin]\nmin_margin = \"abc\"\n"),
        format!("name = \"p\"\ncurrency = \"USD\"\n{bounds}[margin]\nmin_margin = \"1.5\"\n"),
    ];
    for text in cases {
        assert_eq!(toml_err(&text).kind, PolicyErrorKind::Invalid, "{text}");
    }
    let e = json_err(
        r#"{"name":"p","currency":"USD","bounds":{"min_price":"1","max_price":"100"},"margin":{"min_margin":"abc"}}"#,
    );
    assert_eq!(e.kind, PolicyErrorKind::Invalid, "{e}");
}

#[test]
fn file_errors_have_their_own_kinds() {
    let dir = std::env::temp_dir().join(format!("priceguard-shape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    assert_eq!(
        Policy::from_path(dir.join("missing.toml"))
            .unwrap_err()
            .kind,
        PolicyErrorKind::NotFound
    );
    assert_eq!(
        Policy::from_path(&dir).unwrap_err().kind,
        PolicyErrorKind::NotAFile
    );
    let big = dir.join("big.json");
    std::fs::write(&big, OK_JSON).unwrap();
    Policy::from_path(&big).unwrap();
    let e = Policy::from_path_limited(&big, 10).unwrap_err();
    assert_eq!(e.kind, PolicyErrorKind::TooLarge);
    assert!(e.message.contains("10 bytes"), "{e}");
    let latin1 = dir.join("latin1.toml");
    std::fs::write(&latin1, b"name = \"caf\xe9\"\n").unwrap();
    assert_eq!(
        Policy::from_path(&latin1).unwrap_err().kind,
        PolicyErrorKind::Encoding
    );
    #[cfg(unix)]
    {
        let e = Policy::from_path("/dev/zero").unwrap_err();
        assert_eq!(e.kind, PolicyErrorKind::NotAFile, "{e}");
        // A named pipe is refused before it is opened: opening one for
        // reading would wait for a writer forever.
        let fifo = dir.join("policy.toml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let e = Policy::from_path(&fifo).unwrap_err();
            assert_eq!(e.kind, PolicyErrorKind::NotAFile, "{e}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
