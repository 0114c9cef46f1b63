//! The pages driven in a real browser (this file: the main flows): headless Chromium, through
//! chromedriver and the WebDriver client fantoccini, against real nodes on
//! loopback. Hub staff sign in and add a service with opening hours through
//! the admin form (days ticked, times typed into time fields); the service
//! is in the hub's signed listing; a messy workbook is imported through the
//! admin page (upload, column mapping and preview, confirm); after a
//! crawl, the aggregator's directory finds it by a search typed into the
//! page, lists it with its opening times and hub, and Leaflet puts it on the
//! map (tiles point at a closed port on 127.0.0.1, so nothing leaves the
//! machine and the page must work without them); the search works from the
//! keyboard alone; a hostile hub name stays text in the browser's DOM; and
//! the coordinator page shows a deliberate duplicate and a deliberate gap
//! (in its tables and on its map), and a signed-in coordinator marks the
//! pair "not a duplicate"; after an edit, the hub's admin page says when
//! the directory has fetched it, without a reload.
//!
//! The other flows are modules of their own: `access` (axe-core on every
//! page at two widths, error summaries, a keyboard-only walk with visible
//! focus); `support` holds what they share.
//!
//! Chromium and chromedriver are Debian's (`scripts/install-browser.sh`,
//! which `.ci/run` calls). Without them the test says SKIPPED and passes,
//! unless `SIGNPOST_REQUIRE_BROWSER=1` (set by `.ci/run`) makes it fail.
//! `SIGNPOST_SCREENSHOTS=1` writes the screenshots the test takes to
//! `docs/screenshots/`, where the README shows them.
//! `SIGNPOST_BROWSER_REPEAT=N` runs the flows N times in a row, each in a
//! new browser session with new nodes (`scripts/browser-repeat.sh`); CI
//! runs them once.

mod access;
mod axe;
mod embed;
mod leaflet;
mod support;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use signpost_spec::{verify_listing, VerifyOptions};
use signpost_tests::TestNode;
use support::*;

/// A hub name that would change the page's title if it ever became markup.
const EVIL: &str = r#"<img src=x onerror="document.title='pwned'">"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_work_in_a_real_browser() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let runs = repeat();
    for run in 1..=runs {
        let started = Instant::now();
        let outcome = in_session(&driver, Duration::from_secs(240), flows).await;
        if let Err(e) = outcome {
            panic!("run {run} of {runs}: {e:#}");
        }
        // Straight to stderr, so a repeated run shows its progress.
        let _ = writeln!(
            std::io::stderr(),
            "browser flows passed in {:.1?} (run {run} of {runs})",
            started.elapsed()
        );
    }
}

/// How many times to run the flows: `SIGNPOST_BROWSER_REPEAT=N` (for
/// hunting races: `scripts/browser-repeat.sh`), once by default and in CI.
fn repeat() -> u32 {
    match std::env::var("SIGNPOST_BROWSER_REPEAT") {
        Err(_) => 1,
        Ok(n) => match n.trim().parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => panic!("SIGNPOST_BROWSER_REPEAT must be a whole number of at least 1, not {n:?}"),
        },
    }
}

