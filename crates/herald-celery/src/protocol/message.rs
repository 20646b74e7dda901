//! One task message, independent of the broker that carries it.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{TaskBody, TaskHeaders, parse_time};

/// The broker properties Celery sets on a task message.
#[derive(Debug, Clone, PartialEq)]
pub struct Properties {
    /// The task id.
    pub correlation_id: String,
    /// The producer's oid (only the rpc result backend uses it).
    pub reply_to: Option<String>,
    /// 0 unless set. On Redis 0 is the highest priority, on RabbitMQ the lowest.
    pub priority: u8,
    /// 2: persistent.
    pub delivery_mode: u8,
}

/// A task message: headers, properties and the decoded body.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskMessage {
    pub headers: TaskHeaders,
    pub properties: Properties,
    pub body: TaskBody,
}

/// A message the worker cannot run: logged and dropped (Celery rejects it without requeue
/// and stores nothing).
#[derive(Debug, Clone, thiserror::Error)]
#[error("malformed Celery message{}: {reason}", task_id.as_ref().map(|id| format!(" (task id {id})")).unwrap_or_default())]
pub struct MalformedMessage {
    pub task_id: Option<String>,
    pub reason: String,
}

impl MalformedMessage {
    pub fn new(reason: impl Into<String>) -> Self {
        MalformedMessage {
            task_id: None,
            reason: reason.into(),
        }
    }
}

impl TaskMessage {
    /// A new message for `task` with a fresh id (uuid4, as Celery's).
    pub fn new(task: impl Into<String>, args: Vec<Value>) -> Self {
        Self::with_id(task, uuid::Uuid::new_v4().to_string(), args)
    }

    pub fn with_id(task: impl Into<String>, id: String, args: Vec<Value>) -> Self {
        let mut headers = TaskHeaders::new(task, id.clone());
        headers.argsrepr = Some(Value::Array(args.clone()).to_string());
        headers.kwargsrepr = Some("{}".to_owned());
        TaskMessage {
            headers,
            properties: Properties {
                correlation_id: id,
                reply_to: None,
                priority: 0,
                delivery_mode: 2,
            },
            body: TaskBody {
                args,
                ..TaskBody::default()
            },
        }
    }

    pub fn id(&self) -> &str {
        &self.headers.id
    }

    /// Reads headers (a JSON object) and the raw JSON body.
    pub fn from_parts(
        headers: Value,
        properties: Properties,
        body: &[u8],
    ) -> Result<Self, MalformedMessage> {
        let task_id = headers.get("id").and_then(Value::as_str).map(str::to_owned);
        let malformed = |reason: String| MalformedMessage {
            task_id: task_id.clone(),
            reason,
        };
        let headers: TaskHeaders = serde_json::from_value(headers)
            .map_err(|e| malformed(format!("headers: {e} (protocol 2 needs `task` and `id`)")))?;
        let body: TaskBody =
            serde_json::from_slice(body).map_err(|e| malformed(format!("body: {e}")))?;
        for (name, value) in [("eta", &headers.eta), ("expires", &headers.expires)] {
            if let Some(v) = value
                && parse_time(v).is_none()
            {
                return Err(malformed(format!("{name} `{v}` is not an ISO-8601 time")));
            }
        }
        Ok(TaskMessage {
            headers,
            properties,
            body,
        })
    }

    pub fn body_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.body).expect("a task body always serializes")
    }

    pub fn eta(&self) -> Option<DateTime<Utc>> {
        self.headers.eta.as_deref().and_then(parse_time)
    }

    pub fn expires(&self) -> Option<DateTime<Utc>> {
        self.headers.expires.as_deref().and_then(parse_time)
    }
}
