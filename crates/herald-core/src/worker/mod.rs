//! The worker: takes deliveries from a subscriber and runs the matching handler, with
//! bounded concurrency, optional order per partition key, and graceful shutdown.

mod dispatch;
mod metrics;
mod ordering;

use std::any::TypeId;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use self::dispatch::{Dispatch, Runner, Runtime};
pub use self::metrics::{WorkerMetrics, WorkerStats};
use self::ordering::KeyedQueues;
use crate::memory::MemorySubscriber;
use crate::{Extensions, Handler, IdempotencyStore, MemoryIdempotencyStore, Producer, Subscriber};

/// Runs handlers over a [`Subscriber`].
///
/// ```no_run
/// # use herald_core::{Worker, memory::MemoryBroker};
/// # async fn demo<H: herald_core::Handler>(h: H) {
/// let broker = MemoryBroker::new();
/// let worker = Worker::builder().handler(h).concurrency(16).ordered_by_key(true).build();
/// let report = worker.run(broker.subscribe("orders"), tokio::signal::ctrl_c()).await;
/// # }
/// ```
pub struct Worker {
    rt: Arc<Runtime>,
    concurrency: usize,
    ordered: bool,
    shutdown_timeout: Duration,
    /// No store was configured: the in-memory one is used.
    default_store: bool,
}

/// Builds a [`Worker`].
pub struct WorkerBuilder {
    handlers: HashMap<&'static str, Arc<dyn Dispatch>>,
    store: Option<Arc<dyn IdempotencyStore>>,
    producer: Option<Producer>,
    extensions: Extensions,
    metrics: Arc<WorkerMetrics>,
    concurrency: usize,
    ordered: bool,
    validate: bool,
    shutdown_timeout: Duration,
    in_progress_delay: Duration,
}

/// What happened at shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Whether every in-flight delivery finished before the deadline.
    pub drained: bool,
    /// Deliveries given back to the broker unprocessed because the deadline passed.
    pub handed_back: u64,
}

impl Worker {
    pub fn builder() -> WorkerBuilder {
        WorkerBuilder {
            handlers: HashMap::new(),
            store: None,
            producer: None,
            extensions: Extensions::new(),
            metrics: Arc::default(),
            concurrency: 16,
            ordered: false,
            validate: false,
            shutdown_timeout: Duration::from_secs(30),
            in_progress_delay: Duration::from_secs(1),
        }
    }

    /// The worker's counters (shared: they keep counting while it runs).
    pub fn metrics(&self) -> Arc<WorkerMetrics> {
        self.rt.metrics.clone()
    }

    /// Processes deliveries until `shutdown` completes or the subscriber closes. Then it
    /// stops taking work, lets in-flight handlers finish within the shutdown timeout, and
    /// hands back (requeues) what did not finish.
    pub async fn run<S, F>(self, subscriber: S, shutdown: F) -> ShutdownReport
    where
        S: Subscriber,
        F: Future + Send,
    {
        self.run_inner(subscriber, shutdown, None).await
    }

    /// Processes deliveries until the queue is idle: nothing was received and no handler
    /// ran for `idle_for`. Then it shuts down as [`Worker::run`] does. For batch jobs,
    /// tests and examples that process what is there and stop. A retry or redelivery due
    /// later than `idle_for` after the last activity stays in the queue for the next run.
    pub async fn run_until_idle<S: Subscriber>(
        self,
        subscriber: S,
        idle_for: Duration,
    ) -> ShutdownReport {
        self.run_inner(subscriber, std::future::pending::<()>(), Some(idle_for))
            .await
    }

