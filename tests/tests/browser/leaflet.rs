//! Printable leaflets in a real browser: a search typed into the directory
//! (near a postcode district, one category), "Print this list", and
//! Chromium's own PDF of that page (WebDriver's Print command, A4), read
//! back with poppler-utils: as many pages as the services need, every
//! service's name and phone, its hub and today's date in the text, and on
//! the pages rasterised at 150 dpi exactly one QR code per service, each
//! decoding (with rqrr) to an address that serves that service's page. The
//! same for a whole hub's leaflet from the hub's page. With
//! `SIGNPOST_SCREENSHOTS=1`, the search leaflet's first page is saved as
//! `docs/screenshots/leaflet.png`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use fantoccini::wd::{PrintConfiguration, PrintSize};
use fantoccini::{Client, Locator};
use jiff::Timestamp;
use serde_json::json;
use signpost_tests::TestNode;

use crate::support::*;

/// One service the test offers: name, phone, category.
type Offer = (&'static str, &'static str, &'static str);

const REVOE: &str = "Revoe Community Hub";
const GRANGE: &str = "Grange Park Hub";
/// What the search asks for; the others are in the hubs but not searched.
const CATEGORY: &str = "Employment";

const REVOE_OFFERS: &[Offer] = &[
    ("Job Club", "01253 477101", CATEGORY),
    ("CV Workshop", "01253 477102", CATEGORY),
    ("Interview Practice", "01253 477103", CATEGORY),
    ("Work Clothes Bank", "01253 477104", CATEGORY),
    ("Apprenticeship Advice", "01253 477105", CATEGORY),
    ("Community Pantry", "01253 477106", "Food"),
];
const GRANGE_OFFERS: &[Offer] = &[
    ("Digital Job Search", "01253 478201", CATEGORY),
    ("Volunteering Desk", "01253 478202", CATEGORY),
    ("English for Work", "01253 478203", CATEGORY),
    ("Lunch Club", "01253 478204", "Food"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printed_leaflets_hold_every_service_with_a_qr_code_to_its_page() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    for tool in ["pdfinfo", "pdftotext", "pdftoppm"] {
        assert!(
            Path::new("/usr/bin").join(tool).exists(),
            "{tool} is missing: run scripts/install-browser.sh (poppler-utils)"
        );
    }
    if let Err(e) = in_session(&driver, Duration::from_secs(240), leaflets).await {
        panic!("{e:#}");
    }
}

async fn leaflets(c: &Client) -> Result<()> {
    viewport(c, DESKTOP).await?;
    let revoe = TestNode::start(REVOE).await;
    let grange = TestNode::start(GRANGE).await;
    for (i, offer) in REVOE_OFFERS.iter().enumerate() {
        add(&revoe, service(offer, i, 53.8069, -3.0466, "FY1 6BW")).await;
    }
    for (i, offer) in GRANGE_OFFERS.iter().enumerate() {
        add(&grange, service(offer, i, 53.8120, -3.0380, "FY1 5AA")).await;
    }
    let agg = TestNode::start_aggregator("Lancashire CVS", |cfg| {
        cfg.web.tile_url = TILES.into();
    })
    .await;
    for hub in [&revoe, &grange] {
        agg.add_source(&hub.node.url()).await;
    }
    let reports = agg.crawl().await;
    ensure!(
        reports.len() == 2 && reports.iter().all(|r| r["outcome"] == "accepted"),
        "crawl: {reports:?}"
    );
    let base = agg.node.url();
    let dir = tempfile::tempdir()?;

    // The search, typed into the directory's form.
    c.goto(&format!("{base}/")).await?;
    wait_for(c, "#near").await?.send_keys("FY1").await?;
    c.find(Locator::Css("#within_km option[value='10']"))
        .await?
        .click()
        .await?;
    c.find(Locator::Css(&format!(
        "#category option[value='{CATEGORY}']"
    )))
    .await?
    .click()
    .await?;
    click_to_page(c, "#search-button").await?;
    wait_for_query(c, "category", CATEGORY).await?;
    let searched: Vec<&Offer> = REVOE_OFFERS
        .iter()
        .chain(GRANGE_OFFERS)
        .filter(|o| o.2 == CATEGORY)
        .collect();
    let results = c.find_all(Locator::Css("#results .result")).await?.len();
    ensure!(results == searched.len(), "the search found {results}");
    click_to_page(c, "#print-link").await?;
    let heading = text(c, "h1").await?;
    ensure!(
        heading.contains("FY1") && heading.contains(CATEGORY),
        "the leaflet says what was searched: {heading}"
    );
    let pdf = print(c, &dir.path().join("search.pdf")).await?;
    check(&pdf, &searched, &[REVOE, GRANGE], &base).await?;
    if std::env::var("SIGNPOST_SCREENSHOTS").as_deref() == Ok("1") {
        let shot = Path::new("../docs/screenshots/leaflet");
        poppler(
            "pdftoppm",
            &["-r", "100", "-png", "-f", "1", "-l", "1", "-singlefile"],
            &pdf,
            Some(shot),
        )?;
        eprintln!("saved {}.png", shot.display());
    }

    // The whole hub's leaflet, from the hub's page.
    c.goto(&format!("{base}/hubs/{}", revoe.hub_id)).await?;
    click_to_page(c, "#print-link").await?;
    let heading = text(c, "h1").await?;
    ensure!(heading.contains(REVOE), "{heading}");
    let pdf = print(c, &dir.path().join("hub.pdf")).await?;
    let all: Vec<&Offer> = REVOE_OFFERS.iter().collect();
    check(&pdf, &all, &[REVOE], &base).await?;
    Ok(())
}

/// A service with a phone, opening times and a place, and a description
/// long enough that a handful fill an A4 page.
fn service(
    (name, phone, category): &Offer,
    i: usize,
    lat: f64,
    lon: f64,
    postcode: &str,
) -> serde_json::Value {
    let step = 0.0007 * i as f64;
    json!({
        "name": name,
        "description": format!("{name}: friendly help from trained volunteers, with tea and a quiet room. \
            Bring any letters or forms you have; we can look at them with you and make calls together."),
        "phones": [{"number": phone}],
        "locations": place(lat + step, lon + step, &format!("{} Central Drive", 10 + i), "Blackpool", postcode),
        "schedules": hours("MO,WE,FR", "10:00", "12:30"),
        "access": ["walk-in", "self-referral"],
        "taxonomy_terms": [{"name": category}],
    })
}

/// The page Chromium prints to PDF on A4 with backgrounds, written to `path`.
async fn print(c: &Client, path: &Path) -> Result<PathBuf> {
    let config = PrintConfiguration::builder()
        .size(PrintSize::A4)
        .background(true)
        .build()
        .map_err(|e| anyhow::anyhow!("print settings: {e:?}"))?;
    let pdf = c.print(config).await?;
    ensure!(pdf.starts_with(b"%PDF"), "not a PDF");
    std::fs::write(path, &pdf)?;
    Ok(path.to_owned())
}

/// Checks a leaflet's PDF against the services it should hold.
async fn check(pdf: &Path, services: &[&Offer], hubs: &[&str], base: &str) -> Result<()> {
    let before = today();
    // Pages: more than one (the lists are long enough), never more than
    // one per service (no service is split or left alone with blank space).
    let info = poppler("pdfinfo", &[], pdf, None)?;
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .context("pdfinfo gives no page count")?
        .trim()
        .parse()?;
    ensure!(
        pages >= 2 && pages <= services.len(),
        "{pages} pages for {} services",
        services.len()
    );

    // Words as they read, whatever line they were wrapped onto.
    let text = poppler("pdftotext", &[], pdf, Some(Path::new("-")))?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for (name, phone, _) in services {
        ensure!(text.contains(name), "{name} is not in the PDF:\n{text}");
        ensure!(text.contains(phone), "{phone} is not in the PDF:\n{text}");
    }
    for hub in hubs {
        ensure!(text.contains(hub), "{hub} is not in the PDF");
    }
    ensure!(
        text.contains(&before) || text.contains(&today()),
        "today's date ({before}) is not in the PDF:\n{text}"
    );
    ensure!(
        !text.contains("Back to the list on the website"),
        "the on-screen hint is not printed"
    );

    // Every QR code on every page, rasterised as a printer would.
    let out = pdf.with_extension("");
    poppler("pdftoppm", &["-r", "150", "-png"], pdf, Some(&out))?;
    let mut codes = Vec::new();
    let mut rendered = 0;
    let stem = out.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let folder = out.parent().context("the PDF's folder")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "png")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{stem}-")))
        })
        .collect();
    files.sort();
    for file in &files {
        rendered += 1;
        let page = image::open(file)?.to_luma8();
        let (w, h) = page.dimensions();
        let mut prepared =
            rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
                page.get_pixel(x as u32, y as u32).0[0]
            });
        for grid in prepared.detect_grids() {
            let (_, content) = grid
                .decode()
                .with_context(|| format!("a QR code on {} does not decode", file.display()))?;
            codes.push(content);
        }
    }
    ensure!(rendered == pages, "{rendered} pages rasterised of {pages}");
    ensure!(
        codes.len() == services.len(),
        "{} QR codes for {} services: {codes:?}",
        codes.len(),
        services.len()
    );

    // Each code is the address of one service's page, and together they are
    // the pages of exactly the services listed.
    let http = signpost_tests::client();
    let mut named = BTreeSet::new();
    for url in &codes {
        ensure!(url.starts_with(&format!("{base}/services/")), "{url}");
        let reply = http.get(url).send().await?;
        ensure!(reply.status().is_success(), "{url}: {}", reply.status());
        let body = reply.text().await?;
        let name = body
            .split("<h1 id=\"service-name\">")
            .nth(1)
            .and_then(|s| s.split("</h1>").next())
            .with_context(|| format!("{url} is not a service's page"))?;
        named.insert(name.to_owned());
    }
    let expected: BTreeSet<String> = services.iter().map(|o| o.0.to_owned()).collect();
    if named != expected {
        bail!("the codes lead to {named:?}, not {expected:?}");
    }
    Ok(())
}

/// Today's date as the leaflet prints it (UTC).
fn today() -> String {
    Timestamp::now().strftime("%-d %B %Y").to_string()
}

/// Runs a poppler tool on `pdf` (then `out`, if given) and gives what it
/// printed.
fn poppler(tool: &str, args: &[&str], pdf: &Path, out: Option<&Path>) -> Result<String> {
    let mut command = Command::new(tool);
    command.args(args).arg(pdf);
    if let Some(out) = out {
        command.arg(out);
    }
    let done = command
        .output()
        .with_context(|| format!("{tool} did not run"))?;
    ensure!(
        done.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    Ok(String::from_utf8_lossy(&done.stdout).into_owned())
}
