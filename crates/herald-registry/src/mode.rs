//! Modes: READWRITE (default), READONLY, READONLY_OVERRIDE, IMPORT.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{Error, Result};
use crate::extract::{Body, Q, Vnd, check_subject};

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

const MODES: [&str; 4] = ["READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT"];

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Mode {
    pub mode: String,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ModeQuery {
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub force: Option<bool>,
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub default_to_global: Option<bool>,
}

fn parse(mode: &str) -> Result<String> {
    let upper = mode.trim().to_ascii_uppercase();
    if MODES.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err(Error::InvalidMode)
    }
}

async fn global(state: &AppState) -> Result<String> {
    Ok(state
        .store
        .mode_uncached(None)
        .await?
        .unwrap_or_else(|| "READWRITE".to_owned()))
}

/// The global mode.
#[utoipa::path(get, path = "/mode", tag = "mode", responses((status = 200, body = Mode)))]
pub(crate) async fn get_global(State(state): State<AppState>) -> Result<Vnd<Mode>> {
    Ok(Vnd(Mode {
        mode: global(&state).await?,
    }))
}

/// Sets the global mode (admin). IMPORT over existing schemas needs `force=true`.
#[utoipa::path(put, path = "/mode", tag = "mode", params(ModeQuery), request_body = Mode,
    responses((status = 200, body = Mode)))]
pub(crate) async fn put_global(
    State(state): State<AppState>,
    Q(q): Q<ModeQuery>,
    Body(body): Body<Mode>,
) -> Result<Vnd<Mode>> {
    let mode = parse(&body.mode)?;
    if mode == "IMPORT" && !q.force.unwrap_or(false) && state.store.has_versions(None).await? {
        return Err(Error::OperationNotPermitted(
            "Cannot import since found existing subjects".to_owned(),
        ));
    }
    state.store.set_mode(None, &mode).await?;
    Ok(Vnd(Mode { mode }))
}

/// Resets the global mode to READWRITE; returns the previous one.
#[utoipa::path(delete, path = "/mode", tag = "mode", responses((status = 200, body = Mode)))]
pub(crate) async fn delete_global(State(state): State<AppState>) -> Result<Vnd<Mode>> {
    let prev = state
        .store
        .delete_mode(None)
        .await?
        .unwrap_or_else(|| "READWRITE".to_owned());
    Ok(Vnd(Mode { mode: prev }))
}

/// A subject's mode; with `defaultToGlobal=true`, the global one when it has none.
#[utoipa::path(get, path = "/mode/{subject}", tag = "mode",
    params(("subject" = String, Path), ModeQuery), responses((status = 200, body = Mode)))]
pub(crate) async fn get_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    Q(q): Q<ModeQuery>,
) -> Result<Vnd<Mode>> {
    match state.store.mode_uncached(Some(&subject)).await? {
        Some(mode) => Ok(Vnd(Mode { mode })),
        None if q.default_to_global.unwrap_or(false) => Ok(Vnd(Mode {
            mode: global(&state).await?,
        })),
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
    let mode = parse(&body.mode)?;
    if mode == "IMPORT"
        && !q.force.unwrap_or(false)
        && state.store.has_versions(Some(&subject)).await?
    {
        return Err(Error::OperationNotPermitted(format!(
            "Cannot import since subject {subject} has versions"
        )));
    }
    state.store.set_mode(Some(&subject), &mode).await?;
    Ok(Vnd(Mode { mode }))
}

/// Removes a subject's mode; returns it.
#[utoipa::path(delete, path = "/mode/{subject}", tag = "mode",
    params(("subject" = String, Path)), responses((status = 200, body = Mode)))]
pub(crate) async fn delete_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
) -> Result<Vnd<Mode>> {
    match state.store.delete_mode(Some(&subject)).await? {
        Some(mode) => Ok(Vnd(Mode { mode })),
        None => Err(Error::SubjectModeNotConfigured(subject)),
    }
}
