//! The admin home page: the hub's services, which directories have
//! fetched its listing since the last save (kept current by `admin.js`
//! from [`FETCHES_PATH`]), and links to the other admin pages.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use jiff::Timestamp;
use serde::Serialize;

use super::access::{current, hub_name, hub_of, see_other, Detour};
use super::registrations;
use super::sign_in::sign_in_page;
use crate::web::form::Errors;
use crate::web::html::{asset_version, render};
use crate::web::pages::view::{ago, schedule_words, status_note, when};
use crate::web::state::{AppState, HubHandle};
use crate::web::ApiError;

/// One service in the admin list.
pub struct ServiceRow {
    pub id: String,
    pub name: String,
    pub status: String,
    pub hours: Vec<String>,
}

/// The admin home page.
#[derive(Template)]
#[template(path = "admin/home.html")]
pub struct HomePage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    pub csrf: String,
    pub flash: String,
    /// The listing and which directories have fetched it (kept current
    /// by `admin.js` from [`FETCHES_PATH`]).
    pub lines: FetchLines,
    pub services: Vec<ServiceRow>,
    /// This node also runs a directory: link its coordinator reports.
    pub reports: bool,
    /// With a directory, how many registrations wait for approval (the
    /// page links them).
    pub waiting: Option<usize>,
}

/// Where the admin home page's script reads [`FetchLines`].
pub const FETCHES_PATH: &str = "/admin/fetches";

/// One directory's line on the admin home page, so that after a save a
/// volunteer sees whether it has fetched the new listing yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetcherLine {
    /// The directory's address: the line's key for the page's script.
    pub address: String,
    /// True when it has the listing served now.
    pub latest: bool,
    /// The line as the page shows it.
    pub line: String,
}

/// The admin home page's listing and fetch lines: one source for the page
/// and for [`FETCHES_PATH`], so the script shows exactly what a reload
/// would.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchLines {
    /// The listing being served: its number and dates.
    pub listing: String,
    /// When a directory last fetched it.
    pub fetched: String,
    /// Each directory that fetched it, most recent first (at most
    /// [`crate::hub::fetch_log::MAX_FETCHERS`]).
    pub directories: Vec<FetcherLine>,
    /// Some directory has not fetched the latest listing yet: the page's
    /// script keeps asking.
    pub behind: bool,
}

/// The listing and fetch lines at `now` (Unix seconds), from the hub's
/// fetch log.
pub fn fetch_lines(hub: &HubHandle, now: i64) -> FetchLines {
    let current = hub.current();
    let listing = match &current {
        Some(p) => format!(
            "Number {}, signed {}; valid until {}.",
            p.seq,
            when(p.issued_at.as_second()),
            when(p.expires_at.as_second())
        ),
        None => "Not published yet.".to_owned(),
    };
    let recent = hub.fetches.recent();
    let fetched = match recent.first() {
        Some(f) => format!("Last {} ({}).", ago(now, f.at.as_second()), when(f.at.as_second())),
        None => "Not since this node started. Directories fetch the listing every so often (every 15 minutes by default).".to_owned(),
    };
    // After a save, whether each directory has fetched the new listing
    // yet (a nudged one does within about a second).
    let current_seq = current.map(|p| p.seq);
    let directories: Vec<FetcherLine> = recent
        .iter()
        .take(crate::hub::fetch_log::MAX_FETCHERS)
        .map(|f| {
            let latest = current_seq.is_none_or(|seq| f.seq >= seq);
            let when = format!("{}: {}", f.address, ago(now, f.at.as_second()));
            let line = match current_seq {
                Some(_) if latest => format!("{when}; has the latest listing"),
                Some(seq) => format!("{when}; has not fetched listing number {seq} yet"),
                None => when,
            };
            FetcherLine {
                address: f.address.to_string(),
                latest,
                line,
            }
        })
        .collect();
    FetchLines {
        listing,
        fetched,
        behind: directories.iter().any(|d| !d.latest),
        directories,
    }
}

/// `GET /admin/fetches`: [`FetchLines`] as JSON for the signed-in admin,
/// so the home page's script updates them without a reload. Small (the
/// fetch log is capped) and never cached (the router's `no-store`);
/// signed out, refused with nothing in it.
pub async fn fetches(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<FetchLines>, ApiError> {
    let Some(hub) = state.hub.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "this node does not run the hub role",
        ));
    };
    if current(&state, &headers).is_none() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "signed_out",
            "sign in on the admin page first",
        ));
    }
    Ok(Json(fetch_lines(&hub, Timestamp::now().as_second())))
}

/// `GET /admin`: the services with links to edit them, the fetch lines,
/// and any message from the last save; signed out, the sign-in page.
pub async fn home(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, Detour> {
    // A node that only runs a directory: its admin page is the reports.
    if state.hub.is_none() && state.aggregator.is_some() {
        return Ok(see_other("/admin/reports"));
    }
    let hub = hub_of(&state)?;
    let site = hub_name(&hub).await;
    let Some(session) = current(&state, &headers) else {
        return Ok(sign_in_page(
            site,
            StatusCode::OK,
            Errors::default(),
            "/admin",
        ));
    };
    let services = hub.run(|core| core.services()).await?;
    let waiting = match &state.aggregator {
        Some(agg) => Some(registrations::waiting(agg).await?),
        None => None,
    };
    let lines = fetch_lines(&hub, Timestamp::now().as_second());
    let page = HomePage {
        title: format!("Admin: {site}"),
        site,
        v: asset_version(),
        flash: state
            .admin_sessions
            .take_flash(&session.id)
            .unwrap_or_default(),
        csrf: session.csrf,
        lines,
        reports: state.aggregator.is_some(),
        waiting,
        services: services
            .iter()
            .map(|s| ServiceRow {
                id: s.id.clone(),
                name: s.name.clone(),
                status: status_note(s.status).unwrap_or("").to_owned(),
                hours: s.schedules.iter().map(schedule_words).collect(),
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}
