//! Annotations: the keywords that document a schema without changing which data it accepts.
//!
//! A change to them (a reworded doc comment, a new example) needs no new version of an event:
//! herald's drift test accepts it in place and `herald schemas check --against git:` does not
//! call it a change to a published version. `default` is not among them: Confluent's rules
//! read it (a required field with a default is compatible where one without is not).

use serde_json::Value;

/// The annotation keywords: draft 2020-12's meta-data vocabulary without `default`, and
/// `$comment`.
pub const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
];

/// Keywords whose value is a schema.
const SCHEMA: &[&str] = &[
    "additionalProperties",
    "unevaluatedProperties",
    "propertyNames",
    "additionalItems",
    "unevaluatedItems",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "items",
];
/// Keywords whose value is an array of schemas (`items` may be either).
const SCHEMA_ARRAY: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems", "items"];
/// Keywords whose value maps names to schemas (`dependencies` values may also be arrays of
/// names, which are left as they are).
const SCHEMA_MAP: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
    "dependencies",
];

/// `schema` without its annotations, in every subschema. Only schema positions are touched:
/// a property named `description` stays, and so do the values of `enum`, `const` and
/// `default`.
pub fn strip_annotations(schema: &Value) -> Value {
    let mut out = schema.clone();
    strip(&mut out);
    out
}

/// Whether `a` and `b` accept the same data by their text: equal once their annotations are
/// stripped.
pub fn same_apart_from_annotations(a: &Value, b: &Value) -> bool {
    a == b || strip_annotations(a) == strip_annotations(b)
}

fn strip(schema: &mut Value) {
    let Value::Object(members) = schema else {
        return;
    };
    members.retain(|k, _| !ANNOTATIONS.contains(&k.as_str()));
    for (key, value) in members.iter_mut() {
        let key = key.as_str();
        if SCHEMA_MAP.contains(&key) {
            if let Value::Object(map) = value {
                map.values_mut().for_each(strip);
            }
        } else if SCHEMA_ARRAY.contains(&key)
            && let Value::Array(items) = value
        {
            items.iter_mut().for_each(strip);
        } else if SCHEMA.contains(&key) {
            strip(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strips_annotations_in_subschemas_only() {
        let schema = json!({
            "title": "Order",
            "description": "An order.",
            "$comment": "internal",
            "type": "object",
            "properties": {
                "description": {"type": "string", "description": "free text", "examples": ["x"]},
                "tags": {"type": "array", "items": {"type": "string", "deprecated": true}},
                "state": {"enum": [{"title": "kept: a value, not a schema"}], "default": "a"}
            },
            "$defs": {"A": {"anyOf": [{"title": "t", "type": "null"}]}}
        });
        assert_eq!(
            strip_annotations(&schema),
            json!({
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "state": {"enum": [{"title": "kept: a value, not a schema"}], "default": "a"}
                },
                "$defs": {"A": {"anyOf": [{"type": "null"}]}}
            })
        );
    }

    #[test]
    fn a_changed_constraint_is_not_an_annotation() {
        let a = json!({"type": "string", "description": "a"});
        assert!(same_apart_from_annotations(
            &a,
            &json!({"type": "string", "description": "b"})
        ));
        assert!(!same_apart_from_annotations(
            &a,
            &json!({"type": "integer", "description": "a"})
        ));
        assert!(!same_apart_from_annotations(
            &json!({"default": 1}),
            &json!({"default": 2})
        ));
    }
}
