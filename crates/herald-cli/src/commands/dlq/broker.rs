//! The broker a `--broker` URL names. Each kind exists only when the binary was built with its
//! feature (`amqp`, `kafka`), so a schema-checks-only `herald` links no broker client; a URL
//! for a kind left out is an error that names the missing feature.

// Built with neither feature, `Broker` has no variant: `connect` always fails, and the methods
// below are unreachable code with unused arguments.
#![cfg_attr(
    not(any(feature = "amqp", feature = "kafka")),
    allow(unreachable_code, unused_variables)
)]

use herald_core::dead_letters::{DeadLetterEntry, PurgeReport, ReplayReport, Selection};

use crate::registry_conn::redact_url;

// The arms below match `*self` with `ref` bindings: built without both features, the enum has
// no variant and only a match on the value itself (not on a reference) may have no arm.
pub(super) enum Broker {
    #[cfg(feature = "amqp")]
    Amqp(herald_amqp::Amqp),
    #[cfg(feature = "kafka")]
    Kafka(herald_kafka::KafkaConfig),
}

impl Broker {
    pub(super) async fn connect(url: &str) -> anyhow::Result<Self> {
        if let Some(brokers) = url.strip_prefix("kafka://") {
            let brokers = brokers.trim_end_matches('/');
            anyhow::ensure!(!brokers.is_empty(), "no broker in `{url}`");
            return Self::kafka(brokers);
        }
        anyhow::ensure!(
            url.starts_with("amqp://") || url.starts_with("amqps://"),
            "unknown broker URL `{}`: use amqp://... (RabbitMQ) or kafka://host:port (Kafka)",
            redact_url(url)
        );
        Self::amqp(url).await
    }

    #[cfg(feature = "kafka")]
    fn kafka(brokers: &str) -> anyhow::Result<Self> {
        Ok(Broker::Kafka(
            herald_kafka::KafkaConfig::new(brokers).client_id("herald-cli"),
        ))
    }

    #[cfg(not(feature = "kafka"))]
    fn kafka(_brokers: &str) -> anyhow::Result<Self> {
        Err(built_without("kafka", "Kafka"))
    }

    #[cfg(feature = "amqp")]
    async fn amqp(url: &str) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        use herald_amqp::{Amqp, AmqpConfig};
        let config = AmqpConfig::new(url).connect_timeout(std::time::Duration::from_secs(5));
        let amqp = Amqp::connect(config)
            .await
            .with_context(|| format!("cannot reach the broker at {}", redact_url(url)))?;
        Ok(Broker::Amqp(amqp))
    }

    #[cfg(not(feature = "amqp"))]
    async fn amqp(_url: &str) -> anyhow::Result<Self> {
        Err(built_without("amqp", "RabbitMQ"))
    }

    pub(super) async fn list(
        &self,
        queue: &str,
        selection: &Selection,
    ) -> anyhow::Result<Vec<DeadLetterEntry>> {
        Ok(match *self {
            #[cfg(feature = "amqp")]
            Broker::Amqp(ref amqp) => herald_amqp::dlq::list(amqp, queue, selection).await?,
            #[cfg(feature = "kafka")]
            Broker::Kafka(ref kafka) => herald_kafka::dlq::list(kafka, queue, selection).await?,
        })
    }

    pub(super) async fn replay(
        &self,
        queue: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> anyhow::Result<ReplayReport> {
        Ok(match *self {
            #[cfg(feature = "amqp")]
            Broker::Amqp(ref amqp) => {
                herald_amqp::dlq::replay(amqp, queue, selection, dry_run).await?
            }
            #[cfg(feature = "kafka")]
            Broker::Kafka(ref kafka) => {
                herald_kafka::dlq::replay(kafka, queue, selection, dry_run).await?
            }
        })
    }

    pub(super) async fn purge(
        &self,
        queue: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> anyhow::Result<PurgeReport> {
        Ok(match *self {
            #[cfg(feature = "amqp")]
            Broker::Amqp(ref amqp) => {
                herald_amqp::dlq::purge(amqp, queue, selection, dry_run).await?
            }
            #[cfg(feature = "kafka")]
            Broker::Kafka(ref kafka) => {
                herald_kafka::dlq::purge(kafka, queue, selection, dry_run).await?
            }
        })
    }

    pub(super) fn is_kafka(&self) -> bool {
        match *self {
            #[cfg(feature = "amqp")]
            Broker::Amqp(_) => false,
            #[cfg(feature = "kafka")]
            Broker::Kafka(_) => true,
        }
    }

    pub(super) async fn close(self) {
        match self {
            #[cfg(feature = "amqp")]
            Broker::Amqp(amqp) => {
                let _ = amqp.close().await;
            }
            #[cfg(feature = "kafka")]
            Broker::Kafka(_) => {}
        }
    }
}

/// The error for a broker URL whose kind this binary was built without.
#[cfg(not(all(feature = "amqp", feature = "kafka")))]
fn built_without(feature: &str, broker: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "this herald was built without the `{feature}` feature, so `herald dlq` cannot reach \
         {broker}: install herald-cli with `--features {feature}` (the default features include it)"
    )
}
