//! Settings -> `CacheManager::get` -> every backend that stores outside the process, against
//! the real servers of `cargo xtask test` (and a folder, and a SQLite file): the settings file a user writes
//! reaches the store, typed values round-trip, and each backend keeps to its own prefix.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "full")]

use openviper_cache::{CacheExt, CacheManager, CacheSettings};
use openviper_cache_conformance::servers::service;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_network_backend_is_reached_from_a_settings_file() {
    let (Some(redis), Some(memcached), Some(postgres), Some(mysql)) = (
        service("OPENVIPER_TEST_REDIS_URL"),
        service("OPENVIPER_TEST_MEMCACHED"),
        service("OPENVIPER_TEST_POSTGRES_URL"),
        service("OPENVIPER_TEST_MYSQL_URL"),
    ) else {
        return;
    };
    let memcached: Vec<String> = memcached.split(',').map(|s| format!("{s:?}")).collect();
    let tag = std::process::id();
    let folder = std::env::temp_dir().join(format!("ov-settings-{tag}"));
    let settings = CacheSettings::from_toml_str(&format!(
        r#"
        [CACHES.redis]
        BACKEND = "openviper.cache.RedisCache"
        OPTIONS = {{ url = "{redis}", key_prefix = "settings{tag}:r:" }}

        [CACHES.dragonfly]
        BACKEND = "openviper.cache.DragonflyCache"
        OPTIONS = {{ url = "{redis}", key_prefix = "settings{tag}:d:" }}

        [CACHES.memcached]
        BACKEND = "openviper.cache.MemcachedCache"
        OPTIONS = {{ servers = [{}], key_prefix = "settings{tag}:m:", clear_mode = "namespace" }}

        [CACHES.file]
        BACKEND = "openviper.cache.FileCache"
        OPTIONS = {{ cache_dir = {:?}, key_prefix = "settings{tag}:f:" }}

        [CACHES.postgres]
        BACKEND = "openviper.cache.DatabaseCache"
        OPTIONS = {{ url = "{postgres}", key_prefix = "settings{tag}:p:" }}

        [CACHES.mysql]
        BACKEND = "openviper.cache.DatabaseCache"
        OPTIONS = {{ url = "{mysql}", key_prefix = "settings{tag}:y:" }}

        [CACHES.sqlite]
        BACKEND = "openviper.cache.DatabaseCache"
        OPTIONS = {{ url = {:?}, key_prefix = "settings{tag}:s:" }}
        "#,
        memcached.join(", "),
        folder.display().to_string(),
        format!("sqlite://{}", folder.join("cache.db").display())
    ))
    .unwrap();
    let manager = CacheManager::new(settings);
    let aliases = [
        "redis",
        "dragonfly",
        "memcached",
        "file",
        "postgres",
        "mysql",
        "sqlite",
    ];
    for alias in aliases {
        let cache = manager.get(alias).unwrap();
        cache
            .set("greeting", &format!("hello from {alias}"), None)
            .await
            .unwrap();
        assert_eq!(cache.incr("visits", 2).await.unwrap(), 2, "{alias}");
    }
    for alias in aliases {
        let cache = manager.get(alias).unwrap();
        assert_eq!(
            cache.get::<String>("greeting").await.unwrap(),
            Some(format!("hello from {alias}")),
            "{alias}: another backend's value, or none"
        );
        assert_eq!(
            cache.get::<i64>("visits").await.unwrap(),
            Some(2),
            "{alias}"
        );
        cache.clear().await.unwrap();
        assert!(!cache.has_key("greeting").await.unwrap(), "{alias}");
    }
    // Each pool says how many connections it holds open, and none is held between operations.
    for alias in ["redis", "dragonfly", "memcached", "postgres", "mysql"] {
        let gauges = manager.stats(alias).unwrap().gauges;
        assert!(
            gauges.connections.is_some_and(|open| open >= 1),
            "{alias}: {gauges:?}"
        );
        if alias != "redis" && alias != "dragonfly" {
            assert_eq!(gauges.connections_in_use, Some(0), "{alias}: {gauges:?}");
        }
    }
    manager.close_all().await.unwrap();
    std::fs::remove_dir_all(&folder).unwrap();
}
