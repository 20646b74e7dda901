//! A client for herald-registry (and any Confluent-compatible registry), with caches of
//! schemas by id and of ids by (subject, schema).
//!
//! ```no_run
//! # async fn run() -> Result<(), herald_registry::client::ClientError> {
//! use herald_registry::client::RegistryClient;
//! let client = RegistryClient::new("http://127.0.0.1:8081")?;
//! let id = client.register("order.created", r#"{"type":"object"}"#, &[]).await?;
//! let schema = client.schema_by_id(id).await?;
//! # let _ = schema; Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::canonical::Reference;

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

/// A schema fetched by id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FetchedSchema {
    pub schema: String,
    #[serde(default = "json_type")]
    pub schema_type: String,
    #[serde(default)]
    pub references: Vec<Reference>,
}

fn json_type() -> String {
    "JSON".to_owned()
}

/// A subject version.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectSchema {
    pub subject: String,
    pub version: i32,
    pub id: i64,
    pub schema: String,
    #[serde(default = "json_type")]
    pub schema_type: String,
    #[serde(default)]
    pub references: Vec<Reference>,
}

/// Result of a compatibility check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Compatibility {
    pub is_compatible: bool,
    #[serde(default)]
    pub messages: Vec<String>,
}

/// Credentials sent with every request.
#[derive(Clone)]
pub enum Auth {
    Bearer(String),
    Basic { user: String, password: String },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
            Auth::Basic { user, .. } => write!(f, "Basic({user}:***)"),
        }
    }
}

#[derive(Serialize)]
struct RegisterBody<'a> {
    schema: &'a str,
    #[serde(rename = "schemaType")]
    schema_type: &'static str,
    #[serde(skip_serializing_if = "<[Reference]>::is_empty")]
    references: &'a [Reference],
}

/// The registry client. Cheap to clone; clones share caches and connections.
#[derive(Debug, Clone)]
pub struct RegistryClient {
    base: String,
    http: reqwest::Client,
    auth: Option<Auth>,
    by_id: Arc<RwLock<HashMap<i64, FetchedSchema>>>,
    ids: Arc<RwLock<HashMap<(String, String), i64>>>,
}

