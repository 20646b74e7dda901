//! Dead-letter tools: list the dead letters of a queue with their reasons, and replay
//! them to the queue they came from (the library side of `herald dlq list|replay`).
//!
//! Both read `<queue>.dlq` with `basic.get` on a channel of their own, without acking what
//! they only look at: closing that channel puts those messages back where they were.

use std::time::Duration;

use herald_core::{Headers, headers};
use lapin::options::{BasicAckOptions, BasicGetOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel};

use crate::AmqpError;
use crate::client::Amqp;
use crate::publisher::{Failure, publish_confirmed, to_field_table};
use crate::subscriber::from_field_table;
use crate::topology::dead_letter_queue;

/// Which dead letters to take.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only this event type (`herald-event-type`, or the AMQP `type` property).
    pub event_type: Option<String>,
    /// Only those whose reason contains this text.
    pub reason_contains: Option<String>,
    /// At most this many.
    pub limit: Option<usize>,
}

impl Selection {
    pub fn all() -> Self {
        Self::default()
    }

    pub fn event_type(mut self, event_type: impl Into<String>) -> Self {
        self.event_type = Some(event_type.into());
        self
    }

    pub fn reason_contains(mut self, text: impl Into<String>) -> Self {
        self.reason_contains = Some(text.into());
        self
    }

    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    fn matches(&self, entry: &DeadLetterEntry) -> bool {
        self.event_type
            .as_ref()
            .is_none_or(|t| entry.event_type.as_deref() == Some(t.as_str()))
            && self.reason_contains.as_ref().is_none_or(|r| {
                entry
                    .reason
                    .as_deref()
                    .is_some_and(|reason| reason.contains(r.as_str()))
            })
    }
}

/// One dead letter, as found in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterEntry {
    /// The queue it was consumed from (`herald-origin`, else the queue asked about).
    pub origin: String,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    /// `herald-error`, or RabbitMQ's own reason (`x-first-death-reason`: maxlen, expired,
    /// rejected) for messages the broker dead-lettered.
    pub reason: Option<String>,
    pub handler: Option<String>,
    pub attempts: Option<u32>,
    pub first_failure_at: Option<String>,
    pub last_failure_at: Option<String>,
    pub headers: Headers,
    pub payload: Vec<u8>,
}

impl DeadLetterEntry {
    fn new(queue: &str, properties: &BasicProperties, payload: Vec<u8>) -> Self {
        let headers = from_field_table(properties.headers().as_ref());
        let get = |name: &str| headers.get(name).cloned();
        DeadLetterEntry {
            origin: get(headers::ORIGIN).unwrap_or_else(|| queue.to_owned()),
            event_id: get(headers::EVENT_ID)
                .or_else(|| properties.message_id().as_ref().map(|m| m.to_string())),
            event_type: get(headers::EVENT_TYPE)
                .or_else(|| properties.kind().as_ref().map(|k| k.to_string())),
            reason: get(headers::ERROR).or_else(|| get("x-first-death-reason")),
            handler: get(headers::HANDLER),
            attempts: get(headers::ATTEMPTS).and_then(|a| a.parse().ok()),
            first_failure_at: get(headers::FIRST_FAILURE_AT),
            last_failure_at: get(headers::LAST_FAILURE_AT),
            headers,
            payload,
        }
    }
}

/// What [`replay`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// The dead letters selected (moved back, unless it was a dry run).
    pub selected: Vec<DeadLetterEntry>,
    /// How many were moved back to their origin queue.
    pub replayed: usize,
    pub dry_run: bool,
}

/// Lists the dead letters of `queue` (its `<queue>.dlq`) that `selection` takes, oldest
/// first. Leaves the queue as it was.
pub async fn list(
    amqp: &Amqp,
    queue: &str,
    selection: &Selection,
) -> Result<Vec<DeadLetterEntry>, AmqpError> {
    let (_, channel) = amqp.channel(Some(Duration::from_secs(10))).await?;
    let result = scan(&channel, queue, selection, false).await;
    // Everything read and not acked goes back.
    let _ = channel.close(200, "herald dlq list".into()).await;
    result
}

