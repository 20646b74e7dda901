//! The SQL store, written once for both backends: everything but what a [`Dialect`] says
//! differs (how writers serialise, how ids are allocated, how other processes hear of writes).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolOptions;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};
use tokio::sync::OwnedMutexGuard;

use super::*;
use crate::canonical::Reference;

/// A connection of the dialect's database.
pub type Conn<D> = <<D as Dialect>::DB as Database>::Connection;

/// A column type both read and written (supertraits, so one bound brings all three).
pub trait Column<DB: Database>: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> {}
impl<DB: Database, T> Column<DB> for T where
    T: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>
{
}

/// A write transaction, holding whatever serialises writers until it ends.
pub struct WriteTx<DB: Database> {
    pub tx: sqlx::Transaction<'static, DB>,
    /// SQLite's writer mutex (PostgreSQL serialises on row and advisory locks instead).
    pub writer: Option<OwnedMutexGuard<()>>,
}

impl<DB: Database> std::fmt::Debug for WriteTx<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTx")
            .field("writer", &self.writer.is_some())
            .finish_non_exhaustive()
    }
}

/// What differs between the backends.
#[async_trait]
pub trait Dialect: Send + Sync + std::fmt::Debug + Sized + 'static {
    type DB: Database;
    /// "postgres" or "sqlite".
    const BACKEND: &'static str;
    /// Appended to the read of a subject's row: locks it until the transaction ends.
    const FOR_UPDATE: &'static str;
    /// The SQL function of the larger of two values.
    const GREATEST: &'static str;
    /// The aggregate over `deleted` that is true when all rows are deleted.
    const ALL_DELETED: &'static str;

    /// Opens a pool on `url` and runs the migrations.
    async fn open(url: &str, pool_size: u32) -> Result<(Pool<Self::DB>, Self)>;
    /// Starts telling `feed` other processes' changes, where the backend can hear them.
    async fn follow(&self, _pool: &Pool<Self::DB>, _feed: &Arc<Feed>) -> Result<()> {
        Ok(())
    }
    /// Begins a transaction that writes.
    async fn begin_write(&self, pool: &Pool<Self::DB>) -> Result<WriteTx<Self::DB>>;
    /// Tells other processes of `changes` when the transaction commits.
    async fn announce(_conn: &mut Conn<Self>, _changes: &[Change]) -> Result<()> {
        Ok(())
    }
    /// The lock a mode switch of `subject` (`""`: global) takes, until the transaction ends.
    async fn lock_mode(_conn: &mut Conn<Self>, _subject: &str) -> Result<()> {
        Ok(())
    }
    /// The lock a write to `subject` takes on its mode and the global one, shared: a mode
    /// switch waits for the writes in flight, and those after it read the new mode.
    async fn share_modes(_conn: &mut Conn<Self>, _subject: &str) -> Result<()> {
        Ok(())
    }
    /// A new schema id, never handed out before.
    async fn next_schema_id(conn: &mut Conn<Self>) -> Result<i64>;
    /// Makes ids handed out from now on greater than `id` (kept from an import).
    async fn raise_schema_id(conn: &mut Conn<Self>, id: i64) -> Result<()>;
}

/// The pool options of both backends: at least two connections (a write transaction and a
/// read may need one each).
pub fn pool_options<DB: Database>(pool_size: u32) -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(pool_size.max(2))
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(5))
}

/// The store on one SQL backend.
#[derive(Debug)]
pub struct SqlStore<D: Dialect> {
    pool: Pool<D::DB>,
    feed: Arc<Feed>,
    dialect: D,
}

