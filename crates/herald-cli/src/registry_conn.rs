//! Registry credentials (flags or environment; never printed) and the client built from them;
//! `redact_url` (herald-core's), which every command uses to show a URL without its secrets.

use anyhow::bail;
use clap::Args;
use herald_registry_client::{Auth, ClientError, RegistryClient};

/// Credentials for the registry: a Bearer token, or a user and password (basic auth).
#[derive(Clone, Default, Args)]
pub struct CredentialArgs {
    /// API key sent as `Authorization: Bearer` [env: HERALD_REGISTRY_TOKEN].
    #[arg(long, env = "HERALD_REGISTRY_TOKEN", hide_env = true, hide_env_values = true,
          conflicts_with_all = ["user", "password"])]
    pub token: Option<String>,
    /// User for basic auth [env: HERALD_REGISTRY_USER].
    #[arg(
        long,
        env = "HERALD_REGISTRY_USER",
        hide_env = true,
        requires = "password"
    )]
    pub user: Option<String>,
    /// Password for basic auth [env: HERALD_REGISTRY_PASSWORD].
    #[arg(
        long,
        env = "HERALD_REGISTRY_PASSWORD",
        hide_env = true,
        hide_env_values = true,
        requires = "user"
    )]
    pub password: Option<String>,
}

// By hand: the derived form would print the secrets.
impl std::fmt::Debug for CredentialArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialArgs")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

pub use herald_core::redact_url;

/// Splits `user:password@` out of a URL (so it is sent as basic auth, never shown), each
/// percent-decoded: `ci:p%40ss@` is user `ci`, password `p@ss`.
fn split_userinfo(url: &str) -> (String, Option<(String, String)>) {
    let Ok(mut parsed) = url::Url::parse(url) else {
        // Not a URL: the client refuses it, with the URL redacted.
        return (url.to_owned(), None);
    };
    if parsed.username().is_empty() && parsed.password().is_none() {
        return (url.to_owned(), None);
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let user = decode(parsed.username());
    let password = parsed.password().map(decode).unwrap_or_default();
    // Cannot fail: the URL has credentials, so it has a host.
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    (parsed.into(), Some((user, password)))
}

/// A client for `url` with the credentials given (flags, environment, or in the URL).
pub fn connect(url: &str, creds: &CredentialArgs) -> anyhow::Result<RegistryClient> {
    let (url, in_url) = split_userinfo(url);
    let client = RegistryClient::new(&url)
        .map_err(|_| anyhow::anyhow!("invalid registry URL `{}`", redact_url(&url)))?;
    let auth = match (&creds.token, &creds.user, &creds.password, in_url) {
        (Some(t), None, None, _) if !t.is_empty() => Some(Auth::Bearer(t.clone())),
        (None, Some(user), Some(password), _) => Some(Auth::Basic {
            user: user.clone(),
            password: password.clone(),
        }),
        (None, None, None, Some((user, password))) => Some(Auth::Basic { user, password }),
        (Some(_), _, _, _) | (None, None, None, None) => None,
        _ => bail!("give either --token or both --user and --password"),
    };
    Ok(match auth {
        Some(a) => client.with_auth(a),
        None => client,
    })
}

/// A registry failure in words, with what to do about it; never contains credentials.
pub fn explain(error: &ClientError, base: &str) -> String {
    let base = redact_url(&split_userinfo(base).0);
    match error {
        ClientError::Api { status: 401, .. } => format!(
            "the registry at {base} refused the credentials (HTTP 401): set --token / HERALD_REGISTRY_TOKEN or --user and --password / HERALD_REGISTRY_USER and HERALD_REGISTRY_PASSWORD"
        ),
        ClientError::Api {
            status: 403,
            message,
            ..
        } => format!("the registry at {base} refused the operation (HTTP 403): {message}"),
        ClientError::Api {
            status,
            error_code,
            message,
        } => {
            format!("the registry at {base} answered HTTP {status} (error {error_code}): {message}")
        }
        ClientError::Http(e) => {
            // reqwest names the URL, which holds no credentials (they were split out).
            let mut text = format!("cannot reach the registry at {base}: {e}");
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        }
        ClientError::Url(_) => format!("invalid registry URL `{base}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_userinfo_percent_decoded() {
        assert_eq!(
            split_userinfo("https://ci:p%40ss@h/"),
            (
                "https://h/".to_owned(),
                Some(("ci".to_owned(), "p@ss".to_owned()))
            )
        );
        assert_eq!(
            split_userinfo("http://b%C3%B6b:a%3Ab%25c@h:8081/x?next=u@v"),
            (
                "http://h:8081/x?next=u@v".to_owned(),
                Some(("böb".to_owned(), "a:b%c".to_owned()))
            )
        );
        assert_eq!(
            split_userinfo("http://h:1"),
            ("http://h:1".to_owned(), None)
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let c = CredentialArgs {
            token: Some("tok-123".into()),
            user: Some("ci".into()),
            password: Some("pw-456".into()),
        };
        let d = format!("{c:?}");
        assert!(!d.contains("tok-123") && !d.contains("pw-456"), "{d}");
    }
}
