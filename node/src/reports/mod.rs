//! Seeing the whole picture across hubs: probable duplicate services,
//! coverage and gaps by category, and freshness. Coordinators asked for
//! exactly this in the seed reports. Reports never change or hide data:
//! hubs own their listings; a coordinator can only mark a pair "not a
//! duplicate", which is remembered across recrawls.

use signpost_client::store::aggregator::Staleness;
use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::Connection;
use serde::Serialize;
use signpost_spec::Service;

use crate::error::{NodeError, Result};
use signpost_client::search::distance_km;
use signpost_client::search::index::SearchIndex;
use signpost_client::spreadsheet::write_row;

pub mod areas;
mod candidates;
mod coverage;
mod duplicates;
mod freshness;
pub mod grid;

pub use coverage::*;
pub use duplicates::*;
pub use freshness::*;

pub use areas::Areas;
use grid::PointIndex;

/// A pair of services as (hub, service, hub, service), the lesser first.
pub type PairKey = (String, String, String, String);

/// Score at or above which a pair is reported.
pub const DUPLICATE_THRESHOLD: f64 = 0.6;

/// A service as the reports see it.
struct Row {
    hub_id: String,
    hub_name: String,
    service: Service,
}

/// Names of the active hubs, from the store.
fn active_hub_names(conn: &Connection) -> Result<HashMap<String, String>> {
    let mut stmt = conn.prepare("SELECT hub_id, name FROM agg_hubs WHERE state = 'active'")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every active hub's services from the search index (the one engine
/// every reader goes through), in a stable order (hub, then service id).
fn load(conn: &Connection, index: &SearchIndex) -> Result<Vec<Row>> {
    let names = active_hub_names(conn)?;
    let mut out = Vec::new();
    index.for_each_service(|stored| {
        let Some(hub_name) = names.get(&stored.hub_id) else {
            return Ok(());
        };
        let service: Service = serde_json::from_str(&stored.json).map_err(|e| {
            signpost_client::Error::Setup(format!("a stored service is unreadable: {e}"))
        })?;
        out.push(Row {
            hub_id: stored.hub_id,
            hub_name: hub_name.clone(),
            service,
        });
        Ok(())
    })?;
    out.sort_by(|a, b| {
        (a.hub_id.as_str(), a.service.id.as_str()).cmp(&(b.hub_id.as_str(), b.service.id.as_str()))
    });
    Ok(out)
}

fn points_of(s: &Service) -> impl Iterator<Item = (f64, f64)> + '_ {
    s.locations
        .iter()
        .filter_map(|l| Some((l.latitude?, l.longitude?)))
}

/// Every active hub's services, read and parsed once, so the coordinator
/// page's duplicates and coverage share one scan of the store (freshness
/// needs only a column of it and reads that alone).
pub struct Snapshot {
    rows: Vec<Row>,
}

impl Snapshot {
    /// Reads every service of every active hub.
    pub fn load(conn: &Connection, index: &SearchIndex) -> Result<Snapshot> {
        Ok(Snapshot {
            rows: load(conn, index)?,
        })
    }
}

impl Snapshot {
    /// The duplicates report over this snapshot; `conn` gives the
    /// coordinators' decisions.
    pub fn duplicates(&self, conn: &Connection) -> Result<Vec<DuplicatePair>> {
        duplicates_of(&self.rows, conn)
    }

    /// The coverage report over this snapshot.
    pub fn coverage(&self, within_km: f64, division: Division) -> CoverageReport {
        coverage_of(&self.rows, within_km, division)
    }
}

/// What the reports read, as one text that changes when any of it does:
/// the feed's last change number (every listing stored, withdrawn or
/// delisted), the "not a duplicate" decisions, and how many sources are
/// failing (freshness calls a hub unreachable by it). Cached reports are
/// served while it stays the same.
pub fn data_version(conn: &Connection) -> Result<String> {
    let changes = signpost_client::store::aggregator::last_change_number(conn)?;
    let (decisions, failing): (i64, i64) = conn
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM agg_not_duplicates),
                    (SELECT COUNT(*) FROM agg_sources WHERE failures > 0)",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(format!("{changes}-{decisions}-{failing}"))
}
