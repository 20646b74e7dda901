//! Where things live in Redis, derived from the stream's name.

/// The sorted set of messages waiting for a retry or requeue of `stream`, scored by due time.
pub fn retry_set(stream: &str) -> String {
    format!("{stream}.retry")
}

/// The prefix of the hashes holding the messages of [`retry_set`] (member = the rest).
pub(crate) fn retry_message_prefix(stream: &str) -> String {
    format!("{stream}.retry:")
}

/// The dead-letter stream of the stream (or sharded streams) named `stream`.
pub fn dlq_stream(stream: &str) -> String {
    format!("{stream}.dlq")
}

/// The stream of `stream`'s `shards` that `key` goes to: `<stream>.<i>`, `i` a hash of the
/// key modulo `shards` (FNV-1a, the same in every process and version).
pub fn shard_stream(stream: &str, key: &str, shards: u32) -> String {
    format!(
        "{stream}.{}",
        fnv1a(key.as_bytes()) % u64::from(shards.max(1))
    )
}

/// Every stream of a stream split over `shards` (the stream itself when 0 or 1).
pub(crate) fn streams_of(stream: &str, shards: u32) -> Vec<String> {
    if shards <= 1 {
        vec![stream.to_owned()]
    } else {
        (0..shards).map(|i| format!("{stream}.{i}")).collect()
    }
}

// FNV-1a 64: std's hashers may change between releases, and the shard of a key must not.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_always_goes_to_the_same_shard() {
        // Pinned values: changing the hash would move keys between shards of running systems.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(
            shard_stream("s", "a", 4),
            format!("s.{}", 0xaf63_dc4c_8601_ec8c_u64 % 4)
        );
        assert_eq!(streams_of("s", 1), ["s"]);
        assert_eq!(streams_of("s", 3), ["s.0", "s.1", "s.2"]);
    }
}
