//! Compatibility configuration, global and per subject. GET answers `compatibilityLevel`,
//! PUT takes (and echoes) `compatibility`: Confluent's asymmetry, kept on purpose.

use std::str::FromStr;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use herald_schema::{CompatibilityLevel, Policy};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{Error, Result};
use crate::extract::{Body, Q, Vnd, check_subject};
use crate::store::{ConfigRecord, Store};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/config",
            get(get_global).put(put_global).delete(delete_global),
        )
        .route(
            "/config/{subject}",
            get(get_subject).put(put_subject).delete(delete_subject),
        )
}

/// `GET /config`: fields that are not set are left out.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigResponse {
    pub compatibility_level: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalize: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatibility_policy: Option<String>,
}

/// `PUT /config`: the update, echoed back as sent (normalised spelling).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatibility: Option<String>,
    /// What `GET` answers; some clients send it back on `PUT`.
    #[serde(skip_serializing)]
    pub compatibility_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalize: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatibility_policy: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ConfigQuery {
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub default_to_global: Option<bool>,
}

fn response(state: &AppState, rec: ConfigRecord) -> ConfigResponse {
    ConfigResponse {
        compatibility_level: rec
            .compatibility
            .unwrap_or(state.settings.default_compatibility)
            .to_string(),
        normalize: rec.normalize,
        compatibility_policy: rec.policy.map(|p| p.to_string()),
    }
}

fn validate(update: ConfigUpdate) -> Result<(ConfigUpdate, ConfigRecord)> {
    let compatibility = match update
        .compatibility
        .as_ref()
        .or(update.compatibility_level.as_ref())
    {
        Some(l) => {
            Some(CompatibilityLevel::from_str(l).map_err(|_| Error::InvalidCompatibilityLevel)?)
        }
        None => None,
    };
    let policy = match &update.compatibility_policy {
        Some(p) => {
            Some(Policy::from_str(p).map_err(|_| Error::InvalidCompatibilityPolicy(p.clone()))?)
        }
        None => None,
    };
    if compatibility.is_none() && policy.is_none() && update.normalize.is_none() {
        return Err(Error::InvalidCompatibilityLevel);
    }
    let rec = ConfigRecord {
        compatibility,
        normalize: update.normalize,
        policy,
    };
    Ok((
        ConfigUpdate {
            compatibility: compatibility.map(|l| l.to_string()),
            compatibility_level: None,
            normalize: update.normalize,
            compatibility_policy: policy.map(|p| p.to_string()),
        },
        rec,
    ))
}

/// The global configuration.
#[utoipa::path(get, path = "/config", tag = "config", params(ConfigQuery),
    responses((status = 200, body = ConfigResponse)))]
pub(crate) async fn get_global(State(state): State<AppState>) -> Result<Vnd<ConfigResponse>> {
    let rec = state.store.uncached().config(None).await?;
    Ok(Vnd(response(&state, rec.unwrap_or_default())))
}

/// Sets the global configuration (admin).
#[utoipa::path(put, path = "/config", tag = "config", request_body = ConfigUpdate,
    responses((status = 200, body = ConfigUpdate)))]
pub(crate) async fn put_global(
    State(state): State<AppState>,
    Body(update): Body<ConfigUpdate>,
) -> Result<Vnd<ConfigUpdate>> {
    let (echo, rec) = validate(update)?;
    state.store.set_config(None, &rec).await?;
    Ok(Vnd(echo))
}

/// Resets the global configuration to the server default; returns the previous one.
#[utoipa::path(delete, path = "/config", tag = "config",
    responses((status = 200, body = ConfigResponse)))]
pub(crate) async fn delete_global(State(state): State<AppState>) -> Result<Vnd<ConfigResponse>> {
    let prev = state.store.delete_config(None).await?.unwrap_or_default();
    Ok(Vnd(response(&state, prev)))
}

/// A subject's configuration; with `defaultToGlobal=true`, the global one when it has none.
#[utoipa::path(get, path = "/config/{subject}", tag = "config",
    params(("subject" = String, Path), ConfigQuery), responses((status = 200, body = ConfigResponse)))]
pub(crate) async fn get_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    Q(q): Q<ConfigQuery>,
) -> Result<Vnd<ConfigResponse>> {
    // The database, not the cache: a change is seen at once, in every process.
    let db = state.store.uncached();
    let own = db.config(Some(&subject)).await?;
    if !q.default_to_global.unwrap_or(false) {
        let rec = own.ok_or(Error::SubjectConfigNotConfigured(subject))?;
        return Ok(Vnd(response(&state, rec)));
    }
    // Unset fields inherit from the global config.
    let own = own.unwrap_or_default();
    let global = db.config(None).await?.unwrap_or_default();
    let merged = ConfigRecord {
        compatibility: own.compatibility.or(global.compatibility),
        normalize: own.normalize.or(global.normalize),
        policy: own.policy.or(global.policy),
    };
    Ok(Vnd(response(&state, merged)))
}

/// Sets a subject's configuration (admin).
#[utoipa::path(put, path = "/config/{subject}", tag = "config",
    params(("subject" = String, Path)), request_body = ConfigUpdate,
    responses((status = 200, body = ConfigUpdate)))]
pub(crate) async fn put_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    Body(update): Body<ConfigUpdate>,
) -> Result<Vnd<ConfigUpdate>> {
    check_subject(&subject)?;
    let (echo, rec) = validate(update)?;
    state.store.set_config(Some(&subject), &rec).await?;
    Ok(Vnd(echo))
}

/// Removes a subject's configuration; returns it.
#[utoipa::path(delete, path = "/config/{subject}", tag = "config",
    params(("subject" = String, Path)), responses((status = 200, body = ConfigResponse)))]
pub(crate) async fn delete_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
) -> Result<Vnd<ConfigResponse>> {
    match state.store.delete_config(Some(&subject)).await? {
        Some(prev) => Ok(Vnd(response(&state, prev))),
        None => Err(Error::SubjectConfigNotConfigured(subject)),
    }
}
