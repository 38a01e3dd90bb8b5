//! SQLite through rusqlite: one connection, on a thread of its own, runs every operation.
//!
//! Operations queue for the connection's thread, which takes whatever is queued (up to
//! [`GROUP`]) and runs it in one transaction: a burst of writes costs one commit (group commit),
//! writers never contend for SQLite's lock inside this process (so none waits in SQLite's busy
//! handler), and the connection's page cache stays warm. Separate reader connections were
//! measured first: each commit of the writer made every reader drop its page cache, and the
//! hand-off to tokio's blocking pool per read cost more than the reads; one thread did 3.3x
//! their throughput at 64 tasks here (docs/backends/database.md). Other processes still read
//! while this one writes (WAL), and writers in other processes are serialised by SQLite's lock
//! (`BEGIN IMMEDIATE`, waiting up to `timeout_ms`). `synchronous = NORMAL`: a power loss may
//! lose the last commits, never the database's integrity. The cull also checkpoints the WAL
//! (`TRUNCATE`), and `journal_size_limit` bounds what is left of it.
//!
//! `sqlite::memory:` is one in-memory database per process, shared by every cache on that URL.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use openviper_cache_core::counter::{format_counter, next_counter};
use openviper_cache_core::{CacheError, Result, async_trait};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;

use crate::errors::{DbError, to_cache_error};
use crate::is_entry_expired;
use crate::store::{BATCH, CULL_BATCH, Store, TtlMs, table_not_usable};

/// How long the connection's thread looks for the next job before it sleeps.
const STAY_AWAKE: Duration = Duration::from_micros(50);
/// How many queued operations one transaction runs at most.
const GROUP: usize = 128;
/// The WAL is truncated to this size after a checkpoint.
const JOURNAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

/// Where the database is.
#[derive(Debug, Clone)]
pub(crate) enum Location {
    File(PathBuf),
    Memory,
}

/// What an operation does to the database, and so the transaction it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Only reads.
    Read,
    /// Writes (one statement, or several that need no common snapshot).
    Write,
    /// Writes what it read, or several statements that must commit together: always inside a
    /// write transaction, even alone.
    Atomic,
}

/// An operation, run on the connection's thread inside the current transaction; its answer is
/// sent once the transaction committed.
trait Job: Send {
    fn kind(&self) -> Kind;
    /// Runs the job; `false` when its caller has gone and it was skipped.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Sends the answer, or `commit`'s failure.
    fn finish(self: Box<Self>, commit: std::result::Result<(), &rusqlite::Error>);
}

struct Task<T, F> {
    kind: Kind,
    work: Option<F>,
    answer: Option<std::result::Result<T, DbError>>,
    reply: oneshot::Sender<std::result::Result<T, DbError>>,
}

impl<T: Send, F: FnOnce(&Connection) -> std::result::Result<T, DbError> + Send> Job for Task<T, F> {
    fn kind(&self) -> Kind {
        self.kind
    }

    fn run(&mut self, conn: &Connection) -> bool {
        if self.reply.is_closed() {
            return false;
        }
        if let Some(work) = self.work.take() {
            self.answer = Some(work(conn));
        }
        true
    }

    fn finish(self: Box<Self>, commit: std::result::Result<(), &rusqlite::Error>) {
        let answer = match (commit, self.answer) {
            (Ok(()), Some(answer)) => answer,
            (Err(error), Some(_)) => Err(DbError::Sqlite(copy_error(error))),
            (_, None) => return,
        };
        let _ = self.reply.send(answer);
    }
}

/// An owned copy of `error` (rusqlite's errors are not `Clone`): its code and message.
fn copy_error(error: &rusqlite::Error) -> rusqlite::Error {
    let code = match error {
        rusqlite::Error::SqliteFailure(failure, _) => failure.extended_code,
        _ => rusqlite::ffi::SQLITE_ERROR,
    };
    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(error.to_string()))
}

/// The connection's thread, fed through its inbox; the thread ends when every sender is gone.
struct Worker {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl Worker {
    fn start(conn: Connection, name: &str) -> std::io::Result<Self> {
        let (jobs, inbox) = mpsc::channel::<Box<dyn Job>>();
        std::thread::Builder::new()
            .name(format!("ovcache-sqlite {name}"))
            .spawn(move || work_loop(&conn, &inbox))?;
        Ok(Self { jobs })
    }

