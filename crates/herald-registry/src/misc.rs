//! Root, contexts and server metadata.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{Error, Result};
use crate::extract::Vnd;
use crate::store::Store;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(root).post(root))
        .route("/contexts", get(contexts))
        .route("/contexts/{context}", delete(delete_context))
        .route("/v1/metadata/id", get(metadata_id))
        .route("/v1/metadata/version", get(metadata_version))
}

/// `{}`: Confluent's root answer.
#[utoipa::path(get, path = "/", tag = "root", responses((status = 200, body = Object)))]
pub(crate) async fn root() -> Vnd<Value> {
    Vnd(json!({}))
}

/// The contexts: herald has the default one, `.`.
#[utoipa::path(get, path = "/contexts", tag = "contexts", responses((status = 200, body = Vec<String>)))]
pub(crate) async fn contexts() -> Vnd<Vec<&'static str>> {
    Vnd(vec!["."])
}

/// Deletes an empty context (admin).
#[utoipa::path(delete, path = "/contexts/{context}", tag = "contexts",
    params(("context" = String, Path)), responses((status = 204)))]
pub(crate) async fn delete_context(
    State(state): State<AppState>,
    Path(context): Path<String>,
) -> Result<Response> {
    if context != "." && context != ":.:" {
        return Err(Error::ContextNotFound(context));
    }
    if !state.store.subjects("").await?.is_empty() {
        return Err(Error::ContextNotEmpty(context));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The registry's cluster id (one per database).
#[utoipa::path(get, path = "/v1/metadata/id", tag = "metadata", responses((status = 200, body = Object)))]
pub(crate) async fn metadata_id(State(state): State<AppState>) -> Result<Vnd<Value>> {
    let id = state.store.cluster_id().await?;
    Ok(Vnd(json!({
        "id": id,
        "scope": {"path": [], "clusters": {"schema-registry-cluster": id}},
    })))
}

/// The server version.
#[utoipa::path(get, path = "/v1/metadata/version", tag = "metadata", responses((status = 200, body = Object)))]
pub(crate) async fn metadata_version() -> Vnd<Value> {
    Vnd(json!({"version": env!("CARGO_PKG_VERSION"), "commitId": ""}))
}
