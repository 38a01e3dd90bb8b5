//! For a backend's own server tests, beside the suite: reaching the test servers named by
//! environment variables (skipping with a printed reason, or failing under
//! `OPENVIPER_REQUIRE_SERVICES=1`), and server processes a test owns, to kill, restart or
//! freeze.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::runner::services_required;

/// The value of `var`, or `None` after printing why the test is skipped. Panics when
/// `OPENVIPER_REQUIRE_SERVICES=1` (CI), so that a server test never passes by skipping.
///
/// ```
/// use openviper_cache_conformance::servers::service;
/// // Unset here: the test that asked returns early (or fails, under OPENVIPER_REQUIRE_SERVICES=1).
/// # if std::env::var("OPENVIPER_REQUIRE_SERVICES").is_err() {
/// assert_eq!(service("MYORG_TEST_NO_SUCH_SERVER"), None);
/// # }
/// ```
pub fn service(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) => Some(value),
        Err(_) if services_required() => {
            panic!("OPENVIPER_REQUIRE_SERVICES=1 but {var} is not set")
        }
        Err(_) => {
            eprintln!("skipped: {var} is not set (run `cargo xtask test`)");
            None
        }
    }
}

/// A server process a test owns, on a free loopback port, killed (after a `SIGCONT`, in case
/// it was frozen) on drop.
#[derive(Debug)]
pub struct OwnServer {
    /// The loopback port it listens on.
    pub port: u16,
    command: Vec<String>,
    child: Option<Child>,
}

impl OwnServer {
    /// Starts the program named by the variable `binary_var` with `args(port)` and waits until
    /// it accepts connections; `None` (the test is skipped) when the variable is not set.
    /// Panics when the server does not start: a test cannot go on without it.
    pub fn start(binary_var: &str, args: impl FnOnce(u16) -> Vec<String>) -> Option<Self> {
        let binary = service(binary_var)?;
        let port = free_port();
        let mut command = vec![binary];
        command.extend(args(port));
        let mut server = Self {
            port,
            command,
            child: None,
        };
        server.restart();
        Some(server)
    }

    /// `127.0.0.1:<port>`
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (`SIGKILL`), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `signal` (`"-STOP"` freezes: connections stay open, nothing answers; `"-CONT"`
    /// thaws). Panics when the server is not running.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().map(Child::id);
        let Some(pid) = pid else {
            panic!("signal {signal}: the server is not running");
        };
        let sent = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(sent, "kill {signal} {pid} failed");
    }

    /// Starts the server again on the same port and waits until it accepts connections.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new(&self.command[0])
            .args(&self.command[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.command[0]));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{} on port {} did not start within 10 s",
                self.command[0],
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
        }
        self.kill();
    }
}

/// Whether this process runs as root (servers such as memcached then need to be told which
/// user to become).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_or(0, |address| address.port())
}
