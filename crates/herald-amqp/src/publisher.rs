//! Confirmed, persistent, mandatory publishing.

use std::fmt;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use herald_core::{Headers, OutgoingMessage, Publisher, TransportError, headers};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Confirmation};
use tokio::time::Instant;

use crate::client::{Amqp, OutagePolicy};
use crate::{AmqpError, PARTITION_KEY};

/// Where the AMQP routing key of a message comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingKeySource {
    /// The event type (`herald-event-type`), so that topic bindings like `order.*` and
    /// direct bindings by event type work; the message's key when it has no event type.
    EventType,
    /// The message's key (the partition key for events).
    MessageKey,
}

/// Publishes to exchanges: persistent messages, publisher confirms awaited, mandatory
/// (an unroutable message is an error, never silently dropped). Envelope fields become
/// AMQP properties: `message_id` = event id, `type` = event type, `correlation_id`,
/// `content_type` = `application/json`, `timestamp`; all herald headers are AMQP headers.
///
/// `publish` returns `Ok` only once the broker confirmed the message. During an outage it
/// fails at once or waits for the connection, as configured ([`OutagePolicy`]); a message
/// whose confirm was lost with the connection is published again after reconnecting
/// (when waiting), so it may arrive twice, never zero times.
#[derive(Clone)]
pub struct AmqpPublisher {
    amqp: Amqp,
    outage: OutagePolicy,
    routing: RoutingKeySource,
    /// The confirm channel publishes share, with the connection generation it belongs to.
    /// A plain mutex, held only to read or swap the `Arc`: a publish never waits on it.
    channel: Arc<std::sync::Mutex<Option<Arc<OpenChannel>>>>,
    /// One task at a time opens a new channel; the others wait for it.
    opening: Arc<tokio::sync::Mutex<()>>,
}

struct OpenChannel {
    generation: u64,
    channel: Channel,
}

impl AmqpPublisher {
    pub(crate) fn new(amqp: Amqp, outage: OutagePolicy, routing: RoutingKeySource) -> Self {
        AmqpPublisher {
            amqp,
            outage,
            routing,
            channel: Arc::default(),
            opening: Arc::default(),
        }
    }

    pub fn with_outage_policy(mut self, outage: OutagePolicy) -> Self {
        self.outage = outage;
        self
    }

    pub fn with_routing_key(mut self, routing: RoutingKeySource) -> Self {
        self.routing = routing;
        self
    }

    async fn channel(&self, wait: Option<Duration>) -> Result<Arc<OpenChannel>, AmqpError> {
        if let Some(open) = self.live_channel() {
            return Ok(open);
        }
        let _opening = self.opening.lock().await;
        // Opened by the task this one waited for.
        if let Some(open) = self.live_channel() {
            return Ok(open);
        }
        let (generation, channel) = self.amqp.channel(wait).await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        let open = Arc::new(OpenChannel {
            generation,
            channel,
        });
        *self.channel.lock().unwrap_or_else(PoisonError::into_inner) = Some(open.clone());
        Ok(open)
    }

    /// The shared channel, while it and its connection are up.
    fn live_channel(&self) -> Option<Arc<OpenChannel>> {
        let slot = self.channel.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref()
            .filter(|open| {
                open.channel.status().connected()
                    && self.amqp.current_generation() == Some(open.generation)
            })
            .cloned()
    }

    fn routing_key<'a>(&self, message: &'a OutgoingMessage) -> &'a str {
        match self.routing {
            RoutingKeySource::EventType => message
                .headers
                .get(headers::EVENT_TYPE)
                .map(String::as_str)
                .unwrap_or(&message.key),
            RoutingKeySource::MessageKey => &message.key,
        }
    }
}

