//! Throughput through herald against a raw aws-sdk-sqs loop doing the same work, measured in
//! the same run against the same SQS API (moto on 127.0.0.1:4566, or `HERALD_SQS_ENDPOINT`).
//!
//! `cargo bench -p herald-sqs --bench throughput` (`HERALD_BENCH_MESSAGES` sets the message
//! count, default 500; `HERALD_BENCH_ROUNDS` the rounds, default 4). Each side of each round
//! has a fresh queue, so nothing one side leaves behind reaches the other.
//!
//! Both sides send the same messages (a herald JSON envelope encoded per message, with the
//! envelope fields herald sends as String attributes) in `SendMessageBatch` requests of 10,
//! `IN_FLIGHT` requests at once; both consume with `POLLERS` long-polling receive loops of
//! up to 10 messages, decode each envelope and delete what they received with
//! `DeleteMessageBatch`. The raw loop deletes each receive's messages together; herald's
//! worker (concurrency `POLLERS` x 10) acks each message as its handler ends and its
//! deletes batch what is asked for meanwhile. Each side has its own client, configured alike
//! (`Sqs::local`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
    SendMessageBatchRequestEntry,
};
use futures::StreamExt;
use herald_core::{
    Context, Envelope, Event, Handler, HandlerError, MemoryIdempotencyStore, Producer, Worker,
};
use herald_sqs::{QueueOptions, Sqs};
use serde::{Deserialize, Serialize};

/// Batch requests in flight while publishing.
const IN_FLIGHT: usize = 8;
/// Receive loops while consuming.
const POLLERS: usize = 4;
const TIMEOUT: Duration = Duration::from_secs(30);

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

fn endpoint() -> String {
    std::env::var("HERALD_SQS_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:4566".to_owned())
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn string(value: String) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("type is set")
}

/// What a hand-written publisher of the same events sends: the envelope as body, its fields
/// as String attributes (the ones herald sends).
fn raw_entry(index: usize, seq: u64) -> SendMessageBatchRequestEntry {
    let envelope = Envelope::new(tick(seq));
    let m = &envelope.meta;
    let body = String::from_utf8(envelope.encode().expect("encode")).expect("JSON is text");
    let attributes: HashMap<String, MessageAttributeValue> = [
        ("herald-event-id", m.event_id.to_string()),
        ("herald-event-type", m.event_type.clone()),
        ("herald-schema-version", m.schema_version.to_string()),
        ("herald-correlation-id", m.correlation_id.to_string()),
        ("herald-aggregate-id", m.aggregate_id.clone()),
        ("herald-timestamp", m.timestamp.to_rfc3339()),
        ("herald-idempotency-key", m.idempotency_key.clone()),
        ("herald-partition-key", m.partition_key.clone()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), string(value)))
    .collect();
    SendMessageBatchRequestEntry::builder()
        .id(index.to_string())
        .message_body(body)
        .set_message_attributes(Some(attributes))
        .build()
        .expect("id and body are set")
}

async fn raw_publish(client: &Client, url: &str, n: u64) -> Duration {
    let start = Instant::now();
    futures::stream::iter((0..n).step_by(10))
        .for_each_concurrent(IN_FLIGHT, |first| async move {
            let entries = (first..(first + 10).min(n))
                .enumerate()
                .map(|(i, seq)| raw_entry(i, seq))
                .collect();
            let out = client
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .expect("SendMessageBatch");
            assert!(out.failed.is_empty(), "{:?}", out.failed);
        })
        .await;
    start.elapsed()
}

async fn herald_publish(sqs: &Sqs, queue: &str, n: u64) -> Duration {
    let producer = Producer::new(sqs.publisher()).route(Tick::NAME, queue);
    let publisher = sqs.publisher();
    let start = Instant::now();
    futures::stream::iter((0..n).step_by(10))
        .for_each_concurrent(IN_FLIGHT, |first| {
            let (producer, publisher) = (&producer, &publisher);
            async move {
                let batch: Vec<_> = (first..(first + 10).min(n))
                    .map(|seq| {
                        producer
                            .message(&Envelope::new(tick(seq)))
                            .expect("message")
                    })
                    .collect();
                publisher.publish_batch(&batch).await.expect("publish");
            }
        })
        .await;
    start.elapsed()
}

