//! The names of retry and dead-letter topics, derived from the topic consumed.

/// Retry topic `n` (1-based) of `topic`: `<topic>.retry.<n>`.
pub fn retry_topic(topic: &str, n: u32) -> String {
    format!("{topic}.retry.{n}")
}

/// The dead-letter topic of `topic`: `<topic>.dlq`.
pub fn dlq_topic(topic: &str) -> String {
    format!("{topic}.dlq")
}

/// The topic a retry topic belongs to (`orders.retry.2` -> `orders`); other names are
/// their own base.
pub fn base_topic(topic: &str) -> &str {
    retry_level(topic).map_or(topic, |(base, _)| base)
}

/// `Some((base, n))` when `topic` is retry topic `n` of `base`.
pub fn retry_level(topic: &str) -> Option<(&str, u32)> {
    let (rest, n) = topic.rsplit_once('.')?;
    let base = rest.strip_suffix(".retry")?;
    let n: u32 = n.parse().ok().filter(|n| *n >= 1)?;
    (!base.is_empty()).then_some((base, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(retry_topic("orders", 2), "orders.retry.2");
        assert_eq!(dlq_topic("orders"), "orders.dlq");
        assert_eq!(retry_level("orders.retry.2"), Some(("orders", 2)));
        assert_eq!(base_topic("orders.retry.2"), "orders");
        assert_eq!(base_topic("a.b.retry.1"), "a.b");
    }

    #[test]
    fn other_names_are_their_own_base() {
        for t in [
            "orders",
            "orders.retry",
            "orders.retry.0",
            "orders.retry.x",
            ".retry.1",
            "retry.1",
        ] {
            assert_eq!(base_topic(t), t, "{t}");
        }
    }
}