async fn flows(c: &Client) -> Result<()> {
    viewport(c, DESKTOP).await?;
    let grange = TestNode::start("At The Grange").await;
    add(
        &grange,
        json!({"name": "Warm space", "description": "A warm room, hot drinks and company on winter afternoons.",
               "locations": place(53.8236, -3.0160, "Dinmore Avenue", "Blackpool", "FY3 7RW"),
               "schedules": hours("MO,WE,FR", "12:00", "16:00"), "access": ["walk-in"],
               "taxonomy_terms": [{"name": "Warm space"}]}),
    )
    .await;
    let revoe = TestNode::start("Revoelution").await;
    add(
        &revoe,
        json!({"name": "Job Club", "description": "Help with CVs, applications and interviews.",
               "locations": place(53.8069, -3.0466, "Revoe Community Centre", "Blackpool", "FY1 6BW"),
               "schedules": hours("TU,TH", "10:00", "12:00"), "access": ["walk-in", "self-referral"],
               "taxonomy_terms": [{"name": "Employment"}, {"name": "Benefits advice"}]}),
    )
    .await;
    add(
        &revoe,
        json!({"name": "Digital drop-in", "description": "Bring a phone or laptop: help with email, forms and video calls.",
               "locations": place(53.8075, -3.0440, "Revoe Library", "Blackpool", "FY1 6AY"),
               "schedules": hours("WE", "13:00", "15:00"), "access": ["walk-in"],
               "taxonomy_terms": [{"name": "Digital skills"}]}),
    )
    .await;

    admin_adds_a_service(c, &grange)
        .await
        .context("(1) admin")?;
    listing_has_the_service(&grange)
        .await
        .context("(2) listing")?;
    admin_imports_a_spreadsheet(c)
        .await
        .context("(2b) import")?;

    let agg = TestNode::start_aggregator("Lancashire CVS", |cfg| {
        cfg.web.tile_url = TILES.into();
    })
    .await;
    for hub in [&grange, &revoe] {
        agg.add_source(&hub.node.url()).await;
    }
    let reports = agg.crawl().await;
    ensure!(
        reports.len() == 2 && reports.iter().all(|r| r["outcome"] == "accepted"),
        "crawl: {reports:?}"
    );
    directory_finds_it(c, &agg, &grange)
        .await
        .context("(3) directory")?;
    keyboard_search(c, &agg).await.context("(4) keyboard")?;
    hostile_hub_name(c).await.context("(5) injection")?;
    coordinator_reports(c, &agg, &revoe)
        .await
        .context("(6) coordinator reports")?;
    admin_sees_the_directory_catch_up(c, &grange, &agg)
        .await
        .context("(7) fetch lines")?;
    Ok(())
}

/// (7) After an edit, the hub's admin page says the directory has not
/// fetched the new listing yet, and once it has, the line says so without
/// a reload (issue 20: the page's script asks `/admin/fetches`).
async fn admin_sees_the_directory_catch_up(
    c: &Client,
    hub: &TestNode,
    agg: &TestNode,
) -> Result<()> {
    add(
        hub,
        json!({"name": "Coffee morning", "taxonomy_terms": [{"name": "Social"}]}),
    )
    .await;
    c.goto(&format!("{}/admin", hub.node.url())).await?;
    // Other steps signed in to other nodes on this host: sign in again.
    let shown = wait_for(c, "#sign-in-form, #listing-facts").await?;
    if shown.attr("id").await?.as_deref() == Some("sign-in-form") {
        c.find(Locator::Id("token"))
            .await?
            .send_keys(&hub.token)
            .await?;
        click_to_page(c, "#sign-in").await?;
    }
    wait_for(c, "#listing-facts[aria-live='polite'][data-behind]").await?;
    let line = text(c, "#listing-facts dd[data-address]").await?;
    ensure!(line.contains("has not fetched listing number"), "{line}");
    c.execute("window.signpostNotReloaded = true", vec![])
        .await?;
    agg.crawl().await;
    // The script asks every 3 s: within WAIT, the line has changed.
    wait_for(c, "#listing-facts dd[data-address][data-latest='true']").await?;
    let line = text(c, "#listing-facts dd[data-address]").await?;
    ensure!(line.contains("has the latest listing"), "{line}");
    let same = c
        .execute("return window.signpostNotReloaded === true", vec![])
        .await?;
    ensure!(same == Value::Bool(true), "the page was reloaded");
    Ok(())
}

