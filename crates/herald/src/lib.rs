//! herald: reliable message-driven systems in Rust.
//!
//! Derive versioned events with `#[derive(Event)]`, write idempotent handlers with
//! `#[herald::handler]`, and run them with a [`Worker`] over a transport: the in-memory
//! one here, RabbitMQ, Kafka, SQS or Celery in their crates.

pub use herald_core::*;
pub use herald_derive::*;

/// Paths the macros expand to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use herald_core::catalog::EventDescriptor;
    pub use herald_core::{async_trait, decode_current, schemars, serde_json, unknown_version};
    pub use inventory;
}
