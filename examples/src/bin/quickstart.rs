//! herald's quickstart: two events (one with a v1 -> v2 upcast), two idempotent handlers,
//! the in-memory transport. Shows a duplicate skipped, a flaky call retried with backoff,
//! a failing one dead-lettered, and a permanent error dead-lettered at once.
//!
//! `cargo run -p herald-examples --bin quickstart`

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use herald::memory::MemoryBroker;
use herald::{Envelope, Event, Producer, Worker, headers};
use herald_examples::orders::{
    ChargeCard, Gateway, OrderPlaced, OrderPlacedV1, PaymentRequested, RequestPayment,
};
use tracing_subscriber::EnvFilter;

const QUEUE: &str = "quickstart";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The worker's own account (retries, dead letters, duplicates) comes through tracing.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("herald_core=info")),
        )
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .without_time()
        .compact()
        .init();

    let broker = MemoryBroker::new();
    // Both event types flow into one queue that one worker consumes.
    broker.bind(OrderPlaced::NAME, QUEUE);
    broker.bind(PaymentRequested::NAME, QUEUE);
    let producer = Producer::new(broker.clone());

    step("1. Publish a v2 order.placed, and a v1 one from the old checkout service");
    let first = producer
        .publish(OrderPlaced {
            order_id: "o-1".into(),
            customer_id: "ada".into(),
            total_cents: 12_990,
        })
        .await?;
    println!(
        "  published order.placed v2 o-1 as event {}",
        first.event_id
    );
    let legacy = producer
        .publish(OrderPlacedV1 {
            order_id: "o-2".into(),
            amount: 45.5,
        })
        .await?;
    println!(
        "  published order.placed v1 o-2 as event {} (the handler takes v2: it will be upcast)",
        legacy.event_id
    );

    step("2. Deliver o-1's event a second time (a producer retry after a lost confirm)");
    let again = Envelope {
        meta: first.clone(),
        data: OrderPlaced {
            order_id: "o-1".into(),
            customer_id: "ada".into(),
            total_cents: 12_990,
        },
    };
    producer.publish_envelope(&again).await?;
    println!("  published event {} again", first.event_id);

    step("3. Two more orders: o-3's gateway is down, o-4's card is declined");
    for (id, customer) in [("o-3", "grace"), ("o-4", "linus")] {
        producer
            .publish(OrderPlaced {
                order_id: id.into(),
                customer_id: customer.into(),
                total_cents: 2_500,
            })
            .await?;
    }
    let gateway = Gateway {
        timeouts: Mutex::new(HashMap::from([
            ("o-2".to_owned(), 2),        // times out twice, then succeeds
            ("o-3".to_owned(), u32::MAX), // never answers
        ])),
        declined: vec!["o-4".into()],
    };

    step("4. Run the worker (concurrency 8, in order per customer)");
    let worker = Worker::builder()
        .handler(RequestPayment)
        .handler(ChargeCard)
        .producer(producer.clone())
        .extension(gateway)
        .concurrency(8)
        .ordered_by_key(true)
        .shutdown_timeout(Duration::from_secs(5))
        .build();
    let metrics = worker.metrics();
    // Until every message is settled: the longest retry delay is well under a second.
    let report = tokio::time::timeout(
        Duration::from_secs(30),
        worker.run_until_idle(broker.subscribe(QUEUE), Duration::from_secs(1)),
    )
    .await
    .map_err(|_| "the quickstart did not settle within 30 s")?;

    step("5. What happened");
    let s = metrics.snapshot();
    println!("  processed           {}", s.processed);
    println!("  retried             {}", s.retried);
    println!("  dead-lettered       {}", s.dead_lettered);
    println!("  duplicates skipped  {}", s.duplicates_skipped);
    println!(
        "  handler latency     mean {:?}, max {:?} over {} runs",
        s.handler_latency_mean, s.handler_latency_max, s.handler_runs
    );
    println!(
        "  shutdown            drained: {}, handed back: {}",
        report.drained, report.handed_back
    );

    step("6. The dead-letter queue");
    for dead in broker.dead_letters(QUEUE) {
        let envelope = Envelope::<PaymentRequested>::decode(&dead.payload)?;
        println!(
            "  {} for order {}: {}\n    attempts {}, permanent {}, handler {}, first failure {}",
            envelope.meta.event_type,
            envelope.data.order_id,
            dead.reason,
            dead.headers[headers::ATTEMPTS],
            dead.headers[headers::PERMANENT],
            dead.headers[headers::HANDLER],
            dead.headers[headers::FIRST_FAILURE_AT],
        );
    }
    println!(
        "\nReplay them with MemoryBroker::replay_dead_letters (or `herald dlq replay` on a real broker)."
    );
    Ok(())
}

fn step(title: &str) {
    println!("\n== {title}");
}
