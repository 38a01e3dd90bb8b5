//! The instrumentation layer's tracing: one span per operation named `cache.<op>` with alias,
//! backend, op, hit (reads), keys (batches) and error.kind (failures); one WARN event per
//! failure naming the alias and the server; keys only at TRACE; values and secrets never.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(all(feature = "memory", feature = "redis"))]

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use openviper_cache::{CacheExt, CacheManager, CacheSettings};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span as captured: its name and its fields as `name=value`, in order of recording.
#[derive(Debug, Clone, Default)]
struct Captured {
    name: String,
    fields: Vec<(String, String)>,
}

impl Captured {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.0
            .push((field.name().to_owned(), text.trim_matches('"').to_owned()));
    }
}

/// Every span (by id) and every event, and the whole text of both.
#[derive(Default)]
struct Capture {
    spans: Mutex<Vec<(u64, Captured)>>,
    events: Mutex<Vec<(Level, Captured)>>,
}

impl Capture {
    fn spans_named(&self, name: &str) -> Vec<Captured> {
        self.spans
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, s)| s.name == name)
            .map(|(_, s)| s.clone())
            .collect()
    }
    fn everything(&self) -> String {
        format!(
            "{:?}{:?}",
            self.spans.lock().unwrap(),
            self.events.lock().unwrap()
        )
    }
}

struct CaptureLayer(Arc<Capture>, Level);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for CaptureLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        *metadata.level() <= self.1
    }
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        self.0.spans.lock().unwrap().push((
            id.into_u64(),
            Captured {
                name: attrs.metadata().name().to_owned(),
                fields: fields.0,
            },
        ));
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        values.record(&mut fields);
        let mut spans = self.0.spans.lock().unwrap();
        if let Some((_, span)) = spans.iter_mut().rev().find(|(i, _)| *i == id.into_u64()) {
            span.fields.extend(fields.0);
        }
    }
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.0.events.lock().unwrap().push((
            *event.metadata().level(),
            Captured {
                name: event.metadata().name().to_owned(),
                fields: fields.0,
            },
        ));
    }
}

const SETTINGS: &str = r#"
[CACHES.pages]
BACKEND = "openviper.cache.InMemoryCache"
[CACHES.dead]
BACKEND = "openviper.cache.RedisCache"
OPTIONS = { url = "redis://app:hunter2@127.0.0.1:1/0", password = "hunter2", timeout_ms = 200, connect_timeout_ms = 200 }
"#;

/// Runs a small workload with a capturing subscriber at `level` on this thread.
/// What `operations` on a manager of [`SETTINGS`] emit at `level` and above.
fn capture_of<F: std::future::Future<Output = ()>>(
    level: Level,
    operations: impl FnOnce(CacheManager) -> F,
) -> Arc<Capture> {
    let capture = Arc::new(Capture::default());
    let subscriber = tracing_subscriber::registry().with(CaptureLayer(Arc::clone(&capture), level));
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let manager = CacheManager::new(CacheSettings::from_toml_str(SETTINGS).unwrap());
        runtime.block_on(operations(manager));
    });
    capture
}

fn capture(level: Level) -> Arc<Capture> {
    capture_of(level, |manager| async move {
        let pages = manager.get("pages").unwrap();
        pages.set("user:7", "top-secret-value", None).await.unwrap();
        assert!(pages.get::<String>("user:7").await.unwrap().is_some());
        assert_eq!(pages.get_bytes("user:8").await.unwrap(), None);
        pages
            .get_many_bytes(&["user:7", "user:8", "user:9"])
            .await
            .unwrap();
        let dead = manager.get("dead").unwrap();
        assert!(dead.get_bytes("k").await.is_err());
    })
}

