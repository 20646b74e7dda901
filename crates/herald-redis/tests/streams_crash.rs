//! A worker process killed with SIGKILL in the middle of 1,000 events on a Redis stream,
//! then restarted: every event is processed, and with the PostgreSQL transactional handler
//! there are exactly 1,000 effect rows. Real Redis and PostgreSQL; the worker is
//! `redis_crash_worker` (tests/fixtures/redis_crash_worker.rs, an example target so that
//! `cargo test -p herald-redis --features streams` builds it).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use herald_core::testing::{example_binary, kill_mid_stream_and_restart};
use herald_core::{Event, Producer};
use herald_postgres::testing::TestDatabase;
use serde::{Deserialize, Serialize};

const EVENTS: u64 = 1_000;

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

fn spawn_worker(stream: &str, db_url: &str) -> Child {
    Command::new(example_binary("redis_crash_worker"))
        .env("HERALD_REDIS_URL", redis_url())
        .env("HERALD_CRASH_STREAM", stream)
        .env("HERALD_CRASH_DB_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn redis_crash_worker")
}

async fn effects(db: &TestDatabase) -> (i64, i64) {
    sqlx::query_as("SELECT count(*), count(DISTINCT seq) FROM effects")
        .fetch_one(&db.pool)
        .await
        .expect("count effects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_stream_and_restarted_processes_every_event_exactly_once() {
    let db = TestDatabase::create().await;
    sqlx::query(
        "CREATE TABLE effects (id BIGSERIAL PRIMARY KEY, seq BIGINT NOT NULL, pid INT NOT NULL)",
    )
    .execute(&db.pool)
    .await
    .expect("effects table");
    let redis = connect().await;
    let stream = unique("crash");
    let producer = Producer::new(redis.publisher()).route(Ping::NAME, &stream);
    for seq in 0..EVENTS {
        let note = "x".repeat(32);
        producer.publish(Ping { seq, note }).await.expect("publish");
    }
    assert_eq!(xlen(&redis, &stream).await, EVENTS);

    // Kill the first worker once a good part of the stream is through; the second takes over
    // the killed one's pending entries and reads the rest.
    let (after_kill, second) = kill_mid_stream_and_restart(
        || spawn_worker(&stream, &db.url),
        || async { effects(&db).await.1 as u64 },
        300,
        EVENTS,
        Duration::ZERO,
    )
    .await;
    eprintln!("killed the first worker at {after_kill} effects");

    // Then every entry is acked and every claim completed.
    let mut settled = false;
    for _ in 0..1200 {
        let done = effects(&db).await;
        let lag = redis.lag(&stream, "crash").await.expect("lag");
        let held: i64 =
            sqlx::query_scalar("SELECT count(*) FROM herald_idempotency_keys WHERE NOT done")
                .fetch_one(&db.pool)
                .await
                .expect("held claims");
        let retrying: u64 = cmd(&redis, redis::cmd("ZCARD").arg(format!("{stream}.retry"))).await;
        if done.1 == EVENTS as i64
            && lag.pending == 0
            && lag.lag == Some(0)
            && held == 0
            && retrying == 0
        {
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = second.terminate();
    assert!(
        settled,
        "every entry acked, every claim completed: {:?}",
        effects(&db).await
    );
    assert_eq!(
        effects(&db).await,
        (EVENTS as i64, EVENTS as i64),
        "exactly one effect row per event"
    );
    let dead = xlen(&redis, &format!("{stream}.dlq")).await;
    assert_eq!(dead, 0, "nothing dead-lettered");
    forget(&redis, &stream).await;
    db.drop_database().await;
}
