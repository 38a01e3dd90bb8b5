//! The real servers tests run against, on loopback ports, tracked by pid files under
//! `target/xtask-services/` so that `down` stops exactly what `up` started.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Result, root};

/// The standalone Redis port (not 6379, so a developer's own Redis is never touched).
const REDIS_PORT: u16 = 16379;
/// The three primaries of the test Redis Cluster.
const CLUSTER_PORTS: [u16; 3] = [17001, 17002, 17003];
/// A Redis Sentinel watching the standalone server as service [`SENTINEL_SERVICE`].
const SENTINEL_PORT: u16 = 26379;
/// The service name the sentinel knows the standalone server by.
const SENTINEL_SERVICE: &str = "ovtest";
/// A TLS-only redis-server, with a certificate from a CA generated here.
const REDIS_TLS_PORT: u16 = 16380;
/// Two memcached instances (not 11211, so a developer's own memcached is never touched).
const MEMCACHED_PORTS: [u16; 2] = [21211, 21212];

/// What `up` made available.
#[derive(Debug, Default)]
pub(crate) struct Started {
    /// Variables that tell the tests where each server is.
    pub(crate) env: Vec<(String, String)>,
    /// Pid files of the servers this call started (and so must stop).
    pub(crate) ours: Vec<PathBuf>,
}

pub(crate) fn state_dir() -> PathBuf {
    root().join("target").join("xtask-services")
}

fn pid_file(port: u16) -> PathBuf {
    state_dir().join(format!("redis-{port}.pid"))
}

fn memcached_pid_file(port: u16) -> PathBuf {
    state_dir().join(format!("memcached-{port}.pid"))
}

/// Starts every service that is not already running.
pub(crate) fn up() -> Result<Started> {
    ensure_installed("redis-server", &["redis-server", "redis-tools"])?;
    ensure_installed("memcached", &["memcached"])?;
    std::fs::create_dir_all(state_dir())
        .map_err(|e| format!("cannot create {}: {e}", state_dir().display()))?;
    let mut started = Started::default();

    if start_redis(REDIS_PORT, false)? {
        started.ours.push(pid_file(REDIS_PORT));
    }
    let tls = tls_files()?;
    if start_redis_tls(&tls)? {
        started.ours.push(pid_file(REDIS_TLS_PORT));
    }
    if start_sentinel()? {
        started.ours.push(pid_file(SENTINEL_PORT));
    }
    let mut fresh_cluster = false;
    for port in CLUSTER_PORTS {
        if start_redis(port, true)? {
            started.ours.push(pid_file(port));
            fresh_cluster = true;
        }
    }
    if fresh_cluster || !cluster_ok(CLUSTER_PORTS[0]) {
        create_cluster()?;
    }
    for port in MEMCACHED_PORTS {
        if start_memcached(port)? {
            started.ours.push(memcached_pid_file(port));
        }
    }
    let mut database_env = Vec::new();
    if let Some(pid) = crate::databases::start_postgres(&mut database_env, &tls)? {
        started.ours.push(pid);
    }
    if let Some(pid) = crate::databases::start_mariadb(&mut database_env, &tls)? {
        started.ours.push(pid);
    }

    let redis_server = which("redis-server").unwrap_or_else(|| "redis-server".into());
    let memcached = which("memcached").unwrap_or_else(|| "memcached".into());
    started.env.extend([
        (
            "OPENVIPER_TEST_REDIS_URL".into(),
            format!("redis://127.0.0.1:{REDIS_PORT}/0"),
        ),
        (
            "OPENVIPER_TEST_REDIS_CLUSTER".into(),
            CLUSTER_PORTS.map(|p| format!("127.0.0.1:{p}")).join(","),
        ),
        ("OPENVIPER_TEST_REDIS_SERVER".into(), redis_server),
        (
            "OPENVIPER_TEST_REDIS_SENTINEL".into(),
            format!("127.0.0.1:{SENTINEL_PORT}"),
        ),
        (
            "OPENVIPER_TEST_REDIS_SENTINEL_SERVICE".into(),
            SENTINEL_SERVICE.to_owned(),
        ),
        (
            "OPENVIPER_TEST_MEMCACHED".into(),
            MEMCACHED_PORTS.map(|p| format!("127.0.0.1:{p}")).join(","),
        ),
        ("OPENVIPER_TEST_MEMCACHED_SERVER".into(), memcached),
        (
            "OPENVIPER_TEST_REDIS_TLS".into(),
            format!("127.0.0.1:{REDIS_TLS_PORT}"),
        ),
        (
            "OPENVIPER_TEST_REDIS_TLS_CA".into(),
            tls.ca_cert.display().to_string(),
        ),
        (
            "OPENVIPER_TEST_REDIS_TLS_OTHER_CA".into(),
            tls.other_ca_cert.display().to_string(),
        ),
    ]);
    started.env.extend(database_env);
    println!(
        "services up: redis 127.0.0.1:{REDIS_PORT}, redis TLS 127.0.0.1:{REDIS_TLS_PORT}, sentinel 127.0.0.1:{SENTINEL_PORT}, redis cluster {:?}, memcached {:?}, postgres, mariadb ({} started by this run)",
        CLUSTER_PORTS,
        MEMCACHED_PORTS,
        started.ours.len()
    );
    Ok(started)
}

