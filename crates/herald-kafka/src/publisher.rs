//! Publishing: an idempotent producer (acks=all), the partition key as the Kafka key, the
//! routing metadata as Kafka headers, delivery awaited.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use herald_core::{Headers, OutgoingMessage, Publisher, TransportError};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

use crate::{KafkaConfig, KafkaError};

/// The codec Kafka batches are compressed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    /// The default: cheap on CPU, good on JSON.
    #[default]
    Lz4,
    /// Needs a librdkafka built with zstd.
    Zstd,
}

impl Compression {
    fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

/// A [`Publisher`] for Kafka. Cheap to clone (one producer underneath).
#[derive(Clone)]
pub struct KafkaPublisher {
    inner: Arc<Inner>,
}

struct Inner {
    producer: FutureProducer,
    /// How long a send may wait for room in the local queue.
    queue_timeout: Duration,
    max_payload: usize,
    #[cfg(feature = "registry")]
    wire: Option<crate::wire::WireFormat>,
}

/// Builds a [`KafkaPublisher`].
#[derive(Debug)]
pub struct KafkaPublisherBuilder {
    config: KafkaConfig,
    compression: Compression,
    linger: Duration,
    delivery_timeout: Duration,
    max_payload: usize,
    #[cfg(feature = "registry")]
    wire: Option<crate::wire::WireFormat>,
}

/// The default largest value: under Kafka's default 1 MB limit (`message.max.bytes`) with
/// room for the key and headers.
const DEFAULT_MAX_PAYLOAD: usize = 900 << 10;

impl KafkaPublisher {
    /// A publisher with the defaults (lz4, linger 5 ms, delivery timeout 30 s).
    pub fn new(config: &KafkaConfig) -> Result<Self, KafkaError> {
        Self::builder(config).build()
    }

    pub fn builder(config: &KafkaConfig) -> KafkaPublisherBuilder {
        KafkaPublisherBuilder {
            config: config.clone(),
            compression: Compression::default(),
            linger: Duration::from_millis(5),
            delivery_timeout: Duration::from_secs(30),
            max_payload: DEFAULT_MAX_PAYLOAD,
            #[cfg(feature = "registry")]
            wire: None,
        }
    }

    /// Sends one record and waits until every in-sync replica has it.
    pub async fn send(
        &self,
        topic: &str,
        key: Option<&str>,
        headers: &Headers,
        payload: &[u8],
    ) -> Result<(), KafkaError> {
        if payload.len() > self.inner.max_payload {
            return Err(KafkaError::PayloadTooLarge {
                size: payload.len(),
                max: self.inner.max_payload,
            });
        }
        let mut h = OwnedHeaders::new_with_capacity(headers.len());
        for (name, value) in headers {
            h = h.insert(Header {
                key: name,
                value: Some(value.as_bytes()),
            });
        }
        let mut record = FutureRecord::<str, [u8]>::to(topic)
            .payload(payload)
            .headers(h);
        if let Some(key) = key {
            record = record.key(key);
        }
        self.inner
            .producer
            .send(record, Timeout::After(self.inner.queue_timeout))
            .await
            .map(|_| ())
            .map_err(|(e, _)| KafkaError::Client(e))
    }

    /// Waits until every record sent so far is delivered (or `timeout` passes).
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        Ok(self.inner.producer.flush(timeout)?)
    }
}

impl KafkaPublisherBuilder {
    pub fn compression(mut self, c: Compression) -> Self {
        self.compression = c;
        self
    }

    /// How long the producer waits to fill a batch (`linger.ms`, default 5 ms).
    pub fn linger(mut self, d: Duration) -> Self {
        self.linger = d;
        self
    }

    /// How long a record may take to be delivered, retries included
    /// (`message.timeout.ms`, default 30 s).
    pub fn delivery_timeout(mut self, d: Duration) -> Self {
        self.delivery_timeout = d;
        self
    }

    /// The largest value `publish` sends (default 900 KiB); a larger one is refused before
    /// sending. Raising it needs the broker's `message.max.bytes` (and the topic's
    /// `max.message.bytes`) raised too.
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// Sends values in the Confluent wire format, with schema ids from a registry.
    #[cfg(feature = "registry")]
    pub fn wire_format(mut self, wire: crate::wire::WireFormat) -> Self {
        self.wire = Some(wire);
        self
    }

    pub fn build(self) -> Result<KafkaPublisher, KafkaError> {
        let producer: FutureProducer = self
            .config
            .client_config(&[
                ("acks", "all".into()),
                ("enable.idempotence", "true".into()),
                ("linger.ms", self.linger.as_millis().to_string()),
                ("compression.type", self.compression.as_str().into()),
                (
                    "message.timeout.ms",
                    self.delivery_timeout.as_millis().to_string(),
                ),
                // The client's own limit stays above ours, with room for key and headers,
                // so the refusal is ours and says why.
                (
                    "message.max.bytes",
                    (self.max_payload.max(DEFAULT_MAX_PAYLOAD) + (256 << 10)).to_string(),
                ),
            ])
            .create()
            .map_err(|e| KafkaError::Config(e.to_string()))?;
        Ok(KafkaPublisher {
            inner: Arc::new(Inner {
                producer,
                queue_timeout: Duration::from_secs(5),
                max_payload: self.max_payload,
                #[cfg(feature = "registry")]
                wire: self.wire,
            }),
        })
    }
}

#[async_trait]
impl Publisher for KafkaPublisher {
    async fn publish(&self, message: OutgoingMessage) -> Result<(), TransportError> {
        let key = Some(message.key.as_str()).filter(|k| !k.is_empty());
        #[cfg(feature = "registry")]
        if let Some(wire) = &self.inner.wire {
            let framed = wire.frame(&message).await?;
            return Ok(self
                .send(&message.destination, key, &message.headers, &framed)
                .await?);
        }
        Ok(self
            .send(
                &message.destination,
                key,
                &message.headers,
                &message.payload,
            )
            .await?)
    }
}

impl std::fmt::Debug for KafkaPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaPublisher").finish_non_exhaustive()
    }
}
