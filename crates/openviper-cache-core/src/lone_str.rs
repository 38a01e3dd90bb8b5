//! The codec's fast paths for the commonest cached value: one string.
//!
//! A stored value that is a single MessagePack string (an HTML fragment, a token, a JSON
//! document) is decoded here instead of through rmp-serde's general path, which costs more than
//! the copy itself on a 100-byte string. [`LoneStr`] answers every request exactly as
//! rmp-serde's deserializer answers it for the same bytes (tested against it type by type), so
//! the fast path changes no result, only the time it takes.

use bytes::Bytes;
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{Error as _, Unexpected, Visitor};
use serde::forward_to_deserialize_any;

use crate::codec::MSGPACK_MARKER;

/// rmp-serde's error, so that both paths fail alike.
type Error = rmp_serde::decode::Error;

/// `text` in the stored form, exactly as rmp-serde writes a lone string (the marker, the
/// shortest str header, the bytes), in one allocation of its exact size: the general encoder's
/// growable buffer, shrunk to fit afterwards, cost a string write twice its copy.
/// `None` for a string longer than MessagePack's 4 GiB, left to the general encoder's error.
pub(crate) fn encode_lone_str(text: &str) -> Option<Bytes> {
    let len = u32::try_from(text.len()).ok()?;
    let header = match len {
        0..32 => 1,
        32..256 => 2,
        256..65_536 => 3,
        _ => 5,
    };
    let mut out = Vec::with_capacity(MSGPACK_MARKER.len() + header + text.len());
    out.extend_from_slice(&MSGPACK_MARKER);
    rmp::encode::write_str_len(&mut out, len).ok()?;
    out.extend_from_slice(text.as_bytes());
    Some(Bytes::from(out))
}

/// The string when `payload` (the bytes after the stored form's marker) is exactly one
/// MessagePack string of valid UTF-8; `None` sends the payload down rmp-serde's general path.
#[inline]
pub(crate) fn lone_str(payload: &[u8]) -> Option<&str> {
    let (&marker, rest) = payload.split_first()?;
    let (len, data) = match marker {
        0xA0..=0xBF => (usize::from(marker & 0x1F), rest),
        0xD9 => {
            let (&len, data) = rest.split_first()?;
            (usize::from(len), data)
        }
        0xDA => {
            let (len, data) = rest.split_first_chunk::<2>()?;
            (usize::from(u16::from_be_bytes(*len)), data)
        }
        0xDB => {
            let (len, data) = rest.split_first_chunk::<4>()?;
            (usize::try_from(u32::from_be_bytes(*len)).ok()?, data)
        }
        _ => return None,
    };
    if data.len() != len {
        return None;
    }
    simdutf8::basic::from_utf8(data).ok()
}

/// A deserializer over one borrowed string, behaving as rmp-serde's does on a MessagePack
/// string: `Option` sees `Some`, a newtype struct its inner value, an enum a unit variant,
/// strings, bytes and `any` the string; numbers and booleans are a type error without visiting.
pub(crate) struct LoneStr<'de>(pub(crate) &'de str);

impl<'de> LoneStr<'de> {
    fn not_a_number<V: Visitor<'de>>(&self, visitor: &V) -> Error {
        Error::invalid_type(Unexpected::Str(self.0), visitor)
    }
}

/// rmp-serde reads these as numbers: a string is refused before the visitor sees it.
macro_rules! refuse_as_number {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            Err(self.not_a_number(&visitor))
        }
    )*};
}

