//! The cases, each a plain async function a transport's test calls (the
//! [`transport_conformance!`](crate::transport_conformance) macro makes one test of each).

mod delivery;
mod failures;
mod flow;

pub use self::delivery::{
    IDLE_LIMIT, duplicate_is_skipped, hostile_headers, next_delivery,
    payload_over_the_limit_is_refused, round_trip, unreachable_broker_is_an_error,
};
pub use self::failures::{
    a_panicking_handler_is_a_failure, dead_letters_carry_the_failure_and_replay_once,
    retry_waits_the_policy_delay,
};
pub use self::flow::{
    a_dead_consumers_messages_come_back, concurrency_is_bounded, order_per_key,
    shutdown_drains_then_hands_back,
};
use super::{Features, TransportUnderTest};

/// Says, in the test's output, what a case does not check on this transport and why.
fn note(features: &Features, why: &str) {
    eprintln!("{}: not checked here: {why}", features.name);
}
