//! Throughput through herald against raw rdkafka, measured in the same run against the
//! real broker (tansu on 127.0.0.1:9092, or `HERALD_KAFKA_BROKERS`).
//!
//! `cargo bench -p herald-kafka --bench throughput` (`HERALD_BENCH_EVENTS` sets the event
//! count, default 20000; `HERALD_BENCH_ROUNDS` the rounds, default 3).
//!
//! Both sides send the same records (a herald JSON envelope of about 300 bytes, the same
//! key and headers), each built when it is sent by the same code, with the same producer
//! settings (acks=all, idempotence, linger 5 ms, lz4) and 1,000 sends in flight, from a
//! producer started and warmed (2,000 sends each) before the clock starts. Both consume an 8-partition topic in a fresh group:
//! the raw consumer polls, decodes each envelope, stores its offset and commits every
//! 200 ms (process, then commit); herald's worker runs a no-op handler with concurrency
//! 64, the in-memory idempotency store, per-key ordering and commits past contiguous
//! completions.

use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use herald_core::{
    Context, Envelope, Event, Handler, HandlerError, OutgoingMessage, Producer, Worker,
};
use herald_kafka::{KafkaConfig, KafkaPublisher, KafkaSubscriber};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::{Deserialize, Serialize};

const IN_FLIGHT: usize = 1000;

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
struct Tick {
    seq: u64,
    note: String,
}

impl Event for Tick {
    const NAME: &'static str = "bench.tick";
    const VERSION: u32 = 1;
    fn aggregate_id(&self) -> String {
        format!("agg-{}", self.seq % 256)
    }
}

fn tick(seq: u64) -> Tick {
    Tick {
        seq,
        note: "x".repeat(60),
    }
}

struct Noop;

#[herald_core::async_trait]
impl Handler for Noop {
    type Event = Tick;
    fn name(&self) -> &'static str {
        "noop"
    }
    async fn handle(&self, _: Tick, _: &Context) -> Result<(), HandlerError> {
        Ok(())
    }
}

