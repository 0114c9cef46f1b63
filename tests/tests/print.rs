//! The printable lists over plain HTTP, against a real hub and aggregator
//! on loopback: `/print?<search>` and `/hubs/{id}/print` list the services
//! with a QR code each, stop at their caps and say how many more there are
//! and where, refuse a bad search in the directory's own words, and answer
//! an unknown hub with 404. (The browser test, `browser/leaflet.rs`, prints
//! them to PDF and reads the codes back.)

use reqwest::{Method, StatusCode};
use serde_json::json;
use signpost_node::web::pages::print::PRINT_SERVICES;
use signpost_tests::TestNode;

/// A service name that would run a script if it were ever markup.
const HOSTILE: &str = "A<script>alert(1)</script>";

struct Page {
    status: StatusCode,
    csp: String,
    body: String,
}

async fn get(url: &str) -> Page {
    let r = signpost_tests::client()
        .get(url)
        .send()
        .await
        .expect("request");
    Page {
        status: r.status(),
        csp: r
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
        body: r.text().await.expect("body"),
    }
}

/// The texts of the `<li>`s inside the element with `id`.
fn items_of(body: &str, id: &str) -> Vec<String> {
    let Some(start) = body.find(&format!("id=\"{id}\"")) else {
        return Vec::new();
    };
    let rest = &body[start..];
    let end = rest.find("</ul>").unwrap_or(rest.len());
    rest[..end]
        .split("<li>")
        .skip(1)
        .map(|li| li.split("</li>").next().unwrap_or("").to_owned())
        .collect()
}

/// A hub's services as CSV for its import: `n` of them, each with its own
/// phone number, all near Revoe, Blackpool.
fn services_csv(n: u32) -> String {
    let mut csv =
        "name,description,phone,latitude,longitude,postal_code,opening_hours,taxonomy,access\n"
            .to_owned();
    for i in 1..=n {
        csv.push_str(&format!(
            "Service {i:03},Help of kind {i},01253 {:06},53.80{:02},-3.046,FY1 6BW,\"TU,TH 10:00-12:00\",Employment,walk-in\n",
            400_000 + i,
            i % 100
        ));
    }
    csv
}

