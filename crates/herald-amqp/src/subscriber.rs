//! Consuming: prefetch, manual acks, retries through delay queues, dead-lettering.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use herald_core::{
    Acknowledger, DeadLetter, Delivery, Headers, IncomingMessage, Retry, Subscriber, TransportError,
};
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Consumer};

use crate::client::Amqp;
use crate::publisher::{Failure, publish_confirmed, to_field_table};
use crate::topology::{dead_letter_exchange, declare_retry_queue};
use crate::{AmqpError, PARTITION_KEY};

/// How long settling waits for the connection (to publish a retry or a dead letter).
const SETTLE_WAIT: Duration = Duration::from_secs(5);

/// Consumes one queue for a [`herald_core::Worker`].
///
/// - `prefetch` bounds the unacked deliveries the broker hands this consumer.
/// - `ack` after the handler succeeded; `retry` publishes the message (with its new
///   headers, confirmed) to the queue's retry queue for the delay, then acks the original;
///   `requeue` does the same without counting an attempt (a zero delay is a nack with
///   requeue); `dead_letter` publishes to the dead-letter exchange (confirmed), then acks.
/// - When the connection breaks, the broker requeues the unacked deliveries; `recv`
///   reports the loss once, then resumes on the new connection.
/// - `close` cancels the consumer; deliveries handed out can still be settled, and the
///   channel closes (returning prefetched, unhandled messages) once they all are.
pub struct AmqpSubscriber {
    amqp: Amqp,
    queue: String,
    prefetch: u16,
    current: Option<Consuming>,
    closed: bool,
}

struct Consuming {
    generation: u64,
    channel: Arc<ChannelGuard>,
    consumer: Consumer,
    tag: ShortString,
}

/// Closes its channel when the last user (the subscriber or an unsettled delivery) lets go.
struct ChannelGuard {
    channel: Channel,
}

impl Drop for ChannelGuard {
    fn drop(&mut self) {
        if !self.channel.status().connected() {
            return;
        }
        let channel = self.channel.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = channel.close(200, "herald: consumer done".into()).await;
            });
        }
    }
}

impl AmqpSubscriber {
    pub(crate) fn new(amqp: Amqp, queue: String) -> Self {
        AmqpSubscriber {
            amqp,
            queue,
            prefetch: 32,
            current: None,
            closed: false,
        }
    }

    /// How many unacked deliveries the broker sends ahead (default 32). Set it at least
    /// to the worker's concurrency.
    pub fn prefetch(mut self, prefetch: u16) -> Self {
        self.prefetch = prefetch.max(1);
        self
    }

    pub fn queue(&self) -> &str {
        &self.queue
    }

