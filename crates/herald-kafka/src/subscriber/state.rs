//! What the poll thread, the worker's `recv` and the ackers share: per partition the
//! offsets in flight, the deliveries ready to hand out, and the key gate that keeps
//! events of one key in order while other keys run in parallel.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use herald_core::IncomingMessage;
use tokio::sync::Notify;

use crate::offsets::PartitionOffsets;

/// A topic and partition.
pub(crate) type Tp = (Arc<str>, i32);

/// What events must not overtake each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ordering {
    /// Events with the same Kafka key are processed one at a time, in offset order;
    /// different keys of one partition run in parallel (the default).
    #[default]
    Key,
    /// One event at a time per partition.
    Partition,
    /// No order: every event may run as soon as a worker slot is free.
    None,
}

/// A received message that has not been settled.
#[derive(Debug)]
pub(crate) struct Pending {
    pub tp: Tp,
    pub epoch: u64,
    pub offset: i64,
    /// The key of the gate it holds or waits for (`None`: not gated).
    pub gate: Option<String>,
    /// The schema id of a value that came in the Confluent wire format (the message holds
    /// the JSON without the frame): a retry or dead letter is framed with it again.
    pub schema_id: Option<u32>,
    pub message: IncomingMessage,
}

#[derive(Debug)]
struct Assigned {
    epoch: u64,
    offsets: PartitionOffsets,
    /// Handed to the worker and not settled or given back.
    running: usize,
}

#[derive(Debug, Default)]
struct State {
    partitions: HashMap<Tp, Assigned>,
    ready: VecDeque<Pending>,
    /// Busy gate keys, with what waits behind each.
    gates: HashMap<String, VecDeque<Pending>>,
    /// Received and not settled, over all partitions (for back-pressure).
    outstanding: usize,
    next_epoch: u64,
    closed: bool,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    pub notify: Notify,
    pub ordering: Ordering,
    /// Lag per partition, from the client's statistics.
    pub lag: Mutex<BTreeMap<(String, i32), i64>>,
}

/// How a delivery was settled, for the bookkeeping.
pub(crate) enum Settled {
    /// Processed, retried through a topic, or dead-lettered: its offset may be committed.
    Finished,
    /// Given back unprocessed at shutdown: it stays uncommitted and is fetched again by
    /// whoever owns the partition next.
    HandedBack,
}

