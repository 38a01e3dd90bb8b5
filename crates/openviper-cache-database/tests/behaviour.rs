//! DatabaseCache on every dialect, beyond the conformance suite: concurrent writers, adds and
//! counters on fresh tables, hostile table names, awkward keys and values, a missing table,
//! one SQLite file shared by two caches, expiry in UTC on servers far from it, and secrets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use openviper_cache_core::{BaseCache, Bytes, CacheError, CacheExt};
use openviper_cache_database::{DatabaseCache, DatabaseOptions};
use support::{cache, dialects, fresh_table};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_writers_of_one_key_on_a_fresh_table_all_succeed_and_one_wins() {
    for (dialect, url) in dialects("writers") {
        let cache = Arc::new(cache(&url, &fresh_table("writers")));
        let writers: Vec<_> = (0..64)
            .map(|i| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move { cache.set("contended", &i, None).await })
            })
            .collect();
        for writer in writers {
            writer
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{dialect}: {e}"));
        }
        let winner: i64 = cache.get("contended").await.unwrap().expect(dialect);
        assert!((0..64).contains(&winner), "{dialect}: {winner}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_adds_have_exactly_one_winner() {
    for (dialect, url) in dialects("adds") {
        let cache = Arc::new(cache(&url, &fresh_table("adds")));
        let adders: Vec<_> = (0..32)
            .map(|i| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move { (i, cache.add("once", &i, None).await) })
            })
            .collect();
        let mut winners = Vec::new();
        for adder in adders {
            let (i, added) = adder.await.unwrap();
            if added.unwrap_or_else(|e| panic!("{dialect}: {e}")) {
                winners.push(i);
            }
        }
        assert_eq!(winners.len(), 1, "{dialect}: winners {winners:?}");
        assert_eq!(
            cache.get::<i64>("once").await.unwrap(),
            Some(winners[0]),
            "{dialect}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_increments_of_a_missing_key_count_every_one() {
    for (dialect, url) in dialects("incr") {
        let cache = Arc::new(cache(&url, &fresh_table("incr")));
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move {
                    for _ in 0..5 {
                        cache.incr("hits", 1).await?;
                    }
                    Ok::<_, CacheError>(())
                })
            })
            .collect();
        for task in tasks {
            task.await
                .unwrap()
                .unwrap_or_else(|e| panic!("{dialect}: {e}"));
        }
        assert_eq!(
            cache.get::<i64>("hits").await.unwrap(),
            Some(160),
            "{dialect}"
        );
        // A non-integer is refused and left as it was; past i64 is refused too.
        cache.set("word", "seven", None).await.unwrap();
        assert!(
            matches!(
                cache.incr("word", 1).await,
                Err(CacheError::NotAnInteger { .. })
            ),
            "{dialect}"
        );
        assert_eq!(
            cache.get::<String>("word").await.unwrap().as_deref(),
            Some("seven")
        );
        cache.set("big", &i64::MAX, None).await.unwrap();
        assert!(
            matches!(cache.incr("big", 1).await, Err(CacheError::Overflow { .. })),
            "{dialect}"
        );
        assert_eq!(
            cache.get::<i64>("big").await.unwrap(),
            Some(i64::MAX),
            "{dialect}"
        );
    }
}

