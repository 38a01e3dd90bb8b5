//! Counter arithmetic for stores without a native `incr`, and the one integer grammar every
//! backend's `incr` accepts.
//!
//! A counter is the canonical ASCII decimal of an `i64`, exactly what the typed layer writes for
//! an integer: an optional `-`, then `0` or a digit 1-9 followed by digits; no `+`, no leading
//! zeros, no `-0`, no spaces. This is also the grammar Redis's `INCRBY` accepts, so a value that
//! one backend counts on, every backend counts on.

use bytes::Bytes;

use crate::error::{CacheError, Result};

/// Parses a stored counter in the canonical grammar; `None` for anything else.
///
/// ```
/// use openviper_cache_core::counter::parse_counter;
///
/// assert_eq!(parse_counter(b"-5"), Some(-5));
/// assert_eq!(parse_counter(b"0"), Some(0));
/// for refused in [&b"007"[..], b"-0", b"00", b"+5", b" 5", b"5.0", b"", b"-", b"99999999999999999999"] {
///     assert_eq!(parse_counter(refused), None, "{refused:?}");
/// }
/// ```
pub fn parse_counter(bytes: &[u8]) -> Option<i64> {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    let canonical = match digits {
        [b'0'] => bytes.len() == 1,
        [b'1'..=b'9', rest @ ..] => rest.len() < 19 && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !canonical {
        return None;
    }
    // Every byte is an ASCII digit or a leading '-': valid UTF-8, and i64's own parser decides
    // the range (19 digits may still overflow).
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// Formats a counter in the stored form (ASCII decimal).
///
/// ```
/// assert_eq!(&openviper_cache_core::counter::format_counter(-3)[..], b"-3");
/// ```
pub fn format_counter(value: i64) -> Bytes {
    Bytes::copy_from_slice(itoa::Buffer::new().format(value).as_bytes())
}

/// The value `incr(key, delta)` stores when the key now holds `current` (`None`: missing or
/// expired, so the counter starts at 0). A value outside the grammar is
/// [`CacheError::NotAnInteger`] and a result past `i64` is [`CacheError::Overflow`]: in both
/// cases the caller must leave the stored value untouched.
///
/// ```
/// use openviper_cache_core::{CacheError, counter::next_counter};
///
/// assert_eq!(next_counter("hits", None, 5).unwrap(), 5);
/// assert_eq!(next_counter("hits", Some(b"-2"), 5).unwrap(), 3);
/// assert!(matches!(next_counter("hits", Some(b"007"), 1), Err(CacheError::NotAnInteger { .. })));
/// assert!(matches!(
///     next_counter("hits", Some(i64::MAX.to_string().as_bytes()), 1),
///     Err(CacheError::Overflow { .. })
/// ));
/// ```
pub fn next_counter(key: &str, current: Option<&[u8]>, delta: i64) -> Result<i64> {
    let current = match current {
        None => 0,
        Some(bytes) => parse_counter(bytes).ok_or_else(|| CacheError::NotAnInteger {
            key: key.to_owned(),
        })?,
    };
    current
        .checked_add(delta)
        .ok_or_else(|| CacheError::Overflow {
            key: key.to_owned(),
            delta,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar_is_exactly_i64_canonical_decimal() {
        for value in [i64::MIN, -1, 0, 1, 9, 10, i64::MAX] {
            assert_eq!(parse_counter(value.to_string().as_bytes()), Some(value));
            assert_eq!(parse_counter(&format_counter(value)), Some(value));
        }
        for refused in [
            "9223372036854775808",
            "-9223372036854775809",
            "01",
            "-01",
            "1 ",
            "1_000",
            "1e3",
            "０",
            "--1",
        ] {
            assert_eq!(parse_counter(refused.as_bytes()), None, "{refused:?}");
        }
    }

    #[test]
    fn arithmetic_names_the_key_and_refuses_overflow_both_ways() {
        match next_counter("k", Some(b"-9223372036854775808"), -1) {
            Err(CacheError::Overflow { key, delta }) => {
                assert_eq!((key.as_str(), delta), ("k", -1))
            }
            other => panic!("{other:?}"),
        }
        match next_counter("k", Some(b"x"), 1) {
            Err(CacheError::NotAnInteger { key }) => assert_eq!(key, "k"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            next_counter("k", Some(b"-0"), 0),
            Err(CacheError::NotAnInteger { .. })
        ));
    }
}
