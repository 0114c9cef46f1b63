//! The public directory pages an aggregator serves: search with filters
//! (words, category, distance from a typed place or the browser's
//! location, open now), a map of results, a page per hub with its
//! dimensions and health, and a page per service. Server-rendered HTML that
//! works without JavaScript; the map is an extra.

pub mod accessibility;
mod calendar;
pub mod dataset;
pub mod embed;
mod hubs;
pub mod place;
pub mod print;
pub mod reports;
pub mod view;

use signpost_client::store::aggregator::{HubState, Staleness};
use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use jiff::Timestamp;
use signpost_spec::{HubProfile, Service};

use crate::aggregator::Aggregator;
use crate::error::NodeError;
use crate::web::form::{Choice, Errors, Values};
use crate::web::html::{
    asset_version, internal, message, page_not_found as not_found, render, Detour,
};
use crate::web::state::AppState;
use signpost_client::directory::HeldService;
use signpost_client::search::place::Typed;
use signpost_client::search::{self, SearchParams, MAX_QUERY_CHARS};
use signpost_client::store::aggregator as db;
use signpost_client::store::directory::{self, Freshness};
use view::{ago, hub_href, safe_href, service_view, when, ServiceView};

/// Longest query string a page accepts.
const MAX_QUERY_BYTES: usize = 4096;
/// Results per page of the directory.
const PER_PAGE: u32 = 20;
/// Most services shown on a hub's page.
const HUB_SERVICES: u32 = 100;
/// The distances offered, in km; the first is the default.
const DISTANCES: &[&str] = &["5", "1", "2", "10", "25", "50"];

/// The directory's routes (aggregator role).
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(directory))
        .route("/hubs", get(hubs::hubs))
        .route("/hubs/{hub_id}", get(hubs::hub))
        .route("/hubs/{hub_id}/print", get(print::hub))
        .route("/print", get(print::search))
        .route("/hubs/{hub_id}/calendar.ics", get(calendar::hub_calendar))
        .route("/services/{hub_id}/{service_id}", get(service))
        .route(
            "/services/{hub_id}/{service_id}/calendar.ics",
            get(calendar::service_calendar),
        )
        .route("/reports", get(reports::public))
        .route("/dataset", get(dataset::dataset))
        .route("/accessibility", get(accessibility::statement))
        .route("/embed", get(embed::embed))
}

/// The front page of a node without the aggregator role.
pub fn hub_only_router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(hub_home))
        .route("/accessibility", get(accessibility::statement))
}

async fn hub_home() -> Response {
    message(
        StatusCode::OK,
        "Signpost hub",
        "This is a community hub's Signpost node. It publishes the hub's services for directories to gather. Hub staff can edit them on the admin page.",
        ("/admin", "Go to the admin page"),
    )
}

/// The directory's name, shown in every page's header.
fn site(agg: &Aggregator) -> String {
    agg.settings.name.clone()
}

/// The search form as typed.
#[derive(Debug, Clone, Default)]
pub struct SearchForm {
    pub q: String,
    pub category: String,
    pub near: String,
    pub within_km: String,
    pub open_now: bool,
    pub page: String,
}

impl SearchForm {
    /// Reads the form's fields from a query string's values.
    pub fn read(v: &Values) -> SearchForm {
        SearchForm {
            q: v.get("q").to_owned(),
            category: v.get("category").to_owned(),
            near: v.get("near").to_owned(),
            within_km: v.get("within_km").to_owned(),
            open_now: !v.get("open_now").is_empty(),
            page: v.get("page").to_owned(),
        }
    }

    /// The distance asked for, in km, or the default.
    pub fn within(&self) -> &str {
        if self.within_km.is_empty() {
            DISTANCES[0]
        } else {
            &self.within_km
        }
    }

    /// This search as a query string (no page number), for links that
    /// carry it elsewhere: another page of results, the leaflet.
    pub fn query(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", self.q.as_str()),
            ("category", &self.category),
            ("near", &self.near),
            ("within_km", &self.within_km),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        if self.open_now {
            s.append_pair("open_now", "1");
        }
        s.finish()
    }

    /// This search's address at another page.
    fn url_at(&self, page: u32) -> String {
        let query = self.query();
        let and = if query.is_empty() { "" } else { "&" };
        format!("/?{query}{and}page={page}")
    }
}

/// The map's settings as the page passes them to the script.
pub struct MapView {
    pub tiles: String,
    pub attribution: String,
}

/// `GET /`.
#[derive(Template)]
#[template(path = "directory.html")]
pub struct DirectoryPage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    pub form: SearchForm,
    pub max_q: usize,
    pub max_place: usize,
    pub categories: Vec<Choice>,
    pub within: Vec<Choice>,
    pub errors: Errors,
    pub notice: String,
    pub heading: String,
    pub results: Vec<ServiceView>,
    pub prev: String,
    pub next: String,
    pub map: Option<MapView>,
}