#[tokio::test]
async fn print_pages_list_services_with_a_code_each_within_their_caps() {
    let hub = TestNode::start("Revoe Community Hub").await;
    // More than a hub's page shows, so both leaflets have more to point to.
    let total = 2 * PRINT_SERVICES + 1;
    let imported = hub
        .admin_raw(
            "/import?format=csv",
            "text/csv",
            services_csv(total - 1).into_bytes(),
        )
        .await;
    assert_eq!(
        imported.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&imported.body)
    );
    // One more, whose name would be markup if it were not escaped (also in
    // its QR code's label); it sorts first, so the hub's leaflet holds it.
    let added = hub
        .admin(
            Method::POST,
            "/services",
            Some(json!({"name": HOSTILE, "description": "Help with work.",
                        "taxonomy_terms": [{"name": "Employment"}]})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    let agg = TestNode::start_aggregator("Lancashire CVS", |_| {}).await;
    agg.add_source(&hub.node.url()).await;
    let crawled = agg.crawl().await;
    assert!(
        crawled.iter().all(|r| r["outcome"] == "accepted"),
        "{crawled:?}"
    );
    let base = agg.node.url();

    // A search's leaflet: its first PRINT_SERVICES, in the directory's
    // order, each with a code and its address, then where to find the rest.
    let query = "q=help&category=Employment";
    let page = get(&format!("{base}/print?{query}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.csp.contains("style-src 'self'"), "{}", page.csp);
    assert!(!page.body.contains("style="), "no inline styles");
    assert_eq!(page.body.matches("<h1").count(), 1);
    let codes = page.body.matches("<svg class=\"qr\" role=\"img\"").count();
    assert_eq!(codes as u32, PRINT_SERVICES, "one code per listed service");
    assert_eq!(page.body.matches("<h2>").count(), codes, "a heading each");
    let listed: Vec<&str> = page
        .body
        .split("<h2>")
        .skip(1)
        .filter_map(|s| s.split("</h2>").next())
        .collect();
    for name in &listed {
        assert!(
            page.body.contains(&format!(
                "aria-label=\"QR code: link to {name}\u{2019}s page\""
            )),
            "{name}'s code is named for screen readers"
        );
    }
    let directory = get(&format!("{base}/?{query}&page=1")).await;
    let first = directory
        .body
        .split("<h3><a href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the directory's first result");
    assert!(
        page.body
            .contains(&format!("Online: <a href=\"{base}{first}\">")),
        "the directory's first result, with its absolute address"
    );
    assert!(
        page.body.contains("Printed "),
        "the date printed is on the page"
    );
    assert!(page.body.contains("Published by Revoe Community Hub."));
    let more = total - PRINT_SERVICES;
    assert!(
        page.body.contains(&format!(
            "And {more} more: search online at <a href=\"{base}/?"
        )),
        "the rest are pointed to online"
    );
    // The directory's results link to this page, carrying the search.
    assert!(
        directory
            .body
            .contains("<a href=\"/print?q=help&#38;category=Employment\" id=\"print-link\">"),
        "{}",
        directory.body
    );

    // A hub's leaflet: as many as the hub's page, and where the others are.
    let hub_page = get(&format!("{base}/hubs/{}", hub.hub_id)).await;
    let print_link = format!("<a href=\"/hubs/{}/print\" id=\"print-link\">", hub.hub_id);
    assert!(hub_page.body.contains(&print_link), "{}", hub_page.body);
    let leaflet = get(&format!("{base}/hubs/{}/print", hub.hub_id)).await;
    assert_eq!(leaflet.status, StatusCode::OK, "{}", leaflet.body);
    let shown = leaflet
        .body
        .matches("<svg class=\"qr\" role=\"img\"")
        .count() as u32;
    assert_eq!(
        hub_page.body.matches("class=\"result\"").count() as u32,
        shown,
        "the leaflet holds what the hub's page shows"
    );
    assert!(shown > PRINT_SERVICES && shown < total, "{shown}");
    assert!(leaflet.body.contains("Services from Revoe Community Hub"));
    assert!(
        leaflet.body.contains(&format!(
            "And {} more: search online at <a href=\"{base}/hubs/{}\">",
            total - shown,
            hub.hub_id
        )),
        "{}",
        leaflet.body
    );
    assert!(!leaflet.body.contains("<script>alert"), "{}", leaflet.body);
    assert!(
        leaflet.body.contains(
            "aria-label=\"QR code: link to A&#60;script&#62;alert(1)&#60;/script&#62;\u{2019}s page\""
        ),
        "the hostile name is text in the code's label"
    );
    assert!(!page.body.contains("<script>alert"));
    for i in [1, shown - 1] {
        let phone = format!("01253 {:06}", 400_000 + i);
        assert!(leaflet.body.contains(&phone), "{phone} is printed");
    }

    // A bad search: the directory's status and its words, on both pages.
    for query in [
        format!(
            "q={}",
            "x".repeat(signpost_client::search::MAX_QUERY_CHARS + 1)
        ),
        "near=Nowhere%20At%20All".to_owned(),
    ] {
        let printed = get(&format!("{base}/print?{query}")).await;
        let searched = get(&format!("{base}/?{query}")).await;
        let said = items_of(&printed.body, "search-errors");
        assert!(!said.is_empty(), "{}", printed.body);
        assert_eq!(printed.status, searched.status, "{query}");
        let directory_said: Vec<String> = items_of(&searched.body, "search-errors")
            .iter()
            .map(|li| {
                // The directory links each error to its field.
                li.split('>')
                    .nth(1)
                    .and_then(|s| s.split("</a").next())
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        assert_eq!(said, directory_said, "{query}");
        assert_eq!(printed.body.matches("<svg").count(), 0);
    }
    let too_long = get(&format!("{base}/print?q={}", "y".repeat(5000))).await;
    assert_eq!(too_long.status, StatusCode::URI_TOO_LONG);

    // Hubs that are not there.
    for path in [
        "/hubs/ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/print".to_owned(),
        "/hubs/not-a-hub/print".to_owned(),
        format!("/hubs/{}x/print", hub.hub_id),
    ] {
        let page = get(&format!("{base}{path}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
    // A node without the directory has no leaflets.
    assert_eq!(
        get(&format!("{}/print", hub.node.url())).await.status,
        StatusCode::NOT_FOUND
    );
    agg.node.stop().await.expect("stop");
    hub.node.stop().await.expect("stop");
}
