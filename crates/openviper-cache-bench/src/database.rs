//! DatabaseCache beside the raw driver beneath each dialect, running the same statements on the
//! same table layout with the same pool size: tokio-postgres in a deadpool pool with the
//! statements prepared once per connection, mysql_async connections in a deadpool pool
//! (statements cached), and rusqlite connections on tokio's blocking pool (WAL,
//! `synchronous = NORMAL`, each write its own transaction, as an application would write them).

use std::sync::{Arc, Mutex};

use deadpool::managed::{self, Metrics, RecycleResult};
use mysql_async::prelude::Queryable;
use tokio::sync::Semaphore;

use openviper_cache_workload::Target;

/// The PostgreSQL table of the raw rows: DatabaseCache's layout.
pub(crate) const POSTGRES_TABLE: &str = "CREATE TABLE IF NOT EXISTS bench_raw (\"key\" TEXT COLLATE \"C\" NOT NULL PRIMARY KEY, \"value\" BYTEA NOT NULL, \"expires_at\" TIMESTAMPTZ NULL)";
const POSTGRES_GET: &str = "SELECT \"value\", CAST(CASE WHEN (\"expires_at\" IS NOT NULL AND \"expires_at\" <= now()) THEN 1 ELSE 0 END AS BIGINT) AS expired FROM bench_raw WHERE \"key\" = $1";
const POSTGRES_SET: &str = "INSERT INTO bench_raw (\"key\", \"value\", \"expires_at\") VALUES ($1, $2, (now() + CAST($3 AS float8) * interval '1 millisecond')) ON CONFLICT (\"key\") DO UPDATE SET \"value\" = EXCLUDED.\"value\", \"expires_at\" = EXCLUDED.\"expires_at\"";

/// A tokio-postgres connection and its two prepared statements.
pub(crate) struct PgConn {
    client: tokio_postgres::Client,
    get: tokio_postgres::Statement,
    set: tokio_postgres::Statement,
}

pub(crate) struct PgManager {
    url: String,
}

impl managed::Manager for PgManager {
    type Type = PgConn;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> Result<PgConn, tokio_postgres::Error> {
        let (client, connection) =
            tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        let get = client.prepare(POSTGRES_GET).await?;
        let set = client.prepare(POSTGRES_SET).await?;
        Ok(PgConn { client, get, set })
    }

    async fn recycle(
        &self,
        conn: &mut PgConn,
        _: &Metrics,
    ) -> RecycleResult<tokio_postgres::Error> {
        if conn.client.is_closed() {
            return Err(managed::RecycleError::message("closed"));
        }
        Ok(())
    }
}

/// Raw tokio-postgres: the statements DatabaseCache runs, on a pool of the same size.
pub(crate) struct RawPostgres {
    pool: managed::Pool<PgManager>,
    value: Vec<u8>,
}

impl RawPostgres {
    pub(crate) async fn connect(url: &str, pool_size: usize, value: &str) -> Result<Self, String> {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        client
            .batch_execute(&format!("DROP TABLE IF EXISTS bench_raw; {POSTGRES_TABLE}"))
            .await
            .map_err(|e| e.to_string())?;
        let pool = managed::Pool::builder(PgManager {
            url: url.to_owned(),
        })
        .max_size(pool_size)
        .build()
        .map_err(|e| e.to_string())?;
        Ok(Self {
            pool,
            value: value.as_bytes().to_vec(),
        })
    }
}

impl Target for RawPostgres {
    async fn get(&self, key: &str) -> Result<bool, String> {
        let conn = self.pool.get().await.map_err(|e| e.to_string())?;
        let rows = conn
            .client
            .query(&conn.get, &[&key])
            .await
            .map_err(|e| e.to_string())?;
        Ok(rows.first().is_some_and(|row| row.get::<_, i64>(1) == 0))
    }
    async fn set(&self, key: &str, _value: &str) -> Result<(), String> {
        let conn = self.pool.get().await.map_err(|e| e.to_string())?;
        // `CAST($3 AS float8)`: the statement's parameter is a float8.
        let ttl: Option<f64> = None;
        conn.client
            .execute(&conn.set, &[&key, &self.value, &ttl])
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

const MYSQL_TABLE: &str = "CREATE TABLE IF NOT EXISTS bench_raw (`key` VARBINARY(2048) NOT NULL PRIMARY KEY, `value` LONGBLOB NOT NULL, `expires_at` DATETIME(6) NULL, INDEX bench_raw_expires_at (`expires_at`)) ENGINE=InnoDB";
const MYSQL_GET: &str = "SELECT `value`, CAST(CASE WHEN (`expires_at` IS NOT NULL AND `expires_at` <= UTC_TIMESTAMP(6)) THEN 1 ELSE 0 END AS SIGNED) AS expired FROM bench_raw WHERE `key` = ?";
const MYSQL_SET: &str = "INSERT INTO bench_raw (`key`, `value`, `expires_at`) VALUES (?, ?, (UTC_TIMESTAMP(6) + INTERVAL (? * 1000) MICROSECOND)) ON DUPLICATE KEY UPDATE `value` = VALUES(`value`), `expires_at` = VALUES(`expires_at`)";

pub(crate) struct MysqlManager {
    opts: mysql_async::Opts,
}

impl managed::Manager for MysqlManager {
    type Type = mysql_async::Conn;
    type Error = mysql_async::Error;

    async fn create(&self) -> Result<mysql_async::Conn, mysql_async::Error> {
        mysql_async::Conn::new(self.opts.clone()).await
    }

    async fn recycle(
        &self,
        _: &mut mysql_async::Conn,
        _: &Metrics,
    ) -> RecycleResult<mysql_async::Error> {
        Ok(())
    }
}

/// Raw mysql_async: connections (statements cached by mysql_async) in a deadpool pool of the
/// same size, recycled without a round trip, as DatabaseCache's are.
pub(crate) struct RawMysql {
    pool: managed::Pool<MysqlManager>,
    value: Vec<u8>,
}

impl RawMysql {
    pub(crate) async fn connect(url: &str, pool_size: usize, value: &str) -> Result<Self, String> {
        let opts = mysql_async::Opts::from_url(url).map_err(|e| e.to_string())?;
        let mut conn = mysql_async::Conn::new(opts.clone())
            .await
            .map_err(|e| e.to_string())?;
        conn.query_drop("DROP TABLE IF EXISTS bench_raw")
            .await
            .map_err(|e| e.to_string())?;
        conn.query_drop(MYSQL_TABLE)
            .await
            .map_err(|e| e.to_string())?;
        let pool = managed::Pool::builder(MysqlManager { opts })
            .max_size(pool_size)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            pool,
            value: value.as_bytes().to_vec(),
        })
    }
}

