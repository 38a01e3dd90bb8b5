//! PostgreSQL and MariaDB for DatabaseCache's tests: each in a fresh data folder under the
//! system's temporary directory, on a loopback port, with a password, run by an unprivileged
//! user when xtask runs as root (initdb refuses root). Each is driven by a small control
//! script (`start` / `stop`, and `freeze` / `thaw`: SIGSTOP / SIGCONT) that xtask writes and the fault tests use to stop and restart
//! the server; the script keeps the pid file `down` reads up to date.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::Result;
use crate::services::{
    TlsFiles, alive, ensure_installed, is_root, read_pid, state_dir, wait_until,
};

/// PostgreSQL's port (not 5432, so a developer's own server is never touched).
const POSTGRES_PORT: u16 = 15432;
/// MariaDB's port (not 3306).
const MARIADB_PORT: u16 = 13306;
/// The unprivileged user the servers run as when xtask runs as root.
const SERVER_USER: &str = "ovtest";
const POSTGRES_PASSWORD: &str = "ovtest-pg-secret";
/// A user of both servers that may only connect over TLS.
const TLS_USER: &str = "ovtls";
const TLS_PASSWORD: &str = "ovtls-secret";
const MARIADB_PASSWORD: &str = "ovtest-db-secret";
/// The servers' time zones: far from UTC on both sides, so a comparison that is not in UTC
/// shows (PostgreSQL's `Etc/GMT-14` is UTC+14).
const POSTGRES_TIME_ZONE: &str = "Etc/GMT-14";
const MARIADB_TIME_ZONE: &str = "-12:00";

pub(crate) fn postgres_pid_file() -> PathBuf {
    state_dir().join(format!("postgres-{POSTGRES_PORT}.pid"))
}

pub(crate) fn mariadb_pid_file() -> PathBuf {
    state_dir().join(format!("mariadb-{MARIADB_PORT}.pid"))
}

fn data_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ovcache-xtask-{name}"))
}

/// `runuser -u ovtest --` when root, nothing otherwise.
fn run_as() -> &'static str {
    if is_root() {
        "runuser -u ovtest -- "
    } else {
        ""
    }
}

fn ensure_user() -> Result {
    if !is_root() {
        return Ok(());
    }
    let known = Command::new("id")
        .arg(SERVER_USER)
        .output()
        .is_ok_and(|o| o.status.success());
    if known {
        return Ok(());
    }
    crate::run(Command::new("useradd").args([
        "--system",
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        SERVER_USER,
    ]))
}

/// A fresh folder the server's user owns, 0700.
fn fresh_dir(dir: &Path) -> Result {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if is_root() {
        crate::run(
            Command::new("chown")
                .arg(format!("{SERVER_USER}:"))
                .arg(dir),
        )?;
    }
    crate::run(Command::new("chmod").arg("0700").arg(dir))
}

/// Copies the test server certificate and key into `data`, owned by the server's user, 0600.
fn install_certificate(tls: &TlsFiles, data: &Path) -> Result {
    for (from, name) in [
        (&tls.server_cert, "server.pem"),
        (&tls.server_key, "server.key"),
        (&tls.ca_cert, "ca.pem"),
    ] {
        let to = data.join(name);
        std::fs::copy(from, &to)
            .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))?;
        crate::run(Command::new("chmod").arg("0600").arg(&to))?;
        if is_root() {
            crate::run(
                Command::new("chown")
                    .arg(format!("{SERVER_USER}:"))
                    .arg(&to),
            )?;
        }
    }
    Ok(())
}

/// The variables naming the TLS test users and the CAs.
fn tls_env(env: &mut Vec<(String, String)>, tls: &TlsFiles) {
    env.extend([
        (
            "OPENVIPER_TEST_TLS_CA".to_owned(),
            tls.ca_cert.display().to_string(),
        ),
        (
            "OPENVIPER_TEST_TLS_OTHER_CA".to_owned(),
            tls.other_ca_cert.display().to_string(),
        ),
    ]);
}

/// Whether something accepts connections on loopback `port`.
fn listens(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    )
    .is_ok()
}

/// `true` when an earlier `services up` left our server running on `port`; an error when a
/// server that is not ours holds the port.
fn already_ours(pid_file: &Path, port: u16) -> Result<bool> {
    if read_pid(pid_file).is_some_and(alive) && listens(port) {
        return Ok(true);
    }
    if listens(port) {
        return Err(format!(
            "port {port} answers but was not started by cargo xtask: stop that server or free the port"
        ));
    }
    Ok(false)
}

fn write_script(path: &Path, text: &str) -> Result {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot chmod {}: {e}", path.display()))
}

