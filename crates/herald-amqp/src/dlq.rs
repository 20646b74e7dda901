//! Dead-letter tools: list the dead letters of a queue with their reasons, replay them to
//! the queue they came from, or purge them (the library side of `herald dlq
//! list|replay|purge`).
//!
//! Both read `<queue>.dlq` with `basic.get` on a channel of their own, without acking what
//! they only look at: closing that channel puts those messages back where they were.

use std::time::Duration;

use lapin::options::{BasicAckOptions, BasicGetOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel};

use crate::AmqpError;
use crate::client::Amqp;
use crate::publisher::{Failure, publish_confirmed, to_field_table};
use crate::subscriber::from_field_table;
use crate::topology::dead_letter_queue;

pub use herald_core::dead_letters::{DeadLetterEntry, PurgeReport, ReplayReport, Selection};

fn entry(queue: &str, properties: &BasicProperties, payload: Vec<u8>) -> DeadLetterEntry {
    let mut entry = DeadLetterEntry::from_headers(
        queue,
        from_field_table(properties.headers().as_ref()),
        payload,
    );
    // Messages from other publishers, or dead-lettered by RabbitMQ itself.
    if entry.event_id.is_none() {
        entry.event_id = properties.message_id().as_ref().map(|m| m.to_string());
    }
    if entry.event_type.is_none() {
        entry.event_type = properties.kind().as_ref().map(|k| k.to_string());
    }
    if entry.reason.is_none() {
        entry.reason = entry.headers.get("x-first-death-reason").cloned();
    }
    entry
}

/// Lists the dead letters of `queue` (its `<queue>.dlq`) that `selection` takes, oldest
/// first. Leaves the queue as it was.
pub async fn list(
    amqp: &Amqp,
    queue: &str,
    selection: &Selection,
) -> Result<Vec<DeadLetterEntry>, AmqpError> {
    let (_, channel) = amqp.channel(Some(Duration::from_secs(10))).await?;
    let result = scan(&channel, queue, selection, Action::Look).await;
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
    let action = if dry_run {
        Action::Look
    } else {
        Action::MoveBack
    };
    let result = scan(&channel, queue, selection, action).await;
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

/// Deletes the dead letters of `queue` that `selection` takes from its dead-letter queue
/// for good (each acked; the others stay where they were). With `dry_run`, only says what
/// it would delete.
pub async fn purge(
    amqp: &Amqp,
    queue: &str,
    selection: &Selection,
    dry_run: bool,
) -> Result<PurgeReport, AmqpError> {
    let (_, channel) = amqp.channel(Some(Duration::from_secs(10))).await?;
    let action = if dry_run { Action::Look } else { Action::Drop };
    let result = scan(&channel, queue, selection, action).await;
    let _ = channel.close(200, "herald dlq purge".into()).await;
    Ok(PurgeReport {
        purged: result?,
        kept: Vec::new(),
        dry_run,
    })
}

/// What `scan` does with each selected dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Nothing: it goes back when the channel closes.
    Look,
    /// Publish it to its origin queue, then ack it.
    MoveBack,
    /// Ack it: gone.
    Drop,
}

/// Reads the dead-letter queue of `queue` until it is empty or the limit is reached, doing
/// `action` with each selected entry.
async fn scan(
    channel: &Channel,
    queue: &str,
    selection: &Selection,
    action: Action,
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
        let entry = entry(queue, &delivery.properties, delivery.data);
        if selection.matches(&entry) {
            match action {
                Action::Look => {}
                Action::MoveBack => {
                    move_to_origin(channel, &entry, delivery.delivery_tag, delivery.properties)
                        .await?;
                }
                Action::Drop => {
                    channel
                        .basic_ack(delivery.delivery_tag, BasicAckOptions::default())
                        .await?;
                }
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
    let mut headers = entry.replay_headers();
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

/// The same tools behind the interface every transport offers.
#[async_trait::async_trait]
impl herald_core::DeadLetters for Amqp {
    async fn list(
        &self,
        source: &str,
        selection: &Selection,
    ) -> Result<Vec<DeadLetterEntry>, herald_core::TransportError> {
        Ok(list(self, source, selection).await?)
    }

    async fn replay(
        &self,
        source: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> Result<ReplayReport, herald_core::TransportError> {
        Ok(replay(self, source, selection, dry_run).await?)
    }

    async fn purge(
        &self,
        source: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> Result<PurgeReport, herald_core::TransportError> {
        Ok(purge(self, source, selection, dry_run).await?)
    }
}
