//! A team's own `ovcache` knows the team's backend: it lists it, builds it from settings,
//! checks it and runs the conformance suite on it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn myapp_ovcache(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_myapp-ovcache"))
        .current_dir(dir)
        .env_remove("OPENVIPER_SETTINGS")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_teams_backend_is_listed_checked_and_proven() {
    let dir = std::env::temp_dir().join(format!("myapp-ovcache-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("settings.toml"),
        "[CACHES.custom]\nBACKEND = \"myapp.cache.MyCustomCache\"\nOPTIONS = { endpoint = \"custom-host:1234\" }\n",
    )
    .unwrap();

    let (code, backends, _) = myapp_ovcache(&dir, &["backends"]);
    assert_eq!(code, 0);
    // Beside the built-in ones this build links (all of them under `--all-features`).
    let names: Vec<&str> = backends.lines().collect();
    assert!(names.contains(&"myapp.cache.MyCustomCache"), "{backends}");
    assert!(
        names.contains(&"openviper.cache.InMemoryCache"),
        "{backends}"
    );

    let (code, check, stderr) = myapp_ovcache(&dir, &["--alias", "custom", "--json", "check"]);
    assert_eq!(code, 0, "{stderr}");
    let check: serde_json::Value = serde_json::from_str(&check).unwrap();
    assert_eq!(check["backend"], "myapp.cache.MyCustomCache");

    // The trait's default ttl(): the backend cannot tell, and the error says which one.
    let (code, _, stderr) = myapp_ovcache(&dir, &["--alias", "custom", "ttl", "k"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("MyCustomCache does not support ttl"),
        "{stderr}"
    );

    let (code, suite, stderr) =
        myapp_ovcache(&dir, &["--alias", "custom", "--json", "conformance"]);
    assert_eq!(code, 0, "{suite}\n{stderr}");
    let suite: serde_json::Value = serde_json::from_str(&suite).unwrap();
    assert_eq!(suite["failed"], 0, "{suite:#}");
    std::fs::remove_dir_all(&dir).unwrap();
}
