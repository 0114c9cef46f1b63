//! `GET /dataset`: the aggregator's open-data dataset site, the way
//! OpenActive harvesters find RPDE feeds. One page serves both audiences:
//! people read what the data is, its licence, who publishes it and where
//! the feed is; machines read the same facts from the schema.org `Dataset`
//! in its JSON-LD block, with the feed as a `DataDownload` whose
//! `encodingFormat` is RPDE's media type. Built from the settings on each
//! request, so a changed name, address or licence shows at once.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use crate::web::api::base_url;
use crate::web::html::{asset_version, render};
use crate::web::state::AppState;

/// RPDE 1.0's media type, as OpenActive dataset sites name it.
pub const RPDE_MEDIA_TYPE: &str = "application/vnd.openactive.rpde+json; version=1";

/// `GET /dataset`.
#[derive(Template)]
#[template(path = "dataset.html")]
pub struct DatasetPage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    pub feed_url: String,
    pub hsds_url: String,
    pub openapi_url: String,
    pub license_url: String,
    pub publisher: String,
    pub publisher_url: String,
    /// The JSON-LD, with `<` escaped so no text in it can close the script.
    pub json_ld: String,
}

/// Serves the dataset site.
pub async fn dataset(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(agg) = state.aggregator.clone() else {
        return super::not_found();
    };
    let base = base_url(&state, &headers);
    let site = agg.settings.name.clone();
    let feed_url = format!("{base}/v1/feed");
    let hsds_url = format!("{base}/hsds/");
    let openapi_url = format!("{base}/openapi.json");
    let license_url = agg.settings.license_url.clone();
    let ld = json!({
        "@context": ["https://schema.org/", "https://openactive.io/"],
        "@type": "Dataset",
        "@id": format!("{base}/dataset"),
        "url": format!("{base}/dataset"),
        "name": format!("{site}: community services"),
        "description": format!(
            "The services of every community hub {site} gathers: what each offers, where, \
             when, for whom and how to get help, as each hub signed it."
        ),
        "keywords": ["community services", "Open Referral", "HSDS", "signposting"],
        "license": license_url,
        "publisher": {"@type": "Organization", "name": site, "url": base},
        "inLanguage": "en-GB",
        "documentation": openapi_url,
        "distribution": [
            {
                "@type": "DataDownload",
                "name": "Hub listings",
                "description": "Every hub's signed listing, as an RPDE 1.0 change feed.",
                "encodingFormat": RPDE_MEDIA_TYPE,
                "contentUrl": feed_url,
            },
            {
                "@type": "DataDownload",
                "name": "Open Referral UK 3.0 API",
                "encodingFormat": "application/json",
                "contentUrl": hsds_url,
            }
        ],
    });
    let json_ld = ld.to_string().replace('<', "\\u003c");
    render(
        StatusCode::OK,
        &DatasetPage {
            title: format!("Open data: {site}"),
            publisher: site.clone(),
            site,
            v: asset_version(),
            feed_url,
            hsds_url,
            openapi_url,
            license_url,
            publisher_url: base,
            json_ld,
        },
    )
}
