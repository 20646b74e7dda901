//! Subjects and their versions: list, get, register, look up, delete, referencedby.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::bodies::{RegisterRequest, SchemaResponse};
use crate::error::{Error, Result};
use crate::extract::{Body, Q, Vnd, check_subject, paginate, parse_version, raw_json};
use crate::registration::{self, ensure_writable, find_version};
use crate::store::Store;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/subjects", get(list_subjects))
        .route(
            "/subjects/{subject}",
            axum::routing::post(lookup).delete(delete_subject),
        )
        .route(
            "/subjects/{subject}/versions",
            get(list_versions).post(register),
        )
        .route(
            "/subjects/{subject}/versions/{version}",
            get(get_version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(get_version_schema),
        )
        .route(
            "/subjects/{subject}/versions/{version}/referencedby",
            get(referenced_by),
        )
}

/// `{id}`: what every client reads back from a registration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterResponse {
    pub id: i64,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    pub subject_prefix: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub deleted: Option<bool>,
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub deleted_only: Option<bool>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct DeletedQuery {
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub deleted: Option<bool>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct RegisterQuery {
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub normalize: Option<bool>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct LookupQuery {
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub normalize: Option<bool>,
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub deleted: Option<bool>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct DeleteQuery {
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub permanent: Option<bool>,
}

/// Lists subjects.
#[utoipa::path(get, path = "/subjects", tag = "subjects", params(ListQuery),
    responses((status = 200, body = Vec<String>)))]
pub(crate) async fn list_subjects(
    State(state): State<AppState>,
    Q(q): Q<ListQuery>,
) -> Result<Vnd<Vec<String>>> {
    let rows = state
        .store
        .subjects(q.subject_prefix.as_deref().unwrap_or(""))
        .await?;
    let deleted_only = q.deleted_only.unwrap_or(false);
    let deleted = q.deleted.unwrap_or(false);
    let names = rows
        .into_iter()
        .filter(|r| {
            if deleted_only {
                r.all_deleted
            } else {
                deleted || !r.all_deleted
            }
        })
        .map(|r| r.subject)
        .collect();
    Ok(Vnd(paginate(names, q.offset, q.limit)))
}

/// Lists the versions of a subject.
#[utoipa::path(get, path = "/subjects/{subject}/versions", tag = "subjects",
    params(("subject" = String, Path), ListQuery), responses((status = 200, body = Vec<i32>)))]
pub(crate) async fn list_versions(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    Q(q): Q<ListQuery>,
) -> Result<Vnd<Vec<i32>>> {
    let rows = state.store.subject_versions(&subject).await?;
    let deleted_only = q.deleted_only.unwrap_or(false);
    let deleted = q.deleted.unwrap_or(false);
    let visible: Vec<i32> = rows
        .iter()
        .filter(|(_, d)| if deleted_only { *d } else { deleted || !d })
        .map(|(v, _)| *v)
        .collect();
    if rows.is_empty() || (visible.is_empty() && !deleted_only) {
        return Err(Error::SubjectNotFound(subject));
    }
    Ok(Vnd(paginate(visible, q.offset, q.limit)))
}

/// One version of a subject (`latest` or `-1` for the newest).
#[utoipa::path(get, path = "/subjects/{subject}/versions/{version}", tag = "subjects",
    params(("subject" = String, Path), ("version" = String, Path), DeletedQuery),
    responses((status = 200, body = SchemaResponse)))]
pub(crate) async fn get_version(
    State(state): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    Q(q): Q<DeletedQuery>,
) -> Result<Vnd<SchemaResponse>> {
    let v = find_version(&state, &subject, &version, q.deleted.unwrap_or(false)).await?;
    Ok(Vnd(SchemaResponse::from(&v)))
}

/// The schema text of one version, unescaped.
#[utoipa::path(get, path = "/subjects/{subject}/versions/{version}/schema", tag = "subjects",
    params(("subject" = String, Path), ("version" = String, Path), DeletedQuery),
    responses((status = 200, description = "the schema text")))]
