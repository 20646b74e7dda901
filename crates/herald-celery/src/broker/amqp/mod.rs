//! RabbitMQ as Celery uses it: headers in the AMQP headers table, the raw JSON body,
//! the default exchange with routing key = queue, and the queue declared exactly as
//! Celery declares it (durable, no arguments, its direct exchange of the same name).

mod table;

use std::sync::Arc;

use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, BasicRejectOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use super::{Acker, Delivery};
use crate::CeleryError;
use crate::protocol::{MalformedMessage, Properties, TaskMessage};

const EVENT_EXCHANGE: &str = "celeryev";

/// A connection to RabbitMQ; clones share it and its publishing channel.
#[derive(Clone)]
pub struct AmqpBroker {
    url: String,
    /// Replaced by a new connection when the old one is found closed.
    conn: Arc<Mutex<Arc<Connection>>>,
    publisher: Arc<Mutex<Option<Channel>>>,
    declared: Arc<Mutex<std::collections::HashSet<String>>>,
}

impl std::fmt::Debug for AmqpBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpBroker").finish_non_exhaustive()
    }
}

/// Celery's `amqp://host:port/` and `amqp://host:port` mean the vhost `/`.
fn normalize(url: &str) -> String {
    let url = url.replacen("pyamqp://", "amqp://", 1);
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        None => format!("{url}/%2f"),
        Some(i) if after_scheme + i + 1 == url.len() => format!("{url}%2f"),
        Some(_) => url,
    }
}

impl AmqpBroker {
    pub async fn connect(url: &str) -> Result<Self, CeleryError> {
        let url = normalize(url);
        let conn = Self::open(&url).await?;
        Ok(AmqpBroker {
            url,
            conn: Arc::new(Mutex::new(Arc::new(conn))),
            publisher: Arc::default(),
            declared: Arc::default(),
        })
    }

    async fn open(url: &str) -> Result<Connection, CeleryError> {
        Connection::connect(url, ConnectionProperties::default())
            .await
            .map_err(|e| CeleryError::Url {
                url: herald_core::redact_url(url),
                reason: e.to_string(),
            })
    }

    /// The connection, opened again if it was closed (a broker restart, a network cut).
    async fn connection(&self) -> Result<Arc<Connection>, CeleryError> {
        let mut slot = self.conn.lock().await;
        if !slot.status().connected() {
            tracing::warn!("the RabbitMQ connection is closed; reconnecting");
            *slot = Arc::new(Self::open(&self.url).await?);
        }
        Ok(slot.clone())
    }

