use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use herald_core::{Delivery, Headers, IncomingMessage, Subscriber, TransportError, headers};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::acker::{Shared, SqsAcker, whole_seconds};
use crate::attributes;
use crate::deletes::Deletes;
use crate::error::{SqsError, api};
use crate::gate::{Gate, Outbox};
use crate::{Sqs, is_fifo};

/// Configures a subscriber to one queue ([`Sqs::subscriber`]).
#[derive(Debug, Clone)]
pub struct SubscriberBuilder {
    sqs: Sqs,
    queue: String,
    wait_time: Duration,
    visibility: Duration,
    heartbeat_every: Option<Duration>,
    pollers: usize,
    max_messages: i32,
    buffer: usize,
}

impl Sqs {
    /// A subscriber to `queue` (name or URL), with 2 pollers long-polling 20 s for up to 10
    /// messages each, visibility 30 s renewed every 10 s while a delivery is unsettled.
    pub fn subscriber(&self, queue: impl Into<String>) -> SubscriberBuilder {
        SubscriberBuilder {
            sqs: self.clone(),
            queue: queue.into(),
            wait_time: Duration::from_secs(20),
            visibility: Duration::from_secs(30),
            heartbeat_every: None,
            pollers: 2,
            max_messages: 10,
            buffer: 10,
        }
    }
}

impl SubscriberBuilder {
    /// Long polling: how long a receive waits for messages (`WaitTimeSeconds`, at most 20 s).
    pub fn wait_time(mut self, wait: Duration) -> Self {
        self.wait_time = wait.min(Duration::from_secs(20));
        self
    }

    /// How long a received message stays invisible to others (renewed by the heartbeat while
    /// it is unsettled, so a crashed worker's messages come back after about this long).
    pub fn visibility_timeout(mut self, visibility: Duration) -> Self {
        self.visibility = visibility.max(Duration::from_secs(1));
        self
    }

    /// How often the heartbeat extends an unsettled delivery's visibility (default: a third
    /// of the visibility timeout).
    pub fn heartbeat_every(mut self, every: Duration) -> Self {
        self.heartbeat_every = Some(every.max(Duration::from_millis(100)));
        self
    }

    /// How many receive loops run at once (default 2).
    pub fn pollers(mut self, pollers: usize) -> Self {
        self.pollers = pollers.max(1);
        self
    }

    /// Messages per receive, 1 to 10 (default 10).
    pub fn max_messages(mut self, n: i32) -> Self {
        self.max_messages = n.clamp(1, 10);
        self
    }

    /// Deliveries received and not yet taken by `recv` (default 10). Their visibility is
    /// renewed too, so a small buffer only costs latency.
    pub fn buffer(mut self, n: usize) -> Self {
        self.buffer = n.max(1);
        self
    }

    /// Looks the queue up and starts the pollers.
    pub async fn build(self) -> Result<SqsSubscriber, SqsError> {
        let url = self.sqs.queue_url(&self.queue).await?;
        let fifo = is_fifo(&self.queue);
        let (tx, rx) = mpsc::channel(self.buffer);
        let deletes = Deletes::start(self.sqs.clone(), url.clone());
        let shared = Arc::new(Shared {
            publisher: self.sqs.publisher(),
            sqs: self.sqs.clone(),
            queue: self.queue.clone(),
            url,
            fifo,
            visibility: self.visibility,
            heartbeat_every: self.heartbeat_every.unwrap_or(self.visibility / 3),
            deletes,
            requeues: Mutex::new(HashMap::new()),
            gate: fifo.then(|| Gate::new(tx.clone())),
        });
        let cancel = CancellationToken::new();
        for _ in 0..self.pollers {
            tokio::spawn(poll(
                shared.clone(),
                tx.clone(),
                cancel.clone(),
                whole_seconds(self.wait_time),
                self.max_messages,
            ));
        }
        Ok(SqsSubscriber {
            rx,
            shared,
            closed: false,
            stop: cancel,
        })
    }
}

/// Deliveries from one SQS queue, received by long-polling pollers.
///
/// Each delivery's visibility is extended while it is unsettled; settled by the worker, it
/// is deleted (ack), made visible after the retry delay (retry), or moved to the queue's DLQ
/// with its reasons (dead letter). Dropped unsettled, it is visible again at once.
pub struct SqsSubscriber {
    rx: mpsc::Receiver<Result<Delivery, TransportError>>,
    shared: Arc<Shared>,
    closed: bool,
    stop: CancellationToken,
}

