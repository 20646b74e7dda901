//! Authentication and roles, with Confluent-shaped 401/403 bodies.

mod common;

use std::sync::Arc;

use base64::Engine;
use common::{Backend, assert_error, start_with};
use herald_registry::Settings;
use herald_registry::auth::Credentials;
use reqwest::Method;
use serde_json::json;

fn basic(user: &str, pw: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
    )
}

#[tokio::test]
async fn roles_are_enforced() {
    let creds = Credentials::parse("read:reader:r-key\nwrite:writer:w-key\nadmin:root:a-key")
        .expect("creds");
    let settings = Settings {
        auth: Some(Arc::new(creds)),
        ..Settings::default()
    };
    let (_db, s) = start_with(Backend::Sqlite, settings).await;
    let body = json!({"schemaType": "JSON", "schema": "{\"type\":\"object\"}"}).to_string();

    // No or bad credentials: 401.
    let r = s.call(Method::GET, "/subjects", None).await;
    assert_error(&r, 401, 401);
    let r = s
        .call_with(Method::GET, "/subjects", None, Some("Bearer wrong"))
        .await;
    assert_error(&r, 401, 401);
    let r = s
        .call_with(
            Method::GET,
            "/subjects",
            None,
            Some(&basic("reader", "w-key")),
        )
        .await;
    assert_error(&r, 401, 401);

    // read: reads, lookups and checks, but no registration.
    let rd = Some("Bearer r-key");
    assert_eq!(
        s.call_with(Method::GET, "/subjects", None, rd).await.status,
        200
    );
    let r = s
        .call_with(Method::POST, "/subjects/a/versions", Some(&body), rd)
        .await;
    assert_error(&r, 403, 403);
    assert_eq!(
        s.call_with(
            Method::POST,
            "/compatibility/subjects/a/versions",
            Some(&body),
            rd
        )
        .await
        .status,
        200
    );

    // write (basic auth): registers and soft-deletes, but no config or permanent delete.
    let wr = basic("writer", "w-key");
    let wr = Some(wr.as_str());
    assert_eq!(
        s.call_with(Method::POST, "/subjects/a/versions", Some(&body), wr)
            .await
            .status,
        200
    );
    assert_eq!(
        s.call_with(Method::POST, "/subjects/a", Some(&body), rd)
            .await
            .status,
        200
    );
    let cfg = json!({"compatibility": "NONE"}).to_string();
    assert_error(
        &s.call_with(Method::PUT, "/config", Some(&cfg), wr).await,
        403,
        403,
    );
    assert_error(
        &s.call_with(Method::PUT, "/mode", Some("{\"mode\":\"READONLY\"}"), wr)
            .await,
        403,
        403,
    );
    assert_eq!(
        s.call_with(Method::DELETE, "/subjects/a", None, wr)
            .await
            .status,
        200
    );
    assert_error(
        &s.call_with(Method::DELETE, "/subjects/a?permanent=true", None, wr)
            .await,
        403,
        403,
    );

    // admin: everything.
    let ad = Some("Bearer a-key");
    assert_eq!(
        s.call_with(Method::PUT, "/config", Some(&cfg), ad)
            .await
            .status,
        200
    );
    assert_eq!(
        s.call_with(Method::DELETE, "/subjects/a?permanent=true", None, ad)
            .await
            .status,
        200
    );

    // Health stays open for probes.
    assert_eq!(s.call(Method::GET, "/health", None).await.status, 200);
}

#[tokio::test]
async fn a_password_is_not_a_token() {
    let creds = Credentials::parse(
        "user:admin:boss:boss password, with: punctuation\nkey:read:ci:ci-key-0123456789",
    )
    .expect("creds");
    let settings = Settings {
        auth: Some(Arc::new(creds)),
        ..Settings::default()
    };
    let (_db, s) = start_with(Backend::Sqlite, settings).await;
    let call = |auth: String| {
        let s = &s;
        async move {
            s.call_with(Method::GET, "/subjects", None, Some(&auth))
                .await
        }
    };
    // The password works with its user name only.
    assert_eq!(
        call(basic("boss", "boss password, with: punctuation"))
            .await
            .status,
        200
    );
    assert_error(
        &call("Bearer boss password, with: punctuation".to_owned()).await,
        401,
        401,
    );
    assert_error(
        &call(basic("ci", "boss password, with: punctuation")).await,
        401,
        401,
    );
    // An API key works as a token, or with its own name in basic auth.
    assert_eq!(
        call("Bearer ci-key-0123456789".to_owned()).await.status,
        200
    );
    assert_eq!(call(basic("ci", "ci-key-0123456789")).await.status, 200);
    assert_error(&call(basic("boss", "ci-key-0123456789")).await, 401, 401);
}

async fn metrics_and_openapi(public: bool) {
    let settings = Settings {
        auth: Some(Arc::new(
            Credentials::parse("key:read:k:read-key-0123456789").expect("creds"),
        )),
        public_metrics: public,
        public_openapi: public,
        ..Settings::default()
    };
    // The test server serves `router()` itself, so it installs the recorder as an embedder does.
    herald_registry::install_metrics();
    let (_db, s) = start_with(Backend::Sqlite, settings).await;
    for path in ["/metrics", "/openapi.json"] {
        let anonymous = s.call(Method::GET, path, None).await;
        if public {
            assert_eq!(anonymous.status, 200, "{path}: {}", anonymous.text);
        } else {
            assert_error(&anonymous, 401, 401);
        }
        let r = s
            .call_with(Method::GET, path, None, Some("Bearer read-key-0123456789"))
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
    // Health stays open for probes either way.
    assert_eq!(s.call(Method::GET, "/health", None).await.status, 200);
}

#[tokio::test]
async fn metrics_and_openapi_need_credentials_by_default() {
    metrics_and_openapi(false).await;
}

#[tokio::test]
async fn metrics_and_openapi_public_when_told() {
    metrics_and_openapi(true).await;
}
