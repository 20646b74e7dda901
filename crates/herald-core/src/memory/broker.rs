use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::queue::{Queue, Stored};
use crate::transport::{Acknowledger, DeadLetter, Delivery, IncomingMessage, Retry};
use crate::{Headers, OutgoingMessage, Publisher, Subscriber, TransportError};

/// Settings of the in-memory broker.
#[derive(Debug, Clone)]
pub struct MemoryConfig {
    /// How long a delivery may stay unsettled before it is delivered again (as SQS's
    /// visibility timeout; a consumer that crashed never settles).
    pub visibility_timeout: Duration,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            visibility_timeout: Duration::from_secs(30),
        }
    }
}

/// A message in a queue's dead-letter list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterRecord {
    pub queue: String,
    pub key: Option<String>,
    /// The message's headers with the failure ones (`herald-error`, `herald-attempts`, ...).
    pub headers: Headers,
    /// The original payload, untouched.
    pub payload: Vec<u8>,
    pub reason: String,
    pub dead_at: DateTime<Utc>,
}

/// How many messages a queue holds, by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueStats {
    pub ready: usize,
    pub delayed: usize,
    pub in_flight: usize,
    pub dead: usize,
}

#[derive(Debug, Default)]
struct State {
    queues: HashMap<String, Queue>,
    /// Destination -> queues that receive a copy. Unbound destinations deliver to the
    /// queue of the same name.
    bindings: HashMap<String, Vec<String>>,
    next_id: u64,
}