/// `POLLERS` loops of receive (10, long poll), decode, delete the batch, until every one of
/// the `n` events was seen; returns the time and how many came twice.
async fn raw_consume(client: &Client, url: &str, n: u64) -> (Duration, u64) {
    let seen = Arc::new(Mutex::new((HashSet::new(), 0u64)));
    let all_seen =
        move |seen: &Mutex<(HashSet<u64>, u64)>| seen.lock().expect("seen").0.len() as u64 >= n;
    let start = Instant::now();
    let mut pollers = tokio::task::JoinSet::new();
    for _ in 0..POLLERS {
        let (client, url, seen) = (client.clone(), url.to_owned(), seen.clone());
        pollers.spawn(async move {
            while !all_seen(&seen) {
                let out = client
                    .receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(1)
                    .visibility_timeout(30)
                    .message_attribute_names("All")
                    .message_system_attribute_names(
                        MessageSystemAttributeName::ApproximateReceiveCount,
                    )
                    .send()
                    .await
                    .expect("ReceiveMessage");
                let messages = out.messages.unwrap_or_default();
                if messages.is_empty() {
                    continue;
                }
                let mut entries = Vec::with_capacity(messages.len());
                let mut seqs = Vec::with_capacity(messages.len());
                for (i, m) in messages.into_iter().enumerate() {
                    let headers: HashMap<String, String> = m
                        .message_attributes
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|(k, v)| Some((k, v.string_value?)))
                        .collect();
                    let envelope: Envelope<Tick> =
                        Envelope::decode(m.body.unwrap_or_default().as_bytes()).expect("decode");
                    seqs.push(envelope.data.seq);
                    std::hint::black_box((headers, envelope));
                    entries.push(
                        DeleteMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .receipt_handle(m.receipt_handle.unwrap_or_default())
                            .build()
                            .expect("id and receipt are set"),
                    );
                }
                let out = client
                    .delete_message_batch()
                    .queue_url(&url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .expect("DeleteMessageBatch");
                assert!(out.failed.is_empty(), "{:?}", out.failed);
                let mut seen = seen.lock().expect("seen");
                for seq in seqs {
                    if !seen.0.insert(seq) {
                        seen.1 += 1;
                    }
                }
            }
        });
    }
    while !all_seen(&seen) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let took = start.elapsed();
    pollers.shutdown().await;
    let twice = seen.lock().expect("seen").1;
    (took, twice)
}

