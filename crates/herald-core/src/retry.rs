use std::time::Duration;

use rand::Rng;

/// How random the retry delay is. Full jitter (AWS's "exponential backoff and jitter")
/// spreads retries of many failing consumers so they do not hit a recovering service at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// Exactly the exponential delay.
    None,
    /// Uniform in `[0, delay]`.
    #[default]
    Full,
    /// Uniform in `[delay / 2, delay]`.
    Equal,
}

/// When a failed handler runs again. The attempt number travels with the message (header
/// `herald-attempt`), so the delay is a function of the attempt rather than a loop's state.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included. 1 means no retry.
    pub max_attempts: u32,
    /// The delay after the first failure, before jitter.
    pub initial_delay: Duration,
    /// Each further failure multiplies the delay by this.
    pub multiplier: f64,
    /// The delay never exceeds this, jitter included.
    pub max_delay: Duration,
    pub jitter: Jitter,
}

impl Default for RetryPolicy {
    /// 5 attempts, 1 s doubling to at most 5 minutes, full jitter.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_delay: Duration::from_secs(1),
            multiplier: 2.0,
            max_delay: Duration::from_secs(300),
            jitter: Jitter::Full,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries: the first failure dead-letters.
    pub fn no_retry() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Whether a message whose attempt number `attempt` failed gets another attempt.
    pub fn should_retry(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }

    /// The delay before the exponential backoff's jitter, after attempt `attempt` (1-based) failed.
    pub fn base_delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(63) as i32;
        let secs = self.initial_delay.as_secs_f64() * self.multiplier.max(1.0).powi(exponent);
        let capped = secs.min(self.max_delay.as_secs_f64());
        // NaN or overflow fall back to the cap.
        if capped.is_finite() && capped >= 0.0 {
            Duration::from_secs_f64(capped)
        } else {
            self.max_delay
        }
    }

    /// The delay to wait after attempt `attempt` failed, with jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, &mut rand::rng())
    }

    /// [`RetryPolicy::delay`] with a given random source (for tests).
    pub fn delay_with<R: Rng + ?Sized>(&self, attempt: u32, rng: &mut R) -> Duration {
        let base = self.base_delay(attempt);
        match self.jitter {
            Jitter::None => base,
            Jitter::Full => base.mul_f64(rng.random::<f64>()),
            Jitter::Equal => base / 2 + (base / 2).mul_f64(rng.random::<f64>()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    fn policy(initial_ms: u64, multiplier: f64, max_ms: u64, jitter: Jitter) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 10,
            initial_delay: Duration::from_millis(initial_ms),
            multiplier,
            max_delay: Duration::from_millis(max_ms),
            jitter,
        }
    }

    #[test]
    fn exponential_without_jitter() {
        let p = policy(100, 2.0, 1_000, Jitter::None);
        let delays: Vec<u64> = (1..=6).map(|a| p.delay(a).as_millis() as u64).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1_000, 1_000]);
    }

    #[test]
    fn retries_stop_at_max_attempts() {
        let p = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        assert!(p.should_retry(1));
        assert!(p.should_retry(2));
        assert!(!p.should_retry(3));
        assert!(!RetryPolicy::no_retry().should_retry(1));
    }

    #[test]
    fn full_jitter_spreads_delays() {
        let p = policy(1_000, 2.0, 60_000, Jitter::Full);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let delays: std::collections::BTreeSet<u128> = (0..50)
            .map(|_| p.delay_with(3, &mut rng).as_micros())
            .collect();
        assert!(
            delays.len() > 40,
            "jitter should vary the delay: {delays:?}"
        );
    }

    proptest! {
        #[test]
        fn delay_is_within_bounds_and_capped(
            initial in 1u64..10_000,
            multiplier in 1.0f64..10.0,
            max in 1u64..100_000,
            attempt in 1u32..200,
            seed in any::<u64>(),
            jitter in prop_oneof![Just(Jitter::None), Just(Jitter::Full), Just(Jitter::Equal)],
        ) {
            let p = policy(initial, multiplier, max, jitter);
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let base = p.base_delay(attempt);
            let d = p.delay_with(attempt, &mut rng);
            prop_assert!(d <= p.max_delay);
            prop_assert!(d <= base);
            match jitter {
                Jitter::None => prop_assert_eq!(d, base),
                Jitter::Full => {}
                Jitter::Equal => prop_assert!(d >= base / 2),
            }
            // The base delay never shrinks as attempts grow.
            prop_assert!(p.base_delay(attempt + 1) >= base);
        }
    }
}
