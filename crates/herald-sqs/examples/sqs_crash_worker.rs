//! A worker process for the crash test (tests/crash.rs), which kills it with SIGKILL in the
//! middle of a stream and starts it again.
//!
//! It consumes the SQS queue `HERALD_CRASH_QUEUE` (at `HERALD_SQS_ENDPOINT`, default moto on
//! 127.0.0.1:4566) and, for each `test.ping` event, inserts one row into the table `effects`
//! of the database at `HERALD_CRASH_DB_URL`, through the PostgreSQL transactional handler
//! (the effect and the processed key commit together), with the PostgreSQL idempotency
//! store for claims. It stops cleanly on SIGTERM or SIGINT.

use std::sync::Arc;
use std::time::Duration;

use herald_core::{Context, Event, HandlerError, Worker};
use herald_postgres::{PgIdempotencyStore, Transactional, TransactionalHandler};
use herald_sqs::Sqs;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, Transaction};

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
struct Ping {
    seq: u64,
    note: String,
}

impl Event for Ping {
    const NAME: &'static str = "test.ping";
    const VERSION: u32 = 1;
    fn aggregate_id(&self) -> String {
        format!("agg-{}", self.seq % 7)
    }
}

struct RecordEffect;

#[herald_core::async_trait]
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

async fn terminated() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let endpoint =
        std::env::var("HERALD_SQS_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:4566".to_owned());
    let queue = std::env::var("HERALD_CRASH_QUEUE")?;
    let db = std::env::var("HERALD_CRASH_DB_URL")?;

    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(12)
        .connect(&db)
        .await?;
    herald_postgres::migrate(&pool).await?;
    let sqs = Sqs::local(&endpoint, Duration::from_secs(30));
    // A short visibility: what the killed worker held comes back 3 s after its last
    // heartbeat.
    let subscriber = sqs
        .subscriber(&queue)
        .wait_time(Duration::from_secs(1))
        .visibility_timeout(Duration::from_secs(3))
        .build()
        .await?;

    let worker = Worker::builder()
        .handler(Transactional::new(RecordEffect, pool.clone()))
        .idempotency_store(Arc::new(PgIdempotencyStore::new(pool.clone())))
        .concurrency(8)
        .in_progress_delay(Duration::from_millis(500))
        .build();
    let metrics = worker.metrics();
    eprintln!("sqs_crash_worker {} consuming {queue}", std::process::id());
    let report = worker.run(subscriber, terminated()).await;
    eprintln!(
        "sqs_crash_worker {} stopped: {report:?}; {:?}",
        std::process::id(),
        metrics.snapshot()
    );
    Ok(())
}
