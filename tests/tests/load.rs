//! A bounded load test: many concurrent clients on loopback against the
//! aggregator's search and feed and the hub's listing endpoint, for a fixed
//! time. Reports throughput and p50/p99 latency, and checks that nothing
//! fails and memory stays within a bound. (Debug build in CI: the figures
//! are for spotting regressions; `signpost-node bench` measures speed.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use signpost_tests::fake_hub::hubs_serving;
use signpost_tests::listings::food_banks;
use signpost_tests::TestNode;
use tokio::sync::Mutex;

const CLIENTS: usize = 32;
const RUN_FOR: Duration = Duration::from_secs(3);

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

struct Outcome {
    requests: usize,
    errors: usize,
    p50: Duration,
    p99: Duration,
}

async fn hammer(urls: Vec<String>) -> Outcome {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let deadline = Instant::now() + RUN_FOR;
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (http, urls, latencies, errors) = (
            http.clone(),
            urls.clone(),
            latencies.clone(),
            errors.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let mut i = c;
            while Instant::now() < deadline {
                let started = Instant::now();
                let ok = match http.get(&urls[i % urls.len()]).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if !ok {
                    errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                mine.push(started.elapsed());
                i += CLIENTS;
            }
            latencies.lock().await.extend(mine);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut all = Arc::try_unwrap(latencies).unwrap().into_inner();
    all.sort();
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Outcome {
        requests: all.len(),
        errors: errors.load(std::sync::atomic::Ordering::Relaxed),
        p50: at(0.50),
        p99: at(0.99),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_are_served_without_errors_within_bounds() {
    let fakes = hubs_serving(30, 100, |i| food_banks(i, 10)).await;
    let hub = TestNode::start("Loaded hub").await;
    let agg = TestNode::start_aggregator("Loaded CVS", |_| {}).await;
    for f in &fakes {
        agg.add_source(&f.url()).await;
    }
    agg.crawl().await;
    let base = agg.node.url();
    let rss_before = rss_bytes();
    for (name, urls) in [
        (
            "search",
            vec![
                format!("{base}/v1/services?q=food"),
                format!("{base}/v1/services?taxonomy=Food&near=54.1,-2.8&within_km=10"),
                format!("{base}/v1/services?open_at=2026-11-24T11:00:00Z&per_page=50"),
            ],
        ),
        (
            "feed",
            vec![
                format!("{base}/v1/feed?limit=10"),
                format!("{base}/v1/feed?afterChangeNumber=10&limit=10"),
            ],
        ),
        ("hub listing", vec![hub.listing_url()]),
    ] {
        let o = hammer(urls).await;
        println!(
            "load {name}: {} requests in {:?} by {CLIENTS} clients = {:.0}/s, p50 {:?}, p99 {:?}, {} errors",
            o.requests,
            RUN_FOR,
            o.requests as f64 / RUN_FOR.as_secs_f64(),
            o.p50,
            o.p99,
            o.errors
        );
        assert_eq!(o.errors, 0, "{name}");
        assert!(o.requests >= 100, "{name}: only {} requests", o.requests);
        assert!(o.p99 < Duration::from_secs(2), "{name}: p99 {:?}", o.p99);
    }
    let grown = rss_bytes().saturating_sub(rss_before);
    println!("memory grew by {} MiB under load", grown / (1024 * 1024));
    assert!(
        grown < 200 * 1024 * 1024,
        "memory grew by {} MiB",
        grown / (1024 * 1024)
    );
}
