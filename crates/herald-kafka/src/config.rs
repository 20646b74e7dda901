//! Connection settings shared by producers and consumers.

use std::collections::BTreeMap;

use rdkafka::ClientConfig;

/// Where the brokers are, and any librdkafka property to set on every client.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    brokers: String,
    client_id: String,
    properties: BTreeMap<String, String>,
}

impl KafkaConfig {
    /// `brokers`: a comma-separated `host:port` list (`bootstrap.servers`).
    pub fn new(brokers: impl Into<String>) -> Self {
        KafkaConfig {
            brokers: brokers.into(),
            client_id: "herald".to_owned(),
            properties: BTreeMap::new(),
        }
    }

    pub fn brokers(&self) -> &str {
        &self.brokers
    }

    /// The `client.id` brokers log and quota by (default `herald`).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = id.into();
        self
    }

    /// Any librdkafka property (`security.protocol`, `sasl.mechanisms`, ...); it overrides
    /// what herald sets.
    pub fn set(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.insert(key.into(), value.into());
        self
    }

    /// The librdkafka configuration: herald's `defaults` first, then the user's properties.
    pub(crate) fn client_config(&self, defaults: &[(&str, String)]) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers)
            .set("client.id", &self.client_id);
        for (k, v) in defaults {
            c.set(*k, v);
        }
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }
}
