//! The embed (`/embed`) over real HTTP: an aggregator that lists one
//! partner origin in `web.embed_origins` serves a slice of its directory
//! (the same services its own search finds) that only that origin may
//! frame, while every other page keeps refusing all framing; its caps
//! answer small 400s inside the embed; and with no origin listed, the
//! embed is refused framing like any page. The browser's side (a listed
//! partner's iframe loads, an unlisted one's is blocked) is in
//! `tests/tests/browser/embed.rs`.

use reqwest::StatusCode;
use serde_json::{json, Value};
use signpost_client::search::MAX_QUERY_CHARS;
use signpost_node::web::pages::embed::{DEFAULT_LIMIT, MAX_LIMIT};
use signpost_node::web::pages::place::MAX_PLACE_CHARS;
use signpost_tests::{result_names, Reply, TestNode};

/// The partner origin the aggregator lists (nothing listens there: only
/// the headers are checked here).
const PARTNER: &str = "http://127.0.0.1:45678";
/// The aggregator's directory name, which the embed names.
const DIRECTORY: &str = "Lancashire community directory";

fn service(name: &str, category: &str, lat: f64, lon: f64, postcode: &str) -> Value {
    json!({"name": name, "description": format!("{name}: a test service."),
           "locations": [{"latitude": lat, "longitude": lon,
                          "address": {"address_1": "1 High Street", "city": "Blackpool", "postal_code": postcode}}],
           "schedules": [{"byday": "TU,TH", "opens_at": "10:00", "closes_at": "12:00"}],
           "phones": [{"number": "01253 000000"}],
           "access": ["walk-in"],
           "taxonomy_terms": [{"name": category}]})
}

fn text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// The `frame-ancestors` directive's sources in a reply's CSP.
fn frame_ancestors(r: &Reply) -> Vec<String> {
    let csp = r.header("content-security-policy").unwrap_or_default();
    let directive = csp
        .split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix("frame-ancestors "))
        .unwrap_or_else(|| panic!("no frame-ancestors in {csp:?}"));
    directive.split_whitespace().map(str::to_owned).collect()
}

