//! What herald reads off a Kafka record.

use herald_core::Headers;
use rdkafka::message::{Headers as _, Message};

/// The record's headers as text (values that are not UTF-8 are read lossily; headers
/// without a value are left out).
pub(crate) fn headers_of(m: &impl Message) -> Headers {
    let mut out = Headers::new();
    for h in m.headers().iter().flat_map(|hs| hs.iter()) {
        if let Some(v) = h.value {
            out.insert(h.key.to_owned(), String::from_utf8_lossy(v).into_owned());
        }
    }
    out
}

/// The record's key as text.
pub(crate) fn key_of(m: &impl Message) -> Option<String> {
    m.key().map(|k| String::from_utf8_lossy(k).into_owned())
}
