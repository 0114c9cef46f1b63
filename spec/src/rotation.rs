//! Key rotation: a chain of statements, each signed by the previous key and
//! naming the next, from the hub's first key (its id) to its current key.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::envelope::{Envelope, ROTATION_PAYLOAD_TYPE};
use crate::keys::{HubKey, KeyId};
use crate::limits::{check_depth, Limits};
use crate::SpecError;

/// The payload of a rotation envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationStatement {
    /// The hub whose key changes (its first key's id); binds the statement to
    /// one hub so it cannot be replayed for another.
    pub hub_id: String,
    /// The key that signs this statement.
    pub previous_key: String,
    /// The key that takes over.
    pub next_key: String,
    /// When the rotation was made.
    pub issued_at: Timestamp,
}

/// Makes the signed statement that hands a hub over from `current` to `next`.
pub fn rotate(hub_id: &KeyId, current: &HubKey, next: &KeyId, issued_at: Timestamp) -> Envelope {
    let statement = RotationStatement {
        hub_id: hub_id.to_string(),
        previous_key: current.key_id().to_string(),
        next_key: next.to_string(),
        issued_at,
    };
    // Serialising this plain struct cannot fail.
    let bytes = serde_json::to_vec(&statement).unwrap_or_default();
    Envelope::sign(ROTATION_PAYLOAD_TYPE, &bytes, current)
}

/// Verifies a rotation chain and returns every key in it, first key first;
/// the last one is the key that must sign the listing.
pub fn verify_chain(
    hub_id: &KeyId,
    rotations: &[Envelope],
    limits: &Limits,
) -> Result<Vec<KeyId>, SpecError> {
    if rotations.len() > limits.max_rotations {
        return Err(SpecError::BadRotation {
            index: limits.max_rotations,
            reason: format!(
                "the chain has {} statements, more than the limit of {}",
                rotations.len(),
                limits.max_rotations
            ),
        });
    }
    let mut keys = vec![hub_id.clone()];
    for (index, envelope) in rotations.iter().enumerate() {
        let bad = |reason: String| SpecError::BadRotation { index, reason };
        let previous = keys[keys.len() - 1].clone();
        let payload = envelope
            .open(ROTATION_PAYLOAD_TYPE, &previous, limits)
            .map_err(|e| bad(e.to_string()))?;
        check_depth(&payload, limits.max_depth, "rotation").map_err(|e| bad(e.to_string()))?;
        // One pass when it is good; the two-pass check says why when not.
        let statement: RotationStatement = match crate::once::parse(&payload) {
            Ok(statement) => statement,
            Err(_) => {
                crate::shape::check(&payload, &crate::shape::ROTATION).map_err(bad)?;
                serde_json::from_slice(&payload).map_err(|e| bad(e.to_string()))?
            }
        };
        if statement.hub_id != hub_id.as_str() {
            return Err(bad(format!(
                "it is for hub {}, not {}",
                crate::keys::truncate_for_message(&statement.hub_id),
                hub_id
            )));
        }
        if statement.previous_key != previous.as_str() {
            return Err(bad(format!(
                "previous_key is not the key before it in the chain ({previous})"
            )));
        }
        let next = KeyId::parse(&statement.next_key).map_err(|e| bad(e.to_string()))?;
        if keys.contains(&next) {
            return Err(bad(format!("next_key {next} already appears in the chain")));
        }
        keys.push(next);
    }
    Ok(keys)
}
