use herald_core::TransportError;

/// What went wrong talking to RabbitMQ.
#[derive(Debug, thiserror::Error)]
pub enum AmqpError {
    /// The broker cannot be reached now (reconnecting in the background).
    #[error("RabbitMQ unavailable: {0}")]
    Unavailable(String),
    /// Declaring the topology failed (an existing queue or exchange has other settings?).
    #[error("declaring the topology: {0}")]
    Topology(String),
    /// The client was closed.
    #[error("the AMQP client is closed")]
    Closed,
    /// The broker refused an operation or a message.
    #[error("rejected by RabbitMQ: {0}")]
    Rejected(String),
    #[error(transparent)]
    Lapin(#[from] lapin::Error),
}

impl From<AmqpError> for TransportError {
    fn from(e: AmqpError) -> Self {
        match e {
            AmqpError::Unavailable(m) => TransportError::Connection(m),
            AmqpError::Closed => TransportError::Closed,
            AmqpError::Rejected(m) => TransportError::Rejected(m),
            AmqpError::Topology(m) => TransportError::Other(format!("declaring the topology: {m}")),
            AmqpError::Lapin(e) if e.is_amqp_soft_error() => {
                TransportError::Rejected(e.to_string())
            }
            AmqpError::Lapin(e) => TransportError::Connection(e.to_string()),
        }
    }
}
