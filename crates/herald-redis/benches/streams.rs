//! herald's Redis Streams publish and consume against a raw `redis` crate loop doing the same
//! XADD / XREADGROUP / XACK work, in the same run, sides alternating, several rounds; prints
//! each round's rates, the ratios (herald / raw) and their spread. Within a round the sides
//! take turns every `SLICE` messages, so a load change on the machine hits both alike. Needs Redis on
//! 127.0.0.1:6379 (`HERALD_REDIS_URL`): `cargo bench -p herald-redis --features streams --bench streams`.

use std::time::{Duration, Instant};

use herald_core::{Headers, OutgoingMessage, Publisher, Subscriber};
use herald_redis::streams::RedisStreams;
use redis::aio::ConnectionManager;

const MESSAGES: usize = 5_000;
const SLICE: usize = 250;
const ROUNDS: usize = 6;
const PAYLOAD: usize = 256;
const BATCH: usize = 64;

fn message(stream: &str, n: usize) -> OutgoingMessage {
    let mut headers = Headers::new();
    headers.insert("herald-event-id".into(), format!("id-{n}"));
    headers.insert("herald-event-type".into(), "bench.ping".into());
    OutgoingMessage {
        destination: stream.to_owned(),
        key: format!("k-{}", n % 16),
        headers,
        payload: vec![b'x'; PAYLOAD],
    }
}

/// The same XADD a user would write with the redis crate: the same fields.
async fn raw_xadd(conn: &mut ConnectionManager, m: &OutgoingMessage) {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(&m.destination)
        .arg("*")
        .arg("payload")
        .arg(&m.payload)
        .arg("key")
        .arg(&m.key);
    for (k, v) in &m.headers {
        cmd.arg(format!("h:{k}")).arg(v);
    }
    let _: String = cmd.query_async(conn).await.expect("xadd");
}

async fn fill(conn: &mut ConnectionManager, stream: &str, group: &str) {
    let _: Result<(), _> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg(group)
        .arg("0")
        .arg("MKSTREAM")
        .query_async::<()>(conn)
        .await;
    for chunk in (0..MESSAGES).collect::<Vec<_>>().chunks(500) {
        let mut pipe = redis::pipe();
        for n in chunk {
            let m = message(stream, *n);
            let cmd = pipe
                .cmd("XADD")
                .arg(stream)
                .arg("*")
                .arg("payload")
                .arg(&m.payload)
                .arg("key")
                .arg(&m.key);
            for (k, v) in &m.headers {
                cmd.arg(format!("h:{k}")).arg(v);
            }
        }
        let _: Vec<String> = pipe.query_async(conn).await.expect("fill");
    }
}

async fn herald_publish(
    publisher: &herald_redis::RedisStreamsPublisher,
    stream: &str,
    from: usize,
) -> Duration {
    let started = Instant::now();
    for n in from..from + SLICE {
        publisher
            .publish(message(stream, n))
            .await
            .expect("publish");
    }
    started.elapsed()
}

async fn raw_publish(conn: &mut ConnectionManager, stream: &str, from: usize) -> Duration {
    let started = Instant::now();
    for n in from..from + SLICE {
        raw_xadd(conn, &message(stream, n)).await;
    }
    started.elapsed()
}

async fn herald_consume(sub: &mut herald_redis::RedisStreamsSubscriber) -> Duration {
    let started = Instant::now();
    for _ in 0..SLICE {
        let d = sub.recv().await.expect("recv").expect("open");
        d.ack().await.expect("ack");
    }
    started.elapsed()
}

async fn raw_consume(conn: &mut ConnectionManager, stream: &str) -> Duration {
    let started = Instant::now();
    let mut done = 0;
    while done < SLICE {
        let reply: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg("bench")
            .arg("raw")
            .arg("COUNT")
            .arg(BATCH.min(SLICE - done))
            .arg("BLOCK")
            .arg(1000)
            .arg("STREAMS")
            .arg(stream)
            .arg(">")
            .query_async(conn)
            .await
            .expect("xreadgroup");
        for key in reply.keys {
            for entry in key.ids {
                let payload: Vec<u8> = entry.get("payload").expect("payload");
                std::hint::black_box(payload);
                let _: i64 = redis::cmd("XACK")
                    .arg(stream)
                    .arg("bench")
                    .arg(&entry.id)
                    .query_async(conn)
                    .await
                    .expect("xack");
                done += 1;
            }
        }
    }
    started.elapsed()
}

fn rate(d: Duration) -> f64 {
    MESSAGES as f64 / d.as_secs_f64()
}

fn summary(what: &str, ratios: &[f64]) {
    let mut sorted = ratios.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    println!(
        "{what}: herald/raw median {median:.3}x, rounds {:.3}x..{:.3}x ({})",
        sorted[0],
        sorted[sorted.len() - 1],
        ratios
            .iter()
            .map(|r| format!("{r:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url =
        std::env::var("HERALD_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let redis = RedisStreams::connect(&url)
        .await
        .expect("Redis (scripts/services)");
    let mut raw = redis.connection();
    let id = std::process::id();
    let (mut publish, mut consume) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let s = |side: &str| format!("herald-bench.{id}.{round}.{side}");
        let publisher = redis.publisher();
        fill(&mut raw, &s("hc"), "bench").await;
        fill(&mut raw, &s("rc"), "bench").await;
        let mut sub = redis
            .subscriber(s("hc"), "bench")
            .batch(BATCH)
            .build()
            .await
            .expect("subscriber");
        let mut times = [Duration::ZERO; 4]; // publish herald, raw; consume herald, raw
        for slice in 0..MESSAGES / SLICE {
            let from = slice * SLICE;
            // Alternate which side goes first.
            if slice % 2 == 0 {
                times[0] += herald_publish(&publisher, &s("hp"), from).await;
                times[1] += raw_publish(&mut raw, &s("rp"), from).await;
                times[2] += herald_consume(&mut sub).await;
                times[3] += raw_consume(&mut raw, &s("rc")).await;
            } else {
                times[1] += raw_publish(&mut raw, &s("rp"), from).await;
                times[0] += herald_publish(&publisher, &s("hp"), from).await;
                times[3] += raw_consume(&mut raw, &s("rc")).await;
                times[2] += herald_consume(&mut sub).await;
            }
        }
        sub.close().await.expect("close");
        let [p_herald, p_raw, c_herald, c_raw] = times;
        println!(
            "round {round}: publish herald {:.0}/s raw {:.0}/s; consume herald {:.0}/s raw {:.0}/s",
            rate(p_herald),
            rate(p_raw),
            rate(c_herald),
            rate(c_raw)
        );
        publish.push(rate(p_herald) / rate(p_raw));
        consume.push(rate(c_herald) / rate(c_raw));
        for side in ["hp", "rp", "hc", "rc"] {
            let _: i64 = redis::cmd("DEL")
                .arg(s(side))
                .query_async(&mut raw)
                .await
                .expect("del");
        }
    }
    summary("publish", &publish);
    summary("consume", &consume);
}
