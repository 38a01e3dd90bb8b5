//! A broken OPENVIPER_SETTINGS file gives every get_cache a Settings error naming the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use openviper_cache::{CacheError, SETTINGS_ENV, get_cache};

#[test]
fn broken_settings_file_is_a_settings_error() {
    let dir = std::env::temp_dir().join(format!("ov-env-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("settings.toml");
    std::fs::write(&path, "[CACHES.default]\nOPTIONS = {}\n").unwrap();
    support::run_child_test("broken_settings_in_child", SETTINGS_ENV, &path);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "body of broken_settings_file_is_a_settings_error, run by it in a child process"]
fn broken_settings_in_child() {
    for _ in 0..2 {
        match get_cache("default") {
            Err(err @ CacheError::Settings { .. }) => {
                let text = err.to_string();
                assert!(
                    text.contains("OPENVIPER_SETTINGS") && text.contains("settings.toml"),
                    "{text}"
                );
                assert!(text.contains("\"default\" has no BACKEND"), "{text}");
            }
            other => panic!("{other:?}"),
        }
    }
}
