//! Fluency with the rest of the ecosystem, against real nodes on loopback:
//! CORS where the public read API promises it and never on `/admin`,
//! compressed answers that decode to the same bytes with strong ETags per
//! coding (and 304s that still hold), and `/readyz` that turns unready
//! when the database goes or crawls stop while `/healthz` stays up.

use std::io::Read;

use reqwest::StatusCode;
use serde_json::Value;
use signpost_tests::{Reply, TestNode};

const ORIGIN: (&str, &str) = ("origin", "https://council.example.org");

fn acao(reply: &Reply) -> Option<String> {
    reply.header("access-control-allow-origin")
}

#[tokio::test]
async fn cors_is_on_every_public_read_and_never_on_admin() {
    let hub = TestNode::start("Revoelution").await;
    let agg = TestNode::start_aggregator("Lancashire CVS", |_| {}).await;
    agg.add_source(&hub.node.url()).await;
    agg.crawl().await;
    let public = [
        (&agg, "/v1/services", StatusCode::OK),
        (&agg, "/v1/hubs", StatusCode::OK),
        (&agg, "/v1/feed", StatusCode::OK),
        (&agg, "/v1/services?page=0", StatusCode::BAD_REQUEST),
        (&agg, "/v1/no/such/thing", StatusCode::NOT_FOUND),
        (&agg, "/hsds/services", StatusCode::OK),
        (&agg, "/hsds/nothing_here", StatusCode::NOT_FOUND),
        (&agg, "/openapi.json", StatusCode::OK),
        (&hub, "/.well-known/signpost/listing", StatusCode::OK),
        (&hub, "/openapi.json", StatusCode::OK),
    ];
    for (node, path, status) in public {
        for headers in [&[ORIGIN][..], &[][..]] {
            let reply = node.get_with(path, headers).await;
            assert_eq!(reply.status, status, "{path}");
            assert_eq!(acao(&reply).as_deref(), Some("*"), "{path} {headers:?}");
            assert!(
                reply.header("access-control-allow-credentials").is_none(),
                "{path}"
            );
        }
    }
    // Every answer carries a request id for the access log: the client's
    // own, or a new one.
    let mine = agg
        .get_with("/v1/hubs", &[("x-request-id", "report-42")])
        .await;
    assert_eq!(mine.header("x-request-id").as_deref(), Some("report-42"));
    let fresh = agg.get("/v1/hubs").await;
    assert!(fresh
        .header("x-request-id")
        .is_some_and(|id| id.len() == 36));
    // A preflight allows reading, not writing.
    let preflight = agg
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/services", agg.node.url()),
        )
        .header(ORIGIN.0, ORIGIN.1)
        .header("access-control-request-method", "GET")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success());
    let methods = preflight
        .headers()
        .get("access-control-allow-methods")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        methods.contains("GET") && !methods.contains("POST"),
        "{methods}"
    );
    // Never on the admin page or API, signed in or not.
    for path in [
        "/admin",
        "/admin/v1/hub",
        "/admin/v1/services",
        "/admin/v1/nothing",
    ] {
        let reply = agg.get_with(path, &[ORIGIN]).await;
        assert_eq!(acao(&reply), None, "{path} answered {}", reply.status);
    }
    let signed_in = agg
        .get_with(
            "/admin/v1/hub",
            &[ORIGIN, ("authorization", &format!("Bearer {}", agg.token))],
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::OK);
    assert_eq!(acao(&signed_in), None);
}

fn decode(coding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .expect("gzip");
        }
        "br" => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .expect("brotli");
        }
        "zstd" => out = zstd::decode_all(body).expect("zstd"),
        other => panic!("unexpected coding {other}"),
    }
    out
}

