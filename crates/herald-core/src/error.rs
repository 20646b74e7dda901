use thiserror::Error;

/// Why a message could not be turned into an event.
#[derive(Debug, Error)]
pub enum DecodeError {
    /// The bytes are not a herald envelope.
    #[error("malformed envelope: {0}")]
    Malformed(String),
    /// The envelope carries another event type than the one asked for.
    #[error("expected event type `{expected}`, found `{found}`")]
    WrongEventType {
        expected: &'static str,
        found: String,
    },
    /// The payload's version is not one this binary knows (newer, or never defined).
    #[error("event `{event}` has schema version {found}, but this binary knows versions {known:?}")]
    UnknownVersion {
        event: &'static str,
        found: u32,
        known: Vec<u32>,
    },
    /// The data does not deserialize into the type of its version.
    #[error("event `{event}` v{version}: data does not match the type: {source}")]
    Data {
        event: &'static str,
        version: u32,
        #[source]
        source: serde_json::Error,
    },
    /// The data does not validate against the event's JSON Schema.
    #[error("event `{event}` v{version}: data does not match its JSON Schema: {}", errors.join("; "))]
    Invalid {
        event: &'static str,
        version: u32,
        errors: Vec<String>,
    },
}

/// A transport failed to do what was asked.
#[derive(Debug, Error)]
pub enum TransportError {
    /// The broker cannot be reached or the connection broke.
    #[error("connection: {0}")]
    Connection(String),
    /// The broker refused or lost the message (nack, unroutable, no confirm).
    #[error("rejected by the broker: {0}")]
    Rejected(String),
    /// The subscriber or publisher was closed.
    #[error("closed")]
    Closed,
    /// Anything else the transport reports.
    #[error("{0}")]
    Other(String),
}

/// Publishing an event failed; nothing was sent unless the transport says otherwise.
#[derive(Debug, Error)]
pub enum PublishError {
    #[error("encoding event `{event}`: {source}")]
    Encode {
        event: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Invalid(#[from] DecodeError),
    #[error(transparent)]
    Transport(#[from] TransportError),
}
