//! `herald dlq list|purge|replay --broker redis://...` against the real Redis
//! (127.0.0.1:6379, or `HERALD_REDIS_URL`): dead letters written as herald's worker writes
//! them (`<stream>.dlq`) are listed with their reasons, purged by reason, replayed to their
//! stream as first attempts, and a second replay finds nothing left.
#![cfg(feature = "redis")]

mod common;

use redis::AsyncCommands;

fn redis_url() -> String {
    std::env::var("HERALD_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn herald(args: &[&str]) -> (i32, String) {
    common::herald_broker(&redis_url(), args)
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_purges_and_replays_redis_stream_dead_letters() {
    let stream = format!(
        "herald-cli-test.{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let dlq = format!("{stream}.dlq");
    let client = redis::Client::open(redis_url()).expect("url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis at 127.0.0.1:6379 (scripts/services)");
    for (n, reason) in [(1, "card declined"), (2, "timeout")] {
        let _: String = redis::cmd("XADD")
            .arg(&dlq)
            .arg("*")
            .arg("payload")
            .arg(format!("{{\"event_id\":\"e-{n}\",\"data\":{{}}}}"))
            .arg("key")
            .arg(format!("o-{n}"))
            .arg("h:herald-event-type")
            .arg("order.placed")
            .arg("h:herald-error")
            .arg(reason)
            .arg("h:herald-attempts")
            .arg("3")
            .arg("h:herald-origin")
            .arg(&stream)
            .query_async(&mut conn)
            .await
            .expect("seed a dead letter");
    }

    let (code, out) = herald(&["dlq", "list", &stream]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("card declined") && out.contains("timeout"),
        "{out}"
    );
    assert!(out.contains("2 dead letter(s)"), "{out}");

    let (code, out) = herald(&["dlq", "purge", &stream, "--reason", "timeout", "--yes"]);
    assert_eq!(code, 0, "{out}");
    let left: u64 = conn.xlen(&dlq).await.expect("xlen");
    assert_eq!(left, 1, "{out}");

    let (code, out) = herald(&["dlq", "replay", &stream]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("replayed 1"), "{out}");
    let back: redis::streams::StreamRangeReply =
        conn.xrange_all(&stream).await.expect("the stream");
    assert_eq!(back.ids.len(), 1);
    let entry = &back.ids[0];
    let field = |name: &str| entry.get::<String>(name);
    assert_eq!(field("key").as_deref(), Some("o-1"));
    assert_eq!(
        field("h:herald-event-type").as_deref(),
        Some("order.placed")
    );
    assert_eq!(field("h:herald-error"), None, "a replay is a first attempt");
    assert_eq!(field("h:herald-attempts"), None);

    let (code, out) = herald(&["dlq", "replay", &stream]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("replayed 0"), "{out}");
    let _: i64 = conn.del(&[&stream, &dlq]).await.expect("clean up");
}
