//! Registration a public aggregator can leave on (issue 15): a flood of
//! registrations with distinct keys stops at the caps (per host, per
//! client address, in all), costs rows and memory that stay bounded, and
//! leaves the honest hubs registered before it searchable; registered hubs
//! that stop succeeding expire and free their places; with
//! `registration = "approval"` a stranger's hub waits for the operator;
//! a registered hub's listing stays within the services cap at every crawl.
//!
//! Every hub is a fake one on a loopback port; client addresses are only
//! `X-Forwarded-For` values from a trusted proxy on 127.0.0.1 (no packet
//! goes to them).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use rusqlite::Connection;
use serde_json::{json, Value};
use signpost_node::config::Registration;
use signpost_spec::HubKey;
use signpost_tests::fake_hub::{hubs_serving, Bodies, FakeHub, Script};
use signpost_tests::listings::{food_banks, listing, service, signed};
use signpost_tests::TestNode;

/// Registrations tried in the flood, each with its own key.
const FLOOD: u32 = 5_000;
/// Requests in flight at once.
const IN_FLIGHT: usize = 16;

/// The key of flood hub `i` (distinct from the fixed test keys).
fn flood_key(i: u32) -> HubKey {
    let mut seed = [0xF1u8; 32];
    seed[..4].copy_from_slice(&i.to_le_bytes());
    HubKey::from_seed(&seed).expect("key")
}

/// One fake server answering `/flood/{i}` with flood hub `i`'s listing,
/// signed when asked for (most registrations stop at a cap before any
/// fetch).
async fn flood_server() -> FakeHub {
    FakeHub::start(Script::Dynamic(Bodies(Arc::new(|target: &str| {
        let i: u32 = target.strip_prefix("/flood/")?.parse().ok()?;
        let key = flood_key(i);
        let services = vec![service(
            20_000_000 + u128::from(i),
            &format!("Flood {i}"),
            53.0,
            -2.0,
            "MO",
            "Spam",
        )];
        Some(signed(
            &listing(&key, &format!("Flood {i}"), 1, services),
            &key,
        ))
    }))))
    .await
}

/// POSTs a registration as `client` (through the trusted proxy); gives the
/// status and the error code, if any.
async fn register(agg: &TestNode, url: &str, client: &str) -> (u16, Option<String>) {
    let reply = agg
        .http
        .post(format!("{}/v1/register", agg.node.url()))
        .header("X-Forwarded-For", client)
        .json(&json!({ "url": url }))
        .send()
        .await
        .expect("register");
    let status = reply.status().as_u16();
    let body: Value = reply.json().await.unwrap_or(Value::Null);
    (status, body["error"]["code"].as_str().map(str::to_owned))
}

fn count(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).expect(sql)
}

