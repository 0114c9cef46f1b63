//! The feed's wire format (`SPEC.md` section 11.5): an aggregator's changes
//! as RPDE pages. One definition here for the aggregator that writes pages,
//! the follower and the app that read them, and the tests that check them,
//! so the two sides cannot drift apart.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Where aggregators serve their feed, relative to their base address.
pub const FEED_PATH: &str = "/v1/feed";
/// The RPDE `kind` of every item of a Signpost feed.
pub const ITEM_KIND: &str = "SignpostListing";
/// Most items a feed page holds, however many are asked for.
pub const MAX_FEED_LIMIT: u32 = 500;
/// Response header of a feed page answered to `wait=`: the seconds the
/// aggregator allowed (0 when too many requests were waiting). A follower
/// that sees it may ask again at once; one that does not polls on its
/// interval (the aggregator does not support waiting).
pub const WAIT_HEADER: &str = "signpost-feed-wait";

/// An item's state. Read leniently: an item in any other state is
/// [`ItemState::Other`], so a follower refuses that one item rather than
/// the whole page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemState {
    /// The hub is active; its listing is in `data`.
    Updated,
    /// The hub left (withdrawn or delisted): no `data`.
    Deleted,
    /// Anything else an upstream sent (never written).
    #[serde(other)]
    Other,
}

impl ItemState {
    /// The word on the wire (and in the store's change rows).
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Updated => "updated",
            ItemState::Deleted => "deleted",
            ItemState::Other => "other",
        }
    }

    /// Reads a word; None for any but `updated` and `deleted`.
    pub fn parse(word: &str) -> Option<ItemState> {
        match word {
            "updated" => Some(ItemState::Updated),
            "deleted" => Some(ItemState::Deleted),
            _ => None,
        }
    }
}

impl std::fmt::Display for ItemState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// The `data` of an updated item: enough to verify the listing without
/// asking anyone else.
#[derive(Debug, Serialize, Deserialize)]
pub struct ItemData {
    /// The hub (must equal the item's id).
    pub hub_id: String,
    /// The listing's seq as the aggregator holds it (a reader checks it
    /// against the signed payload, never trusts it alone).
    pub seq: u64,
    /// The signed envelope, embedded byte for byte as a raw JSON value.
    pub envelope: Box<RawValue>,
}

/// One RPDE item (unknown fields are ignored when read, as RPDE allows).
#[derive(Debug, Serialize, Deserialize)]
pub struct FeedItem {
    /// Updated or deleted.
    pub state: ItemState,
    /// [`ITEM_KIND`] in every item this protocol writes; a reader refuses
    /// any other.
    pub kind: Cow<'static, str>,
    /// The hub id.
    pub id: String,
    /// The aggregator's change number.
    pub modified: i64,
    /// Present when updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<ItemData>,
}

/// One RPDE page.
#[derive(Debug, Serialize, Deserialize)]
pub struct FeedPage {
    /// The items, ordered by `modified` then `id`.
    pub items: Vec<FeedItem>,
    /// Absolute URL of the next page (a reader checks only that it is
    /// there, and builds its own URLs, so an upstream cannot send it
    /// elsewhere).
    pub next: String,
    /// The licence of the data.
    #[serde(default)]
    pub license: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_and_unknown_states_are_read_as_other() {
        let item = FeedItem {
            state: ItemState::Updated,
            kind: Cow::Borrowed(ITEM_KIND),
            id: "ed25519:x".into(),
            modified: 7,
            data: Some(ItemData {
                hub_id: "ed25519:x".into(),
                seq: 3,
                envelope: RawValue::from_string(r#"{"a": 1}"#.into()).unwrap(),
            }),
        };
        let text = serde_json::to_string(&item).unwrap();
        assert_eq!(
            text,
            r#"{"state":"updated","kind":"SignpostListing","id":"ed25519:x","modified":7,"data":{"hub_id":"ed25519:x","seq":3,"envelope":{"a": 1}}}"#
        );
        let back: FeedItem = serde_json::from_str(&text).unwrap();
        assert_eq!(back.data.unwrap().envelope.get(), r#"{"a": 1}"#);
        let odd: FeedItem = serde_json::from_str(
            r#"{"state":"moved","kind":"X","id":"h","modified":1,"extra":true}"#,
        )
        .unwrap();
        assert_eq!(odd.state, ItemState::Other);
        assert_eq!(ItemState::parse("deleted"), Some(ItemState::Deleted));
        assert_eq!(ItemState::parse("other"), None);
    }
}
