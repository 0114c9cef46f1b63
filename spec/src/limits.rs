//! Caps that every piece of untrusted input meets before it is believed.

use crate::SpecError;

/// The limits a verifier applies; [`Limits::default`] is the protocol's
/// normative default (see `SPEC.md`, "Limits").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest envelope accepted, in bytes.
    pub max_envelope_bytes: usize,
    /// Most services in one listing.
    pub max_services: usize,
    /// Deepest JSON nesting (objects plus arrays) in the envelope or payload.
    pub max_depth: usize,
    /// Longest short text (names, ids, phone numbers, codes), in characters.
    pub max_short_text: usize,
    /// Longest free text (descriptions), in characters.
    pub max_long_text: usize,
    /// Longest URL, in characters.
    pub max_url: usize,
    /// Most items in any list inside a service (locations, schedules, ...).
    pub max_list_items: usize,
    /// Most key-rotation statements in one listing.
    pub max_rotations: usize,
    /// Most signatures on one envelope.
    pub max_signatures: usize,
    /// Longest allowed gap between `issued_at` and `expires_at`, in seconds.
    pub max_lifetime_secs: i64,
    /// How far in the future `issued_at` may be, in seconds.
    pub max_clock_skew_secs: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_envelope_bytes: 4 * 1024 * 1024,
            max_services: 5_000,
            max_depth: 32,
            max_short_text: 256,
            max_long_text: 10_000,
            max_url: 2_048,
            max_list_items: 100,
            max_rotations: 16,
            max_signatures: 4,
            max_lifetime_secs: 90 * 24 * 3600,
            max_clock_skew_secs: 300,
        }
    }
}

/// Refuses JSON nested deeper than `max` without parsing it.
///
/// This runs before any parser so that a hostile document of a million `[`
/// costs one linear scan, not a deep recursion.
pub fn check_depth(bytes: &[u8], max: usize, what: &'static str) -> Result<(), SpecError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(SpecError::TooDeep { what, max });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_brackets_outside_strings_only() {
        assert!(check_depth(br#"{"a":[[1]]}"#, 3, "t").is_ok());
        assert!(check_depth(br#"{"a":[[[1]]]}"#, 3, "t").is_err());
        assert!(check_depth(br#"{"a":"[[[[[[\"[[["}"#, 1, "t").is_ok());
        let deep = "[".repeat(100_000);
        assert_eq!(
            check_depth(deep.as_bytes(), 32, "payload")
                .unwrap_err()
                .code(),
            "too_deep"
        );
    }
}