/// Fills in freshness ("Updated 2 days ago") from the hubs' times.
fn add_freshness(views: &mut [ServiceView], ids: &[String], fresh: &HashMap<String, Freshness>) {
    let now = Timestamp::now().as_second();
    for (view, id) in views.iter_mut().zip(ids) {
        if let Some(f) = fresh.get(id) {
            view.freshness = format!(
                "Updated by the hub {}; checked here {}.",
                ago(now, f.issued_at),
                ago(now, f.accepted_at_ms / 1000)
            );
            view.stale = f.expires_at <= now;
        }
    }
}

/// Turns search hits into views; a stored service that does not parse is
/// left out (and logged), never shown half.
fn hit_views(page: &search::Page) -> (Vec<ServiceView>, Vec<String>) {
    let mut views = Vec::new();
    let mut ids = Vec::new();
    for hit in &page.items {
        match serde_json::from_str::<Service>(hit.service.get()) {
            Ok(s) => {
                let mut v = service_view(&hit.hub_id, &hit.hub_name, &s);
                if let Some(d) = hit.distance_km {
                    v.distance = if d < 0.1 {
                        "Less than 100 m away".to_owned()
                    } else if d < 1.0 {
                        format!("{} m away", (d * 1000.0).round() as i64)
                    } else {
                        format!("{d:.1} km away")
                    };
                }
                v.anchor = format!("result-{}", views.len() + 1);
                views.push(v);
                ids.push(hit.hub_id.clone());
            }
            Err(e) => {
                tracing::warn!(hub = %hit.hub_id, error = %e, "a stored service does not parse")
            }
        }
    }
    (views, ids)
}

/// What a search of the directory found: what the directory page shows
/// under its form, and what the leaflet and the embed list.
#[derive(Default)]
pub struct Found {
    /// 200, or 400 when the search could not be run as typed.
    pub status: StatusCode,
    /// What to fix in the form; no results are looked for while any stand.
    pub errors: Errors,
    /// Which place the distances are from, in words.
    pub notice: String,
    /// "3 services", "No services found", ...
    pub heading: String,
    /// This page of results.
    pub results: Vec<ServiceView>,
    /// How many services match in all.
    pub total: u64,
    /// The previous and next pages' addresses, or empty.
    pub prev: String,
    pub next: String,
}

