//! The hubs a directory holds: the list at `/hubs` (each with its health)
//! and a page per hub (its profile, the Lancashire dimensions, how fresh
//! its listing is, and its services).

use super::*;

/// One row of `/hubs`.
pub struct HubRow {
    pub name: String,
    pub href: String,
    pub services: u64,
    pub health: String,
}

/// `GET /hubs`.
#[derive(Template)]
#[template(path = "hubs.html")]
pub struct HubsPage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    pub hubs: Vec<HubRow>,
}

/// A hub's freshness in words.
fn health_words(staleness: Staleness, issued_at: &str) -> String {
    let now = Timestamp::now().as_second();
    let signed = issued_at
        .parse::<Timestamp>()
        .map(|t| ago(now, t.as_second()))
        .unwrap_or_default();
    match staleness {
        Staleness::Fresh => format!("Up to date (signed {signed})"),
        Staleness::Expired => {
            format!("Out of date: the hub has not re-signed its listing (last signed {signed})")
        }
        Staleness::Unreachable => {
            format!("The hub cannot be reached just now; showing what it signed {signed}")
        }
        Staleness::Gone => "Left the directory".to_owned(),
    }
}

pub(super) async fn hubs(State(state): State<Arc<AppState>>) -> Response {
    let Some(agg) = state.aggregator.clone() else {
        return not_found();
    };
    let listed = agg.hubs(1000, 0).await;
    let (items, _) = match listed {
        Ok(x) => x,
        Err(e) => return internal(&e),
    };
    let hubs = items
        .iter()
        .filter(|h| h.state == HubState::Active)
        .map(|h| HubRow {
            name: h.name.clone(),
            href: hub_href(&h.hub_id),
            services: h.services,
            health: health_words(h.staleness, &h.issued_at),
        })
        .collect();
    render(
        StatusCode::OK,
        &HubsPage {
            title: format!("Hubs: {}", site(&agg)),
            site: site(&agg),
            v: asset_version(),
            hubs,
        },
    )
}

/// A hub as its page shows it.
pub struct HubView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub area: String,
    pub address: String,
    pub website: String,
    pub email: String,
    pub phone: String,
    pub dimensions: Vec<(&'static str, String)>,
    pub health: String,
    pub issued: String,
    pub expires: String,
    pub accepted: String,
    pub sources: Vec<String>,
    /// The hub's timetable as iCalendar, to subscribe to.
    pub calendar: String,
}

/// `GET /hubs/{hub_id}`.
#[derive(Template)]
#[template(path = "hub.html")]
pub struct HubPage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    pub hub: HubView,
    pub services: Vec<ServiceView>,
    pub total: u64,
    /// This hub's leaflet (`/hubs/{id}/print`).
    pub print: String,
}

fn rfc3339_words(text: &str) -> String {
    text.parse::<Timestamp>()
        .map(|t| when(t.as_second()))
        .unwrap_or_else(|_| text.to_owned())
}

/// What a hub's page and its leaflet both show: the hub and its first
/// [`HUB_SERVICES`] services by name, each with its freshness.
pub(super) struct HubListing {
    pub agg: Arc<Aggregator>,
    pub summary: db::HubSummary,
    pub services: Vec<ServiceView>,
    /// How many services the hub has in all.
    pub total: u64,
}

/// Looks up the hub the directory holds as active under `hub_id`, and its
/// services, or gives the page to send instead: the hub's page and its
/// leaflet share this, so an id that is malformed, unknown or gone (or a
/// node with no directory) is "not found" on both.
pub(super) async fn hub_listing(state: &AppState, hub_id: &str) -> Result<HubListing, Response> {
    let Some(agg) = state.aggregator.clone() else {
        return Err(not_found());
    };
    if signpost_spec::KeyId::parse(hub_id).is_err() {
        return Err(not_found());
    }
    let summary = match agg.hub(hub_id).await {
        Ok(Some(h)) if h.state == HubState::Active => h,
        Ok(_) => return Err(not_found()),
        Err(e) => return Err(internal(&e)),
    };
    let params = SearchParams {
        q: None,
        taxonomy: Vec::new(),
        near: None,
        open_at: None,
        hub: Some(hub_id.to_owned()),
        order: search::Order::Name,
        page: 1,
        per_page: HUB_SERVICES,
    };
    let page = agg.search(params).await.map_err(|e| internal(&e))?;
    let (mut services, ids) = hit_views(&page);
    let fresh = agg.freshness(ids.clone()).await.map_err(|e| internal(&e))?;
    add_freshness(&mut services, &ids, &fresh);
    Ok(HubListing {
        agg,
        summary,
        services,
        total: page.total,
    })
}

pub(super) async fn hub(
    State(state): State<Arc<AppState>>,
    Path(hub_id): Path<String>,
) -> Response {
    let HubListing {
        agg,
        summary,
        services,
        total,
    } = match hub_listing(&state, &hub_id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let profile: Option<HubProfile> = serde_json::from_str(summary.profile.get()).ok();
    let text = |v: Option<&String>| v.cloned().unwrap_or_default();
    let p = profile.as_ref();
    let hub = HubView {
        calendar: format!("{}/calendar.ics", hub_href(&summary.hub_id)),
        id: summary.hub_id.clone(),
        name: summary.name.clone(),
        description: text(p.and_then(|p| p.description.as_ref())),
        area: text(p.and_then(|p| p.area_served.as_ref())),
        address: p
            .and_then(|p| p.address.as_ref())
            .map(db::address_text)
            .unwrap_or_default(),
        website: p
            .and_then(|p| p.url.as_deref())
            .and_then(safe_href)
            .unwrap_or_default(),
        email: text(p.and_then(|p| p.email.as_ref())),
        phone: text(p.and_then(|p| p.phone.as_ref())),
        dimensions: p
            .map(|p| view::dimension_words(&p.dimensions))
            .unwrap_or_default(),
        health: health_words(summary.staleness, &summary.issued_at),
        issued: rfc3339_words(&summary.issued_at),
        expires: rfc3339_words(&summary.expires_at),
        accepted: rfc3339_words(&summary.accepted_at),
        sources: summary
            .sources
            .iter()
            .map(|s| {
                let mut line = s.url.clone();
                if let Some(t) = s.last_success_at {
                    line.push_str(&format!(": last fetched {}", when(t)));
                }
                if s.failures > 0 {
                    line.push_str(&format!(
                        "; {} failed tries since{}",
                        s.failures,
                        s.last_error
                            .as_ref()
                            .map(|e| format!(" ({e})"))
                            .unwrap_or_default()
                    ));
                }
                line
            })
            .collect(),
    };
    render(
        StatusCode::OK,
        &HubPage {
            title: format!("{}: {}", summary.name, site(&agg)),
            site: site(&agg),
            v: asset_version(),
            hub,
            services,
            total,
            print: format!("{}/print", hub_href(&hub_id)),
        },
    )
}
