//! What a transport implements. The shapes fit each broker's native mechanism:
//! RabbitMQ acks and nacks, Kafka commits offsets in order, SQS changes visibility,
//! Celery re-publishes with an eta (ARCHITECTURE.md, "The idempotency and delivery contract", has the table per broker).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::TransportError;
use crate::headers;

/// Message headers (Kafka headers, AMQP headers, SQS message attributes).
pub type Headers = BTreeMap<String, String>;

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// Where to: an exchange, topic or queue name.
    pub destination: String,
    /// The partition key (Kafka key, FIFO group id) or routing key.
    pub key: String,
    pub headers: Headers,
    pub payload: Vec<u8>,
}

/// Sends messages. `publish` returns once the broker has taken the message (confirm,
/// ack from all in-sync replicas, ...); an `Err` means it may not have.
#[async_trait]
pub trait Publisher: Send + Sync + 'static {
    async fn publish(&self, message: OutgoingMessage) -> Result<(), TransportError>;
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingMessage {
    /// The queue or topic it came from.
    pub source: String,
    pub key: Option<String>,
    pub headers: Headers,
    pub payload: Vec<u8>,
}

impl IncomingMessage {
    /// The attempt number (header `herald-attempt`, 1 when absent or unreadable).
    pub fn attempt(&self) -> u32 {
        self.headers
            .get(headers::ATTEMPT)
            .and_then(|a| a.parse().ok())
            .filter(|a| *a >= 1)
            .unwrap_or(1)
    }
}

/// Deliver the message again after `delay`, as a further attempt; `headers` replace the
/// message's headers (they carry the new attempt number and the last failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    pub delay: Duration,
    pub headers: Headers,
}

/// Move the message to the dead-letter queue; `headers` replace the message's headers and
/// say why (`herald-error`, `herald-handler`, `herald-attempts`, failure times, origin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub reason: String,
    pub headers: Headers,
}

/// Settles one delivery, with the broker's own mechanism.
#[async_trait]
pub trait Acknowledger: Send + Sync + 'static {
    /// Processing succeeded: the broker may forget the message.
    async fn ack(self: Box<Self>) -> Result<(), TransportError>;
    /// Processing failed and may succeed later.
    async fn retry(self: Box<Self>, retry: Retry) -> Result<(), TransportError>;
    /// Not processed (a duplicate is in progress elsewhere, or the worker shuts down):
    /// deliver again after `delay`, without counting an attempt.
    async fn requeue(self: Box<Self>, delay: Duration) -> Result<(), TransportError>;
    /// Processing failed for good.
    async fn dead_letter(self: Box<Self>, dead_letter: DeadLetter) -> Result<(), TransportError>;
}

/// A received message and the means to settle it. A delivery dropped without being
/// settled is redelivered by the broker (visibility timeout, closed channel, uncommitted offset).
pub struct Delivery {
    pub message: IncomingMessage,
    acker: Box<dyn Acknowledger>,
}

impl Delivery {
    pub fn new(message: IncomingMessage, acker: impl Acknowledger) -> Self {
        Delivery {
            message,
            acker: Box::new(acker),
        }
    }

    pub async fn ack(self) -> Result<(), TransportError> {
        self.acker.ack().await
    }

    pub async fn retry(self, retry: Retry) -> Result<(), TransportError> {
        self.acker.retry(retry).await
    }

    pub async fn requeue(self, delay: Duration) -> Result<(), TransportError> {
        self.acker.requeue(delay).await
    }

    pub async fn dead_letter(self, dead_letter: DeadLetter) -> Result<(), TransportError> {
        self.acker.dead_letter(dead_letter).await
    }
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

/// Yields deliveries from a queue, topic or subscription.
#[async_trait]
pub trait Subscriber: Send + 'static {
    /// The next delivery; `Ok(None)` once the subscriber is closed and drained.
    async fn recv(&mut self) -> Result<Option<Delivery>, TransportError>;

    /// Stops taking new messages (cancel the consumer); deliveries already handed out
    /// can still be settled.
    async fn close(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

/// A subscriber chosen at run time (the CLI's `--broker`, the conformance suite).
#[async_trait]
impl Subscriber for Box<dyn Subscriber> {
    async fn recv(&mut self) -> Result<Option<Delivery>, TransportError> {
        (**self).recv().await
    }

    async fn close(&mut self) -> Result<(), TransportError> {
        (**self).close().await
    }
}

/// A publisher shared or chosen at run time.
#[async_trait]
impl<P: Publisher + ?Sized> Publisher for std::sync::Arc<P> {
    async fn publish(&self, message: OutgoingMessage) -> Result<(), TransportError> {
        (**self).publish(message).await
    }
}
