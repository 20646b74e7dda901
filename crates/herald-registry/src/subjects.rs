//! Subjects and their versions: list, get, register, look up, delete, referencedby.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::canonical::{self, Identity, Prepared, Reference};
use crate::compatibility::{Against, effective, run_check, versions_needed};
use crate::error::{Error, Result};
use crate::extract::{Body, Q, Vnd, check_subject, paginate, parse_version, raw_json};
use crate::store::{ImportIds, NewSchema, Precheck, VersionRecord, VersionSel};

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

/// Body of register, lookup and the compatibility checks.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterRequest {
    pub schema: String,
    /// Absent means AVRO, which herald-registry does not serve.
    pub schema_type: Option<String>,
    #[serde(default)]
    pub references: Option<Vec<Reference>>,
    /// Kept as given in IMPORT mode.
    pub id: Option<i64>,
    pub version: Option<i32>,
    /// Not stored by herald-registry: a registration that carries any is refused rather
    /// than registered without it.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// Not stored either, refused the same way.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub rule_set: Option<serde_json::Value>,
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

/// `{id}`: what every client reads back from a registration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterResponse {
    pub id: i64,
}

/// A subject version as Confluent returns it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaResponse {
    pub subject: String,
    pub version: i32,
    pub id: i64,
    pub schema_type: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    pub schema: String,
    /// Registration time, milliseconds since the Unix epoch.
    pub ts: i64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

impl From<&VersionRecord> for SchemaResponse {
    fn from(v: &VersionRecord) -> Self {
        Self {
            subject: v.subject.clone(),
            version: v.version,
            id: v.schema.id,
            schema_type: v.schema.schema_type.clone(),
            references: v.schema.references.clone(),
            schema: v.schema.schema.clone(),
            ts: v.ts,
            deleted: v.deleted,
        }
    }
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

/// The 404 for a version that is not there: 40401 when the subject has no (visible) version.
pub(crate) async fn missing_version(
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

/// Validates a request's schema and resolves its references to concrete versions.
pub(crate) async fn prepare_request(
    state: &AppState,
    req: &RegisterRequest,
    normalize: bool,
    validate: bool,
) -> Result<Prepared> {
    let refs = request_references(state, req).await?;
    let schema = req.schema.clone();
    let limits = state.settings.limits;
    // Validating a large schema is CPU work like a check: off the async workers.
    state
        .checks
        .run(move |_| canonical::prepare(&schema, refs, normalize, validate, limits))
        .await
}

/// The content hash of a request's schema (for a lookup: not validated).
async fn identify_request(
    state: &AppState,
    req: &RegisterRequest,
    normalize: bool,
) -> Result<Identity> {
    let refs = request_references(state, req).await?;
    canonical::identify(&req.schema, refs, normalize, state.settings.limits)
}

/// Checks the schema type and resolves the references to concrete versions.
pub(crate) async fn request_references(
    state: &AppState,
    req: &RegisterRequest,
) -> Result<Vec<Reference>> {
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
        let version = state.store.reference_version(&r.subject, r.version).await?;
        let Some(version) = version else {
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

/// The mode in force for a subject, read through the mode cache (every write asks).
pub(crate) async fn effective_mode(state: &AppState, subject: &str) -> Result<String> {
    Ok(match state.store.mode(Some(subject)).await? {
        Some(m) => m,
        None => state
            .store
            .mode(None)
            .await?
            .unwrap_or_else(|| "READWRITE".to_owned()),
    })
}

async fn ensure_writable(state: &AppState, subject: &str) -> Result<String> {
    let mode = effective_mode(state, subject).await?;
    if mode.starts_with("READONLY") {
        return Err(crate::store::read_only(subject));
    }
    Ok(mode)
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

async fn find_version(
    state: &AppState,
    subject: &str,
    version: &str,
    include_deleted: bool,
) -> Result<VersionRecord> {
    let sel = parse_version(version)?;
    let found = if sel == VersionSel::Latest && !include_deleted {
        // Serializers with `use.latest.version` ask for this one.
        state.store.latest(subject).await?.map(|p| p.record.clone())
    } else {
        state.store.version(subject, sel, include_deleted).await?
    };
    match found {
        Some(v) => Ok(v),
        None => Err(missing_version(state, subject, version, include_deleted).await),
    }
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
    refuse_unstored(&req)?;
    // The cached mode refuses early; the transaction reads it again.
    let mut mode = ensure_writable(&state, &subject).await?;
    let eff = effective(&state, &subject).await?;
    let prepared =
        prepare_request(&state, &req, q.normalize.unwrap_or(eff.normalize), true).await?;
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
            mode = mode_uncached(&state, &subject).await?;
        }
        let import = import_ids(&state, &subject, &mode, &req, &new.hash).await?;
        if let Some(known) = state.store.registered(&subject, &new.hash, import) {
            return Ok(Vnd(RegisterResponse { id: known?.id }));
        }
        let previous = if import.is_some() {
            0
        } else {
            versions_needed(eff.level)
        };
        let against = match previous {
            0 => Against::Parsed(Vec::new()),
            1 if !fresh => {
                Against::Parsed(state.store.latest(&subject).await?.into_iter().collect())
            }
            n => Against::Stored(state.store.live_versions(&subject, n).await?),
        };
        let ids = against.ids();
        // Already a live version: the transaction answers with it, whatever a check would say.
        let verdict = if against.holds(&new.text, &new.references) {
            Ok(())
        } else {
            match run_check(&state, eff, value.clone(), &new.references, against).await {
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
        if let Some(registered) = state.store.register(&subject, &new, pre).await? {
            if registered.created {
                metrics::counter!("herald_registry_schemas_registered_total").increment(1);
            }
            return Ok(Vnd(RegisterResponse { id: registered.id }));
        }
        fresh = true;
    }
}

/// The mode in force for a subject, read from the database.
async fn mode_uncached(state: &AppState, subject: &str) -> Result<String> {
    Ok(match state.store.mode_uncached(Some(subject)).await? {
        Some(m) => m,
        None => state
            .store
            .mode_uncached(None)
            .await?
            .unwrap_or_else(|| "READWRITE".to_owned()),
    })
}

/// The ids a registration keeps in IMPORT `mode` (which must give the id); outside it, `None`
/// (and an id given must be the one the content already has).
async fn import_ids(
    state: &AppState,
    subject: &str,
    mode: &str,
    req: &RegisterRequest,
    hash: &str,
) -> Result<Option<ImportIds>> {
    if mode == "IMPORT" {
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
    let normalize = match q.normalize {
        Some(n) => n,
        None => effective(&state, &subject).await?.normalize,
    };
    // An invalid schema cannot be registered, so it cannot be found: skip the meta-schema.
    let identity = identify_request(&state, &req, normalize).await?;
    let found = if include_deleted {
        state
            .store
            .lookup_uncached(&subject, &identity.hash, true)
            .await?
    } else {
        state.store.lookup(&subject, &identity.hash).await?
    };
    if let Some(v) = found {
        return Ok(Vnd(SchemaResponse::from(&v)));
    }
    let rows = state.store.subject_versions(&subject).await?;
    if !rows.iter().any(|(_, d)| include_deleted || !d) {
        return Err(Error::SubjectNotFound(subject));
    }
    Err(Error::SchemaNotFound("Schema not found".to_owned()))
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
    // The cached mode refuses early; the transaction reads it again.
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
    // The cached mode refuses early; the transaction reads it again.
    ensure_writable(&state, &subject).await?;
    let sel = parse_version(&version)?;
    let v = state.store.delete_version(&subject, sel, permanent).await?;
    Ok(Vnd(v).into_response())
}
