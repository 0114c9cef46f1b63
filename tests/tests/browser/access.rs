//! Every page for everyone: axe-core finds no WCAG 2.2 AA violation on any
//! page (the directory with and without results and with a mistake in the
//! search, a hub, a service, the printable lists of a search and of a hub,
//! the hubs list, the reports, the open data page, the accessibility
//! statement, the error pages, and every admin page a hub or a coordinator
//! uses: sign-in, services, the service form empty, filled and with
//! mistakes, deleting, the hub's profile, importing and its preview) at a
//! desktop and a phone width, and none scrolls sideways at 320 pixels
//! (400% zoom). A form's mistakes come in a summary that is announced and
//! links to each field. And a keyboard alone reaches every control of the
//! directory, a service and the service form in order with its focus
//! visible, and gets from the search box through the results to a service
//! and its hub.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use signpost_tests::TestNode;

use crate::axe;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_and_the_keyboard_reaches_everything() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let hub = TestNode::start("At The Grange").await;
    add(
        &hub,
        json!({"name": "Warm space", "description": "A warm room, hot drinks and company on winter afternoons.",
               "locations": place(53.8236, -3.0160, "Dinmore Avenue", "Blackpool", "FY3 7RW"),
               "schedules": hours("MO,WE,FR", "12:00", "16:00"), "access": ["walk-in"],
               "phones": [{"number": "01253 477 477"}],
               "taxonomy_terms": [{"name": "Warm space"}]}),
    )
    .await;
    add(
        &hub,
        json!({"name": "Job Club", "description": "Help with CVs, applications and interviews.",
               "locations": place(53.8069, -3.0466, "Revoe Community Centre", "Blackpool", "FY1 6BW"),
               "schedules": hours("TU,TH", "10:00", "12:00"), "access": ["walk-in", "self-referral"],
               "taxonomy_terms": [{"name": "Employment"}]}),
    )
    .await;
    let agg = TestNode::start_aggregator("Lancashire CVS", |cfg| {
        cfg.web.tile_url = TILES.into();
        cfg.web.contact = Some("directory@cvs.example.org".into());
    })
    .await;
    agg.add_source(&hub.node.url()).await;
    let crawled = agg.crawl().await;
    assert!(
        crawled.iter().all(|r| r["outcome"] == "accepted"),
        "crawl: {crawled:?}"
    );
    let outcome = in_session(&driver, Duration::from_secs(300), async |c: &Client| {
        directory_pages(c, &agg).await.context("directory pages")?;
        admin_pages(c, &hub).await.context("a hub's admin pages")?;
        coordinator_pages(c, &agg)
            .await
            .context("a coordinator's admin pages")?;
        keyboard_walk(c, &agg).await.context("keyboard walk")
    })
    .await;
    if let Err(e) = outcome {
        panic!("{e:#}");
    }
}

/// Opens `url`, waits for `css`, and runs axe at both widths.
async fn visit(c: &Client, url: &str, css: &str, page: &str) -> Result<()> {
    c.goto(url).await?;
    wait_for(c, css)
        .await
        .with_context(|| format!("{page} at {url}"))?;
    axe::check(c, page).await
}

