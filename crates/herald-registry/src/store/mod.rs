//! Persistence: one [`Store`] trait and one SQL implementation of it ([`sql::SqlStore`]) with
//! a dialect per backend (PostgreSQL, SQLite). A store tells what its writes changed on its
//! [`Feed`]; caching is a wrapper over any store (`crate::cache::CachedStore`).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use herald_schema::{CompatibilityLevel, Policy};
use serde_json::Value;

use crate::canonical::Reference;
use crate::error::{Error, Result};

pub mod feed;
pub mod mode;
pub mod postgres;
pub mod sql;
pub mod sqlite;

pub use feed::{Change, Feed, Follower};
pub use mode::Mode;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// A registered schema, immutable once stored (only a permanent delete removes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRecord {
    pub id: i64,
    pub schema_type: String,
    /// Canonical text.
    pub schema: String,
    pub references: Vec<Reference>,
}

/// One version of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    pub subject: String,
    pub version: i32,
    pub deleted: bool,
    /// Registration time, milliseconds since the Unix epoch.
    pub ts: i64,
    pub schema: Arc<SchemaRecord>,
}

/// A version with its schema parsed, as compatibility checks read it.
#[derive(Debug)]
pub struct ParsedVersion {
    pub record: VersionRecord,
    pub value: Value,
}

impl ParsedVersion {
    pub fn parse(record: VersionRecord) -> Result<Self> {
        let value = serde_json::from_str(&record.schema.schema)
            .map_err(|e| Error::Store(format!("corrupt stored schema: {e}")))?;
        Ok(Self { record, value })
    }
}

/// Which version of a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSel {
    Latest,
    Number(i32),
}

/// A schema to register, already validated and in canonical form.
#[derive(Debug, Clone)]
pub struct NewSchema {
    pub text: String,
    pub hash: String,
    pub references: Vec<Reference>,
}

/// Ids given by the client in IMPORT mode, kept as they are.
#[derive(Debug, Clone, Copy)]
pub struct ImportIds {
    pub id: i64,
    pub version: Option<i32>,
}

/// Outcome of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registered {
    pub id: i64,
    pub version: i32,
    /// Registration time of that version, milliseconds since the Unix epoch.
    pub ts: i64,
    /// False when the schema was already a live version of the subject.
    pub created: bool,
}

/// Referenced schemas by reference name (and `$id`), for the compatibility engine.
pub type RefMap = HashMap<String, Value>;

/// What a registration decided before its transaction, for the transaction to confirm under
/// the subject's lock: the compatibility check runs outside it (on the blocking pool), and is
/// only valid if the mode and the live versions it read are still those in force.
#[derive(Debug)]
pub struct Precheck {
    /// Ids the client gave in IMPORT mode; `None`: prepared for a READWRITE subject.
    pub import: Option<ImportIds>,
    /// How many of the newest live versions the check read: 0 (none), 1 (the latest) or
    /// `i64::MAX` (all).
    pub previous: i64,
    /// Those versions as (version, schema id), newest first.
    pub against: Vec<(i32, i64)>,
    /// Compatible, or the error to answer.
    pub verdict: Result<()>,
}

impl Precheck {
    /// Under the subject's lock, with the mode in force there: the refusal of a READONLY
    /// mode, `Ok(false)` when the request was prepared for another mode (IMPORT or not;
    /// prepare it again), else `Ok(true)`.
    pub(crate) fn confirm_mode(&self, subject: &str, mode: Mode) -> Result<bool> {
        if mode.is_read_only() {
            return Err(mode::read_only(subject));
        }
        Ok((mode == Mode::Import) == self.import.is_some())
    }

    /// Under the subject's lock, with the live versions read there: `Ok(false)` when they are
    /// not those checked (check again), else the verdict.
    pub(crate) fn confirm_versions(&mut self, live: &[(i32, i64)]) -> Result<bool> {
        if live != self.against {
            return Ok(false);
        }
        std::mem::replace(&mut self.verdict, Ok(())).map(|()| true)
    }
}

/// Compatibility configuration of the server or of one subject (unset fields inherit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigRecord {
    pub compatibility: Option<CompatibilityLevel>,
    pub normalize: Option<bool>,
    pub policy: Option<Policy>,
}

/// A subject as listed: its name and whether all its versions are soft-deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRow {
    pub subject: String,
    pub all_deleted: bool,
}

