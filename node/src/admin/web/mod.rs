//! The hub's admin web page at `/admin`, for staff who are not engineers:
//! sign in with the admin token, edit the hub's details and its services,
//! import a spreadsheet after seeing what it would change, and see when
//! directories last fetched the listing. Plain HTML forms that work without
//! JavaScript; every change goes through the same [`crate::hub::HubCore`]
//! operations as the JSON admin API, so each publishes a new signed listing.
//!
//! Sessions live in memory ([`session`]); the cookie is HttpOnly,
//! SameSite=Strict, limited to `/admin`, and Secure over https. Every form
//! carries the session's CSRF token, and a POST from another site is
//! refused outright.

pub mod form;
pub mod registrations;
pub mod reports;
pub mod session;
pub mod sessions;

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use signpost_spec::{Limits, Service};

use crate::aggregator::Aggregator;
use crate::error::NodeError;
use crate::hub::db;
use crate::import::csv::{Mapping, COLUMNS, MAX_MAPPED_COLUMNS};
use crate::import::{self, Format, ImportPlan, MAX_IMPORT_BYTES};
use crate::web::form::Choice;
use crate::web::form::{Errors, Values};
use crate::web::html::{asset_version, internal, message, render};
use crate::web::pages::view::{ago, schedule_words, status_note, when};
use crate::web::state::{AppState, HubHandle};
use crate::web::ApiError;
use form::Section;
use session::{csrf_matches, Current, PendingImport, UploadedFile};

/// The session cookie's name.
pub const COOKIE: &str = "signpost_admin";
/// Largest form body (a service with every text field full).
const MAX_FORM_BYTES: usize = 1024 * 1024;

/// The `/admin` page routes.
pub fn router(_state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/", get(home))
        .route(FETCHES_PATH, get(fetches))
        .route("/admin/sign-in", post(sign_in))
        .route("/admin/sign-out", post(sign_out))
        .route("/admin/profile", get(profile_form).post(save_profile))
        .route("/admin/services/new", get(new_service_form))
        .route("/admin/services", post(create_service))
        .route(
            "/admin/services/{id}",
            get(edit_service_form).post(update_service),
        )
        .route(
            "/admin/services/{id}/delete",
            get(delete_form).post(delete_service),
        )
        .route("/admin/import", get(import_form))
        .route(
            "/admin/import",
            post(import_preview).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES + 64 * 1024)),
        )
        .route("/admin/import/confirm", post(import_confirm))
        .route("/admin/import/columns", post(import_columns))
        .route("/admin/reports", get(reports::page))
        .route("/admin/reports/not-duplicate", post(reports::not_duplicate))
        .route(registrations::PATH, get(registrations::page))
        .route("/admin/registrations/approve", post(registrations::approve))
        .route("/admin/registrations/reject", post(registrations::reject))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(axum::middleware::map_response(no_store))
}

async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A page shown instead of the one asked for (sign in first, not found,
/// refused), boxed so results carrying it stay small.
pub struct Detour(Box<Response>);

impl From<Response> for Detour {
    fn from(r: Response) -> Self {
        Detour(Box::new(r))
    }
}

impl IntoResponse for Detour {
    fn into_response(self) -> Response {
        *self.0
    }
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() <= 100)
}

fn current(state: &AppState, headers: &HeaderMap) -> Option<Current> {
    cookie_value(headers).and_then(|id| state.admin_sessions.get(&id))
}

