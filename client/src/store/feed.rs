//! Reading the change feed from the record: each stored change to a hub
//! (a new listing, a withdrawal, a delisting) as an RPDE item, in feed
//! order, in the wire types of `signpost_spec::feed`. The directory's
//! query layer asks for a page of changes here, so a handler never holds a
//! database connection; the node wraps the items in RPDE's page.

use rusqlite::Connection;
use serde_json::value::RawValue;

use signpost_spec::feed::{FeedItem, ItemData, ItemState, ITEM_KIND};

use crate::error::{Error, Result};
use crate::store::aggregator::HubState;

/// Where a consumer is in the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// `afterChangeNumber=N` (or nothing, meaning from the start).
    ChangeNumber(i64),
    /// `afterTimestamp=N&afterId=ID` (RPDE's modified-timestamp form; here
    /// the "timestamp" is the change number).
    TimestampAndId(i64, String),
}

/// Room an item takes in a page besides its envelope (state, kind, id,
/// modified, hub_id, seq and the JSON around them), for the byte cap.
const ITEM_OVERHEAD: usize = 256;

/// Reads the items after `cursor`, at most `limit`. The items stop before
/// the one that would take their listings past `max_bytes` (but there is
/// always one, so the feed moves on): `limit` 500 of 4 MiB listings would
/// otherwise be 2 GiB in memory for one request.
pub fn items(
    conn: &Connection,
    cursor: &Cursor,
    limit: u32,
    max_bytes: usize,
) -> Result<Vec<FeedItem>> {
    let (filter, after, after_id) = match cursor {
        Cursor::ChangeNumber(n) => ("change_number > ?1", *n, ""),
        Cursor::TimestampAndId(t, id) => (
            "(change_number > ?1 OR (change_number = ?1 AND hub_id > ?2))",
            *t,
            id.as_str(),
        ),
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT hub_id, state, seq, envelope, change_number FROM agg_hubs
         WHERE {filter} AND (?2 = ?2) ORDER BY change_number, hub_id LIMIT ?3"
    ))?;
    let rows = stmt.query_map(rusqlite::params![after, after_id, limit], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, HubState>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, Option<Vec<u8>>>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut items = Vec::new();
    let mut bytes = 0usize;
    for row in rows {
        let (hub_id, state, seq, envelope, modified) = row?;
        bytes += ITEM_OVERHEAD + hub_id.len() + envelope.as_ref().map_or(0, Vec::len);
        if !items.is_empty() && bytes > max_bytes {
            break;
        }
        let data = match (state, envelope) {
            (HubState::Active, Some(bytes)) => {
                let text = String::from_utf8(bytes).map_err(|_| {
                    Error::Setup(format!("stored envelope of {hub_id} is not UTF-8"))
                })?;
                let envelope = RawValue::from_string(text)
                    .map_err(|e| Error::Setup(format!("stored envelope of {hub_id}: {e}")))?;
                Some(ItemData {
                    hub_id: hub_id.clone(),
                    seq: seq as u64,
                    envelope,
                })
            }
            _ => None,
        };
        items.push(FeedItem {
            state: if data.is_some() {
                ItemState::Updated
            } else {
                ItemState::Deleted
            },
            kind: ITEM_KIND.into(),
            id: hub_id,
            modified,
            data,
        });
    }
    Ok(items)
}
