//! Why a schema could not be checked.

/// Why a schema could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "unknown compatibility level `{0}` (expected one of NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE)"
    )]
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

impl SchemaError {
    pub(crate) fn invalid(path: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn limit(path: &str, reason: impl Into<String>) -> Self {
        Self::LimitExceeded {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }

    /// The same error with `label` (e.g. "previous version 2") in front of its path, so a caller
    /// that checked several documents knows which one is at fault.
    pub(crate) fn in_document(self, label: &str) -> Self {
        match self {
            Self::Invalid { path, reason } => Self::Invalid {
                path: format!("{label} {path}"),
                reason,
            },
            Self::UnresolvedReference { path, reference } => Self::UnresolvedReference {
                path: format!("{label} {path}"),
                reference,
            },
            Self::LimitExceeded { path, reason } => Self::LimitExceeded {
                path: format!("{label} {path}"),
                reason,
            },
            other => other,
        }
    }
}
