//! Built without a dialect's feature (`cargo xtask test` also runs this file with
//! `--no-default-features --features sqlite`), a URL of that dialect is a `Config` error that
//! says which feature to enable. Built with every feature, there is nothing to check here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(any(not(feature = "postgres"), not(feature = "mysql")))]
use openviper_cache_database::{DatabaseCache, DatabaseOptions};

#[cfg(any(not(feature = "postgres"), not(feature = "mysql")))]
fn refusal(url: &str) -> String {
    match DatabaseCache::new(DatabaseOptions::new(url)) {
        Err(openviper_cache_core::CacheError::Config { message, .. }) => message,
        other => panic!("{url}: {other:?}"),
    }
}

#[cfg(not(feature = "postgres"))]
#[test]
fn a_postgres_url_without_the_postgres_feature_names_the_feature() {
    let message = refusal("postgres://u:pw@db/app");
    assert!(
        message.starts_with("url")
            && message.contains("`postgres`")
            && message.contains("database-postgres"),
        "{message}"
    );
    assert!(!message.contains("pw@"), "{message}");
}

#[cfg(not(feature = "mysql"))]
#[test]
fn a_mysql_url_without_the_mysql_feature_names_the_feature() {
    let message = refusal("mysql://u:pw@db/app");
    assert!(
        message.contains("`mysql`") && message.contains("database-mysql"),
        "{message}"
    );
}
