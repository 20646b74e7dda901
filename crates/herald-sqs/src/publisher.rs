use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use backon::{BackoffBuilder, ExponentialBuilder};
use herald_core::{OutgoingMessage, Publisher, TransportError, headers};
use sha2::{Digest, Sha256};

use crate::attributes::{self, Encoded};
use crate::error::{EntryFailure, SqsError, api};
use crate::{Sqs, is_fifo};

/// SQS's limit for one message, body and attributes together (256 KiB), and for one
/// `SendMessageBatch` request.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// Sends herald messages to SQS queues: `destination` is the queue name (or URL).
///
/// FIFO queues (`.fifo`): `MessageGroupId` is the message's key (the partition key), and
/// `MessageDeduplicationId` its idempotency key (else its event id): SQS drops a message
/// whose deduplication id it has seen in the last 5 minutes, and accepts it again after.
#[derive(Debug, Clone)]
pub struct SqsPublisher {
    sqs: Sqs,
    max_bytes: usize,
    delay: Option<Duration>,
}

impl Sqs {
    pub fn publisher(&self) -> SqsPublisher {
        SqsPublisher {
            sqs: self.clone(),
            max_bytes: MAX_MESSAGE_BYTES,
            delay: None,
        }
    }
}

/// One message ready to send.
pub(crate) struct Prepared {
    pub encoded: Encoded,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
}

impl SqsPublisher {
    /// The size limit checked before sending (default 256 KiB; SQS queues can be
    /// configured lower with `MaximumMessageSize`).
    pub fn max_message_bytes(mut self, max: usize) -> Self {
        self.max_bytes = max;
        self
    }

