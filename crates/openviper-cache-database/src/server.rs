//! The store of the server dialects, PostgreSQL and MySQL/MariaDB: diesel-async connections in
//! a deadpool pool, one statement per operation where the dialect allows it.
//!
//! A connection whose operation did not finish (the caller's timeout dropped it half way) or
//! that failed in a way that leaves its state unknown is discarded, never returned to the pool:
//! no later caller can read a reply meant for another, or inherit an open transaction.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use diesel::QueryResult;
use diesel_async::pooled_connection::deadpool::PoolError;
use openviper_cache_core::counter::{format_counter, next_counter};
use openviper_cache_core::{CacheError, Gauges, Result, async_trait};

use crate::errors::{Class, DbError, is_deadlock, to_cache_error};
use crate::sql::{Bind, KeyRow, KeyValueRow, NumberRow, Server, Statements, Stmt, ValueRow};
use crate::store::{BATCH, Store, TtlMs, table_not_usable};

/// How many times a statement MySQL picked as a deadlock victim is run again.
const DEADLOCK_RETRIES: usize = 5;
/// What a statement needs besides its keys and values: its text and the other parameters.
const STATEMENT_ROOM: usize = 8 * 1024;
/// How many times `incr` looks again for a row another writer inserted first.
const INCR_ATTEMPTS: usize = 8;

/// One diesel-async connection type and its pool: the calls the store makes, so that the rest
/// of this module is written once for both dialects.
pub(crate) trait Driver: Send + Sync + 'static {
    type Conn: Send + 'static;
    /// A connection checked out of the pool: back to the pool when dropped.
    type Object: std::ops::DerefMut<Target = Self::Conn> + Send + 'static;
    type Pool: Send + Sync + 'static;
    fn checkout(
        pool: &Self::Pool,
    ) -> impl Future<Output = std::result::Result<Self::Object, PoolError>> + Send;
    /// Drops `object` without giving it back to the pool.
    fn discard(object: Self::Object);
    fn execute<'a>(
        conn: &'a mut Self::Conn,
        stmt: Stmt<'a>,
    ) -> impl Future<Output = QueryResult<usize>> + Send + 'a;
    fn values<'a>(
        conn: &'a mut Self::Conn,
        stmt: Stmt<'a>,
    ) -> impl Future<Output = QueryResult<Vec<ValueRow>>> + Send + 'a;
    fn key_values<'a>(
        conn: &'a mut Self::Conn,
        stmt: Stmt<'a>,
    ) -> impl Future<Output = QueryResult<Vec<KeyValueRow>>> + Send + 'a;
    fn keys<'a>(
        conn: &'a mut Self::Conn,
        stmt: Stmt<'a>,
    ) -> impl Future<Output = QueryResult<Vec<KeyRow>>> + Send + 'a;
    fn numbers<'a>(
        conn: &'a mut Self::Conn,
        stmt: Stmt<'a>,
    ) -> impl Future<Output = QueryResult<Vec<NumberRow>>> + Send + 'a;
    fn begin(conn: &mut Self::Conn) -> impl Future<Output = QueryResult<()>> + Send;
    fn commit(conn: &mut Self::Conn) -> impl Future<Output = QueryResult<()>> + Send;
    fn rollback(conn: &mut Self::Conn) -> impl Future<Output = QueryResult<()>> + Send;
    /// Closes the idle connections; the pool stays usable, so a later call reconnects.
    fn close(pool: &Self::Pool);
    /// The connections open, and those checked out now.
    fn in_use(pool: &Self::Pool) -> (usize, usize);
}

