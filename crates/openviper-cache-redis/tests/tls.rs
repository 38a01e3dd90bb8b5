//! TLS for real: `redis-server --tls-port` with a certificate from a CA that `cargo xtask
//! services up` generates. Values round-trip over TLS; a CA that did not sign the server's
//! certificate is a typed error naming the server, within `connect_timeout_ms`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use openviper_cache_core::{BaseCache, CacheError, CacheExt, build_backend};
use openviper_cache_redis::{BACKEND_NAME, RedisCache, RedisOptions};

fn tls_server() -> Option<(String, u16, PathBuf, PathBuf)> {
    let address = support::service("OPENVIPER_TEST_REDIS_TLS")?;
    let ca = support::service("OPENVIPER_TEST_REDIS_TLS_CA")?;
    let other_ca = support::service("OPENVIPER_TEST_REDIS_TLS_OTHER_CA")?;
    let (host, port) = address.rsplit_once(':').unwrap();
    Some((
        host.to_owned(),
        port.parse().unwrap(),
        ca.into(),
        other_ca.into(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_round_trip_over_tls_with_the_generated_ca() {
    let Some((host, port, ca, _)) = tls_server() else {
        return;
    };
    let cache = RedisCache::new(RedisOptions {
        host,
        port,
        tls_ca_file: Some(ca),
        ..RedisOptions::default()
    })
    .unwrap();
    let key = format!("tls-{}", std::process::id());
    cache.set(&key, "over tls", None).await.unwrap();
    assert_eq!(
        cache.get::<String>(&key).await.unwrap().as_deref(),
        Some("over tls")
    );
    assert_eq!(cache.incr(&format!("{key}:n"), 2).await.unwrap(), 2);
    assert_eq!(
        cache
            .delete_many(&[&key, &format!("{key}:n")])
            .await
            .unwrap(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rediss_url_from_settings_reaches_the_tls_server() {
    let Some((host, port, ca, _)) = tls_server() else {
        return;
    };
    let cache = build_backend(
        "secure",
        BACKEND_NAME,
        serde_json::json!({
            "url": format!("rediss://{host}:{port}/0"),
            "tls_ca_file": ca,
        }),
    )
    .unwrap();
    let key = format!("tls-url-{}", std::process::id());
    cache.set(&key, &7u8, None).await.unwrap();
    assert_eq!(cache.get::<u8>(&key).await.unwrap(), Some(7));
    assert!(cache.delete(&key).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ca_is_a_typed_error_naming_the_server_within_the_connect_timeout() {
    let Some((host, port, _, other_ca)) = tls_server() else {
        return;
    };
    let connect_timeout_ms = 1_000;
    let cache = RedisCache::new(RedisOptions {
        host,
        port,
        tls_ca_file: Some(other_ca),
        timeout_ms: 300,
        connect_timeout_ms,
        ..RedisOptions::default()
    })
    .unwrap();
    for _ in 0..2 {
        let started = Instant::now();
        let error = tokio::time::timeout(Duration::from_secs(10), cache.get_bytes("k"))
            .await
            .expect("a TLS failure hung")
            .unwrap_err();
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(connect_timeout_ms + 300 + 750),
            "took {took:?}"
        );
        assert!(
            matches!(
                error,
                CacheError::Backend { .. } | CacheError::Timeout { .. }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains(&port.to_string()), "{error}");
    }
}

#[test]
fn a_missing_or_empty_ca_file_is_a_config_error_naming_the_option() {
    let dir = std::env::temp_dir().join(format!("ov-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    for file in [dir.join("missing.pem"), empty] {
        let err = RedisCache::new(RedisOptions {
            tls_ca_file: Some(file.clone()),
            ..RedisOptions::default()
        })
        .unwrap_err();
        assert!(matches!(err, CacheError::Config { .. }), "{err:?}");
        assert!(err.to_string().contains("tls_ca_file"), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
