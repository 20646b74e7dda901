//! Settling one SQS delivery: delete (ack), visibility (retry, FIFO requeue), a delayed
//! copy (standard requeue), herald's own dead-lettering; and the visibility heartbeat.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use herald_core::{Acknowledger, DeadLetter, Headers, Retry, TransportError, headers};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::deletes::Deletes;
use crate::error::{SqsError, api};
use crate::gate::Gate;
use crate::{Sqs, SqsPublisher, dead_letter_queue};

/// SQS's longest visibility timeout, counted from the receive.
pub(crate) const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);
/// The longest `DelaySeconds`.
const MAX_DELAY: Duration = Duration::from_secs(900);

/// What the deliveries of one subscriber share.
pub(crate) struct Shared {
    pub sqs: Sqs,
    pub publisher: SqsPublisher,
    pub queue: String,
    pub url: String,
    pub fifo: bool,
    pub visibility: Duration,
    pub heartbeat_every: Duration,
    pub deletes: Deletes,
    /// FIFO requeues by visibility, per message id: receives that were not attempts.
    pub requeues: Mutex<HashMap<String, u32>>,
    pub gate: Option<Gate>,
}

impl Shared {
    pub fn requeues_of(&self, message_id: &str) -> u32 {
        self.lock_requeues().get(message_id).copied().unwrap_or(0)
    }

    fn lock_requeues(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        self.requeues.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn change_visibility(&self, receipt: &str, to: Duration) -> Result<(), SqsError> {
        self.sqs
            .client()
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(whole_seconds(to))
            .send()
            .await
            .map_err(api("ChangeMessageVisibility"))?;
        Ok(())
    }

    async fn delete(&self, receipt: &str) -> Result<(), SqsError> {
        self.deletes.delete(receipt).await
    }
}

/// Settles one received message. Until it is settled (or dropped) a heartbeat keeps it
/// invisible to other consumers.
pub(crate) struct SqsAcker {
    shared: Arc<Shared>,
    receipt: String,
    message_id: String,
    group: Option<String>,
    received_at: Instant,
    headers: Headers,
    payload: Vec<u8>,
    heartbeat: Option<JoinHandle<()>>,
    settled: bool,
    /// Handed out by the FIFO gate: settling it lets the gate go on.
    pub in_gate: bool,
}

impl SqsAcker {
    pub fn new(
        shared: Arc<Shared>,
        receipt: String,
        message_id: String,
        group: Option<String>,
        headers: Headers,
        payload: Vec<u8>,
    ) -> Self {
        let heartbeat = tokio::spawn(heartbeat(shared.clone(), receipt.clone()));
        SqsAcker {
            shared,
            receipt,
            message_id,
            group,
            received_at: Instant::now(),
            headers,
            payload,
            heartbeat: Some(heartbeat),
            settled: false,
            in_gate: false,
        }
    }

    /// Stops the heartbeat; from here on, settling is this call's business.
    fn settle(&mut self) {
        self.settled = true;
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
    }

    fn gate_done(&mut self, passed: bool) {
        if std::mem::take(&mut self.in_gate)
            && let (Some(gate), Some(group)) = (&self.shared.gate, &self.group)
        {
            gate.done(group, passed);
        }
    }

    fn forget_requeues(&self) {
        if self.shared.fifo {
            self.shared.lock_requeues().remove(&self.message_id);
        }
    }

    /// The longest the message can stay invisible from now (12 h from its receive).
    fn visibility_left(&self) -> Duration {
        MAX_VISIBILITY.saturating_sub(self.received_at.elapsed() + Duration::from_secs(5))
    }

    async fn requeue_inner(&mut self, delay: Duration) -> Result<(), SqsError> {
        let shared = self.shared.clone();
        if !shared.fifo && delay <= MAX_DELAY {
            // A copy delayed by `delay` carries the attempt it had; its receive count starts
            // again, so the requeue is not counted as an attempt (the one herald computes
            // from `herald-attempt` and the receive count).
            let copy = shared.publisher.prepare_raw(
                &shared.queue,
                &self.headers,
                &self.payload,
                None,
                None,
            )?;
            shared
                .publisher
                .send_prepared(&shared.url, copy, Some(whole_seconds(delay)))
                .await?;
            return shared.delete(&self.receipt).await;
        }
        // FIFO (a copy would go to the back of its group, and be dropped as a duplicate) or
        // a delay past 15 min: the same message, one receive not counted, in this process.
        *shared
            .lock_requeues()
            .entry(self.message_id.clone())
            .or_insert(0) += 1;
        let delay = delay.min(self.visibility_left());
        shared.change_visibility(&self.receipt, delay).await
    }