    async fn run<T, F>(&self, kind: Kind, work: F) -> std::result::Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> std::result::Result<T, DbError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let task = Box::new(Task {
            kind,
            work: Some(work),
            answer: None,
            reply,
        });
        if self.jobs.send(task).is_err() {
            return Err(DbError::WriterGone);
        }
        answer.await.unwrap_or(Err(DbError::WriterGone))
    }
}

/// The statement that opens the transaction of `batch`, if it needs one: none for one read or
/// one write alone (it commits by itself), a read transaction for reads only, a write
/// transaction (taking SQLite's lock at once, so no statement of the batch can fail on it half
/// way) otherwise.
fn opening(batch: &[Box<dyn Job>]) -> Option<&'static str> {
    match batch {
        [one] if one.kind() != Kind::Atomic => None,
        _ if batch.iter().all(|job| job.kind() == Kind::Read) => Some("BEGIN DEFERRED"),
        _ => Some("BEGIN IMMEDIATE"),
    }
}

/// The next job: waited for briefly without sleeping first, since a caller that just got its
/// answer often sends the next operation within microseconds, and waking a sleeping thread
/// costs more than that.
fn next_job(inbox: &mpsc::Receiver<Box<dyn Job>>) -> Option<Box<dyn Job>> {
    let until = Instant::now() + STAY_AWAKE;
    loop {
        match inbox.try_recv() {
            Ok(job) => return Some(job),
            Err(mpsc::TryRecvError::Disconnected) => return None,
            Err(mpsc::TryRecvError::Empty) if Instant::now() < until => std::thread::yield_now(),
            Err(mpsc::TryRecvError::Empty) => return inbox.recv().ok(),
        }
    }
}

fn work_loop(conn: &Connection, inbox: &mpsc::Receiver<Box<dyn Job>>) {
    while let Some(first) = next_job(inbox) {
        let mut batch = vec![first];
        while batch.len() < GROUP {
            match inbox.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let opening = opening(&batch);
        if let Some(begin) = opening
            && let Err(error) = run_cached(conn, begin)
        {
            for job in batch {
                job.finish(Err(&error));
            }
            continue;
        }
        let ran: Vec<bool> = batch.iter_mut().map(|job| job.run(conn)).collect();
        let commit = match opening {
            Some(_) => run_cached(conn, "COMMIT"),
            None => Ok(()),
        };
        if commit.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for (job, ran) in batch.into_iter().zip(ran) {
            if ran {
                job.finish(commit.as_ref().map(drop));
            }
        }
    }
}

/// Runs a statement without parameters, prepared once per connection.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// The process's one `sqlite::memory:` database while a cache uses it.
static MEMORY: Mutex<Weak<Worker>> = Mutex::new(Weak::new());

/// The SQLite [`Store`].
pub(crate) struct SqliteStore {
    worker: Arc<Worker>,
    /// The database file (none in memory): the cull checkpoints its WAL.
    path: Option<PathBuf>,
    sql: Arc<Sql>,
    name: String,
    timeout: Duration,
}

/// The statements of one table (SQLite's own dialect: the time is bound, from this process's
/// clock, as Unix milliseconds).
#[derive(Debug)]
struct Sql {
    table: String,
    create_table: String,
    create_index: String,
    probe: String,
    get: String,
    expiry: String,
    set: String,
    add: String,
    touch: String,
    delete_live: String,
    delete_expired: String,
    keys: String,
    clear: String,
    cull: String,
}

impl Sql {
    fn new(table: &str) -> Self {
        let t = format!("\"{table}\"");
        let live = "(\"expires_at\" IS NULL OR \"expires_at\" > ?{now})";
        let upsert = format!(
            "INSERT INTO {t} (\"key\", \"value\", \"expires_at\") VALUES (?1, ?2, ?3) \
             ON CONFLICT (\"key\") DO UPDATE SET \"value\" = excluded.\"value\", \"expires_at\" = excluded.\"expires_at\""
        );
        Self {
            table: table.to_owned(),
            create_table: format!(
                "CREATE TABLE IF NOT EXISTS {t} (\"key\" TEXT NOT NULL PRIMARY KEY, \"value\" BLOB NOT NULL, \
                 \"expires_at\" INTEGER) WITHOUT ROWID"
            ),
            create_index: format!(
                "CREATE INDEX IF NOT EXISTS \"{table}_expires_at\" ON {t} (\"expires_at\")"
            ),
            probe: format!("SELECT \"key\" FROM {t} WHERE 1 = 0"),
            get: format!("SELECT \"value\", \"expires_at\" FROM {t} WHERE \"key\" = ?1"),
            expiry: format!("SELECT \"expires_at\" FROM {t} WHERE \"key\" = ?1"),
            add: format!("{upsert} WHERE \"expires_at\" IS NOT NULL AND \"expires_at\" <= ?4"),
            set: upsert,
            touch: format!(
                "UPDATE {t} SET \"expires_at\" = ?1 WHERE \"key\" = ?2 AND {}",
                live.replace("{now}", "3")
            ),
            delete_live: format!(
                "DELETE FROM {t} WHERE \"key\" = ?1 AND {}",
                live.replace("{now}", "2")
            ),
            delete_expired: format!(
                "DELETE FROM {t} WHERE \"key\" = ?1 AND \"expires_at\" IS NOT NULL AND \"expires_at\" <= ?2"
            ),
            keys: format!(
                "SELECT \"key\" FROM {t} WHERE substr(\"key\", 1, length(?1)) = ?1 AND {}",
                live.replace("{now}", "2")
            ),
            clear: format!("DELETE FROM {t} WHERE substr(\"key\", 1, length(?1)) = ?1"),
            cull: format!(
                "DELETE FROM {t} WHERE \"key\" IN (SELECT \"key\" FROM {t} WHERE \"expires_at\" <= ?1 LIMIT {CULL_BATCH})"
            ),
        }
    }

    fn get_many(&self, n: usize) -> String {
        let marks = vec!["?"; n].join(", ");
        format!(
            "SELECT \"key\", \"value\", \"expires_at\" FROM \"{}\" WHERE \"key\" IN ({marks})",
            self.table
        )
    }
}

/// Now, as SQLite's `expires_at` counts it: Unix milliseconds.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn expires_at(ttl: TtlMs) -> Option<i64> {
    ttl.map(|ms| now_ms().saturating_add(ms))
}

