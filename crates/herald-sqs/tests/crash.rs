//! A worker process killed with SIGKILL in the middle of 1,000 messages, then restarted:
//! every message is processed, and with the PostgreSQL transactional handler there are
//! exactly 1,000 effect rows. Real SQS API (moto) and PostgreSQL; the worker is the example
//! `sqs_crash_worker` (built by `cargo test`, which builds the package's examples; named
//! apart from herald-amqp's `crash_worker`, since examples of one workspace share a directory).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use common::{endpoint, queue, sqs};
use herald_core::dead_letters::{DeadLetters, Selection};
use herald_core::testing::{Reaper, example_binary};
use herald_core::{Envelope, Event, Producer};
use herald_postgres::testing::TestDatabase;
use herald_sqs::{QueueOptions, Sqs};
use serde::{Deserialize, Serialize};

const MESSAGES: u64 = 1_000;

/// The worker's event (examples/sqs_crash_worker.rs has the same).
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

fn spawn_worker(queue: &str, db_url: &str) -> Child {
    Command::new(example_binary("sqs_crash_worker"))
        .env("HERALD_SQS_ENDPOINT", endpoint())
        .env("HERALD_CRASH_QUEUE", queue)
        .env("HERALD_CRASH_DB_URL", db_url)
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn sqs_crash_worker")
}

async fn effects(db: &TestDatabase) -> (i64, i64) {
    sqlx::query_as("SELECT count(*), count(DISTINCT seq) FROM effects")
        .fetch_one(&db.pool)
        .await
        .expect("count effects")
}

/// Messages in the queue, visible or in flight (SQS's approximate counts; exact on moto).
async fn in_queue(sqs: &Sqs, queue: &str) -> u64 {
    let url = sqs.queue_url(queue).await.expect("url");
    let attributes = sqs
        .client()
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .unwrap_or_default();
    attributes
        .values()
        .map(|n| n.parse::<u64>().expect("a count"))
        .sum()
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
    let sqs = sqs();
    let queue = queue(&sqs, "crash", &QueueOptions::default()).await;
    let producer = Producer::new(sqs.publisher()).route(Ping::NAME, &queue);
    let batch: Vec<_> = (0..MESSAGES)
        .map(|seq| {
            let ping = Ping {
                seq,
                note: "x".repeat(64),
            };
            producer.message(&Envelope::new(ping)).expect("encode")
        })
        .collect();
    sqs.publisher()
        .publish_batch(&batch)
        .await
        .expect("publish 1,000");
    assert_eq!(in_queue(&sqs, &queue).await, MESSAGES);

    // First worker: kill it hard once a good part of the stream is through.
    let mut first = Reaper::new(spawn_worker(&queue, &db.url));
    let mut at_kill = (0, 0);
    for _ in 0..2400 {
        at_kill = effects(&db).await;
        if at_kill.0 >= 300 {
            break;
        }
        if let Ok(Some(status)) = first.child().try_wait() {
            panic!("sqs_crash_worker exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    first.child().kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    let status = first.child().wait().expect("wait");
    assert!(!status.success(), "killed, not exited: {status}");
    let after_kill = effects(&db).await;
    assert!(
        after_kill.0 >= 300 && after_kill.0 < MESSAGES as i64,
        "the kill must land mid-stream: {after_kill:?} effects"
    );
    eprintln!("killed the first worker at {after_kill:?} effects (seen {at_kill:?} just before)");

    // Second worker: gets what the first held once its visibility ends, and the rest.
    let mut second = Reaper::new(spawn_worker(&queue, &db.url));
    let mut done = (0, 0);
    for _ in 0..2400 {
        done = effects(&db).await;
        if done.1 == MESSAGES as i64 {
            break;
        }
        if let Ok(Some(status)) = second.child().try_wait() {
            panic!("sqs_crash_worker exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(done.1, MESSAGES as i64, "every message processed");
    // Let redelivered duplicates (the killed worker's claims expire after 3 s, its
    // messages come back 3 s after its last heartbeat) come through, then look again.
    let mut settled = false;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if in_queue(&sqs, &queue).await == 0 {
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
    let pid = second.child().id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    for _ in 0..200 {
        if second.child().try_wait().ok().flatten().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(settled, "every claim completed and the queue drained");
    assert_eq!(
        effects(&db).await,
        (MESSAGES as i64, MESSAGES as i64),
        "exactly one effect row per message"
    );
    assert_eq!(in_queue(&sqs, &queue).await, 0);
    let dead = sqs
        .dead_letters()
        .list(&queue, &Selection::all())
        .await
        .expect("list");
    assert!(dead.is_empty(), "nothing dead-lettered: {dead:?}");
    db.drop_database().await;
}
