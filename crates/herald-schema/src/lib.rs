//! JSON Schema compatibility engine with Confluent Schema Registry semantics.
//!
//! PUBLIC API CONTRACT (used by herald-registry and herald-cli; keep these names and shapes):
//! `CompatibilityLevel`, `Policy`, `DifferenceType`, `Difference`, `Report`,
//! `ReferenceResolver`, `NoReferences`, `SchemaError`, `check`, `validate`.
//! The bodies below are placeholders that the engine's author replaces.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

/// A compatibility level, spelled as Confluent spells it (`BACKWARD_TRANSITIVE`); parsed in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CompatibilityLevel {
    None,
    #[default]
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

impl CompatibilityLevel {
    pub const ALL: [CompatibilityLevel; 7] = [
        Self::None,
        Self::Backward,
        Self::BackwardTransitive,
        Self::Forward,
        Self::ForwardTransitive,
        Self::Full,
        Self::FullTransitive,
    ];

    /// Confluent's name, e.g. `FULL_TRANSITIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Backward => "BACKWARD",
            Self::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Self::Forward => "FORWARD",
            Self::ForwardTransitive => "FORWARD_TRANSITIVE",
            Self::Full => "FULL",
            Self::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Whether every previous version is checked (not only the latest).
    pub fn is_transitive(self) -> bool {
        matches!(
            self,
            Self::BackwardTransitive | Self::ForwardTransitive | Self::FullTransitive
        )
    }
}

impl fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CompatibilityLevel {
    type Err = SchemaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == upper)
            .ok_or_else(|| SchemaError::UnknownLevel(s.to_owned()))
    }
}

/// Which differences count as compatible: Confluent's STRICT (default) or LENIENT set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    #[default]
    Strict,
    Lenient,
}

impl Policy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "STRICT",
            Self::Lenient => "LENIENT",
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Policy {
    type Err = SchemaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "STRICT" => Ok(Self::Strict),
            "LENIENT" => Ok(Self::Lenient),
            _ => Err(SchemaError::UnknownPolicy(s.to_owned())),
        }
    }
}

/// Resolves `$ref`s that point outside the schema (other registered schemas).
pub trait ReferenceResolver {
    /// The schema a reference URI (without its `#fragment`) names, if known.
    fn resolve(&self, uri: &str) -> Option<Value>;
}

/// A resolver that knows no external schema.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoReferences;

impl ReferenceResolver for NoReferences {
    fn resolve(&self, _uri: &str) -> Option<Value> {
        None
    }
}

/// Why a schema could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("unknown compatibility level `{0}` (expected one of NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE)")]
    UnknownLevel(String),
    #[error("unknown compatibility policy `{0}` (expected STRICT or LENIENT)")]
    UnknownPolicy(String),
    /// The document is not a valid JSON Schema; `path` is a JSON pointer-ish path (`#/properties/a`).
    #[error("invalid schema at {path}: {reason}")]
    Invalid { path: String, reason: String },
    #[error("unresolved reference `{reference}` at {path}")]
    UnresolvedReference { path: String, reference: String },
    #[error("schema exceeds a limit at {path}: {reason}")]
    LimitExceeded { path: String, reason: String },
}

/// A Confluent difference type (`TYPE_CHANGED`, `PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL`, ...).
/// PLACEHOLDER: the engine's author lists every type of the reference here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DifferenceType {
    TypeChanged,
}

impl DifferenceType {
    /// Confluent's name for the type, e.g. `TYPE_CHANGED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TypeChanged => "TYPE_CHANGED",
        }
    }
}

impl fmt::Display for DifferenceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One difference between a previous schema and the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub kind: DifferenceType,
    /// JSON path in the new schema (`#/properties/address/properties/zip`).
    pub path: String,
    /// A sentence a person understands.
    pub message: String,
}

/// The outcome of a compatibility check.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    pub is_compatible: bool,
    /// Every difference found (compatible ones included), for every previous version checked.
    pub differences: Vec<Difference>,
}

/// Checks `new` against `previous` (newest first) at `level` under `policy`.
/// Non-transitive levels look at `previous[0]` only; an empty `previous` is compatible.
pub fn check(
    level: CompatibilityLevel,
    policy: Policy,
    new: &Value,
    previous: &[Value],
    resolver: &dyn ReferenceResolver,
) -> Result<Report, SchemaError> {
    // PLACEHOLDER until the engine lands.
    let _ = (level, policy, new, previous, resolver);
    Ok(Report {
        is_compatible: true,
        differences: Vec::new(),
    })
}

/// Checks that `schema` is a structurally valid JSON Schema within the engine's limits.
pub fn validate(schema: &Value) -> Result<(), SchemaError> {
    // PLACEHOLDER until the engine lands.
    let _ = schema;
    Ok(())
}
