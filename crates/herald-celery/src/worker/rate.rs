//! Celery's per-task `rate_limit` on one worker: runs are spaced at least 1/rate apart.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::task::Registry;

#[derive(Debug, Default)]
pub(super) struct RateLimits {
    /// Per rate-limited task: the earliest time the next run may start.
    next: HashMap<String, (Duration, Arc<Mutex<Instant>>)>,
}

impl RateLimits {
    pub(super) fn new(registry: &Registry) -> Self {
        let next = registry
            .names()
            .filter_map(|name| {
                let rate = registry.get(name)?.options.rate_limit?;
                let gap = Duration::from_secs_f64(1.0 / rate);
                Some((name.to_owned(), (gap, Arc::new(Mutex::new(Instant::now())))))
            })
            .collect();
        RateLimits { next }
    }

    /// Waits for this task's next slot (at once for tasks without a rate limit).
    pub(super) async fn wait(&self, task: &str) {
        let Some((gap, next)) = self.next.get(task) else {
            return;
        };
        let slot = {
            let mut next = next.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot + *gap;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}
