//! The README's Kafka program, verbatim below the line. `tests/transports.rs` runs it.
#![deny(warnings)]
// ---- README.md, "Kafka" ----
use herald::{Context, Event, HandlerError, Producer, Worker};
use herald_kafka::{KafkaConfig, KafkaPublisher, KafkaSubscriber};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "shop.order_placed", version = 1)]
struct OrderPlaced {
    #[event(aggregate_id)] // the Kafka key: one order's events stay in order
    order_id: String,
    total_cents: i64,
}

#[herald::handler(name = "billing.charge", max_attempts = 5, initial_delay = "200ms")]
async fn charge(order: OrderPlaced, ctx: &Context) -> Result<(), HandlerError> {
    println!(
        "{} charged: order {}, {} cents",
        ctx.event_id(),
        order.order_id,
        order.total_cents
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let brokers =
        std::env::var("HERALD_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_owned());
    let kafka = KafkaConfig::new(brokers);
    // `shop.orders` with 4 partitions, its retry topics `shop.orders.retry.1` to `.retry.3`
    // and its dead-letter topic `shop.orders.dlq` (those that exist are left as they are).
    herald_kafka::create_topics(&kafka, "shop.orders", 4, 3).await?;

    // The event type goes to the topic its route names (without one, to a topic named
    // like the event type).
    let producer =
        Producer::new(KafkaPublisher::new(&kafka)?).route(OrderPlaced::NAME, "shop.orders");
    let order = OrderPlaced {
        order_id: "o-1".into(),
        total_cents: 4_200,
    };
    let sent = producer.publish(order).await?; // returns once every in-sync replica has it
    println!("{} published", sent.event_id);

    // A consumer group; until Ctrl-C: then running handlers finish and offsets are committed.
    let subscriber = KafkaSubscriber::builder(&kafka, "shop.billing")
        .topic("shop.orders")
        .build()?;
    let worker = Worker::builder()
        .handler(Charge)
        .producer(producer)
        .concurrency(64)
        .build();
    worker.run(subscriber, tokio::signal::ctrl_c()).await;
    Ok(())
}
