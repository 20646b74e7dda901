use crate::protocol::MalformedMessage;

/// A broker or result backend failed.
#[derive(Debug, thiserror::Error)]
pub enum CeleryError {
    #[error("broker URL `{url}`: {reason}")]
    Url { url: String, reason: String },
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("amqp: {0}")]
    Amqp(#[from] lapin::Error),
    #[error(transparent)]
    Malformed(#[from] MalformedMessage),
    #[error("no result for task {task_id} within {waited:?}")]
    Timeout {
        task_id: String,
        waited: std::time::Duration,
    },
    #[error("{0}")]
    Other(String),
}
