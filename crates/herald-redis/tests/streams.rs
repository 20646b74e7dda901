//! The Redis Streams transport against a real Redis: the round trip, taking over a dead
//! consumer's entries with their delivery count, the retry set under two movers, the lag,
//! the dead-letter stream, trimming and the payload limit.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use common::*;
use herald_core::dead_letters::Selection;
use herald_core::{
    DeadLetter, DeadLetters, Headers, Publisher, Retry, Subscriber, TransportError, headers,
};
use herald_redis::streams::{RedisStreams, StartFrom, dlq_stream, retry_set};

#[tokio::test]
async fn a_message_arrives_with_payload_key_and_headers_intact_and_an_ack_settles_it() {
    let redis = connect().await;
    let stream = unique("roundtrip");
    let mut sub = redis
        .subscriber(&stream, "g")
        .build()
        .await
        .expect("subscriber");
    let mut m = message(&stream, "k-1", 1);
    m.headers
        .insert("note".into(), "naïve ✓ \u{1}\t\r\n\"quoted\"".into());
    m.payload = vec![0, 159, 146, 150, 255, b'{'];
    redis.publisher().publish(m.clone()).await.expect("publish");

    let d = next(&mut sub, WAIT).await;
    assert_eq!(d.message.source, stream);
    assert_eq!(d.message.key.as_deref(), Some("k-1"));
    assert_eq!(d.message.headers, m.headers);
    assert_eq!(d.message.payload, m.payload);
    assert_eq!(d.message.attempt(), 1);
    d.ack().await.expect("ack");
    let lag = redis.lag(&stream, "g").await.expect("lag");
    assert_eq!((lag.lag, lag.pending), (Some(0), 0));
    forget(&redis, &stream).await;
}

#[tokio::test]
async fn a_dropped_consumers_entries_are_taken_over_with_the_delivery_count_as_attempt() {
    let redis = connect().await;
    let stream = unique("autoclaim");
    let visibility = Duration::from_millis(400);
    let build = || {
        redis
            .subscriber(&stream, "g")
            .visibility_timeout(visibility)
            .claim_interval(Duration::from_millis(50))
            .build()
    };
    let mut dead = build().await.expect("first");
    for n in 0..3 {
        redis
            .publisher()
            .publish(message(&stream, "k", n))
            .await
            .expect("publish");
    }
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(next(&mut dead, WAIT).await);
    }
    // A crash: neither settled nor closed.
    drop(held);
    drop(dead);
    assert_eq!(redis.lag(&stream, "g").await.expect("lag").pending, 3);

    let started = Instant::now();
    let mut live = build().await.expect("second");
    let mut got = BTreeSet::new();
    for _ in 0..3 {
        let d = next(&mut live, WAIT).await;
        assert_eq!(
            d.message.attempt(),
            2,
            "delivered once before: {:?}",
            d.message.headers
        );
        got.insert(d.message.headers["herald-event-id"].clone());
        d.ack().await.expect("ack");
    }
    assert!(
        started.elapsed() >= visibility / 2,
        "not taken before it was idle"
    );
    assert_eq!(got.len(), 3);
    assert_eq!(redis.lag(&stream, "g").await.expect("lag").pending, 0);
    nothing_for(&mut live, Duration::from_millis(600)).await;
    forget(&redis, &stream).await;
}

#[tokio::test]
async fn a_slow_handler_keeps_its_entry_past_the_visibility_timeout() {
    let redis = connect().await;
    let stream = unique("keepclaimed");
    let build = || {
        redis
            .subscriber(&stream, "g")
            .visibility_timeout(Duration::from_millis(300))
            .claim_interval(Duration::from_millis(50))
            .build()
    };
    let mut a = build().await.expect("a");
    let mut b = build().await.expect("b");
    redis
        .publisher()
        .publish(message(&stream, "k", 1))
        .await
        .expect("publish");
    let d = tokio::select! {
        d = a.recv() => d,
        d = b.recv() => d,
    }
    .expect("recv")
    .expect("open");
    // Three visibility timeouts while "handling": the other consumer must not take it.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let other = tokio::time::timeout(Duration::from_millis(300), async {
        tokio::select! { d = a.recv() => d, d = b.recv() => d }
    })
    .await;
    assert!(other.is_err(), "taken over while in flight: {other:?}");
    d.ack().await.expect("ack");
    forget(&redis, &stream).await;
}

