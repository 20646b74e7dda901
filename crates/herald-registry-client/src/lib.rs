//! A client for herald-registry (and any Confluent-compatible schema registry), with caches
//! of schemas by id and of ids by (subject, schema).
//!
//! Its own crate so that herald-kafka (the Confluent wire format) and the `herald` CLI link
//! an HTTP client only, not the registry server (axum, sqlx, utoipa).
//!
//! ```no_run
//! # async fn run() -> Result<(), herald_registry_client::ClientError> {
//! use herald_registry_client::RegistryClient;
//! let client = RegistryClient::new("http://127.0.0.1:8081")?;
//! let id = client.register("order.created", r#"{"type":"object"}"#, &[]).await?;
//! let schema = client.schema_by_id(id).await?;
//! # let _ = schema; Ok(()) }
//! ```

mod auth;
mod client;
mod error;
mod wire;

pub use auth::Auth;
pub use client::RegistryClient;
pub use error::ClientError;
pub use wire::{Compatibility, FetchedSchema, Reference, SubjectSchema};

/// Media type of every registry response (requests may also use
/// `application/vnd.schemaregistry+json` or `application/json`).
pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";
