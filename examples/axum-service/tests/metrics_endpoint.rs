//! The example service on a real socket: a miss then a hit through `/greet`, and `/metrics`
//! shows them, labelled with the alias and the backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use metrics_exporter_prometheus::PrometheusBuilder;
use openviper_cache::{CacheManager, CacheSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn http_get(address: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greetings_are_cached_and_counted() {
    let prometheus = PrometheusBuilder::new().install_recorder().unwrap();
    let manager = CacheManager::new(CacheSettings::default());
    let cache = manager.get("default").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = openviper_cache_axum_example::app(cache, prometheus);
    tokio::spawn(async move { axum::serve(listener, app).await });

    for _ in 0..2 {
        let response = http_get(address, "/greet/ada").await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("hello, ada"), "{response}");
    }
    let metrics = http_get(address, "/metrics").await;
    let line = |name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(name) && l.contains("alias=\"default\""))
            .unwrap_or_else(|| panic!("{name} missing:\n{metrics}"))
            .to_owned()
    };
    assert!(
        line("openviper_cache_hits_total").ends_with(" 1"),
        "{metrics}"
    );
    // The first request's get_or_set_with reads twice before loading: once, then again under
    // its single-flight lock (another request may have loaded it meanwhile).
    assert!(
        line("openviper_cache_misses_total").ends_with(" 2"),
        "{metrics}"
    );
    assert!(
        line("openviper_cache_hits_total").contains("backend=\"openviper.cache.InMemoryCache\"")
    );
    assert_eq!(manager.stats("default").unwrap().hits, 1);
}
