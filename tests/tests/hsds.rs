//! Open Referral UK interoperability: a real aggregator crawling scripted
//! hubs serves `/hsds/`, and every object it serves, every object the
//! client's `hsds-json` export writes, and the export of every vendored
//! ORUK example after import, is validated against the vendored compiled
//! schemas of both ORUK 3.0 and HSDS 3.0. The vendored ORUK examples are
//! also round-tripped (import, then export) field by field.
//!
//! The schemas live outside the repository, in `../shared/vendor/` beside
//! the workspace root; when that folder is absent these tests say so
//! loudly and pass without checking.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use jsonschema::{Registry, Validator};
use reqwest::StatusCode;
use serde_json::{json, Value};
use signpost_client::hsds::map;
use signpost_node::import::hsds::parse;
use signpost_spec::{HubKey, HubProfile, Limits, Organization, Service};
use signpost_tests::fake_hub::{FakeHub, Script};
use signpost_tests::listings::{key, listing, signed};
use signpost_tests::TestNode;

// ---------------------------------------------------------------------
// The vendored schemas.

fn vendor() -> Option<PathBuf> {
    signpost_tests::shared_vendor("the Open Referral schema checks did not run")
}

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// Validators for one standard (`oruk` or `hsds`), by object kind.
struct Standard {
    name: &'static str,
    validators: HashMap<&'static str, Validator>,
}

/// The object kinds checked, with the file each is checked against:
/// compiled (self-contained) schemas where the standard has them, else the
/// table schema with its sibling files registered for `$ref`s.
const KINDS: &[(&str, &str)] = &[
    ("service", "compiled/service.json"),
    ("service_list", "compiled/service_list.json"),
    ("service_at_location", "compiled/service_at_location.json"),
    (
        "service_at_location_list",
        "compiled/service_at_location_list.json",
    ),
    ("organization", "compiled/organization.json"),
    ("organization_list", "compiled/organization_list.json"),
    ("taxonomy", "taxonomy.json"),
    ("taxonomy_term", "taxonomy_term.json"),
];

impl Standard {
    fn load(vendor: &Path, name: &'static str) -> Standard {
        let dir = vendor.join(name);
        let base = format!("https://vendor.invalid/{name}/");
        let mut documents = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("vendor folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                let file = path
                    .file_name()
                    .and_then(|f| f.to_str())
                    .unwrap_or_default();
                if file != "openapi.json" {
                    documents.push((format!("{base}{file}"), read_json(&path)));
                }
            }
        }
        let mut registry = Registry::new();
        for (uri, doc) in &documents {
            registry = registry
                .add(uri.as_str(), doc)
                .expect("registering a schema");
        }
        let registry = registry.prepare().expect("preparing the registry");
        let mut validators = HashMap::new();
        for (kind, file) in KINDS {
            let mut schema = read_json(&dir.join(file));
            schema["$id"] = json!(format!("{base}{file}"));
            let validator = jsonschema::draft202012::options()
                .should_validate_formats(true)
                .with_registry(&registry)
                .build(&schema)
                .unwrap_or_else(|e| panic!("compiling {name}/{file}: {e}"));
            validators.insert(*kind, validator);
        }
        Standard { name, validators }
    }
}

/// Both standards' validators.
struct Schemas(Vec<Standard>);

impl Schemas {
    fn load(vendor: &Path) -> Schemas {
        Schemas(vec![
            Standard::load(vendor, "oruk"),
            Standard::load(vendor, "hsds"),
        ])
    }

    /// Asserts `value` is a valid `kind` in both ORUK 3.0 and HSDS 3.0.
    fn check(&self, kind: &str, value: &Value, what: &str) {
        for standard in &self.0 {
            let validator = &standard.validators[kind];
            let errors: Vec<String> = validator
                .iter_errors(value)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{what} is not a valid {} {kind}:\n{}\n{value:#}",
                standard.name,
                errors.join("\n")
            );
        }
    }

    /// Checks a list page's paging fields and each item.
    fn check_page(&self, kind: &str, page: &Value, what: &str) -> Vec<Value> {
        for field in ["total_items", "total_pages", "page_number", "size"] {
            assert!(page[field].is_u64(), "{what}: {field} in {page:#}");
        }
        for field in ["first_page", "last_page", "empty"] {
            assert!(page[field].is_boolean(), "{what}: {field} in {page:#}");
        }
        let items = page["contents"].as_array().expect("contents").clone();
        assert_eq!(page["size"], items.len(), "{what}: size");
        assert_eq!(page["empty"], items.is_empty(), "{what}: empty");
        for (i, item) in items.iter().enumerate() {
            self.check(kind, item, &format!("{what} contents[{i}]"));
        }
        items
    }
}

#[test]
fn the_schema_checks_have_teeth() {
    let Some(vendor) = vendor() else { return };
    let schemas = Schemas::load(&vendor);
    let good =
        json!({"id": "ac148810-d857-441c-9679-408f346de14b", "name": "X", "status": "active"});
    schemas.check("service", &good, "a minimal service");
    let mut bad = Vec::new();
    let mut no_status = good.clone();
    no_status.as_object_mut().map(|o| o.remove("status"));
    bad.push(("service", no_status));
    let mut bad_id = good.clone();
    bad_id["id"] = json!("not-a-uuid");
    bad.push(("service", bad_id));
    let mut bad_email = good.clone();
    bad_email["email"] = json!("nobody");
    bad.push(("service", bad_email));
    let mut no_postcode = good.clone();
    no_postcode["service_at_locations"] = json!([{"id": "ac148810-d857-441c-9679-408f346de14c",
        "location": {"id": "ac148810-d857-441c-9679-408f346de14d", "location_type": "physical",
            "addresses": [{"id": "ac148810-d857-441c-9679-408f346de14e", "address_1": "a", "city": "b",
                           "state_province": "", "country": "GB", "address_type": "physical"}]}}]);
    bad.push(("service", no_postcode));
    bad.push((
        "taxonomy_term",
        json!({"id": "ac148810-d857-441c-9679-408f346de14b", "name": "x"}),
    ));
    for (kind, value) in bad {
        for standard in &schemas.0 {
            assert!(
                !standard.validators[kind].is_valid(&value),
                "{} accepted {value}",
                standard.name
            );
        }
    }
}

