//! A permanent delete needs the admin role however the client spells `permanent`: the role is
//! decided from the value the handler acts on, not from the raw query text.

mod common;

use std::sync::Arc;

use base64::Engine;
use common::{Backend, TestServer, assert_error, start_with};
use herald_registry::Settings;
use herald_registry::auth::Credentials;
use reqwest::Method;
use serde_json::json;

/// What the handler makes of a spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Means {
    /// `permanent` is true.
    Permanent,
    /// `permanent` is absent or false: a soft delete.
    Soft,
    /// Not a boolean, or given twice: 400.
    Malformed,
}

/// Every spelling a client (or an attacker) can send.
const SPELLINGS: &[(&str, Means)] = &[
    ("permanent=true", Means::Permanent),
    ("permanent=%74rue", Means::Permanent),
    ("perm%61nent=true", Means::Permanent),
    ("%70%65%72%6d%61%6e%65%6e%74=%74%72%75%65", Means::Permanent),
    ("permanent=TRUE", Means::Permanent),
    ("permanent=True", Means::Permanent),
    ("permanent=tRuE", Means::Permanent),
    ("other=1&permanent=true", Means::Permanent),
    ("permanent=1", Means::Malformed),
    ("permanent=yes", Means::Malformed),
    ("permanent=true&permanent=true", Means::Malformed),
    ("permanent=true&permanent=false", Means::Malformed),
    ("permanent=false&permanent=true", Means::Malformed),
    ("permanent=+true", Means::Malformed),
    ("permanent=true+", Means::Malformed),
    ("permanent=%20true%20", Means::Malformed),
    ("permanent=true%00", Means::Malformed),
    ("permanent=true;", Means::Malformed),
    ("permanent=false", Means::Soft),
    ("permanent=", Means::Soft),
    // Parameter names are case-sensitive, as in Confluent: this is not `permanent`.
    ("Permanent=true", Means::Soft),
];

#[derive(Debug, Clone, Copy)]
enum Target {
    Subject,
    Version,
}

fn basic(user: &str, pw: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
    )
}

const ADMIN: &str = "Bearer admin-key-0123456789";

/// Registers `subject` and soft-deletes it (or its version 1), so that a permanent delete
/// would succeed.
async fn soft_deleted(s: &TestServer, subject: &str, target: Target) {
    let body = json!({"schemaType": "JSON", "schema": "{\"type\":\"object\"}"}).to_string();
    let r = s
        .call_with(
            Method::POST,
            &format!("/subjects/{subject}/versions"),
            Some(&body),
            Some(ADMIN),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let path = match target {
        Target::Subject => format!("/subjects/{subject}"),
        Target::Version => format!("/subjects/{subject}/versions/1"),
    };
    let r = s.call_with(Method::DELETE, &path, None, Some(ADMIN)).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Whether version 1 of `subject` is still stored (soft-deleted counts).
async fn still_there(s: &TestServer, subject: &str) -> bool {
    let r = s
        .call_with(
            Method::GET,
            &format!("/subjects/{subject}/versions?deleted=true"),
            None,
            Some(ADMIN),
        )
        .await;
    r.status == 200 && r.body == json!([1])
}

async fn every_spelling_every_role(creds: &str, callers: &[(&str, &str, String)]) {
    let settings = Settings {
        auth: Some(Arc::new(Credentials::parse(creds).expect("creds"))),
        ..Settings::default()
    };
    let (_db, s) = start_with(Backend::Sqlite, settings).await;
    let mut n = 0;
    for target in [Target::Subject, Target::Version] {
        for &(spelling, means) in SPELLINGS {
            for (role, style, auth) in callers {
                n += 1;
                let subject = format!("s{n}");
                soft_deleted(&s, &subject, target).await;
                let path = match target {
                    Target::Subject => format!("/subjects/{subject}?{spelling}"),
                    Target::Version => format!("/subjects/{subject}/versions/1?{spelling}"),
                };
                let r = s
                    .call_with(Method::DELETE, &path, None, Some(auth.as_str()))
                    .await;
                let what = format!(
                    "{role} via {style}: DELETE {path} -> {} {}",
                    r.status, r.text
                );
                match (*role, means) {
                    // DELETE needs write at all.
                    ("read", _) => assert_error(&r, 403, 403),
                    ("write", Means::Permanent) => assert_error(&r, 403, 403),
                    ("admin", Means::Permanent) => assert_eq!(r.status, 200, "{what}"),
                    (_, Means::Malformed) => assert_error(&r, 400, 400),
                    // Soft-deleting again: 40404 / 40406, as Confluent answers.
                    (_, Means::Soft) => {
                        assert_eq!(r.status, 404, "{what}");
                        let code = r.body["error_code"].as_u64();
                        assert!(code == Some(40404) || code == Some(40406), "{what}");
                    }
                    other => panic!("unexpected case {other:?}"),
                }
                let kept = still_there(&s, &subject).await;
                let gone_by_admin = *role == "admin" && means == Means::Permanent;
                assert_eq!(kept, !gone_by_admin, "data after {what}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admin_deletes_permanently_with_keys() {
    let creds = "read:reader:read-key-0123456789\n\
                 write:writer:write-key-0123456789\n\
                 admin:root:admin-key-0123456789";
    let callers = [
        ("read", "bearer", "Bearer read-key-0123456789".to_owned()),
        ("write", "bearer", "Bearer write-key-0123456789".to_owned()),
        ("admin", "bearer", ADMIN.to_owned()),
        ("read", "basic", basic("reader", "read-key-0123456789")),
        ("write", "basic", basic("writer", "write-key-0123456789")),
        ("admin", "basic", basic("root", "admin-key-0123456789")),
    ];
    every_spelling_every_role(creds, &callers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admin_deletes_permanently_with_passwords() {
    let creds = "key:admin:root:admin-key-0123456789\n\
                 user:read:ann:ann's password\n\
                 user:write:wes:wes's, password\n\
                 user:admin:ada:ada:s password";
    let callers = [
        ("read", "basic", basic("ann", "ann's password")),
        ("write", "basic", basic("wes", "wes's, password")),
        ("admin", "basic", basic("ada", "ada:s password")),
    ];
    every_spelling_every_role(creds, &callers).await;
}
