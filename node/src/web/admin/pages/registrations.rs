//! The operator's page of registrations waiting for approval
//! (`aggregator.registration = "approval"`, the default): who asked for
//! which address and when, when the request lapses, and an Approve and a
//! Reject form on each. The same decisions as `signpost-node source
//! approve`/`reject` and `/admin/v1/registrations`, made through the same
//! query-layer methods ([`crate::web::admin::aggregator::decide`]), for an
//! operator who prefers a browser. Plain forms that work without
//! JavaScript, behind the admin page's session and CSRF check.
//!
//! Below them, the sources already taken on through registration (in
//! either mode), each with who asked and how many services and listing
//! bytes its hub holds here: strangers' hubs are capped
//! (`max_registered_services`, `max_registered_listing_bytes`), and this
//! is where the operator sees how close each comes.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;

use super::access::{see_other, Detour, DirectoryForm, DirectoryPage, Posted};
use crate::aggregator::Aggregator;
use crate::config::Registration;
use crate::error::NodeError;
use crate::web::admin::aggregator::decide;
use crate::web::html::{asset_version, message, render};
use crate::web::pages::view::{ago, when};
use crate::web::state::AppState;

/// This page's path (also where signing in may lead, and where a decision
/// returns to).
pub const PATH: &str = "/admin/registrations";
/// Longest address accepted from the form (the registration endpoint
/// refuses longer ones, so none waits).
const MAX_URL: usize = 2048;

/// One registration waiting, in words.
pub struct PendingRow {
    /// The listing URL, exactly as stored (the form sends it back).
    pub url: String,
    /// The hub the listing named when it was checked, if it was.
    pub hub_id: String,
    /// Who asked: a client address, or an IPv6 /64.
    pub registrant: String,
    /// When, e.g. "3 hours ago".
    pub asked_ago: String,
    /// When, as a date and time.
    pub asked_at: String,
    /// When the request lapses if nobody decides.
    pub expires: String,
}

/// One registered source, in words.
pub struct RegisteredRow {
    /// The listing URL.
    pub url: String,
    /// The hub it serves, if known yet.
    pub hub_id: String,
    /// Who asked; empty when not recorded (registered before it was).
    pub registrant: String,
    /// When it asked, as a date and time.
    pub asked_at: String,
    /// Services its hub holds here.
    pub services: u64,
    /// Its held listing's size, e.g. "12.5 KiB" (empty when none is held).
    pub listing_size: String,
}

/// `GET /admin/registrations`.
#[derive(Template)]
#[template(path = "admin/registrations.html")]
pub struct RegistrationsPage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    pub csrf: String,
    pub flash: String,
    /// The configured mode's word (`approval`, `open`, `off`).
    pub mode: &'static str,
    /// True when strangers' registrations wait here (the default mode);
    /// otherwise the page says none will until the mode changes.
    pub approval: bool,
    /// Days a request waits before it lapses.
    pub expiry_days: u64,
    pub pending: Vec<PendingRow>,
    /// Sources taken on through registration, with what each holds.
    pub registered: Vec<RegisteredRow>,
    /// Most services a registered source's listing may hold.
    pub max_services: usize,
    /// Largest listing a registered source may serve, in words.
    pub max_listing_size: String,
}

/// How many registrations wait, for the links to this page on the admin
/// home and the signed-in reports page.
pub async fn waiting(agg: &Aggregator) -> Result<usize, NodeError> {
    Ok(agg.pending_registrations().await?.len())
}

