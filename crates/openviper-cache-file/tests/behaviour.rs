//! What only FileCache promises: file names within ext4's limit for every key, corrupt files
//! as misses, no torn read across two OS processes, typed errors on a read-only folder and a
//! full disk with the old value kept, isolation of prefixes and of foreign files, the
//! `max_entries` bound, 0700/0600 modes, and symlinks never followed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openviper_cache_core::{BaseCache, Bytes, CacheError, CacheExt};
use openviper_cache_file::{FileCache, FileOptions};

/// A fresh folder under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir =
            std::env::temp_dir().join(format!("ov-file-{tag}-{}-{nanos:x}", std::process::id()));
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).output();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cache_in(dir: &Path, prefix: &str, extra: impl FnOnce(&mut FileOptions)) -> FileCache {
    let mut options = FileOptions {
        cache_dir: dir.to_owned(),
        key_prefix: Some(prefix.to_owned()),
        ..FileOptions::default()
    };
    extra(&mut options);
    FileCache::new(options).unwrap()
}

fn is_root() -> bool {
    openviper_cache_conformance::servers::is_root()
}

/// Root, or the test is skipped with a reason (failing under `OPENVIPER_REQUIRE_SERVICES=1`,
/// as CI runs as root and must run it).
fn root_or_skip(why: &str) -> bool {
    if is_root() {
        return true;
    }
    if std::env::var("OPENVIPER_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
        panic!("OPENVIPER_REQUIRE_SERVICES=1 but not root: {why} needs mount");
    }
    eprintln!("skipped: {why} needs root (mount)");
    false
}

fn mount_tmpfs(dir: &Path, options: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", options, "tmpfs"])
        .arg(dir)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "mount -t tmpfs -o {options} {}",
        dir.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_250_character_key_of_4_byte_characters_gets_a_short_file_name() {
    let dir = TempDir::new("wide");
    let cache = cache_in(&dir.0, "ov:cache:", |_| {});
    let key = "🙂".repeat(250);
    cache.set(&key, "wide", None).await.unwrap();
    assert_eq!(
        cache.get::<String>(&key).await.unwrap().as_deref(),
        Some("wide")
    );
    let path = cache.path_of(&key);
    assert!(path.exists());
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(name.len() <= 255, "{} bytes", name.len());
    assert_eq!(cache.keys("🙂").await.unwrap(), vec![key.clone()]);
    // Traversal-looking keys stay inside the folder.
    cache
        .set("../../../../etc/passwd", "no", None)
        .await
        .unwrap();
    assert!(
        cache
            .path_of("../../../../etc/passwd")
            .starts_with(cache.folder())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_empty_truncated_and_foreign_files_are_misses_and_are_removed() {
    let dir = TempDir::new("corrupt");
    let cache = cache_in(&dir.0, "p:", |_| {});
    let value = Bytes::from(vec![7u8; 4_096]);
    for (name, damage) in [
        ("empty", 0usize),
        ("header", 10),
        ("truncated", 2_000),
        ("last-byte", usize::MAX),
    ] {
        let key = format!("damaged:{name}");
        cache.set_bytes(&key, value.clone(), None).await.unwrap();
        let path = cache.path_of(&key);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..damage.min(bytes.len() - 1)]).unwrap();
        assert_eq!(cache.get_bytes(&key).await.unwrap(), None, "{name}");
        assert!(!path.exists(), "{name}: the corrupt file was kept");
    }
    // A flipped byte in the value: the checksum catches it.
    cache
        .set_bytes("flipped", value.clone(), None)
        .await
        .unwrap();
    let path = cache.path_of("flipped");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    assert!(!cache.has_key("flipped").await.unwrap());
    assert!(!path.exists());
    // A foreign file where an entry would be.
    let path = cache.path_of("foreign");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "not an entry file").unwrap();
    assert_eq!(cache.get_bytes("foreign").await.unwrap(), None);
    assert!(!path.exists());
}

/// The body of the two-process test: run in a child process by the test below.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child half of two_processes_never_read_a_torn_or_mixed_value"]
async fn child_writes_and_reads_checksummed_values() {
    let Ok(dir) = std::env::var("OV_FILE_SHARED_DIR") else {
        return;
    };
    hammer(PathBuf::from(dir), 1).await;
}