/// The registry's storage. Every method that writes does so in one transaction, and tells
/// its [`Feed`] what it changed once committed.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// "postgres" or "sqlite".
    fn backend(&self) -> &'static str;
    /// What committed writes change (in every process sharing the database, where the
    /// backend can hear them), for whoever keeps state derived from the store.
    fn feed(&self) -> &Feed;
    async fn health(&self) -> Result<()>;

    /// Registers `new` under `subject`. In one transaction, under the subject's lock: refuses
    /// a READONLY mode; is idempotent when `new` already is a live version; otherwise confirms
    /// `pre` (`Ok(None)` when what it read changed, to check again) and assigns (or, on
    /// import, keeps) the global id and the next version. A mode switch waits for the
    /// registrations in flight, which see it once it committed.
    async fn register(
        &self,
        subject: &str,
        new: &NewSchema,
        pre: Precheck,
    ) -> Result<Option<Registered>>;

    async fn schema(&self, id: i64) -> Result<Option<Arc<SchemaRecord>>>;
    async fn schema_id_by_hash(&self, hash: &str) -> Result<Option<i64>>;
    async fn max_schema_id(&self) -> Result<i64>;
    /// The version of `subject` holding the schema with `hash` (newest first).
    async fn lookup(
        &self,
        subject: &str,
        hash: &str,
        include_deleted: bool,
    ) -> Result<Option<VersionRecord>>;
    /// Subjects whose name starts with `prefix`, with at least one version.
    async fn subjects(&self, prefix: &str) -> Result<Vec<SubjectRow>>;
    /// All versions of a subject, oldest first, with their deleted flag.
    async fn subject_versions(&self, subject: &str) -> Result<Vec<(i32, bool)>>;
    async fn version(
        &self,
        subject: &str,
        sel: VersionSel,
        include_deleted: bool,
    ) -> Result<Option<VersionRecord>>;
    /// The `limit` newest live versions, newest first.
    async fn live_versions(&self, subject: &str, limit: i64) -> Result<Vec<VersionRecord>>;
    /// Ids of schemas (with a live version) that reference `subject`/`version`.
    async fn referenced_by(&self, subject: &str, version: i32) -> Result<Vec<i64>>;
    /// Deletes the versions of `subject` (soft, or permanently after a soft delete). In one
    /// transaction, under the subject's lock and its mode locks: refuses a READONLY mode, as
    /// [`Store::register`] does.
    async fn delete_subject(&self, subject: &str, permanent: bool) -> Result<Vec<i32>>;
    /// Deletes one version, as [`Store::delete_subject`] does all of them.
    async fn delete_version(&self, subject: &str, sel: VersionSel, permanent: bool) -> Result<i32>;
    /// Where a schema id is used: (subject, version, deleted).
    async fn id_usages(&self, id: i64) -> Result<Vec<(String, i32, bool)>>;
    /// Every version of every subject starting with `prefix`.
    async fn all_versions(&self, prefix: &str) -> Result<Vec<VersionRecord>>;
    /// Schemas named by `refs`, transitively, keyed by reference name and `$id`.
    async fn resolve_references(&self, refs: &[Reference]) -> Result<RefMap>;

    /// The config row of a subject (or the global one).
    async fn config(&self, subject: Option<&str>) -> Result<Option<ConfigRecord>>;
    async fn set_config(&self, subject: Option<&str>, config: &ConfigRecord) -> Result<()>;
    async fn delete_config(&self, subject: Option<&str>) -> Result<Option<ConfigRecord>>;
    /// The mode row of a subject (or the global one).
    async fn mode(&self, subject: Option<&str>) -> Result<Option<Mode>>;
    async fn set_mode(&self, subject: Option<&str>, mode: Mode) -> Result<()>;
    async fn delete_mode(&self, subject: Option<&str>) -> Result<Option<Mode>>;
    /// A stable identifier of this registry (one per database).
    async fn cluster_id(&self) -> Result<String>;
}

/// The 42207 of an import whose id is not the one the content already has.
pub(crate) fn already_registered(id: i64, input: i64) -> Error {
    Error::IdDoesNotMatch(format!(
        "Schema already registered with id {id} instead of input id {input}"
    ))
}

/// Opens the store a URL names (`postgres://…` or `sqlite://path`) and runs its migrations.
pub async fn connect(url: &str, pool_size: u32) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url, pool_size).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, pool_size).await?))
    } else {
        Err(Error::Store(format!(
            "unsupported database URL (expected postgres://… or sqlite://…): {}",
            redact(url)
        )))
    }
}

/// A URL with its password replaced, for messages and logs (herald-core's, shared by every
/// crate that shows a connection URL).
pub use herald_core::redact_url as redact;

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn refs_to_json(refs: &[Reference]) -> String {
    serde_json::to_string(refs).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn refs_from_json(text: &str) -> Result<Vec<Reference>> {
    serde_json::from_str(text).map_err(|e| Error::Store(format!("corrupt references: {e}")))
}

/// Adds a referenced schema to the map under its reference name and its `$id`.
pub(crate) fn add_ref(map: &mut RefMap, name: &str, schema_text: &str) -> Result<()> {
    let value: Value = serde_json::from_str(schema_text)
        .map_err(|e| Error::Store(format!("corrupt stored schema: {e}")))?;
    if let Some(id) = value.get("$id").and_then(Value::as_str) {
        map.entry(id.to_owned()).or_insert_with(|| value.clone());
    }
    map.insert(name.to_owned(), value);
    Ok(())
}
