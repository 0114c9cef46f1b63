//! A feed page is capped in bytes as well as items: `limit=500` of listings
//! near the 4 MiB envelope cap must not make one answer of gigabytes, and
//! `next` continues from the last item the page holds, so a follower still
//! gets every hub.

use signpost_tests::fake_hub::{FakeHub, Script};
use signpost_tests::listings::{key, listing, service, signed};
use signpost_tests::TestNode;

/// A signed listing of about 3.5 MiB (its envelope stays under 4 MiB).
fn big_listing(seed: u8) -> Vec<u8> {
    let k = key(seed);
    let services = (0..270u128)
        .map(|i| {
            let mut s = service(
                u128::from(seed) * 1000 + i,
                &format!("Advice {seed} {i}"),
                53.8,
                -3.0,
                "MO",
                "Advice",
            );
            // The bulk in a place's description, which search does not
            // index, so the crawl stays quick in a debug build.
            s.locations[0].description = Some("Long description of the place. ".repeat(300));
            s
        })
        .collect();
    signed(&listing(&k, &format!("Big hub {seed}"), 1, services), &k)
}

#[tokio::test]
async fn pages_stop_at_the_byte_cap_and_next_continues_from_the_last_item() {
    let mut fakes = Vec::new();
    for seed in 81..84u8 {
        let body = big_listing(seed);
        assert!(
            body.len() > 3 * 1024 * 1024 && body.len() < 4 * 1024 * 1024,
            "{}",
            body.len()
        );
        fakes.push(FakeHub::start(Script::Json(body)).await);
    }
    let agg = TestNode::start_aggregator("Big CVS", |c| {
        c.aggregator.served_feed_page_bytes = 8 * 1024 * 1024;
    })
    .await;
    for f in &fakes {
        agg.add_source(&f.url()).await;
    }
    let reports = agg.crawl().await;
    assert!(
        reports.iter().all(|r| r["outcome"] == "accepted"),
        "{reports:?}"
    );

    let first = agg.get("/v1/feed?limit=500").await;
    assert!(first.status.is_success());
    assert!(
        first.body.len() <= 8 * 1024 * 1024,
        "{} bytes",
        first.body.len()
    );
    let page = first.json();
    let items = page["items"].as_array().expect("items");
    assert_eq!(
        items.len(),
        2,
        "two 3.5 MiB listings fit in 8 MiB, three do not"
    );
    let last = items[1]["modified"].as_i64().expect("modified");
    let next = page["next"].as_str().expect("next");
    assert!(
        next.contains(&format!("afterChangeNumber={last}")),
        "{next}"
    );

    let all = agg.follow_feed(500).await;
    let mut ids: Vec<String> = all.iter().map(|i| i.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "a follower still gets every hub");
}
