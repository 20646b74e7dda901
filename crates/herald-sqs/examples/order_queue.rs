//! An order service on SQS: create the queue with its DLQ, publish orders, handle them,
//! retry a flaky one (by visibility), dead-letter a poison one, fix the handler and replay
//! the dead letter.
//!
//! It uses only what an application depends on: `herald`, `herald-sqs`, serde, schemars
//! and tokio. Needs an SQS API: with `AWS_ENDPOINT_URL` (and the usual AWS variables) set,
//! that one; otherwise moto on 127.0.0.1:4566 (`scripts/services`):
//! `cargo run -p herald-sqs --example order_queue`

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use herald::{Context, Event, HandlerError, Producer, Worker};
use herald_core::dead_letters::DeadLetters;
use herald_sqs::{QueueOptions, Selection, Sqs};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

const QUEUE: &str = "herald-example-billing";

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

#[herald::handler(name = "charge-card", max_attempts = 3, initial_delay = "1s")]
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
    let sqs = match std::env::var("AWS_ENDPOINT_URL") {
        Ok(_) => Sqs::from_env().await,
        Err(_) => Sqs::local("http://127.0.0.1:4566", Duration::from_secs(30)),
    };
    // The queue, `herald-example-billing-dlq` and the redrive policy (idempotent).
    sqs.create_queues(QUEUE, &QueueOptions::default()).await?;
    sqs.dead_letters()
        .purge(QUEUE, &Selection::all(), false)
        .await?; // a clean start

    let subscriber = sqs
        .subscriber(QUEUE)
        .wait_time(Duration::from_secs(2))
        .build()
        .await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = Worker::builder().handler(ChargeCard).concurrency(4).build();
    let metrics = worker.metrics();
    let run = tokio::spawn(worker.run(subscriber, async move {
        let _ = stopped.await;
    }));

    let producer = Producer::new(sqs.publisher()).route(OrderPlaced::NAME, QUEUE);
    println!("publishing three orders");
    for (order_id, total_cents) in [("o-1", 4_200), ("o-flaky", 1_999), ("o-zero", 0)] {
        producer
            .publish(OrderPlaced {
                order_id: order_id.into(),
                total_cents,
            })
            .await?;
    }

    let dlq = sqs.dead_letters();
    let mut dead = Vec::new();
    for _ in 0..60 {
        if metrics.snapshot().processed == 2 && metrics.snapshot().dead_lettered == 1 {
            dead = dlq.list(QUEUE, &Selection::all()).await?;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!("dead letters:");
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
            QUEUE,
            &Selection::all().event_type(OrderPlaced::NAME),
            false,
        )
        .await?;
    println!("replayed {}", report.replayed);
    for _ in 0..60 {
        if metrics.snapshot().processed == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let _ = stop.send(());
    run.await?;
    let stats = metrics.snapshot();
    println!(
        "processed {}, retried {}, dead-lettered {}",
        stats.processed, stats.retried, stats.dead_lettered
    );
    if stats.processed != 3 {
        return Err("expected three processed orders".into());
    }
    Ok(())
}
