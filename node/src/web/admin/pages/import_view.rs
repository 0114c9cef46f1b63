//! What the import pages show: the file's preview in words, the column
//! mapping step, and the page around them.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use signpost_spec::Service;

use super::access::{hub_name, Detour};
use super::session::{Current, PendingImport};
use crate::error::NodeError;
use crate::import::csv::{Mapping, COLUMNS, MAX_MAPPED_COLUMNS};
use crate::import::{self, ImportPlan};
use crate::web::form::{Choice, Errors};
use crate::web::html::{asset_version, render};
use crate::web::state::HubHandle;

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
pub fn columns_view(
    pending: &PendingImport,
    shown: &Mapping,
    remembered: bool,
) -> Option<ColumnsView> {
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

/// The import page, with a preview if there is one.
pub async fn import_page(
    hub: &HubHandle,
    session: &Current,
    errors: Errors,
    preview: Option<PreviewView>,
    status: StatusCode,
) -> Response {
    import_page_with(hub, session, errors, None, preview, status).await
}

/// The import page, with the mapping step and a preview if there are.
pub async fn import_page_with(
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

/// A pending import's plan in words, with `note` above it.
pub fn preview_view(pending: &PendingImport, existing: &[Service], note: String) -> PreviewView {
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

/// The form errors for a file that cannot be imported, or the failure
/// itself when it is not about the file.
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

/// The import page again after a file could not be read or planned: the
/// reason by the file field (with the mapping step, if `choose`), or the
/// failure page when the reason is not the file.
pub async fn file_refused(
    hub: &HubHandle,
    session: &Current,
    e: NodeError,
    choose: Option<ColumnsView>,
) -> Result<Response, Detour> {
    let errors = import_error(e)?;
    Ok(import_page_with(
        hub,
        session,
        errors,
        choose,
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await)
}
