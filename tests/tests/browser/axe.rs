//! axe-core, the accessibility checker, run inside Chromium on a page at
//! a desktop and a phone width: any WCAG 2.0, 2.1 or 2.2 A or AA
//! violation fails the test, named with the elements it was found on.
//!
//! axe-core is the npm package at the version in
//! `tests/browser-deps/package-lock.json`, which `scripts/install-browser.sh`
//! installs; it is read from there at run time.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use fantoccini::Client;
use serde_json::{json, Value};

use crate::support::{viewport, DESKTOP, PHONE};

/// Where `scripts/install-browser.sh` puts axe-core (relative to the tests
/// crate, the test's working directory).
const AXE: &str = "browser-deps/node_modules/axe-core/axe.min.js";

/// The rules' tags that make up WCAG 2.2 level AA.
const WCAG_AA: [&str; 6] = [
    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa",
];

/// The axe-core source, read once.
fn source() -> Result<&'static str> {
    static SOURCE: OnceLock<Result<String, String>> = OnceLock::new();
    let read = SOURCE.get_or_init(|| {
        std::fs::read_to_string(Path::new(AXE))
            .map_err(|e| format!("{AXE}: {e}; run scripts/install-browser.sh to install axe-core"))
    });
    match read {
        Ok(s) => Ok(s.as_str()),
        Err(e) => bail!("{e}"),
    }
}

/// Checks the page the browser shows at a desktop and a phone width, and
/// leaves the window at the desktop width.
pub async fn check(c: &Client, page: &str) -> Result<()> {
    let mut found = Vec::new();
    for (width, size) in [("desktop", DESKTOP), ("phone", PHONE)] {
        viewport(c, size).await?;
        found.extend(
            violations(c)
                .await
                .with_context(|| format!("axe on {page} at {width} width"))?
                .into_iter()
                .map(|v| format!("{page} ({width}): {v}")),
        );
    }
    // WCAG 1.4.10 (reflow): at 320 CSS pixels wide, what a 1280-pixel
    // screen shows zoomed to 400%, nothing needs scrolling sideways but
    // tables and maps, which may scroll within themselves.
    viewport(c, (320, 640)).await?;
    let wide = c.execute(REFLOW_JS, vec![]).await?;
    if let Some(wide) = wide.as_array().filter(|w| !w.is_empty()) {
        found.push(format!(
            "{page} (320 px, 400% zoom): the page scrolls sideways, past its edge: {}",
            wide.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    viewport(c, DESKTOP).await?;
    if !found.is_empty() {
        bail!(
            "axe-core found {} WCAG 2.2 AA violation(s):\n{}",
            found.len(),
            found.join("\n")
        );
    }
    Ok(())
}

/// The elements that stick out past the page's right edge (outside any
/// box that scrolls itself), when the page scrolls sideways; else none.
const REFLOW_JS: &str = r#"
const width = document.documentElement.clientWidth;
if (document.documentElement.scrollWidth <= width + 1) { return []; }
const out = [];
for (const el of document.body.querySelectorAll('*')) {
  if (el.getBoundingClientRect().right <= width + 1) { continue; }
  let inner = false;
  for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
    const x = getComputedStyle(up).overflowX;
    if (x === 'auto' || x === 'scroll' || x === 'hidden') { inner = true; break; }
  }
  if (!inner) { out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '')); }
  if (out.length >= 8) { break; }
}
if (out.length) { return out; }
const all = Array.from(document.body.querySelectorAll('*')).filter(el => el.getBoundingClientRect().right > width + 1 && !el.closest('.leaflet-container')).slice(0, 8)
  .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '@' + Math.round(el.getBoundingClientRect().right));
return ['(the page itself: ' + document.documentElement.scrollWidth + ' wide in ' + width + '; ' + all.join(' ') + ')'];
"#;

/// Runs axe on the page as it is now; each violation in a line: the rule,
/// what it asks, and the elements (their CSS path and markup) that break it.
async fn violations(c: &Client) -> Result<Vec<String>> {
    let loaded = c
        .execute(
            &format!("{}\n;return typeof window.axe;", source()?),
            vec![],
        )
        .await?;
    if loaded != "object" {
        bail!("axe-core did not load: window.axe is {loaded}");
    }
    let options = json!({
        "runOnly": {"type": "tag", "values": WCAG_AA},
        "resultTypes": ["violations"],
    });
    let result = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.axe.run(document, arguments[0])
                 .then(r => done({violations: r.violations}))
                 .catch(e => done({error: String(e)}));",
            vec![options],
        )
        .await?;
    if let Some(e) = result.get("error") {
        bail!("axe-core failed: {e}");
    }
    let list = result["violations"]
        .as_array()
        .context("axe-core's result has no violations list")?;
    Ok(list.iter().map(describe).collect())
}

/// One violation in words a developer can act on.
fn describe(v: &Value) -> String {
    let nodes: Vec<String> = v["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .take(5)
                .map(|n| {
                    let html: String = n["html"].as_str().unwrap_or("").chars().take(160).collect();
                    format!("    at {} {html}", n["target"])
                })
                .collect()
        })
        .unwrap_or_default();
    format!(
        "[{}] {} ({})\n{}",
        v["id"].as_str().unwrap_or("?"),
        v["help"].as_str().unwrap_or(""),
        v["impact"].as_str().unwrap_or("?"),
        nodes.join("\n")
    )
}