fn expired(expires_at: Option<i64>, now: i64) -> bool {
    let at = |ms: i64| UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    is_entry_expired(expires_at.map(at), at(now))
}

/// Opens a connection with this store's settings.
fn open(location: &Location, timeout: Duration) -> rusqlite::Result<Connection> {
    let conn = match location {
        Location::Memory => Connection::open_in_memory()?,
        Location::File(path) => Connection::open(path)?,
    };
    conn.busy_timeout(timeout)?;
    if matches!(location, Location::File(_)) {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    Ok(conn)
}

/// Creates the database file (0600) and its folders (0700) when they are missing.
fn create_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map(drop)
}

impl SqliteStore {
    /// The store of `location`, its connection's thread started; `Err` names what could not be
    /// opened.
    pub(crate) fn open(
        location: Location,
        table: &str,
        timeout: Duration,
        name: String,
    ) -> std::result::Result<Self, String> {
        let sql = Arc::new(Sql::new(table));
        let (worker, path) = match &location {
            Location::Memory => {
                let mut shared = MEMORY.lock().unwrap_or_else(PoisonError::into_inner);
                let worker = match shared.upgrade() {
                    Some(worker) => worker,
                    None => {
                        let conn = open(&location, timeout)
                            .map_err(|e| format!("url: sqlite::memory: {e}"))?;
                        let worker = Arc::new(
                            Worker::start(conn, "memory").map_err(|e| format!("url: {e}"))?,
                        );
                        *shared = Arc::downgrade(&worker);
                        worker
                    }
                };
                (worker, None)
            }
            Location::File(path) => {
                create_file(path)
                    .map_err(|e| format!("url: cannot create {}: {e}", path.display()))?;
                let conn = open(&location, timeout)
                    .map_err(|e| format!("url: cannot open {}: {e}", path.display()))?;
                let worker = Arc::new(
                    Worker::start(conn, &path.display().to_string())
                        .map_err(|e| format!("url: {e}"))?,
                );
                (worker, Some(path.clone()))
            }
        };
        Ok(Self {
            worker,
            path,
            sql,
            name,
            timeout,
        })
    }

    fn fail(&self, op: &'static str, error: DbError) -> CacheError {
        to_cache_error(&self.name, op, self.timeout, &[], error)
    }

