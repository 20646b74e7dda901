//! The JSON bodies of the Confluent REST API that the client sends and reads.

use serde::{Deserialize, Serialize};

/// A reference from a JSON Schema to another registered schema: `name` is the `$ref` target
/// used inside the referring schema, resolved to `subject`/`version`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Reference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

/// A schema fetched by id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FetchedSchema {
    pub schema: String,
    #[serde(default = "json_type")]
    pub schema_type: String,
    #[serde(default)]
    pub references: Vec<Reference>,
}

/// A subject version.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectSchema {
    pub subject: String,
    pub version: i32,
    pub id: i64,
    pub schema: String,
    #[serde(default = "json_type")]
    pub schema_type: String,
    #[serde(default)]
    pub references: Vec<Reference>,
}

/// Result of a compatibility check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Compatibility {
    pub is_compatible: bool,
    #[serde(default)]
    pub messages: Vec<String>,
}

/// The body of `POST /subjects/{subject}/versions`.
#[derive(Serialize)]
pub(crate) struct RegisterBody<'a> {
    pub schema: &'a str,
    #[serde(rename = "schemaType")]
    pub schema_type: &'static str,
    #[serde(skip_serializing_if = "<[Reference]>::is_empty")]
    pub references: &'a [Reference],
}

// herald-registry always sends `schemaType`; when absent, JSON, the one type this client registers.
fn json_type() -> String {
    "JSON".to_owned()
}
