//! Messages the worker cannot run (not JSON, bad base64, no headers, no task name, an
//! unknown task) are dropped to a log line; the worker goes on with the next message.

mod common;

use common::{Kind, WAIT, client, log_file, queue, rust_worker, wait_for_log};
use herald_celery::TaskState;
use lapin::options::BasicPublishOptions;
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use serde_json::json;

const GOOD_BODY: &str = "W1sxLCAyXSwge30sIHt9XQ=="; // [[1, 2], {}, {}]

fn envelope(queue: &str, tag: &str, body: &str, headers: serde_json::Value) -> String {
    json!({
        "body": body, "content-encoding": "utf-8", "content-type": "application/json",
        "headers": headers,
        "properties": {"correlation_id": "x", "delivery_mode": 2, "priority": 0,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "body_encoding": "base64", "delivery_tag": tag}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_malformed_messages_are_dropped_and_logged() {
    let q = queue("malformed");
    let unknown_id = uuid::Uuid::new_v4().to_string();
    let tags: Vec<String> = (0..4).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let raws = [
        "this is not json".to_owned(),
        envelope(
            &q,
            &tags[0],
            "!!not base64!!",
            json!({"task": "tasks.add", "id": "bad-b64"}),
        ),
        json!({"body": GOOD_BODY, "properties": {"delivery_tag": tags[1],
            "delivery_info": {"exchange": "", "routing_key": q}, "body_encoding": "base64"}})
        .to_string(),
        envelope(&q, &tags[2], GOOD_BODY, json!({"id": "no-task"})),
        envelope(
            &q,
            &tags[3],
            GOOD_BODY,
            json!({"task": "tasks.nope", "id": unknown_id}),
        ),
    ];
    let redis_client = redis::Client::open(Kind::Redis.broker()).expect("url");
    let mut conn = redis_client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    for raw in &raws {
        redis::cmd("LPUSH")
            .arg(&q)
            .arg(raw)
            .query_async::<()>(&mut conn)
            .await
            .expect("lpush");
    }
    let log = log_file("malformed-redis");
    let _worker = rust_worker(Kind::Redis, &q, &[], Some(&log));
    let celery = client(Kind::Redis).await;
    let add = celery
        .send_task("tasks.add")
        .args((1, 2))
        .expect("args")
        .queue(&q)
        .send()
        .await
        .expect("sent");
    assert_eq!(add.get(WAIT).await.expect("the worker survived"), json!(3));
    let text = wait_for_log(&log, "unregistered task").await;
    for needle in [
        "the envelope is not JSON",
        "the body is not base64",
        "the envelope has no headers",
        "protocol 2 needs `task` and `id`",
    ] {
        assert!(text.contains(needle), "no `{needle}` in the log:\n{text}");
    }
    let unknown = celery
        .result(&unknown_id)
        .wait_meta(WAIT)
        .await
        .expect("stored");
    assert_eq!(unknown.status, TaskState::Failure);
    assert_eq!(unknown.exception().expect("exc").exc_type, "NotRegistered");
    for tag in &tags {
        let left: bool = redis::cmd("HEXISTS")
            .arg("unacked")
            .arg(tag)
            .query_async(&mut conn)
            .await
            .expect("hexists");
        assert!(!left, "dropped message {tag} is still unacked");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn amqp_malformed_messages_are_dropped_and_logged() {
    let q = queue("malformed");
    let log = log_file("malformed-amqp");
    let celery = client(Kind::Amqp).await;
    celery.broker().declare_queue(&q).await.expect("declare");
    let conn = Connection::connect(Kind::Amqp.broker(), ConnectionProperties::default())
        .await
        .expect("rabbitmq");
    let ch = conn.create_channel().await.expect("channel");
    let mut headers = FieldTable::default();
    headers.insert("task".into(), AMQPValue::LongString("tasks.add".into()));
    headers.insert("id".into(), AMQPValue::LongString("not-json".into()));
    for (body, props) in [
        (
            b"{not json".as_slice(),
            BasicProperties::default()
                .with_content_type("application/json".into())
                .with_headers(headers),
        ),
        (b"[[1, 2], {}, {}]".as_slice(), BasicProperties::default()),
    ] {
        ch.basic_publish(
            "".into(),
            q.as_str().into(),
            BasicPublishOptions::default(),
            body,
            props,
        )
        .await
        .expect("publish")
        .await
        .expect("confirm");
    }
    let _worker = rust_worker(Kind::Amqp, &q, &[], Some(&log));
    let add = celery
        .send_task("tasks.add")
        .args((1, 2))
        .expect("args")
        .queue(&q)
        .send()
        .await
        .expect("sent");
    assert_eq!(add.get(WAIT).await.expect("the worker survived"), json!(3));
    let text = wait_for_log(&log, "no headers table").await;
    assert!(text.contains("(task id not-json): body:"), "{text}");
}
