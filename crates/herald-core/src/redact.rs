//! Showing a connection URL (broker, database, registry) in messages and logs without its
//! secrets. The one implementation every crate uses: it parses with the `url` crate, so an
//! `@` in a path, query or fragment never moves the cut, as string slicing at an `@` did.

use url::Url;

/// What [`redact_url`] returns for text it cannot parse as a URL: such text may hold a
/// secret anywhere, so none of it is shown.
pub const UNPARSEABLE_URL: &str = "<URL not shown: it does not parse>";

/// Query parameters whose values are secrets (`postgres://h/db?password=...`, tokens).
const SECRET_PARAMS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "sslpassword",
    "secret",
    "token",
    "access_token",
    "api_key",
    "apikey",
    "key",
];

/// `url` as it can be shown: the password of its userinfo, and the values of query parameters
/// named like secrets (`password`, `token`, ...), replaced by `***`; the user name, host, port
/// and path kept. A URL without secrets comes back exactly as given; text that does not parse
/// as a URL comes back as [`UNPARSEABLE_URL`], never as itself.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = Url::parse(url) else {
        return UNPARSEABLE_URL.to_owned();
    };
    // `user:secret@host` parses as scheme `user` and an opaque path: no authority, so an `@`
    // in it means credentials the parser did not recognise.
    if parsed.cannot_be_a_base() && url.contains('@') {
        return UNPARSEABLE_URL.to_owned();
    }
    let mut changed = false;
    if parsed.password().is_some() {
        // Only fails for URLs that cannot have credentials, which then have no password.
        if parsed.set_password(Some("***")).is_err() {
            return UNPARSEABLE_URL.to_owned();
        }
        changed = true;
    }
    let secret_query = parsed
        .query_pairs()
        .any(|(k, _)| SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()));
    if secret_query {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let hide = SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str());
                (
                    k.into_owned(),
                    if hide { "***".into() } else { v.into_owned() },
                )
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
        changed = true;
    }
    if changed {
        parsed.into()
    } else {
        url.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_goes_and_the_rest_stays() {
        assert_eq!(
            redact_url("amqp://guest:secret@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(
            redact_url("postgres://app:pw@db.internal:5432/registry"),
            "postgres://app:***@db.internal:5432/registry"
        );
    }

    #[test]
    fn an_at_sign_in_the_query_does_not_move_the_cut() {
        let shown = redact_url("https://ci:s3cret@h:8081/x?next=a@b&to=u@v");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert_eq!(shown, "https://ci:***@h:8081/x?next=a@b&to=u@v");
        let shown = redact_url("http://u:p4ss@h/?q=me@example.com#frag@x");
        assert!(!shown.contains("p4ss"), "{shown}");
        assert!(shown.contains("q=me@example.com"), "{shown}");
    }

    #[test]
    fn percent_escaped_userinfo_is_hidden_whole() {
        // `p@ss:w0rd` escaped; the user keeps its escapes.
        let shown = redact_url("https://c%69:p%40ss%3Aw0rd@h/");
        assert_eq!(shown, "https://c%69:***@h/");
        assert!(
            !shown.contains("ss%3Aw0rd") && !shown.contains("w0rd"),
            "{shown}"
        );
        // An unescaped `@` inside the password: the last `@` of the authority ends it.
        let shown = redact_url("postgres://u:pa@ss@h/db?x=@");
        assert_eq!(shown, "postgres://u:***@h/db?x=@");
    }

    #[test]
    fn no_password_means_nothing_to_hide() {
        assert_eq!(redact_url("http://127.0.0.1:8081"), "http://127.0.0.1:8081");
        assert_eq!(redact_url("amqp://guest@h/%2f"), "amqp://guest@h/%2f");
        assert_eq!(
            redact_url("sqlite://./registry.db"),
            "sqlite://./registry.db"
        );
        assert_eq!(redact_url("sqlite:registry.db"), "sqlite:registry.db");
    }

    #[test]
    fn secret_query_parameters_are_hidden() {
        let shown = redact_url("postgres://h/db?user=app&password=hunter2&sslmode=require");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(
            shown,
            "postgres://h/db?user=app&password=***&sslmode=require"
        );
        // An `@` after the secret: string slicing at the last `@` showed it all.
        let shown = redact_url("postgres://h/db?password=hunter2&application_name=a@b");
        assert!(!shown.contains("hunter2"), "{shown}");
        let shown = redact_url("https://h/?Token=abc123");
        assert!(!shown.contains("abc123"), "{shown}");
    }

    #[test]
    fn text_that_is_not_a_url_is_never_echoed() {
        for text in [
            "user:secret@host",
            "//u:secret@h/",
            "not a url with secret",
            "",
            "http://u:secret@[::1",
        ] {
            let shown = redact_url(text);
            assert_eq!(shown, UNPARSEABLE_URL, "{text}");
            assert!(!shown.contains("secret"));
        }
    }
}
