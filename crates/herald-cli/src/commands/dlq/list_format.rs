//! How `herald dlq list` prints: human, or JSON for scripts.
//!
//! # The JSON format (`--format json`), version 1
//!
//! Stable: fields may be added, none removed or changed in meaning while `format_version` is 1.
//!
//! ```json
//! {
//!   "format_version": 1,
//!   "queue": "orders",                  // the queue or topic asked about (its `<queue>.dlq`)
//!   "count": 1,
//!   "dead_letters": [{                  // oldest first
//!     "event_id": "0190f0e0-…",         // each of these may be null when the message lacks it
//!     "event_type": "order.placed",
//!     "aggregate_id": "o-42",
//!     "origin": "orders",               // where it was consumed from
//!     "reason": "permanent: card declined",
//!     "handler": "payments.charge",
//!     "attempts": 4,
//!     "first_failure_at": "2026-12-01T02:49:46Z",
//!     "last_failure_at": "2026-12-01T02:49:47Z",
//!     "payload": {"event_id": "…", "data": {…}},   // the payload when it is JSON, else null
//!     "payload_base64": null             // the payload's bytes when it is not JSON, else null
//!   }]
//! }
//! ```

use base64::Engine as _;
use herald_core::dead_letters::DeadLetterEntry;
use serde_json::{Value, json};

use super::print_entry;

/// `--format` of `dlq list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

pub fn print(entries: &[DeadLetterEntry], queue: &str, format: ListFormat) -> anyhow::Result<()> {
    match format {
        ListFormat::Human => {
            for entry in entries {
                print_entry(entry);
            }
            println!("{} dead letter(s) in {queue}.dlq", entries.len());
        }
        ListFormat::Json => {
            let doc = json!({
                "format_version": 1,
                "queue": queue,
                "count": entries.len(),
                "dead_letters": entries.iter().map(to_json).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
    }
    Ok(())
}

fn to_json(e: &DeadLetterEntry) -> Value {
    let payload: Option<Value> = serde_json::from_slice(&e.payload).ok();
    let payload_base64 = payload
        .is_none()
        .then(|| base64::engine::general_purpose::STANDARD.encode(&e.payload));
    json!({
        "event_id": e.event_id,
        "event_type": e.event_type,
        "aggregate_id": e.aggregate_id(),
        "origin": e.origin,
        "reason": e.reason,
        "handler": e.handler,
        "attempts": e.attempts,
        "first_failure_at": e.first_failure_at,
        "last_failure_at": e.last_failure_at,
        "payload": payload,
        "payload_base64": payload_base64,
    })
}