/// (1) Sign in with the admin token and add a service through the form.
async fn admin_adds_a_service(c: &Client, hub: &TestNode) -> Result<()> {
    c.goto(&format!("{}/admin", hub.node.url())).await?;
    wait_for(c, "#sign-in-form").await?;
    screenshot_page(c, "admin-sign-in").await?;
    c.find(Locator::Id("token"))
        .await?
        .send_keys(&hub.token)
        .await?;
    click_to_page(c, "#sign-in").await?;
    click_to_page(c, "#add-service").await?;
    wait_for(c, "#service-form").await?;
    ensure!(text(c, "h1").await? == "Add a service");
    for (id, value) in [
        ("name", "Food pantry"),
        (
            "description",
            "Low-cost groceries for anyone who needs them; bring a bag.",
        ),
        ("taxonomy", "Food; Cost of living"),
        ("loc0_name", "Main hall"),
        ("loc0_address_1", "Dinmore Avenue"),
        ("loc0_city", "Blackpool"),
        ("loc0_postal_code", "FY3 7RW"),
        ("loc0_latitude", "53.8240"),
        ("loc0_longitude", "-3.0146"),
    ] {
        let field = c.find(Locator::Id(id)).await?;
        field.clear().await?;
        field.send_keys(value).await?;
    }
    c.find(Locator::Css("input[name='access'][value='walk-in']"))
        .await?
        .click()
        .await?;
    // Opening times: day boxes and time fields, typed as a person would
    // (hours, minutes, then "A" for a 12-hour clock's AM; a 24-hour clock
    // ignores it).
    for day in ["sess0_days-TU", "sess0_days-TH"] {
        c.find(Locator::Id(day)).await?.click().await?;
    }
    for (id, keys) in [("sess0_opens", "0900A"), ("sess0_closes", "1130A")] {
        c.find(Locator::Id(id)).await?.send_keys(keys).await?;
    }
    for (id, value) in [("sess0_opens", "09:00"), ("sess0_closes", "11:30")] {
        let typed = c.find(Locator::Id(id)).await?.prop("value").await?;
        ensure!(typed.as_deref() == Some(value), "{id}: {typed:?}");
    }
    screenshot_page(c, "admin-service-form").await?;
    // Enter in a text field saves (the form's default button), as a
    // keyboard user expects, although "Add another session" comes first.
    let name = c.find(Locator::Id("name")).await?;
    let enter = char::from(Key::Enter).to_string();
    navigating(c, name.send_keys(&enter))
        .await
        .context("after Enter in the name field")?;

    let flash = text(c, "#flash").await?;
    ensure!(
        flash.contains("\u{201c}Food pantry\u{201d} is added"),
        "confirmation: {flash}"
    );
    let row = c
        .find(Locator::XPath(
            "//table[@id='services']//tr[td/a[text()='Food pantry']]",
        ))
        .await
        .context("the new service's row")?
        .text()
        .await?;
    ensure!(
        row.contains("Tuesday, Thursday 09:00 to 11:30"),
        "row: {row}"
    );
    ensure!(
        c.find_all(Locator::Css("#services tbody tr")).await?.len() == 2,
        "the service beside the one already there"
    );
    screenshot_page(c, "admin-services").await?;
    Ok(())
}

/// (2b) A messy workbook (two sheets, a title row above the header,
/// free-text hours) imported through the admin page on a hub of its own:
/// upload, the column mapping step and preview, confirm, and the services
/// are on the admin page and in the signed listing. Then every other messy
/// fixture the same way, with its flags and opening times.
async fn admin_imports_a_spreadsheet(c: &Client) -> Result<()> {
    let hub = TestNode::start("Fylde Coast pantry").await;
    let fixture = signpost_tests::spreadsheets::fixtures()
        .into_iter()
        .find(|f| f.name == "06-two-sheets-title-row.xlsx")
        .context("the fixture")?;
    let dir = tempfile::tempdir()?;

    c.goto(&format!("{}/admin", hub.node.url())).await?;
    wait_for(c, "#token").await?.send_keys(&hub.token).await?;
    click_to_page(c, "#sign-in").await?;
    click_to_page(c, "#import-link").await?;
    upload_for_preview(c, &dir.path().join(fixture.name), &fixture.bytes).await?;
    let counts = text(c, "#import-counts").await?;
    ensure!(counts.starts_with("2 to add"), "preview: {counts}");
    // The mapping step shows each column with the field it is read as.
    let postcode = c.find(Locator::Id("col1")).await?.prop("value").await?;
    ensure!(
        postcode.as_deref() == Some("postal_code"),
        "Postcode read as {postcode:?}"
    );
    ensure!(hub.verified_listing().await.listing.services.is_empty());
    click_to_page(c, "#apply-import").await?;
    let flash = text(c, "#flash").await?;
    ensure!(flash.contains("Imported: 2 added"), "confirmation: {flash}");
    let row = c
        .find(Locator::XPath(
            "//table[@id='services']//tr[td/a[text()='Fuel bank']]",
        ))
        .await
        .context("the imported service's row")?
        .text()
        .await?;
    ensure!(row.contains("11:00 to 15:00"), "row: {row}");
    let listing = hub.verified_listing().await.listing;
    let mut names: Vec<&str> = listing.services.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    ensure!(names == ["Fuel bank", "Pantry"], "listing: {names:?}");
    // Every other messy fixture through the same page: what the preview
    // flags, then the services and opening times the listing holds.
    for f in signpost_tests::spreadsheets::fixtures() {
        if f.name == fixture.name {
            continue;
        }
        c.goto(&format!("{}/admin/import", hub.node.url())).await?;
        upload_for_preview(c, &dir.path().join(f.name), &f.bytes).await?;
        if !f.flagged.is_empty() {
            let notes = text(c, "#import-notes").await?;
            for column in &f.flagged {
                ensure!(
                    notes.contains(column),
                    "{}: {column} is not flagged in the preview: {notes}",
                    f.name
                );
            }
        }
        click_to_page(c, "#apply-import").await?;
        let flash = text(c, "#flash").await?;
        ensure!(flash.contains("Imported"), "{}: {flash}", f.name);
        let listing = hub.verified_listing().await.listing;
        for (name, hours) in &f.services {
            let held = listing
                .services
                .iter()
                .find(|s| s.name == *name)
                .with_context(|| format!("{}: {name} is not in the listing", f.name))?;
            let read = signpost_client::import::csv::format_opening_hours(&held.schedules);
            ensure!(
                read == *hours,
                "{}: {name} opens {read}, not {hours}",
                f.name
            );
        }
    }
    Ok(())
}

