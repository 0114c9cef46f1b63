//! The aggregator role end to end: real hub nodes and scripted hostile hubs
//! on loopback ports, a real aggregator crawling them over HTTP into its
//! SQLite store, and its search API and RPDE feed read back over HTTP.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use signpost_spec::{verify_listing, VerifyOptions};
use signpost_tests::fake_hub::{FakeHub, Script};
use signpost_tests::listings::{key, listing, rotation, service, signed, tampered};
use signpost_tests::TestNode;

/// Blackpool (At The Grange) and Morecambe (The Bay), about 30 km apart.
const BLACKPOOL: (f64, f64) = (53.8240, -3.0146);
const MORECAMBE: (f64, f64) = (54.0697, -2.8625);

async fn add_service(hub: &TestNode, body: Value) {
    let reply = hub.admin(Method::POST, "/services", Some(body)).await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["service"]["name"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn hub_edits_reach_search_and_the_feed_and_the_feed_reproduces_the_store() {
    let grange = TestNode::start("At The Grange").await;
    let bay = TestNode::start("The Bay, Morecambe").await;
    add_service(
        &grange,
        json!({"name": "Food pantry", "description": "Weekly low-cost shop",
               "locations": [{"latitude": BLACKPOOL.0, "longitude": BLACKPOOL.1}],
               "schedules": [{"byday": "TU,TH", "opens_at": "10:00", "closes_at": "13:00"}],
               "taxonomy_terms": [{"name": "Food"}], "access": ["walk-in"]}),
    )
    .await;
    add_service(
        &grange,
        json!({"name": "Job Club", "description": "Help with CVs and applications",
               "locations": [{"latitude": BLACKPOOL.0, "longitude": BLACKPOOL.1}],
               "schedules": [{"byday": "MO,WE", "opens_at": "10:00", "closes_at": "12:00"}],
               "taxonomy_terms": [{"name": "Employment"}]}),
    )
    .await;
    add_service(
        &bay,
        json!({"name": "Wellbeing walk", "description": "A gentle walk along the prom",
               "organization": {"name": "The Bay"},
               "locations": [{"latitude": MORECAMBE.0, "longitude": MORECAMBE.1}],
               "schedules": [{"byday": "SA", "opens_at": "18:00", "closes_at": "01:00"}],
               "taxonomy_terms": [{"name": "Wellbeing"}]}),
    )
    .await;

    let agg = TestNode::start_aggregator("Lancashire CVS", |_| {}).await;
    agg.add_source(&grange.node.url()).await;
    agg.add_source(&bay.node.url()).await;
    let reports = agg.crawl().await;
    assert_eq!(reports.len(), 2);
    assert!(
        reports.iter().all(|r| r["outcome"] == "accepted"),
        "{reports:?}"
    );

    // Text, category, distance and opening time.
    let found = agg.get_json("/v1/services?q=pantry").await;
    assert_eq!(names(&found), ["Food pantry"]);
    assert_eq!(found["items"][0]["hub_id"], grange.hub_id);
    assert_eq!(found["items"][0]["hub_name"], "At The Grange");
    assert_eq!(found["items"][0]["stale"], false);
    assert_eq!(
        names(&agg.get_json("/v1/services?taxonomy=employment").await),
        ["Job Club"]
    );
    let near_bay = agg
        .get_json(&format!(
            "/v1/services?near={},{}&within_km=5",
            MORECAMBE.0, MORECAMBE.1
        ))
        .await;
    assert_eq!(names(&near_bay), ["Wellbeing walk"]);
    assert!(near_bay["items"][0]["distance_km"].as_f64().unwrap() < 0.01);
    let by_distance = agg
        .get_json(&format!(
            "/v1/services?near={},{}&within_km=50",
            BLACKPOOL.0, BLACKPOOL.1
        ))
        .await;
    assert_eq!(
        names(&by_distance),
        ["Food pantry", "Job Club", "Wellbeing walk"]
    );
    assert_eq!(by_distance["order"], "distance");
    let d = by_distance["items"][2]["distance_km"].as_f64().unwrap();
    assert!(
        (25.0..35.0).contains(&d),
        "Blackpool–Morecambe is ~30 km, got {d}"
    );
    // Tuesday 24 November 2026, 11:00 in London (GMT): the pantry is open.
    assert_eq!(
        names(
            &agg.get_json("/v1/services?open_at=2026-11-24T11:00:00Z")
                .await
        ),
        ["Food pantry"]
    );
    // Monday 6 July 2026, 10:30 in London is 09:30 UTC (BST): the job club.
    assert_eq!(
        names(
            &agg.get_json("/v1/services?open_at=2026-07-06T09:30:00Z")
                .await
        ),
        ["Job Club"]
    );
    // Sunday 00:30 local: the Saturday evening walk runs past midnight.
    assert_eq!(
        names(
            &agg.get_json("/v1/services?open_at=2026-11-29T00:30:00Z")
                .await
        ),
        ["Wellbeing walk"]
    );
    assert_eq!(
        names(&agg.get_json("/v1/services?q=walk&taxonomy=Food").await),
        Vec::<String>::new()
    );
    let bad = agg.get("/v1/services?near=95,1").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["code"], "invalid");

    // An edit at the hub reaches search and the feed after the next crawl.
    let before = agg.follow_feed(1).await;
    assert_eq!(before.len(), 2);
    add_service(
        &grange,
        json!({"name": "Warm space", "description": "A warm room with hot drinks",
               "locations": [{"latitude": BLACKPOOL.0, "longitude": BLACKPOOL.1}],
               "taxonomy_terms": [{"name": "Cost of living"}]}),
    )
    .await;
    let reports = agg.crawl().await;
    let outcome = |url: &str| {
        reports
            .iter()
            .find(|r| r["url"].as_str().unwrap().starts_with(url))
            .map(|r| r["outcome"].as_str().unwrap().to_owned())
    };
    assert_eq!(outcome(&grange.node.url()).as_deref(), Some("accepted"));
    assert_eq!(outcome(&bay.node.url()).as_deref(), Some("not_modified"));
    assert_eq!(
        names(&agg.get_json("/v1/services?q=warm").await),
        ["Warm space"]
    );
    let after = agg.follow_feed(1).await;
    assert_eq!(after.len(), 2, "one item per hub: the latest");
    assert_eq!(
        after[1].id, grange.hub_id,
        "the edited hub moved to the end"
    );
    assert!(after[1].modified > before[1].modified);

    // The feed reproduces exactly the listings the aggregator holds, and
    // every envelope verifies on its own, byte for byte as stored.
    let hubs = agg.get_json("/v1/hubs").await;
    let held: BTreeMap<String, u64> = hubs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["hub_id"].as_str().unwrap().to_owned(),
                h["seq"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut from_feed = BTreeMap::new();
    for item in &after {
        assert_eq!(
            (item.state.as_str(), item.kind.as_str()),
            ("updated", "SignpostListing")
        );
        let data = item.data.as_ref().expect("data");
        let bytes = data.envelope.get().as_bytes();
        let verified = verify_listing(bytes, &VerifyOptions::now()).expect("verifies");
        assert_eq!(verified.hub_id.as_str(), item.id);
        assert_eq!(verified.listing.seq, data.seq);
        let stored = agg.get(&format!("/v1/hubs/{}/listing", item.id)).await;
        assert_eq!(stored.body, bytes, "feed and store serve the same bytes");
        let live = if item.id == grange.hub_id {
            &grange
        } else {
            &bay
        };
        assert_eq!(
            live.get_listing(&[]).await.body,
            bytes,
            "the hub's own bytes"
        );
        from_feed.insert(data.hub_id.clone(), data.seq);
    }
    assert_eq!(from_feed, held);
    let hub = agg.get_json(&format!("/v1/hubs/{}", grange.hub_id)).await;
    assert_eq!(hub["staleness"], "fresh");
    assert_eq!(hub["services"], 3);
    assert_eq!(hub["profile"]["dimensions"]["governance"], "community-led");
    assert_eq!(hub["sources"][0]["last_outcome"], "accepted");

    // A page in the middle links onwards; the last page links to itself.
    let first = agg.get_json("/v1/feed?limit=1").await;
    assert!(first["next"]
        .as_str()
        .unwrap()
        .contains("afterChangeNumber="));
    let end = agg
        .get_json(&format!(
            "/v1/feed?afterChangeNumber={}&limit=5",
            after[1].modified
        ))
        .await;
    assert_eq!(end["items"].as_array().unwrap().len(), 0);
    assert!(end["next"].as_str().unwrap().ends_with(&format!(
        "/v1/feed?afterChangeNumber={}&limit=5",
        after[1].modified
    )));
    let by_id = agg
        .get_json(&format!(
            "/v1/feed?afterTimestamp={}&afterId={}",
            after[0].modified, after[0].id
        ))
        .await;
    assert_eq!(by_id["items"][0]["id"], after[1].id);
}

/// Crawls the fake hub once, checks the outcome and code, and checks that
/// the last good data is still what the aggregator serves.
async fn expect_refused(agg: &TestNode, fake: &FakeHub, outcome: &str, code: &str, hub_id: &str) {
    let report = agg.crawl_source(&fake.listing_url()).await;
    assert_eq!(report["outcome"], outcome, "{report}");
    assert_eq!(report["error_code"], code, "{report}");
    let hub = agg.get_json(&format!("/v1/hubs/{hub_id}")).await;
    assert_eq!(hub["seq"], 2, "the last good listing stays");
    assert_eq!(hub["sources"][0]["last_error_code"], code);
    assert!(hub["sources"][0]["last_error"].as_str().unwrap().len() > 10);
    assert_eq!(
        names(&agg.get_json("/v1/services?q=bank").await),
        ["Food bank"],
        "search still serves the last good data after {code}"
    );
}

#[tokio::test]
async fn bad_listings_are_refused_whole_and_the_last_good_one_stays() {
    let first = key(11);
    let second = key(12);
    let stolen_first_then = key(13);
    let hub_id = first.key_id().to_string();
    let services = vec![service(1, "Food bank", 53.8, -3.0, "MO", "Food")];
    let fake = FakeHub::start(Script::Json(signed(
        &listing(&first, "Scripted hub", 1, services.clone()),
        &first,
    )))
    .await;
    let agg = TestNode::start_aggregator("Test CVS", |c| {
        c.aggregator.request_timeout_secs = 2;
        c.aggregator.max_listing_bytes = 64 * 1024;
    })
    .await;
    agg.add_source(&fake.url()).await;
    assert_eq!(
        agg.crawl_source(&fake.listing_url()).await["outcome"],
        "accepted"
    );

    // The hub rotates its key: accepted through the chain, and pinned.
    let mut rotated = listing(&first, "Scripted hub", 2, services.clone());
    rotated.rotations = vec![rotation(&first, &first, &second)];
    let good = signed(&rotated, &second);
    fake.set(Script::Json(good.clone()));
    assert_eq!(
        agg.crawl_source(&fake.listing_url()).await["outcome"],
        "accepted"
    );
    fake.set(Script::Json(good.clone()));
    assert_eq!(
        agg.crawl_source(&fake.listing_url()).await["outcome"],
        "unchanged"
    );

    // Tampered: the payload changed after signing.
    fake.set(Script::Json(tampered(&good, "Food bank", "Fake bank")));
    expect_refused(&agg, &fake, "rejected", "bad_signature", &hub_id).await;

    // Signed by a key the pinned key never handed over to (an old key that
    // leaked, rotating somewhere else).
    let mut forked = listing(&first, "Scripted hub", 3, services.clone());
    forked.rotations = vec![rotation(&first, &first, &stolen_first_then)];
    fake.set(Script::Json(signed(&forked, &stolen_first_then)));
    expect_refused(&agg, &fake, "rejected", "unpinned_key", &hub_id).await;

    // A lower seq (a replay of something older, re-signed).
    let mut older = listing(&first, "Scripted hub", 1, vec![]);
    older.rotations = vec![rotation(&first, &first, &second)];
    fake.set(Script::Json(signed(&older, &second)));
    expect_refused(&agg, &fake, "rejected", "stale_seq", &hub_id).await;

    // Expired.
    let mut expired = listing(&first, "Scripted hub", 9, vec![]);
    expired.rotations = vec![rotation(&first, &first, &second)];
    expired.issued_at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(48);
    expired.expires_at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    fake.set(Script::Json(signed(&expired, &second)));
    expect_refused(&agg, &fake, "rejected", "expired", &hub_id).await;

    // Oversized, announced and streamed without a length.
    fake.set(Script::Json(vec![b' '; 200 * 1024]));
    expect_refused(&agg, &fake, "failed", "too_large", &hub_id).await;
    fake.set(Script::Chunked {
        chunk_size: 16 * 1024,
        chunks: 1000,
    });
    expect_refused(&agg, &fake, "failed", "too_large", &hub_id).await;

    // A slow drip, and a server that never answers: bounded by the timeout.
    for script in [
        Script::Drip {
            every: Duration::from_millis(300),
            bytes: 100,
        },
        Script::Silent,
    ] {
        fake.set(script);
        let started = Instant::now();
        expect_refused(&agg, &fake, "failed", "timeout", &hub_id).await;
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{:?}",
            started.elapsed()
        );
    }

    // Not JSON, an error status, a redirect loop, and garbage JSON.
    fake.set(Script::Raw {
        status: 200,
        content_type: "text/html".into(),
        body: b"<html>Welcome to our hub</html>".to_vec(),
    });
    expect_refused(&agg, &fake, "failed", "not_json", &hub_id).await;
    fake.set(Script::Raw {
        status: 500,
        content_type: "text/plain".into(),
        body: b"oops".to_vec(),
    });
    expect_refused(&agg, &fake, "failed", "http_status", &hub_id).await;
    fake.set(Script::Redirect(fake.listing_url()));
    expect_refused(&agg, &fake, "failed", "too_many_redirects", &hub_id).await;
    fake.set(Script::Json(b"{\"payloadType\": [".to_vec()));
    expect_refused(&agg, &fake, "rejected", "bad_envelope", &hub_id).await;

    // Failures back off: the source is not due again straight away.
    let sources = agg.admin(Method::GET, "/sources", None).await.json();
    let source = &sources["sources"][0];
    assert!(source["failures"].as_u64().unwrap() >= 10);
    assert!(source["next_crawl_at"].as_i64().unwrap() > jiff::Timestamp::now().as_second());
}

#[tokio::test]
async fn the_ssrf_guard_refuses_internal_addresses_unless_allowed() {
    let hub = TestNode::start("Loopback hub").await;
    let port = hub.node.addr.port();
    let agg = TestNode::start_aggregator("Careful CVS", |c| {
        c.aggregator.allow_private_networks = false;
    })
    .await;
    for url in [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
        format!("http://[::1]:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://0x7f000001:{port}/"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/".to_owned(),
    ] {
        let reply = agg.post_json("/v1/register", json!({ "url": url })).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(reply.json()["error"]["code"], "refused_address", "{url}");
    }
    // A source added by the operator is refused the same way at crawl time.
    agg.add_source(&format!("http://localhost:{port}")).await;
    let report = &agg.crawl().await[0];
    assert_eq!(report["error_code"], "refused_address");
    assert_eq!(
        agg.get_json("/v1/hubs").await["total"],
        0,
        "nothing was fetched or stored"
    );
}

/// `POST /v1/register` tells a stranger the error code and a fixed hint,
/// never the fetch error's text (addresses, resolver answers, port states):
/// otherwise it is a scanner of the aggregator's network.
#[tokio::test]
async fn registration_errors_name_the_code_but_not_the_network() {
    let hub = TestNode::start("Loopback hub").await;
    let port = hub.node.addr.port();
    // A loopback port nothing listens on: bound, then let go.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
    let careful = TestNode::start_aggregator("Careful CVS", |c| {
        c.aggregator.allow_private_networks = false;
    })
    .await;
    let open = TestNode::start_aggregator("Local CVS", |c| {
        c.aggregator.register_per_hour = 100;
    })
    .await;
    for (agg, url, code) in [
        (
            &careful,
            format!("http://127.0.0.1:{port}/"),
            "refused_address",
        ),
        (
            &careful,
            format!("http://localhost:{port}/"),
            "refused_address",
        ),
        (
            &careful,
            "http://[2002:c0a8:0101::1]/".to_owned(),
            "refused_address",
        ),
        (
            &open,
            format!("http://127.0.0.1:{closed_port}/"),
            "connect_failed",
        ),
        (
            &open,
            format!("http://127.0.0.1:{port}/no/listing/here"),
            "not_found",
        ),
    ] {
        let reply = agg.post_json("/v1/register", json!({ "url": url })).await;
        let body = reply.json();
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {body}"
        );
        assert_eq!(body["error"]["code"], code, "{url}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{url}: {body}");
        for secret in [
            "127.0.0.1",
            "localhost",
            "192.168",
            "Loopback",
            "Private-Use",
            &port.to_string(),
            &closed_port.to_string(),
            "refused address",
            "404",
            "onnection refused",
        ] {
            assert!(
                !message.contains(secret),
                "{url}: the message discloses {secret:?}: {message}"
            );
        }
    }
    // The operator still sees the detail where it belongs: a source added
    // by hand and crawled reports the full reason.
    careful
        .add_source(&format!("http://127.0.0.1:{port}"))
        .await;
    let report = &careful.crawl().await[0];
    assert_eq!(report["error_code"], "refused_address");
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.contains("Loopback (127.0.0.0/8)")),
        "{report}"
    );
}

