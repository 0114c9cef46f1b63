//! The coordinator page of an aggregator, `GET /reports`: the three
//! reports of [`crate::reports`] as tables people can read (probable
//! duplicates with their reasons, coverage and gaps by category with a map,
//! freshness with the weekly digest's links). It is public, like the
//! directory and the `/v1/reports/` API it shows.
//!
//! The same page is served at `/admin/reports` to a signed-in coordinator
//! (see [`crate::web::admin::pages`]), where each pair also gets a "Not a
//! duplicate" form carrying the session's CSRF token. Keeping the signed-in
//! view under `/admin` keeps the session cookie scoped to `/admin`.

use signpost_client::store::aggregator::Staleness;
use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;

use crate::aggregator::{Aggregator, ReportError, REPORT_RETRY_AFTER_SECS};
use crate::reports::{self, Division, Snapshot};
use crate::web::form::{Choice, Values};
use crate::web::html::{asset_version, internal, message, render};
use crate::web::pages::view::{hub_href, service_href};
use crate::web::pages::MapView;
use crate::web::state::AppState;

/// Distances offered for gaps, km; the first is the default.
const WITHIN: &[&str] = &["5", "1", "2", "10", "25"];
/// Grid cell sizes offered (when no areas are configured), km.
const CELLS: &[&str] = &["5", "1", "2", "10", "25"];
/// Most gaps named in one row of the table (the map shows every one).
const GAPS_SHOWN: usize = 12;
/// Most duplicate pairs shown (the API gives them all).
const PAIRS_SHOWN: usize = 500;
/// Days after which a service's `assured_date` counts as not reviewed.
const REVIEW_DAYS: i64 = 365;

/// One side of a pair as a table cell shows it.
pub struct SideView {
    pub name: String,
    pub href: String,
    pub hub: String,
    pub hub_href: String,
    pub hub_id: String,
    pub service_id: String,
}

/// One probable duplicate.
pub struct PairView {
    pub anchor: String,
    pub score: String,
    pub reasons: Vec<String>,
    pub a: SideView,
    pub b: SideView,
}

/// One category's row of the coverage table.
pub struct CoverageRow {
    pub term: String,
    pub services: usize,
    pub hubs: String,
    /// Opening hours per weekday, Monday first, in words ("7.5 h" or "").
    pub hours: Vec<String>,
    /// The first gaps, in words.
    pub gaps: Vec<String>,
    /// How many gaps in all.
    pub gap_count: usize,
    /// This page with the map showing this category.
    pub map_href: String,
}

/// One hub's row of the freshness table.
pub struct FreshRow {
    pub name: String,
    pub href: String,
    pub state: String,
    pub stale: bool,
    pub last_changed: String,
    pub services: usize,
    pub unreviewed: usize,
}

/// `GET /reports` (and `/admin/reports` signed in).
#[derive(Template)]
#[template(path = "reports.html")]
pub struct ReportsPage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    /// The session's CSRF token; empty for the public page (no forms).
    pub csrf: String,
    pub flash: String,
    /// This page's own path (`/reports` or `/admin/reports`).
    pub path: &'static str,
    /// For a signed-in coordinator, how many registrations wait for
    /// approval (the page links them); None on the public page.
    pub waiting: Option<usize>,
    pub pairs: Vec<PairView>,
    pub pair_total: usize,
    pub within: Vec<Choice>,
    pub cells: Vec<Choice>,
    /// True when gaps are grid cells (the cell size can be chosen).
    pub grid: bool,
    pub division: String,
    pub terms: Vec<Choice>,
    pub coverage: Vec<CoverageRow>,
    pub map: Option<MapView>,
    /// Address of the map's GeoJSON for the chosen category.
    pub map_data: String,
    /// The category on the map.
    pub map_term: String,
    pub fresh: Vec<FreshRow>,
    pub review_days: i64,
}

/// What the page was asked for.
struct Asked {
    within: String,
    cell: String,
    term: String,
}

