//! One case per difference type: a pair of schemas that produces it (BACKWARD, STRICT), at the
//! expected path, counted compatible or not as the policy tables say. A type the engine can emit
//! without a case here fails `every_type_has_a_case`.

use herald_schema::{CompatibilityLevel, DifferenceType, NoReferences, Policy, check};
use serde_json::{Value, json};

#[path = "support/not_emitted.rs"]
mod not_emitted;

use not_emitted::NOT_EMITTED;

fn cases() -> Vec<(&'static str, &'static str, Value, Value)> {
    let s = |extra: Value| {
        let mut v = json!({"type": "string"});
        v.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        v
    };
    let n = |extra: Value| {
        let mut v = json!({"type": "number"});
        v.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        v
    };
    let a = |extra: Value| {
        let mut v = json!({"type": "array"});
        v.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        v
    };
    let o = |extra: Value| {
        let mut v = json!({"type": "object"});
        v.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        v
    };
    let str_ = json!({"type": "string"});
    let num = json!({"type": "number"});
    vec![
        // Generic.
        ("ID_CHANGED", "#/", json!({"$id": "a"}), json!({"$id": "b"})),
        (
            "DESCRIPTION_CHANGED",
            "#/",
            json!({"description": "a"}),
            json!({"description": "b"}),
        ),
        (
            "TITLE_CHANGED",
            "#/",
            json!({"title": "a"}),
            json!({"title": "b"}),
        ),
        (
            "DEFAULT_CHANGED",
            "#/",
            s(json!({"default": "a"})),
            s(json!({"default": "b"})),
        ),
        (
            "SCHEMA_ADDED",
            "#/items",
            a(json!({})),
            a(json!({"items": str_})),
        ),
        (
            "SCHEMA_REMOVED",
            "#/items",
            a(json!({"items": str_})),
            a(json!({})),
        ),
        (
            "TYPE_EXTENDED",
            "#/",
            json!({"type": "integer"}),
            num.clone(),
        ),
        (
            "TYPE_NARROWED",
            "#/",
            num.clone(),
            json!({"type": "integer"}),
        ),
        ("TYPE_CHANGED", "#/", str_.clone(), num.clone()),
        // Strings.
        (
            "MAX_LENGTH_ADDED",
            "#/maxLength",
            s(json!({})),
            s(json!({"maxLength": 5})),
        ),
        (
            "MAX_LENGTH_REMOVED",
            "#/maxLength",
            s(json!({"maxLength": 5})),
            s(json!({})),
        ),
        (
            "MAX_LENGTH_INCREASED",
            "#/maxLength",
            s(json!({"maxLength": 5})),
            s(json!({"maxLength": 9})),
        ),
        (
            "MAX_LENGTH_DECREASED",
            "#/maxLength",
            s(json!({"maxLength": 9})),
            s(json!({"maxLength": 5})),
        ),
        (
            "MIN_LENGTH_ADDED",
            "#/minLength",
            s(json!({})),
            s(json!({"minLength": 5})),
        ),
        (
            "MIN_LENGTH_REMOVED",
            "#/minLength",
            s(json!({"minLength": 5})),
            s(json!({})),
        ),
        (
            "MIN_LENGTH_INCREASED",
            "#/minLength",
            s(json!({"minLength": 5})),
            s(json!({"minLength": 9})),
        ),
        (
            "MIN_LENGTH_DECREASED",
            "#/minLength",
            s(json!({"minLength": 9})),
            s(json!({"minLength": 5})),
        ),
        (
            "PATTERN_ADDED",
            "#/pattern",
            s(json!({})),
            s(json!({"pattern": "^a"})),
        ),
        (
            "PATTERN_REMOVED",
            "#/pattern",
            s(json!({"pattern": "^a"})),
            s(json!({})),
        ),
        (
            "PATTERN_CHANGED",
            "#/pattern",
            s(json!({"pattern": "^a"})),
            s(json!({"pattern": "^b"})),
        ),
        (
            "FORMAT_ADDED",
            "#/format",
            s(json!({})),
            s(json!({"format": "date"})),
        ),
        (
            "FORMAT_REMOVED",
            "#/format",
            s(json!({"format": "date"})),
            s(json!({})),
        ),
        (
            "FORMAT_CHANGED",
            "#/format",
            s(json!({"format": "date"})),
            s(json!({"format": "email"})),
        ),
        (
            "CONTENT_ENCODING_ADDED",
            "#/contentEncoding",
            s(json!({})),
            s(json!({"contentEncoding": "base64"})),
        ),
        (
            "CONTENT_ENCODING_REMOVED",
            "#/contentEncoding",
            s(json!({"contentEncoding": "base64"})),
            s(json!({})),
        ),
        (
            "CONTENT_ENCODING_CHANGED",
            "#/contentEncoding",
            s(json!({"contentEncoding": "base64"})),
            s(json!({"contentEncoding": "base32"})),
        ),
        (
            "CONTENT_MEDIA_TYPE_ADDED",
            "#/contentMediaType",
            s(json!({})),
            s(json!({"contentMediaType": "image/png"})),
        ),
        (
            "CONTENT_MEDIA_TYPE_REMOVED",
            "#/contentMediaType",
            s(json!({"contentMediaType": "image/png"})),
            s(json!({})),
        ),
        (
            "CONTENT_MEDIA_TYPE_CHANGED",
            "#/contentMediaType",
            s(json!({"contentMediaType": "image/png"})),
            s(json!({"contentMediaType": "image/gif"})),
        ),
        // Numbers.
        (
            "MAXIMUM_ADDED",
            "#/maximum",
            n(json!({})),
            n(json!({"maximum": 5})),
        ),
        (
            "MAXIMUM_REMOVED",
            "#/maximum",
            n(json!({"maximum": 5})),
            n(json!({})),
        ),
        (
            "MAXIMUM_INCREASED",
            "#/maximum",
            n(json!({"maximum": 5})),
            n(json!({"maximum": 6})),
        ),
        (
            "MAXIMUM_DECREASED",
            "#/maximum",
            n(json!({"maximum": 6})),
            n(json!({"maximum": 5.5})),
        ),
        (
            "MINIMUM_ADDED",
            "#/minimum",
            n(json!({})),
            n(json!({"minimum": 5})),
        ),
        (
            "MINIMUM_REMOVED",
            "#/minimum",
            n(json!({"minimum": 5})),
            n(json!({})),
        ),
        (
            "MINIMUM_INCREASED",
            "#/minimum",
            n(json!({"minimum": 5})),
            n(json!({"minimum": 6})),
        ),
        (
            "MINIMUM_DECREASED",
            "#/minimum",
            n(json!({"minimum": 6})),
            n(json!({"minimum": -1})),
        ),
        (
            "EXCLUSIVE_MAXIMUM_ADDED",
            "#/exclusiveMaximum",
            n(json!({})),
            n(json!({"exclusiveMaximum": 5})),
        ),
        (
            "EXCLUSIVE_MAXIMUM_REMOVED",
            "#/exclusiveMaximum",
            n(json!({"exclusiveMaximum": 5})),
            n(json!({})),
        ),
        (
            "EXCLUSIVE_MAXIMUM_INCREASED",
            "#/exclusiveMaximum",
            n(json!({"exclusiveMaximum": 5})),
            n(json!({"exclusiveMaximum": 6})),
        ),
        (
            "EXCLUSIVE_MAXIMUM_DECREASED",
            "#/exclusiveMaximum",
            n(json!({"exclusiveMaximum": 6})),
            n(json!({"exclusiveMaximum": 5})),
        ),
        (
            "EXCLUSIVE_MINIMUM_ADDED",
            "#/exclusiveMinimum",
            n(json!({})),
            n(json!({"exclusiveMinimum": 5})),
        ),
        (
            "EXCLUSIVE_MINIMUM_REMOVED",
            "#/exclusiveMinimum",
            n(json!({"exclusiveMinimum": 5})),
            n(json!({})),
        ),
        (
            "EXCLUSIVE_MINIMUM_INCREASED",
            "#/exclusiveMinimum",
            n(json!({"exclusiveMinimum": 5})),
            n(json!({"exclusiveMinimum": 6})),
        ),
        (
            "EXCLUSIVE_MINIMUM_DECREASED",
            "#/exclusiveMinimum",
            n(json!({"exclusiveMinimum": 6})),
            n(json!({"exclusiveMinimum": 5})),
        ),
        (
            "MULTIPLE_OF_ADDED",
            "#/multipleOf",
            n(json!({})),
            n(json!({"multipleOf": 2})),
        ),
        (
            "MULTIPLE_OF_REMOVED",
            "#/multipleOf",
            n(json!({"multipleOf": 2})),
            n(json!({})),
        ),
        (
            "MULTIPLE_OF_EXPANDED",
            "#/multipleOf",
            n(json!({"multipleOf": 0.1})),
            n(json!({"multipleOf": 0.3})),
        ),
        (
            "MULTIPLE_OF_REDUCED",
            "#/multipleOf",
            n(json!({"multipleOf": 0.3})),
            n(json!({"multipleOf": 0.1})),
        ),
        (
            "MULTIPLE_OF_CHANGED",
            "#/multipleOf",
            n(json!({"multipleOf": 4})),
            n(json!({"multipleOf": 6})),
        ),
        // Objects.
        (
            "REQUIRED_ATTRIBUTE_ADDED",
            "#/required/a",
            o(json!({"properties": {"a": str_}})),
            o(json!({"properties": {"a": str_}, "required": ["a"]})),
        ),
        (
            "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
            "#/required/a",
            o(json!({"properties": {"a": str_}})),
            o(json!({"properties": {"a": s(json!({"default": "x"}))}, "required": ["a"]})),
        ),
        (
            "REQUIRED_ATTRIBUTE_REMOVED",
            "#/required/a",
            o(json!({"properties": {"a": str_}, "required": ["a"]})),
            o(json!({"properties": {"a": str_}})),
        ),
        (
            "MAX_PROPERTIES_ADDED",
            "#/maxProperties",
            o(json!({})),
            o(json!({"maxProperties": 3})),
        ),
        (
            "MAX_PROPERTIES_REMOVED",
            "#/maxProperties",
            o(json!({"maxProperties": 3})),
            o(json!({})),
        ),
        (
            "MAX_PROPERTIES_INCREASED",
            "#/maxProperties",
            o(json!({"maxProperties": 3})),
            o(json!({"maxProperties": 4})),
        ),
        (
            "MAX_PROPERTIES_DECREASED",
            "#/maxProperties",
            o(json!({"maxProperties": 4})),
            o(json!({"maxProperties": 3})),
        ),
        (
            "MIN_PROPERTIES_ADDED",
            "#/minProperties",
            o(json!({})),
            o(json!({"minProperties": 3})),
        ),
        (
            "MIN_PROPERTIES_REMOVED",
            "#/minProperties",
            o(json!({"minProperties": 3})),
            o(json!({})),
        ),
        (
            "MIN_PROPERTIES_INCREASED",
            "#/minProperties",
            o(json!({"minProperties": 3})),
            o(json!({"minProperties": 4})),
        ),
        (
            "MIN_PROPERTIES_DECREASED",
            "#/minProperties",
            o(json!({"minProperties": 4})),
            o(json!({"minProperties": 3})),
        ),
        (
            "ADDITIONAL_PROPERTIES_ADDED",
            "#/additionalProperties",
            o(json!({"additionalProperties": false})),
            o(json!({})),
        ),
        (
            "ADDITIONAL_PROPERTIES_REMOVED",
            "#/additionalProperties",
            o(json!({})),
            o(json!({"additionalProperties": false})),
        ),
        (
            "ADDITIONAL_PROPERTIES_EXTENDED",
            "#/additionalProperties",
            o(json!({"additionalProperties": str_})),
            o(json!({"additionalProperties": true})),
        ),
        (
            "ADDITIONAL_PROPERTIES_NARROWED",
            "#/additionalProperties",
            o(json!({})),
            o(json!({"additionalProperties": str_})),
        ),
        (
            "DEPENDENCY_ARRAY_ADDED",
            "#/dependencies/a",
            o(json!({})),
            o(json!({"dependencies": {"a": ["b"]}})),
        ),
        (
            "DEPENDENCY_ARRAY_REMOVED",
            "#/dependencies/a",
            o(json!({"dependencies": {"a": ["b"]}})),
            o(json!({})),
        ),
        (
            "DEPENDENCY_ARRAY_EXTENDED",
            "#/dependencies/a",
            o(json!({"dependencies": {"a": ["b"]}})),
            o(json!({"dependencies": {"a": ["b", "c"]}})),
        ),
        (
            "DEPENDENCY_ARRAY_NARROWED",
            "#/dependentRequired/a",
            o(json!({"dependentRequired": {"a": ["b", "c"]}})),
            o(json!({"dependentRequired": {"a": ["c"]}})),
        ),
        (
            "DEPENDENCY_ARRAY_CHANGED",
            "#/dependencies/a",
            o(json!({"dependencies": {"a": ["b"]}})),
            o(json!({"dependencies": {"a": ["c"]}})),
        ),
        (
            "DEPENDENCY_SCHEMA_ADDED",
            "#/dependentSchemas/a",
            o(json!({})),
            o(json!({"dependentSchemas": {"a": {"required": ["b"]}}})),
        ),
        (
            "DEPENDENCY_SCHEMA_REMOVED",
            "#/dependencies/a",
            o(json!({"dependencies": {"a": {"required": ["b"]}}})),
            o(json!({})),
        ),
        (
            "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
            "#/properties/b",
            o(json!({})),
            o(json!({"properties": {"b": str_}, "required": ["b"]})),
        ),
        (
            "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL",
            "#/properties/b",
            o(json!({})),
            o(json!({"properties": {"b": s(json!({"default": "x"}))}, "required": ["b"]})),
        ),
        (
            "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
            "#/properties/b",
            o(json!({})),
            o(json!({"properties": {"b": str_}})),
        ),
        (
            "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
            "#/properties/b",
            o(json!({})),
            o(json!({"properties": {"b": {}}})),
        ),
        (
            "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
            "#/properties/b",
            o(json!({"additionalProperties": false})),
            o(json!({"additionalProperties": false, "properties": {"b": str_}, "required": ["b"]})),
        ),
        (
            "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
            "#/properties/b",
            o(json!({"additionalProperties": false})),
            o(
                json!({"additionalProperties": false, "properties": {"b": s(json!({"default": "x"}))}, "required": ["b"]}),
            ),
        ),
        (
            "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
            "#/properties/b",
            o(json!({"additionalProperties": false})),
            o(json!({"additionalProperties": false, "properties": {"b": str_}})),
        ),
        (
            "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
            "#/properties/b",
            o(json!({"properties": {"b": str_}})),
            o(json!({})),
        ),
        (
            "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
            "#/properties/b",
            o(json!({"additionalProperties": false, "properties": {"b": false}})),
            o(json!({"additionalProperties": false})),
        ),
        (
            "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
            "#/properties/b",
            o(json!({"additionalProperties": false, "properties": {"b": str_}})),
            o(json!({"additionalProperties": false})),
        ),
        (
            "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "#/properties/b",
            o(json!({"properties": {"b": str_}, "additionalProperties": str_})),
            o(json!({"additionalProperties": str_})),
        ),
        (
            "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "#/properties/b",
            o(json!({"properties": {"b": num}, "additionalProperties": str_})),
            o(json!({"additionalProperties": str_})),
        ),
        (
            "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "#/properties/S_b",
            o(json!({"patternProperties": {"^S_": str_}, "additionalProperties": false})),
            o(
                json!({"patternProperties": {"^S_": str_}, "additionalProperties": false, "properties": {"S_b": str_}}),
            ),
        ),
        (
            "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "#/properties/b",
            o(json!({"additionalProperties": str_})),
            o(json!({"additionalProperties": str_, "properties": {"b": num}})),
        ),
        (
            "UNEVALUATED_PROPERTIES_ADDED",
            "#/unevaluatedProperties",
            o(json!({"unevaluatedProperties": false})),
            o(json!({})),
        ),
        (
            "UNEVALUATED_PROPERTIES_REMOVED",
            "#/unevaluatedProperties",
            o(json!({})),
            o(json!({"unevaluatedProperties": false})),
        ),
        (
            "UNEVALUATED_PROPERTIES_EXTENDED",
            "#/unevaluatedProperties",
            o(json!({"unevaluatedProperties": str_})),
            o(json!({"unevaluatedProperties": true})),
        ),
        (
            "UNEVALUATED_PROPERTIES_NARROWED",
            "#/unevaluatedProperties",
            o(json!({})),
            o(json!({"unevaluatedProperties": str_})),
        ),
        // Arrays.
        (
            "MAX_ITEMS_ADDED",
            "#/maxItems",
            a(json!({})),
            a(json!({"maxItems": 3})),
        ),
        (
            "MAX_ITEMS_REMOVED",
            "#/maxItems",
            a(json!({"maxItems": 3})),
            a(json!({})),
        ),
        (
            "MAX_ITEMS_INCREASED",
            "#/maxItems",
            a(json!({"maxItems": 3})),
            a(json!({"maxItems": 4})),
        ),
        (
            "MAX_ITEMS_DECREASED",
            "#/maxItems",
            a(json!({"maxItems": 4})),
            a(json!({"maxItems": 3})),
        ),
        (
            "MIN_ITEMS_ADDED",
            "#/minItems",
            a(json!({})),
            a(json!({"minItems": 3})),
        ),
        (
            "MIN_ITEMS_REMOVED",
            "#/minItems",
            a(json!({"minItems": 3})),
            a(json!({})),
        ),
        (
            "MIN_ITEMS_INCREASED",
            "#/minItems",
            a(json!({"minItems": 3})),
            a(json!({"minItems": 4})),
        ),
        (
            "MIN_ITEMS_DECREASED",
            "#/minItems",
            a(json!({"minItems": 4})),
            a(json!({"minItems": 3})),
        ),
        (
            "MAX_CONTAINS_ADDED",
            "#/maxContains",
            a(json!({"contains": str_})),
            a(json!({"contains": str_, "maxContains": 3})),
        ),
        (
            "MAX_CONTAINS_REMOVED",
            "#/maxContains",
            a(json!({"contains": str_, "maxContains": 3})),
            a(json!({"contains": str_})),
        ),
        (
            "MAX_CONTAINS_INCREASED",
            "#/maxContains",
            a(json!({"contains": str_, "maxContains": 3})),
            a(json!({"contains": str_, "maxContains": 4})),
        ),
        (
            "MAX_CONTAINS_DECREASED",
            "#/maxContains",
            a(json!({"contains": str_, "maxContains": 4})),
            a(json!({"contains": str_, "maxContains": 3})),
        ),
        (
            "MIN_CONTAINS_ADDED",
            "#/minContains",
            a(json!({"contains": str_})),
            a(json!({"contains": str_, "minContains": 3})),
        ),
        (
            "MIN_CONTAINS_REMOVED",
            "#/minContains",
            a(json!({"contains": str_, "minContains": 3})),
            a(json!({"contains": str_})),
        ),
        (
            "MIN_CONTAINS_INCREASED",
            "#/minContains",
            a(json!({"contains": str_, "minContains": 3})),
            a(json!({"contains": str_, "minContains": 4})),
        ),
        (
            "MIN_CONTAINS_DECREASED",
            "#/minContains",
            a(json!({"contains": str_, "minContains": 4})),
            a(json!({"contains": str_, "minContains": 3})),
        ),
        (
            "UNIQUE_ITEMS_ADDED",
            "#/uniqueItems",
            a(json!({})),
            a(json!({"uniqueItems": true})),
        ),
        (
            "UNIQUE_ITEMS_REMOVED",
            "#/uniqueItems",
            a(json!({"uniqueItems": true})),
            a(json!({"uniqueItems": false})),
        ),
        (
            "ADDITIONAL_ITEMS_ADDED",
            "#/additionalItems",
            a(json!({"items": [str_], "additionalItems": false})),
            a(json!({"items": [str_]})),
        ),
        (
            "ADDITIONAL_ITEMS_REMOVED",
            "#/additionalItems",
            a(json!({"items": [str_]})),
            a(json!({"items": [str_], "additionalItems": false})),
        ),
        (
            "ADDITIONAL_ITEMS_EXTENDED",
            "#/additionalItems",
            a(json!({"items": [str_], "additionalItems": num})),
            a(json!({"items": [str_]})),
        ),
        (
            "ADDITIONAL_ITEMS_NARROWED",
            "#/items",
            a(json!({"prefixItems": [str_]})),
            a(json!({"prefixItems": [str_], "items": num})),
        ),
        (
            "UNEVALUATED_ITEMS_ADDED",
            "#/unevaluatedItems",
            a(json!({"unevaluatedItems": false})),
            a(json!({})),
        ),
        (
            "UNEVALUATED_ITEMS_REMOVED",
            "#/unevaluatedItems",
            a(json!({})),
            a(json!({"unevaluatedItems": false})),
        ),
        (
            "UNEVALUATED_ITEMS_EXTENDED",
            "#/unevaluatedItems",
            a(json!({"unevaluatedItems": str_})),
            a(json!({})),
        ),
        (
            "UNEVALUATED_ITEMS_NARROWED",
            "#/unevaluatedItems",
            a(json!({})),
            a(json!({"unevaluatedItems": str_})),
        ),
        (
            "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
            "#/items/1",
            a(json!({"items": [str_]})),
            a(json!({"items": [str_, num]})),
        ),
        (
            "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
            "#/items/1",
            a(json!({"items": [str_]})),
            a(json!({"items": [str_, true]})),
        ),
        (
            "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
            "#/prefixItems/1",
            a(json!({"prefixItems": [str_], "items": false})),
            a(json!({"prefixItems": [str_, num], "items": false})),
        ),
        (
            "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
            "#/items/1",
            a(json!({"items": [str_, num]})),
            a(json!({"items": [str_]})),
        ),
        (
            "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
            "#/items/1",
            a(json!({"items": [str_, false], "additionalItems": false})),
            a(json!({"items": [str_], "additionalItems": false})),
        ),
        (
            "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL",
            "#/items/1",
            a(json!({"items": [str_, num], "additionalItems": false})),
            a(json!({"items": [str_], "additionalItems": false})),
        ),
        (
            "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "#/items/1",
            a(json!({"items": [str_, num], "additionalItems": num})),
            a(json!({"items": [str_], "additionalItems": num})),
        ),
        (
            "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "#/items/1",
            a(json!({"items": [str_, str_], "additionalItems": num})),
            a(json!({"items": [str_], "additionalItems": num})),
        ),
        (
            "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "#/items/1",
            a(json!({"items": [str_], "additionalItems": num})),
            a(json!({"items": [str_, num], "additionalItems": num})),
        ),
        (
            "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "#/items/1",
            a(json!({"items": [str_], "additionalItems": num})),
            a(json!({"items": [str_, str_], "additionalItems": num})),
        ),
        // Enums and const.
        (
            "ENUM_ARRAY_EXTENDED",
            "#/enum",
            json!({"enum": ["a"]}),
            json!({"enum": ["a", "b"]}),
        ),
        (
            "ENUM_ARRAY_NARROWED",
            "#/enum",
            json!({"enum": ["a", "b"]}),
            json!({"enum": ["a"]}),
        ),
        (
            "ENUM_ARRAY_CHANGED",
            "#/const",
            json!({"const": 1}),
            json!({"const": 2}),
        ),
        // Combinators.
        (
            "COMBINED_TYPE_EXTENDED",
            "#/",
            json!({"oneOf": [str_, num]}),
            json!({"anyOf": [str_, num]}),
        ),
        (
            "COMBINED_TYPE_CHANGED",
            "#/",
            json!({"anyOf": [str_, num]}),
            json!({"allOf": [str_, num]}),
        ),
        (
            "PRODUCT_TYPE_EXTENDED",
            "#/",
            json!({"allOf": [str_]}),
            json!({"allOf": [str_, s(json!({"maxLength": 3}))]}),
        ),
        (
            "PRODUCT_TYPE_NARROWED",
            "#/",
            json!({"allOf": [str_, s(json!({"maxLength": 3}))]}),
            json!({"allOf": [str_]}),
        ),
        (
            "SUM_TYPE_EXTENDED",
            "#/",
            str_.clone(),
            json!({"anyOf": [str_, num]}),
        ),
        (
            "SUM_TYPE_NARROWED",
            "#/",
            json!({"oneOf": [str_, num]}),
            json!({"oneOf": [str_]}),
        ),
        (
            "COMBINED_TYPE_SUBSCHEMAS_CHANGED",
            "#/",
            json!({"anyOf": [str_, num]}),
            json!({"anyOf": [str_, json!({"type": "boolean"})]}),
        ),
        (
            "NOT_TYPE_EXTENDED",
            "#/not",
            json!({"not": json!({"type": "integer"})}),
            json!({"not": num}),
        ),
        (
            "NOT_TYPE_NARROWED",
            "#/not",
            json!({"not": num}),
            json!({"not": json!({"type": "integer"})}),
        ),
        (
            "CONDITION_CHANGED",
            "#/if",
            json!({"if": {"properties": {"a": {"const": 1}}}, "then": {"required": ["b"]}}),
            json!({"if": {"properties": {"a": {"const": 2}}}, "then": {"required": ["b"]}}),
        ),
    ]
}

