//! Behaviour beyond single difference types: levels, references, drafts, errors and limits.

use std::collections::HashMap;

use herald_schema::{
    CompatibilityLevel as L, DifferenceType as T, Direction, NoReferences, Policy, Report,
    SchemaError, check, check_json, validate,
};
use serde_json::{Value, json};

fn run(level: L, new: &Value, previous: &[Value]) -> Report {
    check(level, Policy::Strict, new, previous, &NoReferences).expect("valid schemas")
}

fn kinds(r: &Report) -> Vec<(T, &str)> {
    r.differences
        .iter()
        .map(|d| (d.kind, d.path.as_str()))
        .collect()
}

#[test]
fn levels_pick_versions_and_directions() {
    let v1 = json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false});
    let v2 = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "additionalProperties": false});
    let v3 = json!({"type": "object", "properties": {"b": {"type": "string"}}, "additionalProperties": false});
    // v3 drops `a`: readers of v3 reject v2 and v1 data (closed model).
    let back = run(L::Backward, &v3, &[v2.clone(), v1.clone()]);
    assert!(!back.is_compatible);
    assert!(
        back.differences
            .iter()
            .all(|d| d.previous_version == 0 && d.direction == Direction::Backward)
    );
    // Forward: v2 readers accept v3 data (b optional, a optional).
    assert!(run(L::Forward, &v3, &[v2.clone(), v1.clone()]).is_compatible);
    // Forward transitive: v1 readers reject `b`.
    let fwd = run(L::ForwardTransitive, &v3, &[v2.clone(), v1.clone()]);
    assert!(!fwd.is_compatible);
    assert!(
        fwd.incompatibilities()
            .all(|d| d.previous_version == 1 && d.direction == Direction::Forward)
    );
    assert!(
        fwd.incompatibilities()
            .next()
            .is_some_and(|d| d.message.contains("version n-2"))
    );
    // NONE checks nothing; no previous version is compatible.
    assert_eq!(
        run(L::None, &v3, std::slice::from_ref(&v1)),
        Report {
            is_compatible: true,
            differences: vec![]
        }
    );
    assert!(run(L::FullTransitive, &v3, &[]).is_compatible);
}

#[test]
fn lenient_accepts_open_model_additions() {
    let old = json!({"properties": {"a": {"type": "string"}}});
    let new = json!({"properties": {"a": {"type": "string"}, "b": {"type": "number"}}});
    let strict = check(
        L::Backward,
        Policy::Strict,
        &new,
        std::slice::from_ref(&old),
        &NoReferences,
    )
    .expect("valid");
    let lenient = check(L::Backward, Policy::Lenient, &new, &[old], &NoReferences).expect("valid");
    assert!(!strict.is_compatible);
    assert!(lenient.is_compatible);
    assert!(lenient.differences[0].message.ends_with("still compatible"));
}

#[test]
fn local_references_are_followed_and_memoised() {
    let old = json!({"$defs": {"A": {"type": "object", "properties": {"zip": {"type": "string"}}}},
                     "properties": {"home": {"$ref": "#/$defs/A"}, "work": {"$ref": "#/$defs/A"}}});
    let mut new = old.clone();
    new["$defs"]["A"]["properties"]["zip"] = json!({"type": "integer"});
    let r = run(L::Backward, &new, &[old]);
    assert_eq!(
        kinds(&r),
        vec![
            (T::TypeChanged, "#/properties/home/properties/zip"),
            (T::TypeChanged, "#/properties/work/properties/zip")
        ]
    );
}

