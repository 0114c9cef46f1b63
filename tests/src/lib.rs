//! Harness for Signpost's multi-node integration tests: real nodes in
//! temporary directories, on loopback ports, talked to over real HTTP.

pub mod fake_hub;
pub mod listings;
pub mod process;
pub mod spreadsheets;

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use signpost_node::config::Config;
use signpost_node::init::{init, InitOptions, InitOutcome};
use signpost_node::server::{self, RunningNode};
use signpost_spec::{
    verify_listing, Coordination, Dimensions, Focus, Governance, Space, VerifiedListing,
    VerifyOptions,
};
use tempfile::TempDir;

/// A node started for one test (a hub, or a hub and aggregator); its files
/// vanish with it. Its HTTP API is its [`Api`], reached through `Deref`
/// (`node.get(..)`, `node.token`), so tests talk to it just as to a node in
/// a child process ([`process::NodeProcess`]).
pub struct TestNode {
    pub dir: TempDir,
    pub node: RunningNode,
    pub hub_id: String,
    pub api: Api,
}

impl std::ops::Deref for TestNode {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

/// One node's HTTP API as a test calls it: where it is, its admin token and
/// a client. Kept apart from how the node runs (in this process or in a
/// child), so every test speaks to either through the same calls.
pub struct Api {
    /// `http://ADDR` of the node.
    pub url: String,
    /// Its admin token.
    pub token: String,
    pub http: reqwest::Client,
}

/// A response read whole: status, headers and body.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (panics with the body text if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// The dimensions of a typical first-level community hub.
pub fn community_hub() -> Dimensions {
    Dimensions {
        space: vec![Space::Dedicated],
        governance: Governance::CommunityLed,
        focus: Focus::Generic,
        coordination: Coordination::FirstLevel,
    }
}

impl TestNode {
    /// Initialises a hub called `name` and serves it on a free loopback port.
    pub async fn start(name: &str) -> TestNode {
        logs();
        let dir = tempfile::tempdir().expect("temp dir");
        let outcome = init(&InitOptions {
            dir: dir.path().to_owned(),
            name: name.to_owned(),
            url: None,
            listen: Some(([127, 0, 0, 1], 0).into()),
            dimensions: community_hub(),
            aggregator: false,
        })
        .expect("init");
        // The aggregators it nudges when it publishes live on loopback.
        let mut config = Config::load(dir.path()).expect("config");
        config.aggregator.allow_private_networks = true;
        std::fs::write(
            dir.path().join(signpost_node::config::CONFIG_FILE),
            config.to_commented_toml(),
        )
        .expect("config written");
        let node = start_node(dir.path()).await;
        TestNode {
            api: Api::new(node.url(), outcome.admin_token),
            dir,
            node,
            hub_id: outcome.hub_id,
        }
    }

    /// Initialises a node with the aggregator role on ([`init_aggregator`])
    /// and serves it in this process on a free loopback port.
    pub async fn start_aggregator(name: &str, tweak: impl FnOnce(&mut Config)) -> TestNode {
        let (dir, outcome, config) = init_aggregator(name, 0, tweak);
        let node = server::start(dir.path(), config)
            .await
            .expect("node starts");
        TestNode {
            api: Api::new(node.url(), outcome.admin_token),
            dir,
            node,
            hub_id: outcome.hub_id,
        }
    }
}

/// Initialises a node with the aggregator role on, in a new temporary
/// directory, to listen on loopback `port` (0: any free one). It may crawl
/// loopback (the test hubs live there) and recrawls only when told, so
/// tests decide when crawls happen; `tweak` changes any other setting.
/// Gives the directory, what `init` said and the checked settings (not
/// yet written to the directory's config file).
pub fn init_aggregator(
    name: &str,
    port: u16,
    tweak: impl FnOnce(&mut Config),
) -> (TempDir, InitOutcome, Config) {
    logs();
    let dir = tempfile::tempdir().expect("temp dir");
    let outcome = init(&InitOptions {
        dir: dir.path().to_owned(),
        name: name.to_owned(),
        url: None,
        listen: Some(([127, 0, 0, 1], port).into()),
        dimensions: Dimensions {
            coordination: Coordination::SecondLevel,
            ..community_hub()
        },
        aggregator: true,
    })
    .expect("init");
    let mut config = Config::load(dir.path()).expect("config");
    config.node.listen = ([127, 0, 0, 1], port).into();
    config.aggregator.allow_private_networks = true;
    config.aggregator.recrawl_interval_secs = 86_400;
    // Tests say when to crawl (POST /admin/v1/crawl), so outcomes are
    // never split between a test's crawl and the schedule's.
    config.aggregator.scheduled = false;
    // Registrations are stored at once, as most tests of what follows
    // a registration want; `registration_flood.rs` tries approval.
    config.aggregator.registration = signpost_node::config::Registration::Open;
    tweak(&mut config);
    config.validate().expect("test config is valid");
    (dir, outcome, config)
}

impl Api {
    /// The API of the node at `url` (`http://ADDR`), with its admin token.
    pub fn new(url: String, token: String) -> Api {
        Api {
            url,
            token,
            http: client(),
        }
    }

