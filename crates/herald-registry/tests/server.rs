//! The library entry point: start-up rules, TLS, and the failed-login limit by client address.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use common::{Backend, TestDb};
use herald_registry::auth::Credentials;
use herald_registry::login_limit::LoginLimitSettings;
use herald_registry::{AppState, ServeError, ServeOptions, Server, Settings, TlsFiles};

fn basic(user: &str, pw: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
    )
}

fn with_auth(text: &str) -> Settings {
    Settings {
        auth: Some(Arc::new(Credentials::parse(text).expect("creds"))),
        ..Settings::default()
    }
}

fn any_port() -> SocketAddr {
    "0.0.0.0:0".parse().expect("addr")
}

/// A running server; stops when dropped.
struct Running {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn bind(
    db: &TestDb,
    settings: Settings,
    options: ServeOptions,
) -> Result<Running, ServeError> {
    let server = Server::bind(AppState::new(db.open().await, settings), options).await?;
    let addr = server.local_addr();
    let task = tokio::spawn(server.run(std::future::pending()));
    Ok(Running { addr, task })
}

/// A request to the server's port on 127.0.0.1 (whatever address it is bound to).
async fn get(
    client: &reqwest::Client,
    scheme: &str,
    host: &str,
    port: u16,
    path: &str,
    auth: Option<&str>,
) -> reqwest::Result<reqwest::Response> {
    let mut req = client.get(format!("{scheme}://{host}:{port}{path}"));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    req.send().await
}

#[tokio::test]
async fn startup_rules_off_loopback() {
    let db = TestDb::new(Backend::Sqlite).await;
    let http = reqwest::Client::new();

    // Anonymous off loopback: refused unless allowed.
    let err = bind(&db, Settings::default(), ServeOptions::new(any_port()))
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, ServeError::Anonymous(_)), "{err}");
    assert!(err.to_string().contains("--allow-anonymous"), "{err}");
    let s = bind(
        &db,
        Settings::default(),
        ServeOptions {
            allow_anonymous: true,
            ..ServeOptions::new(any_port())
        },
    )
    .await
    .expect("allowed");
    let r = get(&http, "http", "127.0.0.1", s.addr.port(), "/subjects", None)
        .await
        .expect("get");
    assert_eq!(r.status(), 200);

    // Credentials over plain HTTP off loopback: refused unless allowed.
    let creds = "key:read:k:read-key-0123456789";
    let err = bind(&db, with_auth(creds), ServeOptions::new(any_port()))
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, ServeError::Plaintext(_)), "{err}");
    assert!(err.to_string().contains("--allow-plaintext"), "{err}");
    let s = bind(
        &db,
        with_auth(creds),
        ServeOptions {
            allow_plaintext: true,
            ..ServeOptions::new(any_port())
        },
    )
    .await
    .expect("allowed");
    let r = get(
        &http,
        "http",
        "127.0.0.1",
        s.addr.port(),
        "/subjects",
        Some("Bearer read-key-0123456789"),
    )
    .await
    .expect("get");
    assert_eq!(r.status(), 200);

    // On loopback neither is needed.
    let lo: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    bind(&db, Settings::default(), ServeOptions::new(lo))
        .await
        .expect("anonymous on loopback");
    bind(&db, with_auth(creds), ServeOptions::new(lo))
        .await
        .expect("plain HTTP on loopback");

    // A TLS file that is not there: a clear error, not a server.
    let err = bind(
        &db,
        with_auth(creds),
        ServeOptions {
            tls: Some(TlsFiles {
                cert: "/nonexistent/cert.pem".into(),
                key: "/nonexistent/key.pem".into(),
            }),
            ..ServeOptions::new(any_port())
        },
    )
    .await
    .err()
    .expect("refused");
    assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
}

