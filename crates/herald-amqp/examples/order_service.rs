//! An order service on RabbitMQ: publish orders, handle them, retry a flaky one,
//! dead-letter a poison one, fix the handler and replay the dead letter.
//!
//! It uses only what an application depends on: `herald`, `herald-amqp`, serde, schemars
//! and tokio.
//!
//! Needs RabbitMQ on 127.0.0.1:5672 (`scripts/services`; `HERALD_AMQP_URL` overrides):
//! `cargo run -p herald-amqp --example order_service`

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use herald::{Context, Event, HandlerError, Producer, Worker};
use herald_amqp::dlq::{self, Selection};
use herald_amqp::{Amqp, AmqpConfig, Exchange, Queue, Topology};
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
    let url = std::env::var("HERALD_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned());
    let topology = Topology::new()
        .exchange(Exchange::topic("herald-example.orders"))
        .queue(Queue::new("herald-example.billing").bind("herald-example.orders", "order.*"));
    let amqp = Amqp::connect(AmqpConfig::new(url).topology(topology)).await?;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = Worker::builder().handler(ChargeCard).concurrency(4).build();
    let metrics = worker.metrics();
    let run = tokio::spawn(worker.run(
        amqp.subscriber("herald-example.billing").prefetch(8),
        async move {
            let _ = stopped.await;
        },
    ));

    let producer =
        Producer::new(amqp.publisher()).route(OrderPlaced::NAME, "herald-example.orders");
    println!("publishing three orders");
    for (order_id, total_cents) in [("o-1", 4_200), ("o-flaky", 1_999), ("o-zero", 0)] {
        producer
            .publish(OrderPlaced {
                order_id: order_id.into(),
                total_cents,
            })
            .await?;
    }

    // Wait for the two good orders and the dead letter.
    let mut dead = Vec::new();
    for _ in 0..200 {
        dead = dlq::list(&amqp, "herald-example.billing", &Selection::all()).await?;
        if metrics.snapshot().processed == 2 && !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
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
    let report = dlq::replay(
        &amqp,
        "herald-example.billing",
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
    println!(
        "processed {}, retried {}, dead-lettered {}",
        stats.processed, stats.retried, stats.dead_lettered
    );
    amqp.close().await?;
    if stats.processed != 3 {
        return Err("expected three processed orders".into());
    }
    Ok(())
}
