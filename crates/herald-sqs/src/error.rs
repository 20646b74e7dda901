use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use herald_core::TransportError;
use thiserror::Error;

/// What went wrong talking to SQS.
#[derive(Debug, Clone, Error)]
pub enum SqsError {
    /// SQS could not be reached (connection refused, DNS, TLS, timeout).
    #[error("{operation}: cannot reach SQS: {message}")]
    Unreachable {
        operation: &'static str,
        message: String,
    },
    /// SQS answered with an error.
    #[error("{operation}: {code}: {message}")]
    Api {
        operation: &'static str,
        code: String,
        message: String,
    },
    /// The message is bigger than SQS takes; nothing was sent.
    #[error(
        "message for `{queue}` is {size} bytes (body and attributes), over SQS's limit of {max} bytes; nothing was sent"
    )]
    TooLarge {
        queue: String,
        size: usize,
        max: usize,
    },
    /// Entries of a batch SQS did not take, after retrying those it may take later.
    /// The others were sent.
    #[error("{} of {total} message(s) not sent to `{queue}`: {}", failed.len(), failed.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("; "))]
    Batch {
        queue: String,
        total: usize,
        failed: Vec<EntryFailure>,
    },
    /// Input herald refuses before calling SQS.
    #[error("{0}")]
    Invalid(String),
}

/// One message of a batch that was not sent: its index in the batch and SQS's reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("message {index}: {code}: {message}")]
pub struct EntryFailure {
    pub index: usize,
    pub code: String,
    pub message: String,
    /// SQS says the request was at fault (retrying it as it is cannot help).
    pub sender_fault: bool,
}

impl SqsError {
    /// The SQS error code (`AWS.SimpleQueueService.NonExistentQueue`, ...), if SQS answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            SqsError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    pub(crate) fn is_queue_missing(&self) -> bool {
        self.code()
            .is_some_and(|c| c.contains("NonExistentQueue") || c == "QueueDoesNotExist")
    }
}

/// Maps an SDK error of `operation` to an [`SqsError`], keeping the whole cause chain.
pub(crate) fn api<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> SqsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    move |e| match &e {
        SdkError::ServiceError(s) => SqsError::Api {
            operation,
            code: s.err().code().unwrap_or("unknown").to_owned(),
            message: s
                .err()
                .message()
                .map_or_else(|| DisplayErrorContext(&e).to_string(), str::to_owned),
        },
        _ => SqsError::Unreachable {
            operation,
            message: DisplayErrorContext(&e).to_string(),
        },
    }
}

impl From<SqsError> for TransportError {
    fn from(e: SqsError) -> Self {
        match e {
            SqsError::Unreachable { .. } => TransportError::Connection(e.to_string()),
            SqsError::Api { .. } | SqsError::Batch { .. } => {
                TransportError::Rejected(e.to_string())
            }
            SqsError::TooLarge { .. } | SqsError::Invalid(_) => {
                TransportError::Other(e.to_string())
            }
        }
    }
}
