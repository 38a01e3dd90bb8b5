//! The stored form of typed values, shared by every backend.
//!
//! A top-level integer (`i8`..`i64`, `u8`..`u64`) is stored as ASCII decimal, so `incr` works on
//! it natively and other clients can read it. Every other value is stored as the marker
//! [`MSGPACK_MARKER`] followed by `rmp_serde::to_vec_named`. 0xC1 is never valid MessagePack, so
//! the two forms cannot be confused.
//!
//! Decoding a value that is one MessagePack string (the commonest cached value) takes a fast
//! path that skips rmp-serde's general decoder; it gives every type the same answer rmp-serde
//! would.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::de::value::{I64Deserializer, U64Deserializer};
use serde::{Serialize, ser};

use crate::error::{BoxError, CacheError, Result};
use crate::lone_str::{LoneStr, encode_lone_str, lone_str};

/// The two bytes that start a MessagePack-encoded value: 0xC1 (never valid MessagePack) and
/// format version 1 (MessagePack with field names).
pub const MSGPACK_MARKER: [u8; 2] = [0xC1, 0x01];

/// Encodes `value` in the stored form.
///
/// ```
/// use openviper_cache_core::codec::{encode, MSGPACK_MARKER};
///
/// assert_eq!(&encode("k", &42u8).unwrap()[..], b"42");
/// assert_eq!(&encode("k", &-7i64).unwrap()[..], b"-7");
/// assert!(encode("k", "42").unwrap().starts_with(&MSGPACK_MARKER));
/// ```
pub fn encode<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Bytes> {
    match value.serialize(ScalarProbe) {
        Ok(Scalar::Integer(Integer::Signed(i))) => {
            return Ok(Bytes::from(
                itoa::Buffer::new().format(i).as_bytes().to_vec(),
            ));
        }
        Ok(Scalar::Integer(Integer::Unsigned(u))) => {
            return Ok(Bytes::from(
                itoa::Buffer::new().format(u).as_bytes().to_vec(),
            ));
        }
        Ok(Scalar::Text(stored)) => return Ok(stored),
        Err(NotAScalar) => {}
    }
    // Most cached values are small: one allocation of this size usually holds them.
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(&MSGPACK_MARKER);
    rmp_serde::encode::write_named(&mut out, value).map_err(|e| CacheError::Serialize {
        key: key.to_owned(),
        source: Box::new(e),
    })?;
    // What the decoder cannot read back is refused here, at the write, naming the key.
    if let Err(problem) = crate::depth::check_readable(&out[MSGPACK_MARKER.len()..]) {
        return Err(CacheError::Serialize {
            key: key.to_owned(),
            source: problem.into(),
        });
    }
    // Stored values live long: give back the unused capacity (shrinking reallocates in place).
    out.shrink_to_fit();
    Ok(Bytes::from(out))
}

/// Decodes bytes in the stored form as `T`. Bytes in neither form, or of another type, are
/// [`CacheError::Deserialize`] naming the key.
///
/// ```
/// use openviper_cache_core::codec::{decode, encode};
///
/// assert_eq!(decode::<i64>("k", b"-12").unwrap(), -12);
/// let stored = encode("k", &vec!["a".to_string()]).unwrap();
/// assert_eq!(decode::<Vec<String>>("k", &stored).unwrap(), vec!["a"]);
/// assert!(decode::<u64>("k", &encode("k", "123").unwrap()).is_err());
/// assert!(decode::<String>("k", b"\xff\xfe").is_err());
/// ```
#[inline(always)]
pub fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T> {
    // The commonest value first, with nothing else of the decoder in its way.
    if let [0xC1, 0x01, rest @ ..] = bytes
        && let Some(string) = lone_str(rest)
    {
        return T::deserialize(LoneStr(string)).map_err(|e| deserialize_error(key, e.into()));
    }
    decode_general(key, bytes)
}

/// [`decode`] of everything but a lone string.
fn decode_general<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T> {
    let decoded: std::result::Result<T, BoxError> = match bytes {
        [0xC1, 0x01, rest @ ..] => rmp_serde::from_slice(rest).map_err(Into::into),
        _ => match parse_integer(bytes) {
            Some(Integer::Signed(i)) => {
                T::deserialize(I64Deserializer::<serde::de::value::Error>::new(i))
                    .map_err(Into::into)
            }
            Some(Integer::Unsigned(u)) => {
                T::deserialize(U64Deserializer::<serde::de::value::Error>::new(u))
                    .map_err(Into::into)
            }
            None => Err(
                "the bytes are neither an ASCII decimal integer nor MessagePack \
                         written by openviper-cache"
                    .into(),
            ),
        },
    };
    decoded.map_err(|source| deserialize_error(key, source))
}

#[cold]
fn deserialize_error(key: &str, source: BoxError) -> CacheError {
    CacheError::Deserialize {
        key: key.to_owned(),
        source,
    }
}

