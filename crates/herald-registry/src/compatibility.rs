//! Compatibility: the two check endpoints, and the rules registration shares with them.

use std::collections::HashSet;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use herald_schema::{CompatibilityLevel, Policy, ReferenceResolver};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::canonical::{self, Reference};
use crate::checks::Deadline;
use crate::error::{Error, Result};
use crate::extract::{Body, Q, Vnd, check_subject, parse_version};
use crate::store::{ParsedVersion, RefMap, VersionRecord, VersionSel};
use crate::subjects::{RegisterRequest, prepare_request, request_references};
use crate::{AppState, Settings};

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

/// The configuration in force for a subject (subject, then global, then server default).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Effective {
    pub level: CompatibilityLevel,
    pub policy: Policy,
    pub normalize: bool,
}

/// Read through the config cache: every registration, lookup and check needs it.
pub(crate) async fn effective(state: &AppState, subject: &str) -> Result<Effective> {
    let subject_cfg = state.store.config(Some(subject)).await?.unwrap_or_default();
    let global = state.store.config(None).await?.unwrap_or_default();
    let s: &Settings = &state.settings;
    let level = (subject_cfg.compatibility)
        .or(global.compatibility)
        .unwrap_or(s.default_compatibility);
    let policy = (subject_cfg.policy)
        .or(global.policy)
        .unwrap_or(s.default_policy);
    let normalize = subject_cfg.normalize.or(global.normalize).unwrap_or(false);
    Ok(Effective {
        level,
        policy,
        normalize,
    })
}

/// How many of the newest live versions a check at `level` reads.
pub(crate) fn versions_needed(level: CompatibilityLevel) -> i64 {
    if level == CompatibilityLevel::None {
        0
    } else if level.is_transitive() {
        i64::MAX
    } else {
        1
    }
}

/// Referenced schemas, by the names the referring schemas use.
struct MapResolver<'a>(&'a RefMap);

impl ReferenceResolver for MapResolver<'_> {
    fn resolve(&self, uri: &str) -> Option<Value> {
        let uri = uri.split('#').next().unwrap_or(uri);
        if let Some(v) = self.0.get(uri) {
            return Some(v.clone());
        }
        // A `$ref` may be written relative (`./other.json`) or absolute (`https://x/other.json`).
        let tail = uri.rsplit('/').next().unwrap_or(uri);
        self.0
            .iter()
            .find(|(k, _)| k.rsplit('/').next() == Some(tail))
            .map(|(_, v)| v.clone())
    }
}

fn base_level(level: CompatibilityLevel) -> CompatibilityLevel {
    match level {
        CompatibilityLevel::BackwardTransitive => CompatibilityLevel::Backward,
        CompatibilityLevel::ForwardTransitive => CompatibilityLevel::Forward,
        CompatibilityLevel::FullTransitive => CompatibilityLevel::Full,
        other => other,
    }
}

/// The versions a check compares against, newest first: parsed already (from the cache) or as
/// stored (parsed on the blocking pool).
#[derive(Debug)]
pub(crate) enum Against {
    Parsed(Vec<Arc<ParsedVersion>>),
    Stored(Vec<VersionRecord>),
}

impl Against {
    fn records(&self) -> Vec<&VersionRecord> {
        match self {
            Against::Parsed(v) => v.iter().map(|p| &p.record).collect(),
            Against::Stored(v) => v.iter().collect(),
        }
    }

    /// (version, schema id) of each, as a registration's transaction confirms them.
    pub(crate) fn ids(&self) -> Vec<(i32, i64)> {
        self.records()
            .iter()
            .map(|r| (r.version, r.schema.id))
            .collect()
    }

    /// Whether one of them holds exactly this canonical text and these references (then a
    /// registration of it is idempotent and needs no check).
    pub(crate) fn holds(&self, text: &str, references: &[Reference]) -> bool {
        self.records()
            .iter()
            .any(|r| r.schema.schema == text && r.schema.references == references)
    }

    fn parse(self) -> Result<Vec<Arc<ParsedVersion>>> {
        match self {
            Against::Parsed(v) => Ok(v),
            Against::Stored(v) => v
                .into_iter()
                .map(|r| ParsedVersion::parse(r).map(Arc::new))
                .collect(),
        }
    }
}

/// Checks `new` (referencing `references`) against `against` at `eff`'s level, on the
/// blocking pool under the check deadline: `None` when compatible, else the messages.
pub(crate) async fn run_check(
    state: &AppState,
    eff: Effective,
    new: Arc<Value>,
    references: &[Reference],
    against: Against,
) -> Result<Option<Vec<String>>> {
    if eff.level == CompatibilityLevel::None || against.records().is_empty() {
        return Ok(None);
    }
    let mut refs = references.to_vec();
    for r in against.records() {
        refs.extend(r.schema.references.iter().cloned());
    }
    let refs = state.store.resolve_references(&refs).await?;
    state
        .checks
        .run(move |deadline| {
            let previous = against.parse()?;
            check_against(eff.level, eff.policy, &new, &previous, &refs, deadline)
        })
        .await
}

