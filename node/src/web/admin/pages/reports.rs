//! The coordinator page for a signed-in coordinator: `/reports` with a
//! "Not a duplicate" form on every pair. Signing in, the session and the
//! CSRF check are the admin page's own (same token, same cookie), so a
//! coordinator of a CVS that is both hub and directory signs in once.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::access::{see_other, Detour, DirectoryForm, DirectoryPage, Posted};
use super::registrations;
use crate::web::html::message;
use crate::web::state::AppState;

/// Longest hub or service id accepted from the form.
const MAX_ID: usize = 256;

/// `GET /admin/reports`: the reports with their forms, or the sign-in
/// page (which leads back here).
pub async fn page(
    State(state): State<Arc<AppState>>,
    DirectoryPage { agg, session }: DirectoryPage,
    RawQuery(raw): RawQuery,
) -> Result<Response, Detour> {
    let waiting = registrations::waiting(&agg).await?;
    let flash = state
        .admin_sessions
        .take_flash(&session.id)
        .unwrap_or_default();
    Ok(crate::web::pages::reports::page(
        &state,
        agg,
        raw,
        "/admin/reports",
        session.csrf,
        flash,
        Some(waiting),
    )
    .await)
}

/// `POST /admin/reports/not-duplicate`: a coordinator's decision that two
/// services are not the same, remembered across recrawls.
pub async fn not_duplicate(
    State(state): State<Arc<AppState>>,
    Posted(agg, values, session): DirectoryForm,
) -> Result<Response, Detour> {
    let field = |name: &str| {
        let v = values.get(name);
        (!v.is_empty() && v.len() <= MAX_ID).then(|| v.to_owned())
    };
    let (Some(a_hub), Some(a_service), Some(b_hub), Some(b_service)) = (
        field("a_hub"),
        field("a_service"),
        field("b_hub"),
        field("b_service"),
    ) else {
        return Err(message(
            StatusCode::BAD_REQUEST,
            "This form was not accepted",
            "It did not name the two services. Go back, reload the page and try again.",
            ("/admin/reports", "Back to the reports"),
        )
        .into());
    };
    let (a, b) = ((a_hub, a_service), (b_hub, b_service));
    let shown = format!("{} / {} and {} / {}", a.0, a.1, b.0, b.1);
    agg.not_duplicates(a, b).await?;
    tracing::info!(pair = %shown, "a coordinator marked a pair not a duplicate");
    state.admin_sessions.set_flash(
        &session.id,
        "Marked as not a duplicate: the pair will not be reported again.".to_owned(),
    );
    Ok(see_other("/admin/reports"))
}
