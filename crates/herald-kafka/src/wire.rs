//! The Confluent wire format: magic byte 0, the schema id (4 bytes, big-endian), then the
//! JSON. Confluent's JSON deserializers in Java, Python, Go and .NET read herald's events
//! framed this way; herald's consumers read both framed and plain values.

/// Splits a framed value into its schema id and JSON; a plain JSON value (which never
/// starts with byte 0) comes back whole.
pub fn unframe(value: &[u8]) -> (Option<u32>, &[u8]) {
    match value {
        [0, a, b, c, d, rest @ ..] => (Some(u32::from_be_bytes([*a, *b, *c, *d])), rest),
        _ => (None, value),
    }
}

/// Frames `json` with schema id `id`.
pub fn frame(id: u32, json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + 5);
    out.push(0);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(json);
    out
}

/// The registry client [`WireFormat`] takes, so an application needs no other dependency.
#[cfg(feature = "registry")]
pub use herald_registry_client::{Auth, RegistryClient};
#[cfg(feature = "registry")]
pub use registry::{SubjectStrategy, WireFormat, envelope_schema};

#[cfg(feature = "registry")]
mod registry {
    use std::collections::HashMap;
    use std::sync::RwLock;

    use herald_core::{OutgoingMessage, headers};
    use herald_registry_client::RegistryClient;
    use serde_json::{Value, json};

    use crate::KafkaError;

