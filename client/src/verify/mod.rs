//! Deciding whether a verified listing may replace what the aggregator
//! holds. The spec crate has already checked the signature, the key chain,
//! the content and the validity period; this adds the aggregator's memory:
//! key pinning (trust on first use or an allowlist), rollback protection
//! (`seq` strictly increasing; identical bytes are a no-op), the binding of
//! a crawled address to one hub, and the operator's delistings.

use std::collections::HashSet;

use signpost_spec::{KeyId, VerifiedListing};

use serde::{Deserialize, Serialize};

use crate::store::aggregator::{HeldHub, HubState};

/// How an aggregator (or an app's replica) decides to trust a hub it meets
/// for the first time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trust {
    /// Trust on first use: the first valid listing pins the hub's key.
    #[default]
    Open,
    /// Only hubs whose ids are listed in `allow` are accepted.
    Allowlist,
}

/// Who may be accepted on first contact.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    /// Open (TOFU) or allowlist.
    pub trust: Trust,
    /// Hub ids accepted under an allowlist.
    pub allow: HashSet<String>,
}

impl TrustPolicy {
    /// A policy of `trust`, with the hub ids an allowlist accepts.
    pub fn new(trust: Trust, allow: impl IntoIterator<Item = String>) -> TrustPolicy {
        TrustPolicy {
            trust,
            allow: allow.into_iter().collect(),
        }
    }
}

/// The verdict on one listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Store it: it is new and newer.
    Accept,
    /// The very bytes already held: nothing to do.
    Unchanged,
    /// Refuse it; keep what is held.
    Reject {
        /// Stable code (also shown in health).
        code: &'static str,
        /// What is wrong, for the operator.
        message: String,
    },
}

fn reject(code: &'static str, message: String) -> Judgement {
    Judgement::Reject { code, message }
}

