//! Difference types herald never emits: Confluent's deprecated one, and the reserved-field
//! checks, which need registry metadata the engine is not given. Shared by the tests that
//! demand a case for every other type (included with `#[path]`).

pub const NOT_EMITTED: &[&str] = &[
    "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
    "RESERVED_PROPERTY_REMOVED",
    "RESERVED_PROPERTY_CONFLICTS_WITH_PROPERTY",
];
