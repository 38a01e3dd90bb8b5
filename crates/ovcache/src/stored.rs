//! JSON on the command line, the stored form in the cache.
//!
//! `set` reads VALUE as JSON and encodes it as the library would encode the same value (an
//! integer becomes ASCII decimal, anything else MessagePack), so `get::<T>` in a program reads
//! it with its type. `get` decodes the stored form into JSON, refusing what JSON cannot show
//! (raw bytes, NaN, infinities, maps with keys that are not strings or numbers) instead of
//! changing it.

use std::fmt;

use openviper_cache::Bytes;
use openviper_cache::codec::{decode, encode};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::CliError;

/// How `set` reads VALUE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// JSON, in the stored form.
    Json,
    /// A string, in the stored form.
    String,
    /// Bytes as they are.
    Raw,
}

/// The bytes `set` stores for `text`.
pub(crate) fn encode_value(key: &str, text: &str, input: Input) -> Result<Bytes, CliError> {
    let stored = match input {
        Input::Raw => return Ok(Bytes::copy_from_slice(text.as_bytes())),
        Input::String => encode(key, text),
        Input::Json => {
            let value: Value = serde_json::from_str(text).map_err(|e| {
                CliError::Usage(format!(
                    "VALUE {text:?} is not JSON ({e}): quote a string as '\"text\"', or pass --string"
                ))
            })?;
            encode(key, &value)
        }
    };
    stored.map_err(|e| CliError::Usage(e.to_string()))
}

/// The stored bytes of `key` as JSON.
pub(crate) fn decode_value(key: &str, bytes: &[u8]) -> Result<Value, CliError> {
    decode::<Json>(key, bytes)
        .map(|json| json.0)
        .map_err(|error| {
            CliError::Other(format!(
                "{error} (it is not a value JSON can show: use --raw for its bytes)"
            ))
        })
}

/// A JSON value read from the stored form, refusing what JSON would change.
struct Json(Value);

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value JSON can show")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json(Value::Number(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json(Value::Number(v.into())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        Number::from_f64(v)
            .map(|n| Json(Value::Number(n)))
            .ok_or_else(|| E::custom(format!("the float {v} has no JSON form")))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json(Value::String(v)))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Json, E> {
        Err(E::custom(format!("it holds {} raw bytes", v.len())))
    }
    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json(Value::Null))
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        Json::deserialize(deserializer)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Json(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut object = Map::new();
        while let Some((Json(key), Json(value))) = map.next_entry()? {
            let key = match key {
                Value::String(key) => key,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    return Err(de::Error::custom(format!(
                        "a map key {other} cannot be a JSON object key"
                    )));
                }
            };
            object.insert(key, value);
        }
        Ok(Json(Value::Object(object)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openviper_cache::codec::MSGPACK_MARKER;

    fn round_trip(text: &str) -> Value {
        let stored = encode_value("k", text, Input::Json).unwrap();
        decode_value("k", &stored).unwrap()
    }

    #[test]
    fn integers_are_ascii_decimal_and_the_rest_msgpack() {
        assert_eq!(&encode_value("k", "42", Input::Json).unwrap()[..], b"42");
        assert_eq!(&encode_value("k", "-7", Input::Json).unwrap()[..], b"-7");
        let text = encode_value("k", "\"42\"", Input::Json).unwrap();
        assert!(text.starts_with(&MSGPACK_MARKER));
        assert_eq!(decode::<String>("k", &text).unwrap(), "42");
        let list = encode_value("k", "[1,2]", Input::Json).unwrap();
        assert_eq!(decode::<Vec<u8>>("k", &list).unwrap(), vec![1, 2]);
    }

    #[test]
    fn json_round_trips() {
        for text in [
            "null",
            "true",
            "1.5",
            "18446744073709551615",
            "\"Ada\"",
            r#"{"name":"Ada","tags":["a",null],"n":{"x":-1}}"#,
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(round_trip(text), value, "{text}");
        }
    }

    #[test]
    fn what_json_cannot_show_is_an_error_not_a_change() {
        let nan = encode("k", &f64::NAN).unwrap();
        let error = decode_value("k", &nan).unwrap_err().to_string();
        assert!(error.contains("NaN") && error.contains("--raw"), "{error}");
        let bytes = encode("k", &serde_bytes_like()).unwrap();
        assert!(decode_value("k", &bytes).is_err());
        let foreign = decode_value("k", b"\xff\xfe").unwrap_err().to_string();
        assert!(foreign.contains("\"k\""), "{foreign}");
    }

    /// A value rmp-serde writes as MessagePack bin.
    fn serde_bytes_like() -> impl serde::Serialize {
        struct Raw;
        impl serde::Serialize for Raw {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(b"\x00\x01")
            }
        }
        Raw
    }

    #[test]
    fn bad_json_names_the_value_and_the_ways_out() {
        let error = encode_value("k", "hello", Input::Json).unwrap_err();
        assert!(matches!(error, CliError::Usage(_)));
        assert!(error.to_string().contains("--string"));
        let stored = encode_value("k", "hello", Input::String).unwrap();
        assert_eq!(decode::<String>("k", &stored).unwrap(), "hello");
        assert_eq!(
            &encode_value("k", "hello", Input::Raw).unwrap()[..],
            b"hello"
        );
    }
}
