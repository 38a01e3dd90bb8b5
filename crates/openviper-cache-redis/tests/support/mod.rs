//! Reaching the test servers: from the variables `cargo xtask test` sets, or skipping with a
//! printed reason (failing instead when `OPENVIPER_REQUIRE_SERVICES=1`).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The value of `var`, or `None` after printing why the test is skipped. Panics when the
/// services are required.
pub fn service(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) => Some(value),
        Err(_) if std::env::var("OPENVIPER_REQUIRE_SERVICES").is_ok_and(|v| v == "1") => {
            panic!("OPENVIPER_REQUIRE_SERVICES=1 but {var} is not set")
        }
        Err(_) => {
            eprintln!("skipped: {var} is not set (run `cargo xtask test`)");
            None
        }
    }
}

/// A redis-server this test owns, on a free loopback port, killed on drop.
pub struct OwnServer {
    pub port: u16,
    binary: String,
    extra: Vec<String>,
    child: Option<Child>,
}

impl OwnServer {
    /// Starts one, or `None` (skipped) when no redis-server binary is known.
    pub fn start(extra: &[&str]) -> Option<Self> {
        let binary = service("OPENVIPER_TEST_REDIS_SERVER")?;
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Self {
            port,
            binary,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            child: None,
        };
        server.restart();
        Some(server)
    }

    /// `redis://127.0.0.1:<port>/0`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Freezes (`SIGSTOP`) or thaws (`SIGCONT`) the server: its connections stay open but no
    /// reply comes, as with a hung host.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("server running").id();
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// Starts the server again on the same port and waits until it accepts connections.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new(&self.binary)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server on {} did not start",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.kill();
    }
}
