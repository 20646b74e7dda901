//! Running a worker over a transport's subscriber, and publishing probes, for the cases.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::TransportUnderTest;
use super::probe::{Probe, ProbeHandler};
use crate::{
    EnvelopeMeta, MemoryIdempotencyStore, Producer, ShutdownReport, Worker, WorkerBuilder,
    WorkerMetrics, WorkerStats,
};

/// How long a worker may take to stop before the case calls it hung.
const STOP_LIMIT: Duration = Duration::from_secs(60);

/// A worker running in the background until stopped.
#[derive(Debug)]
pub struct RunningWorker {
    stop: tokio::sync::oneshot::Sender<()>,
    task: JoinHandle<ShutdownReport>,
    metrics: Arc<WorkerMetrics>,
}

impl RunningWorker {
    /// Starts a worker with `handler` on a new subscriber of `source`; `configure` sets
    /// concurrency, order, shutdown timeout or a shared idempotency store (by default its
    /// own in-memory one).
    pub async fn start<T: TransportUnderTest>(
        transport: &T,
        source: &str,
        handler: ProbeHandler,
        configure: impl FnOnce(WorkerBuilder) -> WorkerBuilder,
    ) -> Self {
        let builder = Worker::builder()
            .idempotency_store(Arc::new(MemoryIdempotencyStore::new()))
            .handler(handler);
        let worker = configure(builder).build();
        let metrics = worker.metrics();
        let (stop, task) = crate::testing::spawn_worker(worker, transport.subscriber(source).await);
        RunningWorker {
            stop,
            task,
            metrics,
        }
    }

    pub fn stats(&self) -> WorkerStats {
        self.metrics.snapshot()
    }

    /// Waits until `done` holds for the worker's counters, at most `limit`.
    pub async fn wait_for_stats(
        &self,
        what: &str,
        limit: Duration,
        done: impl Fn(&WorkerStats) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(&self.stats()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited {limit:?} for {what}; the worker counted {:?}",
                self.stats()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Asks the worker to shut down and waits for its report.
    pub async fn stop(self) -> ShutdownReport {
        let _ = self.stop.send(());
        match tokio::time::timeout(STOP_LIMIT, self.task).await {
            Ok(Ok(report)) => report,
            Ok(Err(e)) => panic!("the worker task failed: {e}"),
            Err(_) => panic!("the worker did not stop within {STOP_LIMIT:?}"),
        }
    }
}

/// Publishes `probes` to `source`, in order, each confirmed; returns their metadata.
pub async fn publish_probes<T: TransportUnderTest>(
    transport: &T,
    source: &str,
    probes: impl IntoIterator<Item = Probe>,
) -> Vec<EnvelopeMeta> {
    let producer = Producer::from_arc(transport.publisher().await)
        .route(<Probe as crate::Event>::NAME, source);
    let mut sent = Vec::new();
    for probe in probes {
        let id = probe.id;
        match producer.publish(probe).await {
            Ok(meta) => sent.push(meta),
            Err(e) => panic!("publishing probe {id} to `{source}` failed: {e}"),
        }
    }
    sent
}
