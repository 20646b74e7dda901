//! The rules of registering a schema under a subject, written once for the handlers of the
//! subjects and compatibility resources: preparing the submitted schema, the configuration
//! and mode in force, which versions a check compares with ([`check`]), the registration
//! itself, and finding a registered version.

use std::sync::Arc;

use herald_schema::{CompatibilityLevel, Policy};

use crate::AppState;
use crate::bodies::RegisterRequest;
use crate::canonical::{self, Identity, Prepared, Reference};
use crate::error::{Error, Result};
use crate::extract::parse_version;
use crate::store::{
    ImportIds, Mode, NewSchema, Precheck, Registered, Store, VersionRecord, mode::read_only,
};

mod check;

use check::{Against, run_check};
pub(crate) use check::{Target, check};

/// The configuration in force for a subject (subject, then global, then server default).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Effective {
    pub level: CompatibilityLevel,
    pub policy: Policy,
    pub normalize: bool,
}

/// Read through the config cache: every registration, lookup and check needs it.
pub(crate) async fn effective(state: &AppState, subject: &str) -> Result<Effective> {
    let own = state.store.config(Some(subject)).await?.unwrap_or_default();
    let global = state.store.config(None).await?.unwrap_or_default();
    let s = &state.settings;
    Ok(Effective {
        level: (own.compatibility)
            .or(global.compatibility)
            .unwrap_or(s.default_compatibility),
        policy: own.policy.or(global.policy).unwrap_or(s.default_policy),
        normalize: own.normalize.or(global.normalize).unwrap_or(false),
    })
}

/// How many of the newest live versions a check at `level` reads.
fn versions_needed(level: CompatibilityLevel) -> i64 {
    if level == CompatibilityLevel::None {
        0
    } else if level.is_transitive() {
        i64::MAX
    } else {
        1
    }
}

/// The mode in force for a subject: through the mode cache (every write asks), or `fresh`
/// from the database.
async fn mode(state: &AppState, subject: &str, fresh: bool) -> Result<Mode> {
    let store: &dyn Store = if fresh {
        state.store.uncached()
    } else {
        &*state.store
    };
    let own = store.mode(Some(subject)).await?;
    let global = match own {
        Some(_) => None,
        None => store.mode(None).await?,
    };
    Ok(own.or(global).unwrap_or_default())
}

/// Refuses a write to a subject in a READONLY mode, from the cached mode (the write's
/// transaction reads it again); else the mode.
pub(crate) async fn ensure_writable(state: &AppState, subject: &str) -> Result<Mode> {
    let mode = mode(state, subject, false).await?;
    if mode.is_read_only() {
        return Err(read_only(subject));
    }
    Ok(mode)
}

/// Whether a `metadata` or `ruleSet` value says nothing (absent, null, or only empty
/// objects and arrays), as clients send when none is configured.
fn says_nothing(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Null => true,
        Value::Array(items) => items.iter().all(says_nothing),
        Value::Object(members) => members.values().all(says_nothing),
        _ => false,
    }
}

/// Refuses what herald-registry would otherwise drop on the floor.
fn refuse_unstored(req: &RegisterRequest) -> Result<()> {
    if req.metadata.as_ref().is_some_and(|m| !says_nothing(m)) {
        return Err(Error::InvalidSchema(
            "herald-registry does not store schema `metadata`; register the schema without it"
                .into(),
        ));
    }
    if req.rule_set.as_ref().is_some_and(|r| !says_nothing(r)) {
        return Err(Error::InvalidRuleSet(
            "herald-registry does not store or run data contract rules (`ruleSet`); register the schema without them"
                .into(),
        ));
    }
    Ok(())
}

/// Validates a request's schema and resolves its references to concrete versions.
async fn prepare(
    state: &AppState,
    req: &RegisterRequest,
    normalize: bool,
    validate: bool,
) -> Result<Prepared> {
    let refs = references(state, req).await?;
    let schema = req.schema.clone();
    let limits = state.settings.limits;
    // Validating a large schema is CPU work like a check: off the async workers.
    state
        .checks
        .run(move |_| canonical::prepare(&schema, refs, normalize, validate, limits))
        .await
}