#[tokio::test]
async fn retries_wait_in_the_set_and_two_movers_neither_lose_nor_double_one() {
    const N: u64 = 200;
    let redis = connect().await;
    let stream = unique("movers");
    let build = || {
        redis
            .subscriber(&stream, "g")
            .retry_poll_interval(Duration::from_millis(2))
            .batch(N as usize)
            .build()
    };
    let mut a = build().await.expect("a");
    let mut b = build().await.expect("b");
    for n in 0..N {
        redis
            .publisher()
            .publish(message(&stream, "k", n))
            .await
            .expect("publish");
    }
    let delay = Duration::from_millis(700);
    let scheduled_at = Instant::now();
    for _ in 0..N {
        let d = tokio::select! { d = a.recv() => d, d = b.recv() => d }
            .expect("recv")
            .expect("open");
        let mut h = d.message.headers.clone();
        h.insert(headers::ATTEMPT.into(), "2".into());
        d.retry(Retry { delay, headers: h }).await.expect("retry");
    }
    let waiting: u64 = cmd(&redis, redis::cmd("ZCARD").arg(retry_set(&stream))).await;
    assert!(waiting > 0, "the retries wait in the set");

    let mut seen: HashMap<String, u32> = HashMap::new();
    while seen.values().sum::<u32>() < N as u32 {
        let d = tokio::time::timeout(WAIT, async {
            tokio::select! { d = a.recv() => d, d = b.recv() => d }
        })
        .await
        .expect("every retry back in time")
        .expect("recv")
        .expect("open");
        assert!(
            scheduled_at.elapsed() >= delay,
            "a retry came back before its delay"
        );
        assert_eq!(d.message.attempt(), 2);
        *seen
            .entry(d.message.headers["herald-event-id"].clone())
            .or_default() += 1;
        d.ack().await.expect("ack");
    }
    assert_eq!(seen.len(), N as usize, "every message back");
    assert!(seen.values().all(|n| *n == 1), "none twice");
    let left: u64 = cmd(&redis, redis::cmd("ZCARD").arg(retry_set(&stream))).await;
    let hashes: Vec<String> =
        cmd(&redis, redis::cmd("KEYS").arg(format!("{stream}.retry:*"))).await;
    assert_eq!(
        (left, hashes.len()),
        (0, 0),
        "the set and its hashes are empty"
    );
    assert_eq!(
        xlen(&redis, &stream).await,
        2 * N,
        "each message added back exactly once"
    );
    nothing_for(&mut a, Duration::from_millis(300)).await;
    forget(&redis, &stream).await;
}

#[tokio::test]
async fn a_requeue_comes_back_as_the_same_attempt() {
    let redis = connect().await;
    let stream = unique("requeue");
    let mut sub = redis
        .subscriber(&stream, "g")
        .build()
        .await
        .expect("subscriber");
    let mut m = message(&stream, "k", 1);
    m.headers.insert(headers::ATTEMPT.into(), "3".into());
    redis.publisher().publish(m).await.expect("publish");
    let d = next(&mut sub, WAIT).await;
    d.requeue(Duration::from_millis(200))
        .await
        .expect("requeue");
    let again = next(&mut sub, WAIT).await;
    assert_eq!(again.message.attempt(), 3);
    again.ack().await.expect("ack");
    forget(&redis, &stream).await;
}

#[tokio::test]
async fn the_lag_counts_undelivered_and_pending_entries() {
    let redis = connect().await;
    let stream = unique("lag");
    let mut conn = redis.connection();
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&stream)
        .arg("g")
        .arg("0")
        .arg("MKSTREAM")
        .query_async(&mut conn)
        .await
        .expect("group");
    for n in 0..10 {
        redis
            .publisher()
            .publish(message(&stream, "k", n))
            .await
            .expect("publish");
    }
    let lag = redis.lag(&stream, "g").await.expect("lag");
    assert_eq!((lag.lag, lag.pending), (Some(10), 0));
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("g")
        .arg("c")
        .arg("COUNT")
        .arg(4)
        .arg("STREAMS")
        .arg(&stream)
        .arg(">")
        .query_async(&mut conn)
        .await
        .expect("read 4");
    let lag = redis.lag(&stream, "g").await.expect("lag");
    assert_eq!((lag.lag, lag.pending), (Some(6), 4));
    let missing = redis.lag(&stream, "nope").await.expect_err("no such group");
    assert!(missing.to_string().contains("nope"), "{missing}");
    forget(&redis, &stream).await;
}