    /// Runs `work` on the connection's thread. A caller that stops waiting leaves it queued:
    /// skipped if it has not started, finished (and its answer dropped) if it has.
    async fn run<T, F>(&self, op: &'static str, kind: Kind, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Sql) -> std::result::Result<T, DbError> + Send + 'static,
    {
        let sql = Arc::clone(&self.sql);
        self.worker
            .run(kind, move |conn| work(conn, &sql))
            .await
            .map_err(|e| self.fail(op, e))
    }

    async fn read<T, F>(&self, op: &'static str, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Sql) -> std::result::Result<T, DbError> + Send + 'static,
    {
        self.run(op, Kind::Read, work).await
    }

    async fn write<T, F>(&self, op: &'static str, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Sql) -> std::result::Result<T, DbError> + Send + 'static,
    {
        self.run(op, Kind::Write, work).await
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn prepare(&self, create: bool) -> Result<Option<usize>> {
        let table = self.sql.table.clone();
        self.write("check table", move |conn, sql| {
            if create {
                conn.execute_batch(&sql.create_table)?;
                conn.execute_batch(&sql.create_index)?;
            }
            conn.prepare(&sql.probe)?;
            Ok(())
        })
        .await
        .map_err(|error| table_not_usable(&table, create, error))?;
        // SQLite's own limit (a billion bytes) is past anything a cache holds.
        Ok(None)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let owned = key.to_owned();
        let now = now_ms();
        let row = self
            .read("get", move |conn, sql| {
                let row = conn
                    .prepare_cached(&sql.get)?
                    .query_row(params![owned], |r| {
                        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Option<i64>>(1)?))
                    })
                    .optional()?;
                Ok(row)
            })
            .await?;
        match row {
            Some((value, at)) if !expired(at, now) => Ok(Some(value)),
            Some(_) => {
                let owned = key.to_owned();
                self.write("get", move |conn, sql| {
                    conn.prepare_cached(&sql.delete_expired)?
                        .execute(params![owned, now_ms()])?;
                    Ok(())
                })
                .await?;
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn get_many(&self, keys: &[&str]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH) {
            let owned: Vec<String> = chunk.iter().map(|k| (*k).to_owned()).collect();
            let now = now_ms();
            let rows = self
                .read("get_many", move |conn, sql| {
                    let mut stmt = conn.prepare(&sql.get_many(owned.len()))?;
                    let rows = stmt
                        .query_map(rusqlite::params_from_iter(owned.iter()), |r| {
                            Ok((
                                r.get::<_, String>(0)?,
                                r.get::<_, Vec<u8>>(1)?,
                                r.get::<_, Option<i64>>(2)?,
                            ))
                        })?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    Ok(rows)
                })
                .await?;
            let mut gone = Vec::new();
            for (key, value, at) in rows {
                if expired(at, now) {
                    gone.push(key);
                } else {
                    found.push((key.into_bytes(), value));
                }
            }
            if !gone.is_empty() {
                let gone: Vec<&str> = gone.iter().map(String::as_str).collect();
                self.delete_many(&gone).await?;
            }
        }
        Ok(found)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: TtlMs) -> Result<()> {
        let (key, value) = (key.to_owned(), value.to_vec());
        self.write("set", move |conn, sql| {
            conn.prepare_cached(&sql.set)?
                .execute(params![key, value, expires_at(ttl)])?;
            Ok(())
        })
        .await
    }

    async fn set_many(&self, items: &[(&str, &[u8])], ttl: TtlMs) -> Result<()> {
        let owned: Vec<(String, Vec<u8>)> = items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
            .collect();
        // One transaction for the whole batch.
        self.run("set_many", Kind::Atomic, move |conn, sql| {
            let mut stmt = conn.prepare_cached(&sql.set)?;
            let at = expires_at(ttl);
            for (key, value) in &owned {
                stmt.execute(params![key, value, at])?;
            }
            Ok(())
        })
        .await
    }

    async fn add(&self, key: &str, value: &[u8], ttl: TtlMs) -> Result<bool> {
        let (key, value) = (key.to_owned(), value.to_vec());
        self.write("add", move |conn, sql| {
            let now = now_ms();
            let at = ttl.map(|ms| now.saturating_add(ms));
            Ok(conn
                .prepare_cached(&sql.add)?
                .execute(params![key, value, at, now])?
                > 0)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let key = key.to_owned();
        self.write("delete", move |conn, sql| {
            let now = now_ms();
            let live = conn
                .prepare_cached(&sql.delete_live)?
                .execute(params![key, now])?;
            if live == 0 {
                conn.prepare_cached(&sql.delete_expired)?
                    .execute(params![key, now])?;
            }
            Ok(live > 0)
        })
        .await
    }

    async fn delete_many(&self, keys: &[&str]) -> Result<u64> {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        self.run("delete_many", Kind::Atomic, move |conn, sql| {
            let now = now_ms();
            let mut live = conn.prepare_cached(&sql.delete_live)?;
            let mut gone = 0;
            for key in &keys {
                let n = live.execute(params![key, now])?;
                if n == 0 {
                    conn.prepare_cached(&sql.delete_expired)?
                        .execute(params![key, now])?;
                }
                gone += n as u64;
            }
            Ok(gone)
        })
        .await
    }

    async fn incr(&self, user_key: &str, key: &str, delta: i64, ttl: TtlMs) -> Result<i64> {
        let (user_key, key) = (user_key.to_owned(), key.to_owned());
        // The writer runs one job at a time inside its transaction: the read and the write
        // below are atomic against every other writer of this database, in this process and
        // (through the transaction's lock) in others.
        self.run("incr", Kind::Atomic, move |conn, sql| {
            let now = now_ms();
            let row = conn
                .prepare_cached(&sql.get)?
                .query_row(params![key], |r| {
                    Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Option<i64>>(1)?))
                })
                .optional()?;
            let (next, at) = match &row {
                Some((value, at)) if !expired(*at, now) => {
                    match next_counter(&user_key, Some(value), delta) {
                        Ok(next) => (next, *at),
                        Err(error) => return Ok(Err(error)),
                    }
                }
                _ => (delta, ttl.map(|ms| now.saturating_add(ms))),
            };
            conn.prepare_cached(&sql.set)?.execute(params![
                key,
                format_counter(next).to_vec(),
                at
            ])?;
            Ok(Ok(next))
        })
        .await?
    }

    async fn ttl(&self, key: &str) -> Result<Option<TtlMs>> {
        let key = key.to_owned();
        self.read("ttl", move |conn, sql| {
            let now = now_ms();
            let at = conn
                .prepare_cached(&sql.expiry)?
                .query_row(params![key], |r| r.get::<_, Option<i64>>(0))
                .optional()?;
            Ok(match at {
                Some(at) if !expired(at, now) => Some(at.map(|at| at.saturating_sub(now))),
                _ => None,
            })
        })
        .await
    }

    async fn touch(&self, key: &str, ttl: TtlMs) -> Result<bool> {
        let key = key.to_owned();
        self.write("touch", move |conn, sql| {
            let now = now_ms();
            let at = ttl.map(|ms| now.saturating_add(ms));
            Ok(conn
                .prepare_cached(&sql.touch)?
                .execute(params![at, key, now])?
                > 0)
        })
        .await
    }

    async fn keys(&self, prefix: &str) -> Result<Vec<Vec<u8>>> {
        let prefix = prefix.to_owned();
        self.read("keys", move |conn, sql| {
            let mut stmt = conn.prepare_cached(&sql.keys)?;
            let keys = stmt
                .query_map(params![prefix, now_ms()], |r| r.get::<_, String>(0))?
                .map(|k| k.map(String::into_bytes))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(keys)
        })
        .await
    }

    async fn clear(&self, prefix: &str) -> Result<()> {
        let prefix = prefix.to_owned();
        self.write("clear", move |conn, sql| {
            conn.prepare_cached(&sql.clear)?.execute(params![prefix])?;
            Ok(())
        })
        .await
    }

    async fn cull(&self) -> Result<u64> {
        let mut total = 0;
        loop {
            let deleted = self
                .write("cull", move |conn, sql| {
                    Ok(conn.prepare_cached(&sql.cull)?.execute(params![now_ms()])? as u64)
                })
                .await?;
            total += deleted;
            if deleted < CULL_BATCH as u64 {
                break;
            }
        }
        if let Some(path) = self.path.clone() {
            // Outside any transaction, so on a connection of its own.
            let timeout = self.timeout;
            let checkpoint = tokio::task::spawn_blocking(move || -> rusqlite::Result<()> {
                let conn = open(&Location::File(path), timeout)?;
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            })
            .await;
            if let Ok(Err(error)) = checkpoint {
                tracing::debug!(cache = %self.name, %error, "WAL checkpoint did not complete");
            }
        }
        Ok(total)
    }

    async fn close(&self) -> Result<()> {
        // The connection closes with the last cache on it; until then it stays usable.
        Ok(())
    }
}