impl std::fmt::Debug for SqsSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqsSubscriber")
            .field("queue", &self.shared.queue)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Subscriber for SqsSubscriber {
    async fn recv(&mut self) -> Result<Option<Delivery>, TransportError> {
        if self.closed {
            // Drain what was received before the close.
            while let Ok(next) = self.rx.try_recv() {
                if let Ok(delivery) = next {
                    return Ok(Some(delivery));
                }
            }
            return Ok(None);
        }
        match self.rx.recv().await {
            Some(next) => next.map(Some),
            None => Ok(None),
        }
    }

    async fn close(&mut self) -> Result<(), TransportError> {
        self.closed = true;
        // Pollers stop (a receive in flight is abandoned: what it took comes back after the
        // visibility timeout); FIFO messages held back go back to the queue.
        self.stop.cancel();
        if let Some(gate) = &self.shared.gate {
            gate.clear();
        }
        Ok(())
    }
}

impl Drop for SqsSubscriber {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(gate) = &self.shared.gate {
            gate.clear();
        }
    }
}

/// One receive loop.
async fn poll(
    shared: Arc<Shared>,
    outbox: Outbox,
    cancel: CancellationToken,
    wait_seconds: i32,
    max_messages: i32,
) {
    loop {
        let receive = shared
            .sqs
            .client()
            .receive_message()
            .queue_url(&shared.url)
            .max_number_of_messages(max_messages)
            .wait_time_seconds(wait_seconds)
            .visibility_timeout(whole_seconds(shared.visibility))
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .send();
        let received = tokio::select! {
            () = cancel.cancelled() => return,
            r = receive => r.map_err(api("ReceiveMessage")),
        };
        match received {
            Ok(out) => {
                for m in out.messages.unwrap_or_default() {
                    let Some((mut message, mut acker, group)) = delivery(&shared, m) else {
                        continue;
                    };
                    if let (Some(gate), Some(group)) = (&shared.gate, &group) {
                        match gate.admit(group, message, acker) {
                            Some((m, a)) => (message, acker) = (m, a),
                            None => continue,
                        }
                        acker.in_gate = true;
                    }
                    if outbox
                        .send(Ok(Delivery::new(message, acker)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
            Err(e) => {
                tracing::warn!(queue = %shared.queue, error = %e, "receiving from SQS failed");
                if outbox.send(Err(e.into())).await.is_err() {
                    return;
                }
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}

/// The herald message and its acknowledger; the group of a FIFO message.
fn delivery(
    shared: &Arc<Shared>,
    m: Message,
) -> Option<(IncomingMessage, SqsAcker, Option<String>)> {
    let receipt = m.receipt_handle?;
    let message_id = m.message_id.unwrap_or_default();
    let system = m.attributes.unwrap_or_default();
    let body = m.body.unwrap_or_default();
    let (mut headers, payload) = match attributes::decode(&body, m.message_attributes.as_ref()) {
        Ok(decoded) => decoded,
        Err(e) => {
            tracing::warn!(queue = %shared.queue, message_id, error = %e, "message attributes unreadable; delivered with the body as it is");
            (Headers::new(), body.into_bytes())
        }
    };
    if headers.contains_key(headers::ORIGIN) {
        // Moved back from the DLQ as it was (StartMessageMoveTask): a first attempt again.
        headers = herald_core::dead_letters::DeadLetterEntry::from_headers(
            &shared.queue,
            headers,
            Vec::new(),
        )
        .replay_headers();
    }
    let receives: u32 = system
        .get(&MessageSystemAttributeName::ApproximateReceiveCount)
        .and_then(|c| c.parse().ok())
        .unwrap_or(1);
    // The attempt: the one the message was sent with (a requeued copy's), plus the receives
    // since, less the FIFO requeues this process made (they are not attempts).
    let base: u32 = headers
        .get(headers::ATTEMPT)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let not_attempts = 1 + shared.requeues_of(&message_id);
    let attempt = (base + receives.saturating_sub(not_attempts)).max(1);
    headers.insert(headers::ATTEMPT.into(), attempt.to_string());
    let group = system
        .get(&MessageSystemAttributeName::MessageGroupId)
        .cloned();
    let key = headers
        .get(headers::PARTITION_KEY)
        .cloned()
        .or_else(|| group.clone());
    let message = IncomingMessage {
        source: shared.queue.clone(),
        key,
        headers: headers.clone(),
        payload: payload.clone(),
    };
    let acker = SqsAcker::new(
        shared.clone(),
        receipt,
        message_id,
        group.clone(),
        headers,
        payload,
    );
    Some((message, acker, group))
}
