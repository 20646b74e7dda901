//! `check_json` (its own parser, arena reused across calls) against `check` (serde_json
//! values): the same reports on the generated benchmark pairs, the same errors for texts that
//! are not JSON, and the reference fallback.

use std::collections::HashMap;

use herald_schema::{
    CompatibilityLevel as L, NoReferences, Policy, ReferenceResolver, SchemaError, check,
    check_json,
};
use serde_json::{Value, json};

#[path = "support/generated_pairs.rs"]
mod generated_pairs;

use generated_pairs::generated_pair;

const LEVELS: [L; 4] = [L::Backward, L::Forward, L::Full, L::FullTransitive];
const POLICIES: [Policy; 2] = [Policy::Strict, Policy::Lenient];

fn parsed(text: &str) -> Value {
    serde_json::from_str(text).expect("JSON")
}

#[test]
fn text_and_values_give_the_same_reports_on_the_benchmark_pairs() {
    for size in ["small", "medium"] {
        let (old, new) = generated_pair(size);
        let (old_v, new_v) = (parsed(&old), parsed(&new));
        for level in LEVELS {
            for policy in POLICIES {
                // Twice each way round: the second call reuses the thread's arena.
                for (a, b, a_v, b_v) in [
                    (&new, &old, &new_v, &old_v),
                    (&old, &new, &old_v, &new_v),
                    (&new, &old, &new_v, &old_v),
                ] {
                    let from_text = check_json(level, policy, a, &[b], &NoReferences)
                        .unwrap_or_else(|e| panic!("{size} {level:?}: {e}"));
                    let from_values =
                        check(level, policy, a_v, std::slice::from_ref(b_v), &NoReferences)
                            .unwrap_or_else(|e| panic!("{size} {level:?}: {e}"));
                    assert_eq!(from_text, from_values, "{size} {level:?} {policy:?}");
                }
            }
        }
        // The pair is incompatible (an integer became a string).
        let report =
            check_json(L::Backward, Policy::Strict, &new, &[&old], &NoReferences).expect("check");
        assert!(!report.is_compatible, "{size}");
        // Transitive: the previous versions are all parsed into the same arena.
        let previous = [old.as_str(), new.as_str(), old.as_str()];
        let from_text = check_json(
            L::BackwardTransitive,
            Policy::Strict,
            &new,
            &previous,
            &NoReferences,
        )
        .expect("check");
        let from_values = check(
            L::BackwardTransitive,
            Policy::Strict,
            &new_v,
            &[old_v.clone(), new_v.clone(), old_v.clone()],
            &NoReferences,
        )
        .expect("check");
        assert_eq!(from_text, from_values, "{size} transitive");
    }
}

#[test]
fn duplicate_keys_read_as_serde_json_reads_them() {
    // The last `type` wins in both.
    let old = r#"{"type": "object", "properties": {"a": {"type": "string", "type": "integer"}}}"#;
    let new =
        r#"{"type": "object", "properties": {"a": {"type": "string"}, "a": {"type": "integer"}}}"#;
    let from_text = check_json(L::Full, Policy::Strict, new, &[old], &NoReferences).expect("check");
    let from_values = check(
        L::Full,
        Policy::Strict,
        &parsed(new),
        &[parsed(old)],
        &NoReferences,
    )
    .expect("check");
    assert_eq!(from_text, from_values);
    assert!(from_text.is_compatible);
}

#[test]
fn a_text_that_is_not_json_is_invalid_at_the_root_with_line_and_column() {
    let err = check_json(
        L::Backward,
        Policy::Strict,
        "{\n  \"type\": \"string\",\n}",
        &["{}"],
        &NoReferences,
    )
    .expect_err("not JSON");
    assert_eq!(
        err,
        SchemaError::Invalid {
            path: "#/".into(),
            reason: "not valid JSON: line 3 column 1: trailing comma".into(),
        }
    );
    // In a previous version, the error names it.
    let err = check_json(
        L::BackwardTransitive,
        Policy::Strict,
        "{}",
        &["{}", "[1 2]"],
        &NoReferences,
    )
    .expect_err("not JSON");
    assert_eq!(
        err,
        SchemaError::Invalid {
            path: "previous[1] #/".into(),
            reason: "not valid JSON: line 1 column 4: expected ',' or ']'".into(),
        }
    );
    // Not looked at, so not parsed: BACKWARD reads the newest previous version only.
    check_json(
        L::Backward,
        Policy::Strict,
        "{}",
        &["{}", "[1 2]"],
        &NoReferences,
    )
    .expect("ok");
    let err =
        check_json(L::Backward, Policy::Strict, "", &["{}"], &NoReferences).expect_err("empty");
    assert_eq!(
        err.to_string(),
        "invalid schema at #/: not valid JSON: line 1 column 1: empty input"
    );
}

#[test]
fn json_nested_past_the_limit_is_a_limit_not_a_crash() {
    let depth = herald_schema::limits::MAX_JSON_DEPTH + 1;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let err =
        check_json(L::Backward, Policy::Strict, &deep, &["{}"], &NoReferences).expect_err("deep");
    assert!(
        matches!(&err, SchemaError::LimitExceeded { path, reason } if path == "#/" && reason.contains("nesting deeper than 512")),
        "{err}"
    );
    let err = check_json(
        L::Backward,
        Policy::Strict,
        "{}",
        &[&"{\"not\":".repeat(100_000)],
        &NoReferences,
    )
    .expect_err("deep");
    assert!(
        matches!(&err, SchemaError::LimitExceeded { path, .. } if path == "previous[0] #/"),
        "{err}"
    );
}

/// Resolves every reference to a string schema, and checks two texts with `check_json` while
/// doing it, as a resolver that consults the registry might.
struct Reentrant;

impl ReferenceResolver for Reentrant {
    fn resolve(&self, _uri: &str) -> Option<Value> {
        let inner = check_json(
            L::Backward,
            Policy::Strict,
            r#"{"type": "string"}"#,
            &[r#"{"type": "string"}"#],
            &NoReferences,
        )
        .expect("inner check");
        assert!(inner.is_compatible);
        Some(json!({"type": "string"}))
    }
}

#[test]
fn external_references_take_the_serde_json_path() {
    let old = r#"{"type": "object", "properties": {"a": {"$ref": "other.json"}}}"#;
    let new = r#"{"type": "object", "properties": {"a": {"type": "integer"}}}"#;
    let resolver: HashMap<String, Value> =
        HashMap::from([("other.json".to_owned(), json!({"type": "string"}))]);
    let from_text = check_json(L::Backward, Policy::Strict, new, &[old], &resolver).expect("check");
    let from_values = check(
        L::Backward,
        Policy::Strict,
        &parsed(new),
        &[parsed(old)],
        &resolver,
    )
    .expect("check");
    assert_eq!(from_text, from_values);
    assert!(!from_text.is_compatible);
    // A resolver may itself call `check_json`.
    let from_text =
        check_json(L::Backward, Policy::Strict, new, &[old], &Reentrant).expect("check");
    assert_eq!(from_text, from_values);
}
