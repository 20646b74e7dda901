//! The keywords of one schema object, found in a single pass over its members: the loader then
//! reads fields instead of searching the object for each of ~50 keywords. A member's name is
//! classified with one hash and one comparison (a perfect hash over the names below, checked
//! at compile time).

use crate::json::Json;

/// A keyword the loader reads: its slot in [`Keywords`] and its name (for paths and messages).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kw {
    slot: u8,
    pub name: &'static str,
}

impl Kw {
    /// The bit of this keyword in [`Keywords::present`] masks.
    pub const fn bit(self) -> u64 {
        1 << self.slot
    }
}

/// Defines the keyword constants, in slot order, and [`NAMES`].
macro_rules! keywords {
    ($($konst:ident = $name:literal),* $(,)?) => {
        const NAMES: &[&str] = &[$($name),*];
        keywords!(@consts 0u8; $($konst = $name),*);
    };
    (@consts $n:expr; $konst:ident = $name:literal $(, $rest:ident = $rname:literal)*) => {
        pub(crate) const $konst: Kw = Kw { slot: $n, name: $name };
        keywords!(@consts $n + 1u8; $($rest = $rname),*);
    };
    (@consts $n:expr;) => {};
}

keywords![
    DOLLAR_ID = "$id",
    ID = "id",
    REF = "$ref",
    RECURSIVE_REF = "$recursiveRef",
    DYNAMIC_REF = "$dynamicRef",
    TITLE = "title",
    DESCRIPTION = "description",
    DEFAULT = "default",
    ENUM = "enum",
    CONST = "const",
    ALL_OF = "allOf",
    ANY_OF = "anyOf",
    ONE_OF = "oneOf",
    NOT = "not",
    TYPE = "type",
    IF = "if",
    THEN = "then",
    ELSE = "else",
    MIN_LENGTH = "minLength",
    MAX_LENGTH = "maxLength",
    PATTERN = "pattern",
    FORMAT = "format",
    CONTENT_ENCODING = "contentEncoding",
    CONTENT_MEDIA_TYPE = "contentMediaType",
    MINIMUM = "minimum",
    MAXIMUM = "maximum",
    EXCLUSIVE_MINIMUM = "exclusiveMinimum",
    EXCLUSIVE_MAXIMUM = "exclusiveMaximum",
    MULTIPLE_OF = "multipleOf",
    PROPERTIES = "properties",
    REQUIRED = "required",
    ADDITIONAL_PROPERTIES = "additionalProperties",
    PATTERN_PROPERTIES = "patternProperties",
    DEPENDENCIES = "dependencies",
    DEPENDENT_REQUIRED = "dependentRequired",
    DEPENDENT_SCHEMAS = "dependentSchemas",
    MIN_PROPERTIES = "minProperties",
    MAX_PROPERTIES = "maxProperties",
    PROPERTY_NAMES = "propertyNames",
    UNEVALUATED_PROPERTIES = "unevaluatedProperties",
    ITEMS = "items",
    PREFIX_ITEMS = "prefixItems",
    ADDITIONAL_ITEMS = "additionalItems",
    MIN_ITEMS = "minItems",
    MAX_ITEMS = "maxItems",
    UNIQUE_ITEMS = "uniqueItems",
    CONTAINS = "contains",
    MIN_CONTAINS = "minContains",
    MAX_CONTAINS = "maxContains",
    UNEVALUATED_ITEMS = "unevaluatedItems",
];

const COUNT: usize = NAMES.len();
const _: () = assert!(COUNT <= 64, "slots must fit the `present` mask");

/// Members that do not constrain instances (they may sit beside `$ref` in 2019-09 on without
/// making it an `allOf`); some are also keywords above.
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

const fn mask(kws: &[Kw]) -> u64 {
    let mut m = 0;
    let mut i = 0;
    while i < kws.len() {
        m |= kws[i].bit();
        i += 1;
    }
    m
}

/// Keywords that imply an array, object, number or string type when `type` is absent.
pub(crate) const ARRAY: u64 = mask(&[
    ITEMS,
    PREFIX_ITEMS,
    ADDITIONAL_ITEMS,
    MIN_ITEMS,
    MAX_ITEMS,
    UNIQUE_ITEMS,
    CONTAINS,
    MIN_CONTAINS,
    MAX_CONTAINS,
    UNEVALUATED_ITEMS,
]);
pub(crate) const OBJECT: u64 = mask(&[
    PROPERTIES,
    REQUIRED,
    ADDITIONAL_PROPERTIES,
    PATTERN_PROPERTIES,
    DEPENDENCIES,
    DEPENDENT_REQUIRED,
    DEPENDENT_SCHEMAS,
    MIN_PROPERTIES,
    MAX_PROPERTIES,
    PROPERTY_NAMES,
    UNEVALUATED_PROPERTIES,
]);
pub(crate) const NUMBER: u64 = mask(&[
    MINIMUM,
    MAXIMUM,
    EXCLUSIVE_MINIMUM,
    EXCLUSIVE_MAXIMUM,
    MULTIPLE_OF,
]);
pub(crate) const STRING: u64 = mask(&[
    MIN_LENGTH,
    MAX_LENGTH,
    PATTERN,
    FORMAT,
    CONTENT_ENCODING,
    CONTENT_MEDIA_TYPE,
]);

// The perfect hash: the first and last eight bytes of a name, mixed with its length, times a
// multiplier found by search; the top eight bits pick the table entry.
const MULTIPLIER: u64 = 0xd136_1f64_1336_2771;
const TABLE_BITS: u32 = 8;

