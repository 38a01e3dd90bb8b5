//! Cache key validation, shared by every backend.
//!
//! A key is valid when it is non-empty, at most [`CACHE_KEY_MAX_LEN`] characters (counted as
//! Python's `len()` counts them, in Unicode scalar values), and contains no whitespace (Unicode
//! whitespace included, plus U+001C..U+001F which Python's `\s` also matches) and no control
//! character (NUL would break PostgreSQL text columns and the memcached protocol).

use crate::error::{CacheError, Result};

/// The longest key accepted, in characters.
pub const CACHE_KEY_MAX_LEN: usize = 250;

/// Validates `key` and returns it unchanged.
///
/// ```
/// use openviper_cache_core::{validate_cache_key, CACHE_KEY_MAX_LEN};
///
/// assert_eq!(validate_cache_key("user:42").unwrap(), "user:42");
/// assert!(validate_cache_key("").is_err());
/// assert!(validate_cache_key("a b").is_err());
/// assert!(validate_cache_key("tab\there").is_err());
/// assert!(validate_cache_key(&"é".repeat(CACHE_KEY_MAX_LEN)).is_ok());
/// assert!(validate_cache_key(&"k".repeat(CACHE_KEY_MAX_LEN + 1)).is_err());
/// ```
#[inline]
pub fn validate_cache_key(key: &str) -> Result<&str> {
    // Inlined, the printable-ASCII check (nearly every key) costs no call and no copy of the
    // large `Result` a call returns through memory: ~40 instructions an operation.
    if is_printable_ascii(key) {
        return Ok(key);
    }
    validate_other(key)
}

/// [`validate_cache_key`] of a key that is not plain printable ASCII (or is empty or long).
#[cold]
fn validate_other(key: &str) -> Result<&str> {
    match problem(key) {
        None => Ok(key),
        Some(reason) => Err(CacheError::InvalidKey {
            key: key.to_owned(),
            reason,
        }),
    }
}

/// A key of 1 to [`CACHE_KEY_MAX_LEN`] bytes, each printable ASCII: valid. Long keys are
/// checked without an early exit, so that the loop vectorizes.
#[inline]
fn is_printable_ascii(key: &str) -> bool {
    let printable = |b: u8| (b > b' ') & (b < 0x7f);
    match key.len() {
        0 => false,
        // A short key: a plain loop beats the vector set-up.
        1..=32 => key.bytes().all(printable),
        33..=CACHE_KEY_MAX_LEN => key.bytes().fold(true, |ok, b| ok & printable(b)),
        _ => false,
    }
}

/// Validates every key of a batch before any I/O, so that a bad key writes nothing.
///
/// ```
/// use openviper_cache_core::validation::validate_cache_keys;
///
/// assert!(validate_cache_keys(["a", "b"]).is_ok());
/// assert!(validate_cache_keys(["a", "b c"]).is_err());
/// ```
pub fn validate_cache_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<()> {
    keys.into_iter()
        .try_for_each(|key| validate_cache_key(key).map(drop))
}

fn problem(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("it is empty".to_owned());
    }
    let len = key.chars().count();
    if len > CACHE_KEY_MAX_LEN {
        return Some(format!(
            "it is {len} characters long, over the {CACHE_KEY_MAX_LEN}-character limit"
        ));
    }
    key.chars().find_map(char_problem)
}

fn char_problem(c: char) -> Option<String> {
    if c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c) {
        Some("it contains whitespace".to_owned())
    } else if c.is_control() {
        Some(format!("it contains the control character {:?}", c))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(key: &str) -> String {
        match validate_cache_key(key) {
            Err(CacheError::InvalidKey { reason, .. }) => reason,
            other => panic!("{key:?} was accepted: {other:?}"),
        }
    }

    #[test]
    fn accepts_ordinary_and_unicode_keys() {
        for key in ["a", "user:42", "ключ", "键:值", "emoji🙂", "a/b\\c*?[x]"] {
            assert_eq!(validate_cache_key(key).unwrap(), key);
        }
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(validate_cache_key(&"🙂".repeat(250)).is_ok());
        assert!(reason(&"🙂".repeat(251)).contains("251 characters"));
        assert!(validate_cache_key(&"k".repeat(250)).is_ok());
        assert!(reason(&"k".repeat(251)).contains("250-character limit"));
    }

    #[test]
    fn rejects_empty_whitespace_and_controls() {
        assert_eq!(reason(""), "it is empty");
        for key in [
            "a b",
            "a\tb",
            "a\nb",
            "a\rb",
            "a\u{0b}b",
            "a\u{0c}b",
            "a\u{1c}b",
            "a\u{1f}b",
            "a\u{a0}b",
            "a\u{2003}b",
            "a\u{3000}b",
            "a\u{85}b",
        ] {
            assert_eq!(reason(key), "it contains whitespace", "{key:?}");
        }
        for key in ["a\0b", "a\u{7f}b", "a\u{1b}b", "a\u{9f}b"] {
            assert!(
                reason(key).starts_with("it contains the control character"),
                "{key:?}"
            );
        }
    }

    #[test]
    fn batch_validation_names_the_bad_key() {
        match validate_cache_keys(["ok", "not ok", ""]) {
            Err(CacheError::InvalidKey { key, .. }) => assert_eq!(key, "not ok"),
            other => panic!("{other:?}"),
        }
    }
}
