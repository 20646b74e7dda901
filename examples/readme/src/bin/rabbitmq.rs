//! The README's RabbitMQ program, verbatim below the line. `tests/transports.rs` runs it.
#![deny(warnings)]
// ---- README.md, "RabbitMQ" ----
use herald::{Context, Event, HandlerError, Producer, Worker};
use herald_amqp::{Amqp, AmqpConfig, Exchange, Queue, Topology};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "shop.order_placed", version = 1)]
struct OrderPlaced {
    #[event(aggregate_id)]
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
    let url = std::env::var("HERALD_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned());
    // Declared at connect and again after each reconnect. The queue comes with a
    // dead-letter queue, `shop.billing.dlq`; retry queues are declared when needed.
    let topology = Topology::new()
        .exchange(Exchange::topic("shop"))
        .queue(Queue::new("shop.billing").quorum().bind("shop", "shop.#"));
    let amqp = Amqp::connect(AmqpConfig::new(url).topology(topology)).await?;

    // The routing key is the event type; `route` names the exchange it is published to
    // (without a route, the exchange named like the event type: "NOT_FOUND - no exchange").
    let producer = Producer::new(amqp.publisher()).route(OrderPlaced::NAME, "shop");
    let order = OrderPlaced {
        order_id: "o-1".into(),
        total_cents: 4_200,
    };
    let sent = producer.publish(order).await?; // returns once RabbitMQ confirmed it
    println!("{} published", sent.event_id);

    // Until Ctrl-C: then it stops taking work and lets running handlers finish.
    let worker = Worker::builder().handler(Charge).producer(producer).build();
    worker
        .run(amqp.subscriber("shop.billing"), tokio::signal::ctrl_c())
        .await;
    amqp.close().await?;
    Ok(())
}
