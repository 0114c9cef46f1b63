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

pub mod access;
pub mod form;
pub mod home;
pub mod import_pages;
pub mod import_view;
pub mod page;
pub mod profile;
pub mod registrations;
pub mod reports;
pub mod services;
pub mod session;
pub mod sign_in;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use crate::import::MAX_IMPORT_BYTES;
use crate::web::state::AppState;
use home::{fetches, home};
use import_pages::{import_columns, import_confirm, import_form, import_preview};
use profile::{profile_form, save_profile};
use services::{
    create_service, delete_form, delete_service, edit_service_form, new_service_form,
    update_service,
};
use sign_in::{sign_in, sign_out};

pub use access::Detour;
pub use home::{fetch_lines, FetchLines, FetcherLine, HomePage, ServiceRow, FETCHES_PATH};
pub use sign_in::{SignInPage, AFTER_SIGN_IN};

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