/// Writes the variables for a shell to `target/xtask-services/env.sh` and prints them, so that
/// `cargo test` run by hand reaches the servers: `. target/xtask-services/env.sh`.
pub(crate) fn print_env(env: &[(String, String)]) {
    let text: String = env
        .iter()
        .map(|(name, value)| format!("export {name}={value}\n"))
        .collect();
    let path = state_dir().join("env.sh");
    match std::fs::write(&path, &text) {
        Ok(()) => println!("wrote {}:", path.display()),
        Err(e) => eprintln!("cannot write {}: {e}", path.display()),
    }
    print!("{text}");
}

/// Stops the servers whose pid files are given.
pub(crate) fn down(ours: &[PathBuf]) -> Result {
    let mut failures = Vec::new();
    for pid_path in ours {
        if let Err(e) = stop(pid_path) {
            failures.push(e);
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// The pid files of every server a `services up` runs, whoever started it.
pub(crate) fn all_pid_files() -> Vec<PathBuf> {
    [REDIS_PORT, REDIS_TLS_PORT, SENTINEL_PORT]
        .into_iter()
        .chain(CLUSTER_PORTS)
        .map(pid_file)
        .chain(MEMCACHED_PORTS.map(memcached_pid_file))
        .chain([
            crate::databases::postgres_pid_file(),
            crate::databases::mariadb_pid_file(),
        ])
        .filter(|p| p.exists())
        .collect()
}

/// Stops every server a `services up` started.
pub(crate) fn down_all() -> Result {
    let all = all_pid_files();
    down(&all)?;
    println!("services down: stopped {} server(s)", all.len());
    Ok(())
}

/// Prints what is running.
pub(crate) fn status() -> Result {
    for port in [REDIS_PORT, REDIS_TLS_PORT, SENTINEL_PORT]
        .into_iter()
        .chain(CLUSTER_PORTS)
    {
        let answers = if port == REDIS_TLS_PORT {
            tls_files().is_ok_and(|tls| pings_tls(&tls))
        } else {
            pings(port)
        };
        let state = match read_pid(&pid_file(port)) {
            Some(pid) if alive(pid) && answers => format!("running (pid {pid})"),
            Some(pid) if alive(pid) => format!("not answering (pid {pid})"),
            _ => "stopped".to_owned(),
        };
        println!("redis 127.0.0.1:{port}: {state}");
    }
    println!(
        "redis cluster: {}",
        if cluster_ok(CLUSTER_PORTS[0]) {
            "ok"
        } else {
            "not formed"
        }
    );
    for port in MEMCACHED_PORTS {
        let state = match read_pid(&memcached_pid_file(port)) {
            Some(pid) if alive(pid) && memcached_answers(port) => format!("running (pid {pid})"),
            Some(pid) if alive(pid) => format!("not answering (pid {pid})"),
            _ => "stopped".to_owned(),
        };
        println!("memcached 127.0.0.1:{port}: {state}");
    }
    Ok(())
}

pub(crate) fn which(program: &str) -> Option<String> {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !path.is_empty()).then_some(path)
}

/// Installs Debian `packages` when `program` is missing.
pub(crate) fn ensure_installed(program: &str, packages: &[&str]) -> Result {
    if which(program).is_some() {
        return Ok(());
    }
    println!(
        "{program} is missing: installing {} from Debian",
        packages.join(" ")
    );
    // Debian starts a packaged server on its default port when it is installed, unless
    // policy-rc.d says no: the tests start their own, on ports of their own.
    let policy = Path::new("/usr/sbin/policy-rc.d");
    let ours = !policy.exists() && std::fs::write(policy, "#!/bin/sh\nexit 101\n").is_ok();
    if ours {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(policy, std::fs::Permissions::from_mode(0o755));
    }
    let installed = crate::run(Command::new("apt-get").arg("update").arg("-q")).and_then(|()| {
        crate::run(
            Command::new("apt-get")
                .args(["install", "-y", "-q", "--no-install-recommends"])
                .args(packages)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    });
    if ours {
        let _ = std::fs::remove_file(policy);
    }
    installed?;
    which(program)
        .map(drop)
        .ok_or_else(|| format!("{program} is still missing after installing {packages:?}"))
}

/// `true` when an earlier `services up` left a server running on `port`; an error when a server
/// that is not ours holds the port.
fn already_ours(port: u16) -> Result<bool> {
    if read_pid(&pid_file(port)).is_some_and(alive) && pings(port) {
        return Ok(true);
    }
    if pings(port) {
        return Err(format!(
            "port {port} answers PING but was not started by cargo xtask: stop that server or free the port"
        ));
    }
    Ok(false)
}

/// Starts redis-server on `port` unless it already runs; `true` when this call started it.
fn start_redis(port: u16, cluster: bool) -> Result<bool> {
    if already_ours(port)? {
        return Ok(false);
    }
    let pid_path = pid_file(port);
    let dir = state_dir();
    let node_conf = format!("nodes-{port}.conf");
    // A stale cluster config from an earlier run would name node ids that no longer exist.
    let _ = std::fs::remove_file(dir.join(&node_conf));
    let mut command = Command::new("redis-server");
    command.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "yes",
    ]);
    command.arg("--dir").arg(&dir);
    command.arg("--pidfile").arg(&pid_path);
    command
        .arg("--logfile")
        .arg(dir.join(format!("redis-{port}.log")));
    if cluster {
        command.args([
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            &node_conf,
        ]);
    }
    crate::run(command.stdout(Stdio::null()))?;
    wait_until(Duration::from_secs(15), || pings(port))
        .map_err(|()| format!("redis-server on port {port} did not answer PING within 15 s"))?;
    Ok(true)
}

/// Starts a sentinel watching the standalone server unless one runs; `true` when this call
/// started it.
fn start_sentinel() -> Result<bool> {
    if already_ours(SENTINEL_PORT)? {
        return Ok(false);
    }
    let pid_path = pid_file(SENTINEL_PORT);
    let dir = state_dir();
    // Sentinel rewrites its configuration file, so it gets a fresh, writable one.
    let conf = dir.join("sentinel.conf");
    let text = format!(
        "port {SENTINEL_PORT}\nbind 127.0.0.1\ndaemonize yes\npidfile {}\nlogfile {}\ndir {}\n\
         sentinel monitor {SENTINEL_SERVICE} 127.0.0.1 {REDIS_PORT} 1\n\
         sentinel down-after-milliseconds {SENTINEL_SERVICE} 5000\n",
        pid_path.display(),
        dir.join(format!("redis-{SENTINEL_PORT}.log")).display(),
        dir.display(),
    );
    std::fs::write(&conf, text).map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
    crate::run(
        Command::new("redis-server")
            .arg(&conf)
            .arg("--sentinel")
            .stdout(Stdio::null()),
    )?;
    wait_until(Duration::from_secs(15), || {
        redis_cli(
            SENTINEL_PORT,
            &["sentinel", "get-master-addr-by-name", SENTINEL_SERVICE],
        )
        .is_some_and(|s| s.contains(&REDIS_PORT.to_string()))
    })
    .map_err(|()| {
        format!("the sentinel on port {SENTINEL_PORT} did not find its primary within 15 s")
    })?;
    Ok(true)
}

/// The certificates of the TLS server: a CA, the server's certificate it signed (for
/// 127.0.0.1 and localhost), and a second CA that signed nothing (a "wrong CA" for tests).
pub(crate) struct TlsFiles {
    pub(crate) ca_cert: PathBuf,
    pub(crate) other_ca_cert: PathBuf,
    pub(crate) server_cert: PathBuf,
    pub(crate) server_key: PathBuf,
}

/// Makes the certificates with the `openssl` CLI, once (kept under `target/xtask-services/tls`).
fn tls_files() -> Result<TlsFiles> {
    let dir = state_dir().join("tls");
    let files = TlsFiles {
        ca_cert: dir.join("ca.pem"),
        other_ca_cert: dir.join("other-ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
    };
    if [
        &files.ca_cert,
        &files.other_ca_cert,
        &files.server_cert,
        &files.server_key,
    ]
    .iter()
    .all(|p| p.exists())
    {
        return Ok(files);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let openssl = |args: &[&str]| {
        crate::run(
            Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
    };
    for ca in ["ca", "other-ca"] {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "3650",
            "-subj",
            &format!("/CN=openviper-cache test {ca}"),
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.pem"),
        ])?;
    }
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ])?;
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .map_err(|e| format!("cannot write san.ext: {e}"))?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "3650",
        "-extfile",
        "san.ext",
        "-out",
        "server.pem",
    ])?;
    Ok(files)
}

