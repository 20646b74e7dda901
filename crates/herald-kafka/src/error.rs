use herald_core::TransportError;

/// What went wrong talking to Kafka.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    /// librdkafka refused the configuration.
    #[error("Kafka configuration: {0}")]
    Config(String),
    /// The broker did not take a message, or could not be reached in time.
    #[error("Kafka: {0}")]
    Client(#[from] rdkafka::error::KafkaError),
    /// The schema registry (Confluent wire format) could not give a schema id.
    #[error("schema registry: {0}")]
    Registry(String),
    /// The subscriber or publisher was closed.
    #[error("closed")]
    Closed,
    /// A value over the publisher's `max_payload`: refused before sending.
    #[error(
        "a payload of {size} bytes is over the maximum of {max} (KafkaPublisherBuilder::max_payload); nothing was sent"
    )]
    PayloadTooLarge { size: usize, max: usize },
}

impl From<KafkaError> for TransportError {
    fn from(e: KafkaError) -> Self {
        match e {
            KafkaError::Closed => TransportError::Closed,
            e @ KafkaError::PayloadTooLarge { .. } => TransportError::Rejected(e.to_string()),
            KafkaError::Client(e) if is_rejection(&e) => TransportError::Rejected(e.to_string()),
            KafkaError::Client(e) => TransportError::Connection(e.to_string()),
            other => TransportError::Other(other.to_string()),
        }
    }
}

/// Whether the broker answered and said no (as opposed to not answering).
fn is_rejection(e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as C;
    matches!(
        e.rdkafka_error_code(),
        Some(
            C::MessageSizeTooLarge
                | C::InvalidMessage
                | C::UnknownTopicOrPartition
                | C::TopicAuthorizationFailed
                | C::InvalidRecord
                | C::PolicyViolation
        )
    )
}
