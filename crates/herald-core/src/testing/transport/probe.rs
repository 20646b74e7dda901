//! The event, handler and log the cases share: a handler whose behaviour each case sets
//! per event and attempt, recording what it saw so a case can wait for it and check it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::{Context, Event, Handler, HandlerError, RetryPolicy};

/// The event the cases publish: `id` is unique within a case, `key` orders it, `step` is
/// its place in its key's sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Probe {
    pub id: u32,
    pub key: String,
    pub step: u32,
}

impl Event for Probe {
    const NAME: &'static str = "herald.conformance.probe";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.key.clone()
    }
}

impl Probe {
    pub fn new(id: u32, key: impl Into<String>, step: u32) -> Self {
        Probe {
            id,
            key: key.into(),
            step,
        }
    }
}

/// What the handler does with one event at one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Succeed,
    /// Succeed after working this long.
    Work(Duration),
    /// A retryable failure.
    Fail,
    /// A permanent failure.
    FailPermanently,
    Panic,
}

/// One handler run.
#[derive(Debug, Clone)]
pub struct Seen {
    pub probe: Probe,
    pub attempt: u32,
    /// When the run started.
    pub at: Instant,
    pub behaviour: Behaviour,
}

type Script = dyn Fn(&Probe, u32) -> Behaviour + Send + Sync;

/// Runs the behaviour its script gives for each event and attempt, and logs every run.
#[derive(Clone)]
pub struct ProbeHandler {
    name: &'static str,
    policy: RetryPolicy,
    script: Arc<Script>,
    log: Log,
}

impl std::fmt::Debug for ProbeHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeHandler")
            .field("name", &self.name)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl ProbeHandler {
    pub fn new(
        name: &'static str,
        policy: RetryPolicy,
        script: impl Fn(&Probe, u32) -> Behaviour + Send + Sync + 'static,
    ) -> Self {
        ProbeHandler {
            name,
            policy,
            script: Arc::new(script),
            log: Log::default(),
        }
    }

    /// A handler that succeeds at once, with a policy of quick retries.
    pub fn succeeding() -> Self {
        Self::new("conformance", quick_retries(3), |_, _| Behaviour::Succeed)
    }

    pub fn log(&self) -> Log {
        self.log.clone()
    }
}

/// `max_attempts` attempts, 100 ms apart, no jitter.
pub fn quick_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_delay: Duration::from_millis(100),
        multiplier: 1.0,
        max_delay: Duration::from_millis(100),
        jitter: crate::Jitter::None,
    }
}

#[async_trait]
impl Handler for ProbeHandler {
    type Event = Probe;

    fn name(&self) -> &'static str {
        self.name
    }

    fn retry_policy(&self) -> RetryPolicy {
        self.policy.clone()
    }

    async fn handle(&self, probe: Probe, ctx: &Context) -> Result<(), HandlerError> {
        let behaviour = (self.script)(&probe, ctx.attempt());
        let running = self.log.started(Seen {
            probe: probe.clone(),
            attempt: ctx.attempt(),
            at: Instant::now(),
            behaviour,
        });
        let outcome = match behaviour {
            Behaviour::Succeed => Ok(()),
            Behaviour::Work(time) => {
                tokio::time::sleep(time).await;
                Ok(())
            }
            Behaviour::Fail => Err(HandlerError::retryable(std::io::Error::other(format!(
                "probe {} failed at attempt {}",
                probe.id,
                ctx.attempt()
            )))),
            Behaviour::FailPermanently => Err(HandlerError::permanent(std::io::Error::other(
                format!("probe {} is refused for good", probe.id),
            ))),
            Behaviour::Panic => panic!("probe {} panics at attempt {}", probe.id, ctx.attempt()),
        };
        drop(running);
        outcome
    }
}

/// What the handler saw, shared with the case that waits on it.
#[derive(Clone, Default)]
pub struct Log {
    inner: Arc<LogInner>,
}

#[derive(Default)]
struct LogInner {
    seen: Mutex<Vec<Seen>>,
    changed: Notify,
    running: AtomicUsize,
    max_running: AtomicUsize,
}

/// Counts a run as running until dropped (also when the handler panics or is cancelled).
struct Running(Arc<LogInner>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("runs", &self.seen().len())
            .field("running", &self.running())
            .finish()
    }
}

impl Log {
    fn started(&self, seen: Seen) -> Running {
        let now = self.inner.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.inner.max_running.fetch_max(now, Ordering::SeqCst);
        self.inner
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(seen);
        self.inner.changed.notify_waiters();
        Running(self.inner.clone())
    }

    /// Every run so far, in start order.
    pub fn seen(&self) -> Vec<Seen> {
        self.inner
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The runs of probe `id`.
    pub fn runs_of(&self, id: u32) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.probe.id == id)
            .collect()
    }

    /// Handler runs in progress now.
    pub fn running(&self) -> usize {
        self.inner.running.load(Ordering::SeqCst)
    }

    /// The most handler runs ever in progress at once.
    pub fn max_running(&self) -> usize {
        self.inner.max_running.load(Ordering::SeqCst)
    }

    /// Waits until `done` holds for the runs seen (checked at every run and every 50 ms),
    /// at most `limit`; panics saying `what` was awaited and what was seen.
    pub async fn wait_until(
        &self,
        what: &str,
        limit: Duration,
        mut done: impl FnMut(&[Seen]) -> bool,
    ) {
        let deadline = Instant::now() + limit;
        loop {
            let changed = self.inner.changed.notified();
            if done(&self.seen()) {
                return;
            }
            if Instant::now() >= deadline {
                let seen = self.seen();
                panic!(
                    "waited {limit:?} for {what}; the handler ran {} times: {:?}",
                    seen.len(),
                    seen.iter()
                        .map(|s| (s.probe.id, s.attempt, s.behaviour))
                        .collect::<Vec<_>>()
                );
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), changed).await;
        }
    }
}