/// The content hash of a request's schema (for a lookup: not validated).
async fn identify(state: &AppState, req: &RegisterRequest, normalize: bool) -> Result<Identity> {
    let refs = references(state, req).await?;
    canonical::identify(&req.schema, refs, normalize, state.settings.limits)
}

/// Checks the schema type and resolves the references to concrete versions.
async fn references(state: &AppState, req: &RegisterRequest) -> Result<Vec<Reference>> {
    match req
        .schema_type
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("JSON") => {}
        Some(other) => {
            return Err(Error::InvalidSchema(format!(
                "Unsupported schema type {other}: herald-registry serves JSON Schema (schemaType JSON)"
            )));
        }
        None => {
            return Err(Error::InvalidSchema(
                "Unsupported schema type AVRO (no schemaType given): herald-registry serves JSON Schema (schemaType JSON)".to_owned(),
            ));
        }
    }
    let mut refs = Vec::new();
    for r in req.references.iter().flatten() {
        let Some(version) = reference_version(state, &r.subject, r.version).await? else {
            return Err(Error::InvalidSchema(format!(
                "Reference '{}' to subject '{}' version {} not found",
                r.name, r.subject, r.version
            )));
        };
        if refs.iter().any(|x: &Reference| x.name == r.name) {
            return Err(Error::InvalidSchema(format!(
                "Reference name '{}' is given twice",
                r.name
            )));
        }
        refs.push(Reference {
            name: r.name.clone(),
            subject: r.subject.clone(),
            version,
        });
    }
    Ok(refs)
}

/// The concrete version a reference names: `-1` is the latest live one; any other number
/// names a version that exists, soft-deleted or not.
async fn reference_version(state: &AppState, subject: &str, version: i32) -> Result<Option<i32>> {
    let versions = state.store.subject_versions(subject).await?;
    let mut named = versions.iter().filter(|(v, deleted)| {
        if version == -1 {
            !deleted
        } else {
            *v == version
        }
    });
    Ok(named.next_back().map(|(v, _)| *v))
}

/// Registers the request's schema under `subject` (idempotent), checking compatibility:
/// the registration as stored.
pub(crate) async fn register(
    state: &AppState,
    subject: &str,
    req: &RegisterRequest,
    normalize: Option<bool>,
) -> Result<Registered> {
    refuse_unstored(req)?;
    let mut mode = ensure_writable(state, subject).await?;
    let eff = effective(state, subject).await?;
    let prepared = prepare(state, req, normalize.unwrap_or(eff.normalize), true).await?;
    let new = NewSchema {
        text: prepared.text,
        hash: prepared.hash,
        references: prepared.references,
    };
    let value = Arc::new(prepared.value);
    // The check runs before the transaction, which confirms the mode and versions it read
    // are still those in force; when they are not, it runs again on fresh reads. Each round
    // that has to go again saw another write to the subject commit.
    let mut fresh = false;
    loop {
        if fresh {
            mode = self::mode(state, subject, true).await?;
        }
        let import = import_ids(state, subject, mode, req, &new.hash).await?;
        if let Some(known) = state.store.registered(subject, &new.hash, import) {
            return known;
        }
        let previous = if import.is_some() {
            0
        } else {
            versions_needed(eff.level)
        };
        let against = match previous {
            0 => Against::Parsed(Vec::new()),
            1 if !fresh => {
                Against::Parsed(state.store.latest(subject).await?.into_iter().collect())
            }
            n => Against::Stored(state.store.live_versions(subject, n).await?),
        };
        let ids = against.ids();
        // Already a live version: the transaction answers with it, whatever a check would say.
        let verdict = if against.holds(&new.text, &new.references) {
            Ok(())
        } else {
            match run_check(state, eff, value.clone(), &new.references, against).await {
                Ok(None) => Ok(()),
                Ok(Some(messages)) => Err(Error::Incompatible {
                    code: state.settings.incompatible_error_code,
                    message: format!(
                        "Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]",
                        messages.join(", ")
                    ),
                }),
                Err(e) => Err(e),
            }
        };
        let pre = Precheck {
            import,
            previous,
            against: ids,
            verdict,
        };
        if let Some(registered) = state.store.register(subject, &new, pre).await? {
            if registered.created {
                metrics::counter!("herald_registry_schemas_registered_total").increment(1);
            }
            return Ok(registered);
        }
        fresh = true;
    }
}

