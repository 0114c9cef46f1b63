//! Importing a file from the admin page: choose it, see what it would
//! change (and, for a spreadsheet, what each column is read as, to choose
//! again), then apply it. The reading, planning, remembering and applying
//! are [`crate::import::flow`]'s, the same as the CLI's and the JSON API's;
//! here are the forms and the waiting preview.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use signpost_spec::Service;

use super::access::{check_post, see_other, Detour, HubForm, HubPage, HubUpload, Posted};
use super::import_view::{columns_view, file_refused, import_page, import_page_with, preview_view};
use super::session::{Current, PendingImport, UploadedFile};
use crate::error::NodeError;
use crate::import::csv::{Mapping, MAX_MAPPED_COLUMNS};
use crate::import::{self, Columns, Confirmed, Format, Preview, Shown, Upload};
use crate::web::form::{Errors, Values};
use crate::web::html::message;
use crate::web::state::{AppState, HubHandle};

/// `GET /admin/import`: the form to choose a file.
pub async fn import_form(HubPage { hub, session }: HubPage) -> Response {
    import_page(&hub, &session, Errors::default(), None, StatusCode::OK).await
}

/// The page for an upload cut short or too large.
fn not_received(status: StatusCode) -> Detour {
    message(
        status,
        "The file was not received",
        "The upload was cut short or is larger than 4 MiB. Try again with a smaller file.",
        ("/admin/import", "Back to the import page"),
    )
    .into()
}

/// The import page saying the preview being confirmed has gone.
async fn expired(hub: &HubHandle, session: &Current) -> Response {
    let mut errors = Errors::default();
    errors.add("file", "That preview has expired. Choose the file again.");
    import_page(hub, session, errors, None, StatusCode::CONFLICT).await
}

/// `POST /admin/import`: reads the uploaded file and shows what it would
/// change (with the column choices remembered for its layout, if any);
/// nothing is applied yet.
pub async fn import_preview(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    HubUpload { hub }: HubUpload,
    mut multipart: Multipart,
) -> Result<Response, Detour> {
    let (mut csrf, mut replace, mut file, mut file_name) =
        (String::new(), false, None, String::new());
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(not_received(e.status())),
        };
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" => {
                file_name = field.file_name().unwrap_or("").chars().take(200).collect();
                match field.bytes().await {
                    Ok(b) => file = Some(b),
                    Err(e) => return Err(not_received(e.status())),
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
    let session = check_post(&state, &headers, &csrf)?;
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let mut errors = Errors::default();
        errors.add("file", "Choose a file to import.");
        return Ok(import_page(
            &hub,
            &session,
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await);
    };
    let format = Format::from_file_name(&file_name).unwrap_or_else(|| Format::sniff(&bytes));
    let planned = plan_upload(&hub, format, bytes.clone(), None, replace).await;
    let preview = match planned {
        Ok(p) => p,
        Err(e) => return file_refused(&hub, &session, e, None).await,
    };
    let display_name = if file_name.is_empty() {
        "the file".to_owned()
    } else {
        file_name
    };
    let fingerprint = preview.fingerprint();
    let mut pending = PendingImport::new(
        preview.incoming,
        replace,
        preview.plan,
        display_name,
        fingerprint,
    )?;
    pending.file = preview.columns.map(|columns| UploadedFile {
        bytes,
        format,
        columns,
    });
    Ok(show_pending(
        &state,
        &hub,
        &session,
        pending,
        &preview.existing,
        preview.remembered,
    )
    .await)
}

