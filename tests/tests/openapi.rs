//! The OpenAPI document against live answers: a real hub and a real
//! aggregator that has crawled it and a scripted hub; every documented
//! `GET` path is fetched (its path parameters filled with ids the nodes
//! hold, then with ids they do not), and each answer is validated against
//! the schema the document gives for that status and media type. The
//! Open Referral schemas the document references by URL are read from the
//! vendored copies in `../shared/vendor/` (those paths are skipped, loudly,
//! when it is absent).

use std::path::{Path, PathBuf};

use jsonschema::Registry;
use reqwest::StatusCode;
use serde_json::{json, Value};
use signpost_tests::fake_hub::{FakeHub, Script};
use signpost_tests::listings::{key, listing, service, signed};
use signpost_tests::{Reply, TestNode};

/// Where the document's external references live, and the vendored folder
/// that holds the same files.
const EXTERNAL: [(&str, &str); 2] = [
    (
        "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/",
        "oruk",
    ),
    (
        "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/",
        "hsds",
    ),
];

fn vendor() -> Option<PathBuf> {
    signpost_tests::shared_vendor("the /hsds/ paths of the OpenAPI document were not checked")
}

/// The vendored schema files registered under the URLs the document uses
/// (the table schemas under `compiled/` too, where some compiled files
/// reach them by relative reference).
fn registry(vendor: Option<&Path>) -> Registry<'static> {
    let mut documents = std::collections::BTreeMap::new();
    for (base, folder) in EXTERNAL {
        let Some(vendor) = vendor else { break };
        for sub in ["", "compiled/"] {
            let dir = vendor.join(folder).join(sub);
            for entry in std::fs::read_dir(&dir).expect("vendor folder") {
                let path = entry.expect("entry").path();
                let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
                    continue;
                };
                if path.extension().is_some_and(|e| e == "json") && file != "openapi.json" {
                    let text = std::fs::read_to_string(&path).expect("schema file");
                    let doc: Value = serde_json::from_str(&text).expect("schema JSON");
                    if sub.is_empty() {
                        documents
                            .entry(format!("{base}compiled/{file}"))
                            .or_insert_with(|| doc.clone());
                    }
                    documents.insert(format!("{base}{sub}{file}"), doc);
                }
            }
        }
    }
    let mut registry = Registry::new();
    for (uri, doc) in documents {
        registry = registry.add(uri, doc).expect("registering a schema");
    }
    registry.prepare().expect("preparing the registry")
}

/// Follows a `#/components/...` reference inside the document.
fn deref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc
            .pointer(pointer)
            .expect("a reference inside the document"),
        None => v,
    }
}

/// Checks one answer against the document's response for its status.
fn conforms(doc: &Value, registry: &Registry, path: &str, op: &Value, reply: &Reply) {
    let status = reply.status.as_u16().to_string();
    let response = op["responses"]
        .get(&status)
        .or_else(|| op["responses"].get("default"))
        .map(|r| deref(doc, r))
        .unwrap_or_else(|| panic!("{path}: status {status} is not documented"));
    let Some(content) = response["content"].as_object() else {
        assert!(
            reply.body.is_empty(),
            "{path}: {status} has no documented body"
        );
        return;
    };
    let media = reply
        .header("content-type")
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let documented = content
        .get(&media)
        .unwrap_or_else(|| panic!("{path}: {status} {media} is not documented"));
    if media != "application/json" {
        return;
    }
    // The response schema with the document's components beside it, so
    // its `#/components/...` references resolve.
    let mut schema = json!({"allOf": [documented["schema"].clone()]});
    schema["components"] = doc["components"].clone();
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .with_registry(registry)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{path}: compiling its {status} schema: {e}"));
    let answer = reply.json();
    let errors: Vec<String> = validator
        .iter_errors(&answer)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{path} answered {status} not as documented:\n{}\n{answer:#}",
        errors.join("\n")
    );
}

