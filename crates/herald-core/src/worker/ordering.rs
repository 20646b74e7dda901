//! In-order processing per partition key: deliveries of a busy key wait behind it, each
//! still holding its concurrency permit, so waiting work is bounded too.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use tokio::sync::OwnedSemaphorePermit;

use super::dispatch::{self, Runtime};
use crate::Delivery;

type Item = (Delivery, OwnedSemaphorePermit);

#[derive(Default)]
pub(crate) struct KeyedQueues {
    /// Keys being processed, with the deliveries waiting behind them.
    active: Mutex<HashMap<String, VecDeque<Item>>>,
}

/// A key's first delivery: the task that owns it drains the key's queue.
pub(crate) struct Run {
    key: String,
    first: Item,
}

impl KeyedQueues {
    /// Queues a delivery behind its key, or returns a [`Run`] when the key was idle.
    pub fn enqueue(
        &self,
        key: String,
        delivery: Delivery,
        permit: OwnedSemaphorePermit,
    ) -> Option<Run> {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(waiting) = active.get_mut(&key) {
            waiting.push_back((delivery, permit));
            return None;
        }
        active.insert(key.clone(), VecDeque::new());
        Some(Run {
            key,
            first: (delivery, permit),
        })
    }

    /// Processes the key's deliveries one by one until none waits.
    pub async fn drain(&self, run: Run, rt: &Runtime) {
        let mut next = Some(run.first);
        while let Some((delivery, permit)) = next.take() {
            dispatch::process(rt, delivery).await;
            drop(permit);
            let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
            next = match active.get_mut(&run.key).and_then(VecDeque::pop_front) {
                Some(item) => Some(item),
                None => {
                    active.remove(&run.key);
                    None
                }
            };
        }
    }
}