impl State {
    fn queue(&mut self, name: &str) -> &mut Queue {
        self.queues.entry(name.to_owned()).or_default()
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    config: MemoryConfig,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is only changed in short sections that cannot panic halfway.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The in-memory broker. Cheap to clone; clones share the queues.
#[derive(Debug, Clone, Default)]
pub struct MemoryBroker {
    shared: Arc<Shared>,
}

impl MemoryBroker {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_config(config: MemoryConfig) -> Self {
        MemoryBroker {
            shared: Arc::new(Shared {
                state: Mutex::default(),
                config,
            }),
        }
    }

    /// Delivers a copy of each message published to `destination` into `queue`.
    pub fn bind(&self, destination: &str, queue: &str) {
        let mut state = self.shared.lock();
        let queues = state.bindings.entry(destination.to_owned()).or_default();
        if !queues.iter().any(|q| q == queue) {
            queues.push(queue.to_owned());
        }
        state.queue(queue);
    }

    /// A consumer of `queue`. Several subscribers of one queue compete for its messages.
    pub fn subscribe(&self, queue: &str) -> MemorySubscriber {
        let notify = self.shared.lock().queue(queue).notify.clone();
        MemorySubscriber {
            shared: self.shared.clone(),
            queue: queue.to_owned(),
            notify,
            closed: false,
        }
    }

    pub fn stats(&self, queue: &str) -> QueueStats {
        let mut state = self.shared.lock();
        let q = state.queue(queue);
        QueueStats {
            ready: q.ready.len(),
            delayed: q.delayed.len(),
            in_flight: q.in_flight.len(),
            dead: q.dead.len(),
        }
    }

    /// The dead letters of `queue`, oldest first.
    pub fn dead_letters(&self, queue: &str) -> Vec<DeadLetterRecord> {
        self.shared.lock().queue(queue).dead.clone()
    }

    /// Moves the dead letters of `queue` that `filter` accepts back to the queue, as first
    /// attempts. Returns how many were moved.
    pub fn replay_dead_letters(
        &self,
        queue: &str,
        mut filter: impl FnMut(&DeadLetterRecord) -> bool,
    ) -> usize {
        self.take_dead_letters(queue, |r| filter(r), true).len()
    }

    /// Takes the dead letters of `queue` that `take` accepts out of its dead-letter list,
    /// oldest first, moving them back to the queue as first attempts when `replay`.
    pub(super) fn take_dead_letters(
        &self,
        queue: &str,
        mut take: impl FnMut(&DeadLetterRecord) -> bool,
        replay: bool,
    ) -> Vec<DeadLetterRecord> {
        let mut state = self.shared.lock();
        let dead = std::mem::take(&mut state.queue(queue).dead);
        let (taken, keep): (Vec<_>, Vec<_>) = dead.into_iter().partition(|r| take(r));
        state.queue(queue).dead = keep;
        if replay {
            for record in &taken {
                let id = state.next_id();
                let stored = Stored {
                    id,
                    key: record.key.clone(),
                    headers: record.entry().replay_headers(),
                    payload: record.payload.clone(),
                };
                state.queue(queue).ready.push_back(stored);
            }
            state.queue(queue).notify.notify_waiters();
        }
        taken
    }

    fn settle(
        &self,
        queue: &str,
        tag: u64,
    ) -> Result<(Stored, MutexGuard<'_, State>), TransportError> {
        let mut state = self.shared.lock();
        match state.queue(queue).in_flight.remove(&tag) {
            Some(f) => Ok((f.message, state)),
            None => Err(TransportError::Rejected(format!(
                "delivery {tag} on `{queue}` is no longer in flight: its visibility timeout passed and it was delivered again"
            ))),
        }
    }
}

#[async_trait]
impl Publisher for MemoryBroker {
    async fn publish(&self, message: OutgoingMessage) -> Result<(), TransportError> {
        let mut state = self.shared.lock();
        let targets = state
            .bindings
            .get(&message.destination)
            .cloned()
            .unwrap_or_else(|| vec![message.destination.clone()]);
        for target in targets {
            let id = state.next_id();
            let q = state.queue(&target);
            q.ready.push_back(Stored {
                id,
                key: Some(message.key.clone()),
                headers: message.headers.clone(),
                payload: message.payload.clone(),
            });
            q.notify.notify_waiters();
        }
        Ok(())
    }
}

/// A consumer of one queue of a [`MemoryBroker`].
#[derive(Debug)]
pub struct MemorySubscriber {
    shared: Arc<Shared>,
    queue: String,
    notify: Arc<tokio::sync::Notify>,
    closed: bool,
}

enum Take {
    Delivery(Box<Delivery>),
    Wait(Option<Instant>),
}

impl MemorySubscriber {
    fn try_take(&self) -> Take {
        let now = Instant::now();
        let mut state = self.shared.lock();
        let tag = state.next_id();
        let q = state.queue(&self.queue);
        q.promote(now);
        let Some(message) = q.ready.pop_front() else {
            return Take::Wait(q.next_wake());
        };
        let incoming = IncomingMessage {
            source: self.queue.clone(),
            key: message.key.clone(),
            headers: message.headers.clone(),
            payload: message.payload.clone(),
        };
        q.hand_out(tag, message, now + self.shared.config.visibility_timeout);
        let acker = MemoryAcker {
            broker: MemoryBroker {
                shared: self.shared.clone(),
            },
            queue: self.queue.clone(),
            tag,
        };
        Take::Delivery(Box::new(Delivery::new(incoming, acker)))
    }
}

#[async_trait]
impl Subscriber for MemorySubscriber {
    async fn recv(&mut self) -> Result<Option<Delivery>, TransportError> {
        loop {
            if self.closed {
                return Ok(None);
            }
            // Register for wake-ups before looking, so a publish in between is not missed.
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.try_take() {
                Take::Delivery(d) => return Ok(Some(*d)),
                Take::Wait(Some(at)) => {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                Take::Wait(None) => notified.await,
            }
        }
    }

    async fn close(&mut self) -> Result<(), TransportError> {
        self.closed = true;
        Ok(())
    }
}

#[derive(Debug)]
struct MemoryAcker {
    broker: MemoryBroker,
    queue: String,
    tag: u64,
}

/// Puts a settled message back: ready at once, or after `delay`.
fn put_back(state: &mut State, queue: &str, message: Stored, delay: Duration) {
    let q = state.queue(queue);
    if delay.is_zero() {
        q.ready.push_back(message);
    } else {
        q.delayed
            .insert((Instant::now() + delay, message.id), message);
    }
    q.notify.notify_waiters();
}

#[async_trait]
impl Acknowledger for MemoryAcker {
    async fn ack(self: Box<Self>) -> Result<(), TransportError> {
        self.broker.settle(&self.queue, self.tag).map(|_| ())
    }

    async fn retry(self: Box<Self>, retry: Retry) -> Result<(), TransportError> {
        let (mut message, mut state) = self.broker.settle(&self.queue, self.tag)?;
        message.headers = retry.headers;
        put_back(&mut state, &self.queue, message, retry.delay);
        Ok(())
    }

    async fn requeue(self: Box<Self>, delay: Duration) -> Result<(), TransportError> {
        let (message, mut state) = self.broker.settle(&self.queue, self.tag)?;
        put_back(&mut state, &self.queue, message, delay);
        Ok(())
    }

    async fn dead_letter(self: Box<Self>, dead_letter: DeadLetter) -> Result<(), TransportError> {
        let (message, mut state) = self.broker.settle(&self.queue, self.tag)?;
        state.queue(&self.queue).dead.push(DeadLetterRecord {
            queue: self.queue.clone(),
            key: message.key,
            headers: dead_letter.headers,
            payload: message.payload,
            reason: dead_letter.reason,
            dead_at: Utc::now(),
        });
        Ok(())
    }
}
