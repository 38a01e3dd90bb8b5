//! CacheManager: one instance per alias under contention, typed errors for every bad setting.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "memory")]

use std::sync::{Arc, Barrier};

use openviper_cache::{BaseCache, CacheError, CacheExt, CacheManager, CacheSettings};

#[test]
fn sixty_four_threads_get_one_instance() {
    let manager = Arc::new(CacheManager::new(
        CacheSettings::from_toml_str(
            "[CACHES.shared]\nBACKEND = \"openviper.cache.InMemoryCache\"\n",
        )
        .unwrap(),
    ));
    for alias in ["shared", "default"] {
        let barrier = Arc::new(Barrier::new(64));
        let threads: Vec<_> = (0..64)
            .map(|_| {
                let (manager, barrier) = (Arc::clone(&manager), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    manager.get(alias).unwrap()
                })
            })
            .collect();
        let caches: Vec<Arc<dyn BaseCache>> =
            threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(
            caches.iter().all(|c| Arc::ptr_eq(c, &caches[0])),
            "{alias}: several instances"
        );
    }
}

#[test]
fn errors_name_what_is_wrong() {
    let settings = CacheSettings::from_toml_str(
        r#"
        [CACHES.typo]
        BACKEND = "openviper.cache.InMemoryCache"
        OPTIONS = { max_entries = 10, max_entires = 5 }

        [CACHES.badtype]
        BACKEND = "openviper.cache.InMemoryCache"
        OPTIONS = { max_entries = "many" }

        [CACHES.nobackend]
        BACKEND = "myorg.cache.Missing"
        "#,
    )
    .unwrap();
    let manager = CacheManager::new(settings);
    match manager.get("typo").unwrap_err() {
        err @ CacheError::Config { .. } => {
            let text = err.to_string();
            assert!(
                text.contains("\"typo\"") && text.contains("max_entires"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
    match manager.get("badtype").unwrap_err() {
        err @ CacheError::Config { .. } => {
            let text = err.to_string();
            assert!(text.contains("OPTIONS.max_entries"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    match manager.get("nobackend").unwrap_err() {
        CacheError::UnknownBackend { alias, backend } => {
            assert_eq!(
                (alias.as_str(), backend.as_str()),
                ("nobackend", "myorg.cache.Missing")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(manager.get("absent"), Err(CacheError::UnknownAlias(a)) if a == "absent"));
    assert_eq!(
        manager.aliases(),
        vec!["badtype", "default", "nobackend", "typo"]
    );
}

#[tokio::test]
async fn default_without_settings_is_in_memory_with_300s_ttl() {
    let cache = CacheManager::new(CacheSettings::default())
        .get("default")
        .unwrap();
    assert!(format!("{cache:?}").starts_with("InMemoryCache"));
    cache.set("k", "v", None).await.unwrap();
    assert_eq!(
        cache.get::<String>("k").await.unwrap().as_deref(),
        Some("v")
    );
}

#[tokio::test]
async fn close_all_closes_every_built_instance() {
    let manager = CacheManager::new(CacheSettings::default());
    let cache = manager.get("default").unwrap();
    cache.set("k", "v", None).await.unwrap();
    manager.close_all().await.unwrap();
    manager.close_all().await.unwrap();
}
