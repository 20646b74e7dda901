//! In-process caches of what the hot paths read: schemas by id, config and mode rows, live
//! versions by content hash, and each subject's latest live version.
//!
//! A committed write reports what it changed as [`Change`]s: the store applies them here after
//! the commit and, on PostgreSQL, sends them to every other process with NOTIFY in the same
//! transaction. A fill can race with a write (read the old row, the write commits and
//! invalidates, then store the old row), so each map counts its invalidations and drops a fill
//! when one happened since the fill's [`Ticket`] was taken.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use herald_schema::{CompatibilityLevel, Policy};

use super::{ConfigRecord, ParsedVersion, SchemaRecord};

/// Entries a map holds before it starts over (everything here is cheap to reload).
const CAPACITY: usize = 100_000;

/// What a committed write changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A schema was removed (permanent delete).
    Schema(i64),
    /// The versions of a subject changed (registration, soft or permanent delete).
    Subject(String),
    /// The config row of a subject, or the global one (`None`).
    Config(Option<String>),
    /// The mode row of a subject, or the global one (`None`).
    Mode(Option<String>),
}

impl Change {
    /// The NOTIFY payload. A removed schema is its bare id, as earlier versions sent it (and
    /// as they understand it: on anything else they clear their cache, which is safe).
    pub fn payload(&self) -> String {
        match self {
            Change::Schema(id) => id.to_string(),
            Change::Subject(s) => format!("subject:{s}"),
            Change::Config(s) => format!("config:{}", s.as_deref().unwrap_or("")),
            Change::Mode(s) => format!("mode:{}", s.as_deref().unwrap_or("")),
        }
    }

    /// `None` for a payload this version does not know.
    pub fn from_payload(payload: &str) -> Option<Self> {
        if let Ok(id) = payload.parse() {
            return Some(Change::Schema(id));
        }
        let (kind, name) = payload.split_once(':')?;
        // Subjects are never empty: the empty name is the global row.
        let scope = (!name.is_empty()).then(|| name.to_owned());
        match kind {
            "subject" => scope.map(Change::Subject),
            "config" => Some(Change::Config(scope)),
            "mode" => Some(Change::Mode(scope)),
            _ => None,
        }
    }
}

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
    pub mode: Map<String, Option<String>>,
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

    pub fn apply_all(&self, changes: &[Change]) {
        for c in changes {
            self.apply(c);
        }
    }

    /// Drops everything (changes may have been missed).
    pub fn clear(&self) {
        self.set_live(true);
    }

    /// Stops serving and filling until [`Caches::clear`]: used while changes cannot be heard.
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
    fn payloads_round_trip() {
        for c in [
            Change::Schema(42),
            Change::Subject("orders-value".to_owned()),
            Change::Subject("with:colon".to_owned()),
            Change::Config(None),
            Change::Config(Some("s".to_owned())),
            Change::Mode(None),
            Change::Mode(Some("s".to_owned())),
        ] {
            assert_eq!(Change::from_payload(&c.payload()), Some(c.clone()), "{c:?}");
        }
        assert_eq!(Change::from_payload("schema:x"), None);
        assert_eq!(Change::from_payload("subject:"), None);
        assert_eq!(Change::from_payload("garbage"), None);
    }

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
        c.mode.fill(t, String::new(), Some("READONLY".to_owned()));
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