/// Starts the TLS-only redis-server unless it already runs; `true` when this call started it.
fn start_redis_tls(tls: &TlsFiles) -> Result<bool> {
    let port = REDIS_TLS_PORT;
    if read_pid(&pid_file(port)).is_some_and(alive) && pings_tls(tls) {
        return Ok(false);
    }
    let dir = state_dir();
    let mut command = Command::new("redis-server");
    command.args([
        "--port",
        "0",
        "--tls-port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
    ]);
    command.args(["--save", "", "--appendonly", "no", "--daemonize", "yes"]);
    command.arg("--tls-cert-file").arg(&tls.server_cert);
    command.arg("--tls-key-file").arg(&tls.server_key);
    command.arg("--tls-ca-cert-file").arg(&tls.ca_cert);
    command.args(["--tls-auth-clients", "no"]);
    command.arg("--dir").arg(&dir);
    command.arg("--pidfile").arg(pid_file(port));
    command
        .arg("--logfile")
        .arg(dir.join(format!("redis-{port}.log")));
    crate::run(command.stdout(Stdio::null()))?;
    wait_until(Duration::from_secs(15), || pings_tls(tls)).map_err(|()| {
        format!("the TLS redis-server on port {port} did not answer PING within 15 s")
    })?;
    Ok(true)
}

