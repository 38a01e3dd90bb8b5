//! `ovcache` against every backend whose entries outlive a process: one run writes, the next
//! reads, and a program using the library reads what the CLI wrote with its type (and the
//! other way round). The file and SQLite stores need no server; Redis, Dragonfly (on
//! redis-server), memcached, PostgreSQL and MariaDB are the servers `cargo xtask test`
//! starts, named by `OPENVIPER_TEST_*` (skipped without them, failed under
//! `OPENVIPER_REQUIRE_SERVICES=1`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use openviper_cache::{CacheExt, CacheManager, CacheSettings};
use openviper_cache_conformance::servers::service;
use serde::{Deserialize, Serialize};
use support::{Workdir, unique_prefix};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct User {
    name: String,
    tags: Vec<String>,
}

/// The library's view of the same alias, from the same settings file.
fn library(
    work: &Workdir,
    alias: &str,
) -> (
    tokio::runtime::Runtime,
    std::sync::Arc<dyn openviper_cache::BaseCache>,
) {
    let settings = CacheSettings::from_path(work.path().join("settings.json")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cache = CacheManager::new(settings).get(alias).unwrap();
    (runtime, cache)
}

/// Every command on `alias`, each in its own process.
fn exercise(work: &Workdir, alias: &str) {
    let run = |args: &[&str]| work.run(alias, args);

    // set / get across processes, in the stored form.
    assert_eq!(
        run(&["set", "greeting", "\"hello\""]).ok(),
        "stored \"greeting\"\n"
    );
    assert_eq!(run(&["get", "greeting"]).ok(), "\"hello\"\n");
    assert_eq!(run(&["set", "count", "41"]).ok(), "stored \"count\"\n");
    assert_eq!(run(&["incr", "count"]).ok(), "42\n");
    assert_eq!(run(&["incr", "count", "-50"]).ok(), "-8\n");
    assert_eq!(run(&["get", "--raw", "count"]).ok(), "-8");
    run(&["set", "user", r#"{"name":"Ada","tags":["math","engines"]}"#]).ok();
    run(&["set", "--string", "--ttl", "300", "note", "plain words"]).ok();

    let (runtime, cache) = library(work, alias);
    runtime.block_on(async {
        assert_eq!(cache.get::<i64>("count").await.unwrap(), Some(-8));
        assert_eq!(
            cache.get::<User>("user").await.unwrap(),
            Some(User {
                name: "Ada".into(),
                tags: vec!["math".into(), "engines".into()]
            })
        );
        assert_eq!(
            cache.get::<String>("note").await.unwrap().as_deref(),
            Some("plain words")
        );
        cache
            .set("written_by_library", &vec![1.5f64, -2.0], None)
            .await
            .unwrap();
    });
    assert_eq!(run(&["get", "written_by_library"]).ok(), "[1.5,-2.0]\n");
    let user = run(&["--json", "get", "user"]).json();
    assert_eq!(user["tags"][1], "engines");

    // ttl, has, keys.
    let left = run(&["--json", "ttl", "note"]).json();
    assert_eq!(left["expires"], true);
    let seconds = left["ttl_seconds"].as_f64().unwrap();
    assert!(seconds > 200.0 && seconds <= 301.0, "{left}");
    run(&["set", "--ttl", "forever", "pinned", "true"]).ok();
    assert_eq!(run(&["ttl", "pinned"]).ok(), "forever\n");
    assert_eq!(run(&["has", "greeting"]).ok(), "true\n");
    run(&["has", "absent"]).expect_code(1);
    run(&["get", "absent"]).expect_code(1);
    let listed = run(&["--json", "keys"]).expect_code(0);
    if cache.capabilities().list_keys {
        let mut keys: Vec<String> = serde_json::from_value(listed.json()).unwrap();
        keys.sort();
        assert_eq!(
            keys,
            [
                "count",
                "greeting",
                "note",
                "pinned",
                "user",
                "written_by_library"
            ]
        );
        assert_eq!(run(&["keys", "gr"]).ok(), "greeting\n");
    } else {
        assert_eq!(listed.json(), serde_json::json!([]));
        assert!(listed.stderr.contains("cannot list"), "{}", listed.stderr);
    }

    // delete, clear.
    assert_eq!(
        run(&["delete", "greeting", "absent"]).ok(),
        "removed 1 of 2\n"
    );
    run(&["get", "greeting"]).expect_code(1);
    let refused = run(&["clear"]).expect_code(4);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(
        run(&["get", "count"]).ok(),
        "-8\n",
        "a refused clear removed nothing"
    );

    // check, bench: both leave nothing behind.
    assert_eq!(run(&["--json", "check"]).expect_code(0).json()["ok"], true);
    let bench = run(&["--json", "bench", "--ops", "2000", "--rounds", "1"])
        .expect_code(0)
        .json();
    assert_eq!(
        bench["results"].as_array().map(Vec::len),
        Some(2),
        "{bench}"
    );
    if cache.capabilities().list_keys {
        let left: Vec<String> =
            serde_json::from_value(run(&["--json", "keys", "ovcache:"]).json()).unwrap();
        assert_eq!(
            left,
            Vec::<String>::new(),
            "check and bench keys left behind"
        );
    }

    assert_eq!(
        run(&["clear", "--yes"]).ok(),
        format!("cleared alias {alias:?}\n")
    );
    run(&["get", "count"]).expect_code(1);
    drop(runtime);
}

/// The suite through `ovcache conformance`, which must pass.
fn conformance_passes(work: &Workdir, alias: &str) {
    let suite = work.run(alias, &["--json", "conformance"]);
    let report = suite.json();
    assert_eq!(suite.code, 0, "{report:#}\n{}", suite.stderr);
    assert_eq!(report["failed"], 0, "{report:#}");
    assert!(report["passed"].as_u64().unwrap() >= 30, "{report:#}");
}

#[test]
fn file_store() {
    let work = Workdir::new();
    let dir = work.path().join("cache");
    work.settings(serde_json::json!({
        "files": { "BACKEND": "openviper.cache.FileCache", "OPTIONS": { "cache_dir": dir } }
    }));
    exercise(&work, "files");
    conformance_passes(&work, "files");
}

#[test]
fn sqlite_store() {
    let work = Workdir::new();
    let url = format!("sqlite://{}", work.path().join("cache.db").display());
    work.settings(serde_json::json!({
        "db": { "BACKEND": "openviper.cache.DatabaseCache", "OPTIONS": { "url": url } }
    }));
    exercise(&work, "db");
    conformance_passes(&work, "db");
}

#[test]
fn redis_and_dragonfly() {
    let Some(url) = service("OPENVIPER_TEST_REDIS_URL") else {
        return;
    };
    let work = Workdir::new();
    work.settings(serde_json::json!({
        "redis": { "BACKEND": "openviper.cache.RedisCache", "OPTIONS": { "url": url, "key_prefix": unique_prefix("redis") } },
        "dragonfly": { "BACKEND": "openviper.cache.DragonflyCache", "OPTIONS": { "url": url, "key_prefix": unique_prefix("df") } },
        "everything": { "BACKEND": "openviper.cache.RedisCache", "OPTIONS": { "url": url, "key_prefix": "" } },
    }));
    exercise(&work, "redis");
    exercise(&work, "dragonfly");
    conformance_passes(&work, "redis");
    // An empty prefix makes clear() a FLUSHDB: the suite is refused unless asked for.
    let refused = work.run("everything", &["conformance"]).expect_code(4);
    assert!(
        refused.stderr.contains("--allow-flush"),
        "{}",
        refused.stderr
    );
}

#[test]
fn memcached_both_clear_modes() {
    let Some(servers) = service("OPENVIPER_TEST_MEMCACHED") else {
        return;
    };
    let servers: Vec<&str> = servers.split(',').collect();
    let work = Workdir::new();
    work.settings(serde_json::json!({
        "namespaced": { "BACKEND": "openviper.cache.MemcachedCache",
            "OPTIONS": { "servers": servers, "clear_mode": "namespace", "key_prefix": unique_prefix("mc") } },
        "flushing": { "BACKEND": "openviper.cache.MemcachedCache",
            "OPTIONS": { "servers": [servers[0]], "key_prefix": unique_prefix("mcf") } },
    }));
    exercise(&work, "namespaced");
    conformance_passes(&work, "namespaced");
    let refused = work.run("flushing", &["conformance"]).expect_code(4);
    assert!(
        refused.stderr.contains("whole store") && refused.stderr.contains("--allow-flush"),
        "{}",
        refused.stderr
    );
    let work_ttl = work.run("namespaced", &["set", "--ttl", "120", "k", "1"]);
    work_ttl.ok();
    let left = work.run("namespaced", &["--json", "ttl", "k"]).json();
    assert!(
        left["ttl_seconds"]
            .as_f64()
            .is_some_and(|s| s > 60.0 && s <= 120.0),
        "{left}"
    );
}

#[test]
fn postgres_and_mariadb() {
    let Some(postgres) = service("OPENVIPER_TEST_POSTGRES_URL") else {
        return;
    };
    let Some(mysql) = service("OPENVIPER_TEST_MYSQL_URL") else {
        return;
    };
    let work = Workdir::new();
    // This test is about the CLI, not latency: the suite's 32 tasks of increments on one row,
    // beside the other store tests on two cores, have taken more than the 5 s default.
    work.settings(serde_json::json!({
        "pg": { "BACKEND": "openviper.cache.DatabaseCache", "OPTIONS": { "url": postgres, "key_prefix": unique_prefix("pg"), "timeout_ms": 30_000 } },
        "maria": { "BACKEND": "openviper.cache.DatabaseCache", "OPTIONS": { "url": mysql, "key_prefix": unique_prefix("my"), "timeout_ms": 30_000 } },
    }));
    for alias in ["pg", "maria"] {
        exercise(&work, alias);
        conformance_passes(&work, alias);
        let shown = work.run(alias, &["aliases"]).ok();
        assert!(
            !shown.contains("secret"),
            "a database password is shown: {shown}"
        );
    }
}