#[async_trait]
impl Publisher for AmqpPublisher {
    async fn publish(&self, message: OutgoingMessage) -> Result<(), TransportError> {
        let max = self.amqp.config().max_payload;
        if message.payload.len() > max {
            return Err(TransportError::Rejected(format!(
                "a payload of {} bytes is over the maximum of {max} (AmqpConfig::max_payload, \
                 RabbitMQ's max_message_size); nothing was sent",
                message.payload.len()
            )));
        }
        // Built again only for a second try (the first takes it by value).
        let mut properties = Some(properties_for(&message));
        let routing_key = self.routing_key(&message);
        let deadline = match self.outage {
            OutagePolicy::FailFast => None,
            OutagePolicy::Wait(d) => Some(Instant::now() + d),
        };
        loop {
            let wait = deadline.map_or(Duration::ZERO, |d| {
                d.saturating_duration_since(Instant::now())
            });
            let open = match self.channel(Some(wait)).await {
                Ok(c) => c,
                // The connection broke under the new channel: wait for the next one.
                Err(AmqpError::Lapin(e))
                    if !e.is_amqp_soft_error() && deadline.is_some_and(|d| Instant::now() < d) =>
                {
                    tracing::debug!(error = %e, "no channel yet; waiting for the connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            match publish_confirmed(
                &open.channel,
                &message.destination,
                routing_key,
                &message.payload,
                properties
                    .take()
                    .unwrap_or_else(|| properties_for(&message)),
            )
            .await
            {
                Ok(()) => return Ok(()),
                Err(Failure::Refused(why)) => return Err(TransportError::Rejected(why)),
                Err(Failure::Channel(e)) if e.is_amqp_soft_error() => {
                    // The broker closed the channel over this message (no such exchange,
                    // access refused, ...): another try would fail the same way.
                    return Err(TransportError::Rejected(refusal(&e, &message)));
                }
                Err(Failure::Channel(e)) => {
                    self.amqp.connection_lost(open.generation);
                    let out_of_time = deadline.is_none_or(|d| Instant::now() >= d);
                    if out_of_time {
                        return Err(TransportError::Connection(format!(
                            "connection lost before the broker confirmed the message: {e}"
                        )));
                    }
                    tracing::warn!(error = %e, "connection lost while publishing; publishing again after reconnecting");
                    // Give the connection a moment to be noticed as down.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

/// The broker's refusal of `message`, saying what to do when its exchange does not exist:
/// an event type without a `Producer::route` is published to an exchange named like it.
fn refusal(e: &lapin::Error, message: &OutgoingMessage) -> String {
    let not_found = matches!(
        e.kind(),
        lapin::ErrorKind::ProtocolError(p)
            if matches!(p.kind(), AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND))
    );
    let exchange = &message.destination;
    match message.headers.get(headers::EVENT_TYPE) {
        Some(event_type) if not_found && event_type == exchange => format!(
            "{e}: event type `{event_type}` has no route, so it went to an exchange of its name; \
             route it with `Producer::route(\"{event_type}\", \"<exchange>\")` to an exchange \
             of the Topology"
        ),
        _ if not_found => format!("{e}: declare exchange `{exchange}` in the Topology"),
        _ => e.to_string(),
    }
}

/// Why a confirmed publish failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The broker answered: unroutable (returned) or nacked. Not retried.
    Refused(String),
    /// The channel or connection failed; the message may or may not have arrived.
    Channel(lapin::Error),
}

/// Publishes one mandatory message and waits for its confirm.
pub(crate) async fn publish_confirmed(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    payload: &[u8],
    properties: BasicProperties,
) -> Result<(), Failure> {
    let exchange_name = ShortString::try_new(exchange)
        .map_err(|e| Failure::Refused(format!("exchange name: {e}")))?;
    let key = ShortString::try_new(routing_key)
        .map_err(|e| Failure::Refused(format!("routing key: {e}")))?;
    let confirm = channel
        .basic_publish(
            exchange_name,
            key,
            BasicPublishOptions {
                mandatory: true,
                ..BasicPublishOptions::default()
            },
            payload,
            properties,
        )
        .await
        .map_err(Failure::Channel)?
        .await
        .map_err(Failure::Channel)?;
    match confirm {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(returned)) | Confirmation::Nack(Some(returned)) => {
            Err(Failure::Refused(format!(
                "unroutable: exchange `{exchange}` has no queue bound for routing key `{routing_key}` ({} {})",
                returned.reply_code, returned.reply_text
            )))
        }
        Confirmation::Nack(None) => Err(Failure::Refused(format!(
            "the broker nacked the message to exchange `{exchange}` (a full queue with overflow reject-publish, or an internal error)"
        ))),
        Confirmation::NotRequested => Err(Failure::Refused(
            "the channel is not in confirm mode".to_owned(),
        )),
    }
}

/// AMQP properties for a herald message.
pub(crate) fn properties_for(message: &OutgoingMessage) -> BasicProperties {
    let mut headers = to_field_table(&message.headers);
    if !message.key.is_empty() {
        headers.insert(
            PARTITION_KEY.into(),
            AMQPValue::LongString(LongString::from(message.key.as_str())),
        );
    }
    envelope_properties(&message.headers)
        .with_headers(headers)
        .with_timestamp(u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0))
}

/// Persistent delivery plus the envelope fields that AMQP has properties for.
pub(crate) fn envelope_properties(h: &Headers) -> BasicProperties {
    let mut props = BasicProperties::default().with_delivery_mode(2);
    if let Some(id) = short(h.get(headers::EVENT_ID)) {
        props = props.with_message_id(id);
    }
    if let Some(kind) = short(h.get(headers::EVENT_TYPE)) {
        props = props
            .with_type(kind)
            .with_content_type("application/json".into());
    }
    if let Some(correlation) = short(h.get(headers::CORRELATION_ID)) {
        props = props.with_correlation_id(correlation);
    }
    props
}

fn short(value: Option<&String>) -> Option<ShortString> {
    value.and_then(|v| ShortString::try_new(v.as_str()).ok())
}

pub(crate) fn to_field_table(headers: &Headers) -> FieldTable {
    let mut table = FieldTable::default();
    for (name, value) in headers {
        if let Ok(name) = ShortString::try_new(name.as_str()) {
            table.insert(
                name,
                AMQPValue::LongString(LongString::from(value.as_str())),
            );
        }
    }
    table
}

impl fmt::Debug for AmqpPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpPublisher")
            .field("outage", &self.outage)
            .field("routing", &self.routing)
            .finish_non_exhaustive()
    }
}
