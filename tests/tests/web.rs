//! The web pages end to end over real HTTP: the hub's admin page (sign-in,
//! session cookie, CSRF, forms that publish, import with preview), the
//! operator's registrations waiting for approval, and an
//! aggregator's public directory (search filters, places, hub and service
//! pages, the map's assets), and that hostile text is shown, never run.

use std::collections::BTreeSet;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use signpost_tests::{result_names, TestNode};

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";

/// A client that does not follow redirects, so cookies and 303s are seen.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("client")
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
}

async fn page(req: reqwest::RequestBuilder) -> Page {
    let resp = req.send().await.expect("request");
    Page {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp.text().await.expect("body"),
    }
}

async fn get(base: &str, path: &str) -> Page {
    page(browser().get(format!("{base}{path}"))).await
}

/// The value of a hidden input named `name` in a page.
fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in page"))
        + marker.len();
    body[start..].split('"').next().unwrap_or("").to_owned()
}

/// A signed-in admin page session.
struct Admin {
    base: String,
    cookie: String,
    csrf: String,
}

impl Admin {
    async fn sign_in(node: &TestNode) -> Admin {
        let base = node.node.url();
        let reply = page(
            browser()
                .post(format!("{base}/admin/sign-in"))
                .form(&[("token", node.token.as_str())]),
        )
        .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let cookie = reply
            .header("set-cookie")
            .split(';')
            .next()
            .unwrap_or("")
            .to_owned();
        let mut admin = Admin {
            base,
            cookie,
            csrf: String::new(),
        };
        let home = admin.get("/admin").await;
        admin.csrf = hidden(&home.body, "csrf");
        admin
    }

    async fn get(&self, path: &str) -> Page {
        page(
            browser()
                .get(format!("{}{path}", self.base))
                .header("cookie", &self.cookie),
        )
        .await
    }

    /// POSTs a form with this session's cookie and CSRF token.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        page(
            browser()
                .post(format!("{}{path}", self.base))
                .header("cookie", &self.cookie)
                .form(fields),
        )
        .await
    }

    async fn upload(&self, csrf: &str, file_name: &str, file: &str, replace: bool) -> Page {
        let boundary = "signpost-test-boundary-7d1f";
        let mut body = String::new();
        let mut part = |name: &str, extra: &str, value: &str| {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n{value}\r\n"
            ));
        };
        part("csrf", "", csrf);
        if replace {
            part("replace", "", "1");
        }
        part(
            "file",
            &format!("; filename=\"{file_name}\"\r\nContent-Type: text/csv"),
            file,
        );
        body.push_str(&format!("--{boundary}--\r\n"));
        page(
            browser()
                .post(format!("{}/admin/import", self.base))
                .header("cookie", &self.cookie)
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body),
        )
        .await
    }
}

async fn seq(node: &TestNode) -> u64 {
    node.verified_listing().await.listing.seq
}

