//! FIFO queues: one unsettled delivery per message group at a time.
//!
//! One receive can return several messages of a group, in order. Handing them all to the
//! worker would let a later one run while an earlier one waits for its retry, so the gate
//! holds the later ones back: when the one out is acked or dead-lettered, the next goes out;
//! when it is retried, requeued or dropped, the ones held back are dropped too (visible
//! again at once). SQS delivers nothing more of a group while one of its messages is in
//! flight, so they come back after it, in order, and other groups go on meanwhile.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use herald_core::{Delivery, IncomingMessage, TransportError};
use tokio::sync::mpsc;

use crate::acker::SqsAcker;

pub(crate) type Outbox = mpsc::Sender<Result<Delivery, TransportError>>;

pub(crate) struct Gate {
    /// Groups with a delivery out; the deliveries held back behind it.
    groups: Mutex<HashMap<String, VecDeque<(IncomingMessage, SqsAcker)>>>,
    outbox: Outbox,
}

impl Gate {
    pub fn new(outbox: Outbox) -> Self {
        Gate {
            groups: Mutex::new(HashMap::new()),
            outbox,
        }
    }

    /// The delivery, when nothing of its group is out; else held back (`None`).
    pub fn admit(
        &self,
        group: &str,
        message: IncomingMessage,
        acker: SqsAcker,
    ) -> Option<(IncomingMessage, SqsAcker)> {
        let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        match groups.get_mut(group) {
            Some(held) => {
                held.push_back((message, acker));
                None
            }
            None => {
                groups.insert(group.to_owned(), VecDeque::new());
                Some((message, acker))
            }
        }
    }

    /// The delivery out for `group` settled: `passed` (acked, dead-lettered) lets the next
    /// go out; otherwise the ones held back are dropped.
    pub fn done(&self, group: &str, passed: bool) {
        let mut released = Vec::new();
        {
            let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(held) = groups.get_mut(group) {
                if passed && let Some(next) = held.pop_front() {
                    released.push(next);
                } else {
                    released.extend(held.drain(..));
                    groups.remove(group);
                }
            }
        }
        if passed && let Some((message, mut acker)) = released.pop() {
            acker.in_gate = true;
            let outbox = self.outbox.clone();
            // Settling may happen where we cannot wait (a drop); the send waits for room.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = outbox.send(Ok(Delivery::new(message, acker))).await;
                });
            }
            return;
        }
        // Dropped outside the lock (never handed out: `in_gate` is false): each goes back
        // to the queue.
        drop(released);
    }

    /// Drops every delivery held back (the subscriber closes).
    pub fn clear(&self) {
        let all: Vec<_> = {
            let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
            groups.values_mut().flat_map(|h| h.drain(..)).collect()
        };
        drop(all);
    }
}