pub use crate::counter::{format_counter, parse_counter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Integer {
    Signed(i64),
    Unsigned(u64),
}

fn parse_integer(bytes: &[u8]) -> Option<Integer> {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Safe to view as str: every byte is an ASCII digit or '-'.
    let text = std::str::from_utf8(bytes).ok()?;
    if let Ok(i) = text.parse::<i64>() {
        Some(Integer::Signed(i))
    } else {
        text.parse::<u64>().ok().map(Integer::Unsigned)
    }
}

/// What [`ScalarProbe`] found: a bare integer, or a lone string already in the stored form.
enum Scalar {
    Integer(Integer),
    Text(Bytes),
}

/// A serializer that succeeds only for a bare integer or a lone string, so that [`encode`] can
/// take their fast paths without knowing `T`. Every other shape fails on its first call, which
/// costs nothing.
struct ScalarProbe;

#[derive(Debug)]
struct NotAScalar;

impl std::fmt::Display for NotAScalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not an integer or a string")
    }
}
impl std::error::Error for NotAScalar {}
impl ser::Error for NotAScalar {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        NotAScalar
    }
}

macro_rules! reject {
    ($($name:ident($($arg:ty),*) $(-> $ret:ty)?;)*) => {$(
        fn $name(self, $(_: $arg),*) -> std::result::Result<reject!(@ret $($ret)?), NotAScalar> {
            Err(NotAScalar)
        }
    )*};
    (@ret) => { Scalar };
    (@ret $ret:ty) => { $ret };
}

impl ser::Serializer for ScalarProbe {
    type Ok = Scalar;
    type Error = NotAScalar;
    type SerializeSeq = ser::Impossible<Scalar, NotAScalar>;
    type SerializeTuple = ser::Impossible<Scalar, NotAScalar>;
    type SerializeTupleStruct = ser::Impossible<Scalar, NotAScalar>;
    type SerializeTupleVariant = ser::Impossible<Scalar, NotAScalar>;
    type SerializeMap = ser::Impossible<Scalar, NotAScalar>;
    type SerializeStruct = ser::Impossible<Scalar, NotAScalar>;
    type SerializeStructVariant = ser::Impossible<Scalar, NotAScalar>;

    fn serialize_i8(self, v: i8) -> std::result::Result<Scalar, NotAScalar> {
        Ok(Scalar::Integer(Integer::Signed(v.into())))
    }
    fn serialize_i16(self, v: i16) -> std::result::Result<Scalar, NotAScalar> {
        Ok(Scalar::Integer(Integer::Signed(v.into())))
    }
    fn serialize_i32(self, v: i32) -> std::result::Result<Scalar, NotAScalar> {
        Ok(Scalar::Integer(Integer::Signed(v.into())))
    }
    fn serialize_i64(self, v: i64) -> std::result::Result<Scalar, NotAScalar> {
        Ok(Scalar::Integer(Integer::Signed(v)))
    }
    fn serialize_u8(self, v: u8) -> std::result::Result<Scalar, NotAScalar> {
        Ok(Scalar::Integer(Integer::Unsigned(v.into())))
    }
    fn serialize_u16(self, v: u16) -> std::result::Result<Scalar, NotAScalar> {
        Ok(Scalar::Integer(Integer::Unsigned(v.into())))
    }
    fn serialize_u32(self, v: u32) -> std::result::Result<Scalar, NotAScalar> {
        Ok(Scalar::Integer(Integer::Unsigned(v.into())))
    }
    fn serialize_u64(self, v: u64) -> std::result::Result<Scalar, NotAScalar> {
        Ok(Scalar::Integer(Integer::Unsigned(v)))
    }
    fn serialize_str(self, v: &str) -> std::result::Result<Scalar, NotAScalar> {
        encode_lone_str(v).map(Scalar::Text).ok_or(NotAScalar)
    }

