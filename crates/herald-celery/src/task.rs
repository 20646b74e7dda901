//! Tasks in Rust: a name, Celery's options, and an async function of the request.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::backend::ExceptionInfo;
use crate::protocol::TaskHeaders;

/// What a task function receives: its arguments and the message's headers.
#[derive(Debug, Clone)]
pub struct TaskRequest {
    pub id: String,
    pub args: Vec<Value>,
    pub kwargs: Map<String, Value>,
    pub headers: TaskHeaders,
    soft_limit: CancellationToken,
}

impl TaskRequest {
    pub fn new(headers: TaskHeaders, args: Vec<Value>, kwargs: Map<String, Value>) -> Self {
        TaskRequest {
            id: headers.id.clone(),
            args,
            kwargs,
            headers,
            soft_limit: CancellationToken::new(),
        }
    }

    /// The task's name (`tasks.add`).
    pub fn name(&self) -> &str {
        &self.headers.task
    }

    /// How many times it was retried before this run.
    pub fn retries(&self) -> u32 {
        self.headers.retries
    }

    /// Cancelled when the soft time limit passes: a long task should watch it and stop
    /// cleanly (Celery raises `SoftTimeLimitExceeded` inside the task instead).
    pub fn soft_time_limit(&self) -> &CancellationToken {
        &self.soft_limit
    }

    pub(crate) fn with_soft_limit(mut self, token: CancellationToken) -> Self {
        self.soft_limit = token;
        self
    }

