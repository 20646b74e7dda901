//! kombu's Redis envelope: `{body (base64), content-encoding, content-type, headers,
//! properties {correlation_id, reply_to, delivery_mode, delivery_info, priority,
//! body_encoding, delivery_tag}}`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::protocol::{MalformedMessage, Properties, TaskMessage};

/// The envelope a Python worker accepts: `delivery_tag` and `delivery_info` are
/// mandatory (without them the message is silently lost), and `routing_key` is the real
/// queue (Python sends retries and restores there).
pub fn encode(queue: &str, message: &TaskMessage, delivery_tag: &str) -> String {
    let p = &message.properties;
    json!({
        "body": STANDARD.encode(message.body_json()),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": message.headers,
        "properties": {
            "correlation_id": p.correlation_id,
            "reply_to": p.reply_to,
            "delivery_mode": p.delivery_mode,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": p.priority,
            "body_encoding": "base64",
            "delivery_tag": delivery_tag,
        }
    })
    .to_string()
}

/// A worker event in kombu's envelope (exchange `celeryev`, transient).
pub fn encode_event(routing_key: &str, event: &Value, hostname: &str) -> String {
    json!({
        "body": STANDARD.encode(event.to_string()),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {"hostname": hostname},
        "properties": {
            "delivery_mode": 1,
            "delivery_info": {"exchange": "celeryev", "routing_key": routing_key},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": uuid::Uuid::new_v4().to_string(),
        }
    })
    .to_string()
}

/// The delivery tag of a raw envelope, if it has one (only then can it be acked).
pub fn delivery_tag(raw: &str) -> Option<String> {
    let v: Value = serde_json::from_str(raw).ok()?;
    v.pointer("/properties/delivery_tag")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Reads a raw envelope into a task message.
pub fn decode(raw: &str) -> Result<TaskMessage, MalformedMessage> {
    let mut v: Value = serde_json::from_str(raw)
        .map_err(|e| MalformedMessage::new(format!("the envelope is not JSON: {e}")))?;
    let headers = v
        .get_mut("headers")
        .map(Value::take)
        .filter(Value::is_object)
        .ok_or_else(|| {
            let mut m = MalformedMessage::new("the envelope has no headers object");
            m.task_id = v
                .pointer("/properties/correlation_id")
                .and_then(Value::as_str)
                .map(str::to_owned);
            m
        })?;
    let task_id = headers.get("id").and_then(Value::as_str).map(str::to_owned);
    let malformed = |reason: String| MalformedMessage {
        task_id: task_id.clone(),
        reason,
    };
    let props = v.get("properties").cloned().unwrap_or(Value::Null);
    let body = v
        .get("body")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("the envelope has no body string".to_owned()))?;
    if let Some(ct) = v.get("content-type").and_then(Value::as_str)
        && ct != "application/json"
    {
        return Err(malformed(format!(
            "content-type `{ct}`: only the JSON serializer is supported"
        )));
    }
    let body = match props.get("body_encoding").and_then(Value::as_str) {
        Some("base64") => STANDARD
            .decode(body)
            .map_err(|e| malformed(format!("the body is not base64: {e}")))?,
        _ => body.as_bytes().to_vec(),
    };
    let properties = Properties {
        correlation_id: props
            .get("correlation_id")
            .and_then(Value::as_str)
            .or(task_id.as_deref())
            .unwrap_or_default()
            .to_owned(),
        reply_to: props
            .get("reply_to")
            .and_then(Value::as_str)
            .map(str::to_owned),
        priority: props
            .get("priority")
            .and_then(Value::as_u64)
            .map_or(0, |p| p.min(255) as u8),
        delivery_mode: props
            .get("delivery_mode")
            .and_then(Value::as_u64)
            .map_or(2, |p| p.min(255) as u8),
    };
    TaskMessage::from_parts(headers, properties, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tasks.add envelope captured from Celery 5.7 (celery-protocol.md).
    const CAPTURED: &str = r#"{"body": "W1syLCAzXSwge30sIHsiY2FsbGJhY2tzIjogbnVsbCwgImVycmJhY2tzIjogbnVsbCwgImNoYWluIjogbnVsbCwgImNob3JkIjogbnVsbH1d", "content-encoding": "utf-8", "content-type": "application/json", "headers": {"lang": "py", "task": "tasks.add", "id": "b882c9c3-fa88-4847-a189-029a060c1c45", "shadow": null, "eta": null, "expires": null, "group": null, "group_index": null, "retries": 0, "timelimit": [null, null], "root_id": "b882c9c3-fa88-4847-a189-029a060c1c45", "parent_id": null, "argsrepr": "(2, 3)", "kwargsrepr": "{}", "origin": "gen20240@vm", "ignore_result": false, "replaced_task_nesting": 0, "stamped_headers": null, "stamps": {}}, "properties": {"correlation_id": "b882c9c3-fa88-4847-a189-029a060c1c45", "reply_to": "e8f90680-cb6b-3a8e-bad5-df062d2bb43f", "delivery_mode": 2, "delivery_info": {"exchange": "", "routing_key": "celery"}, "priority": 0, "body_encoding": "base64", "delivery_tag": "3b6affac-880c-4b91-a001-506184423622"}}"#;

    #[test]
    fn reads_the_captured_python_envelope() {
        let m = decode(CAPTURED).expect("captured envelope");
        assert_eq!(m.headers.task, "tasks.add");
        assert_eq!(m.body.args, vec![Value::from(2), Value::from(3)]);
        assert_eq!(
            delivery_tag(CAPTURED).as_deref(),
            Some("3b6affac-880c-4b91-a001-506184423622")
        );
    }

    #[test]
    fn writes_what_it_reads_with_the_mandatory_properties() {
        let m = TaskMessage::new("tasks.add", vec![Value::from(1), Value::from(2)]);
        let raw = encode("q1", &m, "tag-1");
        let v: Value = serde_json::from_str(&raw).expect("json");
        assert_eq!(v["properties"]["delivery_info"]["routing_key"], "q1");
        assert_eq!(v["properties"]["delivery_tag"], "tag-1");
        assert_eq!(v["headers"]["retries"], 0);
        assert_eq!(decode(&raw).expect("round trip"), m);
    }

    #[test]
    fn bad_base64_and_missing_headers_are_malformed() {
        let bad = CAPTURED.replace("W1syLCAz", "!!!!");
        let err = decode(&bad).expect_err("bad base64");
        assert!(err.to_string().contains("not base64"), "{err}");
        assert_eq!(
            err.task_id.as_deref(),
            Some("b882c9c3-fa88-4847-a189-029a060c1c45")
        );
        let err = decode(r#"{"body": "W10=", "properties": {}}"#).expect_err("headers");
        assert!(err.to_string().contains("no headers"), "{err}");
        let err = decode(r#"{"body": "W10=", "headers": {"id": "x"}, "properties": {"body_encoding": "base64"}}"#)
            .expect_err("no task");
        assert!(err.to_string().contains("`task`"), "{err}");
    }
}