/// A hub's name comes from a stranger's listing: in the freshness CSV a
/// coordinator opens in a spreadsheet, it must not become a formula.
#[tokio::test]
async fn a_hub_name_cannot_become_a_formula_in_the_freshness_csv() {
    let name = "=HYPERLINK(\"http://x\",\"y\")";
    let hub = TestNode::start(name).await;
    let agg = TestNode::start_aggregator("Test CVS", |_| {}).await;
    agg.add_source(&hub.node.url()).await;
    assert_eq!(agg.crawl().await[0]["outcome"], "accepted");
    let reply = agg.get("/v1/reports/freshness?format=csv").await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    let mut rows = csv_rows(&text);
    assert_eq!(rows.len(), 2, "{text}");
    let row = rows.remove(1);
    assert_eq!(row[0], hub.hub_id, "{text}");
    assert_eq!(row[1], format!("'{name}"), "{text}");
    for cell in &row {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{cell:?} would be a formula: {text}"
        );
    }
}

/// Cells of a CSV text (quoted cells with doubled quotes, no new lines
/// inside): enough to read the freshness report back.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            let mut cells = vec![String::new()];
            let mut quoted = false;
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                let keep = match c {
                    '"' if quoted && chars.peek() == Some(&'"') => {
                        chars.next();
                        '"'
                    }
                    '"' => {
                        quoted = !quoted;
                        continue;
                    }
                    ',' if !quoted => {
                        cells.push(String::new());
                        continue;
                    }
                    c => c,
                };
                if let Some(cell) = cells.last_mut() {
                    cell.push(keep);
                }
            }
            cells
        })
        .collect()
}