const fn le_bytes(b: &[u8], start: usize, len: usize) -> u64 {
    let mut v = 0u64;
    let mut i = 0;
    while i < len {
        v |= (b[start + i] as u64) << (8 * i);
        i += 1;
    }
    v
}

#[inline]
const fn hash(name: &[u8]) -> usize {
    let n = name.len();
    let head = if n >= 8 { 8 } else { n };
    let first = le_bytes(name, 0, head);
    let last = if n >= 8 {
        le_bytes(name, n - 8, 8)
    } else {
        first
    };
    let x = first ^ last.rotate_left(29) ^ n as u64;
    (x.wrapping_mul(MULTIPLIER) >> (64 - TABLE_BITS)) as usize
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn contains(list: &[&str], name: &str) -> bool {
    let mut i = 0;
    while i < list.len() {
        if str_eq(list[i], name) {
            return true;
        }
        i += 1;
    }
    false
}

/// One table entry: a known member name, its slot (`NO_SLOT` for annotations that are not
/// keywords) and whether it is an annotation.
#[derive(Clone, Copy)]
struct Entry {
    name: &'static str,
    slot: u8,
    annotation: bool,
}

const NO_SLOT: u8 = u8::MAX;
const EMPTY: Entry = Entry {
    name: "",
    slot: NO_SLOT,
    annotation: false,
};

const TABLE: [Entry; 1 << TABLE_BITS] = {
    let mut table = [EMPTY; 1 << TABLE_BITS];
    let mut i = 0;
    while i < NAMES.len() {
        let h = hash(NAMES[i].as_bytes());
        assert!(table[h].name.is_empty(), "keyword hash collision");
        table[h] = Entry {
            name: NAMES[i],
            slot: i as u8,
            annotation: contains(ANNOTATIONS, NAMES[i]),
        };
        i += 1;
    }
    let mut i = 0;
    while i < ANNOTATIONS.len() {
        let h = hash(ANNOTATIONS[i].as_bytes());
        if !contains(NAMES, ANNOTATIONS[i]) {
            assert!(table[h].name.is_empty(), "annotation hash collision");
            table[h] = Entry {
                name: ANNOTATIONS[i],
                slot: NO_SLOT,
                annotation: true,
            };
        }
        i += 1;
    }
    table
};

/// The table entry of `name`, if it is a known keyword or annotation.
#[inline]
fn lookup(name: &str) -> Option<&'static Entry> {
    let e = &TABLE[hash(name.as_bytes())];
    // An empty entry has the name "" and neither a slot nor the annotation flag.
    (e.name == name && (e.slot != NO_SLOT || e.annotation)).then_some(e)
}

pub(crate) struct Keywords<'a, J> {
    pub raw: &'a J,
    slots: [Option<&'a J>; COUNT],
    /// A bit per keyword present ([`Kw::bit`]).
    present: u64,
    /// Some member is neither an annotation nor `$ref`.
    pub has_assertions: bool,
}

impl<'a, J: Json> Keywords<'a, J> {
    pub fn scan(raw: &'a J) -> Self {
        let mut kw = Keywords {
            raw,
            slots: [None; COUNT],
            present: 0,
            has_assertions: false,
        };
        for (key, value) in raw.entries() {
            match lookup(key) {
                Some(e) => {
                    if e.slot != NO_SLOT {
                        kw.slots[usize::from(e.slot)] = Some(value);
                        kw.present |= 1 << e.slot;
                    }
                    kw.has_assertions |= !e.annotation;
                }
                None => kw.has_assertions = true,
            }
        }
        kw
    }

    #[inline]
    pub fn get(&self, key: Kw) -> Option<&'a J> {
        self.slots[usize::from(key.slot)]
    }

    /// Whether any keyword of `mask` (an OR of [`Kw::bit`]s) is present.
    #[inline]
    pub fn has_any(&self, mask: u64) -> bool {
        self.present & mask != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_found_in_its_slot() {
        for (i, name) in NAMES.iter().enumerate() {
            let e = lookup(name).expect(name);
            assert_eq!(usize::from(e.slot), i, "{name}");
            assert_eq!(e.annotation, ANNOTATIONS.contains(name), "{name}");
        }
        for name in ANNOTATIONS {
            assert!(lookup(name).expect(name).annotation, "{name}");
        }
    }

    #[test]
    fn other_names_are_not_keywords() {
        for name in [
            "",
            "x",
            "typ",
            "types",
            "Type",
            "$ref2",
            "maxlength",
            "exclusiveMaximumX",
        ] {
            assert!(lookup(name).is_none(), "{name}");
        }
    }

    #[test]
    fn scan_reads_slots_and_assertions() {
        let v = serde_json::json!({"$ref": "#/a", "title": "t", "maxLength": 3});
        let k = Keywords::scan(&v);
        assert_eq!(k.get(MAX_LENGTH), v.get("maxLength"));
        assert!(k.get(MIN_LENGTH).is_none());
        assert!(k.has_any(STRING) && !k.has_any(OBJECT));
        assert!(k.has_assertions);
        let v = serde_json::json!({"$ref": "#/a", "title": "t", "$comment": "c"});
        assert!(!Keywords::scan(&v).has_assertions);
        let v = serde_json::json!({"$ref": "#/a", "x-custom": 1});
        assert!(Keywords::scan(&v).has_assertions);
    }
}
