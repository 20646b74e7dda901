//! Throughput through herald against raw lapin, measured in the same run against the real
//! RabbitMQ, and the idempotency stores' overhead per message.
//!
//! `cargo bench -p herald-amqp --bench throughput` (RabbitMQ, Redis and PostgreSQL on
//! loopback; `HERALD_BENCH_MESSAGES` sets the message count, default 10000; `HERALD_BENCH_ROUNDS` the rounds, default 4).
//!
//! Both sides send the same messages (a herald JSON envelope encoded per message, the same
//! AMQP properties and headers), persistent, mandatory, with publisher confirms and 64
//! publishes in flight; both consume with prefetch 64. The raw consumer decodes each
//! envelope too (any real consumer decodes its payload) and acks it, each delivery in its
//! own task, so that it overlaps work as herald's worker (concurrency 64) does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use herald_amqp::{Amqp, AmqpConfig, AmqpPublisher, Queue, RoutingKeySource, Topology};
use herald_core::{
    Context, Envelope, Event, Handler, HandlerError, IdempotencyStore, MemoryIdempotencyStore,
    OutgoingMessage, Producer, Publisher, Worker,
};
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeleteOptions, QueuePurgeOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use serde::{Deserialize, Serialize};

const IN_FLIGHT: usize = 64;
const PREFETCH: u16 = 64;

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
struct Tick {
    seq: u64,
    note: String,
}

impl Event for Tick {
    const NAME: &'static str = "bench.tick";
    const VERSION: u32 = 1;
    fn aggregate_id(&self) -> String {
        format!("agg-{}", self.seq % 64)
    }
}

fn tick(seq: u64) -> Tick {
    Tick {
        seq,
        note: "x".repeat(200),
    }
}

struct Noop;

#[herald_core::async_trait]
impl Handler for Noop {
    type Event = Tick;
    fn name(&self) -> &'static str {
        "noop"
    }
    async fn handle(&self, _event: Tick, _ctx: &Context) -> Result<(), HandlerError> {
        Ok(())
    }
}

