//! An order service on Redis Streams: publish orders, handle them, retry a flaky one (the
//! retry waits in the stream's retry set), dead-letter a poison one, fix the handler and
//! replay the dead letter; the consumer group's lag at the end.
//!
//! It uses only what an application depends on: `herald`, `herald-redis` (feature
//! `streams`), serde, schemars and tokio.
//!
//! Needs Redis on 127.0.0.1:6379 (`scripts/services`; `HERALD_REDIS_URL` overrides):
//! `cargo run -p herald-redis --features streams --example streams`

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use herald::dead_letters::Selection;
use herald::{Context, DeadLetters, Event, HandlerError, Producer, Worker};
use herald_redis::streams::RedisStreams;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.placed", version = 1)]
struct OrderPlaced {
    #[event(aggregate_id)]
    order_id: String,
    total_cents: i64,
}

/// Until the "deploy" below, orders with a zero total crash the billing code.
static FIXED: AtomicBool = AtomicBool::new(false);
static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);

#[herald::handler(
    name = "charge-card",
    max_attempts = 3,
    initial_delay = "200ms",
    multiplier = 2.0,
    max_delay = "2s",
    jitter = "equal"
)]
async fn charge_card(order: OrderPlaced, ctx: &Context) -> Result<(), HandlerError> {
    if order.order_id == "o-flaky" && FLAKY_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
        println!(
            "  {} attempt {}: payment gateway timed out",
            order.order_id,
            ctx.attempt()
        );
        return Err(HandlerError::retryable(std::io::Error::other(
            "gateway timeout",
        )));
    }
    if order.total_cents == 0 && !FIXED.load(Ordering::SeqCst) {
        println!(
            "  {} attempt {}: division by zero in the fee code",
            order.order_id,
            ctx.attempt()
        );
        return Err(HandlerError::permanent(std::io::Error::other(
            "fee computation failed for a zero total",
        )));
    }
    println!(
        "  {} attempt {}: charged {} cents",
        order.order_id,
        ctx.attempt(),
        order.total_cents
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url =
        std::env::var("HERALD_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    // A stream of its own per run, so a second run starts clean.
    let stream = format!("herald-example.orders.{}", std::process::id());
    let redis = RedisStreams::connect(&url).await?;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = Worker::builder().handler(ChargeCard).concurrency(4).build();
    let metrics = worker.metrics();
    let subscriber = redis.subscriber(&stream, "billing").build().await?;
    let run = tokio::spawn(worker.run(subscriber, async move {
        let _ = stopped.await;
    }));

    let producer = Producer::new(redis.publisher()).route(OrderPlaced::NAME, &stream);
    println!("publishing three orders to {stream}");
    for (order_id, total_cents) in [("o-1", 4_200), ("o-flaky", 1_999), ("o-zero", 0)] {
        producer
            .publish(OrderPlaced {
                order_id: order_id.into(),
                total_cents,
            })
            .await?;
    }

    // Wait for the two good orders and the dead letter.
    let dlq = redis.dead_letters();
    let mut dead = Vec::new();
    for _ in 0..200 {
        dead = dlq.list(&stream, &Selection::all()).await?;
        if metrics.snapshot().processed == 2 && !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("dead letters in {stream}.dlq:");
    for d in &dead {
        println!(
            "  event {} ({}) after {} attempt(s): {}",
            d.event_id.as_deref().unwrap_or("?"),
            d.event_type.as_deref().unwrap_or("?"),
            d.attempts.unwrap_or(0),
            d.reason.as_deref().unwrap_or("?")
        );
    }

    println!("deploying the fix, replaying");
    FIXED.store(true, Ordering::SeqCst);
    let report = dlq
        .replay(
            &stream,
            &Selection::all().event_type(OrderPlaced::NAME),
            false,
        )
        .await?;
    println!("replayed {}", report.replayed);
    for _ in 0..100 {
        if metrics.snapshot().processed == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let _ = stop.send(());
    run.await?;
    let stats = metrics.snapshot();
    let lag = redis.lag(&stream, "billing").await?;
    println!(
        "processed {}, retried {}, dead-lettered {}; group lag {:?}, pending {}",
        stats.processed, stats.retried, stats.dead_lettered, lag.lag, lag.pending
    );
    // An example leaves nothing behind: the stream, its retry set and dead letters.
    let _: i64 = redis::cmd("DEL")
        .arg(&stream)
        .arg(herald_redis::streams::retry_set(&stream))
        .arg(herald_redis::streams::dlq_stream(&stream))
        .query_async(&mut redis.connection())
        .await?;
    if stats.processed != 3 {
        return Err("expected three processed orders".into());
    }
    Ok(())
}
