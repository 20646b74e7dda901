//! herald-core: the parts of herald that every application touches, free of any broker,
//! database or HTTP dependency.
//!
//! - [`Event`]: a versioned domain event (usually derived with `#[derive(Event)]`).
//! - [`Envelope`]: the event with its metadata, as it travels.
//! - [`Handler`], [`HandlerError`], [`Context`]: what processes events.
//! - [`RetryPolicy`]: when a failed handler runs again.
//! - [`IdempotencyStore`]: claim / complete / release, so duplicates are skipped.
//! - [`Publisher`], [`Subscriber`], [`Delivery`]: what a transport implements.
//! - [`Producer`] publishes events; [`Worker`] runs handlers over a subscriber.
//! - [`memory`]: the in-memory transport, with a broker's semantics.

pub mod catalog;
mod context;
pub mod dead_letters;
mod envelope;
mod error;
mod event;
mod extensions;
mod handler;
pub mod headers;
mod idempotency;
pub mod memory;
mod producer;
mod redact;
mod retry;
#[cfg(feature = "testing")]
pub mod testing;
mod transport;
#[cfg(feature = "validation")]
pub mod validation;
mod worker;

pub use context::Context;
pub use dead_letters::DeadLetters;
pub use envelope::{Envelope, EnvelopeMeta, RawEnvelope};
pub use error::{DecodeError, PublishError, TransportError};
pub use event::Event;
#[doc(hidden)]
pub use event::{decode_current, unknown_version};
pub use extensions::Extensions;
pub use handler::{ErrorKind, Handler, HandlerError};
pub use idempotency::{
    Claim, IdempotencyStore, LeaseToken, MemoryIdempotencyStore, StoreError, claim_key,
    composite_key,
};
pub use producer::Producer;
pub use redact::redact_url;
pub use retry::{Jitter, RetryPolicy};
pub use transport::{
    Acknowledger, DeadLetter, Delivery, Headers, IncomingMessage, OutgoingMessage, Publisher,
    Retry, Subscriber,
};
pub use worker::{ShutdownReport, Worker, WorkerBuilder, WorkerMetrics, WorkerStats};

/// Re-exported so that generated code and users share one version.
pub use {async_trait::async_trait, schemars, serde_json, uuid};