    async fn run_inner<S, F>(
        self,
        mut subscriber: S,
        shutdown: F,
        idle_for: Option<Duration>,
    ) -> ShutdownReport
    where
        S: Subscriber,
        F: Future + Send,
    {
        if self.default_store && TypeId::of::<S>() != TypeId::of::<MemorySubscriber>() {
            tracing::warn!(
                "no idempotency store configured: using the in-memory one, so duplicates are \
                 only recognised within this process (a redelivery to another worker, or \
                 after a restart, runs the handler again); configure a shared store (Redis, \
                 PostgreSQL) with WorkerBuilder::idempotency_store"
            );
        }
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let keyed = self.ordered.then(|| Arc::new(KeyedQueues::default()));
        let mut tasks = JoinSet::new();
        let mut receive_errors = 0u32;
        // Receiving or finishing a delivery; idle is `idle_for` after it with nothing running.
        let mut last_activity = tokio::time::Instant::now();
        tokio::pin!(shutdown);

        'work: loop {
            let permit = tokio::select! {
                _ = &mut shutdown => break,
                p = permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            };
            let next = {
                // Kept across the loop below: a receive is not cancelled to notice a task
                // ending (not every transport's receive is cancel-safe).
                let recv = subscriber.recv();
                tokio::pin!(recv);
                loop {
                    let idle_at = idle_for.map(|idle| last_activity + idle);
                    tokio::select! {
                        _ = &mut shutdown => break 'work,
                        d = &mut recv => break d,
                        Some(_) = tasks.join_next(), if idle_for.is_some() && !tasks.is_empty() => {
                            last_activity = tokio::time::Instant::now();
                        }
                        () = sleep_until_some(idle_at), if tasks.is_empty() => {
                            tracing::info!("the queue is idle");
                            break 'work;
                        }
                    }
                }
            };
            last_activity = tokio::time::Instant::now();
            match next {
                Ok(Some(delivery)) => {
                    receive_errors = 0;
                    let rt = self.rt.clone();
                    match (&keyed, delivery.message.key.clone()) {
                        (Some(keyed), Some(key)) => {
                            if let Some(run) = keyed.enqueue(key, delivery, permit) {
                                let keyed = keyed.clone();
                                tasks.spawn(async move { keyed.drain(run, &rt).await });
                            }
                        }
                        _ => {
                            tasks.spawn(async move {
                                dispatch::process(&rt, delivery).await;
                                drop(permit);
                            });
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    // The transport reconnects on its own; back off so a dead broker is not
                    // polled in a hot loop.
                    receive_errors = receive_errors.saturating_add(1);
                    let wait = Duration::from_millis(100 * 2u64.pow(receive_errors.min(6)));
                    tracing::error!(error = %e, ?wait, "receive failed");
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
            while tasks.try_join_next().is_some() {}
        }

        tracing::info!("shutting down: no new work taken");
        // One deadline for closing the subscriber and draining: a broker that hangs must
        // not hold the shutdown (closing may wait for its answer).
        let deadline = tokio::time::Instant::now() + self.shutdown_timeout;
        match tokio::time::timeout_at(deadline, subscriber.close()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "closing the subscriber failed"),
            Err(_) => tracing::warn!(
                "the subscriber did not close before the shutdown deadline (the broker does not answer); going on without it"
            ),
        }
        let handed_back_before = self.rt.metrics.snapshot().handed_back;
        let drained = tokio::time::timeout_at(deadline, async {
            while tasks.join_next().await.is_some() {}
        })
        .await
        .is_ok();
        // Past the deadline, one short grace for handing back and letting go of the
        // subscriber; neither the store nor the broker may hold the shutdown beyond it.
        let grace_end = deadline.max(tokio::time::Instant::now()) + CANCEL_GRACE;
        let mut abandoned = 0;
        if !drained {
            tracing::warn!(
                "shutdown deadline passed: cancelling handlers, handing back their messages"
            );
            self.rt.cancel.cancel();
            // Handing back calls the store and the broker, which may not answer either.
            let settled = tokio::time::timeout_at(grace_end, async {
                while tasks.join_next().await.is_some() {}
            })
            .await
            .is_ok();
            if !settled {
                abandoned = tasks.len() as u64;
                tracing::warn!(
                    abandoned,
                    "handing back did not finish: abandoning those deliveries unsettled (the broker delivers them again)"
                );
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
            }
        }
        // Dropping a subscriber may block while it commits and leaves (Kafka's waits for the
        // broker, up to its own close timeout): on a blocking thread, awaited within the
        // deadline and grace, then left to finish on its own.
        let dropped = tokio::task::spawn_blocking(move || drop(subscriber));
        if tokio::time::timeout_at(grace_end, dropped).await.is_err() {
            tracing::warn!(
                "the subscriber is still closing after the shutdown deadline; it goes on in the background"
            );
        }
        ShutdownReport {
            drained,
            handed_back: self.rt.metrics.snapshot().handed_back - handed_back_before + abandoned,
        }
    }
}

/// After the shutdown deadline, how long cancelled handlers get to hand their messages
/// back before their tasks are aborted (what they held is then left unsettled, so the
/// broker delivers it again); and how long a handler whose claim was lost gets to notice
/// its cancellation before it is dropped.
pub(crate) const CANCEL_GRACE: Duration = Duration::from_secs(1);

/// Completes at `at`, or never.
async fn sleep_until_some(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl WorkerBuilder {
    /// Adds a handler. One handler per event type per worker; run several workers (on
    /// several queues or consumer groups) for several handlers of one event.
    ///
    /// # Panics
    /// If a handler for the same event type was added already.
    pub fn handler<H: Handler>(mut self, handler: H) -> Self {
        let event = <H::Event as crate::Event>::NAME;
        let name = handler.name();
        if let Some(existing) = self.handlers.insert(event, Arc::new(Runner(handler))) {
            panic!(
                "handlers `{}` and `{name}` both take `{event}`: one handler per event type per worker",
                existing.name()
            );
        }
        self
    }

    /// The idempotency store (default: an in-memory store, right only for one process; a
    /// worker on a broker transport without one logs a warning when it starts).
    pub fn idempotency_store(mut self, store: Arc<dyn IdempotencyStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// How handlers publish further events (through `Context::publish`).
    pub fn producer(mut self, producer: Producer) -> Self {
        self.producer = Some(producer);
        self
    }

    /// A shared value handlers reach with `ctx.extension::<T>()`.
    pub fn extension<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.extensions.insert(value);
        self
    }

    /// How many deliveries are processed at once (default 16).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Processes deliveries with the same partition key one at a time, in arrival order.
    /// A retried delivery goes to the back: order holds within an attempt, not across one.
    pub fn ordered_by_key(mut self, on: bool) -> Self {
        self.ordered = on;
        self
    }

    /// Validates each payload against its event's JSON Schema before decoding (feature
    /// `validation`); an invalid payload is dead-lettered with the validation errors.
    #[cfg(feature = "validation")]
    pub fn validate_payloads(mut self, on: bool) -> Self {
        self.validate = on;
        self
    }

    /// How long closing the subscriber and finishing in-flight work may take at shutdown
    /// (default 30 s), one deadline for both; past it, handlers are cancelled and their
    /// messages handed back, and what is not handed back within a second more is left
    /// unsettled (the broker delivers it again).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// How long a delivery whose key is being processed elsewhere waits before it is
    /// looked at again (default 1 s).
    pub fn in_progress_delay(mut self, delay: Duration) -> Self {
        self.in_progress_delay = delay;
        self
    }

    /// Shares counters with another worker or a metrics endpoint.
    pub fn metrics(mut self, metrics: Arc<WorkerMetrics>) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn build(self) -> Worker {
        let default_store = self.store.is_none();
        Worker {
            default_store,
            rt: Arc::new(Runtime {
                handlers: self.handlers,
                store: self
                    .store
                    .unwrap_or_else(|| Arc::new(MemoryIdempotencyStore::new())),
                producer: self.producer,
                extensions: Arc::new(self.extensions),
                metrics: self.metrics,
                validate: self.validate,
                in_progress_delay: self.in_progress_delay,
                cancel: CancellationToken::new(),
            }),
            concurrency: self.concurrency,
            ordered: self.ordered,
            shutdown_timeout: self.shutdown_timeout,
        }
    }
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("handlers", &self.rt.handlers.keys().collect::<Vec<_>>())
            .field("concurrency", &self.concurrency)
            .field("ordered", &self.ordered)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for WorkerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerBuilder")
            .field("handlers", &self.handlers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}