#[test]
fn recursive_schemas_terminate_and_stay_sound() {
    let tree = |leaf: &str| {
        json!({"$ref": "#/definitions/node", "definitions": {"node": {"type": "object", "properties": {
            "value": {"type": leaf},
            "children": {"type": "array", "items": {"$ref": "#/definitions/node"}}}}}})
    };
    assert!(
        run(L::Full, &tree("string"), &[tree("string")])
            .differences
            .is_empty()
    );
    // The change sits inside the cycle: it must be found, not assumed away.
    let r = run(L::Backward, &tree("integer"), &[tree("string")]);
    assert!(!r.is_compatible);
    assert!(kinds(&r).contains(&(T::TypeChanged, "#/properties/value")));
    // Mutually recursive definitions, and a cycle met through a combinator.
    let mutual = |t: &str| {
        json!({"$ref": "#/$defs/a", "$defs": {
            "a": {"type": "object", "properties": {"b": {"$ref": "#/$defs/b"}, "x": {"type": t}}},
            "b": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/a"}]}}})
    };
    assert!(run(L::Full, &mutual("string"), &[mutual("string")]).is_compatible);
    assert!(!run(L::Backward, &mutual("number"), &[mutual("string")]).is_compatible);
}

#[test]
fn external_references_come_from_the_resolver() {
    let mut registry: HashMap<String, Value> = HashMap::new();
    registry.insert(
        "address.json".into(),
        json!({"type": "object", "properties": {"zip": {"type": "integer"}}}),
    );
    registry.insert(
        "https://example.com/money.json".into(),
        json!({"$defs": {"amount": {"type": "number"}}}),
    );
    let old = json!({"properties": {"address": {"type": "object", "properties": {"zip": {"type": "string"}}},
                                    "total": {"type": "number"}}});
    let new = json!({"$id": "https://example.com/order.json", "properties": {
        "address": {"$ref": "address.json"}, "total": {"$ref": "money.json#/$defs/amount"}}});
    let r = check(L::Backward, Policy::Strict, &new, &[old], &registry).expect("resolves");
    assert_eq!(
        kinds(&r),
        vec![
            (T::IdChanged, "#/"),
            (T::TypeChanged, "#/properties/address/properties/zip")
        ]
    );
    let err = check(
        L::Backward,
        Policy::Strict,
        &new,
        &[json!({})],
        &NoReferences,
    )
    .expect_err("unresolved");
    assert!(
        matches!(err, SchemaError::UnresolvedReference { ref reference, .. } if reference.contains("json")),
        "{err}"
    );
}

#[test]
fn anchors_and_embedded_ids_resolve() {
    let old = json!({"properties": {"a": {"$ref": "#Addr"}}, "definitions": {"x": {"$id": "#Addr", "type": "string"}}});
    let new = json!({"properties": {"a": {"$ref": "#addr"}}, "$defs": {"x": {"$anchor": "addr", "type": "string", "maxLength": 3}}});
    let r = run(L::Backward, &new, &[old]);
    // The draft-7 `"$id": "#Addr"` is an id Confluent compares too.
    assert_eq!(
        kinds(&r),
        vec![
            (T::IdChanged, "#/properties/a"),
            (T::MaxLengthAdded, "#/properties/a/maxLength")
        ]
    );
    let embedded = json!({"$id": "https://x.test/root.json", "properties": {"a": {"$ref": "item.json"}},
        "$defs": {"item": {"$id": "item.json", "type": "integer"}}});
    let r = run(
        L::Backward,
        &embedded,
        &[json!({"properties": {"a": {"type": "integer"}}})],
    );
    // Resolved to the embedded integer schema: only the ids differ.
    assert!(
        r.differences.iter().all(|d| d.kind == T::IdChanged),
        "{:?}",
        r.differences
    );
}

#[test]
fn drafts_2020_and_2019_keywords() {
    // prefixItems + items (2020-12) and additionalItems (draft 7) describe the same tuple.
    let d7 = json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "array",
        "items": [{"type": "string"}], "additionalItems": false});
    let d2020 = json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "array",
        "prefixItems": [{"type": "string"}, {"type": "number"}], "items": false});
    assert_eq!(
        kinds(&run(L::Backward, &d2020, &[d7])),
        vec![(T::ItemAddedToClosedContentModel, "#/prefixItems/1")]
    );
    // 2019-09 on, `$ref` applies beside other keywords; up to draft 7 they are ignored.
    let with_siblings = |draft: &str| {
        json!({"$schema": draft, "$defs": {"s": {"type": "string"}},
        "properties": {"a": {"$ref": "#/$defs/s", "maxLength": 3}}})
    };
    let plain = json!({"properties": {"a": {"type": "string"}}});
    let r = run(
        L::Backward,
        &with_siblings("https://json-schema.org/draft/2020-12/schema"),
        std::slice::from_ref(&plain),
    );
    assert!(
        !r.is_compatible,
        "the maxLength beside $ref applies in 2020-12"
    );
    let r = run(
        L::Backward,
        &with_siblings("http://json-schema.org/draft-07/schema#"),
        &[plain],
    );
    assert!(
        r.is_compatible,
        "and is ignored in draft 7: {:?}",
        r.differences
    );
    // dependentRequired / dependentSchemas and unevaluatedProperties.
    let old = json!({"dependentRequired": {"a": ["b"]}, "unevaluatedProperties": false});
    let new = json!({"dependentRequired": {"a": ["b", "c"]}});
    assert_eq!(
        kinds(&run(L::Backward, &new, &[old])),
        vec![
            (T::DependencyArrayExtended, "#/dependentRequired/a"),
            (T::UnevaluatedPropertiesAdded, "#/unevaluatedProperties")
        ]
    );
}

#[test]
fn draft4_exclusive_bounds_fold_into_the_bound() {
    let d4 = json!({"$schema": "http://json-schema.org/draft-04/schema#", "type": "number", "minimum": 10, "exclusiveMinimum": true});
    let d7 = json!({"type": "number", "exclusiveMinimum": 10});
    assert!(
        run(L::Full, &d7, std::slice::from_ref(&d4))
            .differences
            .is_empty()
    );
    // x > 10 to x >= 10 widens; the reverse narrows.
    let inclusive = json!({"type": "number", "minimum": 10});
    assert!(run(L::Backward, &inclusive, std::slice::from_ref(&d4)).is_compatible);
    assert!(!run(L::Forward, &inclusive, &[d4]).is_compatible);
}

