//! Being a good neighbour to the hubs and aggregators fetched from: a cap
//! on fetches in flight, one request at a time per host, and backoff with
//! jitter for addresses that keep failing.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};
use url::Url;

/// The limits that keep crawling polite: a global cap on crawls in flight
/// and one request at a time per host.
pub struct Politeness {
    slots: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    in_flight: Mutex<HashSet<String>>,
}

/// Permission to send one request: a global slot and the host's turn.
pub struct Turn {
    _slot: Option<OwnedSemaphorePermit>,
    _host: OwnedMutexGuard<()>,
}

impl Politeness {
    /// Allows `max_concurrent` crawls at once.
    pub fn new(max_concurrent: usize) -> Politeness {
        Politeness {
            slots: Arc::new(Semaphore::new(max_concurrent.max(1))),
            hosts: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashSet::new()),
        }
    }

    /// Waits for a global slot and for the host of `url` to be free.
    pub async fn turn(&self, url: &Url) -> Turn {
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let host = {
            let mut hosts = match self.hosts.lock() {
                Ok(h) => h,
                Err(poisoned) => poisoned.into_inner(),
            };
            // Forget hosts nobody is waiting on, so the map stays small.
            if hosts.len() > 4096 {
                hosts.retain(|_, lock| Arc::strong_count(lock) > 1);
            }
            hosts.entry(key).or_default().clone()
        };
        // The host's turn first, then a slot: a fetch waiting for a busy
        // host holds no slot, so many slow addresses on one host cannot
        // starve every other host of slots.
        let host = host.lock_owned().await;
        let slot = self.slots.clone().acquire_owned().await.ok();
        Turn {
            _slot: slot,
            _host: host,
        }
    }

    /// Marks `url` as being crawled; false if it already is (so a
    /// schedule tick does not start a second crawl of it).
    pub fn start(&self, url: &str) -> bool {
        self.in_flight
            .lock()
            .map(|mut set| set.insert(url.to_owned()))
            .unwrap_or(false)
    }

    /// Marks the crawl of `url` as over.
    pub fn finish(&self, url: &str) {
        if let Ok(mut set) = self.in_flight.lock() {
            set.remove(url);
        }
    }
}

/// Seconds to wait before the next try of a source that has failed
/// `failures` times in a row: doubling from a base of at most a minute, up
/// to a day, and never less than half of that (jitter, so hubs that failed
/// together do not all come back together).
pub fn backoff_secs(recrawl_interval: u64, failures: u32, random: u32) -> u64 {
    let base = recrawl_interval.clamp(1, 60);
    let exp = failures.saturating_sub(1).min(20);
    let delay = base.saturating_mul(1u64 << exp).min(86_400);
    let half = delay.div_ceil(2);
    half + (u64::from(random) % (delay - half + 1))
}

/// A random number for jitter (0 if the system cannot give one).
pub fn random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).map_or(0, |()| u32::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for failures in 1..40 {
            let full = 60u64
                .saturating_mul(1 << (failures - 1).min(20))
                .min(86_400);
            for random in [0, 7, u32::MAX] {
                let d = backoff_secs(900, failures, random);
                assert!(
                    d >= full.div_ceil(2) && d <= full,
                    "{failures}: {d} vs {full}"
                );
            }
        }
        assert_eq!(backoff_secs(1, 1, 0), 1);
        assert!(backoff_secs(1, 3, u32::MAX) <= 4);
    }

    #[tokio::test]
    async fn a_busy_host_holds_no_slot_while_others_wait() {
        let politeness = Arc::new(Politeness::new(2));
        let slow = Url::parse("http://slow.example.org/a").expect("url");
        let first = politeness.turn(&slow).await;
        // Three more fetches queue for the same host...
        let mut waiting = Vec::new();
        for _ in 0..3 {
            let p = politeness.clone();
            let url = slow.clone();
            waiting.push(tokio::spawn(async move {
                let _turn = p.turn(&url).await;
            }));
        }
        tokio::task::yield_now().await;
        // ...and another host still gets the second slot at once.
        let other = Url::parse("http://other.example.org/").expect("url");
        let got =
            tokio::time::timeout(std::time::Duration::from_secs(1), politeness.turn(&other)).await;
        assert!(got.is_ok(), "a busy host starved another of slots");
        drop(got);
        drop(first);
        for w in waiting {
            w.await.expect("waiter");
        }
    }
}
