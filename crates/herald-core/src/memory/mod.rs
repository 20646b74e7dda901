//! The in-memory transport: the embedded default for examples and tests, with a broker's
//! semantics rather than a shortcut around them. A delivery that is not settled comes back
//! after the visibility timeout; a retry waits its delay; dead letters are kept per queue
//! and can be listed and replayed.
//!
//! ```
//! # use herald_core::memory::MemoryBroker;
//! let broker = MemoryBroker::new();
//! broker.bind("order.created", "billing"); // fan out: each bound queue gets a copy
//! broker.bind("order.created", "shipping");
//! ```

mod broker;
mod dead_letters;
mod queue;

pub use broker::{DeadLetterRecord, MemoryBroker, MemoryConfig, MemorySubscriber, QueueStats};