/// PostgreSQL's server programs: Debian's newest under /usr/lib/postgresql, installed when
/// missing.
fn postgres_bin() -> Result<PathBuf> {
    let newest = || -> Option<PathBuf> {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let version = e.file_name().to_string_lossy().parse().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").exists().then_some((version, bin))
            })
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    };
    if let Some(bin) = newest() {
        return Ok(bin);
    }
    // `initdb` is not on PATH in Debian: ensure_installed looks for a program that is not
    // there, so the package is installed.
    ensure_installed("ovcache-no-such-program-initdb", &["postgresql"]).ok();
    newest()
        .ok_or_else(|| "PostgreSQL's server is still missing after installing postgresql".into())
}

/// The control script of the test PostgreSQL.
fn postgres_script(bin: &Path, data: &Path) -> PathBuf {
    let script = state_dir().join("postgres.sh");
    let _ = write_script(
        &script,
        &format!(
            "#!/bin/sh\n# Written by `cargo xtask services up`: start | stop | freeze | thaw the test PostgreSQL.\nset -e\n\
             case \"$1\" in\n\
             start)\n  {as_}{bin}/pg_ctl -D {data} -l {data}/server.log -w -t 60 -o \"-p {POSTGRES_PORT} -c listen_addresses=127.0.0.1 -k {data} -c timezone={POSTGRES_TIME_ZONE} -c max_connections=200 -c fsync=off -c ssl=on -c ssl_cert_file=server.pem -c ssl_key_file=server.key\" start >/dev/null\n  head -1 {data}/postmaster.pid > {pid}\n  ;;\n\
             stop)\n  {as_}{bin}/pg_ctl -D {data} -m fast -w -t 60 stop >/dev/null\n  ;;\n\
             freeze)\n  kill -STOP \"$(cat {pid})\"\n  ;;\n\
             thaw)\n  kill -CONT \"$(cat {pid})\"\n  ;;\n\
             *) echo \"usage: $0 start|stop|freeze|thaw\" >&2; exit 2 ;;\nesac\n",
            as_ = run_as(),
            bin = bin.display(),
            data = data.display(),
            pid = postgres_pid_file().display(),
        ),
    );
    script
}

/// Starts PostgreSQL unless it already runs; `Some(pid file)` when this call started it.
pub(crate) fn start_postgres(
    env: &mut Vec<(String, String)>,
    tls: &TlsFiles,
) -> Result<Option<PathBuf>> {
    let bin = postgres_bin()?;
    let data = data_dir("postgres");
    let script = postgres_script(&bin, &data);
    env.extend([
        (
            "OPENVIPER_TEST_POSTGRES_URL".to_owned(),
            format!("postgres://postgres:{POSTGRES_PASSWORD}@127.0.0.1:{POSTGRES_PORT}/postgres"),
        ),
        (
            "OPENVIPER_TEST_POSTGRES_CTL".to_owned(),
            script.display().to_string(),
        ),
        (
            "OPENVIPER_TEST_POSTGRES_TLS_URL".to_owned(),
            format!("postgres://{TLS_USER}:{TLS_PASSWORD}@127.0.0.1:{POSTGRES_PORT}/postgres"),
        ),
    ]);
    tls_env(env, tls);
    if already_ours(&postgres_pid_file(), POSTGRES_PORT)? {
        return Ok(None);
    }
    ensure_user()?;
    fresh_dir(&data)?;
    let pwfile = data.with_extension("pw");
    std::fs::write(&pwfile, POSTGRES_PASSWORD)
        .map_err(|e| format!("cannot write {}: {e}", pwfile.display()))?;
    if is_root() {
        crate::run(
            Command::new("chown")
                .arg(format!("{SERVER_USER}:"))
                .arg(&pwfile),
        )?;
    }
    let mut initdb = Command::new("sh");
    initdb.arg("-c").arg(format!(
        "{}{}/initdb -D {} -U postgres --pwfile={} --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >/dev/null",
        run_as(),
        bin.display(),
        data.display(),
        pwfile.display()
    ));
    let initialised = crate::run(&mut initdb);
    let _ = std::fs::remove_file(&pwfile);
    initialised?;
    install_certificate(tls, &data)?;
    // The TLS user may only connect over TLS: these lines come before initdb's own.
    let hba = data.join("pg_hba.conf");
    let rules =
        std::fs::read_to_string(&hba).map_err(|e| format!("cannot read {}: {e}", hba.display()))?;
    std::fs::write(
        &hba,
        format!(
            "hostssl all {TLS_USER} 127.0.0.1/32 scram-sha-256\nhostnossl all {TLS_USER} 127.0.0.1/32 reject\n{rules}"
        ),
    )
    .map_err(|e| format!("cannot write {}: {e}", hba.display()))?;
    crate::run(Command::new(&script).arg("start"))?;
    crate::run(
        Command::new(bin.join("psql"))
            .arg("-h")
            .arg(&data)
            .args([
                "-p",
                &POSTGRES_PORT.to_string(),
                "-U",
                "postgres",
                "-q",
                "-c",
            ])
            .arg(format!(
                "CREATE ROLE {TLS_USER} LOGIN PASSWORD '{TLS_PASSWORD}'; GRANT CREATE ON SCHEMA public TO {TLS_USER}"
            ))
            .stdout(std::process::Stdio::null()),
    )?;
    wait_until(Duration::from_secs(30), || listens(POSTGRES_PORT)).map_err(|()| {
        format!("PostgreSQL on port {POSTGRES_PORT} did not accept connections within 30 s")
    })?;
    Ok(Some(postgres_pid_file()))
}

