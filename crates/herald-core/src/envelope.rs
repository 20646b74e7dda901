use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::{DecodeError, Event};

/// An event with the metadata it travels with.
///
/// On the wire this is one JSON object (`event_id`, `event_type`, `schema_version`,
/// `aggregate_id`, `partition_key`, `timestamp`, `correlation_id`, `causation_id`,
/// `idempotency_key`, `data`, `headers`).
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<T> {
    pub meta: EnvelopeMeta,
    pub data: T,
}

/// Everything in an envelope except the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeMeta {
    /// UUIDv7: unique, and ordered by creation time.
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub aggregate_id: String,
    /// The ordering key; defaults to the aggregate id.
    pub partition_key: String,
    /// When the event was created (RFC 3339, UTC).
    pub timestamp: DateTime<Utc>,
    /// Shared by every event that one original request caused.
    pub correlation_id: Uuid,
    /// The event whose handler published this one; `None` for a root event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    /// What idempotent handlers deduplicate on; defaults to the event id.
    pub idempotency_key: String,
    /// Free-form metadata (tenant, trace context, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

impl<E: Event> Envelope<E> {
    /// Wraps a new root event: a fresh event id, which is also its correlation id.
    pub fn new(event: E) -> Self {
        let event_id = Uuid::now_v7();
        let idempotency_key = event
            .idempotency_key()
            .unwrap_or_else(|| event_id.to_string());
        Envelope {
            meta: EnvelopeMeta {
                event_id,
                event_type: E::NAME.to_owned(),
                schema_version: E::VERSION,
                aggregate_id: event.aggregate_id(),
                partition_key: event.partition_key(),
                timestamp: Utc::now(),
                correlation_id: event_id,
                causation_id: None,
                idempotency_key,
                headers: BTreeMap::new(),
            },
            data: event,
        }
    }

    /// Marks this envelope as caused by `cause`: same correlation, causation = its event id.
    pub fn caused_by(mut self, cause: &EnvelopeMeta) -> Self {
        self.meta.correlation_id = cause.correlation_id;
        self.meta.causation_id = Some(cause.event_id);
        self
    }

    /// Adds a free-form header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.meta.headers.insert(name.into(), value.into());
        self
    }

    /// The JSON bytes of the envelope.
    pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// Decodes an envelope of event type `E`, upcasting data written with an earlier version.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        // One pass when the data is of the current version (the common case); any other
        // case, errors included, goes through the raw envelope, which says precisely why.
        match serde_json::from_slice::<FastPath<E>>(bytes) {
            Ok(FastPath(Some(envelope))) => Ok(envelope),
            _ => RawEnvelope::parse(bytes)?.decode(),
        }
    }
}

/// An envelope whose data is still raw JSON: what a worker reads first, to route by
/// event type and version before it decodes the data into a type.
#[derive(Debug)]
pub struct RawEnvelope<'a> {
    pub meta: EnvelopeMeta,
    pub data: &'a RawValue,
}

impl<'a> RawEnvelope<'a> {
    /// Parses the envelope, leaving the data undecoded.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let wire: Wire<&'a RawValue> =
            serde_json::from_slice(bytes).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        let (meta, data) = wire.split();
        Ok(RawEnvelope { meta, data })
    }

    /// Decodes the data into `E`, through the upcast chain when it is an earlier version.
    pub fn decode<E: Event>(&self) -> Result<Envelope<E>, DecodeError> {
        if self.meta.event_type != E::NAME {
            return Err(DecodeError::WrongEventType {
                expected: E::NAME,
                found: self.meta.event_type.clone(),
            });
        }
        let data = E::decode_data(self.meta.schema_version, self.data.get())?;
        let mut meta = self.meta.clone();
        // After upcasting, the data is of the current version.
        meta.schema_version = E::VERSION;
        Ok(Envelope { meta, data })
    }
}

