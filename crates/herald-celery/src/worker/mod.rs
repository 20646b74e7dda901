//! The worker: consumes one queue, runs registered tasks with bounded concurrency, holds
//! ETA messages aside without blocking the queue, stores results, retries, and sends
//! what comes next (callbacks, chain steps, errbacks).

mod canvas;
mod execute;
mod rate;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use herald_core::IdempotencyStore;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::CeleryError;
use crate::backend::{RedisBackend, ResultMeta};
use crate::broker::Broker;
use crate::events::Events;
use crate::protocol::TaskMessage;
use crate::task::{Registry, Task};

/// How many tasks ended each way, since the worker started.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WorkerStats {
    pub succeeded: u64,
    pub failed: u64,
    pub retried: u64,
    pub revoked: u64,
    /// Duplicates the idempotency store said were done.
    pub skipped: u64,
    /// Malformed or unknown-task messages dropped.
    pub rejected: u64,
}

#[derive(Debug, Default)]
struct Counters {
    succeeded: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    revoked: AtomicU64,
    skipped: AtomicU64,
    rejected: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> WorkerStats {
        WorkerStats {
            succeeded: self.succeeded.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            revoked: self.revoked.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// The idempotency store and its timings: the task id is the key.
#[derive(Clone)]
struct Idempotency {
    store: Arc<dyn IdempotencyStore>,
    lease: Duration,
    ttl: Duration,
}

/// What every task run of one worker shares.
pub(crate) struct Shared {
    broker: Broker,
    backend: Option<RedisBackend>,
    registry: Registry,
    hostname: String,
    idempotency: Option<Idempotency>,
    events: Option<Events>,
    slots: Arc<Semaphore>,
    concurrency: usize,
    stop: CancellationToken,
    rates: rate::RateLimits,
    counters: Counters,
}

impl Shared {
    /// Stores a result; a backend failure is logged (the task's effect is done).
    pub(crate) async fn store(&self, meta: &ResultMeta) {
        if let Some(b) = &self.backend
            && let Err(e) = b.store(meta).await
        {
            tracing::error!(task_id = %meta.task_id, error = %e, "storing the result failed");
        }
    }

    /// Tasks running now, and tasks finished so far (for heartbeats).
    fn load(&self) -> (u64, u64) {
        let total = u64::try_from(self.concurrency).unwrap_or(u64::MAX);
        let free = u64::try_from(self.slots.available_permits()).unwrap_or(0);
        let s = self.counters.snapshot();
        (
            total.saturating_sub(free),
            s.succeeded + s.failed + s.retried,
        )
    }

    /// Publishes a follow-up message; false (and logged) when the broker refused it.
    pub(crate) async fn send(&self, queue: &str, message: &TaskMessage) -> bool {
        match self.broker.publish(queue, message).await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(task = %message.headers.task, task_id = %message.headers.id,
                    queue, error = %e, "publishing a follow-up task failed");
                false
            }
        }
    }
}

/// Builds a [`Worker`].
pub struct WorkerBuilder {
    broker: Broker,
    backend: Option<RedisBackend>,
    registry: Registry,
    queue: String,
    concurrency: usize,
    prefetch: Option<u16>,
    hostname: String,
    idempotency: Option<Idempotency>,
    events: bool,
}

impl std::fmt::Debug for WorkerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerBuilder")
            .field("queue", &self.queue)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

fn default_hostname() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("herald@{host}")
}