fn over_https(state: &AppState, headers: &HeaderMap) -> bool {
    state.pages.https
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn session_cookie(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let text = format!(
        "{COOKIE}={value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn see_other(to: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

fn hub_of(state: &AppState) -> Result<Arc<HubHandle>, Detour> {
    state.hub.clone().ok_or_else(|| {
        message(
            StatusCode::NOT_FOUND,
            "No hub here",
            "This node does not run the hub role, so there is nothing to edit.",
            ("/", "Back to the start"),
        )
        .into()
    })
}

/// The session of a page view, or a response sending the reader to sign in.
fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Current, Detour> {
    current(state, headers).ok_or_else(|| see_other("/admin").into())
}

/// The role a form acts on (`role` finds it), the form's values and the
/// checked session of a form POST, or the page to show instead (no such
/// role, signed out, or a bad CSRF token): one check for every form.
fn posted<R>(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
    role: fn(&AppState) -> Result<R, Detour>,
) -> Result<(R, Values, Current), Detour> {
    let found = role(state)?;
    let values = Values::parse(body);
    let session = check_post(state, headers, values.get("csrf"))?;
    Ok((found, values, session))
}

/// The hub, the form's values and the checked session of a hub form POST.
fn form_post(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Arc<HubHandle>, Values, Current), Detour> {
    posted(state, headers, body, hub_of)
}

/// The directory, the form's values and the checked session of a
/// coordinator's form POST (reports, registrations).
fn directory_post(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Arc<Aggregator>, Values, Current), Detour> {
    posted(state, headers, body, directory_of)
}

/// The aggregator role, or the page saying this node has none.
fn directory_of(state: &AppState) -> Result<Arc<Aggregator>, Detour> {
    state.aggregator.clone().ok_or_else(|| {
        message(
            StatusCode::NOT_FOUND,
            "No directory here",
            "This node does not run the aggregator role, so it has no coordinator reports or registrations.",
            ("/admin", "Back to the admin page"),
        )
        .into()
    })
}

/// The directory and session of a coordinator's page view, or the page to
/// show instead: none here, or the sign-in page leading back to `next`
/// (one of [`AFTER_SIGN_IN`]).
async fn signed_in_directory(
    state: &AppState,
    headers: &HeaderMap,
    next: &str,
) -> Result<(Arc<Aggregator>, Current), Detour> {
    let agg = directory_of(state)?;
    match current(state, headers) {
        Some(session) => Ok((agg, session)),
        None => {
            let site = site_name(state).await?;
            Err(sign_in_page(site, StatusCode::OK, Errors::default(), next).into())
        }
    }
}

/// Checks a form sent by POST: same site, a live session, and that
/// session's CSRF token.
fn check_post(state: &AppState, headers: &HeaderMap, csrf: &str) -> Result<Current, Detour> {
    let session = check_sender(state, headers)?;
    if !csrf_matches(&session, csrf) {
        return Err(refused(
            "The form has expired or did not come from this page. Go back, reload the page and try again.",
        )
        .into());
    }
    Ok(session)
}

fn refused(text: &str) -> Response {
    message(
        StatusCode::FORBIDDEN,
        "This form was not accepted",
        text,
        ("/admin", "Back to the admin page"),
    )
}

/// The part of [`check_post`] that needs only the headers (same site, a
/// live session), so an upload can be refused before its body is read.
fn check_sender(state: &AppState, headers: &HeaderMap) -> Result<Current, Detour> {
    let cross_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site");
    if cross_site {
        return Err(refused("It was sent from another web site.").into());
    }
    current(state, headers).ok_or_else(|| {
        refused("You are not signed in, or your session has ended. Sign in and try again.").into()
    })
}

async fn limits(hub: &HubHandle) -> Result<Limits, Detour> {
    hub.run(|core| Ok(core.limits().clone()))
        .await
        .map_err(|e| internal(&e).into())
}

async fn hub_name(hub: &HubHandle) -> String {
    hub.run(|core| core.profile().map(|p| p.name))
        .await
        .unwrap_or_else(|_| "Your hub".to_owned())
}

/// The sign-in page.
#[derive(Template)]
#[template(path = "admin/sign_in.html")]
pub struct SignInPage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    pub csrf: String,
    pub errors: Errors,
    /// Where signing in leads: one of [`AFTER_SIGN_IN`].
    pub next: &'static str,
}

/// The pages signing in may lead to (anything else leads to `/admin`, so
/// the form cannot be made to redirect elsewhere).
pub const AFTER_SIGN_IN: &[&str] = &["/admin", "/admin/reports", registrations::PATH];

fn sign_in_page(site: String, status: StatusCode, errors: Errors, next: &str) -> Response {
    render(
        status,
        &SignInPage {
            title: format!("Sign in: {site}"),
            site,
            v: asset_version(),
            csrf: String::new(),
            errors,
            next: AFTER_SIGN_IN
                .iter()
                .find(|p| **p == next)
                .copied()
                .unwrap_or(AFTER_SIGN_IN[0]),
        },
    )
}

/// The name the sign-in page shows: the hub's, or for a node that only
/// runs a directory, the directory's.
async fn site_name(state: &AppState) -> Result<String, Detour> {
    if let (None, Some(agg)) = (&state.hub, &state.aggregator) {
        return Ok(agg.settings.name.clone());
    }
    let hub = hub_of(state)?;
    Ok(hub_name(&hub).await)
}

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
async fn fetches(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(hub) = state.hub.clone() else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "this node does not run the hub role",
        )
        .into_response();
    };
    if current(&state, &headers).is_none() {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "signed_out",
            "sign in on the admin page first",
        )
        .into_response();
    }
    axum::Json(fetch_lines(&hub, Timestamp::now().as_second())).into_response()
}