/// On the admin import page: writes `bytes` to `path`, chooses it as the
/// file and asks for the preview.
async fn upload_for_preview(c: &Client, path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes)?;
    wait_for(c, "#import-form").await?;
    c.find(Locator::Id("file"))
        .await?
        .send_keys(&path.display().to_string())
        .await?;
    click_to_page(c, "#preview-import").await
}

/// (2) The hub's signed listing holds the service, and it verifies.
async fn listing_has_the_service(hub: &TestNode) -> Result<()> {
    let reply = hub.get_listing(&[]).await;
    ensure!(reply.status == StatusCode::OK, "listing: {}", reply.status);
    let verified = verify_listing(&reply.body, &VerifyOptions::now())
        .map_err(|e| anyhow::anyhow!("the listing does not verify: {e:?}"))?;
    let s = verified
        .listing
        .services
        .iter()
        .find(|s| s.name == "Food pantry")
        .context("the service is in the listing")?;
    ensure!(s.schedules.len() == 1 && s.schedules[0].byday == "TU,TH");
    ensure!(s.locations[0].latitude == Some(53.824));
    ensure!(s.locations[0].longitude == Some(-3.0146));
    ensure!(s.taxonomy_terms.len() == 2);
    Ok(())
}

/// (3) The aggregator's directory: search typed into the page, the result
/// with its opening times and hub, and the map's markers.
async fn directory_finds_it(c: &Client, agg: &TestNode, hub: &TestNode) -> Result<()> {
    let base = agg.node.url();
    c.goto(&format!("{base}/")).await?;
    wait_for(c, "#search-form").await?;
    let all = c.find_all(Locator::Css("#results .result")).await?.len();
    ensure!(all == 4, "every service is listed: {all}");
    wait_for(c, "#map .leaflet-marker-icon").await?;
    ensure!(
        c.find_all(Locator::Css("#map .leaflet-marker-icon"))
            .await?
            .len()
            == 4,
        "a marker per service"
    );
    screenshot_page(c, "directory").await?;

    // A phone: the results of a search, scrolled to the map and the list.
    viewport(c, PHONE).await?;
    c.goto(&format!("{base}/?q=help")).await?;
    wait_for(c, "#map .leaflet-marker-icon").await?;
    c.execute(
        "document.getElementById('results-heading').scrollIntoView()",
        vec![],
    )
    .await?;
    screenshot(c, "directory-phone").await?;
    viewport(c, DESKTOP).await?;

    c.goto(&format!("{base}/")).await?;
    let q = wait_for(c, "#q").await?;
    q.send_keys("Food pantry").await?;
    click_to_page(c, "#search-button").await?;
    wait_for_query(c, "q", "Food pantry").await?;
    let result = wait_for(c, "#results .result[data-name='Food pantry']").await?;
    let shown = result.text().await?;
    for expected in [
        "Food pantry",
        "Tuesday, Thursday 09:00 to 11:30",
        "Walk in during opening times",
        "Main hall, Dinmore Avenue",
        "From At The Grange.",
    ] {
        ensure!(shown.contains(expected), "{expected:?} not in {shown:?}");
    }
    let hub_link = result.find(Locator::Css(".meta a")).await?;
    ensure!(hub_link.text().await? == "At The Grange");

    // The map: shown, a marker for the result, tiles asked of the closed
    // loopback port only.
    let map = wait_for(c, "#map").await?;
    ensure!(map.is_displayed().await?, "the map is shown");
    let marker = wait_for(c, "#map .leaflet-marker-icon").await?;
    ensure!(marker.attr("title").await?.as_deref() == Some("Food pantry"));
    let tiles = c.find_all(Locator::Css("#map img.leaflet-tile")).await?;
    ensure!(!tiles.is_empty(), "Leaflet asked for tiles");
    for tile in tiles {
        let src = tile.attr("src").await?.unwrap_or_default();
        ensure!(src.starts_with("http://127.0.0.1:9/"), "tile {src}");
    }
    // A marker opens a popup linking to the service's page.
    marker.click().await?;
    // (textContent: the popup fades in, and text() reads only what shows)
    let popup = wait_for(c, ".leaflet-popup-content a").await?;
    ensure!(popup.prop("textContent").await?.as_deref() == Some("Food pantry"));
    let href = popup.attr("href").await?.unwrap_or_default();
    ensure!(
        href.contains(&format!("/services/{}/", hub.hub_id)),
        "{href}"
    );

    // The hub's own page in the directory.
    navigating(c, hub_link.click()).await?;
    ensure!(text(c, "#hub-name").await? == "At The Grange");
    ensure!(text(c, "#hub-health").await?.contains("Up to date"));
    ensure!(text(c, "#results").await?.contains("Food pantry"));
    screenshot_page(c, "hub").await?;
    Ok(())
}

