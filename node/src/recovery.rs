//! Operator recovery on a data folder, for when the usual way in is lost or
//! an earlier decision must be undone: a new admin token, a hub taken off
//! the denylist, a hub re-pinned to a key that does not chain from the one
//! held. They work on the folder directly (whoever can write it controls
//! the node anyway), also while the node runs; each is logged with tracing.

use std::path::Path;

use jiff::Timestamp;
use rusqlite::Connection;
use signpost_spec::KeyId;

use crate::config::{Config, DATABASE_FILE};
use crate::error::{NodeError, Result};
use crate::web::admin::token::AdminToken;
use signpost_client::store::denylist::{self, Denied};

/// Longest reason an operator may record.
const MAX_REASON_CHARS: usize = 1000;

fn open(dir: &Path) -> Result<Connection> {
    Config::load(dir)?;
    signpost_client::store::open(&dir.join(DATABASE_FILE))
}

fn open_aggregator(dir: &Path) -> Result<Connection> {
    let config = Config::load(dir)?;
    if !config.aggregator.enabled {
        return Err(NodeError::Setup(format!(
            "this node is not an aggregator (enabled = false under [aggregator] in {})",
            dir.join(crate::config::CONFIG_FILE).display()
        )));
    }
    signpost_client::store::open(&dir.join(DATABASE_FILE))
}

fn hub_id(text: &str) -> Result<String> {
    KeyId::parse(text)
        .map(|k| k.to_string())
        .map_err(|e| NodeError::invalid("HUB_ID", e.to_string()))
}

/// Replaces the admin token: stores the new one's hash and returns it (the
/// only time it exists in clear). The old token stops working at once, in a
/// running node too (it re-reads the hash when a token does not match, or
/// at most a second after the last read).
pub fn reset_token(dir: &Path, operator: &str) -> Result<String> {
    let conn = open(dir)?;
    let token = AdminToken::create(&conn)?;
    tracing::warn!(%operator, dir = %dir.display(), "admin token replaced; the old one no longer works");
    Ok(token)
}

/// Takes a hub off the denylist, so its next listing is judged like any
/// other and its sources are crawled again. Returns the entry removed.
pub fn undelist(dir: &Path, hub: &str, operator: &str) -> Result<Denied> {
    let mut conn = open_aggregator(dir)?;
    let id = hub_id(hub)?;
    let entry = denylist::undeny(&mut conn, &id)?
        .ok_or_else(|| NodeError::NotFound(format!("hub {id} on this aggregator's denylist")))?;
    tracing::warn!(hub_id = %id, %operator, delisted_for = %entry.reason, "hub taken off the denylist");
    Ok(entry)
}

/// What [`repin`] recorded.
#[derive(Debug, Clone)]
pub struct Repinned {
    /// The key pinned until now (None when the hub is not held yet).
    pub old_key: Option<String>,
}

/// Lets the hub's next listing in under a key that does not chain from the
/// pinned one (`key`, or any key of a chain starting at the hub's id),
/// recording the reason and who asked. Its seq must still be above the one
/// held, and the first listing that comes (by crawl, registration or an
/// upstream feed) is the one pinned, so crawl the hub's own address next.
pub fn repin(
    dir: &Path,
    hub: &str,
    key: Option<&str>,
    reason: &str,
    operator: &str,
) -> Result<Repinned> {
    let id = hub_id(hub)?;
    let key = key.map(hub_id).transpose()?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(NodeError::invalid(
            "--reason",
            format!("say why, in 1 to {MAX_REASON_CHARS} characters"),
        ));
    }
    let conn = open_aggregator(dir)?;
    if denylist::denied(&conn, &id)?.is_some() {
        return Err(NodeError::invalid(
            "HUB_ID",
            format!("hub {id} is delisted; run `signpost-node hub undelist` first"),
        ));
    }
    let now = Timestamp::now().as_millisecond();
    let old_key = denylist::request_repin(&conn, &id, key.as_deref(), reason, operator, now)?;
    tracing::warn!(hub_id = %id, %operator, %reason, old_key = ?old_key, new_key = ?key, "hub re-pin requested");
    Ok(Repinned { old_key })
}