/// Resident memory of this process (the node runs in it), in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_registrations_stops_at_the_caps_and_honest_hubs_stay_served() {
    let agg = Arc::new(
        TestNode::start_aggregator("Flooded CVS", |c| {
            c.server.trusted_proxies = vec!["127.0.0.1".parse().expect("address")];
            c.aggregator.registration = Registration::Open;
            c.aggregator.max_registered_sources = 150;
            c.aggregator.max_registrations_per_client = 5;
            c.aggregator.max_registrations_per_host = 80;
        })
        .await,
    );
    let honest = hubs_serving(3, 1, |i| food_banks(i, 3)).await;
    for (n, hub) in honest.iter().enumerate() {
        let (status, code) = register(&agg, &hub.url(), &format!("192.0.2.{}", n + 1)).await;
        assert_eq!(status, 201, "honest hub {n}: {code:?}");
    }

    let server = flood_server().await;
    let port = server.addr.port();
    let rss_before = rss_kib();
    let started = Instant::now();
    let mut codes: BTreeMap<String, u32> = BTreeMap::new();
    // The first half at 127.0.0.1 (stops at the host cap), the second at
    // `localhost` (stops at the total); each client address tries six
    // times, one more than its cap, within `register_per_hour`.
    for half in [0..FLOOD / 2, FLOOD / 2..FLOOD] {
        let gate = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        let mut tasks = tokio::task::JoinSet::new();
        for i in half {
            let permit = gate.clone().acquire_owned().await.expect("gate");
            let agg = agg.clone();
            tasks.spawn(async move {
                let host = if i < FLOOD / 2 {
                    "127.0.0.1"
                } else {
                    "localhost"
                };
                let client = format!("10.0.{}.{}", i / 6 / 250, i / 6 % 250);
                let url = format!("http://{host}:{port}/flood/{i}");
                let answer = register(&agg, &url, &client).await;
                drop(permit);
                answer
            });
        }
        while let Some(done) = tasks.join_next().await {
            let (status, code) = done.expect("task");
            let key = code.unwrap_or_else(|| status.to_string());
            *codes.entry(key).or_default() += 1;
        }
    }
    let took = started.elapsed();
    let rss_after = rss_kib();
    println!(
        "{FLOOD} registrations in {took:?}: {codes:?}; RSS {} -> {} MiB",
        rss_before / 1024,
        rss_after / 1024
    );
    assert_eq!(
        codes.get("201"),
        Some(&147),
        "150 places, 3 taken by honest hubs"
    );
    for code in ["host_full", "too_many_registrations", "registration_full"] {
        assert!(codes.contains_key(code), "{code} never answered: {codes:?}");
    }
    assert_eq!(codes.values().sum::<u32>(), FLOOD);
    assert!(
        server.hits() <= 160,
        "refused registrations fetch nothing ({} fetches)",
        server.hits()
    );

    let db = Connection::open(agg.dir.path().join("signpost.db")).expect("db");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM agg_registrations"), 150);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM agg_sources WHERE origin = 'register'"
        ),
        150
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM agg_hubs"), 150);
    assert!(
        count(
            &db,
            "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM agg_registrations GROUP BY registrant)"
        ) <= 5
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM agg_registrations WHERE host = '127.0.0.1'"
        ),
        80
    );
    assert!(
        rss_after.saturating_sub(rss_before) < 256 * 1024,
        "memory grew by {} MiB",
        rss_after.saturating_sub(rss_before) / 1024
    );

    // The honest hubs are still searchable, and a search answers quickly.
    let aggregator = agg.node.aggregator.clone().expect("aggregator role");
    aggregator.make_searchable().await.expect("commit");
    let asked = Instant::now();
    let found = agg.get_json("/v1/services?q=food&per_page=100").await;
    let search_took = asked.elapsed();
    let hubs: std::collections::BTreeSet<&str> = found["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|h| h["hub_id"].as_str())
        .collect();
    assert_eq!(found["total"], 9, "{found}");
    assert_eq!(hubs.len(), 3);
    assert!(search_took < Duration::from_secs(2), "{search_took:?}");

    // A registered hub that has not succeeded for the expiry period goes,
    // and its place is free again.
    db.execute(
        "UPDATE agg_sources SET last_success_at = last_success_at - 31 * 86400
         WHERE url = (SELECT url FROM agg_sources WHERE url LIKE '%/flood/%' LIMIT 1)",
        [],
    )
    .expect("age one source");
    let now = jiff::Timestamp::now().as_second();
    assert_eq!(
        aggregator.expire_registrations(now).await.expect("expire"),
        1
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM agg_registrations"), 149);
    let (status, code) = register(
        &agg,
        &format!("http://localhost:{port}/flood/{}", FLOOD + 1),
        "198.51.100.7",
    )
    .await;
    assert_eq!(status, 201, "{code:?}");
}

#[tokio::test]
async fn with_approval_a_registered_hub_waits_for_the_operator_and_stays_within_the_caps() {
    let agg = TestNode::start_aggregator("Careful CVS", |c| {
        c.aggregator.registration = Registration::Approval;
        c.aggregator.max_registered_services = 5;
    })
    .await;
    let hubs = hubs_serving(2, 40, |i| food_banks(i, if i == 0 { 3 } else { 6 })).await;
    let (small, big) = (&hubs[0], &hubs[1]);

    let reply = agg
        .post_json("/v1/register", json!({ "url": small.url() }))
        .await;
    assert_eq!(reply.status.as_u16(), 202, "{:?}", reply.json());
    let hub_id = reply.json()["hub_id"].as_str().expect("hub id").to_owned();
    assert_eq!(reply.json()["outcome"], "pending");
    assert_eq!(
        agg.get(&format!("/v1/hubs/{hub_id}")).await.status.as_u16(),
        404,
        "not held before approval"
    );
    let hits = small.hits();
    let again = agg
        .post_json("/v1/register", json!({ "url": small.url() }))
        .await;
    assert_eq!(again.status.as_u16(), 202);
    assert_eq!(small.hits(), hits, "a pending address is not fetched again");

    let too_big = agg
        .post_json("/v1/register", json!({ "url": big.url() }))
        .await;
    assert_eq!(too_big.status.as_u16(), 422);
    assert_eq!(too_big.json()["error"]["code"], "too_many_services");

    let pending = agg.admin(Method::GET, "/registrations", None).await.json();
    assert_eq!(
        pending["pending"].as_array().map(Vec::len),
        Some(1),
        "{pending}"
    );
    assert_eq!(pending["pending"][0]["hub_id"], hub_id.as_str());

    // The operator approves (`signpost-node source approve` does the same
    // on the data folder); the next crawl stores it.
    let approved = agg
        .admin(
            Method::POST,
            "/registrations/approve",
            Some(json!({ "url": small.listing_url() })),
        )
        .await;
    assert_eq!(approved.status.as_u16(), 200, "{:?}", approved.json());
    let crawled = agg.crawl().await;
    assert_eq!(crawled[0]["outcome"], "accepted", "{crawled:?}");
    let found = agg.get_json("/v1/services?q=food").await;
    assert_eq!(found["total"], 3, "{found}");

    // Its listing grows past the cap: refused at the next crawl, and the
    // listing held stays.
    let grown = signpost_tests::listings::key(40);
    small.set(Script::Json(signed(
        &listing(&grown, "Hub 0", 2, food_banks(0, 6)),
        &grown,
    )));
    let crawled = agg.crawl().await;
    assert_eq!(crawled[0]["outcome"], "rejected", "{crawled:?}");
    assert_eq!(crawled[0]["error_code"], "too_many_services");
    assert_eq!(agg.get_json("/v1/services?q=food").await["total"], 3);
}

#[tokio::test]
async fn registration_off_refuses_with_a_code() {
    let agg = TestNode::start_aggregator("Closed CVS", |c| {
        c.aggregator.registration = Registration::Off;
    })
    .await;
    let reply = agg
        .post_json("/v1/register", json!({ "url": "http://127.0.0.1:1" }))
        .await;
    assert_eq!(reply.status.as_u16(), 403);
    assert_eq!(reply.json()["error"]["code"], "registration_off");
}
