//! Compatibility: the two check endpoints (the rules are the registration's).

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::bodies::RegisterRequest;
use crate::error::Result;
use crate::extract::{Body, Q, Vnd, check_subject, parse_version};
use crate::registration::{Target, check};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(check_all),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(check_one),
        )
}

/// `{is_compatible, messages?}`; messages only with `verbose=true`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CompatibilityResponse {
    pub is_compatible: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct CheckQuery {
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub verbose: Option<bool>,
    #[serde(default, deserialize_with = "crate::extract::opt_bool")]
    pub normalize: Option<bool>,
}

fn answer(outcome: Option<Vec<String>>, q: &CheckQuery) -> Vnd<CompatibilityResponse> {
    Vnd(CompatibilityResponse {
        is_compatible: outcome.is_none(),
        messages: q
            .verbose
            .unwrap_or(false)
            .then(|| outcome.unwrap_or_default()),
    })
}

/// Checks the schema exactly as registration would (latest, or all versions when transitive).
#[utoipa::path(post, path = "/compatibility/subjects/{subject}/versions", tag = "compatibility",
    params(("subject" = String, Path), CheckQuery), request_body = RegisterRequest,
    responses((status = 200, body = CompatibilityResponse)))]
pub(crate) async fn check_all(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    Q(q): Q<CheckQuery>,
    Body(req): Body<RegisterRequest>,
) -> Result<Vnd<CompatibilityResponse>> {
    check_subject(&subject)?;
    let outcome = check(&state, &subject, &req, q.normalize, Target::Registration).await?;
    Ok(answer(outcome, &q))
}

/// Checks the schema against one version, with the subject's level.
#[utoipa::path(post, path = "/compatibility/subjects/{subject}/versions/{version}", tag = "compatibility",
    params(("subject" = String, Path), ("version" = String, Path), CheckQuery), request_body = RegisterRequest,
    responses((status = 200, body = CompatibilityResponse)))]
pub(crate) async fn check_one(
    State(state): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    Q(q): Q<CheckQuery>,
    Body(req): Body<RegisterRequest>,
) -> Result<Vnd<CompatibilityResponse>> {
    check_subject(&subject)?;
    let target = Target::Version(parse_version(&version)?, &version);
    let outcome = check(&state, &subject, &req, q.normalize, target).await?;
    Ok(answer(outcome, &q))
}
