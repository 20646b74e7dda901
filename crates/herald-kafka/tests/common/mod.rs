//! Shared by the tests against the real Kafka-API broker (tansu on 127.0.0.1:9092, or
//! `HERALD_KAFKA_BROKERS`).
#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_core::{Context, Event, Handler, HandlerError, Jitter, Producer, RetryPolicy};
use herald_kafka::KafkaPublisher;
use serde::{Deserialize, Serialize};

#[allow(unused_imports)] // each test file uses some of them
pub use herald_kafka::testing::{brokers, config, config_at, topic, topic_at, unique};

pub mod private_broker;

pub fn producer(topic: &str) -> Producer {
    producer_at(&brokers(), topic)
}

/// [`producer`] for the broker at `brokers`.
pub fn producer_at(brokers: &str, topic: &str) -> Producer {
    Producer::new(KafkaPublisher::new(&config_at(brokers)).expect("publisher"))
        .route(Step::NAME, topic)
}

/// The test event: step `seq` of `key`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Step {
    pub key: String,
    pub seq: u32,
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

/// What the handler saw, and how it should fail.
#[derive(Default)]
pub struct Probe {
    /// Per key, the steps in the order their handler succeeded.
    pub done: Mutex<BTreeMap<String, Vec<u32>>>,
    /// Every run, successful or not: (key, seq, attempt).
    pub runs: Mutex<Vec<(String, u32, u32)>>,
    /// Steps that fail while `broken` is set.
    pub poison: Mutex<HashSet<(String, u32)>>,
    pub broken: AtomicBool,
    /// Steps that fail on their first `n` attempts.
    pub flaky: Mutex<BTreeMap<(String, u32), u32>>,
    /// Steps that panic on their first `n` attempts.
    pub panicky: Mutex<BTreeMap<(String, u32), u32>>,
    /// How long each run takes.
    pub work: Mutex<Duration>,
    running: AtomicUsize,
    pub max_running: AtomicUsize,
}

impl Probe {
    pub fn new() -> Arc<Self> {
        Arc::new(Probe::default())
    }

    pub fn done_count(&self) -> usize {
        self.done.lock().expect("lock").values().map(Vec::len).sum()
    }

    pub fn distinct_done(&self) -> usize {
        self.done
            .lock()
            .expect("lock")
            .iter()
            .flat_map(|(k, v)| v.iter().map(move |s| (k.clone(), *s)))
            .collect::<HashSet<_>>()
            .len()
    }
}

/// Records each step in the [`Probe`] (an extension of the worker).
pub struct Record {
    pub policy: RetryPolicy,
}

impl Record {
    /// Retries quickly: `attempts` in all, 100 ms apart (no jitter).
    pub fn new(attempts: u32) -> Self {
        Record {
            policy: RetryPolicy {
                max_attempts: attempts,
                initial_delay: Duration::from_millis(100),
                multiplier: 1.0,
                max_delay: Duration::from_millis(100),
                jitter: Jitter::None,
            },
        }
    }
}

#[herald_core::async_trait]
impl Handler for Record {
    type Event = Step;

    fn name(&self) -> &'static str {
        "record"
    }

    fn retry_policy(&self) -> RetryPolicy {
        self.policy.clone()
    }

    async fn handle(&self, step: Step, ctx: &Context) -> Result<(), HandlerError> {
        let probe = ctx.extension::<Arc<Probe>>().expect("probe");
        let now = probe.running.fetch_add(1, Ordering::SeqCst) + 1;
        probe.max_running.fetch_max(now, Ordering::SeqCst);
        let work = *probe.work.lock().expect("lock");
        if !work.is_zero() {
            tokio::time::sleep(work).await;
        }
        probe.running.fetch_sub(1, Ordering::SeqCst);
        let id = (step.key.clone(), step.seq);
        probe
            .runs
            .lock()
            .expect("lock")
            .push((step.key.clone(), step.seq, ctx.attempt()));
        if probe.broken.load(Ordering::SeqCst) && probe.poison.lock().expect("lock").contains(&id) {
            return Err(HandlerError::retryable(format!(
                "step {}/{} is poison",
                id.0, id.1
            )));
        }
        let panics = probe
            .panicky
            .lock()
            .expect("lock")
            .get(&id)
            .is_some_and(|n| ctx.attempt() <= *n);
        if panics {
            panic!("step {}/{} blew up", id.0, id.1);
        }
        if let Some(n) = probe.flaky.lock().expect("lock").get(&id)
            && ctx.attempt() <= *n
        {
            return Err(HandlerError::retryable("flaky"));
        }
        probe
            .done
            .lock()
            .expect("lock")
            .entry(step.key)
            .or_default()
            .push(step.seq);
        Ok(())
    }
}

#[allow(unused_imports)] // each test file uses some of them
pub use herald_core::testing::{spawn_worker, wait_for};

/// The committed offsets of `group` on `topic`, and the end of each partition (one past
/// its last record).
///
/// The ends are found by reading the topic, not from the broker's high watermarks: tansu
/// reports the last batch's base offset + 1 as the high watermark, short of the end.
pub fn committed_and_ends(group: &str, topic: &str) -> (BTreeMap<i32, i64>, BTreeMap<i32, i64>) {
    committed_and_ends_at(&brokers(), group, topic)
}

/// [`committed_and_ends`] on the broker at `brokers`.
pub fn committed_and_ends_at(
    brokers: &str,
    group: &str,
    topic: &str,
) -> (BTreeMap<i32, i64>, BTreeMap<i32, i64>) {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .create()
        .expect("consumer");
    let timeout = Duration::from_secs(10);
    let md = c.fetch_metadata(Some(topic), timeout).expect("metadata");
    let mut list = rdkafka::TopicPartitionList::new();
    for p in md.topics()[0].partitions() {
        list.add_partition(topic, p.id());
    }
    let committed = c
        .committed_offsets(list, timeout)
        .expect("committed offsets")
        .elements()
        .iter()
        .map(|e| (e.partition(), e.offset().to_raw().unwrap_or(-1).max(0)))
        .collect();
    (committed, ends_at(brokers, topic))
}

/// One past the last record of each partition of `topic`, found by reading it all.
pub fn ends(topic: &str) -> BTreeMap<i32, i64> {
    ends_at(&brokers(), topic)
}

/// [`ends`] on the broker at `brokers`.
pub fn ends_at(brokers: &str, topic: &str) -> BTreeMap<i32, i64> {
    use rdkafka::Message;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata");
    let mut ends: BTreeMap<i32, i64> = md.topics()[0]
        .partitions()
        .iter()
        .map(|p| (p.id(), 0))
        .collect();
    c.subscribe(&[topic]).expect("subscribe");
    // Until nothing came for a second (the first assignment takes a moment too).
    let mut idle_since = std::time::Instant::now();
    while idle_since.elapsed() < Duration::from_secs(2) {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
            ends.insert(m.partition(), m.offset() + 1);
            idle_since = std::time::Instant::now();
        }
    }
    ends
}

/// The number of records in `topic`.
pub fn records_in(topic: &str) -> i64 {
    ends(topic).values().sum()
}