    /// GETs a path of this node.
    pub async fn get(&self, path: &str) -> Reply {
        read(
            self.http
                .get(format!("{}{path}", self.url))
                .send()
                .await
                .expect("GET"),
        )
        .await
    }

    /// GETs a path with extra request headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = self.http.get(format!("{}{path}", self.url));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        read(req.send().await.expect("GET")).await
    }

    /// GETs a path and returns its JSON, asserting 200.
    pub async fn get_json(&self, path: &str) -> Value {
        let reply = self.get(path).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "GET {path}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()
    }

    /// POSTs JSON to a public path.
    pub async fn post_json(&self, path: &str, body: Value) -> Reply {
        read(
            self.http
                .post(format!("{}{path}", self.url))
                .json(&body)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }

    /// Adds a source to crawl (aggregators).
    pub async fn add_source(&self, url: &str) {
        let reply = self
            .admin(
                Method::POST,
                "/sources",
                Some(serde_json::json!({ "url": url })),
            )
            .await;
        assert!(
            reply.status.is_success(),
            "add source: {}",
            String::from_utf8_lossy(&reply.body)
        );
    }

    /// Crawls every source now; returns each source's report by URL.
    pub async fn crawl(&self) -> Vec<Value> {
        let reply = self.admin(Method::POST, "/crawl", None).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "crawl: {}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()["crawled"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Crawls once and returns the report for `url`.
    pub async fn crawl_source(&self, url: &str) -> Value {
        self.crawl()
            .await
            .into_iter()
            .find(|r| r["url"] == url)
            .unwrap_or_else(|| panic!("no crawl report for {url}"))
    }

    /// Follows the RPDE feed from the start to its end (the page that links
    /// to itself), returning every item in order.
    pub async fn follow_feed(&self, limit: u32) -> Vec<FeedItem> {
        let mut url = format!("{}/v1/feed?limit={limit}", self.url);
        let mut items = Vec::new();
        for _ in 0..10_000 {
            let reply = read(self.http.get(&url).send().await.expect("feed")).await;
            assert_eq!(reply.status, StatusCode::OK);
            let page: FeedPage = serde_json::from_slice(&reply.body).expect("RPDE page");
            assert!(page.license.starts_with("http"), "every page has a licence");
            let empty = page.items.is_empty();
            items.extend(page.items);
            if empty {
                if url.contains("afterChangeNumber") {
                    assert_eq!(page.next, url, "an empty page links to itself");
                }
                return items;
            }
            url = page.next;
        }
        panic!("the feed did not end");
    }

    /// The listing's URL.
    pub fn listing_url(&self) -> String {
        format!("{}/.well-known/signpost/listing", self.url)
    }

    /// GETs the listing, optionally with extra headers.
    pub async fn get_listing(&self, headers: &[(&str, &str)]) -> Reply {
        let mut req = self.http.get(self.listing_url());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        read(req.send().await.expect("GET listing")).await
    }

    /// Fetches and verifies the listing with the spec crate.
    pub async fn verified_listing(&self) -> VerifiedListing {
        let reply = self.get_listing(&[]).await;
        assert_eq!(reply.status, StatusCode::OK);
        verify_listing(&reply.body, &VerifyOptions::now()).expect("listing verifies")
    }

    /// Calls the admin API with the right token.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.admin_as(&self.token, method, path, body).await
    }

    /// Calls the admin API with any token.
    pub async fn admin_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .http
            .request(method, format!("{}/admin/v1{path}", self.url))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        read(req.send().await.expect("admin request")).await
    }

