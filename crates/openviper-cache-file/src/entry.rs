//! The bytes of one entry file: a header, the original key, the value.
//!
//! ```text
//! offset  size  field
//!      0     4  magic "OVCF"
//!      4     1  format version (1)
//!      5     8  expires_at: ms since the Unix epoch, little-endian; 0 = never
//!     13     4  key length, little-endian
//!     17     8  value length, little-endian
//!     25     4  CRC-32 of bytes 0..25, the key and the value
//!     29     …  the key (UTF-8), then the value
//! ```
//! A file cut short anywhere, value included, or changed anywhere fails the length or the
//! checksum: it is corrupt.

/// The first bytes of every entry file.
pub(crate) const MAGIC: &[u8; 4] = b"OVCF";
/// The format version this crate writes and reads.
pub(crate) const VERSION: u8 = 1;
/// Bytes before the key.
pub(crate) const HEADER_LEN: usize = 29;

/// A decoded entry file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Entry<'a> {
    /// Ms since the Unix epoch; `None` = never.
    pub(crate) expires_at: Option<u64>,
    pub(crate) key: &'a str,
    pub(crate) value: &'a [u8],
}

impl Entry<'_> {
    /// Whether the entry is live at `now_ms`.
    pub(crate) fn is_live_at(&self, now_ms: u64) -> bool {
        self.expires_at.is_none_or(|at| now_ms < at)
    }
}

/// The file for `key` holding `value` until `expires_at`.
pub(crate) fn encode(key: &str, value: &[u8], expires_at: Option<u64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + key.len() + value.len());
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&expires_at.unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&out);
    crc.update(key.as_bytes());
    crc.update(value);
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(value);
    out
}

/// The entry in `bytes`, or `None` when they are not a whole, intact entry file of ours.
pub(crate) fn decode(bytes: &[u8]) -> Option<Entry<'_>> {
    let header = bytes.get(..HEADER_LEN)?;
    if &header[..4] != MAGIC || header[4] != VERSION {
        return None;
    }
    let u64_at = |at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(header.get(at..at + 8)?.try_into().ok()?))
    };
    let expires_at = u64_at(5)?;
    let key_len = u32::from_le_bytes(header[13..17].try_into().ok()?) as usize;
    let value_len = usize::try_from(u64_at(17)?).ok()?;
    let stored_crc = u32::from_le_bytes(header[25..29].try_into().ok()?);
    let body = &bytes[HEADER_LEN..];
    if body.len() != key_len.checked_add(value_len)? {
        return None;
    }
    let (key, value) = body.split_at(key_len);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header[..25]);
    crc.update(body);
    if crc.finalize() != stored_crc {
        return None;
    }
    Some(Entry {
        expires_at: (expires_at != 0).then_some(expires_at),
        key: std::str::from_utf8(key).ok()?,
        value,
    })
}

/// The key and expiry of an entry file from its first bytes (for listing without reading
/// values); `None` when they are not ours. The checksum is not checked here.
pub(crate) fn peek(bytes: &[u8]) -> Option<(Option<u64>, &str)> {
    let header = bytes.get(..HEADER_LEN)?;
    if &header[..4] != MAGIC || header[4] != VERSION {
        return None;
    }
    let expires_at = u64::from_le_bytes(header[5..13].try_into().ok()?);
    let key_len = u32::from_le_bytes(header[13..17].try_into().ok()?) as usize;
    let key = std::str::from_utf8(bytes.get(HEADER_LEN..HEADER_LEN + key_len)?).ok()?;
    Some(((expires_at != 0).then_some(expires_at), key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_every_cut_or_flip_is_caught() {
        let file = encode("user:1", b"a value", Some(1_700_000_000_000));
        let entry = decode(&file).unwrap();
        assert_eq!(entry.key, "user:1");
        assert_eq!(entry.value, b"a value");
        assert_eq!(entry.expires_at, Some(1_700_000_000_000));
        assert!(entry.is_live_at(1_699_999_999_999) && !entry.is_live_at(1_700_000_000_000));
        assert_eq!(peek(&file), Some((Some(1_700_000_000_000), "user:1")));
        // Cut short anywhere, the value included.
        for len in 0..file.len() {
            assert!(decode(&file[..len]).is_none(), "cut at {len}");
        }
        // Any byte changed.
        for at in 0..file.len() {
            let mut broken = file.clone();
            broken[at] ^= 0x40;
            assert!(decode(&broken).is_none(), "flip at {at}");
        }
        // A byte too many.
        let mut long = file.clone();
        long.push(0);
        assert!(decode(&long).is_none());
        // Empty and foreign files.
        assert!(
            decode(b"").is_none() && decode(b"hello, world, this is not ours at all").is_none()
        );
        let never = encode("k", b"", None);
        assert_eq!(decode(&never).unwrap().expires_at, None);
        assert!(decode(&never).unwrap().is_live_at(u64::MAX));
    }
}
