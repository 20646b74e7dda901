//! The poll thread. It polls the consumer all the time, so a slow handler never trips
//! `max.poll.interval.ms`, and rebalance callbacks run promptly. It holds back work with
//! pause and resume: all partitions while too much is in flight, a retry partition until
//! its head event is due.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use herald_core::IncomingMessage;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{Offset, TopicPartitionList};

use super::context::{HeraldConsumer, commit_before, position_list};
use super::state::{Pending, Shared, Tp};
use crate::record::{headers_of, key_of};
use crate::{DUE_AT, topics, wire};

pub(crate) struct Poller {
    pub consumer: HeraldConsumer,
    pub shared: Arc<Shared>,
    pub stop: Arc<AtomicBool>,
    pub max_in_flight: usize,
    pub commit_interval: Duration,
    /// How long shutdown waits for the broker to accept the last commit.
    pub close_timeout: Duration,
    /// Received while too much was in flight; admitted in order once there is room.
    held: VecDeque<Pending>,
    /// Per paused retry partition: events not yet due, in offset order.
    delayed: BTreeMap<Tp, VecDeque<(Instant, Pending)>>,
    paused_all: bool,
    closed: bool,
}

impl Poller {
    pub fn new(
        consumer: HeraldConsumer,
        shared: Arc<Shared>,
        stop: Arc<AtomicBool>,
        max_in_flight: usize,
        commit_interval: Duration,
        close_timeout: Duration,
    ) -> Self {
        Poller {
            consumer,
            shared,
            stop,
            max_in_flight,
            commit_interval,
            close_timeout,
            held: VecDeque::new(),
            delayed: BTreeMap::new(),
            paused_all: false,
            closed: false,
        }
    }

    pub fn run(mut self) {
        let mut last_commit = Instant::now();
        loop {
            if self
                .consumer
                .context()
                .rebalanced
                .swap(false, AtomicOrdering::SeqCst)
            {
                // What was held back belongs to the old assignment; the new one fetches
                // from the committed positions, which lie before it.
                self.held.clear();
                self.delayed.clear();
                self.paused_all = false;
            }
            if self.stop.load(AtomicOrdering::SeqCst) {
                break;
            }
            if !self.closed && self.shared.is_closed() {
                self.closed = true;
                self.held.clear();
                self.delayed.clear();
                self.pause_all();
            }
            if !self.closed {
                self.release_due();
                self.flow();
            }
            if last_commit.elapsed() >= self.commit_interval {
                self.commit_async();
                last_commit = Instant::now();
            }
            let wait = self.next_wake();
            match self.consumer.poll(wait) {
                None => {}
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "Kafka consumer error");
                    // Not a hot loop while the broker is away.
                    std::thread::sleep(Duration::from_millis(100));
                }
                Some(Ok(m)) => {
                    if !self.closed
                        && let Some(p) = self.pending(&m)
                    {
                        self.receive(p);
                    }
                }
            }
        }
        // Shutdown: commit what finished, within `close_timeout`, then leave the group
        // (dropping the consumer closes it; the revoke that follows commits nothing).
        self.consumer
            .context()
            .closing
            .store(true, AtomicOrdering::SeqCst);
        let deadline = Instant::now() + self.close_timeout;
        commit_before(
            &self.consumer,
            self.shared.to_commit(),
            &self.shared,
            deadline,
        );
        leave_group(self.consumer, deadline);
        tracing::info!("Kafka consumer closed");
    }

    fn next_wake(&self) -> Duration {
        // Paused, poll returns nothing: look at the room left often.
        let base = if self.paused_all {
            Duration::from_millis(5)
        } else {
            Duration::from_millis(50)
        };
        self.delayed
            .values()
            .filter_map(|q| q.front())
            .map(|(due, _)| due.saturating_duration_since(Instant::now()))
            .min()
            .map_or(base, |d| d.min(base))
    }

    fn pending(&self, m: &BorrowedMessage<'_>) -> Option<Pending> {
        let tp: Tp = (Arc::from(m.topic()), m.partition());
        let epoch = self.shared.epoch(&tp)?;
        let key = key_of(m);
        let headers = headers_of(m);
        let (schema_id, payload) = wire::unframe(m.payload().unwrap_or_default());
        Some(Pending {
            gate: self.shared.gate_of(&tp, key.as_deref()),
            epoch,
            offset: m.offset(),
            schema_id,
            message: IncomingMessage {
                source: m.topic().to_owned(),
                key,
                headers,
                payload: payload.to_vec(),
            },
            tp,
        })
    }

    fn receive(&mut self, p: Pending) {
        if let Some(queue) = self.delayed.get_mut(&p.tp) {
            let due = due_of(&p).unwrap_or_else(Instant::now);
            queue.push_back((due, p));
            return;
        }
        if topics::retry_level(&p.tp.0).is_some()
            && let Some(due) = due_of(&p).filter(|d| *d > Instant::now())
        {
            self.pause(std::slice::from_ref(&p.tp));
            self.delayed
                .insert(p.tp.clone(), VecDeque::from([(due, p)]));
            return;
        }
        self.admit(p);
    }

    /// Admits now, or holds back (pausing everything) when too much is in flight.
    fn admit(&mut self, p: Pending) {
        if self.paused_all || self.shared.outstanding() >= self.max_in_flight {
            self.held.push_back(p);
            if !self.paused_all {
                self.pause_all();
                self.paused_all = true;
            }
        } else {
            self.shared.admit(p);
        }
    }

    /// Admits held events once in-flight work has fallen to half the limit, then resumes
    /// fetching. The gap matters: a pause drops librdkafka's prefetched messages, which a
    /// resume fetches again, so pausing at every event over the limit would thrash.
    fn flow(&mut self) {
        if !self.paused_all || self.shared.outstanding() > self.max_in_flight / 2 {
            return;
        }
        while self.shared.outstanding() < self.max_in_flight {
            match self.held.pop_front() {
                Some(p) => self.shared.admit(p),
                None => break,
            }
        }
        if self.held.is_empty() {
            self.paused_all = false;
            if let Ok(assigned) = self.consumer.assignment() {
                let tps: Vec<Tp> = tps_of(&assigned)
                    .into_iter()
                    .filter(|tp| !self.delayed.contains_key(tp))
                    .collect();
                self.resume(&tps);
            }
        }
    }

    /// Retry events whose time has come go in; their partition resumes when none waits.
    fn release_due(&mut self) {
        let now = Instant::now();
        let due: Vec<Tp> = self
            .delayed
            .iter()
            .filter(|(_, q)| q.front().is_some_and(|(d, _)| *d <= now))
            .map(|(tp, _)| tp.clone())
            .collect();
        for tp in due {
            let Some(mut queue) = self.delayed.remove(&tp) else {
                continue;
            };
            while queue.front().is_some_and(|(d, _)| *d <= now) {
                if let Some((_, p)) = queue.pop_front() {
                    self.admit(p);
                }
            }
            if queue.is_empty() {
                if !self.paused_all {
                    self.resume(std::slice::from_ref(&tp));
                }
            } else {
                self.delayed.insert(tp, queue);
            }
        }
    }

    fn commit_async(&self) {
        let positions = self.shared.to_commit();
        if positions.is_empty() {
            return;
        }
        tracing::trace!(?positions, "committing");
        match position_list(&positions) {
            Ok(list) => {
                if let Err(e) = self.consumer.commit(&list, CommitMode::Async) {
                    tracing::warn!(error = %e, "could not send an offset commit; retrying");
                    let tps: Vec<Tp> = positions.into_iter().map(|(tp, _)| tp).collect();
                    self.shared.commit_failed(&tps);
                }
            }
            Err(e) => tracing::warn!(error = %e, "bad offset list"),
        }
    }

    fn pause_all(&self) {
        if let Ok(assigned) = self.consumer.assignment()
            && let Err(e) = self.consumer.pause(&assigned)
        {
            tracing::warn!(error = %e, "pausing the consumer failed");
        }
    }

    fn pause(&self, tps: &[Tp]) {
        if let Err(e) = list_of(tps).and_then(|l| self.consumer.pause(&l)) {
            tracing::warn!(error = %e, "pausing a partition failed");
        }
    }

    fn resume(&self, tps: &[Tp]) {
        if tps.is_empty() {
            return;
        }
        if let Err(e) = list_of(tps).and_then(|l| self.consumer.resume(&l)) {
            tracing::warn!(error = %e, "resuming partitions failed");
        }
    }
}

