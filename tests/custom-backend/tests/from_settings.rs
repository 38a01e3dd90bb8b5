//! The custom backend resolves by name from a settings file through get_cache, and its
//! options are checked like a built-in backend's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use myapp_cache as _;
use openviper_cache::{CacheError, CacheExt, CacheSettings, configure, get_cache};

#[tokio::test]
async fn resolves_by_name_from_a_settings_file() {
    let dir = std::env::temp_dir().join(format!("myapp-cache-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("settings.toml");
    std::fs::write(
        &path,
        r#"
        [CACHES.custom]
        BACKEND = "myapp.cache.MyCustomCache"
        OPTIONS = { endpoint = "custom-host:1234", ttl = 60 }

        [CACHES.broken]
        BACKEND = "myapp.cache.MyCustomCache"
        OPTIONS = { ttl = 60 }
        "#,
    )
    .unwrap();
    configure(CacheSettings::from_path(&path).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    let cache = get_cache("custom").unwrap();
    assert!(
        format!("{cache:?}").contains("custom-host:1234"),
        "{cache:?}"
    );
    cache.set("greeting", "hello", None).await.unwrap();
    assert_eq!(
        get_cache("custom")
            .unwrap()
            .get::<String>("greeting")
            .await
            .unwrap()
            .as_deref(),
        Some("hello")
    );

    match get_cache("broken").unwrap_err() {
        err @ CacheError::Config { .. } => {
            let text = err.to_string();
            assert!(
                text.contains("\"broken\"") && text.contains("endpoint"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
}
