//! A worker process killed with SIGKILL in the middle of 1,000 messages, then restarted:
//! every message is processed, and with the PostgreSQL transactional handler there are
//! exactly 1,000 effect rows. Real RabbitMQ and PostgreSQL; the worker is the example
//! `crash_worker` (tests/fixtures/crash_worker.rs, an example target so `cargo test` builds it).

mod common;

use std::process::{Child, Command, Stdio};

use herald_core::testing::{example_binary, kill_mid_stream_and_restart};
use std::time::Duration;

use common::*;
use herald_amqp::{Queue, Topology};
use herald_postgres::testing::TestDatabase;

const MESSAGES: u64 = 1_000;

fn spawn_worker(queue: &str, db_url: &str) -> Child {
    Command::new(example_binary("crash_worker"))
        .env("HERALD_AMQP_URL", amqp_url())
        .env("HERALD_CRASH_QUEUE", queue)
        .env("HERALD_CRASH_DB_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn crash_worker")
}

async fn effects(db: &TestDatabase) -> (i64, i64) {
    sqlx::query_as("SELECT count(*), count(DISTINCT seq) FROM effects")
        .fetch_one(&db.pool)
        .await
        .expect("count effects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_stream_and_restarted_processes_every_message_exactly_once() {
    let db = TestDatabase::create().await;
    sqlx::query(
        "CREATE TABLE effects (id BIGSERIAL PRIMARY KEY, seq BIGINT NOT NULL, pid INT NOT NULL)",
    )
    .execute(&db.pool)
    .await
    .expect("effects table");
    let queue = unique("crash");
    let _cleanup = Cleanup::default()
        .queue(&queue)
        .retry(&queue, Duration::from_millis(500));
    let amqp = connect(Topology::new().queue(Queue::new(&queue))).await;
    for seq in 0..MESSAGES {
        send_to_queue(&amqp, &queue, ping(seq)).await;
    }
    assert_eq!(u64::from(ready(&queue).await), MESSAGES);

    let (_, second) = kill_mid_stream_and_restart(
        || spawn_worker(&queue, &db.url),
        || async { effects(&db).await.1 as u64 },
        300,
        MESSAGES,
        Duration::ZERO,
    )
    .await;
    // Let redelivered duplicates (claims of the killed worker expire after 3 s) come
    // through, then look again: still one effect per message, and nothing left over.
    let mut settled = false;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if ready(&queue).await == 0 {
            let processed: i64 = sqlx::query_scalar("SELECT count(*) FROM herald_processed_keys")
                .fetch_one(&db.pool)
                .await
                .expect("processed keys");
            let held: i64 =
                sqlx::query_scalar("SELECT count(*) FROM herald_idempotency_keys WHERE NOT done")
                    .fetch_one(&db.pool)
                    .await
                    .expect("held claims");
            if processed == MESSAGES as i64 && held == 0 {
                settled = true;
                break;
            }
        }
    }
    // Graceful stop: SIGTERM, then the worker drains and closes.
    let _ = second.terminate();
    assert!(settled, "every claim completed and the queue drained");
    assert_eq!(
        effects(&db).await,
        (MESSAGES as i64, MESSAGES as i64),
        "exactly one effect row per message"
    );
    assert_eq!(ready(&queue).await, 0);
    amqp.close().await.expect("close");
    db.drop_database().await;
}
