//! The DSSE envelope: exact bytes are signed, so no JSON canonicalisation is
//! needed and any implementation can verify what it received.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::keys::{HubKey, KeyId};
use crate::limits::{check_depth, Limits};
use crate::SpecError;

/// `payloadType` of a hub listing.
pub const LISTING_PAYLOAD_TYPE: &str = "application/vnd.signpost.listing+json";
/// `payloadType` of a key-rotation statement.
pub const ROTATION_PAYLOAD_TYPE: &str = "application/vnd.signpost.key-rotation+json";

/// A DSSE envelope as it travels on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// What the payload is; bound into the signature by the PAE.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// Standard base64 (with padding) of the payload bytes.
    pub payload: String,
    /// One or more signatures over the PAE.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature inside an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    /// Key id of the signer, `ed25519:...`.
    pub keyid: String,
    /// Standard base64 (with padding) of the 64-byte Ed25519 signature.
    pub sig: String,
}

/// DSSE's pre-authentication encoding: what is actually signed.
///
/// `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`, lengths as
/// ASCII decimal byte counts.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

impl Envelope {
    /// Signs `payload` as `payload_type` with one key.
    pub fn sign(payload_type: &str, payload: &[u8], key: &HubKey) -> Envelope {
        let sig = key.sign_raw(&pae(payload_type, payload));
        Envelope {
            payload_type: payload_type.to_owned(),
            payload: STANDARD.encode(payload),
            signatures: vec![EnvelopeSignature {
                keyid: key.key_id().as_str().to_owned(),
                sig: STANDARD.encode(sig),
            }],
        }
    }

    /// Parses envelope bytes within the size and depth limits.
    pub fn from_bytes(bytes: &[u8], limits: &Limits) -> Result<Envelope, SpecError> {
        if bytes.len() > limits.max_envelope_bytes {
            return Err(SpecError::TooLarge {
                size: bytes.len(),
                max: limits.max_envelope_bytes,
            });
        }
        check_depth(bytes, limits.max_depth, "envelope")?;
        // One pass accepts exactly what the two below accept; when it
        // refuses, they run to say why, in the words they always used.
        crate::once::parse(bytes).or_else(|_| {
            crate::shape::check(bytes, &crate::shape::ENVELOPE).map_err(SpecError::BadEnvelope)?;
            serde_json::from_slice(bytes).map_err(|e| SpecError::BadEnvelope(e.to_string()))
        })
    }

    /// Serialises the envelope; these bytes are what a hub serves.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain strings into a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Checks the type and signature count, decodes the payload, and checks
    /// that a signature by `expected` verifies with `verify_strict`.
    ///
    /// Returns the payload bytes, which are only trustworthy after this.
    pub fn open(
        &self,
        expected_type: &'static str,
        expected: &KeyId,
        limits: &Limits,
    ) -> Result<Vec<u8>, SpecError> {
        let payload = self.decode_payload(expected_type, limits)?;
        self.check_signature(&payload, expected)?;
        Ok(payload)
    }

    /// Type check, signature-count check and payload decoding, without any
    /// signature check: the caller must call [`Envelope::check_signature`]
    /// before trusting the bytes.
    pub fn decode_payload(
        &self,
        expected_type: &'static str,
        limits: &Limits,
    ) -> Result<Vec<u8>, SpecError> {
        if self.payload_type != expected_type {
            return Err(SpecError::WrongPayloadType {
                found: crate::keys::truncate_for_message(&self.payload_type),
                expected: expected_type,
            });
        }
        let count = self.signatures.len();
        if count == 0 || count > limits.max_signatures {
            return Err(SpecError::SignatureCount {
                count,
                max: limits.max_signatures,
            });
        }
        STANDARD
            .decode(&self.payload)
            .map_err(|_| SpecError::BadBase64 {
                field: "payload",
                alphabet: "standard padded base64",
            })
    }

    /// Verifies that a signature by `expected` covers the PAE of `payload`.
    ///
    /// Signatures by other keys are ignored; the first one whose `keyid`
    /// equals `expected` decides.
    pub fn check_signature(&self, payload: &[u8], expected: &KeyId) -> Result<(), SpecError> {
        let message = pae(&self.payload_type, payload);
        let index = self.deciding_signature(expected)?;
        self.verify_at(index, &message, expected)
    }

