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

#[cfg(feature = "testing")]
pub mod testing;
mod transactional;

use std::time::Duration;

use async_trait::async_trait;
use herald_core::{Claim, IdempotencyStore, LeaseToken, StoreError};
use sqlx::PgPool;

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

/// An [`IdempotencyStore`] on the table `herald_idempotency_keys` (see [`migrate`]).
#[derive(Debug, Clone)]
pub struct PgIdempotencyStore {
    pool: PgPool,
}

impl PgIdempotencyStore {
    pub fn new(pool: PgPool) -> Self {
        PgIdempotencyStore { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

// Insert a held row, or take over one whose lease or TTL has run out. When nothing was
// taken, report whether the row seen is done. A row that the statement's snapshot cannot
// see was claimed by a concurrent transaction a moment ago: that is "in progress".
//
// The claim commits asynchronously (`synchronous_commit` off for this statement's own
// transaction): it saves a WAL flush per message, and a claim lost to a database crash only
// lets another worker take the key again, as an expired lease would (the transactional
// form's processed row, and COMPLETE here, stay synchronous).
const CLAIM: &str = "
WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
claimed AS (
    INSERT INTO herald_idempotency_keys AS k (key, token, done, lease_until, expires_at)
    VALUES ($1, $2, FALSE, now() + make_interval(secs => $3), now() + make_interval(secs => $3))
    ON CONFLICT (key) DO UPDATE
        SET token = EXCLUDED.token,
            done = FALSE,
            lease_until = EXCLUDED.lease_until,
            expires_at = EXCLUDED.expires_at
        WHERE k.expires_at <= now()
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM claimed) AS acquired,
       COALESCE((SELECT done AND expires_at > now()
                 FROM herald_idempotency_keys WHERE key = $1), FALSE) AS done
  FROM async_commit";

// The holder's token turns its claim into a done key (even after the lease ran out, as
// long as nobody took the key over meanwhile).
const COMPLETE: &str = "
UPDATE herald_idempotency_keys
   SET done = TRUE, token = NULL, lease_until = NULL,
       expires_at = now() + make_interval(secs => $3)
 WHERE key = $1 AND token = $2 AND NOT done";

// As COMPLETE, the holder's token extends its lease (even one that ran out, as long as
// nobody took the key over meanwhile).
const RENEW: &str = "
UPDATE herald_idempotency_keys
   SET lease_until = now() + make_interval(secs => $3),
       expires_at = now() + make_interval(secs => $3)
 WHERE key = $1 AND token = $2 AND NOT done";

const RELEASE: &str = "
DELETE FROM herald_idempotency_keys WHERE key = $1 AND token = $2 AND NOT done";

#[async_trait]
impl IdempotencyStore for PgIdempotencyStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let token = LeaseToken::generate();
        let (acquired, done): (bool, bool) = sqlx::query_as(CLAIM)
            .bind(key)
            .bind(&token.0)
            .bind(lease.as_secs_f64())
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(match (acquired, done) {
            (true, _) => Claim::Acquired(token),
            (false, true) => Claim::Done,
            (false, false) => Claim::InProgress,
        })
    }

    async fn complete(
        &self,
        key: &str,
        token: &LeaseToken,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.with_token(COMPLETE, key, token, Some(ttl)).await
    }

    async fn release(&self, key: &str, token: &LeaseToken) -> Result<(), StoreError> {
        self.with_token(RELEASE, key, token, None).await
    }

    async fn renew(
        &self,
        key: &str,
        token: &LeaseToken,
        lease: Duration,
    ) -> Result<(), StoreError> {
        self.with_token(RENEW, key, token, Some(lease)).await
    }
}

impl PgIdempotencyStore {
    /// Runs one of the statements that act only while `token` holds `key` (`$1` key, `$2`
    /// token, `$3` seconds if given); no row changed means the lease was lost.
    async fn with_token(
        &self,
        sql: &'static str,
        key: &str,
        token: &LeaseToken,
        secs: Option<Duration>,
    ) -> Result<(), StoreError> {
        let mut query = sqlx::query(sql).bind(key).bind(&token.0);
        if let Some(d) = secs {
            query = query.bind(d.as_secs_f64());
        }
        let changed = query
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected();
        if changed == 1 {
            Ok(())
        } else {
            Err(StoreError::LeaseLost(key.to_owned()))
        }
    }
}
