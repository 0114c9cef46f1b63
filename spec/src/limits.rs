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
/// costs one linear scan, not a deep recursion. Inside a string only `"`
/// and `\` matter, so the scan jumps between them (most of an envelope is
/// the payload's base64, one long string).
pub fn check_depth(bytes: &[u8], max: usize, what: &'static str) -> Result<(), SpecError> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Find the closing quote; a backslash skips the byte after it.
                i += 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &bytes[i.min(bytes.len())..]) {
                        None => return Ok(()),
                        Some(at) if bytes[i + at] == b'\\' => i += at + 2,
                        Some(at) => {
                            i += at;
                            break;
                        }
                    }
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(SpecError::TooDeep { what, max });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
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
        // A backslash skips the next byte, even a quote; an unclosed string
        // or a trailing backslash ends the scan.
        assert!(check_depth(br#"["a\"[[[[", [1]]"#, 2, "t").is_ok());
        assert!(check_depth(br#"["a\\"[[[[", [1]]"#, 2, "t").is_err());
        assert!(check_depth(br#"["abc\"#, 1, "t").is_ok());
        assert!(check_depth(br#"[["abc"#, 1, "t").is_err());
        let deep = "[".repeat(100_000);
        assert_eq!(
            check_depth(deep.as_bytes(), 32, "payload")
                .unwrap_err()
                .code(),
            "too_deep"
        );
    }

    /// The byte-at-a-time scan of `SPEC.md` section 7, as written there.
    fn reference(bytes: &[u8], max: usize) -> bool {
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
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
                        return false;
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        true
    }

    #[test]
    fn the_jumping_scan_agrees_with_the_byte_scan() {
        let alphabet = b"\"\\[]{}a";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in 0..2000 {
            let bytes: Vec<u8> = (0..len % 64)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            for max in [0, 1, 3] {
                assert_eq!(
                    check_depth(&bytes, max, "t").is_ok(),
                    reference(&bytes, max),
                    "{:?} at {max}",
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
    }

    #[test]
    fn deep_input_is_refused() {
        let deep = "[".repeat(100_000);
        assert_eq!(
            check_depth(deep.as_bytes(), 32, "payload")
                .unwrap_err()
                .code(),
            "too_deep"
        );
    }
}
