//! The operator's guides followed step by step with the real binary:
//! `docs/guide-hub.md` (set up a hub, add and import services, serve,
//! register with a CVS aggregator, back up, edit while serving) and the
//! lost-key workaround of `docs/guide-coordinator.md` (remove the source,
//! register the hub's new identity, delist the old one).
//!
//! Every node is a child process on a loopback port; a guard kills it if
//! the test fails half way, and every wait has a deadline.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_signpost-node");
/// Longest wait for a node to start, stop, or show a change.
const DEADLINE: Duration = Duration::from_secs(30);

/// A `signpost-node` command with none of the caller's `SIGNPOST_*` settings.
fn command() -> Command {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("SIGNPOST_") {
            cmd.env_remove(name);
        }
    }
    cmd
}

fn run(args: &[&str], stdin: Option<&Path>) -> Output {
    let mut cmd = command();
    cmd.args(args);
    if let Some(path) = stdin {
        cmd.stdin(std::fs::File::open(path).expect("open stdin file"));
    }
    cmd.output().expect("run signpost-node")
}

/// Runs a command that must succeed; returns its standard output.
fn ok(args: &[&str]) -> String {
    ok_with_stdin(args, None)
}

fn ok_with_stdin(args: &[&str], stdin: Option<&Path>) -> String {
    let out = run(args, stdin);
    assert!(
        out.status.success(),
        "signpost-node {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `init`, returning (hub id, admin token) as it prints them.
fn init(dir: &Path, extra: &[&str]) -> (String, String) {
    let mut args = vec!["init", "--dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = ok(&args);
    let hub_id = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("hub id:"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| panic!("no hub id in:\n{out}"));
    let token = out
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("spt_"))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no admin token in:\n{out}"));
    (hub_id, token)
}

/// A serving node; killed when dropped, so a failed assertion never leaves
/// a process behind.
struct Node {
    child: Child,
    url: String,
    what: &'static str,
}

impl Node {
    /// `signpost-node serve --dir DIR` on `listen`, waiting (bounded) for
    /// the "Serving on" line to learn the address.
    fn serve(what: &'static str, dir: &Path, listen: &str, env: &[(&str, &str)]) -> Node {
        let mut cmd = command();
        cmd.args(["serve", "--dir", dir.to_str().unwrap()])
            .env("SIGNPOST_LISTEN", listen)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = cmd.spawn().expect("start signpost-node serve");
        let mut node = Node {
            child,
            url: String::new(),
            what,
        };
        let stderr = node.child.stderr.take().expect("stderr is piped");
        let (lines, seen) = mpsc::channel();
        // Keeps reading after the test stops listening, so the node never
        // blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let started = Instant::now();
        let mut log = String::new();
        loop {
            let left = DEADLINE.saturating_sub(started.elapsed());
            match seen.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("Serving on ") {
                        node.url = rest.split_whitespace().next().unwrap_or_default().into();
                        return node;
                    }
                    log.push_str(&line);
                    log.push('\n');
                }
                Err(_) => panic!("{what} did not start within {DEADLINE:?}; it said:\n{log}"),
            }
        }
    }

    /// The `host:port` it listens on.
    fn addr(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// SIGTERM, as systemd and Docker send it; the node must stop cleanly
    /// (exit 0) within the deadline.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "could not signal {}", self.what);
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for node") {
                assert!(
                    status.success(),
                    "{} stopped with {status} after SIGTERM",
                    self.what
                );
                return;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "{} did not stop within {DEADLINE:?} of SIGTERM",
                self.what
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A small HTTP client with a deadline on every request.
struct Http {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Http {
    fn new() -> Http {
        Http {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .no_proxy()
                .build()
                .unwrap(),
        }
    }

    fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        self.runtime.block_on(async {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let body = response.bytes().await.expect("body");
            let value = if body.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&body)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
            };
            (status, value)
        })
    }

    fn get(&self, url: &str) -> (u16, Value) {
        self.send(self.client.get(url))
    }

    fn post(&self, url: &str, body: Value, token: Option<&str>) -> (u16, Value) {
        let mut request = self.client.post(url).json(&body);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        self.send(request)
    }

    /// Names of the services a search finds.
    fn find(&self, aggregator: &Node, query: &str) -> Vec<(String, String)> {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/v1/services", aggregator.url),
            &[("q", query)],
        )
        .unwrap();
        let (status, page) = self.get(url.as_str());
        assert_eq!(status, 200, "{page}");
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| {
                (
                    hit["hub_id"].as_str().unwrap().to_owned(),
                    hit["service"]["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// Waits (bounded, 20 s) until the aggregator finds `name` from `hub_id`
    /// (an approved registration is crawled within a second).
    fn wait_found(&self, aggregator: &Node, query: &str, hub_id: &str, name: &str) {
        let started = Instant::now();
        let wanted = (hub_id.to_owned(), name.to_owned());
        loop {
            let found = self.find(aggregator, query);
            if found.contains(&wanted) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{name} from {hub_id} was never found: {found:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits (bounded) until the hub serves a listing newer than `seq`.
    fn wait_for_seq_above(&self, hub: &Node, seq: u64) -> u64 {
        let started = Instant::now();
        loop {
            let (_, health) = self.get(&format!("{}/healthz", hub.url));
            let now = health["listing"]["seq"].as_u64().unwrap_or(0);
            if now > seq {
                return now;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "the hub still serves seq {now} after {DEADLINE:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The example spreadsheet of `docs/guide-hub.md` (its first `csv` block).
fn guide_csv() -> String {
    let guide = include_str!("../../docs/guide-hub.md");
    let start = guide
        .find("```csv\n")
        .expect("a csv block in the hub guide")
        + 7;
    let len = guide[start..].find("```").expect("the csv block ends");
    guide[start..start + len].to_owned()
}

fn write(path: &Path, text: &str) -> PathBuf {
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    path.to_owned()
}

#[test]
fn hub_guide_from_nothing_to_a_listing_found_at_the_cvs_aggregator() {
    let tmp = tempfile::tempdir().unwrap();
    let http = Http::new();

    // Set up: init, check the settings, fill in the profile.
    let hub_dir = tmp.path().join("my-hub");
    let hub = hub_dir.to_str().unwrap();
    let (hub_id, _hub_token) = init(
        &hub_dir,
        &[
            "--name",
            "Revoelution",
            "--url",
            "https://revoelution.example.org",
        ],
    );
    assert!(ok(&["check-config", "--dir", hub]).contains("is valid"));
    ok(&[
        "profile",
        "set",
        "--dir",
        hub,
        "--description",
        "Community hub at the Revoe Community Centre",
        "--email",
        "hello@revoelution.example.org",
        "--area",
        "Revoe, Blackpool",
    ]);

    // Add a service by hand.
    let out = ok(&[
        "service",
        "add",
        "--dir",
        hub,
        "--name",
        "Job Club",
        "--hours",
        "TU,TH 10:00-12:00",
        "--address",
        "Revoe Community Centre",
        "--city",
        "Blackpool",
        "--lat",
        "53.8069",
        "--lon",
        "-3.0466",
        "--category",
        "Employment; Benefits advice",
        "--access",
        "walk-in",
    ]);
    assert!(out.contains("Added service"), "{out}");

    // Import the spreadsheet: preview first, then for real.
    let csv = write(&tmp.path().join("services.csv"), &guide_csv());
    let csv_path = csv.to_str().unwrap();
    let out = ok(&["import", csv_path, "--dir", hub, "--dry-run"]);
    assert!(
        out.contains("2 to add") && out.contains("Dry run: nothing was changed."),
        "{out}"
    );
    let out = ok(&["import", csv_path, "--dir", hub]);
    assert!(out.contains("Imported; published listing seq"), "{out}");
    // The same spreadsheet corrected and read from standard input, as the
    // systemd wrapper in deploy/README.md does it.
    let fixed = write(
        &tmp.path().join("services-fixed.csv"),
        "name,description,opening_hours,taxonomy,access,city\n\
         Food Pantry,Food parcels; bring a bag,\"MO,WE,FR 10:00-13:00\",Food,walk-in,Blackpool\n",
    );
    let out = ok_with_stdin(
        &["import", "/dev/stdin", "--format", "csv", "--dir", hub],
        Some(&fixed),
    );
    assert!(out.contains("1 to update"), "{out}");
    let listed: Value = serde_json::from_str(&ok(&["service", "list", "--dir", hub, "--json"]))
        .expect("service list --json");
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");

    // Serve, and check it the way the container's health check does.
    let hub_node = Node::serve("the hub", &hub_dir, "127.0.0.1:0", &[]);
    let (status, health) = http.get(&format!("{}/healthz", hub_node.url));
    assert_eq!(status, 200);
    assert_eq!(health["roles"], json!(["hub"]), "{health}");
    let seq = health["listing"]["seq"].as_u64().expect("healthz seq");
    assert!(ok(&["healthcheck", "--url", &format!("{}/healthz", hub_node.url)]).contains("ok"));
    let (status, _) = http.get(&format!("{}/.well-known/signpost/listing", hub_node.url));
    assert_eq!(status, 200);

    // Back up while serving; the key stays out of the backup.
    let public = ok(&["key", "export-public", "--dir", hub]);
    assert!(public.contains(&hub_id), "{public}");
    let backup = tmp.path().join("signpost-backup.db");
    ok(&["backup", "--dir", hub, "--to", backup.to_str().unwrap()]);
    let bytes = std::fs::read(&backup).unwrap();
    let key_file = std::fs::read_to_string(hub_dir.join("hub.key")).unwrap();
    let seed = key_file
        .lines()
        .find_map(|l| l.strip_prefix("ed25519-seed:"))
        .expect("seed line");
    assert!(
        !bytes.windows(seed.len()).any(|w| w == seed.as_bytes()),
        "the database backup must not contain the secret key"
    );

    // The CVS runs an aggregator; the hub registers with it.
    let agg_dir = tmp.path().join("cvs");
    let (_, agg_token) = init(&agg_dir, &["--name", "Lancashire CVS", "--aggregator"]);
    let agg = Node::serve(
        "the aggregator",
        &agg_dir,
        "127.0.0.1:0",
        &[("SIGNPOST_ALLOW_PRIVATE_NETWORKS", "true")],
    );
    let (status, body) = http.post(
        &format!("{}/v1/register", agg.url),
        json!({"url": hub_node.url}),
        None,
    );
    // By default a registration waits for the coordinator's approval
    // (guide-hub.md: "pending"; guide-coordinator.md: `source approve`).
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["outcome"], "pending", "{body}");
    assert_eq!(body["hub_id"], json!(hub_id), "{body}");
    let pending = ok(&["source", "list-pending", "--dir", agg_dir.to_str().unwrap()]);
    assert!(pending.contains(&hub_node.url), "{pending}");
    ok(&[
        "source",
        "approve",
        "--dir",
        agg_dir.to_str().unwrap(),
        &hub_node.url,
    ]);
    http.wait_found(&agg, "Job Club", &hub_id, "Job Club");
    let found = http.find(&agg, "Job Club");
    assert!(
        found.contains(&(hub_id.clone(), "Job Club".into())),
        "{found:?}"
    );
    let found = http.find(&agg, "pantry");
    assert_eq!(found, vec![(hub_id.clone(), "Food Pantry".to_owned())]);
    let (status, held) = http.get(&format!("{}/v1/hubs/{hub_id}", agg.url));
    assert_eq!(status, 200);
    assert_eq!(held["state"], "active", "{held}");

    // An edit while the hub serves reaches the directory at the next crawl.
    ok(&[
        "service",
        "add",
        "--dir",
        hub,
        "--name",
        "Digital Drop-in",
        "--hours",
        "WE 13:00-15:00",
        "--category",
        "Digital skills",
    ]);
    http.wait_for_seq_above(&hub_node, seq);
    let (status, crawled) = http.post(
        &format!("{}/admin/v1/crawl", agg.url),
        Value::Null,
        Some(&agg_token),
    );
    assert_eq!(status, 200, "{crawled}");
    assert_eq!(crawled["crawled"][0]["outcome"], "accepted", "{crawled}");
    assert_eq!(
        http.find(&agg, "digital"),
        vec![(hub_id.clone(), "Digital Drop-in".to_owned())]
    );
    let sources: Value = serde_json::from_str(&ok(&[
        "source",
        "list",
        "--dir",
        agg_dir.to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    assert_eq!(sources[0]["last_outcome"], "accepted", "{sources}");
    assert_eq!(sources[0]["failures"], 0, "{sources}");

    hub_node.stop();
    agg.stop();
}

#[test]
fn coordinator_guide_lost_key_workaround() {
    let tmp = tempfile::tempdir().unwrap();
    let http = Http::new();
    let agg_dir = tmp.path().join("cvs");
    let agg_path = agg_dir.to_str().unwrap();
    let (_, token) = init(&agg_dir, &["--name", "Lancashire CVS", "--aggregator"]);
    let agg = Node::serve(
        "the aggregator",
        &agg_dir,
        "127.0.0.1:0",
        &[("SIGNPOST_ALLOW_PRIVATE_NETWORKS", "true")],
    );

    // A hub the coordinator added as a source.
    let old_dir = tmp.path().join("greenhill");
    let (old_id, _) = init(&old_dir, &["--name", "Greenhill Community Hub"]);
    let old = old_dir.to_str().unwrap();
    ok(&["service", "add", "--dir", old, "--name", "Lunch Club"]);
    let hub = Node::serve("the hub", &old_dir, "127.0.0.1:0", &[]);
    let hub_url = hub.url.clone();
    let addr = hub.addr().to_owned();
    let out = ok(&["source", "add", "--dir", agg_path, &hub_url]);
    assert!(out.contains("Added"), "{out}");
    let (status, crawled) = http.post(
        &format!("{}/admin/v1/crawl", agg.url),
        Value::Null,
        Some(&token),
    );
    assert_eq!(status, 200, "{crawled}");
    assert_eq!(
        http.find(&agg, "lunch"),
        vec![(old_id.clone(), "Lunch Club".to_owned())]
    );

    // The hub loses its key: set up again at the same address, it is a new
    // identity, and the aggregator refuses it at that address.
    hub.stop();
    let new_dir = tmp.path().join("greenhill-again");
    let (new_id, _) = init(&new_dir, &["--name", "Greenhill Community Hub"]);
    assert_ne!(new_id, old_id);
    let new = new_dir.to_str().unwrap();
    ok(&["service", "add", "--dir", new, "--name", "Lunch Club"]);
    let hub = Node::serve("the hub set up again", &new_dir, &addr, &[]);
    let (_, crawled) = http.post(
        &format!("{}/admin/v1/crawl", agg.url),
        Value::Null,
        Some(&token),
    );
    assert_eq!(crawled["crawled"][0]["outcome"], "rejected", "{crawled}");
    assert_eq!(
        crawled["crawled"][0]["error_code"], "hub_mismatch",
        "{crawled}"
    );
    let (status, body) = http.post(
        &format!("{}/v1/register", agg.url),
        json!({"url": hub_url}),
        None,
    );
    assert_eq!(
        status, 422,
        "registering at a bound address is refused: {body}"
    );
    assert_eq!(body["error"]["code"], "hub_mismatch", "{body}");

    // The workaround: remove the source, let the new identity register,
    // delist the old one.
    ok(&["source", "remove", "--dir", agg_path, &hub_url]);
    let (status, body) = http.post(
        &format!("{}/v1/register", agg.url),
        json!({"url": hub_url}),
        None,
    );
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["hub_id"], json!(new_id));
    ok(&["source", "approve", "--dir", agg_path, &hub_url]);
    http.wait_found(&agg, "lunch", &new_id, "Lunch Club");
    let (status, body) = http.post(
        &format!("{}/admin/v1/hubs/{old_id}/delist", agg.url),
        Value::Null,
        Some(&token),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        http.find(&agg, "lunch"),
        vec![(new_id.clone(), "Lunch Club".to_owned())]
    );
    let (_, old_hub) = http.get(&format!("{}/v1/hubs/{old_id}", agg.url));
    assert_eq!(old_hub["state"], "delisted", "{old_hub}");

    hub.stop();
    agg.stop();
}
