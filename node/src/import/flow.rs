//! The steps of an import against a hub, shared by every way in: the
//! CLI's `import`, `POST /admin/v1/import`, the admin page's preview,
//! column choice and confirmation, and the demo's seed hubs. Each reads,
//! plans, remembers column choices and applies the same way, so they cannot
//! drift apart.

use sha2::{Digest, Sha256};
use signpost_spec::Service;

use super::csv::Mapping;
use super::{parse_mapped, plan, Format, ImportPlan};
use crate::error::Result;
use crate::hub::{db, HubCore, Published};

/// How a spreadsheet's columns are read (HSDS JSON has none to choose).
#[derive(Debug, Clone, Copy)]
pub enum Columns<'a> {
    /// As the reader guesses from the header row.
    Guessed,
    /// As confirmed last time for a file with the same header row, when
    /// there is such a choice and it still reads the file; else guessed
    /// (the admin page's first preview).
    Remembered,
    /// As a person chose them (the admin page's mapping step).
    Chosen(&'a Mapping),
}

/// A file to import: its bytes, their format, and for a workbook which
/// sheet (else the first with a header row).
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub format: Format,
    pub bytes: &'a [u8],
    pub sheet: Option<&'a str>,
}

/// What a file would do to the hub as it is now: ready to show, and to
/// apply.
#[derive(Debug, Clone)]
pub struct Preview {
    /// The hub's services the plan was made against.
    pub existing: Vec<Service>,
    /// The services as read from the file, ids not yet settled (planned
    /// again if the hub changes before the import is confirmed).
    pub incoming: Vec<Service>,
    /// What applying would change, with the reading's notes.
    pub plan: ImportPlan,
    /// What the columns were read as (None for HSDS JSON).
    pub columns: Option<Mapping>,
    /// True when the columns are the ones remembered for this layout.
    pub remembered: bool,
}

impl Preview {
    /// Digest of the services the plan was made against (see
    /// [`fingerprint`]).
    pub fn fingerprint(&self) -> [u8; 32] {
        fingerprint(&self.existing)
    }
}

/// Reads a file and plans it against the hub's services; nothing changes.
/// With `replace`, services not in the file would be removed.
pub fn preview(
    core: &HubCore,
    file: Upload<'_>,
    columns: Columns<'_>,
    replace: bool,
) -> Result<Preview> {
    let existing = core.services()?;
    let limits = core.limits();
    let chosen = match columns {
        Columns::Chosen(m) => Some(m),
        Columns::Guessed | Columns::Remembered => None,
    };
    let mut read = parse_mapped(file.format, file.bytes, file.sheet, chosen, limits)?;
    let mut remembered = false;
    if let (Columns::Remembered, Some(guessed)) = (columns, &read.columns) {
        if let Some(m) = db::import_mapping(core.connection(), &guessed.layout())? {
            match parse_mapped(file.format, file.bytes, file.sheet, Some(&m), limits) {
                Ok(again) => {
                    read = again;
                    remembered = true;
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    "remembered column choices no longer read; using the guesses"
                ),
            }
        }
    }
    let mut plan = plan(&existing, read.services.clone(), replace, limits)?;
    plan.notes = read.notes;
    Ok(Preview {
        existing,
        incoming: read.services,
        plan,
        columns: read.columns,
        remembered,
    })
}

/// Applies a previewed plan in one publication (none when it changes
/// nothing), and remembers the `columns` it was read with for the next
/// file of the same layout. A failure to remember after applying is
/// logged: the import itself stands.
pub fn apply(
    core: &mut HubCore,
    plan: &ImportPlan,
    columns: Option<&Mapping>,
) -> Result<Option<Published>> {
    if plan.is_empty() {
        if let Some(m) = columns {
            db::remember_import_mapping(core.connection(), m)?;
        }
        return Ok(None);
    }
    let published = core.apply_changes(
        plan.added
            .iter()
            .chain(plan.updated.iter().map(|u| &u.after)),
        &plan.removed,
    )?;
    if let Some(m) = columns {
        if let Err(e) = db::remember_import_mapping(core.connection(), m) {
            tracing::warn!(error = %e, "could not remember the import's column choices");
        }
    }
    Ok(Some(published))
}

