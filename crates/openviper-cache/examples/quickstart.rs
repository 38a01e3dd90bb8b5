//! The quickstart: the `"default"` cache with no settings (an in-memory cache), used the way a
//! request handler would. Run it with `cargo run --example quickstart`.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use openviper_cache::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Report {
    title: String,
    rows: Vec<u32>,
}

#[derive(Debug)]
struct NotFound;
impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not found")
    }
}
impl std::error::Error for NotFound {}

async fn compute_expensive_report() -> std::result::Result<Report, NotFound> {
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(Report {
        title: "daily".into(),
        rows: vec![3, 1, 4, 1, 5],
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    // No configure() and no OPENVIPER_SETTINGS: "default" is an InMemoryCache (ttl 300 s).
    let cache = get_cache("default")?;
    println!("cache \"default\": {cache:?}");

    cache
        .set("greeting", "hello", Some(Duration::from_secs(60)))
        .await?;
    println!(
        "get(\"greeting\") = {:?}",
        cache.get::<String>("greeting").await?
    );

    for attempt in 1..=2 {
        let started = std::time::Instant::now();
        let report = cache
            .get_or_set_with("report:daily", None, compute_expensive_report)
            .await?;
        println!(
            "get_or_set_with(\"report:daily\") #{attempt}: {} rows in {:?}",
            report.rows.len(),
            started.elapsed()
        );
    }

    println!("incr(\"hits\", 1) = {}", cache.incr("hits", 1).await?);
    println!("incr(\"hits\", 41) = {}", cache.incr("hits", 41).await?);
    println!("keys(\"\") = {:?}", cache.keys("").await?);

    match cache.set("not a key", "x", None).await {
        Err(err) => println!("set(\"not a key\") -> error: {err}"),
        Ok(()) => println!("set(\"not a key\") unexpectedly succeeded"),
    }
    match get_cache("sessions") {
        Err(err) => println!("get_cache(\"sessions\") -> error: {err}"),
        Ok(_) => println!("get_cache(\"sessions\") unexpectedly resolved"),
    }
    cache.close().await?;
    println!("done");
    Ok(())
}