fn asked(raw: Option<String>) -> Option<Asked> {
    let raw = raw.unwrap_or_default();
    if raw.len() > 2048 {
        return None;
    }
    let v = Values::parse(raw.as_bytes());
    let pick = |name: &str, allowed: &[&str]| {
        let got = v.get(name);
        if allowed.contains(&got) {
            got.to_owned()
        } else {
            allowed[0].to_owned()
        }
    };
    Some(Asked {
        within: pick("within_km", WITHIN),
        cell: pick("cell_km", CELLS),
        term: v.get("term").chars().take(256).collect(),
    })
}

fn query(path: &str, a: &Asked, term: &str) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("within_km", &a.within);
    s.append_pair("cell_km", &a.cell);
    if !term.is_empty() {
        s.append_pair("term", term);
    }
    format!("{path}?{}", s.finish())
}

fn hours(minutes: u32) -> String {
    match minutes {
        0 => String::new(),
        m if m % 60 == 0 => format!("{} h", m / 60),
        m => format!("{:.1} h", f64::from(m) / 60.0),
    }
}

fn gap_words(g: &reports::Gap) -> String {
    let place = match &g.area {
        Some(name) => name.clone(),
        None => format!("Around {:.3}, {:.3}", g.latitude, g.longitude),
    };
    match g.nearest_km {
        Some(km) => format!("{place} (nearest {km:.1} km)"),
        None => format!("{place} (none anywhere)"),
    }
}