    /// The subject a schema is registered under (Confluent's strategies; the record name
    /// is the event type).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub enum SubjectStrategy {
        /// `<topic>-value`: one schema lineage per topic (one event type per topic).
        Topic,
        /// `<event type>-value`: one lineage per event type, whatever the topic.
        Record,
        /// `<topic>-<event type>`: one lineage per event type per topic (the default,
        /// since a herald topic may carry several event types).
        #[default]
        TopicRecord,
    }

    impl SubjectStrategy {
        pub fn subject(self, topic: &str, event_type: &str) -> String {
            match self {
                SubjectStrategy::Topic => format!("{topic}-value"),
                SubjectStrategy::Record => format!("{event_type}-value"),
                SubjectStrategy::TopicRecord => format!("{topic}-{event_type}"),
            }
        }
    }

    /// Frames each value with the id of its envelope's schema in a Confluent-compatible
    /// registry. The schema is the JSON envelope around the event's own schema (taken
    /// from the catalog of derived events), registered on first use unless
    /// `auto_register(false)`, then cached.
    pub struct WireFormat {
        client: RegistryClient,
        strategy: SubjectStrategy,
        auto_register: bool,
        ids: RwLock<HashMap<(String, String, u32), u32>>,
    }

    impl std::fmt::Debug for WireFormat {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("WireFormat")
                .field("strategy", &self.strategy)
                .field("auto_register", &self.auto_register)
                .finish_non_exhaustive()
        }
    }

    impl WireFormat {
        pub fn new(client: RegistryClient) -> Self {
            WireFormat {
                client,
                strategy: SubjectStrategy::default(),
                auto_register: true,
                ids: RwLock::default(),
            }
        }

        pub fn subject_strategy(mut self, s: SubjectStrategy) -> Self {
            self.strategy = s;
            self
        }

        /// Registers unknown schemas (default; Confluent's `auto.register.schemas`).
        /// Off, a schema must have been registered before (by `herald schemas register`
        /// or CI), and publishing an event whose schema is not there is an error.
        pub fn auto_register(mut self, on: bool) -> Self {
            self.auto_register = on;
            self
        }

        /// The framed value of `message`.
        pub(crate) async fn frame(&self, message: &OutgoingMessage) -> Result<Vec<u8>, KafkaError> {
            let event_type = message.headers.get(headers::EVENT_TYPE);
            let version = message
                .headers
                .get(headers::SCHEMA_VERSION)
                .and_then(|v| v.parse::<u32>().ok());
            let (Some(event_type), Some(version)) = (event_type, version) else {
                return Err(KafkaError::Registry(
                    "the message has no event type or schema version header".into(),
                ));
            };
            let id = self
                .schema_id(&message.destination, event_type, version)
                .await?;
            Ok(super::frame(id, &message.payload))
        }

        async fn schema_id(
            &self,
            topic: &str,
            event_type: &str,
            version: u32,
        ) -> Result<u32, KafkaError> {
            let key = (topic.to_owned(), event_type.to_owned(), version);
            if let Some(id) = self.ids.read().ok().and_then(|m| m.get(&key).copied()) {
                return Ok(id);
            }
            let descriptor = herald_core::catalog::events()
                .into_iter()
                .find(|d| d.name == event_type && d.version == version)
                .ok_or_else(|| {
                    KafkaError::Registry(format!(
                        "`{event_type}` v{version} is not a derived event of this binary"
                    ))
                })?;
            let schema = envelope_schema(&(descriptor.schema)()).to_string();
            let subject = self.strategy.subject(topic, event_type);
            let id = if self.auto_register {
                self.client.register(&subject, &schema, &[]).await
            } else {
                self.client.lookup(&subject, &schema).await.map(|s| s.id)
            }
            .map_err(|e| KafkaError::Registry(format!("subject `{subject}`: {e}")))?;
            let id = u32::try_from(id)
                .map_err(|_| KafkaError::Registry(format!("schema id {id} out of range")))?;
            if let Ok(mut m) = self.ids.write() {
                m.insert(key, id);
            }
            Ok(id)
        }
    }

    /// The JSON Schema of herald's envelope with `data` described by `data_schema`. The
    /// data schema's `$defs` move to the top, where its `#/$defs/...` references point.
    pub fn envelope_schema(data_schema: &Value) -> Value {
        let mut data = data_schema.clone();
        let mut defs = Value::Null;
        let mut title = Value::Null;
        if let Some(obj) = data.as_object_mut() {
            obj.remove("$schema");
            defs = obj.remove("$defs").unwrap_or(Value::Null);
            title = obj.get("title").cloned().unwrap_or(Value::Null);
        }
        let string = json!({"type": "string"});
        let mut schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": title,
            "description": "A herald envelope: the event's metadata and its data.",
            "type": "object",
            "properties": {
                "event_id": {"type": "string", "format": "uuid"},
                "event_type": string,
                "schema_version": {"type": "integer", "minimum": 1},
                "aggregate_id": string,
                "partition_key": string,
                "timestamp": {"type": "string", "format": "date-time"},
                "correlation_id": {"type": "string", "format": "uuid"},
                "causation_id": {"type": "string", "format": "uuid"},
                "idempotency_key": string,
                "headers": {"type": "object", "additionalProperties": string},
                "data": data,
            },
            "required": ["event_id", "event_type", "schema_version", "aggregate_id", "timestamp", "data"],
        });
        if title.is_null()
            && let Some(obj) = schema.as_object_mut()
        {
            obj.remove("title");
        }
        if !defs.is_null()
            && let Some(obj) = schema.as_object_mut()
        {
            obj.insert("$defs".into(), defs);
        }
        schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_unframes() {
        let framed = frame(258, br#"{"a":1}"#);
        assert_eq!(&framed[..5], &[0, 0, 0, 1, 2]);
        assert_eq!(unframe(&framed), (Some(258), &br#"{"a":1}"#[..]));
        assert_eq!(unframe(br#"{"a":1}"#), (None, &br#"{"a":1}"#[..]));
        assert_eq!(
            unframe(&[0, 1]),
            (None, &[0u8, 1][..]),
            "too short to be framed"
        );
    }

    #[cfg(feature = "registry")]
    #[test]
    fn envelope_schema_hoists_defs() {
        let data = serde_json::json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "OrderPlaced",
            "type": "object",
            "properties": {"line": {"$ref": "#/$defs/Line"}},
            "$defs": {"Line": {"type": "object"}}
        });
        let s = envelope_schema(&data);
        assert_eq!(s["title"], "OrderPlaced");
        assert_eq!(s["$defs"]["Line"]["type"], "object");
        assert!(s["properties"]["data"].get("$defs").is_none());
        assert!(s["properties"]["data"].get("$schema").is_none());
        assert_eq!(
            s["properties"]["data"]["properties"]["line"]["$ref"],
            "#/$defs/Line"
        );
    }
}
