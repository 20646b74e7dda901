//! The content model of derived event schemas: what a schema says about members it does not
//! name.

use serde_json::Value;

/// What an event's schema says about object members it does not name, chosen with
/// `#[event(content_model = "closed" | "open")]`.
///
/// The compatibility rules (Confluent's) depend on it. Under BACKWARD, the default level:
/// - closed (the default): adding an optional field is compatible, removing one is not;
/// - open: removing a field is compatible, adding one is not (data written before could have
///   held anything under the new name).
///
/// A closed schema says what a producer of that version writes, and serde writes exactly the
/// struct's fields. herald's reader is more tolerant than the schema (serde ignores members it
/// does not know unless the struct has `#[serde(deny_unknown_fields)]`), never less: a change
/// the check accepts cannot break a herald consumer. `validate_payloads(true)` holds incoming
/// payloads to the schema, unknown members included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentModel {
    /// `additionalProperties: false` on every object a struct defines.
    #[default]
    Closed,
    /// schemars' output as it is: unknown members are allowed.
    Open,
}

/// The schema of `T` as `#[derive(Event)]` exports it: schemars' (draft 2020-12) with the
/// content model applied.
pub fn event_schema<T: herald_core::schemars::JsonSchema>(model: ContentModel) -> Value {
    let mut schema = serde_json::to_value(herald_core::schemars::schema_for!(T))
        .expect("a schemars schema always serializes");
    if model == ContentModel::Closed {
        close_objects(&mut schema);
    }
    schema
}

/// Sets `additionalProperties: false` on every object schema that lists `properties` and says
/// nothing about other members (no `additionalProperties`, `patternProperties` or
/// `unevaluatedProperties`): the objects schemars writes for structs and struct variants.
/// Maps (`additionalProperties: {...}`) and `serde_json::Value` (`true`) stay as they are.
///
/// A schema that combines an object's `properties` with another schema (`allOf`, or `$ref`,
/// `anyOf` or `oneOf` beside `properties`: what `#[serde(flatten)]` and internally tagged
/// newtype variants give) is left open, whole: closing either part would reject the members
/// the other part names. Returns whether the schema was closed.
pub fn close_objects(schema: &mut Value) -> bool {
    if combines_objects(schema) {
        return false;
    }
    close(schema);
    true
}

fn close(schema: &mut Value) {
    let Value::Object(members) = schema else {
        return;
    };
    let says_nothing_of_others = members.contains_key("properties")
        && ![
            "additionalProperties",
            "patternProperties",
            "unevaluatedProperties",
        ]
        .iter()
        .any(|k| members.contains_key(*k));
    if says_nothing_of_others {
        members.insert("additionalProperties".to_owned(), Value::Bool(false));
    }
    for (key, value) in members.iter_mut() {
        each_subschema(key, value, close);
    }
}

fn combines_objects(schema: &Value) -> bool {
    let Value::Object(members) = schema else {
        return false;
    };
    let has = |k: &str| members.contains_key(k);
    if has("allOf") || (has("properties") && (has("$ref") || has("anyOf") || has("oneOf"))) {
        return true;
    }
    let mut found = false;
    for (key, value) in members {
        each_subschema_ref(key, value, &mut |s| found |= combines_objects(s));
    }
    found
}

/// Calls `f` on each subschema of the keyword `key` (with value `value`) that schemars writes.
fn each_subschema(key: &str, value: &mut Value, f: fn(&mut Value)) {
    match (key, value) {
        ("properties" | "patternProperties" | "$defs" | "definitions", Value::Object(map)) => {
            map.values_mut().for_each(f);
        }
        ("anyOf" | "oneOf" | "prefixItems" | "items", Value::Array(items)) => {
            items.iter_mut().for_each(f);
        }
        ("items" | "additionalProperties" | "contains" | "unevaluatedItems", value) => f(value),
        _ => {}
    }
}

fn each_subschema_ref(key: &str, value: &Value, f: &mut dyn FnMut(&Value)) {
    match (key, value) {
        ("properties" | "patternProperties" | "$defs" | "definitions", Value::Object(map)) => {
            map.values().for_each(f);
        }
        ("anyOf" | "oneOf" | "prefixItems" | "items", Value::Array(items)) => {
            items.iter().for_each(f);
        }
        ("items" | "additionalProperties" | "contains" | "unevaluatedItems", value) => f(value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn closes_struct_objects_and_leaves_maps_alone() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "line": {"$ref": "#/$defs/Line"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "extra": true
            },
            "$defs": {
                "Line": {"type": "object", "properties": {"sku": {"type": "string"}}},
                "Kind": {"oneOf": [{"type": "object", "properties": {"a": {}}}]}
            }
        });
        assert!(close_objects(&mut schema));
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(
            schema["$defs"]["Line"]["additionalProperties"],
            json!(false)
        );
        assert_eq!(
            schema["$defs"]["Kind"]["oneOf"][0]["additionalProperties"],
            json!(false)
        );
        assert_eq!(
            schema["properties"]["labels"]["additionalProperties"],
            json!({"type": "string"})
        );
    }

    #[test]
    fn a_schema_that_combines_objects_stays_open() {
        let flattened = json!({
            "type": "object",
            "properties": {"id": {"type": "string"}},
            "oneOf": [{"$ref": "#/$defs/Card"}],
            "$defs": {"Card": {"type": "object", "properties": {"number": {}}}}
        });
        let mut schema = flattened.clone();
        assert!(!close_objects(&mut schema));
        assert_eq!(schema, flattened);
    }
}
