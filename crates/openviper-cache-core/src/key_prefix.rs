//! Key namespacing: from a user key to the key a store holds, and back.
//!
//! Every backend with a `key_prefix` option stores `key_prefix + key`. A store with limits of its
//! own (memcached: 250 bytes, no control bytes; a file name: 255 bytes) declares them with
//! [`KeyPrefix::with_store_limit`], and a store key that would break them is replaced by a
//! fixed-length hashed key, so that every valid cache key works on every store.
//!
//! # The hashed form (stable across versions)
//! `key_prefix + "#h:" + hex(SHA-256(len ‖ key_prefix ‖ key))`, where `len` is the byte length
//! of `key_prefix` as 8 little-endian bytes (so that `("a", "bc")` and `("ab", "c")` differ), and
//! hex is lower case: 64 characters. A user key that itself starts with `#h:` is always hashed,
//! so a plain store key and a hashed one can never be the same bytes.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

/// What marks a hashed store key after the prefix.
pub const HASHED_MARK: &str = "#h:";
/// The length of a digest in hex.
pub const DIGEST_HEX_LEN: usize = 64;

/// A store's own key limits: the longest store key in bytes, and the bytes it can hold.
#[derive(Debug, Clone, Copy)]
struct StoreLimit {
    max_bytes: usize,
    allowed: fn(u8) -> bool,
}

/// The namespace of one cache's keys on a shared store.
///
/// ```
/// use openviper_cache_core::key_prefix::KeyPrefix;
///
/// let prefix = KeyPrefix::new("ov:cache:");
/// assert_eq!(prefix.store_key("user:1"), "ov:cache:user:1");
/// assert_eq!(prefix.user_key(b"ov:cache:user:1"), Some("user:1"));
/// assert_eq!(prefix.user_key(b"other:user:1"), None);
/// assert_eq!(prefix.store_prefix("user:"), "ov:cache:user:");
///
/// // memcached: 250 bytes at most, no space or control bytes.
/// let memcached = KeyPrefix::new("ov:cache:")
///     .with_store_limit(250, |b| b > b' ' && b != 0x7f)
///     .unwrap();
/// let long = "é".repeat(250); // 500 bytes
/// let stored = memcached.store_key(&long);
/// assert!(stored.len() <= 250 && stored.starts_with("ov:cache:#h:"));
/// assert_eq!(stored, memcached.store_key(&long)); // stable
/// assert_eq!(memcached.store_key("short"), "ov:cache:short");
/// ```
#[derive(Debug, Clone)]
pub struct KeyPrefix {
    prefix: String,
    limit: Option<StoreLimit>,
}

