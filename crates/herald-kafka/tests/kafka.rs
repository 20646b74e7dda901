//! herald-kafka against a real Kafka-API broker (tansu; see `scripts/services`), beyond the
//! transport conformance suite (tests/conformance.rs): the retry topics' levels, retries
//! that block their key, a rebalance between two workers, a malformed record.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering as AtomicOrdering;
use std::time::Duration;

use common::*;
use herald_core::{MemoryIdempotencyStore, Worker, headers};
use herald_kafka::dlq::{self, Selection};
use herald_kafka::{KafkaSubscriber, RetryStrategy, topics};

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
}

async fn publish_steps(topic: &str, keys: usize, steps: u32) {
    let producer = producer(topic);
    // Keys interleaved, each key's steps in order: one at a time per key, keys at once.
    let sends = (0..keys).map(|k| {
        let producer = producer.clone();
        async move {
            for seq in 0..steps {
                producer
                    .publish(Step {
                        key: format!("key-{k}"),
                        seq,
                    })
                    .await
                    .expect("publish");
            }
        }
    });
    futures::future::join_all(sends).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poison_event_goes_through_the_retry_topics_to_the_dlq_and_replays() {
    init_tracing();
    let topic = topic("poison", 2).await;
    let probe = Probe::new();
    probe.broken.store(true, AtomicOrdering::SeqCst);
    probe
        .poison
        .lock()
        .expect("lock")
        .insert(("key-0".into(), 1));
    publish_steps(&topic, 2, 4).await;

    let group = unique("group");
    let subscriber = KafkaSubscriber::builder(&config(), &group)
        .topic(&topic)
        .retry_topics(2)
        .build()
        .expect("subscriber");
    let store = Arc::new(MemoryIdempotencyStore::new());
    let worker = Worker::builder()
        .handler(Record::new(4))
        .extension(probe.clone())
        .idempotency_store(store.clone())
        .build();
    let metrics = worker.metrics();
    let (stop, run) = spawn_worker(worker, subscriber);

    wait_for(Duration::from_secs(60), "the dead letter", || {
        metrics.snapshot().dead_lettered == 1
    })
    .await;
    // Retries do not block the key: its later steps went on meanwhile.
    assert_eq!(probe.done_count(), 7);
    assert_eq!(
        probe.done.lock().expect("lock")["key-0"],
        vec![0, 2, 3],
        "later steps of the key were not held back"
    );
    // Attempt 1 failed -> retry.1, attempt 2 -> retry.2, attempt 3 -> retry.2 (the last
    // level takes the rest), attempt 4 -> DLQ.
    let runs: Vec<u32> = probe
        .runs
        .lock()
        .expect("lock")
        .iter()
        .filter(|(k, s, _)| k == "key-0" && *s == 1)
        .map(|r| r.2)
        .collect();
    assert_eq!(runs, vec![1, 2, 3, 4]);
    assert_eq!(records_in(&topics::retry_topic(&topic, 1)), 1);
    assert_eq!(records_in(&topics::retry_topic(&topic, 2)), 2);
    assert_eq!(records_in(&topics::dlq_topic(&topic)), 1);

    let dead = dlq::list(&config(), &topic, &Selection::all())
        .await
        .expect("list");
    assert_eq!(dead.len(), 1);
    let d = &dead[0];
    assert_eq!(d.origin, topic, "origin is the topic, not a retry topic");
    assert_eq!(d.attempts, Some(4));
    assert_eq!(d.handler.as_deref(), Some("record"));
    assert_eq!(d.event_type.as_deref(), Some("test.step"));
    assert!(
        d.reason.as_deref().unwrap_or("").contains("poison"),
        "{d:?}"
    );
    assert_eq!(
        d.headers.get(headers::PERMANENT).map(String::as_str),
        Some("false")
    );

    // Fixed: replay, and the same worker processes it as a first attempt.
    probe.broken.store(false, AtomicOrdering::SeqCst);
    let report = dlq::replay(&config(), &topic, &Selection::all(), false)
        .await
        .expect("replay");
    assert_eq!(report.replayed, 1);
    wait_for(Duration::from_secs(30), "the replayed step", || {
        probe.done_count() == 8
    })
    .await;
    let last = probe.runs.lock().expect("lock").last().cloned();
    assert_eq!(last, Some(("key-0".into(), 1, 1)), "replayed as attempt 1");
    assert!(
        dlq::list(&config(), &topic, &Selection::all())
            .await
            .expect("list")
            .is_empty(),
        "nothing left to replay"
    );
    let again = dlq::replay(&config(), &topic, &Selection::all(), false)
        .await
        .expect("replay");
    assert_eq!(again.replayed, 0, "a second replay sends nothing again");
    stop.send(()).ok();
    run.await.expect("worker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn block_key_retries_in_place_and_keeps_the_key_in_order() {
    init_tracing();
    let topic = topic("block", 2).await;
    let probe = Probe::new();
    probe
        .flaky
        .lock()
        .expect("lock")
        .insert(("key-0".into(), 1), 2);
    publish_steps(&topic, 3, 5).await;

    let subscriber = KafkaSubscriber::builder(&config(), unique("group"))
        .topic(&topic)
        .retry_strategy(RetryStrategy::BlockKey)
        .build()
        .expect("subscriber");
    let worker = Worker::builder()
        .handler(Record::new(5))
        .extension(probe.clone())
        .concurrency(8)
        .build();
    let (stop, run) = spawn_worker(worker, subscriber);
    wait_for(Duration::from_secs(60), "every step", || {
        probe.done_count() == 15
    })
    .await;
    stop.send(()).ok();
    run.await.expect("worker");
    for (key, seqs) in probe.done.lock().expect("lock").iter() {
        assert_eq!(*seqs, vec![0, 1, 2, 3, 4], "order of {key} across retries");
    }
    assert_eq!(
        records_in(&topics::retry_topic(&topic, 1)),
        0,
        "no retry topic used"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_worker_joining_and_the_first_leaving_lose_nothing() {
    init_tracing();
    const KEYS: usize = 16;
    const STEPS: u32 = 25;
    let topic = topic("rebalance", 8).await;
    publish_steps(&topic, KEYS, STEPS).await;
    let group = unique("group");
    let probe = Probe::new();
    *probe.work.lock().expect("lock") = Duration::from_millis(10);
    // One store for both workers, as Redis or PostgreSQL would be for two processes.
    let store = Arc::new(MemoryIdempotencyStore::new());
    let start = |probe: Arc<Probe>| {
        let subscriber = KafkaSubscriber::builder(&config(), &group)
            .topic(&topic)
            .session_timeout(Duration::from_secs(6))
            .build()
            .expect("subscriber");
        let worker = Worker::builder()
            .handler(Record::new(3))
            .extension(probe)
            .idempotency_store(store.clone())
            .concurrency(8)
            .build();
        let metrics = worker.metrics();
        let (stop, run) = spawn_worker(worker, subscriber);
        (stop, metrics, run)
    };
    let total = KEYS * STEPS as usize;
    let (stop_a, metrics_a, run_a) = start(probe.clone());
    wait_for(Duration::from_secs(60), "a quarter", || {
        probe.done_count() >= total / 4
    })
    .await;
    let (stop_b, metrics_b, run_b) = start(probe.clone());
    wait_for(Duration::from_secs(60), "half", || {
        probe.done_count() >= total / 2
    })
    .await;
    stop_a.send(()).ok();
    run_a.await.expect("worker a");
    wait_for(Duration::from_secs(90), "every step", || {
        probe.distinct_done() == total
    })
    .await;
    stop_b.send(()).ok();
    run_b.await.expect("worker b");

    let (a, b) = (metrics_a.snapshot(), metrics_b.snapshot());
    assert!(b.processed > 0, "the second worker took partitions: {b:?}");
    assert_eq!(a.dead_lettered + b.dead_lettered, 0);
    // Whatever was handed over twice was absorbed, never run to success twice.
    assert_eq!(probe.done_count(), total, "no step succeeded twice");
    let (committed, ends) = committed_and_ends(&group, &topic);
    assert_eq!(committed, ends, "everything committed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_malformed_record_is_dead_lettered_intact_and_the_stream_goes_on() {
    init_tracing();
    let topic = topic("malformed", 1).await;
    let publisher = herald_kafka::KafkaPublisher::new(&config()).expect("publisher");
    publisher
        .send(
            &topic,
            Some("key-0"),
            &Default::default(),
            b"\x01not json at all",
        )
        .await
        .expect("send garbage");
    publish_steps(&topic, 1, 3).await;

    let probe = Probe::new();
    let subscriber = KafkaSubscriber::builder(&config(), unique("group"))
        .topic(&topic)
        .build()
        .expect("subscriber");
    let worker = Worker::builder()
        .handler(Record::new(3))
        .extension(probe.clone())
        .build();
    let metrics = worker.metrics();
    let (stop, run) = spawn_worker(worker, subscriber);
    wait_for(Duration::from_secs(30), "the three good steps", || {
        probe.done_count() == 3 && metrics.snapshot().dead_lettered == 1
    })
    .await;
    stop.send(()).ok();
    run.await.expect("worker");

    let dead = dlq::list(&config(), &topic, &Selection::all())
        .await
        .expect("list");
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].payload, b"\x01not json at all",
        "kept byte for byte"
    );
    assert_eq!(
        dead[0].headers.get(headers::PERMANENT).map(String::as_str),
        Some("true"),
        "a record that does not decode never will: no retries"
    );
    assert!(dead[0].reason.is_some(), "{:?}", dead[0]);
}
