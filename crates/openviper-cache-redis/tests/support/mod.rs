//! The test servers: the shared ones `cargo xtask test` starts, and redis-servers a test owns.
#![allow(dead_code, unreachable_pub, unused_imports)]

pub use openviper_cache_conformance::servers::{OwnServer, service};

/// A redis-server this test owns, with `extra` arguments (`OPENVIPER_TEST_REDIS_SERVER`).
pub fn own_redis(extra: &[&str]) -> Option<OwnServer> {
    OwnServer::start("OPENVIPER_TEST_REDIS_SERVER", |port| {
        let mut args: Vec<String> = ["--port", &port.to_string(), "--bind", "127.0.0.1"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        args.extend(["--save", "", "--appendonly", "no"].map(str::to_owned));
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    })
}

/// `redis://127.0.0.1:<port>/0` of a server this test owns.
pub fn url(server: &OwnServer) -> String {
    format!("redis://{}/0", server.address())
}