impl<'de> serde::Deserializer<'de> for LoneStr<'de> {
    type Error = Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == rmp_serde::MSGPACK_EXT_STRUCT_NAME {
            // An extension type is never a string.
            return Err(Error::invalid_type(Unexpected::Str(self.0), &visitor));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(BorrowedStrDeserializer::new(self.0))
    }

    refuse_as_number! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64
    }

    forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::collections::BTreeMap;
    use std::fmt::Debug;
    use std::net::IpAddr;

    use serde::Deserialize;
    use serde::de::DeserializeOwned;

    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    enum Level {
        Low,
        High,
        Custom(String),
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Name(String);

    #[derive(Debug, PartialEq, Deserialize)]
    struct Unit;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Record {
        name: String,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(u64),
        Text(String),
    }

    /// Asks for a number but takes a string too: tells "refused before visiting" from
    /// "visited and refused".
    #[derive(Debug, PartialEq)]
    struct Lenient(String);

    impl<'de> Deserialize<'de> for Lenient {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Takes;
            impl Visitor<'_> for Takes {
                type Value = Lenient;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a number or a string")
                }
                fn visit_u64<E>(self, v: u64) -> Result<Lenient, E> {
                    Ok(Lenient(v.to_string()))
                }
                fn visit_str<E>(self, v: &str) -> Result<Lenient, E> {
                    Ok(Lenient(v.to_owned()))
                }
            }
            deserializer.deserialize_u64(Takes)
        }
    }

    /// A payload in MessagePack: `text` as one string.
    fn payload(text: &str) -> Vec<u8> {
        rmp_serde::to_vec(text).unwrap()
    }

    /// The fast path and rmp-serde agree on `T` for `text`: the same value, or both an error.
    fn agrees<T: DeserializeOwned + PartialEq + Debug>(text: &str) {
        let payload = payload(text);
        let fast = lone_str(&payload).map(|s| T::deserialize(LoneStr(s)));
        let Some(fast) = fast else {
            panic!("{text:?} was not taken by the fast path");
        };
        let general = rmp_serde::from_slice::<T>(&payload);
        match (fast, general) {
            (Ok(fast), Ok(general)) => assert_eq!(fast, general, "{text:?}"),
            (Err(_), Err(_)) => {}
            (fast, general) => panic!(
                "{text:?} as {}: fast path {fast:?}, rmp-serde {general:?}",
                std::any::type_name::<T>()
            ),
        }
    }

    fn agrees_on_every_type(text: &str) {
        agrees::<String>(text);
        agrees::<Box<str>>(text);
        agrees::<Cow<'static, str>>(text);
        agrees::<Option<String>>(text);
        agrees::<Option<Option<String>>>(text);
        agrees::<Name>(text);
        agrees::<Level>(text);
        agrees::<NumberOrText>(text);
        agrees::<serde_json::Value>(text);
        agrees::<char>(text);
        agrees::<IpAddr>(text);
        agrees::<Vec<u8>>(text);
        agrees::<Vec<String>>(text);
        agrees::<(String,)>(text);
        agrees::<BTreeMap<String, String>>(text);
        agrees::<Record>(text);
        agrees::<Unit>(text);
        agrees::<()>(text);
        agrees::<Lenient>(text);
        agrees::<bool>(text);
        agrees::<u8>(text);
        agrees::<i64>(text);
        agrees::<u64>(text);
        agrees::<i128>(text);
        agrees::<u128>(text);
        agrees::<f32>(text);
        agrees::<f64>(text);
        agrees::<std::time::Duration>(text);
    }

    #[test]
    fn every_type_decodes_a_string_as_rmp_serde_does() {
        for text in [
            "",
            "a",
            "é",
            "Low",
            "High",
            "Custom",
            "42",
            "true",
            "null",
            "127.0.0.1",
            "ünïcødé text",
        ] {
            agrees_on_every_type(text);
        }
    }

    #[test]
    fn every_string_width_is_taken() {
        // fixstr, str8, str16 and str32, each at its edges.
        for len in [0, 31, 32, 255, 256, 65_535, 65_536, 70_000] {
            let text = "x".repeat(len);
            assert_eq!(
                lone_str(&payload(&text)),
                Some(text.as_str()),
                "length {len}"
            );
            agrees::<String>(&text);
        }
    }

    #[test]
    fn anything_but_one_whole_valid_string_goes_the_general_way() {
        let mut trailing = payload("abc");
        trailing.push(0xC0);
        assert_eq!(lone_str(&trailing), None);
        let short = &payload("abcdef")[..4];
        assert_eq!(lone_str(short), None);
        assert_eq!(lone_str(&[0xA2, 0xFF, 0xFE]), None, "invalid UTF-8");
        assert_eq!(lone_str(&[0xD9]), None, "str8 without its length");
        assert_eq!(lone_str(&[0xDA, 0x00]), None, "str16 without its length");
        assert_eq!(lone_str(&[0x92, 0xA1, b'a', 0xA1, b'b']), None, "an array");
        assert_eq!(lone_str(&[]), None);
    }
}