/// The public pages of the directory.
async fn directory_pages(c: &Client, agg: &TestNode) -> Result<()> {
    let base = agg.node.url();
    visit(
        c,
        &format!("{base}/"),
        "#map .leaflet-marker-icon",
        "the directory",
    )
    .await?;
    // The map is an extra: the list holds every result in text too, and
    // the map says so to those who cannot see it.
    let listed = c.find_all(Locator::Css("#results .result")).await?.len();
    ensure!(listed == 2, "the list holds both services: {listed}");
    let markers = c
        .find_all(Locator::Css("#map .leaflet-marker-icon"))
        .await?
        .len();
    ensure!(markers == listed, "{markers} markers for {listed} results");
    let described = c
        .execute(
            "const id = document.getElementById('map').getAttribute('aria-describedby'); \
             return id ? document.getElementById(id).textContent : null;",
            vec![],
        )
        .await?;
    ensure!(
        described
            .as_str()
            .is_some_and(|d| d.contains("every service on it is in the list")),
        "the map's text alternative: {described}"
    );
    let service = wait_for(c, "#results .result[data-name='Warm space']")
        .await?
        .attr("data-href")
        .await?
        .context("a result's address")?;
    visit(
        c,
        &format!("{base}/?q=zzzz+nothing+matches"),
        "#no-results",
        "the directory with no results",
    )
    .await?;
    visit(
        c,
        &format!("{base}/?near=Atlantis+Nowhere"),
        "#search-errors",
        "the directory with a mistake in the search",
    )
    .await?;
    error_summary_links(c, "#search-errors").await?;
    visit(c, &format!("{base}{service}"), "#service-name", "a service").await?;
    let hub = wait_for(c, ".meta a")
        .await?
        .attr("href")
        .await?
        .context("the hub's link")?;
    visit(c, &format!("{base}{hub}"), "#hub-name", "a hub").await?;
    visit(
        c,
        &format!("{base}/print?q=help"),
        "h1",
        "the printable list of a search",
    )
    .await?;
    visit(
        c,
        &format!("{base}{hub}/print"),
        "h1",
        "a hub's printable leaflet",
    )
    .await?;
    visit(c, &format!("{base}/hubs"), "h1", "the hubs list").await?;
    // The checker itself: a text box with no label, put on the page, is
    // found (so a pass above means axe looked).
    c.execute(
        "const box = document.createElement('input'); box.type = 'text'; \
         document.getElementById('main').appendChild(box);",
        vec![],
    )
    .await?;
    let caught = axe::check(c, "the hubs list with an unlabelled box").await;
    ensure!(
        caught
            .as_ref()
            .is_err_and(|e| e.to_string().contains("[label]")),
        "axe-core missed a text box with no label: {caught:?}"
    );
    visit(c, &format!("{base}/reports"), "h1", "the reports").await?;
    visit(c, &format!("{base}/dataset"), "h1", "the open data page").await?;
    visit(
        c,
        &format!("{base}/accessibility"),
        "#contact",
        "the accessibility statement",
    )
    .await?;
    let mail = wait_for(c, "#contact").await?.attr("href").await?;
    ensure!(
        mail.as_deref() == Some("mailto:directory@cvs.example.org"),
        "the statement's contact: {mail:?}"
    );
    visit(
        c,
        &format!("{base}/no/such/page"),
        "h1",
        "the page-not-found page",
    )
    .await?;
    visit(
        c,
        &format!("{base}/services/no-such-hub/no-such-service"),
        "h1",
        "a service that is not there",
    )
    .await?;
    Ok(())
}

/// A hub's admin pages, signed out and in.
async fn admin_pages(c: &Client, hub: &TestNode) -> Result<()> {
    let base = hub.node.url();
    visit(
        c,
        &format!("{base}/accessibility"),
        "#contact-missing",
        "a hub's accessibility statement",
    )
    .await?;
    visit(
        c,
        &format!("{base}/admin"),
        "#sign-in-form",
        "admin sign-in",
    )
    .await?;
    wait_for(c, "#token")
        .await?
        .send_keys("not the token")
        .await?;
    click_to_page(c, "#sign-in").await?;
    wait_for(c, "#error-summary").await?;
    axe::check(c, "admin sign-in with a wrong token").await?;
    error_summary_links(c, "#error-summary").await?;
    let token = c.find(Locator::Id("token")).await?;
    token.clear().await?;
    token.send_keys(&hub.token).await?;
    click_to_page(c, "#sign-in").await?;
    wait_for(c, "#services").await?;
    axe::check(c, "admin services").await?;
    let edit = wait_for(c, "#services tbody a")
        .await?
        .attr("href")
        .await?
        .context("a service's edit link")?;

    visit(
        c,
        &format!("{base}/admin/services/new"),
        "#service-form",
        "the empty service form",
    )
    .await?;
    every_control_reached(
        c,
        &format!("{base}/admin/services/new"),
        "#service-form",
        "the service form",
    )
    .await?;
    // Saved with no name: the form comes back with its mistakes.
    click_to_page(c, "#save").await?;
    wait_for(c, "#error-summary").await?;
    axe::check(c, "the service form with mistakes").await?;
    error_summary_links(c, "#error-summary").await?;

    visit(
        c,
        &format!("{base}{edit}"),
        "#service-form",
        "a filled service form",
    )
    .await?;
    visit(
        c,
        &format!("{base}{edit}/delete"),
        "form",
        "deleting a service",
    )
    .await?;
    visit(
        c,
        &format!("{base}/admin/profile"),
        "form",
        "the hub's profile",
    )
    .await?;
    visit(
        c,
        &format!("{base}/admin/import"),
        "#import-form",
        "importing a spreadsheet",
    )
    .await?;
    let fixture = signpost_tests::spreadsheets::fixtures()
        .into_iter()
        .find(|f| f.name == "06-two-sheets-title-row.xlsx")
        .context("the fixture")?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join(fixture.name);
    std::fs::write(&path, &fixture.bytes)?;
    c.find(Locator::Id("file"))
        .await?
        .send_keys(&path.display().to_string())
        .await?;
    click_to_page(c, "#preview-import").await?;
    wait_for(c, "#import-counts").await?;
    axe::check(c, "the import preview").await?;
    Ok(())
}

