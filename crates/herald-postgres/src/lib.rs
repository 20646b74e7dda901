//! herald's PostgreSQL idempotency store, and transactional handlers.
//!
//! - [`PgIdempotencyStore`]: the claim / complete / release contract on a table, with a
//!   lease per claim and a TTL per completed key.
//! - [`TransactionalHandler`] and [`Transactional`]: the handler gets the transaction; its
//!   writes and the row that marks the message processed commit together, so the effects
//!   in PostgreSQL happen exactly once even when the message is delivered twice.
//!
//! Run [`migrate`] once at start-up (it is idempotent and safe to run from many processes);
//! the SQL is also available as [`MIGRATION_SQL`] for those who manage the schema
//! themselves.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sqlx::Error> {
//! use std::sync::Arc;
//! let pool = sqlx::PgPool::connect("postgres://postgres@127.0.0.1/app").await?;
//! herald_postgres::migrate(&pool).await?;
//! let store = herald_postgres::PgIdempotencyStore::new(pool.clone());
//! let worker = herald_core::Worker::builder().idempotency_store(Arc::new(store));
//! # let _ = worker; Ok(()) }
//! ```

mod batch;
mod idempotency;
#[cfg(feature = "testing")]
pub mod testing;
mod transactional;

use sqlx::PgPool;

pub use idempotency::PgIdempotencyStore;
pub use transactional::{Transactional, TransactionalHandler};

/// The schema herald-postgres needs (idempotent DDL).
pub const MIGRATION_SQL: &str = include_str!("../migrations/0001_herald_idempotency.sql");

/// Creates herald's tables if they do not exist. Holds an advisory lock meanwhile, so
/// workers starting together do not race on the DDL.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('herald-postgres migrate'))")
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(MIGRATION_SQL).execute(&mut *tx).await?;
    tx.commit().await
}

/// Deletes expired claims and processed keys; returns how many rows went. Run it now and
/// then (a cron job, or a task in the worker).
pub async fn purge_expired(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let claims = sqlx::query("DELETE FROM herald_idempotency_keys WHERE expires_at <= now()")
        .execute(pool)
        .await?
        .rows_affected();
    let processed = sqlx::query("DELETE FROM herald_processed_keys WHERE expires_at <= now()")
        .execute(pool)
        .await?
        .rows_affected();
    Ok(claims + processed)
}
