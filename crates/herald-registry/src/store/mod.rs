//! Persistence: one [`Store`] trait, one SQL implementation of it ([`sql::SqlStore`]) with a
//! dialect per backend (PostgreSQL, SQLite), and the in-process caches the hot paths read
//! through.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use herald_schema::{CompatibilityLevel, Policy};
use serde_json::Value;

use crate::canonical::Reference;
use crate::error::{Error, Result};

pub mod cache;
pub mod postgres;
pub mod sql;
pub mod sqlite;

pub use cache::{Caches, Change, LiveVersion};
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
    /// Under the subject's lock, with the mode in force there (`None`: READWRITE): the
    /// refusal of a READONLY mode, `Ok(false)` when the request was prepared for another mode
    /// (IMPORT or not; prepare it again), else `Ok(true)`.
    pub(crate) fn confirm_mode(&self, subject: &str, mode: Option<&str>) -> Result<bool> {
        let mode = mode.unwrap_or("READWRITE");
        if mode.starts_with("READONLY") {
            return Err(read_only(subject));
        }
        Ok((mode == "IMPORT") == self.import.is_some())
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

/// The 42205 of a write to a subject in READONLY (or READONLY_OVERRIDE) mode.
pub(crate) fn read_only(subject: &str) -> Error {
    Error::OperationNotPermitted(format!("Subject {subject} is in read-only mode"))
}

/// The mode in force for `subject` from the rows of `mode` for it and for the global scope
/// (`""`).
pub(crate) fn mode_in_force(subject: &str, rows: Vec<(String, String)>) -> Option<String> {
    let (own, global): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(s, _)| s == subject);
    own.into_iter().chain(global).map(|(_, m)| m).next()
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

/// The registry's storage. Every method that writes does so in one transaction.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// "postgres" or "sqlite".
    fn backend(&self) -> &'static str;
    /// The in-process caches, invalidated by every write (in every process sharing the
    /// database, where the backend can tell them).
    fn caches(&self) -> &Caches;
    async fn health(&self) -> Result<()>;

    /// Registers `new` under `subject`. In one transaction, under the subject's lock: refuses
    /// a READONLY mode; is idempotent when `new` already is a live version; otherwise confirms
    /// `pre` ([`Precheck::confirm`]: `Ok(None)` when what it read changed, to check again) and
    /// assigns (or, on import, keeps) the global id and the next version. A mode switch
    /// waits for the registrations in flight, which see it once it committed.
    async fn register_uncached(
        &self,
        subject: &str,
        new: &NewSchema,
        pre: Precheck,
    ) -> Result<Option<Registered>>;

    async fn schema_by_id_uncached(&self, id: i64) -> Result<Option<SchemaRecord>>;
    async fn schema_id_by_hash(&self, hash: &str) -> Result<Option<i64>>;
    async fn max_schema_id(&self) -> Result<i64>;
    /// The version of `subject` holding the schema with `hash` (newest first).
    async fn lookup_uncached(
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
    /// [`Store::register_uncached`] does.
    async fn delete_subject(&self, subject: &str, permanent: bool) -> Result<Vec<i32>>;
    /// Deletes one version, as [`Store::delete_subject`] does all of them.
    async fn delete_version(&self, subject: &str, sel: VersionSel, permanent: bool) -> Result<i32>;
    /// Where a schema id is used: (subject, version, deleted).
    async fn id_usages(&self, id: i64) -> Result<Vec<(String, i32, bool)>>;
    /// Every version of every subject starting with `prefix`.
    async fn all_versions(&self, prefix: &str) -> Result<Vec<VersionRecord>>;
    /// Schemas named by `refs`, transitively, keyed by reference name and `$id`.
    async fn resolve_references(&self, refs: &[Reference]) -> Result<RefMap>;
    /// The concrete version a reference names (`-1` = latest live), if it exists.
    async fn reference_version(&self, subject: &str, version: i32) -> Result<Option<i32>>;

    /// The config row of a subject (or the global one), read from the database.
    async fn config_uncached(&self, subject: Option<&str>) -> Result<Option<ConfigRecord>>;
    async fn set_config(&self, subject: Option<&str>, config: &ConfigRecord) -> Result<()>;
    async fn delete_config(&self, subject: Option<&str>) -> Result<Option<ConfigRecord>>;
    /// The mode row of a subject (or the global one), read from the database.
    async fn mode_uncached(&self, subject: Option<&str>) -> Result<Option<String>>;
    async fn set_mode(&self, subject: Option<&str>, mode: &str) -> Result<()>;
    async fn delete_mode(&self, subject: Option<&str>) -> Result<Option<String>>;
    /// Whether any version exists (of `subject`, or at all).
    async fn has_versions(&self, subject: Option<&str>) -> Result<bool>;
    /// A stable identifier of this registry (one per database).
    async fn cluster_id(&self) -> Result<String>;

    /// Schema by id through the cache.
    async fn schema_by_id(&self, id: i64) -> Result<Option<Arc<SchemaRecord>>> {
        let map = &self.caches().schemas;
        if let Some(hit) = map.get(&id) {
            return Ok(Some(hit));
        }
        let ticket = map.ticket();
        let Some(rec) = self.schema_by_id_uncached(id).await? else {
            return Ok(None);
        };
        let rec = Arc::new(rec);
        map.fill(ticket, id, rec.clone());
        Ok(Some(rec))
    }

    /// The registration of `hash` under `subject` when the cache knows it is a live version
    /// already (the answer to an import with another id being 42207).
    fn registered(
        &self,
        subject: &str,
        hash: &str,
        import: Option<ImportIds>,
    ) -> Option<Result<Registered>> {
        let live = self
            .caches()
            .lookups
            .read(subject, |m| m.get(hash).copied())
            .flatten()?;
        if let Some(imp) = import
            && imp.id != live.id
        {
            return Some(Err(already_registered(live.id, imp.id)));
        }
        Some(Ok(Registered {
            id: live.id,
            version: live.version,
            ts: live.ts,
            created: false,
        }))
    }

    /// [`Store::register_uncached`], answered from the cache when the schema is known to be a
    /// live version of the subject already.
    async fn register(
        &self,
        subject: &str,
        new: &NewSchema,
        pre: Precheck,
    ) -> Result<Option<Registered>> {
        if let Some(known) = self.registered(subject, &new.hash, pre.import) {
            return known.map(Some);
        }
        let lookups = &self.caches().lookups;
        let ticket = lookups.ticket();
        let reg = self.register_uncached(subject, new, pre).await?;
        // A new version invalidated the subject (and `ticket`); an existing one is cached.
        if let Some(reg) = reg
            && !reg.created
        {
            let live = LiveVersion {
                id: reg.id,
                version: reg.version,
                ts: reg.ts,
            };
            lookups.update(ticket, subject.to_owned(), |m| {
                m.get_or_insert_with(HashMap::new)
                    .insert(new.hash.clone(), live);
            });
        }
        Ok(reg)
    }

    /// The newest live version of `subject` holding the schema with `hash`, through the cache.
    async fn lookup(&self, subject: &str, hash: &str) -> Result<Option<VersionRecord>> {
        let lookups = &self.caches().lookups;
        if let Some(live) = lookups.read(subject, |m| m.get(hash).copied()).flatten()
            && let Some(schema) = self.schema_by_id(live.id).await?
        {
            return Ok(Some(VersionRecord {
                subject: subject.to_owned(),
                version: live.version,
                deleted: false,
                ts: live.ts,
                schema,
            }));
        }
        let ticket = lookups.ticket();
        let found = self.lookup_uncached(subject, hash, false).await?;
        if let Some(v) = &found {
            let live = LiveVersion {
                id: v.schema.id,
                version: v.version,
                ts: v.ts,
            };
            lookups.update(ticket, subject.to_owned(), |m| {
                m.get_or_insert_with(HashMap::new)
                    .insert(hash.to_owned(), live);
            });
        }
        Ok(found)
    }

    /// The newest live version of `subject`, parsed, through the cache.
    async fn latest(&self, subject: &str) -> Result<Option<Arc<ParsedVersion>>> {
        let map = &self.caches().latest;
        if let Some(hit) = map.get(subject) {
            return Ok(hit);
        }
        let ticket = map.ticket();
        let latest = match self.live_versions(subject, 1).await?.into_iter().next() {
            Some(v) => Some(Arc::new(ParsedVersion::parse(v)?)),
            None => None,
        };
        map.fill(ticket, subject.to_owned(), latest.clone());
        Ok(latest)
    }

    /// The config row of a subject (or the global one) through the cache.
    async fn config(&self, subject: Option<&str>) -> Result<Option<ConfigRecord>> {
        let map = &self.caches().config;
        let key = subject.unwrap_or("");
        if let Some(hit) = map.get(key) {
            return Ok(hit);
        }
        let ticket = map.ticket();
        let rec = self.config_uncached(subject).await?;
        map.fill(ticket, key.to_owned(), rec.clone());
        Ok(rec)
    }

    /// The mode row of a subject (or the global one) through the cache.
    async fn mode(&self, subject: Option<&str>) -> Result<Option<String>> {
        let map = &self.caches().mode;
        let key = subject.unwrap_or("");
        if let Some(hit) = map.get(key) {
            return Ok(hit);
        }
        let ticket = map.ticket();
        let mode = self.mode_uncached(subject).await?;
        map.fill(ticket, key.to_owned(), mode.clone());
        Ok(mode)
    }
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