impl Shared {
    pub fn new(ordering: Ordering) -> Arc<Self> {
        Arc::new(Shared {
            state: Mutex::default(),
            notify: Notify::new(),
            ordering,
            lag: Mutex::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The gate key of a message from `tp` with Kafka key `key`.
    pub fn gate_of(&self, tp: &Tp, key: Option<&str>) -> Option<String> {
        match self.ordering {
            Ordering::Key => key.map(str::to_owned),
            Ordering::Partition => Some(format!("{}/{}", tp.0, tp.1)),
            Ordering::None => None,
        }
    }

    pub fn assign(&self, tps: impl IntoIterator<Item = Tp>) {
        let mut s = self.lock();
        for tp in tps {
            s.next_epoch += 1;
            let epoch = s.next_epoch;
            s.partitions.insert(
                tp,
                Assigned {
                    epoch,
                    offsets: PartitionOffsets::default(),
                    running: 0,
                },
            );
        }
    }

    /// The current epoch of an assigned partition.
    pub fn epoch(&self, tp: &Tp) -> Option<u64> {
        self.lock().partitions.get(tp).map(|a| a.epoch)
    }

    pub fn outstanding(&self) -> usize {
        self.lock().outstanding
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    pub fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_waiters();
    }

    /// Takes in a message the poll thread received. Dropped when its partition was
    /// revoked meanwhile (the next owner fetches it from the committed position).
    pub fn admit(&self, p: Pending) {
        let mut s = self.lock();
        let Some(a) = s.partitions.get_mut(&p.tp).filter(|a| a.epoch == p.epoch) else {
            return;
        };
        a.offsets.received(p.offset);
        s.outstanding += 1;
        s.enqueue(p);
        drop(s);
        self.notify.notify_one();
    }

    /// The next delivery to hand out, if any.
    pub fn take(&self) -> Option<Pending> {
        let mut s = self.lock();
        let p = s.ready.pop_front()?;
        if let Some(a) = s.partitions.get_mut(&p.tp) {
            a.running += 1;
        }
        Some(p)
    }

    /// A delivery handed out was settled.
    pub fn settle(&self, tp: &Tp, epoch: u64, offset: i64, gate: Option<&str>, how: Settled) {
        let mut s = self.lock();
        let current = s.partitions.get_mut(tp).filter(|a| a.epoch == epoch);
        if let Some(a) = current {
            a.running = a.running.saturating_sub(1);
            match how {
                Settled::Finished => {
                    a.offsets.finished(offset);
                }
                // Still in flight: the commit stops before it.
                Settled::HandedBack => {}
            }
        }
        s.outstanding = s.outstanding.saturating_sub(1);
        if let Some(gate) = gate {
            s.release(gate);
        }
        drop(s);
        self.notify.notify_one();
    }

    /// A delivery handed out goes back to wait (a retry in place, a requeue): it keeps
    /// its offset in flight and its key's gate.
    pub fn set_aside(&self, tp: &Tp, epoch: u64) {
        let mut s = self.lock();
        if let Some(a) = s.partitions.get_mut(tp).filter(|a| a.epoch == epoch) {
            a.running = a.running.saturating_sub(1);
        }
    }

    /// A delivery set aside is due again.
    pub fn redeliver(&self, p: Pending) {
        let mut s = self.lock();
        let live = s.partitions.get(&p.tp).is_some_and(|a| a.epoch == p.epoch);
        if live && !s.closed {
            // It holds its gate still: straight to ready.
            s.ready.push_back(p);
            drop(s);
            self.notify.notify_one();
        } else {
            s.outstanding = s.outstanding.saturating_sub(1);
            if let Some(gate) = &p.gate {
                s.release(gate);
            }
        }
    }

    /// Positions to commit now, marked as committed.
    pub fn to_commit(&self) -> Vec<(Tp, i64)> {
        let mut s = self.lock();
        let mut out = Vec::new();
        for (tp, a) in &mut s.partitions {
            if let Some(pos) = a.offsets.to_commit() {
                a.offsets.committed(pos);
                out.push((tp.clone(), pos));
            }
        }
        out
    }

    /// A commit failed: commit these partitions again next time.
    pub fn commit_failed(&self, tps: &[Tp]) {
        let mut s = self.lock();
        for tp in tps {
            if let Some(a) = s.partitions.get_mut(tp) {
                a.offsets.forget_commit();
            }
        }
    }

    /// Partitions are being revoked: drops their deliveries that have not started, and
    /// waits up to `grace` for those running to finish, so what finished is committed.
    pub fn revoking(&self, tps: &[Tp], grace: Duration) {
        {
            let mut s = self.lock();
            let revoked = |p: &Pending| tps.contains(&p.tp);
            // Waiting behind a key: they hold nothing, they just go.
            let mut dropped = 0;
            for waiting in s.gates.values_mut() {
                let before = waiting.len();
                waiting.retain(|p| !revoked(p));
                dropped += before - waiting.len();
            }
            // Ready ones hold their key's gate: pass it on to the next waiting event.
            let ready = std::mem::take(&mut s.ready);
            let (gone, kept): (VecDeque<_>, VecDeque<_>) = ready.into_iter().partition(revoked);
            s.ready = kept;
            dropped += gone.len();
            for p in gone {
                if let Some(gate) = &p.gate {
                    s.release(gate);
                }
            }
            s.outstanding = s.outstanding.saturating_sub(dropped);
        }
        let deadline = std::time::Instant::now() + grace;
        loop {
            let running: usize = {
                let s = self.lock();
                tps.iter()
                    .filter_map(|tp| s.partitions.get(tp))
                    .map(|a| a.running)
                    .sum()
            };
            if running == 0 || std::time::Instant::now() >= deadline {
                if running > 0 {
                    tracing::warn!(
                        running,
                        "revoked partitions still have handlers running; their events will be processed again by the new owner"
                    );
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Forgets revoked partitions: late settlements of theirs change nothing.
    pub fn revoked(&self, tps: &[Tp]) {
        let mut s = self.lock();
        for tp in tps {
            s.partitions.remove(tp);
        }
    }

    /// Positions to commit for these partitions only.
    pub fn to_commit_of(&self, tps: &[Tp]) -> Vec<(Tp, i64)> {
        let mut s = self.lock();
        let mut out = Vec::new();
        for tp in tps {
            if let Some(a) = s.partitions.get_mut(tp)
                && let Some(pos) = a.offsets.to_commit()
            {
                a.offsets.committed(pos);
                out.push((tp.clone(), pos));
            }
        }
        out
    }
}

impl State {
    fn enqueue(&mut self, p: Pending) {
        match &p.gate {
            Some(gate) => match self.gates.get_mut(gate) {
                Some(waiting) => waiting.push_back(p),
                None => {
                    self.gates.insert(gate.clone(), VecDeque::new());
                    self.ready.push_back(p);
                }
            },
            None => self.ready.push_back(p),
        }
    }

    /// The holder of `gate` is done: the next waiting event of that key goes.
    fn release(&mut self, gate: &str) {
        match self.gates.get_mut(gate).and_then(VecDeque::pop_front) {
            Some(next) => self.ready.push_back(next),
            None => {
                self.gates.remove(gate);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> Tp {
        (Arc::from("t"), p)
    }

    fn pending(shared: &Shared, partition: i32, offset: i64, key: &str) -> Pending {
        let tp = tp(partition);
        Pending {
            gate: shared.gate_of(&tp, Some(key)),
            epoch: shared.epoch(&tp).expect("assigned"),
            offset,
            schema_id: None,
            message: IncomingMessage {
                source: "t".into(),
                key: Some(key.into()),
                headers: Default::default(),
                payload: Vec::new(),
            },
            tp,
        }
    }

    fn settle(shared: &Shared, p: &Pending) {
        shared.settle(
            &p.tp,
            p.epoch,
            p.offset,
            p.gate.as_deref(),
            Settled::Finished,
        );
    }

    #[test]
    fn a_key_waits_for_its_earlier_event_while_other_keys_go() {
        let shared = Shared::new(Ordering::Key);
        shared.assign([tp(0)]);
        for (offset, key) in [(0, "a"), (1, "a"), (2, "b")] {
            shared.admit(pending(&shared, 0, offset, key));
        }
        let first = shared.take().expect("a@0");
        let other = shared.take().expect("b@2");
        assert_eq!((first.offset, other.offset), (0, 2));
        assert!(shared.take().is_none(), "a@1 waits behind a@0");
        settle(&shared, &other);
        assert!(shared.take().is_none());
        assert_eq!(shared.to_commit(), vec![(tp(0), 0)], "0 still runs");
        settle(&shared, &first);
        let next = shared.take().expect("a@1 after a@0");
        assert_eq!(next.offset, 1);
        assert_eq!(shared.to_commit(), vec![(tp(0), 1)]);
        settle(&shared, &next);
        assert_eq!(shared.to_commit(), vec![(tp(0), 3)]);
        assert_eq!(shared.outstanding(), 0);
    }

    #[test]
    fn partition_ordering_runs_one_event_of_a_partition_at_a_time() {
        let shared = Shared::new(Ordering::Partition);
        shared.assign([tp(0), tp(1)]);
        shared.admit(pending(&shared, 0, 0, "a"));
        shared.admit(pending(&shared, 0, 1, "b"));
        shared.admit(pending(&shared, 1, 0, "c"));
        let a = shared.take().expect("p0");
        let c = shared.take().expect("p1");
        assert_eq!((a.tp.1, c.tp.1), (0, 1));
        assert!(shared.take().is_none(), "b waits for a: same partition");
    }

    #[test]
    fn a_revoke_drops_what_has_not_started_and_ignores_late_settlements() {
        let shared = Shared::new(Ordering::Key);
        shared.assign([tp(0), tp(1)]);
        shared.admit(pending(&shared, 0, 5, "a"));
        shared.admit(pending(&shared, 0, 6, "a"));
        shared.admit(pending(&shared, 1, 0, "a"));
        let running = shared.take().expect("a@5");
        shared.revoking(&[tp(0)], Duration::ZERO);
        // Not started and revoked: gone. The key's gate passes to partition 1's event.
        assert_eq!(shared.outstanding(), 2, "a@5 still runs, a@1/0 waits");
        assert_eq!(shared.to_commit_of(&[tp(0)]), vec![(tp(0), 5)]);
        shared.revoked(&[tp(0)]);
        assert!(
            shared.take().is_none(),
            "a@1/0 waits behind the running a@5"
        );
        settle(&shared, &running);
        let next = shared.take().expect("partition 1's event");
        assert_eq!(next.tp, tp(1));
        assert!(
            !shared.to_commit().iter().any(|(t, _)| *t == tp(0)),
            "a settlement after the revoke commits nothing for the old owner"
        );
    }

    #[test]
    fn an_event_set_aside_keeps_its_offset_and_its_key() {
        let shared = Shared::new(Ordering::Key);
        shared.assign([tp(0)]);
        shared.admit(pending(&shared, 0, 0, "a"));
        shared.admit(pending(&shared, 0, 1, "a"));
        let first = shared.take().expect("a@0");
        shared.set_aside(&first.tp, first.epoch);
        assert!(shared.take().is_none(), "a@1 still waits");
        assert_eq!(shared.to_commit(), vec![(tp(0), 0)]);
        shared.redeliver(first);
        let again = shared.take().expect("a@0 again");
        assert_eq!(again.offset, 0);
    }
}
