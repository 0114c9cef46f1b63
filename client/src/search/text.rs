//! Turning text into the terms the search index holds: words split on
//! anything that is not a letter or digit, lower-cased, accents folded
//! (so "café" finds "cafe"), and stemmed with the Snowball English stemmer
//! (so "pantries" finds "pantry"). The same function reads people's queries,
//! so both sides always agree.

use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};

/// Longest word kept, in bytes: longer runs are not words people type, and
/// a cap keeps a hostile listing from making huge terms.
pub const MAX_TERM_BYTES: usize = 64;

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// Latin-1 Supplement letters U+00C0..=U+00FF without their accents
/// (`*` where there is no plain letter).
const LATIN1: &[u8; 64] = b"AAAAAAACEEEEIIIIDNOOOOO*OUUUUYTsaaaaaaaceeeeiiiidnooooo*ouuuuyty";
/// Latin Extended-A U+0100..=U+017F without their accents.
const LATIN_EXT_A: &[u8; 128] = b"AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiJjJjKkkLlLlLlLlLlNnNnNnnNnOoOoOoOoRrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";

/// A letter without its accent, where it has a plain Latin form.
fn fold(c: char) -> char {
    let code = c as u32;
    let plain = match code {
        0xC0..=0xFF => LATIN1[(code - 0xC0) as usize],
        0x100..=0x17F => LATIN_EXT_A[(code - 0x100) as usize],
        _ => return c,
    };
    if plain == b'*' {
        c
    } else {
        char::from(plain)
    }
}

/// Most words whose stems each thread remembers: a region's services use
/// a small vocabulary, and stemming was the largest part of reading a
/// service for the index (docs/benchmarks.md).
const STEM_CACHE_WORDS: usize = 20_000;

thread_local! {
    static STEMS: std::cell::RefCell<std::collections::HashMap<Box<str>, Box<str>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The stem of a lower-cased, folded word, remembered per thread.
fn stem(word: &str, each: &mut impl FnMut(&str)) {
    STEMS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(stem) = cache.get(word) {
            each(stem);
            return;
        }
        let stem: Box<str> = stemmer().stem(word).into();
        each(&stem);
        if cache.len() >= STEM_CACHE_WORDS {
            cache.clear();
        }
        cache.insert(word.into(), stem);
    });
}

/// Calls `each` with every term of `text`, in order.
pub fn terms(text: &str, mut each: impl FnMut(&str)) {
    let mut word = String::new();
    let mut flush = |word: &mut String| {
        if !word.is_empty() && word.len() <= MAX_TERM_BYTES {
            stem(word, &mut each);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            for lower in fold(c).to_lowercase() {
                word.push(lower);
            }
        } else {
            flush(&mut word);
        }
    }
    flush(&mut word);
}

/// The terms of a query, at most `max` of them, each to be matched as a
/// prefix (people type the start of a word).
pub fn query_terms(q: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    terms(q, |t| {
        if out.len() < max && !out.iter().any(|o: &String| o == t) {
            out.push(t.to_owned());
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<String> {
        let mut v = Vec::new();
        terms(text, |t| v.push(t.to_owned()));
        v
    }

    #[test]
    fn words_are_lowered_folded_and_stemmed() {
        assert_eq!(all("Food Pantries, café!"), ["food", "pantri", "cafe"]);
        assert_eq!(all("Pantry"), ["pantri"]);
        assert_eq!(all("Befriending"), ["befriend"]);
        assert_eq!(all("ŁÓDŹ"), ["lodz"]);
        assert_eq!(all("  -- ; ' "), Vec::<String>::new());
        assert!(all(&"x".repeat(MAX_TERM_BYTES + 1)).is_empty());
    }

    #[test]
    fn queries_are_deduplicated_and_capped() {
        assert_eq!(query_terms("food FOOD bank", 16), ["food", "bank"]);
        assert_eq!(query_terms("a b c d", 2), ["a", "b"]);
    }
}
