//! Reaching the test servers: from the variables `cargo xtask test` sets, or skipping with a
//! printed reason (failing instead when `OPENVIPER_REQUIRE_SERVICES=1`); and memcached servers
//! a test owns, to kill or freeze.
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

/// The first of the shared test servers, `host:port`.
pub fn shared_server() -> Option<String> {
    let servers = service("OPENVIPER_TEST_MEMCACHED")?;
    Some(servers.split(',').next().unwrap().to_owned())
}

/// A memcached this test owns, on a free loopback port, killed on drop.
pub struct OwnServer {
    pub port: u16,
    binary: String,
    extra: Vec<String>,
    child: Option<Child>,
}

impl OwnServer {
    /// Starts one, or `None` (skipped) when no memcached binary is known.
    pub fn start(extra: &[&str]) -> Option<Self> {
        let binary = service("OPENVIPER_TEST_MEMCACHED_SERVER")?;
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

    /// `127.0.0.1:<port>`
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (SIGKILL), as a crash would; its data is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Freezes (`SIGSTOP`) or thaws (`SIGCONT`) the server.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("server running").id();
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// Starts the server again on the same port and waits until it answers.
    pub fn restart(&mut self) {
        self.kill();
        let mut command = Command::new(&self.binary);
        command.args([
            "-l",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "0",
            "-m",
            "64",
        ]);
        command.args(&self.extra);
        if is_root() {
            command.args(["-u", "nobody"]);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start memcached");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "memcached on {} did not start",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // Thaw a frozen server first, so that nothing is left stopped.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
        }
        self.kill();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A raw memcached client of `server`, for looking at what the cache stored.
pub async fn raw(server: &str) -> async_memcached::Client {
    async_memcached::Client::new(format!("tcp://{server}"))
        .await
        .unwrap()
}
