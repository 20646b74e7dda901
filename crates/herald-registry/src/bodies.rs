//! Request and response bodies that more than one resource uses: the schema a client submits
//! (register, lookup, compatibility checks) and a subject version as answered (subjects,
//! schemas).

use serde::{Deserialize, Serialize};

use crate::canonical::Reference;
use crate::store::VersionRecord;

/// Body of register, lookup and the compatibility checks.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterRequest {
    pub schema: String,
    /// Absent means AVRO, which herald-registry does not serve.
    pub schema_type: Option<String>,
    #[serde(default)]
    pub references: Option<Vec<Reference>>,
    /// Kept as given in IMPORT mode.
    pub id: Option<i64>,
    pub version: Option<i32>,
    /// Not stored by herald-registry: a registration that carries any is refused rather
    /// than registered without it.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// Not stored either, refused the same way.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub rule_set: Option<serde_json::Value>,
}

/// A subject version as Confluent returns it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaResponse {
    pub subject: String,
    pub version: i32,
    pub id: i64,
    pub schema_type: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    pub schema: String,
    /// Registration time, milliseconds since the Unix epoch.
    pub ts: i64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

impl From<&VersionRecord> for SchemaResponse {
    fn from(v: &VersionRecord) -> Self {
        Self {
            subject: v.subject.clone(),
            version: v.version,
            id: v.schema.id,
            schema_type: v.schema.schema_type.clone(),
            references: v.schema.references.clone(),
            schema: v.schema.schema.clone(),
            ts: v.ts,
            deleted: v.deleted,
        }
    }
}
