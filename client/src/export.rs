//! Exporting a replica: Open Referral JSON (a list of fully nested ORUK 3.0
//! / HSDS 3 services, as Open Referral tools and the hub importer read
//! them) or CSV in the hub import columns plus the publishing hub.

use std::collections::HashMap;

use crate::hsds::map;
use crate::import::csv::{service_row, COLUMNS};
use crate::spreadsheet::write_row;
use signpost_spec::{Envelope, HubProfile, Limits, Listing, Service, LISTING_PAYLOAD_TYPE};

use crate::{Error, Result};

/// The services of stored envelopes, with their hub's id and profile. The
/// envelopes were verified when they entered the replica.
pub fn services(listings: &[(String, u64, Vec<u8>)]) -> Result<Vec<(String, HubProfile, Service)>> {
    let mut out = Vec::new();
    for (hub_id, _, bytes) in listings {
        let limits = Limits::default();
        let listing: Listing = Envelope::from_bytes(bytes, &limits)
            .and_then(|e| e.decode_payload(LISTING_PAYLOAD_TYPE, &limits))
            .map_err(|e| Error::Export(format!("stored listing of {hub_id}: {e}")))
            .and_then(|p| {
                serde_json::from_slice(&p)
                    .map_err(|e| Error::Export(format!("stored listing of {hub_id}: {e}")))
            })?;
        for s in listing.services {
            out.push((hub_id.clone(), listing.hub.clone(), s));
        }
    }
    Ok(out)
}

/// Open Referral JSON: an array of fully nested services, mapped exactly
/// as the aggregator's `/hsds/services/{id}` maps them, keeping the ids
/// hubs published (so a hub can import its own services back) except where
/// two hubs published the same service id: those are scoped to their hub,
/// as the aggregator scopes every id, so the file's ids stay unique.
pub fn hsds_json(listings: &[(String, u64, Vec<u8>)]) -> Result<Vec<u8>> {
    let all = services(listings)?;
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (_, _, s) in &all {
        *seen.entry(s.id.as_str()).or_default() += 1;
    }
    let list: Vec<serde_json::Value> = all
        .iter()
        .map(|(hub_id, hub, s)| {
            if seen.get(s.id.as_str()).copied().unwrap_or(0) > 1 {
                map::service_full(&map::scoped(s, hub_id), hub)
            } else {
                map::service_full(s, hub)
            }
        })
        .collect();
    serde_json::to_vec_pretty(&list).map_err(|e| Error::Export(e.to_string()))
}

/// The spreadsheet's header: the hub import columns, then `hub_id` and
/// `hub_name` (which an import leaves out, with a note).
fn header() -> Vec<&'static str> {
    COLUMNS
        .iter()
        .map(|(c, _)| *c)
        .chain(["hub_id", "hub_name"])
        .collect()
}

/// One row per service, in [`header`]'s columns.
fn rows(listings: &[(String, u64, Vec<u8>)]) -> Result<Vec<Vec<String>>> {
    Ok(services(listings)?
        .into_iter()
        .map(|(hub_id, hub, s)| {
            let mut row = service_row(&s);
            row.push(hub_id);
            row.push(hub.name);
            row
        })
        .collect())
}

/// CSV: the hub import columns, then `hub_id` and `hub_name`. Cells that a
/// spreadsheet would take for formulas get a leading `'` (the hub importer
/// takes it off again).
pub fn csv(listings: &[(String, u64, Vec<u8>)]) -> Result<Vec<u8>> {
    let mut out = ::csv::Writer::from_writer(Vec::new());
    let fail = |e: ::csv::Error| Error::Export(e.to_string());
    write_row(&mut out, header()).map_err(fail)?;
    for row in rows(listings)? {
        write_row(&mut out, &row).map_err(fail)?;
    }
    out.into_inner().map_err(|e| Error::Export(e.to_string()))
}

/// An Excel workbook (`.xlsx`) of the same columns as [`csv`], one sheet
/// named "Services". Every cell is written as text, so nothing a hub typed
/// can become a formula; the importer reads it back as it reads a CSV.
pub fn xlsx(listings: &[(String, u64, Vec<u8>)]) -> Result<Vec<u8>> {
    let fail = |e: rust_xlsxwriter::XlsxError| Error::Export(e.to_string());
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Services").map_err(fail)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, name) in header().iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *name, &bold)
            .map_err(fail)?;
    }
    for (r, row) in rows(listings)?.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet
                    .write_string(r as u32 + 1, c as u16, cell)
                    .map_err(fail)?;
            }
        }
    }
    book.save_to_buffer().map_err(fail)
}
