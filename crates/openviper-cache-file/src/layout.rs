//! Where each entry lives on disk, and which files are ours.
//!
//! ```text
//! cache_dir/                          (0700 when the cache creates it)
//!   ovc-<16 hex of the prefix>/       one folder per key_prefix (0700)
//!     locks/00.lock … ff.lock         add/incr/touch across processes (0600)
//!     3f/                             first two hex digits of the entry's digest (0700)
//!       a0/                           next two (0700)
//!         3fa0…(64 hex).ovc           one entry (0600)
//!         .ovc-tmp-3fa0…-<pid>-<n>    a write in progress, renamed over the entry when whole
//! ```
//! The digest is core's `KeyPrefix::digest_hex`: the hex SHA-256 of the prefix's length, the
//! prefix and the key. File names are fixed length (68 bytes, far under ext4's 255) whatever the
//! key, and a key can never name a path: traversal is impossible. 65 536 leaf folders keep each
//! under a few dozen files at a million entries.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use openviper_cache_core::key_prefix::KeyPrefix;

/// The file name ending of an entry.
pub(crate) const ENTRY_SUFFIX: &str = ".ovc";
/// The file name start of a write in progress.
pub(crate) const TEMP_PREFIX: &str = ".ovc-tmp-";
/// The name of the folder of lock files.
pub(crate) const LOCKS: &str = "locks";

/// The paths of one prefix's entries.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    prefix: KeyPrefix,
    root: PathBuf,
}

impl Layout {
    /// The layout of `key_prefix` under `cache_dir`.
    pub(crate) fn new(cache_dir: &Path, key_prefix: &str) -> Self {
        let prefix = KeyPrefix::new(key_prefix);
        let folder = format!("ovc-{}", &prefix.digest_hex("")[..16]);
        Self {
            root: cache_dir.join(folder),
            prefix,
        }
    }

    /// This prefix's folder.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The digest naming `key`'s file.
    pub(crate) fn digest(&self, key: &str) -> String {
        self.prefix.digest_hex(key)
    }

    /// The folder and file of `key`.
    pub(crate) fn entry(&self, key: &str) -> (PathBuf, PathBuf) {
        let digest = self.digest(key);
        let dir = self.root.join(&digest[..2]).join(&digest[2..4]);
        let file = dir.join(format!("{digest}{ENTRY_SUFFIX}"));
        (dir, file)
    }

    /// A fresh temporary file name beside `key`'s entry.
    pub(crate) fn temp(&self, dir: &Path, key: &str) -> PathBuf {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        dir.join(format!(
            "{TEMP_PREFIX}{}-{}-{n}",
            &self.digest(key)[..16],
            std::process::id()
        ))
    }

    /// The lock file of `key`'s stripe, and the stripe's number.
    pub(crate) fn lock(&self, key: &str) -> (usize, PathBuf) {
        let digest = self.digest(key);
        let stripe = usize::from_str_radix(&digest[..2], 16).unwrap_or(0);
        (
            stripe,
            self.root.join(LOCKS).join(format!("{}.lock", &digest[..2])),
        )
    }
}

/// Whether `name` is a fan-out folder of ours (two lower-case hex digits).
pub(crate) fn is_fan_out(name: &str) -> bool {
    name.len() == 2
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `name` is an entry file of ours (64 hex digits + `.ovc`).
pub(crate) fn is_entry(name: &str) -> bool {
    name.strip_suffix(ENTRY_SUFFIX).is_some_and(|digest| {
        digest.len() == 64
            && digest
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Where `key` is stored for `key_prefix`, relative to `cache_dir`: OpenViper's
/// `safe_filename`, made a fixed-length hash instead of the key's hex (which breaks ext4's
/// 255-byte limit for long keys). Stable across versions.
///
/// ```
/// let path = openviper_cache_file::safe_filename("ov:cache:", "../../etc/passwd");
/// assert!(path.starts_with("ovc-") && path.ends_with(".ovc"));
/// assert!(!path.contains(".."));
/// assert_eq!(path.split('/').count(), 4);
/// assert_eq!(path.rsplit('/').next().unwrap().len(), 68);
/// ```
pub fn safe_filename(key_prefix: &str, key: &str) -> String {
    let layout = Layout::new(Path::new(""), key_prefix);
    let (_, file) = layout.entry(key);
    file.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_fixed_length_and_prefixes_apart() {
        let a = Layout::new(Path::new("/c"), "a:");
        let b = Layout::new(Path::new("/c"), "b:");
        assert_ne!(a.root(), b.root());
        let (dir, file) = a.entry(&"🙂".repeat(250));
        assert!(file.starts_with(a.root()) && file.starts_with(&dir));
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(is_entry(name) && name.len() == 68, "{name}");
        assert!(is_fan_out(dir.file_name().unwrap().to_str().unwrap()));
        assert!(!is_entry("README.ovc") && !is_fan_out("zz") && !is_fan_out("abc"));
        let temp = a.temp(&dir, "k");
        assert!(
            temp.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(TEMP_PREFIX)
        );
        assert_ne!(temp, a.temp(&dir, "k"));
    }
}
