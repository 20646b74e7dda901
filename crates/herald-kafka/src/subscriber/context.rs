//! The consumer's callbacks, run on the poll thread: rebalances (commit what finished,
//! stop work on what is revoked), commit results, and statistics (lag).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaResult;
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, TopicPartitionList};

use super::state::{Shared, Tp};

pub(crate) struct HeraldContext {
    pub shared: Arc<Shared>,
    /// How long a revoke waits for running handlers of the revoked partitions.
    pub revoke_grace: Duration,
    /// Set on every rebalance, so the poll thread drops what it held back.
    pub rebalanced: AtomicBool,
    /// Set once the subscriber shuts down: its last commit has been tried (within a
    /// deadline), so the revoke of closing commits nothing and cannot block on the broker.
    pub closing: AtomicBool,
    /// Commit results received, so a bounded commit knows when its answer came.
    pub commits_answered: AtomicU64,
}

pub(crate) type HeraldConsumer = BaseConsumer<HeraldContext>;

fn tps(list: &TopicPartitionList) -> Vec<Tp> {
    list.elements()
        .iter()
        .map(|e| (Arc::from(e.topic()), e.partition()))
        .collect()
}

/// Commits `positions` now, waiting for the broker's answer.
pub(crate) fn commit_sync(consumer: &HeraldConsumer, positions: &[(Tp, i64)]) {
    if positions.is_empty() {
        return;
    }
    let Ok(list) = position_list(positions) else {
        return;
    };
    tracing::trace!(?positions, "committing and waiting");
    match consumer.commit(&list, CommitMode::Sync) {
        Ok(()) => tracing::debug!(partitions = positions.len(), "offsets committed"),
        Err(e) => {
            tracing::warn!(error = %e, "committing offsets failed; the events after the last commit will be processed again")
        }
    }
}

/// Commits `positions` and waits for the broker's answer until `deadline`, retrying a
/// failed commit while there is time. A broker that has gone away or hangs would make a
/// synchronous commit wait without end (librdkafka's own commit has no timeout).
/// Whatever is not committed is delivered again to the group's next consumer.
pub(crate) fn commit_before(
    consumer: &HeraldConsumer,
    positions: Vec<(Tp, i64)>,
    shared: &Shared,
    deadline: Instant,
) {
    let mut positions = positions;
    let context = consumer.context();
    while !positions.is_empty() {
        let Ok(list) = position_list(&positions) else {
            return;
        };
        let answered = context.commits_answered.load(AtomicOrdering::SeqCst);
        if let Err(e) = consumer.commit(&list, CommitMode::Async) {
            tracing::warn!(error = %e, "could not send the last offset commit; the events after the last commit will be delivered again");
            return;
        }
        // Polling serves the commit callback; a message it returns is not handed out.
        while context.commits_answered.load(AtomicOrdering::SeqCst) == answered {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(
                    partitions = positions.len(),
                    "the broker did not answer the last offset commit in time; the events after the last commit will be delivered again"
                );
                return;
            }
            let _ = consumer.poll(left.min(Duration::from_millis(100)));
        }
        // A failed commit put its positions back to commit.
        positions = shared.to_commit();
    }
    tracing::debug!("last offsets committed");
}

pub(crate) fn position_list(positions: &[(Tp, i64)]) -> KafkaResult<TopicPartitionList> {
    let mut list = TopicPartitionList::with_capacity(positions.len());
    for ((topic, partition), pos) in positions {
        list.add_partition_offset(topic, *partition, rdkafka::Offset::Offset(*pos))?;
    }
    Ok(list)
}

impl ClientContext for HeraldContext {
    fn stats(&self, statistics: Statistics) {
        let mut lag = self.shared.lag.lock().unwrap_or_else(|p| p.into_inner());
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
                // Partition -1 is librdkafka's internal unassigned partition; a
                // committed offset below zero means none yet.
                if *partition < 0 || !p.desired || p.hi_offset < 0 {
                    continue;
                }
                let from = if p.committed_offset >= 0 {
                    p.committed_offset
                } else {
                    p.lo_offset.max(0)
                };
                let value = (p.hi_offset - from).max(0);
                lag.insert((topic.clone(), *partition), value);
                metrics::gauge!(
                    "herald_kafka_consumer_lag",
                    "topic" => topic.clone(),
                    "partition" => partition.to_string()
                )
                .set(value as f64);
            }
        }
    }
}

impl ConsumerContext for HeraldContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.rebalanced.store(true, AtomicOrdering::SeqCst);
        match rebalance {
            Rebalance::Revoke(list) => {
                let revoked = tps(list);
                tracing::info!(partitions = revoked.len(), "partitions revoked");
                self.shared.revoking(&revoked, self.revoke_grace);
                if !self.closing.load(AtomicOrdering::SeqCst) {
                    commit_sync(consumer, &self.shared.to_commit_of(&revoked));
                }
                self.shared.revoked(&revoked);
                let mut lag = self.shared.lag.lock().unwrap_or_else(|p| p.into_inner());
                for (topic, partition) in &revoked {
                    lag.remove(&(topic.to_string(), *partition));
                }
            }
            Rebalance::Assign(list) => {
                let assigned = tps(list);
                tracing::info!(partitions = assigned.len(), "partitions assigned");
                self.shared.assign(assigned);
            }
            Rebalance::Error(e) => tracing::error!(error = %e, "rebalance failed"),
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        // Pauses for back-pressure or due times belong to the old assignment.
        if let Rebalance::Assign(list) = rebalance
            && let Err(e) = consumer.resume(list)
        {
            tracing::warn!(error = %e, "resuming newly assigned partitions failed");
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        if let Err(e) = result {
            tracing::warn!(error = %e, "committing offsets failed; retrying with the next commit");
            self.shared.commit_failed(&tps(offsets));
        }
        self.commits_answered.fetch_add(1, AtomicOrdering::SeqCst);
    }
}
