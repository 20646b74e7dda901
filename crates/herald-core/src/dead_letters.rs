//! Dead letters as every transport shows them: what `herald dlq list|replay|purge` selects and
//! prints, and how a replayed message loses its failure headers.

use async_trait::async_trait;

use crate::{Headers, TransportError, headers};

/// A transport's dead-letter queue, as `herald dlq list|replay|purge` and the transport
/// conformance suite use it. `source` is the queue, topic or stream the dead letters were
/// consumed from (each transport knows where it keeps their dead letters).
#[async_trait]
pub trait DeadLetters: Send + Sync {
    /// The dead letters of `source` that `selection` takes, oldest first. Changes nothing.
    async fn list(
        &self,
        source: &str,
        selection: &Selection,
    ) -> Result<Vec<DeadLetterEntry>, TransportError>;

    /// Sends the selected dead letters back to where they came from as first attempts
    /// ([`DeadLetterEntry::replay_headers`]), each taken by the broker before it leaves the
    /// dead-letter queue; a second replay finds them gone. With `dry_run`, only says what
    /// it would send.
    async fn replay(
        &self,
        source: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> Result<ReplayReport, TransportError>;

    /// Deletes the selected dead letters for good. With `dry_run`, only says what it would
    /// delete.
    async fn purge(
        &self,
        source: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> Result<PurgeReport, TransportError>;
}

/// Which dead letters to take.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only this event type (`herald-event-type`, or the AMQP `type` property).
    pub event_type: Option<String>,
    /// Only those whose reason contains this text.
    pub reason_contains: Option<String>,
    /// At most this many.
    pub limit: Option<usize>,
}

impl Selection {
    pub fn all() -> Self {
        Self::default()
    }

    pub fn event_type(mut self, event_type: impl Into<String>) -> Self {
        self.event_type = Some(event_type.into());
        self
    }

    pub fn reason_contains(mut self, text: impl Into<String>) -> Self {
        self.reason_contains = Some(text.into());
        self
    }

    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    pub fn matches(&self, entry: &DeadLetterEntry) -> bool {
        self.event_type
            .as_ref()
            .is_none_or(|t| entry.event_type.as_deref() == Some(t.as_str()))
            && self.reason_contains.as_ref().is_none_or(|r| {
                entry
                    .reason
                    .as_deref()
                    .is_some_and(|reason| reason.contains(r.as_str()))
            })
    }
}

/// One dead letter, as found in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterEntry {
    /// The queue or topic it was consumed from (`herald-origin`, else the one asked about).
    pub origin: String,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    /// `herald-error`, or the broker's own reason when the broker dead-lettered it.
    pub reason: Option<String>,
    pub handler: Option<String>,
    pub attempts: Option<u32>,
    pub first_failure_at: Option<String>,
    pub last_failure_at: Option<String>,
    pub headers: Headers,
    pub payload: Vec<u8>,
}

impl DeadLetterEntry {
    /// An entry read from herald's headers; `origin` when it has no `herald-origin`.
    pub fn from_headers(origin: &str, headers: Headers, payload: Vec<u8>) -> Self {
        let get = |name: &str| headers.get(name).cloned();
        DeadLetterEntry {
            origin: get(headers::ORIGIN).unwrap_or_else(|| origin.to_owned()),
            event_id: get(headers::EVENT_ID),
            event_type: get(headers::EVENT_TYPE),
            reason: get(headers::ERROR),
            handler: get(headers::HANDLER),
            attempts: get(headers::ATTEMPTS).and_then(|a| a.parse().ok()),
            first_failure_at: get(headers::FIRST_FAILURE_AT),
            last_failure_at: get(headers::LAST_FAILURE_AT),
            headers,
            payload,
        }
    }

    /// The aggregate id: the `herald-aggregate-id` header, else the `aggregate_id` of the
    /// payload when it is a JSON envelope (a message from a publisher that sets no headers).
    pub fn aggregate_id(&self) -> Option<String> {
        if let Some(id) = self.headers.get(headers::AGGREGATE_ID) {
            return Some(id.clone());
        }
        let envelope: serde_json::Value = serde_json::from_slice(&self.payload).ok()?;
        match envelope.get("aggregate_id")? {
            serde_json::Value::String(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// The headers a replay sends it with: a first attempt again, without the failure.
    pub fn replay_headers(&self) -> Headers {
        let mut h = self.headers.clone();
        for failure in [
            headers::ATTEMPT,
            headers::ATTEMPTS,
            headers::ERROR,
            headers::PERMANENT,
            headers::HANDLER,
            headers::FIRST_FAILURE_AT,
            headers::LAST_FAILURE_AT,
            headers::ORIGIN,
        ] {
            h.remove(failure);
        }
        h
    }
}

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// The dead letters selected (moved back, unless it was a dry run).
    pub selected: Vec<DeadLetterEntry>,
    /// How many were moved back to where they came from.
    pub replayed: usize,
    pub dry_run: bool,
}

/// What a purge did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// The dead letters purged (or that a dry run would purge).
    pub purged: Vec<DeadLetterEntry>,
    /// Dead letters the selection took that could not be purged: on Kafka, those behind one
    /// the selection left (a log's position moves only over a leading run).
    pub kept: Vec<DeadLetterEntry>,
    pub dry_run: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(event_type: &str, reason: &str) -> DeadLetterEntry {
        DeadLetterEntry {
            origin: "q".into(),
            event_id: None,
            event_type: Some(event_type.into()),
            reason: Some(reason.into()),
            handler: None,
            attempts: None,
            first_failure_at: None,
            last_failure_at: None,
            headers: Headers::new(),
            payload: Vec::new(),
        }
    }

    #[test]
    fn aggregate_id_from_the_header_else_the_envelope() {
        let mut e = entry("order.created", "boom");
        assert_eq!(e.aggregate_id(), None);
        e.payload = br#"{"aggregate_id":"o-7","data":{}}"#.to_vec();
        assert_eq!(e.aggregate_id().as_deref(), Some("o-7"));
        e.headers.insert(headers::AGGREGATE_ID.into(), "o-8".into());
        assert_eq!(e.aggregate_id().as_deref(), Some("o-8"));
    }

    #[test]
    fn selection_filters_by_event_type_and_reason() {
        let e = entry("order.created", "permanent: card declined");
        assert!(Selection::all().matches(&e));
        assert!(Selection::all().event_type("order.created").matches(&e));
        assert!(!Selection::all().event_type("order.paid").matches(&e));
        assert!(Selection::all().reason_contains("declined").matches(&e));
        assert!(!Selection::all().reason_contains("timeout").matches(&e));
    }
}