/// (4) From the keyboard alone: Tab to the search box, type, Enter.
async fn keyboard_search(c: &Client, agg: &TestNode) -> Result<()> {
    c.goto(&format!("{}/", agg.node.url())).await?;
    wait_for(c, "#search-form").await?;
    let mut path = Vec::new();
    for _ in 0..10 {
        press(c, &char::from(Key::Tab).to_string()).await?;
        let focused = c.active_element().await?;
        let id = focused.attr("id").await?.unwrap_or_default();
        let label = if id.is_empty() {
            focused.text().await?
        } else {
            format!("#{id}")
        };
        path.push(label);
        if id == "q" {
            break;
        }
    }
    ensure!(
        path.first().map(String::as_str) == Some("Skip to the main content"),
        "the skip link comes first: {path:?}"
    );
    ensure!(
        path.last().map(String::as_str) == Some("#q"),
        "the search box is reached by Tab: {path:?}"
    );
    press(c, "job").await?;
    navigating(c, press(c, &char::from(Key::Enter).to_string())).await?;
    wait_for_query(c, "q", "job").await?;
    wait_for(c, "#results .result[data-name='Job Club']").await?;
    let names = c.find_all(Locator::Css("#results .result")).await?.len();
    ensure!(names == 1, "only the Job Club: {names}");
    Ok(())
}