/// Writes and reads the 100 shared keys for 3 s; every value carries its own checksum.
async fn hammer(dir: PathBuf, writer: u8) -> u64 {
    let cache = Arc::new(cache_in(&dir, "shared:", |_| {}));
    start_together(&dir).await;
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut checked = 0u64;
    let mut round = 0u32;
    while Instant::now() < deadline {
        round += 1;
        for i in 0..100u32 {
            let key = format!("k{i}");
            // Values of different sizes, so that a mix of two writes would show.
            let len = 100 + ((round * 7919 + i * 31 + u32::from(writer) * 101) % 8_000) as usize;
            let body: Vec<u8> = (0..len)
                .map(|j| (j as u32 ^ round ^ u32::from(writer)) as u8)
                .collect();
            let mut value = checksum(&body).to_le_bytes().to_vec();
            value.extend_from_slice(&body);
            cache
                .set_bytes(&key, Bytes::from(value), None)
                .await
                .unwrap();
            let other = format!("k{}", (i * 37 + 11) % 100);
            if let Some(read) = cache.get_bytes(&other).await.unwrap() {
                let (sum, body) = read.split_at(4);
                assert_eq!(
                    u32::from_le_bytes(sum.try_into().unwrap()),
                    checksum(body),
                    "a torn or mixed value under {other}"
                );
                checked += 1;
            }
        }
    }
    checked
}