async fn home(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    // A node that only runs a directory: its admin page is the reports.
    if state.hub.is_none() && state.aggregator.is_some() {
        return see_other("/admin/reports");
    }
    let hub = match hub_of(&state) {
        Ok(h) => h,
        Err(r) => return r.into_response(),
    };
    let site = hub_name(&hub).await;
    let Some(session) = current(&state, &headers) else {
        return sign_in_page(site, StatusCode::OK, Errors::default(), "/admin");
    };
    let services = match hub.run(|core| core.services()).await {
        Ok(s) => s,
        Err(e) => return internal(&e),
    };
    let waiting = match &state.aggregator {
        Some(agg) => match registrations::waiting(agg).await {
            Ok(n) => Some(n),
            Err(e) => return internal(&e),
        },
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
    render(StatusCode::OK, &page)
}

async fn sign_in(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let site = match site_name(&state).await {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let values = Values::parse(&body);
    let token = values.get("token");
    let next = AFTER_SIGN_IN
        .iter()
        .find(|p| **p == values.get("next"))
        .copied()
        .unwrap_or(AFTER_SIGN_IN[0]);
    let cross_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site");
    if cross_site || token.is_empty() || token.len() > 200 || !state.admin_token.matches(token) {
        let mut errors = Errors::default();
        errors.add(
            "token",
            if state.hub.is_some() {
                "That is not this hub's admin token. Copy it again, without spaces."
            } else {
                "That is not this directory's admin token. Copy it again, without spaces."
            },
        );
        return sign_in_page(site, StatusCode::UNAUTHORIZED, errors, next);
    }
    let session = match state.admin_sessions.create() {
        Ok(s) => s,
        Err(e) => return internal(&e),
    };
    let mut response = see_other(next);
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(
            &session.id,
            session::LIFETIME.as_secs(),
            over_https(&state, &headers),
        ),
    );
    response
}

async fn sign_out(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let values = Values::parse(&body);
    // Already signed out (the session ended): just forget the cookie.
    if current(&state, &headers).is_some() {
        match check_post(&state, &headers, values.get("csrf")) {
            Ok(session) => state.admin_sessions.remove(&session.id),
            Err(r) => return r.into_response(),
        }
    }
    let mut response = see_other("/admin");
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", 0, over_https(&state, &headers)),
    );
    response
}

/// A page with one form (the profile, a service).
#[derive(Template)]
#[template(path = "admin/form.html")]
pub struct FormPage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    pub csrf: String,
    pub heading: String,
    pub action: String,
    pub form_id: &'static str,
    pub submit: &'static str,
    pub sections: Vec<Section>,
    pub errors: Errors,
}

struct FormSpec {
    heading: String,
    action: String,
    form_id: &'static str,
    submit: &'static str,
}

async fn form_page(
    hub: &HubHandle,
    session: &Current,
    spec: FormSpec,
    sections: Vec<Section>,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let site = hub_name(hub).await;
    render(
        status,
        &FormPage {
            title: format!("{}: {site}", spec.heading),
            site,
            v: asset_version(),
            csrf: session.csrf.clone(),
            heading: spec.heading,
            action: spec.action,
            form_id: spec.form_id,
            submit: spec.submit,
            sections,
            errors,
        },
    )
}

fn profile_spec() -> FormSpec {
    FormSpec {
        heading: "The hub's details".into(),
        action: "/admin/profile".into(),
        form_id: "profile-form",
        submit: "Save and publish",
    }
}

