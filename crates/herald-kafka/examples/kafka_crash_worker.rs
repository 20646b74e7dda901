//! A worker process for the crash test (tests/crash.rs), which kills it with SIGKILL in the
//! middle of a stream and starts it again.
//!
//! It consumes `HERALD_CRASH_TOPIC` in group `HERALD_CRASH_GROUP` and, for each
//! `test.step` event, adds one to the field `<seq>` of the Redis hash
//! `HERALD_CRASH_EFFECTS`, with the Redis idempotency store for claims. It stops cleanly
//! on SIGTERM or SIGINT and then prints its counters.

use std::sync::Arc;
use std::time::Duration;

use herald_core::{Context, Event, Handler, HandlerError, Worker};
use herald_kafka::{KafkaConfig, KafkaSubscriber};
use herald_redis::RedisIdempotencyStore;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
struct Step {
    key: String,
    seq: u32,
}

impl Event for Step {
    const NAME: &'static str = "test.step";
    const VERSION: u32 = 1;
    fn aggregate_id(&self) -> String {
        self.key.clone()
    }
    fn idempotency_key(&self) -> Option<String> {
        Some(format!("{}/{}", self.key, self.seq))
    }
}

struct CountEffect {
    redis: redis::aio::ConnectionManager,
    hash: String,
}

#[herald_core::async_trait]
impl Handler for CountEffect {
    type Event = Step;

    fn name(&self) -> &'static str {
        "count-effect"
    }

    // Short, so that the claims of a killed worker expire soon after its restart.
    fn lease(&self) -> Duration {
        Duration::from_secs(3)
    }

    async fn handle(&self, step: Step, _ctx: &Context) -> Result<(), HandlerError> {
        // Some work, so that the kill lands among running handlers.
        tokio::time::sleep(Duration::from_millis(3)).await;
        let mut redis = self.redis.clone();
        let _: i64 = redis
            .hincr(&self.hash, step.seq, 1)
            .await
            .map_err(HandlerError::retryable)?;
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
    let brokers =
        std::env::var("HERALD_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_owned());
    let redis_url =
        std::env::var("HERALD_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let topic = std::env::var("HERALD_CRASH_TOPIC")?;
    let group = std::env::var("HERALD_CRASH_GROUP")?;
    let hash = std::env::var("HERALD_CRASH_EFFECTS")?;

    let redis = redis::Client::open(redis_url.as_str())?
        .get_connection_manager()
        .await?;
    let store = RedisIdempotencyStore::connect(&redis_url)
        .await?
        .with_prefix(format!("{hash}:claims"));
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut kafka = KafkaConfig::new(brokers);
    if let Ok(debug) = std::env::var("HERALD_KAFKA_DEBUG")
        && !debug.is_empty()
    {
        kafka = kafka.set("debug", debug);
    }
    let subscriber = KafkaSubscriber::builder(&kafka, group)
        .topic(&topic)
        .session_timeout(Duration::from_secs(6))
        .build()?;
    let worker = Worker::builder()
        .handler(CountEffect { redis, hash })
        .idempotency_store(Arc::new(store))
        .concurrency(8)
        .in_progress_delay(Duration::from_millis(500))
        .build();
    let metrics = worker.metrics();
    eprintln!(
        "kafka_crash_worker {} consuming {topic}",
        std::process::id()
    );
    let report = worker.run(subscriber, terminated()).await;
    println!(
        "{}",
        serde_json::to_string(&Stats::from(metrics.snapshot()))?
    );
    eprintln!(
        "kafka_crash_worker {} stopped: {report:?}",
        std::process::id()
    );
    Ok(())
}

/// What the test reads from the worker's output.
#[derive(Serialize)]
struct Stats {
    processed: u64,
    duplicates_skipped: u64,
}

impl From<herald_core::WorkerStats> for Stats {
    fn from(s: herald_core::WorkerStats) -> Self {
        Stats {
            processed: s.processed,
            duplicates_skipped: s.duplicates_skipped,
        }
    }
}
