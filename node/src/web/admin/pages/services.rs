//! A hub's services edited by form: add one, edit one, remove one. Each
//! save goes through the hub core's own operations (the same rules as the
//! JSON API and the CLI) and publishes a new listing.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use signpost_spec::Service;

use super::access::{hub_name, limits, see_other, Detour, HubForm, HubPage, Posted};
use super::form::{self, sessions};
use super::page::{form_page, FormSpec};
use super::session::Current;
use crate::error::NodeError;
use crate::web::form::{Errors, Values};
use crate::web::html::{asset_version, message, render};
use crate::web::state::{AppState, HubHandle};

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

/// `GET /admin/services/new`: the empty service form.
pub async fn new_service_form(HubPage { hub, session }: HubPage) -> Result<Response, Detour> {
    let limits = limits(&hub).await?;
    let errors = Errors::default();
    let sections = form::service_sections(&Values::default(), &errors, &limits, None);
    Ok(form_page(
        &hub,
        &session,
        new_service_spec(),
        sections,
        errors,
        StatusCode::OK,
    )
    .await)
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
        Err(e) => Err(e.into()),
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

/// `GET /admin/services/{id}`: the service form filled in.
pub async fn edit_service_form(
    Path(id): Path<String>,
    HubPage { hub, session }: HubPage,
) -> Result<Response, Detour> {
    let (service, limits) = (find_service(&hub, &id).await?, limits(&hub).await?);
    let errors = Errors::default();
    let sections = form::service_sections(
        &form::service_values(&service),
        &errors,
        &limits,
        Some(&service),
    );
    Ok(form_page(
        &hub,
        &session,
        edit_service_spec(&service.id, &service.name),
        sections,
        errors,
        StatusCode::OK,
    )
    .await)
}

/// Saves a service form: adds when `existing` is None, else replaces it.
async fn save_service(
    state: &AppState,
    hub: &HubHandle,
    session: &Current,
    values: Values,
    existing: Option<Service>,
) -> Result<Response, Detour> {
    let limits = limits(hub).await?;
    let spec = match &existing {
        Some(s) => edit_service_spec(&s.id, &s.name),
        None => new_service_spec(),
    };
    if values.has(sessions::MORE_FIELD) {
        // "Add another session": the same form with one more row, what was
        // typed kept, nothing saved (no JavaScript needed).
        let errors = Errors::default();
        let sections = form::service_sections(&values, &errors, &limits, existing.as_ref());
        return Ok(form_page(hub, session, spec, sections, errors, StatusCode::OK).await);
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
            Ok(see_other("/admin"))
        }
        Err(Ok(errors)) => {
            let sections = form::service_sections(&values, &errors, &limits, existing.as_ref());
            Ok(form_page(
                hub,
                session,
                spec,
                sections,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await)
        }
        Err(Err(None)) => Err(not_found().into()),
        Err(Err(Some(e))) => Err(e.into()),
    }
}

/// `POST /admin/services`: adds a service.
pub async fn create_service(
    State(state): State<Arc<AppState>>,
    Posted(hub, values, session): HubForm,
) -> Result<Response, Detour> {
    save_service(&state, &hub, &session, values, None).await
}

/// `POST /admin/services/{id}`: saves an edited service.
pub async fn update_service(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Posted(hub, values, session): HubForm,
) -> Result<Response, Detour> {
    let existing = find_service(&hub, &id).await?;
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

/// `GET /admin/services/{id}/delete`: asks before removing.
pub async fn delete_form(
    Path(id): Path<String>,
    HubPage { hub, session }: HubPage,
) -> Result<Response, Detour> {
    let service = find_service(&hub, &id).await?;
    let site = hub_name(&hub).await;
    Ok(render(
        StatusCode::OK,
        &DeletePage {
            title: format!("Remove {}: {site}", service.name),
            site,
            v: asset_version(),
            csrf: session.csrf,
            id: service.id,
            name: service.name,
        },
    ))
}

/// `POST /admin/services/{id}/delete`: removes the service.
pub async fn delete_service(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Posted(hub, _, session): HubForm,
) -> Result<Response, Detour> {
    let service = find_service(&hub, &id).await?;
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
            Ok(see_other("/admin"))
        }
        Err(NodeError::NotFound(_)) => Err(not_found().into()),
        Err(e) => Err(e.into()),
    }
}
