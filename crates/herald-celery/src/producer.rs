//! Sending tasks to Celery workers (Python or Rust) and reading their results.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::CeleryError;
use crate::backend::{ExceptionInfo, RedisBackend, ResultMeta, TaskState};
use crate::broker::Broker;
use crate::protocol::{Signature, TaskMessage, format_time};

/// A Celery app as a producer sees it: the broker, and the result backend if any.
#[derive(Debug, Clone)]
pub struct Client {
    broker: Broker,
    backend: Option<RedisBackend>,
    default_queue: String,
    origin: String,
}

impl Client {
    pub fn new(broker: Broker, backend: Option<RedisBackend>) -> Self {
        Client {
            broker,
            backend,
            default_queue: "celery".to_owned(),
            origin: format!("herald-celery-{}", std::process::id()),
        }
    }

    /// Connects to both from Celery URLs (`redis://...`, `amqp://...`).
    pub async fn connect(broker: &str, backend: Option<&str>) -> Result<Self, CeleryError> {
        let broker = Broker::connect(broker).await?;
        let backend = match backend {
            Some(url) => Some(RedisBackend::connect(url).await?),
            None => None,
        };
        Ok(Self::new(broker, backend))
    }

    /// The queue of tasks sent without one (default `celery`).
    pub fn default_queue(mut self, queue: impl Into<String>) -> Self {
        self.default_queue = queue.into();
        self
    }

    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    pub fn backend(&self) -> Option<&RedisBackend> {
        self.backend.as_ref()
    }

    /// Starts a task message, as Python's `send_task(name, args, kwargs)`.
    pub fn send_task(&self, name: impl Into<String>) -> SendTask<'_> {
        SendTask {
            client: self,
            message: TaskMessage::new(name, Vec::new()),
            queue: None,
        }
    }

    /// A handle on a task's result by id.
    pub fn result(&self, task_id: impl Into<String>) -> AsyncResult {
        AsyncResult {
            id: task_id.into(),
            backend: self.backend.clone(),
        }
    }
}

/// A task message being built; `send` publishes it.
#[derive(Debug)]
pub struct SendTask<'a> {
    client: &'a Client,
    message: TaskMessage,
    queue: Option<String>,
}

