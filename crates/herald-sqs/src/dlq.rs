//! Dead-letter tools on SQS: `herald dlq list|replay|purge` and the conformance suite.
//!
//! SQS has no "peek": a scan receives the dead letters (held invisible for a minute while
//! it runs) and, when done, makes every one it did not delete visible again. Order is by
//! the time each was sent to the DLQ, over what the scan received.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName,
};
use herald_core::TransportError;
use herald_core::dead_letters::{
    DeadLetterEntry, DeadLetters, PurgeReport, ReplayReport, Selection,
};

use crate::error::{SqsError, api};
use crate::publisher::fifo_id;
use crate::{Sqs, attributes, dead_letter_queue, is_fifo};

/// The dead-letter queues (`<queue>-dlq`) of queues made by [`Sqs::create_queues`].
#[derive(Debug, Clone)]
pub struct SqsDeadLetters {
    sqs: Sqs,
    move_tasks: bool,
}

impl Sqs {
    pub fn dead_letters(&self) -> SqsDeadLetters {
        SqsDeadLetters {
            sqs: self.clone(),
            move_tasks: true,
        }
    }
}

/// One dead letter the scan holds.
struct Held {
    entry: DeadLetterEntry,
    receipt: String,
    message_id: String,
    group: Option<String>,
    sent_at: u64,
}

impl SqsDeadLetters {
    /// Whether `replay` of everything (no filter, no limit) on a standard queue asks SQS to
    /// move the messages itself (`StartMessageMoveTask`, default on). Where that fails (moto,
    /// or a role without `sqs:StartMessageMoveTask`), replay moves them one by one anyway.
    pub fn move_tasks(mut self, on: bool) -> Self {
        self.move_tasks = on;
        self
    }

    /// Receives the dead letters of `queue` until the DLQ has no more visible ones or the
    /// selection's limit is reached: (selected, not selected).
    async fn scan(
        &self,
        dlq_url: &str,
        queue: &str,
        selection: &Selection,
    ) -> Result<(Vec<Held>, Vec<Held>), SqsError> {
        let mut selected = Vec::new();
        let mut others = Vec::new();
        while selection.limit.is_none_or(|l| selected.len() < l) {
            let out = self
                .sqs
                .client()
                .receive_message()
                .queue_url(dlq_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .visibility_timeout(60)
                .message_attribute_names("All")
                .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
                .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
                .send()
                .await
                .map_err(api("ReceiveMessage"));
            let out = match out {
                Ok(out) => out,
                Err(e) => {
                    // Leave what was held as it was found.
                    self.release(dlq_url, selected.iter().chain(&others)).await;
                    return Err(e);
                }
            };
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for m in messages {
                let Some(receipt) = m.receipt_handle else {
                    continue;
                };
                let system = m.attributes.unwrap_or_default();
                let body = m.body.unwrap_or_default();
                let (headers, payload) = attributes::decode(&body, m.message_attributes.as_ref())
                    .unwrap_or_else(|_| (Default::default(), body.into_bytes()));
                let held = Held {
                    entry: DeadLetterEntry::from_headers(queue, headers, payload),
                    receipt,
                    message_id: m.message_id.unwrap_or_default(),
                    group: system
                        .get(&MessageSystemAttributeName::MessageGroupId)
                        .cloned(),
                    sent_at: system
                        .get(&MessageSystemAttributeName::SentTimestamp)
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0),
                };
                if selection.limit.is_none_or(|l| selected.len() < l)
                    && selection.matches(&held.entry)
                {
                    selected.push(held);
                } else {
                    others.push(held);
                }
            }
        }
        selected.sort_by_key(|h| h.sent_at);
        Ok((selected, others))
    }

