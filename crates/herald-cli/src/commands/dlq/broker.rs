//! The broker a `--broker` URL names, as the `DeadLetters` every transport implements. Each
//! kind exists only when the binary was built with its feature (`amqp`, `kafka`, `redis`,
//! `sqs`), so a schema-checks-only `herald` links no broker client; a URL for a kind left out
//! is an error that names the missing feature.

// Built with no broker feature, nothing constructs a `Broker`: every URL names a missing one.
#![cfg_attr(
    not(any(
        feature = "amqp",
        feature = "kafka",
        feature = "redis",
        feature = "sqs"
    )),
    allow(dead_code)
)]

use herald_core::DeadLetters;
use herald_core::dead_letters::{DeadLetterEntry, PurgeReport, ReplayReport, Selection};

use crate::registry_conn::redact_url;

pub(super) struct Broker {
    dead_letters: Box<dyn DeadLetters>,
    /// Kafka cannot delete records: its purge moves a position (the report says so).
    log: bool,
    /// A RabbitMQ connection to close when done.
    #[cfg(feature = "amqp")]
    amqp: Option<herald_amqp::Amqp>,
}

impl Broker {
    fn new(dead_letters: impl DeadLetters + 'static) -> Self {
        Broker {
            dead_letters: Box::new(dead_letters),
            log: false,
            #[cfg(feature = "amqp")]
            amqp: None,
        }
    }

    pub(super) async fn connect(url: &str) -> anyhow::Result<Self> {
        let scheme = url.split_once("://").map_or("", |(s, _)| s);
        match scheme {
            "kafka" => {
                let brokers = url["kafka://".len()..].trim_end_matches('/');
                anyhow::ensure!(!brokers.is_empty(), "no broker in `{url}`");
                kafka(brokers)
            }
            "redis" | "rediss" => redis(url).await,
            "sqs" => sqs(url["sqs://".len()..].trim_end_matches('/')).await,
            "amqp" | "amqps" => amqp(url).await,
            _ => anyhow::bail!(
                "unknown broker URL `{}`: use amqp://... (RabbitMQ), kafka://host:port (Kafka), \
                 redis://host:port (Redis Streams) or sqs:// / sqs://host:port (SQS)",
                redact_url(url)
            ),
        }
    }

    pub(super) async fn list(
        &self,
        queue: &str,
        selection: &Selection,
    ) -> anyhow::Result<Vec<DeadLetterEntry>> {
        Ok(self.dead_letters.list(queue, selection).await?)
    }

    pub(super) async fn replay(
        &self,
        queue: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> anyhow::Result<ReplayReport> {
        Ok(self.dead_letters.replay(queue, selection, dry_run).await?)
    }

    pub(super) async fn purge(
        &self,
        queue: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> anyhow::Result<PurgeReport> {
        Ok(self.dead_letters.purge(queue, selection, dry_run).await?)
    }

    pub(super) fn is_kafka(&self) -> bool {
        self.log
    }

    pub(super) async fn close(self) {
        #[cfg(feature = "amqp")]
        if let Some(amqp) = self.amqp {
            let _ = amqp.close().await;
        }
    }
}

#[cfg(feature = "kafka")]
fn kafka(brokers: &str) -> anyhow::Result<Broker> {
    let mut broker = Broker::new(herald_kafka::KafkaConfig::new(brokers).client_id("herald-cli"));
    broker.log = true;
    Ok(broker)
}

#[cfg(not(feature = "kafka"))]
fn kafka(_brokers: &str) -> anyhow::Result<Broker> {
    Err(built_without("kafka", "Kafka"))
}

#[cfg(feature = "amqp")]
async fn amqp(url: &str) -> anyhow::Result<Broker> {
    use anyhow::Context as _;
    use herald_amqp::{Amqp, AmqpConfig};
    let config = AmqpConfig::new(url).connect_timeout(std::time::Duration::from_secs(5));
    let amqp = Amqp::connect(config)
        .await
        .with_context(|| format!("cannot reach the broker at {}", redact_url(url)))?;
    let mut broker = Broker::new(amqp.clone());
    broker.amqp = Some(amqp);
    Ok(broker)
}

#[cfg(not(feature = "amqp"))]
async fn amqp(_url: &str) -> anyhow::Result<Broker> {
    Err(built_without("amqp", "RabbitMQ"))
}

#[cfg(feature = "redis")]
async fn redis(url: &str) -> anyhow::Result<Broker> {
    use anyhow::Context as _;
    let redis = herald_redis::streams::RedisStreams::connect(url)
        .await
        .with_context(|| format!("cannot reach Redis at {}", redact_url(url)))?;
    Ok(Broker::new(redis.dead_letters()))
}

#[cfg(not(feature = "redis"))]
async fn redis(_url: &str) -> anyhow::Result<Broker> {
    Err(built_without("redis", "Redis Streams"))
}

/// `sqs://` uses AWS's environment and profiles; `sqs://host:port` (or a full URL) an endpoint
/// such as moto.
#[cfg(feature = "sqs")]
async fn sqs(endpoint: &str) -> anyhow::Result<Broker> {
    let sqs = if endpoint.is_empty() {
        herald_sqs::Sqs::from_env().await
    } else if endpoint.contains("://") {
        herald_sqs::Sqs::from_env_at(endpoint).await
    } else {
        herald_sqs::Sqs::from_env_at(&format!("http://{endpoint}")).await
    };
    Ok(Broker::new(sqs.dead_letters()))
}

#[cfg(not(feature = "sqs"))]
async fn sqs(_endpoint: &str) -> anyhow::Result<Broker> {
    Err(built_without("sqs", "SQS"))
}

/// The error for a broker URL whose kind this binary was built without.
#[cfg(not(all(
    feature = "amqp",
    feature = "kafka",
    feature = "redis",
    feature = "sqs"
)))]
fn built_without(feature: &str, broker: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "this herald was built without the `{feature}` feature, so `herald dlq` cannot reach \
         {broker}: install herald-cli with `--features {feature}`"
    )
}