#[tokio::test]
async fn every_documented_path_answers_as_the_openapi_document_says() {
    let vendor = vendor();
    let registry = registry(vendor.as_deref());
    let hub = TestNode::start("Revoelution").await;
    let k = key(51);
    let mut job = service(7, "Job Club", 53.8069, -3.0466, "TU", "Employment");
    job.taxonomy_terms[0].taxonomy = Some("signpost".into());
    let scripted = FakeHub::start(Script::Json(signed(
        &listing(&k, "The Bay", 1, vec![job.clone()]),
        &k,
    )))
    .await;
    let agg = TestNode::start_aggregator("Lancashire CVS", |_| {}).await;
    agg.add_source(&hub.node.url()).await;
    agg.add_source(&scripted.url()).await;
    agg.crawl().await;

    let doc = agg.get_json("/openapi.json").await;
    assert_eq!(
        doc,
        serde_json::from_str::<Value>(signpost_node::web::api::OPENAPI).expect("the document")
    );
    assert!(doc["servers"].as_array().is_some_and(|s| !s.is_empty()));
    assert!(doc["info"]["license"]["name"].is_string());
    assert!(doc["components"]["schemas"]["Error"].is_object());
    let paths = doc["paths"].as_object().expect("paths");
    for public in [
        "/v1/services",
        "/v1/services/{hub_id}/{service_id}",
        "/v1/hubs",
        "/v1/hubs/{hub_id}",
        "/v1/hubs/{hub_id}/listing",
        "/v1/feed",
        "/v1/register",
        "/hsds/",
        "/hsds/services",
        "/hsds/services/{id}",
        "/hsds/service_at_locations",
        "/hsds/service_at_locations/{id}",
        "/hsds/taxonomies",
        "/hsds/taxonomies/{id}",
        "/hsds/taxonomy_terms",
        "/hsds/taxonomy_terms/{id}",
        "/hsds/organizations",
        "/hsds/organizations/{id}",
        "/.well-known/signpost/listing",
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/dataset",
    ] {
        assert!(paths.contains_key(public), "{public} is not documented");
    }

    // Ids the aggregator holds, for path parameters.
    let hub_id = k.key_id().to_string();
    let first_hsds = |list: &str| {
        let agg = &agg;
        let list = list.to_owned();
        async move {
            agg.get_json(&format!("/hsds/{list}")).await["contents"][0]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("/hsds/{list} is empty"))
                .to_owned()
        }
    };
    let mut checked = 0;
    for (path, item) in paths {
        let Some(op) = item.get("get") else { continue };
        if path.starts_with("/hsds") && vendor.is_none() {
            continue;
        }
        let node = if path.starts_with("/.well-known/") {
            &hub
        } else {
            &agg
        };
        // Required query parameters take the document's example.
        let required: Vec<String> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| deref(&doc, p))
            .filter(|p| p["in"] == "query" && p["required"] == true)
            .map(|p| {
                let example = p["example"]
                    .as_str()
                    .expect("a required parameter's example");
                format!("{}={example}", p["name"].as_str().unwrap_or_default())
            })
            .collect();
        let query = if required.is_empty() {
            String::new()
        } else {
            format!("?{}", required.join("&"))
        };
        let held = match path.split('/').nth(2) {
            _ if !path.contains('{') => vec![path.clone()],
            Some(list) if path.starts_with("/hsds/") => {
                let id = first_hsds(list).await;
                vec![
                    path.replace("{id}", &id),
                    path.replace("{id}", "00000000-0000-4000-8000-000000000000"),
                ]
            }
            _ => vec![
                path.replace("{hub_id}", &hub_id)
                    .replace("{service_id}", &job.id),
                path.replace("{hub_id}", "ed25519:nobody")
                    .replace("{service_id}", &job.id),
            ],
        };
        for (i, concrete) in held.iter().enumerate() {
            let reply = node.get(&format!("{concrete}{query}")).await;
            let expected = if i == 0 {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(reply.status, expected, "{concrete}");
            conforms(&doc, &registry, concrete, op, &reply);
            checked += 1;
        }
        // Errors follow the document too (paths that read their query
        // strictly, those documented with a 414, refuse unknown names).
        if path.starts_with("/v1/") && !path.contains('{') && op["responses"].get("414").is_some() {
            let sep = if query.is_empty() { '?' } else { '&' };
            let reply = node
                .get(&format!("{path}{query}{sep}no_such_parameter=1"))
                .await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
            conforms(&doc, &registry, path, op, &reply);
        }
        if path.starts_with("/hsds/") && !path.contains('{') && path != "/hsds/" {
            let reply = node.get(&format!("{path}?page=0")).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
            conforms(&doc, &registry, path, op, &reply);
        }
    }
    assert!(checked >= 25, "only {checked} answers were checked");
    // A conditional fetch of the listing: 304, with no body.
    let listing_op = &paths["/.well-known/signpost/listing"]["get"];
    let first = hub.get("/.well-known/signpost/listing").await;
    let tag = first.header("etag").expect("an ETag");
    let again = hub
        .get_with("/.well-known/signpost/listing", &[("if-none-match", &tag)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    conforms(
        &doc,
        &registry,
        "/.well-known/signpost/listing",
        listing_op,
        &again,
    );
}
