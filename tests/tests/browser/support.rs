//! What every browser test shares: a chromedriver with headless Chromium,
//! bounded waits that do not race a navigation, window sizes, key presses,
//! screenshots, and the services the tests add to their hubs.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use signpost_tests::TestNode;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The longest any one step may wait for the browser.
pub const WAIT: Duration = Duration::from_secs(10);
/// Map tiles from a closed port on loopback: no traffic leaves the machine.
pub const TILES: &str = "http://127.0.0.1:9/{z}/{x}/{y}.png";
pub const DESKTOP: (u32, u32) = (1280, 900);
pub const PHONE: (u32, u32) = (390, 844);
/// The tallest whole-page screenshot.
pub const MAX_SHOT: u32 = 2000;

/// A chromedriver started for one test, in its own process group with the
/// browsers it starts; the whole group is killed when this is dropped,
/// also when the test panics.
pub struct Driver {
    child: Child,
    url: String,
    log: PathBuf,
    profile: tempfile::TempDir,
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits (bounded) until
    /// it is ready. None when chromedriver is not installed.
    pub async fn start() -> Option<Driver> {
        if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
            let required = std::env::var("SIGNPOST_REQUIRE_BROWSER").as_deref() == Ok("1");
            assert!(
                !required,
                "SIGNPOST_REQUIRE_BROWSER=1 but {CHROMEDRIVER} or {CHROMIUM} is missing; \
                 run scripts/install-browser.sh"
            );
            // Straight to stderr, not eprintln!, which the test harness
            // captures and hides when the test passes.
            let _ = writeln!(
                std::io::stderr(),
                "\n==================================================================\n\
                 SKIPPED: chromedriver not installed; run scripts/install-browser.sh\n\
                 =================================================================="
            );
            return None;
        }
        let profile = tempfile::tempdir().expect("temp dir");
        let log = profile.path().join("chromedriver.log");
        let port = free_port();
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("log file"))
                .stderr(log_file)
                // Its own process group, so the browsers go with it.
                .process_group(0)
                .spawn()
                .expect("start chromedriver")
        };
        let mut driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            profile,
        };
        let http = signpost_tests::client();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = driver.child.try_wait().expect("chromedriver status") {
                panic!("chromedriver exited ({status}):\n{}", driver.log_text());
            }
            let ready = http
                .get(format!("{}/status", driver.url))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success());
            if let Some(r) = ready {
                let status: Value = r.json().await.unwrap_or_default();
                if status["value"]["ready"] == true {
                    return Some(driver);
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver not ready after {WAIT:?}:\n{}",
                driver.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A new headless Chromium session with a fresh profile.
    pub async fn session(&self) -> Client {
        let user_data = self.profile.path().join("chromium");
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-crash-reporter",
                    "--hide-scrollbars",
                    format!("--user-data-dir={}", user_data.display()),
                    format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
                ],
            }),
        );
        let client = tokio::time::timeout(
            Duration::from_secs(30),
            ClientBuilder::new(HttpConnector::new())
                .capabilities(caps)
                .connect(&self.url),
        )
        .await
        .unwrap_or_else(|_| panic!("no browser session in 30 s:\n{}", self.log_text()))
        .unwrap_or_else(|e| panic!("browser session: {e}\n{}", self.log_text()));
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(5)),
                Some(Duration::from_secs(15)),
                Some(Duration::ZERO),
            ))
            .await
            .expect("timeouts");
        client
    }

    pub fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(4000);
        let start = (start..text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text[start..].to_owned()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("chromedriver's log ends:\n{}", self.log_text());
        }
        // The negative id is the process group: chromedriver and every
        // Chromium process it started.
        let group = format!("-{}", self.child.id());
        let killed = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !killed {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Runs `flow` in a new browser session, at most `limit` long, and closes
/// the session whatever the outcome.
pub async fn in_session(
    driver: &Driver,
    limit: Duration,
    flow: impl AsyncFnOnce(&Client) -> Result<()>,
) -> Result<()> {
    let client = driver.session().await;
    let outcome = tokio::time::timeout(limit, flow(&client)).await;
    let _ = client.close().await;
    match outcome {
        Err(_) => bail!("the browser flow took over {limit:?}"),
        Ok(done) => done,
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Waits (bounded) for an element.
pub async fn wait_for(c: &Client, css: &str) -> Result<Element> {
    c.wait()
        .at_most(WAIT)
        .every(Duration::from_millis(50))
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("waited {WAIT:?} for {css}"))
}

/// Waits (bounded) until the page's address has `key=value` in its query.
pub async fn wait_for_query(c: &Client, key: &str, value: &str) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let url = c.current_url().await?;
        if url.query_pairs().any(|(k, v)| k == key && v == value) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("waited {WAIT:?} for {key}={value:?}; the page is {url}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// True when asking about an element failed because its document has gone:
/// the WebDriver "stale element reference", or the form Chromium gives while
/// the old document is being torn down mid-navigation ("Node with given id
/// does not belong to the document", seen in a CI run).
pub fn left_the_document(e: &CmdError) -> bool {
    e.is_stale_element_reference() || e.to_string().contains("does not belong to the document")
}

/// Does `act` (a click or a key press that leads to another page) and
/// waits (bounded) until the browser has left the old document and the new
/// one has loaded. Waiting for an element instead races: the old page may
/// have one just like it (an `h1`, a result row) and answer before the
/// browser navigates, or go stale while it is read.
pub async fn navigating<F>(c: &Client, act: F) -> Result<()>
where
    F: std::future::Future<Output = Result<(), CmdError>>,
{
    let old = c.find(Locator::Css("html")).await?;
    act.await?;
    let deadline = Instant::now() + WAIT;
    loop {
        match old.tag_name().await {
            Err(e) if left_the_document(&e) => break,
            Err(e) => return Err(e).context("waiting for the old page to go"),
            Ok(_) => {}
        }
        if Instant::now() > deadline {
            bail!(
                "waited {WAIT:?} for the browser to leave {}",
                c.current_url().await?
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    loop {
        let state = c.execute("return document.readyState", vec![]).await?;
        if state == "complete" {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "waited {WAIT:?} for {} to load: {state}",
                c.current_url().await?
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Clicks what `css` finds (waiting for it) and waits for the page it leads to.
pub async fn click_to_page(c: &Client, css: &str) -> Result<()> {
    let target = wait_for(c, css).await?;
    navigating(c, target.click())
        .await
        .with_context(|| format!("after clicking {css}"))
}

pub async fn text(c: &Client, css: &str) -> Result<String> {
    Ok(wait_for(c, css).await?.text().await?)
}

/// Sizes the window so that the page itself (the viewport, which is what
/// screenshots show) is `width` x `height`.
pub async fn viewport(c: &Client, (width, height): (u32, u32)) -> Result<()> {
    c.set_window_size(width, height).await?;
    let inner = c
        .execute("return [window.innerWidth, window.innerHeight]", vec![])
        .await?;
    let grow = |want: u32, got: &Value| {
        let got = got.as_i64().unwrap_or(i64::from(want));
        u32::try_from(2 * i64::from(want) - got).unwrap_or(want)
    };
    c.set_window_size(grow(width, &inner[0]), grow(height, &inner[1]))
        .await?;
    Ok(())
}

/// Presses keys on the keyboard (not into an element): each character of
/// `keys` down then up, in order.
pub async fn press(c: &Client, keys: &str) -> Result<(), CmdError> {
    let mut actions = KeyActions::new("keyboard".into());
    for k in keys.chars() {
        actions = actions
            .then(KeyAction::Down { value: k })
            .then(KeyAction::Up { value: k });
    }
    c.perform_actions(actions).await?;
    Ok(())
}

/// Takes a screenshot of what the window shows; with
/// `SIGNPOST_SCREENSHOTS=1` it is saved as `docs/screenshots/{name}.png`.
pub async fn screenshot(c: &Client, name: &str) -> Result<()> {
    let png = c.screenshot().await?;
    ensure!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    if std::env::var("SIGNPOST_SCREENSHOTS").as_deref() == Ok("1") {
        let dir = Path::new("../docs/screenshots");
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &png)?;
        eprintln!("saved {}", path.display());
    }
    Ok(())
}

/// A screenshot of the whole page at desktop width (at most `MAX_SHOT`
/// tall): the window is sized to the page, then put back.
pub async fn screenshot_page(c: &Client, name: &str) -> Result<()> {
    c.execute("window.scrollTo(0, 0)", vec![]).await?;
    let height = c
        .execute(
            "return Math.ceil(document.body.getBoundingClientRect().bottom + window.scrollY) + 24",
            vec![],
        )
        .await?
        .as_u64()
        .context("the page's height")?;
    let height = u32::try_from(height)
        .unwrap_or(MAX_SHOT)
        .clamp(480, MAX_SHOT);
    viewport(c, (DESKTOP.0, height)).await?;
    let taken = screenshot(c, name).await;
    viewport(c, DESKTOP).await?;
    taken
}

/// Adds a service through the JSON admin API.
pub async fn add(hub: &TestNode, body: Value) {
    hub.add_service(body).await;
}

pub fn place(lat: f64, lon: f64, street: &str, city: &str, postcode: &str) -> Value {
    json!([{"latitude": lat, "longitude": lon,
            "address": {"address_1": street, "city": city, "postal_code": postcode}}])
}

pub fn hours(byday: &str, opens: &str, closes: &str) -> Value {
    json!([{"byday": byday, "opens_at": opens, "closes_at": closes}])
}
