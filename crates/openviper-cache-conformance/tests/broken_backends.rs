//! The suite catches broken backends: each flaw below breaks one promise, and the check for
//! that promise must fail on it while passing on the same backend without the flaw.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use openviper_cache_conformance::{Subject, run_check};
use openviper_cache_core::{
    BackendConfig, BaseCache, Bytes, Capabilities, Result, async_trait, register_backend,
};
use openviper_cache_memory::{InMemoryCache, InMemoryOptions};
use serde::Deserialize;

const BROKEN: &str = "conformance.tests.BrokenCache";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Flaw {
    None,
    IgnoresTtl,
    SkipsValidation,
    LosesIncrements,
    ReversesGetMany,
    DeleteAlwaysTrue,
    EmptyIsMiss,
    ClearDoesNothing,
    AddAlwaysWins,
    LeaksOtherTypes,
    ListsEverything,
    LendsOtherBytes,
    FoldsCase,
    ServesStale,
    WritesNowForever,
}

impl Flaw {
    /// Whether `read_now` reaches the inner cache: not for the flaws that live in `get_bytes`,
    /// which typed reads must meet there.
    fn reads_now(self) -> bool {
        !matches!(
            self,
            Flaw::EmptyIsMiss | Flaw::LeaksOtherTypes | Flaw::SkipsValidation
        )
    }

    /// Whether `write_now` reaches the inner cache: not for the flaw that lives in `set_bytes`.
    fn writes_now(self) -> bool {
        self != Flaw::SkipsValidation
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    flaw: Flaw,
    #[serde(
        default,
        deserialize_with = "openviper_cache_core::ttl::deserialize_ttl"
    )]
    ttl: Option<Duration>,
}

/// InMemoryCache with one flaw.
#[derive(Debug)]
struct BrokenCache {
    inner: InMemoryCache,
    flaw: Flaw,
}

impl BrokenCache {
    /// The key as the flawed store holds it: lower-cased by a case-folding store (as MySQL's
    /// default collations compare).
    fn k<'a>(&self, key: &'a str) -> std::borrow::Cow<'a, str> {
        if self.flaw == Flaw::FoldsCase {
            key.to_lowercase().into()
        } else {
            key.into()
        }
    }

    /// The TTL the flawed store keeps: 2 s longer than asked for a store that serves stale
    /// entries.
    fn ttl(&self, ttl: Option<Duration>) -> Option<Duration> {
        match (self.flaw, ttl) {
            (Flaw::ServesStale, Some(ttl)) if !ttl.is_zero() => {
                Some(ttl.saturating_add(Duration::from_secs(2)))
            }
            (Flaw::IgnoresTtl, _) => Some(openviper_cache_core::FOREVER),
            _ => ttl,
        }
    }
}

fn build(config: &BackendConfig) -> Result<Arc<dyn BaseCache>> {
    let options: Options = config.options()?;
    Ok(Arc::new(BrokenCache {
        inner: InMemoryCache::new(InMemoryOptions {
            ttl: options.ttl,
            ..InMemoryOptions::default()
        }),
        flaw: options.flaw,
    }))
}

register_backend!(BROKEN, build);

