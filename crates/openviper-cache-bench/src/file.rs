//! FileCache beside the raw file operations it is made of, on the same folder: a read of the
//! whole file, and a write to a temporary file renamed into place, each on tokio's blocking
//! pool.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use openviper_cache_workload::Target;

/// Raw files: one per key in one folder, no header, no checksum, no bound on the blocking pool.
pub(crate) struct RawFiles {
    dir: PathBuf,
    value: Vec<u8>,
    counter: AtomicU64,
}

impl RawFiles {
    pub(crate) fn new(dir: PathBuf, value: &str) -> Result<Self, String> {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Self {
            dir,
            value: value.as_bytes().to_vec(),
            counter: AtomicU64::new(0),
        })
    }
}

impl Target for RawFiles {
    async fn get(&self, key: &str) -> Result<bool, String> {
        let path = self.dir.join(key);
        tokio::task::spawn_blocking(move || match std::fs::read(&path) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.to_string()),
        })
        .await
        .map_err(|e| e.to_string())?
    }
    async fn set(&self, key: &str, _value: &str) -> Result<(), String> {
        let path = self.dir.join(key);
        let temp = self.dir.join(format!(
            ".tmp-{}",
            self.counter.fetch_add(1, Ordering::Relaxed)
        ));
        let value = self.value.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::write(&temp, &value).and_then(|()| std::fs::rename(&temp, &path))
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
    }
}
