//! Keys carrying their hash, so that an operation hashes its key once.
//!
//! The hash picks the shard and is then handed to the shard's table as it is, instead of the
//! table hashing the key a second time.

use std::hash::{BuildHasher, Hash, Hasher};

use quick_cache::Equivalent;
use smol_str::SmolStr;

/// A key as the map stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredKey {
    hash: u64,
    key: SmolStr,
}

impl StoredKey {
    /// The key's text.
    pub(crate) fn as_str(&self) -> &str {
        &self.key
    }

    /// The key as a lookup.
    pub(crate) fn as_lookup(&self) -> Lookup<'_> {
        Lookup {
            hash: self.hash,
            key: &self.key,
        }
    }
}

impl Hash for StoredKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// A key being looked up, hashed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lookup<'a> {
    hash: u64,
    key: &'a str,
}

impl<'a> Lookup<'a> {
    /// `key` hashed by `hasher`.
    #[inline]
    pub(crate) fn new(key: &'a str, hasher: &impl BuildHasher) -> Self {
        Self {
            hash: hasher.hash_one(key),
            key,
        }
    }

    /// The key's hash.
    #[inline]
    pub(crate) fn hash(&self) -> u64 {
        self.hash
    }

    /// The key to store.
    pub(crate) fn to_stored(self) -> StoredKey {
        StoredKey {
            hash: self.hash,
            key: SmolStr::new(self.key),
        }
    }
}

impl Hash for Lookup<'_> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl Equivalent<StoredKey> for Lookup<'_> {
    #[inline]
    fn equivalent(&self, stored: &StoredKey) -> bool {
        self.hash == stored.hash && self.key == stored.key
    }
}

/// The shard tables' hasher: passes on the hash a key carries.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CarriedHash;

impl BuildHasher for CarriedHash {
    type Hasher = CarriedHasher;

    fn build_hasher(&self) -> CarriedHasher {
        CarriedHasher(0)
    }
}

/// See [`CarriedHash`].
#[derive(Debug)]
pub(crate) struct CarriedHasher(u64);

impl Hasher for CarriedHasher {
    #[inline]
    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only the keys above are hashed with this, and they write one u64; anything else
        // still gets a usable (FNV-1a) hash rather than a constant.
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_finds_the_stored_key_of_the_same_text_only() {
        let hasher = quick_cache::DefaultHashBuilder::default();
        let stored = Lookup::new("user:1", &hasher).to_stored();
        assert!(Lookup::new("user:1", &hasher).equivalent(&stored));
        assert!(!Lookup::new("user:2", &hasher).equivalent(&stored));
        // The same hash with other text (a collision) is still another key.
        let forged = Lookup {
            hash: stored.hash,
            key: "user:2",
        };
        assert!(!forged.equivalent(&stored));
        assert_eq!(stored.as_str(), "user:1");
    }

    #[test]
    fn the_table_sees_the_carried_hash() {
        let hasher = quick_cache::DefaultHashBuilder::default();
        let lookup = Lookup::new("user:1", &hasher);
        assert_eq!(CarriedHash.hash_one(lookup), lookup.hash());
        assert_eq!(CarriedHash.hash_one(lookup.to_stored()), lookup.hash());
        assert_ne!(CarriedHash.hash_one([1u8, 2, 3].as_slice()), 0);
    }
}