/// Runs a search as the directory's form puts it (words, category, a typed
/// place and distance, open now), `per_page` results at a time, with each
/// result's freshness. An `Err` is a whole page to send instead (an over-long
/// query, or a failure inside the node).
pub async fn find(
    state: &AppState,
    agg: &Aggregator,
    form: &SearchForm,
    per_page: u32,
) -> Result<Found, Detour> {
    let mut found = Found {
        status: StatusCode::OK,
        ..Found::default()
    };
    let errors = &mut found.errors;
    let mut query: HashMap<String, String> = HashMap::new();
    query.insert("per_page".into(), per_page.to_string());
    if !form.page.is_empty() {
        query.insert("page".into(), form.page.clone());
    }
    if !form.q.is_empty() {
        query.insert("q".into(), form.q.clone());
    }
    if form.open_now {
        query.insert("open_at".into(), "now".into());
    }
    let within = form.within();
    if !form.near.is_empty() {
        if form.near.chars().count() > place::MAX_PLACE_CHARS {
            found.status = StatusCode::BAD_REQUEST;
            errors.add(
                "near",
                format!("Type at most {} characters.", place::MAX_PLACE_CHARS),
            );
        } else {
            let typed = Typed::read(&form.near);
            let mut at = match place::from_store(agg, &typed).await {
                Ok(at) => at,
                Err(e) => return Err(e.into()),
            };
            if at.is_none() {
                if let Some(geocoder) = &state.pages.geocoder {
                    at = geocoder.find(&typed).await;
                }
            }
            match at {
                Some(f) => {
                    found.notice = format!("Showing services within {within} km of {}.", f.how);
                    query.insert("near".into(), format!("{},{}", f.lat, f.lon));
                    query.insert("within_km".into(), within.to_owned());
                }
                None => errors.add(
                    "near",
                    format!(
                        "We could not find \u{201c}{}\u{201d}. Try a whole postcode, the first part of one (like FY3), or a town.",
                        form.near
                    ),
                ),
            }
        }
    }
    let mut params = None;
    if errors.is_empty() {
        match SearchParams::from_query(&query) {
            Ok(mut p) => {
                if !form.category.is_empty() {
                    if form.category.chars().count() > 256 {
                        errors.add("category", "That category name is too long.");
                    } else {
                        p.taxonomy = vec![form.category.clone()];
                    }
                }
                params = Some(p);
            }
            Err(NodeError::Invalid { field, message }) => {
                found.status = StatusCode::BAD_REQUEST;
                let field = match field.as_str() {
                    "q" | "within_km" | "near" => field,
                    _ => String::new(),
                };
                errors.add(field, capitalise(&message));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !errors.is_empty() {
        if found.status == StatusCode::OK && errors.get("near").is_none() {
            found.status = StatusCode::BAD_REQUEST;
        }
        return Ok(found);
    }
    let Some(params) = params else {
        return Ok(found);
    };
    let page_no = params.page;
    let page = agg.search(params).await?;
    let (mut views, ids) = hit_views(&page);
    let fresh = agg.freshness(ids.clone()).await?;
    add_freshness(&mut views, &ids, &fresh);
    let first = u64::from(page_no - 1) * u64::from(per_page);
    found.heading = match page.total {
        0 => "No services found".to_owned(),
        1 => "1 service".to_owned(),
        n if n <= u64::from(per_page) => format!("{n} services"),
        n => format!(
            "{n} services (showing {} to {})",
            first + 1,
            (first + views.len() as u64).min(n)
        ),
    };
    if page_no > 1 {
        found.prev = form.url_at(page_no - 1);
    }
    if first + u64::from(per_page) < page.total
        && (first + u64::from(per_page)) < u64::from(search::MAX_OFFSET)
    {
        found.next = form.url_at(page_no + 1);
    }
    found.total = page.total;
    found.results = views;
    Ok(found)
}

/// Reads a page's query string as the search form, refusing one over
/// [`MAX_QUERY_BYTES`] with a page that says so.
pub fn read_form(raw: Option<String>) -> Result<SearchForm, Detour> {
    match query_values(raw) {
        Some(values) => Ok(SearchForm::read(&values)),
        None => Err(message(
            StatusCode::URI_TOO_LONG,
            "That search is too long",
            "Please use fewer words.",
            ("/", "Start a new search"),
        )
        .into()),
    }
}

/// A search page's query string as values, or None when it is longer than
/// [`MAX_QUERY_BYTES`] (each page words that refusal its own way).
pub fn query_values(raw: Option<String>) -> Option<Values> {
    let raw = raw.unwrap_or_default();
    (raw.len() <= MAX_QUERY_BYTES).then(|| Values::parse(raw.as_bytes()))
}

async fn directory(State(state): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Response {
    let Some(agg) = state.aggregator.clone() else {
        return hub_home().await;
    };
    let form = match read_form(raw) {
        Ok(form) => form,
        Err(page) => return page.into_response(),
    };
    let found = match find(&state, &agg, &form, PER_PAGE).await {
        Ok(found) => found,
        Err(page) => return page.into_response(),
    };
    let categories = agg
        .categories(directory::MAX_CATEGORIES as usize)
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "the category list could not be read");
            Vec::new()
        });
    let selected = [form.category.as_str()];
    let mut category_choices: Vec<Choice> = categories
        .iter()
        .map(|(name, n)| Choice {
            value: name.clone(),
            label: format!("{name} ({n})"),
            selected: name.eq_ignore_ascii_case(&form.category),
        })
        .collect();
    if !form.category.is_empty() && !category_choices.iter().any(|c| c.selected) {
        category_choices.push(Choice::new(&form.category, &form.category, &selected));
    }
    let within_choices = DISTANCES
        .iter()
        .map(|d| Choice::new(d, &format!("Within {d} km"), &[form.within()]))
        .collect();
    let web = &state.pages.web;
    let page = DirectoryPage {
        title: format!("Find help: {}", site(&agg)),
        site: site(&agg),
        v: asset_version(),
        max_q: MAX_QUERY_CHARS,
        max_place: place::MAX_PLACE_CHARS,
        categories: category_choices,
        within: within_choices,
        errors: found.errors,
        notice: found.notice,
        heading: found.heading,
        results: found.results,
        prev: found.prev,
        next: found.next,
        map: (!web.tile_url.is_empty()).then(|| MapView {
            tiles: web.tile_url.clone(),
            attribution: web.tile_attribution.clone(),
        }),
        form,
    };
    render(found.status, &page)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `GET /services/{hub_id}/{service_id}`.
#[derive(Template)]
#[template(path = "service.html")]
pub struct ServicePage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    pub s: ServiceView,
}

async fn service(
    State(state): State<Arc<AppState>>,
    Path((hub_id, service_id)): Path<(String, String)>,
) -> Response {
    let Some(agg) = state.aggregator.clone() else {
        return not_found();
    };
    if hub_id.len() > 256 || service_id.len() > 256 {
        return not_found();
    }
    let found = match agg.service(&hub_id, &service_id).await {
        Ok(found) => found,
        Err(e) => return internal(&e),
    };
    let Some(HeldService { hub_name, json, .. }) = found else {
        return not_found();
    };
    let fresh = match agg.freshness(vec![hub_id.clone()]).await {
        Ok(fresh) => fresh,
        Err(e) => return internal(&e),
    };
    let Ok(service) = serde_json::from_str::<Service>(&json) else {
        return not_found();
    };
    let mut views = vec![service_view(&hub_id, &hub_name, &service)];
    add_freshness(&mut views, std::slice::from_ref(&hub_id), &fresh);
    let Some(s) = views.pop() else {
        return not_found();
    };
    render(
        StatusCode::OK,
        &ServicePage {
            title: format!("{}: {}", s.name, site(&agg)),
            site: site(&agg),
            v: asset_version(),
            s,
        },
    )
}
