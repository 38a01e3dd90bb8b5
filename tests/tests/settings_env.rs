//! Without configure(), get_cache reads the file named by OPENVIPER_SETTINGS.
//!
//! The process-wide settings are fixed once per process and `set_var` is unsafe in edition
//! 2024, so the test runs its body in a child process of this test binary with the variable set.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "memory")]

mod support;

use openviper_cache::{CacheError, CacheExt, SETTINGS_ENV, configure, get_cache};

#[test]
fn get_cache_reads_openviper_settings() {
    let dir = std::env::temp_dir().join(format!("ov-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("settings.json");
    std::fs::write(
        &path,
        r#"{"CACHES": {"sessions": {"BACKEND": "openviper.cache.InMemoryCache", "OPTIONS": {"ttl": 1800}}}}"#,
    )
    .unwrap();
    support::run_child_test("settings_from_env_in_child", SETTINGS_ENV, &path);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
#[ignore = "body of get_cache_reads_openviper_settings, run by it in a child process"]
async fn settings_from_env_in_child() {
    assert!(
        std::env::var_os(SETTINGS_ENV).is_some(),
        "run me through get_cache_reads_openviper_settings"
    );
    let sessions = get_cache("sessions").unwrap();
    sessions.set("user", "ada", None).await.unwrap();
    let again = get_cache("sessions").unwrap();
    assert_eq!(
        again.get::<String>("user").await.unwrap().as_deref(),
        Some("ada")
    );
    assert!(get_cache("default").is_ok());
    assert!(matches!(
        get_cache("other"),
        Err(CacheError::UnknownAlias(_))
    ));
    assert!(matches!(
        configure(Default::default()),
        Err(CacheError::AlreadyConfigured)
    ));
}