#[tokio::test]
async fn registration_verifies_before_accepting_and_is_rate_limited() {
    let hub = TestNode::start("Greenhill Community Hub").await;
    let agg = TestNode::start_aggregator("Test CVS", |c| c.aggregator.register_per_hour = 3).await;
    let garbage = agg
        .post_json("/v1/register", json!({"url": "not a web address"}))
        .await;
    assert_eq!(garbage.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(garbage.json()["error"]["code"], "bad_url");
    let first = agg
        .post_json("/v1/register", json!({ "url": hub.node.url() }))
        .await;
    assert_eq!(
        first.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    assert_eq!(first.json()["outcome"], "accepted");
    assert_eq!(first.json()["hub_id"], hub.hub_id);
    let again = agg
        .post_json("/v1/register", json!({ "url": hub.node.url() }))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["outcome"], "unchanged");
    let limited = agg
        .post_json("/v1/register", json!({ "url": hub.node.url() }))
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.json()["error"]["code"], "rate_limited");
    let sources = agg.admin(Method::GET, "/sources", None).await.json();
    assert_eq!(sources["sources"].as_array().unwrap().len(), 1);
    assert_eq!(sources["sources"][0]["origin"], "register");
    assert_eq!(sources["sources"][0]["hub_id"], hub.hub_id);
}

