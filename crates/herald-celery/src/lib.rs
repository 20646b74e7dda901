//! herald-celery: Celery-compatible workers and producers.
//!
//! Rust tasks run what Python sends with `delay`/`apply_async`/`send_task`, and Rust
//! sends tasks Python workers run, on the same Redis or RabbitMQ, with Celery's task
//! protocol v2 (JSON) and its Redis result backend.
//!
//! - [`Broker`]: Redis as kombu lays it out, or RabbitMQ as Celery declares it.
//! - [`Worker`] runs [`Task`]s; [`Client`] sends tasks and reads [`AsyncResult`]s.
//! - [`RedisBackend`]: `celery-task-meta-<id>` results, PUBLISHed for waiters.

// `#[herald::task]` expands to `::herald_celery::...`; valid inside this crate too.
extern crate self as herald_celery;

pub mod backend;
pub mod broker;
mod error;
pub mod events;
pub mod producer;
pub mod protocol;
mod redis_conn;
pub mod task;
mod worker;

pub use backend::{ExceptionInfo, RedisBackend, ResultMeta, TaskState};
pub use broker::{Broker, RedisOptions};
pub use error::CeleryError;
pub use producer::{AsyncResult, Client, ResultError, SendTask};
pub use protocol::{Signature, TaskMessage};
pub use task::{Registry, RetryRequest, Task, TaskError, TaskOptions, TaskRequest};
pub use worker::{Worker, WorkerBuilder, WorkerStats};
