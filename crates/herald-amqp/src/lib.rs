//! herald's RabbitMQ runtime, on lapin.
//!
//! - [`Topology`]: durable exchanges (direct, topic, fanout), classic or quorum queues with
//!   `x-max-length` and overflow, bindings, and per queue a dead-letter exchange and queue;
//!   declared idempotently at connect and at every reconnect.
//! - [`Amqp`]: the connection, re-established with exponential backoff and jitter.
//! - [`AmqpPublisher`]: a [`herald_core::Publisher`] with persistent messages, publisher
//!   confirms and the mandatory flag (unroutable messages are errors).
//! - [`AmqpSubscriber`]: a [`herald_core::Subscriber`] for the [`herald_core::Worker`]:
//!   prefetch, ack after success, retries through per-delay TTL queues that dead-letter
//!   back to the queue, dead-lettering with the failure in headers, graceful close.
//! - [`dlq`]: list and replay dead letters.
//!
//! Applications name herald's types through `herald` (it re-exports `herald-core`); the
//! README has a complete program.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use herald_amqp::{Amqp, AmqpConfig, Exchange, Queue, Topology};
//! let amqp = Amqp::connect(
//!     AmqpConfig::new("amqp://guest:guest@127.0.0.1:5672/%2f").topology(
//!         Topology::new()
//!             .exchange(Exchange::topic("orders"))
//!             .queue(Queue::new("billing").quorum().bind("orders", "order.#")),
//!     ),
//! )
//! .await?;
//! // The routing key is the event type; the route names the exchange.
//! let producer = herald::Producer::new(amqp.publisher()).route("order.created", "orders");
//! let worker = herald::Worker::builder() /* .handler(...) */ .build();
//! worker.run(amqp.subscriber("billing").prefetch(32), tokio::signal::ctrl_c()).await;
//! amqp.close().await?;
//! # let _ = producer; Ok(()) }
//! ```

mod client;
pub mod dlq;
mod error;
mod publisher;
mod subscriber;
mod topology;

pub use client::{Amqp, AmqpConfig, OutagePolicy, ReconnectPolicy};
pub use error::AmqpError;
pub use publisher::{AmqpPublisher, RoutingKeySource};
pub use subscriber::AmqpSubscriber;
pub use topology::{
    Exchange, ExchangeType, Overflow, Queue, QueueType, Topology, dead_letter_exchange,
    dead_letter_queue, retry_delay, retry_queue,
};

/// The header that carries the partition key (the routing key carries the event type).
pub use herald_core::headers::PARTITION_KEY;
