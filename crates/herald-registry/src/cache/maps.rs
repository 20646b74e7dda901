//! The maps of [`CachedStore`](super::CachedStore): schemas by id, config and mode rows, live
//! versions by content hash, and each subject's latest live version.
//!
//! They follow the store's [`Feed`]: a committed write drops what it changed, in this process
//! and (on PostgreSQL) in every other. A fill can race with a write (read the old row, the
//! write commits and invalidates, then store the old row), so each map counts its
//! invalidations and drops a fill when one happened since the fill's [`Ticket`] was taken.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use herald_schema::{CompatibilityLevel, Policy};

use crate::store::{Change, ConfigRecord, Follower, Mode, ParsedVersion, SchemaRecord};

/// Entries a map holds before it starts over (everything here is cheap to reload).
const CAPACITY: usize = 100_000;

/// Where a content hash lives in a subject: the newest live version holding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveVersion {
    pub id: i64,
    pub version: i32,
    /// Registration time, milliseconds since the Unix epoch.
    pub ts: i64,
}

/// A check that passed: the new schema's content hash, the level and the policy.
pub type PassedCheck = (String, CompatibilityLevel, Policy);

/// Every cache of a store.
#[derive(Debug, Default)]
pub struct Caches {
    /// Schemas by id.
    pub schemas: Map<i64, Arc<SchemaRecord>>,
    /// Bodies of `GET /schemas/ids/{id}` by id, serialised once (the most frequent request).
    pub schema_bodies: Map<i64, Bytes>,
    /// Config rows by subject, `""` for the global one; `None`: no row.
    pub config: Map<String, Option<ConfigRecord>>,
    /// Mode rows, keyed likewise.
    pub mode: Map<String, Option<Mode>>,
    /// Per subject, its live versions by content hash (only hits are kept).
    pub lookups: Map<String, HashMap<String, LiveVersion>>,
    /// Per subject, its newest live version with the schema parsed; `None`: no live version.
    pub latest: Map<String, Option<Arc<ParsedVersion>>>,
    /// Per subject, the checks known to pass against that latest version (CI runs check the
    /// same schemas again and again). Only passes: they are small.
    pub passed_checks: Map<String, HashSet<PassedCheck>>,
}

impl Caches {
    /// Drops what `change` may have made stale.
    pub fn apply(&self, change: &Change) {
        match change {
            Change::Schema(id) => {
                self.schemas.remove(id);
                self.schema_bodies.remove(id);
            }
            Change::Subject(s) => {
                self.lookups.remove(s.as_str());
                self.latest.remove(s.as_str());
                self.passed_checks.remove(s.as_str());
            }
            Change::Config(s) => self.config.remove(s.as_deref().unwrap_or("")),
            Change::Mode(s) => self.mode.remove(s.as_deref().unwrap_or("")),
        }
    }

    /// Drops everything (changes may have been missed).
    pub fn clear(&self) {
        self.set_live(true);
    }

    /// Stops serving and filling until [`Caches::clear`]: used while changes go unheard.
    pub fn suspend(&self) {
        self.set_live(false);
    }

    fn set_live(&self, live: bool) {
        self.schemas.reset(live);
        self.schema_bodies.reset(live);
        self.config.reset(live);
        self.mode.reset(live);
        self.lookups.reset(live);
        self.latest.reset(live);
        self.passed_checks.reset(live);
    }
}

impl Follower for Caches {
    fn changed(&self, change: &Change) {
        self.apply(change);
    }
    fn lost(&self) {
        self.suspend();
    }
    fn missed(&self) {
        self.clear();
    }
}

/// A map whose fills cannot undo an invalidation.
#[derive(Debug)]
pub struct Map<K, V> {
    inner: RwLock<Slots<K, V>>,
}

#[derive(Debug)]
struct Slots<K, V> {
    entries: HashMap<K, V>,
    /// Invalidations so far.
    generation: u64,
    /// False while suspended: empty, and fills are dropped.
    live: bool,
}

/// When a fill's data was read: [`Map::fill`] drops it if the map was invalidated since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

