//! Request extraction and response encoding with Confluent's error shapes.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::CONTENT_TYPE;
use crate::error::Error;
use crate::store::VersionSel;

/// A JSON request body, whatever its declared content type (Confluent treats a missing or
/// `application/octet-stream` type as JSON). Malformed JSON is 400, an empty body or one of
/// the wrong shape is 422; both with a message.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge(format!("Request body too large: {}", rejection.body_text()))
            } else {
                Error::BadRequest(rejection.body_text())
            }
        })?;
        parse_body(&bytes).map(Body)
    }
}

pub(crate) fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Unprocessable("Request body is empty".to_owned()));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => Error::Unprocessable(format!("Unprocessable request body: {e}")),
            Category::Io | Category::Syntax | Category::Eof => {
                Error::BadRequest(format!("Malformed JSON in request body: {e}"))
            }
        }
    })
}

/// Query parameters; a malformed one is a 400 with Confluent's body.
#[derive(Debug)]
pub struct Q<T>(pub T);

impl<S, T> FromRequestParts<S> for Q<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Q(q.0))
            .map_err(|e| Error::BadRequest(format!("Invalid query parameter: {}", e.body_text())))
    }
}

/// A JSON response with Confluent's media type.
#[derive(Debug)]
pub struct Vnd<T>(pub T);

impl<T: Serialize> IntoResponse for Vnd<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => raw_json(body),
            Err(e) => Error::Internal(e.to_string()).into_response(),
        }
    }
}

/// Already-serialised JSON text with Confluent's media type.
pub fn raw_json(body: impl Into<axum::body::Body>) -> Response {
    let mut resp = Response::new(body.into());
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    resp
}

/// Parses a version path segment: `latest`, `-1` or 1..=2^31-1.
pub fn parse_version(s: &str) -> Result<VersionSel, Error> {
    if s == "latest" || s == "-1" {
        return Ok(VersionSel::Latest);
    }
    match s.parse::<i32>() {
        Ok(n) if n >= 1 => Ok(VersionSel::Number(n)),
        _ => Err(Error::InvalidVersion(s.to_owned())),
    }
}

/// Subjects are any non-empty text without control characters (Confluent's rule).
pub fn check_subject(subject: &str) -> Result<(), Error> {
    if subject.is_empty() || subject.len() > 1024 || subject.chars().any(char::is_control) {
        return Err(Error::InvalidSubject(subject.to_owned()));
    }
    Ok(())
}

/// Applies `offset` and `limit` (-1 or absent: no limit) to a listing.
pub fn paginate<T>(items: Vec<T>, offset: Option<i64>, limit: Option<i64>) -> Vec<T> {
    let offset = offset.unwrap_or(0).max(0) as usize;
    let iter = items.into_iter().skip(offset);
    match limit {
        Some(l) if l >= 0 => iter.take(l as usize).collect(),
        _ => iter.collect(),
    }
}

/// A boolean query parameter, in any case (`true`, `True`, `TRUE`; clients written in Python
/// send `False`).
pub fn opt_bool<'de, D>(d: D) -> Result<Option<bool>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    let s: Option<String> = Option::deserialize(d)?;
    match s.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected true or false, got `{other}`"
        ))),
    }
}
