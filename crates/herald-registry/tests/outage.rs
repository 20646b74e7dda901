//! The database goes away (a TCP proxy to the real PostgreSQL is cut): requests fail with
//! 50001/50002 in Confluent's shape, never hang or 500 without a code, and the server
//! recovers by itself when the database is back.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestDb, serve};
use herald_registry::{Settings, Store, store};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

struct Proxy {
    port: u16,
    up: watch::Sender<bool>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start(port: u16) -> Self {
        let (up, _) = watch::channel(true);
        let mut p = Proxy {
            port,
            up,
            accept: None,
        };
        p.restore().await;
        p
    }

    async fn restore(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind proxy");
        self.port = listener.local_addr().expect("addr").port();
        self.up.send_replace(true);
        let rx = self.up.subscribe();
        self.accept = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut rx = rx.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect("127.0.0.1:5432").await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = rx.wait_for(|up| !*up) => {}
                    }
                });
            }
        }));
    }

    fn cut(&mut self) {
        if let Some(a) = self.accept.take() {
            a.abort();
        }
        self.up.send_replace(false);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_and_recovery() {
    let db = TestDb::new(Backend::Postgres).await;
    let mut proxy = Proxy::start(0).await;
    let name = db.url.rsplit('/').next().expect("db name");
    let url = format!("postgres://postgres@127.0.0.1:{}/{name}", proxy.port);
    let store = store::connect(&url, 4).await.expect("store through proxy");
    let s = serve(store, Settings::default()).await;
    let id = s.register_ok("o", &json!({"type": "object"})).await;
    assert_eq!(s.get(&format!("/schemas/ids/{id}")).await.status, 200);

    proxy.cut();
    for path in ["/subjects", "/subjects/o/versions/1", "/config"] {
        let r = s.get(path).await;
        assert_eq!(r.status, 500, "{path}: {}", r.text);
        let code = r.body["error_code"].as_u64();
        assert!(
            matches!(code, Some(50001) | Some(50002)),
            "{path}: {}",
            r.text
        );
        assert_eq!(common::keys(&r.body), ["error_code", "message"]);
    }
    let r = s
        .register("o", &json!({"type": "object", "title": "t"}))
        .await;
    assert!(
        matches!(r.body["error_code"].as_u64(), Some(50001) | Some(50002)),
        "{}",
        r.text
    );
    let h = s.get("/health").await;
    assert_eq!(h.status, 500, "{}", h.text);
    // The cache was dropped with the LISTEN connection (deletes may have been missed), so
    // even a schema by id is an honest store error now, not a stale answer.
    let r = s.get(&format!("/schemas/ids/{id}")).await;
    assert!(
        matches!(r.body["error_code"].as_u64(), Some(50001) | Some(50002)),
        "{}",
        r.text
    );

    proxy.restore().await;
    let start = Instant::now();
    loop {
        let r = s.get("/subjects").await;
        if r.status == 200 {
            assert_eq!(r.body, json!(["o"]));
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no recovery: {} ({:?})",
            r.text,
            s.state.store.health().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.register_ok("o2", &json!({"type": "string"})).await;

    // The listener is back too: the caches fill again, and hear another process's writes.
    let check = || async {
        let r = s
            .post(
                "/compatibility/subjects/o/versions/latest",
                &json!({"schemaType": "JSON", "schema": "{\"type\":\"string\"}"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["is_compatible"] == true
    };
    let start = Instant::now();
    loop {
        assert!(!check().await, "object -> string is not BACKWARD");
        if !s.state.store.caches().config.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the caches stay suspended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let other = db.open().await;
    other
        .set_config(
            Some("o"),
            &store::ConfigRecord {
                compatibility: Some(herald_schema::CompatibilityLevel::None),
                ..Default::default()
            },
        )
        .await
        .expect("config through another store");
    let start = Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "a change by another process is not heard after the outage"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