impl<K, V> Default for Map<K, V> {
    fn default() -> Self {
        Self {
            inner: RwLock::new(Slots {
                entries: HashMap::new(),
                generation: 0,
                live: true,
            }),
        }
    }
}

impl<K: Hash + Eq, V> Map<K, V> {
    /// A clone of the entry.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.read(key, V::clone)
    }

    /// `f` of the entry, under the read lock.
    pub fn read<Q, R>(&self, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.read().ok()?.entries.get(key).map(f)
    }

    /// Take before reading what will be filled in.
    pub fn ticket(&self) -> Ticket {
        // A poisoned lock never matches: the fill is dropped.
        Ticket(self.inner.read().map(|s| s.generation).unwrap_or(u64::MAX))
    }

    pub fn fill(&self, ticket: Ticket, key: K, value: V) {
        self.update(ticket, key, |slot| *slot = Some(value));
    }

    /// Changes the entry in place (`None`: absent), unless the map was invalidated since
    /// `ticket`.
    pub fn update(&self, ticket: Ticket, key: K, f: impl FnOnce(&mut Option<V>)) {
        let Ok(mut slots) = self.inner.write() else {
            return;
        };
        if !slots.live || slots.generation != ticket.0 {
            return;
        }
        if slots.entries.len() >= CAPACITY && !slots.entries.contains_key(&key) {
            slots.entries.clear();
        }
        let mut slot = slots.entries.remove(&key);
        f(&mut slot);
        if let Some(v) = slot {
            slots.entries.insert(key, v);
        }
    }

    pub fn remove<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Ok(mut slots) = self.inner.write() {
            slots.entries.remove(key);
            slots.generation += 1;
        }
    }

    fn reset(&self, live: bool) {
        if let Ok(mut slots) = self.inner.write() {
            slots.entries.clear();
            slots.generation += 1;
            slots.live = live;
        }
    }

    pub fn len(&self) -> usize {
        self.inner.read().map(|s| s.entries.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fill_after_an_invalidation_is_dropped() {
        let m: Map<String, i32> = Map::default();
        let t = m.ticket();
        m.remove("a"); // a write committed while the row was being read
        m.fill(t, "a".to_owned(), 1);
        assert_eq!(m.get("a"), None);
        let t = m.ticket();
        m.fill(t, "a".to_owned(), 2);
        assert_eq!(m.get("a"), Some(2));
    }

    #[test]
    fn suspended_maps_neither_serve_nor_fill() {
        let c = Caches::default();
        let t = c.mode.ticket();
        c.mode.fill(t, String::new(), Some(Mode::ReadOnly));
        c.suspend();
        assert_eq!(c.mode.get(""), None);
        let t = c.mode.ticket();
        c.mode.fill(t, String::new(), None);
        assert_eq!(c.mode.get(""), None);
        // A ticket from before the cache came back is stale too.
        c.clear();
        c.mode.fill(t, String::new(), None);
        assert_eq!(c.mode.get(""), None);
        let t = c.mode.ticket();
        c.mode.fill(t, String::new(), None);
        assert_eq!(c.mode.get(""), Some(None));
    }

    #[test]
    fn subject_changes_drop_lookups_and_latest() {
        let c = Caches::default();
        let t = c.lookups.ticket();
        c.lookups.update(t, "s".to_owned(), |m| {
            m.get_or_insert_with(HashMap::new).insert(
                "h".to_owned(),
                LiveVersion {
                    id: 1,
                    version: 1,
                    ts: 0,
                },
            );
        });
        let t = c.latest.ticket();
        c.latest.fill(t, "s".to_owned(), None);
        c.latest.fill(c.latest.ticket(), "other".to_owned(), None);
        let t = c.passed_checks.ticket();
        c.passed_checks.update(t, "s".to_owned(), |m| {
            m.get_or_insert_with(HashSet::new).insert((
                "h".to_owned(),
                CompatibilityLevel::Backward,
                Policy::Strict,
            ));
        });
        c.apply(&Change::Subject("s".to_owned()));
        assert!(c.lookups.is_empty());
        assert!(c.passed_checks.is_empty());
        assert_eq!(c.latest.len(), 1, "other subjects stay");
    }
}