#[test]
fn one_span_per_operation_with_its_fields() {
    let capture = capture(Level::DEBUG);
    let gets = capture.spans_named("cache.get");
    let pages: Vec<&Captured> = gets
        .iter()
        .filter(|s| s.field("alias") == Some("pages"))
        .collect();
    assert_eq!(pages.len(), 2, "{gets:#?}");
    for span in &pages {
        assert_eq!(span.field("backend"), Some("openviper.cache.InMemoryCache"));
        assert_eq!(span.field("op"), Some("get"));
    }
    assert_eq!(pages[0].field("hit"), Some("true"));
    assert_eq!(pages[1].field("hit"), Some("false"));
    let sets = capture.spans_named("cache.set");
    assert_eq!(sets.len(), 1);
    let batch = capture.spans_named("cache.get_many");
    assert_eq!(batch[0].field("keys"), Some("3"));

    let dead: Vec<Captured> = gets
        .into_iter()
        .filter(|s| s.field("alias") == Some("dead"))
        .collect();
    let kind = dead[0].field("error.kind").unwrap();
    assert!(kind == "unavailable" || kind == "timeout", "{dead:#?}");

    // One WARN per failure, naming the alias, the backend and (in the error) the server.
    let events = capture.events.lock().unwrap();
    let warns: Vec<&Captured> = events
        .iter()
        .filter(|(level, e)| *level == Level::WARN && e.field("alias") == Some("dead"))
        .map(|(_, e)| e)
        .collect();
    assert_eq!(warns.len(), 1, "{events:#?}");
    assert_eq!(warns[0].field("error.kind"), Some(kind));
    assert!(
        warns[0].field("error").unwrap().contains("127.0.0.1:1"),
        "{warns:#?}"
    );
    drop(events);

    // Below TRACE: no key; never a value, never a secret.
    let everything = capture.everything();
    assert!(
        !everything.contains("user:7"),
        "a key below TRACE: {everything}"
    );
    assert!(
        !everything.contains("top-secret-value"),
        "a value: {everything}"
    );
    assert!(!everything.contains("hunter2"), "a secret: {everything}");
}

#[test]
fn keys_appear_at_trace_and_values_still_never() {
    let capture = capture(Level::TRACE);
    let gets = capture.spans_named("cache.get");
    assert!(
        gets.iter().any(|s| s.field("key") == Some("user:7")),
        "{gets:#?}"
    );
    let everything = capture.everything();
    assert!(
        !everything.contains("top-secret-value"),
        "a value: {everything}"
    );
    assert!(!everything.contains("hunter2"), "a secret: {everything}");
}

#[test]
fn an_alias_can_turn_the_layer_off() {
    let capture = Arc::new(Capture::default());
    let subscriber =
        tracing_subscriber::registry().with(CaptureLayer(Arc::clone(&capture), Level::TRACE));
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let manager = CacheManager::new(
                CacheSettings::from_toml_str(
                    "[CACHES.raw]\nBACKEND = \"openviper.cache.InMemoryCache\"\nOPTIONS = { instrument = false }\n\
                     [CACHES.bad]\nBACKEND = \"openviper.cache.InMemoryCache\"\nOPTIONS = { instrument = \"yes\" }\n",
                )
                .unwrap(),
            );
            let raw = manager.get("raw").unwrap();
            raw.set_bytes("k", "v".into(), None).await.unwrap();
            assert!(manager.stats("raw").is_err());
            let error = manager.get("bad").unwrap_err().to_string();
            assert!(error.contains("\"bad\"") && error.contains("OPTIONS.instrument"), "{error}");
        });
    });
    assert!(capture.spans_named("cache.set").is_empty());
}

#[test]
fn a_typed_get_or_set_on_a_network_backend_is_one_span() {
    let capture = capture_of(Level::DEBUG, |manager| async move {
        let dead = manager.get("dead").unwrap();
        // Both try the synchronous path first, which a network backend does not have.
        assert!(dead.get::<String>("k").await.is_err());
        assert!(dead.set("k", "v", None).await.is_err());
    });
    for name in ["cache.get", "cache.set"] {
        let spans = capture.spans_named(name);
        assert_eq!(spans.len(), 1, "{name}: {spans:#?}");
        assert!(spans[0].field("error.kind").is_some(), "{name}: {spans:#?}");
    }
}
