//! For tests against a real Kafka-API broker (tansu on 127.0.0.1:9092, or
//! `HERALD_KAFKA_BROKERS`): the client settings, fresh names and topics, shared by this
//! crate's tests and the workspace's end-to-end suites.

use std::time::Duration;

use crate::KafkaConfig;

/// The brokers tests use.
pub fn brokers() -> String {
    std::env::var("HERALD_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_owned())
}

/// The tests' client settings for [`brokers`].
pub fn config() -> KafkaConfig {
    config_at(&brokers())
}

/// The tests' client settings for the broker at `brokers`.
pub fn config_at(brokers: &str) -> KafkaConfig {
    KafkaConfig::new(brokers)
        .client_id("herald-test")
        // One record per batch. tansu (0.6.0) answers a fetch from an offset inside a
        // record batch with nothing of that batch, so a consumer resuming from a commit in
        // the middle of a batch would skip the batch's rest (Apache Kafka returns the batch
        // and the client skips the records before the offset). See the crate README.
        .set("batch.num.messages", "1")
}

/// A name no other test (or run) uses.
pub fn unique(what: &str) -> String {
    format!(
        "herald-test.{what}.{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// Creates a fresh topic with its retry topics and DLQ, or fails saying how to start the
/// broker.
pub async fn topic(what: &str, partitions: i32) -> String {
    topic_at(&brokers(), what, partitions).await
}

/// [`topic`] on the broker at `brokers`.
pub async fn topic_at(brokers: &str, what: &str, partitions: i32) -> String {
    let topic = unique(what);
    if let Err(e) = tokio::time::timeout(
        Duration::from_secs(30),
        crate::create_topics(&config_at(brokers), &topic, partitions, 3),
    )
    .await
    .unwrap_or_else(|_| panic!("no answer from Kafka at {brokers} within 30 s"))
    {
        panic!(
            "cannot create topics on Kafka at {brokers} ({e}): start it with `scripts/services` (or set HERALD_KAFKA_BROKERS)"
        );
    }
    topic
}
