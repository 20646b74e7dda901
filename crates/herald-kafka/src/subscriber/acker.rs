//! Settling a Kafka delivery: finishing its offset, or re-producing it to a retry topic
//! or the DLQ first. A re-produce that fails keeps the event here and tries it again
//! later: nothing is committed past an event that has not landed somewhere.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use herald_core::{Acknowledger, DeadLetter, Headers, IncomingMessage, Retry, TransportError};

use super::state::{Pending, Settled, Shared, Tp};
use crate::{DUE_AT, KafkaPublisher, RetryStrategy, topics, wire};

/// What every acker of a subscriber shares.
pub(crate) struct Sink {
    pub publisher: KafkaPublisher,
    pub strategy: RetryStrategy,
    pub retry_topics: u32,
}

pub(crate) struct KafkaAcker {
    pub shared: Arc<Shared>,
    pub sink: Arc<Sink>,
    pub tp: Tp,
    pub epoch: u64,
    pub offset: i64,
    pub gate: Option<String>,
    /// A copy of the message, to re-produce or deliver again.
    pub key: Option<String>,
    pub headers: Headers,
    pub payload: Vec<u8>,
    /// Set when the value came framed in the Confluent wire format: what this acker
    /// produces to a retry topic or the DLQ is framed the same way, so the topic's
    /// consumers (and a replay to the source topic) see what was published.
    pub schema_id: Option<u32>,
}

impl KafkaAcker {
    fn finish(&self, how: Settled) {
        self.shared
            .settle(&self.tp, self.epoch, self.offset, self.gate.as_deref(), how);
    }

    /// Delivers the event again from this consumer after `delay`; its offset stays
    /// uncommitted and its key's later events wait behind it.
    fn again_later(self, headers: Headers, delay: Duration) {
        self.shared.set_aside(&self.tp, self.epoch);
        let pending = Pending {
            message: IncomingMessage {
                source: self.tp.0.to_string(),
                key: self.key,
                headers,
                payload: self.payload,
            },
            tp: self.tp,
            epoch: self.epoch,
            offset: self.offset,
            gate: self.gate,
            schema_id: self.schema_id,
        };
        let shared = self.shared;
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            shared.redeliver(pending);
        });
    }

    fn base(&self) -> &str {
        topics::base_topic(&self.tp.0)
    }
}

/// How long a failed re-produce waits before the event is tried again.
const REPRODUCE_BACKOFF: Duration = Duration::from_secs(1);

#[async_trait]
impl Acknowledger for KafkaAcker {
    async fn ack(self: Box<Self>) -> Result<(), TransportError> {
        self.finish(Settled::Finished);
        Ok(())
    }

    async fn retry(self: Box<Self>, retry: Retry) -> Result<(), TransportError> {
        if self.sink.strategy == RetryStrategy::BlockKey || self.sink.retry_topics == 0 {
            self.again_later(retry.headers, retry.delay);
            return Ok(());
        }
        let failed_attempt = retry
            .headers
            .get(herald_core::headers::ATTEMPT)
            .and_then(|a| a.parse::<u32>().ok())
            .map_or(1, |next| next.saturating_sub(1).max(1));
        let level = failed_attempt.min(self.sink.retry_topics);
        let topic = topics::retry_topic(self.base(), level);
        let mut headers = retry.headers;
        let due = Utc::now()
            + chrono::Duration::from_std(retry.delay).unwrap_or(chrono::Duration::zero());
        headers.insert(
            DUE_AT.into(),
            due.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        );
        // Should the retry topic refuse it, the retry happens here instead.
        let mut here = headers.clone();
        here.remove(DUE_AT);
        self.move_to(&topic, &headers, here, retry.delay.max(REPRODUCE_BACKOFF))
            .await
    }

    async fn requeue(self: Box<Self>, delay: Duration) -> Result<(), TransportError> {
        if delay.is_zero() {
            // Shutdown hands it back: left uncommitted for the partition's next owner.
            self.finish(Settled::HandedBack);
        } else {
            // Not an attempt: same headers, same place in its key's order.
            let headers = self.headers.clone();
            self.again_later(headers, delay);
        }
        Ok(())
    }

    async fn dead_letter(self: Box<Self>, dead: DeadLetter) -> Result<(), TransportError> {
        let topic = topics::dlq_topic(self.base());
        let mut headers = dead.headers;
        // Replay goes to the topic, not to the retry topic it was last read from.
        headers.insert(herald_core::headers::ORIGIN.into(), self.base().to_owned());
        headers.remove(DUE_AT);
        // Should the DLQ refuse it, the event is processed again, as it came.
        let original = self.headers.clone();
        self.move_to(&topic, &headers, original, REPRODUCE_BACKOFF)
            .await
    }
}

impl KafkaAcker {
    /// Produces the event to `topic`, after which its offset may be committed. If the
    /// broker does not take it, the event stays here, uncommitted, and comes again after
    /// `delay` with `fallback` headers.
    async fn move_to(
        self: Box<Self>,
        topic: &str,
        headers: &Headers,
        fallback: Headers,
        delay: Duration,
    ) -> Result<(), TransportError> {
        let framed = self.schema_id.map(|id| wire::frame(id, &self.payload));
        let value = framed.as_deref().unwrap_or(&self.payload);
        match self
            .sink
            .publisher
            .send(topic, self.key.as_deref(), headers, value)
            .await
        {
            Ok(()) => {
                self.finish(Settled::Finished);
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, topic, "could not produce the event; it stays here and comes again");
                self.again_later(fallback, delay);
                Err(e.into())
            }
        }
    }
}
