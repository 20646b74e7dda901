//! Failed logins per client address: past a burst, the address gets 429 (whatever it sends,
//! a correct secret included, so that guessing learns nothing) until the limit lets one more
//! attempt through.

use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

type Limiter =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

/// Addresses tracked before the idle ones are dropped.
const TRACKED: usize = 10_000;

/// How many failed logins an address may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimitSettings {
    /// Failures in a row allowed before the address is blocked.
    pub failures: u32,
    /// The time over which `failures` attempts are given back: once blocked, an address gets
    /// one more attempt every `per / failures`.
    pub per: Duration,
}

impl Default for LoginLimitSettings {
    fn default() -> Self {
        Self {
            failures: 10,
            per: Duration::from_secs(60),
        }
    }
}

/// The failed-login limiter of one server.
pub struct LoginLimit {
    failures: Limiter,
    /// The time one attempt takes to come back.
    period: Duration,
    /// Blocked addresses and until when (governor cannot look without counting).
    blocked: moka::sync::Cache<IpAddr, Instant>,
    clock: DefaultClock,
}

impl fmt::Debug for LoginLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginLimit")
            .field("tracked", &self.failures.len())
            .finish()
    }
}

impl LoginLimit {
    pub fn new(settings: LoginLimitSettings) -> Self {
        let burst = NonZeroU32::new(settings.failures.max(1)).unwrap_or(NonZeroU32::MIN);
        let period = (settings.per / burst.get()).max(Duration::from_millis(1));
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            failures: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            period,
            blocked: moka::sync::Cache::builder()
                .max_capacity(TRACKED as u64)
                .time_to_live(period)
                .build(),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(wait)` while `addr` is blocked.
    pub fn check(&self, addr: IpAddr) -> Result<(), Duration> {
        match self.blocked.get(&addr) {
            Some(until) => match until.checked_duration_since(Instant::now()) {
                Some(wait) if !wait.is_zero() => Err(wait),
                _ => Ok(()),
            },
            None => Ok(()),
        }
    }

    /// Counts a failed login from `addr`; `Err(wait)` when that blocks it.
    pub fn failed(&self, addr: IpAddr) -> Result<(), Duration> {
        if self.failures.len() > TRACKED {
            self.failures.retain_recent();
        }
        let wait = match self.failures.check_key(&addr) {
            Ok(state) if state.remaining_burst_capacity() > 0 => return Ok(()),
            // That was the last one: blocked until one comes back.
            Ok(_) => self.period,
            Err(not_until) => not_until.wait_time_from(self.clock.now()),
        };
        self.blocked.insert(addr, Instant::now() + wait);
        Err(wait)
    }
}
