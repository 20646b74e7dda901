use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::DecodeError;

/// A versioned domain event. Usually derived:
///
/// ```ignore
/// #[derive(Event, Serialize, Deserialize, JsonSchema)]
/// #[event(name = "order.created", version = 2, previous = OrderCreatedV1)]
/// struct OrderCreated { #[event(aggregate_id)] order_id: Uuid, total_cents: i64 }
/// ```
///
/// The derive fills [`Event::decode_data`], [`Event::known_versions`] and
/// [`Event::schema_of_version`] so that a payload written with any earlier version decodes
/// into the current type through the user's `From` impls.
pub trait Event:
    Serialize + DeserializeOwned + schemars::JsonSchema + Send + Sync + 'static
{
    /// The event type, e.g. `order.created`. Also the default subject and destination.
    const NAME: &'static str;
    /// The schema version of this type, starting at 1.
    const VERSION: u32;

    /// The id of the aggregate this event belongs to.
    fn aggregate_id(&self) -> String;

    /// The key that orders events (Kafka key, FIFO group). Defaults to the aggregate id.
    fn partition_key(&self) -> String {
        self.aggregate_id()
    }

    /// A key built from the event's fields; `None` means "use the event id".
    fn idempotency_key(&self) -> Option<String> {
        None
    }

    /// Every version this type can decode, oldest first.
    fn known_versions() -> Vec<u32> {
        vec![Self::VERSION]
    }

    /// Decodes the JSON `data` of an envelope written with schema `version`.
    fn decode_data(version: u32, data: &str) -> Result<Self, DecodeError> {
        if version == Self::VERSION {
            decode_current(data)
        } else {
            Err(unknown_version::<Self>(version))
        }
    }

    /// The JSON Schema of this version (schemars, draft 2020-12).
    fn schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Self))
            .expect("a schemars schema always serializes")
    }

    /// The JSON Schema of an earlier `version` along the upcast chain, if known.
    fn schema_of_version(version: u32) -> Option<serde_json::Value> {
        (version == Self::VERSION).then(Self::schema)
    }
}

/// Deserializes data written with the current version of `E`.
pub fn decode_current<E: Event>(data: &str) -> Result<E, DecodeError> {
    serde_json::from_str(data).map_err(|source| DecodeError::Data {
        event: E::NAME,
        version: E::VERSION,
        source,
    })
}

/// The error for a version outside `E`'s upcast chain.
pub fn unknown_version<E: Event>(found: u32) -> DecodeError {
    DecodeError::UnknownVersion {
        event: E::NAME,
        found,
        known: E::known_versions(),
    }
}
