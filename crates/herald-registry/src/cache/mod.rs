//! Caching, as a wrapper over any [`Store`]: [`CachedStore`] answers the hot reads (schemas by
//! id, config and mode rows, live versions by content hash, each subject's latest version)
//! from memory and passes everything else through. Its maps follow the store's feed, so a
//! committed write drops what it changed (in every process, on PostgreSQL).

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use async_trait::async_trait;

use crate::canonical::Reference;
use crate::error::Result;
use crate::store::{
    ConfigRecord, Feed, Follower, ImportIds, Mode, NewSchema, ParsedVersion, Precheck, RefMap,
    Registered, SchemaRecord, Store, SubjectRow, VersionRecord, VersionSel, already_registered,
};

pub mod maps;

pub use maps::{Caches, LiveVersion, Map, PassedCheck, Ticket};

/// `S` with the hot reads answered from memory.
#[derive(Debug)]
pub struct CachedStore<S: ?Sized = dyn Store> {
    caches: Arc<Caches>,
    inner: Arc<S>,
}

impl<S: Store + ?Sized> CachedStore<S> {
    /// Caches `inner`, starting empty.
    pub fn new(inner: Arc<S>) -> Self {
        let caches = Arc::new(Caches::default());
        inner
            .feed()
            .follow(Arc::downgrade(&caches) as Weak<dyn Follower>);
        Self { caches, inner }
    }

    /// The store underneath, for reads that must see the database as it is now.
    pub fn uncached(&self) -> &S {
        &self.inner
    }

    /// The maps, also for what the handlers cache themselves (response bodies, passed
    /// checks), which the store's changes drop the same way.
    pub fn caches(&self) -> &Caches {
        &self.caches
    }

    /// The registration of `hash` under `subject` when the cache knows it is a live version
    /// already (the answer to an import with another id being 42207).
    pub fn registered(
        &self,
        subject: &str,
        hash: &str,
        import: Option<ImportIds>,
    ) -> Option<Result<Registered>> {
        let live = self
            .caches
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

    /// The newest live version of `subject`, parsed.
    pub async fn latest(&self, subject: &str) -> Result<Option<Arc<ParsedVersion>>> {
        let map = &self.caches.latest;
        if let Some(hit) = map.get(subject) {
            return Ok(hit);
        }
        let ticket = map.ticket();
        let latest = match self
            .inner
            .live_versions(subject, 1)
            .await?
            .into_iter()
            .next()
        {
            Some(v) => Some(Arc::new(ParsedVersion::parse(v)?)),
            None => None,
        };
        map.fill(ticket, subject.to_owned(), latest.clone());
        Ok(latest)
    }

    /// Remembers that `hash` is the live version `live` of `subject`, unless the subject
    /// changed since `ticket`.
    fn remember(&self, ticket: Ticket, subject: &str, hash: &str, live: LiveVersion) {
        self.caches.lookups.update(ticket, subject.to_owned(), |m| {
            m.get_or_insert_with(HashMap::new)
                .insert(hash.to_owned(), live);
        });
    }
}

/// A config or mode row through its map (`""` keys the global one).
async fn row_through<T: Clone>(
    map: &Map<String, Option<T>>,
    subject: Option<&str>,
    read: impl Future<Output = Result<Option<T>>>,
) -> Result<Option<T>> {
    let key = subject.unwrap_or("");
    if let Some(hit) = map.get(key) {
        return Ok(hit);
    }
    let ticket = map.ticket();
    let row = read.await?;
    map.fill(ticket, key.to_owned(), row.clone());
    Ok(row)
}

#[async_trait]
impl<S: Store + ?Sized> Store for CachedStore<S> {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn feed(&self) -> &Feed {
        self.inner.feed()
    }

    async fn health(&self) -> Result<()> {
        self.inner.health().await
    }

    /// Answered from the cache when the schema is known to be a live version of the subject
    /// already.
    async fn register(
        &self,
        subject: &str,
        new: &NewSchema,
        pre: Precheck,
    ) -> Result<Option<Registered>> {
        if let Some(known) = self.registered(subject, &new.hash, pre.import) {
            return known.map(Some);
        }
        let ticket = self.caches.lookups.ticket();
        let reg = self.inner.register(subject, new, pre).await?;
        // A new version invalidated the subject (and `ticket`); an existing one is cached.
        if let Some(reg) = reg
            && !reg.created
        {
            let live = LiveVersion {
                id: reg.id,
                version: reg.version,
                ts: reg.ts,
            };
            self.remember(ticket, subject, &new.hash, live);
        }
        Ok(reg)
    }

