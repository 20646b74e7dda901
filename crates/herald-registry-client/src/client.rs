//! The registry client: one method per REST call, and the two caches.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::wire::RegisterBody;
use crate::{Auth, ClientError, Compatibility, FetchedSchema, Reference, SubjectSchema};

/// The registry client. Cheap to clone; clones share caches and connections.
#[derive(Debug, Clone)]
pub struct RegistryClient {
    base: String,
    http: reqwest::Client,
    auth: Option<Auth>,
    by_id: Arc<RwLock<HashMap<i64, FetchedSchema>>>,
    ids: Arc<RwLock<HashMap<(String, String), i64>>>,
}

/// What a path segment keeps as it is: RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a path segment (subjects may hold any character, `/` and `?` included).
fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
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

#[cfg(test)]
mod tests {
    use super::{RegistryClient, seg};
    use crate::ClientError;

    #[test]
    fn segments_keep_only_unreserved_characters() {
        assert_eq!(seg("order.placed-v_1~x"), "order.placed-v_1~x");
        assert_eq!(seg("a/b?c d%"), "a%2Fb%3Fc%20d%25");
        assert_eq!(seg("é"), "%C3%A9");
    }

    #[test]
    fn only_http_urls_are_taken() {
        let err = RegistryClient::new("127.0.0.1:8081").expect_err("no scheme");
        assert!(matches!(err, ClientError::Url(ref u) if u == "127.0.0.1:8081"));
        assert!(RegistryClient::new("https://registry.example/").is_ok());
    }
}