#[test]
fn multiple_of_is_exact() {
    let step = |m: Value| json!({"type": "number", "multipleOf": m});
    // 0.3 is a multiple of 0.1 in decimal (not in binary floating point).
    assert_eq!(
        kinds(&run(L::Backward, &step(json!(0.3)), &[step(json!(0.1))])),
        vec![(T::MultipleOfExpanded, "#/multipleOf")]
    );
    assert!(
        run(L::Backward, &step(json!(0.5)), &[step(json!(0.50))])
            .differences
            .is_empty()
    );
    assert_eq!(
        kinds(&run(L::Backward, &step(json!(0.75)), &[step(json!(0.5))])),
        vec![(T::MultipleOfChanged, "#/multipleOf")]
    );
}

#[test]
fn boolean_schemas() {
    assert!(run(L::Backward, &json!(true), &[json!({"type": "string"})]).is_compatible);
    assert!(run(L::Backward, &json!({"type": "string"}), &[json!(false)]).is_compatible);
    assert!(!run(L::Backward, &json!(false), &[json!(true)]).is_compatible);
    assert!(run(L::Full, &json!({}), &[json!(true)]).is_compatible);
}

#[test]
fn invalid_schemas_are_errors_with_paths() {
    let cases = [
        (
            json!({"properties": {"a": {"type": "strng"}}}),
            "#/properties/a",
        ),
        (
            json!({"properties": {"a": {"minLength": -1}}}),
            "#/properties/a",
        ),
        (json!({"items": [{"type": "string"}, 3]}), "#/items/1"),
        (json!({"required": "a"}), "#/"),
        (json!({"anyOf": []}), "#/"),
        (json!({"multipleOf": 0}), "#/"),
        (json!({"$defs": {"x": {"enum": 3}}}), "#/$defs/x"),
        (json!(42), "#/"),
    ];
    for (schema, path) in cases {
        match validate(&schema) {
            Err(SchemaError::Invalid { path: p, .. }) => assert_eq!(p, path, "{schema}"),
            other => panic!("{schema}: expected Invalid at {path}, got {other:?}"),
        }
    }
    let err = validate(&json!({"$ref": "#/definitions/missing"})).expect_err("dangling");
    assert!(
        matches!(err, SchemaError::UnresolvedReference { .. }),
        "{err}"
    );
    // The failing document is named when it is a previous version.
    let err = check(
        L::Backward,
        Policy::Strict,
        &json!({}),
        &[json!({"type": 3})],
        &NoReferences,
    )
    .expect_err("bad");
    assert!(err.to_string().contains("previous[0] #/"), "{err}");
    let err =
        check_json(L::Backward, Policy::Strict, "{", &["{}"], &NoReferences).expect_err("not JSON");
    assert!(err.to_string().contains("not valid JSON"), "{err}");
}

#[test]
fn limits_stop_hostile_input_without_panicking() {
    let mut deep = json!({"type": "string"});
    for _ in 0..(herald_schema::limits::MAX_SCHEMA_DEPTH + 10) {
        deep = json!({"not": deep});
    }
    assert!(matches!(
        validate(&deep),
        Err(SchemaError::LimitExceeded { .. })
    ));
    // A reference that only refers to itself.
    let err = check(
        L::Backward,
        Policy::Strict,
        &json!({"$ref": "#"}),
        &[json!({"$ref": "#"})],
        &NoReferences,
    )
    .expect_err("loop");
    assert!(matches!(err, SchemaError::LimitExceeded { .. }), "{err}");
    // Nested combinators multiply comparisons: bounded, not exponential.
    let mut wide = json!({"type": "string"});
    for i in 0..12 {
        wide = json!({"anyOf": [wide.clone(), {"type": "integer", "minimum": i}, wide, {"type": "null"}]});
    }
    let r = check(
        L::Backward,
        Policy::Strict,
        &wide,
        std::slice::from_ref(&wide),
        &NoReferences,
    );
    assert!(matches!(r, Ok(_) | Err(SchemaError::LimitExceeded { .. })));
}

#[test]
fn forward_messages_speak_of_old_readers() {
    let old = json!({"type": "string", "maxLength": 10});
    let new = json!({"type": "string", "maxLength": 20});
    let r = run(L::Forward, &new, &[old]);
    assert_eq!(r.differences.len(), 1);
    assert_eq!(
        r.differences[0].message,
        "`maxLength` of the schema decreased (from 20 to 10): consumers still on the previous version cannot read data written with the new version"
    );
}
