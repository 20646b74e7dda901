//! herald's Kafka runtime, on rdkafka (librdkafka, bundled).
//!
//! - [`KafkaPublisher`]: a [`herald_core::Publisher`] with an idempotent producer
//!   (acks=all), the partition key as the Kafka key, the routing metadata as headers,
//!   delivery awaited; values as the JSON envelope or, with a registry, in the Confluent
//!   wire format ([`wire`]).
//! - [`KafkaSubscriber`]: a [`herald_core::Subscriber`] for the [`herald_core::Worker`]: a
//!   consumer group; offsets committed only past events whose handler and every earlier
//!   one of the partition finished; events of a key in order, keys and partitions in
//!   parallel; retry topics with due times, then `<topic>.dlq`; rebalances that commit
//!   what finished and drop what had not started; consumer lag as a metric.
//! - [`dlq`]: list and replay dead letters; [`create_topics`] for a topic and its
//!   retry and dead-letter topics.
//!
//! Applications name herald's types through `herald` (it re-exports `herald-core`); the
//! README has a complete program.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use herald_kafka::{KafkaConfig, KafkaPublisher, KafkaSubscriber};
//! let kafka = KafkaConfig::new("127.0.0.1:9092");
//! herald_kafka::create_topics(&kafka, "orders", 8, 3).await?;
//! let producer = herald::Producer::new(KafkaPublisher::new(&kafka)?)
//!     .route("order.placed", "orders");
//! let subscriber = KafkaSubscriber::builder(&kafka, "billing").topic("orders").build()?;
//! let worker = herald::Worker::builder() /* .handler(...) */ .concurrency(64).build();
//! worker.run(subscriber, tokio::signal::ctrl_c()).await;
//! # let _ = producer; Ok(()) }
//! ```

mod admin;
mod config;
pub mod dlq;
mod error;
mod offsets;
mod publisher;
mod record;
mod subscriber;
#[cfg(feature = "testing")]
pub mod testing;
pub mod topics;
pub mod wire;

pub use admin::create_topics;
pub use config::KafkaConfig;
pub use error::KafkaError;
pub use publisher::{Compression, KafkaPublisher, KafkaPublisherBuilder};
pub use subscriber::{KafkaSubscriber, KafkaSubscriberBuilder, Lag, Ordering, RetryStrategy};

/// The header with the time (RFC 3339) a retry event is due; the retry topic's consumer
/// holds the partition until then.
pub const DUE_AT: &str = "herald-due-at";