/// Percent-encodes a path segment (subjects may hold any character).
fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl RegistryClient {
    /// A client for the registry at `base_url` (e.g. `http://127.0.0.1:8081`).
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(ClientError::Url(base_url.to_owned()));
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        Ok(Self {
            base: base_url.trim_end_matches('/').to_owned(),
            http,
            auth: None,
            by_id: Arc::default(),
            ids: Arc::default(),
        })
    }

    /// Sends these credentials with every request.
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<T, ClientError> {
        let mut req = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header(reqwest::header::ACCEPT, crate::CONTENT_TYPE)
            .header(reqwest::header::CONTENT_TYPE, crate::CONTENT_TYPE);
        match &self.auth {
            Some(Auth::Bearer(t)) => req = req.bearer_auth(t),
            Some(Auth::Basic { user, password }) => req = req.basic_auth(user, Some(password)),
            None => {}
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let resp = req.send().await?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        if !status.is_success() {
            let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
            let error_code = parsed
                .as_ref()
                .and_then(|v| v.get("error_code"))
                .and_then(Value::as_u64)
                .unwrap_or(u64::from(status.as_u16())) as u32;
            let message = parsed
                .as_ref()
                .and_then(|v| v.get("message"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            return Err(ClientError::Api {
                status: status.as_u16(),
                error_code,
                message,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Api {
            status: status.as_u16(),
            error_code: 0,
            message: format!("unexpected response body: {e}"),
        })
    }

    /// Registers a JSON Schema under `subject`; returns its global id (cached).
    pub async fn register(
        &self,
        subject: &str,
        schema: &str,
        references: &[Reference],
    ) -> Result<i64, ClientError> {
        let key = (subject.to_owned(), schema.to_owned());
        if references.is_empty()
            && let Some(id) = self.ids.read().ok().and_then(|m| m.get(&key).copied())
        {
            return Ok(id);
        }
        let body = serde_json::to_value(RegisterBody {
            schema,
            schema_type: "JSON",
            references,
        })
        .unwrap_or(Value::Null);
        #[derive(Deserialize)]
        struct Id {
            id: i64,
        }
        let Id { id } = self
            .call(
                reqwest::Method::POST,
                &format!("/subjects/{}/versions", seg(subject)),
                Some(body),
            )
            .await?;
        if references.is_empty()
            && let Ok(mut m) = self.ids.write()
        {
            m.insert(key, id);
        }
        Ok(id)
    }

    /// Finds `schema` under `subject` (40401 / 40403 when absent).
    pub async fn lookup(&self, subject: &str, schema: &str) -> Result<SubjectSchema, ClientError> {
        self.call(
            reqwest::Method::POST,
            &format!("/subjects/{}", seg(subject)),
            Some(json!({"schema": schema, "schemaType": "JSON"})),
        )
        .await
    }

    /// A schema by global id (cached: ids are immutable).
    pub async fn schema_by_id(&self, id: i64) -> Result<FetchedSchema, ClientError> {
        if let Some(hit) = self.by_id.read().ok().and_then(|m| m.get(&id).cloned()) {
            return Ok(hit);
        }
        let fetched: FetchedSchema = self
            .call(reqwest::Method::GET, &format!("/schemas/ids/{id}"), None)
            .await?;
        if let Ok(mut m) = self.by_id.write() {
            m.insert(id, fetched.clone());
        }
        Ok(fetched)
    }

    /// The latest version of a subject (never cached: it changes).
    pub async fn latest(&self, subject: &str) -> Result<SubjectSchema, ClientError> {
        self.version(subject, "latest").await
    }

    /// One version of a subject (`"latest"` or a number).
    pub async fn version(
        &self,
        subject: &str,
        version: &str,
    ) -> Result<SubjectSchema, ClientError> {
        self.call(
            reqwest::Method::GET,
            &format!("/subjects/{}/versions/{}", seg(subject), seg(version)),
            None,
        )
        .await
    }

    /// Would registering `schema` under `subject` pass the compatibility check?
    /// `version` None checks as registration would; `verbose` asks for messages.
    pub async fn check_compatibility(
        &self,
        subject: &str,
        schema: &str,
        version: Option<&str>,
        verbose: bool,
    ) -> Result<Compatibility, ClientError> {
        let path = match version {
            Some(v) => format!(
                "/compatibility/subjects/{}/versions/{}?verbose={verbose}",
                seg(subject),
                seg(v)
            ),
            None => format!(
                "/compatibility/subjects/{}/versions?verbose={verbose}",
                seg(subject)
            ),
        };
        self.call(
            reqwest::Method::POST,
            &path,
            Some(json!({"schema": schema, "schemaType": "JSON"})),
        )
        .await
    }

    /// The compatibility level of a subject (falling back to global), or the global one.
    pub async fn compatibility_level(&self, subject: Option<&str>) -> Result<String, ClientError> {
        #[derive(Deserialize)]
        struct Cfg {
            #[serde(rename = "compatibilityLevel")]
            level: String,
        }
        let path = match subject {
            Some(s) => format!("/config/{}?defaultToGlobal=true", seg(s)),
            None => "/config".to_owned(),
        };
        let c: Cfg = self.call(reqwest::Method::GET, &path, None).await?;
        Ok(c.level)
    }

    /// Sets the compatibility level of a subject, or the global one.
    pub async fn set_compatibility_level(
        &self,
        subject: Option<&str>,
        level: &str,
    ) -> Result<String, ClientError> {
        #[derive(Deserialize)]
        struct Echo {
            compatibility: String,
        }
        let path = match subject {
            Some(s) => format!("/config/{}", seg(s)),
            None => "/config".to_owned(),
        };
        let e: Echo = self
            .call(
                reqwest::Method::PUT,
                &path,
                Some(json!({"compatibility": level})),
            )
            .await?;
        Ok(e.compatibility)
    }

    /// Soft- (or, after that, permanently) deletes a subject; returns the versions deleted.
    pub async fn delete_subject(
        &self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<i32>, ClientError> {
        let out = self
            .call(
                reqwest::Method::DELETE,
                &format!("/subjects/{}?permanent={permanent}", seg(subject)),
                None,
            )
            .await?;
        if let Ok(mut m) = self.ids.write() {
            m.retain(|(s, _), _| s != subject);
        }
        if permanent && let Ok(mut m) = self.by_id.write() {
            m.clear();
        }
        Ok(out)
    }

    /// Subjects registered.
    pub async fn subjects(&self) -> Result<Vec<String>, ClientError> {
        self.call(reqwest::Method::GET, "/subjects", None).await
    }
}