#[tokio::test]
async fn withdrawals_and_delistings_leave_tombstones_in_the_feed() {
    let leaving = key(21);
    let staying = key(22);
    let fake_leaving = FakeHub::start(Script::Json(signed(
        &listing(
            &leaving,
            "Pop-up hub",
            5,
            vec![service(7, "Coffee morning", 54.0, -2.8, "FR", "Social")],
        ),
        &leaving,
    )))
    .await;
    let fake_staying = FakeHub::start(Script::Json(signed(
        &listing(
            &staying,
            "Youth club",
            5,
            vec![service(8, "Youth night", 54.0, -2.8, "TU", "Youth")],
        ),
        &staying,
    )))
    .await;
    let agg = TestNode::start_aggregator("Test CVS", |_| {}).await;
    agg.add_source(&fake_leaving.url()).await;
    agg.add_source(&fake_staying.url()).await;
    assert!(agg.crawl().await.iter().all(|r| r["outcome"] == "accepted"));
    assert_eq!(agg.get_json("/v1/services").await["total"], 2);

    // The hub publishes a signed withdrawal.
    let mut gone = listing(&leaving, "Pop-up hub", 6, vec![]);
    gone.withdrawn = true;
    let withdrawal = signed(&gone, &leaving);
    fake_leaving.set(Script::Json(withdrawal.clone()));
    assert_eq!(
        agg.crawl_source(&fake_leaving.listing_url()).await["outcome"],
        "accepted"
    );
    // The operator delists the other.
    let staying_id = staying.key_id().to_string();
    let delisted = agg
        .admin(Method::POST, &format!("/hubs/{staying_id}/delist"), None)
        .await;
    assert_eq!(delisted.status, StatusCode::OK);

    assert_eq!(agg.get_json("/v1/services").await["total"], 0);
    let feed = agg.follow_feed(10).await;
    assert_eq!(feed.len(), 2);
    assert!(feed
        .iter()
        .all(|i| i.state == "deleted" && i.data.is_none()));
    // The signed withdrawal is still served, so others can verify it.
    let stored = agg
        .get(&format!("/v1/hubs/{}/listing", leaving.key_id()))
        .await;
    assert_eq!(stored.body, withdrawal);
    let hubs = agg.get_json("/v1/hubs").await;
    let states: Vec<&str> = hubs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["withdrawn", "delisted"]);
    // A delisted hub's listings are refused until the operator relents.
    let mut back = listing(&staying, "Youth club", 7, vec![]);
    back.services = vec![service(8, "Youth night", 54.0, -2.8, "TU", "Youth")];
    fake_staying.set(Script::Json(signed(&back, &staying)));
    let report = agg.crawl_source(&fake_staying.listing_url()).await;
    assert_eq!(report["error_code"], "delisted");
}