impl Target for RawMysql {
    async fn get(&self, key: &str) -> Result<bool, String> {
        let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
        let row: Option<(Vec<u8>, i64)> = conn
            .exec_first(MYSQL_GET, (key,))
            .await
            .map_err(|e| e.to_string())?;
        Ok(row.is_some_and(|(_, expired)| expired == 0))
    }
    async fn set(&self, key: &str, _value: &str) -> Result<(), String> {
        let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
        let ttl: Option<i64> = None;
        conn.exec_drop(MYSQL_SET, (key, &self.value, ttl))
            .await
            .map_err(|e| e.to_string())
    }
}

const SQLITE_TABLE: &str = "CREATE TABLE IF NOT EXISTS bench_raw (\"key\" TEXT NOT NULL PRIMARY KEY, \"value\" BLOB NOT NULL, \"expires_at\" INTEGER) WITHOUT ROWID";
const SQLITE_GET: &str = "SELECT \"value\", \"expires_at\" FROM bench_raw WHERE \"key\" = ?1";
const SQLITE_SET: &str = "INSERT INTO bench_raw (\"key\", \"value\", \"expires_at\") VALUES (?1, ?2, ?3) ON CONFLICT (\"key\") DO UPDATE SET \"value\" = excluded.\"value\", \"expires_at\" = excluded.\"expires_at\"";

/// Raw rusqlite: `pool_size` connections, each operation on tokio's blocking pool.
pub(crate) struct RawSqlite {
    idle: Arc<Mutex<Vec<rusqlite::Connection>>>,
    permits: Arc<Semaphore>,
    value: Arc<Vec<u8>>,
}

impl RawSqlite {
    pub(crate) fn open(
        path: &std::path::Path,
        pool_size: usize,
        value: &str,
    ) -> Result<Self, String> {
        let mut idle = Vec::new();
        for _ in 0..pool_size {
            let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .map_err(|e| e.to_string())?;
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(|e| e.to_string())?;
            conn.pragma_update(None, "synchronous", "NORMAL")
                .map_err(|e| e.to_string())?;
            conn.execute_batch(SQLITE_TABLE)
                .map_err(|e| e.to_string())?;
            idle.push(conn);
        }
        Ok(Self {
            idle: Arc::new(Mutex::new(idle)),
            permits: Arc::new(Semaphore::new(pool_size)),
            value: Arc::new(value.as_bytes().to_vec()),
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, String> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let idle = Arc::clone(&self.idle);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = idle
                .lock()
                .map_err(|e| e.to_string())?
                .pop()
                .ok_or("no idle connection")?;
            let answer = work(&conn).map_err(|e| e.to_string());
            idle.lock().map_err(|e| e.to_string())?.push(conn);
            answer
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

impl Target for RawSqlite {
    async fn get(&self, key: &str) -> Result<bool, String> {
        let key = key.to_owned();
        self.with(move |conn| {
            use rusqlite::OptionalExtension;
            conn.prepare_cached(SQLITE_GET)?
                .query_row([&key], |r| r.get::<_, Vec<u8>>(0))
                .optional()
                .map(|v| v.is_some())
        })
        .await
    }
    async fn set(&self, key: &str, _value: &str) -> Result<(), String> {
        let (key, value) = (key.to_owned(), Arc::clone(&self.value));
        self.with(move |conn| {
            conn.prepare_cached(SQLITE_SET)?
                .execute(rusqlite::params![key, &*value, None::<i64>])
                .map(drop)
        })
        .await
    }
}
