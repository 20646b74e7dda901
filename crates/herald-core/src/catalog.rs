//! Every event type derived in a binary, collected at link time (the `inventory` crate),
//! so tools can export or check their schemas without a hand-kept list.

/// One derived event type and version.
#[derive(Debug)]
pub struct EventDescriptor {
    /// The event type (`order.created`).
    pub name: &'static str,
    pub version: u32,
    /// The Rust type's path, for messages.
    pub rust_type: &'static str,
    /// The JSON Schema of this version.
    pub schema: fn() -> serde_json::Value,
}

inventory::collect!(EventDescriptor);

/// Every event type and version linked into this binary, sorted by name then version.
pub fn events() -> Vec<&'static EventDescriptor> {
    let mut all: Vec<_> = inventory::iter::<EventDescriptor>.into_iter().collect();
    all.sort_by(|a, b| (a.name, a.version).cmp(&(b.name, b.version)));
    all
}

#[doc(hidden)]
pub use inventory::submit;
