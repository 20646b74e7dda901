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
    pub deadline: Instant,
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
        let expired: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.deadline <= now)
            .map(|(tag, _)| *tag)
            .collect();
        // Expired deliveries go first, as a broker redelivers unacked messages at the head.
        for tag in expired {
            if let Some(f) = self.in_flight.remove(&tag) {
                self.ready.push_front(f.message);
            }
        }
    }

    /// When something next becomes ready without a publish: a delay or a visibility timeout.
    pub fn next_wake(&self) -> Option<Instant> {
        let delayed = self.delayed.keys().next().map(|(due, _)| *due);
        let deadline = self.in_flight.values().map(|f| f.deadline).min();
        match (delayed, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