/// Moves the dead letters of `queue` that `selection` takes back to the queue they came
/// from, as first attempts (the failure headers removed), each confirmed by the broker
/// before it leaves the dead-letter queue. With `dry_run`, only says what it would move.
pub async fn replay(
    amqp: &Amqp,
    queue: &str,
    selection: &Selection,
    dry_run: bool,
) -> Result<ReplayReport, AmqpError> {
    let (_, channel) = amqp.channel(Some(Duration::from_secs(10))).await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let result = scan(&channel, queue, selection, !dry_run).await;
    let _ = channel.close(200, "herald dlq replay".into()).await;
    // Each selected entry was moved (unless dry run) before the next was read; a failure
    // stops the replay with an error, leaving the rest in the dead-letter queue.
    let selected = result?;
    Ok(ReplayReport {
        replayed: if dry_run { 0 } else { selected.len() },
        selected,
        dry_run,
    })
}

/// Reads the dead-letter queue of `queue` until it is empty or the limit is reached;
/// with `move_back`, moves each selected entry to its origin queue.
async fn scan(
    channel: &Channel,
    queue: &str,
    selection: &Selection,
    move_back: bool,
) -> Result<Vec<DeadLetterEntry>, AmqpError> {
    let dlq = dead_letter_queue(queue);
    let mut selected = Vec::new();
    while selection.limit.is_none_or(|l| selected.len() < l) {
        let Some(message) = channel
            .basic_get(dlq.as_str().into(), BasicGetOptions { no_ack: false })
            .await?
        else {
            break;
        };
        let delivery = message.delivery;
        let entry = DeadLetterEntry::new(queue, &delivery.properties, delivery.data);
        if selection.matches(&entry) {
            if move_back {
                move_to_origin(channel, &entry, delivery.delivery_tag, delivery.properties).await?;
            }
            selected.push(entry);
        }
    }
    Ok(selected)
}

/// Publishes `entry` to its origin queue as a first attempt (confirmed), then acks it
/// from the dead-letter queue.
async fn move_to_origin(
    channel: &Channel,
    entry: &DeadLetterEntry,
    tag: u64,
    properties: BasicProperties,
) -> Result<(), AmqpError> {
    let mut headers = entry.headers.clone();
    for failure in [
        headers::ATTEMPT,
        headers::ATTEMPTS,
        headers::ERROR,
        headers::PERMANENT,
        headers::HANDLER,
        headers::FIRST_FAILURE_AT,
        headers::LAST_FAILURE_AT,
        headers::ORIGIN,
    ] {
        headers.remove(failure);
    }
    // RabbitMQ's own dead-lettering records (x-death, x-first-death-*).
    headers.retain(|name, _| !name.starts_with("x-"));
    let properties = properties.with_headers(to_field_table(&headers));
    publish_confirmed(channel, "", &entry.origin, &entry.payload, properties)
        .await
        .map_err(|f| match f {
            Failure::Refused(why) => AmqpError::Rejected(why),
            Failure::Channel(e) => AmqpError::Lapin(e),
        })?;
    channel.basic_ack(tag, BasicAckOptions::default()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(event_type: &str, reason: &str) -> DeadLetterEntry {
        DeadLetterEntry {
            origin: "q".into(),
            event_id: None,
            event_type: Some(event_type.into()),
            reason: Some(reason.into()),
            handler: None,
            attempts: None,
            first_failure_at: None,
            last_failure_at: None,
            headers: Headers::new(),
            payload: Vec::new(),
        }
    }

    #[test]
    fn selection_filters_by_event_type_and_reason() {
        let e = entry("order.created", "permanent: card declined");
        assert!(Selection::all().matches(&e));
        assert!(Selection::all().event_type("order.created").matches(&e));
        assert!(!Selection::all().event_type("order.paid").matches(&e));
        assert!(Selection::all().reason_contains("declined").matches(&e));
        assert!(!Selection::all().reason_contains("timeout").matches(&e));
    }
}