/// Every page but the embed: framing refused by both headers.
fn refuses_framing(r: &Reply, what: &str) {
    assert_eq!(frame_ancestors(r), ["'none'"], "{what}");
    assert_eq!(
        r.header("x-frame-options").as_deref(),
        Some("DENY"),
        "{what}"
    );
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

/// The embed: framing only by the listed partner, and no X-Frame-Options
/// (which cannot name an origin); the rest of the policy as on every page.
fn framable_by_partner(r: &Reply, what: &str) {
    assert_eq!(frame_ancestors(r), [PARTNER], "{what}");
    assert_eq!(r.header("x-frame-options"), None, "{what}");
    let csp = r.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("style-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

/// A small answer inside the embed: the embed's own page with the problem
/// said, not the directory's full page.
fn small_problem(r: &Reply, status: StatusCode, says: &str, what: &str) {
    let body = text(r);
    assert_eq!(r.status, status, "{what}: {body}");
    assert!(body.contains("id=\"embed-problem\""), "{what}: {body}");
    assert!(body.contains(says), "{what}: {body}");
    assert!(body.contains("/assets/embed.css"), "{what}");
    assert!(
        !body.contains("/assets/site.css"),
        "{what}: not the site's page"
    );
    assert!(result_names(&body).is_empty(), "{what}");
    framable_by_partner(r, what);
}

#[tokio::test]
async fn an_embed_lists_a_slice_only_listed_origins_may_frame() {
    let revoe = TestNode::start("Revoelution").await;
    revoe
        .add_service(service(
            "Job Club",
            "Employment",
            53.8069,
            -3.0466,
            "FY1 6BW",
        ))
        .await;
    revoe
        .add_service(service(
            "CV workshop",
            "Employment",
            53.8075,
            -3.0440,
            "FY1 6AY",
        ))
        .await;
    revoe
        .add_service(service(
            "Digital drop-in",
            "Digital skills",
            53.8072,
            -3.0450,
            "FY1 6AZ",
        ))
        .await;
    let bay = TestNode::start("The Bay, Morecambe").await;
    bay.add_service(service(
        "Work coach",
        "Employment",
        54.0697,
        -2.8625,
        "LA4 4AA",
    ))
    .await;
    let agg = TestNode::start_aggregator("Lancashire CVS", |cfg| {
        cfg.aggregator.name = DIRECTORY.to_owned();
        cfg.web.embed_origins = vec![PARTNER.to_owned()];
    })
    .await;
    agg.add_source(&revoe.node.url()).await;
    agg.add_source(&bay.node.url()).await;
    agg.crawl().await;

    // The slice: what the directory's own search finds, and nothing else.
    let slice = "taxonomy=Employment&near=FY1";
    let embed = agg.get(&format!("/embed?{slice}")).await;
    let body = text(&embed);
    assert_eq!(embed.status, StatusCode::OK, "{body}");
    framable_by_partner(&embed, "the embed");
    let names = result_names(&body);
    let directory = agg.get("/?category=Employment&near=FY1").await;
    assert_eq!(names, result_names(&text(&directory)), "the same search");
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, ["CV workshop", "Job Club"], "{body}");
    assert!(body.contains("<html lang=\"en\">"));
    assert_eq!(body.matches("<h1").count(), 1, "one heading");
    assert!(body.contains(">Employment near FY1</h1>"), "{body}");
    assert!(!body.contains("<nav"), "no site navigation");
    assert!(!body.contains("class=\"top\""), "no site header");
    assert!(
        body.contains("Walk in during opening times"),
        "how to get help"
    );
    assert!(body.contains("Tuesday, Thursday 10:00 to 12:00"), "hours");
    assert!(body.contains("href=\"tel:01253000000\""), "phone");
    assert!(body.contains(">Revoelution<"), "the hub");
    // Every link that leaves the frame opens a new tab, and says so.
    let leaving: Vec<&str> = body
        .split("<a ")
        .skip(1)
        .filter(|a| !a.starts_with("href=\"tel:"))
        .collect();
    assert_eq!(
        leaving.len(),
        2 * names.len() + 1,
        "services, hubs, see all"
    );
    for a in &leaving {
        assert!(a.contains("target=\"_blank\" rel=\"noopener\""), "{a}");
        let link = a.split("</a>").next().unwrap_or("");
        assert!(link.contains("(opens in a new tab)"), "{link}");
    }
    // Each service's link leads to its page on the directory.
    let hrefs: Vec<&str> = body
        .split("<h2><a href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    assert_eq!(hrefs.len(), names.len());
    for (href, name) in hrefs.iter().zip(&names) {
        assert!(href.starts_with("/services/"), "{href}");
        let page = agg.get(href).await;
        assert_eq!(page.status, StatusCode::OK, "{href}");
        assert!(text(&page).contains(&format!("id=\"service-name\">{name}</h1>")));
        refuses_framing(&page, "a service page");
    }
    // "See all" is the same search on the directory.
    let all = body
        .split("id=\"embed-all\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .and_then(|s| s.split('"').next())
        .expect("a see-all link")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(body.contains(&format!("See all on {DIRECTORY}")), "{body}");
    assert!(body.contains(&format!("<title>Employment near FY1: {DIRECTORY}</title>")));
    let rest = agg.get(&all).await;
    assert_eq!(result_names(&text(&rest)), names, "{all}");
    // Its stylesheet is its own, served like the site's.
    let css_href = body
        .split("href=\"/assets/embed.css")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(|q| format!("/assets/embed.css{q}"))
        .expect("the embed's stylesheet");
    let css = agg.get(&css_href).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/css")));

    // Every other page refuses framing, as before.
    let sign_in = agg.get("/admin").await;
    assert_eq!(sign_in.status, StatusCode::OK);
    for (path, reply) in [
        ("/", directory),
        ("/hubs", agg.get("/hubs").await),
        (
            "/hubs/{id}",
            agg.get(&format!("/hubs/{}", revoe.hub_id)).await,
        ),
        ("/admin", sign_in),
        ("/reports", agg.get("/reports").await),
        (
            "/embed/ (unknown, from a browser)",
            agg.get_with("/embed/", &[("accept", "text/html")]).await,
        ),
    ] {
        refuses_framing(&reply, path);
    }

    // `limit`: 10 by default, at most 25, with a clear 400 past it.
    let one = agg.get(&format!("/embed?{slice}&limit=1")).await;
    assert_eq!(one.status, StatusCode::OK);
    let first = result_names(&text(&one));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0], names[0]);
    assert!(text(&one).contains("showing 1 to 1"), "{}", text(&one));
    let most = agg.get(&format!("/embed?limit={MAX_LIMIT}")).await;
    assert_eq!(
        result_names(&text(&most)).len(),
        4,
        "everything, within the cap"
    );
    let default = agg.get("/embed").await;
    assert_eq!(
        result_names(&text(&default)).len(),
        4.min(DEFAULT_LIMIT as usize)
    );
    for limit in ["0".to_owned(), (MAX_LIMIT + 1).to_string(), "ten".into()] {
        let r = agg.get(&format!("/embed?{slice}&limit={limit}")).await;
        small_problem(
            &r,
            StatusCode::BAD_REQUEST,
            &format!("from 1 to {MAX_LIMIT}"),
            &format!("limit={limit}"),
        );
    }
    // Over-long values: each said inside the embed.
    let long_q = "x".repeat(MAX_QUERY_CHARS + 1);
    let r = agg.get(&format!("/embed?q={long_q}")).await;
    small_problem(
        &r,
        StatusCode::BAD_REQUEST,
        &format!("longer than {MAX_QUERY_CHARS} characters"),
        "q",
    );
    let long_near = "x".repeat(MAX_PLACE_CHARS + 1);
    let r = agg.get(&format!("/embed?near={long_near}")).await;
    small_problem(
        &r,
        StatusCode::BAD_REQUEST,
        &format!("at most {MAX_PLACE_CHARS} characters"),
        "near",
    );
    let long_taxonomy = "x".repeat(1000);
    let r = agg.get(&format!("/embed?taxonomy={long_taxonomy}")).await;
    small_problem(
        &r,
        StatusCode::BAD_REQUEST,
        "category name is too long",
        "taxonomy",
    );
    let r = agg.get(&format!("/embed?{slice}&within_km=99999")).await;
    small_problem(&r, StatusCode::BAD_REQUEST, "within_km", "within_km");
    let r = agg.get(&format!("/embed?q={}", "x".repeat(5000))).await;
    small_problem(
        &r,
        StatusCode::URI_TOO_LONG,
        "too long",
        "the whole address",
    );
    // A place nobody holds is said inside the embed too.
    let r = agg.get("/embed?taxonomy=Employment&near=ZZ99+9ZZ").await;
    assert!(text(&r).contains("id=\"embed-problem\""));
    assert!(text(&r).contains("We could not find"), "{}", text(&r));
    framable_by_partner(&r, "an unknown place");
}

#[tokio::test]
async fn with_no_origin_listed_the_embed_is_refused_framing_too() {
    let agg = TestNode::start_aggregator("Lancashire CVS", |_| {}).await;
    let embed = agg.get("/embed?taxonomy=Employment").await;
    assert_eq!(embed.status, StatusCode::OK, "{}", text(&embed));
    assert!(
        text(&embed).contains("No services match"),
        "{}",
        text(&embed)
    );
    refuses_framing(&embed, "the embed with no origins listed");
}
