//! The service of docs/observability.md: `GET /greet/{name}` answers from a cache (loading a
//! greeting on a miss), `GET /metrics` is the Prometheus text of every `openviper_cache_*`
//! metric, and traces go to the `tracing-subscriber` that `main` installs.
#![deny(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use openviper_cache::{BaseCache, CacheError, CacheExt};

/// The routes, on `cache`, with `/metrics` rendered by `prometheus`.
pub fn app(cache: Arc<dyn BaseCache>, prometheus: PrometheusHandle) -> Router {
    Router::new()
        .route("/greet/{name}", get(greet))
        .route(
            "/metrics",
            get(move || std::future::ready(prometheus.render())),
        )
        .with_state(cache)
}

async fn greet(
    State(cache): State<Arc<dyn BaseCache>>,
    Path(name): Path<String>,
) -> Result<String, (StatusCode, String)> {
    let key = format!("greeting:{name}");
    let loader = || async { Ok::<_, std::io::Error>(format!("hello, {name}")) };
    cache
        .get_or_set_with(&key, Some(Duration::from_secs(60)), loader)
        .await
        .map_err(|error| {
            let status = match error {
                CacheError::InvalidKey { .. } => StatusCode::BAD_REQUEST,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            (status, error.to_string())
        })
}
