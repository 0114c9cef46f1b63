//! A streaming check of a JSON document's shape, run before typed parsing.
//!
//! Serde's derived structs also accept a JSON *array* of field values in
//! place of an object, and typed parsing only notices duplicate keys among
//! known fields. Other implementations would refuse both, so verifiers would
//! disagree. This pass refuses arrays where the protocol has objects and
//! duplicate keys anywhere, without building a tree.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// What the protocol expects at a position.
#[derive(Debug)]
pub(crate) enum Shape {
    /// An object; listed members have shapes of their own, others are free.
    Object(&'static [(&'static str, Shape)]),
    /// An array whose elements have the given shape.
    ArrayOf(&'static Shape),
    /// Anything (typed parsing decides).
    Any,
}

const OBJECT: Shape = Shape::Object(&[]);
const ARRAY_OF_OBJECTS: Shape = Shape::ArrayOf(&OBJECT);

/// A DSSE envelope.
pub(crate) static ENVELOPE: Shape = Shape::Object(&[("signatures", ARRAY_OF_OBJECTS)]);
/// A key-rotation statement.
pub(crate) static ROTATION: Shape = OBJECT;

static LOCATION: Shape = Shape::Object(&[("address", OBJECT)]);
static SERVICE: Shape = Shape::Object(&[
    ("organization", OBJECT),
    ("languages", ARRAY_OF_OBJECTS),
    ("service_areas", ARRAY_OF_OBJECTS),
    ("locations", Shape::ArrayOf(&LOCATION)),
    ("phones", ARRAY_OF_OBJECTS),
    ("contacts", ARRAY_OF_OBJECTS),
    ("schedules", ARRAY_OF_OBJECTS),
    ("taxonomy_terms", ARRAY_OF_OBJECTS),
]);
const HUB: Shape = Shape::Object(&[("dimensions", OBJECT), ("address", OBJECT)]);
/// A listing payload.
pub(crate) static LISTING: Shape = Shape::Object(&[
    ("hub", HUB),
    ("rotations", Shape::ArrayOf(&ENVELOPE)),
    ("services", Shape::ArrayOf(&SERVICE)),
]);

/// What the walk found, for checks that must come before typed parsing.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// The root object's `signpost` member, when it is a string.
    pub version: Option<String>,
}

/// Walks `bytes` against `shape`; the error is a path and a reason.
pub(crate) fn check(bytes: &[u8], shape: &'static Shape) -> Result<Found, String> {
    let mut found = Found::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Walk {
        shape,
        path: Path::Root,
        found: &mut found,
    }
    .deserialize(&mut de)
    .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(found)
}

/// Walks one value of any shape (an unknown member) for what the walk
/// refuses anywhere: repeated member names and malformed JSON, such as a
/// number out of range, that skipping the value would not notice.
pub(crate) fn walk_any<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
    Walk {
        shape: &Shape::Any,
        path: Path::Key(&Path::Root, "(unknown member)"),
        found: &mut Found::default(),
    }
    .deserialize(d)
}

/// Most keys compared one by one before a hash set takes over: objects in
/// listings have a dozen members, so the common case allocates nothing
/// (keys without escapes are borrowed), while a hostile object with
/// thousands of members still costs linear time.
const FEW_KEYS: usize = 16;

/// The member names seen so far in one object.
#[derive(Default)]
pub(crate) struct SeenKeys<'de> {
    few: Vec<Cow<'de, str>>,
    many: HashSet<Cow<'de, str>>,
}

impl<'de> SeenKeys<'de> {
    /// False when `key` was seen before.
    pub(crate) fn insert(&mut self, key: Cow<'de, str>) -> bool {
        if !self.many.is_empty() {
            return self.many.insert(key);
        }
        if self.few.contains(&key) {
            return false;
        }
        if self.few.len() < FEW_KEYS {
            self.few.push(key);
        } else {
            self.many.extend(self.few.drain(..));
            self.many.insert(key);
        }
        true
    }
}

#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => f.write_str("$"),
            Path::Key(Path::Root, k) => write!(f, "{k}"),
            Path::Key(p, k) => write!(f, "{p}.{k}"),
            Path::Index(p, i) => write!(f, "{p}[{i}]"),
        }
    }
}

struct Walk<'p, 'f> {
    shape: &'static Shape,
    path: Path<'p>,
    found: &'f mut Found,
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let element = match self.shape {
            Shape::Object(_) => {
                return Err(serde::de::Error::custom(format!(
                    "{} must be an object, not an array",
                    self.path
                )))
            }
            Shape::ArrayOf(e) => *e,
            Shape::Any => &Shape::Any,
        };
        let mut index = 0;
        loop {
            let path = Path::Index(&self.path, index);
            let walk = Walk {
                shape: element,
                path,
                found: &mut *self.found,
            };
            if seq.next_element_seed(walk)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let members: &'static [(&'static str, Shape)] = match self.shape {
            Shape::Object(m) => m,
            _ => &[],
        };
        let mut seen = SeenKeys::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!(
                    "{} has the member {key:?} twice",
                    self.path
                )));
            }
            let path = Path::Key(&self.path, key.as_ref());
            if matches!(self.path, Path::Root) && key == "signpost" {
                let value: serde_json::Value = map.next_value()?;
                self.found.version = value.as_str().map(str::to_owned);
                continue;
            }
            let shape = members
                .iter()
                .find(|(name, _)| *name == key)
                .map(|(_, s)| s)
                .unwrap_or(&Shape::Any);
            map.next_value_seed(Walk {
                shape,
                path,
                found: &mut *self.found,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_in_place_of_objects_are_refused_with_their_path() {
        assert!(check(br#"{"hub":{"dimensions":{}},"services":[{}]}"#, &LISTING).is_ok());
        let e = check(br#"{"hub":["x","y"]}"#, &LISTING).unwrap_err();
        assert!(e.contains("hub must be an object"), "{e}");
        let e = check(
            br#"{"services":[{"locations":[{"address":["1 Main St"]}]}]}"#,
            &LISTING,
        )
        .unwrap_err();
        assert!(e.contains("services[0].locations[0].address"), "{e}");
        let e = check(br#"["t","p",[["k","s"]]]"#, &ENVELOPE).unwrap_err();
        assert!(e.contains("$ must be an object"), "{e}");
        let e = check(br#"{"signatures":[["k","s"]]}"#, &ENVELOPE).unwrap_err();
        assert!(e.contains("signatures[0]"), "{e}");
    }

    #[test]
    fn duplicate_keys_are_refused_even_in_unknown_members() {
        let e = check(br#"{"x_extra":{"a":1,"a":2}}"#, &LISTING).unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let e = check(br#"{"signpost":"1","signpost":"2"}"#, &LISTING).unwrap_err();
        assert!(e.contains("twice"), "{e}");
    }

    #[test]
    fn duplicates_are_found_past_the_few_keys_compared_one_by_one() {
        let members: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let fine = format!("{{{}}}", members.join(","));
        assert!(check(fine.as_bytes(), &LISTING).is_ok());
        for repeat in ["k3", "k30"] {
            let twice = format!("{{{},\"{repeat}\":0}}", members.join(","));
            let e = check(twice.as_bytes(), &LISTING).unwrap_err();
            assert!(e.contains("twice"), "{e}");
        }
    }

    #[test]
    fn finds_the_version_and_refuses_trailing_garbage() {
        let found = check(br#"{"signpost":"2","hub":{}}"#, &LISTING).unwrap();
        assert_eq!(found.version.as_deref(), Some("2"));
        assert!(check(br#"{} {}"#, &LISTING).is_err());
    }
}
