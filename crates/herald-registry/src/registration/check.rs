//! Compatibility checks of a submitted schema against registered versions: for a
//! registration, and for the check endpoints (which remember the checks that passed against
//! a subject's latest version).

use std::collections::HashSet;
use std::sync::Arc;

use herald_schema::{CompatibilityLevel, Policy, ReferenceResolver};
use serde_json::Value;

use super::{Effective, effective, missing_version, prepare, references, versions_needed};
use crate::AppState;
use crate::bodies::RegisterRequest;
use crate::canonical::{self, Reference};
use crate::checks::Deadline;
use crate::error::{Error, Result};
use crate::store::{ParsedVersion, RefMap, Store, VersionRecord, VersionSel};

/// What a check endpoint compares the schema with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target<'a> {
    /// What a registration would (the latest version, or all of them when transitive).
    Registration,
    /// One version, as the client named it, at the subject's level without transitivity.
    Version(VersionSel, &'a str),
}

/// Checks the request's schema against `target` of `subject`: `None` when compatible, else
/// the messages.
pub(crate) async fn check(
    state: &AppState,
    subject: &str,
    req: &RegisterRequest,
    normalize: Option<bool>,
    target: Target<'_>,
) -> Result<Option<Vec<String>>> {
    let eff = effective(state, subject).await?;
    let against = match target {
        Target::Registration => match versions_needed(eff.level) {
            0 => Against::Parsed(Vec::new()),
            // The common case, answered from the caches.
            1 => return check_latest(state, subject, req, normalize, eff, None).await,
            n => Against::Stored(state.store.live_versions(subject, n).await?),
        },
        Target::Version(sel, named) => {
            let eff = Effective {
                level: base_level(eff.level),
                ..eff
            };
            if sel == VersionSel::Latest {
                return check_latest(state, subject, req, normalize, eff, Some(named)).await;
            }
            let Some(version) = state.store.version(subject, sel, false).await? else {
                return Err(missing_version(state, subject, named, false).await);
            };
            return evaluate(state, req, normalize, Against::Stored(vec![version]), eff).await;
        }
    };
    evaluate(state, req, normalize, against, eff).await
}

/// Passes remembered per subject before the set starts over.
const PASSED_PER_SUBJECT: usize = 64;

/// Checks against the latest live version, from the caches, remembering passes. `missing`:
/// the version as the client named it when a subject without one is an error (else it is
/// compatible).
async fn check_latest(
    state: &AppState,
    subject: &str,
    req: &RegisterRequest,
    normalize: Option<bool>,
    eff: Effective,
    missing: Option<&str>,
) -> Result<Option<Vec<String>>> {
    let passed = &state.store.caches().passed_checks;
    // Taken before the latest version is read: a pass against a replaced one is not kept.
    let ticket = passed.ticket();
    let Some(latest) = state.store.latest(subject).await? else {
        return match missing {
            Some(version) => Err(missing_version(state, subject, version, false).await),
            None => evaluate(state, req, normalize, Against::Parsed(Vec::new()), eff).await,
        };
    };
    // A reference names a version, not its content, which a permanent delete and a new
    // registration can change: such checks are not remembered.
    if req.references.as_ref().is_some_and(|r| !r.is_empty()) {
        return evaluate(state, req, normalize, Against::Parsed(vec![latest]), eff).await;
    }
    let normalize = normalize.unwrap_or(eff.normalize);
    // The hash says which content this is (type errors first, as `evaluate` would give them).
    references(state, req).await?;
    let hash = canonical::identify(&req.schema, Vec::new(), normalize, state.settings.limits)?.hash;
    let key = (hash, eff.level, eff.policy);
    if passed.read(subject, |set| set.contains(&key)) == Some(true) {
        return Ok(None);
    }
    let outcome = evaluate(
        state,
        req,
        Some(normalize),
        Against::Parsed(vec![latest]),
        eff,
    )
    .await?;
    if outcome.is_none() {
        passed.update(ticket, subject.to_owned(), |set| {
            let set = set.get_or_insert_with(HashSet::new);
            if set.len() >= PASSED_PER_SUBJECT {
                set.clear();
            }
            set.insert(key);
        });
    }
    Ok(outcome)
}

/// Checks the request's schema against `against`: `None` when compatible, else the messages.
async fn evaluate(
    state: &AppState,
    req: &RegisterRequest,
    normalize: Option<bool>,
    against: Against,
    eff: Effective,
) -> Result<Option<Vec<String>>> {
    let normalize = normalize.unwrap_or(eff.normalize);
    let prepared = prepare(state, req, normalize, true).await?;
    run_check(
        state,
        eff,
        Arc::new(prepared.value),
        &prepared.references,
        against,
    )
    .await
}

/// The versions a check compares against, newest first: parsed already (from the cache) or as
/// stored (parsed on the blocking pool).
#[derive(Debug)]
pub(super) enum Against {
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
    pub(super) fn ids(&self) -> Vec<(i32, i64)> {
        self.records()
            .iter()
            .map(|r| (r.version, r.schema.id))
            .collect()
    }

    /// Whether one of them holds exactly this canonical text and these references (then a
    /// registration of it is idempotent and needs no check).
    pub(super) fn holds(&self, text: &str, references: &[Reference]) -> bool {
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
pub(super) async fn run_check(
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