    async fn start(&mut self) -> Result<(), AmqpError> {
        let (generation, channel) = self.amqp.channel(None).await?;
        let guard = Arc::new(ChannelGuard {
            channel: channel.clone(),
        });
        channel
            .basic_qos(self.prefetch, BasicQosOptions::default())
            .await?;
        let tag: ShortString = format!("herald-{}-{}", self.queue, uuid::Uuid::new_v4().simple())
            .chars()
            .take(250)
            .collect::<String>()
            .into();
        let consumer = channel
            .basic_consume(
                self.queue.as_str().into(),
                tag.clone(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        self.current = Some(Consuming {
            generation,
            channel: guard,
            consumer,
            tag,
        });
        Ok(())
    }

    fn delivery(&self, consuming: &Consuming, d: lapin::message::Delivery) -> Delivery {
        let headers = from_field_table(d.properties.headers().as_ref());
        let key = headers
            .get(PARTITION_KEY)
            .cloned()
            .or_else(|| Some(d.routing_key.to_string()).filter(|k| !k.is_empty()));
        let message = IncomingMessage {
            source: self.queue.clone(),
            key,
            headers,
            payload: d.data.clone(),
        };
        let acker = AmqpAcker {
            amqp: self.amqp.clone(),
            channel: consuming.channel.clone(),
            generation: consuming.generation,
            tag: d.delivery_tag,
            queue: self.queue.clone(),
            properties: d.properties,
            payload: d.data,
        };
        Delivery::new(message, acker)
    }
}

#[async_trait]
impl Subscriber for AmqpSubscriber {
    async fn recv(&mut self) -> Result<Option<Delivery>, TransportError> {
        loop {
            if self.closed {
                return Ok(None);
            }
            if self.current.is_none()
                && let Err(e) = self.start().await
            {
                return match e {
                    AmqpError::Closed => Ok(None),
                    other => Err(TransportError::from(other)),
                };
            }
            let Some(consuming) = self.current.as_mut() else {
                continue;
            };
            let next = consuming.consumer.next().await;
            match next {
                Some(Ok(d)) => {
                    let consuming = self.current.as_ref().expect("set above");
                    return Ok(Some(self.delivery(consuming, d)));
                }
                Some(Err(e)) => {
                    let generation = consuming.generation;
                    self.current = None;
                    self.amqp.connection_lost(generation);
                    return Err(TransportError::Connection(format!(
                        "consuming `{}`: {e}; resuming after reconnect",
                        self.queue
                    )));
                }
                None => {
                    let generation = consuming.generation;
                    self.current = None;
                    if self.closed {
                        return Ok(None);
                    }
                    self.amqp.connection_lost(generation);
                    return Err(TransportError::Connection(format!(
                        "the consumer of `{}` was cancelled (connection lost or queue deleted); resuming",
                        self.queue
                    )));
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), TransportError> {
        self.closed = true;
        if let Some(consuming) = self.current.take()
            && consuming.channel.channel.status().connected()
        {
            consuming
                .channel
                .channel
                .basic_cancel(consuming.tag.clone(), BasicCancelOptions::default())
                .await
                .map_err(|e| TransportError::from(AmqpError::from(e)))?;
            // Prefetched deliveries not handed out stay unacked: the broker requeues them
            // when the channel closes, after the last handed-out delivery is settled.
        }
        Ok(())
    }
}

impl fmt::Debug for AmqpSubscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpSubscriber")
            .field("queue", &self.queue)
            .field("prefetch", &self.prefetch)
            .field("consuming", &self.current.is_some())
            .field("closed", &self.closed)
            .finish()
    }
}

/// Settles one delivery on the channel it came from.
struct AmqpAcker {
    amqp: Amqp,
    channel: Arc<ChannelGuard>,
    generation: u64,
    tag: u64,
    queue: String,
    properties: BasicProperties,
    payload: Vec<u8>,
}

impl fmt::Debug for AmqpAcker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpAcker")
            .field("queue", &self.queue)
            .field("tag", &self.tag)
            .finish_non_exhaustive()
    }
}

impl AmqpAcker {
    fn settle_error(&self, e: lapin::Error) -> TransportError {
        self.amqp.connection_lost(self.generation);
        TransportError::Connection(format!(
            "settling delivery {} of `{}`: {e} (the broker redelivers it)",
            self.tag, self.queue
        ))
    }

    async fn ack_original(&self) -> Result<(), TransportError> {
        self.channel
            .channel
            .basic_ack(self.tag, BasicAckOptions::default())
            .await
            .map_err(|e| self.settle_error(e))
    }

    /// Gives the original back to the queue: used when the message could not be moved
    /// where it should go, so that it is neither stuck unacked nor lost. After a pause, so
    /// that a persistent failure (no dead-letter exchange, say) is not a hot loop.
    async fn nack_requeue(&self) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Err(e) = self
            .channel
            .channel
            .basic_nack(
                self.tag,
                BasicNackOptions {
                    requeue: true,
                    ..BasicNackOptions::default()
                },
            )
            .await
        {
            tracing::warn!(error = %e, queue = %self.queue, "could not requeue; the broker redelivers it when the channel closes");
        }
    }

