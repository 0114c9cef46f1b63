//! Key ids and hub signing keys.
//!
//! A key id is `ed25519:` followed by the unpadded base64url encoding of the
//! 32-byte public key. A hub's id is the key id of its *first* key, so the
//! identity survives key rotation.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::SpecError;

/// Prefix of every key id; names the algorithm so another can be added later.
pub const KEY_ID_PREFIX: &str = "ed25519:";

/// A parsed, valid Ed25519 public key together with its textual id.
///
/// Parsing rejects keys that are not points on the curve and small-order
/// ("weak") keys, so a `KeyId` can always be used with `verify_strict`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyId {
    text: String,
    key: VerifyingKey,
}

impl KeyId {
    /// Parses `ed25519:<base64url>`; the error says exactly what is wrong.
    pub fn parse(value: &str) -> Result<Self, SpecError> {
        let bad = |reason| SpecError::BadKeyId {
            value: truncate_for_message(value),
            reason,
        };
        let encoded = value
            .strip_prefix(KEY_ID_PREFIX)
            .ok_or_else(|| bad("it must start with \"ed25519:\""))?;
        let raw = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| bad("the key is not unpadded base64url"))?;
        let bytes: [u8; 32] = raw
            .try_into()
            .map_err(|_| bad("the key must be exactly 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| bad("the bytes are not a valid Ed25519 public key"))?;
        if key.is_weak() {
            return Err(bad("the key is a small-order (weak) point"));
        }
        Ok(KeyId {
            text: value.to_owned(),
            key,
        })
    }

    /// Wraps a public key; fails only for weak keys.
    pub fn from_verifying_key(key: VerifyingKey) -> Result<Self, SpecError> {
        KeyId::from_bytes(key.as_bytes())
    }

    /// Builds the id of a raw 32-byte public key (e.g. from test vectors).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, SpecError> {
        KeyId::parse(&format!("{KEY_ID_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The one place a signature is checked: exactly 64 bytes, and
    /// `verify_strict` (no malleable signatures, no small-order components).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SpecError> {
        let bad = || SpecError::BadSignature {
            keyid: self.text.clone(),
        };
        let bytes: [u8; 64] = signature.try_into().map_err(|_| bad())?;
        self.key
            .verify_strict(message, &ed25519_dalek::Signature::from_bytes(&bytes))
            .map_err(|_| bad())
    }

    /// The textual form used on the wire.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The public key, for signature checks.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.text)
    }
}

impl Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        KeyId::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A hub's private signing key.
///
/// The seed is the only secret; keep it in a file readable by the node alone.
pub struct HubKey {
    signing: SigningKey,
    id: KeyId,
}

impl HubKey {
    /// Builds a key from a 32-byte secret seed (RFC 8032's private key).
    ///
    /// Callers generate the seed from the operating system's random source.
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, SpecError> {
        let signing = SigningKey::from_bytes(seed);
        let id = KeyId::from_verifying_key(signing.verifying_key())?;
        Ok(HubKey { signing, id })
    }

    /// The secret seed, for writing the key file.
    pub fn seed(&self) -> &[u8; 32] {
        self.signing.as_bytes()
    }

    /// This key's public id.
    pub fn key_id(&self) -> &KeyId {
        &self.id
    }

    /// Signs raw bytes. Listings and rotations are signed through
    /// [`crate::Envelope::sign`], which signs their PAE; this is public for
    /// benchmarks that need a baseline signature over known bytes.
    pub fn sign_raw(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

impl fmt::Debug for HubKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HubKey({}, secret hidden)", self.id)
    }
}

/// Keeps hostile values from flooding error messages and logs.
pub(crate) fn truncate_for_message(value: &str) -> String {
    const MAX: usize = 80;
    if value.chars().count() <= MAX {
        value.to_owned()
    } else {
        let cut: String = value.chars().take(MAX).collect();
        format!("{cut}…")
    }
}