fn brokers() -> String {
    std::env::var("HERALD_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_owned())
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn unique(what: &str) -> String {
    format!(
        "herald-bench.{what}.{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// What a hand-written rdkafka producer of the same events would send: herald's Producer
/// only builds each message (envelope, JSON, key, headers), the same code on both sides.
struct NullPublisher;

#[herald_core::async_trait]
impl herald_core::Publisher for NullPublisher {
    async fn publish(&self, _: OutgoingMessage) -> Result<(), herald_core::TransportError> {
        Ok(())
    }
}

fn raw_producer(config: &KafkaConfig) -> FutureProducer {
    rdkafka::ClientConfig::new()
        .set("bootstrap.servers", config.brokers())
        .set("client.id", "herald-raw")
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("compression.type", "lz4")
        .set("message.timeout.ms", "30000")
        .create()
        .expect("producer")
}

/// Sends `n` events through the raw producer, each built when it is sent.
async fn produce_raw(producer: &FutureProducer, topic: &str, n: u64) -> Duration {
    let encoder = Producer::new(NullPublisher).route(Tick::NAME, topic);
    let started = Instant::now();
    let mut in_flight = FuturesUnordered::new();
    for seq in 0..n {
        if in_flight.len() >= IN_FLIGHT {
            in_flight.next().await;
        }
        let encoder = &encoder;
        in_flight.push(async move {
            let m = encoder.message(&Envelope::new(tick(seq))).expect("encode");
            let mut h = OwnedHeaders::new_with_capacity(m.headers.len());
            for (k, v) in &m.headers {
                h = h.insert(Header {
                    key: k,
                    value: Some(v.as_bytes()),
                });
            }
            let record = FutureRecord::to(&m.destination)
                .key(&m.key)
                .payload(&m.payload)
                .headers(h);
            producer
                .send(record, Duration::from_secs(5))
                .await
                .expect("raw send");
        });
    }
    while in_flight.next().await.is_some() {}
    started.elapsed()
}

/// Sends `n` events through herald's Producer over `publisher`.
async fn produce_herald(publisher: &KafkaPublisher, topic: &str, n: u64) -> Duration {
    let producer = Producer::new(publisher.clone()).route(Tick::NAME, topic);
    let started = Instant::now();
    let mut in_flight = FuturesUnordered::new();
    for seq in 0..n {
        if in_flight.len() >= IN_FLIGHT {
            in_flight.next().await;
        }
        let producer = &producer;
        in_flight.push(async move {
            producer.publish(tick(seq)).await.expect("herald publish");
        });
    }
    while in_flight.next().await.is_some() {}
    started.elapsed()
}

fn consume_raw(config: &KafkaConfig, topic: &str, n: u64) -> Duration {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", config.brokers())
        .set("group.id", unique("raw"))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let started = Instant::now();
    let mut seen = 0;
    let mut last_commit = Instant::now();
    while seen < n {
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(e)) => panic!("raw consumer: {e}"),
            Some(Ok(m)) => {
                let envelope =
                    Envelope::<Tick>::decode(m.payload().unwrap_or_default()).expect("decode");
                std::hint::black_box(envelope);
                consumer
                    .store_offset_from_message(&m)
                    .expect("store offset");
                seen += 1;
            }
        }
        if last_commit.elapsed() >= Duration::from_millis(200) {
            let _ = consumer.commit_consumer_state(CommitMode::Async);
            last_commit = Instant::now();
        }
    }
    consumer
        .commit_consumer_state(CommitMode::Sync)
        .expect("commit");
    started.elapsed()
}

async fn consume_herald(config: &KafkaConfig, topic: &str, n: u64) -> Duration {
    let subscriber = KafkaSubscriber::builder(config, unique("herald"))
        .topic(topic)
        .retry_topics(0)
        .build()
        .expect("subscriber");
    let worker = Worker::builder().handler(Noop).concurrency(64).build();
    let metrics = worker.metrics();
    let (stop, signal) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let run = tokio::spawn(worker.run(subscriber, async move {
        let _ = signal.await;
    }));
    while metrics.snapshot().processed < n {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    run.await.expect("worker");
    elapsed
}

/// How long a fresh producer takes to its first delivery (metadata, producer id), with extra
/// librdkafka properties from `HERALD_BENCH_START_SET` (`key=value,...`).
async fn start_up(config: &KafkaConfig) {
    let topic = unique("start");
    herald_kafka::create_topics(config, &topic, 8, 0)
        .await
        .expect("create topic");
    let mut took = Vec::new();
    for seq in 0..env_or("HERALD_BENCH_STARTS", 5) {
        let started = Instant::now();
        let mut c = rdkafka::ClientConfig::new();
        c.set("bootstrap.servers", config.brokers())
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("linger.ms", "5");
        for kv in std::env::var("HERALD_BENCH_START_SET")
            .unwrap_or_default()
            .split(',')
        {
            if let Some((k, v)) = kv.split_once('=') {
                c.set(k, v);
            }
        }
        let producer: FutureProducer = c.create().expect("producer");
        let payload = format!("start {seq}");
        producer
            .send(
                FutureRecord::<str, str>::to(&topic)
                    .key("k")
                    .payload(&payload),
                Duration::from_secs(5),
            )
            .await
            .expect("first send");
        took.push(started.elapsed());
    }
    println!("fresh producer to first delivery: {took:?}");
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = env_or("HERALD_BENCH_EVENTS", 20_000);
    let rounds = env_or("HERALD_BENCH_ROUNDS", 3);
    let mut config = KafkaConfig::new(brokers());
    // Extra librdkafka properties for herald's side, `key=value,key=value`.
    for kv in std::env::var("HERALD_BENCH_KAFKA_SET")
        .unwrap_or_default()
        .split(',')
    {
        if let Some((k, v)) = kv.split_once('=') {
            config = config.set(k, v);
        }
    }
    start_up(&config).await;
    let (mut p_raw, mut p_herald, mut c_raw, mut c_herald) = (vec![], vec![], vec![], vec![]);
    for round in 1..=rounds {
        let topic = unique("topic");
        herald_kafka::create_topics(&config, &topic, 8, 0)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "Kafka at {}: {e}; start it with scripts/services",
                    brokers()
                )
            });
        // Not measured: a new topic's first records, and each producer's start (metadata,
        // producer id). A producer that starts inside the clock stalled about a second in
        // some runs (raw and herald alike), which read as a slow mode of 18k events/s.
        let raw_side = raw_producer(&config);
        let herald_side = KafkaPublisher::new(&config).expect("publisher");
        produce_raw(&raw_side, &topic, 2000).await;
        produce_herald(&herald_side, &topic, 2000).await;
        // Alternate which side goes first, so neither always meets a warmer broker.
        let (raw, herald) = if round % 2 == 1 {
            let r = produce_raw(&raw_side, &topic, n).await;
            (r, produce_herald(&herald_side, &topic, n).await)
        } else {
            let h = produce_herald(&herald_side, &topic, n).await;
            (produce_raw(&raw_side, &topic, n).await, h)
        };
        p_raw.push(rate(n, raw));
        p_herald.push(rate(n, herald));
        // The topic now holds 2n + 4000 records; each side reads n of them from the start.
        let (raw, herald) = if round % 2 == 1 {
            let (c, t) = (config.clone(), topic.clone());
            let r = tokio::task::spawn_blocking(move || consume_raw(&c, &t, n))
                .await
                .expect("raw");
            (r, consume_herald(&config, &topic, n).await)
        } else {
            let h = consume_herald(&config, &topic, n).await;
            let (c, t) = (config.clone(), topic.clone());
            let r = tokio::task::spawn_blocking(move || consume_raw(&c, &t, n))
                .await
                .expect("raw");
            (r, h)
        };
        c_raw.push(rate(n, raw));
        c_herald.push(rate(n, herald));
        let last = |v: &Vec<f64>| v[v.len() - 1];
        println!(
            "round {round}: produce raw {:.0}/s herald {:.0}/s ({:.2}x); consume raw {:.0}/s herald {:.0}/s ({:.2}x)",
            last(&p_raw),
            last(&p_herald),
            last(&p_herald) / last(&p_raw),
            last(&c_raw),
            last(&c_herald),
            last(&c_herald) / last(&c_raw),
        );
    }
    let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    println!("\n{n} events x {rounds} rounds (events/s; median and best round of each side):");
    println!(
        "| path    | raw median | raw best | herald median | herald best | herald / raw, medians |"
    );
    println!(
        "|---------|------------|----------|---------------|-------------|-----------------------|"
    );
    for (path, raw, herald) in [
        ("produce", &p_raw, &p_herald),
        ("consume", &c_raw, &c_herald),
    ] {
        let (rm, hm) = (median(raw.clone()), median(herald.clone()));
        println!(
            "| {path} | {rm:.0} | {:.0} | {hm:.0} | {:.0} | {:.2}x |",
            best(raw),
            best(herald),
            hm / rm
        );
    }
}
