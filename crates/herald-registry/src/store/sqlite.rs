//! SQLite, the embedded default. SQLite has one writer at a time; this process serialises
//! its write transactions (registrations, deletes and mode switches alike) on a mutex and
//! opens them with `BEGIN IMMEDIATE`, so a transaction never has to upgrade its lock (and
//! reads go on in parallel, in WAL mode). One SQLite file is meant for one registry process:
//! its feed tells only its own writes.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::Mutex;

use super::sql::{Dialect, SqlStore, WriteTx, pool_options};
use super::*;

/// The SQLite store.
pub type SqliteStore = SqlStore<Lite>;

/// The SQLite [`Dialect`]: the writer mutex of this process.
#[derive(Debug)]
pub struct Lite {
    writer: Arc<Mutex<()>>,
}

#[async_trait]
impl Dialect for Lite {
    type DB = Sqlite;
    const BACKEND: &'static str = "sqlite";
    // Writers are serialised already.
    const FOR_UPDATE: &'static str = "";
    const GREATEST: &'static str = "MAX";
    const ALL_DELETED: &'static str = "MIN(deleted)";

    async fn open(url: &str, pool_size: u32) -> Result<(SqlitePool, Self)> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::Store(format!("invalid database URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = pool_options(pool_size).connect_with(opts).await?;
        sqlx::migrate!("../../migrations/sqlite").run(&pool).await?;
        let writer = Arc::new(Mutex::new(()));
        Ok((pool, Self { writer }))
    }

    async fn begin_write(&self, pool: &SqlitePool) -> Result<WriteTx<Sqlite>> {
        let writer = self.writer.clone().lock_owned().await;
        let tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx {
            tx,
            writer: Some(writer),
        })
    }

    async fn next_schema_id(conn: &mut SqliteConnection) -> Result<i64> {
        let next: String = sqlx::query(
            "UPDATE registry_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) \
             WHERE key = 'last_schema_id' RETURNING value",
        )
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
        next.parse()
            .map_err(|e| Error::Store(format!("corrupt id counter: {e}")))
    }

    async fn raise_schema_id(conn: &mut SqliteConnection, id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE registry_meta SET value = CAST(MAX(CAST(value AS INTEGER), $1) AS TEXT) \
             WHERE key = 'last_schema_id'",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}