/// herald's worker until it has processed the `n` events; returns the time and how many
/// came twice (skipped by the idempotency store).
async fn herald_consume(sqs: &Sqs, queue: &str, n: u64) -> (Duration, u64) {
    let worker = Worker::builder()
        .handler(Noop)
        .idempotency_store(Arc::new(MemoryIdempotencyStore::new()))
        .concurrency(POLLERS * 10)
        .build();
    let metrics = worker.metrics();
    let subscriber = sqs
        .subscriber(queue)
        .pollers(POLLERS)
        .wait_time(Duration::from_secs(1))
        .visibility_timeout(Duration::from_secs(30))
        .build()
        .await
        .expect("subscriber");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let start = Instant::now();
    let run = tokio::spawn(worker.run(subscriber, async move {
        let _ = stopped.await;
    }));
    while metrics.snapshot().processed < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let took = start.elapsed();
    let _ = stop.send(());
    run.await.expect("worker");
    let stats = metrics.snapshot();
    assert_eq!(
        (stats.processed, stats.retried),
        (n, 0),
        "every message once"
    );
    (took, stats.duplicates_skipped)
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

fn summary(name: &str, ratios: &mut [f64]) -> String {
    let m = median(ratios);
    format!(
        "{name} {m:.2}x (rounds {:.2}x to {:.2}x)",
        ratios.first().copied().unwrap_or(m),
        ratios.last().copied().unwrap_or(m)
    )
}

/// A fresh queue (and its DLQ) for one side of one round: (name, URL).
async fn fresh_queue(sqs: &Sqs) -> (String, String) {
    let name = format!(
        "herald-bench-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let urls = sqs
        .create_queues(&name, &QueueOptions::default())
        .await
        .expect("SQS API (moto: scripts/services)");
    (name, urls.queue)
}

async fn delete_queues(client: &Client, sqs: &Sqs, name: &str) {
    for q in [name.to_owned(), herald_sqs::dead_letter_queue(name)] {
        if let Ok(url) = sqs.queue_url(&q).await {
            let _ = client.delete_queue().queue_url(url).send().await;
        }
    }
}

struct Side {
    publish: Duration,
    consume: Duration,
    twice: u64,
}

async fn raw_side(sqs: &Sqs, client: &Client, n: u64) -> Side {
    let (name, url) = fresh_queue(sqs).await;
    let publish = raw_publish(client, &url, n).await;
    let (consume, twice) = raw_consume(client, &url, n).await;
    delete_queues(client, sqs, &name).await;
    Side {
        publish,
        consume,
        twice,
    }
}

async fn herald_side(sqs: &Sqs, client: &Client, n: u64) -> Side {
    let (name, _) = fresh_queue(sqs).await;
    let publish = herald_publish(sqs, &name, n).await;
    let (consume, twice) = herald_consume(sqs, &name, n).await;
    delete_queues(client, sqs, &name).await;
    Side {
        publish,
        consume,
        twice,
    }
}

#[tokio::main]
async fn main() {
    // RUST_LOG=herald_sqs=debug shows, among others, how many acks each delete carried.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let n: u64 = env_or("HERALD_BENCH_MESSAGES", 500);
    let rounds: u32 = env_or("HERALD_BENCH_ROUNDS", 4);
    let sqs = Sqs::local(&endpoint(), TIMEOUT);
    let raw = Sqs::local(&endpoint(), TIMEOUT).client().clone();

    let size = Envelope::new(tick(0)).encode().expect("encode").len();
    println!(
        "{n} messages of {size} bytes (herald JSON envelopes, 8 String attributes on both sides) at {}; batches of 10, {IN_FLIGHT} sends in flight, {POLLERS} pollers",
        endpoint()
    );
    // Several rounds, the order swapped each time so that neither side always runs on a
    // warmer (or busier) server; the median ratio is the figure, the range its spread.
    let (mut pub_ratios, mut con_ratios) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let (raw_run, herald_run) = if round % 2 == 1 {
            let r = raw_side(&sqs, &raw, n).await;
            (r, herald_side(&sqs, &raw, n).await)
        } else {
            let h = herald_side(&sqs, &raw, n).await;
            (raw_side(&sqs, &raw, n).await, h)
        };
        let pub_ratio = raw_run.publish.as_secs_f64() / herald_run.publish.as_secs_f64();
        let con_ratio = raw_run.consume.as_secs_f64() / herald_run.consume.as_secs_f64();
        pub_ratios.push(pub_ratio);
        con_ratios.push(con_ratio);
        println!(
            "round {round}: publish raw {:>5.0}/s herald {:>5.0}/s ({pub_ratio:.2}x) | consume raw {:>5.0}/s herald {:>5.0}/s ({con_ratio:.2}x) | delivered twice: raw {}, herald {}",
            rate(n, raw_run.publish),
            rate(n, herald_run.publish),
            rate(n, raw_run.consume),
            rate(n, herald_run.consume),
            raw_run.twice,
            herald_run.twice,
        );
    }
    println!(
        "herald/raw, median: {}; {}",
        summary("publish", &mut pub_ratios),
        summary("consume", &mut con_ratios)
    );
}