// ---------------------------------------------------------------------
// Rich hubs.

fn hub_a_services() -> Vec<Service> {
    serde_json::from_value(json!([
        {"id": "0b6a5c1e-8d2f-4a3b-9c4d-5e6f7a8b9c01", "name": "Job Club",
         "description": "Help with CVs, applications and interviews",
         "url": "https://revoelution.example.org/job-club", "email": "jobs@revoelution.example.org",
         "eligibility_description": "Anyone looking for work", "fees_description": "Free",
         "minimum_age": 16, "maximum_age": 64,
         "application_process": "Drop in, or ring to book", "access": ["walk-in", "self-referral"],
         "assured_date": "2026-01-15",
         "languages": [{"name": "English", "code": "en"}, {"name": "Romanian", "code": "ro", "note": "Tuesdays"}],
         "service_areas": [{"name": "Blackpool", "description": "Revoe and the town centre"}],
         "locations": [
            {"id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e01", "name": "Revoe Community Centre",
             "description": "Side entrance", "latitude": 53.8069, "longitude": -3.0466,
             "accessibility": "Step-free; hearing loop",
             "address": {"address_1": "Revoe Community Centre", "address_2": "Central Drive",
                         "city": "Blackpool", "region": "Lancashire", "postal_code": "FY1 6JH", "country": "GB"}},
            {"id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e02", "name": "Central Library",
             "latitude": 53.8175, "longitude": -3.0510,
             "address": {"address_1": "Queen Street", "city": "Blackpool", "postal_code": "FY1 1PX"}}],
         "phones": [{"number": "01253 000001", "type": "voice", "description": "Office hours"}],
         "contacts": [{"name": "Sam Taylor", "title": "Coordinator", "email": "sam@revoelution.example.org",
                       "phone": "07700 900001"}],
         "schedules": [
            {"byday": "TU,TH", "opens_at": "10:00", "closes_at": "12:00",
             "location_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e01", "description": "Drop-in"},
            {"byday": "SA", "opens_at": "09:30:00", "closes_at": "11:00:00",
             "valid_from": "2026-01-01", "valid_to": "2026-12-31"}],
         "taxonomy_terms": [{"name": "Employment", "code": "employment", "taxonomy": "signpost"},
                            {"name": "Benefits advice", "code": "1234", "taxonomy": "esd"}]},
        {"id": "0b6a5c1e-8d2f-4a3b-9c4d-5e6f7a8b9c02", "name": "Food pantry",
         "organization": {"id": "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f01", "name": "Blackpool Food Partnership",
                          "description": "Fighting food poverty", "website": "https://food.example.org",
                          "email": "hello@food.example.org"},
         "locations": [{"id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e03", "name": "Church hall",
                        "address": {"address_1": "St John's"}}],
         "schedules": [{"byday": "MO", "opens_at": "18:00", "closes_at": "01:00"}],
         "taxonomy_terms": [{"name": "Food", "taxonomy": "signpost"}]}
    ]))
    .expect("services")
}

/// The hub B services; the second reuses Job Club's id (as two hubs that
/// imported the same council file would).
fn hub_b_services() -> Vec<Service> {
    serde_json::from_value(json!([
        {"id": "0b6a5c1e-8d2f-4a3b-9c4d-5e6f7a8b9c03", "name": "Wellbeing walk", "minimum_age": 18,
         "organization": {"name": "The Bay Trust"},
         "locations": [{"id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e04", "latitude": 54.0697, "longitude": -2.8625,
                        "address": {"address_1": "The Promenade", "city": "Morecambe", "postal_code": "LA4 4AA"}}],
         "schedules": [{"byday": "SA", "opens_at": "10:00", "closes_at": "11:30"}],
         "taxonomy_terms": [{"name": "Wellbeing", "taxonomy": "signpost"},
                            {"name": "employment", "taxonomy": "Signpost"}]},
        {"id": "0b6a5c1e-8d2f-4a3b-9c4d-5e6f7a8b9c01", "name": "Copied job club",
         "access": ["professional-referral"]}
    ]))
    .expect("services")
}

fn hub_a_listing(k: &HubKey) -> signpost_spec::Listing {
    let mut l = listing(k, "Revoelution", 1, hub_a_services());
    l.hub.description = Some("A community hub in Revoe".into());
    l.hub.url = Some("https://revoelution.example.org".into());
    l.hub.email = Some("hello@revoelution.example.org".into());
    l.hub.phone = Some("01253 000000".into());
    l
}

fn hub_b_listing(k: &HubKey) -> signpost_spec::Listing {
    listing(k, "The Bay", 1, hub_b_services())
}

async fn get(agg: &TestNode, path: &str) -> Value {
    agg.get_json(path).await
}