/// When a retry event is due (header `herald-due-at`, RFC 3339).
/// Leaves the consumer group by `deadline`. librdkafka's close waits for the broker's
/// answer without end when the broker hangs (seen: more than 150 s), and dropping the
/// consumer closes it that way; past the deadline the consumer is let go unclosed instead
/// (its threads and memory stay until the process exits, and the group notices the
/// member's absence after the session timeout).
fn leave_group(consumer: HeraldConsumer, deadline: Instant) {
    if let Err(e) = consumer.close_queue() {
        tracing::warn!(error = %e, "could not start leaving the consumer group");
        return;
    }
    while !consumer.closed() {
        if Instant::now() >= deadline {
            tracing::error!(
                "the broker did not let the consumer leave its group in time; shutting down without it (the group notices after the session timeout)"
            );
            std::mem::forget(consumer);
            return;
        }
        // Serves the revoke (which commits nothing while closing) and the leave.
        let _ = consumer.poll(Duration::from_millis(100));
    }
    // Closed: dropping it now returns at once.
}

fn due_of(p: &Pending) -> Option<Instant> {
    let at: DateTime<Utc> = p.message.headers.get(DUE_AT)?.parse().ok()?;
    let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    Some(Instant::now() + wait)
}

fn tps_of(list: &TopicPartitionList) -> Vec<Tp> {
    list.elements()
        .iter()
        .map(|e| (Arc::from(e.topic()), e.partition()))
        .collect()
}

fn list_of(tps: &[Tp]) -> rdkafka::error::KafkaResult<TopicPartitionList> {
    let mut list = TopicPartitionList::with_capacity(tps.len());
    for (topic, partition) in tps {
        list.add_partition_offset(topic, *partition, Offset::Invalid)?;
    }
    Ok(list)
}
