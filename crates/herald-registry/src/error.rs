//! One error type for the whole service, mapped to Confluent's `{error_code, message}` bodies.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::CONTENT_TYPE;

/// Every failure a request can meet, each with Confluent's HTTP status and `error_code`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    #[error("Version {0} not found.")]
    VersionNotFound(String),
    #[error("{0}")]
    SchemaNotFound(String),
    #[error("Subject '{0}' was soft deleted.Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    #[error("Subject '{0}' Version {1} was soft deleted.Set permanent=true to delete permanently")]
    VersionSoftDeleted(String, i32),
    #[error("Subject '{0}' Version {1} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted(String, i32),
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectConfigNotConfigured(String),
    #[error("Subject '{0}' does not have subject-level mode configured")]
    SubjectModeNotConfigured(String),
    #[error("Context '{0}' not found")]
    ContextNotFound(String),
    /// HTTP 409; `code` is 409 (historic, what Karapace and most clients expect) or 40901.
    #[error("{message}")]
    Incompatible { code: u32, message: String },
    #[error("Invalid schema: {0}")]
    InvalidSchema(String),
    #[error(
        "The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
    )]
    InvalidVersion(String),
    #[error(
        "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive"
    )]
    InvalidCompatibilityLevel,
    #[error("Invalid compatibility policy `{0}`. Valid values are STRICT and LENIENT")]
    InvalidCompatibilityPolicy(String),
    #[error("Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE, IMPORT")]
    InvalidMode,
    #[error("{0}")]
    OperationNotPermitted(String),
    #[error("One or more references exist to the schema {{subject={0},version={1}}}.")]
    ReferenceExists(String, i32),
    #[error("{0}")]
    IdDoesNotMatch(String),
    #[error("The specified subject '{0}' is not valid.")]
    InvalidSubject(String),
    #[error("{0}")]
    SchemaTooLarge(String),
    #[error("{0}")]
    InvalidRuleSet(String),
    #[error("Context '{0}' is not empty")]
    ContextNotEmpty(String),
    /// The request body is not JSON, or not the JSON the endpoint expects.
    #[error("{0}")]
    BadRequest(String),
    /// A required body is empty or lacks a required field.
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("HTTP 404 Not Found")]
    RouteNotFound,
    #[error("HTTP 405 Method Not Allowed")]
    MethodNotAllowed,
    #[error("Unauthorized")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// Too many failed logins from the client's address; retry after the duration.
    #[error("Too many failed logins from this address; retry in {} s", retry_after_secs(.0))]
    TooManyRequests(std::time::Duration),
    #[error("Error in the backend data store: {0}")]
    Store(String),
    #[error("Operation timed out")]
    Timeout,
    #[error("Internal server error")]
    Internal(String),
}

/// Confluent's error body; exactly these two fields (the Java client rejects extras).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error_code: u32,
    pub message: String,
}

impl Error {
    /// HTTP status and Confluent `error_code`.
    pub fn status_and_code(&self) -> (StatusCode, u32) {
        use Error::*;
        match self {
            SubjectNotFound(_) => (StatusCode::NOT_FOUND, 40401),
            VersionNotFound(_) => (StatusCode::NOT_FOUND, 40402),
            SchemaNotFound(_) => (StatusCode::NOT_FOUND, 40403),
            SubjectSoftDeleted(_) => (StatusCode::NOT_FOUND, 40404),
            SubjectNotSoftDeleted(_) => (StatusCode::NOT_FOUND, 40405),
            VersionSoftDeleted(..) => (StatusCode::NOT_FOUND, 40406),
            VersionNotSoftDeleted(..) => (StatusCode::NOT_FOUND, 40407),
            SubjectConfigNotConfigured(_) => (StatusCode::NOT_FOUND, 40408),
            SubjectModeNotConfigured(_) => (StatusCode::NOT_FOUND, 40409),
            ContextNotFound(_) => (StatusCode::NOT_FOUND, 40401),
            Incompatible { code, .. } => (StatusCode::CONFLICT, *code),
            InvalidSchema(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42201),
            InvalidVersion(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42202),
            InvalidCompatibilityLevel | InvalidCompatibilityPolicy(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, 42203)
            }
            InvalidMode => (StatusCode::UNPROCESSABLE_ENTITY, 42204),
            OperationNotPermitted(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42205),
            ReferenceExists(..) => (StatusCode::UNPROCESSABLE_ENTITY, 42206),
            IdDoesNotMatch(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42207),
            InvalidSubject(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42208),
            SchemaTooLarge(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42209),
            InvalidRuleSet(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42210),
            ContextNotEmpty(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42211),
            BadRequest(_) => (StatusCode::BAD_REQUEST, 400),
            Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, 422),
            PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, 413),
            RouteNotFound => (StatusCode::NOT_FOUND, 404),
            MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, 405),
            Unauthorized => (StatusCode::UNAUTHORIZED, 401),
            Forbidden(_) => (StatusCode::FORBIDDEN, 403),
            TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, 429),
            Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, 50001),
            Timeout => (StatusCode::INTERNAL_SERVER_ERROR, 50002),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, 500),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut => Error::Timeout,
            other => Error::Store(other.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Store(e.to_string())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, error_code) = self.status_and_code();
        let message = match &self {
            // Internal details go to the log, not to the client.
            Error::Store(detail) => {
                tracing::error!(%detail, "store error");
                "Error in the backend data store".to_owned()
            }
            Error::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                self.to_string()
            }
            _ => self.to_string(),
        };
        let body = serde_json::to_vec(&ErrorBody {
            error_code,
            message,
        })
        .unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Error::TooManyRequests(wait) = &self {
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs(wait)),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"herald-registry\", Bearer"),
            );
        }
        resp
    }
}

/// Whole seconds, rounded up, at least 1 (what `Retry-After` can say).
fn retry_after_secs(wait: &std::time::Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// Result alias of the service.
pub type Result<T, E = Error> = std::result::Result<T, E>;
