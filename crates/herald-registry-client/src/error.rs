//! Why a registry call failed.

/// Why a registry call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The registry answered with an error body.
    #[error("registry error {error_code} (HTTP {status}): {message}")]
    Api {
        status: u16,
        error_code: u32,
        message: String,
    },
    #[error("HTTP error: {0}")]
    Http(#[from] reqwest::Error),
    #[error("invalid registry URL: {0}")]
    Url(String),
}

impl ClientError {
    /// Confluent's error code, when the registry gave one.
    pub fn error_code(&self) -> Option<u32> {
        match self {
            ClientError::Api { error_code, .. } => Some(*error_code),
            _ => None,
        }
    }
}
