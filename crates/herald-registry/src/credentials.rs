//! The configured API keys and users, and how a caller's secret is checked against them.
//!
//! One entry a line (`#` starts a comment):
//!
//! ```text
//! key:<role>:<name>:<secret>    an API key: `Bearer <secret>`, or basic `<name>:<secret>`
//! user:<role>:<name>:<secret>   a user: basic `<name>:<secret>` only, never as a token
//! <role>:<name>:<secret>        older files: an API key, as `key:` says
//! ```
//!
//! The secret is the rest of the line (colons and commas included; whitespace around it is
//! dropped). An API key is kept as `sha256:<hex>` (high-entropy keys only: a fast digest does
//! not protect a guessable secret), a password as an argon2 PHC string (`$argon2id$...`);
//! either may be written already hashed, and a clear one is hashed at load.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::auth::Role;

/// How long a successful password check is remembered, so that a client sending basic auth
/// on every request pays for argon2 once, not on every request.
const VERIFIED_FOR: Duration = Duration::from_secs(60);
const VERIFIED_CAPACITY: u64 = 10_000;

/// Who a request comes from, once authenticated (in the request's extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The entry's name (the API key's name or the user name).
    pub name: String,
    pub role: Role,
}

struct Key {
    name: String,
    digest: [u8; 32],
    role: Role,
}

struct User {
    phc: String,
    role: Role,
}

/// The configured API keys and users (see the module docs for the format).
pub struct Credentials {
    keys: Vec<Key>,
    users: HashMap<String, User>,
    /// Successful password checks, keyed by a digest of user and password under `cache_key`.
    verified: moka::sync::Cache<[u8; 32], Role>,
    cache_key: [u8; 32],
    /// Checked when the user is unknown, so that the answer takes as long as for a known one.
    dummy_phc: String,
    /// Bounds the argon2 checks running at once (each takes a core and ~19 MiB).
    hashing: Arc<tokio::sync::Semaphore>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print digests, let alone secrets.
        f.debug_struct("Credentials")
            .field("keys", &self.keys.len())
            .field("users", &self.users.len())
            .finish()
    }
}

fn sha256(secret: &[u8]) -> [u8; 32] {
    Sha256::digest(secret).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
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

/// An argon2id PHC string (`$argon2id$v=19$...`) of `password`, with a random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing the password: {e}"))
}

/// The `sha256:<hex>` form of an API key, for the credentials file.
pub fn hash_api_key(key: &str) -> String {
    format!("sha256:{}", hex(&sha256(key.as_bytes())))
}

fn verify_password(phc: &str, password: &[u8]) -> bool {
    PasswordHash::new(phc)
        .map(|h| Argon2::default().verify_password(password, &h).is_ok())
        .unwrap_or(false)
}

/// Entries in an older comma-separated `HERALD_REGISTRY_AUTH` would now read as one secret:
/// say so rather than start with credentials nobody can use.
fn looks_comma_separated(secret: &str) -> bool {
    secret.split(',').skip(1).any(|rest| {
        let head = rest.trim_start().split(':').next().unwrap_or("");
        head == "key" || head == "user" || Role::from_str(head).is_ok()
    })
}

