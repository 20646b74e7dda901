//! Modes: READWRITE (default), READONLY, READONLY_OVERRIDE, IMPORT ([`store::Mode`], parsed
//! here at the edge).

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{Error, Result};
use crate::extract::{Body, Q, Vnd, check_subject};
use crate::store::{self, Store};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/mode",
            get(get_global).put(put_global).delete(delete_global),
        )
        .route(
            "/mode/{subject}",
            get(get_subject).put(put_subject).delete(delete_subject),
        )
}

/// The body: a mode as Confluent spells it (parsed in any case on `PUT`).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Mode {
    pub mode: String,
}

impl From<store::Mode> for Mode {
    fn from(mode: store::Mode) -> Self {
        Self {
            mode: mode.to_string(),
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ModeQuery {
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub force: Option<bool>,
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub default_to_global: Option<bool>,
}

/// The global mode, read from the database.
async fn global(state: &AppState) -> Result<store::Mode> {
    Ok(state.store.uncached().mode(None).await?.unwrap_or_default())
}

/// The global mode.
#[utoipa::path(get, path = "/mode", tag = "mode", responses((status = 200, body = Mode)))]
pub(crate) async fn get_global(State(state): State<AppState>) -> Result<Vnd<Mode>> {
    Ok(Vnd(global(&state).await?.into()))
}

/// Sets the global mode (admin). IMPORT over existing schemas needs `force=true`.
#[utoipa::path(put, path = "/mode", tag = "mode", params(ModeQuery), request_body = Mode,
    responses((status = 200, body = Mode)))]
pub(crate) async fn put_global(
    State(state): State<AppState>,
    Q(q): Q<ModeQuery>,
    Body(body): Body<Mode>,
) -> Result<Vnd<Mode>> {
    let mode: store::Mode = body.mode.parse()?;
    if mode == store::Mode::Import
        && !q.force.unwrap_or(false)
        && !state.store.subjects("").await?.is_empty()
    {
        return Err(Error::OperationNotPermitted(
            "Cannot import since found existing subjects".to_owned(),
        ));
    }
    state.store.set_mode(None, mode).await?;
    Ok(Vnd(mode.into()))
}

/// Resets the global mode to READWRITE; returns the previous one.
#[utoipa::path(delete, path = "/mode", tag = "mode", responses((status = 200, body = Mode)))]
pub(crate) async fn delete_global(State(state): State<AppState>) -> Result<Vnd<Mode>> {
    let prev = state.store.delete_mode(None).await?.unwrap_or_default();
    Ok(Vnd(prev.into()))
}

/// A subject's mode; with `defaultToGlobal=true`, the global one when it has none.
#[utoipa::path(get, path = "/mode/{subject}", tag = "mode",
    params(("subject" = String, Path), ModeQuery), responses((status = 200, body = Mode)))]
pub(crate) async fn get_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    Q(q): Q<ModeQuery>,
) -> Result<Vnd<Mode>> {
    match state.store.uncached().mode(Some(&subject)).await? {
        Some(mode) => Ok(Vnd(mode.into())),
        None if q.default_to_global.unwrap_or(false) => Ok(Vnd(global(&state).await?.into())),
        None => Err(Error::SubjectModeNotConfigured(subject)),
    }
}

/// Sets a subject's mode (admin).
#[utoipa::path(put, path = "/mode/{subject}", tag = "mode",
    params(("subject" = String, Path), ModeQuery), request_body = Mode,
    responses((status = 200, body = Mode)))]
pub(crate) async fn put_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    Q(q): Q<ModeQuery>,
    Body(body): Body<Mode>,
) -> Result<Vnd<Mode>> {
    check_subject(&subject)?;
    let mode: store::Mode = body.mode.parse()?;
    if mode == store::Mode::Import
        && !q.force.unwrap_or(false)
        && !state.store.subject_versions(&subject).await?.is_empty()
    {
        return Err(Error::OperationNotPermitted(format!(
            "Cannot import since subject {subject} has versions"
        )));
    }
    state.store.set_mode(Some(&subject), mode).await?;
    Ok(Vnd(mode.into()))
}

/// Removes a subject's mode; returns it.
#[utoipa::path(delete, path = "/mode/{subject}", tag = "mode",
    params(("subject" = String, Path)), responses((status = 200, body = Mode)))]
pub(crate) async fn delete_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
) -> Result<Vnd<Mode>> {
    match state.store.delete_mode(Some(&subject)).await? {
        Some(mode) => Ok(Vnd(mode.into())),
        None => Err(Error::SubjectModeNotConfigured(subject)),
    }
}