/// The control script of the test MariaDB.
fn mariadb_script(data: &Path) -> PathBuf {
    let script = state_dir().join("mariadb.sh");
    let socket = data.join("mysqld.sock");
    let user = if is_root() {
        format!(" --user={SERVER_USER}")
    } else {
        String::new()
    };
    let _ = write_script(
        &script,
        &format!(
            "#!/bin/sh\n# Written by `cargo xtask services up`: start | stop | freeze | thaw the test MariaDB.\nset -e\n\
             case \"$1\" in\n\
             start)\n  setsid -f mariadbd --no-defaults --datadir={data} --port={MARIADB_PORT} --bind-address=127.0.0.1 --socket={socket} --pid-file={data}/mysqld.pid{user} --default-time-zone={MARIADB_TIME_ZONE} --skip-name-resolve --innodb-buffer-pool-size=64M --innodb-log-file-size=16M --max-connections=200 --ssl-cert={data}/server.pem --ssl-key={data}/server.key --ssl-ca={data}/ca.pem --log-error={data}/server.log </dev/null >/dev/null 2>&1\n  i=0\n  until mariadb-admin --no-defaults -S {socket} -u root ping >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 600 ] || exit 1; sleep 0.1; done\n  cat {data}/mysqld.pid > {pid}\n  ;;\n\
             stop)\n  pid=$(cat {pid})\n  kill -TERM \"$pid\"\n  i=0\n  while kill -0 \"$pid\" 2>/dev/null; do i=$((i+1)); [ $i -lt 600 ] || exit 1; sleep 0.1; done\n  ;;\n\
             freeze)\n  kill -STOP \"$(cat {pid})\"\n  ;;\n\
             thaw)\n  kill -CONT \"$(cat {pid})\"\n  ;;\n\
             *) echo \"usage: $0 start|stop|freeze|thaw\" >&2; exit 2 ;;\nesac\n",
            data = data.display(),
            socket = socket.display(),
            pid = mariadb_pid_file().display(),
        ),
    );
    script
}

/// Starts MariaDB unless it already runs; `Some(pid file)` when this call started it.
pub(crate) fn start_mariadb(
    env: &mut Vec<(String, String)>,
    tls: &TlsFiles,
) -> Result<Option<PathBuf>> {
    ensure_installed("mariadbd", &["mariadb-server", "mariadb-client"])?;
    let data = data_dir("mariadb");
    let script = mariadb_script(&data);
    env.extend([
        (
            "OPENVIPER_TEST_MYSQL_URL".to_owned(),
            format!("mysql://ovtest:{MARIADB_PASSWORD}@127.0.0.1:{MARIADB_PORT}/ovtest"),
        ),
        (
            "OPENVIPER_TEST_MARIADB_CTL".to_owned(),
            script.display().to_string(),
        ),
        (
            "OPENVIPER_TEST_MYSQL_TLS_URL".to_owned(),
            format!("mysql://{TLS_USER}:{TLS_PASSWORD}@127.0.0.1:{MARIADB_PORT}/ovtest"),
        ),
    ]);
    if already_ours(&mariadb_pid_file(), MARIADB_PORT)? {
        return Ok(None);
    }
    ensure_user()?;
    fresh_dir(&data)?;
    let mut install = Command::new("mariadb-install-db");
    install
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg("--auth-root-authentication-method=normal")
        .arg("--skip-test-db")
        .stdout(std::process::Stdio::null());
    if is_root() {
        install.arg(format!("--user={SERVER_USER}"));
    }
    crate::run(&mut install)?;
    install_certificate(tls, &data)?;
    crate::run(Command::new(&script).arg("start"))?;
    let socket = data.join("mysqld.sock");
    crate::run(
        Command::new("mariadb")
            .arg("--no-defaults")
            .arg("-S")
            .arg(&socket)
            .args(["-u", "root", "-e"])
            .arg(format!(
                "CREATE DATABASE IF NOT EXISTS ovtest; \
                 CREATE USER IF NOT EXISTS 'ovtest'@'127.0.0.1' IDENTIFIED BY '{MARIADB_PASSWORD}'; \
                 GRANT ALL ON *.* TO 'ovtest'@'127.0.0.1'; \
                 CREATE USER IF NOT EXISTS '{TLS_USER}'@'127.0.0.1' IDENTIFIED BY '{TLS_PASSWORD}' REQUIRE SSL; \
                 GRANT ALL ON ovtest.* TO '{TLS_USER}'@'127.0.0.1'; FLUSH PRIVILEGES;"
            )),
    )?;
    Ok(Some(mariadb_pid_file()))
}
