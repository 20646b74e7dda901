use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Counters of one worker, readable at any time with [`WorkerMetrics::snapshot`]. Each
/// update is also sent to the `metrics` facade (`herald_messages_total{outcome}`,
/// `herald_handler_duration_seconds`), so a Prometheus exporter can be installed.
#[derive(Debug, Default)]
pub struct WorkerMetrics {
    processed: AtomicU64,
    retried: AtomicU64,
    dead_lettered: AtomicU64,
    duplicates_skipped: AtomicU64,
    requeued_in_progress: AtomicU64,
    handed_back: AtomicU64,
    leases_lost: AtomicU64,
    panicked: AtomicU64,
    latency_count: AtomicU64,
    latency_total_us: AtomicU64,
    latency_max_us: AtomicU64,
}

/// A copy of a worker's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WorkerStats {
    /// Handlers that succeeded.
    pub processed: u64,
    /// Failures that were scheduled for another attempt.
    pub retried: u64,
    /// Messages moved to the dead-letter queue.
    pub dead_lettered: u64,
    /// Messages skipped because their key was already done.
    pub duplicates_skipped: u64,
    /// Messages given back because their key was in progress elsewhere.
    pub requeued_in_progress: u64,
    /// Messages given back unprocessed at shutdown.
    pub handed_back: u64,
    /// Messages given back because their claim was lost while the handler ran (the lease
    /// could not be renewed: another worker may hold the key).
    pub leases_lost: u64,
    /// Handler runs that panicked (each also counted as retried or dead-lettered).
    pub panicked: u64,
    /// Handler runs timed.
    pub handler_runs: u64,
    pub handler_latency_mean: Duration,
    pub handler_latency_max: Duration,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome {
    Processed,
    Retried,
    DeadLettered,
    DuplicateSkipped,
    RequeuedInProgress,
    HandedBack,
    LeaseLost,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Processed => "processed",
            Outcome::Retried => "retried",
            Outcome::DeadLettered => "dead_lettered",
            Outcome::DuplicateSkipped => "duplicate_skipped",
            Outcome::RequeuedInProgress => "requeued_in_progress",
            Outcome::HandedBack => "handed_back",
            Outcome::LeaseLost => "lease_lost",
        }
    }
}

impl WorkerMetrics {
    pub(crate) fn count(&self, handler: &'static str, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Processed => &self.processed,
            Outcome::Retried => &self.retried,
            Outcome::DeadLettered => &self.dead_lettered,
            Outcome::DuplicateSkipped => &self.duplicates_skipped,
            Outcome::RequeuedInProgress => &self.requeued_in_progress,
            Outcome::HandedBack => &self.handed_back,
            Outcome::LeaseLost => &self.leases_lost,
        };
        counter.fetch_add(1, Relaxed);
        metrics::counter!("herald_messages_total", "handler" => handler, "outcome" => outcome.label())
            .increment(1);
    }

    pub(crate) fn panicked(&self, handler: &'static str) {
        self.panicked.fetch_add(1, Relaxed);
        metrics::counter!("herald_handler_panics_total", "handler" => handler).increment(1);
    }

    pub(crate) fn handler_latency(&self, handler: &'static str, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_total_us.fetch_add(us, Relaxed);
        self.latency_max_us.fetch_max(us, Relaxed);
        metrics::histogram!("herald_handler_duration_seconds", "handler" => handler)
            .record(took.as_secs_f64());
    }

    pub fn snapshot(&self) -> WorkerStats {
        let runs = self.latency_count.load(Relaxed);
        let total = self.latency_total_us.load(Relaxed);
        WorkerStats {
            processed: self.processed.load(Relaxed),
            retried: self.retried.load(Relaxed),
            dead_lettered: self.dead_lettered.load(Relaxed),
            duplicates_skipped: self.duplicates_skipped.load(Relaxed),
            requeued_in_progress: self.requeued_in_progress.load(Relaxed),
            handed_back: self.handed_back.load(Relaxed),
            leases_lost: self.leases_lost.load(Relaxed),
            panicked: self.panicked.load(Relaxed),
            handler_runs: runs,
            handler_latency_mean: Duration::from_micros(total.checked_div(runs).unwrap_or(0)),
            handler_latency_max: Duration::from_micros(self.latency_max_us.load(Relaxed)),
        }
    }
}
