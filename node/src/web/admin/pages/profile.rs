//! The hub's details (its profile) edited by form: shown filled in, saved
//! through the same operation as the JSON API, mistakes shown by their
//! field.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::access::{limits, see_other, Detour, HubForm, HubPage, Posted};
use super::form;
use super::page::{form_page, FormSpec};
use super::session::Current;
use crate::web::form::{Errors, Values};
use crate::web::state::{AppState, HubHandle};

fn profile_spec() -> FormSpec {
    FormSpec {
        heading: "The hub's details".into(),
        action: "/admin/profile".into(),
        form_id: "profile-form",
        submit: "Save and publish",
    }
}

/// The profile form with `values` and `errors`, answered with `status`.
async fn profile_page(
    hub: &HubHandle,
    session: &Current,
    values: &Values,
    errors: Errors,
    status: StatusCode,
) -> Result<Response, Detour> {
    let limits = limits(hub).await?;
    let sections = form::profile_sections(values, &errors, &limits);
    Ok(form_page(hub, session, profile_spec(), sections, errors, status).await)
}

/// `GET /admin/profile`.
pub async fn profile_form(HubPage { hub, session }: HubPage) -> Result<Response, Detour> {
    let profile = hub.run(|core| core.profile()).await?;
    let values = form::profile_values(&profile);
    profile_page(&hub, &session, &values, Errors::default(), StatusCode::OK).await
}

/// `POST /admin/profile`: saves and publishes, or shows the form again
/// with its mistakes.
pub async fn save_profile(
    State(state): State<Arc<AppState>>,
    Posted(hub, values, session): HubForm,
) -> Result<Response, Detour> {
    let current_profile = hub.run(|core| core.profile()).await?;
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
            Ok(see_other("/admin"))
        }
        Err(Ok(errors)) => {
            profile_page(
                &hub,
                &session,
                &values,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(Err(e)) => Err(e.into()),
    }
}
