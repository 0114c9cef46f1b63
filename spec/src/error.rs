//! The one error type of the protocol crate.

use thiserror::Error;

/// Why a listing, rotation statement or key was refused.
///
/// Every variant maps to a stable machine-readable [`SpecError::code`], which
/// is what `spec/vectors/` labels invalid vectors with and what aggregators
/// record in a hub's health, so other implementations can agree on outcomes.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SpecError {
    /// The envelope is larger than the configured cap; nothing else was read.
    #[error("envelope is {size} bytes, more than the limit of {max} bytes")]
    TooLarge { size: usize, max: usize },
    /// JSON nested deeper than the cap (envelope or payload).
    #[error("{what} JSON is nested more than {max} levels deep")]
    TooDeep { what: &'static str, max: usize },
    /// The envelope is not a JSON object of the DSSE shape.
    #[error("envelope is not valid: {0}")]
    BadEnvelope(String),
    /// A base64 field failed strict decoding.
    #[error("{field} is not valid {alphabet}")]
    BadBase64 {
        field: &'static str,
        alphabet: &'static str,
    },
    /// The envelope carries something other than what the verifier expected.
    #[error("payloadType is {found:?}, expected {expected:?}")]
    WrongPayloadType {
        found: String,
        expected: &'static str,
    },
    /// The envelope has no signatures, or more than the cap.
    #[error("envelope must carry between 1 and {max} signatures, it has {count}")]
    SignatureCount { count: usize, max: usize },
    /// A key id is not `ed25519:` followed by 32 bytes of unpadded base64url,
    /// or names an invalid or weak Ed25519 key.
    #[error("key id {value:?} is not valid: {reason}")]
    BadKeyId { value: String, reason: &'static str },
    /// No signature in the envelope is by the key that must have signed it.
    #[error("no signature by the expected key {expected}")]
    UnknownKey { expected: String },
    /// The signature by the expected key does not verify (tampered bytes,
    /// wrong key, malleable or non-canonical signature).
    #[error("signature by {keyid} does not verify")]
    BadSignature { keyid: String },
    /// A key-rotation statement in the chain is not valid.
    #[error("key rotation statement {index} is not valid: {reason}")]
    BadRotation { index: usize, reason: String },
    /// The payload speaks a protocol version this implementation does not.
    #[error(
        "protocol version {found:?} is not supported (this implementation speaks {supported:?})"
    )]
    UnsupportedVersion {
        found: String,
        supported: &'static str,
    },
    /// The payload does not match the schema or breaks a limit; `path` names
    /// the offending field (e.g. `services[2].locations[0].latitude`).
    #[error("payload field {path}: {reason}")]
    Schema { path: String, reason: String },
    /// The listing's `expires_at` has passed.
    #[error("listing expired at {expires_at}")]
    Expired { expires_at: String },
    /// The listing's `issued_at` is further in the future than the allowed
    /// clock skew.
    #[error("listing is issued at {issued_at}, which is in the future")]
    NotYetValid { issued_at: String },
}

impl SpecError {
    /// A stable, short identifier for the kind of failure.
    pub fn code(&self) -> &'static str {
        match self {
            SpecError::TooLarge { .. } => "too_large",
            SpecError::TooDeep { .. } => "too_deep",
            SpecError::BadEnvelope(_) => "bad_envelope",
            SpecError::BadBase64 { .. } => "bad_base64",
            SpecError::WrongPayloadType { .. } => "wrong_payload_type",
            SpecError::SignatureCount { .. } => "signature_count",
            SpecError::BadKeyId { .. } => "bad_key_id",
            SpecError::UnknownKey { .. } => "unknown_key",
            SpecError::BadSignature { .. } => "bad_signature",
            SpecError::BadRotation { .. } => "bad_rotation",
            SpecError::UnsupportedVersion { .. } => "unsupported_version",
            SpecError::Schema { .. } => "payload_schema",
            SpecError::Expired { .. } => "expired",
            SpecError::NotYetValid { .. } => "not_yet_valid",
        }
    }

    pub(crate) fn schema(path: impl Into<String>, reason: impl Into<String>) -> Self {
        SpecError::Schema {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
