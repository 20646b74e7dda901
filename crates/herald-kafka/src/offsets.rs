//! Which offsets of a partition may be committed: only past the first one not finished,
//! so a crash never skips an event that a slower, earlier handler had not completed.

use std::collections::BTreeSet;

#[derive(Debug, Default, Clone)]
pub(crate) struct PartitionOffsets {
    /// Received and not finished (running, waiting behind their key, or waiting to retry).
    in_flight: BTreeSet<i64>,
    /// One past the highest offset received.
    next: Option<i64>,
    /// The last position committed (or being committed).
    committed: Option<i64>,
}

impl PartitionOffsets {
    pub fn received(&mut self, offset: i64) {
        self.in_flight.insert(offset);
        self.next = Some(self.next.map_or(offset + 1, |n| n.max(offset + 1)));
    }

    /// Returns false when the offset was not in flight (settled twice, or forgotten).
    pub fn finished(&mut self, offset: i64) -> bool {
        self.in_flight.remove(&offset)
    }

    /// The position to commit (the first offset not finished, or one past the last
    /// received), when it moved past what was committed already.
    pub fn to_commit(&self) -> Option<i64> {
        let position = self.in_flight.first().copied().or(self.next)?;
        (self.committed < Some(position)).then_some(position)
    }

    /// A commit did not go through: the position is committed again next time.
    pub fn forget_commit(&mut self) {
        self.committed = None;
    }

    pub fn committed(&mut self, position: i64) {
        self.committed = self.committed.max(Some(position));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn waits_for_the_first_unfinished_offset() {
        let mut p = PartitionOffsets::default();
        assert_eq!(p.to_commit(), None);
        for o in 10..15 {
            p.received(o);
        }
        assert!(p.finished(11));
        assert!(p.finished(12));
        assert_eq!(p.to_commit(), Some(10), "10 still runs");
        assert!(p.finished(10));
        assert_eq!(p.to_commit(), Some(13));
        p.committed(13);
        assert_eq!(p.to_commit(), None, "no double commit");
        assert!(p.finished(13));
        assert!(p.finished(14));
        assert_eq!(p.to_commit(), Some(15));
        assert!(!p.finished(14), "settled twice");
    }

    proptest! {
        /// Whatever order handlers finish in, the committed position never passes an
        /// offset that has not finished, and reaches the end once all have.
        #[test]
        fn never_commits_past_unfinished(order in Just((0i64..40).collect::<Vec<_>>()).prop_shuffle()) {
            let mut p = PartitionOffsets::default();
            for o in 0..40 {
                p.received(o);
            }
            let mut done = BTreeSet::new();
            for o in order {
                p.finished(o);
                done.insert(o);
                if let Some(pos) = p.to_commit() {
                    prop_assert!((0..pos).all(|x| done.contains(&x)));
                    p.committed(pos);
                }
            }
            prop_assert_eq!(p.committed, Some(40));
        }
    }
}
