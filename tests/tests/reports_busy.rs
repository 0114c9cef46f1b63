//! The reports page under a burst (issue 15): reports are computed once
//! per data version and served from the cache after; while one is being
//! computed, others are answered 503 with `Retry-After` at once instead of
//! queueing, and a search made meanwhile stays fast.

use std::sync::Arc;
use std::time::{Duration, Instant};

use signpost_tests::fake_hub::hubs_serving;
use signpost_tests::listings::food_banks;
use signpost_tests::TestNode;

/// Requests in one burst.
const BURST: usize = 20;

/// Sends `BURST` requests for the reports page at once; gives each one's
/// status, whether it had `Retry-After`, and the longest wait.
async fn burst(agg: &Arc<TestNode>) -> (Vec<(u16, bool)>, Duration) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..BURST {
        let agg = agg.clone();
        tasks.spawn(async move {
            let asked = Instant::now();
            let reply = agg.get("/reports").await;
            (
                reply.status.as_u16(),
                reply.header("retry-after").is_some(),
                asked.elapsed(),
            )
        });
    }
    let mut answers = Vec::new();
    let mut longest = Duration::ZERO;
    while let Some(done) = tasks.join_next().await {
        let (status, retry, took) = done.expect("task");
        answers.push((status, retry));
        longest = longest.max(took);
    }
    (answers, longest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_report_requests_is_answered_from_cache_or_busy_and_search_stays_fast() {
    let agg = Arc::new(TestNode::start_aggregator("Busy CVS", |_| {}).await);
    let hubs = hubs_serving(12, 70, |i| food_banks(i, 100)).await;
    for hub in &hubs {
        agg.add_source(&hub.url()).await;
    }
    let crawled = agg.crawl().await;
    assert!(crawled.iter().all(|r| r["outcome"] == "accepted"));

    let searcher = {
        let agg = agg.clone();
        tokio::spawn(async move {
            // Let the burst start first.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let asked = Instant::now();
            let found = agg.get_json("/v1/services?q=food&per_page=10").await;
            (found["total"].as_u64(), asked.elapsed())
        })
    };
    let (cold, cold_longest) = burst(&agg).await;
    let (total, search_took) = searcher.await.expect("search");
    let ok = cold.iter().filter(|(s, _)| *s == 200).count();
    let busy = cold.iter().filter(|(s, _)| *s == 503).count();
    println!(
        "cold burst: {ok} answered, {busy} busy, longest {cold_longest:?}; search during it {search_took:?}"
    );
    assert_eq!(ok + busy, BURST, "only 200 or 503: {cold:?}");
    assert!(ok >= 1, "one computes: {cold:?}");
    assert!(
        cold.iter().all(|(s, retry)| *s != 503 || *retry),
        "every 503 says when to come back"
    );
    assert_eq!(total, Some(1_200));
    assert!(
        search_took < Duration::from_secs(3),
        "search waited {search_took:?} behind the reports"
    );

    // Nothing changed: the next burst is served from the cache, all of it.
    let (warm, warm_longest) = burst(&agg).await;
    println!("warm burst: longest {warm_longest:?}");
    assert!(warm.iter().all(|(s, _)| *s == 200), "{warm:?}");

    // A change to the data is seen: the report is computed again.
    assert_eq!(hub_services(&agg, "Hub 0").await, 100);
    hubs[0].set(signpost_tests::fake_hub::Script::Json(
        signpost_tests::listings::signed(
            &signpost_tests::listings::listing(
                &signpost_tests::listings::key(70),
                "Hub 0",
                2,
                food_banks(0, 1),
            ),
            &signpost_tests::listings::key(70),
        ),
    ));
    let crawled = agg.crawl().await;
    assert!(crawled.iter().any(|r| r["outcome"] == "accepted"));
    assert_eq!(hub_services(&agg, "Hub 0").await, 1);
}

/// The services the freshness report gives a hub.
async fn hub_services(agg: &TestNode, name: &str) -> u64 {
    let fresh = agg.get_json("/v1/reports/freshness").await;
    fresh["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|h| h["name"] == name)
        .and_then(|h| h["services"].as_u64())
        .expect("hub listed")
}