    /// Adds a service through the admin API, failing the test (with the
    /// node's answer) unless it is created; gives the service as the hub
    /// stored it (with its new `id`).
    pub async fn add_service(&self, service: Value) -> Value {
        let r = self.admin(Method::POST, "/services", Some(service)).await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()["service"].clone()
    }

    /// Posts raw bytes to the admin API.
    pub async fn admin_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let req = self
            .http
            .post(format!("{}/admin/v1{path}", self.url))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body);
        read(req.send().await.expect("admin request")).await
    }
}

/// The names of the results on a directory page or an embed, in order:
/// each result's `data-name`.
pub fn result_names(body: &str) -> Vec<String> {
    body.split("class=\"result\"")
        .skip(1)
        .filter_map(|item| {
            let start = item.find("data-name=\"")? + "data-name=\"".len();
            Some(item[start..].split('"').next()?.to_owned())
        })
        .collect()
}

/// GETs an address and reads its body as JSON (any status), for nodes the
/// test did not start as a [`TestNode`] (the demo network, a restored node).
pub async fn fetch_json(url: &str) -> Value {
    client()
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("a JSON body")
}

/// Sends the nodes' warnings to the test's output (shown when it fails).
pub fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SIGNPOST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .try_init();
}

/// Starts a node on the data directory with a free loopback port.
pub async fn start_node(dir: &Path) -> RunningNode {
    let mut config = Config::load(dir).expect("config");
    config.node.listen = ([127, 0, 0, 1], 0).into();
    server::start(dir, config).await.expect("node starts")
}

/// An HTTP client with bounded time, for loopback only.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .no_proxy()
        .build()
        .expect("http client")
}

async fn read(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.expect("body").to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// One RPDE page as a strict consumer reads it.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedPage {
    pub items: Vec<FeedItem>,
    pub next: String,
    pub license: String,
}

/// One RPDE item; the envelope is kept as its exact bytes.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedItem {
    pub state: String,
    pub kind: String,
    pub id: String,
    pub modified: i64,
    #[serde(default)]
    pub data: Option<FeedData>,
}

/// The `data` of an updated item.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedData {
    pub hub_id: String,
    pub seq: u64,
    pub envelope: Box<serde_json::value::RawValue>,
}

/// The path of a workspace binary, built from the sources under test
/// (`cargo test` builds a package's binaries only for that package's own
/// tests, so one left from an earlier build could be stale; an up-to-date
/// build is a moment's check). Built once per test process.
pub fn binary(name: &str, package: &str) -> std::path::PathBuf {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let exe = std::env::current_exe().expect("test path");
    let dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target dir")
        .to_owned();
    let path = dir.join(name);
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if !built.iter().any(|b| b == name) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = std::process::Command::new(cargo);
        build.args(["build", "-p", package, "--bin", name]);
        // Without what cargo set for this test (its package's name and
        // folder): ring's build script asks to be rerun when those change,
        // so with them each build here and each from a shell rebuilt ring
        // and all above it (80 s a time).
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if cargo_set_for_a_crate(&key) {
                build.env_remove(&*key);
            }
        }
        let status = build.status().expect("cargo build");
        assert!(status.success(), "building {name}");
        built.push(name.to_owned());
    }
    path
}

/// Whether cargo sets `key` for the crate it builds or runs (as opposed to
/// the settings a user gives cargo, such as `CARGO_TARGET_DIR`).
fn cargo_set_for_a_crate(key: &str) -> bool {
    [
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        "CARGO_CRATE_",
        "CARGO_BIN_",
    ]
    .iter()
    .any(|p| key.starts_with(p))
        || [
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_TARGET_TMPDIR",
            "CARGO_RUSTC_CURRENT_DIR",
            "OUT_DIR",
        ]
        .contains(&key)
}

/// `<workspace root>/../shared/vendor` (the vendored Open Referral
/// schemas), if it is there with both `oruk/` and `hsds/`; else says loudly
/// which checks (`skipped`) did not run.
pub fn shared_vendor(skipped: &str) -> Option<std::path::PathBuf> {
    // The package folder (cargo runs tests there; every package is one
    // level below the workspace root). Not a path baked in at build time:
    // a build cache shared between clones would name the wrong clone.
    let root = std::path::Path::new(".");
    let dir = root.join("..").join("..").join("shared").join("vendor");
    if dir.join("oruk").is_dir() && dir.join("hsds").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: ../shared/vendor not found beside the workspace ({}); {skipped}",
            dir.display()
        );
        None
    }
}