/// Checks `new` against `previous` (newest first; every one for transitive levels, the first
/// otherwise). `Ok(None)`: compatible. `Ok(Some(messages))`: incompatible, with Confluent-style
/// messages naming the first version that fails. Gives up between two versions once
/// `deadline` has passed.
fn check_against(
    level: CompatibilityLevel,
    policy: Policy,
    new: &Value,
    previous: &[Arc<ParsedVersion>],
    refs: &RefMap,
    deadline: Deadline,
) -> Result<Option<Vec<String>>> {
    if level == CompatibilityLevel::None || previous.is_empty() {
        return Ok(None);
    }
    let count = if level.is_transitive() {
        previous.len()
    } else {
        1
    };
    let resolver = MapResolver(refs);
    for parsed in &previous[..count] {
        deadline.check()?;
        let prev = &parsed.record;
        let report = herald_schema::check(
            base_level(level),
            policy,
            new,
            std::slice::from_ref(&parsed.value),
            &resolver,
        )
        .map_err(|e| Error::InvalidSchema(e.to_string()))?;
        if !report.is_compatible {
            let mut messages: Vec<String> = report
                .differences
                .iter()
                .map(|d| {
                    format!(
                        "{{errorType:'{}', description:'{} (at {})'}}",
                        d.kind, d.message, d.path
                    )
                })
                .collect();
            messages.push(format!("{{oldSchemaVersion: {}}}", prev.version));
            messages.push(format!("{{oldSchema: '{}'}}", prev.schema.schema));
            messages.push(format!(
                "{{validateFields: 'false', compatibility: '{level}', compatibilityPolicy: '{policy}'}}"
            ));
            return Ok(Some(messages));
        }
    }
    Ok(None)
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

/// Passes remembered per subject before the set starts over.
const PASSED_PER_SUBJECT: usize = 64;

/// Checks the request's schema against `against`: `None` when compatible, else the messages.
async fn evaluate(
    state: &AppState,
    req: &RegisterRequest,
    normalize: bool,
    against: Against,
    eff: Effective,
) -> Result<Option<Vec<String>>> {
    let prepared = prepare_request(state, req, normalize, true).await?;
    run_check(
        state,
        eff,
        Arc::new(prepared.value),
        &prepared.references,
        against,
    )
    .await
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

async fn respond(
    state: &AppState,
    req: RegisterRequest,
    q: CheckQuery,
    against: Against,
    eff: Effective,
) -> Result<Vnd<CompatibilityResponse>> {
    let normalize = q.normalize.unwrap_or(eff.normalize);
    let outcome = evaluate(state, &req, normalize, against, eff).await?;
    Ok(answer(outcome, &q))
}

/// Checks against the latest live version, from the caches, remembering passes. `missing`:
/// the version as the client named it when a subject without one is an error (else it is
/// compatible).
async fn check_latest(
    state: &AppState,
    subject: &str,
    req: RegisterRequest,
    q: CheckQuery,
    eff: Effective,
    missing: Option<&str>,
) -> Result<Vnd<CompatibilityResponse>> {
    let passed = &state.store.caches().passed_checks;
    // Taken before the latest version is read: a pass against a replaced one is not kept.
    let ticket = passed.ticket();
    let Some(latest) = state.store.latest(subject).await? else {
        return match missing {
            Some(version) => {
                Err(crate::subjects::missing_version(state, subject, version, false).await)
            }
            None => respond(state, req, q, Against::Parsed(Vec::new()), eff).await,
        };
    };
    // A reference names a version, not its content, which a permanent delete and a new
    // registration can change: such checks are not remembered.
    if req.references.as_ref().is_some_and(|r| !r.is_empty()) {
        return respond(state, req, q, Against::Parsed(vec![latest]), eff).await;
    }
    let normalize = q.normalize.unwrap_or(eff.normalize);
    // The hash says which content this is (type errors first, as `evaluate` would give them).
    request_references(state, &req).await?;
    let hash = canonical::identify(&req.schema, Vec::new(), normalize, state.settings.limits)?.hash;
    let key = (hash, eff.level, eff.policy);
    if passed.read(subject, |set| set.contains(&key)) == Some(true) {
        return Ok(answer(None, &q));
    }
    let outcome = evaluate(state, &req, normalize, Against::Parsed(vec![latest]), eff).await?;
    if outcome.is_none() {
        passed.update(ticket, subject.to_owned(), |set| {
            let set = set.get_or_insert_with(HashSet::new);
            if set.len() >= PASSED_PER_SUBJECT {
                set.clear();
            }
            set.insert(key);
        });
    }
    Ok(answer(outcome, &q))
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
    let eff = effective(&state, &subject).await?;
    let against = match versions_needed(eff.level) {
        0 => Against::Parsed(Vec::new()),
        // The common case, answered from the caches.
        1 => return check_latest(&state, &subject, req, q, eff, None).await,
        n => Against::Stored(state.store.live_versions(&subject, n).await?),
    };
    respond(&state, req, q, against, eff).await
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
    let sel = parse_version(&version)?;
    let eff = effective(&state, &subject).await?;
    let eff = Effective {
        level: base_level(eff.level),
        ..eff
    };
    if sel == VersionSel::Latest {
        return check_latest(&state, &subject, req, q, eff, Some(&version)).await;
    }
    let Some(target) = state.store.version(&subject, sel, false).await? else {
        return Err(crate::subjects::missing_version(&state, &subject, &version, false).await);
    };
    respond(&state, req, q, Against::Stored(vec![target]), eff).await
}