const SCHEMA_COLS: &str = "s.id, s.schema_type, s.schema, s.refs";
const VERSION_COLS: &str =
    "sv.subject, sv.version, sv.deleted, sv.created_at, s.id, s.schema_type, s.schema, s.refs";

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = D::DB>,
    for<'q> <D::DB as Database>::Arguments<'q>: IntoArguments<'q, D::DB>,
    usize: ColumnIndex<<D::DB as Database>::Row>,
    i32: Column<D::DB>,
    i64: Column<D::DB>,
    bool: Column<D::DB>,
    String: Column<D::DB>,
    for<'q> &'q str: Encode<'q, D::DB> + Type<D::DB>,
    for<'q> Option<String>: Encode<'q, D::DB>,
    for<'q> Option<bool>: Encode<'q, D::DB>,
{
    /// Connects, runs the migrations and starts following other processes' writes.
    pub async fn connect(url: &str, pool_size: u32) -> Result<Self> {
        let (pool, dialect) = D::open(url, pool_size).await?;
        let store = Self {
            pool,
            feed: Arc::new(Feed::default()),
            dialect,
        };
        store.dialect.follow(&store.pool, &store.feed).await?;
        Ok(store)
    }

    /// The pool, for tests and tools.
    pub fn pool(&self) -> &Pool<D::DB> {
        &self.pool
    }

    fn schema_from_row(row: &<D::DB as Database>::Row, offset: usize) -> Result<SchemaRecord> {
        Ok(SchemaRecord {
            id: row.try_get(offset)?,
            schema_type: row.try_get(offset + 1)?,
            schema: row.try_get(offset + 2)?,
            references: refs_from_json(&row.try_get::<String, _>(offset + 3)?)?,
        })
    }

    fn version_from_row(row: &<D::DB as Database>::Row) -> Result<VersionRecord> {
        Ok(VersionRecord {
            subject: row.try_get(0)?,
            version: row.try_get(1)?,
            deleted: row.try_get(2)?,
            ts: row.try_get(3)?,
            schema: Arc::new(Self::schema_from_row(row, 4)?),
        })
    }

    /// Announces `changes` to every process, commits, and tells this process's feed.
    async fn finish(&self, mut w: WriteTx<D::DB>, changes: &[Change]) -> Result<()> {
        D::announce(&mut w.tx, changes).await?;
        w.tx.commit().await?;
        self.feed.changed(changes);
        Ok(())
    }

    fn config_from_row(row: &<D::DB as Database>::Row) -> Result<ConfigRecord> {
        let level: Option<String> = row.try_get(0)?;
        let policy: Option<String> = row.try_get(2)?;
        Ok(ConfigRecord {
            compatibility: level.as_deref().map(parse_stored).transpose()?,
            normalize: row.try_get(1)?,
            policy: policy.as_deref().map(parse_stored).transpose()?,
        })
    }

    /// Locks the subject's row; its highest version ever, if it has a row.
    async fn lock_subject(conn: &mut Conn<D>, subject: &str) -> Result<Option<i32>> {
        let row = sqlx::query(&format!(
            "SELECT latest_version FROM subjects WHERE subject = $1{}",
            D::FOR_UPDATE
        ))
        .bind(subject)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }

    /// Begins a write to the versions of `subject`: takes its mode locks shared (a mode switch
    /// waits for it) and refuses a READONLY mode read under them. Returns the mode in force.
    async fn begin_subject_write(&self, subject: &str) -> Result<(WriteTx<D::DB>, Mode)> {
        let mut w = self.dialect.begin_write(&self.pool).await?;
        D::share_modes(&mut w.tx, subject).await?;
        let mode = Self::mode_conn(&mut w.tx, subject).await?;
        if mode.is_read_only() {
            return Err(mode::read_only(subject));
        }
        Ok((w, mode))
    }

    /// The mode in force for `subject`, read in the transaction.
    async fn mode_conn(conn: &mut Conn<D>, subject: &str) -> Result<Mode> {
        let rows = sqlx::query("SELECT subject, mode FROM mode WHERE subject = $1 OR subject = ''")
            .bind(subject)
            .fetch_all(&mut *conn)
            .await?;
        let (mut own, mut global) = (None, None);
        for r in &rows {
            let scope: String = r.try_get(0)?;
            let mode: String = r.try_get(1)?;
            *(if scope == subject {
                &mut own
            } else {
                &mut global
            }) = Some(mode);
        }
        // Only the row in force is parsed, as the cached read does.
        own.or(global)
            .map_or(Ok(Mode::default()), |m| parse_stored(&m))
    }

    /// (version, schema id) of the `limit` newest live versions, newest first.
    async fn live_ids_conn(
        conn: &mut Conn<D>,
        subject: &str,
        limit: i64,
    ) -> Result<Vec<(i32, i64)>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT version, schema_id FROM subject_versions \
             WHERE subject = $1 AND NOT deleted ORDER BY version DESC LIMIT $2",
        )
        .bind(subject)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    async fn live_versions_conn(
        conn: &mut Conn<D>,
        subject: &str,
        limit: i64,
    ) -> Result<Vec<VersionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {VERSION_COLS} FROM subject_versions sv JOIN schemas s ON s.id = sv.schema_id \
             WHERE sv.subject = $1 AND NOT sv.deleted ORDER BY sv.version DESC LIMIT $2"
        ))
        .bind(subject)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(Self::version_from_row).collect()
    }

    async fn resolve_conn(conn: &mut Conn<D>, refs: &[Reference]) -> Result<RefMap> {
        let mut map = RefMap::new();
        let mut seen = HashSet::new();
        let mut todo: Vec<Reference> = refs.to_vec();
        while let Some(r) = todo.pop() {
            if !seen.insert((r.subject.clone(), r.version)) {
                continue;
            }
            let row = sqlx::query(
                "SELECT s.schema, s.refs FROM subject_versions sv JOIN schemas s ON s.id = sv.schema_id \
                 WHERE sv.subject = $1 AND sv.version = $2",
            )
            .bind(&r.subject)
            .bind(r.version)
            .fetch_optional(&mut *conn)
            .await?;
            let Some(row) = row else {
                return Err(Error::InvalidSchema(format!(
                    "Reference '{}' to subject '{}' version {} not found",
                    r.name, r.subject, r.version
                )));
            };
            add_ref(&mut map, &r.name, &row.try_get::<String, _>(0)?)?;
            todo.extend(refs_from_json(&row.try_get::<String, _>(1)?)?);
        }
        Ok(map)
    }

    /// Whether a schema version is referenced; `live_only` counts only referrers that still
    /// have a live version.
    async fn is_referenced(
        conn: &mut Conn<D>,
        subject: &str,
        version: i32,
        live_only: bool,
    ) -> Result<bool> {
        let row = sqlx::query(&format!(
            "SELECT EXISTS (SELECT 1 FROM schema_refs r JOIN subject_versions sv ON sv.schema_id = r.schema_id \
             WHERE r.ref_subject = $1 AND r.ref_version = $2 {})",
            if live_only { "AND NOT sv.deleted" } else { "" }
        ))
        .bind(subject)
        .bind(version)
        .fetch_one(&mut *conn)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// After rows of `subject_versions` were removed: drops schemas no version uses any more
    /// and, when the subject has no version left, its row, config and mode. Returns what
    /// changed, the subject's versions included.
    async fn cleanup_after_permanent(
        conn: &mut Conn<D>,
        subject: &str,
        ids: &[i64],
    ) -> Result<Vec<Change>> {
        let mut changes = vec![Change::Subject(subject.to_owned())];
        for id in ids {
            let gone = sqlx::query(
                "DELETE FROM schemas WHERE id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM subject_versions WHERE schema_id = $1) RETURNING id",
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
            if gone.is_some() {
                changes.push(Change::Schema(*id));
            }
        }
        let left: bool =
            sqlx::query("SELECT EXISTS (SELECT 1 FROM subject_versions WHERE subject = $1)")
                .bind(subject)
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
        if !left {
            for table in ["subjects", "config", "mode"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE subject = $1"))
                    .bind(subject)
                    .execute(&mut *conn)
                    .await?;
            }
            changes.push(Change::Config(Some(subject.to_owned())));
            changes.push(Change::Mode(Some(subject.to_owned())));
        }
        Ok(changes)
    }

    async fn insert_schema(
        &self,
        conn: &mut Conn<D>,
        id: i64,
        new: &NewSchema,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO schemas (id, schema_type, schema, refs, hash, created_at) \
             VALUES ($1, 'JSON', $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(&new.text)
        .bind(refs_to_json(&new.references))
        .bind(&new.hash)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        self.insert_refs(conn, id, &new.references).await
    }

    async fn insert_refs(&self, conn: &mut Conn<D>, id: i64, refs: &[Reference]) -> Result<()> {
        for r in refs {
            sqlx::query(
                "INSERT INTO schema_refs (schema_id, name, ref_subject, ref_version) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(&r.name)
            .bind(&r.subject)
            .bind(r.version)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

/// A stored level, policy or mode, which only valid values should have reached: one that
/// does not parse is an error, not a silent default.
fn parse_stored<T: std::str::FromStr>(text: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e| Error::Store(format!("corrupt stored configuration '{text}': {e}")))
}

fn key(subject: Option<&str>) -> &str {
    subject.unwrap_or("")
}

#[async_trait]
impl<D: Dialect> Store for SqlStore<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = D::DB>,
    for<'q> <D::DB as Database>::Arguments<'q>: IntoArguments<'q, D::DB>,
    usize: ColumnIndex<<D::DB as Database>::Row>,
    i32: Column<D::DB>,
    i64: Column<D::DB>,
    bool: Column<D::DB>,
    String: Column<D::DB>,
    for<'q> &'q str: Encode<'q, D::DB> + Type<D::DB>,
    for<'q> Option<String>: Encode<'q, D::DB>,
    for<'q> Option<bool>: Encode<'q, D::DB>,
{
    fn backend(&self) -> &'static str {
        D::BACKEND
    }

    fn feed(&self) -> &Feed {
        &self.feed
    }

    async fn health(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn register(
        &self,
        subject: &str,
        new: &NewSchema,
        mut pre: Precheck,
    ) -> Result<Option<Registered>> {
        let (mut w, mode) = self.begin_subject_write(subject).await?;
        sqlx::query("INSERT INTO subjects (subject) VALUES ($1) ON CONFLICT (subject) DO NOTHING")
            .bind(subject)
            .execute(&mut *w.tx)
            .await?;
        let latest = Self::lock_subject(&mut w.tx, subject).await?.unwrap_or(0);
        if !pre.confirm_mode(subject, mode)? {
            return Ok(None);
        }

        // Idempotent: the same schema already a live version of this subject.
        let existing = sqlx::query(
            "SELECT sv.version, s.id, sv.created_at FROM subject_versions sv JOIN schemas s ON s.id = sv.schema_id \
             WHERE sv.subject = $1 AND s.hash = $2 AND NOT sv.deleted ORDER BY sv.version DESC LIMIT 1",
        )
        .bind(subject)
        .bind(&new.hash)
        .fetch_optional(&mut *w.tx)
        .await?;
        if let Some(row) = existing {
            let (version, id, ts): (i32, i64, i64) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            if let Some(imp) = pre.import
                && imp.id != id
            {
                return Err(already_registered(id, imp.id));
            }
            w.tx.commit().await?;
            return Ok(Some(Registered {
                id,
                version,
                ts,
                created: false,
            }));
        }

        let live = Self::live_ids_conn(&mut w.tx, subject, pre.previous).await?;
        if !pre.confirm_versions(&live)? {
            return Ok(None);
        }
        let import = pre.import;

        let by_hash: Option<i64> = sqlx::query("SELECT id FROM schemas WHERE hash = $1")
            .bind(&new.hash)
            .fetch_optional(&mut *w.tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        let now = now_ms();
        let id = match import {
            Some(imp) => {
                let at_id: Option<String> = sqlx::query("SELECT hash FROM schemas WHERE id = $1")
                    .bind(imp.id)
                    .fetch_optional(&mut *w.tx)
                    .await?
                    .map(|r| r.try_get(0))
                    .transpose()?;
                match (at_id, by_hash) {
                    (Some(h), _) if h != new.hash => {
                        return Err(Error::IdDoesNotMatch(format!(
                            "Overwrite new schema with id {} is not permitted.",
                            imp.id
                        )));
                    }
                    (Some(_), _) => imp.id,
                    (None, Some(other)) => {
                        return Err(already_registered(other, imp.id));
                    }
                    (None, None) => {
                        self.insert_schema(&mut w.tx, imp.id, new, now).await?;
                        D::raise_schema_id(&mut w.tx, imp.id).await?;
                        imp.id
                    }
                }
            }
            None => match by_hash {
                Some(id) => id,
                None => {
                    let next = D::next_schema_id(&mut w.tx).await?;
                    let inserted = sqlx::query(
                        "INSERT INTO schemas (id, schema_type, schema, refs, hash, created_at) \
                         VALUES ($1, 'JSON', $2, $3, $4, $5) \
                         ON CONFLICT (hash) DO NOTHING RETURNING id",
                    )
                    .bind(next)
                    .bind(&new.text)
                    .bind(refs_to_json(&new.references))
                    .bind(&new.hash)
                    .bind(now)
                    .fetch_optional(&mut *w.tx)
                    .await?;
                    match inserted {
                        Some(row) => {
                            let id: i64 = row.try_get(0)?;
                            self.insert_refs(&mut w.tx, id, &new.references).await?;
                            id
                        }
                        // Another transaction stored the same content first and committed.
                        None => sqlx::query("SELECT id FROM schemas WHERE hash = $1")
                            .bind(&new.hash)
                            .fetch_one(&mut *w.tx)
                            .await?
                            .try_get(0)?,
                    }
                }
            },
        };

        let version = match import.and_then(|i| i.version) {
            Some(v) => {
                let taken: bool = sqlx::query(
                    "SELECT EXISTS (SELECT 1 FROM subject_versions WHERE subject = $1 AND version = $2)",
                )
                .bind(subject)
                .bind(v)
                .fetch_one(&mut *w.tx)
                .await?
                .try_get(0)?;
                if taken {
                    return Err(Error::OperationNotPermitted(format!(
                        "Version {v} of subject '{subject}' already exists with another schema"
                    )));
                }
                v
            }
            None => latest + 1,
        };
        sqlx::query(
            "INSERT INTO subject_versions (subject, version, schema_id, deleted, created_at) \
             VALUES ($1, $2, $3, FALSE, $4)",
        )
        .bind(subject)
        .bind(version)
        .bind(id)
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
        sqlx::query(&format!(
            "UPDATE subjects SET latest_version = {}(latest_version, $2) WHERE subject = $1",
            D::GREATEST
        ))
        .bind(subject)
        .bind(version)
        .execute(&mut *w.tx)
        .await?;
        self.finish(w, &[Change::Subject(subject.to_owned())])
            .await?;
        Ok(Some(Registered {
            id,
            version,
            ts: now,
            created: true,
        }))
    }

    async fn schema(&self, id: i64) -> Result<Option<Arc<SchemaRecord>>> {
        let row = sqlx::query(&format!(
            "SELECT {SCHEMA_COLS} FROM schemas s WHERE s.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Self::schema_from_row(&r, 0).map(Arc::new))
            .transpose()
    }

    async fn schema_id_by_hash(&self, hash: &str) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT id FROM schemas WHERE hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    async fn max_schema_id(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM schemas")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    async fn lookup(
        &self,
        subject: &str,
        hash: &str,
        include_deleted: bool,
    ) -> Result<Option<VersionRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {VERSION_COLS} FROM subject_versions sv JOIN schemas s ON s.id = sv.schema_id \
             WHERE sv.subject = $1 AND s.hash = $2 AND ($3 OR NOT sv.deleted) \
             ORDER BY sv.version DESC LIMIT 1"
        ))
        .bind(subject)
        .bind(hash)
        .bind(include_deleted)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Self::version_from_row).transpose()
    }

    async fn subjects(&self, prefix: &str) -> Result<Vec<SubjectRow>> {
        let rows = sqlx::query(&format!(
            "SELECT subject, {} FROM subject_versions \
             WHERE substr(subject, 1, length($1)) = $1 GROUP BY subject ORDER BY subject",
            D::ALL_DELETED
        ))
        .bind(prefix)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SubjectRow {
                    subject: r.try_get(0)?,
                    all_deleted: r.try_get(1)?,
                })
            })
            .collect()
    }

    async fn subject_versions(&self, subject: &str) -> Result<Vec<(i32, bool)>> {
        let rows = sqlx::query(
            "SELECT version, deleted FROM subject_versions WHERE subject = $1 ORDER BY version",
        )
        .bind(subject)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    async fn version(
        &self,
        subject: &str,
        sel: VersionSel,
        include_deleted: bool,
    ) -> Result<Option<VersionRecord>> {
        let (cond, v) = match sel {
            VersionSel::Latest => ("", 0),
            VersionSel::Number(n) => ("AND sv.version = $3", n),
        };
        let sql = format!(
            "SELECT {VERSION_COLS} FROM subject_versions sv JOIN schemas s ON s.id = sv.schema_id \
             WHERE sv.subject = $1 AND ($2 OR NOT sv.deleted) {cond} ORDER BY sv.version DESC LIMIT 1"
        );
        let row = sqlx::query(&sql).bind(subject).bind(include_deleted);
        let row = if cond.is_empty() { row } else { row.bind(v) };
        let row = row.fetch_optional(&self.pool).await?;
        row.as_ref().map(Self::version_from_row).transpose()
    }

    async fn live_versions(&self, subject: &str, limit: i64) -> Result<Vec<VersionRecord>> {
        let mut conn = self.pool.acquire().await?;
        Self::live_versions_conn(&mut conn, subject, limit).await
    }

    async fn referenced_by(&self, subject: &str, version: i32) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT DISTINCT r.schema_id FROM schema_refs r \
             WHERE r.ref_subject = $1 AND r.ref_version = $2 AND EXISTS \
             (SELECT 1 FROM subject_versions sv WHERE sv.schema_id = r.schema_id AND NOT sv.deleted) \
             ORDER BY r.schema_id",
        )
        .bind(subject)
        .bind(version)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn delete_subject(&self, subject: &str, permanent: bool) -> Result<Vec<i32>> {
        let (mut w, _) = self.begin_subject_write(subject).await?;
        if Self::lock_subject(&mut w.tx, subject).await?.is_none() {
            return Err(Error::SubjectNotFound(subject.to_owned()));
        }
        let rows = sqlx::query(
            "SELECT version, deleted, schema_id FROM subject_versions WHERE subject = $1 ORDER BY version",
        )
        .bind(subject)
        .fetch_all(&mut *w.tx)
        .await?;
        let mut all: Vec<(i32, bool, i64)> = Vec::with_capacity(rows.len());
        for r in &rows {
            all.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?));
        }
        if all.is_empty() {
            return Err(Error::SubjectNotFound(subject.to_owned()));
        }
        let live: Vec<i32> = all.iter().filter(|v| !v.1).map(|v| v.0).collect();
        if permanent {
            if !live.is_empty() {
                return Err(Error::SubjectNotSoftDeleted(subject.to_owned()));
            }
            for (v, _, _) in &all {
                if Self::is_referenced(&mut w.tx, subject, *v, false).await? {
                    return Err(Error::ReferenceExists(subject.to_owned(), *v));
                }
            }
            sqlx::query("DELETE FROM subject_versions WHERE subject = $1")
                .bind(subject)
                .execute(&mut *w.tx)
                .await?;
            let ids: Vec<i64> = all.iter().map(|v| v.2).collect();
            let changes = Self::cleanup_after_permanent(&mut w.tx, subject, &ids).await?;
            self.finish(w, &changes).await?;
            Ok(all.iter().map(|v| v.0).collect())
        } else {
            if live.is_empty() {
                return Err(Error::SubjectSoftDeleted(subject.to_owned()));
            }
            for v in &live {
                if Self::is_referenced(&mut w.tx, subject, *v, true).await? {
                    return Err(Error::ReferenceExists(subject.to_owned(), *v));
                }
            }
            sqlx::query("UPDATE subject_versions SET deleted = TRUE WHERE subject = $1")
                .bind(subject)
                .execute(&mut *w.tx)
                .await?;
            self.finish(w, &[Change::Subject(subject.to_owned())])
                .await?;
            Ok(live)
        }
    }

    async fn delete_version(&self, subject: &str, sel: VersionSel, permanent: bool) -> Result<i32> {
        let (mut w, _) = self.begin_subject_write(subject).await?;
        if Self::lock_subject(&mut w.tx, subject).await?.is_none() {
            return Err(Error::SubjectNotFound(subject.to_owned()));
        }
        let row = match sel {
            VersionSel::Latest => sqlx::query(
                "SELECT version, deleted, schema_id FROM subject_versions \
                 WHERE subject = $1 AND ($2 OR NOT deleted) ORDER BY version DESC LIMIT 1",
            )
            .bind(subject)
            .bind(permanent),
            VersionSel::Number(n) => sqlx::query(
                "SELECT version, deleted, schema_id FROM subject_versions WHERE subject = $1 AND version = $2",
            )
            .bind(subject)
            .bind(n),
        }
        .fetch_optional(&mut *w.tx)
        .await?;
        let Some(row) = row else {
            return Err(Error::VersionNotFound(match sel {
                VersionSel::Latest => "latest".to_owned(),
                VersionSel::Number(n) => n.to_string(),
            }));
        };
        let (version, deleted, id): (i32, bool, i64) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        if permanent {
            if !deleted {
                return Err(Error::VersionNotSoftDeleted(subject.to_owned(), version));
            }
            if Self::is_referenced(&mut w.tx, subject, version, false).await? {
                return Err(Error::ReferenceExists(subject.to_owned(), version));
            }
            sqlx::query("DELETE FROM subject_versions WHERE subject = $1 AND version = $2")
                .bind(subject)
                .bind(version)
                .execute(&mut *w.tx)
                .await?;
            let changes = Self::cleanup_after_permanent(&mut w.tx, subject, &[id]).await?;
            self.finish(w, &changes).await?;
        } else {
            if deleted {
                return Err(Error::VersionSoftDeleted(subject.to_owned(), version));
            }
            if Self::is_referenced(&mut w.tx, subject, version, true).await? {
                return Err(Error::ReferenceExists(subject.to_owned(), version));
            }
            sqlx::query(
                "UPDATE subject_versions SET deleted = TRUE WHERE subject = $1 AND version = $2",
            )
            .bind(subject)
            .bind(version)
            .execute(&mut *w.tx)
            .await?;
            self.finish(w, &[Change::Subject(subject.to_owned())])
                .await?;
        }
        Ok(version)
    }

    async fn id_usages(&self, id: i64) -> Result<Vec<(String, i32, bool)>> {
        let rows = sqlx::query(
            "SELECT subject, version, deleted FROM subject_versions WHERE schema_id = $1 ORDER BY subject, version",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    async fn all_versions(&self, prefix: &str) -> Result<Vec<VersionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {VERSION_COLS} FROM subject_versions sv JOIN schemas s ON s.id = sv.schema_id \
             WHERE substr(sv.subject, 1, length($1)) = $1 ORDER BY sv.subject, sv.version"
        ))
        .bind(prefix)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Self::version_from_row).collect()
    }

    async fn resolve_references(&self, refs: &[Reference]) -> Result<RefMap> {
        if refs.is_empty() {
            return Ok(RefMap::new());
        }
        let mut conn = self.pool.acquire().await?;
        Self::resolve_conn(&mut conn, refs).await
    }

    async fn config(&self, subject: Option<&str>) -> Result<Option<ConfigRecord>> {
        let row =
            sqlx::query("SELECT compatibility, normalize, policy FROM config WHERE subject = $1")
                .bind(key(subject))
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(Self::config_from_row).transpose()
    }

    async fn set_config(&self, subject: Option<&str>, c: &ConfigRecord) -> Result<()> {
        let mut w = self.dialect.begin_write(&self.pool).await?;
        // Fields left out of an update keep their value, as in Confluent.
        sqlx::query(
            "INSERT INTO config (subject, compatibility, normalize, policy) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (subject) DO UPDATE SET \
             compatibility = COALESCE(EXCLUDED.compatibility, config.compatibility), \
             normalize = COALESCE(EXCLUDED.normalize, config.normalize), \
             policy = COALESCE(EXCLUDED.policy, config.policy)",
        )
        .bind(key(subject))
        .bind(c.compatibility.map(|l| l.as_str().to_owned()))
        .bind(c.normalize)
        .bind(c.policy.map(|p| p.as_str().to_owned()))
        .execute(&mut *w.tx)
        .await?;
        self.finish(w, &[Change::Config(subject.map(str::to_owned))])
            .await
    }

    async fn delete_config(&self, subject: Option<&str>) -> Result<Option<ConfigRecord>> {
        let mut w = self.dialect.begin_write(&self.pool).await?;
        let row = sqlx::query(
            "DELETE FROM config WHERE subject = $1 RETURNING compatibility, normalize, policy",
        )
        .bind(key(subject))
        .fetch_optional(&mut *w.tx)
        .await?;
        // A row that does not parse is kept (a PUT repairs it) and the delete refused.
        let rec = row.as_ref().map(Self::config_from_row).transpose()?;
        self.finish(w, &[Change::Config(subject.map(str::to_owned))])
            .await?;
        Ok(rec)
    }

    async fn mode(&self, subject: Option<&str>) -> Result<Option<Mode>> {
        let row = sqlx::query("SELECT mode FROM mode WHERE subject = $1")
            .bind(key(subject))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| parse_stored(&r.try_get::<String, _>(0)?))
            .transpose()
    }

    async fn set_mode(&self, subject: Option<&str>, mode: Mode) -> Result<()> {
        let mut w = self.dialect.begin_write(&self.pool).await?;
        D::lock_mode(&mut w.tx, key(subject)).await?;
        sqlx::query(
            "INSERT INTO mode (subject, mode) VALUES ($1, $2) \
             ON CONFLICT (subject) DO UPDATE SET mode = EXCLUDED.mode",
        )
        .bind(key(subject))
        .bind(mode.as_str())
        .execute(&mut *w.tx)
        .await?;
        self.finish(w, &[Change::Mode(subject.map(str::to_owned))])
            .await
    }

    async fn delete_mode(&self, subject: Option<&str>) -> Result<Option<Mode>> {
        let mut w = self.dialect.begin_write(&self.pool).await?;
        D::lock_mode(&mut w.tx, key(subject)).await?;
        let row = sqlx::query("DELETE FROM mode WHERE subject = $1 RETURNING mode")
            .bind(key(subject))
            .fetch_optional(&mut *w.tx)
            .await?;
        // A row that does not parse is kept (a PUT repairs it) and the delete refused.
        let prev = row
            .map(|r| parse_stored(&r.try_get::<String, _>(0)?))
            .transpose()?;
        self.finish(w, &[Change::Mode(subject.map(str::to_owned))])
            .await?;
        Ok(prev)
    }

    async fn cluster_id(&self) -> Result<String> {
        let row = sqlx::query("SELECT value FROM registry_meta WHERE key = 'cluster_id'")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }
}