fn pings_tls(tls: &TlsFiles) -> bool {
    Command::new("redis-cli")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &REDIS_TLS_PORT.to_string(),
            "--tls",
            "--cacert",
        ])
        .arg(&tls.ca_cert)
        .arg("ping")
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "PONG")
}

/// Starts memcached on `port` unless it already runs; `true` when this call started it. It runs
/// in the foreground of a child process whose pid this writes down (memcached's own `-P` is
/// written after it drops root, into a folder it may not write).
fn start_memcached(port: u16) -> Result<bool> {
    let pid_path = memcached_pid_file(port);
    if read_pid(&pid_path).is_some_and(alive) && memcached_answers(port) {
        return Ok(false);
    }
    if memcached_answers(port) {
        return Err(format!(
            "port {port} answers memcached's version but was not started by cargo xtask: stop that server or free the port"
        ));
    }
    let mut command = Command::new("memcached");
    command.args([
        "-l",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-U",
        "0",
        "-m",
        "64",
    ]);
    // memcached refuses to run as root unless told which user to become.
    if std::env::var("USER").is_ok_and(|u| u == "root") || is_root() {
        command.args(["-u", "nobody"]);
    }
    eprintln!("$ {}", crate::describe(&command));
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start memcached: {e}"))?;
    std::fs::write(&pid_path, child.id().to_string())
        .map_err(|e| format!("cannot write {}: {e}", pid_path.display()))?;
    wait_until(Duration::from_secs(15), || memcached_answers(port))
        .map_err(|()| format!("memcached on port {port} did not answer within 15 s"))?;
    Ok(true)
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Whether a memcached answers `version` on `port`.
fn memcached_answers(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut reply = [0u8; 64];
    stream.write_all(b"version\r\n").is_ok()
        && stream
            .read(&mut reply)
            .is_ok_and(|n| reply[..n].starts_with(b"VERSION "))
}

fn create_cluster() -> Result {
    let nodes: Vec<String> = CLUSTER_PORTS
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    crate::run(
        Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&nodes)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null()),
    )?;
    wait_until(Duration::from_secs(30), || {
        CLUSTER_PORTS.iter().all(|p| cluster_ok(*p))
    })
    .map_err(|()| "the redis cluster did not reach cluster_state:ok within 30 s".to_owned())
}

fn redis_cli(port: u16, args: &[&str]) -> Option<String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn pings(port: u16) -> bool {
    redis_cli(port, &["ping"]).is_some_and(|s| s.trim() == "PONG")
}

fn cluster_ok(port: u16) -> bool {
    redis_cli(port, &["cluster", "info"]).is_some_and(|s| s.contains("cluster_state:ok"))
}

pub(crate) fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether `pid` runs. A zombie does not: a server this process spawned and stopped stays one
/// until this process exits, since nothing here waits for it.
pub(crate) fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `pid (comm) state ...`: the state follows the last ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

pub(crate) fn stop(pid_path: &Path) -> Result {
    let Some(pid) = read_pid(pid_path) else {
        return Ok(());
    };
    if alive(pid) {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        wait_until(Duration::from_secs(10), || !alive(pid)).map_err(|()| {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            format!(
                "pid {pid} ({}) ignored SIGTERM for 10 s; killed",
                pid_path.display()
            )
        })?;
    }
    let _ = std::fs::remove_file(pid_path);
    Ok(())
}

pub(crate) fn wait_until(
    limit: Duration,
    mut ready: impl FnMut() -> bool,
) -> std::result::Result<(), ()> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if ready() { Ok(()) } else { Err(()) }
}
