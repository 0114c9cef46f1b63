//! Typed parsing and the shape rules of [`crate::shape`] in one pass.
//!
//! [`parse`] runs serde's derived `Deserialize` through an adapter that adds
//! what typed parsing alone lets through: a struct written as a JSON array,
//! a repeated unknown member, and anything wrong inside an unknown member
//! (a repeated name, a number out of range), which the derived code would
//! skip unchecked. So it accepts exactly what `shape::check` followed by
//! `serde_json::from_slice` accepts, at the cost of one parse instead of two.
//!
//! Only the verdict is exact: its errors do not say *where* or *which rule*,
//! so callers re-run the two-pass check on failure (rare, and only on bad
//! input) to report the same error as before.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde::Deserialize;

use crate::shape::SeenKeys;

/// Parses `bytes` as one JSON document of type `T`, with the shape rules.
pub(crate) fn parse<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = T::deserialize(Strict {
        de: &mut de,
        ignored: None,
    })?;
    de.end()?;
    Ok(value)
}

/// A deserializer that passes everything on to `de`, wrapping what it hands
/// out so the rules reach every nested value.
struct Strict<'a, D> {
    de: D,
    /// Set when the value is skipped as an unknown member, so the map that
    /// holds it checks the member's name for repeats.
    ignored: Option<&'a Cell<bool>>,
}

/// Wraps a visitor so that the maps, sequences, options and enums it is
/// given are strict too; `object` refuses a JSON array (a struct).
struct Wrap<V> {
    visitor: V,
    object: bool,
}

fn wrap<V>(visitor: V) -> Wrap<V> {
    Wrap {
        visitor,
        object: false,
    }
}