#[tokio::test]
async fn a_hostile_table_name_is_refused_before_any_io() {
    // Unreachable hosts: a refusal that needed the server would hang or fail differently.
    for url in [
        "postgres://u:p@192.0.2.1:1/db",
        "mysql://u:p@192.0.2.1:1/db",
        "sqlite:///nonexistent-dir/x.db",
    ] {
        for table in [
            "entries; DROP TABLE users",
            "a\"b",
            "x'--",
            "public.entries",
            "",
            "9lives",
        ] {
            let mut options = DatabaseOptions::new(url);
            options.table = Some(table.to_owned());
            match DatabaseCache::new(options) {
                Err(CacheError::Config { message, .. }) => {
                    assert!(message.starts_with("table"), "{url} {table:?}: {message}")
                }
                other => panic!("{url} {table:?}: {other:?}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotes_backslashes_like_metacharacters_and_binary_values_are_kept_exactly() {
    let keys = [
        "it's",
        "say-\"hi\"",
        "back\\slash",
        "100%",
        "a_b",
        "bang!",
        "%",
        "_",
        "ünï-çødé",
        "emoji-😀",
    ];
    let values: [&[u8]; 5] = [
        b"",
        b"\0nul\0",
        &[0xff, 0xfe, 0x80],
        b"'; DROP TABLE x; --",
        b"%_\\!",
    ];
    for (dialect, url) in dialects("awkward") {
        let table = fresh_table("awkward");
        let cache = cache(&url, &table);
        for (i, key) in keys.iter().enumerate() {
            let value = Bytes::copy_from_slice(values[i % values.len()]);
            cache.set_bytes(key, value.clone(), None).await.unwrap();
            assert_eq!(
                cache.get_bytes(key).await.unwrap(),
                Some(value),
                "{dialect} {key}"
            );
        }
        let mut listed = cache.keys("").await.unwrap();
        listed.sort();
        let mut expected: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        expected.sort();
        assert_eq!(listed, expected, "{dialect}");
        // The prefix is literal: `%` and `_` match only themselves.
        assert_eq!(
            cache.keys("%").await.unwrap(),
            vec!["%".to_owned()],
            "{dialect}"
        );
        assert_eq!(
            cache.keys("_").await.unwrap(),
            vec!["_".to_owned()],
            "{dialect}"
        );
        assert_eq!(
            cache.keys("a_").await.unwrap(),
            vec!["a_b".to_owned()],
            "{dialect}"
        );
        // A key with NUL is refused before any I/O.
        assert!(matches!(
            cache.set("nul\0key", &1, None).await,
            Err(CacheError::InvalidKey { .. })
        ));

        // A key prefix made of LIKE metacharacters clears only its own rows.
        let mut options = DatabaseOptions::new(url.clone());
        options.table = Some(table.clone());
        options.key_prefix = Some("p%_\\!".to_owned());
        let odd = DatabaseCache::new(options).unwrap();
        let mut options = DatabaseOptions::new(url.clone());
        options.table = Some(table.clone());
        options.key_prefix = Some("pX".to_owned());
        let plain = DatabaseCache::new(options).unwrap();
        odd.set("k", &1, None).await.unwrap();
        plain.set("k", &2, None).await.unwrap();
        odd.clear().await.unwrap();
        assert_eq!(odd.get::<i64>("k").await.unwrap(), None, "{dialect}");
        assert_eq!(plain.get::<i64>("k").await.unwrap(), Some(2), "{dialect}");
        assert_eq!(
            cache.keys("").await.unwrap().len(),
            keys.len(),
            "{dialect}: other prefixes survive"
        );
    }
}

#[tokio::test]
async fn create_table_false_against_a_missing_table_names_the_table() {
    for (dialect, url) in dialects("missing") {
        let table = fresh_table("missing");
        let mut options = DatabaseOptions::new(url.clone());
        options.table = Some(table.clone());
        options.create_table = false;
        let cache = DatabaseCache::new(options).unwrap();
        let error = cache.get::<i64>("k").await.unwrap_err();
        let text = error.to_string();
        assert!(text.contains(&table), "{dialect}: {text}");
        assert!(text.contains("create_table"), "{dialect}: {text}");
        // Once the table is there, the same cache works.
        support::cache(&url, &table)
            .set("k", &1, None)
            .await
            .unwrap();
        assert_eq!(cache.get::<i64>("k").await.unwrap(), Some(1), "{dialect}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_sqlite_file_opened_by_two_caches_at_once() {
    let url = support::sqlite_url("two-caches");
    let table = fresh_table("two");
    let (a, b) = (Arc::new(cache(&url, &table)), Arc::new(cache(&url, &table)));
    a.set("from-a", "hello", None).await.unwrap();
    assert_eq!(
        b.get::<String>("from-a").await.unwrap().as_deref(),
        Some("hello")
    );
    let tasks: Vec<_> = (0..50)
        .flat_map(|_| [Arc::clone(&a), Arc::clone(&b)])
        .map(|cache| tokio::spawn(async move { cache.incr("shared", 1).await }))
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(a.get::<i64>("shared").await.unwrap(), Some(100));
    assert!(b.add("from-a", &1, None).await.is_ok_and(|added| !added));
    b.clear().await.unwrap();
    assert_eq!(a.get::<String>("from-a").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_rows_are_culled_in_batches() {
    for (dialect, url) in dialects("cull") {
        let cache = cache(&url, &fresh_table("cull"));
        let items: Vec<(String, Bytes)> = (0..1_200)
            .map(|i| (format!("k{i}"), Bytes::from_static(b"v")))
            .collect();
        let refs: Vec<(&str, Bytes)> = items.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        cache
            .set_many_bytes(&refs, Some(Duration::from_millis(20)))
            .await
            .unwrap();
        cache.set("stays", &1, None).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(cache.cull().await.unwrap(), 1_200, "{dialect}");
        assert_eq!(
            cache.keys("").await.unwrap(),
            vec!["stays".to_owned()],
            "{dialect}"
        );
    }
}

#[tokio::test]
async fn the_password_never_shows_in_debug_or_errors() {
    let urls = [support::postgres_url(), support::mysql_url()];
    for url in urls.into_iter().flatten() {
        let wrong = "wrong-pw-0xC0FFEE";
        // The same server, the wrong password.
        let (scheme, rest) = url.split_once("://").unwrap();
        let (userinfo, host) = rest.rsplit_once('@').unwrap();
        let user = userinfo.split(':').next().unwrap();
        let bad = format!("{scheme}://{user}:{wrong}@{host}");
        let mut options = DatabaseOptions::new(bad.clone());
        options.timeout_ms = 5_000;
        assert!(!format!("{options:?}").contains(wrong));
        let cache = DatabaseCache::new(options).unwrap();
        assert!(!format!("{cache:?}").contains(wrong));
        let error = cache.get::<i64>("k").await.unwrap_err();
        let text = format!("{error} {error:?}");
        assert!(!text.contains(wrong), "{text}");
        assert!(text.contains("DatabaseCache("), "{text}");
    }
}

/// `expires_at` is an instant in UTC: a row written with a 60 s TTL on a server whose time zone
/// is UTC+14 (PostgreSQL) or UTC-12 (MariaDB) has 60 s left by the server's own UTC clock, seen
/// from a session in the server's zone.
#[tokio::test]
async fn expiry_is_kept_in_utc_whatever_the_servers_time_zone() {
    if let Some(url) = support::postgres_url() {
        let table = fresh_table("tz");
        let cache = cache(&url, &table);
        cache
            .set("k", &1, Some(Duration::from_secs(60)))
            .await
            .unwrap();
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let zone: String = client.query_one("SHOW timezone", &[]).await.unwrap().get(0);
        assert_eq!(zone, "Etc/GMT-14", "the test server runs in UTC+14");
        let left: f64 = client
            .query_one(
                &format!(
                    "SELECT CAST(extract(epoch FROM expires_at - now()) AS float8) FROM \"{table}\""
                ),
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert!((50.0..=60.5).contains(&left), "{left} s left");
        assert_eq!(cache.get::<i64>("k").await.unwrap(), Some(1));
    }
    if let Some(url) = support::mysql_url() {
        use mysql_async::prelude::Queryable;
        let table = fresh_table("tz");
        let cache = cache(&url, &table);
        cache
            .set("k", &1, Some(Duration::from_secs(60)))
            .await
            .unwrap();
        let mut conn = mysql_async::Conn::from_url(&url).await.unwrap();
        let zone: Option<String> = conn
            .query_first("SELECT @@session.time_zone")
            .await
            .unwrap();
        assert_eq!(
            zone.as_deref(),
            Some("-12:00"),
            "the test server runs in UTC-12"
        );
        let left: Option<i64> = conn
            .query_first(format!(
                "SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(6), expires_at) FROM `{table}`"
            ))
            .await
            .unwrap();
        assert!(
            left.is_some_and(|s| (50..=60).contains(&s)),
            "{left:?} s left"
        );
        assert_eq!(cache.get::<i64>("k").await.unwrap(), Some(1));
        conn.disconnect().await.unwrap();
    }
}

#[tokio::test]
async fn a_url_of_an_unknown_scheme_is_a_config_error_naming_url() {
    let error = DatabaseCache::new(DatabaseOptions::new("oracle://db/x")).unwrap_err();
    assert!(
        matches!(&error, CacheError::Config { message, .. } if message.starts_with("url")),
        "{error}"
    );
    let error = DatabaseCache::new(DatabaseOptions {
        pool_size: 0,
        ..DatabaseOptions::new("sqlite::memory:")
    })
    .unwrap_err();
    assert!(error.to_string().contains("pool_size"), "{error}");
    let error = DatabaseCache::new(DatabaseOptions {
        max_value_bytes: Some(0),
        ..DatabaseOptions::new("sqlite::memory:")
    })
    .unwrap_err();
    assert!(error.to_string().contains("max_value_bytes"), "{error}");
}

#[tokio::test]
async fn the_capabilities_say_what_the_cache_does() {
    let cache = cache("sqlite::memory:", &fresh_table("caps"));
    let caps = cache.capabilities();
    assert!(caps.list_keys && caps.atomic_add && caps.atomic_incr);
    assert!(!caps.shared, "an in-memory database is this process's own");
    let file = support::cache(&support::sqlite_url("caps"), &fresh_table("caps"));
    assert!(file.capabilities().shared);
}

/// MySQL refuses a packet past `max_allowed_packet` (16 MiB on the test MariaDB) by breaking
/// the connection: the cache reads the limit on first use, refuses a larger value as
/// `ValueTooLarge` before sending it (the old value removed), and splits a batch whose values
/// add up past it. PostgreSQL takes the same value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_past_the_servers_packet_limit_is_value_too_large_and_batches_are_split() {
    let big = Bytes::from(vec![7u8; 17 * 1024 * 1024]);
    let urls = [support::mysql_url(), support::postgres_url()];
    for (i, url) in urls.into_iter().enumerate() {
        let Some(url) = url else { continue };
        let cache = cache(&url, &fresh_table("big"));
        cache
            .set_bytes("k", Bytes::from_static(b"old"), None)
            .await
            .unwrap();
        let result = cache.set_bytes("k", big.clone(), None).await;
        if i == 0 {
            let limit = cache
                .capabilities()
                .max_value_bytes
                .expect("MySQL's limit is known after first use");
            assert!(limit < big.len() && limit > 16_000_000, "{limit}");
            assert!(
                matches!(result, Err(CacheError::ValueTooLarge { size, .. }) if size == big.len()),
                "{result:?}"
            );
            assert_eq!(
                cache.get_bytes("k").await.unwrap(),
                None,
                "the old value outlived a refused write"
            );
            assert!(matches!(
                cache.add_bytes("k", big.clone(), None).await,
                Err(CacheError::ValueTooLarge { .. })
            ));
        } else {
            result.unwrap();
            assert_eq!(
                cache.get_bytes("k").await.unwrap().map(|v| v.len()),
                Some(big.len())
            );
        }
        // Four values of 6 MiB: 24 MiB together, over one packet, in one call.
        let part = Bytes::from(vec![1u8; 6 * 1024 * 1024]);
        let keys = ["p0", "p1", "p2", "p3"];
        let items: Vec<(&str, Bytes)> = keys.iter().map(|k| (*k, part.clone())).collect();
        cache.set_many_bytes(&items, None).await.unwrap();
        let got = cache.get_many_bytes(&keys).await.unwrap();
        assert!(
            got.iter()
                .all(|v| v.as_ref().map(Bytes::len) == Some(part.len())),
            "{url}"
        );
    }
}