impl KeyPrefix {
    /// A namespace under `prefix` on a store without key limits of its own.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            limit: None,
        }
    }

    /// The same namespace on a store whose keys are at most `max_bytes` long and hold only the
    /// bytes `allowed` accepts. `Err` (naming `key_prefix`) when the prefix leaves no room for a
    /// hashed key, or holds a byte the store refuses.
    pub fn with_store_limit(
        mut self,
        max_bytes: usize,
        allowed: fn(u8) -> bool,
    ) -> Result<Self, String> {
        let hashed_len = self.prefix.len() + HASHED_MARK.len() + DIGEST_HEX_LEN;
        if hashed_len > max_bytes {
            return Err(format!(
                "key_prefix: {} bytes long, but this store's keys hold at most {max_bytes} bytes \
                 and a hashed key needs {} after the prefix",
                self.prefix.len(),
                HASHED_MARK.len() + DIGEST_HEX_LEN
            ));
        }
        if let Some(bad) = self.prefix.bytes().find(|b| !allowed(*b)) {
            return Err(format!(
                "key_prefix: holds the byte {bad:#04x}, which this store's keys cannot"
            ));
        }
        self.limit = Some(StoreLimit { max_bytes, allowed });
        Ok(self)
    }

    /// The prefix itself.
    pub fn as_str(&self) -> &str {
        &self.prefix
    }

    /// Whether the prefix is empty: then this cache's keys are all of the store's keys, and a
    /// "namespaced" `clear()` empties the whole store.
    pub fn is_empty(&self) -> bool {
        self.prefix.is_empty()
    }

    /// The key the store holds for `key`: `prefix + key`, or its hashed form when that breaks
    /// the store's limits (see the module docs).
    pub fn store_key<'a>(&self, key: &'a str) -> Cow<'a, str> {
        if self.prefix.is_empty() && self.fits(key) {
            return Cow::Borrowed(key);
        }
        if self.fits(key) {
            let mut full = String::with_capacity(self.prefix.len() + key.len());
            full.push_str(&self.prefix);
            full.push_str(key);
            return Cow::Owned(full);
        }
        let mut hashed = String::with_capacity(self.prefix.len() + HASHED_MARK.len() + 64);
        hashed.push_str(&self.prefix);
        hashed.push_str(HASHED_MARK);
        hashed.push_str(&self.digest_hex(key));
        Cow::Owned(hashed)
    }

    /// Whether `prefix + key` can be stored as it is.
    fn fits(&self, key: &str) -> bool {
        match self.limit {
            None => true,
            Some(limit) => {
                self.prefix.len() + key.len() <= limit.max_bytes
                    && !key.starts_with(HASHED_MARK)
                    && key.bytes().all(limit.allowed)
            }
        }
    }

    /// The user key of a store key of this namespace; `None` for a key of another namespace or
    /// a hashed key (whose original the store key does not hold).
    pub fn user_key<'a>(&self, store_key: &'a [u8]) -> Option<&'a str> {
        let rest = store_key.strip_prefix(self.prefix.as_bytes())?;
        let key = std::str::from_utf8(rest).ok()?;
        (self.limit.is_none() || !key.starts_with(HASHED_MARK)).then_some(key)
    }

    /// The store keys of user keys starting with `user_prefix` start with this (for stores
    /// without key limits, where no key is hashed).
    pub fn store_prefix(&self, user_prefix: &str) -> String {
        format!("{}{user_prefix}", self.prefix)
    }

    /// The lower-case hex SHA-256 of `key` in this namespace (see the module docs): 64
    /// characters, the same for the same prefix and key in every version. File names use it.
    ///
    /// ```
    /// use openviper_cache_core::key_prefix::KeyPrefix;
    /// let digest = KeyPrefix::new("ov:cache:").digest_hex("user:1");
    /// assert_eq!(digest.len(), 64);
    /// assert_ne!(digest, KeyPrefix::new("ov:cache:u").digest_hex("ser:1"));
    /// ```
    pub fn digest_hex(&self, key: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update((self.prefix.len() as u64).to_le_bytes());
        hasher.update(self.prefix.as_bytes());
        hasher.update(key.as_bytes());
        let digest = hasher.finalize();
        let mut hex = String::with_capacity(DIGEST_HEX_LEN);
        for byte in digest {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
            hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        hex
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memcached() -> KeyPrefix {
        KeyPrefix::new("ov:cache:")
            .with_store_limit(250, |b| b > b' ' && b != 0x7f)
            .unwrap()
    }

    #[test]
    fn the_hashed_form_is_pinned() {
        // A change here breaks every stored hashed key: it must never happen silently.
        assert_eq!(
            KeyPrefix::new("ov:cache:").digest_hex("user:1"),
            "2e236eca554441e2b3b5c79dc29b19fb9cca2464e0fe8c13fbec9da10616b130"
        );
    }

    #[test]
    fn keys_at_and_past_the_limit_stay_apart() {
        let prefix = memcached();
        let at = "k".repeat(250 - "ov:cache:".len());
        let past = format!("{at}k");
        assert_eq!(prefix.store_key(&at).len(), 250);
        assert_eq!(prefix.store_key(&at), format!("ov:cache:{at}"));
        let hashed = prefix.store_key(&past);
        assert!(hashed.starts_with("ov:cache:#h:") && hashed.len() < 250);
        assert_ne!(hashed, prefix.store_key(&at));
    }

    #[test]
    fn a_key_that_looks_hashed_is_hashed_too() {
        let prefix = memcached();
        let hashed = prefix.store_key(&"é".repeat(200)).into_owned();
        let forged = &hashed["ov:cache:".len()..];
        assert_ne!(prefix.store_key(forged), hashed);
        assert_eq!(prefix.user_key(hashed.as_bytes()), None);
        // Without limits nothing is hashed, and every key maps back.
        let plain = KeyPrefix::new("p:");
        assert_eq!(plain.user_key(b"p:#h:x"), Some("#h:x"));
    }

    #[test]
    fn refused_bytes_and_long_prefixes_are_named() {
        let prefix = memcached();
        let key = "caf\u{e9}"; // multi-byte is allowed by memcached's byte rule
        assert_eq!(prefix.store_key(key), "ov:cache:café");
        let with_control = KeyPrefix::new("p:")
            .with_store_limit(250, |b| b.is_ascii_graphic())
            .unwrap();
        assert!(with_control.store_key("café").starts_with("p:#h:"));
        let err = KeyPrefix::new("x".repeat(200))
            .with_store_limit(250, |_| true)
            .unwrap_err();
        assert!(err.starts_with("key_prefix:"), "{err}");
        assert!(
            KeyPrefix::new("a b")
                .with_store_limit(250, |b| b != b' ')
                .is_err()
        );
        assert_eq!(KeyPrefix::new("").store_key("k"), "k");
        assert!(KeyPrefix::new("").is_empty());
    }
}