async fn dead_letter(d: herald_core::Delivery, reason: &str, event_type: &str) {
    let mut h = d.message.headers.clone();
    h.insert(headers::ERROR.into(), reason.into());
    h.insert(headers::EVENT_TYPE.into(), event_type.into());
    h.insert(headers::ATTEMPTS.into(), "3".into());
    h.insert(headers::ORIGIN.into(), d.message.source.clone());
    d.dead_letter(DeadLetter {
        reason: reason.into(),
        headers: h,
    })
    .await
    .expect("dead letter");
}

#[tokio::test]
async fn dead_letters_are_listed_purged_and_replayed_once() {
    let redis = connect().await;
    let stream = unique("dlq");
    let mut sub = redis
        .subscriber(&stream, "g")
        .build()
        .await
        .expect("subscriber");
    for n in 0..3 {
        redis
            .publisher()
            .publish(message(&stream, &format!("k{n}"), n))
            .await
            .expect("publish");
    }
    dead_letter(next(&mut sub, WAIT).await, "card declined", "order.placed").await;
    dead_letter(next(&mut sub, WAIT).await, "timeout", "order.paid").await;
    dead_letter(next(&mut sub, WAIT).await, "card declined", "order.placed").await;
    assert_eq!(
        redis.lag(&stream, "g").await.expect("lag").pending,
        0,
        "dead letters are acked"
    );

    let dlq = redis.dead_letters();
    let all = dlq.list(&stream, &Selection::all()).await.expect("list");
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].reason.as_deref(), Some("card declined"));
    assert_eq!(all[0].attempts, Some(3));
    assert_eq!(all[0].origin, stream);
    assert_eq!(all[0].payload, b"{\"n\":0}");
    assert_eq!(all[1].event_type.as_deref(), Some("order.paid"));

    let dry = dlq
        .purge(&stream, &Selection::all().reason_contains("timeout"), true)
        .await
        .expect("dry");
    assert_eq!(dry.purged.len(), 1);
    assert_eq!(
        xlen(&redis, &dlq_stream(&stream)).await,
        3,
        "a dry run deletes nothing"
    );
    let purged = dlq
        .purge(&stream, &Selection::all().reason_contains("timeout"), false)
        .await
        .expect("purge");
    assert_eq!(purged.purged.len(), 1);
    assert_eq!(
        dlq.list(&stream, &Selection::all())
            .await
            .expect("list")
            .len(),
        2
    );

    let one = dlq
        .replay(
            &stream,
            &Selection::all().event_type("order.placed").limit(1),
            false,
        )
        .await
        .expect("replay");
    assert_eq!(one.replayed, 1);
    let back = next(&mut sub, WAIT).await;
    assert_eq!(back.message.attempt(), 1);
    assert_eq!(back.message.key.as_deref(), Some("k0"));
    assert_eq!(back.message.payload, b"{\"n\":0}");
    for gone in [headers::ERROR, headers::ATTEMPTS, headers::ORIGIN] {
        assert!(
            !back.message.headers.contains_key(gone),
            "{gone} left on the replay"
        );
    }
    back.ack().await.expect("ack");
    let rest = dlq
        .replay(&stream, &Selection::all(), false)
        .await
        .expect("replay rest");
    assert_eq!(rest.replayed, 1);
    next(&mut sub, WAIT).await.ack().await.expect("ack");
    let again = dlq
        .replay(&stream, &Selection::all(), false)
        .await
        .expect("second replay");
    assert_eq!(
        (again.replayed, again.selected.len()),
        (0, 0),
        "a second replay sends nothing"
    );
    nothing_for(&mut sub, Duration::from_millis(300)).await;
    forget(&redis, &stream).await;
}

#[tokio::test]
async fn trimming_is_off_by_default_and_keeps_about_maxlen_when_on() {
    let redis = connect().await;
    let kept = unique("untrimmed");
    let trimmed = unique("trimmed");
    let plain = redis.publisher();
    let trimming = redis.publisher().trim_to(50);
    for n in 0..1000 {
        plain
            .publish(message(&kept, "k", n))
            .await
            .expect("publish");
        trimming
            .publish(message(&trimmed, "k", n))
            .await
            .expect("publish");
    }
    assert_eq!(xlen(&redis, &kept).await, 1000);
    let len = xlen(&redis, &trimmed).await;
    // `MAXLEN ~` trims whole macro nodes (100 entries by default), never below 50.
    assert!((50..=200).contains(&len), "{len} entries left");
    forget(&redis, &kept).await;
    forget(&redis, &trimmed).await;
}

