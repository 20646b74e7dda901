//! herald's Amazon SQS runtime, on the official `aws-sdk-sqs`.
//!
//! - [`Sqs`]: the client (region, credentials and endpoint from the standard AWS environment
//!   and profile chain, `AWS_ENDPOINT_URL` included) and the queue URLs it has looked up.
//! - [`create_queues`](Sqs::create_queues): a queue, its `<queue>-dlq` and the redrive policy.
//! - [`SqsPublisher`]: `SendMessage`, and `SendMessageBatch` for batches (failed entries retried,
//!   never reported as sent); headers as message attributes ([`attributes`]).
//! - [`SqsSubscriber`]: long-polling pollers, a visibility heartbeat per unsettled delivery,
//!   retries by visibility, herald's own dead-lettering, FIFO groups one message at a time.
//! - [`SqsDeadLetters`]: `herald dlq list|replay|purge` on SQS.
//!
//! README.md has the semantics, the limits SQS sets and where moto differs from SQS.

mod acker;
pub mod attributes;
mod client;
mod deletes;
mod dlq;
mod error;
mod gate;
mod publisher;
mod subscriber;
mod topology;

pub use client::Sqs;
pub use dlq::SqsDeadLetters;
pub use error::{EntryFailure, SqsError};
pub use herald_core::dead_letters::{DeadLetterEntry, PurgeReport, ReplayReport, Selection};
pub use publisher::{MAX_MESSAGE_BYTES, SqsPublisher};
pub use subscriber::{SqsSubscriber, SubscriberBuilder};
pub use topology::{QueueOptions, QueueUrls, dead_letter_queue, is_fifo};
