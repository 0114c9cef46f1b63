//! Exporting a replica: HSDS-shaped JSON (a list of services, as the hub
//! importer and Open Referral tools read them) or CSV in the hub import
//! columns plus the publishing hub.

use signpost_node::import::csv::{service_row, COLUMNS};
use signpost_spec::{Envelope, Limits, Listing, Service, LISTING_PAYLOAD_TYPE};

use crate::{ClientError, Result};

/// The services of stored envelopes, with their hub's id and name. The
/// envelopes were verified when they entered the replica.
pub fn services(listings: &[(String, u64, Vec<u8>)]) -> Result<Vec<(String, String, Service)>> {
    let mut out = Vec::new();
    for (hub_id, _, bytes) in listings {
        let limits = Limits::default();
        let listing: Listing = Envelope::from_bytes(bytes, &limits)
            .and_then(|e| e.decode_payload(LISTING_PAYLOAD_TYPE, &limits))
            .map_err(|e| ClientError::Export(format!("stored listing of {hub_id}: {e}")))
            .and_then(|p| {
                serde_json::from_slice(&p)
                    .map_err(|e| ClientError::Export(format!("stored listing of {hub_id}: {e}")))
            })?;
        for s in listing.services {
            out.push((hub_id.clone(), listing.hub.name.clone(), s));
        }
    }
    Ok(out)
}

/// HSDS-shaped JSON: an array of service objects.
pub fn hsds_json(listings: &[(String, u64, Vec<u8>)]) -> Result<Vec<u8>> {
    let list: Vec<Service> = services(listings)?.into_iter().map(|(_, _, s)| s).collect();
    serde_json::to_vec_pretty(&list).map_err(|e| ClientError::Export(e.to_string()))
}

/// CSV: the hub import columns, then `hub_id` and `hub_name`.
pub fn csv(listings: &[(String, u64, Vec<u8>)]) -> Result<Vec<u8>> {
    let mut out = ::csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = COLUMNS
        .iter()
        .map(|(c, _)| *c)
        .chain(["hub_id", "hub_name"])
        .collect();
    let fail = |e: ::csv::Error| ClientError::Export(e.to_string());
    out.write_record(&header).map_err(fail)?;
    for (hub_id, hub_name, s) in services(listings)? {
        let mut row = service_row(&s);
        row.push(hub_id);
        row.push(hub_name);
        out.write_record(&row).map_err(fail)?;
    }
    out.into_inner()
        .map_err(|e| ClientError::Export(e.to_string()))
}
