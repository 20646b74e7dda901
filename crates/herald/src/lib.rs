//! herald: reliable message-driven systems in Rust.
//!
//! Derive versioned events with `#[derive(Event)]`, write idempotent handlers with
//! `#[herald::handler]`, and run them with a [`Worker`] over a transport: the in-memory
//! one here, RabbitMQ, Kafka, SQS or Celery in their crates. [`schemas`] keeps the
//! exported JSON Schemas of every event in step with the code.

// Generated code names `::herald::__private`; this makes that path valid inside this
// crate too (its doc tests).
extern crate self as herald;

pub use herald_core::*;
pub use herald_derive::*;

pub mod schemas;

/// Paths the macros expand to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use herald_core::catalog::EventDescriptor;
    pub use herald_core::{
        Context, DecodeError, Envelope, Event, Handler, HandlerError, Jitter, RetryPolicy,
        async_trait, decode_current, schemars, serde_json, unknown_version,
    };
    pub use inventory;

    pub use crate::schemas::{ContentModel, event_schema};

    /// `a == b` in a const context (the derive's check that `previous` has the same name).
    pub const fn same_name(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// Calls a handler's `idempotency_key = |envelope| ...`; the bound gives the closure
    /// its argument type.
    #[inline]
    pub fn handler_key<E, K: Into<String>>(
        envelope: &Envelope<E>,
        key: impl FnOnce(&Envelope<E>) -> K,
    ) -> String {
        key(envelope).into()
    }
}