macro_rules! forward {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.de.$method(wrap(visitor))
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<'_, D> {
    type Error = D::Error;

    forward!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_unit_struct(name, wrap(visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_newtype_struct(name, wrap(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_tuple(len, wrap(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_tuple_struct(name, len, wrap(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let visitor = Wrap {
            visitor,
            object: true,
        };
        self.de.deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_enum(name, variants, wrap(visitor))
    }

    /// An unknown member: still walked, for repeated names and bad numbers.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if let Some(ignored) = self.ignored {
            ignored.set(true);
        }
        crate::shape::walk_any(self.de)?;
        visitor.visit_unit()
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<V::Value, E> {
        self.visitor.visit_bool(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<V::Value, E> {
        self.visitor.visit_i64(v)
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<V::Value, E> {
        self.visitor.visit_i128(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        self.visitor.visit_u64(v)
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<V::Value, E> {
        self.visitor.visit_u128(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        self.visitor.visit_f64(v)
    }
    fn visit_char<E: de::Error>(self, v: char) -> Result<V::Value, E> {
        self.visitor.visit_char(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.visitor.visit_str(v)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.visitor.visit_borrowed_str(v)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        self.visitor.visit_string(v)
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<V::Value, E> {
        self.visitor.visit_bytes(v)
    }
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<V::Value, E> {
        self.visitor.visit_borrowed_bytes(v)
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<V::Value, E> {
        self.visitor.visit_byte_buf(v)
    }
    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_none()
    }
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.visitor.visit_some(Strict {
            de: d,
            ignored: None,
        })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.visitor.visit_newtype_struct(Strict {
            de: d,
            ignored: None,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        if self.object {
            return Err(de::Error::custom("an object, not an array, belongs here"));
        }
        self.visitor.visit_seq(StrictSeq(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(StrictMap {
            map,
            key: None,
            ignored: Cell::new(false),
            unknown: SeenKeys::default(),
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_enum(StrictEnum(data))
    }
}

/// Hands out strict deserializers for a seed.
struct Seed<'a, S> {
    seed: S,
    ignored: Option<&'a Cell<bool>>,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Strict {
            de: d,
            ignored: self.ignored,
        })
    }
}

struct StrictSeq<A>(A);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for StrictSeq<A> {
    type Error = A::Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Seed {
            seed,
            ignored: None,
        })
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// A map whose unknown members' names are remembered, to refuse repeats.
/// (The derived code already refuses a repeated known member.)
struct StrictMap<'de, A> {
    map: A,
    /// The name of the member being read.
    key: Option<Cow<'de, str>>,
    ignored: Cell<bool>,
    unknown: SeenKeys<'de>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for StrictMap<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.map.next_key_seed(KeySeed {
            seed,
            key: &mut self.key,
        })
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.ignored.set(false);
        let value = self.map.next_value_seed(Seed {
            seed,
            ignored: Some(&self.ignored),
        })?;
        if self.ignored.get() {
            let key = self.key.take().unwrap_or_default();
            if !self.unknown.insert(key) {
                return Err(de::Error::custom("an object repeats a member name"));
            }
        }
        Ok(value)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// Reads a member name, keeping a copy (borrowed when it has no escapes).
struct KeySeed<'k, 'de, S> {
    seed: S,
    key: &'k mut Option<Cow<'de, str>>,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, 'de, S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(KeyDe {
            de: d,
            key: self.key,
        })
    }
}

/// The member-name deserializer: every request records the name.
struct KeyDe<'k, 'de, D> {
    de: D,
    key: &'k mut Option<Cow<'de, str>>,
}

macro_rules! forward_key {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.de.$method(KeyVisitor { visitor, key: self.key })
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDe<'_, 'de, D> {
    type Error = D::Error;

    forward_key!(
        deserialize_any,
        deserialize_str,
        deserialize_string,
        deserialize_identifier,
    );

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct
        enum ignored_any
    }
}

struct KeyVisitor<'k, 'de, V> {
    visitor: V,
    key: &'k mut Option<Cow<'de, str>>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyVisitor<'_, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        *self.key = Some(Cow::Owned(v.to_owned()));
        self.visitor.visit_str(v)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        *self.key = Some(Cow::Borrowed(v));
        self.visitor.visit_borrowed_str(v)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        *self.key = Some(Cow::Owned(v.clone()));
        self.visitor.visit_string(v)
    }
}

struct StrictEnum<A>(A);

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for StrictEnum<A> {
    type Error = A::Error;
    type Variant = StrictVariant<A::Variant>;
    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(Seed {
            seed,
            ignored: None,
        })?;
        Ok((value, StrictVariant(variant)))
    }
}

struct StrictVariant<A>(A);

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for StrictVariant<A> {
    type Error = A::Error;
    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.0.newtype_variant_seed(Seed {
            seed,
            ignored: None,
        })
    }
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, wrap(visitor))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        let visitor = Wrap {
            visitor,
            object: true,
        };
        self.0.struct_variant(fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Envelope;
    use crate::listing::Listing;
    use crate::shape::{self, Shape};

    /// What the two passes it replaces say: accepted or not.
    fn two_passes<T: for<'de> Deserialize<'de>>(bytes: &[u8], shape: &'static Shape) -> bool {
        shape::check(bytes, shape).is_ok() && serde_json::from_slice::<T>(bytes).is_ok()
    }

    fn agrees<T: for<'de> Deserialize<'de> + PartialEq + fmt::Debug>(
        text: &str,
        shape: &'static Shape,
        accepted: bool,
    ) {
        let bytes = text.as_bytes();
        let once = parse::<T>(bytes);
        assert_eq!(once.is_ok(), accepted, "one pass on {text}: {once:?}");
        assert_eq!(
            two_passes::<T>(bytes, shape),
            accepted,
            "two passes on {text}"
        );
        if let Ok(value) = once {
            assert_eq!(Some(value), serde_json::from_slice::<T>(bytes).ok());
        }
    }

    const HUB: &str = r#""hub":{"id":"ed25519:x","name":"n","dimensions":{"space":["dedicated"],"governance":"community-led","focus":"generic","coordination":"first-level"}}"#;
    const TIMES: &str =
        r#""seq":1,"issued_at":"2026-03-02T09:00:00Z","expires_at":"2026-03-03T09:00:00Z""#;

    fn listing(extra: &str, services: &str) -> String {
        format!(r#"{{"signpost":"1",{HUB},{TIMES}{extra},"services":[{services}]}}"#)
    }

    #[test]
    fn accepts_and_refuses_exactly_what_the_two_passes_do() {
        let svc = r#"{"id":"s","name":"n","locations":[{"id":"l","address":{"city":"c"}}]}"#;
        let cases: Vec<(String, bool)> = vec![
            (listing("", ""), true),
            (listing("", svc), true),
            (
                listing(r#","x_extra":{"a":[1,{"b":2}],"c":null}"#, svc),
                true,
            ),
            // Unknown members: repeated, or repeating inside, or a bad number.
            (listing(r#","x":1,"x":2"#, ""), false),
            (listing(r#","x":{"a":1,"a":2}"#, ""), false),
            (listing(r#","x":[{"a":1,"a":2}]"#, ""), false),
            (listing(r#","x":1e400"#, ""), false),
            (listing(r#","x\u0041":1,"xA":2"#, ""), false),
            // A known member twice.
            (listing(r#","seq":2"#, ""), false),
            // Arrays where objects belong.
            (listing("", r#"["s","n"]"#), false),
            (
                listing("", r#"{"id":"s","name":"n","locations":[["l"]]}"#),
                false,
            ),
            (
                listing(
                    "",
                    r#"{"id":"s","name":"n","locations":[{"id":"l","address":["1 Main St"]}]}"#,
                ),
                false,
            ),
            // Type errors, trailing data.
            (listing("", r#"{"id":1,"name":"n"}"#), false),
            (format!("{} {{}}", listing("", "")), false),
            (format!("{} ", listing("", "")), true),
            ("[]".to_owned(), false),
        ];
        for (text, accepted) in cases {
            agrees::<Listing>(&text, &shape::LISTING, accepted);
        }
    }

    #[test]
    fn envelopes_and_their_rotations_follow_the_same_rules() {
        let good = r#"{"payloadType":"t","payload":"","signatures":[{"keyid":"k","sig":"s"}]}"#;
        agrees::<Envelope>(good, &shape::ENVELOPE, true);
        for bad in [
            r#"["t","",[["k","s"]]]"#,
            r#"{"payloadType":"t","payload":"","signatures":[["k","s"]]}"#,
            r#"{"payloadType":"t","payload":"","payload":"","signatures":[]}"#,
            r#"{"payloadType":"t","payload":"","signatures":[],"x":1}"#,
        ] {
            agrees::<Envelope>(bad, &shape::ENVELOPE, false);
        }
        let rotation = format!(r#","rotations":[{good}]"#);
        agrees::<Listing>(&listing(&rotation, ""), &shape::LISTING, true);
        let positional = r#","rotations":[["t","",[["k","s"]]]]"#;
        agrees::<Listing>(&listing(positional, ""), &shape::LISTING, false);
    }
}