    /// Declares `queue` as Celery does: a durable direct exchange of the same name, a
    /// durable queue without arguments, bound with the queue name. RabbitMQ refuses a
    /// redeclaration with other arguments, so this must match Python's exactly.
    pub async fn declare_queue(&self, queue: &str) -> Result<(), CeleryError> {
        let mut declared = self.declared.lock().await;
        if declared.contains(queue) {
            return Ok(());
        }
        let ch = self.connection().await?.create_channel().await?;
        ch.exchange_declare(
            queue.into(),
            ExchangeKind::Direct,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
        ch.queue_declare(
            queue.into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
        ch.queue_bind(
            queue.into(),
            queue.into(),
            queue.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
        let _ = ch.close(200, "declared".into()).await;
        declared.insert(queue.to_owned());
        Ok(())
    }

    async fn channel(&self) -> Result<Channel, CeleryError> {
        let mut slot = self.publisher.lock().await;
        if let Some(ch) = &*slot
            && ch.status().connected()
        {
            return Ok(ch.clone());
        }
        let ch = self.connection().await?.create_channel().await?;
        ch.confirm_select(ConfirmSelectOptions::default()).await?;
        *slot = Some(ch.clone());
        Ok(ch)
    }

    /// Publishes to the default exchange with routing key = queue, persistent, and waits
    /// for the broker's confirm.
    pub async fn publish(&self, queue: &str, message: &TaskMessage) -> Result<(), CeleryError> {
        self.declare_queue(queue).await?;
        let headers = match serde_json::to_value(&message.headers) {
            Ok(Value::Object(m)) => table::to_table(&m),
            _ => FieldTable::default(),
        };
        let p = &message.properties;
        let mut props = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_content_encoding("utf-8".into())
            .with_headers(headers)
            .with_delivery_mode(p.delivery_mode)
            .with_priority(p.priority)
            .with_correlation_id(p.correlation_id.as_str().into());
        if let Some(r) = &p.reply_to {
            props = props.with_reply_to(r.as_str().into());
        }
        let ch = self.channel().await?;
        ch.basic_publish(
            ShortString::from(""),
            queue.into(),
            BasicPublishOptions::default(),
            &message.body_json(),
            props,
        )
        .await?
        .await?;
        Ok(())
    }

    /// Publishes a worker event to the topic exchange `celeryev` (durable, as Celery
    /// declares it), transient, with the `hostname` header.
    pub async fn publish_event(
        &self,
        routing_key: &str,
        event: &Value,
        hostname: &str,
    ) -> Result<(), CeleryError> {
        let ch = self.channel().await?;
        if !self.declared.lock().await.contains(EVENT_EXCHANGE) {
            ch.exchange_declare(
                EVENT_EXCHANGE.into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
            self.declared.lock().await.insert(EVENT_EXCHANGE.to_owned());
        }
        let mut headers = FieldTable::default();
        headers.insert(
            "hostname".into(),
            lapin::types::AMQPValue::LongString(hostname.into()),
        );
        let props = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_content_encoding("utf-8".into())
            .with_headers(headers)
            .with_delivery_mode(1);
        ch.basic_publish(
            EVENT_EXCHANGE.into(),
            routing_key.into(),
            BasicPublishOptions::default(),
            event.to_string().as_bytes(),
            props,
        )
        .await?
        .await?;
        Ok(())
    }

    pub async fn consumer(&self, queue: &str, prefetch: u16) -> Result<AmqpConsumer, CeleryError> {
        self.declare_queue(queue).await?;
        let ch = self.connection().await?.create_channel().await?;
        ch.basic_qos(prefetch.max(1), BasicQosOptions::default())
            .await?;
        let tag = format!("herald-celery-{}", uuid::Uuid::new_v4().simple());
        let consumer = ch
            .basic_consume(
                queue.into(),
                tag.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok(AmqpConsumer {
            channel: ch,
            consumer,
            queue: queue.to_owned(),
            closed: false,
        })
    }
}

/// Consumes one queue with manual acks and a prefetch window.
pub struct AmqpConsumer {
    channel: Channel,
    consumer: lapin::Consumer,
    queue: String,
    closed: bool,
}

impl std::fmt::Debug for AmqpConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpConsumer")
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

fn decode(d: &lapin::message::Delivery) -> Result<TaskMessage, MalformedMessage> {
    let props = &d.properties;
    let headers = props
        .headers()
        .as_ref()
        .map(table::from_table)
        .ok_or_else(|| MalformedMessage::new("the message has no headers table"))?;
    if let Some(ct) = props.content_type()
        && ct.as_str() != "application/json"
    {
        return Err(MalformedMessage {
            task_id: headers.get("id").and_then(Value::as_str).map(str::to_owned),
            reason: format!("content-type `{ct}`: only the JSON serializer is supported"),
        });
    }
    let properties = Properties {
        correlation_id: props
            .correlation_id()
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        reply_to: props.reply_to().as_ref().map(ToString::to_string),
        priority: props.priority().unwrap_or(0),
        delivery_mode: props.delivery_mode().unwrap_or(2),
    };
    TaskMessage::from_parts(Value::Object(headers), properties, &d.data)
}

impl AmqpConsumer {
    pub async fn recv(
        &mut self,
        stop: &CancellationToken,
    ) -> Result<Option<Delivery>, CeleryError> {
        if self.closed {
            return Ok(None);
        }
        // Cancel-safe: a delivery not taken stays with lapin and is requeued at close.
        let next = tokio::select! {
            () = stop.cancelled() => return Ok(None),
            next = self.consumer.next() => next,
        };
        match next {
            Some(Ok(d)) => Ok(Some(Delivery {
                message: decode(&d),
                queue: self.queue.clone(),
                acker: Acker::Amqp(AmqpAcker {
                    channel: self.channel.clone(),
                    tag: d.delivery_tag,
                }),
            })),
            Some(Err(e)) => Err(e.into()),
            None => Err(CeleryError::Other(format!(
                "the consumer of `{}` ended (channel or connection closed)",
                self.queue
            ))),
        }
    }

    /// Whether the channel is gone, so a new consumer is needed.
    pub fn is_broken(&self) -> bool {
        !self.channel.status().connected()
    }

    /// Closes the channel: RabbitMQ requeues what it holds unacked.
    pub async fn close(&mut self) -> Result<(), CeleryError> {
        self.closed = true;
        if self.channel.status().connected() {
            self.channel
                .close(200, "herald-celery: stop".into())
                .await?;
        }
        Ok(())
    }
}

/// Settles one RabbitMQ delivery (`basic.ack` / `basic.reject`, never nack, as Celery).
pub struct AmqpAcker {
    channel: Channel,
    tag: u64,
}

impl std::fmt::Debug for AmqpAcker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpAcker").field("tag", &self.tag).finish()
    }
}

impl AmqpAcker {
    pub async fn ack(self) -> Result<(), CeleryError> {
        self.channel
            .basic_ack(self.tag, BasicAckOptions::default())
            .await?;
        Ok(())
    }

    pub async fn reject(self, requeue: bool) -> Result<(), CeleryError> {
        self.channel
            .basic_reject(self.tag, BasicRejectOptions { requeue })
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn celery_urls_name_the_default_vhost() {
        assert_eq!(normalize("amqp://g:g@h:5672//"), "amqp://g:g@h:5672//");
        assert_eq!(normalize("amqp://g:g@h:5672/"), "amqp://g:g@h:5672/%2f");
        assert_eq!(normalize("amqp://h:5672"), "amqp://h:5672/%2f");
        assert_eq!(normalize("pyamqp://h/v"), "amqp://h/v");
    }
}
