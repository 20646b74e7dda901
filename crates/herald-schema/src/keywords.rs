//! The keywords of one schema object, found in a single pass over its members: the loader then
//! reads fields instead of searching the object's map for each of ~50 keywords.

use crate::json::Json;

macro_rules! keywords {
    ($($name:literal),* $(,)?) => {
        const NAMES: &[&str] = &[$($name),*];
        const COUNT: usize = NAMES.len();

        /// The slot of a keyword the loader reads.
        #[inline]
        fn slot(key: &str) -> Option<usize> {
            let mut i = 0;
            $(
                if key == $name {
                    return Some(i);
                }
                i += 1;
            )*
            let _ = i;
            None
        }
    };
}

keywords![
    "$id",
    "id",
    "$ref",
    "$recursiveRef",
    "$dynamicRef",
    "title",
    "description",
    "default",
    "enum",
    "const",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "type",
    "if",
    "then",
    "else",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "contentEncoding",
    "contentMediaType",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "dependencies",
    "dependentRequired",
    "dependentSchemas",
    "minProperties",
    "maxProperties",
    "propertyNames",
    "unevaluatedProperties",
    "items",
    "prefixItems",
    "additionalItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
    "minContains",
    "maxContains",
    "unevaluatedItems",
];

/// Keywords that do not constrain instances (they may sit beside `$ref` in 2019-09 on without
/// making it an `allOf`).
const ANNOTATIONS: &[&str] = &[
    "$ref",
    "$recursiveRef",
    "$dynamicRef",
    "$schema",
    "$id",
    "$anchor",
    "$dynamicAnchor",
    "$recursiveAnchor",
    "$comment",
    "$defs",
    "definitions",
    "$vocabulary",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
];

pub(crate) const ARRAY: &[&str] = &[
    "items",
    "prefixItems",
    "additionalItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
    "minContains",
    "maxContains",
    "unevaluatedItems",
];
pub(crate) const OBJECT: &[&str] = &[
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "dependencies",
    "dependentRequired",
    "dependentSchemas",
    "minProperties",
    "maxProperties",
    "propertyNames",
    "unevaluatedProperties",
];
pub(crate) const NUMBER: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
];
pub(crate) const STRING: &[&str] = &[
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "contentEncoding",
    "contentMediaType",
];

pub(crate) struct Keywords<'a, J> {
    pub raw: &'a J,
    slots: [Option<&'a J>; COUNT],
    /// Some member is neither an annotation nor `$ref`.
    pub has_assertions: bool,
}

impl<'a, J: Json> Keywords<'a, J> {
    pub fn scan(raw: &'a J) -> Self {
        let mut kw = Keywords {
            raw,
            slots: [None; COUNT],
            has_assertions: false,
        };
        for (key, value) in raw.entries() {
            if let Some(i) = slot(key) {
                kw.slots[i] = Some(value);
            }
            if !ANNOTATIONS.contains(&key) {
                kw.has_assertions = true;
            }
        }
        kw
    }

    /// The value of `key`, which must be one of the keywords listed above.
    #[inline]
    pub fn get(&self, key: &str) -> Option<&'a J> {
        debug_assert!(NAMES.contains(&key), "keyword {key} is not scanned");
        slot(key).and_then(|i| self.slots[i])
    }

    pub fn has_any(&self, keys: &[&str]) -> bool {
        keys.iter().any(|k| self.get(k).is_some())
    }
}
