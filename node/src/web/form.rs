//! Reading what a browser sends (query strings and `application/x-www-form-
//! urlencoded` bodies) with caps, and carrying messages back to the field
//! they belong to.

use std::collections::BTreeMap;

/// Most name=value pairs read from one form or query string.
pub const MAX_PAIRS: usize = 2_000;

/// The fields of a submitted form or query string, in order; a name may
/// appear more than once (a group of checkboxes).
#[derive(Debug, Clone, Default)]
pub struct Values(Vec<(String, String)>);

impl Values {
    /// Parses urlencoded bytes, keeping at most [`MAX_PAIRS`] pairs.
    pub fn parse(bytes: &[u8]) -> Values {
        Values(
            url::form_urlencoded::parse(bytes)
                .take(MAX_PAIRS)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Values made in code (pre-filling a form, or a test's post).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Values {
        Values(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// The first value of `name`, trimmed, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    /// The first value of `name` when it is not blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// True when `name` was sent (a ticked checkbox).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// Adds a value.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }
}

/// Messages for fields, by field name; `""` holds a message for the form as
/// a whole.
#[derive(Debug, Clone, Default)]
pub struct Errors(BTreeMap<String, String>);

impl Errors {
    /// Records a message for `field` (the first one for a field is kept).
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    /// The message for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&String> {
        self.0.get(field)
    }

    /// True when there are no messages.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every message, for the summary at the top of a form.
    pub fn all(&self) -> Vec<(String, String)> {
        self.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// One option of a select or checkbox group.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    /// An option, selected when `value` is among `current`.
    pub fn new(value: &str, label: &str, current: &[&str]) -> Choice {
        Choice {
            value: value.to_owned(),
            label: label.to_owned(),
            selected: current.contains(&value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_errors() {
        let v = Values::parse(b"a=+x+&b=1&b=2&c=");
        assert_eq!(v.get("a"), "x");
        assert_eq!(v.all("b"), ["1", "2"]);
        assert_eq!(v.opt("c"), None);
        assert!(v.has("c") && !v.has("d"));
        let many = "x=1&".repeat(MAX_PAIRS + 10);
        assert_eq!(Values::parse(many.as_bytes()).all("x").len(), MAX_PAIRS);
        let mut e = Errors::default();
        e.add("name", "first");
        e.add("name", "second");
        assert_eq!(e.get("name").map(String::as_str), Some("first"));
    }
}
