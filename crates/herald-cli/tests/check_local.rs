//! `herald schemas check` on a directory alone and against another directory (`dir:`), with
//! herald.toml, usage errors and snapshots of the human, JSON and GitHub outputs.

mod common;

use common::*;
use serde_json::{Value, json};

/// A project folder with `schemas/`: order.created v1+v2 (as given), payment.requested v1.
fn project(order_v2: &Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let schemas = dir.path().join("schemas");
    put(&schemas, "order.created", 1, &order_v1());
    put(&schemas, "order.created", 2, order_v2);
    put(&schemas, "payment.requested", 1, &payment_v1());
    dir
}

#[test]
fn compatible_versions_pass() {
    let p = project(&order_v2_compatible());
    let o = herald_in(p.path(), &["schemas", "check"]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let out = stdout(&o);
    assert!(
        out.contains("✓ order.created [BACKWARD, STRICT]: compatible"),
        "{out}"
    );
    assert!(
        out.contains("    schemas/order.created/v2.json against v1\n      ✓ OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/note\n"),
        "{out}"
    );
    assert!(out.contains("2 events checked: all compatible"), "{out}");
    assert!(!out.contains('\x1b'), "no colour off a terminal: {out:?}");
}

#[test]
fn breaking_version_fails_with_path_and_sentence() {
    let p = project(&order_v2_breaking());
    let o = herald_in(p.path(), &["schemas", "check", "schemas"]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let out = stdout(&o);
    assert!(
        out.contains("✗ order.created [BACKWARD, STRICT]: incompatible (1 breaking change)"),
        "{out}"
    );
    assert!(
        out.contains("    schemas/order.created/v2.json against v1\n      ✗ TYPE_CHANGED #/properties/amount\n"),
        "{out}"
    );
    assert!(
        out.contains("field `amount` changed from string to integer"),
        "{out}"
    );
    assert!(
        out.contains("2 events checked: 1 incompatible (1 breaking change), 1 compatible"),
        "{out}"
    );
}

#[test]
fn human_output_snapshot() {
    let p = project(&order_v2_breaking());
    put(
        &p.path().join("schemas"),
        "order.created",
        3,
        &order_v2_breaking(),
    );
    let o = herald_in(
        p.path(),
        &["schemas", "check", "--level", "backward_transitive"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    insta::assert_snapshot!("human_transitive_break", stdout(&o));
}

#[test]
fn json_output_snapshot_and_shape() {
    let p = project(&order_v2_breaking());
    let o = herald_in(p.path(), &["schemas", "check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["is_compatible"], false);
    assert_eq!(
        v["summary"],
        json!({"events": 2, "compatible": 1, "incompatible": 1, "breaking_changes": 1})
    );
    let order = &v["events"][0];
    assert_eq!(order["event"], "order.created");
    assert_eq!(order["status"], "incompatible");
    assert_eq!(order["differences"][0]["path"], "#/properties/amount");
    assert_eq!(
        order["differences"][0]["previous"],
        json!({"version": 1, "source": "local"})
    );
    insta::assert_snapshot!("json_break", stdout(&o));
}

#[test]
fn github_annotations() {
    let p = project(&order_v2_breaking());
    let o = herald_in(p.path(), &["schemas", "check", "--format", "GitHub"]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let out = stdout(&o);
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(
            "::error file=schemas/order.created/v2.json,title=order.created v2%3A TYPE_CHANGED at #/properties/amount::field `amount` changed from string to integer"
        ),
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| l.starts_with("::error")).count(),
        1,
        "{out}"
    );
}

#[test]
fn herald_toml_sets_a_level_per_event() {
    let p = project(&order_v2_breaking());
    // A deliberate break, handled by upcasting: this event is not checked.
    std::fs::write(
        p.path().join("herald.toml"),
        "[schemas]\nlevel = \"FULL\"\n\n[schemas.events.\"order.created\"]\nlevel = \"none\"\n",
    )
    .expect("write");
    std::fs::create_dir(p.path().join(".git")).expect("mark the repository root");
    let o = herald_in(p.path(), &["schemas", "check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["events"][0]["level"], "NONE");
    assert_eq!(v["events"][1]["level"], "FULL");
    // Found from a subdirectory too: the walk goes up to the repository root.
    let o = herald_in(&p.path().join("schemas"), &["schemas", "check", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    // --level does not override the event's own entry, only the default.
    let o = herald_in(
        p.path(),
        &[
            "schemas", "check", "--level", "backward", "--format", "json",
        ],
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["events"][0]["level"], "NONE");
    assert_eq!(v["events"][1]["level"], "BACKWARD");
    // A typo is an error, not a silently weaker check.
    std::fs::write(
        p.path().join("herald.toml"),
        "[schemas]\nlevle = \"FULL\"\n",
    )
    .expect("write");
    let o = herald_in(p.path(), &["schemas", "check"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(stderr(&o).contains("levle"), "{}", both(&o));
}

#[test]
fn against_another_directory() {
    let released = tempfile::tempdir().expect("tempdir");
    put(released.path(), "order.created", 1, &order_v1());
    put(released.path(), "payment.requested", 1, &payment_v1());
    let base = format!("dir:{}", released.path().display());

    // A new compatible version, a new event: passes, payment unchanged.
    let p = project(&order_v2_compatible());
    put(
        &p.path().join("schemas"),
        "shipment.sent",
        1,
        &json!({"type": "object"}),
    );
    let o = herald_in(
        p.path(),
        &["schemas", "check", "--against", &base, "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    let status: Vec<&str> = v["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(status, ["compatible", "unchanged", "new"]);
    assert_eq!(
        v["events"][0]["checked"][0]["previous"],
        json!([{"version": 1, "source": "against"}])
    );

    // A breaking new version fails.
    let p = project(&order_v2_breaking());
    let o = herald_in(p.path(), &["schemas", "check", "--against", &base]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(
        stdout(&o).contains("TYPE_CHANGED #/properties/amount"),
        "{}",
        both(&o)
    );
}

#[test]
fn usage_and_input_errors_exit_two() {
    let p = project(&order_v2_compatible());
    let cases: &[&[&str]] = &[
        &["schemas", "check", "--level", "sideways"],
        &["schemas", "check", "--policy", "loose"],
        &["schemas", "check", "--against", "svn:trunk"],
        &["schemas", "check", "--format", "xml"],
        &["schemas", "check", "no-such-dir"],
        &["schemas", "check", "--against", "dir:no-such-dir"],
        &[
            "schemas",
            "check",
            "--against",
            "registry:http://127.0.0.1:1",
            "--subject-template",
            "fixed",
        ],
        &[
            "schemas",
            "check",
            "--token",
            "t",
            "--user",
            "u",
            "--password",
            "p",
            "--against",
            "registry:http://127.0.0.1:1",
        ],
        &["schemas", "register"],
    ];
    for args in cases {
        let o = herald_in(p.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", both(&o));
        assert!(!stderr(&o).is_empty(), "{args:?}: the cause is printed");
    }
    std::fs::write(p.path().join("schemas/order.created/v3.json"), "{ nope").expect("write");
    let o = herald_in(p.path(), &["schemas", "check"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(
        stderr(&o).contains("schemas/order.created/v3.json is not valid JSON"),
        "{}",
        both(&o)
    );
}

#[test]
fn empty_directory_is_not_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("schemas")).expect("mkdir");
    let o = herald_in(dir.path(), &["schemas", "check"]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert!(
        stdout(&o).contains("no event schemas in schemas"),
        "{}",
        both(&o)
    );
}

#[test]
fn the_repository_schemas_pass() {
    // The workspace's own schemas/ (exported from the example events), with the repository's
    // herald.toml (order.placed v2 is a deliberate break, read through an upcast).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let o = herald_in(&root, &["schemas", "check", "schemas", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert!(v["events"].as_array().is_some_and(|e| !e.is_empty()), "{v}");
}