    /// The index of the signature that decides for `expected`: the first
    /// whose `keyid` is its id, byte for byte (`SPEC.md` 4.3).
    pub(crate) fn deciding_signature(&self, expected: &KeyId) -> Result<usize, SpecError> {
        self.signatures
            .iter()
            .position(|s| s.keyid == expected.as_str())
            .ok_or_else(|| SpecError::UnknownKey {
                expected: expected.to_string(),
            })
    }

    /// Checks signature `index` by `key` over `message` (a PAE built once
    /// by the caller, so several checks do not copy the payload again).
    pub(crate) fn verify_at(
        &self,
        index: usize,
        message: &[u8],
        key: &KeyId,
    ) -> Result<(), SpecError> {
        let Some(entry) = self.signatures.get(index) else {
            return Err(SpecError::UnknownKey {
                expected: key.to_string(),
            });
        };
        let raw = STANDARD
            .decode(&entry.sig)
            .map_err(|_| SpecError::BadBase64 {
                field: "signatures[].sig",
                alphabet: "standard padded base64",
            })?;
        key.verify(message, &raw)
    }

    /// The first signature that verifies over `message` by the key its own
    /// `keyid` names (`SPEC.md` 8.2, step 9).
    ///
    /// This runs before the payload is parsed, so forged or junk payloads
    /// are refused for the price of a signature check. It tries, in order,
    /// each signature whose `keyid` is a valid key id not named by an
    /// earlier signature (the one that would decide for that key), and
    /// stops at the first that verifies: whichever key must sign, its
    /// deciding signature is among those tried, so nothing acceptable is
    /// refused here. When none verifies, the error is the first one tried
    /// (`bad_base64` or `bad_signature`), or `unknown_key` if no `keyid` is
    /// a valid key id.
    pub(crate) fn first_verified_signature(
        &self,
        message: &[u8],
    ) -> Result<VerifiedSignature, SpecError> {
        let mut failed: Vec<(usize, SpecError)> = Vec::new();
        for (index, entry) in self.signatures.iter().enumerate() {
            let named_before = self.signatures[..index]
                .iter()
                .any(|earlier| earlier.keyid == entry.keyid);
            if named_before {
                continue;
            }
            let Ok(key) = KeyId::parse(&entry.keyid) else {
                continue;
            };
            match self.verify_at(index, message, &key) {
                Ok(()) => return Ok(VerifiedSignature { index, key, failed }),
                Err(e) => failed.push((index, e)),
            }
        }
        Err(match failed.into_iter().next() {
            Some((_, e)) => e,
            None => SpecError::UnknownKey {
                expected: "(no signature's keyid is a valid key id)".to_owned(),
            },
        })
    }
}

/// What [`Envelope::first_verified_signature`] found.
pub(crate) struct VerifiedSignature {
    /// The index of the signature that verified.
    pub index: usize,
    /// The key its `keyid` names.
    pub key: KeyId,
    /// The signatures tried before it, with why each failed, so that none
    /// is checked twice.
    pub failed: Vec<(usize, SpecError)>,
}

impl VerifiedSignature {
    /// Whether signature `index` by the key of its `keyid` verifies over
    /// `message`, checking it only if step 9 did not already.
    pub(crate) fn confirm(
        &self,
        envelope: &Envelope,
        index: usize,
        message: &[u8],
        key: &KeyId,
    ) -> Result<(), SpecError> {
        if index == self.index {
            return Ok(());
        }
        match self.failed.iter().find(|(i, _)| *i == index) {
            Some((_, e)) => Err(e.clone()),
            None => envelope.verify_at(index, message, key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_example() {
        // The worked example from the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn sign_then_open_round_trips_and_tampering_fails() {
        let key = HubKey::from_seed(&[7; 32]).unwrap();
        let limits = Limits::default();
        let env = Envelope::sign(LISTING_PAYLOAD_TYPE, b"{\"a\":1}", &key);
        let payload = env
            .open(LISTING_PAYLOAD_TYPE, key.key_id(), &limits)
            .unwrap();
        assert_eq!(payload, b"{\"a\":1}");

        let mut tampered = env.clone();
        tampered.payload = STANDARD.encode(b"{\"a\":2}");
        assert_eq!(
            tampered
                .open(LISTING_PAYLOAD_TYPE, key.key_id(), &limits)
                .unwrap_err()
                .code(),
            "bad_signature"
        );
        let other = HubKey::from_seed(&[8; 32]).unwrap();
        assert_eq!(
            env.open(LISTING_PAYLOAD_TYPE, other.key_id(), &limits)
                .unwrap_err()
                .code(),
            "unknown_key"
        );
    }
}
