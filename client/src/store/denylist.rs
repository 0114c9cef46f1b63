//! Operator decisions about hubs that must outlive the hubs' own rows: the
//! denylist (hubs an operator delisted) and re-pins (a hub's next listing
//! accepted under a key that does not chain from the pinned one).
//!
//! Why a table of its own: a delisted hub used to be only a tombstone row in
//! `agg_hubs`, and tombstones are purged after `tombstone_retention_days`;
//! once purged, the next crawl met the hub as new and accepted it again.
//! The denylist is never purged, its hub's sources are not crawled, and every
//! listing of it is refused (`delisted`) until `signpost-node hub undelist`.
//! Both tables say who decided and why, for the next operator.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;
use crate::store::aggregator::{self as db, HeldHub, HubState};

/// Migration 8: the denylist and the re-pins.
pub const MIGRATION: &str = "
CREATE TABLE agg_denylist (
    hub_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    operator TEXT NOT NULL,
    delisted_at INTEGER NOT NULL
);
INSERT INTO agg_denylist (hub_id, reason, operator, delisted_at)
    SELECT hub_id, 'delisted before the denylist existed', 'unknown', changed_at
    FROM agg_hubs WHERE state = 'delisted';
CREATE TABLE agg_repins (
    id INTEGER PRIMARY KEY,
    hub_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    operator TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    old_key TEXT,
    new_key TEXT,
    used_at INTEGER
);
CREATE INDEX agg_repins_open ON agg_repins (hub_id) WHERE used_at IS NULL;
";

/// One denylist entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Denied {
    /// The hub.
    pub hub_id: String,
    /// Why, in the operator's words.
    pub reason: String,
    /// Who delisted it (a login name, or `admin API`).
    pub operator: String,
    /// Unix milliseconds.
    pub delisted_at: i64,
}

/// Puts a hub on the denylist (or updates its reason). Call it before
/// [`db::delist`], so a crash between the two leaves the hub refused.
pub fn deny(
    conn: &Connection,
    hub_id: &str,
    reason: &str,
    operator: &str,
    now_ms: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO agg_denylist (hub_id, reason, operator, delisted_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (hub_id) DO UPDATE SET reason = excluded.reason,
             operator = excluded.operator, delisted_at = excluded.delisted_at",
        params![hub_id, reason, operator, now_ms],
    )?;
    Ok(())
}

/// The denylist entry of a hub, if any.
pub fn denied(conn: &Connection, hub_id: &str) -> Result<Option<Denied>> {
    Ok(conn
        .prepare_cached(
            "SELECT hub_id, reason, operator, delisted_at FROM agg_denylist WHERE hub_id = ?1",
        )?
        .query_row([hub_id], |r| {
            Ok(Denied {
                hub_id: r.get(0)?,
                reason: r.get(1)?,
                operator: r.get(2)?,
                delisted_at: r.get(3)?,
            })
        })
        .optional()?)
}

/// Takes a hub off the denylist: its tombstone (if still held) becomes an
/// ordinary one, keeping the pinned key and seq, so its next listing is
/// judged like any other, and its sources are crawled again at once.
/// Returns the entry removed; None when the hub was not delisted.
pub fn undeny(conn: &mut Connection, hub_id: &str) -> Result<Option<Denied>> {
    let tx = conn.transaction()?;
    let Some(entry) = denied(&tx, hub_id)? else {
        return Ok(None);
    };
    tx.execute("DELETE FROM agg_denylist WHERE hub_id = ?1", [hub_id])?;
    tx.execute(
        "UPDATE agg_hubs SET state = 'withdrawn' WHERE hub_id = ?1 AND state = 'delisted'",
        [hub_id],
    )?;
    tx.execute(
        "UPDATE agg_sources SET next_crawl_at = 0, failures = 0 WHERE hub_id = ?1",
        [hub_id],
    )?;
    tx.commit()?;
    Ok(Some(entry))
}

