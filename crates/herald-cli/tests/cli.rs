//! `herald schemas diff` run as a process against schemas in temporary files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn herald(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run herald")
}

fn write(dir: &Path, name: &str, schema: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(schema).expect("json")).expect("write");
    path
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

struct Fixture {
    _dir: tempfile::TempDir,
    v1: PathBuf,
    v2_compatible: PathBuf,
    v2_breaking: PathBuf,
    garbage: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = json!({
        "type": "object",
        "properties": {"id": {"type": "string"}, "zip": {"type": "string"}},
        "required": ["id"],
        "additionalProperties": false
    });
    let mut compatible = base.clone();
    compatible["properties"]["note"] = json!({"type": "string"});
    let mut breaking = base.clone();
    breaking["properties"]["zip"] = json!({"type": "integer"});
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{ not json").expect("write");
    Fixture {
        v1: write(dir.path(), "v1.json", &base),
        v2_compatible: write(dir.path(), "v2-ok.json", &compatible),
        v2_breaking: write(dir.path(), "v2-bad.json", &breaking),
        garbage,
        _dir: dir,
    }
}

#[test]
fn compatible_change_exits_zero_and_lists_it() {
    let f = fixture();
    let o = herald(&["schemas", "diff", s(&f.v1), s(&f.v2_compatible)]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("compatible"), "{out}");
    assert!(
        out.contains("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/note"),
        "{out}"
    );
    // Not a terminal: no colour codes.
    assert!(!out.contains('\x1b'), "{out:?}");
}

#[test]
fn breaking_change_exits_one_with_a_sentence() {
    let f = fixture();
    let o = herald(&["schemas", "diff", s(&f.v1), s(&f.v2_breaking)]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("incompatible"), "{out}");
    assert!(
        out.contains("field `zip` changed from string to integer: data written with the previous version can no longer be read"),
        "{out}"
    );
}

#[test]
fn json_format_has_the_documented_shape() {
    let f = fixture();
    let o = herald(&[
        "schemas",
        "diff",
        s(&f.v1),
        s(&f.v2_breaking),
        "--format",
        "JSON",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["is_compatible"], json!(false));
    let diffs = v["differences"].as_array().expect("array");
    assert_eq!(diffs.len(), 1);
    assert_eq!(diffs[0]["type"], "TYPE_CHANGED");
    assert_eq!(diffs[0]["path"], "#/properties/zip");
    assert!(
        diffs[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("zip"))
    );
    let keys: Vec<&String> = diffs[0].as_object().expect("object").keys().collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
}

#[test]
fn levels_and_policies_in_any_case() {
    let f = fixture();
    // Forward: v1 readers see v2's extra property as unknown in a closed model.
    let o = herald(&[
        "schemas",
        "diff",
        s(&f.v1),
        s(&f.v2_compatible),
        "--level",
        "forward",
        "--policy",
        "LENIENT",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = herald(&[
        "schemas",
        "diff",
        s(&f.v1),
        s(&f.v2_compatible),
        "--level",
        "Full_Transitive",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
        "{out}"
    );
    assert!(
        out.contains("consumers still on the previous version"),
        "{out}"
    );
}

#[test]
fn transitive_levels_read_every_previous_version() {
    let f = fixture();
    // New = v1 again, previous = [v2-ok, v2-bad]: only the older one breaks.
    let args = [
        "schemas",
        "diff",
        s(&f.v2_compatible),
        s(&f.v1),
        "--previous",
        s(&f.v2_breaking),
    ];
    let o = herald(&args);
    assert_eq!(
        o.status.code(),
        Some(1),
        "BACKWARD: v1 cannot read what v2-ok wrote (closed model)"
    );
    let mut transitive = args.to_vec();
    transitive.extend([
        "--level",
        "backward_transitive",
        "--policy",
        "lenient",
        "--format",
        "json",
    ]);
    let o = herald(&transitive);
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    let types: Vec<&str> = v["differences"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|d| d["type"].as_str())
        .collect();
    assert!(types.contains(&"TYPE_CHANGED"), "{types:?}");
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn usage_and_input_errors_exit_two() {
    let f = fixture();
    // Missing argument (clap).
    assert_eq!(
        herald(&["schemas", "diff", s(&f.v1)]).status.code(),
        Some(2)
    );
    // Unknown level.
    let o = herald(&["schemas", "diff", s(&f.v1), s(&f.v1), "--level", "sideways"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("sideways"));
    // Unreadable and non-JSON files.
    let missing = f.v1.with_file_name("nope.json");
    let o = herald(&["schemas", "diff", s(&missing), s(&f.v1)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope.json"));
    let o = herald(&["schemas", "diff", s(&f.v1), s(&f.garbage)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not valid JSON"));
}

#[test]
fn invalid_schema_is_an_input_error_with_its_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(dir.path(), "good.json", &json!({"type": "string"}));
    let bad = write(
        dir.path(),
        "bad.json",
        &json!({"properties": {"a": {"minLength": -1}}}),
    );
    let o = herald(&["schemas", "diff", s(&good), s(&bad)]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("#/properties/a"), "{err}");
}

#[test]
fn external_references_are_read_next_to_the_new_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "address.json",
        &json!({"type": "object", "properties": {"zip": {"type": "integer"}}}),
    );
    let old = write(
        dir.path(),
        "old.json",
        &json!({"type": "object", "properties": {"address": {
        "type": "object", "properties": {"zip": {"type": "string"}}}}}),
    );
    let new = write(
        dir.path(),
        "new.json",
        &json!({"type": "object", "properties": {"address": {"$ref": "address.json"}}}),
    );
    let o = herald(&["schemas", "diff", s(&old), s(&new), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(
        v["differences"][0]["path"],
        "#/properties/address/properties/zip"
    );
}

#[test]
fn help_exits_zero() {
    let o = herald(&["schemas", "diff", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("--previous"));
}