/// The coordinator's own admin pages on the aggregator.
async fn coordinator_pages(c: &Client, agg: &TestNode) -> Result<()> {
    let base = agg.node.url();
    c.goto(&format!("{base}/admin")).await?;
    wait_for(c, "#token").await?.send_keys(&agg.token).await?;
    click_to_page(c, "#sign-in").await?;
    axe::check(c, "the coordinator's admin home").await?;
    visit(
        c,
        &format!("{base}/admin/reports"),
        "h1",
        "the coordinator's reports",
    )
    .await?;
    visit(
        c,
        &format!("{base}/admin/registrations"),
        "h1",
        "registrations waiting",
    )
    .await?;
    Ok(())
}

/// An error summary is announced (an alert) and each of its links takes
/// the keyboard to the field it is about.
async fn error_summary_links(c: &Client, summary: &str) -> Result<()> {
    let role = wait_for(c, summary).await?.attr("role").await?;
    ensure!(role.as_deref() == Some("alert"), "{summary} role: {role:?}");
    let links = c
        .find_all(Locator::Css(&format!("{summary} a[href^='#']")))
        .await?;
    ensure!(!links.is_empty(), "{summary} links to no field");
    for link in links {
        let href = link.attr("href").await?.unwrap_or_default();
        link.click().await?;
        let focused = c.active_element().await?.attr("id").await?;
        let wanted = href.trim_start_matches('#');
        ensure!(
            focused.as_deref() == Some(wanted),
            "{summary}: the link {href} left the focus on {focused:?}"
        );
    }
    Ok(())
}

/// What the focused element is, and whether its focus can be seen: an
/// outline or a box shadow (the site's focus ring is both).
const FOCUS_JS: &str = r#"
const el = document.activeElement;
if (!el || el === document.body) { return null; }
const on = getComputedStyle(el);
const r = el.getBoundingClientRect();
const name = el.id ? '#' + el.id : (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 60);
const all = Array.from(document.querySelectorAll(arguments[0]));
return {name: name, index: all.indexOf(el), visible: r.width > 0 && r.height > 0,
        css: [on.outlineStyle, on.outlineWidth, on.boxShadow, el.matches(':focus'), el.matches(':focus-within')].join(' '),
        ring: (on.outlineStyle !== 'none' && parseFloat(on.outlineWidth) >= 2) || on.boxShadow !== 'none'};
"#;

/// Everything a keyboard should reach, by its place in [`FOCUSABLE`]'s
/// list: shown, enabled, and not taken out of the tab order.
const REACHABLE_JS: &str = r#"
const all = Array.from(document.querySelectorAll(arguments[0]));
const out = [];
all.forEach((el, i) => {
  const r = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  if (el.disabled || el.type === 'hidden' || el.tabIndex < 0 || r.width === 0 || r.height === 0 ||
      style.visibility === 'hidden' || el.closest('[hidden], [inert]')) { return; }
  out.push({index: i, name: el.id ? '#' + el.id : (el.getAttribute('aria-label') || el.textContent || el.name || '').trim().slice(0, 60)});
});
return out;
"#;

/// What a keyboard can land on.
const FOCUSABLE: &str = "a[href], button, input, select, textarea, [tabindex]";

/// One Tab stop: the element's place in [`FOCUSABLE`]'s list and its name.
struct Stop {
    index: i64,
    name: String,
}

