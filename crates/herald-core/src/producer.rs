use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::{Envelope, EnvelopeMeta, Event, OutgoingMessage, PublishError, Publisher, headers};

/// Publishes events: wraps them in an [`Envelope`], encodes it, and hands it to a
/// transport's [`Publisher`]. Cheap to clone.
#[derive(Clone)]
pub struct Producer {
    publisher: Arc<dyn Publisher>,
    /// Event type -> destination; an event type without a route goes to its own name.
    routes: Arc<HashMap<String, String>>,
    validate: bool,
}

impl Producer {
    pub fn new(publisher: impl Publisher) -> Self {
        Self::from_arc(Arc::new(publisher))
    }

    pub fn from_arc(publisher: Arc<dyn Publisher>) -> Self {
        Producer {
            publisher,
            routes: Arc::default(),
            validate: false,
        }
    }

    /// Sends events of `event_type` to `destination` (an exchange, topic or queue).
    pub fn route(mut self, event_type: &str, destination: &str) -> Self {
        Arc::make_mut(&mut self.routes).insert(event_type.to_owned(), destination.to_owned());
        self
    }

    /// Validates each event's data against its JSON Schema before sending (feature
    /// `validation`; off by default, since a derived type already matches its schema).
    #[cfg(feature = "validation")]
    pub fn validate_payloads(mut self, on: bool) -> Self {
        self.validate = on;
        self
    }

    /// The destination events of `event_type` go to.
    pub fn destination(&self, event_type: &str) -> String {
        self.routes
            .get(event_type)
            .cloned()
            .unwrap_or_else(|| event_type.to_owned())
    }

    /// Publishes a new root event; returns its metadata (event id, correlation id, ...).
    pub async fn publish<E: Event>(&self, event: E) -> Result<EnvelopeMeta, PublishError> {
        let envelope = Envelope::new(event);
        self.publish_envelope(&envelope).await?;
        Ok(envelope.meta)
    }

    /// Publishes a prepared envelope (for example one made with [`Envelope::caused_by`]).
    pub async fn publish_envelope<E: Event>(
        &self,
        envelope: &Envelope<E>,
    ) -> Result<(), PublishError> {
        let message = self.message(envelope)?;
        self.publisher.publish(message).await?;
        tracing::debug!(
            event_id = %envelope.meta.event_id,
            event_type = E::NAME,
            "published"
        );
        Ok(())
    }

    /// The message a transport sends for `envelope`: the JSON envelope as payload, the
    /// partition key as key, and the routing metadata as headers.
    pub fn message<E: Event>(
        &self,
        envelope: &Envelope<E>,
    ) -> Result<OutgoingMessage, PublishError> {
        let payload = envelope.encode().map_err(|source| PublishError::Encode {
            event: E::NAME,
            source,
        })?;
        #[cfg(feature = "validation")]
        if self.validate {
            crate::validation::validate_data::<E>(
                &serde_json::to_value(&envelope.data).map_err(|source| PublishError::Encode {
                    event: E::NAME,
                    source,
                })?,
                E::VERSION,
            )?;
        }
        Ok(OutgoingMessage {
            destination: self.destination(E::NAME),
            key: envelope.meta.partition_key.clone(),
            headers: routing_headers(&envelope.meta),
            payload,
        })
    }
}

/// The envelope fields that transports expose as native headers, so consumers can route,
/// filter or deduplicate without parsing the payload (the partition key travels as the
/// message key).
pub(crate) fn routing_headers(meta: &EnvelopeMeta) -> crate::Headers {
    let mut h = crate::Headers::new();
    h.insert(headers::EVENT_ID.into(), meta.event_id.to_string());
    h.insert(headers::EVENT_TYPE.into(), meta.event_type.clone());
    h.insert(
        headers::SCHEMA_VERSION.into(),
        meta.schema_version.to_string(),
    );
    h.insert(
        headers::CORRELATION_ID.into(),
        meta.correlation_id.to_string(),
    );
    h.insert(headers::AGGREGATE_ID.into(), meta.aggregate_id.clone());
    h.insert(headers::TIMESTAMP.into(), meta.timestamp.to_rfc3339());
    h.insert(
        headers::IDEMPOTENCY_KEY.into(),
        meta.idempotency_key.clone(),
    );
    if let Some(causation) = meta.causation_id {
        h.insert(headers::CAUSATION_ID.into(), causation.to_string());
    }
    h
}

impl fmt::Debug for Producer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("routes", &self.routes)
            .field("validate", &self.validate)
            .finish_non_exhaustive()
    }
}
