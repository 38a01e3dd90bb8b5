//! The blocking file operations, run off the async executor by the backend.
//!
//! Every open of an entry refuses to follow a symlink (`O_NOFOLLOW`), folders are checked not
//! to be symlinks before anything is written in them, and walks never descend into a symlink:
//! nothing here reaches outside the cache's folder.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::entry::{self, Entry};
use crate::layout::{self, Layout};

/// A failed file operation, naming the path.
#[derive(Debug)]
pub(crate) struct PathError {
    pub(crate) path: PathBuf,
    pub(crate) source: io::Error,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for PathError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

pub(crate) type IoResult<T> = Result<T, PathError>;

fn at(path: &Path) -> impl FnOnce(io::Error) -> PathError + '_ {
    move |source| PathError {
        path: path.to_owned(),
        source,
    }
}

/// What is at an entry's path.
pub(crate) enum Found {
    /// No file.
    Missing,
    /// A whole, intact entry file: its bytes.
    Entry(Vec<u8>),
    /// Something else: a corrupt, truncated or foreign file, or a symlink (removed by the
    /// caller, never followed).
    Broken,
}

/// Reads the entry file at `path`.
pub(crate) fn read(path: &Path) -> IoResult<Found> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path);
    let mut file = match file {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Missing),
        // ELOOP: a symlink in the entry's place.
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Ok(Found::Broken),
        Err(e) => return Err(at(path)(e)),
    };
    let mut bytes = Vec::new();
    match file.read_to_end(&mut bytes) {
        Ok(_) => {}
        // A folder (or anything unreadable as a file) in the entry's place.
        Err(e) if e.raw_os_error() == Some(libc::EISDIR) => return Ok(Found::Broken),
        Err(e) => return Err(at(path)(e)),
    }
    Ok(if entry::decode(&bytes).is_some() {
        Found::Entry(bytes)
    } else {
        Found::Broken
    })
}

/// Removes the file at `path` (never what a symlink there points to); `true` when there was
/// one.
pub(crate) fn remove(path: &Path) -> IoResult<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(at(path)(e)),
    }
}

/// Creates `dir` and its parents (0700), and checks that it and its two parents up to the
/// prefix folder are real folders, not symlinks.
fn ensure_dir(dir: &Path, root: &Path) -> IoResult<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(at(dir))?;
    let mut current = Some(dir);
    while let Some(folder) = current {
        let meta = fs::symlink_metadata(folder).map_err(at(folder))?;
        if !meta.file_type().is_dir() {
            return Err(PathError {
                path: folder.to_owned(),
                source: io::Error::other(
                    "is not a folder (a symlink?): refusing to write through it",
                ),
            });
        }
        if folder == root {
            break;
        }
        current = folder.parent();
    }
    Ok(())
}

/// Writes `bytes` as the entry of `key`: to a temporary file in the same folder (0600), then
/// renamed over the entry, so a reader (of any process) sees the old file or the new one, never
/// a mix. `true` when no entry file was there before.
pub(crate) fn write(layout: &Layout, key: &str, bytes: &[u8]) -> IoResult<bool> {
    let (dir, file) = layout.entry(key);
    ensure_dir(&dir, layout.root())?;
    let temp = layout.temp(&dir, key);
    let written = (|| {
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&temp)?;
        out.write_all(bytes)?;
        Ok::<_, io::Error>(())
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(at(&temp)(e));
    }
    let created = fs::symlink_metadata(&file).is_err();
    if let Err(e) = fs::rename(&temp, &file) {
        let _ = fs::remove_file(&temp);
        return Err(at(&file)(e));
    }
    Ok(created)
}

/// Runs `work` holding the cross-process lock of `key`'s stripe (an exclusive `flock` on one of
/// 256 lock files of the prefix folder, never deleted).
pub(crate) fn locked<T>(
    layout: &Layout,
    key: &str,
    work: impl FnOnce() -> IoResult<T>,
) -> IoResult<T> {
    let (_, path) = layout.lock(key);
    if let Some(dir) = path.parent() {
        ensure_dir(dir, layout.root())?;
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&path)
        .map_err(at(&path))?;
    file.lock().map_err(at(&path))?;
    let result = work();
    let _ = file.unlock();
    result
}

/// One file the walk found.
pub(crate) struct Walked {
    pub(crate) path: PathBuf,
    pub(crate) modified: SystemTime,
    pub(crate) temp: bool,
}

/// Every entry and temporary file of this prefix: only files of our naming scheme, in folders
/// of our naming scheme, never through a symlink. Anything else is left alone.
pub(crate) fn walk(layout: &Layout) -> IoResult<Vec<Walked>> {
    let mut found = Vec::new();
    let root = layout.root();
    let level = |dir: &Path| -> IoResult<Vec<(String, fs::DirEntry)>> {
        match fs::read_dir(dir) {
            Ok(entries) => Ok(entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok().map(|name| (name, e)))
                .collect()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(at(dir)(e)),
        }
    };
    for (name, first) in level(root)? {
        if !layout::is_fan_out(&name) || !first.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        for (name, second) in level(&first.path())? {
            if !layout::is_fan_out(&name) || !second.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            for (name, file) in level(&second.path())? {
                let temp = name.starts_with(layout::TEMP_PREFIX);
                if !(temp || layout::is_entry(&name))
                    || !file.file_type().is_ok_and(|t| t.is_file())
                {
                    continue;
                }
                let modified = file
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                found.push(Walked {
                    path: file.path(),
                    modified,
                    temp,
                });
            }
        }
    }
    Ok(found)
}

/// The key and expiry at the start of the entry file at `path`, reading only the header and
/// the key; `None` when it is not an entry of ours.
pub(crate) fn peek(path: &Path) -> IoResult<Option<(Option<u64>, String)>> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path);
    let file = match file {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ELOOP) => {
            return Ok(None);
        }
        Err(e) => return Err(at(path)(e)),
    };
    let mut head = Vec::with_capacity(entry::HEADER_LEN + 1_024);
    file.take((entry::HEADER_LEN + 1_024) as u64)
        .read_to_end(&mut head)
        .map_err(at(path))?;
    Ok(entry::peek(&head).map(|(expires, key)| (expires, key.to_owned())))
}

/// Removes expired entries (and temporary files older than `stale_temp`) of this prefix;
/// returns the live entries left, with their modification times.
pub(crate) fn sweep(layout: &Layout, now_ms: u64, stale_temp: Duration) -> IoResult<Vec<Walked>> {
    let mut live = Vec::new();
    let now = SystemTime::now();
    for file in walk(layout)? {
        if file.temp {
            if now.duration_since(file.modified).unwrap_or_default() > stale_temp {
                remove(&file.path)?;
            }
            continue;
        }
        match peek(&file.path)? {
            Some((Some(expires_at), _)) if expires_at <= now_ms => {
                remove(&file.path)?;
            }
            Some(_) => live.push(file),
            // Named like ours but not ours inside: corrupt, removed.
            None => {
                remove(&file.path)?;
            }
        }
    }
    Ok(live)
}

/// The decoded entry of `bytes` (checked by [`read`]).
pub(crate) fn entry_of(bytes: &[u8]) -> Option<Entry<'_>> {
    entry::decode(bytes)
}