    /// Checks the arguments against the parameter names as Python's call would: too many
    /// positional arguments, an unknown keyword, or one given twice is a `TypeError`.
    pub fn check_arguments(&self, params: &[&str]) -> Result<(), TaskError> {
        let name = self.name();
        if self.args.len() > params.len() {
            return Err(TaskError::type_error(format!(
                "{name}() takes {} positional arguments but {} were given",
                params.len(),
                self.args.len()
            )));
        }
        for key in self.kwargs.keys() {
            match params.iter().position(|p| p == key) {
                None => {
                    return Err(TaskError::type_error(format!(
                        "{name}() got an unexpected keyword argument '{key}'"
                    )));
                }
                Some(i) if i < self.args.len() => {
                    return Err(TaskError::type_error(format!(
                        "{name}() got multiple values for argument '{key}'"
                    )));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Parameter `name` at `position`: the positional argument if there are that many,
    /// else the keyword argument. Missing or of the wrong type: a `TypeError` naming it.
    pub fn arg<T: DeserializeOwned>(&self, position: usize, name: &str) -> Result<T, TaskError> {
        let value = self.args.get(position).or_else(|| self.kwargs.get(name));
        match value {
            Some(v) => T::deserialize(v).map_err(|e| {
                TaskError::type_error(format!(
                    "{}() argument '{name}': {e} (got {v})",
                    self.name()
                ))
            }),
            None => Err(TaskError::type_error(format!(
                "{}() missing required argument: '{name}'",
                self.name()
            ))),
        }
    }

    /// As [`TaskRequest::arg`], with a default when the argument is absent (a parameter
    /// with a default value, or an `Option`).
    pub fn arg_or<T: DeserializeOwned>(
        &self,
        position: usize,
        name: &str,
        default: impl FnOnce() -> T,
    ) -> Result<T, TaskError> {
        if self.args.get(position).is_none() && !self.kwargs.contains_key(name) {
            return Ok(default());
        }
        self.arg(position, name)
    }
}

/// A retry the task asked for (Celery's `self.retry(countdown=..., exc=...)`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RetryRequest {
    /// Delay before the next run; the task's `default_retry_delay` when `None`.
    pub countdown: Option<Duration>,
    /// Stored with the RETRY state, and as the FAILURE once retries run out.
    pub exc: Option<ExceptionInfo>,
}

/// How a task run ended other than with a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TaskError {
    /// FAILURE with this exception, as Python reads it back (`exc_type`, `exc_message`,
    /// `exc_module`).
    #[error("{0}")]
    Failure(ExceptionInfo),
    /// Run again later, as a new message with `retries + 1`.
    #[error("retry")]
    Retry(RetryRequest),
}

impl TaskError {
    /// A failure with a Python builtin exception type (`ValueError`, `KeyError`, ...) or
    /// any name; Python rebuilds it (an unknown name gives a synthetic class).
    pub fn failure(exc_type: &str, message: impl Into<String>) -> Self {
        Self::exception("builtins", exc_type, vec![Value::String(message.into())])
    }

    /// A failure with the exception's module, type and args.
    pub fn exception(module: &str, exc_type: &str, args: Vec<Value>) -> Self {
        TaskError::Failure(ExceptionInfo {
            exc_type: exc_type.to_owned(),
            exc_message: args,
            exc_module: module.to_owned(),
        })
    }

    pub fn type_error(message: String) -> Self {
        Self::failure("TypeError", message)
    }

    /// Retry after the task's default delay.
    pub fn retry() -> Self {
        TaskError::Retry(RetryRequest::default())
    }

    /// Retry after `countdown`.
    pub fn retry_in(countdown: Duration) -> Self {
        TaskError::Retry(RetryRequest {
            countdown: Some(countdown),
            exc: None,
        })
    }

    /// The exception type, for `autoretry_for`.
    pub fn exc_type(&self) -> Option<&str> {
        match self {
            TaskError::Failure(e) => Some(&e.exc_type),
            TaskError::Retry(_) => None,
        }
    }
}

/// Celery's task options, with Celery's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskOptions {
    /// Runs at most `1 + max_retries` times; `None` retries for ever (default 3).
    pub max_retries: Option<u32>,
    /// Delay of a retry without a countdown (default 180 s).
    pub default_retry_delay: Duration,
    /// Exception types (`exc_type`) that retry by themselves.
    pub autoretry_for: Vec<String>,
    /// Exponential backoff factor for autoretries (0: off; 1: 1 s, 2 s, 4 s, ...).
    pub retry_backoff: u32,
    /// Cap of the backoff (default 600 s).
    pub retry_backoff_max: Duration,
    /// Full jitter on the backoff: a uniform delay in [0, backoff] (default on).
    pub retry_jitter: bool,
    /// Ack after the run rather than before: a crash mid-run redelivers it.
    pub acks_late: bool,
    /// With `acks_late`, a worker that dies mid-run gets the message redelivered. A
    /// killed Rust worker never acks, so this is always the case; kept for parity.
    pub reject_on_worker_lost: bool,
    /// Hard limit: the run is aborted and FAILURE `TimeLimitExceeded` stored.
    pub time_limit: Option<Duration>,
    /// Soft limit: the request's `soft_time_limit()` token is cancelled.
    pub soft_time_limit: Option<Duration>,
    /// Store nothing (SUCCESS or FAILURE) in the result backend.
    pub ignore_result: bool,
    /// Store STARTED when the run begins.
    pub track_started: bool,
    /// At most this many runs per second on this worker (Celery's `rate_limit`
    /// "10/s", "100/m", "1000/h").
    pub rate_limit: Option<f64>,
}

impl Default for TaskOptions {
    fn default() -> Self {
        TaskOptions {
            max_retries: Some(3),
            default_retry_delay: Duration::from_secs(180),
            autoretry_for: Vec::new(),
            retry_backoff: 0,
            retry_backoff_max: Duration::from_secs(600),
            retry_jitter: true,
            acks_late: false,
            reject_on_worker_lost: false,
            time_limit: None,
            soft_time_limit: None,
            ignore_result: false,
            track_started: false,
            rate_limit: None,
        }
    }
}

/// Parses Celery's rate limit ("10/s", "100/m", "1000/h", or a bare number per second)
/// into runs per second.
pub fn parse_rate_limit(s: &str) -> Result<f64, String> {
    let (n, unit) = s.split_once('/').unwrap_or((s, "s"));
    let n: f64 = n
        .trim()
        .parse()
        .map_err(|_| format!("rate limit `{s}`: `{n}` is not a number"))?;
    let per = match unit.trim() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        u => return Err(format!("rate limit `{s}`: unit `{u}` is not s, m or h")),
    };
    if n <= 0.0 {
        return Err(format!("rate limit `{s}` must be positive"));
    }
    Ok(n / per)
}