    async fn schema(&self, id: i64) -> Result<Option<Arc<SchemaRecord>>> {
        let map = &self.caches.schemas;
        if let Some(hit) = map.get(&id) {
            return Ok(Some(hit));
        }
        let ticket = map.ticket();
        let rec = self.inner.schema(id).await?;
        if let Some(rec) = &rec {
            map.fill(ticket, id, rec.clone());
        }
        Ok(rec)
    }

    async fn schema_id_by_hash(&self, hash: &str) -> Result<Option<i64>> {
        self.inner.schema_id_by_hash(hash).await
    }

    async fn max_schema_id(&self) -> Result<i64> {
        self.inner.max_schema_id().await
    }

    /// Live versions through the cache (only hits are kept); deleted ones from the store.
    async fn lookup(
        &self,
        subject: &str,
        hash: &str,
        include_deleted: bool,
    ) -> Result<Option<VersionRecord>> {
        if include_deleted {
            return self.inner.lookup(subject, hash, true).await;
        }
        let lookups = &self.caches.lookups;
        if let Some(live) = lookups.read(subject, |m| m.get(hash).copied()).flatten()
            && let Some(schema) = self.schema(live.id).await?
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
        let found = self.inner.lookup(subject, hash, false).await?;
        if let Some(v) = &found {
            let live = LiveVersion {
                id: v.schema.id,
                version: v.version,
                ts: v.ts,
            };
            self.remember(ticket, subject, hash, live);
        }
        Ok(found)
    }

    async fn subjects(&self, prefix: &str) -> Result<Vec<SubjectRow>> {
        self.inner.subjects(prefix).await
    }

    async fn subject_versions(&self, subject: &str) -> Result<Vec<(i32, bool)>> {
        self.inner.subject_versions(subject).await
    }

    /// The latest live version through the cache (serializers with `use.latest.version` ask
    /// for it); others from the store.
    async fn version(
        &self,
        subject: &str,
        sel: VersionSel,
        include_deleted: bool,
    ) -> Result<Option<VersionRecord>> {
        if sel == VersionSel::Latest && !include_deleted {
            return Ok(self.latest(subject).await?.map(|p| p.record.clone()));
        }
        self.inner.version(subject, sel, include_deleted).await
    }

    async fn live_versions(&self, subject: &str, limit: i64) -> Result<Vec<VersionRecord>> {
        self.inner.live_versions(subject, limit).await
    }

    async fn referenced_by(&self, subject: &str, version: i32) -> Result<Vec<i64>> {
        self.inner.referenced_by(subject, version).await
    }

    async fn delete_subject(&self, subject: &str, permanent: bool) -> Result<Vec<i32>> {
        self.inner.delete_subject(subject, permanent).await
    }

    async fn delete_version(&self, subject: &str, sel: VersionSel, permanent: bool) -> Result<i32> {
        self.inner.delete_version(subject, sel, permanent).await
    }

    async fn id_usages(&self, id: i64) -> Result<Vec<(String, i32, bool)>> {
        self.inner.id_usages(id).await
    }

    async fn all_versions(&self, prefix: &str) -> Result<Vec<VersionRecord>> {
        self.inner.all_versions(prefix).await
    }

    async fn resolve_references(&self, refs: &[Reference]) -> Result<RefMap> {
        self.inner.resolve_references(refs).await
    }

    async fn config(&self, subject: Option<&str>) -> Result<Option<ConfigRecord>> {
        row_through(&self.caches.config, subject, self.inner.config(subject)).await
    }

    async fn set_config(&self, subject: Option<&str>, config: &ConfigRecord) -> Result<()> {
        self.inner.set_config(subject, config).await
    }

    async fn delete_config(&self, subject: Option<&str>) -> Result<Option<ConfigRecord>> {
        self.inner.delete_config(subject).await
    }

    async fn mode(&self, subject: Option<&str>) -> Result<Option<Mode>> {
        row_through(&self.caches.mode, subject, self.inner.mode(subject)).await
    }

    async fn set_mode(&self, subject: Option<&str>, mode: Mode) -> Result<()> {
        self.inner.set_mode(subject, mode).await
    }

    async fn delete_mode(&self, subject: Option<&str>) -> Result<Option<Mode>> {
        self.inner.delete_mode(subject).await
    }

    async fn cluster_id(&self) -> Result<String> {
        self.inner.cluster_id().await
    }
}
