//! Crash safety: an aggregator killed (SIGKILL) in the middle of ingesting a
//! large crawl, and a client killed in the middle of a sync, restart with
//! consistent stores: every stored listing complete and verifying, the feed
//! cursor valid, nothing lost or duplicated once they finish; the search
//! index catches up from the store and answers as one rebuilt from it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use signpost_spec::{verify_listing, Limits, VerifyOptions};
use signpost_tests::fake_hub::{FakeHub, Script};
use signpost_tests::listings::{key, listing, service, signed};
use signpost_tests::process::{Killed, NodeProcess};

/// Checks a store the way a restarted node relies on it being.
fn check_store(db: &Path) -> usize {
    let conn = rusqlite_open(db);
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    // No service, Open Referral row or schedule outlives its hub's listing
    // (the search index is rebuilt from these rows at start).
    let orphans: i64 = conn
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(orphans, 0, "rows whose parent is gone");
    let mut stmt = conn
        .prepare("SELECT hub_id, envelope, services FROM agg_hubs h WHERE state = 'active'")
        .unwrap();
    let rows: Vec<(String, Vec<u8>, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let options = VerifyOptions {
        now: jiff::Timestamp::now(),
        limits: Limits::default(),
    };
    for (hub_id, envelope, services) in &rows {
        let v = verify_listing(envelope, &options).expect("every stored listing verifies");
        assert_eq!(v.hub_id.as_str(), hub_id);
        assert_eq!(
            *services as usize,
            v.listing.services.len(),
            "no partial listing"
        );
    }
    let (distinct, total): (i64, i64) = conn
        .query_row(
            "SELECT COUNT(DISTINCT change_number), COUNT(*) FROM agg_hubs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(distinct, total, "feed positions are unique");
    let counter: i64 = conn
        .query_row(
            "SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'feed_change_number'), 0)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let max: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(change_number), 0) FROM agg_hubs",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(max <= counter, "the feed counter never falls behind");
    rows.len()
}

fn rusqlite_open(db: &Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(db).unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    c
}

fn count(db: &Path, sql: &str) -> i64 {
    if !db.exists() {
        return 0;
    }
    rusqlite_open(db)
        .query_row(sql, [], |r| r.get(0))
        .unwrap_or(0)
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn wait_for_async<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn killed_aggregator_and_client_restart_consistent_and_finish_exactly() {
    let client_bin = signpost_tests::binary("signpost", "signpost-client");
    // Four hubs hold every request (never answering) until the kill, so
    // the first crawl cannot finish before it however fast or slow the
    // machine is; the rest answer after 150 ms, so the kill lands mid-crawl.
    const HELD_BACK: u8 = 4;
    let mut fakes = Vec::new();
    let mut answers = Vec::new();
    for i in 0..60u8 {
        let k = key(i);
        let services = (0..20u128)
            .map(|s| {
                service(
                    i as u128 * 100 + s,
                    &format!("Service {i} {s}"),
                    54.0,
                    -2.8,
                    "MO",
                    "Food",
                )
            })
            .collect();
        let answer = signed(&listing(&k, &format!("Hub {i}"), 1, services), &k);
        let script = if i < HELD_BACK {
            Script::Silent
        } else {
            Script::Delayed {
                after: Duration::from_millis(150),
                then: Box::new(Script::Json(answer.clone())),
            }
        };
        fakes.push(FakeHub::start(script).await);
        answers.push(answer);
    }
    // The aggregator crawls its configured hubs on its own schedule, from
    // the moment it starts.
    let mut node = NodeProcess::start_aggregator("Crash CVS", |c| {
        c.aggregator.scheduled = true;
        // More slots than held-back hubs, so the others are always crawled.
        c.aggregator.max_concurrent_crawls = 8;
        c.aggregator.request_timeout_secs = 120;
        c.aggregator.hubs = fakes.iter().map(|f| f.url()).collect();
    })
    .await;
    let db = node.database();

    // Kill the aggregator in the middle of its first crawl.
    wait_for("some listings", || {
        count(&db, "SELECT COUNT(*) FROM agg_hubs") >= 15
    })
    .await;
    node.kill();
    let held = check_store(&db);
    assert!(
        held <= 60 - HELD_BACK as usize,
        "killed mid-crawl ({held} held)"
    );
    for (fake, answer) in fakes.iter().zip(&answers).take(HELD_BACK as usize) {
        fake.set(Script::Json(answer.clone()));
    }

    // Restarted, it finishes the crawl and the feed holds each hub once.
    node.serve().await;
    wait_for("the whole crawl", || {
        count(&db, "SELECT COUNT(*) FROM agg_hubs") == 60
    })
    .await;
    assert_eq!(check_store(&db), 60);
    let url = node.url.clone();
    let http = &node.http;
    let mut ids = std::collections::BTreeSet::new();
    let mut next = format!("{url}/v1/feed?limit=40");
    loop {
        let page: serde_json::Value = http.get(&next).send().await.unwrap().json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        for item in items {
            assert!(
                ids.insert(item["id"].as_str().unwrap().to_owned()),
                "no duplicates"
            );
        }
        next = page["next"].as_str().unwrap().to_owned();
    }
    assert_eq!(ids.len(), 60);

    // The search index caught up from the store after the kill: every
    // service is searchable, and an index rebuilt from the store by
    // `signpost-node reindex` gives the very same answers.
    let queries = [
        "/v1/services?per_page=100&page=3",
        "/v1/services?q=service%2012&per_page=100",
        "/v1/services?taxonomy=food&near=54.0,-2.8&within_km=5&per_page=50",
        "/v1/services?open_at=2026-11-30T10:00:00Z&per_page=100&page=2",
    ];
    let answers = || async {
        let mut all = Vec::new();
        for q in queries {
            all.push(signpost_tests::fetch_json(&format!("{url}{q}")).await);
        }
        all
    };
    wait_for_async("every service searchable", || async {
        signpost_tests::fetch_json(&format!("{url}/v1/services?per_page=1")).await["total"] == 1200
    })
    .await;
    let caught_up = answers().await;
    assert_eq!(caught_up[0]["items"].as_array().unwrap().len(), 100);
    assert!(caught_up[1]["total"].as_u64().unwrap() >= 20);
    node.kill();
    let reindex = node.run("reindex");
    assert!(
        reindex.status.success(),
        "reindex: {}",
        String::from_utf8_lossy(&reindex.stderr)
    );
    let said = String::from_utf8_lossy(&reindex.stdout);
    assert!(said.contains("1200 services"), "{said}");
    node.serve().await;
    assert_eq!(
        answers().await,
        caught_up,
        "a rebuilt index answers as the caught-up one did"
    );

    // Kill a client in the middle of its sync; run it again to the end.
    let replica_dir = tempfile::tempdir().unwrap();
    let replica = replica_dir.path().join("replica.db");
    let sync = || {
        Killed(
            Command::new(&client_bin)
                .args(["sync", "--from", &url, "--db"])
                .arg(&replica)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    };
    let mut first = sync();
    wait_for("the sync to start", || {
        count(&replica, "SELECT COUNT(*) FROM agg_hubs") >= 5
    })
    .await;
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let partial = check_store(&replica);
    let cursor = count(&replica, "SELECT cursor FROM agg_upstreams");
    let max_held = count(&replica, "SELECT COUNT(*) FROM agg_hubs");
    assert!(cursor <= 60, "the cursor is a real position");
    assert!(partial <= max_held as usize);
    let mut second = sync();
    let status = second.0.wait().unwrap();
    assert!(status.success(), "the resumed sync finishes");
    assert_eq!(check_store(&replica), 60);
    let aggregator_rows = count(&db, "SELECT SUM(services) FROM agg_hubs");
    assert_eq!(
        count(&replica, "SELECT SUM(services) FROM agg_hubs"),
        aggregator_rows
    );
    let same: i64 = {
        let conn = rusqlite_open(&replica);
        conn.execute("ATTACH DATABASE ?1 AS agg", [db.to_str().unwrap()])
            .unwrap();
        conn.query_row(
            "SELECT COUNT(*) FROM agg_hubs r JOIN agg.agg_hubs a
             ON a.hub_id = r.hub_id AND a.seq = r.seq AND a.envelope = r.envelope",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(same, 60, "exactly the aggregator's listings, byte for byte");
}