/// Tabs through the page from where the focus is, `limit` stops at most,
/// until `until` (an element id) has the focus or, with `None`, until the
/// focus leaves the page. Each stop must be visible, show its focus, and
/// come after the one before in the document.
async fn tab_through(c: &Client, until: Option<&str>, limit: usize) -> Result<Vec<Stop>> {
    let tab = char::from(Key::Tab).to_string();
    let mut path: Vec<Stop> = Vec::new();
    for _ in 0..limit {
        press(c, &tab).await?;
        let stop: Value = c.execute(FOCUS_JS, vec![json!(FOCUSABLE)]).await?;
        if stop.is_null() {
            ensure!(until.is_none(), "the focus left the page before {until:?}");
            return Ok(path);
        }
        let name = stop["name"].as_str().unwrap_or("").to_owned();
        ensure!(
            stop["visible"] == true,
            "the focus went to {name}, which cannot be seen"
        );
        ensure!(
            stop["ring"] == true,
            "{name} has the focus but shows no focus ring: {stop}"
        );
        let index = stop["index"].as_i64().unwrap_or(-1);
        if let Some(last) = path.last() {
            ensure!(
                index >= last.index,
                "the focus went back up the page to {name}, after {}",
                last.name
            );
            // A time field's hours, minutes and AM/PM are stops of their own.
            if index == last.index {
                continue;
            }
        }
        let done = until.is_some_and(|id| name == format!("#{id}"));
        path.push(Stop { index, name });
        if done {
            return Ok(path);
        }
    }
    anyhow::bail!("{limit} presses of Tab did not reach {until:?}")
}

/// Opens `url` and, once `css` is there, Tab from the top reaches every
/// control on the page, in order, each with its focus visible.
async fn every_control_reached(c: &Client, url: &str, css: &str, page: &str) -> Result<()> {
    c.goto(url).await?;
    wait_for(c, css).await?;
    let wanted: Value = c.execute(REACHABLE_JS, vec![json!(FOCUSABLE)]).await?;
    let wanted = wanted.as_array().context("the controls")?;
    // A time field takes up to three presses (hours, minutes, AM/PM).
    let path = tab_through(c, None, 3 * wanted.len() + 10)
        .await
        .with_context(|| format!("tabbing through {page}"))?;
    let missed: Vec<&str> = wanted
        .iter()
        .filter(|w| !path.iter().any(|p| Some(p.index) == w["index"].as_i64()))
        .map(|w| w["name"].as_str().unwrap_or("?"))
        .collect();
    ensure!(
        missed.is_empty(),
        "{page}: Tab never reaches {missed:?} ({} stops)",
        path.len()
    );
    Ok(())
}

/// A keyboard alone: Tab to the search box, type, Enter; Tab to the first
/// result's link, Enter; on the service page, Tab to the hub's link.
async fn keyboard_walk(c: &Client, agg: &TestNode) -> Result<()> {
    let enter = char::from(Key::Enter).to_string();
    let base = agg.node.url();
    every_control_reached(
        c,
        &format!("{base}/"),
        "#map .leaflet-marker-icon",
        "the directory",
    )
    .await?;
    c.goto(&format!("{base}/")).await?;
    wait_for(c, "#search-form").await?;
    let path = tab_through(c, Some("q"), 12).await?;
    ensure!(
        path.first().map(|s| s.name.as_str()) == Some("Skip to the main content"),
        "the skip link comes first"
    );
    press(c, "warm").await?;
    navigating(c, press(c, &enter)).await?;
    wait_for_query(c, "q", "warm").await?;
    wait_for(c, "#results .result[data-name='Warm space']").await?;
    // Past the form and the heading, the first result's link.
    let path = tab_through(c, Some("result-1-link"), 30).await?;
    ensure!(
        path.iter().any(|p| p.name == "#search-button"),
        "the search button is on the way"
    );
    navigating(c, press(c, &enter)).await?;
    ensure!(
        text(c, "#service-name").await? == "Warm space",
        "Enter on the result opened its page"
    );
    let service = c.current_url().await?;
    every_control_reached(c, service.as_str(), "#service-name", "a service").await?;
    tab_through(c, Some("hub-link"), 12).await?;
    navigating(c, press(c, &enter)).await?;
    ensure!(
        text(c, "#hub-name").await? == "At The Grange",
        "Enter on the hub's link opened its page"
    );
    Ok(())
}