#[tokio::test]
async fn metrics_are_served_on_their_own_address_only() {
    let k = key(81);
    let fake = FakeHub::start(Script::Json(signed(
        &listing(
            &k,
            "Metered hub",
            1,
            vec![service(1, "Food bank", 54.0, -2.8, "MO", "Food")],
        ),
        &k,
    )))
    .await;
    let bad = FakeHub::start(Script::Json(tampered(
        &signed(&listing(&key(82), "Bad hub", 1, vec![]), &key(82)),
        "Bad hub",
        "Sad hub",
    )))
    .await;
    let agg = TestNode::start_aggregator("Metered CVS", |c| {
        c.node.metrics_listen = Some(([127, 0, 0, 1], 0).into());
    })
    .await;
    agg.add_source(&fake.url()).await;
    agg.add_source(&bad.url()).await;
    agg.crawl().await;
    assert_eq!(
        agg.get("/metrics").await.status,
        StatusCode::NOT_FOUND,
        "not on the public port"
    );
    let addr = agg.node.metrics_addr.expect("metrics address");
    let text = agg
        .http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "signpost_crawls_total{outcome=\"accepted\"} 1",
        "signpost_crawls_total{outcome=\"rejected\"} 1",
        "signpost_refusals_total{reason=\"bad_signature\"} 1",
        "signpost_hubs{state=\"active\"} 1",
        "signpost_services 1",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert!(text.contains("signpost_http_request_duration_seconds_count"));
    assert!(text.contains("signpost_store_bytes "));
}