/// Builds the page; `csrf` and `flash` are empty for the public view.
pub async fn page(
    state: &AppState,
    agg: Arc<Aggregator>,
    raw: Option<String>,
    path: &'static str,
    csrf: String,
    flash: String,
    waiting: Option<usize>,
) -> Response {
    let Some(a) = asked(raw) else {
        return message(
            StatusCode::URI_TOO_LONG,
            "That address is too long",
            "Open the reports page again from the directory.",
            ("/reports", "Coordinator reports"),
        );
    };
    let within: f64 = a.within.parse().unwrap_or(5.0);
    let cell_km: f64 = a.cell.parse().unwrap_or(5.0);
    let areas = agg.areas.clone();
    let computed = agg
        .report(format!("page {within} {cell_km}"), move |c, index| {
            let snapshot = Snapshot::load(c, index)?;
            let division = match &areas {
                Some(a) => Division::Areas(a),
                None => Division::Grid { cell_km },
            };
            let pairs = snapshot.duplicates(c)?;
            let coverage = snapshot.coverage(within, division);
            let fresh = reports::freshness(c, index, Timestamp::now().as_second(), REVIEW_DAYS)?;
            Ok((pairs, coverage, fresh))
        })
        .await;
    let computed = match computed {
        Ok(x) => x,
        Err(ReportError::Busy) => return busy(),
        Err(ReportError::Failed(e)) => return internal(&e),
    };
    let (pairs, coverage, fresh) = &*computed;
    let side = |s: &reports::PairSide| SideView {
        name: s.name.clone(),
        href: service_href(&s.hub_id, &s.service_id),
        hub: s.hub_name.clone(),
        hub_href: hub_href(&s.hub_id),
        hub_id: s.hub_id.clone(),
        service_id: s.service_id.clone(),
    };
    let pair_total = pairs.len();
    let pairs = pairs
        .iter()
        .take(PAIRS_SHOWN)
        .enumerate()
        .map(|(i, p)| PairView {
            anchor: format!("pair-{}", i + 1),
            score: format!("{:.0}%", p.score * 100.0),
            reasons: p.reasons.clone(),
            a: side(&p.a),
            b: side(&p.b),
        })
        .collect();
    // The map shows the category asked for, else the first with a gap.
    let map_term = coverage
        .items
        .iter()
        .find(|c| c.term.eq_ignore_ascii_case(&a.term))
        .or_else(|| coverage.items.iter().find(|c| !c.gaps.is_empty()))
        .or(coverage.items.first())
        .map(|c| c.term.clone())
        .unwrap_or_default();
    let rows = coverage
        .items
        .iter()
        .map(|c| CoverageRow {
            term: c.term.clone(),
            services: c.services,
            hubs: c.hubs.join(", "),
            hours: c.minutes_by_weekday.iter().map(|m| hours(*m)).collect(),
            gaps: c.gaps.iter().take(GAPS_SHOWN).map(gap_words).collect(),
            gap_count: c.gaps.len(),
            map_href: format!("{}#coverage-map", query(path, &a, &c.term)),
        })
        .collect();
    let division = match &agg.areas {
        Some(areas) => format!(
            "Gaps are the areas in {} ({} areas) with no service of the category inside \
             them or within {} km of their edge.",
            areas.source,
            areas.areas.len(),
            a.within
        ),
        None => format!(
            "Gaps are {} km squares holding at least one service, whose centre has no \
             service of the category within {} km.",
            a.cell, a.within
        ),
    };
    let mut map_query = url::form_urlencoded::Serializer::new(String::new());
    map_query.append_pair("term", &map_term);
    map_query.append_pair("within_km", &a.within);
    map_query.append_pair("cell_km", &a.cell);
    let web = &state.pages.web;
    let now = Timestamp::now().as_second();
    let fresh = fresh
        .iter()
        .map(|f| FreshRow {
            href: hub_href(&f.hub_id),
            state: match f.staleness {
                Staleness::Fresh => "Up to date",
                Staleness::Expired => "Out of date: not re-signed",
                Staleness::Unreachable => "Cannot be reached",
                Staleness::Gone => "Left the directory",
            }
            .to_owned(),
            stale: f.staleness != Staleness::Fresh,
            last_changed: f
                .last_changed
                .parse::<Timestamp>()
                .map(|t| crate::web::pages::view::ago(now, t.as_second()))
                .unwrap_or_else(|_| f.last_changed.clone()),
            services: f.services,
            unreviewed: f.unreviewed_services,
            name: f.name.clone(),
        })
        .collect();
    let site = agg.settings.name.clone();
    render(
        StatusCode::OK,
        &ReportsPage {
            title: format!("Coordinator reports: {site}"),
            site,
            v: asset_version(),
            csrf,
            flash,
            path,
            waiting,
            pairs,
            pair_total,
            within: WITHIN
                .iter()
                .map(|d| Choice::new(d, &format!("{d} km"), &[a.within.as_str()]))
                .collect(),
            cells: CELLS
                .iter()
                .map(|d| Choice::new(d, &format!("{d} km"), &[a.cell.as_str()]))
                .collect(),
            grid: agg.areas.is_none(),
            division,
            terms: coverage
                .items
                .iter()
                .map(|c| Choice::new(&c.term, &c.term, &[map_term.as_str()]))
                .collect(),
            coverage: rows,
            map: (!web.tile_url.is_empty()).then(|| MapView {
                tiles: web.tile_url.clone(),
                attribution: web.tile_attribution.clone(),
            }),
            map_data: format!("/v1/reports/coverage/map?{}", map_query.finish()),
            map_term,
            fresh,
            review_days: REVIEW_DAYS,
        },
    )
}

/// `GET /reports`: the public view.
pub async fn public(State(state): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Response {
    let Some(agg) = state.aggregator.clone() else {
        return message(
            StatusCode::NOT_FOUND,
            "Page not found",
            "This node does not run a directory, so it has no reports.",
            ("/", "Back to the start"),
        );
    };
    page(
        &state,
        agg,
        raw,
        "/reports",
        String::new(),
        String::new(),
        None,
    )
    .await
}

/// The answer when every report turn is taken: 503, to come back shortly.
fn busy() -> Response {
    let mut response = message(
        StatusCode::SERVICE_UNAVAILABLE,
        "The reports are busy",
        "They are being worked out for someone else just now. Try again in a few seconds.",
        ("/reports", "Coordinator reports"),
    );
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        REPORT_RETRY_AFTER_SECS.into(),
    );
    response
}