/// `GET /admin/registrations`: the list with its forms, or the sign-in
/// page (which leads back here).
pub async fn page(
    State(state): State<Arc<AppState>>,
    DirectoryPage { agg, session }: DirectoryPage,
) -> Result<Response, Detour> {
    let pending = agg.pending_registrations().await?;
    let registered = agg.registered_sources().await?;
    let now = Timestamp::now().as_second();
    let lifetime = agg.registration_lifetime_secs();
    let pending = pending
        .into_iter()
        .map(|p| PendingRow {
            asked_ago: ago(now, p.requested_at),
            asked_at: when(p.requested_at),
            expires: when(p.requested_at.saturating_add(lifetime)),
            hub_id: p.hub_id.unwrap_or_default(),
            registrant: p.registrant,
            url: p.url,
        })
        .collect();
    let registered = registered
        .into_iter()
        .map(|r| RegisteredRow {
            asked_at: when(r.requested_at),
            hub_id: r.hub_id.unwrap_or_default(),
            registrant: r.registrant,
            services: r.services,
            listing_size: if r.listing_bytes == 0 {
                String::new()
            } else {
                size(r.listing_bytes)
            },
            url: r.url,
        })
        .collect();
    let site = agg.settings.name.clone();
    Ok(render(
        StatusCode::OK,
        &RegistrationsPage {
            title: format!("Registrations waiting: {site}"),
            site,
            v: asset_version(),
            flash: state
                .admin_sessions
                .take_flash(&session.id)
                .unwrap_or_default(),
            csrf: session.csrf,
            mode: agg.settings.registration.as_str(),
            approval: agg.settings.registration == Registration::Approval,
            expiry_days: agg.settings.registration_expiry_days,
            pending,
            registered,
            max_services: agg.settings.max_registered_services,
            max_listing_size: size(
                u64::try_from(agg.settings.max_registered_listing_bytes).unwrap_or(u64::MAX),
            ),
        },
    ))
}

/// A size in bytes as people read it: "900 bytes", "12.5 KiB", "1.0 MiB".
fn size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    // Tenths, rounded down, in integers (no float casts to get wrong).
    let tenths = |unit: u64| {
        let t = bytes.saturating_mul(10) / unit;
        format!("{}.{}", t / 10, t % 10)
    };
    match bytes {
        0..KIB => format!("{bytes} bytes"),
        KIB..MIB => format!("{} KiB", tenths(KIB)),
        _ => format!("{} MiB", tenths(MIB)),
    }
}

/// `POST /admin/registrations/approve`: the address becomes a source,
/// crawled at once.
pub async fn approve(
    State(state): State<Arc<AppState>>,
    form: DirectoryForm,
) -> Result<Response, Detour> {
    decided(&state, form, true).await
}

/// `POST /admin/registrations/reject`: the request is forgotten (the hub
/// may ask again).
pub async fn reject(
    State(state): State<Arc<AppState>>,
    form: DirectoryForm,
) -> Result<Response, Detour> {
    decided(&state, form, false).await
}

async fn decided(
    state: &AppState,
    Posted(agg, values, session): DirectoryForm,
    approve: bool,
) -> Result<Response, Detour> {
    let raw = values.get("url");
    if raw.is_empty() || raw.len() > MAX_URL {
        return Err(message(
            StatusCode::BAD_REQUEST,
            "This form was not accepted",
            "It did not name a registration. Go back, reload the page and try again.",
            (PATH, "Back to the registrations"),
        )
        .into());
    }
    let (url, done) = decide(&agg, raw, approve, "the admin page").await?;
    if !done {
        return Err(message(
            StatusCode::NOT_FOUND,
            "Nothing waits at that address",
            &format!(
                "No registration of {url} waits for approval: it may have been decided \
                 already or have lapsed. Reload the list to see what still waits."
            ),
            (PATH, "Back to the registrations"),
        )
        .into());
    }
    let text = if approve && agg.settings.scheduled {
        format!("Approved {url}: it is now a source, and is crawled within a few seconds.")
    } else if approve {
        format!("Approved {url}: it is now a source, crawled at the next crawl.")
    } else {
        format!("Rejected {url}: it will not be crawled. The hub may ask again.")
    };
    state.admin_sessions.set_flash(&session.id, text);
    Ok(see_other(PATH))
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size(900), "900 bytes");
        assert_eq!(size(1024), "1.0 KiB");
        assert_eq!(size(12_800), "12.5 KiB");
        assert_eq!(size(1024 * 1024), "1.0 MiB");
        assert_eq!(size(64 * 1024 * 1024), "64.0 MiB");
    }
}