/// Fetches `path` identity and in every coding, checks each decodes to the
/// identity bytes, and when the answer has an ETag, that it names the
/// coding and that a conditional request with it answers 304 with it.
async fn check_codings(node: &TestNode, path: &str) {
    let plain = node.get(path).await;
    assert_eq!(plain.status, StatusCode::OK, "{path}");
    assert_eq!(plain.header("content-encoding"), None, "{path}");
    assert!(
        plain
            .header("vary")
            .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
        "{path}: Vary"
    );
    let plain_tag = plain.header("etag");
    for coding in ["gzip", "br", "zstd"] {
        let reply = node.get_with(path, &[("accept-encoding", coding)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{path} {coding}");
        assert_eq!(
            reply.header("content-encoding").as_deref(),
            Some(coding),
            "{path}"
        );
        assert!(
            reply.body.len() < plain.body.len(),
            "{path} {coding} is smaller"
        );
        assert_eq!(decode(coding, &reply.body), plain.body, "{path} {coding}");
        let tag = reply.header("etag");
        if let Some(plain_tag) = &plain_tag {
            let tag = tag.clone().expect("an ETag");
            assert_eq!(
                tag,
                format!("{}-{coding}\"", plain_tag.trim_end_matches('"')),
                "{path}: a strong tag per coding"
            );
            let again = node
                .get_with(
                    path,
                    &[("accept-encoding", coding), ("if-none-match", &tag)],
                )
                .await;
            assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path} {coding}");
            assert_eq!(again.header("etag").as_deref(), Some(tag.as_str()));
            assert!(again.body.is_empty());
        }
    }
    if let Some(plain_tag) = &plain_tag {
        let again = node.get_with(path, &[("if-none-match", plain_tag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path} identity");
        assert_eq!(again.header("etag").as_deref(), Some(plain_tag.as_str()));
        let miss = node
            .get_with(path, &[("if-none-match", "\"nothing\"")])
            .await;
        assert_eq!(miss.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn compressed_answers_decode_to_the_same_bytes_with_etags_per_coding() {
    let hub = TestNode::start("Revoelution").await;
    let agg = TestNode::start_aggregator("Lancashire CVS", |_| {}).await;
    agg.add_source(&hub.node.url()).await;
    agg.crawl().await;
    check_codings(&hub, "/.well-known/signpost/listing").await;
    check_codings(&hub, "/openapi.json").await;
    check_codings(&agg, &format!("/v1/hubs/{}/listing", hub.hub_id)).await;
    check_codings(&agg, "/v1/hubs").await;
    check_codings(&agg, "/hsds/services").await;
    check_codings(&agg, "/").await;
    // Preference: brotli over gzip when both are equally welcome, and q=0
    // refuses a coding.
    let both = hub
        .get_with(
            "/.well-known/signpost/listing",
            &[("accept-encoding", "gzip, br")],
        )
        .await;
    assert_eq!(both.header("content-encoding").as_deref(), Some("br"));
    let refused = hub
        .get_with(
            "/.well-known/signpost/listing",
            &[("accept-encoding", "br;q=0, gzip")],
        )
        .await;
    assert_eq!(refused.header("content-encoding").as_deref(), Some("gzip"));
}

async fn ready(node: &TestNode) -> (StatusCode, Value) {
    let reply = node.get("/readyz").await;
    (reply.status, reply.json())
}

#[tokio::test]
async fn readyz_turns_unready_when_the_database_goes_or_crawls_stop() {
    let hub = TestNode::start("Revoelution").await;
    let (status, body) = ready(&hub).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let agg = TestNode::start_aggregator("Lancashire CVS", |c| {
        c.aggregator.ready_max_crawl_age_secs = Some(2);
    })
    .await;
    // No sources yet: nothing to crawl is not a stuck crawler.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (status, body) = ready(&agg).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    agg.add_source(&hub.node.url()).await;
    agg.crawl().await;
    let (status, body) = ready(&agg).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ready");
    for check in ["database", "index", "crawl"] {
        assert_eq!(body["checks"][check]["ok"], true, "{check}: {body}");
    }
    // Crawls stop: unready once the bound has passed, ready after one more.
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let (status, body) = ready(&agg).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "unready");
    assert_eq!(body["checks"]["crawl"]["ok"], false);
    assert!(body["checks"]["crawl"]["error"]
        .as_str()
        .is_some_and(|e| e.contains("no crawl has finished")));
    assert_eq!(
        agg.get("/healthz").await.status,
        StatusCode::OK,
        "still alive"
    );
    agg.crawl().await;
    assert_eq!(ready(&agg).await.0, StatusCode::OK);
    // The database goes: unready, and it says so; liveness is unaffected.
    std::fs::remove_file(agg.dir.path().join("signpost.db")).expect("remove the database");
    let (status, body) = ready(&agg).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["checks"]["database"]["ok"], false);
    assert!(body["checks"]["database"]["error"]
        .as_str()
        .is_some_and(|e| e.contains("missing")));
    assert_eq!(agg.get("/healthz").await.status, StatusCode::OK);
    std::fs::remove_file(hub.dir.path().join("signpost.db")).expect("remove");
    assert_eq!(ready(&hub).await.0, StatusCode::SERVICE_UNAVAILABLE);
}

/// The JSON-LD blocks of an HTML page, parsed.
fn json_ld(html: &str) -> Vec<Value> {
    let open = "<script type=\"application/ld+json\">";
    html.split(open)
        .skip(1)
        .filter_map(|rest| rest.split("</script>").next())
        .map(|block| serde_json::from_str(block).expect("JSON-LD parses"))
        .collect()
}

#[tokio::test]
async fn the_dataset_site_names_the_feed_its_licence_and_publisher() {
    let hub = TestNode::start("Revoelution").await;
    let second = TestNode::start("The Bay").await;
    let agg = TestNode::start_aggregator("Lancashire CVS", |c| {
        c.node.public_url = Some("https://directory.example.org".into());
        c.aggregator.name = "Lancashire community directory".into();
    })
    .await;
    agg.add_source(&hub.node.url()).await;
    agg.add_source(&second.node.url()).await;
    agg.crawl().await;
    // The directory's footer links to it.
    let home = agg.get("/").await;
    assert!(String::from_utf8_lossy(&home.body).contains("href=\"/dataset\""));
    let page = agg.get("/dataset").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8(page.body.clone()).expect("UTF-8");
    let blocks = json_ld(&html);
    assert_eq!(blocks.len(), 1, "one Dataset");
    let dataset = &blocks[0];
    assert_eq!(dataset["@type"], "Dataset");
    let license = dataset["license"].as_str().expect("a licence");
    assert!(license.starts_with("https://"), "{license}");
    assert!(html.contains(license), "people see the licence too");
    assert_eq!(
        dataset["publisher"]["name"],
        "Lancashire community directory"
    );
    assert_eq!(dataset["publisher"]["url"], "https://directory.example.org");
    let feed = dataset["distribution"]
        .as_array()
        .expect("distribution")
        .iter()
        .find(|d| d["encodingFormat"] == "application/vnd.openactive.rpde+json; version=1")
        .expect("the RPDE feed as a DataDownload");
    assert_eq!(feed["@type"], "DataDownload");
    let url = feed["contentUrl"].as_str().expect("contentUrl");
    assert_eq!(url, "https://directory.example.org/v1/feed");
    // The feed it names answers here, and its licence is the same.
    let path = url.trim_start_matches("https://directory.example.org");
    let first = agg.get_with(&format!("{path}?limit=1"), &[ORIGIN]).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(acao(&first).as_deref(), Some("*"));
    assert_eq!(first.json()["license"], license);
    // RPDE caching: full pages for an hour, the last page briefly.
    assert_eq!(
        first.header("cache-control").as_deref(),
        Some("public, max-age=3600"),
        "a full page"
    );
    let mut next = first.json()["next"].as_str().expect("next").to_owned();
    let mut last = None;
    for _ in 0..5 {
        let reply = agg
            .get(next.trim_start_matches("https://directory.example.org"))
            .await;
        let body = reply.json();
        let items = body["items"].as_array().map_or(0, Vec::len);
        if items < 1 {
            last = Some(reply);
            break;
        }
        next = body["next"].as_str().expect("next").to_owned();
    }
    let last = last.expect("the feed ends");
    assert_eq!(
        last.header("cache-control").as_deref(),
        Some("public, max-age=8"),
        "the last page"
    );
}
