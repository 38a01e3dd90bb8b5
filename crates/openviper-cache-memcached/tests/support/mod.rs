//! The test servers: the shared ones `cargo xtask test` starts, and memcached servers a test
//! owns, to kill or freeze.
#![allow(
    dead_code,
    unreachable_pub,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used
)]

use openviper_cache_conformance::servers::is_root;
pub use openviper_cache_conformance::servers::{OwnServer, service};

/// The first of the shared test servers, `host:port`.
pub fn shared_server() -> Option<String> {
    let servers = service("OPENVIPER_TEST_MEMCACHED")?;
    Some(servers.split(',').next().unwrap().to_owned())
}

/// A memcached this test owns (`OPENVIPER_TEST_MEMCACHED_SERVER`).
pub fn own_memcached() -> Option<OwnServer> {
    OwnServer::start("OPENVIPER_TEST_MEMCACHED_SERVER", |port| {
        let mut args: Vec<String> = [
            "-l",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "0",
            "-m",
            "64",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        // memcached refuses to run as root unless told which user to become.
        if is_root() {
            args.extend(["-u", "nobody"].map(str::to_owned));
        }
        args
    })
}

/// A raw memcached client of `server`, for looking at what the cache stored.
pub async fn raw(server: &str) -> async_memcached::Client {
    async_memcached::Client::new(format!("tcp://{server}"))
        .await
        .unwrap()
}