    /// Makes held dead letters visible again.
    async fn release<'a>(&self, dlq_url: &str, held: impl Iterator<Item = &'a Held>) {
        let held: Vec<&Held> = held.collect();
        for chunk in held.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&h.receipt)
                        .visibility_timeout(0)
                        .build()
                        .expect("id and receipt are set")
                })
                .collect();
            if let Err(e) = self
                .sqs
                .client()
                .change_message_visibility_batch()
                .queue_url(dlq_url)
                .set_entries(Some(entries))
                .send()
                .await
            {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "dead letters stay invisible for up to a minute");
            }
        }
    }

    async fn delete(&self, dlq_url: &str, held: &Held) -> Result<(), SqsError> {
        self.sqs
            .client()
            .delete_message()
            .queue_url(dlq_url)
            .receipt_handle(&held.receipt)
            .send()
            .await
            .map_err(api("DeleteMessage"))?;
        Ok(())
    }

    /// Sends a dead letter back to its origin as a first attempt, then deletes it.
    async fn move_back(&self, dlq_url: &str, held: &Held) -> Result<(), SqsError> {
        let origin = &held.entry.origin;
        let url = self.sqs.queue_url(origin).await?;
        let publisher = self.sqs.publisher();
        let (group, dedup) = if is_fifo(origin) {
            // A fresh deduplication id: the original one may still be in SQS's 5-minute window.
            (
                held.group.clone(),
                Some(fifo_id(&format!("replay-{}", held.message_id))),
            )
        } else {
            (None, None)
        };
        let copy = publisher.prepare_raw(
            origin,
            &held.entry.replay_headers(),
            &held.entry.payload,
            group,
            dedup,
        )?;
        publisher.send_prepared(&url, copy, None).await?;
        self.delete(dlq_url, held).await
    }

    /// Asks SQS to move every message of the DLQ back to `queue`: Some(how many) once done,
    /// None when SQS would not (the caller moves them itself).
    async fn move_task(&self, dlq_url: &str, queue: &str) -> Option<usize> {
        let arn = |url: String| async move {
            self.sqs
                .client()
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
                .await
                .ok()?
                .attributes?
                .remove(&QueueAttributeName::QueueArn)
        };
        let source = arn(dlq_url.to_owned()).await?;
        let destination = arn(self.sqs.queue_url(queue).await.ok()?).await?;
        let started = self
            .sqs
            .client()
            .start_message_move_task()
            .source_arn(&source)
            .destination_arn(destination)
            .send()
            .await;
        if let Err(e) = started {
            tracing::info!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "StartMessageMoveTask refused; moving the dead letters one by one");
            return None;
        }
        // A task moves at its own pace; wait for it to end (bounded: a long one goes on).
        for _ in 0..600 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let tasks = self
                .sqs
                .client()
                .list_message_move_tasks()
                .source_arn(&source)
                .max_results(1)
                .send()
                .await
                .ok()?;
            let task = tasks.results?.into_iter().next()?;
            match task.status.as_deref() {
                Some("COMPLETED") => {
                    return Some(
                        task.approximate_number_of_messages_moved
                            .try_into()
                            .unwrap_or(0),
                    );
                }
                Some("FAILED") | Some("CANCELLED") => {
                    tracing::warn!(reason = ?task.failure_reason, "the move task ended early; moving the rest one by one");
                    return None;
                }
                _ => {}
            }
        }
        None
    }

    async fn dlq_url(&self, queue: &str) -> Result<String, SqsError> {
        self.sqs.queue_url(&dead_letter_queue(queue)).await
    }
}

#[async_trait]
impl DeadLetters for SqsDeadLetters {
    async fn list(
        &self,
        source: &str,
        selection: &Selection,
    ) -> Result<Vec<DeadLetterEntry>, TransportError> {
        let url = self.dlq_url(source).await?;
        let (selected, others) = self.scan(&url, source, selection).await?;
        self.release(&url, selected.iter().chain(&others)).await;
        Ok(selected.into_iter().map(|h| h.entry).collect())
    }

    async fn replay(
        &self,
        source: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> Result<ReplayReport, TransportError> {
        let url = self.dlq_url(source).await?;
        let (selected, others) = self.scan(&url, source, selection).await?;
        let everything = selection == &Selection::all();
        if dry_run || (self.move_tasks && everything && !is_fifo(source)) {
            self.release(&url, selected.iter().chain(&others)).await;
            let entries: Vec<DeadLetterEntry> = selected.into_iter().map(|h| h.entry).collect();
            if dry_run {
                return Ok(ReplayReport {
                    selected: entries,
                    replayed: 0,
                    dry_run,
                });
            }
            if let Some(moved) = self.move_task(&url, source).await {
                return Ok(ReplayReport {
                    selected: entries,
                    replayed: moved,
                    dry_run,
                });
            }
            // SQS would not: one by one, as for a selection.
            return Box::pin(
                self.clone()
                    .move_tasks(false)
                    .replay(source, selection, dry_run),
            )
            .await;
        }
        self.release(&url, others.iter()).await;
        let mut replayed = 0;
        for (i, held) in selected.iter().enumerate() {
            if let Err(e) = self.move_back(&url, held).await {
                self.release(&url, selected[i..].iter()).await;
                return Err(e.into());
            }
            replayed += 1;
        }
        Ok(ReplayReport {
            selected: selected.into_iter().map(|h| h.entry).collect(),
            replayed,
            dry_run,
        })
    }

    async fn purge(
        &self,
        source: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> Result<PurgeReport, TransportError> {
        let url = self.dlq_url(source).await?;
        let (selected, others) = self.scan(&url, source, selection).await?;
        self.release(&url, others.iter()).await;
        if dry_run {
            self.release(&url, selected.iter()).await;
        } else {
            for (i, held) in selected.iter().enumerate() {
                if let Err(e) = self.delete(&url, held).await {
                    self.release(&url, selected[i..].iter()).await;
                    return Err(e.into());
                }
            }
        }
        Ok(PurgeReport {
            purged: selected.into_iter().map(|h| h.entry).collect(),
            kept: Vec::new(),
            dry_run,
        })
    }
}