/// What confirming a previewed import came to.
#[derive(Debug)]
pub enum Confirmed {
    /// Applied: the listing published, if the plan changed anything.
    Applied(Option<Published>),
    /// The hub's services changed since the preview, so nothing was
    /// applied: the same file planned against them now.
    Changed {
        plan: ImportPlan,
        existing: Vec<Service>,
        fingerprint: [u8; 32],
    },
}

/// A preview waiting for confirmation, as kept between the two requests.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    /// The services read from the file.
    pub incoming: &'a [Service],
    pub replace: bool,
    /// The plan that was shown.
    pub plan: &'a ImportPlan,
    /// Digest of the hub's services when it was shown.
    pub fingerprint: [u8; 32],
    /// The columns it was read with, remembered once it is confirmed.
    pub columns: Option<&'a Mapping>,
}

/// Applies the plan a person saw, but only if the hub's services are still
/// the ones it was made against; otherwise plans the file again and
/// applies nothing, so nobody confirms changes they did not see.
pub fn confirm(core: &mut HubCore, shown: Shown<'_>) -> Result<Confirmed> {
    let existing = core.services()?;
    let now = fingerprint(&existing);
    if now != shown.fingerprint {
        let plan = plan(
            &existing,
            shown.incoming.to_vec(),
            shown.replace,
            core.limits(),
        )?;
        return Ok(Confirmed::Changed {
            plan,
            existing,
            fingerprint: now,
        });
    }
    apply(core, shown.plan, shown.columns).map(Confirmed::Applied)
}

/// A digest of the hub's services, to notice changes between a preview
/// and its confirmation.
pub fn fingerprint(services: &[Service]) -> [u8; 32] {
    Sha256::digest(serde_json::to_vec(services).unwrap_or_default()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::tests::new_hub;

    const SHEET: &[u8] = b"name,phone\nFood pantry,01524 000000\n";

    fn upload() -> Upload<'static> {
        Upload {
            format: Format::Csv,
            bytes: SHEET,
            sheet: None,
        }
    }

    #[test]
    fn a_previewed_file_applies_and_its_columns_are_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let mut hub = new_hub(dir.path());
        let first = preview(&hub, upload(), Columns::Remembered, false).unwrap();
        assert!(!first.remembered);
        assert_eq!(first.plan.added.len(), 1);
        let columns = first.columns.clone().unwrap();
        let shown = Shown {
            incoming: &first.incoming,
            replace: false,
            plan: &first.plan,
            fingerprint: first.fingerprint(),
            columns: Some(&columns),
        };
        let Confirmed::Applied(Some(_)) = confirm(&mut hub, shown).unwrap() else {
            panic!("not applied");
        };
        assert_eq!(hub.services().unwrap().len(), 1);
        let again = preview(&hub, upload(), Columns::Remembered, false).unwrap();
        assert!(again.remembered);
        assert!(again.plan.is_empty());
        assert!(apply(&mut hub, &again.plan, None).unwrap().is_none());
    }

    #[test]
    fn a_preview_made_before_the_services_changed_is_planned_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut hub = new_hub(dir.path());
        let seen = preview(&hub, upload(), Columns::Guessed, true).unwrap();
        hub.add_service(serde_json::json!({"name": "Warm space"}))
            .unwrap();
        let shown = Shown {
            incoming: &seen.incoming,
            replace: true,
            plan: &seen.plan,
            fingerprint: seen.fingerprint(),
            columns: None,
        };
        let Confirmed::Changed { plan, existing, .. } = confirm(&mut hub, shown).unwrap() else {
            panic!("applied a stale plan");
        };
        assert_eq!((plan.added.len(), plan.removed.len()), (1, 1));
        assert_eq!(existing.len(), 1);
        assert_eq!(hub.services().unwrap().len(), 1, "nothing applied");
    }
}