/// Implements [`Driver`] for a diesel-async connection type; the bodies are the same, the
/// types (and so diesel's trait bounds) differ.
macro_rules! diesel_driver {
    ($driver:ident, $conn:ty) => {
        pub(crate) struct $driver;

        impl $crate::server::Driver for $driver {
            type Conn = $conn;
            type Object = diesel_async::pooled_connection::deadpool::Object<$conn>;
            type Pool = diesel_async::pooled_connection::deadpool::Pool<$conn>;

            fn discard(object: Self::Object) {
                drop(diesel_async::pooled_connection::deadpool::Object::take(object));
            }

            async fn checkout(
                pool: &Self::Pool,
            ) -> std::result::Result<
                diesel_async::pooled_connection::deadpool::Object<$conn>,
                diesel_async::pooled_connection::deadpool::PoolError,
            > {
                pool.get().await
            }
            fn execute<'a>(conn: &'a mut $conn, stmt: $crate::sql::Stmt<'a>) -> impl std::future::Future<Output = diesel::QueryResult<usize>> + Send + 'a {
                diesel_async::RunQueryDsl::execute(stmt, conn)
            }
            fn values<'a>(conn: &'a mut $conn, stmt: $crate::sql::Stmt<'a>) -> impl std::future::Future<Output = diesel::QueryResult<Vec<$crate::sql::ValueRow>>> + Send + 'a {
                diesel_async::RunQueryDsl::load(stmt, conn)
            }
            fn key_values<'a>(conn: &'a mut $conn, stmt: $crate::sql::Stmt<'a>) -> impl std::future::Future<Output = diesel::QueryResult<Vec<$crate::sql::KeyValueRow>>> + Send + 'a {
                diesel_async::RunQueryDsl::load(stmt, conn)
            }
            fn keys<'a>(conn: &'a mut $conn, stmt: $crate::sql::Stmt<'a>) -> impl std::future::Future<Output = diesel::QueryResult<Vec<$crate::sql::KeyRow>>> + Send + 'a {
                diesel_async::RunQueryDsl::load(stmt, conn)
            }
            fn numbers<'a>(conn: &'a mut $conn, stmt: $crate::sql::Stmt<'a>) -> impl std::future::Future<Output = diesel::QueryResult<Vec<$crate::sql::NumberRow>>> + Send + 'a {
                diesel_async::RunQueryDsl::load(stmt, conn)
            }
            async fn begin(conn: &mut $conn) -> diesel::QueryResult<()> {
                <diesel_async::AnsiTransactionManager as diesel_async::TransactionManager<$conn>>::begin_transaction(conn).await
            }
            async fn commit(conn: &mut $conn) -> diesel::QueryResult<()> {
                <diesel_async::AnsiTransactionManager as diesel_async::TransactionManager<$conn>>::commit_transaction(conn).await
            }
            async fn rollback(conn: &mut $conn) -> diesel::QueryResult<()> {
                <diesel_async::AnsiTransactionManager as diesel_async::TransactionManager<$conn>>::rollback_transaction(conn).await
            }
            fn close(pool: &Self::Pool) {
                pool.retain(|_, _| false);
            }
            fn in_use(pool: &Self::Pool) -> (usize, usize) {
                let status = pool.status();
                (status.size, status.size.saturating_sub(status.available))
            }
        }
    };
}
pub(crate) use diesel_driver;

/// A pooled connection that goes back to the pool only when [`Lease::release`] says its state
/// is known; dropped any other way (a cancelled or failed operation), it is discarded.
struct Lease<D: Driver> {
    conn: Option<D::Object>,
}

impl<D: Driver> Lease<D> {
    /// The connection; `Err` only if the lease was already given back, which the store never
    /// does before its last use.
    fn conn(&mut self) -> QueryResult<&mut D::Conn> {
        self.conn
            .as_deref_mut()
            .ok_or(diesel::result::Error::BrokenTransactionManager)
    }

    fn release(mut self) {
        drop(self.conn.take());
    }
}

impl<D: Driver> Drop for Lease<D> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            D::discard(conn);
        }
    }
}

/// The server dialects' [`Store`].
pub(crate) struct ServerStore<D: Driver> {
    pool: D::Pool,
    sql: Statements,
    name: String,
    timeout: Duration,
    secrets: Vec<String>,
    /// The most bytes of keys and values one statement carries: MySQL's `max_allowed_packet`
    /// less room for the statement's own text, read by `prepare`.
    statement_bytes: OnceLock<usize>,
}

impl<D: Driver> ServerStore<D> {
    pub(crate) fn new(
        pool: D::Pool,
        sql: Statements,
        name: String,
        timeout: Duration,
        secrets: Vec<String>,
    ) -> Self {
        Self {
            pool,
            sql,
            name,
            timeout,
            secrets,
            statement_bytes: OnceLock::new(),
        }
    }

    fn fail(&self, op: &'static str, error: DbError) -> CacheError {
        to_cache_error(&self.name, op, self.timeout, &self.secrets, error)
    }

    async fn lease(&self, op: &'static str) -> Result<Lease<D>> {
        let conn = D::checkout(&self.pool)
            .await
            .map_err(|e| self.fail(op, e.into()))?;
        Ok(Lease { conn: Some(conn) })
    }

