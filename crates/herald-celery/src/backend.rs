//! The Redis result backend as Celery writes it: `celery-task-meta-<id>`, a JSON string
//! `{status, result, traceback, children, date_done, task_id}` with a TTL, PUBLISHed on
//! the channel named like the key, so Python's `AsyncResult.get()` hears it.

use std::time::Duration;

use crate::redis_conn::{self, Conn};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::CeleryError;
use crate::protocol::format_time;

/// A task's state, as Celery names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TaskState {
    Pending,
    Received,
    Started,
    Retry,
    Failure,
    Success,
    Revoked,
}

impl TaskState {
    /// SUCCESS, FAILURE and REVOKED: nothing more will happen.
    pub fn is_ready(self) -> bool {
        matches!(
            self,
            TaskState::Success | TaskState::Failure | TaskState::Revoked
        )
    }
}

/// An exception as the backend stores it (`exc_message` is the exception's args).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceptionInfo {
    pub exc_type: String,
    pub exc_message: Vec<Value>,
    pub exc_module: String,
}

impl std::fmt::Display for ExceptionInfo {
    /// As Python prints it: `ValueError: boom`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.exc_type)?;
        for (i, arg) in self.exc_message.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match arg {
                Value::String(s) => f.write_str(s)?,
                other => write!(f, "{other}")?,
            }
        }
        Ok(())
    }
}

/// One stored result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultMeta {
    pub status: TaskState,
    pub result: Value,
    pub traceback: Option<String>,
    #[serde(default)]
    pub children: Vec<Value>,
    pub date_done: Option<String>,
    pub task_id: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ResultMeta {
    fn new(task_id: &str, status: TaskState, result: Value) -> Self {
        ResultMeta {
            status,
            result,
            traceback: None,
            children: Vec::new(),
            date_done: status.is_ready().then(|| format_time(chrono::Utc::now())),
            task_id: task_id.to_owned(),
            extra: Map::new(),
        }
    }

    pub fn success(task_id: &str, result: Value) -> Self {
        Self::new(task_id, TaskState::Success, result)
    }

    pub fn failure(task_id: &str, exc: &ExceptionInfo, traceback: Option<String>) -> Self {
        let mut m = Self::new(task_id, TaskState::Failure, json!(exc));
        m.traceback = traceback;
        m
    }

    pub fn retry(task_id: &str, exc: Option<&ExceptionInfo>) -> Self {
        Self::new(task_id, TaskState::Retry, json!(exc))
    }

    pub fn started(task_id: &str, hostname: &str) -> Self {
        Self::new(
            task_id,
            TaskState::Started,
            json!({"pid": std::process::id(), "hostname": hostname}),
        )
    }

    /// REVOKED with Celery's `TaskRevokedError(reason)` ("expired", "revoked", ...).
    pub fn revoked(task_id: &str, reason: &str) -> Self {
        Self::new(
            task_id,
            TaskState::Revoked,
            json!({"exc_type": "TaskRevokedError", "exc_message": [reason],
                   "exc_module": "celery.exceptions"}),
        )
    }

    /// The exception of a FAILURE, RETRY or REVOKED result.
    pub fn exception(&self) -> Option<ExceptionInfo> {
        serde_json::from_value(self.result.clone()).ok()
    }
}

/// The Redis result backend.
#[derive(Clone)]
pub struct RedisBackend {
    client: redis::Client,
    conn: Conn,
    expires: Option<Duration>,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

pub fn result_key(task_id: &str) -> String {
    format!("celery-task-meta-{task_id}")
}

impl RedisBackend {
    /// `redis://host:port/db`; results expire after a day (Celery's `result_expires`).
    pub async fn connect(url: &str) -> Result<Self, CeleryError> {
        let client = redis::Client::open(url).map_err(|e| CeleryError::Url {
            url: herald_core::redact_url(url),
            reason: e.to_string(),
        })?;
        let conn = redis_conn::connect(&client, Duration::from_secs(10)).await?;
        Ok(RedisBackend {
            client,
            conn,
            expires: Some(Duration::from_secs(86_400)),
        })
    }

    /// How long results are kept (`None`: for good).
    pub fn with_expires(mut self, expires: Option<Duration>) -> Self {
        self.expires = expires;
        self
    }

    /// Stores and publishes `meta`, unless the task already has a SUCCESS (Celery never
    /// overwrites one).
    pub async fn store(&self, meta: &ResultMeta) -> Result<(), CeleryError> {
        let key = result_key(&meta.task_id);
        let mut conn = self.conn.clone();
        if meta.status != TaskState::Success
            && let Some(current) = self.get(&meta.task_id).await?
            && current.status == TaskState::Success
        {
            return Ok(());
        }
        let payload = serde_json::to_string(meta).expect("a result always serializes");
        let mut pipe = redis::pipe();
        match self.expires {
            Some(ttl) => pipe.set_ex(&key, &payload, ttl.as_secs().max(1)).ignore(),
            None => pipe.set(&key, &payload).ignore(),
        };
        pipe.publish(&key, &payload).ignore();
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    /// The stored result, `None` while PENDING.
    pub async fn get(&self, task_id: &str) -> Result<Option<ResultMeta>, CeleryError> {
        let mut conn = self.conn.clone();
        let raw: Option<String> = redis::cmd("GET")
            .arg(result_key(task_id))
            .query_async(&mut conn)
            .await?;
        raw.map(|r| {
            serde_json::from_str(&r).map_err(|e| {
                CeleryError::Other(format!(
                    "result of task {task_id} is not Celery's JSON: {e}"
                ))
            })
        })
        .transpose()
    }

    /// Waits for a ready state (SUCCESS, FAILURE, REVOKED), listening on the key's
    /// channel as Python does, with a read every second as a safety net.
    pub async fn wait(&self, task_id: &str, timeout: Duration) -> Result<ResultMeta, CeleryError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut pubsub = self.client.get_async_pubsub().await?;
        pubsub.subscribe(result_key(task_id)).await?;
        let mut messages = pubsub.on_message();
        loop {
            if let Some(meta) = self.get(task_id).await?
                && meta.status.is_ready()
            {
                return Ok(meta);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(CeleryError::Timeout {
                    task_id: task_id.to_owned(),
                    waited: timeout,
                });
            }
            let next = (now + Duration::from_secs(1)).min(deadline);
            if let Ok(Some(msg)) = tokio::time::timeout_at(next, messages.next()).await
                && let Ok(payload) = msg.get_payload::<String>()
                && let Ok(meta) = serde_json::from_str::<ResultMeta>(&payload)
                && meta.status.is_ready()
            {
                return Ok(meta);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_celerys_failure_and_writes_its_shape() {
        let raw = r#"{"status": "FAILURE", "result": {"exc_type": "ValueError", "exc_message": ["boom"], "exc_module": "builtins"}, "traceback": "Traceback ...", "children": [], "date_done": "2026-11-27T18:21:36.472274+00:00", "task_id": "627e"}"#;
        let meta: ResultMeta = serde_json::from_str(raw).expect("meta");
        assert_eq!(meta.status, TaskState::Failure);
        let exc = meta.exception().expect("exception");
        assert_eq!(exc.exc_type, "ValueError");
        let ok = serde_json::to_value(ResultMeta::success("t1", json!(5))).expect("json");
        assert_eq!(ok["status"], "SUCCESS");
        assert_eq!(ok["result"], 5);
        assert!(ok["date_done"].is_string());
        assert_eq!(ok["children"], json!([]));
        let started = serde_json::to_value(ResultMeta::started("t1", "h")).expect("json");
        assert!(started["date_done"].is_null());
    }
}