/// Judges a listing that has passed the spec crate's verification.
///
/// `source_hub` is the hub id the crawled address served before, if any.
pub fn judge(
    verified: &VerifiedListing,
    envelope_sha256: &str,
    held: Option<&HeldHub>,
    source_hub: Option<&str>,
    policy: &TrustPolicy,
) -> Judgement {
    let hub_id = verified.hub_id.as_str();
    if let Some(expected) = source_hub {
        if expected != hub_id {
            return reject(
                "hub_mismatch",
                format!(
                    "this address used to serve hub {expected} but now serves {hub_id}; \
                     remove the source and add it again if the hub really changed identity"
                ),
            );
        }
    }
    let Some(held) = held else {
        if policy.trust == Trust::Allowlist && !policy.allow.contains(hub_id) {
            return reject(
                "not_allowed",
                format!("hub {hub_id} is not in aggregator.allow (trust = \"allowlist\")"),
            );
        }
        return Judgement::Accept;
    };
    if held.envelope_sha256.as_deref() == Some(envelope_sha256) {
        return Judgement::Unchanged;
    }
    if held.state == HubState::Delisted {
        return reject(
            "delisted",
            format!("hub {hub_id} was delisted by this aggregator's operator"),
        );
    }
    let pinned_ok = KeyId::parse(&held.pinned_key)
        .map(|pinned| verified.chain_contains(&pinned))
        .unwrap_or(false);
    if !pinned_ok {
        return reject(
            "unpinned_key",
            format!(
                "signed by {} with no rotation chain from the pinned key {}; \
                 if the hub lost its key, an operator must re-pin it",
                verified.signing_key(),
                held.pinned_key
            ),
        );
    }
    let seq = verified.listing.seq;
    if seq <= held.seq {
        return reject(
            "stale_seq",
            format!(
                "seq {seq} is not above the seq {} already held (an old or replayed listing)",
                held.seq
            ),
        );
    }
    Judgement::Accept
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::{SignedDuration, Timestamp};
    use signpost_spec::{
        rotate, sign_listing, verify_listing, Coordination, Dimensions, Focus, Governance, HubKey,
        HubProfile, Limits, Listing, Space, VerifyOptions,
    };

    fn listing(hub_id: &str, seq: u64) -> Listing {
        let now = Timestamp::now();
        Listing {
            signpost: "1".into(),
            hub: HubProfile {
                id: hub_id.into(),
                name: "Test hub".into(),
                description: None,
                url: None,
                email: None,
                phone: None,
                area_served: None,
                address: None,
                latitude: None,
                longitude: None,
                timezone: "Europe/London".into(),
                dimensions: Dimensions {
                    space: vec![Space::Dedicated],
                    governance: Governance::CommunityLed,
                    focus: Focus::Generic,
                    coordination: Coordination::FirstLevel,
                },
            },
            seq,
            issued_at: now,
            expires_at: now + SignedDuration::from_hours(24),
            withdrawn: false,
            rotations: vec![],
            services: vec![],
        }
    }

    fn verified(l: &Listing, key: &HubKey) -> VerifiedListing {
        let bytes = sign_listing(l, key, &Limits::default()).unwrap();
        verify_listing(&bytes, &VerifyOptions::now()).unwrap()
    }

    fn held(pinned: &str, seq: u64, sha: &str) -> HeldHub {
        HeldHub {
            state: HubState::Active,
            seq,
            pinned_key: pinned.into(),
            envelope_sha256: Some(sha.into()),
        }
    }

    fn open() -> TrustPolicy {
        TrustPolicy {
            trust: Trust::Open,
            allow: HashSet::new(),
        }
    }

    #[test]
    fn rules_of_acceptance() {
        let key = HubKey::from_seed(&[1; 32]).unwrap();
        let id = key.key_id().to_string();
        let v = verified(&listing(&id, 10), &key);
        assert_eq!(judge(&v, "h", None, None, &open()), Judgement::Accept);
        let allow = TrustPolicy {
            trust: Trust::Allowlist,
            allow: HashSet::new(),
        };
        assert!(matches!(
            judge(&v, "h", None, None, &allow),
            Judgement::Reject {
                code: "not_allowed",
                ..
            }
        ));
        assert_eq!(
            judge(&v, "h", Some(&held(&id, 10, "h")), None, &open()),
            Judgement::Unchanged
        );
        assert!(matches!(
            judge(&v, "x", Some(&held(&id, 10, "h")), None, &open()),
            Judgement::Reject {
                code: "stale_seq",
                ..
            }
        ));
        assert_eq!(
            judge(&v, "x", Some(&held(&id, 9, "h")), None, &open()),
            Judgement::Accept
        );
        assert!(matches!(
            judge(&v, "x", None, Some("ed25519:other"), &open()),
            Judgement::Reject {
                code: "hub_mismatch",
                ..
            }
        ));
        let other = HubKey::from_seed(&[2; 32]).unwrap().key_id().to_string();
        assert!(matches!(
            judge(&v, "x", Some(&held(&other, 1, "h")), None, &open()),
            Judgement::Reject {
                code: "unpinned_key",
                ..
            }
        ));
        let mut gone = held(&id, 1, "h");
        gone.state = HubState::Delisted;
        gone.envelope_sha256 = None;
        assert!(matches!(
            judge(&v, "x", Some(&gone), None, &open()),
            Judgement::Reject {
                code: "delisted",
                ..
            }
        ));
    }

    #[test]
    fn a_rotated_key_is_accepted_through_its_chain_only() {
        let first = HubKey::from_seed(&[1; 32]).unwrap();
        let second = HubKey::from_seed(&[3; 32]).unwrap();
        let id = first.key_id().to_string();
        let mut l = listing(&id, 20);
        l.rotations = vec![rotate(
            first.key_id(),
            &first,
            second.key_id(),
            Timestamp::now(),
        )];
        let v = verified(&l, &second);
        assert_eq!(
            judge(&v, "y", Some(&held(&id, 10, "h")), None, &open()),
            Judgement::Accept
        );
        // Pinned on the new key, a listing signed by the old key alone is refused.
        let old = verified(&listing(&id, 30), &first);
        let pinned_new = second.key_id().to_string();
        assert!(matches!(
            judge(&old, "z", Some(&held(&pinned_new, 20, "y")), None, &open()),
            Judgement::Reject {
                code: "unpinned_key",
                ..
            }
        ));
    }
}