fn checksum(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_never_read_a_torn_or_mixed_value() {
    let dir = TempDir::new("shared");
    std::fs::create_dir_all(&dir.0).unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_writes_and_reads_checksummed_values",
            "--ignored",
            "--nocapture",
        ])
        .env("OV_FILE_SHARED_DIR", &dir.0)
        .spawn()
        .unwrap();
    let checked = hammer(dir.0.clone(), 0).await;
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the other process found a torn value or failed"
    );
    assert!(checked > 100, "only {checked} values were read back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_folder_is_a_typed_error_naming_the_path_and_keeps_the_old_value() {
    if !root_or_skip("a read-only folder") {
        return;
    }
    let dir = TempDir::new("ro");
    mount_tmpfs(&dir.0, "size=4m");
    let cache = cache_in(&dir.0, "p:", |_| {});
    cache.set("k", "old", None).await.unwrap();
    let status = Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&dir.0)
        .status()
        .unwrap();
    assert!(status.success());
    match cache.set("k", "new", None).await {
        Err(err @ CacheError::Backend { .. }) => {
            let text = err.to_string();
            assert!(
                text.contains(&dir.0.display().to_string()) && text.contains("set"),
                "{text}"
            );
        }
        other => panic!("a write to a read-only folder gave {other:?}"),
    }
    assert_eq!(
        cache.get::<String>("k").await.unwrap().as_deref(),
        Some("old")
    );
    assert!(cache.incr("n", 1).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_a_typed_error_and_keeps_the_old_value() {
    if !root_or_skip("a full disk") {
        return;
    }
    let dir = TempDir::new("full");
    mount_tmpfs(&dir.0, "size=1m");
    let cache = cache_in(&dir.0, "p:", |_| {});
    cache.set("k", "old", None).await.unwrap();
    let big = Bytes::from(vec![1u8; 256 * 1024]);
    let mut error = None;
    for i in 0..16 {
        if let Err(e) = cache
            .set_bytes(&format!("fill{i}"), big.clone(), None)
            .await
        {
            error = Some(e);
            break;
        }
    }
    let error = error.expect("a 1 MiB folder took 4 MiB");
    assert!(matches!(error, CacheError::Backend { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&dir.0.display().to_string()),
        "{error}"
    );
    // The refused write left no temporary file and the old value whole.
    match cache.set_bytes("k", big.clone(), None).await {
        Err(CacheError::Backend { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        cache.get::<String>("k").await.unwrap().as_deref(),
        Some("old")
    );
    let temps = walk_names(&dir.0)
        .into_iter()
        .filter(|n| n.starts_with(".ovc-tmp-"))
        .count();
    assert_eq!(temps, 0, "temporary files left behind");
}

fn walk_names(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                names.push(entry.file_name().into_string().unwrap());
            }
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_keeps_other_prefixes_and_foreign_files() {
    let dir = TempDir::new("isolation");
    let mine = cache_in(&dir.0, "mine:", |_| {});
    let theirs = cache_in(&dir.0, "theirs:", |_| {});
    mine.set("k", "mine", None).await.unwrap();
    theirs.set("k", "theirs", None).await.unwrap();
    std::fs::write(dir.0.join("README"), "someone's notes").unwrap();
    let stray = mine.folder().join("not-ours.txt");
    std::fs::write(&stray, "foreign").unwrap();
    let stray_in_fan_out = mine.path_of("k").with_file_name("notes.txt");
    std::fs::write(&stray_in_fan_out, "foreign too").unwrap();
    mine.clear().await.unwrap();
    assert_eq!(mine.get_bytes("k").await.unwrap(), None);
    assert_eq!(
        theirs.get::<String>("k").await.unwrap().as_deref(),
        Some("theirs")
    );
    assert_eq!(theirs.keys("").await.unwrap(), vec!["k"]);
    for path in [dir.0.join("README"), stray, stray_in_fan_out] {
        assert!(path.exists(), "{} was removed", path.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_max_entries_bound_holds_after_three_times_as_many_writes() {
    let dir = TempDir::new("cull");
    let cache = cache_in(&dir.0, "p:", |o| o.max_entries = 100);
    for i in 0..300 {
        cache.set(&format!("k{i:03}"), &i, None).await.unwrap();
        // Distinct modification times, so that "oldest" is well defined.
        if i % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let keys = cache.keys("").await.unwrap();
    assert!(keys.len() <= 100, "{} entries", keys.len());
    assert!(keys.len() >= 50, "culled far too much: {}", keys.len());
    assert_eq!(
        cache.get::<i32>("k299").await.unwrap(),
        Some(299),
        "the newest entry was culled"
    );
    assert!(
        !keys.contains(&"k000".to_owned()),
        "the oldest entry survived"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_are_0700_and_files_0600() {
    let dir = TempDir::new("modes");
    let cache = cache_in(&dir.0, "p:", |_| {});
    cache.set("k", "v", None).await.unwrap();
    assert_eq!(cache.incr("n", 1).await.unwrap(), 1);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let file = cache.path_of("k");
    assert_eq!(mode(&file), 0o600, "entry file");
    let mut folder = file.parent().unwrap().to_owned();
    loop {
        assert_eq!(mode(&folder), 0o700, "{}", folder.display());
        if folder == dir.0 {
            break;
        }
        folder = folder.parent().unwrap().to_owned();
    }
    for entry in std::fs::read_dir(cache.folder().join("locks")).unwrap() {
        assert_eq!(mode(&entry.unwrap().path()), 0o600, "lock file");
    }
    // An existing cache_dir keeps its mode.
    let open = TempDir::new("open");
    std::fs::create_dir_all(&open.0).unwrap();
    std::fs::set_permissions(&open.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    cache_in(&open.0, "p:", |_| {})
        .set("k", "v", None)
        .await
        .unwrap();
    assert_eq!(mode(&open.0), 0o755);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlinks_are_never_followed_out_of_the_folder() {
    let dir = TempDir::new("links");
    let outside = TempDir::new("outside");
    std::fs::create_dir_all(&outside.0).unwrap();
    let target = outside.0.join("precious");
    std::fs::write(&target, "do not touch").unwrap();
    let cache = cache_in(&dir.0, "p:", |_| {});
    // A symlink in an entry's place: a miss, removed (the link, not what it points to).
    cache.set("k", "v", None).await.unwrap();
    let entry = cache.path_of("k");
    std::fs::remove_file(&entry).unwrap();
    std::os::unix::fs::symlink(&target, &entry).unwrap();
    assert_eq!(cache.get_bytes("k").await.unwrap(), None);
    assert!(
        std::fs::symlink_metadata(&entry).is_err(),
        "the link is still there"
    );
    cache.set("k", "again", None).await.unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "do not touch");
    // A fan-out folder replaced by a symlink out of the cache: writes refuse to go through it.
    let fan_out = cache.path_of("other").parent().unwrap().to_owned();
    std::fs::create_dir_all(&fan_out).unwrap();
    std::fs::remove_dir_all(&fan_out).unwrap();
    std::os::unix::fs::symlink(&outside.0, &fan_out).unwrap();
    match cache.set("other", "v", None).await {
        Err(CacheError::Backend { .. }) => {}
        other => panic!("a write through a symlinked folder gave {other:?}"),
    }
    let leaked = std::fs::read_dir(&outside.0).unwrap().count();
    assert_eq!(leaked, 1, "something was written outside the cache folder");
    // Walks skip it too: clear() leaves the outside alone.
    cache.clear().await.unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "do not touch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn left_over_temporary_files_are_swept() {
    let dir = TempDir::new("sweep");
    let cache = cache_in(&dir.0, "p:", |o| o.sweep_interval_s = Some(1));
    cache
        .set("expired", "v", Some(Duration::from_millis(10)))
        .await
        .unwrap();
    cache.set("kept", "v", None).await.unwrap();
    let leftover = cache.path_of("kept").with_file_name(".ovc-tmp-crashed");
    std::fs::write(&leftover, "half a write").unwrap();
    // Old enough to be a crash's leftover.
    let old = std::time::SystemTime::now() - Duration::from_secs(3_600);
    std::fs::File::options()
        .write(true)
        .open(&leftover)
        .unwrap()
        .set_modified(old)
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    assert!(
        !leftover.exists(),
        "the crash's temporary file is still there"
    );
    assert!(
        !cache.path_of("expired").exists(),
        "the expired entry was not swept"
    );
    assert!(cache.path_of("kept").exists());
}

#[test]
fn bad_options_are_config_errors_naming_the_option() {
    for (options, option) in [
        (serde_json::json!({ "max_entries": 0 }), "max_entries"),
        (
            serde_json::json!({ "max_value_bytes": 0 }),
            "max_value_bytes",
        ),
        (
            serde_json::json!({ "sweep_interval_s": 0 }),
            "sweep_interval_s",
        ),
        (serde_json::json!({ "cache_dir": "" }), "cache_dir"),
        (serde_json::json!({ "ttl": -5 }), "ttl"),
        (serde_json::json!({ "cachedir": "x" }), "cachedir"),
    ] {
        match openviper_cache_core::build_backend(
            "files",
            openviper_cache_file::BACKEND_NAME,
            options.clone(),
        ) {
            Err(err @ CacheError::Config { .. }) => {
                let text = err.to_string();
                assert!(
                    text.contains("\"files\"") && text.contains(option),
                    "{options}: {text}"
                );
            }
            other => panic!("{options}: {other:?}"),
        }
    }
}

/// The body of the cross-process counter test: run in a child process by the test below.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child half of incr_and_add_are_atomic_across_two_processes"]
async fn child_increments_the_shared_counter() {
    let Ok(dir) = std::env::var("OV_FILE_COUNTER_DIR") else {
        return;
    };
    increment(PathBuf::from(dir)).await;
}

const INCREMENTS: i64 = 400;

/// Waits until both processes have opened the cache, so their loops overlap as far as the
/// OS lets them; correctness below never depends on how much they do.
async fn start_together(dir: &Path) {
    // Beside the cache's files, not among them.
    let ready = dir.join("ready");
    std::fs::create_dir_all(&ready).unwrap();
    std::fs::write(ready.join(std::process::id().to_string()), b"").unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if std::fs::read_dir(&ready).unwrap().count() >= 2 {
            return;
        }
        assert!(Instant::now() < deadline, "the other process never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Increments the shared counter and races to `add` the shared keys; returns how many adds
/// this process won.
async fn increment(dir: PathBuf) -> usize {
    let cache = Arc::new(cache_in(&dir, "count:", |_| {}));
    start_together(&dir).await;
    let tasks: Vec<_> = (0..4)
        .map(|t| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move {
                let mut won = 0;
                for i in 0..INCREMENTS / 4 {
                    cache.incr("n", 1).await.unwrap();
                    if cache
                        .add(&format!("once:{t}:{i}"), &std::process::id(), None)
                        .await
                        .unwrap()
                    {
                        won += 1;
                    }
                }
                won
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        won += task.await.unwrap();
    }
    cache
        .set(&format!("won:{}", std::process::id()), &won, None)
        .await
        .unwrap();
    won
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incr_and_add_are_atomic_across_two_processes() {
    let dir = TempDir::new("counter");
    std::fs::create_dir_all(&dir.0).unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_increments_the_shared_counter",
            "--ignored",
            "--nocapture",
        ])
        .env("OV_FILE_COUNTER_DIR", &dir.0)
        .spawn()
        .unwrap();
    let child_pid = child.id();
    let mine = increment(dir.0.clone()).await;
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the other process failed");
    let cache = cache_in(&dir.0, "count:", |_| {});
    assert_eq!(
        cache.get::<i64>("n").await.unwrap(),
        Some(2 * INCREMENTS),
        "increments were lost between the processes"
    );
    // Every `once:` key was won by exactly one `add` of the two processes, and holds the
    // winner's pid: the two processes' win counts add up to the number of keys, and match
    // what the keys hold.
    let theirs: usize = cache
        .get(&format!("won:{child_pid}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        mine + theirs,
        INCREMENTS as usize,
        "an add was won by both processes, or by neither"
    );
    let mut held_by_me = 0;
    let once = cache.keys("once:").await.unwrap();
    assert_eq!(once.len(), INCREMENTS as usize);
    for key in once {
        let pid: u32 = cache.get(&key).await.unwrap().unwrap();
        assert!(
            pid == std::process::id() || pid == child_pid,
            "{key} holds {pid}"
        );
        held_by_me += usize::from(pid == std::process::id());
    }
    assert_eq!(held_by_me, mine, "a key holds the pid of the add that lost");
}