fn names(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|i| i["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn service_names(agg: &TestNode, query: &str) -> BTreeSet<String> {
    let page = get(agg, &format!("/hsds/services?{query}")).await;
    names(page["contents"].as_array().expect("contents"))
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

async fn bad_request(agg: &TestNode, path: &str) {
    let reply = agg.get(path).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
    let body = reply.json();
    assert_eq!(body["error"]["code"], "invalid", "{path}: {body}");
    assert!(body["error"]["message"].is_string());
}

/// An aggregator that has crawled the two rich hubs (keys `ka`, `kb`).
async fn rich_aggregator(ka: &HubKey, kb: &HubKey) -> (TestNode, FakeHub, FakeHub) {
    let hub_a = FakeHub::start(Script::Json(signed(&hub_a_listing(ka), ka))).await;
    let hub_b = FakeHub::start(Script::Json(signed(&hub_b_listing(kb), kb))).await;
    let agg = TestNode::start_aggregator("Lancashire CVS", |_| {}).await;
    agg.add_source(&hub_a.url()).await;
    agg.add_source(&hub_b.url()).await;
    let reports = agg.crawl().await;
    assert!(
        reports.iter().all(|r| r["outcome"] == "accepted"),
        "{reports:?}"
    );
    (agg, hub_a, hub_b)
}

#[tokio::test]
async fn every_hsds_endpoint_serves_valid_open_referral() {
    let Some(vendor) = vendor() else { return };
    let schemas = Schemas::load(&vendor);
    let (ka, kb) = (key(41), key(42));
    let (agg, _hub_a, hub_b) = rich_aggregator(&ka, &kb).await;
    let (a_id, b_id) = (ka.key_id().to_string(), kb.key_id().to_string());

    // The root, with the version the ORUK validator reads, and CORS.
    for root in ["/hsds/", "/hsds"] {
        let reply = agg.get(root).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.header("access-control-allow-origin").as_deref(),
            Some("*")
        );
        let info = reply.json();
        assert_eq!(info["version"], "HSDS-UK-3.0");
        assert!(info["profile"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://")));
        assert!(info["openapi_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("openapi.json")));
    }

    // Services: the list, then every one fully nested.
    let page = get(&agg, "/hsds/services").await;
    let list = schemas.check_page("service_list", &page, "/hsds/services");
    assert_eq!(page["total_items"], 4);
    assert_eq!(
        (page["first_page"].clone(), page["last_page"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(
        names(&list),
        set(&[
            "Copied job club",
            "Food pantry",
            "Job Club",
            "Wellbeing walk"
        ])
    );
    let ids: BTreeSet<&str> = list.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids.len(), 4, "two hubs' equal ids are told apart");
    let mut full = HashMap::new();
    for item in &list {
        let id = item["id"].as_str().expect("id");
        let reply = agg.get(&format!("/hsds/services/{id}")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.header("access-control-allow-origin").as_deref(),
            Some("*")
        );
        let service = reply.json();
        schemas.check("service", &service, &format!("/hsds/services/{id}"));
        assert_eq!(service["id"], id);
        full.insert(
            item["name"].as_str().unwrap_or_default().to_owned(),
            service,
        );
    }
    let job = &full["Job Club"];
    assert_eq!(
        job["organization"]["name"], "Revoelution",
        "the hub runs it"
    );
    assert_eq!(job["organization"]["id"], map::hub_organization_id(&a_id));
    assert_eq!(job["fees"], "Free");
    assert_eq!(
        job["service_at_locations"].as_array().map(Vec::len),
        Some(2)
    );
    let revoe = &job["service_at_locations"][0];
    assert_eq!(revoe["location"]["addresses"][0]["postal_code"], "FY1 6JH");
    assert_eq!(
        revoe["location"]["accessibility"][0]["description"],
        "Step-free; hearing loop"
    );
    assert_eq!(job["schedules"][0]["service_at_location_id"], revoe["id"]);
    assert_eq!(job["schedules"][1]["opens_at"], "09:30:00");
    assert_eq!(job["languages"][1]["code"], "ro");
    assert_eq!(job["contacts"][0]["phones"][0]["number"], "07700 900001");
    let terms: BTreeSet<&str> = job["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .filter_map(|a| a["taxonomy_term"]["name"].as_str())
        .collect();
    assert_eq!(
        terms,
        ["Benefits advice", "Employment", "Self-referral", "Walk-in"]
            .into_iter()
            .collect()
    );
    assert_eq!(
        full["Food pantry"]["organization"]["name"],
        "Blackpool Food Partnership"
    );
    assert_eq!(full["Copied job club"]["organization"]["name"], "The Bay");

    // Paging.
    let p2 = get(&agg, "/hsds/services?per_page=1&page=2").await;
    schemas.check_page("service_list", &p2, "page 2");
    assert_eq!(
        (
            p2["size"].clone(),
            p2["total_pages"].clone(),
            p2["page_number"].clone()
        ),
        (json!(1), json!(4), json!(2))
    );
    assert_eq!(
        (p2["first_page"].clone(), p2["last_page"].clone()),
        (json!(false), json!(false))
    );
    let p4 = get(&agg, "/hsds/services?per_page=1&page=4").await;
    assert_eq!(p4["last_page"], true);
    let past = get(&agg, "/hsds/services?per_page=1&page=9").await;
    assert_eq!(
        (past["empty"].clone(), past["size"].clone()),
        (json!(true), json!(0))
    );
    assert_eq!(get(&agg, "/hsds/services?per_page=5000").await["size"], 4);
    let mut walked = BTreeSet::new();
    for n in 1..=4 {
        let p = get(&agg, &format!("/hsds/services?per_page=1&page={n}")).await;
        walked.extend(names(p["contents"].as_array().expect("contents")));
    }
    assert_eq!(walked, names(&list), "paging visits every service once");

    // Filters.
    assert_eq!(
        service_names(&agg, "search=pantry").await,
        set(&["Food pantry"])
    );
    assert_eq!(service_names(&agg, "search=--").await, set(&[]));
    let terms_page = get(&agg, "/hsds/taxonomy_terms?per_page=100").await;
    let all_terms = schemas.check_page("taxonomy_term", &terms_page, "/hsds/taxonomy_terms");
    let term = |name: &str| -> String {
        all_terms
            .iter()
            .find(|t| {
                t["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .and_then(|t| t["id"].as_str())
            .unwrap_or_else(|| panic!("no term {name}"))
            .to_owned()
    };
    assert_eq!(
        service_names(&agg, &format!("taxonomy_term_id={}", term("Employment"))).await,
        set(&["Job Club", "Wellbeing walk"]),
        "the same category from two hubs is one term"
    );
    assert_eq!(
        service_names(&agg, &format!("taxonomy_term_id={}", term("Walk-in"))).await,
        set(&["Job Club"])
    );
    assert_eq!(
        service_names(&agg, &format!("taxonomy_id={}", map::taxonomy_id("esd"))).await,
        set(&["Job Club"])
    );
    assert_eq!(
        service_names(
            &agg,
            &format!("organization_id={}", map::hub_organization_id(&b_id))
        )
        .await,
        set(&["Copied job club"])
    );
    assert_eq!(
        service_names(&agg, "day=SA").await,
        set(&["Job Club", "Wellbeing walk"])
    );
    assert_eq!(
        service_names(&agg, "day=monday&start_time=18:00").await,
        set(&["Food pantry"])
    );
    // Monday 18:00 to 01:00 is open on Tuesday too, ending by 12:00.
    assert_eq!(
        service_names(&agg, "day=TU&end_time=12:00").await,
        set(&["Food pantry", "Job Club"])
    );
    assert_eq!(
        service_names(&agg, "start_time=10:00&end_time=11:30").await,
        set(&["Wellbeing walk"])
    );
    // Ages, in ORUK's sense: the service's own minimum at least, maximum
    // at most; a service naming no such age matches neither.
    let aged = get(&agg, "/hsds/services?minimum_age=18").await;
    schemas.check_page("service_list", &aged, "minimum_age");
    assert_eq!(
        names(aged["contents"].as_array().expect("contents")),
        set(&["Wellbeing walk"])
    );
    assert_eq!(
        service_names(&agg, "minimum_age=16").await,
        set(&["Job Club", "Wellbeing walk"])
    );
    assert_eq!(
        service_names(&agg, "minimum_age=16.5").await,
        set(&["Wellbeing walk"])
    );
    assert_eq!(
        service_names(&agg, "maximum_age=64").await,
        set(&["Job Club"])
    );
    assert_eq!(service_names(&agg, "maximum_age=63").await, set(&[]));
    assert_eq!(
        service_names(&agg, "minimum_age=10&maximum_age=70").await,
        set(&["Job Club"])
    );
    let at_locations = get(&agg, "/hsds/service_at_locations?minimum_age=18").await;
    assert_eq!(at_locations["total_items"], 1, "the walk's one location");
    assert_eq!(
        get(&agg, "/hsds/services?colour=red").await["total_items"],
        4
    );
    bad_request(&agg, "/hsds/services?page=0").await;
    bad_request(&agg, "/hsds/services?day=someday").await;
    bad_request(&agg, "/hsds/services?start_time=noon").await;
    bad_request(&agg, "/hsds/services?maximum_age=old").await;
    let missing = agg
        .get("/hsds/services/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error"]["code"], "not_found");
    let raw = agg
        .get("/hsds/services/0b6a5c1e-8d2f-4a3b-9c4d-5e6f7a8b9c01")
        .await;
    assert_eq!(raw.status, StatusCode::NOT_FOUND, "ids are hub-scoped");

    // Services at locations.
    let page = get(&agg, "/hsds/service_at_locations").await;
    let sals = schemas.check_page(
        "service_at_location_list",
        &page,
        "/hsds/service_at_locations",
    );
    assert_eq!(page["total_items"], 4);
    for sal in &sals {
        let id = sal["id"].as_str().expect("id");
        // Both OpenAPI documents name compiled/service.json for this path:
        // the service, seen at the one place asked for.
        let one = get(&agg, &format!("/hsds/service_at_locations/{id}")).await;
        schemas.check("service", &one, &format!("/hsds/service_at_locations/{id}"));
        assert_eq!(one["id"], sal["service"]["id"]);
        assert_eq!(one["name"], sal["service"]["name"]);
        let at: Vec<&Value> = one["service_at_locations"]
            .as_array()
            .expect("sals")
            .iter()
            .collect();
        assert_eq!(at.len(), 1, "only the place asked for");
        assert_eq!(at[0]["id"], id);
        assert_eq!(at[0]["location"]["id"], sal["location"]["id"]);
    }
    let at = |query: &str| {
        let agg = &agg;
        let query = query.to_owned();
        async move {
            let page = get(agg, &format!("/hsds/service_at_locations?{query}")).await;
            page["contents"]
                .as_array()
                .expect("contents")
                .iter()
                .map(|s| {
                    s["location"]["name"]
                        .as_str()
                        .unwrap_or("(no name)")
                        .to_owned()
                })
                .collect::<BTreeSet<String>>()
        }
    };
    assert_eq!(
        at("postcode=fy16jh").await,
        set(&["Revoe Community Centre"])
    );
    assert_eq!(
        at("postcode=FY1").await,
        set(&["Central Library", "Revoe Community Centre"])
    );
    assert_eq!(
        at("postcode=FY1%206JH&proximity=2000").await,
        set(&["Central Library", "Revoe Community Centre"])
    );
    assert_eq!(
        at("postcode=FY1%206JH&proximity=500").await,
        set(&["Revoe Community Centre"])
    );
    assert_eq!(
        at("postcode=LA4%204AA&proximity=5000").await,
        set(&["(no name)"])
    );
    assert_eq!(at("postcode=ZZ9%209ZZ&proximity=5000").await, set(&[]));
    assert_eq!(at("search=pantry").await, set(&["Church hall"]));
    bad_request(&agg, "/hsds/service_at_locations?proximity=500").await;
    bad_request(&agg, "/hsds/service_at_locations?postcode=%3F%3F").await;

    // Taxonomies and terms.
    let page = get(&agg, "/hsds/taxonomies").await;
    let taxonomies = schemas.check_page("taxonomy", &page, "/hsds/taxonomies");
    assert_eq!(
        names(&taxonomies)
            .into_iter()
            .map(|n| n.to_lowercase())
            .collect::<BTreeSet<_>>(),
        set(&["esd", "signpost", "signpost-access"])
    );
    for t in &taxonomies {
        let id = t["id"].as_str().expect("id");
        let one = get(&agg, &format!("/hsds/taxonomies/{id}")).await;
        schemas.check("taxonomy", &one, &format!("/hsds/taxonomies/{id}"));
        for nested in one["taxonomy_terms"].as_array().expect("terms") {
            assert_eq!(nested["taxonomy_id"], id);
            schemas.check("taxonomy_term", nested, "a taxonomy's term");
        }
    }
    assert_eq!(terms_page["total_items"], 7);
    for t in &all_terms {
        let id = t["id"].as_str().expect("id");
        let one = get(&agg, &format!("/hsds/taxonomy_terms/{id}")).await;
        schemas.check("taxonomy_term", &one, &format!("/hsds/taxonomy_terms/{id}"));
        assert_eq!(&one, t);
    }
    let esd = get(
        &agg,
        &format!(
            "/hsds/taxonomy_terms?taxonomy_id={}",
            map::taxonomy_id("esd")
        ),
    )
    .await;
    assert_eq!(
        names(esd["contents"].as_array().expect("contents")),
        set(&["Benefits advice"])
    );

    // Organisations (HSDS 3).
    let page = get(&agg, "/hsds/organizations").await;
    let orgs = schemas.check_page("organization_list", &page, "/hsds/organizations");
    assert_eq!(
        names(&orgs),
        set(&[
            "Blackpool Food Partnership",
            "Revoelution",
            "The Bay",
            "The Bay Trust"
        ])
    );
    let revoe_org = orgs
        .iter()
        .find(|o| o["name"] == "Revoelution")
        .expect("hub as organisation");
    assert_eq!(revoe_org["website"], "https://revoelution.example.org");
    for query in ["full=true", "full_service=true"] {
        let page = get(&agg, &format!("/hsds/organizations?{query}")).await;
        schemas.check_page("organization", &page, query);
    }
    for o in &orgs {
        let id = o["id"].as_str().expect("id");
        for query in ["", "?full_service=true"] {
            let one = get(&agg, &format!("/hsds/organizations/{id}{query}")).await;
            schemas.check(
                "organization",
                &one,
                &format!("/hsds/organizations/{id}{query}"),
            );
            assert!(!one["services"].as_array().expect("services").is_empty());
        }
    }
    let searched = get(&agg, "/hsds/organizations?search=bay").await;
    assert_eq!(
        names(searched["contents"].as_array().expect("contents")),
        set(&["The Bay", "The Bay Trust"])
    );
    for path in [
        "/hsds/organizations",
        "/hsds/services",
        "/hsds/service_at_locations",
        "/hsds/taxonomies",
        "/hsds/taxonomy_terms",
    ] {
        bad_request(&agg, &format!("{path}?format=ndjson")).await;
        let json = get(&agg, &format!("{path}?format=json")).await;
        assert!(
            json["total_items"].as_u64().is_some_and(|n| n > 0),
            "{path}"
        );
    }
    bad_request(&agg, "/hsds/organizations?full=maybe").await;

    // A hub that changes its listing changes what /hsds/ serves.
    let mut changed = hub_b_listing(&kb);
    changed.seq = 2;
    changed.services.truncate(1);
    hub_b.set(Script::Json(signed(&changed, &kb)));
    agg.crawl().await;
    assert_eq!(get(&agg, "/hsds/services").await["total_items"], 3);
    assert_eq!(get(&agg, "/hsds/organizations").await["total_items"], 3);
}

// ---------------------------------------------------------------------
// Every path and parameter of the OpenAPI documents.

/// The file inside a vendored standard that an OpenAPI `$ref` names
/// (`https://.../schema/compiled/service.json` is `compiled/service.json`).
fn schema_file(reference: &str) -> &str {
    reference
        .rsplit_once("/schema/")
        .map_or(reference, |(_, file)| file)
}

/// The validator kind checked against `file`.
fn kind_of(file: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(_, f)| *f == file)
        .map(|(kind, _)| *kind)
        .unwrap_or_else(|| panic!("no validator for {file}"))
}

/// Checks an answer against the response schema an OpenAPI document
/// names: an object's schema file, a `Page` of them, or (for `/`) an
/// inline object whose named properties must all be strings.
fn check_against(schemas: &Schemas, schema: &Value, answer: &Value, what: &str) {
    if let Some(reference) = schema["$ref"].as_str() {
        schemas.check(kind_of(schema_file(reference)), answer, what);
    } else if let Some(reference) = schema["properties"]["contents"]["items"]["$ref"].as_str() {
        schemas.check_page(kind_of(schema_file(reference)), answer, what);
    } else {
        let properties = schema["properties"].as_object().expect("an inline schema");
        for (name, property) in properties {
            assert_eq!(property["type"], "string", "{what}: {name}");
            assert!(answer[name].is_string(), "{what}: {name} in {answer}");
        }
    }
}

/// A parameter object, following a `#/components/parameters/` reference.
fn parameter<'a>(doc: &'a Value, p: &'a Value) -> &'a Value {
    match p["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            &doc["components"]["parameters"][name]
        }
        None => p,
    }
}

#[tokio::test]
async fn every_path_and_parameter_of_the_openapi_documents_answers_as_they_say() {
    let Some(vendor) = vendor() else { return };
    let schemas = Schemas::load(&vendor);
    let (ka, kb) = (key(43), key(44));
    let (agg, _hub_a, _hub_b) = rich_aggregator(&ka, &kb).await;
    let first = |page: Value| -> String {
        page["contents"][0]["id"]
            .as_str()
            .expect("a first item")
            .to_owned()
    };
    let mut ids = HashMap::new();
    for list in [
        "services",
        "service_at_locations",
        "taxonomies",
        "taxonomy_terms",
        "organizations",
    ] {
        ids.insert(list, first(get(&agg, &format!("/hsds/{list}")).await));
    }
    let sample = |name: &str| -> String {
        match name {
            "search" => "club".into(),
            "page" => "1".into(),
            "per_page" => "2".into(),
            "taxonomy_term_id" | "parent_id" => ids["taxonomy_terms"].clone(),
            "taxonomy_id" => ids["taxonomies"].clone(),
            "organization_id" => ids["organizations"].clone(),
            "minimum_age" => "18".into(),
            "maximum_age" => "65".into(),
            "start_time" => "09:00".into(),
            "end_time" => "17:00".into(),
            "day" => "MO".into(),
            "postcode" => "FY1%206JH".into(),
            // Measured from the postcode's centroid, so never alone (a
            // lone proximity is a 400 that says so, checked above).
            "proximity" => "2000&postcode=FY1%206JH".into(),
            "format" => "json".into(),
            "modified_after" => "2020-01-01T00:00:00Z".into(),
            "full" | "full_service" | "minimal" | "top_only" => "true".into(),
            other => panic!("no sample value for parameter {other}"),
        }
    };
    let mut answered = 0;
    for standard in ["oruk", "hsds"] {
        let doc = read_json(&vendor.join(standard).join("openapi.json"));
        for (path, item) in doc["paths"].as_object().expect("paths") {
            let op = &item["get"];
            let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
            let names: Vec<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| parameter(&doc, p))
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().expect("a name").to_owned())
                .collect();
            let concrete = match path.split('/').nth(1) {
                Some(list) if path.ends_with("{id}") => path.replace("{id}", &ids[list]),
                _ => path.clone(),
            };
            // The path alone, each parameter alone, then all together.
            let mut queries = vec![String::new()];
            queries.extend(names.iter().map(|n| format!("?{n}={}", sample(n))));
            if names.len() > 1 {
                let mut all: Vec<String> = Vec::new();
                for pair in names.iter().flat_map(|n| {
                    let joined = format!("{n}={}", sample(n));
                    joined.split('&').map(str::to_owned).collect::<Vec<_>>()
                }) {
                    if !all.contains(&pair) {
                        all.push(pair);
                    }
                }
                queries.push(format!("?{}", all.join("&")));
            }
            for query in queries {
                let url = format!("/hsds{concrete}{query}");
                let reply = agg.get(&url).await;
                assert_eq!(
                    reply.status,
                    StatusCode::OK,
                    "{standard} {url}: {}",
                    String::from_utf8_lossy(&reply.body)
                );
                assert_eq!(
                    reply.header("access-control-allow-origin").as_deref(),
                    Some("*"),
                    "{url}"
                );
                check_against(
                    &schemas,
                    schema,
                    &reply.json(),
                    &format!("{standard} {url}"),
                );
                answered += 1;
            }
            // The last page of every list answers, at any page size.
            if schema["properties"]["contents"].is_object() {
                for per_page in [1, 2, 3, 50, 100] {
                    let first = get(&agg, &format!("/hsds{concrete}?per_page={per_page}")).await;
                    let pages = first["total_pages"].as_u64().expect("total_pages");
                    assert!(pages >= 1, "{path}: our lists are not empty");
                    let url = format!("/hsds{concrete}?per_page={per_page}&page={pages}");
                    let last = get(&agg, &url).await;
                    assert_eq!(last["last_page"], true, "{url}");
                    assert_eq!(last["empty"], false, "{url}");
                    let total = first["total_items"].as_u64().expect("total_items");
                    let expected = total - (pages - 1) * per_page;
                    assert_eq!(last["size"], expected, "{url}");
                }
            }
        }
    }
    assert!(answered > 60, "only {answered} answers were checked");

    // Errors and unknown addresses under /hsds/ are readable cross-origin
    // too, and say what went wrong.
    for (url, status) in [
        ("/hsds/no_such_list", StatusCode::NOT_FOUND),
        ("/hsds/services/not-held", StatusCode::NOT_FOUND),
        ("/hsds/services?page=0", StatusCode::BAD_REQUEST),
        ("/hsds/services?format=ndjson", StatusCode::BAD_REQUEST),
    ] {
        let reply = agg.get(url).await;
        assert_eq!(reply.status, status, "{url}");
        assert_eq!(
            reply.header("access-control-allow-origin").as_deref(),
            Some("*"),
            "{url}"
        );
        assert!(reply.json()["error"]["message"].is_string(), "{url}");
    }
}

// ---------------------------------------------------------------------
// The client's export.

fn hub_profile(l: &signpost_spec::Listing) -> HubProfile {
    l.hub.clone()
}

#[test]
fn the_clients_hsds_export_is_valid_open_referral_and_imports_back() {
    let Some(vendor) = vendor() else { return };
    let schemas = Schemas::load(&vendor);
    let (ka, kb) = (key(43), key(44));
    let (la, lb) = (hub_a_listing(&ka), hub_b_listing(&kb));
    let stored = vec![
        (ka.key_id().to_string(), 1, signed(&la, &ka)),
        (kb.key_id().to_string(), 1, signed(&lb, &kb)),
    ];
    let bytes = signpost_client::export::hsds_json(&stored).expect("export");
    let exported: Vec<Value> = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(exported.len(), 4);
    for (i, s) in exported.iter().enumerate() {
        schemas.check("service", s, &format!("exported service {i}"));
    }
    // Ids as published, except the one two hubs share.
    assert_eq!(exported[1]["id"], la.services[1].id);
    assert_eq!(exported[2]["id"], lb.services[0].id);
    assert_ne!(exported[0]["id"], la.services[0].id);
    assert_ne!(exported[3]["id"], lb.services[1].id);
    assert_ne!(exported[0]["id"], exported[3]["id"]);

    // Importing the export gives back every service as published; a
    // service the hub ran itself comes back run by the hub, named.
    let back = parse(&bytes, &Limits::default()).expect("import");
    let originals: Vec<(HubProfile, Service)> = la
        .services
        .iter()
        .map(|s| (hub_profile(&la), s.clone()))
        .chain(lb.services.iter().map(|s| (hub_profile(&lb), s.clone())))
        .collect();
    assert_eq!(back.len(), originals.len());
    for ((hub, original), (imported, exported)) in originals.iter().zip(back.iter().zip(&exported))
    {
        let collided = exported["id"] != original.id.as_str();
        let mut expected = if collided {
            map::scoped(original, &hub.id)
        } else {
            original.clone()
        };
        assert_eq!(exported["id"], expected.id.as_str());
        if let Some(org) = &mut expected.organization {
            if org.id.is_none() {
                org.id = Some(map::organization_ref(original, &hub.id, &hub.name).id);
            }
        }
        if expected.organization.is_none() {
            expected.organization = Some(Organization {
                id: Some(map::hub_organization_id(&hub.id)),
                name: hub.name.clone(),
                description: hub.description.clone(),
                website: hub.url.clone(),
                email: hub.email.clone(),
            });
        }
        for sc in &mut expected.schedules {
            if sc.opens_at.len() == 5 {
                sc.opens_at.push_str(":00");
            }
            if sc.closes_at.len() == 5 {
                sc.closes_at.push_str(":00");
            }
        }
        assert_eq!(
            imported, &expected,
            "{} did not come back as it was",
            original.name
        );
    }
}

// ---------------------------------------------------------------------
// Round-tripping the vendored ORUK examples.

/// What the ORUK examples hold that our model cannot, as paths relative to
/// a service (array positions written `[]`). Each is lost on import (or,
/// for ids, replaced by one derived from what owns the object), and the
/// test asserts these are exactly the fields that differ.
const SERVICE_NOT_HELD: &[&str] = &[
    // Service fields with no place in our Service.
    "accreditations",
    "assurer_email",
    "alert",
    "last_modified",
    // Schedules: no ids; the recurrence beyond weekly days and times.
    "schedules[].id",
    "schedules[].dtstart",
    "schedules[].bymonthday",
    "schedules[].schedule_link",
    "schedules[].attending_type",
    "schedules[].notes",
    // Service areas: names and descriptions only, no geometry.
    "service_areas[].id",
    "service_areas[].extent",
    "service_areas[].extent_type",
    "service_areas[].uri",
    // The link between a service and a location has no id of its own.
    "service_at_locations[].id",
    // Languages: this example names none (only an id).
    "languages[].id",
    // Funding and costs (only `fees` in words).
    "funding[].id",
    "funding[].source",
    "cost_options[].id",
    "cost_options[].valid_from",
    "cost_options[].valid_to",
    "cost_options[].option",
    "cost_options[].amount",
    "cost_options[].amount_description",
    // Contacts have no ids.
    "contacts[].id",
    // Attributes: our terms are code, name and taxonomy.
    "attributes[].id",
    "attributes[].link_type",
    "attributes[].taxonomy_term.id",
    "attributes[].taxonomy_term.description",
    "attributes[].taxonomy_term.parent_id",
    "attributes[].taxonomy_term.term_uri",
];

/// Relative to a location.
const LOCATION_NOT_HELD: &[&str] = &[
    "external_identifier",
    "external_identifier_type",
    // One physical address, without an id or an addressee.
    "addresses[].id",
    "addresses[].attention",
    "addresses[].address_type",
    // Accessibility is one text.
    "accessibility[].id",
    "accessibility[].details",
    "accessibility[].url",
];

/// Relative to an organisation.
const ORGANIZATION_NOT_HELD: &[&str] = &[
    "logo",
    "uri",
    "parent_organization_id",
    "organization_identifiers[].id",
    "organization_identifiers[].identifier_scheme",
    "organization_identifiers[].identifier_type",
    "organization_identifiers[].identifier",
];

/// Every documented path, as it would appear at the top of a document
/// that is a `service` (`prefix` is where the service sits).
fn not_held_for_service(prefix: &str, out: &mut BTreeSet<String>) {
    for p in SERVICE_NOT_HELD {
        out.insert(format!("{prefix}{p}"));
    }
    for p in LOCATION_NOT_HELD {
        out.insert(format!("{prefix}service_at_locations[].location.{p}"));
    }
    for p in ORGANIZATION_NOT_HELD {
        out.insert(format!("{prefix}organization.{p}"));
    }
}

fn not_held() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    not_held_for_service("", &mut out);
    not_held_for_service("contents[].", &mut out);
    not_held_for_service("services[].", &mut out);
    not_held_for_service("service.", &mut out);
    not_held_for_service("contents[].service.", &mut out);
    for p in ORGANIZATION_NOT_HELD {
        out.insert(p.to_string());
        out.insert(format!("contents[].{p}"));
    }
    for p in LOCATION_NOT_HELD {
        out.insert(format!("location.{p}"));
        out.insert(format!("contents[].location.{p}"));
    }
    // A service_at_location document's own id.
    out.insert("id".into());
    out.insert("contents[].id".into());
    out
}

/// Every scalar in `v`, by concrete path (`a.b[0].c`).
fn leaves(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                leaves(x, p, out);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                leaves(x, format!("{path}[{i}]"), out);
            }
        }
        scalar => out.push((path, scalar.clone())),
    }
}

fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in path.split('.') {
        let (name, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        cur = cur.get(name)?;
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            cur = cur.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(cur)
}

/// Equal, where numbers compare by value and text ignores the blanks at its
/// ends (the importer trims them).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::String(y)) => x.trim() == y.trim(),
        _ => a == b,
    }
}

fn generic(path: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for c in path.chars() {
        match c {
            '[' => {
                skipping = true;
                out.push_str("[]");
            }
            ']' => skipping = false,
            c if !skipping => out.push(c),
            _ => {}
        }
    }
    out
}

/// The paths (generic) of `original`'s scalars that `exported` lacks or
/// holds differently.
fn lost(original: &Value, exported: &Value) -> BTreeSet<String> {
    let mut all = Vec::new();
    leaves(original, String::new(), &mut all);
    all.into_iter()
        .filter(|(path, value)| !at(exported, path).is_some_and(|e| same(value, e)))
        .map(|(path, _)| generic(&path))
        .collect()
}

#[test]
fn vendored_oruk_examples_round_trip_without_losing_what_we_hold() {
    let Some(vendor) = vendor() else { return };
    let schemas = Schemas::load(&vendor);
    let examples = vendor.join("oruk").join("examples");
    let hub: HubProfile = serde_json::from_value(json!({
        "id": key(45).key_id().to_string(), "name": "Importing hub",
        "dimensions": {"space": ["virtual"], "governance": "statutory-led",
                       "focus": "generic", "coordination": "second-level"}
    }))
    .expect("profile");
    let documented = not_held();
    let mut seen_lost = BTreeSet::new();
    let mut in_examples = BTreeSet::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&examples).expect("examples") {
        let path = entry.expect("entry").path();
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .to_owned();
        let bytes = std::fs::read(&path).expect("read");
        let mut original: Value = serde_json::from_slice(&bytes).expect("JSON");
        if let Some(contents) = original.get("contents") {
            // A page: its paging fields describe the example's server, not
            // the data; the aggregator test checks ours.
            original = json!({ "contents": contents.clone() });
        }
        let imported = parse(&bytes, &Limits::default());
        // Rebuild the document in the example's own shape from what we hold.
        let (exported, kind) = match file.as_str() {
            "service_full.json" => {
                let s = &imported.expect("import")[0];
                (map::service_full(s, &hub), "service")
            }
            "service_list.json" => {
                let s = &imported.expect("import")[0];
                let item = map::service_list_item(s, &hub);
                schemas.check("service_list", &item, &file);
                (json!({"contents": [item]}), "")
            }
            "service_at_location_full.json" => {
                let s = &imported.expect("import")[0];
                let sal = map::service_at_location_full(s, &hub, 0).expect("a location");
                (sal, "service_at_location")
            }
            "service_at_location_list.json" => {
                let s = &imported.expect("import")[0];
                let item = map::service_at_location_list_item(s, &hub, 0).expect("a location");
                schemas.check("service_at_location_list", &item, &file);
                (json!({"contents": [item]}), "")
            }
            "organization_full.json" => {
                let services = imported.expect("import");
                let nested = services
                    .iter()
                    .map(|s| map::service_full(s, &hub))
                    .collect();
                (
                    map::organization_full(&services[0], &hub, nested),
                    "organization",
                )
            }
            _ => {
                // Organisations without services, taxonomies and terms hold
                // no services: the importer says so rather than guessing.
                let e = imported.expect_err(&file);
                assert!(e.to_string().contains("holds no services"), "{file}: {e}");
                continue;
            }
        };
        if !kind.is_empty() {
            schemas.check(kind, &exported, &file);
        }
        let mut all = Vec::new();
        leaves(&original, String::new(), &mut all);
        in_examples.extend(all.into_iter().map(|(p, _)| generic(&p)));
        let differs = lost(&original, &exported);
        let undocumented: Vec<&String> = differs.difference(&documented).collect();
        assert!(
            undocumented.is_empty(),
            "{file}: fields our model holds were lost: {undocumented:?}\nexported: {exported:#}"
        );
        seen_lost.extend(differs);
        checked += 1;
    }
    assert_eq!(checked, 5, "the five examples that hold services");
    // Every documented field was indeed one the examples had and we lost
    // (the list says exactly what differs, no more).
    let present: BTreeSet<String> = documented.intersection(&in_examples).cloned().collect();
    let kept: Vec<&String> = present.difference(&seen_lost).collect();
    assert!(kept.is_empty(), "documented as not held but kept: {kept:?}");
    let unused: Vec<&str> = SERVICE_NOT_HELD
        .iter()
        .chain(LOCATION_NOT_HELD)
        .chain(ORGANIZATION_NOT_HELD)
        .copied()
        .filter(|p| !seen_lost.iter().any(|l| l.ends_with(p)))
        .collect();
    assert!(
        unused.is_empty(),
        "documented but in no example: {unused:?}"
    );
}
