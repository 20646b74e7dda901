//! Schemas by global id, and the list of all schemas.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::bodies::SchemaResponse;
use crate::canonical::Reference;
use crate::error::{Error, Result};
use crate::extract::{Q, Vnd, paginate, raw_json};
use crate::store::{SchemaRecord, Store};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/schemas", get(list_schemas))
        .route("/schemas/types", get(types))
        .route("/schemas/ids/{id}", get(by_id))
        .route("/schemas/ids/{id}/schema", get(raw_by_id))
        .route("/schemas/ids/{id}/subjects", get(subjects_of))
        .route("/schemas/ids/{id}/versions", get(versions_of))
}

/// `GET /schemas/ids/{id}`: the schema text and its type and references.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaString {
    pub schema_type: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    pub schema: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_id: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubjectVersion {
    pub subject: String,
    pub version: i32,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct IdQuery {
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub fetch_max_id: Option<bool>,
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub deleted: Option<bool>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct SchemasQuery {
    pub subject_prefix: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub deleted: Option<bool>,
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub latest_only: Option<bool>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

fn parse_id(id: &str) -> Result<i64> {
    id.parse()
        .map_err(|_| Error::SchemaNotFound(format!("Schema {id} not found")))
}

async fn load(state: &AppState, id: i64) -> Result<Arc<SchemaRecord>> {
    state
        .store
        .schema(id)
        .await?
        .ok_or_else(|| Error::SchemaNotFound(format!("Schema {id} not found")))
}

fn schema_string(rec: &SchemaRecord, max_id: Option<i64>) -> SchemaString {
    SchemaString {
        schema_type: rec.schema_type.clone(),
        references: rec.references.clone(),
        schema: rec.schema.clone(),
        max_id,
    }
}

/// A schema by its global id (served from the in-process cache, body and all).
#[utoipa::path(get, path = "/schemas/ids/{id}", tag = "schemas",
    params(("id" = i64, Path), IdQuery), responses((status = 200, body = SchemaString)))]
pub(crate) async fn by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<IdQuery>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    if q.fetch_max_id.unwrap_or(false) {
        let rec = load(&state, id).await?;
        let max_id = Some(state.store.max_schema_id().await?);
        return Ok(Vnd(schema_string(&rec, max_id)).into_response());
    }
    let bodies = &state.store.caches().schema_bodies;
    if let Some(body) = bodies.get(&id) {
        return Ok(raw_json(body));
    }
    let ticket = bodies.ticket();
    let rec = load(&state, id).await?;
    let body = serde_json::to_vec(&schema_string(&rec, None))
        .map(Bytes::from)
        .map_err(|e| Error::Internal(e.to_string()))?;
    bodies.fill(ticket, id, body.clone());
    Ok(raw_json(body))
}

/// The schema text alone.
#[utoipa::path(get, path = "/schemas/ids/{id}/schema", tag = "schemas",
    params(("id" = i64, Path)), responses((status = 200, description = "the schema text")))]
pub(crate) async fn raw_by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response> {
    let rec = load(&state, parse_id(&id)?).await?;
    Ok(raw_json(rec.schema.clone()))
}

/// Subjects using a schema id.
#[utoipa::path(get, path = "/schemas/ids/{id}/subjects", tag = "schemas",
    params(("id" = i64, Path), IdQuery), responses((status = 200, body = Vec<String>)))]
pub(crate) async fn subjects_of(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<IdQuery>,
) -> Result<Vnd<Vec<String>>> {
    let rec = load(&state, parse_id(&id)?).await?;
    let deleted = q.deleted.unwrap_or(false);
    let mut subjects: Vec<String> = state
        .store
        .id_usages(rec.id)
        .await?
        .into_iter()
        .filter(|(_, _, d)| deleted || !d)
        .map(|(s, _, _)| s)
        .collect();
    subjects.dedup();
    Ok(Vnd(paginate(subjects, q.offset, q.limit)))
}

/// Subject versions using a schema id.
#[utoipa::path(get, path = "/schemas/ids/{id}/versions", tag = "schemas",
    params(("id" = i64, Path), IdQuery), responses((status = 200, body = Vec<SubjectVersion>)))]
pub(crate) async fn versions_of(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<IdQuery>,
) -> Result<Vnd<Vec<SubjectVersion>>> {
    let rec = load(&state, parse_id(&id)?).await?;
    let deleted = q.deleted.unwrap_or(false);
    let list = state
        .store
        .id_usages(rec.id)
        .await?
        .into_iter()
        .filter(|(_, _, d)| deleted || !d)
        .map(|(subject, version, _)| SubjectVersion { subject, version })
        .collect();
    Ok(Vnd(paginate(list, q.offset, q.limit)))
}

/// Every schema version (or the latest of each subject).
#[utoipa::path(get, path = "/schemas", tag = "schemas", params(SchemasQuery),
    responses((status = 200, body = Vec<SchemaResponse>)))]
pub(crate) async fn list_schemas(
    State(state): State<AppState>,
    Q(q): Q<SchemasQuery>,
) -> Result<Vnd<Vec<SchemaResponse>>> {
    let deleted = q.deleted.unwrap_or(false);
    let rows = state
        .store
        .all_versions(q.subject_prefix.as_deref().unwrap_or(""))
        .await?;
    let mut out: Vec<SchemaResponse> = Vec::new();
    for v in rows.iter().filter(|v| deleted || !v.deleted) {
        if q.latest_only.unwrap_or(false)
            && let Some(last) = out.last_mut()
            && last.subject == v.subject
        {
            *last = SchemaResponse::from(v);
            continue;
        }
        out.push(SchemaResponse::from(v));
    }
    Ok(Vnd(paginate(out, q.offset, q.limit)))
}

/// The schema types this registry serves.
#[utoipa::path(get, path = "/schemas/types", tag = "schemas",
    responses((status = 200, body = Vec<String>)))]
pub(crate) async fn types() -> Vnd<Vec<&'static str>> {
    Vnd(vec!["JSON"])
}
