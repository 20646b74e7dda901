//! The in-memory broker's dead letters through the [`DeadLetters`] interface every
//! transport offers (`herald dlq`, the conformance suite).

use async_trait::async_trait;

use super::broker::{DeadLetterRecord, MemoryBroker};
use crate::dead_letters::{DeadLetterEntry, PurgeReport, ReplayReport, Selection};
use crate::{DeadLetters, TransportError};

impl DeadLetterRecord {
    /// The record as every transport lists a dead letter.
    pub fn entry(&self) -> DeadLetterEntry {
        let mut entry =
            DeadLetterEntry::from_headers(&self.queue, self.headers.clone(), self.payload.clone());
        entry.reason.get_or_insert_with(|| self.reason.clone());
        entry
    }
}

/// Whether `record` is within `selection` given how many were taken before it.
fn selected(selection: &Selection, record: &DeadLetterRecord, taken: &mut usize) -> bool {
    let take = selection.limit.is_none_or(|l| *taken < l) && selection.matches(&record.entry());
    *taken += usize::from(take);
    take
}

#[async_trait]
impl DeadLetters for MemoryBroker {
    async fn list(
        &self,
        source: &str,
        selection: &Selection,
    ) -> Result<Vec<DeadLetterEntry>, TransportError> {
        let mut taken = 0;
        Ok(self
            .dead_letters(source)
            .iter()
            .filter(|r| selected(selection, r, &mut taken))
            .map(DeadLetterRecord::entry)
            .collect())
    }

    async fn replay(
        &self,
        source: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> Result<ReplayReport, TransportError> {
        if dry_run {
            return Ok(ReplayReport {
                selected: self.list(source, selection).await?,
                replayed: 0,
                dry_run,
            });
        }
        let mut taken = 0;
        let moved = self.take_dead_letters(source, |r| selected(selection, r, &mut taken), true);
        Ok(ReplayReport {
            replayed: moved.len(),
            selected: moved.iter().map(DeadLetterRecord::entry).collect(),
            dry_run,
        })
    }

    async fn purge(
        &self,
        source: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> Result<PurgeReport, TransportError> {
        let purged = if dry_run {
            self.list(source, selection).await?
        } else {
            let mut taken = 0;
            self.take_dead_letters(source, |r| selected(selection, r, &mut taken), false)
                .iter()
                .map(DeadLetterRecord::entry)
                .collect()
        };
        Ok(PurgeReport {
            purged,
            kept: Vec::new(),
            dry_run,
        })
    }
}
