//! Hostile hubs: every malformed or malicious listing the protocol's test
//! vectors describe, and transport-level attacks (a gzip bomb, deep nesting,
//! absurd numbers, redirects to refused addresses, floods of near-cap
//! bodies), served over real HTTP to a real aggregator. For each: the
//! aggregator stays up, time and memory stay bounded, nothing is stored,
//! and the hub's health says why.

use std::time::{Duration, Instant};

use base64::Engine;
use signpost_spec::{Envelope, LISTING_PAYLOAD_TYPE};
use signpost_tests::fake_hub::{FakeHub, Script};
use signpost_tests::listings::{key, listing};
use signpost_tests::TestNode;

fn vectors_dir() -> std::path::PathBuf {
    std::path::PathBuf::from("../spec/vectors/invalid")
}

/// Resident memory of this process (the aggregator runs in it), in bytes.
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

async fn nothing_stored(agg: &TestNode) {
    assert_eq!(agg.get_json("/v1/hubs").await["total"], 0, "nothing stored");
    assert_eq!(
        agg.get("/healthz").await.status,
        reqwest::StatusCode::OK,
        "still up"
    );
}

#[tokio::test]
async fn every_invalid_vector_served_by_a_hub_is_refused_with_its_code() {
    let fake = FakeHub::start(Script::Json(b"{}".to_vec())).await;
    let agg = TestNode::start_aggregator("Careful CVS", |_| {}).await;
    agg.add_source(&fake.url()).await;
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let vector: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let expected = vector["expected_error"].as_str().unwrap();
        // The vectors fix their own clock; through a live aggregator only
        // the errors that do not depend on the time can be expected.
        if matches!(expected, "expired" | "not_yet_valid") {
            continue;
        }
        let bytes = match vector["envelope"].as_str() {
            Some(text) => text.as_bytes().to_vec(),
            None => base64::engine::general_purpose::STANDARD
                .decode(vector["envelope_base64"].as_str().unwrap())
                .unwrap(),
        };
        fake.set(Script::Json(bytes));
        let report = agg.crawl_source(&fake.listing_url()).await;
        assert_eq!(
            report["outcome"],
            "rejected",
            "{}: {report}",
            path.display()
        );
        assert_eq!(
            report["error_code"],
            expected,
            "{}: {report}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 45, "only {checked} vectors checked");
    nothing_stored(&agg).await;
    let sources = agg
        .admin(reqwest::Method::GET, "/sources", None)
        .await
        .json();
    assert_eq!(
        sources["sources"][0]["failures"].as_u64().unwrap(),
        checked as u64
    );
}

#[tokio::test]
async fn transport_attacks_are_bounded_and_explained() {
    let k = key(90);
    let fake = FakeHub::start(Script::Json(b"{}".to_vec())).await;
    let agg = TestNode::start_aggregator("Careful CVS", |c| {
        // Only this one loopback address is reachable: everything else
        // private stays refused, redirects included.
        c.aggregator.allow_private_networks = false;
        c.aggregator.allow_addresses = vec!["127.0.0.1".parse().unwrap()];
        c.aggregator.request_timeout_secs = 2;
    })
    .await;
    agg.add_source(&fake.url()).await;
    let hub_payload = serde_json::to_vec(&listing(&k, "Hostile hub", 1, vec![])).unwrap();
    let signed_raw = |payload: &[u8]| Envelope::sign(LISTING_PAYLOAD_TYPE, payload, &k).to_bytes();
    let text = String::from_utf8(hub_payload.clone()).unwrap();

    // A gzip bomb: 64 MiB of zeros compressed, sent with Content-Encoding.
    // The crawler never asks for compression and never decompresses.
    let mut bomb = vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff];
    bomb.extend(std::iter::repeat_n(0u8, 64 * 1024));
    let cases: Vec<(&str, Script, &str)> = vec![
        (
            "gzip bomb",
            Script::Encoded {
                encoding: "gzip".into(),
                body: bomb,
            },
            "bad_envelope",
        ),
        (
            "deep nesting, over the size cap",
            Script::Json(vec![b'['; 5_000_000]),
            "too_large",
        ),
        (
            "deep nesting, a million levels",
            Script::Json(vec![b'['; 1_000_000]),
            "too_deep",
        ),
        (
            "invalid UTF-8",
            Script::Json(vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}']),
            "bad_envelope",
        ),
        (
            "NaN",
            Script::Json(br#"{"payloadType": NaN}"#.to_vec()),
            "bad_envelope",
        ),
        (
            "huge seq, signed",
            Script::Json(signed_raw(
                text.replace("\"seq\":1", "\"seq\":1e400").as_bytes(),
            )),
            "payload_schema",
        ),
        (
            "latitude out of range, signed",
            Script::Json(signed_raw(
                text.replace("\"timezone\"", "\"latitude\":200.0,\"timezone\"")
                    .as_bytes(),
            )),
            "payload_schema",
        ),
        (
            "duplicate keys, signed",
            Script::Json(signed_raw(text.replacen("{", "{\"seq\":2,", 1).as_bytes())),
            "payload_schema",
        ),
        (
            "redirect to another loopback address",
            Script::Redirect("http://127.0.0.2:9/".into()),
            "refused_address",
        ),
        (
            "redirect to cloud metadata",
            Script::Redirect("http://169.254.169.254/latest/meta-data/".into()),
            "refused_address",
        ),
        (
            "redirect to IPv6 loopback",
            Script::Redirect("http://[::1]:9/".into()),
            "refused_address",
        ),
    ];
    for (name, script, code) in cases {
        fake.set(script);
        let started = Instant::now();
        let report = agg.crawl_source(&fake.listing_url()).await;
        assert_eq!(report["error_code"], code, "{name}: {report}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{name} took {:?}",
            started.elapsed()
        );
        let hub = agg
            .admin(reqwest::Method::GET, "/sources", None)
            .await
            .json();
        assert_eq!(
            hub["sources"][0]["last_error_code"], code,
            "{name}: health says why"
        );
    }
    nothing_stored(&agg).await;

    // A flood of bodies just under the cap does not grow memory without bound.
    let before = rss_bytes();
    fake.set(Script::Json(vec![b' '; 4 * 1024 * 1024 - 1024]));
    for _ in 0..40 {
        let report = agg.crawl_source(&fake.listing_url()).await;
        assert_eq!(report["outcome"], "rejected");
    }
    let grown = rss_bytes().saturating_sub(before);
    assert!(
        grown < 160 * 1024 * 1024,
        "memory grew by {} MiB",
        grown / (1024 * 1024)
    );
    nothing_stored(&agg).await;
}