#[tokio::test]
async fn tls_round_trip_with_a_self_signed_certificate() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let dir = tempfile::tempdir().expect("tempdir");
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).expect("write cert");
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("write key");

    let db = TestDb::new(Backend::Sqlite).await;
    // Credentials off loopback with TLS: no --allow-plaintext needed.
    let s = bind(
        &db,
        with_auth("key:read:k:read-key-0123456789"),
        ServeOptions {
            tls: Some(TlsFiles {
                cert: cert_path,
                key: key_path,
            }),
            ..ServeOptions::new(any_port())
        },
    )
    .await
    .expect("bind with TLS");
    let port = s.addr.port();

    let trusting = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(
            reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).expect("root"),
        )
        .resolve(
            "localhost",
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port),
        )
        .build()
        .expect("client");
    let r = get(
        &trusting,
        "https",
        "localhost",
        port,
        "/subjects",
        Some("Bearer read-key-0123456789"),
    )
    .await
    .expect("https request");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("body"), "[]");
    let r = get(&trusting, "https", "localhost", port, "/subjects", None)
        .await
        .expect("https request");
    assert_eq!(r.status(), 401);

    // A client that does not trust the certificate cannot talk to it, nor can plain HTTP.
    let untrusting = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .resolve(
            "localhost",
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port),
        )
        .build()
        .expect("client");
    assert!(
        get(&untrusting, "https", "localhost", port, "/health", None)
            .await
            .is_err()
    );
    let plain = reqwest::Client::new();
    let r = get(&plain, "http", "127.0.0.1", port, "/health", None).await;
    assert!(r.is_err() || r.is_ok_and(|r| r.status() != 200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_limited_per_address() {
    let db = TestDb::new(Backend::Sqlite).await;
    let settings = Settings {
        login_limit: LoginLimitSettings {
            failures: 3,
            per: Duration::from_secs(300),
        },
        ..with_auth("user:read:ann:correct horse\nkey:read:k:read-key-0123456789")
    };
    let lo: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let s = bind(&db, settings, ServeOptions::new(lo))
        .await
        .expect("bind");
    let port = s.addr.port();
    let from = |ip: [u8; 4]| {
        reqwest::Client::builder()
            .local_address(IpAddr::from(ip))
            .build()
            .expect("client")
    };
    let a = from([127, 0, 0, 1]);
    let b = from([127, 0, 0, 2]);
    let good = basic("ann", "correct horse");
    let status = |r: reqwest::Result<reqwest::Response>| r.expect("request").status().as_u16();

    // A correct login first: remembered, and still refused once the address is blocked.
    assert_eq!(
        status(get(&a, "http", "127.0.0.1", port, "/subjects", Some(&good)).await),
        200
    );
    for bad in [
        basic("ann", "wrong"),
        "Bearer wrong-key".to_owned(),
        basic("nobody", "x"),
    ] {
        assert_eq!(
            status(get(&a, "http", "127.0.0.1", port, "/subjects", Some(&bad)).await),
            401
        );
    }
    for auth in [
        good.as_str(),
        "Bearer read-key-0123456789",
        "Bearer wrong-key",
    ] {
        let r = get(&a, "http", "127.0.0.1", port, "/subjects", Some(auth))
            .await
            .expect("request");
        assert_eq!(r.status(), 429, "{auth}");
        let retry: u64 = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("Retry-After in seconds");
        assert!((1..=100).contains(&retry), "Retry-After {retry}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .expect("type")
                .starts_with("application/vnd.schemaregistry.v1+json")
        );
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(body["error_code"], 429, "{body}");
        assert!(body["message"].is_string(), "{body}");
        assert_eq!(body.as_object().map(|o| o.len()), Some(2), "{body}");
    }

    // Another address is not affected.
    assert_eq!(
        status(get(&b, "http", "127.0.0.1", port, "/subjects", Some(&good)).await),
        200
    );
    assert_eq!(
        status(
            get(
                &b,
                "http",
                "127.0.0.1",
                port,
                "/subjects",
                Some(&basic("ann", "nope"))
            )
            .await
        ),
        401
    );
    assert_eq!(
        status(get(&b, "http", "127.0.0.1", port, "/subjects", Some(&good)).await),
        200
    );
}

/// Serving installs the recorder `/metrics` renders (building a router does not): the
/// requests served show up in the registry's counters.
#[tokio::test]
async fn metrics_show_the_requests_served() {
    let db = TestDb::new(Backend::Sqlite).await;
    let lo: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let s = bind(&db, Settings::default(), ServeOptions::new(lo))
        .await
        .expect("bind");
    let port = s.addr.port();
    let client = reqwest::Client::new();
    let subjects = get(&client, "http", "127.0.0.1", port, "/subjects", None)
        .await
        .expect("request");
    assert_eq!(subjects.status(), 200);

    let metrics = get(&client, "http", "127.0.0.1", port, "/metrics", None)
        .await
        .expect("request");
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.expect("body");
    assert!(
        text.contains(
            r#"herald_registry_http_requests_total{method="GET",route="/subjects",status="200"}"#
        ),
        "{text}"
    );
    assert!(
        text.contains("herald_registry_http_request_duration_seconds"),
        "{text}"
    );
}
