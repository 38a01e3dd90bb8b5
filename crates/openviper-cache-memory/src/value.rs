//! How the map holds a value: small ones inside the entry, larger ones as shared [`Bytes`].
//!
//! A hit on a value held apart from its entry reads one more cache line from another part of
//! memory, and that miss was the largest single cost of a typed hit on a 100-byte value (the
//! map's working set exceeds the core's caches). Kept inline, the value lies beside its key,
//! which the lookup has just read. Larger values are shared, so that a big value is never
//! copied to be handed out and can be decoded after the shard's lock is released.

use openviper_cache_core::Bytes;

/// Values up to this many bytes are held inline: with the tag and length, the value takes 112
/// bytes and its entry (with the deadline) 120.
pub(crate) const INLINE_MAX: usize = 110;

/// A stored value.
#[derive(Clone)]
pub(crate) enum StoredValue {
    /// Up to [`INLINE_MAX`] bytes, in the entry itself.
    Inline {
        /// How many of `bytes` are the value.
        len: u8,
        /// The value, then zeros.
        bytes: [u8; INLINE_MAX],
    },
    /// A larger value, shared by reference count.
    Shared(Bytes),
}

impl StoredValue {
    /// The value's bytes.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Self::Shared(bytes) => bytes,
        }
    }

    /// The value's length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// The value as [`Bytes`]: a copy of an inline value, a reference-count bump of a shared one.
    pub(crate) fn to_bytes(&self) -> Bytes {
        match self {
            Self::Inline { .. } => Bytes::copy_from_slice(self.as_slice()),
            Self::Shared(bytes) => bytes.clone(),
        }
    }
}

impl StoredValue {
    /// `value` held inline, when it fits.
    #[inline]
    fn inline(value: &[u8]) -> Option<Self> {
        let len = u8::try_from(value.len())
            .ok()
            .filter(|_| value.len() <= INLINE_MAX)?;
        let mut bytes = [0; INLINE_MAX];
        bytes[..value.len()].copy_from_slice(value);
        Some(Self::Inline { len, bytes })
    }
}

impl From<Bytes> for StoredValue {
    fn from(value: Bytes) -> Self {
        Self::inline(&value).unwrap_or(Self::Shared(value))
    }
}

/// A lent value: a small one copied in, a larger one shared by a reference-count bump.
impl From<&Bytes> for StoredValue {
    #[inline]
    fn from(value: &Bytes) -> Self {
        Self::inline(value).unwrap_or_else(|| Self::Shared(value.clone()))
    }
}

impl std::fmt::Debug for StoredValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Cached values may be secrets: their size only.
        let place = match self {
            Self::Inline { .. } => "inline",
            Self::Shared(_) => "shared",
        };
        write!(f, "StoredValue({place}, {} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_up_to_the_inline_limit_are_held_inline_and_larger_ones_shared() {
        for len in [0, 1, INLINE_MAX - 1, INLINE_MAX] {
            let value = Bytes::from(vec![7u8; len]);
            let stored = StoredValue::from(value.clone());
            assert!(matches!(stored, StoredValue::Inline { .. }), "{len} bytes");
            assert_eq!(stored.as_slice(), &value[..]);
            assert_eq!(stored.to_bytes(), value);
            assert_eq!(stored.len(), len);
            let lent = StoredValue::from(&value);
            assert!(
                matches!(lent, StoredValue::Inline { .. }),
                "{len} bytes lent"
            );
            assert_eq!(lent.as_slice(), &value[..]);
        }
        for len in [INLINE_MAX + 1, 4096] {
            let value = Bytes::from(vec![7u8; len]);
            let stored = StoredValue::from(value.clone());
            assert!(matches!(stored, StoredValue::Shared(_)), "{len} bytes");
            assert_eq!(stored.as_slice(), &value[..]);
            // Shared: the same buffer, not a copy.
            assert_eq!(stored.to_bytes().as_ptr(), value.as_ptr());
            assert_eq!(
                StoredValue::from(&value).to_bytes().as_ptr(),
                value.as_ptr()
            );
        }
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn an_entry_takes_120_bytes() {
        assert_eq!(std::mem::size_of::<StoredValue>(), 112);
        assert_eq!(std::mem::size_of::<crate::entry::Entry>(), 120);
    }

    #[test]
    fn debug_shows_the_size_not_the_value() {
        let stored = StoredValue::from(Bytes::from_static(b"secret-token"));
        let shown = format!("{stored:?}");
        assert_eq!(shown, "StoredValue(inline, 12 bytes)");
    }
}