    async fn dead_letter_inner(&mut self, dead_letter: DeadLetter) -> Result<(), SqsError> {
        let shared = self.shared.clone();
        let dlq = shared
            .sqs
            .queue_url(&dead_letter_queue(&shared.queue))
            .await?;
        let mut h = dead_letter.headers;
        // `herald-attempts` says how many; an attempt number would make a replay by
        // StartMessageMoveTask look like a further attempt.
        h.remove(headers::ATTEMPT);
        let (group, dedup) = if shared.fifo {
            (self.group.clone(), Some(self.message_id.clone()))
        } else {
            (None, None)
        };
        let copy = shared
            .publisher
            .prepare_raw(&dlq, &h, &self.payload, group, dedup)?;
        shared.publisher.send_prepared(&dlq, copy, None).await?;
        shared.delete(&self.receipt).await
    }
}

#[async_trait]
impl Acknowledger for SqsAcker {
    async fn ack(mut self: Box<Self>) -> Result<(), TransportError> {
        self.settle();
        let result = self.shared.delete(&self.receipt).await;
        self.forget_requeues();
        self.gate_done(true);
        Ok(result?)
    }

    async fn retry(mut self: Box<Self>, retry: Retry) -> Result<(), TransportError> {
        self.settle();
        // The same message comes back when its visibility ends; its receive count is the
        // next attempt. Whole seconds, at most 12 h from the receive (SQS's limits).
        let delay = retry.delay.min(self.visibility_left());
        let result = self.shared.change_visibility(&self.receipt, delay).await;
        self.gate_done(false);
        Ok(result?)
    }

    async fn requeue(mut self: Box<Self>, delay: Duration) -> Result<(), TransportError> {
        self.settle();
        let result = self.requeue_inner(delay).await;
        self.gate_done(false);
        Ok(result?)
    }

    async fn dead_letter(
        mut self: Box<Self>,
        dead_letter: DeadLetter,
    ) -> Result<(), TransportError> {
        self.settle();
        let result = self.dead_letter_inner(dead_letter).await;
        self.forget_requeues();
        // Dead-lettered or not, a failed move leaves the message in flight: the group waits.
        self.gate_done(result.is_ok());
        Ok(result?)
    }
}

impl Drop for SqsAcker {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        self.settle();
        // Not processed: visible again at once rather than after the visibility timeout.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let shared = self.shared.clone();
            let receipt = std::mem::take(&mut self.receipt);
            rt.spawn(async move {
                if let Err(e) = shared.change_visibility(&receipt, Duration::ZERO).await {
                    tracing::debug!(error = %e, "could not hand a dropped delivery back; it returns after its visibility timeout");
                }
            });
        }
        self.gate_done(false);
    }
}

/// Extends the message's visibility every `heartbeat_every` until aborted.
async fn heartbeat(shared: Arc<Shared>, receipt: String) {
    let started = Instant::now();
    let mut tick =
        tokio::time::interval_at(started + shared.heartbeat_every, shared.heartbeat_every);
    loop {
        tick.tick().await;
        let left = MAX_VISIBILITY.saturating_sub(started.elapsed() + Duration::from_secs(5));
        if left.is_zero() {
            tracing::warn!(queue = %shared.queue, "a delivery held for 12 hours: SQS allows no longer; it becomes visible again");
            return;
        }
        if let Err(e) = shared
            .change_visibility(&receipt, shared.visibility.min(left))
            .await
        {
            tracing::warn!(queue = %shared.queue, error = %e, "visibility heartbeat failed");
        }
    }
}

/// Seconds as SQS takes them: rounded up, so a delay is never shorter than asked.
pub(crate) fn whole_seconds(d: Duration) -> i32 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.try_into().unwrap_or(i32::MAX)
}