/// (5) A hub named with markup: shown as text, never run, in the directory,
/// on the hub's page, in the map's popup and on its own admin page.
async fn hostile_hub_name(c: &Client) -> Result<()> {
    let hub = TestNode::start("Evil").await;
    let r = hub
        .admin(Method::PATCH, "/hub", Some(json!({"name": EVIL})))
        .await;
    ensure!(r.status == StatusCode::OK, "rename: {}", r.status);
    let service = format!("Pantry {EVIL}");
    add(
        &hub,
        json!({"name": service, "locations": [{"latitude": 53.8, "longitude": -3.0}]}),
    )
    .await;
    let agg = TestNode::start_aggregator("Directory", |cfg| cfg.web.tile_url = TILES.into()).await;
    agg.add_source(&hub.node.url()).await;
    agg.crawl().await;
    let base = agg.node.url();

    c.goto(&format!("{base}/?q=pantry")).await?;
    let result = wait_for(c, "#results .result").await?;
    ensure!(
        result
            .find(Locator::Css(".meta a"))
            .await
            .context("hub link")?
            .text()
            .await
            .context("hub link text")?
            == EVIL
    );
    ensure!(
        result
            .find(Locator::Css("h3"))
            .await
            .context("h3")?
            .text()
            .await
            .context("h3 text")?
            == service
    );
    // The map's marker and popup are made by script from the page's data.
    wait_for(c, "#map .leaflet-marker-icon")
        .await?
        .click()
        .await
        .context("marker click")?;
    let popup = wait_for(c, ".leaflet-popup-content a").await?;
    let popup = popup
        .prop("textContent")
        .await
        .context("popup text")?
        .unwrap_or_default();
    ensure!(popup == service, "popup: {popup:?}");
    no_injected_element(c, "the directory").await?;

    c.goto(&format!("{base}/hubs/{}", hub.hub_id)).await?;
    ensure!(text(c, "#hub-name").await? == EVIL);
    no_injected_element(c, "the hub's page").await?;
    let title = c.title().await?;
    ensure!(title.starts_with(&format!("{EVIL}: ")), "title: {title:?}");

    c.goto(&format!("{}/admin", hub.node.url())).await?;
    wait_for(c, "#token").await?.send_keys(&hub.token).await?;
    click_to_page(c, "#sign-in").await?;
    ensure!(text(c, "h1").await? == EVIL);
    ensure!(text(c, "#services").await?.contains(&service));
    no_injected_element(c, "the admin page").await?;
    Ok(())
}

