//! Authentication (API keys as `Bearer`, or HTTP basic) and roles: read < write < admin.
//!
//! Secrets are kept only as SHA-256 digests and never logged.

use std::fmt;
use std::str::FromStr;

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::Error;

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads, lookups and compatibility checks.
    Read,
    /// Registration and soft deletes.
    Write,
    /// Config and mode changes, permanent deletes, context deletes.
    Admin,
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "read" => Ok(Role::Read),
            "write" => Ok(Role::Write),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role `{other}` (expected read, write or admin)"
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Admin => "admin",
        })
    }
}

struct Entry {
    user: String,
    digest: [u8; 32],
    role: Role,
}

/// The configured users and API keys.
///
/// Each entry is `role:user:secret`, where the secret may be given as `sha256:<hex>` so that
/// the file holds no clear secret. A Bearer token matches any entry's secret; basic auth
/// matches user and secret.
pub struct Credentials {
    entries: Vec<Entry>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print digests, let alone secrets.
        f.debug_struct("Credentials")
            .field("entries", &self.entries.len())
            .finish()
    }
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn parse_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in hex.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(chunk).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    // Constant time: the comparison does not stop at the first differing byte.
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

impl Credentials {
    /// Parses entries separated by newlines or commas; `#` starts a comment line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut entries = Vec::new();
        for (n, line) in text.split(['\n', ',']).enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.splitn(3, ':');
            let (Some(role), Some(user), Some(secret)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!(
                    "credential entry {} is not `role:user:secret`",
                    n + 1
                ));
            };
            let role = Role::from_str(role)?;
            let digest = match secret.strip_prefix("sha256:") {
                Some(hex) => parse_hex(hex)
                    .ok_or_else(|| format!("credential entry {}: bad sha256 digest", n + 1))?,
                None => digest(secret),
            };
            if secret.is_empty() {
                return Err(format!("credential entry {} has an empty secret", n + 1));
            }
            entries.push(Entry {
                user: user.to_owned(),
                digest,
                role,
            });
        }
        if entries.is_empty() {
            return Err("no credentials given".to_owned());
        }
        Ok(Self { entries })
    }

    /// The role of the caller an `Authorization` header names, if any entry matches.
    pub fn authenticate(&self, authorization: &str) -> Option<Role> {
        if let Some(token) = authorization.strip_prefix("Bearer ") {
            let d = digest(token.trim());
            return self
                .entries
                .iter()
                .filter(|e| same(&e.digest, &d))
                .map(|e| e.role)
                .max();
        }
        if let Some(b64) = authorization.strip_prefix("Basic ") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()?;
            let decoded = String::from_utf8(decoded).ok()?;
            let (user, secret) = decoded.split_once(':')?;
            let d = digest(secret);
            return self
                .entries
                .iter()
                .filter(|e| e.user == user && same(&e.digest, &d))
                .map(|e| e.role)
                .max();
        }
        None
    }
}

/// The role an operation needs.
pub fn required_role(method: &Method, path: &str, query: &str) -> Role {
    let admin_path = path.starts_with("/config") || path.starts_with("/mode");
    let permanent = query
        .split('&')
        .any(|kv| kv.eq_ignore_ascii_case("permanent=true"));
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => Role::Read,
        Method::PUT if admin_path => Role::Admin,
        Method::DELETE if admin_path || permanent || path.starts_with("/contexts") => Role::Admin,
        Method::DELETE => Role::Write,
        Method::POST if path.starts_with("/compatibility") || path == "/" => Role::Read,
        // `POST /subjects/{s}` is a lookup; `POST /subjects/{s}/versions` registers.
        Method::POST if path.starts_with("/subjects/") && !path.ends_with("/versions") => {
            Role::Read
        }
        _ => Role::Write,
    }
}

/// Middleware: 401 without valid credentials, 403 without the role the operation needs.
pub async fn require_role(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(creds) = state.settings.auth.as_ref() else {
        return next.run(req).await;
    };
    let role = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| creds.authenticate(v));
    let Some(role) = role else {
        return Error::Unauthorized.into_response();
    };
    let needed = required_role(
        req.method(),
        req.uri().path(),
        req.uri().query().unwrap_or(""),
    );
    if role < needed {
        return Error::Forbidden(format!(
            "Forbidden: this operation needs the {needed} role, the caller has {role}"
        ))
        .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_by_operation() {
        assert_eq!(required_role(&Method::GET, "/subjects", ""), Role::Read);
        assert_eq!(
            required_role(&Method::POST, "/subjects/a/versions", ""),
            Role::Write
        );
        assert_eq!(required_role(&Method::POST, "/subjects/a", ""), Role::Read);
        assert_eq!(required_role(&Method::PUT, "/config", ""), Role::Admin);
        assert_eq!(
            required_role(&Method::DELETE, "/subjects/a", "permanent=true"),
            Role::Admin
        );
        assert_eq!(
            required_role(&Method::DELETE, "/subjects/a", ""),
            Role::Write
        );
    }

    #[test]
    fn bearer_and_basic_and_hashed_secrets() {
        let hashed: String = digest("s3cret")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let c =
            Credentials::parse(&format!("read:ro:k1\nadmin:boss:sha256:{hashed}")).expect("parse");
        assert_eq!(c.authenticate("Bearer k1"), Some(Role::Read));
        assert_eq!(c.authenticate("Bearer nope"), None);
        let basic = base64::engine::general_purpose::STANDARD.encode("boss:s3cret");
        assert_eq!(c.authenticate(&format!("Basic {basic}")), Some(Role::Admin));
        let wrong = base64::engine::general_purpose::STANDARD.encode("ro:s3cret");
        assert_eq!(c.authenticate(&format!("Basic {wrong}")), None);
        assert!(!format!("{c:?}").contains("k1"));
    }
}
