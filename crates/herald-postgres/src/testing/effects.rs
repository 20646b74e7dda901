//! What every transport's SIGKILL crash test runs in its worker process: a `test.ping` event
//! whose handler inserts one row into `effects` inside the transactional handler's
//! transaction, so "exactly one row per event" proves exactly-once effects.

use std::sync::Arc;
use std::time::Duration;

use herald_core::{Context, Event, HandlerError, Worker};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, Transaction};

use crate::{PgIdempotencyStore, Transactional, TransactionalHandler};

/// The crash tests' event: step `seq` of a stream.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ping {
    pub seq: u64,
    pub note: String,
}

impl Event for Ping {
    const NAME: &'static str = "test.ping";
    const VERSION: u32 = 1;
    fn aggregate_id(&self) -> String {
        format!("agg-{}", self.seq % 7)
    }
}

impl Ping {
    pub fn new(seq: u64) -> Self {
        Ping {
            seq,
            note: "x".repeat(32),
        }
    }
}

/// Inserts one `effects` row per event, in the transaction that also marks it processed.
#[derive(Debug)]
pub struct RecordEffect;

#[async_trait::async_trait]
impl TransactionalHandler for RecordEffect {
    type Event = Ping;

    fn name(&self) -> &'static str {
        "record-effect"
    }

    // Short, so that the claims of a killed worker expire soon after its restart.
    fn lease(&self) -> Duration {
        Duration::from_secs(3)
    }

    async fn handle(
        &self,
        event: Ping,
        _ctx: &Context,
        tx: &mut Transaction<'_, Postgres>,
    ) -> Result<(), HandlerError> {
        sqlx::query("INSERT INTO effects (seq, pid) VALUES ($1, $2)")
            .bind(i64::try_from(event.seq).map_err(HandlerError::permanent)?)
            .bind(i32::try_from(std::process::id()).unwrap_or(0))
            .execute(&mut **tx)
            .await?;
        // Some work, so that a kill lands between commits and acks.
        tokio::time::sleep(Duration::from_millis(3)).await;
        Ok(())
    }
}

/// The worker a crash test's process runs: [`RecordEffect`] through [`Transactional`], claims
/// in the PostgreSQL store, 8 at a time.
pub async fn effect_worker(pool: PgPool) -> Result<Worker, sqlx::Error> {
    crate::migrate(&pool).await?;
    Ok(Worker::builder()
        .handler(Transactional::new(RecordEffect, pool.clone()))
        .idempotency_store(Arc::new(PgIdempotencyStore::new(pool)))
        .concurrency(8)
        .in_progress_delay(Duration::from_millis(500))
        .build())
}

/// Creates the `effects` table.
pub async fn create_effects_table(pool: &PgPool) {
    sqlx::query(
        "CREATE TABLE effects (id BIGSERIAL PRIMARY KEY, seq BIGINT NOT NULL, pid INT NOT NULL)",
    )
    .execute(pool)
    .await
    .expect("effects table");
}

/// `(rows, distinct events)` in `effects`: equal when no event had its effect twice.
pub async fn count_effects(pool: &PgPool) -> (i64, i64) {
    sqlx::query_as("SELECT count(*), count(DISTINCT seq) FROM effects")
        .fetch_one(pool)
        .await
        .expect("count effects")
}

/// Whether `events` keys are processed and no claim is still held: the crashed worker's
/// leftovers have all been settled.
pub async fn claims_settled(pool: &PgPool, events: u64) -> bool {
    let (processed, held): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM herald_processed_keys),
                (SELECT count(*) FROM herald_idempotency_keys WHERE NOT done)",
    )
    .fetch_one(pool)
    .await
    .expect("processed keys and held claims");
    u64::try_from(processed).ok() == Some(events) && held == 0
}