/// (6) The coordinator page on the aggregator: a deliberate duplicate (a
/// debt surgery listed by Revoelution and by a Lancaster hub, same phone
/// and organisation) and a deliberate gap (employment support only in
/// Blackpool, none near Lancaster) are in the tables, the map draws the
/// gap and where employment is offered, and a signed-in coordinator marks
/// the pair "not a duplicate": gone after a reload.
async fn coordinator_reports(c: &Client, agg: &TestNode, revoe: &TestNode) -> Result<()> {
    let surgery = |name: &str, lat: f64, lon: f64, street: &str, city: &str, postcode: &str| {
        json!({"name": name, "description": "Free, confidential advice on debt, benefits and bills.",
               "organization": {"name": "Citizens Advice Lancashire"},
               "phones": [{"number": "01632 960400"}],
               "locations": place(lat, lon, street, city, postcode),
               "schedules": hours("WE", "10:00", "13:00"), "access": ["walk-in"],
               "taxonomy_terms": [{"name": "Advice"}]})
    };
    add(
        revoe,
        surgery(
            "Citizens Advice debt surgery",
            53.8069,
            -3.0466,
            "Revoe Community Centre",
            "Blackpool",
            "FY1 6BW",
        ),
    )
    .await;
    let lancaster = TestNode::start("Lancaster Community Hub").await;
    add(
        &lancaster,
        surgery(
            "Citizens Advice debt surgery (Lancaster)",
            54.0469,
            -2.8008,
            "Marketgate",
            "Lancaster",
            "LA1 1JF",
        ),
    )
    .await;
    add(
        &lancaster,
        json!({"name": "Warm space", "description": "Tea, toast and a warm room.",
               "locations": place(54.0469, -2.8008, "Marketgate", "Lancaster", "LA1 1JF"),
               "schedules": hours("MO,TH", "11:00", "15:00"), "access": ["walk-in"],
               "taxonomy_terms": [{"name": "Warm space"}]}),
    )
    .await;
    agg.add_source(&lancaster.node.url()).await;
    let crawled = agg.crawl().await;
    ensure!(
        crawled
            .iter()
            .all(|r| r["outcome"] == "accepted" || r["outcome"] == "not_modified"),
        "crawl: {crawled:?}"
    );
    let base = agg.node.url();

    // From the directory's header to the reports.
    c.goto(&format!("{base}/")).await?;
    click_to_page(c, "#reports-link").await?;
    wait_for(c, "#duplicates").await?;
    ensure!(text(c, "h1").await? == "Coordinator reports");
    let pairs = c.find_all(Locator::Css("#duplicates tbody tr")).await?;
    ensure!(
        pairs.len() == 1,
        "exactly the deliberate duplicate: {}",
        pairs.len()
    );
    let pair = pairs[0].text().await?;
    for expected in [
        "Citizens Advice debt surgery",
        "Citizens Advice debt surgery (Lancaster)",
        "Revoelution",
        "Lancaster Community Hub",
        "same phone number",
        "same organisation",
    ] {
        ensure!(pair.contains(expected), "{expected:?} not in {pair:?}");
    }
    ensure!(
        c.find_all(Locator::Css("form.not-duplicate"))
            .await?
            .is_empty(),
        "no forms before signing in"
    );

    // The gap: choose 10 km and Employment, as a coordinator would.
    c.find(Locator::Css("#within_km option[value='10']"))
        .await?
        .click()
        .await?;
    c.find(Locator::Css("#term option[value='Employment']"))
        .await?
        .click()
        .await?;
    click_to_page(c, "#coverage-button").await?;
    wait_for_query(c, "term", "Employment").await?;
    let row = wait_for(c, "#coverage tr[data-term='Employment']").await?;
    let gaps = row.find_all(Locator::Css("td.gaps li")).await?;
    ensure!(
        gaps.len() == 1,
        "one gap in employment: {}",
        row.text().await?
    );
    let gap = gaps[0].text().await?;
    ensure!(
        gap.starts_with("Around 54.0"),
        "the gap is at Lancaster: {gap}"
    );
    let advice = text(c, "#coverage tr[data-term='Advice'] td.gaps").await?;
    ensure!(
        advice == "None",
        "advice is offered in both towns: {advice}"
    );
    let tuesday = text(c, "#coverage tr[data-term='Employment'] td:nth-of-type(4)").await?;
    ensure!(tuesday == "2 h", "the Job Club's Tuesday: {tuesday}");

    // The map layer: the gap's square and the Job Club's circle.
    wait_for(c, "#coverage-map[data-drawn]").await?;
    let gap_shapes = c.find_all(Locator::Css("#coverage-map path.gap")).await?;
    let offered = c
        .find_all(Locator::Css("#coverage-map path.offered"))
        .await?;
    ensure!(
        gap_shapes.len() == 1 && offered.len() == 1,
        "map: {} gap shapes, {} offered",
        gap_shapes.len(),
        offered.len()
    );
    ensure!(
        c.find_all(Locator::Css("#coverage-map path.leaflet-interactive"))
            .await?
            .len()
            == 2
    );
    let csv = c.find(Locator::Id("freshness-csv")).await?;
    ensure!(
        csv.attr("href").await?.as_deref() == Some("/v1/reports/freshness?format=csv"),
        "the digest's CSV"
    );
    ensure!(
        c.find_all(Locator::Css("#freshness tbody tr")).await?.len() == 3,
        "a freshness row per hub"
    );
    screenshot_page(c, "reports").await?;

    // Sign in from the page, mark the pair, reload: gone.
    click_to_page(c, "#coordinator-sign-in").await?;
    wait_for(c, "#token").await?.send_keys(&agg.token).await?;
    click_to_page(c, "#sign-in").await?;
    let button = wait_for(c, "#pair-1 form.not-duplicate button").await?;
    ensure!(c.current_url().await?.path() == "/admin/reports");
    navigating(c, button.click()).await?;
    let flash = text(c, "#flash").await?;
    ensure!(flash.contains("not a duplicate"), "confirmation: {flash}");
    navigating(c, c.refresh()).await?;
    wait_for(c, "#no-duplicates").await?;
    ensure!(c
        .find_all(Locator::Css("#duplicates tr.pair"))
        .await?
        .is_empty());
    ensure!(text(c, "#duplicates-heading").await? == "Probable duplicates (0)");
    c.goto(&format!("{base}/reports")).await?;
    wait_for(c, "#no-duplicates").await?;
    Ok(())
}

async fn no_injected_element(c: &Client, page: &str) -> Result<()> {
    // Loaded and settled: an injected image would have failed by now.
    let state = c.execute("return document.readyState", vec![]).await?;
    ensure!(state == "complete", "{page}: {state}");
    let injected = c.find_all(Locator::Css("img[src='x']")).await?;
    ensure!(injected.is_empty(), "{page}: the name became an element");
    let title = c.title().await?;
    ensure!(title != "pwned", "{page}: the name ran as script");
    Ok(())
}
