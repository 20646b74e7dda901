//! JSON Schema compatibility engine with Confluent Schema Registry semantics.
//!
//! [`check`] compares a new schema with previous versions at a [`CompatibilityLevel`] under a
//! [`Policy`] and returns a [`Report`]: every [`Difference`] with Confluent's type name
//! (`TYPE_CHANGED`, `OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL`, ...), its JSON path and a
//! sentence a person understands. The crate is pure: no I/O, no async; schemas in other
//! documents come from the caller's [`ReferenceResolver`].
//!
//! ```
//! use herald_schema::{check, CompatibilityLevel, NoReferences, Policy};
//! use serde_json::json;
//!
//! let v1 = json!({"type": "object", "properties": {"zip": {"type": "string"}}});
//! let v2 = json!({"type": "object", "properties": {"zip": {"type": "integer"}}});
//! let report = check(CompatibilityLevel::Backward, Policy::Strict, &v2, &[v1], &NoReferences).unwrap();
//! assert!(!report.is_compatible);
//! assert_eq!(report.differences[0].kind.as_str(), "TYPE_CHANGED");
//! assert_eq!(report.differences[0].path, "#/properties/zip");
//! assert_eq!(
//!     report.differences[0].message,
//!     "field `zip` changed from string to integer: data written with the previous version can no longer be read"
//! );
//! ```
//!
//! The rules, the drafts supported, the limits, the herald extensions and every deliberate
//! disagreement with the conformance vectors are in the crate's README.
#![doc = include_str!("../README.md")]

pub mod annotations;
mod check;
mod diff;
mod difference;
mod error;
mod json;
mod keywords;
mod levels;
pub mod limits;
mod load;
mod message;
mod model;
mod refs;
mod report;
mod resolver;
mod text;

use serde_json::Value;

pub use annotations::{same_apart_from_annotations, strip_annotations};
pub use difference::{Difference, DifferenceType, Direction};
pub use error::SchemaError;
pub use levels::{CompatibilityLevel, Policy};
pub use report::Report;
pub use resolver::{NoReferences, ReferenceResolver};

/// Checks `new` against `previous` (newest first) at `level` under `policy`.
/// Non-transitive levels look at `previous[0]` only; an empty `previous` is compatible.
///
/// BACKWARD compares each previous version (writer) with the new one (reader), FORWARD the
/// reverse, FULL both. Errors name the document (`previous[1] #/properties/a`) unless it is
/// the new schema.
pub fn check(
    level: CompatibilityLevel,
    policy: Policy,
    new: &Value,
    previous: &[Value],
    resolver: &dyn ReferenceResolver,
) -> Result<Report, SchemaError> {
    check::check(level, policy, new, previous, resolver)
}

/// [`check`] from JSON text: parses with the crate's own parser into an arena, several times
/// faster than building `serde_json::Value`s. A text that is not JSON is
/// [`SchemaError::Invalid`] at `#/` (the reason gives line and column); one nested deeper than
/// [`limits::MAX_JSON_DEPTH`] is [`SchemaError::LimitExceeded`].
pub fn check_json(
    level: CompatibilityLevel,
    policy: Policy,
    new: &str,
    previous: &[&str],
    resolver: &dyn ReferenceResolver,
) -> Result<Report, SchemaError> {
    check::check_json(level, policy, new, previous, resolver)
}

/// Checks that `schema` is a structurally valid JSON Schema within the engine's limits.
///
/// Every keyword the engine reads must have the shape the drafts allow, local `$ref`s must
/// resolve, and `definitions`/`$defs` are checked even when nothing references them.
/// References to other documents are not fetched here.
pub fn validate(schema: &Value) -> Result<(), SchemaError> {
    check::validate(schema)
}