impl WorkerBuilder {
    /// Consumes this queue (default `celery`, Celery's default).
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = queue.into();
        self
    }

    /// Tasks run at once (default 8).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Messages taken ahead of the running ones (default 4 × concurrency, Celery's
    /// `worker_prefetch_multiplier`).
    pub fn prefetch(mut self, n: u16) -> Self {
        self.prefetch = Some(n.max(1));
        self
    }

    /// The node name in results and events (default `herald@<host>`).
    pub fn hostname(mut self, name: impl Into<String>) -> Self {
        self.hostname = name.into();
        self
    }

    /// Registers a task: a [`Task`], or the type `#[herald::task]` writes.
    pub fn task(mut self, task: impl Into<Task>) -> Self {
        self.registry.register(task.into());
        self
    }

    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = registry;
        self
    }

    /// Runs each task id at most once to success: the id is claimed in `store` for
    /// `lease` (renewed while it runs), and marked done for `ttl` afterwards, so a
    /// message redelivered after a crash or sent twice does not repeat its effects.
    pub fn idempotency(
        mut self,
        store: Arc<dyn IdempotencyStore>,
        lease: Duration,
        ttl: Duration,
    ) -> Self {
        self.idempotency = Some(Idempotency { store, lease, ttl });
        self
    }

    /// Sends task events (`task-received`, `-started`, `-succeeded`, `-failed`,
    /// `-retried`, `-revoked`), as `celery worker -E` does.
    pub fn events(mut self, on: bool) -> Self {
        self.events = on;
        self
    }

    pub fn build(self) -> Result<Worker, CeleryError> {
        let rates = rate::RateLimits::new(&self.registry);
        let events = self
            .events
            .then(|| Events::new(self.broker.clone(), self.hostname.clone()));
        let prefetch = self
            .prefetch
            .unwrap_or_else(|| u16::try_from(self.concurrency * 4).unwrap_or(u16::MAX));
        Ok(Worker {
            queue: self.queue,
            prefetch,
            shared: Arc::new(Shared {
                broker: self.broker,
                backend: self.backend,
                registry: self.registry,
                hostname: self.hostname,
                idempotency: self.idempotency,
                events,
                slots: Arc::new(Semaphore::new(self.concurrency)),
                concurrency: self.concurrency,
                stop: CancellationToken::new(),
                rates,
                counters: Counters::default(),
            }),
        })
    }
}

/// A Celery worker in Rust.
pub struct Worker {
    queue: String,
    prefetch: u16,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("queue", &self.queue)
            .field("prefetch", &self.prefetch)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker taking tasks from `broker` and storing results in `backend` (`None`: no
    /// results, as Celery without a backend).
    pub fn builder(broker: Broker, backend: Option<RedisBackend>) -> WorkerBuilder {
        WorkerBuilder {
            broker,
            backend,
            registry: Registry::new(),
            queue: "celery".to_owned(),
            concurrency: 8,
            prefetch: None,
            hostname: default_hostname(),
            idempotency: None,
            events: false,
        }
    }

    pub fn stats(&self) -> WorkerStats {
        self.shared.counters.snapshot()
    }

    /// Runs until `stop` is cancelled: then takes nothing more, gives back what it took
    /// ahead and the ETA messages it holds, and waits for the running tasks.
    pub async fn run(&self, stop: CancellationToken) -> Result<WorkerStats, CeleryError> {
        let shared = &self.shared;
        let mut consumer = shared.broker.consumer(&self.queue, self.prefetch).await?;
        let heartbeat = shared.events.is_some().then(|| {
            let shared = shared.clone();
            tokio::spawn(async move {
                let events = shared.events.as_ref().expect("checked");
                events.worker("worker-online", 0, 0).await;
                loop {
                    tokio::time::sleep(crate::events::HEARTBEAT).await;
                    let (active, processed) = shared.load();
                    events.worker("worker-heartbeat", active, processed).await;
                }
            })
        });
        tracing::info!(queue = %self.queue, hostname = %shared.hostname,
            tasks = ?shared.registry.names().collect::<Vec<_>>(), "celery worker ready");
        let tracker = TaskTracker::new();
        // Bounds the messages taken and not yet settled (ETA messages held aside do not
        // count, as Celery raises its prefetch for each); running ones also need a slot.
        let intake = Arc::new(Semaphore::new(usize::from(self.prefetch)));
        loop {
            let permit = tokio::select! {
                () = stop.cancelled() => break,
                p = intake.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            };
            match consumer.recv(&stop).await {
                Ok(Some(delivery)) => {
                    let shared = shared.clone();
                    tracker.spawn(async move { execute::handle(shared, delivery, permit).await });
                }
                Ok(None) => break,
                Err(e) => {
                    drop(permit);
                    tracing::warn!(error = %e, "receiving from the broker failed; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if consumer.is_broken() {
                        match shared.broker.consumer(&self.queue, self.prefetch).await {
                            Ok(c) => consumer = c,
                            Err(e) => tracing::warn!(error = %e, "consuming again failed"),
                        }
                    }
                }
            }
        }
        // Held ETA messages go back to the queue; running tasks finish.
        shared.stop.cancel();
        if let Err(e) = consumer.close().await {
            tracing::warn!(error = %e, "closing the consumer failed");
        }
        tracker.close();
        tracker.wait().await;
        if let Some(h) = heartbeat {
            h.abort();
        }
        if let Some(e) = &shared.events {
            let (active, processed) = shared.load();
            e.worker("worker-offline", active, processed).await;
        }
        Ok(self.stats())
    }
}