/// Reads an upload and plans it against the hub's services, on the hub's
/// worker: with the columns `chosen` on the mapping step, else with those
/// remembered for the file's layout.
async fn plan_upload(
    hub: &HubHandle,
    format: Format,
    bytes: Bytes,
    chosen: Option<Mapping>,
    replace: bool,
) -> Result<Preview, NodeError> {
    hub.run(move |core| {
        let upload = Upload {
            format,
            bytes: &bytes,
            sheet: None,
        };
        let columns = match &chosen {
            Some(m) => Columns::Chosen(m),
            None => Columns::Remembered,
        };
        import::preview(core, upload, columns, replace)
    })
    .await
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

/// The columns chosen on the mapping step for a file whose columns were
/// `shown`, with a message by each choice that cannot stand (none for the
/// name, one column chosen twice, a choice not on the list).
fn chosen_columns(values: &Values, shown: &Mapping) -> (Mapping, Errors) {
    let mut errors = Errors::default();
    let chosen = Mapping(
        shown
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
    (chosen, errors)
}

/// `POST /admin/import/columns`: "Preview again" with the columns chosen
/// on the mapping step: the same file read again through the same reader,
/// a new plan; nothing applied.
pub async fn import_columns(
    State(state): State<Arc<AppState>>,
    Posted(hub, values, session): HubForm,
) -> Result<Response, Detour> {
    let pending = state
        .admin_sessions
        .pending(&session.id, values.get("import_id"));
    let Some((pending, file)) = pending.and_then(|p| p.file.clone().map(|f| (p, f))) else {
        return Ok(expired(&hub, &session).await);
    };
    let (chosen, errors) = chosen_columns(&values, &file.columns);
    if !errors.is_empty() {
        let choose = columns_view(&pending, &chosen, false);
        return Ok(import_page_with(
            &hub,
            &session,
            errors,
            choose,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await);
    }
    let replace = pending.replace;
    let planned = plan_upload(
        &hub,
        file.format,
        file.bytes.clone(),
        Some(chosen.clone()),
        replace,
    )
    .await;
    let preview = match planned {
        Ok(p) => p,
        Err(e) => {
            let choose = columns_view(&pending, &chosen, false);
            return file_refused(&hub, &session, e, choose).await;
        }
    };
    let fingerprint = preview.fingerprint();
    let mut fresh = PendingImport::new(
        preview.incoming,
        replace,
        preview.plan,
        pending.file_name.clone(),
        fingerprint,
    )?;
    fresh.file = Some(UploadedFile {
        bytes: file.bytes,
        format: file.format,
        columns: preview.columns.unwrap_or(chosen),
    });
    Ok(show_pending(&state, &hub, &session, fresh, &preview.existing, false).await)
}

/// `POST /admin/import/confirm`: applies the previewed plan, unless the
/// services changed since it was shown: then shows what the file would
/// change now, and applies nothing.
pub async fn import_confirm(
    State(state): State<Arc<AppState>>,
    Posted(hub, values, session): HubForm,
) -> Result<Response, Detour> {
    let Some(pending) = state
        .admin_sessions
        .pending(&session.id, values.get("import_id"))
    else {
        return Ok(expired(&hub, &session).await);
    };
    let work = pending.clone();
    let outcome = hub
        .edit_maybe(move |core| {
            let shown = Shown {
                incoming: &work.incoming,
                replace: work.replace,
                plan: &work.plan,
                fingerprint: work.fingerprint,
                columns: work.file.as_ref().map(|f| &f.columns),
            };
            let confirmed = import::confirm(core, shown)?;
            let published = match &confirmed {
                Confirmed::Applied(published) => published.clone(),
                Confirmed::Changed { .. } => None,
            };
            Ok((confirmed, published))
        })
        .await;
    match outcome {
        Ok((Confirmed::Applied(published), _)) => {
            state.admin_sessions.clear_pending(&session.id);
            let plan = &pending.plan;
            let text = match published {
                None => "The file changed nothing.".to_owned(),
                Some(p) => format!(
                    "Imported: {} added, {} changed, {} removed. The listing is now number {}.",
                    plan.added.len(),
                    plan.updated.len(),
                    plan.removed.len(),
                    p.seq
                ),
            };
            state.admin_sessions.set_flash(&session.id, text);
            Ok(see_other("/admin"))
        }
        Ok((
            Confirmed::Changed {
                plan,
                existing,
                fingerprint,
            },
            _,
        )) => {
            let mut fresh = PendingImport::new(
                pending.incoming,
                pending.replace,
                plan,
                pending.file_name,
                fingerprint,
            )?;
            fresh.file = pending.file;
            let preview = preview_view(
                &fresh,
                &existing,
                "The services changed since you looked, so nothing was applied. This is what the file would change now."
                    .to_owned(),
            );
            state.admin_sessions.set_pending(&session.id, fresh);
            Ok(import_page(
                &hub,
                &session,
                Errors::default(),
                Some(preview),
                StatusCode::CONFLICT,
            )
            .await)
        }
        Err(e) => file_refused(&hub, &session, e, None).await,
    }
}