impl Credentials {
    /// Parses entries, one a line (see the module docs). Clear passwords are hashed here,
    /// which takes tens of milliseconds each.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        let mut users: HashMap<String, User> = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let n = n + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (kind, rest) = match line.split_once(':') {
                Some(("key", rest)) => ("key", rest),
                Some(("user", rest)) => ("user", rest),
                _ => ("key", line),
            };
            let mut parts = rest.splitn(3, ':');
            let (Some(role), Some(name), Some(secret)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!(
                    "credential line {n} is not `key:role:name:secret`, `user:role:name:secret` or `role:name:secret`"
                ));
            };
            let role = Role::from_str(role).map_err(|e| format!("credential line {n}: {e}"))?;
            let name = name.trim();
            let secret = secret.trim();
            if name.is_empty() {
                return Err(format!("credential line {n} has an empty name"));
            }
            if secret.is_empty() {
                return Err(format!("credential line {n} has an empty secret"));
            }
            let hashed = secret.starts_with("sha256:") || secret.starts_with("$argon2");
            if !hashed && looks_comma_separated(secret) {
                return Err(format!(
                    "credential line {n} looks like several comma-separated entries: entries are one a line (HERALD_REGISTRY_AUTH too)"
                ));
            }
            if kind == "key" {
                if secret.starts_with("$argon2") {
                    return Err(format!(
                        "credential line {n}: an API key is kept as sha256:<hex> (argon2 is for `user:` passwords)"
                    ));
                }
                let digest = match secret.strip_prefix("sha256:") {
                    Some(h) => parse_hex(h)
                        .ok_or_else(|| format!("credential line {n}: bad sha256 digest"))?,
                    None => sha256(secret.as_bytes()),
                };
                keys.push(Key {
                    name: name.to_owned(),
                    digest,
                    role,
                });
            } else {
                if secret.starts_with("sha256:") {
                    return Err(format!(
                        "credential line {n}: a password is kept as argon2 ($argon2id$...), not sha256 (make one with `herald-registry hash-password`)"
                    ));
                }
                let phc = if secret.starts_with("$argon2") {
                    PasswordHash::new(secret)
                        .map_err(|e| format!("credential line {n}: bad argon2 hash: {e}"))?;
                    secret.to_owned()
                } else {
                    hash_password(secret).map_err(|e| format!("credential line {n}: {e}"))?
                };
                if users.insert(name.to_owned(), User { phc, role }).is_some() {
                    return Err(format!("credential line {n}: user `{name}` is given twice"));
                }
            }
        }
        if keys.is_empty() && users.is_empty() {
            return Err("no credentials given".to_owned());
        }
        let mut cache_key = [0u8; 32];
        OsRng.fill_bytes(&mut cache_key);
        let mut dummy = [0u8; 16];
        OsRng.fill_bytes(&mut dummy);
        let dummy_phc = hash_password(&hex(&dummy))?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            keys,
            users,
            verified: moka::sync::Cache::builder()
                .max_capacity(VERIFIED_CAPACITY)
                .time_to_live(VERIFIED_FOR)
                .build(),
            cache_key,
            dummy_phc,
            hashing: Arc::new(tokio::sync::Semaphore::new(cores)),
        })
    }

    /// The caller an `Authorization` header names, if an entry matches: a Bearer token
    /// matches API keys only; basic auth matches an API key of that name, or that user's
    /// password (checked off the async runtime).
    pub async fn authenticate(&self, authorization: &str) -> Option<Principal> {
        // The scheme is case-insensitive (RFC 9110).
        let (scheme, value) = authorization.trim().split_once(' ')?;
        if scheme.eq_ignore_ascii_case("bearer") {
            let d = sha256(value.trim().as_bytes());
            return self.best_key(|k| same(&k.digest, &d));
        }
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let b64 = value;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (name, secret) = decoded.split_once(':')?;
        let d = sha256(secret.as_bytes());
        if let Some(p) = self.best_key(|k| k.name == name && same(&k.digest, &d)) {
            return Some(p);
        }
        self.check_password(name, secret)
            .await
            .map(|role| Principal {
                name: name.to_owned(),
                role,
            })
    }

    fn best_key(&self, matches: impl Fn(&Key) -> bool) -> Option<Principal> {
        self.keys
            .iter()
            .filter(|k| matches(k))
            .max_by_key(|k| k.role)
            .map(|k| Principal {
                name: k.name.clone(),
                role: k.role,
            })
    }

    async fn check_password(&self, name: &str, password: &str) -> Option<Role> {
        let mut h = Sha256::new();
        h.update(self.cache_key);
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update(password.as_bytes());
        let cache_key: [u8; 32] = h.finalize().into();
        if let Some(role) = self.verified.get(&cache_key) {
            return Some(role);
        }
        let (phc, role) = match self.users.get(name) {
            Some(u) => (u.phc.clone(), Some(u.role)),
            None => (self.dummy_phc.clone(), None),
        };
        let _permit = self.hashing.acquire().await.ok()?;
        let password = password.as_bytes().to_vec();
        let ok = tokio::task::spawn_blocking(move || verify_password(&phc, &password))
            .await
            .unwrap_or(false);
        let role = role.filter(|_| ok)?;
        self.verified.insert(cache_key, role);
        Some(role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, pw: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
        )
    }

    fn role(p: Option<Principal>) -> Option<Role> {
        p.map(|p| p.role)
    }

    #[tokio::test]
    async fn tokens_match_keys_and_passwords_match_their_user() {
        let c = Credentials::parse(&format!(
            "key:read:ci:k1\nuser:admin:boss:s3cret\nwrite:legacy:{}",
            hash_api_key("k2")
        ))
        .expect("parse");
        assert_eq!(role(c.authenticate("Bearer k1").await), Some(Role::Read));
        assert_eq!(role(c.authenticate("Bearer k2").await), Some(Role::Write));
        assert_eq!(
            role(c.authenticate(&basic("legacy", "k2")).await),
            Some(Role::Write)
        );
        assert_eq!(
            role(c.authenticate(&basic("boss", "s3cret")).await),
            Some(Role::Admin)
        );
        // A password is no token, and a key is checked with its own name only.
        assert_eq!(c.authenticate("Bearer s3cret").await, None);
        assert_eq!(c.authenticate(&basic("ci", "s3cret")).await, None);
        assert_eq!(c.authenticate(&basic("boss", "k1")).await, None);
        assert_eq!(c.authenticate(&basic("nobody", "s3cret")).await, None);
        assert!(!format!("{c:?}").contains("k1"));
    }

    #[tokio::test]
    async fn secrets_may_hold_commas_colons_and_come_hashed() {
        let phc = hash_password("pa:ss,word").expect("hash");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        let c = Credentials::parse(&format!(
            "user:write:u1:{phc}\nuser:read:u2:a,b:c\nkey:admin:k:x:y,z"
        ))
        .expect("parse");
        assert_eq!(
            role(c.authenticate(&basic("u1", "pa:ss,word")).await),
            Some(Role::Write)
        );
        assert_eq!(
            role(c.authenticate(&basic("u2", "a,b:c")).await),
            Some(Role::Read)
        );
        assert_eq!(
            role(c.authenticate("Bearer x:y,z").await),
            Some(Role::Admin)
        );
        // Remembered: the same answer again, from the cache.
        assert_eq!(
            role(c.authenticate(&basic("u2", "a,b:c")).await),
            Some(Role::Read)
        );
        assert_eq!(c.authenticate(&basic("u2", "a,b:d")).await, None);
    }

    #[test]
    fn bad_files_are_refused_clearly() {
        let err = |t: &str| Credentials::parse(t).expect_err(t);
        assert!(err("read:a:k1,write:b:k2").contains("one a line"));
        assert!(err("user:read:u:sha256:00").contains("argon2"));
        assert!(err("key:read:k:$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA").contains("sha256"));
        assert!(err("user:read:u:a\nuser:write:u:b").contains("twice"));
        assert!(err("boss:u:a").contains("unknown role"));
        assert!(err("key:read:k:").contains("empty secret"));
        assert!(err("# only a comment").contains("no credentials"));
        // Messages name the line, never the secret.
        assert!(!err("user:read:u:sha256:topsecret").contains("topsecret"));
    }
}
