//! `herald::schemas`: export, check and the update command, on this binary's catalog.

use std::path::Path;
use std::process::Command;

use herald::Event;
use herald::schemas::{self, Problem};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "invoice.issued", version = 1)]
struct InvoiceIssuedV1 {
    #[event(aggregate_id)]
    invoice: String,
    total: f64,
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "invoice.issued", version = 2, previous = InvoiceIssuedV1)]
struct InvoiceIssued {
    #[event(aggregate_id)]
    invoice: String,
    total_cents: i64,
}

impl From<InvoiceIssuedV1> for InvoiceIssued {
    fn from(v1: InvoiceIssuedV1) -> Self {
        InvoiceIssued {
            invoice: v1.invoice,
            total_cents: (v1.total * 100.0) as i64,
        }
    }
}

#[test]
fn export_writes_one_pretty_file_per_version_and_is_deterministic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = schemas::export(dir.path()).expect("exports");
    let v1 = dir.path().join("invoice.issued/v1.json");
    let v2 = dir.path().join("invoice.issued/v2.json");
    assert_eq!(written, [v1.clone(), v2.clone()]);

    let text = std::fs::read_to_string(&v2).expect("written");
    assert_eq!(text, schemas::render(&InvoiceIssued::schema()));
    assert!(
        text.ends_with("}\n") && text.contains("\n  \""),
        "pretty JSON with a trailing newline"
    );
    let stored: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(stored, InvoiceIssued::schema());
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&v1).expect("v1"))
            .expect("JSON"),
        InvoiceIssuedV1::schema()
    );

    // Nothing changed: nothing is rewritten, and the text is the same byte for byte.
    assert!(schemas::export(dir.path()).expect("exports").is_empty());
    assert_eq!(std::fs::read_to_string(&v2).expect("still there"), text);
    schemas::check(dir.path()).expect("in sync right after export");
    schemas::assert_in_sync(dir.path());
}

/// Writes what the file would hold if the struct had had a `String` total.
fn simulate_changed_struct(dir: &Path) {
    let path = dir.join("invoice.issued/v2.json");
    let mut old = InvoiceIssued::schema();
    old["properties"]["total_cents"]["type"] = "string".into();
    std::fs::write(&path, schemas::render(&old)).expect("write");
}

#[test]
fn a_struct_changed_without_a_version_bump_fails_naming_event_change_and_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    schemas::export(dir.path()).expect("exports");
    simulate_changed_struct(dir.path());

    let error = schemas::check(dir.path()).expect_err("out of sync");
    assert_eq!(error.problems.len(), 1, "{error}");
    assert!(matches!(
        &error.problems[0],
        Problem::Changed {
            event: "invoice.issued",
            version: 2,
            ..
        }
    ));
    let message = error.to_string();
    for expected in [
        "event `invoice.issued` v2",
        "(`schemas::InvoiceIssued`)",
        "changed without a version bump",
        "invoice.issued/v2.json",
        "total_cents",
        "bump `#[event(version = ...)]`",
        "HERALD_UPDATE_SCHEMAS=1 cargo test",
    ] {
        assert!(
            message.contains(expected),
            "missing {expected:?} in:\n{message}"
        );
    }
    // The change in the compatibility engine's words, from the file to the code.
    assert!(
        message.contains("TYPE_CHANGED at #/properties/total_cents: field `total_cents` changed from string to integer"),
        "{message}"
    );

    // `assert_in_sync` panics with that message in a test process (without the update
    // variable, whatever this process's environment says).
    let output = run_assert_in_sync(dir.path(), None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains(&message), "{stderr}");
}

/// Runs `assert_in_sync(dir)` in a child test process, with `HERALD_UPDATE_SCHEMAS` set
/// to `update` or unset.
fn run_assert_in_sync(dir: &Path, update: Option<&str>) -> std::process::Output {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .args([
            "--exact",
            "assert_in_sync_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("HERALD_TEST_SCHEMAS_DIR", dir)
        .env("RUST_BACKTRACE", "0");
    match update {
        Some(value) => command.env(schemas::UPDATE_ENV, value),
        None => command.env_remove(schemas::UPDATE_ENV),
    };
    command.output().expect("runs")
}

#[test]
fn a_new_version_not_yet_exported_fails_with_the_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    schemas::export(dir.path()).expect("exports");
    std::fs::remove_file(dir.path().join("invoice.issued/v2.json")).expect("remove");

    let error = schemas::check(dir.path()).expect_err("v2 missing");
    let message = error.to_string();
    assert!(
        message
            .contains("event `invoice.issued` v2 (`schemas::InvoiceIssued`) has not been exported"),
        "{message}"
    );
    assert!(
        message.contains("HERALD_UPDATE_SCHEMAS=1 cargo test"),
        "{message}"
    );
    // Only the missing version is reported.
    assert_eq!(error.problems.len(), 1);
}

#[test]
fn a_version_no_type_derives_is_reported_and_other_documents_are_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    schemas::export(dir.path()).expect("exports");
    std::fs::write(dir.path().join("invoice.issued/address.json"), "{}").expect("write");
    schemas::check(dir.path()).expect("a $ref document is not a version");
    std::fs::write(dir.path().join("invoice.issued/v3.json"), "{}").expect("write");
    let error = schemas::check(dir.path()).expect_err("v3 is unknown");
    assert!(
        matches!(&error.problems[..], [Problem::Unknown { event, version: 3, .. }] if event == "invoice.issued"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("which no type linked into this test derives"),
        "{error}"
    );
}

#[test]
fn no_events_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error = schemas::check_events(dir.path(), &[]).expect_err("nothing to check");
    assert!(
        matches!(&error.problems[..], [Problem::NoEvents]),
        "{error}"
    );
    assert!(
        error.to_string().contains("add `use herald as _;`"),
        "{error}"
    );
    assert!(schemas::export_events(dir.path(), &[]).is_err());
}

#[test]
fn a_file_that_is_not_json_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    schemas::export(dir.path()).expect("exports");
    std::fs::write(dir.path().join("invoice.issued/v1.json"), "{ not json").expect("write");
    let message = schemas::check(dir.path()).expect_err("broken").to_string();
    assert!(message.contains("event `invoice.issued` v1"), "{message}");
    assert!(message.contains("not valid JSON"), "{message}");
}

#[test]
fn the_update_command_rewrites_the_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    schemas::export(dir.path()).expect("exports");
    simulate_changed_struct(dir.path());
    std::fs::remove_file(dir.path().join("invoice.issued/v1.json")).expect("remove");
    assert!(schemas::check(dir.path()).is_err());

    // `HERALD_UPDATE_SCHEMAS=1 cargo test` runs `assert_in_sync` with the variable set.
    let output = run_assert_in_sync(dir.path(), Some("1"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("herald: wrote"), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 passed"));
    schemas::check(dir.path()).expect("in sync after the update");
}

/// The child process of `run_assert_in_sync`.
#[test]
#[ignore = "run as a child process by the tests above"]
fn assert_in_sync_child() {
    let dir = std::env::var("HERALD_TEST_SCHEMAS_DIR").expect("run by the parent test");
    schemas::assert_in_sync(dir);
}

// The one-line form a user's crate would have, over this crate's committed fixtures
// (`HERALD_UPDATE_SCHEMAS=1 cargo test -p herald --test schemas` rewrites them).
herald::schemas_test!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemas"));
