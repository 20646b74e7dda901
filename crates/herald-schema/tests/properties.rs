//! Properties that hold for any schemas (proptest).

use herald_schema::{CompatibilityLevel as L, NoReferences, Policy, Report, check, check_json};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"type": "string"})),
        (0u64..5, 5u64..20)
            .prop_map(|(min, max)| json!({"type": "string", "minLength": min, "maxLength": max})),
        Just(json!({"type": "string", "format": "date"})),
        Just(json!({"type": "integer"})),
        (-5i64..5).prop_map(|m| json!({"type": "number", "minimum": m})),
        (1u32..6).prop_map(|m| json!({"type": "number", "multipleOf": f64::from(m) / 2.0})),
        Just(json!({"type": "boolean"})),
        Just(json!({"type": "null"})),
        Just(json!({"type": ["string", "null"]})),
        prop::collection::vec("[a-c]", 1..3).prop_map(|v| json!({"enum": v})),
        Just(json!({"const": 1})),
        Just(json!(true)),
        Just(json!(false)),
        Just(json!({})),
    ]
}

const NAMES: &[&str] = &["a", "b", "c", "d"];

fn schema() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (
                prop::collection::btree_map(prop::sample::select(NAMES), inner.clone(), 0..4),
                prop::collection::vec(prop::sample::select(NAMES), 0..3),
                prop_oneof![
                    Just(None),
                    Just(Some(json!(false))),
                    Just(Some(json!(true))),
                    inner.clone().prop_map(Some)
                ],
            )
                .prop_map(|(props, required, additional)| {
                    let mut o = Map::new();
                    o.insert("type".into(), json!("object"));
                    o.insert(
                        "properties".into(),
                        Value::Object(props.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()),
                    );
                    if !required.is_empty() {
                        o.insert("required".into(), json!(required));
                    }
                    if let Some(a) = additional {
                        o.insert("additionalProperties".into(), a);
                    }
                    Value::Object(o)
                }),
            inner
                .clone()
                .prop_map(|i| json!({"type": "array", "items": i})),
            (prop::collection::vec(inner.clone(), 1..3), any::<bool>()).prop_map(
                |(t, closed)| json!({"type": "array", "items": t, "additionalItems": !closed})
            ),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"anyOf": v})),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"oneOf": v})),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"allOf": v})),
            inner.prop_map(|i| json!({"not": i})),
        ]
    })
}

fn run(level: L, policy: Policy, new: &Value, previous: &[Value]) -> Report {
    check(level, policy, new, previous, &NoReferences).expect("generated schemas are valid")
}

fn ok(level: L, new: &Value, previous: &[Value]) -> bool {
    run(level, Policy::Strict, new, previous).is_compatible
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_schema_is_full_compatible_with_itself(s in schema()) {
        let r = run(L::FullTransitive, Policy::Strict, &s, std::slice::from_ref(&s));
        prop_assert!(r.is_compatible);
        prop_assert!(r.differences.is_empty(), "{:?}", r.differences);
    }

    #[test]
    fn full_is_backward_and_forward(a in schema(), b in schema()) {
        let prev = [a];
        prop_assert_eq!(ok(L::Full, &b, &prev), ok(L::Backward, &b, &prev) && ok(L::Forward, &b, &prev));
    }

    #[test]
    fn forward_is_backward_reversed(a in schema(), b in schema()) {
        prop_assert_eq!(ok(L::Forward, &a, std::slice::from_ref(&b)), ok(L::Backward, &b, std::slice::from_ref(&a)));
    }

    #[test]
    fn lenient_accepts_whatever_strict_accepts(a in schema(), b in schema()) {
        let prev = [a];
        if ok(L::Backward, &b, &prev) {
            prop_assert!(run(L::Backward, Policy::Lenient, &b, &prev).is_compatible);
        }
    }

    #[test]
    fn transitive_levels_check_every_version(new in schema(), previous in prop::collection::vec(schema(), 1..4)) {
        for (transitive, single) in [(L::BackwardTransitive, L::Backward), (L::ForwardTransitive, L::Forward), (L::FullTransitive, L::Full)] {
            let each = previous.iter().all(|p| ok(single, &new, std::slice::from_ref(p)));
            prop_assert_eq!(ok(transitive, &new, &previous), each);
            // The non-transitive level looks at the newest only.
            prop_assert_eq!(ok(single, &new, &previous), ok(single, &new, &previous[..1]));
        }
    }

    #[test]
    fn an_optional_property_added_to_a_closed_object_is_backward_compatible(
        props in prop::collection::btree_map(prop::sample::select(NAMES), schema(), 0..4),
        added in schema(),
    ) {
        let props: Map<String, Value> = props.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let old = json!({"type": "object", "properties": props.clone(), "additionalProperties": false});
        let mut with = props;
        with.insert("fresh".into(), added);
        let new = json!({"type": "object", "properties": with, "additionalProperties": false});
        prop_assert!(ok(L::Backward, &new, &[old]));
    }

    #[test]
    fn a_property_removed_from_an_open_object_is_backward_compatible(
        props in prop::collection::btree_map(prop::sample::select(NAMES), schema(), 1..4),
    ) {
        let props: Map<String, Value> = props.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let old = json!({"type": "object", "properties": props.clone()});
        let mut fewer = props;
        let first = fewer.keys().next().cloned().expect("non-empty");
        fewer.remove(&first);
        let new = json!({"type": "object", "properties": fewer});
        prop_assert!(ok(L::Backward, &new, &[old]));
    }

    #[test]
    fn text_and_value_entry_points_agree(a in schema(), b in schema()) {
        let (ta, tb) = (a.to_string(), b.to_string());
        let from_text = check_json(L::Full, Policy::Strict, &tb, &[&ta], &NoReferences).expect("valid");
        let from_value = run(L::Full, Policy::Strict, &b, &[a]);
        prop_assert_eq!(from_text, from_value);
    }

    #[test]
    fn wrapping_both_sides_in_a_reference_changes_nothing(a in schema(), b in schema()) {
        let wrap = |s: &Value| json!({"$ref": "#/definitions/x", "definitions": {"x": s}});
        let prev = [a.clone()];
        let plain = run(L::Full, Policy::Strict, &b, &prev);
        let wrapped = run(L::Full, Policy::Strict, &wrap(&b), &[wrap(&a)]);
        prop_assert_eq!(plain.is_compatible, wrapped.is_compatible);
        let kinds = |r: &Report| { let mut k: Vec<_> = r.differences.iter().map(|d| (d.kind, d.path.clone())).collect(); k.sort(); k };
        prop_assert_eq!(kinds(&plain), kinds(&wrapped));
    }
}