#[async_trait]
impl BaseCache for BrokenCache {
    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        if self.flaw == Flaw::SkipsValidation && key.is_empty() {
            return Ok(None);
        }
        let value = self.inner.get_bytes(&self.k(key)).await?;
        match (self.flaw, value) {
            (Flaw::EmptyIsMiss, Some(v)) if v.is_empty() => Ok(None),
            (Flaw::LeaksOtherTypes, Some(v)) if v.starts_with(b"\xc1") => {
                Ok(Some(Bytes::from_static(b"1")))
            }
            (_, value) => Ok(value),
        }
    }
    async fn set_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        if self.flaw == Flaw::SkipsValidation && key.is_empty() {
            return Ok(());
        }
        self.inner
            .set_bytes(&self.k(key), value, self.ttl(ttl))
            .await
    }
    async fn delete(&self, key: &str) -> Result<bool> {
        let removed = self.inner.delete(&self.k(key)).await?;
        Ok(removed || self.flaw == Flaw::DeleteAlwaysTrue)
    }
    async fn clear(&self) -> Result<()> {
        if self.flaw == Flaw::ClearDoesNothing {
            return Ok(());
        }
        self.inner.clear().await
    }
    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let prefix = if self.flaw == Flaw::ListsEverything {
            ""
        } else {
            prefix
        };
        self.inner.keys(prefix).await
    }
    async fn get_many_bytes(&self, keys: &[&str]) -> Result<Vec<Option<Bytes>>> {
        let folded: Vec<_> = keys.iter().map(|k| self.k(k)).collect();
        let folded: Vec<&str> = folded.iter().map(|k| k.as_ref()).collect();
        let mut values = self.inner.get_many_bytes(&folded).await?;
        if self.flaw == Flaw::ReversesGetMany {
            values.reverse();
        }
        Ok(values)
    }
    async fn add_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<bool> {
        if self.flaw == Flaw::AddAlwaysWins {
            self.inner.set_bytes(key, value, ttl).await?;
            return Ok(true);
        }
        self.inner
            .add_bytes(&self.k(key), value, self.ttl(ttl))
            .await
    }
    async fn incr(&self, key: &str, delta: i64) -> Result<i64> {
        if self.flaw != Flaw::LosesIncrements {
            return self.inner.incr(&self.k(key), delta).await;
        }
        // Read, yield, write: concurrent increments overwrite each other.
        let current: i64 = match self.inner.get_bytes(key).await? {
            Some(v) => std::str::from_utf8(&v)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            None => 0,
        };
        tokio::task::yield_now().await;
        let next = current + delta;
        self.inner
            .set_bytes(key, Bytes::from(next.to_string()), None)
            .await?;
        Ok(next)
    }
    async fn touch(&self, key: &str, ttl: Option<Duration>) -> Result<bool> {
        self.inner.touch(&self.k(key), self.ttl(ttl)).await
    }
    fn read_now(&self, key: &str, reader: &mut dyn FnMut(&[u8])) -> Option<Result<bool>> {
        if !self.flaw.reads_now() {
            return None;
        }
        if self.flaw == Flaw::LendsOtherBytes {
            // Drops the last byte of what it lends.
            return self.inner.read_now(key, &mut |bytes| {
                reader(&bytes[..bytes.len().saturating_sub(1)]);
            });
        }
        self.inner.read_now(&self.k(key), reader)
    }
    fn write_now(&self, key: &str, value: &Bytes, ttl: Option<Duration>) -> Option<Result<()>> {
        if !self.flaw.writes_now() {
            return None;
        }
        if self.flaw == Flaw::WritesNowForever {
            return self.inner.write_now(key, value, None);
        }
        self.inner.write_now(&self.k(key), value, self.ttl(ttl))
    }
    fn capabilities(&self) -> Capabilities {
        self.inner
            .capabilities()
            .with_sync_read(self.flaw.reads_now())
            .with_sync_write(self.flaw.writes_now())
    }
}

fn subject(flaw: &str) -> Subject {
    Subject::new(BROKEN, serde_json::json!({ "flaw": flaw }))
}

async fn caught(flaw: &str, check: &str) {
    run_check(&subject("none"), check)
        .await
        .unwrap_or_else(|e| panic!("{check} fails on the sound backend: {e}"));
    match run_check(&subject(flaw), check).await {
        Err(failure) => println!("{check} caught {flaw}: {failure}"),
        Ok(()) => panic!("{check} passed on a backend whose flaw is {flaw}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_backend_that_ignores_ttl() {
    caught("ignores_ttl", "ttl::test_expiry").await;
    caught("ignores_ttl", "ttl::test_zero_ttl").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_backend_that_skips_validation() {
    caught(
        "skips_validation",
        "keys::test_invalid_keys_rejected_before_io",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_lost_increments() {
    caught("loses_increments", "atomic::test_incr_concurrent").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_batches_out_of_order() {
    caught("reverses_get_many", "batch::test_get_many_order").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_lying_delete() {
    caught("delete_always_true", "keys::test_delete").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_empty_values_read_as_misses() {
    caught("empty_is_miss", "values::test_empty_value").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_clear_that_keeps_entries() {
    caught("clear_does_nothing", "lifecycle::test_clear").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_an_add_that_overwrites() {
    caught("add_always_wins", "atomic::test_add").await;
    caught("add_always_wins", "atomic::test_add_concurrent").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_values_that_change_type() {
    caught("leaks_other_types", "values::test_round_trip_types").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_keys_ignoring_the_prefix() {
    caught("lists_everything", "keys::test_keys_prefix").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_read_now_that_lends_other_bytes() {
    caught(
        "lends_other_bytes",
        "values::test_read_now_agrees_with_get_bytes",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_write_now_that_ignores_the_ttl() {
    caught(
        "writes_now_forever",
        "values::test_write_now_agrees_with_set_bytes",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_backend_that_folds_case() {
    caught("folds_case", "keys::test_keys_are_exact").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_entries_served_past_their_ttl() {
    caught("serves_stale", "ttl::test_expired_means_gone").await;
    caught("serves_stale", "ttl::test_expiry").await;
    caught("serves_stale", "ttl::test_sub_second_ttl").await;
}