    /// Publishes a copy of the message (with `headers`) and acks the original.
    async fn move_to(
        &self,
        exchange: &str,
        routing_key: &str,
        headers: &Headers,
        declare_delay: Option<Duration>,
    ) -> Result<(), TransportError> {
        let result: Result<(), TransportError> = async {
            let (_, channel) = self
                .amqp
                .internal_channel(Some(SETTLE_WAIT))
                .await
                .map_err(TransportError::from)?;
            let routing_key = match declare_delay {
                Some(delay) => declare_retry_queue(&channel, &self.queue, delay)
                    .await
                    .map_err(|e| TransportError::from(AmqpError::from(e)))?,
                None => routing_key.to_owned(),
            };
            let properties = self
                .properties
                .clone()
                .with_headers(to_field_table(headers));
            publish_confirmed(&channel, exchange, &routing_key, &self.payload, properties)
                .await
                .map_err(|f| match f {
                    Failure::Refused(why) => TransportError::Rejected(why),
                    Failure::Channel(e) => TransportError::from(AmqpError::from(e)),
                })
        }
        .await;
        match result {
            Ok(()) => self.ack_original().await,
            Err(e) => {
                self.nack_requeue().await;
                Err(e)
            }
        }
    }
}

#[async_trait]
impl Acknowledger for AmqpAcker {
    async fn ack(self: Box<Self>) -> Result<(), TransportError> {
        self.ack_original().await
    }

    async fn retry(self: Box<Self>, retry: Retry) -> Result<(), TransportError> {
        if retry.delay.is_zero() {
            // Straight back to the end of the queue, with the new headers.
            return self.move_to("", &self.queue, &retry.headers, None).await;
        }
        self.move_to("", "", &retry.headers, Some(retry.delay))
            .await
    }

    async fn requeue(self: Box<Self>, delay: Duration) -> Result<(), TransportError> {
        if delay.is_zero() {
            return self
                .channel
                .channel
                .basic_nack(
                    self.tag,
                    BasicNackOptions {
                        requeue: true,
                        ..BasicNackOptions::default()
                    },
                )
                .await
                .map_err(|e| self.settle_error(e));
        }
        let headers = from_field_table(self.properties.headers().as_ref());
        self.move_to("", "", &headers, Some(delay)).await
    }

    async fn dead_letter(self: Box<Self>, dead_letter: DeadLetter) -> Result<(), TransportError> {
        let mut headers = dead_letter.headers;
        headers
            .entry(herald_core::headers::ERROR.to_owned())
            .or_insert(dead_letter.reason);
        headers
            .entry(herald_core::headers::ORIGIN.to_owned())
            .or_insert_with(|| self.queue.clone());
        let dlx = dead_letter_exchange(&self.queue);
        self.move_to(&dlx, &self.queue.clone(), &headers, None)
            .await
    }
}

/// AMQP headers as herald headers: strings, numbers and booleans; RabbitMQ's own tables
/// (`x-death`) are left out, so a retried message starts no dead-letter cycle.
pub(crate) fn from_field_table(table: Option<&FieldTable>) -> Headers {
    let mut headers = Headers::new();
    let Some(table) = table else {
        return headers;
    };
    for (name, value) in table.inner() {
        let text = match value {
            AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
            AMQPValue::ShortString(s) => s.to_string(),
            AMQPValue::Boolean(b) => b.to_string(),
            AMQPValue::ShortShortInt(n) => n.to_string(),
            AMQPValue::ShortShortUInt(n) => n.to_string(),
            AMQPValue::ShortInt(n) => n.to_string(),
            AMQPValue::ShortUInt(n) => n.to_string(),
            AMQPValue::LongInt(n) => n.to_string(),
            AMQPValue::LongUInt(n) => n.to_string(),
            AMQPValue::LongLongInt(n) => n.to_string(),
            AMQPValue::Timestamp(n) => n.to_string(),
            AMQPValue::Float(n) => n.to_string(),
            AMQPValue::Double(n) => n.to_string(),
            _ => continue,
        };
        headers.insert(name.to_string(), text);
    }
    headers
}
