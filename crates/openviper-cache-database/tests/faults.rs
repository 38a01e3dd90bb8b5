//! The test PostgreSQL and MariaDB stopped while a cache uses them (through the control
//! scripts `cargo xtask services up` writes): every operation fails with a typed, temporary
//! error within `timeout_ms`; once the server is started again, the same cache object works
//! again, its rows still there. Also frozen (`SIGSTOP`) before a cache's first operation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use openviper_cache_conformance::servers::service;
use openviper_cache_core::{BaseCache, CacheError, CacheExt};
use openviper_cache_database::{DatabaseCache, DatabaseOptions};

const TIMEOUT_MS: u64 = 1_000;

/// One test at a time per server: one of them stops it.
static POSTGRES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static MARIADB: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// What a loaded 2-core CI machine may add, in the test's own measure.
const SLACK: Duration = Duration::from_millis(1_000);

fn ctl(script: &str, action: &str) {
    let status = Command::new(script).arg(action).status().unwrap();
    assert!(status.success(), "{script} {action}: {status}");
}

/// Runs `op`, failing the test if it takes longer than `timeout_ms` and the slack, or hangs.
async fn timed<T>(op: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(30), op)
        .await
        .expect("an operation hung");
    let took = started.elapsed();
    let bound = Duration::from_millis(TIMEOUT_MS) + SLACK;
    assert!(took <= bound, "took {took:?}, bound {bound:?}");
    result
}

