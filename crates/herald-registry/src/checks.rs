//! Where the CPU-bound schema work of a request runs (validation, compatibility checks): on
//! tokio's blocking pool, a bounded number at a time, each under a deadline, so that large
//! checks cannot take the async workers from the requests that only read.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// The point past which a check gives up: it answers 50002 at once, and the blocking thread
/// stops at the next version it would compare.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Instant);

impl Deadline {
    /// `Err(Timeout)` once the deadline has passed.
    pub fn check(&self) -> Result<()> {
        if Instant::now() >= self.0 {
            Err(Error::Timeout)
        } else {
            Ok(())
        }
    }
}

/// The bound on concurrent checks and their deadline (see [`crate::Settings`]).
#[derive(Debug)]
pub struct Checks {
    permits: Arc<Semaphore>,
    limit: usize,
    timeout: Duration,
    finished: AtomicU64,
}

impl Checks {
    /// At most `limit` (at least 1) checks at once, each failing with 50002 after `timeout`
    /// (waiting for a permit included).
    pub fn new(limit: usize, timeout: Duration) -> Self {
        let limit = limit.max(1);
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
            timeout,
            finished: AtomicU64::new(0),
        }
    }

    /// How many checks may run at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Checks running now on the blocking pool (a check past its deadline counts until its
    /// thread stops).
    pub fn in_flight(&self) -> usize {
        self.limit - self.permits.available_permits()
    }

    /// Checks whose thread has returned, since start.
    pub fn finished(&self) -> u64 {
        self.finished.load(Ordering::Relaxed)
    }

    /// Runs `work` on the blocking pool once a permit is free. The permit stays with the
    /// thread until `work` returns, so threads that outlive their request still count.
    pub async fn run<T, F>(self: &Arc<Self>, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Deadline) -> Result<T> + Send + 'static,
    {
        let start = tokio::time::Instant::now();
        let deadline = start + self.timeout;
        let permit = tokio::time::timeout_at(deadline, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| Error::Timeout)?
            .map_err(|_| Error::Internal("check permits closed".to_owned()))?;
        let this = self.clone();
        let until = Deadline(deadline.into_std());
        let task = tokio::task::spawn_blocking(move || {
            let out = work(until);
            this.finished.fetch_add(1, Ordering::Relaxed);
            drop(permit);
            this.report();
            out
        });
        self.report();
        let out = match tokio::time::timeout_at(deadline, task).await {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => Err(Error::Internal(format!("check failed: {e}"))),
            Err(_) => {
                metrics::counter!("herald_registry_checks_timed_out_total").increment(1);
                Err(Error::Timeout)
            }
        };
        metrics::histogram!("herald_registry_check_seconds").record(start.elapsed().as_secs_f64());
        out
    }

    fn report(&self) {
        metrics::gauge!("herald_registry_checks_in_flight").set(self.in_flight() as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn past_the_deadline_is_a_timeout_and_the_permit_comes_back() {
        let checks = Arc::new(Checks::new(1, Duration::from_millis(20)));
        let r = checks
            .run(|d| {
                while d.check().is_ok() {
                    std::thread::sleep(Duration::from_millis(1));
                }
                d.check()
            })
            .await;
        assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
        // The thread stops at its deadline and gives its permit back.
        let until = Instant::now() + Duration::from_secs(10);
        while checks.in_flight() > 0 {
            assert!(Instant::now() < until, "permit never released");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(checks.run(|_| Ok(7)).await.expect("runs"), 7);
    }
}