fn url() -> String {
    std::env::var("HERALD_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

/// The raw side does what a hand-written lapin publisher of the same events would: the same
/// message as herald's Producer makes (envelope, key and headers, encoded per message by the
/// same code on both sides), every header an AMQP header plus the partition key, the same
/// properties, publish, await the confirm.
async fn raw_publish(channel: &lapin::Channel, queue: &str, n: u64) -> Duration {
    let producer = Producer::new(NullPublisher);
    let start = Instant::now();
    futures::stream::iter(0..n)
        .for_each_concurrent(IN_FLIGHT, |seq| {
            let producer = &producer;
            async move {
                let m = producer
                    .message(&Envelope::new(tick(seq)))
                    .expect("message");
                let mut headers = FieldTable::default();
                for (name, value) in &m.headers {
                    headers.insert(
                        name.as_str().into(),
                        AMQPValue::LongString(value.as_str().into()),
                    );
                }
                headers.insert(
                    "herald-partition-key".into(),
                    AMQPValue::LongString(m.key.as_str().into()),
                );
                let header = |name: &str| m.headers.get(name).map(|v| v.as_str().into());
                let mut props = BasicProperties::default()
                    .with_delivery_mode(2)
                    .with_content_type("application/json".into())
                    .with_timestamp(chrono::Utc::now().timestamp() as u64)
                    .with_headers(headers);
                if let Some(id) = header("herald-event-id") {
                    props = props.with_message_id(id);
                }
                if let Some(kind) = header("herald-event-type") {
                    props = props.with_type(kind);
                }
                if let Some(correlation) = header("herald-correlation-id") {
                    props = props.with_correlation_id(correlation);
                }
                let confirm = channel
                    .basic_publish(
                        "".into(),
                        queue.into(),
                        BasicPublishOptions {
                            mandatory: true,
                            ..BasicPublishOptions::default()
                        },
                        &m.payload,
                        props,
                    )
                    .await
                    .expect("publish")
                    .await
                    .expect("confirm");
                assert!(confirm.is_ack() && confirm.take_message().is_none());
            }
        })
        .await;
    start.elapsed()
}

/// Builds messages only (the raw side's encoding is the Producer's).
struct NullPublisher;

#[herald_core::async_trait]
impl Publisher for NullPublisher {
    async fn publish(&self, _: OutgoingMessage) -> Result<(), herald_core::TransportError> {
        Ok(())
    }
}

async fn herald_publish(publisher: &AmqpPublisher, queue: &str, n: u64) -> Duration {
    let encoder = Producer::new(NullPublisher);
    let start = Instant::now();
    futures::stream::iter(0..n)
        .for_each_concurrent(IN_FLIGHT, |seq| {
            let encoder = &encoder;
            async move {
                // The Producer's encoding, to a queue through the default exchange.
                let message = OutgoingMessage {
                    destination: String::new(),
                    key: queue.to_owned(),
                    ..encoder.message(&Envelope::new(tick(seq))).expect("message")
                };
                publisher.publish(message).await.expect("publish");
            }
        })
        .await;
    start.elapsed()
}

async fn raw_consume(conn: &Connection, queue: &str, n: u64) -> Duration {
    let channel = conn.create_channel().await.expect("channel");
    channel
        .basic_qos(PREFETCH, BasicQosOptions::default())
        .await
        .expect("qos");
    let start = Instant::now();
    let mut consumer = channel
        .basic_consume(
            queue.into(),
            "raw-bench".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    // Decode and ack each delivery in its own task, as herald's worker does: the prefetch
    // bounds both sides to the same number of unacked messages.
    let mut tasks = tokio::task::JoinSet::new();
    let mut seen = 0;
    while seen < n {
        let d = consumer.next().await.expect("stream").expect("delivery");
        tasks.spawn(async move {
            let envelope: Envelope<Tick> = Envelope::decode(&d.data).expect("decode");
            std::hint::black_box(envelope);
            d.ack(BasicAckOptions::default()).await.expect("ack");
        });
        seen += 1;
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let took = start.elapsed();
    let _ = channel.close(200, "".into()).await;
    took
}

async fn herald_consume(
    amqp: &Amqp,
    queue: &str,
    n: u64,
    store: Arc<dyn IdempotencyStore>,
) -> Duration {
    let worker = Worker::builder()
        .handler(Noop)
        .idempotency_store(store)
        .concurrency(usize::from(PREFETCH))
        .build();
    let metrics = worker.metrics();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let start = Instant::now();
    let run = tokio::spawn(
        worker.run(amqp.subscriber(queue).prefetch(PREFETCH), async move {
            let _ = stopped.await;
        }),
    );
    while metrics.snapshot().processed < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let took = start.elapsed();
    let _ = stop.send(());
    run.await.expect("worker");
    took
}

/// Sequential claim + complete round trips: the latency a store adds to one message.
async fn store_latency(store: &dyn IdempotencyStore, n: u64) -> Duration {
    let run = uuid::Uuid::now_v7();
    let start = Instant::now();
    for i in 0..n {
        let key = format!("bench:{run}:{i}");
        match store
            .claim(&key, Duration::from_secs(60))
            .await
            .expect("claim")
        {
            herald_core::Claim::Acquired(token) => store
                .complete(&key, &token, Duration::from_secs(600))
                .await
                .expect("complete"),
            other => panic!("fresh key: {other:?}"),
        }
    }
    start.elapsed() / u32::try_from(n).unwrap_or(u32::MAX)
}

#[tokio::main]
async fn main() {
    let n: u64 = std::env::var("HERALD_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let queue = format!(
        "herald-bench.{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let amqp =
        Amqp::connect(AmqpConfig::new(url()).topology(Topology::new().queue(Queue::new(&queue))))
            .await
            .expect("RabbitMQ (scripts/services)");
    let conn = Connection::connect(&url(), ConnectionProperties::default())
        .await
        .expect("raw connection");
    let channel = conn.create_channel().await.expect("channel");
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirms");

    let size = Envelope::new(tick(0)).encode().expect("encode").len();
    println!(
        "{n} messages of {size} bytes (herald JSON envelopes, same properties and headers on both sides), {IN_FLIGHT} publishes in flight, prefetch {PREFETCH}, persistent, confirms",
    );

    // One publisher each side for the whole run, its channel opened before the clock starts
    // (raw's channel is opened above).
    let publisher = amqp
        .publisher()
        .with_routing_key(RoutingKeySource::MessageKey);
    herald_publish(&publisher, &queue, 100).await;
    raw_publish(&channel, &queue, 100).await;

    // Several rounds, the order swapped each time so that neither side always runs on a
    // warmer (or busier) broker; the median ratio is the figure.
    let rounds: u32 = std::env::var("HERALD_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let (mut pub_ratios, mut con_ratios) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let (raw_pub, raw_con, her_pub, her_con);
        if !round.is_multiple_of(2) {
            raw_pub = raw_publish(&channel, &queue, n).await;
            raw_con = raw_consume(&conn, &queue, n).await;
            her_pub = herald_publish(&publisher, &queue, n).await;
            her_con =
                herald_consume(&amqp, &queue, n, Arc::new(MemoryIdempotencyStore::new())).await;
        } else {
            her_pub = herald_publish(&publisher, &queue, n).await;
            her_con =
                herald_consume(&amqp, &queue, n, Arc::new(MemoryIdempotencyStore::new())).await;
            raw_pub = raw_publish(&channel, &queue, n).await;
            raw_con = raw_consume(&conn, &queue, n).await;
        }
        let pub_ratio = raw_pub.as_secs_f64() / her_pub.as_secs_f64();
        let con_ratio = raw_con.as_secs_f64() / her_con.as_secs_f64();
        pub_ratios.push(pub_ratio);
        con_ratios.push(con_ratio);
        println!(
            "round {round}: publish raw {:>7.0}/s herald {:>7.0}/s ({pub_ratio:.2}x) | consume raw {:>7.0}/s herald {:>7.0}/s ({con_ratio:.2}x)",
            rate(n, raw_pub),
            rate(n, her_pub),
            rate(n, raw_con),
            rate(n, her_con),
        );
    }
    println!(
        "median herald/raw: publish {:.2}x, consume {:.2}x",
        median(&mut pub_ratios),
        median(&mut con_ratios)
    );

    // Idempotency: the worker's throughput with each store, and one message's round trips.
    let redis_url =
        std::env::var("HERALD_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let redis = Arc::new(
        herald_redis::RedisIdempotencyStore::connect(&redis_url)
            .await
            .expect("Redis (scripts/services)")
            .with_prefix(format!("herald-bench:{}:", uuid::Uuid::now_v7())),
    );
    let db = herald_postgres::testing::TestDatabase::create().await;
    // PostgreSQL twice each way, alternating: each claim and complete its own statement, as
    // many at once as the pool's connections allow (herald before batching); batches one at
    // a time; batches two at a time (the default).
    let pg = |max_batch, parallel| -> Arc<dyn IdempotencyStore> {
        Arc::new(
            herald_postgres::PgIdempotencyStore::new(db.pool.clone())
                .max_batch(max_batch)
                .parallel_batches(parallel),
        )
    };
    let stores: Vec<(&str, Arc<dyn IdempotencyStore>)> = vec![
        ("memory", Arc::new(MemoryIdempotencyStore::new())),
        ("redis", redis.clone()),
        ("postgres, unbatched", pg(1, 64)),
        ("postgres, one batch at a time", pg(256, 1)),
        ("postgres", pg(256, 2)),
        ("postgres, unbatched", pg(1, 64)),
        ("postgres, one batch at a time", pg(256, 1)),
        ("postgres", pg(256, 2)),
    ];
    let mut memory_per_msg = None;
    for (name, store) in stores {
        herald_publish(&publisher, &queue, n).await;
        let took = herald_consume(&amqp, &queue, n, store.clone()).await;
        let per_msg = took / u32::try_from(n).unwrap_or(u32::MAX);
        let latency = store_latency(&*store, 1_000).await;
        let overhead = memory_per_msg.map(|m: Duration| per_msg.saturating_sub(m));
        memory_per_msg.get_or_insert(per_msg);
        println!(
            "store {name:>28}: consume {:>8.0}/s ({per_msg:?}/msg{}); claim+complete round trips {latency:?}/msg sequential",
            rate(n, took),
            overhead.map_or(String::new(), |o| format!(", +{o:?}/msg over memory")),
        );
    }

    let _ = channel
        .queue_purge(queue.as_str().into(), QueuePurgeOptions::default())
        .await;
    for q in [queue.clone(), herald_amqp::dead_letter_queue(&queue)] {
        let _ = channel
            .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    let _ = channel
        .exchange_delete(
            herald_amqp::dead_letter_exchange(&queue).as_str().into(),
            lapin::options::ExchangeDeleteOptions::default(),
        )
        .await;
    let _ = conn.close(200, "".into()).await;
    amqp.close().await.expect("close");
    db.drop_database().await;
}