#[test]
fn each_case_produces_its_type() {
    let mut failures = Vec::new();
    for (name, path, old, new) in cases() {
        let kind = DifferenceType::from_name(name).unwrap_or_else(|| panic!("unknown type {name}"));
        let report = check(
            CompatibilityLevel::Backward,
            Policy::Strict,
            &new,
            std::slice::from_ref(&old),
            &NoReferences,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let found = report
            .differences
            .iter()
            .find(|d| d.kind == kind && d.path == path);
        match found {
            None => failures.push(format!(
                "{name} at {path}: got {:?}",
                report
                    .differences
                    .iter()
                    .map(|d| format!("{} {}", d.kind, d.path))
                    .collect::<Vec<_>>()
            )),
            Some(d) => {
                assert_eq!(d.compatible, kind.is_compatible(Policy::Strict), "{name}");
                assert!(
                    !d.message.contains(name),
                    "{name} has no sentence: {}",
                    d.message
                );
                if !d.compatible {
                    assert!(
                        !report.is_compatible,
                        "{name}: an incompatible difference in a compatible report"
                    );
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "cases without their type:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_type_has_a_case() {
    let covered: Vec<&str> = cases().iter().map(|c| c.0).collect();
    let missing: Vec<&str> = DifferenceType::ALL
        .iter()
        .map(|t| t.as_str())
        .filter(|n| !covered.contains(n) && !NOT_EMITTED.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "difference types without a case: {missing:?}"
    );
}

#[test]
fn lenient_accepts_exactly_its_extra_types() {
    let lenient_only: Vec<&str> = DifferenceType::ALL
        .iter()
        .filter(|t| t.is_compatible(Policy::Lenient) && !t.is_compatible(Policy::Strict))
        .map(|t| t.as_str())
        .collect();
    let mut want = vec![
        "ADDITIONAL_PROPERTIES_NARROWED",
        "ADDITIONAL_PROPERTIES_REMOVED",
        "UNEVALUATED_PROPERTIES_NARROWED",
        "UNEVALUATED_PROPERTIES_REMOVED",
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL",
        "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
        "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    ];
    let mut got = lenient_only.clone();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
    // REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL stays incompatible even when lenient.
    assert!(
        !DifferenceType::RequiredPropertyAddedToOpenContentModel.is_compatible(Policy::Lenient)
    );
}