pub(crate) async fn get_version_schema(
    State(state): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    Q(q): Q<DeletedQuery>,
) -> Result<Response> {
    let v = find_version(&state, &subject, &version, q.deleted.unwrap_or(false)).await?;
    Ok(raw_json(v.schema.schema.clone()))
}

/// Ids of the schemas that reference this version.
#[utoipa::path(get, path = "/subjects/{subject}/versions/{version}/referencedby", tag = "subjects",
    params(("subject" = String, Path), ("version" = String, Path), ListQuery),
    responses((status = 200, body = Vec<i64>)))]
pub(crate) async fn referenced_by(
    State(state): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    Q(q): Q<ListQuery>,
) -> Result<Vnd<Vec<i64>>> {
    let v = find_version(&state, &subject, &version, q.deleted.unwrap_or(false)).await?;
    let ids = state.store.referenced_by(&subject, v.version).await?;
    Ok(Vnd(paginate(ids, q.offset, q.limit)))
}

/// Registers a schema under a subject (idempotent), checking compatibility.
#[utoipa::path(post, path = "/subjects/{subject}/versions", tag = "subjects",
    params(("subject" = String, Path), RegisterQuery), request_body = RegisterRequest,
    responses((status = 200, body = RegisterResponse),
        (status = 409, body = crate::error::ErrorBody, description = "incompatible"),
        (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    Q(q): Q<RegisterQuery>,
    Body(req): Body<RegisterRequest>,
) -> Result<Vnd<RegisterResponse>> {
    check_subject(&subject)?;
    let registered = registration::register(&state, &subject, &req, q.normalize).await?;
    Ok(Vnd(RegisterResponse { id: registered.id }))
}

/// Is this schema registered under the subject? Returns the version holding it.
#[utoipa::path(post, path = "/subjects/{subject}", tag = "subjects",
    params(("subject" = String, Path), LookupQuery), request_body = RegisterRequest,
    responses((status = 200, body = SchemaResponse)))]
pub(crate) async fn lookup(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    Q(q): Q<LookupQuery>,
    Body(req): Body<RegisterRequest>,
) -> Result<Vnd<SchemaResponse>> {
    check_subject(&subject)?;
    let include_deleted = q.deleted.unwrap_or(false);
    let v = registration::lookup(&state, &subject, &req, q.normalize, include_deleted).await?;
    Ok(Vnd(SchemaResponse::from(&v)))
}

/// Deletes a subject (soft, or permanently after a soft delete).
#[utoipa::path(delete, path = "/subjects/{subject}", tag = "subjects",
    params(("subject" = String, Path), DeleteQuery), responses((status = 200, body = Vec<i32>)))]
pub(crate) async fn delete_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    Q(q): Q<DeleteQuery>,
    caller: Caller,
) -> Result<Vnd<Vec<i32>>> {
    let permanent = q.permanent.unwrap_or(false);
    if permanent {
        caller.require(Role::Admin, "a permanent delete")?;
    }
    ensure_writable(&state, &subject).await?;
    let versions = state.store.delete_subject(&subject, permanent).await?;
    Ok(Vnd(versions))
}

/// Deletes one version (soft, or permanently after a soft delete).
#[utoipa::path(delete, path = "/subjects/{subject}/versions/{version}", tag = "subjects",
    params(("subject" = String, Path), ("version" = String, Path), DeleteQuery),
    responses((status = 200, body = i32)))]
pub(crate) async fn delete_version(
    State(state): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    Q(q): Q<DeleteQuery>,
    caller: Caller,
) -> Result<Response> {
    let permanent = q.permanent.unwrap_or(false);
    if permanent {
        caller.require(Role::Admin, "a permanent delete")?;
    }
    ensure_writable(&state, &subject).await?;
    let sel = parse_version(&version)?;
    let v = state.store.delete_version(&subject, sel, permanent).await?;
    Ok(Vnd(v).into_response())
}