    reject! {
        serialize_bool(bool);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    fn serialize_some<T: Serialize + ?Sized>(
        self,
        _: &T,
    ) -> std::result::Result<Scalar, NotAScalar> {
        Err(NotAScalar)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> std::result::Result<Scalar, NotAScalar> {
        Err(NotAScalar)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> std::result::Result<Scalar, NotAScalar> {
        Err(NotAScalar)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct User {
        id: u64,
        name: String,
        tags: Vec<String>,
        score: Option<f64>,
    }

    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
        let stored = encode("k", &value).unwrap();
        assert_eq!(decode::<T>("k", &stored).unwrap(), value);
    }

    #[test]
    fn integers_are_ascii_decimal() {
        for (value, text) in [
            (i64::MIN, "-9223372036854775808"),
            (0, "0"),
            (i64::MAX, "9223372036854775807"),
        ] {
            assert_eq!(&encode("k", &value).unwrap()[..], text.as_bytes());
        }
        assert_eq!(
            &encode("k", &u64::MAX).unwrap()[..],
            b"18446744073709551615"
        );
        round_trip(u64::MAX);
        round_trip(i8::MIN);
        round_trip(-1i32);
    }

    #[test]
    fn a_lone_string_is_stored_as_rmp_serde_writes_it() {
        // Every str header size, at both ends, and multi-byte characters.
        for len in [0, 1, 31, 32, 255, 256, 65_535, 65_536, 70_000] {
            let text = "é".repeat(len / 2) + &"a".repeat(len % 2);
            let mut general = MSGPACK_MARKER.to_vec();
            rmp_serde::encode::write_named(&mut general, &text).unwrap();
            let stored = encode("k", &text).unwrap();
            assert_eq!(
                &stored[..],
                &general[..],
                "a string of {} bytes",
                text.len()
            );
            assert_eq!(encode("k", text.as_str()).unwrap(), stored);
            assert_eq!(decode::<String>("k", &stored).unwrap(), text);
        }
    }

    #[test]
    fn other_values_are_marked_msgpack_with_names() {
        let user = User {
            id: 1,
            name: "ada".into(),
            tags: vec!["x".into()],
            score: Some(1.5),
        };
        let stored = encode("k", &user).unwrap();
        assert!(stored.starts_with(&MSGPACK_MARKER));
        // Field names are written, so a reader with a reordered struct still decodes.
        assert!(stored.windows(4).any(|w| w == b"name"));
        round_trip(user);
        round_trip("123".to_string());
        round_trip(1.25f64);
        round_trip(true);
        round_trip(Some(5i64));
        round_trip(None::<i64>);
        round_trip(());
        round_trip(BTreeMap::from([("a".to_string(), 1u8)]));
        round_trip(vec![1u8, 2, 3]);
    }

    #[test]
    fn string_that_looks_like_a_number_keeps_its_type() {
        let stored = encode("k", "123").unwrap();
        assert_eq!(decode::<String>("k", &stored).unwrap(), "123");
        assert!(matches!(
            decode::<u64>("k", &stored),
            Err(CacheError::Deserialize { .. })
        ));
    }

    #[test]
    fn foreign_and_mismatched_bytes_are_deserialize_errors() {
        for bytes in [&b"hello"[..], b"", b"\xc1\x01\xc1", b"-", b"1-2"] {
            match decode::<String>("the-key", bytes) {
                Err(CacheError::Deserialize { key, .. }) => assert_eq!(key, "the-key"),
                other => panic!("{bytes:?}: {other:?}"),
            }
        }
        assert!(decode::<u8>("k", b"300").is_err());
        assert!(decode::<u64>("k", b"-1").is_err());
    }

    #[test]
    fn counters_parse_only_i64_decimal() {
        assert_eq!(parse_counter(b"0"), Some(0));
        assert_eq!(parse_counter(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_counter(b"9223372036854775808"), None);
        assert_eq!(parse_counter(b""), None);
        assert_eq!(parse_counter(b" 1"), None);
        assert_eq!(parse_counter(&encode("k", "1").unwrap()), None);
    }

    #[test]
    fn the_two_documented_conversions_hold() {
        // MessagePack has one nil: Some(None) reads back as None.
        let stored = encode("k", &Some(None::<u8>)).unwrap();
        assert_eq!(decode::<Option<Option<u8>>>("k", &stored).unwrap(), None);
        // An integer reads as a float; a float never reads as an integer.
        assert_eq!(
            decode::<f64>("k", &encode("k", &5i64).unwrap()).unwrap(),
            5.0
        );
        assert!(decode::<i64>("k", &encode("k", &5.0f64).unwrap()).is_err());
    }

    /// A value nested one level past what the decoder reads.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Nest(Vec<Nest>);

    fn nested(depth: usize) -> Nest {
        (1..depth).fold(Nest(Vec::new()), |inner, _| Nest(vec![inner]))
    }

    #[test]
    fn what_encode_accepts_decode_reads_back() {
        // A thousand levels of serde recursion need more than a test thread's stack in debug.
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(deep_values_round_trip_or_are_refused)
            .unwrap()
            .join()
            .unwrap();
    }

    fn deep_values_round_trip_or_are_refused() {
        let deepest = nested(crate::depth::MAX_DEPTH);
        let stored = encode("k", &deepest).unwrap();
        assert_eq!(decode::<Nest>("k", &stored).unwrap(), deepest);
        match encode("deep", &nested(crate::depth::MAX_DEPTH + 1)) {
            Err(CacheError::Serialize { key, source }) => {
                assert_eq!(key, "deep");
                assert!(source.to_string().contains("nested"), "{source}");
            }
            other => panic!("{other:?}"),
        }
        // The decoder itself refuses one level more: the limit is the decoder's, not ours.
        let mut too_deep = MSGPACK_MARKER.to_vec();
        too_deep.extend(std::iter::repeat_n(0x91, crate::depth::MAX_DEPTH));
        too_deep.push(0x90);
        assert!(decode::<Nest>("k", &too_deep).is_err());
    }
}