/// The ids a registration keeps in IMPORT `mode` (which must give the id); outside it, `None`
/// (and an id given must be the one the content already has).
async fn import_ids(
    state: &AppState,
    subject: &str,
    mode: Mode,
    req: &RegisterRequest,
    hash: &str,
) -> Result<Option<ImportIds>> {
    if mode == Mode::Import {
        let Some(id) = req.id else {
            return Err(Error::OperationNotPermitted(format!(
                "Subject {subject} is in IMPORT mode: the request must give the schema id"
            )));
        };
        if id < 1 {
            return Err(Error::OperationNotPermitted(format!(
                "Invalid schema id {id}"
            )));
        }
        if let Some(v) = req.version
            && v < 1
        {
            return Err(Error::InvalidVersion(v.to_string()));
        }
        return Ok(Some(ImportIds {
            id,
            version: req.version,
        }));
    }
    if let Some(id) = req.id
        && state.store.schema_id_by_hash(hash).await? != Some(id)
    {
        return Err(Error::OperationNotPermitted(format!(
            "Subject {subject} is not in import mode"
        )));
    }
    Ok(None)
}

/// The version of `subject` holding the request's schema.
pub(crate) async fn lookup(
    state: &AppState,
    subject: &str,
    req: &RegisterRequest,
    normalize: Option<bool>,
    include_deleted: bool,
) -> Result<VersionRecord> {
    let normalize = match normalize {
        Some(n) => n,
        None => effective(state, subject).await?.normalize,
    };
    // An invalid schema cannot be registered, so it cannot be found: skip the meta-schema.
    let identity = identify(state, req, normalize).await?;
    if let Some(v) = (state.store)
        .lookup(subject, &identity.hash, include_deleted)
        .await?
    {
        return Ok(v);
    }
    let rows = state.store.subject_versions(subject).await?;
    if !rows.iter().any(|(_, d)| include_deleted || !d) {
        return Err(Error::SubjectNotFound(subject.to_owned()));
    }
    Err(Error::SchemaNotFound("Schema not found".to_owned()))
}

/// One version of a subject, as the client named it (`latest` or `-1` for the newest).
pub(crate) async fn find_version(
    state: &AppState,
    subject: &str,
    version: &str,
    include_deleted: bool,
) -> Result<VersionRecord> {
    let sel = parse_version(version)?;
    match state.store.version(subject, sel, include_deleted).await? {
        Some(v) => Ok(v),
        None => Err(missing_version(state, subject, version, include_deleted).await),
    }
}

/// The 404 for a version that is not there: 40401 when the subject has no (visible) version.
async fn missing_version(
    state: &AppState,
    subject: &str,
    version: &str,
    include_deleted: bool,
) -> Error {
    match state.store.subject_versions(subject).await {
        Ok(rows) if rows.iter().any(|(_, d)| include_deleted || !d) => {
            Error::VersionNotFound(version.to_owned())
        }
        Ok(_) => Error::SubjectNotFound(subject.to_owned()),
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_read_none_the_latest_or_every_version() {
        assert_eq!(versions_needed(CompatibilityLevel::None), 0);
        assert_eq!(versions_needed(CompatibilityLevel::Full), 1);
        assert_eq!(
            versions_needed(CompatibilityLevel::BackwardTransitive),
            i64::MAX
        );
    }
}