// The wire form lists every field at the top level. It is spelled out rather than using
// `#[serde(flatten)]`, which buffers the whole object and cannot carry a `RawValue`.
#[derive(Serialize)]
struct WireRef<'a, T> {
    event_id: &'a Uuid,
    event_type: &'a str,
    schema_version: u32,
    aggregate_id: &'a str,
    partition_key: &'a str,
    timestamp: &'a DateTime<Utc>,
    correlation_id: &'a Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    causation_id: &'a Option<Uuid>,
    idempotency_key: &'a str,
    data: &'a T,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    headers: &'a BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Wire<T> {
    event_id: Uuid,
    event_type: String,
    schema_version: u32,
    aggregate_id: String,
    // Producers in other languages may leave it out: it then follows the aggregate id.
    #[serde(default)]
    partition_key: Option<String>,
    timestamp: DateTime<Utc>,
    // A root event from another producer may leave it out: it then is its own correlation.
    #[serde(default)]
    correlation_id: Option<Uuid>,
    #[serde(default)]
    causation_id: Option<Uuid>,
    // Defaults to the event id, as for events herald creates.
    #[serde(default)]
    idempotency_key: Option<String>,
    data: T,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

impl<T> Wire<T> {
    fn split(self) -> (EnvelopeMeta, T) {
        let meta = EnvelopeMeta {
            partition_key: self
                .partition_key
                .unwrap_or_else(|| self.aggregate_id.clone()),
            correlation_id: self.correlation_id.unwrap_or(self.event_id),
            idempotency_key: self
                .idempotency_key
                .unwrap_or_else(|| self.event_id.to_string()),
            event_id: self.event_id,
            event_type: self.event_type,
            schema_version: self.schema_version,
            aggregate_id: self.aggregate_id,
            timestamp: self.timestamp,
            causation_id: self.causation_id,
            headers: self.headers,
        };
        (meta, self.data)
    }
}

impl<T: Serialize> Serialize for Envelope<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let m = &self.meta;
        WireRef {
            event_id: &m.event_id,
            event_type: &m.event_type,
            schema_version: m.schema_version,
            aggregate_id: &m.aggregate_id,
            partition_key: &m.partition_key,
            timestamp: &m.timestamp,
            correlation_id: &m.correlation_id,
            causation_id: &m.causation_id,
            idempotency_key: &m.idempotency_key,
            data: &self.data,
            headers: &m.headers,
        }
        .serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Envelope<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (meta, data) = Wire::<T>::deserialize(deserializer)?.split();
        Ok(Envelope { meta, data })
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    EventId,
    EventType,
    SchemaVersion,
    AggregateId,
    PartitionKey,
    Timestamp,
    CorrelationId,
    CausationId,
    IdempotencyKey,
    Headers,
    Data,
    #[serde(other)]
    Other,
}

/// Decodes envelope and data in one pass when `schema_version` precedes `data` (as herald
/// writes it) and equals `E::VERSION`; yields `None` when it cannot, so the caller falls
/// back to the two-step path.
struct FastPath<E>(Option<Envelope<E>>);

impl<'de, E: Event> Deserialize<'de> for FastPath<E> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{Error, IgnoredAny, MapAccess, Visitor};

        struct V<E>(std::marker::PhantomData<E>);

        impl<'de, E: Event> Visitor<'de> for V<E> {
            type Value = FastPath<E>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a herald envelope")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut event_id = None;
                let mut event_type: Option<String> = None;
                let mut schema_version = None;
                let mut aggregate_id = None;
                let mut partition_key = None;
                let mut timestamp = None;
                let mut correlation_id = None;
                let mut causation_id = None;
                let mut idempotency_key = None;
                let mut headers = None;
                let mut data = None;
                while let Some(key) = map.next_key::<Field>()? {
                    match key {
                        Field::EventId => event_id = Some(map.next_value()?),
                        Field::EventType => event_type = Some(map.next_value()?),
                        Field::SchemaVersion => schema_version = Some(map.next_value::<u32>()?),
                        Field::AggregateId => aggregate_id = Some(map.next_value()?),
                        Field::PartitionKey => partition_key = map.next_value()?,
                        Field::Timestamp => timestamp = Some(map.next_value()?),
                        Field::CorrelationId => correlation_id = map.next_value()?,
                        Field::CausationId => causation_id = map.next_value()?,
                        Field::IdempotencyKey => idempotency_key = map.next_value()?,
                        Field::Headers => headers = Some(map.next_value()?),
                        Field::Data => {
                            if schema_version != Some(E::VERSION)
                                || event_type.as_deref() != Some(E::NAME)
                            {
                                return Err(A::Error::custom("not the fast path"));
                            }
                            data = Some(map.next_value::<E>()?);
                        }
                        Field::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let (
                    Some(event_id),
                    Some(event_type),
                    Some(schema_version),
                    Some(aggregate_id),
                    Some(timestamp),
                    Some(data),
                ) = (
                    event_id,
                    event_type,
                    schema_version,
                    aggregate_id,
                    timestamp,
                    data,
                )
                else {
                    return Ok(FastPath(None));
                };
                let wire = Wire {
                    event_id,
                    event_type,
                    schema_version,
                    aggregate_id,
                    partition_key,
                    timestamp,
                    correlation_id,
                    causation_id,
                    idempotency_key,
                    data,
                    headers: headers.unwrap_or_default(),
                };
                let (meta, data) = wire.split();
                Ok(FastPath(Some(Envelope { meta, data })))
            }
        }

        deserializer.deserialize_map(V(std::marker::PhantomData))
    }
}