/// Records that the hub's next listing may be signed by a key that does not
/// chain from the pinned one: `key` when given (a key id the hub told the
/// operator), else any key of a chain that starts at the hub's id. Its seq
/// must still be above the held one. Returns the pinned key it replaces
/// (None when the aggregator does not hold the hub).
pub fn request_repin(
    conn: &Connection,
    hub_id: &str,
    key: Option<&str>,
    reason: &str,
    operator: &str,
    now_ms: i64,
) -> Result<Option<String>> {
    let old = db::held_hub(conn, hub_id)?.map(|h| h.pinned_key);
    conn.execute(
        "UPDATE agg_repins SET used_at = -1 WHERE hub_id = ?1 AND used_at IS NULL",
        [hub_id],
    )?;
    conn.execute(
        "INSERT INTO agg_repins (hub_id, reason, operator, requested_at, old_key, new_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![hub_id, reason, operator, now_ms, old, key],
    )?;
    Ok(old)
}

/// What the aggregator holds of a hub, as the acceptance rules must see it:
/// a denylisted hub is `delisted` even after its tombstone was purged, and
/// a hub with an open re-pin is pinned to the key the operator named (or to
/// its first key, which every chain of the hub starts from).
pub fn held_hub(conn: &Connection, hub_id: &str) -> Result<Option<HeldHub>> {
    let held = db::held_hub(conn, hub_id)?;
    if denied(conn, hub_id)?.is_some() {
        return Ok(Some(HeldHub {
            state: HubState::Delisted,
            envelope_sha256: None,
            ..held.unwrap_or(HeldHub {
                state: HubState::Delisted,
                seq: 0,
                pinned_key: String::new(),
                envelope_sha256: None,
            })
        }));
    }
    let Some(mut held) = held else {
        return Ok(None);
    };
    if let Some(key) = open_repin(conn, hub_id)? {
        held.pinned_key = key.unwrap_or_else(|| hub_id.to_owned());
    }
    Ok(Some(held))
}

/// The open re-pin of a hub: `Some(Some(key))` for a named key,
/// `Some(None)` for any key of the hub's chain.
fn open_repin(conn: &Connection, hub_id: &str) -> Result<Option<Option<String>>> {
    Ok(conn
        .prepare_cached(
            "SELECT new_key FROM agg_repins WHERE hub_id = ?1 AND used_at IS NULL
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row([hub_id], |r| r.get::<_, Option<String>>(0))
        .optional()?)
}

/// Closes the hub's open re-pin, if any, once a listing was accepted under
/// it, recording the key that is pinned now.
pub fn repin_used(conn: &Connection, hub_id: &str, signing_key: &str, now_ms: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE agg_repins SET used_at = ?3, new_key = ?2 WHERE hub_id = ?1 AND used_at IS NULL",
    )?
    .execute(params![hub_id, signing_key, now_ms])?;
    Ok(())
}

/// A re-pin as recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Repin {
    /// The hub.
    pub hub_id: String,
    /// Why, in the operator's words.
    pub reason: String,
    /// Who asked for it.
    pub operator: String,
    /// Unix milliseconds.
    pub requested_at: i64,
    /// The key pinned before.
    pub old_key: Option<String>,
    /// The key named, or once used, the key pinned by it.
    pub new_key: Option<String>,
    /// When a listing was accepted under it (Unix ms); -1 when a later
    /// request replaced it unused.
    pub used_at: Option<i64>,
}

/// Every re-pin of a hub, oldest first.
pub fn repins(conn: &Connection, hub_id: &str) -> Result<Vec<Repin>> {
    let mut stmt = conn.prepare_cached(
        "SELECT hub_id, reason, operator, requested_at, old_key, new_key, used_at
         FROM agg_repins WHERE hub_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([hub_id], |r| {
        Ok(Repin {
            hub_id: r.get(0)?,
            reason: r.get(1)?,
            operator: r.get(2)?,
            requested_at: r.get(3)?,
            old_key: r.get(4)?,
            new_key: r.get(5)?,
            used_at: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
