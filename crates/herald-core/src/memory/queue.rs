use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::broker::DeadLetterRecord;
use crate::Headers;

/// A message as the broker keeps it.
#[derive(Debug, Clone)]
pub(super) struct Stored {
    pub id: u64,
    pub key: Option<String>,
    pub headers: Headers,
    pub payload: Vec<u8>,
}

#[derive(Debug)]
pub(super) struct InFlight {
    pub message: Stored,
}

/// One queue: ready messages in order, delayed ones by due time, and the deliveries handed
/// out and not yet settled.
#[derive(Debug, Default)]
pub(super) struct Queue {
    pub ready: VecDeque<Stored>,
    /// (due, message id) -> message; the id keeps equal due times distinct and in order.
    pub delayed: BTreeMap<(Instant, u64), Stored>,
    /// Delivery tag -> message.
    pub in_flight: HashMap<u64, InFlight>,
    /// (deadline, tag) of deliveries in hand-out order. The visibility timeout is fixed, so
    /// deadlines only grow: the front is the next to expire. Settled tags are skipped lazily.
    pub deadlines: VecDeque<(Instant, u64)>,
    pub dead: Vec<DeadLetterRecord>,
    pub notify: Arc<Notify>,
}

impl Queue {
    /// Moves due delayed messages and expired deliveries back to ready.
    pub fn promote(&mut self, now: Instant) {
        while let Some(entry) = self.delayed.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let message = entry.remove();
            self.ready.push_back(message);
        }
        // Expired deliveries go first, as a broker redelivers unacked messages at the head.
        let mut expired = Vec::new();
        while let Some(&(deadline, tag)) = self.deadlines.front() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_front();
            if let Some(f) = self.in_flight.remove(&tag) {
                expired.push(f.message);
            }
        }
        for message in expired.into_iter().rev() {
            self.ready.push_front(message);
        }
    }

    /// Hands a message out until `deadline`.
    pub fn hand_out(&mut self, tag: u64, message: Stored, deadline: Instant) {
        self.in_flight.insert(tag, InFlight { message });
        self.deadlines.push_back((deadline, tag));
    }

    /// Drops the deadlines of settled deliveries from the front, so it names a live one.
    fn trim_settled(&mut self) {
        while let Some(&(_, tag)) = self.deadlines.front() {
            if self.in_flight.contains_key(&tag) {
                break;
            }
            self.deadlines.pop_front();
        }
    }

    /// When something next becomes ready without a publish: a delay or a visibility timeout.
    pub fn next_wake(&mut self) -> Option<Instant> {
        self.trim_settled();
        let delayed = self.delayed.keys().next().map(|(due, _)| *due);
        let deadline = self.deadlines.front().map(|(deadline, _)| *deadline);
        match (delayed, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
