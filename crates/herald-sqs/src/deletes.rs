//! Deletes (acks), batched: those asked for while others are being sent go together in one
//! `DeleteMessageBatch` of up to 10, so a busy subscriber makes about a tenth of the calls
//! and a lone ack waits for nothing. Each ack still gets its own entry's answer.

use std::sync::Arc;

use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::Sqs;
use crate::error::{SqsError, api};

/// SQS's limit of entries per batch request.
const MAX_BATCH: usize = 10;
/// Batch requests in flight at once; deletes asked for meanwhile wait and go together.
const IN_FLIGHT: usize = 4;

/// The delete queue of one subscriber's queue. Its task ends when this is dropped.
pub(crate) struct Deletes {
    tx: mpsc::UnboundedSender<Pending>,
}

struct Pending {
    receipt: String,
    done: oneshot::Sender<Result<(), SqsError>>,
}

impl Deletes {
    /// Starts the task sending the deletes for the queue at `url` (inside a tokio runtime).
    pub fn start(sqs: Sqs, url: String) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(sqs, url, rx));
        Deletes { tx }
    }

    /// Deletes the message received with `receipt`; `Ok` once SQS has confirmed it.
    pub async fn delete(&self, receipt: &str) -> Result<(), SqsError> {
        let stopped = || SqsError::Invalid("the subscriber's delete task has stopped".to_owned());
        let (done, answer) = oneshot::channel();
        self.tx
            .send(Pending {
                receipt: receipt.to_owned(),
                done,
            })
            .map_err(|_| stopped())?;
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }
}

async fn run(sqs: Sqs, url: String, mut rx: mpsc::UnboundedReceiver<Pending>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut batch = Vec::with_capacity(MAX_BATCH);
        // Waits for one, takes what else is waiting (up to 10).
        if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        // The deliveries of one receive tend to end together: one turn of the scheduler
        // lets the acks just behind this one join it (no timer, so a lone ack waits not).
        if batch.len() < MAX_BATCH {
            tokio::task::yield_now().await;
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
        }
        let (sqs, url) = (sqs.clone(), url.clone());
        tokio::spawn(async move {
            send(&sqs, &url, batch).await;
            drop(slot);
        });
    }
}

/// One `DeleteMessageBatch`; every entry's sender hears its own outcome.
async fn send(sqs: &Sqs, url: &str, batch: Vec<Pending>) {
    tracing::debug!(entries = batch.len(), "DeleteMessageBatch");
    let entries = batch
        .iter()
        .enumerate()
        .map(|(i, p)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(&p.receipt)
                .build()
                .expect("id and receipt are set")
        })
        .collect();
    let answer = sqs
        .client()
        .delete_message_batch()
        .queue_url(url)
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(api("DeleteMessageBatch"));
    let out = match answer {
        Ok(out) => out,
        Err(e) => {
            for p in batch {
                let _ = p.done.send(Err(e.clone()));
            }
            return;
        }
    };
    let mut outcomes: Vec<Option<Result<(), SqsError>>> = batch.iter().map(|_| None).collect();
    for ok in out.successful {
        if let Some(slot) = ok
            .id
            .parse::<usize>()
            .ok()
            .and_then(|i| outcomes.get_mut(i))
        {
            *slot = Some(Ok(()));
        }
    }
    for failed in out.failed {
        if let Some(slot) = failed
            .id
            .parse::<usize>()
            .ok()
            .and_then(|i| outcomes.get_mut(i))
        {
            *slot = Some(Err(SqsError::Api {
                operation: "DeleteMessageBatch",
                code: failed.code,
                message: failed.message.unwrap_or_default(),
            }));
        }
    }
    for (p, outcome) in batch.into_iter().zip(outcomes) {
        let outcome = outcome.unwrap_or_else(|| {
            Err(SqsError::Invalid(
                "DeleteMessageBatch did not answer for this message; it may not be deleted"
                    .to_owned(),
            ))
        });
        let _ = p.done.send(outcome);
    }
}
