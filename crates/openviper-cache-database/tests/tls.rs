//! TLS to PostgreSQL and MariaDB: the test servers' TLS users may only connect over TLS
//! (`hostssl` / `REQUIRE SSL`), with a certificate signed by the CA `cargo xtask services up`
//! generates. With `tls_ca_file` naming that CA the cache works; without TLS the server turns
//! it away; with another CA the certificate is refused; all as typed errors naming the cache.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use openviper_cache_conformance::servers::service;
use openviper_cache_core::{CacheError, CacheExt};
use openviper_cache_database::{DatabaseCache, DatabaseOptions};

fn options(url: &str, ca: Option<&str>) -> DatabaseOptions {
    let mut options = DatabaseOptions::new(url);
    options.table = Some(support::fresh_table("tls"));
    options.timeout_ms = 5_000;
    options.tls_ca_file = ca.map(Into::into);
    options
}

async fn check(url: String) {
    let (Some(ca), Some(other_ca)) = (
        service("OPENVIPER_TEST_TLS_CA"),
        service("OPENVIPER_TEST_TLS_OTHER_CA"),
    ) else {
        return;
    };
    let cache = DatabaseCache::new(options(&url, Some(&ca))).unwrap();
    cache
        .set("secure", "over TLS", Some(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(
        cache.get::<String>("secure").await.unwrap().as_deref(),
        Some("over TLS")
    );

    let plain = DatabaseCache::new(options(&url, None)).unwrap();
    let refused = plain.get::<String>("secure").await.unwrap_err();
    assert!(matches!(refused, CacheError::Backend { .. }), "{refused:?}");
    assert!(refused.to_string().contains("DatabaseCache("), "{refused}");

    let wrong = DatabaseCache::new(options(&url, Some(&other_ca))).unwrap();
    let untrusted = wrong.get::<String>("secure").await.unwrap_err();
    assert!(
        matches!(untrusted, CacheError::Backend { .. }),
        "{untrusted:?}"
    );
    let text = untrusted.to_string();
    assert!(
        text.contains("DatabaseCache(") && !text.contains("ovtls-secret"),
        "{text}"
    );
}

#[tokio::test]
async fn postgres_over_tls_with_the_servers_ca() {
    if let Some(url) = service("OPENVIPER_TEST_POSTGRES_TLS_URL") {
        check(url).await;
    }
}

#[tokio::test]
async fn mariadb_over_tls_with_the_servers_ca() {
    if let Some(url) = service("OPENVIPER_TEST_MYSQL_TLS_URL") {
        check(url).await;
    }
}

#[tokio::test]
async fn a_missing_or_empty_ca_file_is_a_config_error_naming_the_option() {
    for url in ["postgres://u@127.0.0.1:1/db", "mysql://u@127.0.0.1:1/db"] {
        let error = DatabaseCache::new(options(url, Some("/nonexistent/ca.pem"))).unwrap_err();
        assert!(
            matches!(&error, CacheError::Config { message, .. } if message.starts_with("tls_ca_file")),
            "{error}"
        );
        let empty = std::env::temp_dir().join(format!("ov-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&empty, "").unwrap();
        let error = DatabaseCache::new(options(url, Some(empty.to_str().unwrap()))).unwrap_err();
        assert!(
            matches!(&error, CacheError::Config { message, .. } if message.contains("no certificate")),
            "{error}"
        );
    }
}
