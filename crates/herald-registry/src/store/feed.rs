//! What committed writes changed, told to whoever keeps state derived from the store (the
//! caches): a store reports its own writes after each commit and, where the backend can hear
//! them (PostgreSQL NOTIFY), those of every other process on the same database.

use std::sync::{RwLock, Weak};

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

/// Who hears a [`Feed`].
pub trait Follower: Send + Sync + 'static {
    /// A committed write changed this.
    fn changed(&self, change: &Change);
    /// Other processes' changes go unheard from now on, until [`Follower::missed`].
    fn lost(&self);
    /// Changes are heard again, but some may have been missed: trust nothing heard before.
    fn missed(&self);
}

/// A store's changes, told to its followers as they happen.
#[derive(Debug, Default)]
pub struct Feed {
    inner: RwLock<Followers>,
}

#[derive(Default)]
struct Followers {
    list: Vec<Weak<dyn Follower>>,
    /// Between [`Feed::lost`] and [`Feed::missed`]: a new follower starts deaf too.
    lost: bool,
}

impl std::fmt::Debug for Followers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Followers")
            .field("count", &self.list.len())
            .field("lost", &self.lost)
            .finish()
    }
}

impl Feed {
    /// Tells `follower` every change from now on, as long as it lives.
    pub fn follow(&self, follower: Weak<dyn Follower>) {
        let Ok(mut f) = self.inner.write() else {
            return;
        };
        if f.lost
            && let Some(live) = follower.upgrade()
        {
            live.lost();
        }
        f.list.retain(|w| w.strong_count() > 0);
        f.list.push(follower);
    }

    pub fn changed(&self, changes: &[Change]) {
        self.each(|f| changes.iter().for_each(|c| f.changed(c)));
    }

    pub fn lost(&self) {
        self.set_lost(true);
        self.each(|f| f.lost());
    }

    pub fn missed(&self) {
        self.set_lost(false);
        self.each(|f| f.missed());
    }

    fn set_lost(&self, lost: bool) {
        if let Ok(mut f) = self.inner.write() {
            f.lost = lost;
        }
    }

    fn each(&self, tell: impl Fn(&dyn Follower)) {
        let Ok(f) = self.inner.read() else {
            return;
        };
        for live in f.list.iter().filter_map(Weak::upgrade) {
            tell(&*live);
        }
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

    /// What a follower heard, in order.
    #[derive(Default)]
    struct Heard(std::sync::Mutex<Vec<String>>);

    impl Follower for Heard {
        fn changed(&self, change: &Change) {
            self.0.lock().unwrap().push(change.payload());
        }
        fn lost(&self) {
            self.0.lock().unwrap().push("lost".to_owned());
        }
        fn missed(&self) {
            self.0.lock().unwrap().push("missed".to_owned());
        }
    }

    fn follow(feed: &Feed) -> std::sync::Arc<Heard> {
        let heard = std::sync::Arc::new(Heard::default());
        feed.follow(std::sync::Arc::downgrade(&heard) as Weak<dyn Follower>);
        heard
    }

    #[test]
    fn followers_hear_changes_and_a_late_one_starts_deaf() {
        let feed = Feed::default();
        let early = follow(&feed);
        feed.changed(&[Change::Subject("s".to_owned()), Change::Config(None)]);
        feed.lost();
        // Followed while changes go unheard: it must not trust itself either.
        let late = follow(&feed);
        feed.missed();
        feed.changed(&[Change::Schema(7)]);
        let heard = |h: &Heard| h.0.lock().unwrap().clone();
        assert_eq!(
            heard(&early),
            ["subject:s", "config:", "lost", "missed", "7"]
        );
        assert_eq!(heard(&late), ["lost", "missed", "7"]);
        // A dropped follower is let go, and the others still hear.
        drop(early);
        feed.changed(&[Change::Mode(None)]);
        assert_eq!(heard(&late).last().map(String::as_str), Some("mode:"));
        assert_eq!(
            feed.inner.read().unwrap().list.len(),
            2,
            "pruned on follow only"
        );
        let _third = follow(&feed);
        assert_eq!(feed.inner.read().unwrap().list.len(), 2);
    }
}
