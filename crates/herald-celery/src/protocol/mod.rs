//! Celery's task protocol v2: headers, body `[args, kwargs, embed]` and the broker
//! properties, in JSON, as Celery 5 writes them.

mod body;
mod headers;
mod message;
mod time;

pub use body::{Embed, Signature, TaskBody};
pub use headers::TaskHeaders;
pub use message::{MalformedMessage, Properties, TaskMessage};
pub use time::{format_time, parse_time};