async fn stop_and_recover(url: String, script: String) {
    let mut options = DatabaseOptions::new(url);
    options.table = Some(support::fresh_table("faults"));
    options.timeout_ms = TIMEOUT_MS;
    options.pool_size = 4;
    let cache = DatabaseCache::new(options).unwrap();
    for i in 0..20 {
        cache.set(&format!("k{i}"), &i, None).await.unwrap();
    }
    ctl(&script, "stop");
    for _ in 0..3 {
        for result in [
            timed(cache.get::<i64>("k1")).await.map(drop),
            timed(cache.set("k1", &1, None)).await,
            timed(cache.incr("n", 1)).await.map(drop),
            timed(cache.delete("k2")).await.map(drop),
        ] {
            let error = result.expect_err("an operation on a stopped server succeeded");
            assert!(
                matches!(
                    error,
                    CacheError::Backend { .. } | CacheError::Timeout { .. }
                ) && error.is_temporary(),
                "{error:?}"
            );
            assert!(error.to_string().contains("DatabaseCache("), "{error}");
        }
    }
    ctl(&script, "start");
    // The same object: its pool drops the dead connections and connects again.
    let deadline = Instant::now() + Duration::from_secs(20);
    let value = loop {
        match cache.get::<i64>("k7").await {
            Ok(value) => break value,
            Err(error) if Instant::now() < deadline => {
                assert!(error.is_temporary(), "{error:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("no recovery within 20 s: {error}"),
        }
    };
    assert_eq!(value, Some(7));
    for i in 0..20 {
        assert_eq!(cache.get::<i64>(&format!("k{i}")).await.unwrap(), Some(i));
    }
    assert_eq!(cache.incr("n", 1).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_postgres_fails_in_time_and_the_same_cache_recovers() {
    let (Some(url), Some(script)) = (
        support::postgres_url(),
        service("OPENVIPER_TEST_POSTGRES_CTL"),
    ) else {
        return;
    };
    let _alone = POSTGRES.lock().await;
    stop_and_recover(url, script).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_mariadb_fails_in_time_and_the_same_cache_recovers() {
    let (Some(url), Some(script)) = (support::mysql_url(), service("OPENVIPER_TEST_MARIADB_CTL"))
    else {
        return;
    };
    let _alone = MARIADB.lock().await;
    stop_and_recover(url, script).await;
}

/// A statement stuck behind another session's row lock (taken by the test between
/// `stuck_setup` and `stuck_checks`): a `Timeout` within `timeout_ms`, and the connection it was
/// on is never used again; once the lock goes, the same cache reads and writes the right values.
async fn stuck_setup(url: String) -> (DatabaseCache, String) {
    let table = support::fresh_table("stuck");
    let mut options = DatabaseOptions::new(url);
    options.table = Some(table.clone());
    options.timeout_ms = TIMEOUT_MS;
    options.pool_size = 2;
    let cache = DatabaseCache::new(options).unwrap();
    cache.set("locked", &1, None).await.unwrap();
    cache.set("free", &2, None).await.unwrap();
    (cache, table)
}

async fn stuck_times_out(cache: &DatabaseCache) {
    let error = timed(cache.set("locked", &3, None)).await.unwrap_err();
    assert!(matches!(error, CacheError::Timeout { .. }), "{error:?}");
    assert!(error.is_temporary());
    // Other keys go on meanwhile.
    assert_eq!(timed(cache.get::<i64>("free")).await.unwrap(), Some(2));
}

async fn stuck_recovers(cache: &DatabaseCache) {
    tokio::time::sleep(Duration::from_millis(200)).await;
    for i in 0..20 {
        assert_eq!(cache.get::<i64>("free").await.unwrap(), Some(2));
        cache.set("locked", &i, None).await.unwrap();
        assert_eq!(cache.get::<i64>("locked").await.unwrap(), Some(i));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_statement_stuck_on_a_lock_times_out_and_its_connection_is_dropped() {
    let Some(url) = support::postgres_url() else {
        return;
    };
    let _alone = POSTGRES.lock().await;
    let (cache, table) = stuck_setup(url.clone()).await;
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    client.batch_execute("BEGIN").await.unwrap();
    let lock = format!("SELECT 1 FROM \"{table}\" WHERE \"key\" = $1 FOR UPDATE");
    client.execute(&lock, &[&"ov:cache:locked"]).await.unwrap();
    stuck_times_out(&cache).await;
    drop(client);
    driver.abort();
    stuck_recovers(&cache).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mariadb_statement_stuck_on_a_lock_times_out_and_its_connection_is_dropped() {
    use mysql_async::prelude::Queryable;
    let Some(url) = support::mysql_url() else {
        return;
    };
    let _alone = MARIADB.lock().await;
    let (cache, table) = stuck_setup(url.clone()).await;
    let mut conn = mysql_async::Conn::from_url(&url).await.unwrap();
    conn.query_drop("BEGIN").await.unwrap();
    let lock = format!("SELECT 1 FROM `{table}` WHERE `key` = ? FOR UPDATE");
    conn.exec_drop(lock, ("ov:cache:locked",)).await.unwrap();
    stuck_times_out(&cache).await;
    conn.query_drop("ROLLBACK").await.unwrap();
    drop(conn);
    stuck_recovers(&cache).await;
}

/// Sends `thaw` to the server's control script when dropped.
struct Thaw<'a>(&'a str);

impl Drop for Thaw<'_> {
    fn drop(&mut self) {
        let _ = Command::new(self.0).arg("thaw").status();
    }
}

/// A server frozen (`SIGSTOP`: it accepts connections and answers nothing) before a new cache's
/// first operation: that operation, connecting and creating the table included, is a temporary
/// error within `timeout_ms`; thawed, the same cache creates its table and works.
async fn frozen_at_first_use(url: String, script: String) {
    let mut options = DatabaseOptions::new(url);
    options.table = Some(support::fresh_table("frozen"));
    options.timeout_ms = TIMEOUT_MS;
    let cache = DatabaseCache::new(options).unwrap();
    ctl(&script, "freeze");
    // Thawed however this ends: a frozen server would fail every later test.
    let thaw = Thaw(&script);
    let first = timed(cache.set("k", &1, None)).await;
    let again = timed(cache.get::<i64>("k")).await;
    drop(thaw);
    for result in [first, again.map(drop)] {
        let error = result.expect_err("an operation on a frozen server succeeded");
        assert!(matches!(error, CacheError::Timeout { .. }), "{error:?}");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Err(error) = cache.set("k", &1, None).await {
        assert!(
            error.is_temporary() && Instant::now() < deadline,
            "{error:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(cache.get::<i64>("k").await.unwrap(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_frozen_at_first_use_fails_in_time_and_the_cache_works_once_thawed() {
    let (Some(url), Some(script)) = (
        support::postgres_url(),
        service("OPENVIPER_TEST_POSTGRES_CTL"),
    ) else {
        return;
    };
    let _alone = POSTGRES.lock().await;
    frozen_at_first_use(url, script).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mariadb_frozen_at_first_use_fails_in_time_and_the_cache_works_once_thawed() {
    let (Some(url), Some(script)) = (support::mysql_url(), service("OPENVIPER_TEST_MARIADB_CTL"))
    else {
        return;
    };
    let _alone = MARIADB.lock().await;
    frozen_at_first_use(url, script).await;
}
