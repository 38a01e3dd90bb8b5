//! The databases the tests reach: a SQLite file of their own, and the test PostgreSQL and
//! MariaDB servers `cargo xtask test` starts (skipped with a printed reason when not
//! configured, failed under `OPENVIPER_REQUIRE_SERVICES=1`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use openviper_cache_conformance::servers::service;
use openviper_cache_database::{DatabaseCache, DatabaseOptions};

/// A table name no other test (or earlier run on a reused server) has used.
pub(crate) fn fresh_table(tag: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("ov_{tag}_{}_{n}_{nanos}", std::process::id())
}

/// A SQLite file of this test run's own.
pub(crate) fn sqlite_url(tag: &str) -> String {
    let dir = std::env::temp_dir().join(format!("ov-db-tests-{}", std::process::id()));
    format!("sqlite://{}", dir.join(format!("{tag}.db")).display())
}

pub(crate) fn postgres_url() -> Option<String> {
    service("OPENVIPER_TEST_POSTGRES_URL")
}

pub(crate) fn mysql_url() -> Option<String> {
    service("OPENVIPER_TEST_MYSQL_URL")
}

/// Every dialect: (its name, a URL).
pub(crate) fn dialects(tag: &str) -> Vec<(&'static str, String)> {
    let mut all = vec![
        ("sqlite", sqlite_url(tag)),
        ("sqlite-memory", "sqlite::memory:".to_owned()),
    ];
    all.extend(postgres_url().map(|url| ("postgres", url)));
    all.extend(mysql_url().map(|url| ("mysql", url)));
    all
}

/// A cache on `url`, in `table`.
pub(crate) fn cache(url: &str, table: &str) -> DatabaseCache {
    let mut options = DatabaseOptions::new(url);
    options.table = Some(table.to_owned());
    options.timeout_ms = 10_000;
    DatabaseCache::new(options).unwrap()
}
