//! `cargo run -p openviper-cache-axum-example`, then `curl localhost:3000/greet/ada` and
//! `curl localhost:3000/metrics`.

use metrics_exporter_prometheus::PrometheusBuilder;
use openviper_cache::get_cache;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Spans of cache operations are DEBUG; WARN events say which alias and server failed.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .init();
    // Before the first get_cache: a cache binds its metric handles when it is built.
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    let cache = get_cache("default")?;
    let address = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    tracing::info!(%address, "listening");
    axum::serve(
        listener,
        openviper_cache_axum_example::app(cache, prometheus),
    )
    .await?;
    Ok(())
}