impl SendTask<'_> {
    /// Positional arguments, serialized with serde (a tuple or a `Vec`).
    pub fn args(mut self, args: impl Serialize) -> Result<Self, CeleryError> {
        self.message.body.args = match serde_json::to_value(args) {
            Ok(Value::Array(a)) => a,
            Ok(Value::Null) => Vec::new(),
            Ok(one) => vec![one],
            Err(e) => return Err(CeleryError::Other(format!("args: {e}"))),
        };
        self.message.headers.argsrepr =
            Some(Value::Array(self.message.body.args.clone()).to_string());
        Ok(self)
    }

    /// Keyword arguments, serialized with serde (a map or a struct).
    pub fn kwargs(mut self, kwargs: impl Serialize) -> Result<Self, CeleryError> {
        self.message.body.kwargs = match serde_json::to_value(kwargs) {
            Ok(Value::Object(m)) => m,
            Ok(Value::Null) => Map::new(),
            Ok(other) => {
                return Err(CeleryError::Other(format!(
                    "kwargs must serialize to an object, got {other}"
                )));
            }
            Err(e) => return Err(CeleryError::Other(format!("kwargs: {e}"))),
        };
        self.message.headers.kwargsrepr =
            Some(Value::Object(self.message.body.kwargs.clone()).to_string());
        Ok(self)
    }

    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    pub fn task_id(mut self, id: impl Into<String>) -> Self {
        let id = id.into();
        self.message.headers.root_id = Some(id.clone());
        self.message.properties.correlation_id = id.clone();
        self.message.headers.id = id;
        self
    }

    /// Runs no earlier than `countdown` from now (`headers.eta`).
    pub fn countdown(self, countdown: Duration) -> Self {
        let at = chrono::Utc::now() + chrono::Duration::from_std(countdown).unwrap_or_default();
        self.eta(at)
    }

    pub fn eta(mut self, at: chrono::DateTime<chrono::Utc>) -> Self {
        self.message.headers.eta = Some(format_time(at));
        self
    }

    /// Not run after `at`: the worker stores REVOKED ("expired") instead.
    pub fn expires(mut self, at: chrono::DateTime<chrono::Utc>) -> Self {
        self.message.headers.expires = Some(format_time(at));
        self
    }

    /// On Redis 0 is the highest priority (kombu), on RabbitMQ the lowest.
    pub fn priority(mut self, priority: u8) -> Self {
        self.message.properties.priority = priority;
        self
    }

    pub fn ignore_result(mut self, ignore: bool) -> Self {
        self.message.headers.ignore_result = ignore;
        self
    }

    /// `[hard, soft]` time limits for this run.
    pub fn time_limits(mut self, hard: Option<Duration>, soft: Option<Duration>) -> Self {
        self.message.headers.timelimit =
            (hard.map(|d| d.as_secs_f64()), soft.map(|d| d.as_secs_f64()));
        self
    }

    /// A callback: runs with this task's result prepended to its args.
    pub fn link(mut self, sig: Signature) -> Self {
        self.message
            .body
            .embed
            .callbacks
            .get_or_insert_with(Vec::new)
            .push(sig);
        self
    }

    /// An errback: runs with the failed task's id prepended to its args.
    pub fn link_error(mut self, sig: Signature) -> Self {
        self.message
            .body
            .embed
            .errbacks
            .get_or_insert_with(Vec::new)
            .push(sig);
        self
    }

    /// The steps after this one, in the order they run (each gets the previous result).
    pub fn chain(mut self, steps: Vec<Signature>) -> Self {
        let mut steps: Vec<Signature> = steps
            .into_iter()
            .map(|mut s| {
                s.options
                    .entry("task_id")
                    .or_insert_with(|| Value::String(uuid::Uuid::new_v4().to_string()));
                s
            })
            .collect();
        steps.reverse();
        self.message.body.embed.chain = Some(steps);
        self
    }

    /// The message as it will be sent.
    pub fn message(&self) -> &TaskMessage {
        &self.message
    }

    pub async fn send(mut self) -> Result<AsyncResult, CeleryError> {
        self.message.headers.origin = Some(self.client.origin.clone());
        let queue = self.queue.as_deref().unwrap_or(&self.client.default_queue);
        self.client.broker.publish(queue, &self.message).await?;
        Ok(self.client.result(self.message.headers.id.clone()))
    }
}

/// A task failed, was revoked, or its result could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ResultError {
    #[error("task failed: {0}")]
    Failed(ExceptionInfo),
    #[error("task revoked: {0}")]
    Revoked(ExceptionInfo),
    #[error(transparent)]
    Celery(#[from] CeleryError),
}

/// A task's result in the backend.
#[derive(Debug, Clone)]
pub struct AsyncResult {
    pub id: String,
    backend: Option<RedisBackend>,
}

impl AsyncResult {
    fn backend(&self) -> Result<&RedisBackend, CeleryError> {
        self.backend
            .as_ref()
            .ok_or_else(|| CeleryError::Other("no result backend configured".to_owned()))
    }

    /// The state now (PENDING when nothing is stored).
    pub async fn state(&self) -> Result<TaskState, CeleryError> {
        Ok(self
            .backend()?
            .get(&self.id)
            .await?
            .map_or(TaskState::Pending, |m| m.status))
    }

    /// The whole stored result, once ready.
    pub async fn wait_meta(&self, timeout: Duration) -> Result<ResultMeta, CeleryError> {
        self.backend()?.wait(&self.id, timeout).await
    }

    /// Waits for the result: the value on SUCCESS, the exception on FAILURE or REVOKED.
    pub async fn get(&self, timeout: Duration) -> Result<Value, ResultError> {
        let meta = self.wait_meta(timeout).await?;
        let exc = || {
            meta.exception().unwrap_or_else(|| ExceptionInfo {
                exc_type: "Exception".to_owned(),
                exc_message: vec![meta.result.clone()],
                exc_module: "builtins".to_owned(),
            })
        };
        match meta.status {
            TaskState::Success => Ok(meta.result.clone()),
            TaskState::Revoked => Err(ResultError::Revoked(exc())),
            _ => Err(ResultError::Failed(exc())),
        }
    }
}
