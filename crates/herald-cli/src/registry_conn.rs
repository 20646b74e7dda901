//! Registry credentials (flags or environment; never printed) and the client built from them;
//! `redact_url`, which every command uses to show a URL without its credentials.

use anyhow::bail;
use clap::Args;
use herald_registry::client::{Auth, ClientError, RegistryClient};

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

/// `url` with any `user:password@` replaced by `***@`, for messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// Splits `user:password@` out of a URL (so it is sent as basic auth, never shown).
fn split_userinfo(url: &str) -> (String, Option<(String, String)>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return (url.to_owned(), None);
    };
    let userinfo = &rest[..at];
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    (
        format!("{scheme}://{}", &rest[at + 1..]),
        Some((user.to_owned(), password.to_owned())),
    )
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
    fn urls_lose_their_userinfo() {
        assert_eq!(redact_url("http://a:b@h:1/x@y"), "http://***@h:1/x@y");
        assert_eq!(redact_url("http://h:1"), "http://h:1");
        assert_eq!(
            split_userinfo("https://ci:p%40ss@h/"),
            (
                "https://h/".to_owned(),
                Some(("ci".to_owned(), "p%40ss".to_owned()))
            )
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
