//! Allowances per client address per hour (registrations, nudges): a
//! sliding window of the last hour's attempts, IPv6 clients counted by
//! their /64 ([`allowance_key`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::forwarded::allowance_key;

/// Registrations allowed per client address per hour.
pub struct RateLimiter {
    per_hour: u32,
    seen: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

impl RateLimiter {
    /// Allows `per_hour` attempts per address (0 allows none).
    pub fn new(per_hour: u32) -> RateLimiter {
        RateLimiter {
            per_hour,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt; false when the address is over its allowance
    /// (IPv6 clients are counted by their /64: [`allowance_key`]).
    pub fn allow(&self, ip: IpAddr) -> bool {
        let key = allowance_key(ip);
        let window = Duration::from_secs(3600);
        let now = Instant::now();
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        if seen.len() > 100_000 {
            seen.retain(|_, times| {
                times
                    .last()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let times = seen.entry(key).or_default();
        times.retain(|t| now.duration_since(*t) < window);
        if times.len() as u32 >= self.per_hour {
            return false;
        }
        times.push(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrations_are_limited_per_address() {
        let limiter = RateLimiter::new(2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(limiter.allow(a) && limiter.allow(a));
        assert!(!limiter.allow(a));
        assert!(limiter.allow("192.0.2.2".parse().unwrap()));
        let v6a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8:1:2::99".parse().unwrap();
        assert!(limiter.allow(v6a) && limiter.allow(v6b));
        assert!(!limiter.allow(v6a), "the same /64 shares an allowance");
        assert!(!RateLimiter::new(0).allow(a));
    }
}
