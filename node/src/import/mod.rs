//! Importing services from files hubs already have: CSV spreadsheets and
//! Open Referral HSDS 3 / ORUK JSON. An import is first turned into a plan
//! (what would be added, changed, removed) so it can be previewed, and then
//! applied in one publication: a bad row imports nothing.

pub use signpost_client::import::{csv, hsds, workbook};

pub mod flow;
pub use flow::{apply, confirm, fingerprint, preview, Columns, Confirmed, Preview, Shown, Upload};

use csv::{Mapping, Note};

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use signpost_spec::{validate_service, Limits, Service};

use crate::error::{NodeError, Result};
use crate::hub::draft::{name_key, new_id};

/// Largest file accepted for import, the same as the largest listing.
pub const MAX_IMPORT_BYTES: usize = 4 * 1024 * 1024;

/// Which kind of file is being imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    /// An Excel (`.xlsx`, `.xls`) or LibreOffice (`.ods`) workbook.
    Workbook,
    Hsds,
}

impl Format {
    /// Parses a user's word for the format.
    pub fn parse(word: &str) -> Result<Format> {
        match word.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "xlsx" | "xls" | "ods" | "excel" | "workbook" | "spreadsheet" => Ok(Format::Workbook),
            "hsds" | "json" | "hsds-json" | "oruk" => Ok(Format::Hsds),
            _ => Err(NodeError::invalid(
                "format",
                format!("{word:?} is not a format; use csv, xlsx, ods or hsds"),
            )),
        }
    }

    /// Guesses from the first bytes: a zip (`.xlsx`, `.ods`) or an old
    /// Excel file is a workbook, `{` or `[` is JSON, anything else CSV.
    pub fn sniff(bytes: &[u8]) -> Format {
        const ZIP: &[u8] = b"PK\x03\x04";
        const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0];
        if bytes.starts_with(ZIP) || bytes.starts_with(OLE) {
            return Format::Workbook;
        }
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') | Some(b'[') => Format::Hsds,
            _ => Format::Csv,
        }
    }

    /// Guesses from a file name's extension.
    pub fn from_file_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else if [".xlsx", ".xlsm", ".xls", ".ods"]
            .iter()
            .any(|ext| lower.ends_with(ext))
        {
            Some(Format::Workbook)
        } else if lower.ends_with(".json") {
            Some(Format::Hsds)
        } else {
            None
        }
    }
}

/// What was read from a file: its services, and what a person should look
/// at (columns left out, hours kept as words).
#[derive(Debug, Clone, Default)]
pub struct Read {
    pub services: Vec<Service>,
    pub notes: Vec<Note>,
    /// What a spreadsheet's columns were read as (None for HSDS JSON,
    /// which has no columns to choose).
    pub columns: Option<Mapping>,
}

/// Reads services from file bytes. Services or locations whose file gave
/// no id have an empty id; [`plan`] settles them. `sheet` chooses a
/// workbook's sheet (else the first with a header row).
pub fn parse(format: Format, bytes: &[u8], sheet: Option<&str>, limits: &Limits) -> Result<Read> {
    parse_mapped(format, bytes, sheet, None, limits)
}

/// Like [`parse`], with a spreadsheet's columns read as `mapping` says
/// (the admin page's column choices); the one reading every import takes.
pub fn parse_mapped(
    format: Format,
    bytes: &[u8],
    sheet: Option<&str>,
    mapping: Option<&Mapping>,
    limits: &Limits,
) -> Result<Read> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(NodeError::Import {
            location: "file".into(),
            message: format!(
                "is {} bytes, more than the limit of {MAX_IMPORT_BYTES}",
                bytes.len()
            ),
        });
    }
    let read = match format {
        Format::Csv => {
            let sheet = csv::read_mapped(bytes, mapping)?;
            Read {
                services: sheet.services,
                notes: sheet.notes,
                columns: Some(sheet.columns),
            }
        }
        Format::Workbook => {
            let sheet = workbook::read_mapped(bytes, sheet, mapping)?;
            Read {
                services: sheet.services,
                notes: sheet.notes,
                columns: Some(sheet.columns),
            }
        }
        Format::Hsds => Read {
            services: hsds::parse(bytes, limits)?,
            notes: Vec::new(),
            columns: None,
        },
    };
    let services = &read.services;
    if services.len() > limits.max_services {
        return Err(NodeError::Import {
            location: "file".into(),
            message: format!(
                "has {} services, more than the limit of {}",
                services.len(),
                limits.max_services
            ),
        });
    }
    Ok(read)
}

/// One service that an import changes.
#[derive(Debug, Clone, Serialize)]
pub struct Update {
    pub before: Service,
    pub after: Service,
}

/// What an import would do, for preview and then for applying.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportPlan {
    pub added: Vec<Service>,
    pub updated: Vec<Update>,
    /// Ids of services that stay as they are.
    pub unchanged: Vec<String>,
    /// Ids of services removed (only when replacing).
    pub removed: Vec<String>,
    /// What the file's reading left for a person to check.
    pub notes: Vec<Note>,
}

impl ImportPlan {
    /// True when applying would change nothing.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.updated.is_empty() && self.removed.is_empty()
    }
}

/// Matches incoming services to existing ones (by id, else by name, case
/// ignored), fills in missing ids, and validates every resulting service.
///
/// With `replace`, services not in the file are removed.
pub fn plan(
    existing: &[Service],
    incoming: Vec<Service>,
    replace: bool,
    limits: &Limits,
) -> Result<ImportPlan> {
    let by_id: HashMap<&str, &Service> = existing.iter().map(|s| (s.id.as_str(), s)).collect();
    let by_name: HashMap<String, &Service> =
        existing.iter().map(|s| (name_key(&s.name), s)).collect();
    let mut seen = HashSet::new();
    let mut out = ImportPlan::default();
    for (index, mut service) in incoming.into_iter().enumerate() {
        let location = format!("service {} ({:?})", index + 1, service.name);
        let matched = if service.id.is_empty() {
            by_name.get(&name_key(&service.name)).copied()
        } else {
            by_id.get(service.id.as_str()).copied()
        };
        if service.id.is_empty() {
            service.id = matched.map(|m| m.id.clone()).unwrap_or_else(new_id);
        }
        for (i, loc) in service.locations.iter_mut().enumerate() {
            if loc.id.is_empty() {
                loc.id = matched
                    .and_then(|m| m.locations.get(i))
                    .map(|l| l.id.clone())
                    .unwrap_or_else(new_id);
            }
        }
        validate_service(&service, limits).map_err(|e| NodeError::Import {
            location: location.clone(),
            message: e.to_string(),
        })?;
        if !seen.insert(service.id.clone()) {
            return Err(NodeError::Import {
                location,
                message: format!("the file has service id {} twice", service.id),
            });
        }
        match matched {
            Some(before) if *before == service => out.unchanged.push(service.id),
            Some(before) => out.updated.push(Update {
                before: before.clone(),
                after: service,
            }),
            None => out.added.push(service),
        }
    }
    if replace {
        out.removed = existing
            .iter()
            .filter(|s| !seen.contains(&s.id))
            .map(|s| s.id.clone())
            .collect();
    }
    let total = existing.len() + out.added.len() - out.removed.len();
    if total > limits.max_services {
        return Err(NodeError::Import {
            location: "file".into(),
            message: format!(
                "the hub would have {total} services, more than the limit of {}",
                limits.max_services
            ),
        });
    }
    Ok(out)
}