    /// The lease back to the pool when `answer` leaves it usable, and `answer` as `Result`.
    fn settle<T>(&self, op: &'static str, lease: Lease<D>, answer: QueryResult<T>) -> Result<T> {
        match answer {
            Ok(value) => {
                lease.release();
                Ok(value)
            }
            Err(error) => {
                let error = DbError::from(error);
                if error.class() == Class::Refused {
                    lease.release();
                }
                Err(self.fail(op, error))
            }
        }
    }

    /// `key`'s row, if any: its value, and whether it has expired.
    async fn row(&self, op: &'static str, key: &str) -> Result<Option<ValueRow>> {
        let mut lease = self.lease(op).await?;
        let binds = [Bind::Text(key)];
        let stmt = Stmt::cached(&self.sql.get, &binds);
        let answer = async { D::values(lease.conn()?, stmt).await }.await;
        Ok(self.settle(op, lease, answer)?.into_iter().next())
    }

    async fn execute(&self, op: &'static str, stmt: Stmt<'_>) -> Result<usize> {
        let mut lease = self.lease(op).await?;
        let answer = async { D::execute(lease.conn()?, stmt).await }.await;
        self.settle(op, lease, answer)
    }

    /// `execute`, run again when MySQL picked it as a deadlock victim.
    async fn execute_retrying(&self, op: &'static str, stmt: Stmt<'_>) -> Result<usize> {
        let mut attempt = 0;
        loop {
            let mut lease = self.lease(op).await?;
            let answer = async { D::execute(lease.conn()?, stmt).await }.await;
            match answer {
                Err(error) if attempt < DEADLOCK_RETRIES && is_deadlock(&error) => {
                    lease.release();
                    attempt += 1;
                }
                answer => return self.settle(op, lease, answer),
            }
        }
    }

    /// Runs `incr`'s read-modify-write once, in a transaction on `lease`, the row locked.
    async fn incr_once(
        &self,
        conn: &mut D::Conn,
        user_key: &str,
        key: &str,
        delta: i64,
        ttl: TtlMs,
    ) -> std::result::Result<i64, IncrError> {
        D::begin(conn).await?;
        let result = self.incr_locked(conn, user_key, key, delta, ttl).await;
        match result {
            Ok(value) => {
                D::commit(conn).await?;
                Ok(value)
            }
            Err(error) => {
                D::rollback(conn).await?;
                Err(error)
            }
        }
    }

    async fn incr_locked(
        &self,
        conn: &mut D::Conn,
        user_key: &str,
        key: &str,
        delta: i64,
        ttl: TtlMs,
    ) -> std::result::Result<i64, IncrError> {
        for _ in 0..INCR_ATTEMPTS {
            let rows = D::values(conn, Stmt::cached(&self.sql.lock, &[Bind::Text(key)])).await?;
            match rows.first() {
                Some(row) if row.expired == 0 => {
                    let next = next_counter(user_key, Some(&row.value), delta)
                        .map_err(IncrError::Cache)?;
                    let text = format_counter(next);
                    D::execute(
                        conn,
                        Stmt::cached(
                            &self.sql.update_value,
                            &[Bind::Bytes(&text), Bind::Text(key)],
                        ),
                    )
                    .await?;
                    return Ok(next);
                }
                Some(_) => {
                    let text = format_counter(delta);
                    D::execute(
                        conn,
                        Stmt::cached(
                            &self.sql.set,
                            &[Bind::Text(key), Bind::Bytes(&text), Bind::Millis(ttl)],
                        ),
                    )
                    .await?;
                    return Ok(delta);
                }
                None => {
                    let text = format_counter(delta);
                    let inserted = D::execute(
                        conn,
                        Stmt::cached(
                            &self.sql.insert_absent,
                            &[Bind::Text(key), Bind::Bytes(&text), Bind::Millis(ttl)],
                        ),
                    )
                    .await?;
                    if inserted == 1 {
                        return Ok(delta);
                    }
                    // Another writer inserted the row first: lock it and count on it.
                }
            }
        }
        Err(IncrError::Cache(CacheError::backend(
            self.name.clone(),
            "incr",
            format!("key {user_key:?} kept changing under {INCR_ATTEMPTS} attempts"),
        )))
    }
}

/// Why one `incr` attempt ended without a value.
enum IncrError {
    Query(diesel::result::Error),
    Cache(CacheError),
}

impl From<diesel::result::Error> for IncrError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Query(error)
    }
}

fn ttl_bind(ttl: TtlMs) -> Bind<'static> {
    Bind::Millis(ttl)
}

