//! The consumer's callbacks, run on the poll thread: rebalances (commit what finished,
//! stop work on what is revoked), commit results, and statistics (lag).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::time::Duration;

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
                commit_sync(consumer, &self.shared.to_commit_of(&revoked));
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
    }
}