/// A follower at the end of the feed can wait (`wait=`) for the next item
/// instead of polling (issue 20): it is answered as soon as a listing is
/// stored. A harvester that never sends `wait` is answered at once, as
/// RPDE says, and waiting is capped per client.
#[tokio::test]
async fn the_last_page_of_the_feed_can_be_waited_on() {
    let agg = TestNode::start_aggregator("Test CVS", |_| {}).await;
    let first = key(41);
    let fake = FakeHub::start(Script::Json(signed(
        &listing(
            &first,
            "Corner hub",
            1,
            vec![service(41, "Soup kitchen", 54.0, -2.8, "MO", "Food")],
        ),
        &first,
    )))
    .await;
    agg.add_source(&fake.listing_url()).await;

    // Plain RPDE: the empty last page answers at once, cacheable briefly,
    // with no word of waiting.
    let plain = agg.get("/v1/feed?afterChangeNumber=0").await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.json()["items"].as_array().map(Vec::len), Some(0));
    assert!(plain.headers.get("signpost-feed-wait").is_none());
    assert_eq!(plain.headers["cache-control"], "public, max-age=8");
    assert_eq!(
        agg.get("/v1/feed?wait=31").await.status,
        StatusCode::BAD_REQUEST
    );

    // A waiting request gets the listing once it is stored.
    let http = reqwest::Client::new();
    let base = agg.node.url();
    let asked = Instant::now();
    let waiting = tokio::spawn({
        let (http, url) = (
            http.clone(),
            format!("{base}/v1/feed?afterChangeNumber=0&wait=20"),
        );
        async move { http.get(url).send().await.expect("GET") }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "nothing new yet: it waits");
    let crawled = Instant::now();
    agg.crawl().await;
    let reply = waiting.await.expect("the waiting request");
    let answered = crawled.elapsed();
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(reply.headers()["signpost-feed-wait"], "20");
    assert_eq!(reply.headers()["cache-control"], "no-store");
    let page: Value = reply.json().await.expect("a feed page");
    let items = page["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["id"], first.key_id().to_string());
    assert!(
        asked.elapsed() < Duration::from_secs(15),
        "answered when the item was stored, not when the wait ended"
    );
    eprintln!("a waiting feed request was answered {answered:?} after the crawl began");
    assert!(
        !page["next"].as_str().unwrap_or("").contains("wait="),
        "next never carries wait"
    );

    // With nothing new the wait ends with the empty page.
    let end = format!(
        "/v1/feed?afterChangeNumber={}&wait=1",
        items[0]["modified"].as_i64().unwrap_or(0)
    );
    let started = Instant::now();
    let empty = agg.get(&end).await;
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(empty.json()["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(empty.headers["signpost-feed-wait"], "1");

    // One client may hold four waiting requests; a fifth is answered at
    // once and told it was allowed no wait.
    let long = format!("{base}{}", end.replace("wait=1", "wait=5"));
    let held: Vec<_> = (0..4)
        .map(|_| {
            let (http, url) = (http.clone(), long.clone());
            tokio::spawn(async move { http.get(url).send().await.expect("GET") })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let fifth = agg.get(&end.replace("wait=1", "wait=5")).await;
    assert!(started.elapsed() < Duration::from_secs(4), "not held");
    assert_eq!(fifth.headers["signpost-feed-wait"], "0");
    for request in held {
        let reply = request.await.expect("a held request");
        assert_eq!(reply.headers()["signpost-feed-wait"], "5");
    }
}

/// Waits up to `within` for a search to find `total` services.
async fn until_found(agg: &TestNode, path: &str, total: u64, within: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < within {
        if agg.get_json(path).await["total"] == total {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A hub's edit reaches the aggregators that follow it in seconds, not at
/// their next crawl (issue 20): each crawl says where to nudge the
/// aggregator, and the hub nudges it when it publishes. A nudge for an
/// unknown source changes nothing, and a flood of nudges makes at most one
/// crawl every few seconds.
#[tokio::test]
async fn a_hub_nudges_the_aggregators_that_fetched_it() {
    let hub = TestNode::start("Nudging hub").await;
    add_service(
        &hub,
        json!({"name": "Food pantry", "description": "Weekly low-cost shop",
               "taxonomy_terms": [{"name": "Food"}]}),
    )
    .await;
    let agg = TestNode::start_aggregator("Nudged CVS", |c| {
        c.aggregator.scheduled = true;
        c.aggregator.recrawl_interval_secs = 900;
    })
    .await;
    agg.add_source(&hub.node.url()).await;
    assert!(
        until_found(&agg, "/v1/services?q=pantry", 1, Duration::from_secs(15)).await,
        "the first scheduled crawl"
    );

    let edited = Instant::now();
    add_service(
        &hub,
        json!({"name": "Warm space", "description": "Tea and a warm room",
               "taxonomy_terms": [{"name": "Warmth"}]}),
    )
    .await;
    assert!(
        until_found(&agg, "/v1/services?q=warm", 1, Duration::from_secs(15)).await,
        "the edit is searchable long before the 900 s recrawl"
    );
    eprintln!(
        "a hub's edit was searchable at the aggregator {:?} after it was saved",
        edited.elapsed()
    );

    // A nudge for a source the aggregator does not crawl changes nothing
    // (and is answered as any other, so it tells a stranger nothing).
    let sources = agg.admin(Method::GET, "/sources", None).await.json();
    let unknown = agg
        .post_json("/v1/notify?source=http://127.0.0.1:9/nowhere", json!({}))
        .await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED);
    assert_eq!(
        agg.admin(Method::GET, "/sources", None).await.json(),
        sources
    );
    assert_eq!(
        agg.post_json("/v1/notify?url=x", json!({})).await.status,
        StatusCode::BAD_REQUEST
    );

    // A flood of nudges for one source: at most one crawl per few seconds.
    let first = key(71);
    let fake = FakeHub::start(Script::Json(signed(
        &listing(
            &first,
            "Flooded hub",
            1,
            vec![service(71, "Soup", 54.0, -2.8, "MO", "Food")],
        ),
        &first,
    )))
    .await;
    agg.add_source(&fake.listing_url()).await;
    assert!(
        until_found(&agg, "/v1/services?q=soup", 1, Duration::from_secs(15)).await,
        "the new source's first crawl"
    );
    let before = fake.hits();
    let source = encoded(&fake.listing_url());
    for _ in 0..50 {
        let reply = agg
            .post_json(&format!("/v1/notify?source={source}"), json!({}))
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let crawls = fake.hits() - before;
    assert!(crawls <= 1, "{crawls} crawls for 50 nudges");
    // The last of the burst is still fetched, once, after the gap.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let crawls = fake.hits() - before;
    assert!((1..=2).contains(&crawls), "{crawls} crawls for 50 nudges");
}

/// `s` percent-encoded for a query string.
fn encoded(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One client's nudges are acted on at most `NUDGES_PER_HOUR` times an
/// hour: past that, each is refused (429, as documented) before it can
/// bring a crawl forward, the hub's own nudges from that address too, so
/// an edit then waits for the schedule (here: a crawl asked for by hand).
#[tokio::test]
async fn nudges_past_the_hourly_limit_bring_no_crawl() {
    use signpost_node::web::api::NUDGES_PER_HOUR;
    let hub = TestNode::start("Busy hub").await;
    add_service(
        &hub,
        json!({"name": "Food pantry", "taxonomy_terms": [{"name": "Food"}]}),
    )
    .await;
    let agg = TestNode::start_aggregator("Limited CVS", |c| {
        c.aggregator.scheduled = true;
        c.aggregator.recrawl_interval_secs = 900;
    })
    .await;
    agg.add_source(&hub.node.url()).await;
    assert!(
        until_found(&agg, "/v1/services?q=pantry", 1, Duration::from_secs(15)).await,
        "the first scheduled crawl"
    );
    // Within the limit, the hub's nudge brings its edit at once.
    add_service(
        &hub,
        json!({"name": "Warm space", "taxonomy_terms": [{"name": "Warmth"}]}),
    )
    .await;
    assert!(
        until_found(&agg, "/v1/services?q=warm", 1, Duration::from_secs(15)).await,
        "a nudged crawl within the limit"
    );

    // Use up the rest of this address's hour (the hub nudges from it too)
    // with nudges for sources nobody crawls: each is answered 202 and
    // crawls nothing, until the limit.
    let mut accepted = 0;
    let refused = loop {
        let reply = agg
            .post_json(
                &format!("/v1/notify?source=http://127.0.0.1:9/n{accepted}"),
                json!({}),
            )
            .await;
        if reply.status != StatusCode::ACCEPTED {
            break reply;
        }
        accepted += 1;
        assert!(
            accepted <= NUDGES_PER_HOUR,
            "no limit after {accepted} nudges"
        );
    };
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        refused.json()["error"]["code"],
        "rate_limited",
        "{}",
        refused.json()
    );
    assert!(accepted >= NUDGES_PER_HOUR - 2, "only {accepted} allowed");

    // Past the limit a nudge for the hub crawls nothing, and neither does
    // the hub's own nudge after an edit.
    let source = encoded(&hub.node.url());
    for _ in 0..20 {
        let reply = agg
            .post_json(&format!("/v1/notify?source={source}"), json!({}))
            .await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    }
    add_service(
        &hub,
        json!({"name": "Job club", "taxonomy_terms": [{"name": "Employment"}]}),
    )
    .await;
    assert!(
        !until_found(&agg, "/v1/services?q=club", 1, Duration::from_secs(8)).await,
        "a nudge past the limit brought a crawl forward"
    );
    // The edit was there to be fetched: a crawl asked for finds it.
    agg.crawl().await;
    assert!(until_found(&agg, "/v1/services?q=club", 1, Duration::from_secs(5)).await);
}

/// A nudge's `source` is at most 2048 characters: a longer one is refused
/// with a fixed message (nothing of it echoed), crawls nothing and stores
/// nothing; one of exactly 2048 is noted as any other.
#[tokio::test]
async fn an_over_long_nudge_source_is_refused_without_a_crawl() {
    let agg = TestNode::start_aggregator("Careful CVS", |c| {
        c.aggregator.scheduled = true;
        c.aggregator.recrawl_interval_secs = 900;
    })
    .await;
    let first = key(72);
    let fake = FakeHub::start(Script::Json(signed(
        &listing(
            &first,
            "Long-named hub",
            1,
            vec![service(72, "Soup", 54.0, -2.8, "MO", "Food")],
        ),
        &first,
    )))
    .await;
    agg.add_source(&fake.listing_url()).await;
    assert!(until_found(&agg, "/v1/services?q=soup", 1, Duration::from_secs(15)).await);
    let before = fake.hits();
    let sources = agg.admin(Method::GET, "/sources", None).await.json();

    let padded = |len: usize| {
        let mut s = format!("{}?pad=", fake.listing_url());
        while s.len() < len {
            s.push('x');
        }
        s
    };
    let long = padded(2049);
    let reply = agg
        .post_json(&format!("/v1/notify?source={}", encoded(&long)), json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.len() < 512, "{}", reply.body.len());
    let text = String::from_utf8_lossy(&reply.body);
    assert!(
        !text.contains("xxxxxxxx") && !text.contains("127.0.0.1"),
        "{text}"
    );
    assert_eq!(reply.json()["error"]["code"], "invalid", "{text}");

    let exact = padded(2048);
    let reply = agg
        .post_json(&format!("/v1/notify?source={}", encoded(&exact)), json!({}))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::ACCEPTED,
        "2048 characters are allowed"
    );

    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fake.hits(), before, "no crawl for either");
    assert_eq!(
        agg.admin(Method::GET, "/sources", None).await.json(),
        sources
    );
}

/// A hub reads an aggregator's `Signpost-Notify` request header as a hint
/// from a stranger: a plain http(s) URL of at most 2048 characters is
/// nudged when the listing changes; anything else (longer, another scheme,
/// a user name, not a URL, not text) is ignored: the fetch still gets the
/// listing, and nothing is kept to nudge.
#[tokio::test]
async fn a_hub_ignores_an_over_long_or_malformed_notify_header() {
    let hub = TestNode::start("Careful hub").await;
    add_service(
        &hub,
        json!({"name": "Food pantry", "taxonomy_terms": [{"name": "Food"}]}),
    )
    .await;
    // Stands in for an aggregator's /v1/notify, counting the nudges.
    let listener = FakeHub::start(Script::Raw {
        status: 202,
        content_type: "application/json".into(),
        body: br#"{"status":"noted"}"#.to_vec(),
    })
    .await;
    let good = format!(
        "{}/v1/notify?source={}",
        listener.url(),
        encoded(&hub.node.url())
    );
    let padded = |len: usize| {
        let mut s = format!("{good}&pad=");
        while s.len() < len {
            s.push('x');
        }
        s
    };
    let value = |s: &str| reqwest::header::HeaderValue::from_str(s).expect("header value");

    let mut edits = 0;
    let mut nudged_after = async |notify| {
        edits += 1;
        nudged_after_fetch(&hub, &listener, notify, edits).await
    };
    assert!(nudged_after(value(&good)).await, "a plain URL is nudged");
    assert!(
        nudged_after(value(&padded(2048))).await,
        "2048 characters are allowed"
    );
    let ftp = good.replacen("http://", "ftp://", 1);
    let user = good.replacen("http://", "http://user:secret@", 1);
    for (why, bad) in [
        ("over 2048 characters", value(&padded(2049))),
        ("not http(s)", value(&ftp)),
        ("with a user name", value(&user)),
        ("not a URL", value("please nudge me")),
        ("empty", value("")),
        (
            "not text",
            reqwest::header::HeaderValue::from_bytes(b"http://127.0.0.1/\xff\xfe").expect("bytes"),
        ),
    ] {
        assert!(!nudged_after(bad).await, "{why}: nudged");
    }
}

/// Fetches `hub`'s listing as an aggregator whose `Signpost-Notify` is
/// `notify`, then makes edit number `edit`: true when `listener` got a
/// nudge within 1.5 s.
async fn nudged_after_fetch(
    hub: &TestNode,
    listener: &FakeHub,
    notify: reqwest::header::HeaderValue,
    edit: u32,
) -> bool {
    let reply = hub
        .http
        .get(hub.listing_url())
        .header("user-agent", "signpost-node/0.1.0 (aggregator)")
        .header("signpost-notify", notify)
        .send()
        .await
        .expect("GET listing");
    assert_eq!(
        reply.status(),
        StatusCode::OK,
        "the fetch still gets the listing"
    );
    let body = reply.bytes().await.expect("listing");
    verify_listing(&body, &VerifyOptions::now()).expect("the listing verifies");
    let before = listener.hits();
    add_service(
        hub,
        json!({"name": format!("Session {edit}"), "taxonomy_terms": [{"name": "Social"}]}),
    )
    .await;
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(1500) {
        if listener.hits() > before {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// A follower may ask to wait up to 30 s, but a node whose
/// `server.request_timeout_secs` is short grants only what ends 5 s before
/// it, and says so (`Signpost-Feed-Wait`): the answer is the page, never the
/// timeout's 408.
#[tokio::test]
async fn a_feed_wait_ends_before_the_nodes_request_timeout() {
    let agg = TestNode::start_aggregator("Hasty CVS", |c| {
        c.server.request_timeout_secs = 7;
    })
    .await;
    let started = Instant::now();
    let reply = agg.get("/v1/feed?afterChangeNumber=0&wait=30").await;
    let took = started.elapsed();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["signpost-feed-wait"], "2");
    assert_eq!(reply.json()["items"].as_array().map(Vec::len), Some(0));
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(6),
        "held for the granted wait only: {took:?}"
    );
    // A shorter wait than the node's longest is granted as asked.
    let reply = agg.get("/v1/feed?afterChangeNumber=0&wait=1").await;
    assert_eq!(reply.headers["signpost-feed-wait"], "1");
}