    /// Delays each message sent (`DelaySeconds`, whole seconds, at most 15 minutes; standard
    /// queues only: FIFO queues take a delay per queue).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    fn prepare(&self, message: &OutgoingMessage) -> Result<Prepared, SqsError> {
        // The key travels as a header (a standard queue has no key; a FIFO group id may be
        // the key's hash), as on AMQP.
        let mut with_key;
        let mut headers = &message.headers;
        if !message.key.is_empty() && !headers.contains_key(headers::PARTITION_KEY) {
            with_key = message.headers.clone();
            with_key.insert(headers::PARTITION_KEY.into(), message.key.clone());
            headers = &with_key;
        }
        let encoded = attributes::encode(headers, &message.payload)?;
        if encoded.size > self.max_bytes {
            return Err(SqsError::TooLarge {
                queue: message.destination.clone(),
                size: encoded.size,
                max: self.max_bytes,
            });
        }
        if !is_fifo(&message.destination) {
            return Ok(Prepared {
                encoded,
                group_id: None,
                dedup_id: None,
            });
        }
        if message.key.is_empty() {
            return Err(SqsError::Invalid(format!(
                "a message for FIFO queue `{}` needs a key (its partition key, the message group)",
                message.destination
            )));
        }
        let dedup = message
            .headers
            .get(headers::IDEMPOTENCY_KEY)
            .or_else(|| message.headers.get(headers::EVENT_ID))
            .map_or_else(|| hashed(&message.payload), |k| fifo_id(k));
        Ok(Prepared {
            encoded,
            group_id: Some(fifo_id(&message.key)),
            dedup_id: Some(dedup),
        })
    }

    fn delay_seconds(&self) -> Option<i32> {
        self.delay
            .map(|d| d.as_secs().try_into().unwrap_or(i32::MAX))
    }

    /// Sends `messages` with `SendMessageBatch`, up to 10 (and 256 KiB) per request. Entries
    /// SQS fails for a reason of its own are sent again with backoff; an `Err` lists those
    /// not sent in the end (by index), and every other one was sent. A message over the
    /// size limit fails the whole call before anything is sent.
    pub async fn publish_batch(&self, messages: &[OutgoingMessage]) -> Result<(), SqsError> {
        let prepared = messages
            .iter()
            .map(|m| self.prepare(m))
            .collect::<Result<Vec<_>, _>>()?;
        let mut failed = Vec::new();
        let mut by_queue: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            match by_queue.iter_mut().find(|(q, _)| *q == m.destination) {
                Some((_, v)) => v.push(i),
                None => by_queue.push((&m.destination, vec![i])),
            }
        }
        for (queue, indexes) in by_queue {
            let url = self.sqs.queue_url(queue).await?;
            for chunk in chunks(&indexes, &prepared) {
                failed.extend(self.send_chunk(&url, &chunk, &prepared).await?);
            }
            if !failed.is_empty() {
                return Err(SqsError::Batch {
                    queue: queue.to_owned(),
                    total: messages.len(),
                    failed,
                });
            }
        }
        Ok(())
    }

    /// Sends one batch request's entries, retrying those SQS may take later.
    async fn send_chunk(
        &self,
        url: &str,
        chunk: &[usize],
        prepared: &[Prepared],
    ) -> Result<Vec<EntryFailure>, SqsError> {
        let mut pending: Vec<usize> = chunk.to_vec();
        let mut failed = Vec::new();
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_times(4)
            .build();
        loop {
            let entries = pending
                .iter()
                .map(|&i| {
                    let p = &prepared[i];
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(&p.encoded.body)
                        .set_message_attributes(Some(p.encoded.attributes.clone()))
                        .set_message_group_id(p.group_id.clone())
                        .set_message_deduplication_id(p.dedup_id.clone())
                        .set_delay_seconds(self.delay_seconds())
                        .build()
                        .expect("id and body are set")
                })
                .collect();
            let out = self
                .sqs
                .client()
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(api("SendMessageBatch"))?;
            let mut retry = Vec::new();
            for f in out.failed {
                let index: usize = f.id.parse().map_err(|_| {
                    SqsError::Invalid(format!(
                        "SendMessageBatch answered for unknown entry `{}`",
                        f.id
                    ))
                })?;
                let failure = EntryFailure {
                    index,
                    code: f.code,
                    message: f.message.unwrap_or_default(),
                    sender_fault: f.sender_fault,
                };
                if failure.sender_fault {
                    failed.push(failure);
                } else {
                    retry.push(failure);
                }
            }
            if retry.is_empty() {
                return Ok(failed);
            }
            match backoff.next() {
                Some(wait) => {
                    tracing::warn!(
                        queue = url,
                        entries = retry.len(),
                        "SQS failed batch entries; sending them again"
                    );
                    tokio::time::sleep(wait).await;
                    pending = retry.iter().map(|f| f.index).collect();
                }
                None => {
                    failed.extend(retry);
                    return Ok(failed);
                }
            }
        }
    }

    /// SendMessage of one prepared message to the queue at `url`.
    pub(crate) async fn send_prepared(
        &self,
        url: &str,
        p: Prepared,
        delay_seconds: Option<i32>,
    ) -> Result<(), SqsError> {
        self.sqs
            .client()
            .send_message()
            .queue_url(url)
            .message_body(p.encoded.body)
            .set_message_attributes(Some(p.encoded.attributes))
            .set_message_group_id(p.group_id)
            .set_message_deduplication_id(p.dedup_id)
            .set_delay_seconds(delay_seconds.or(self.delay_seconds()))
            .send()
            .await
            .map_err(api("SendMessage"))?;
        Ok(())
    }

    /// The message as it would be sent (size checked), with the FIFO ids given.
    pub(crate) fn prepare_raw(
        &self,
        queue: &str,
        headers: &herald_core::Headers,
        payload: &[u8],
        group_id: Option<String>,
        dedup_id: Option<String>,
    ) -> Result<Prepared, SqsError> {
        let encoded = attributes::encode(headers, payload)?;
        if encoded.size > self.max_bytes {
            return Err(SqsError::TooLarge {
                queue: queue.to_owned(),
                size: encoded.size,
                max: self.max_bytes,
            });
        }
        Ok(Prepared {
            encoded,
            group_id,
            dedup_id,
        })
    }
}

#[async_trait]
impl Publisher for SqsPublisher {
    async fn publish(&self, message: OutgoingMessage) -> Result<(), TransportError> {
        let prepared = self.prepare(&message)?;
        let url = self.sqs.queue_url(&message.destination).await?;
        self.send_prepared(&url, prepared, None).await?;
        Ok(())
    }
}

/// Splits `indexes` into batch requests of at most 10 entries and `MAX_MESSAGE_BYTES`.
fn chunks(indexes: &[usize], prepared: &[Prepared]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut bytes = 0;
    for &i in indexes {
        let size = prepared[i].encoded.size;
        match out.last_mut() {
            Some(last) if last.len() < 10 && bytes + size <= MAX_MESSAGE_BYTES => {
                last.push(i);
                bytes += size;
            }
            _ => {
                out.push(vec![i]);
                bytes = size;
            }
        }
    }
    out
}

/// A FIFO group or deduplication id: SQS takes up to 128 characters of ASCII letters, digits
/// and punctuation; anything else is replaced by its SHA-256.
pub(crate) fn fifo_id(id: &str) -> String {
    let ok = !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_graphic());
    if ok {
        id.to_owned()
    } else {
        hashed(id.as_bytes())
    }
}

fn hashed(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
