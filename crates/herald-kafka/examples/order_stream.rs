//! An order stream on Kafka: events of each order in order while orders run in parallel
//! over 4 partitions; a flaky step retried through `orders.retry.1`; a step that cannot
//! succeed dead-lettered to `orders.dlq`, replayed once the bug is fixed; the consumer lag.
//!
//! It uses only what an application depends on: `herald`, `herald-kafka`, serde, schemars
//! and tokio.
//!
//! Needs a Kafka-API broker on 127.0.0.1:9092 (`scripts/services` starts tansu;
//! `HERALD_KAFKA_BROKERS` overrides): `cargo run -p herald-kafka --example order_stream`

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald::{Context, Event, HandlerError, Producer, Worker};
use herald_kafka::dlq::{self, Selection};
use herald_kafka::{KafkaConfig, KafkaPublisher, KafkaSubscriber};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One step in an order's life: placed, paid, packed, shipped.
#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.step", version = 1)]
struct OrderStep {
    #[event(aggregate_id)]
    order_id: String,
    step: u32,
    name: String,
}

const STEPS: [&str; 4] = ["placed", "paid", "packed", "shipped"];

/// Until the "deploy" below, packing order o-7 fails for good.
static FIXED: AtomicBool = AtomicBool::new(false);
static FLAKED: AtomicBool = AtomicBool::new(false);

/// What each order went through, in the order the handler saw it.
type Journal = Mutex<BTreeMap<String, Vec<String>>>;

#[herald::handler(
    name = "fulfil",
    max_attempts = 3,
    initial_delay = "300ms",
    multiplier = 2.0,
    max_delay = "2s",
    jitter = "equal"
)]
async fn fulfil(s: OrderStep, ctx: &Context) -> Result<(), HandlerError> {
    if s.order_id == "o-3" && s.name == "paid" && !FLAKED.swap(true, Ordering::SeqCst) {
        println!("  o-3 paid, attempt {}: bank timed out", ctx.attempt());
        return Err(HandlerError::retryable(std::io::Error::other(
            "bank timeout",
        )));
    }
    if s.order_id == "o-7" && s.name == "packed" && !FIXED.load(Ordering::SeqCst) {
        println!("  o-7 packed, attempt {}: no such warehouse", ctx.attempt());
        return Err(HandlerError::retryable(std::io::Error::other(
            "no such warehouse",
        )));
    }
    let journal = ctx.extension::<Arc<Journal>>().expect("journal");
    journal
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(s.order_id)
        .or_default()
        .push(s.name);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let brokers =
        std::env::var("HERALD_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_owned());
    let kafka = KafkaConfig::new(brokers).client_id("herald-example");
    let topic = format!("herald-example.orders.{}", std::process::id());
    herald_kafka::create_topics(&kafka, &topic, 4, 2).await?;

    let producer = Producer::new(KafkaPublisher::new(&kafka)?).route(OrderStep::NAME, &topic);
    println!("publishing 4 steps of 10 orders to {topic}");
    for (step, name) in STEPS.iter().enumerate() {
        for order in 0..10 {
            producer
                .publish(OrderStep {
                    order_id: format!("o-{order}"),
                    step: step as u32,
                    name: (*name).to_owned(),
                })
                .await?;
        }
    }

    let subscriber = KafkaSubscriber::builder(&kafka, "herald-example.fulfilment")
        .topic(&topic)
        .retry_topics(2)
        .build()?;
    let lag = subscriber.lag();
    let journal = Arc::new(Journal::default());
    let worker = Worker::builder()
        .handler(Fulfil)
        .extension(journal.clone())
        .concurrency(16)
        .build();
    let metrics = worker.metrics();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(worker.run(subscriber, async move {
        let _ = stopped.await;
    }));

    let mut dead = Vec::new();
    for _ in 0..300 {
        if metrics.snapshot().dead_lettered == 1 && metrics.snapshot().processed == 39 {
            dead = dlq::list(&kafka, &topic, &Selection::all()).await?;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "consumer lag: {} event(s) over {} partition(s)",
        lag.total(),
        lag.get().len()
    );
    println!("dead letters in {topic}.dlq:");
    for d in &dead {
        println!(
            "  {} after {} attempt(s): {}",
            d.event_type.as_deref().unwrap_or("?"),
            d.attempts.unwrap_or(0),
            d.reason.as_deref().unwrap_or("?")
        );
    }

    println!("deploying the fix, replaying");
    FIXED.store(true, Ordering::SeqCst);
    let report = dlq::replay(&kafka, &topic, &Selection::all(), false).await?;
    println!("replayed {}", report.replayed);
    for _ in 0..100 {
        if metrics.snapshot().processed == 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(());
    run.await?;
    let stats = metrics.snapshot();
    println!(
        "processed {}, retried {}, dead-lettered {}",
        stats.processed, stats.retried, stats.dead_lettered
    );
    // Retry topics keep the partition moving: a retried step lands after the later steps
    // of its order (RetryStrategy::BlockKey keeps the order instead, blocking that order).
    for (order, steps) in journal.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        println!("  {order}: {}", steps.join(" -> "));
    }
    if stats.processed != 40 {
        return Err("expected 40 processed steps".into());
    }
    Ok(())
}
