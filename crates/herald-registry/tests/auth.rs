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