fn assert_security_headers(p: &Page) {
    let csp = p.header("content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(p.header("x-content-type-options"), "nosniff");
    assert!(!p.header("referrer-policy").is_empty());
}

#[tokio::test]
async fn sign_in_cookie_and_csrf_guard_the_admin_page() {
    let hub = TestNode::start("At The Grange").await;
    let base = hub.node.url();
    let before = seq(&hub).await;

    let sign_in = get(&base, "/admin").await;
    assert_eq!(sign_in.status, StatusCode::OK);
    assert!(sign_in.body.contains("id=\"sign-in-form\""));
    assert!(sign_in.body.contains("<label for=\"token\">"));
    assert_security_headers(&sign_in);
    assert_eq!(sign_in.header("cache-control"), "no-store");

    // A wrong token: refused, no cookie, nothing changes.
    let wrong = page(
        browser()
            .post(format!("{base}/admin/sign-in"))
            .form(&[("token", "spt_not-the-token")]),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.headers.get("set-cookie").is_none());
    assert!(wrong.body.contains("id=\"token-error\""));
    assert_eq!(seq(&hub).await, before);

    // The right token: a session cookie with the right flags.
    let ok = page(
        browser()
            .post(format!("{base}/admin/sign-in"))
            .form(&[("token", hub.token.as_str())]),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.header("location"), "/admin");
    let cookie = ok.header("set-cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let behind_https = page(
        browser()
            .post(format!("{base}/admin/sign-in"))
            .header("x-forwarded-proto", "https")
            .form(&[("token", hub.token.as_str())]),
    )
    .await;
    assert!(behind_https.header("set-cookie").contains("; Secure"));

    let admin = Admin::sign_in(&hub).await;
    assert!(!admin.csrf.is_empty());
    let home = admin.get("/admin").await;
    assert!(home.body.contains("id=\"add-service\""));

    // Forms without the session's CSRF token, or from another site, or
    // without a session, are refused and change nothing.
    let form = [("name", "Sneaky service")];
    let missing = admin.post_raw("/admin/services", &form).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let wrong = admin
        .post_raw("/admin/services", &[("csrf", "forged"), ("name", "Sneaky")])
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let other = Admin::sign_in(&hub).await;
    let crossed = admin
        .post_raw(
            "/admin/services",
            &[("csrf", other.csrf.as_str()), ("name", "Sneaky")],
        )
        .await;
    assert_eq!(
        crossed.status,
        StatusCode::FORBIDDEN,
        "tokens are per session"
    );
    let cross_site = page(
        browser()
            .post(format!("{base}/admin/services"))
            .header("cookie", &admin.cookie)
            .header("sec-fetch-site", "cross-site")
            .form(&[("csrf", admin.csrf.as_str()), ("name", "Sneaky")]),
    )
    .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    let no_session = page(
        browser()
            .post(format!("{base}/admin/services"))
            .form(&[("csrf", admin.csrf.as_str()), ("name", "Sneaky")]),
    )
    .await;
    assert_eq!(no_session.status, StatusCode::FORBIDDEN);
    for path in ["/admin/profile", "/admin/import/confirm", "/admin/sign-out"] {
        let r = admin.post_raw(path, &[("csrf", "forged")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(seq(&hub).await, before);
    assert!(hub.verified_listing().await.listing.services.is_empty());

    // The bearer-token JSON API is unchanged.
    let api = hub.admin(Method::GET, "/services", None).await;
    assert_eq!(api.status, StatusCode::OK);
    assert_eq!(api.json()["services"], json!([]));

    // Signing out ends the session.
    let out = admin.post("/admin/sign-out", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    let after = admin.get("/admin").await;
    assert!(after.body.contains("id=\"sign-in-form\""));
    assert_eq!(
        admin.get("/admin/services/new").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn services_and_profile_edited_by_form_are_published() {
    let hub = TestNode::start("At The Grange").await;
    let admin = Admin::sign_in(&hub).await;
    let new_form = admin.get("/admin/services/new").await;
    assert_eq!(new_form.status, StatusCode::OK);
    for id in ["name", "sess0_opens", "loc0_postal_code", "contact0_name"] {
        assert!(
            new_form.body.contains(&format!("<label for=\"{id}\">")),
            "{id} has a label"
        );
    }

    // A mistake comes back next to its field, and nothing is published.
    let before = seq(&hub).await;
    let bad = admin
        .post(
            "/admin/services",
            &[
                ("name", "Food pantry"),
                ("sess0_days", "TU"),
                ("sess0_opens", "when we can"),
                ("loc0_latitude", "north"),
                ("email", "not-an-email"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("id=\"sess0_opens-error\""),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("id=\"loc0_latitude-error\""));
    assert!(
        bad.body.contains("value=\"Food pantry\""),
        "typed values are kept"
    );
    assert_eq!(seq(&hub).await, before);
    let bad_email = admin
        .post(
            "/admin/services",
            &[("name", "Food pantry"), ("email", "not-an-email")],
        )
        .await;
    assert_eq!(bad_email.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_email.body.contains("id=\"email-error\""));

    // A good one is in the signed listing.
    let added = admin
        .post(
            "/admin/services",
            &[
                ("name", "Food pantry"),
                ("description", "Low-cost groceries"),
                ("status", "active"),
                ("access", "walk-in"),
                ("access", "self-referral"),
                ("sess0_days", "TU"),
                ("sess0_days", "TH"),
                ("sess0_opens", "10:00"),
                ("sess0_closes", "13:00"),
                ("sess1_days", "SA"),
                ("sess1_opens", "10:00"),
                ("sess1_closes", "12:00"),
                ("phones", "01253 000000"),
                ("taxonomy", "Food; Cost of living"),
                ("loc0_name", "Main hall"),
                ("loc0_address_1", "Dinmore Avenue"),
                ("loc0_city", "Blackpool"),
                ("loc0_postal_code", "FY3 7RW"),
                ("loc0_latitude", "53.824"),
                ("loc0_longitude", "-3.0146"),
                ("contact0_name", "Sam"),
                ("contact0_title", "Coordinator"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let listing = hub.verified_listing().await.listing;
    assert!(listing.seq > before);
    let s = &listing.services[0];
    assert_eq!(s.name, "Food pantry");
    assert_eq!(s.schedules.len(), 2);
    assert_eq!(s.schedules[0].byday, "TU,TH");
    assert_eq!(s.access.len(), 2);
    assert_eq!(s.locations[0].latitude, Some(53.824));
    assert_eq!(s.contacts[0].title.as_deref(), Some("Coordinator"));
    let home = admin.get("/admin").await;
    assert!(home.body.contains("id=\"flash\""));
    assert!(home.body.contains("Tuesday, Thursday 10:00 to 13:00"));

    // Editing keeps the id; the form shows the stored values.
    let edit = admin.get(&format!("/admin/services/{}", s.id)).await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(edit
        .body
        .contains("id=\"sess0_days-TH\" name=\"sess0_days\" value=\"TH\" checked"));
    assert!(edit.body.contains("name=\"sess1_closes\" value=\"12:00\""));
    let loc_id = hidden(&edit.body, "loc0_id");
    assert_eq!(loc_id, s.locations[0].id);
    let saved = admin
        .post(
            &format!("/admin/services/{}", s.id),
            &[
                ("name", "Community pantry"),
                ("sess0_days", "TU"),
                ("sess0_days", "TH"),
                ("sess0_opens", "10:00"),
                ("sess0_closes", "13:00"),
                ("sess1_days", "SA"),
                ("sess1_opens", "10:00"),
                ("sess1_closes", "12:00"),
                ("loc0_id", loc_id.as_str()),
                ("loc0_name", "Main hall"),
                ("loc0_latitude", "53.824"),
                ("loc0_longitude", "-3.0146"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let after = hub.verified_listing().await.listing;
    assert_eq!(after.services[0].id, s.id);
    assert_eq!(after.services[0].name, "Community pantry");
    assert_eq!(after.services[0].locations[0].id, loc_id, "place kept");
    assert_eq!(after.services[0].schedules, s.schedules);

    // The profile.
    let profile = admin.get("/admin/profile").await;
    assert!(profile.body.contains("value=\"At The Grange\""));
    let saved = admin
        .post(
            "/admin/profile",
            &[
                ("name", "The Grange"),
                ("area_served", "Grange Park, Blackpool"),
                ("postal_code", "FY3 7RW"),
                ("timezone", "Europe/London"),
                ("space", "dedicated"),
                ("space", "pop-up"),
                ("governance", "partnership"),
                ("focus", "generic"),
                ("coordination", "first-level"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let hub_profile = hub.verified_listing().await.listing.hub;
    assert_eq!(hub_profile.name, "The Grange");
    assert_eq!(hub_profile.dimensions.space.len(), 2);
    let bad = admin
        .post(
            "/admin/profile",
            &[
                ("name", ""),
                ("timezone", "Mars/Base"),
                ("space", "dedicated"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"governance-error\""));

    // Removing asks first, then removes.
    let ask = admin.get(&format!("/admin/services/{}/delete", s.id)).await;
    assert!(ask.body.contains("id=\"confirm-delete\""));
    let gone = admin
        .post(&format!("/admin/services/{}/delete", s.id), &[])
        .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert!(hub.verified_listing().await.listing.services.is_empty());
    assert_eq!(
        admin.get("/admin/services/not-a-service").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_import_is_previewed_and_applied_only_on_confirm() {
    let hub = TestNode::start("Revoelution").await;
    for name in ["Job Club", "Warm space"] {
        let r = hub
            .admin(Method::POST, "/services", Some(json!({"name": name})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let admin = Admin::sign_in(&hub).await;
    let before = hub.verified_listing().await.listing;
    let csv = "name,description,opening_hours\n\
               Job Club,Help with CVs,\"TU 10:00-12:00\"\n\
               Food pantry,Low-cost groceries,\"TH 10:00-13:00\"\n";
    let forged = admin.upload("forged", "services.csv", csv, true).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let preview = admin.upload(&admin.csrf, "services.csv", csv, true).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let body = &preview.body;
    assert!(
        body.contains("1 to add, 1 to change, 1 to remove, 0 unchanged"),
        "{body}"
    );
    let section = |id: &str| {
        let start = body.find(&format!("id=\"{id}\"")).expect(id);
        body[start..].split("</ul>").next().unwrap_or("").to_owned()
    };
    assert!(section("import-added").contains("Food pantry"));
    assert!(section("import-updated").contains("Job Club"));
    assert!(section("import-removed").contains("Warm space"));
    // Nothing is applied yet.
    let unchanged = hub.verified_listing().await.listing;
    assert_eq!(unchanged.seq, before.seq);
    assert_eq!(unchanged.services, before.services);

    let import_id = hidden(body, "import_id");
    let wrong = admin
        .post("/admin/import/confirm", &[("import_id", "made-up")])
        .await;
    assert_eq!(wrong.status, StatusCode::CONFLICT);
    assert_eq!(hub.verified_listing().await.listing.seq, before.seq);
    let applied = admin
        .post(
            "/admin/import/confirm",
            &[("import_id", import_id.as_str())],
        )
        .await;
    assert_eq!(applied.status, StatusCode::SEE_OTHER, "{}", applied.body);
    let after = hub.verified_listing().await.listing;
    let mut names: Vec<&str> = after.services.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["Food pantry", "Job Club"]);
    let job = after
        .services
        .iter()
        .find(|s| s.name == "Job Club")
        .unwrap();
    assert_eq!(job.description.as_deref(), Some("Help with CVs"));
    let home = admin.get("/admin").await;
    assert!(home.body.contains("1 added, 1 changed, 1 removed"));
    // The same preview cannot be applied twice.
    let again = admin
        .post(
            "/admin/import/confirm",
            &[("import_id", import_id.as_str())],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // An Open Referral (HSDS) JSON file goes the same way.
    let hsds = r#"[{"name": "Youth club", "description": "Fridays for 11 to 16s",
                    "status": "active"}]"#;
    let preview = admin
        .upload(&admin.csrf, "services.json", hsds, false)
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview
        .body
        .contains("1 to add, 0 to change, 0 to remove, 0 unchanged"));
    let import_id = hidden(&preview.body, "import_id");
    let applied = admin
        .post(
            "/admin/import/confirm",
            &[("import_id", import_id.as_str())],
        )
        .await;
    assert_eq!(applied.status, StatusCode::SEE_OTHER);
    let after = hub.verified_listing().await.listing;
    assert_eq!(after.services.len(), 3);

    // A column we do not know is left out and listed, not a refusal.
    let noted = admin
        .upload(
            &admin.csrf,
            "noted.csv",
            "Service,Colour,Opening times\nCafe,red,Tues & Thurs 10-2\n",
            false,
        )
        .await;
    assert_eq!(noted.status, StatusCode::OK, "{}", noted.body);
    assert!(noted.body.contains("id=\"import-notes\""), "{}", noted.body);
    assert!(noted.body.contains("Colour"));

    // A bad file says where and changes nothing.
    let bad = admin
        .upload(&admin.csrf, "bad.csv", "colour,size\nred,big\n", false)
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"file-error\""));
    assert!(bad.body.contains("name"));
    assert_eq!(hub.verified_listing().await.listing.seq, after.seq);
}

/// Adds a service through the JSON admin API.
async fn add(hub: &TestNode, body: Value) {
    hub.add_service(body).await;
}

fn always_open() -> Value {
    json!([
        {"byday": "MO,TU,WE,TH,FR,SA,SU", "opens_at": "00:00", "closes_at": "23:59"},
        {"byday": "MO,TU,WE,TH,FR,SA,SU", "opens_at": "23:59", "closes_at": "00:00"}
    ])
}

#[tokio::test]
async fn the_directory_filters_by_words_category_place_and_open_now() {
    let grange = TestNode::start("At The Grange").await;
    let bay = TestNode::start("The Bay, Morecambe").await;
    add(
        &grange,
        json!({"name": "Food pantry", "description": "Low-cost groceries",
               "locations": [{"latitude": 53.8240, "longitude": -3.0146,
                              "address": {"address_1": "Dinmore Avenue", "city": "Blackpool", "postal_code": "FY3 7RW"}}],
               "schedules": always_open(), "access": ["walk-in"],
               "taxonomy_terms": [{"name": "Food"}]}),
    )
    .await;
    add(
        &grange,
        json!({"name": "Job Club", "description": "Help with CVs",
               "locations": [{"latitude": 53.8250, "longitude": -3.0150,
                              "address": {"city": "Blackpool", "postal_code": "FY3 7TN"}}],
               "taxonomy_terms": [{"name": "Employment"}]}),
    )
    .await;
    add(
        &bay,
        json!({"name": "Wellbeing walk", "description": "A gentle walk along the prom",
               "locations": [{"latitude": 54.0697, "longitude": -2.8625,
                              "address": {"city": "Morecambe", "postal_code": "LA4 4AA"}}],
               "schedules": always_open(),
               "taxonomy_terms": [{"name": "Wellbeing"}]}),
    )
    .await;
    let agg = TestNode::start_aggregator("Lancashire CVS", |_| {}).await;
    agg.add_source(&grange.node.url()).await;
    agg.add_source(&bay.node.url()).await;
    agg.crawl().await;
    let base = agg.node.url();

    let all = get(&base, "/").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_security_headers(&all);
    assert_eq!(
        result_names(&all.body),
        ["Food pantry", "Job Club", "Wellbeing walk"]
    );
    for field in ["q", "category", "near", "within_km", "open_now"] {
        assert!(
            all.body.contains(&format!("<label for=\"{field}\">")),
            "{field}"
        );
    }
    assert!(all
        .body
        .contains("<option value=\"Food\">Food (1)</option>"));

    let words = get(&base, "/?q=pantry").await;
    assert_eq!(result_names(&words.body), ["Food pantry"]);
    assert!(words.body.contains("Walk in during opening times"));
    assert!(
        words.body.contains("Updated by the hub"),
        "freshness is shown"
    );
    assert!(
        words.body.contains(">At The Grange</a>"),
        "the publishing hub"
    );

    let category = get(&base, "/?category=wellbeing").await;
    assert_eq!(result_names(&category.body), ["Wellbeing walk"]);

    // An exact postcode known in the store.
    let exact = get(&base, "/?near=fy3+7tn&within_km=5").await;
    assert_eq!(exact.status, StatusCode::OK);
    assert_eq!(result_names(&exact.body), ["Job Club", "Food pantry"]);
    assert!(exact.body.contains("postcode FY3 7TN"), "{}", exact.body);
    // An unknown postcode in a known district, a district, a town.
    let district = get(&base, "/?near=FY3+9ZZ").await;
    assert_eq!(result_names(&district.body).len(), 2);
    assert!(district.body.contains("the middle of the FY3 area"));
    let town = get(&base, "/?near=Morecambe&within_km=10").await;
    assert_eq!(result_names(&town.body), ["Wellbeing walk"]);
    let point = get(&base, "/?near=54.07,-2.86&within_km=2").await;
    assert_eq!(result_names(&point.body), ["Wellbeing walk"]);
    // A place nobody holds is said so, next to the field.
    let unknown = get(&base, "/?near=ZZ99+9ZZ").await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert!(unknown.body.contains("id=\"near-error\""));
    assert!(result_names(&unknown.body).is_empty());
    let bad = get(&base, "/?near=FY3&within_km=99999").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("id=\"within_km-error\""));

    let open = get(&base, "/?open_now=1").await;
    assert_eq!(result_names(&open.body), ["Food pantry", "Wellbeing walk"]);
    let combined = get(&base, "/?open_now=1&near=FY3+7RW&category=Food").await;
    assert_eq!(result_names(&combined.body), ["Food pantry"]);

    // Hubs and services have pages of their own.
    let hubs = get(&base, "/hubs").await;
    assert!(hubs.body.contains("At The Grange") && hubs.body.contains("The Bay, Morecambe"));
    let hub_page = get(&base, &format!("/hubs/{}", grange.hub_id)).await;
    assert_eq!(hub_page.status, StatusCode::OK);
    assert!(hub_page.body.contains("id=\"hub-health\""));
    assert!(hub_page.body.contains("Up to date"));
    assert!(hub_page.body.contains("the community (voluntary sector)"));
    let service_href = words
        .body
        .split("data-href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a service link")
        .to_owned();
    let service = get(&base, &service_href).await;
    assert_eq!(service.status, StatusCode::OK);
    assert!(service
        .body
        .contains("id=\"service-name\">Food pantry</h1>"));
    assert_eq!(
        get(&base, "/hubs/nobody").await.status,
        StatusCode::NOT_FOUND
    );

    // The hub's admin page knows the aggregator fetched its listing.
    let admin = Admin::sign_in(&grange).await;
    let home = admin.get("/admin").await;
    let fetched = home.body.split("id=\"last-fetched\">").nth(1).unwrap_or("");
    assert!(fetched.starts_with("Last "), "{fetched}");
    assert!(
        home.body.contains("has the latest listing"),
        "{}",
        home.body
    );
    // The page's script reads the same lines as JSON: signed in only,
    // never cached, and exactly what the page says.
    let lines = fetch_lines(&admin, &home).await;
    assert_eq!(lines["behind"], false);
    assert!(home.body.contains("aria-live=\"polite\""));
    assert!(home.body.contains("data-source=\"/admin/fetches\""));
    assert!(!home.body.contains("data-behind"));
    let script = home
        .body
        .split("<script src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the admin page's script");
    assert!(script.starts_with("/assets/admin.js?v="), "{script}");
    let js = get(&grange.node.url(), script).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.header("content-type").starts_with("text/javascript"));
    assert!(js.body.contains("data-source"));
    let base = grange.node.url();
    for (name, req) in [
        ("no cookie", browser().get(format!("{base}/admin/fetches"))),
        (
            "an unknown session",
            browser()
                .get(format!("{base}/admin/fetches"))
                .header("cookie", "signpost_admin=not-a-session"),
        ),
    ] {
        let refused = page(req).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{name}");
        assert_eq!(refused.header("cache-control"), "no-store", "{name}");
        assert!(
            !refused.body.contains("127.0.0.1"),
            "{name}: {}",
            refused.body
        );
        assert!(
            !refused.body.contains("listing"),
            "{name}: {}",
            refused.body
        );
    }
    // After a save it says the directory has not fetched it yet, until it
    // does (issue 20: people can see their edit arrive).
    add(
        &grange,
        json!({"name": "Coffee morning", "taxonomy_terms": [{"name": "Social"}]}),
    )
    .await;
    let home = admin.get("/admin").await;
    assert!(
        home.body.contains("has not fetched listing number"),
        "{}",
        home.body
    );
    assert!(home.body.contains("data-behind=\"1\""));
    let lines = fetch_lines(&admin, &home).await;
    assert_eq!(lines["behind"], true);
    agg.crawl().await;
    let home = admin.get("/admin").await;
    assert!(
        home.body.contains("has the latest listing"),
        "{}",
        home.body
    );
    let lines = fetch_lines(&admin, &home).await;
    assert_eq!(lines["behind"], false);
}

/// `GET /admin/fetches` for a signed-in admin, checked against the home
/// page `home` read just before: the same listing and directory lines.
async fn fetch_lines(admin: &Admin, home: &Page) -> Value {
    let reply = admin.get("/admin/fetches").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), "no-store");
    assert!(reply.header("content-type").starts_with("application/json"));
    assert!(reply.body.len() < 16 * 1024, "small: {}", reply.body.len());
    let lines: Value = serde_json::from_str(&reply.body).expect("JSON");
    let listing = lines["listing"].as_str().expect("listing");
    assert!(
        home.body
            .contains(&format!("<dd id=\"published\">{listing}</dd>")),
        "{listing}"
    );
    let fetched = lines["fetched"].as_str().expect("fetched");
    assert!(
        home.body
            .contains(&format!("<dd id=\"last-fetched\">{fetched}</dd>")),
        "{fetched}"
    );
    let directories = lines["directories"].as_array().expect("directories");
    assert!(!directories.is_empty());
    assert_eq!(
        home.body.matches("data-address=").count(),
        directories.len(),
        "one line per directory"
    );
    for d in directories {
        let line = d["line"].as_str().expect("line");
        let address = d["address"].as_str().expect("address");
        let latest = d["latest"].as_bool().expect("latest");
        assert!(
            home.body.contains(&format!(
                "<dd data-address=\"{address}\" data-latest=\"{latest}\">{line}</dd>"
            )),
            "{line} not in {}",
            home.body
        );
        assert_eq!(line.contains("has the latest listing"), latest, "{line}");
    }
    lines
}

#[tokio::test]
async fn script_injection_is_shown_as_text_on_every_page() {
    let evil = format!("Hub {SCRIPT} {IMG}");
    let hub = TestNode::start("Grange").await;
    let r = hub
        .admin(
            Method::PATCH,
            "/hub",
            Some(json!({"name": evil, "description": evil})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    add(
        &hub,
        json!({"name": format!("Pantry {SCRIPT}"), "description": format!("Food {IMG} {SCRIPT}"),
               "application_process": IMG, "eligibility_description": SCRIPT,
               "locations": [{"name": IMG, "latitude": 53.8, "longitude": -3.0,
                              "address": {"city": SCRIPT, "postal_code": "FY3 7TN"}}],
               "contacts": [{"name": SCRIPT, "title": IMG}],
               "phones": [{"number": IMG}],
               "schedules": [{"byday": "MO", "opens_at": "09:00", "closes_at": "10:00", "description": SCRIPT}],
               "taxonomy_terms": [{"name": IMG}]}),
    )
    .await;
    let agg = TestNode::start_aggregator("Directory", |_| {}).await;
    agg.add_source(&hub.node.url()).await;
    agg.crawl().await;
    let base = agg.node.url();
    let first = get(&base, "/?q=pantry").await;
    let service_href = first
        .body
        .split("data-href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a service link")
        .to_owned();
    let query = format!(
        "/?q={}&near={}&category={}",
        urlencode(SCRIPT),
        urlencode(IMG),
        urlencode(IMG)
    );
    let mut pages = Vec::new();
    for path in [
        "/?q=pantry".to_owned(),
        format!("/?category={}", urlencode(IMG)),
        query,
        "/hubs".to_owned(),
        format!("/hubs/{}", hub.hub_id),
        service_href,
    ] {
        pages.push((path.clone(), get(&base, &path).await));
    }
    let admin = Admin::sign_in(&hub).await;
    let id = hub.verified_listing().await.listing.services[0].id.clone();
    for path in [
        "/admin".to_owned(),
        "/admin/profile".to_owned(),
        format!("/admin/services/{id}"),
        format!("/admin/services/{id}/delete"),
    ] {
        pages.push((path.clone(), admin.get(&path).await));
    }
    // And a form sent back with a mistake shows the typed text escaped.
    let bounced = admin
        .post(
            "/admin/services",
            &[
                ("name", SCRIPT),
                ("sess0_opens", IMG),
                ("loc0_latitude", SCRIPT),
            ],
        )
        .await;
    assert_eq!(bounced.status, StatusCode::UNPROCESSABLE_ENTITY);
    pages.push(("bounced form".to_owned(), bounced));
    for (path, p) in &pages {
        assert!(
            p.status.is_success()
                || p.status == StatusCode::UNPROCESSABLE_ENTITY
                || p.status == StatusCode::BAD_REQUEST,
            "{path}: {}",
            p.status
        );
        assert!(
            !p.body.contains("<script>alert"),
            "{path} runs a script:\n{}",
            p.body
        );
        assert!(
            !p.body.contains("<img src=x"),
            "{path} injects an element:\n{}",
            p.body
        );
        assert!(!p.body.contains(IMG), "{path} breaks out of an attribute");
        assert!(
            ["&lt;script&gt;", "&#60;script&#62;", "&lt;img", "&#60;img"]
                .iter()
                .any(|escaped| p.body.contains(escaped)),
            "{path} shows the text escaped:\n{}",
            p.body
        );
        // The only scripts are the node's own files.
        for tag in p.body.split("<script").skip(1) {
            assert!(
                tag.trim_start().starts_with("src=\"/assets/"),
                "{path}: {tag}"
            );
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn the_page_works_when_map_tiles_cannot_load() {
    let hub = TestNode::start("Grange").await;
    add(
        &hub,
        json!({"name": "Food pantry", "locations": [{"latitude": 53.8, "longitude": -3.0}]}),
    )
    .await;
    let agg = TestNode::start_aggregator("Directory", |c| {
        c.web.tile_url = "http://127.0.0.1:9/{z}/{x}/{y}.png".into();
    })
    .await;
    agg.add_source(&hub.node.url()).await;
    agg.crawl().await;
    let base = agg.node.url();
    let p = get(&base, "/").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p
        .body
        .contains("data-tiles=\"http://127.0.0.1:9/{z}/{x}/{y}.png\""));
    assert!(p
        .header("content-security-policy")
        .contains("img-src 'self' data: http://127.0.0.1:9"));
    assert_eq!(
        result_names(&p.body),
        ["Food pantry"],
        "the list needs no map"
    );
    assert!(p.body.contains("data-lat=\"53.8\""));
    // The map's code is served by the node itself, cacheable.
    for (path, kind) in [
        ("/assets/leaflet/leaflet.js", "text/javascript"),
        ("/assets/leaflet/leaflet.css", "text/css"),
        ("/assets/leaflet/images/marker-icon.png", "image/png"),
        ("/assets/directory.js", "text/javascript"),
        ("/assets/site.css", "text/css"),
        ("/assets/leaflet/LICENSE", "text/plain"),
    ] {
        let a = get(&base, path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert!(a.header("content-type").starts_with(kind), "{path}");
        assert!(a.header("cache-control").contains("max-age=31536000"));
    }
    assert_eq!(
        get(&base, "/assets/nothing.js").await.status,
        StatusCode::NOT_FOUND
    );
    // An address with nothing at it: a page for a browser, with the pages'
    // headers; the API's JSON for any other client.
    let lost = page(
        browser()
            .get(format!("{base}/no/such/page"))
            .header("accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"),
    )
    .await;
    assert_eq!(lost.status, StatusCode::NOT_FOUND);
    assert!(lost.header("content-type").starts_with("text/html"));
    assert!(
        lost.body.contains("<h1>Page not found</h1>"),
        "{}",
        lost.body
    );
    assert!(lost
        .header("content-security-policy")
        .contains("frame-ancestors 'none'"));
    let json = get(&base, "/no/such/page").await;
    assert_eq!(json.status, StatusCode::NOT_FOUND);
    assert!(json.header("content-type").starts_with("application/json"));
    assert!(json.body.contains("not_found"), "{}", json.body);

    // No map at all is fine too.
    let plain = TestNode::start_aggregator("Plain", |c| c.web.tile_url = String::new()).await;
    let p = get(&plain.node.url(), "/").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(!p.body.contains("id=\"map\""));
    assert!(!p.body.contains("leaflet.js"));
}

/// The value of the first hidden input named `name` after `marker`.
fn hidden_after(body: &str, marker: &str, name: &str) -> String {
    let from = body
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in page"));
    hidden(&body[from..], name)
}

#[tokio::test]
async fn the_coordinator_page_shows_the_reports_and_only_a_signed_in_coordinator_dismisses() {
    let evil_name = format!("Debt advice {SCRIPT}");
    let north = TestNode::start("North hub").await;
    let south = TestNode::start("South hub").await;
    for (hub, lat) in [(&north, 54.05), (&south, 54.0501)] {
        add(
            hub,
            json!({"name": evil_name, "phones": [{"number": "01632 960400"}],
                   "locations": [{"latitude": lat, "longitude": -2.80}],
                   "schedules": [{"byday": "MO", "opens_at": "10:00", "closes_at": "12:30"}],
                   "taxonomy_terms": [{"name": "Advice"}]}),
        )
        .await;
    }
    // Youth work far away from the advice: a gap in the grid.
    add(
        &south,
        json!({"name": "Youth club", "locations": [{"latitude": 53.55, "longitude": -2.80}],
               "taxonomy_terms": [{"name": "Youth"}]}),
    )
    .await;
    // A directory only (no hub role): the admin token signs in to reports.
    let agg = TestNode::start_aggregator("Bay directory", |c| c.hub.enabled = false).await;
    for hub in [&north, &south] {
        agg.add_source(&hub.node.url()).await;
    }
    agg.crawl().await;
    let base = agg.node.url();

    let front = get(&base, "/").await;
    assert!(
        front.body.contains("href=\"/reports\""),
        "linked from the header"
    );
    let public = get(&base, "/reports").await;
    assert_eq!(public.status, StatusCode::OK);
    assert_security_headers(&public);
    let body = &public.body;
    assert!(body.contains("Probable duplicates (1)"), "{body}");
    assert!(!body.contains(SCRIPT), "escaped");
    assert!(
        body.contains("Debt advice &lt;script&gt;")
            || body.contains("Debt advice &#60;script&#62;"),
        "shown as text"
    );
    assert!(body.contains("same phone number"));
    assert!(!body.contains("not-duplicate"), "no forms for the public");
    assert!(body.contains("id=\"coordinator-sign-in\""));
    // Coverage: Monday's 2.5 hours twice is 5 h; the youth club's square
    // is a gap in advice.
    assert!(body.contains("<td class=\"hours\">5 h</td>"), "{body}");
    assert!(body.contains("Around 53.5"), "{body}");
    assert!(body.contains("/v1/reports/freshness?format=csv"));
    assert!(body.contains("data-source=\"/v1/reports/coverage/map?term=Advice"));
    let script = get(&base, "/assets/reports.js").await;
    assert_eq!(script.status, StatusCode::OK);

    // Signing in leads back to the reports.
    let sign_in = get(&base, "/admin/reports").await;
    assert!(sign_in.body.contains("id=\"sign-in-form\""));
    assert_eq!(hidden(&sign_in.body, "next"), "/admin/reports");
    let wrong = page(
        browser()
            .post(format!("{base}/admin/sign-in"))
            .form(&[("token", "nope"), ("next", "/admin/reports")]),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong.body.contains("directory&#39;s admin token"),
        "{}",
        wrong.body
    );
    let reply = page(browser().post(format!("{base}/admin/sign-in")).form(&[
        ("token", agg.token.as_str()),
        ("next", "https://elsewhere.example/"),
    ]))
    .await;
    assert_eq!(reply.header("location"), "/admin", "no open redirect");
    let cookie = reply
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap_or("")
        .to_owned();
    let admin = Admin {
        base: base.clone(),
        cookie,
        csrf: String::new(),
    };
    assert_eq!(
        admin.get("/admin").await.header("location"),
        "/admin/reports"
    );
    let signed_in = admin.get("/admin/reports").await;
    assert_eq!(signed_in.status, StatusCode::OK);
    assert_eq!(signed_in.header("cache-control"), "no-store");
    let csrf = hidden(&signed_in.body, "csrf");
    let field = |name: &str| hidden_after(&signed_in.body, "class=\"not-duplicate\"", name);
    let pair = [
        ("a_hub", field("a_hub")),
        ("a_service", field("a_service")),
        ("b_hub", field("b_hub")),
        ("b_service", field("b_service")),
    ];
    let fields: Vec<(&str, &str)> = pair.iter().map(|(k, v)| (*k, v.as_str())).collect();

    // A forged token, or no session, changes nothing.
    let mut forged = vec![("csrf", "forged")];
    forged.extend_from_slice(&fields);
    let refused = admin
        .post_raw("/admin/reports/not-duplicate", &forged)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let mut with_csrf = vec![("csrf", csrf.as_str())];
    with_csrf.extend_from_slice(&fields);
    let anonymous = page(
        browser()
            .post(format!("{base}/admin/reports/not-duplicate"))
            .form(&with_csrf),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::FORBIDDEN);
    assert_eq!(
        agg.get_json("/v1/reports/duplicates").await["total"],
        1,
        "still reported"
    );

    let done = admin
        .post_raw("/admin/reports/not-duplicate", &with_csrf)
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.header("location"), "/admin/reports");
    let after = admin.get("/admin/reports").await;
    assert!(after.body.contains("id=\"flash\""));
    assert!(after.body.contains("Probable duplicates (0)"));
    assert_eq!(agg.get_json("/v1/reports/duplicates").await["total"], 0);
    agg.crawl().await;
    assert!(get(&base, "/reports")
        .await
        .body
        .contains("Probable duplicates (0)"));
}

/// Sends a registration's Approve or Reject form (`action`) as the page
/// does; gives the page the redirect after it leads to, with its status
/// message.
async fn decide(admin: &Admin, action: &str, url: &str) -> Page {
    let path = format!("/admin/registrations/{action}");
    let reply = admin.post(&path, &[("url", url)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.header("location"), "/admin/registrations");
    let after = admin.get("/admin/registrations").await;
    assert!(after.body.contains("id=\"flash\""), "{}", after.body);
    after
}

/// The row of the registered sources' table naming `url`.
fn registered_row<'a>(body: &'a str, url: &str) -> &'a str {
    body.split("<tr class=\"registered\">")
        .skip(1)
        .map(|rest| rest.split("</tr>").next().unwrap_or(rest))
        .find(|row| row.contains(url))
        .unwrap_or_else(|| panic!("no registered source {url} in {body}"))
}

/// How many registrations the JSON admin API says wait.
async fn waiting(agg: &TestNode) -> usize {
    let pending = agg.admin(Method::GET, "/registrations", None).await.json();
    pending["pending"].as_array().map_or(0, Vec::len)
}

/// Registration by approval (issue 15) through the operator's page: hubs
/// that register wait on `/admin/registrations` (linked with the count),
/// an Approve form makes one a source the next crawl holds, a Reject form
/// forgets the other, and neither form works without the session and its
/// CSRF token. The approved source then shows how many services its hub
/// holds (issue 15: the operator sees what each registrant holds).
#[tokio::test]
async fn the_registrations_page_approves_and_rejects_hubs_waiting_for_the_operator() {
    let agg = TestNode::start_aggregator("Careful CVS", |c| {
        c.aggregator.registration = signpost_node::config::Registration::Approval;
    })
    .await;
    let base = agg.node.url();
    let hubs = signpost_tests::fake_hub::hubs_serving(2, 70, |i| {
        signpost_tests::listings::food_banks(i, 3)
    })
    .await;
    let (kept, refused) = (&hubs[0], &hubs[1]);

    // Signed out, the page is the sign-in form leading back to it.
    let sign_in = get(&base, "/admin/registrations").await;
    assert!(sign_in.body.contains("id=\"sign-in-form\""));
    assert_eq!(hidden(&sign_in.body, "next"), "/admin/registrations");

    let mut hub_ids = Vec::new();
    for hub in [kept, refused] {
        let reply = agg
            .post_json("/v1/register", json!({ "url": hub.url() }))
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.json());
        hub_ids.push(reply.json()["hub_id"].as_str().expect("hub id").to_owned());
    }

    let admin = Admin::sign_in(&agg).await;
    let home = admin.get("/admin").await;
    assert!(
        home.body.contains("id=\"registrations-link\""),
        "{}",
        home.body
    );
    assert!(home.body.contains("Registrations waiting: 2"));
    let reports = admin.get("/admin/reports").await;
    assert!(
        reports.body.contains("Registrations waiting: 2"),
        "linked from the reports too"
    );

    let list = admin.get("/admin/registrations").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.header("cache-control"), "no-store");
    assert_security_headers(&list);
    assert!(list.body.contains("<caption>"), "{}", list.body);
    assert!(list.body.contains("Registrations waiting (2)"));
    for (hub, id) in [kept, refused].into_iter().zip(&hub_ids) {
        assert!(list.body.contains(&hub.listing_url()), "{}", list.body);
        assert!(list.body.contains(id.as_str()), "the hub's id is shown");
    }
    assert!(list.body.contains("<code>127.0.0.1</code>"), "who asked");
    assert!(
        list.body.contains("id=\"no-registered\""),
        "none taken on yet"
    );
    // The forms carry the session's CSRF token, scraped as a browser sends it.
    let csrf = hidden_after(&list.body, "class=\"inline approve\"", "csrf");
    assert_eq!(csrf, admin.csrf);
    let kept_url = kept.listing_url();
    let refused_url = refused.listing_url();

    // A forged token, or no session, decides nothing.
    let forged = admin
        .post_raw(
            "/admin/registrations/approve",
            &[("csrf", "forged"), ("url", kept_url.as_str())],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let anonymous = page(
        browser()
            .post(format!("{base}/admin/registrations/reject"))
            .form(&[("csrf", csrf.as_str()), ("url", refused_url.as_str())]),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::FORBIDDEN);
    assert_eq!(waiting(&agg).await, 2, "nothing decided");

    // Approve: redirect after post, a status message, and the next crawl
    // holds the hub.
    let after = decide(&admin, "approve", &kept_url).await;
    assert!(after.body.contains("Approved"), "{}", after.body);
    assert!(after.body.contains("Registrations waiting (1)"));
    assert!(!after.body.contains(&format!("value=\"{kept_url}\"")));
    let crawled = agg.crawl_source(&kept_url).await;
    assert_eq!(crawled["outcome"], "accepted", "{crawled}");
    assert_eq!(
        agg.get(&format!("/v1/hubs/{}", hub_ids[0])).await.status,
        StatusCode::OK,
        "held after approval"
    );

    // The page shows the registered source with the services its hub
    // holds: the count the aggregator holds for it, in a table with a
    // header cell for each column.
    let held = agg.get_json(&format!("/v1/hubs/{}", hub_ids[0])).await;
    assert_eq!(held["services"], 3, "{held}");
    let after_crawl = admin.get("/admin/registrations").await;
    assert!(after_crawl.body.contains("Registered sources (1)"));
    assert!(after_crawl
        .body
        .contains("<th scope=\"col\">Services held</th>"));
    let row = registered_row(&after_crawl.body, &kept_url);
    assert!(row.contains("<td class=\"services\">3</td>"), "{row}");
    assert!(row.contains(hub_ids[0].as_str()), "{row}");
    assert!(row.contains("<code>127.0.0.1</code>"), "who asked: {row}");
    assert!(
        row.contains(" KiB</td>") || row.contains(" bytes</td>"),
        "{row}"
    );

    // Reject: gone from the page, the queue and the sources; never held.
    let after = decide(&admin, "reject", &refused_url).await;
    assert!(after.body.contains("Rejected"), "{}", after.body);
    assert!(after.body.contains("id=\"no-registrations\""));
    assert!(!after.body.contains(&format!("value=\"{refused_url}\"")));
    assert_eq!(waiting(&agg).await, 0);
    let sources = agg.admin(Method::GET, "/sources", None).await.json();
    assert!(!sources.to_string().contains(&refused_url), "{sources}");
    agg.crawl().await;
    assert_eq!(
        agg.get(&format!("/v1/hubs/{}", hub_ids[1])).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(admin
        .get("/admin")
        .await
        .body
        .contains("Registrations waiting: 0"));

    // A form sent twice (or after the request lapsed) says so.
    let again = admin
        .post(
            "/admin/registrations/reject",
            &[("url", refused_url.as_str())],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.body.contains("Nothing waits at that address"));
}

/// One place finder (issue 14, item 4): the Open Referral
/// `postcode`/`proximity` filter and the directory page's `near=POSTCODE`
/// measure from the same centre, the middle of every place held at the
/// postcode: services' locations, whatever spelling they were published
/// in, and a hub's own address (which the API used to leave out).
#[tokio::test]
async fn the_api_and_the_pages_find_a_postcode_at_the_same_centre() {
    let hub = TestNode::start("Revoe hub").await;
    let service = |name: &str, lat: f64, postcode: Option<&str>| {
        let mut location = json!({"name": name, "latitude": lat, "longitude": -3.04});
        if let Some(p) = postcode {
            location["address"] = json!({"city": "Blackpool", "postal_code": p});
        }
        json!({"name": name, "description": "A place to meet", "locations": [location]})
    };
    // Held at FY1 6JH: two locations (spelled two ways) and the hub itself;
    // their middle is 53.82. Without the hub it would be 53.80.
    add(&hub, service("North", 53.81, Some("FY1 6JH"))).await;
    add(&hub, service("South", 53.79, Some("fy16jh"))).await;
    let profile = json!({"latitude": 53.86, "longitude": -3.04,
                         "address": {"city": "Blackpool", "postal_code": "FY1 6JH"}});
    let profile = hub.admin(Method::PUT, "/hub", Some(profile)).await;
    assert_eq!(profile.status, StatusCode::OK);
    add(&hub, service("At the middle", 53.82, None)).await;
    add(&hub, service("Locations only", 53.80, None)).await;
    let agg = TestNode::start_aggregator("Fylde CVS", |_| {}).await;
    agg.add_source(&hub.node.url()).await;
    agg.crawl().await;
    let base = agg.node.url();

    for (metres, expected) in [
        (500, vec!["At the middle"]),
        (1500, vec!["At the middle", "North"]),
    ] {
        let api = agg
            .get_json(&format!(
                "/hsds/service_at_locations?postcode=fy1+6jh&proximity={metres}"
            ))
            .await;
        let api: BTreeSet<String> = api["contents"]
            .as_array()
            .expect("contents")
            .iter()
            .filter_map(|s| s["location"]["name"].as_str().map(str::to_owned))
            .collect();
        let km = f64::from(metres) / 1000.0;
        let page = get(&base, &format!("/?near=FY1+6JH&within_km={km}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("postcode FY1 6JH"), "{}", page.body);
        let expected: BTreeSet<String> = expected.into_iter().map(str::to_owned).collect();
        assert_eq!(api, expected, "the API within {metres} m");
        let shown: BTreeSet<String> = result_names(&page.body).into_iter().collect();
        assert_eq!(shown, expected, "the page within {metres} m");
    }
}

/// The form fields of one session row (days ticked, opens, closes).
fn session_row<'a>(
    i: usize,
    days: &[&'a str],
    opens: &'a str,
    closes: &'a str,
) -> Vec<(String, &'a str)> {
    let mut out: Vec<(String, &str)> = days.iter().map(|d| (format!("sess{i}_days"), *d)).collect();
    out.push((format!("sess{i}_opens"), opens));
    out.push((format!("sess{i}_closes"), closes));
    out
}

fn pairs<'a>(owned: &'a [(String, &'static str)]) -> Vec<(&'a str, &'static str)> {
    owned.iter().map(|(k, v)| (k.as_str(), *v)).collect()
}

#[tokio::test]
async fn opening_times_are_entered_with_day_boxes_and_time_fields() {
    let hub = TestNode::start("Revoelution").await;
    let admin = Admin::sign_in(&hub).await;

    // Accessible rows: a fieldset and legend per session, labelled boxes
    // and time fields, two empty rows to start, and the no-JS button.
    let blank = admin.get("/admin/services/new").await;
    let body = &blank.body;
    assert!(body.contains("<fieldset class=\"session\" id=\"sess0\">\n<legend>Session 1"));
    assert!(body.contains("<label for=\"sess0_days-MO\">Monday</label>"));
    assert!(body.contains("<label for=\"sess1_opens\">Opens</label>"));
    assert!(body.contains("type=\"time\" id=\"sess1_closes\""));
    assert!(!body.contains("id=\"sess2_opens\""), "two rows to start");
    assert!(body.contains("name=\"more_sessions\""));

    // "Add another session" without JavaScript: the form comes back with
    // one more row and everything typed, and nothing is published.
    let before = seq(&hub).await;
    let mut typed = vec![
        ("name".to_owned(), "Job Club"),
        ("sessions".to_owned(), "2"),
    ];
    typed.extend(session_row(0, &["TU", "TH"], "10:00", "12:00"));
    typed.extend(session_row(1, &["SA"], "09:30", "11:00"));
    let mut more = typed.clone();
    more.push(("more_sessions".to_owned(), "1"));
    let again = admin.post("/admin/services", &pairs(&more)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let body = &again.body;
    assert!(body.contains("id=\"sess2_opens\""), "a third row");
    assert!(!body.contains("id=\"sess3_opens\""));
    assert!(body.contains("value=\"Job Club\""));
    assert!(body.contains("id=\"sess0_days-TH\" name=\"sess0_days\" value=\"TH\" checked"));
    assert!(body.contains("name=\"sess1_opens\" value=\"09:30\""));
    assert!(body.contains("name=\"sessions\" value=\"3\""));
    assert!(body.contains("id=\"session-added\""));
    assert_eq!(seq(&hub).await, before, "nothing saved");

    // Closing before opening is told next to the field and in the summary;
    // times with no day ticked likewise.
    let mut wrong = vec![("name".to_owned(), "Job Club")];
    wrong.extend(session_row(0, &["MO"], "17:00", "09:00"));
    wrong.extend(session_row(1, &[], "10:00", "11:00"));
    let bad = admin.post("/admin/services", &pairs(&wrong)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("id=\"sess0_closes-error\""),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("<a href=\"#sess0_closes\">"));
    assert!(bad.body.contains("id=\"sess1_days-error\""));
    assert!(bad.body.contains("<a href=\"#sess1_days\">"));
    assert_eq!(seq(&hub).await, before);

    // Two sessions saved reach the signed listing.
    let saved = admin.post("/admin/services", &pairs(&typed)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let listing = hub.verified_listing().await.listing;
    let s = &listing.services[0];
    let got: Vec<(&str, &str, &str)> = s
        .schedules
        .iter()
        .map(|x| (x.byday.as_str(), x.opens_at.as_str(), x.closes_at.as_str()))
        .collect();
    assert_eq!(got, [("TU,TH", "10:00", "12:00"), ("SA", "09:30", "11:00")]);

    // A service whose schedules the rows cannot all show: the dated one is
    // listed as kept, the others fill rows, and saving untouched changes
    // nothing about them.
    let r = hub
        .admin(
            Method::POST,
            "/services",
            Some(json!({"name": "Homework club", "schedules": [
                {"byday": "WE,MO", "opens_at": "15:30", "closes_at": "17:00"},
                {"byday": "FR", "opens_at": "15:30", "closes_at": "17:00",
                 "valid_from": "2025-09-01", "valid_to": "2026-07-17", "description": "Term time only"},
                {"byday": "SA", "opens_at": "22:00", "closes_at": "01:00"}
            ]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let listing = hub.verified_listing().await.listing;
    let club = listing
        .services
        .iter()
        .find(|s| s.name == "Homework club")
        .unwrap()
        .clone();
    let edit = admin.get(&format!("/admin/services/{}", club.id)).await;
    let body = &edit.body;
    assert!(body.contains("id=\"kept-schedules\""), "{body}");
    assert!(body.contains("Term time only"));
    assert!(body.contains("id=\"sess0_days-WE\" name=\"sess0_days\" value=\"WE\" checked"));
    assert!(body.contains("id=\"sess1_overnight\" name=\"sess1_overnight\" value=\"1\" checked"));
    let mut untouched = vec![
        ("name".to_owned(), "Homework club"),
        ("status".to_owned(), "active"),
        ("sessions".to_owned(), "4"),
        ("sess1_overnight".to_owned(), "1"),
    ];
    untouched.extend(session_row(0, &["MO", "WE"], "15:30", "17:00"));
    untouched.extend(session_row(1, &["SA"], "22:00", "01:00"));
    let saved = admin
        .post(&format!("/admin/services/{}", club.id), &pairs(&untouched))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let after = hub.verified_listing().await.listing;
    let club_after = after.services.iter().find(|s| s.id == club.id).unwrap();
    assert_eq!(club_after.schedules, club.schedules, "kept exactly");
}

impl Admin {
    /// Uploads file bytes to the import page.
    async fn upload_bytes(&self, file_name: &str, file: &[u8]) -> Page {
        let boundary = "signpost-test-boundary-9c2e";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n",
                self.csrf
            )
            .as_bytes(),
        );
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        page(
            browser()
                .post(format!("{}/admin/import", self.base))
                .header("cookie", &self.cookie)
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body),
        )
        .await
    }
}

/// The option selected in the select named `name`.
fn selected(body: &str, name: &str) -> String {
    let start = body
        .find(&format!("<select id=\"{name}\""))
        .unwrap_or_else(|| panic!("no select {name}"));
    let select = body[start..].split("</select>").next().unwrap_or("");
    select
        .split("<option ")
        .find(|o| o.contains(" selected>"))
        .and_then(|o| o.strip_prefix("value=\""))
        .and_then(|o| o.split('"').next())
        .unwrap_or("(none)")
        .to_owned()
}

#[tokio::test]
async fn the_volunteer_chooses_what_each_column_holds_and_it_is_remembered() {
    let hub = TestNode::start("Revoelution").await;
    let admin = Admin::sign_in(&hub).await;
    let fixture = signpost_tests::spreadsheets::unknown_phone_column();
    let before = seq(&hub).await;

    // The mapping step: each column with the field it is read as; the
    // unknown one is left out.
    let preview = admin.upload_bytes(fixture.name, &fixture.bytes).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let body = &preview.body;
    assert!(body.contains("id=\"column-mapping\""), "{body}");
    assert!(body.contains("<label for=\"col1\">Mobile</label>"));
    assert_eq!(selected(body, "col0"), "name");
    assert_eq!(selected(body, "col1"), "");
    assert_eq!(selected(body, "col2"), "opening_hours");
    assert!(!body.contains("id=\"columns-remembered\""));
    let import_id = hidden(body, "import_id");

    // A choice that reads no name is told, and changes nothing.
    let nameless = admin
        .post(
            "/admin/import/columns",
            &[
                ("import_id", import_id.as_str()),
                ("col0", ""),
                ("col1", "phone"),
            ],
        )
        .await;
    assert_eq!(nameless.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        nameless.body.contains("id=\"col0-error\""),
        "{}",
        nameless.body
    );

    // "Preview again" with Mobile read as the phone field.
    let again = admin
        .post(
            "/admin/import/columns",
            &[
                ("import_id", import_id.as_str()),
                ("col0", "name"),
                ("col1", "phone"),
                ("col2", "opening_hours"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(selected(&again.body, "col1"), "phone");
    assert!(again.body.contains("1 to add, 0 to change, 0 to remove"));
    assert_eq!(seq(&hub).await, before, "nothing until confirmed");
    // The first preview's id no longer applies; the new one does.
    let new_id = hidden(
        &again.body[again.body.find("confirm-import-form").unwrap()..],
        "import_id",
    );
    let applied = admin
        .post("/admin/import/confirm", &[("import_id", new_id.as_str())])
        .await;
    assert_eq!(applied.status, StatusCode::SEE_OTHER, "{}", applied.body);
    let listing = hub.verified_listing().await.listing;
    let s = &listing.services[0];
    assert_eq!(s.name, "Baby bank");
    assert_eq!(s.phones[0].number, "07700 900123");
    assert_eq!(s.schedules[0].byday, "MO,TU,WE,TH,FR,SA");

    // The same layout next time: the choice is remembered and selected,
    // and the preview uses it.
    let next = "Service;Mobile;Opening times\r\nBaby bank;07700 900999;Mon-Sat 9-5\r\n";
    let preview = admin.upload_bytes("march.csv", next.as_bytes()).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("id=\"columns-remembered\""));
    assert_eq!(selected(&preview.body, "col1"), "phone");
    assert!(
        preview.body.contains("0 to add, 1 to change"),
        "{}",
        preview.body
    );
    // Another layout is not touched by it.
    let other = admin
        .upload_bytes("other.csv", b"Service;Mobile\r\nCafe;07700 900000\r\n")
        .await;
    assert_eq!(selected(&other.body, "col1"), "");
    assert!(!other.body.contains("id=\"columns-remembered\""));
}