async fn profile_form(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let (hub, session) = match (hub_of(&state), signed_in(&state, &headers)) {
        (Ok(h), Ok(s)) => (h, s),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    let (profile, limits) = match hub
        .run(|core| Ok((core.profile()?, core.limits().clone())))
        .await
    {
        Ok(x) => x,
        Err(e) => return internal(&e),
    };
    let values = form::profile_values(&profile);
    let errors = Errors::default();
    let sections = form::profile_sections(&values, &errors, &limits);
    form_page(
        &hub,
        &session,
        profile_spec(),
        sections,
        errors,
        StatusCode::OK,
    )
    .await
}

async fn save_profile(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (hub, values, session) = match form_post(&state, &headers, &body) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let (current_profile, limits) = match hub
        .run(|core| Ok((core.profile()?, core.limits().clone())))
        .await
    {
        Ok(x) => x,
        Err(e) => return internal(&e),
    };
    let outcome = match form::profile_changes(&values, &current_profile) {
        Ok(changes) => hub
            .edit(move |core| core.update_profile(changes))
            .await
            .map_err(|e| form::profile_error(&e).ok_or(e)),
        Err(errors) => Err(Ok(errors)),
    };
    match outcome {
        Ok((_, published)) => {
            state.admin_sessions.set_flash(
                &session.id,
                format!(
                    "The hub's details are saved. The listing is now number {}.",
                    published.seq
                ),
            );
            see_other("/admin")
        }
        Err(Ok(errors)) => {
            let sections = form::profile_sections(&values, &errors, &limits);
            form_page(
                &hub,
                &session,
                profile_spec(),
                sections,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(Err(e)) => internal(&e),
    }
}

fn new_service_spec() -> FormSpec {
    FormSpec {
        heading: "Add a service".into(),
        action: "/admin/services".into(),
        form_id: "service-form",
        submit: "Add and publish",
    }
}

fn edit_service_spec(id: &str, name: &str) -> FormSpec {
    FormSpec {
        heading: format!("Edit {name}"),
        action: format!("/admin/services/{id}"),
        form_id: "service-form",
        submit: "Save and publish",
    }
}

async fn new_service_form(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let (hub, session) = match (hub_of(&state), signed_in(&state, &headers)) {
        (Ok(h), Ok(s)) => (h, s),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    let limits = match limits(&hub).await {
        Ok(l) => l,
        Err(r) => return r.into_response(),
    };
    let errors = Errors::default();
    let sections = form::service_sections(&Values::default(), &errors, &limits, None);
    form_page(
        &hub,
        &session,
        new_service_spec(),
        sections,
        errors,
        StatusCode::OK,
    )
    .await
}

/// Finds a service by the id in the address (ids are UUIDs; anything
/// else is simply not found).
async fn find_service(hub: &HubHandle, id: &str) -> Result<Service, Detour> {
    if id.len() > 64 {
        return Err(not_found().into());
    }
    let id = id.to_owned();
    match hub.run(move |core| core.service(&id)).await {
        Ok(s) => Ok(s),
        Err(NodeError::NotFound(_)) => Err(not_found().into()),
        Err(e) => Err(internal(&e).into()),
    }
}

fn not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "Service not found",
        "There is no such service. It may have been removed.",
        ("/admin", "Back to the services"),
    )
}

async fn edit_service_form(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (hub, session) = match (hub_of(&state), signed_in(&state, &headers)) {
        (Ok(h), Ok(s)) => (h, s),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    let (service, limits) = match (find_service(&hub, &id).await, limits(&hub).await) {
        (Ok(s), Ok(l)) => (s, l),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    let errors = Errors::default();
    let sections = form::service_sections(
        &form::service_values(&service),
        &errors,
        &limits,
        Some(&service),
    );
    form_page(
        &hub,
        &session,
        edit_service_spec(&service.id, &service.name),
        sections,
        errors,
        StatusCode::OK,
    )
    .await
}

/// Saves a service form: adds when `existing` is None, else replaces it.
async fn save_service(
    state: &AppState,
    hub: &HubHandle,
    session: &Current,
    values: Values,
    existing: Option<Service>,
) -> Response {
    let limits = match limits(hub).await {
        Ok(l) => l,
        Err(r) => return r.into_response(),
    };
    let spec = match &existing {
        Some(s) => edit_service_spec(&s.id, &s.name),
        None => new_service_spec(),
    };
    if values.has(sessions::MORE_FIELD) {
        // "Add another session": the same form with one more row, what was
        // typed kept, nothing saved (no JavaScript needed).
        let errors = Errors::default();
        let sections = form::service_sections(&values, &errors, &limits, existing.as_ref());
        return form_page(hub, session, spec, sections, errors, StatusCode::OK).await;
    }
    let outcome = match form::service_json(&values, existing.as_ref(), &limits) {
        Ok((json, origins)) => {
            let id = existing.as_ref().map(|s| s.id.clone());
            let saved = hub
                .edit(move |core| match id {
                    Some(id) => core.replace_service(&id, json),
                    None => core.add_service(json),
                })
                .await;
            saved.map_err(|e| match e {
                NodeError::NotFound(_) => Err(None),
                e => form::service_error(&e, &origins).ok_or(Some(e)),
            })
        }
        Err(errors) => Err(Ok(errors)),
    };
    match outcome {
        Ok((service, published)) => {
            let verb = if existing.is_some() { "saved" } else { "added" };
            state.admin_sessions.set_flash(
                &session.id,
                format!(
                    "\u{201c}{}\u{201d} is {verb}. The listing is now number {}.",
                    service.name, published.seq
                ),
            );
            see_other("/admin")
        }
        Err(Ok(errors)) => {
            let sections = form::service_sections(&values, &errors, &limits, existing.as_ref());
            form_page(
                hub,
                session,
                spec,
                sections,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(Err(None)) => not_found(),
        Err(Err(Some(e))) => internal(&e),
    }
}

async fn create_service(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (hub, values, session) = match form_post(&state, &headers, &body) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    save_service(&state, &hub, &session, values, None).await
}

async fn update_service(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (hub, values, session) = match form_post(&state, &headers, &body) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let existing = match find_service(&hub, &id).await {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    save_service(&state, &hub, &session, values, Some(existing)).await
}

/// "Remove this service?"
#[derive(Template)]
#[template(path = "admin/delete.html")]
pub struct DeletePage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    pub csrf: String,
    pub id: String,
    pub name: String,
}

async fn delete_form(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (hub, session) = match (hub_of(&state), signed_in(&state, &headers)) {
        (Ok(h), Ok(s)) => (h, s),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    let service = match find_service(&hub, &id).await {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let site = hub_name(&hub).await;
    render(
        StatusCode::OK,
        &DeletePage {
            title: format!("Remove {}: {site}", service.name),
            site,
            v: asset_version(),
            csrf: session.csrf,
            id: service.id,
            name: service.name,
        },
    )
}

async fn delete_service(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (hub, _values, session) = match form_post(&state, &headers, &body) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let service = match find_service(&hub, &id).await {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let sid = service.id.clone();
    match hub
        .edit(move |core| Ok(((), core.remove_service(&sid)?)))
        .await
    {
        Ok((_, published)) => {
            state.admin_sessions.set_flash(
                &session.id,
                format!(
                    "\u{201c}{}\u{201d} is removed. The listing is now number {}.",
                    service.name, published.seq
                ),
            );
            see_other("/admin")
        }
        Err(NodeError::NotFound(_)) => not_found(),
        Err(e) => internal(&e),
    }
}

/// An import's preview, in words.
pub struct PreviewView {
    pub id: String,
    pub file_name: String,
    pub note: String,
    pub added: Vec<String>,
    /// (service name, what changes).
    pub updated: Vec<(String, String)>,
    pub removed: Vec<String>,
    pub unchanged: usize,
    pub empty: bool,
    /// What to check: (where, what was done), e.g. ("line 4, Notes",
    /// "left out: not a column Signpost knows").
    pub notes: Vec<(String, String)>,
}

/// The import page, with a preview once a file is chosen.
#[derive(Template)]
#[template(path = "admin/import.html")]
pub struct ImportPage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    pub csrf: String,
    pub errors: Errors,
    pub choose: Option<ColumnsView>,
    pub preview: Option<PreviewView>,
    pub columns: &'static [(&'static str, &'static str)],
}

/// The column mapping step: each column of the file with what it is read
/// as, to choose again and preview again.
pub struct ColumnsView {
    pub import_id: String,
    pub file_name: String,
    /// (field index, header, options with the current choice selected).
    pub rows: Vec<(usize, String, Vec<Choice>)>,
    /// True when the choices come from the last import of this layout.
    pub remembered: bool,
}

/// The mapping step for a pending spreadsheet import (None for a JSON
/// file, or a sheet with more columns than can be chosen).
fn columns_view(pending: &PendingImport, shown: &Mapping, remembered: bool) -> Option<ColumnsView> {
    pending.file.as_ref()?;
    if shown.0.is_empty() || shown.0.len() > MAX_MAPPED_COLUMNS {
        return None;
    }
    let rows = shown
        .0
        .iter()
        .enumerate()
        .map(|(k, (header, column))| {
            let current = [column.as_deref().unwrap_or("")];
            let mut options = vec![Choice::new("", "Leave it out", &current)];
            options.extend(
                COLUMNS
                    .iter()
                    .map(|(c, what)| Choice::new(c, &format!("{c}: {what}"), &current)),
            );
            (k, header.clone(), options)
        })
        .collect();
    Some(ColumnsView {
        import_id: pending.id.clone(),
        file_name: pending.file_name.clone(),
        rows,
        remembered,
    })
}

async fn import_page(
    hub: &HubHandle,
    session: &Current,
    errors: Errors,
    preview: Option<PreviewView>,
    status: StatusCode,
) -> Response {
    import_page_with(hub, session, errors, None, preview, status).await
}

async fn import_page_with(
    hub: &HubHandle,
    session: &Current,
    errors: Errors,
    choose: Option<ColumnsView>,
    preview: Option<PreviewView>,
    status: StatusCode,
) -> Response {
    let site = hub_name(hub).await;
    render(
        status,
        &ImportPage {
            title: format!("Import: {site}"),
            site,
            v: asset_version(),
            csrf: session.csrf.clone(),
            errors,
            choose,
            preview,
            columns: import::csv::COLUMNS,
        },
    )
}

async fn import_form(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let (hub, session) = match (hub_of(&state), signed_in(&state, &headers)) {
        (Ok(h), Ok(s)) => (h, s),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    import_page(&hub, &session, Errors::default(), None, StatusCode::OK).await
}

/// A digest of the hub's services, to notice changes between preview and
/// confirmation.
fn fingerprint(services: &[Service]) -> [u8; 32] {
    Sha256::digest(serde_json::to_vec(services).unwrap_or_default()).into()
}

/// The fields that differ between two versions of a service, in words.
fn changed_fields(before: &Service, after: &Service) -> String {
    let (Ok(serde_json::Value::Object(b)), Ok(serde_json::Value::Object(a))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return "details".into();
    };
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    let changed: Vec<String> = keys
        .into_iter()
        .filter(|k| b.get(*k) != a.get(*k))
        .map(|k| match k.as_str() {
            "schedules" => "opening times".to_owned(),
            "taxonomy_terms" => "categories".to_owned(),
            "locations" => "places".to_owned(),
            other => other.replace('_', " "),
        })
        .collect();
    if changed.is_empty() {
        "details".into()
    } else {
        changed.join(", ")
    }
}

fn preview_view(pending: &PendingImport, existing: &[Service], note: String) -> PreviewView {
    let plan: &ImportPlan = &pending.plan;
    PreviewView {
        id: pending.id.clone(),
        file_name: pending.file_name.clone(),
        note,
        added: plan.added.iter().map(|s| s.name.clone()).collect(),
        updated: plan
            .updated
            .iter()
            .map(|u| (u.after.name.clone(), changed_fields(&u.before, &u.after)))
            .collect(),
        removed: plan
            .removed
            .iter()
            .map(|id| {
                existing
                    .iter()
                    .find(|s| &s.id == id)
                    .map(|s| s.name.clone())
                    .unwrap_or_else(|| id.clone())
            })
            .collect(),
        unchanged: plan.unchanged.len(),
        empty: plan.is_empty(),
        notes: plan
            .notes
            .iter()
            .map(|n| (format!("Line {}, {}", n.line, n.column), n.message.clone()))
            .collect(),
    }
}

fn import_error(e: NodeError) -> Result<Errors, NodeError> {
    let mut errors = Errors::default();
    match e {
        NodeError::Import { .. } | NodeError::Invalid { .. } | NodeError::Spec(_) => {
            errors.add(
                "file",
                format!("The file cannot be imported: {e}. Nothing was changed."),
            );
            Ok(errors)
        }
        e => Err(e),
    }
}

async fn import_preview(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let hub = match hub_of(&state) {
        Ok(h) => h,
        Err(r) => return r.into_response(),
    };
    // A stranger's upload (up to 4 MiB) is refused before it is read: the
    // session is in the headers; the CSRF token, in the body, comes after.
    if let Err(r) = check_sender(&state, &headers) {
        return r.into_response();
    }
    let (mut csrf, mut replace, mut file, mut file_name) =
        (String::new(), false, None, String::new());
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return message(
                e.status(),
                "The file was not received",
                "The upload was cut short or is larger than 4 MiB. Try again with a smaller file.",
                ("/admin/import", "Back to the import page"),
            ),
        };
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" => {
                file_name = field.file_name().unwrap_or("").chars().take(200).collect();
                match field.bytes().await {
                    Ok(b) => file = Some(b),
                    Err(e) => {
                        return message(
                            e.status(),
                            "The file was not received",
                            "The upload was cut short or is larger than 4 MiB. Try again with a smaller file.",
                            ("/admin/import", "Back to the import page"),
                        )
                    }
                }
            }
            "csrf" | "replace" => {
                let text = field.text().await.unwrap_or_default();
                if name == "csrf" {
                    csrf = text.chars().take(100).collect();
                } else {
                    replace = !text.is_empty();
                }
            }
            _ => {}
        }
    }
    let session = match check_post(&state, &headers, &csrf) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let mut errors = Errors::default();
        errors.add("file", "Choose a file to import.");
        return import_page(
            &hub,
            &session,
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let format = Format::from_file_name(&file_name).unwrap_or_else(|| Format::sniff(&bytes));
    let file = bytes.clone();
    let planned = hub
        .run(move |core| {
            let existing = core.services()?;
            let limits = core.limits().clone();
            let mut read = import::parse(format, &file, None, &limits)?;
            // The choices confirmed last time for this layout, if any.
            let mut remembered = false;
            if let Some(columns) = &read.columns {
                if let Some(m) = db::import_mapping(core.connection(), &columns.layout())? {
                    match import::parse_mapped(format, &file, None, Some(&m), &limits) {
                        Ok(again) => {
                            read = again;
                            remembered = true;
                        }
                        Err(e) => tracing::warn!(error = %e, "remembered column choices no longer read; using the guesses"),
                    }
                }
            }
            let incoming = read.services;
            let mut plan = import::plan(&existing, incoming.clone(), replace, &limits)?;
            plan.notes = read.notes;
            Ok((existing, incoming, plan, read.columns, remembered))
        })
        .await;
    let (existing, incoming, plan, columns, remembered) = match planned {
        Ok(x) => x,
        Err(e) => {
            return match import_error(e) {
                Ok(errors) => {
                    import_page(
                        &hub,
                        &session,
                        errors,
                        None,
                        StatusCode::UNPROCESSABLE_ENTITY,
                    )
                    .await
                }
                Err(e) => internal(&e),
            }
        }
    };
    let display_name = if file_name.is_empty() {
        "the file".to_owned()
    } else {
        file_name
    };
    let mut pending = match PendingImport::new(
        incoming,
        replace,
        plan,
        display_name,
        fingerprint(&existing),
    ) {
        Ok(p) => p,
        Err(e) => return internal(&e),
    };
    pending.file = columns.map(|columns| UploadedFile {
        bytes,
        format,
        columns,
    });
    show_pending(&state, &hub, &session, pending, &existing, remembered).await
}

/// Shows a pending import's mapping step and preview, and keeps it
/// waiting for "Apply".
async fn show_pending(
    state: &AppState,
    hub: &HubHandle,
    session: &Current,
    pending: PendingImport,
    existing: &[Service],
    remembered: bool,
) -> Response {
    let preview = preview_view(&pending, existing, String::new());
    let choose = pending
        .file
        .as_ref()
        .and_then(|f| columns_view(&pending, &f.columns, remembered));
    state.admin_sessions.set_pending(&session.id, pending);
    import_page_with(
        hub,
        session,
        Errors::default(),
        choose,
        Some(preview),
        StatusCode::OK,
    )
    .await
}

/// "Preview again" with the columns chosen on the mapping step: the same
/// file read again through the same reader, a new plan; nothing applied.
async fn import_columns(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (hub, values, session) = match form_post(&state, &headers, &body) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let pending = state
        .admin_sessions
        .pending(&session.id, values.get("import_id"));
    let Some((pending, file)) = pending.and_then(|p| p.file.clone().map(|f| (p, f))) else {
        let mut errors = Errors::default();
        errors.add("file", "That preview has expired. Choose the file again.");
        return import_page(&hub, &session, errors, None, StatusCode::CONFLICT).await;
    };
    let mut errors = Errors::default();
    let chosen = Mapping(
        file.columns
            .0
            .iter()
            .enumerate()
            .take(MAX_MAPPED_COLUMNS)
            .map(|(k, (header, _))| {
                let field = format!("col{k}");
                let value = values.get(&field);
                let column = if value.is_empty() {
                    None
                } else if let Some(c) = import::csv::known_column(value) {
                    Some(c.to_owned())
                } else {
                    errors.add(field, "Choose from the list.");
                    None
                };
                (header.clone(), column)
            })
            .collect(),
    );
    if !chosen.0.iter().any(|(_, c)| c.as_deref() == Some("name")) {
        errors.add(
            "col0",
            "Choose which column holds the service\u{2019}s name: a service needs one.",
        );
    }
    let mut duplicates = std::collections::HashSet::new();
    for (k, (_, column)) in chosen.0.iter().enumerate() {
        if let Some(c) = column {
            if !duplicates.insert(c.clone()) {
                errors.add(
                    format!("col{k}"),
                    format!("Another column is already read as {c}: choose one of them, or leave one out."),
                );
            }
        }
    }
    let bounce = |errors: Errors, shown: &Mapping| {
        let choose = columns_view(&pending, shown, false);
        (errors, choose)
    };
    if !errors.is_empty() {
        let (errors, choose) = bounce(errors, &chosen);
        return import_page_with(
            &hub,
            &session,
            errors,
            choose,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let (replace, format, bytes, mapping) = (
        pending.replace,
        file.format,
        file.bytes.clone(),
        chosen.clone(),
    );
    let planned = hub
        .run(move |core| {
            let existing = core.services()?;
            let limits = core.limits().clone();
            let read = import::parse_mapped(format, &bytes, None, Some(&mapping), &limits)?;
            let incoming = read.services;
            let mut plan = import::plan(&existing, incoming.clone(), replace, &limits)?;
            plan.notes = read.notes;
            Ok((existing, incoming, plan, read.columns))
        })
        .await;
    let (existing, incoming, plan, columns) = match planned {
        Ok(x) => x,
        Err(e) => {
            return match import_error(e) {
                Ok(errors) => {
                    let (errors, choose) = bounce(errors, &chosen);
                    import_page_with(
                        &hub,
                        &session,
                        errors,
                        choose,
                        None,
                        StatusCode::UNPROCESSABLE_ENTITY,
                    )
                    .await
                }
                Err(e) => internal(&e),
            }
        }
    };
    let mut fresh = match PendingImport::new(
        incoming,
        replace,
        plan,
        pending.file_name.clone(),
        fingerprint(&existing),
    ) {
        Ok(p) => p,
        Err(e) => return internal(&e),
    };
    fresh.file = Some(UploadedFile {
        bytes: file.bytes,
        format: file.format,
        columns: columns.unwrap_or(chosen),
    });
    show_pending(&state, &hub, &session, fresh, &existing, false).await
}

/// What confirming an import came to.
enum Confirmed {
    Applied(ImportPlan, u64),
    /// The services changed since the preview: here is the new plan.
    Changed(ImportPlan, Vec<Service>, [u8; 32]),
}

async fn import_confirm(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (hub, values, session) = match form_post(&state, &headers, &body) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let Some(pending) = state
        .admin_sessions
        .pending(&session.id, values.get("import_id"))
    else {
        let mut errors = Errors::default();
        errors.add("file", "That preview has expired. Choose the file again.");
        return import_page(&hub, &session, errors, None, StatusCode::CONFLICT).await;
    };
    let work = pending.clone();
    let outcome = hub
        .edit_maybe(move |core| {
            let existing = core.services()?;
            let now = fingerprint(&existing);
            if now != work.fingerprint {
                let plan = import::plan(
                    &existing,
                    work.incoming.clone(),
                    work.replace,
                    core.limits(),
                )?;
                return Ok((Confirmed::Changed(plan, existing, now), None));
            }
            if work.plan.is_empty() {
                if let Some(file) = &work.file {
                    db::remember_import_mapping(core.connection(), &file.columns)?;
                }
                return Ok((Confirmed::Applied(work.plan, 0), None));
            }
            let published = core.apply_import(&work.plan)?;
            if let Some(file) = &work.file {
                // Remembered only once applied (a failure to remember is
                // logged; the import itself stands).
                if let Err(e) = db::remember_import_mapping(core.connection(), &file.columns) {
                    tracing::warn!(error = %e, "could not remember the import's column choices");
                }
            }
            let seq = published.seq;
            Ok((Confirmed::Applied(work.plan, seq), Some(published)))
        })
        .await;
    match outcome {
        Ok((Confirmed::Applied(plan, seq), _)) => {
            state.admin_sessions.clear_pending(&session.id);
            let text = if seq == 0 {
                "The file changed nothing.".to_owned()
            } else {
                format!(
                    "Imported: {} added, {} changed, {} removed. The listing is now number {seq}.",
                    plan.added.len(),
                    plan.updated.len(),
                    plan.removed.len()
                )
            };
            state.admin_sessions.set_flash(&session.id, text);
            see_other("/admin")
        }
        Ok((Confirmed::Changed(plan, existing, now), _)) => {
            let mut fresh = match PendingImport::new(
                pending.incoming,
                pending.replace,
                plan,
                pending.file_name,
                now,
            ) {
                Ok(p) => p,
                Err(e) => return internal(&e),
            };
            fresh.file = pending.file;
            let preview = preview_view(
                &fresh,
                &existing,
                "The services changed since you looked, so nothing was applied. This is what the file would change now."
                    .to_owned(),
            );
            state.admin_sessions.set_pending(&session.id, fresh);
            import_page(
                &hub,
                &session,
                Errors::default(),
                Some(preview),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => match import_error(e) {
            Ok(errors) => {
                import_page(
                    &hub,
                    &session,
                    errors,
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => internal(&e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others_and_flags_are_set() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; signpost_admin=xyz; b=2"),
        );
        assert_eq!(cookie_value(&h).as_deref(), Some("xyz"));
        let c = session_cookie("xyz", 60, true);
        let text = c.to_str().unwrap();
        for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/admin"] {
            assert!(text.contains(flag), "{text}");
        }
        assert!(!session_cookie("xyz", 60, false)
            .to_str()
            .unwrap()
            .contains("Secure"));
    }
}