#[tokio::test]
async fn a_payload_over_the_limit_is_an_error_and_nothing_is_sent() {
    let redis = connect().await;
    let stream = unique("big");
    let publisher = redis.publisher().max_payload(1024);
    let mut m = message(&stream, "k", 1);
    m.payload = vec![b'x'; 1025];
    let err = publisher
        .publish(m.clone())
        .await
        .expect_err("over the limit");
    assert!(matches!(err, TransportError::Rejected(_)), "{err:?}");
    assert!(err.to_string().contains("1025 bytes"), "{err}");
    assert_eq!(xlen(&redis, &stream).await, 0);
    m.payload.truncate(1024);
    publisher.publish(m).await.expect("at the limit");
    assert_eq!(xlen(&redis, &stream).await, 1);
    forget(&redis, &stream).await;
}

#[tokio::test]
async fn an_unreachable_redis_is_a_connection_error_within_the_timeout() {
    let started = Instant::now();
    let err = RedisStreams::connect_timeout("redis://127.0.0.1:1", Duration::from_secs(1))
        .await
        .expect_err("nothing listens on port 1");
    assert!(matches!(err, TransportError::Connection(_)), "{err:?}");
    assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "gave up in time"
    );
}

#[tokio::test]
async fn sharded_streams_keep_each_key_on_one_stream_in_order() {
    let redis = connect().await;
    let stream = unique("shards");
    let publisher = redis.publisher().shards(4);
    let mut sub = redis
        .subscriber(&stream, "g")
        .shards(4)
        .build()
        .await
        .expect("subscriber");
    for step in 0..20 {
        for key in ["a", "b", "c", "d", "e"] {
            let mut m = message(&stream, key, step);
            m.headers.insert("step".into(), step.to_string());
            publisher.publish(m).await.expect("publish");
        }
    }
    let mut last: HashMap<String, (String, i64)> = HashMap::new();
    for _ in 0..100 {
        let d = next(&mut sub, WAIT).await;
        let key = d.message.key.clone().expect("key");
        let step: i64 = d.message.headers["step"].parse().expect("step");
        let entry = last
            .entry(key.clone())
            .or_insert((d.message.source.clone(), -1));
        assert_eq!(entry.0, d.message.source, "key {key} on one stream");
        assert_eq!(entry.1 + 1, step, "key {key} in order");
        entry.1 = step;
        d.ack().await.expect("ack");
    }
    forget(&redis, &stream).await;
}

#[tokio::test]
async fn close_hands_back_what_was_read_but_not_taken() {
    let redis = connect().await;
    let stream = unique("close");
    for n in 0..10 {
        redis
            .publisher()
            .publish(message(&stream, "k", n))
            .await
            .expect("publish");
    }
    let mut first = redis
        .subscriber(&stream, "g")
        .batch(10)
        .build()
        .await
        .expect("first");
    let taken = next(&mut first, WAIT).await;
    // The other nine were read into the subscriber's buffer.
    first.close().await.expect("close");
    taken.ack().await.expect("settle after close");
    assert!(first.recv().await.expect("recv").is_none(), "closed");

    let mut second = redis
        .subscriber(&stream, "g")
        .start_from(StartFrom::New)
        .build()
        .await
        .expect("second");
    let mut ids = BTreeSet::new();
    for _ in 0..9 {
        let d = next(&mut second, WAIT).await;
        assert_eq!(d.message.attempt(), 1, "handed back, not an attempt");
        ids.insert(d.message.headers["herald-event-id"].clone());
        d.ack().await.expect("ack");
    }
    assert_eq!(ids.len(), 9);
    assert_eq!(redis.lag(&stream, "g").await.expect("lag").pending, 0);
    forget(&redis, &stream).await;
}

#[tokio::test]
async fn entries_of_other_programs_keep_their_fields_as_headers() {
    let redis = connect().await;
    let stream = unique("foreign");
    let mut sub = redis
        .subscriber(&stream, "g")
        .build()
        .await
        .expect("subscriber");
    let _: String = cmd(
        &redis,
        redis::cmd("XADD")
            .arg(&stream)
            .arg("*")
            .arg("order")
            .arg("o-1")
            .arg("total")
            .arg("12"),
    )
    .await;
    let d = next(&mut sub, WAIT).await;
    let mut expected = Headers::new();
    expected.insert("order".into(), "o-1".into());
    expected.insert("total".into(), "12".into());
    assert_eq!(d.message.headers, expected);
    assert!(d.message.payload.is_empty());
    d.ack().await.expect("ack");
    forget(&redis, &stream).await;
}