/// The function behind a task.
pub trait TaskFn: Send + Sync + 'static {
    fn call(&self, request: TaskRequest) -> BoxFuture<'static, Result<Value, TaskError>>;
}

impl<F, Fut, R> TaskFn for F
where
    F: Fn(TaskRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, TaskError>> + Send + 'static,
    R: Serialize,
{
    fn call(&self, request: TaskRequest) -> BoxFuture<'static, Result<Value, TaskError>> {
        let fut = self(request);
        Box::pin(async move {
            let value = fut.await?;
            serde_json::to_value(value).map_err(|e| {
                TaskError::exception(
                    "kombu.exceptions",
                    "EncodeError",
                    vec![Value::String(e.to_string())],
                )
            })
        })
    }
}

/// A registered task.
#[derive(Clone)]
pub struct Task {
    pub name: String,
    pub options: TaskOptions,
    pub(crate) func: Arc<dyn TaskFn>,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task")
            .field("name", &self.name)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Task {
    /// A task named `name` (as Python knows it, `tasks.add`) running `func`.
    pub fn new(name: impl Into<String>, func: impl TaskFn) -> Self {
        Task {
            name: name.into(),
            options: TaskOptions::default(),
            func: Arc::new(func),
        }
    }

    pub fn options(mut self, options: TaskOptions) -> Self {
        self.options = options;
        self
    }

    /// Changes some options in place.
    pub fn configure(mut self, f: impl FnOnce(&mut TaskOptions)) -> Self {
        f(&mut self.options);
        self
    }
}

/// The tasks a worker runs, by name.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    tasks: HashMap<String, Task>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, task: Task) -> &mut Self {
        self.tasks.insert(task.name.clone(), task);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Task> {
        self.tasks.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tasks.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(args: Value, kwargs: Value) -> TaskRequest {
        TaskRequest::new(
            TaskHeaders::new("tasks.add", "id-1"),
            serde_json::from_value(args).expect("args"),
            serde_json::from_value(kwargs).expect("kwargs"),
        )
    }

    #[test]
    fn args_map_by_position_then_name() {
        let r = request(json!([2]), json!({"y": 3}));
        r.check_arguments(&["x", "y"]).expect("fits");
        assert_eq!(r.arg::<i64>(0, "x"), Ok(2));
        assert_eq!(r.arg::<i64>(1, "y"), Ok(3));
        assert_eq!(r.arg_or::<i64>(2, "z", || 9), Ok(9));
    }

    #[test]
    fn missing_mistyped_and_extra_arguments_are_type_errors() {
        let r = request(json!([2]), json!({}));
        let err = r.arg::<i64>(1, "y").expect_err("missing");
        assert_eq!(
            err,
            TaskError::failure("TypeError", "tasks.add() missing required argument: 'y'")
        );
        let r = request(json!(["two"]), json!({}));
        let err = r.arg::<i64>(0, "x").expect_err("mistyped").to_string();
        assert!(
            err.contains("argument 'x'") && err.contains("\"two\""),
            "{err}"
        );
        let r = request(json!([1, 2, 3]), json!({}));
        assert!(r.check_arguments(&["x", "y"]).is_err());
        let r = request(json!([1]), json!({"x": 1}));
        let err = r
            .check_arguments(&["x", "y"])
            .expect_err("twice")
            .to_string();
        assert!(err.contains("multiple values"), "{err}");
        let r = request(json!([]), json!({"w": 1}));
        assert!(r.check_arguments(&["x", "y"]).is_err());
    }

    #[test]
    fn rate_limits_parse_as_celerys() {
        assert_eq!(parse_rate_limit("10/s"), Ok(10.0));
        assert_eq!(parse_rate_limit("120/m"), Ok(2.0));
        assert_eq!(parse_rate_limit("5"), Ok(5.0));
        assert!(parse_rate_limit("5/d").is_err());
        assert!(parse_rate_limit("x/s").is_err());
    }
}