#[async_trait]
impl<D: Driver> Store for ServerStore<D> {
    async fn prepare(&self, create: bool) -> Result<Option<usize>> {
        if create {
            for sql in [&self.sql.create_table, &self.sql.create_index] {
                if sql.is_empty() {
                    continue;
                }
                // Two sessions creating the same table at once can both pass PostgreSQL's
                // `IF NOT EXISTS`, and the later one fails on the catalog's unique index
                // (`pg_type_typname_nsp_index`); the table exists by then, so once more is a
                // no-op. A real fault fails again, and that error is returned.
                if self
                    .execute("create table", Stmt::once(sql, &[]))
                    .await
                    .is_err()
                {
                    self.execute("create table", Stmt::once(sql, &[])).await?;
                }
            }
        }
        self.execute("check table", Stmt::once(&self.sql.probe, &[]))
            .await
            .map_err(|error| table_not_usable(&self.sql.table, create, error))?;
        let Some(packet_size) = self.sql.packet_size else {
            return Ok(None);
        };
        let mut lease = self.lease("check table").await?;
        let answer = async { D::numbers(lease.conn()?, Stmt::once(packet_size, &[])).await }.await;
        let packet = self
            .settle("check table", lease, answer)?
            .first()
            .map_or(0, |row| usize::try_from(row.n).unwrap_or(0));
        // A value travels with its key, the other parameters and the statement's text.
        let largest = packet.saturating_sub(STATEMENT_ROOM);
        let _ = self.statement_bytes.set(largest);
        Ok(Some(largest))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match self.row("get", key).await? {
            Some(row) if row.expired == 0 => Ok(Some(row.value)),
            Some(_) => {
                self.execute(
                    "get",
                    Stmt::cached(&self.sql.delete_expired, &[Bind::Text(key)]),
                )
                .await?;
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn get_many(&self, keys: &[&str]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH) {
            let sql = self.sql.get_many(chunk.len());
            let binds: Vec<Bind<'_>> = chunk.iter().map(|k| Bind::Text(k)).collect();
            let mut lease = self.lease("get_many").await?;
            let answer =
                async { D::key_values(lease.conn()?, Stmt::once(&sql, &binds)).await }.await;
            let rows = self.settle("get_many", lease, answer)?;
            let mut any_expired = false;
            for row in rows {
                if row.expired == 0 {
                    found.push((row.key, row.value));
                } else {
                    any_expired = true;
                }
            }
            if any_expired {
                let sql = self.sql.delete_many_expired(chunk.len());
                self.execute("get_many", Stmt::once(&sql, &binds)).await?;
            }
        }
        Ok(found)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: TtlMs) -> Result<()> {
        let binds = [Bind::Text(key), Bind::Bytes(value), ttl_bind(ttl)];
        self.execute_retrying("set", Stmt::cached(&self.sql.set, &binds))
            .await
            .map(drop)
    }

    async fn set_many(&self, items: &[(&str, &[u8])], ttl: TtlMs) -> Result<()> {
        // At most BATCH rows, and no more bytes than one statement may carry.
        let budget = self.statement_bytes.get().copied().unwrap_or(usize::MAX);
        let mut rest = items;
        while !rest.is_empty() {
            let mut rows = 0;
            let mut bytes = 0;
            for (key, value) in rest.iter().take(BATCH) {
                bytes += key.len() + value.len();
                if rows > 0 && bytes > budget {
                    break;
                }
                rows += 1;
            }
            let (chunk, after) = rest.split_at(rows);
            rest = after;
            let sql = self.sql.set_many(chunk.len());
            let binds: Vec<Bind<'_>> = chunk
                .iter()
                .flat_map(|(k, v)| [Bind::Text(k), Bind::Bytes(v), ttl_bind(ttl)])
                .collect();
            self.execute_retrying("set_many", Stmt::once(&sql, &binds))
                .await?;
        }
        Ok(())
    }

    async fn add(&self, key: &str, value: &[u8], ttl: TtlMs) -> Result<bool> {
        let binds = [Bind::Text(key), Bind::Bytes(value), ttl_bind(ttl)];
        Ok(self
            .execute_retrying("add", Stmt::cached(&self.sql.add, &binds))
            .await?
            > 0)
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let live = self
            .execute(
                "delete",
                Stmt::cached(&self.sql.delete_live, &[Bind::Text(key)]),
            )
            .await?;
        if live == 0 {
            self.execute(
                "delete",
                Stmt::cached(&self.sql.delete_expired, &[Bind::Text(key)]),
            )
            .await?;
        }
        Ok(live > 0)
    }

    async fn delete_many(&self, keys: &[&str]) -> Result<u64> {
        let mut deleted = 0;
        for chunk in keys.chunks(BATCH) {
            let binds: Vec<Bind<'_>> = chunk.iter().map(|k| Bind::Text(k)).collect();
            let live = self.sql.delete_many_live(chunk.len());
            deleted += self
                .execute("delete_many", Stmt::once(&live, &binds))
                .await? as u64;
            let expired = self.sql.delete_many_expired(chunk.len());
            self.execute("delete_many", Stmt::once(&expired, &binds))
                .await?;
        }
        Ok(deleted)
    }

    async fn incr(&self, user_key: &str, key: &str, delta: i64, ttl: TtlMs) -> Result<i64> {
        let mut attempt = 0;
        loop {
            let mut lease = self.lease("incr").await?;
            let answer = match lease.conn() {
                Ok(conn) => self.incr_once(conn, user_key, key, delta, ttl).await,
                Err(error) => Err(IncrError::Query(error)),
            };
            match answer {
                Ok(value) => {
                    lease.release();
                    return Ok(value);
                }
                Err(IncrError::Cache(error)) => {
                    lease.release();
                    return Err(error);
                }
                Err(IncrError::Query(error)) => {
                    let deadlock = is_deadlock(&error);
                    if deadlock && attempt < DEADLOCK_RETRIES {
                        // The transaction was rolled back by the server; the connection is
                        // fine once the transaction manager agrees.
                        attempt += 1;
                        if let Ok(conn) = lease.conn()
                            && D::rollback(conn).await.is_ok()
                        {
                            lease.release();
                        }
                        continue;
                    }
                    // A failed statement inside the transaction: its state is unknown.
                    return Err(self.fail("incr", error.into()));
                }
            }
        }
    }

    async fn ttl(&self, key: &str) -> Result<Option<TtlMs>> {
        let mut lease = self.lease("ttl").await?;
        let binds = [Bind::Text(key)];
        let stmt = Stmt::cached(&self.sql.ttl, &binds);
        let answer = async { D::numbers(lease.conn()?, stmt).await }.await;
        let rows = self.settle("ttl", lease, answer)?;
        Ok(rows.first().map(|row| (row.n >= 0).then_some(row.n)))
    }

    async fn touch(&self, key: &str, ttl: TtlMs) -> Result<bool> {
        let binds = [ttl_bind(ttl), Bind::Text(key)];
        if self
            .execute("touch", Stmt::cached(&self.sql.touch, &binds))
            .await?
            > 0
        {
            return Ok(true);
        }
        // MySQL counts changed rows: a live row whose expiry was already this one counts 0.
        if self.sql.server == Server::Mysql {
            let row = self.row("touch", key).await?;
            return Ok(row.is_some_and(|row| row.expired == 0));
        }
        Ok(false)
    }

    async fn keys(&self, prefix: &str) -> Result<Vec<Vec<u8>>> {
        let pattern = Statements::like_prefix(prefix);
        let mut lease = self.lease("keys").await?;
        let answer = async {
            D::keys(
                lease.conn()?,
                Stmt::cached(&self.sql.keys, &[Bind::Text(&pattern)]),
            )
            .await
        }
        .await;
        Ok(self
            .settle("keys", lease, answer)?
            .into_iter()
            .map(|row| row.key)
            .collect())
    }

    async fn clear(&self, prefix: &str) -> Result<()> {
        let pattern = Statements::like_prefix(prefix);
        self.execute(
            "clear",
            Stmt::cached(&self.sql.clear, &[Bind::Text(&pattern)]),
        )
        .await
        .map(drop)
    }

    async fn cull(&self) -> Result<u64> {
        let mut total = 0;
        loop {
            let deleted = self
                .execute("cull", Stmt::cached(&self.sql.cull, &[]))
                .await?;
            total += deleted as u64;
            if (deleted as i64) < crate::store::CULL_BATCH {
                return Ok(total);
            }
        }
    }

    async fn close(&self) -> Result<()> {
        D::close(&self.pool);
        Ok(())
    }

    fn gauges(&self) -> Gauges {
        let (open, in_use) = D::in_use(&self.pool);
        Gauges::default().with_connections(open as u64, Some(in_use as u64))
    }
}
