//! The statements of the server dialects (PostgreSQL, MySQL/MariaDB), built once per table,
//! and the query type that runs them through diesel with bound parameters.
//!
//! The table name is the only text put into a statement, after `validate_table_name`; every
//! key, value, prefix and TTL is a bound parameter. Time is the server's own UTC clock
//! (`now()`, `UTC_TIMESTAMP(6)`), so every client of one database agrees on what has expired,
//! whatever its clock or the server's time zone.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Binary, HasSqlType, Nullable, Text, Untyped};
use diesel::{QueryResult, QueryableByName};

use crate::options::KEY_COLUMN_BYTES;

use crate::store::CULL_BATCH;

/// A server dialect's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Server {
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Postgres,
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    Mysql,
}

impl Server {
    fn quote(self, ident: &str) -> String {
        match self {
            Self::Postgres => format!("\"{ident}\""),
            Self::Mysql => format!("`{ident}`"),
        }
    }
    fn placeholder(self, n: usize) -> String {
        match self {
            Self::Postgres => format!("${n}"),
            Self::Mysql => "?".to_owned(),
        }
    }
    /// The server's clock, in UTC.
    fn now(self) -> &'static str {
        match self {
            Self::Postgres => "now()",
            Self::Mysql => "UTC_TIMESTAMP(6)",
        }
    }
    /// `now` plus the milliseconds bound at `p` (NULL: never expires).
    fn expires(self, p: &str) -> String {
        match self {
            Self::Postgres => format!("(now() + CAST({p} AS float8) * interval '1 millisecond')"),
            Self::Mysql => format!("(UTC_TIMESTAMP(6) + INTERVAL ({p} * 1000) MICROSECOND)"),
        }
    }
    /// Whole milliseconds from now until the timestamp `expr` (NULL stays NULL).
    fn ms_until(self, expr: &str) -> String {
        match self {
            Self::Postgres => format!("FLOOR(EXTRACT(EPOCH FROM ({expr} - now())) * 1000)"),
            Self::Mysql => {
                format!("(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), {expr}) DIV 1000)")
            }
        }
    }
    fn as_bigint(self, expr: &str) -> String {
        match self {
            Self::Postgres => format!("CAST({expr} AS BIGINT)"),
            Self::Mysql => format!("CAST({expr} AS SIGNED)"),
        }
    }
}

/// The statements of one table, with placeholders in bind order.
#[derive(Debug)]
pub(crate) struct Statements {
    pub(crate) server: Server,
    pub(crate) table: String,
    pub(crate) create_table: String,
    pub(crate) create_index: String,
    pub(crate) probe: String,
    /// () -> the largest packet the server reads (MySQL only)
    pub(crate) packet_size: Option<&'static str>,
    /// (key) -> value, expired
    pub(crate) get: String,
    /// (key) -> value, expired, locking the row
    pub(crate) lock: String,
    /// (key, value, ttl_ms)
    pub(crate) set: String,
    /// (key, value, ttl_ms): 1 row when stored, 0 when a live row was there
    pub(crate) add: String,
    /// (key, value, ttl_ms): 1 row when inserted, 0 when a row was there
    pub(crate) insert_absent: String,
    /// (value, key)
    pub(crate) update_value: String,
    /// (ttl_ms, key): 1 row when the key was live
    pub(crate) touch: String,
    /// (key) -> ms left of a live row, -1 for no expiry
    pub(crate) ttl: String,
    /// (key): 1 row when the key was live
    pub(crate) delete_live: String,
    /// (key)
    pub(crate) delete_expired: String,
    /// (like pattern) -> key bytes
    pub(crate) keys: String,
    /// (like pattern)
    pub(crate) clear: String,
    /// ()
    pub(crate) cull: String,
    quoted_table: String,
    live: String,
    expired: String,
    key: String,
    value: String,
    expires_at: String,
}

impl Statements {
    /// The statements for `table` (already validated) in `server`'s dialect.
    pub(crate) fn new(server: Server, table: &str) -> Self {
        let q = |ident: &str| server.quote(ident);
        let p = |n: usize| server.placeholder(n);
        let (t, key, value, expires_at) = (q(table), q("key"), q("value"), q("expires_at"));
        let now = server.now();
        let expired = format!("({expires_at} IS NOT NULL AND {expires_at} <= {now})");
        let live = format!("({expires_at} IS NULL OR {expires_at} > {now})");
        let expired_flag = server.as_bigint(&format!("CASE WHEN {expired} THEN 1 ELSE 0 END"));
        let index = q(&format!("{table}_expires_at"));
        let (create_table, create_index) = match server {
            Server::Postgres => (
                format!(
                    "CREATE TABLE IF NOT EXISTS {t} ({key} TEXT COLLATE \"C\" NOT NULL PRIMARY KEY, \
                     {value} BYTEA NOT NULL, {expires_at} TIMESTAMPTZ NULL)"
                ),
                format!("CREATE INDEX IF NOT EXISTS {index} ON {t} ({expires_at})"),
            ),
            Server::Mysql => (
                format!(
                    "CREATE TABLE IF NOT EXISTS {t} ({key} VARBINARY({KEY_COLUMN_BYTES}) NOT NULL PRIMARY KEY, \
                     {value} LONGBLOB NOT NULL, {expires_at} DATETIME(6) NULL, INDEX {index} ({expires_at})) \
                     ENGINE=InnoDB"
                ),
                String::new(),
            ),
        };
        let insert = format!(
            "INSERT INTO {t} ({key}, {value}, {expires_at}) VALUES ({}, {}, {})",
            p(1),
            p(2),
            server.expires(&p(3))
        );
        let (set, add, insert_absent) = match server {
            Server::Postgres => (
                format!(
                    "{insert} ON CONFLICT ({key}) DO UPDATE SET {value} = EXCLUDED.{value}, \
                     {expires_at} = EXCLUDED.{expires_at}"
                ),
                format!(
                    "{insert} ON CONFLICT ({key}) DO UPDATE SET {value} = EXCLUDED.{value}, \
                     {expires_at} = EXCLUDED.{expires_at} WHERE {t}.{expires_at} IS NOT NULL AND {t}.{expires_at} <= now()"
                ),
                format!("{insert} ON CONFLICT ({key}) DO NOTHING"),
            ),
            // MariaDB 10.11 has no `AS new` row alias: VALUES() names the inserted row. The
            // connection does not report found rows, so a no-op update counts 0 rows.
            Server::Mysql => (
                format!(
                    "{insert} ON DUPLICATE KEY UPDATE {value} = VALUES({value}), {expires_at} = VALUES({expires_at})"
                ),
                // `expires_at` is assigned last: both conditions read the row's old expiry.
                format!(
                    "{insert} ON DUPLICATE KEY UPDATE {value} = IF({expired}, VALUES({value}), {value}), \
                     {expires_at} = IF({expired}, VALUES({expires_at}), {expires_at})"
                ),
                format!("{insert} ON DUPLICATE KEY UPDATE {key} = {key}"),
            ),
        };
        Self {
            probe: format!("SELECT {key} FROM {t} WHERE 1 = 0"),
            packet_size: match server {
                Server::Postgres => None,
                Server::Mysql => Some("SELECT CAST(@@max_allowed_packet AS SIGNED) AS n"),
            },
            get: format!(
                "SELECT {value}, {expired_flag} AS expired FROM {t} WHERE {key} = {}",
                p(1)
            ),
            lock: format!(
                "SELECT {value}, {expired_flag} AS expired FROM {t} WHERE {key} = {} FOR UPDATE",
                p(1)
            ),
            set,
            add,
            insert_absent,
            update_value: format!("UPDATE {t} SET {value} = {} WHERE {key} = {}", p(1), p(2)),
            touch: format!(
                "UPDATE {t} SET {expires_at} = {} WHERE {key} = {} AND {live}",
                server.expires(&p(1)),
                p(2)
            ),
            ttl: format!(
                "SELECT {} AS n FROM {t} WHERE {key} = {} AND {live}",
                server.as_bigint(&format!("COALESCE({}, -1)", server.ms_until(&expires_at))),
                p(1)
            ),
            delete_live: format!("DELETE FROM {t} WHERE {key} = {} AND {live}", p(1)),
            delete_expired: format!("DELETE FROM {t} WHERE {key} = {} AND {expired}", p(1)),
            keys: format!(
                "SELECT {} AS {key} FROM {t} WHERE {key} LIKE {} ESCAPE '!' AND {live}",
                match server {
                    Server::Postgres => format!("convert_to({key}, 'UTF8')"),
                    Server::Mysql => key.clone(),
                },
                p(1)
            ),
            clear: format!("DELETE FROM {t} WHERE {key} LIKE {} ESCAPE '!'", p(1)),
            cull: match server {
                Server::Postgres => format!(
                    "DELETE FROM {t} WHERE {key} IN (SELECT {key} FROM {t} WHERE {expired} LIMIT {CULL_BATCH})"
                ),
                Server::Mysql => format!("DELETE FROM {t} WHERE {expired} LIMIT {CULL_BATCH}"),
            },
            server,
            table: table.to_owned(),
            create_table,
            create_index,
            quoted_table: t,
            live,
            expired,
            key,
            value,
            expires_at,
        }
    }

    /// `(k1, ..., kn)` -> key bytes, value, expired
    pub(crate) fn get_many(&self, n: usize) -> String {
        format!(
            "SELECT {}, {}, {} AS expired FROM {} WHERE {} IN ({})",
            self.key_bytes(),
            self.value,
            self.server
                .as_bigint(&format!("CASE WHEN {} THEN 1 ELSE 0 END", self.expired)),
            self.quoted_table,
            self.key,
            self.placeholders(1, n)
        )
    }

    /// `(k1, ..., kn)`: the live rows among them
    pub(crate) fn delete_many_live(&self, n: usize) -> String {
        format!(
            "DELETE FROM {} WHERE {} IN ({}) AND {}",
            self.quoted_table,
            self.key,
            self.placeholders(1, n),
            self.live
        )
    }

    /// `(k1, ..., kn)`: the expired rows among them
    pub(crate) fn delete_many_expired(&self, n: usize) -> String {
        format!(
            "DELETE FROM {} WHERE {} IN ({}) AND {}",
            self.quoted_table,
            self.key,
            self.placeholders(1, n),
            self.expired
        )
    }

    /// `(k1, v1, ttl_ms, ..., kn, vn, ttl_ms)`, keys distinct
    pub(crate) fn set_many(&self, n: usize) -> String {
        let s = self.server;
        let rows = (0..n)
            .map(|i| {
                let at = 1 + 3 * i;
                format!(
                    "({}, {}, {})",
                    s.placeholder(at),
                    s.placeholder(at + 1),
                    s.expires(&s.placeholder(at + 2))
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let (t, key, value, expires_at) =
            (&self.quoted_table, &self.key, &self.value, &self.expires_at);
        let insert = format!("INSERT INTO {t} ({key}, {value}, {expires_at}) VALUES {rows}");
        match s {
            Server::Postgres => format!(
                "{insert} ON CONFLICT ({key}) DO UPDATE SET {value} = EXCLUDED.{value}, {expires_at} = EXCLUDED.{expires_at}"
            ),
            Server::Mysql => format!(
                "{insert} ON DUPLICATE KEY UPDATE {value} = VALUES({value}), {expires_at} = VALUES({expires_at})"
            ),
        }
    }

    fn key_bytes(&self) -> String {
        match self.server {
            Server::Postgres => format!("convert_to({}, 'UTF8') AS {}", self.key, self.key),
            Server::Mysql => self.key.clone(),
        }
    }

    fn placeholders(&self, first: usize, n: usize) -> String {
        (first..first + n)
            .map(|i| self.server.placeholder(i))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The `LIKE` pattern matching every key that starts with `prefix` (escape character `!`).
    pub(crate) fn like_prefix(prefix: &str) -> String {
        let mut pattern = String::with_capacity(prefix.len() + 2);
        for c in prefix.chars() {
            if matches!(c, '!' | '%' | '_') {
                pattern.push('!');
            }
            pattern.push(c);
        }
        pattern.push('%');
        pattern
    }
}

/// One bound parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bind<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
    /// Milliseconds; `None` is SQL NULL.
    Millis(Option<i64>),
}

/// A statement and its parameters, run through diesel. Unlike `sql_query`, it lets diesel
/// cache the prepared statement (keyed by its text) when `cached`, so a hot statement costs one
/// round trip, not a prepare and an execute.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stmt<'a> {
    pub(crate) sql: &'a str,
    pub(crate) binds: &'a [Bind<'a>],
    pub(crate) cached: bool,
}

impl<'a> Stmt<'a> {
    /// A fixed statement: prepared once per connection.
    pub(crate) fn cached(sql: &'a str, binds: &'a [Bind<'a>]) -> Self {
        Self {
            sql,
            binds,
            cached: true,
        }
    }
    /// A statement whose text varies (batch sizes): prepared on every run.
    pub(crate) fn once(sql: &'a str, binds: &'a [Bind<'a>]) -> Self {
        Self {
            sql,
            binds,
            cached: false,
        }
    }
}

impl QueryId for Stmt<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Stmt<'_> {
    type SqlType = Untyped;
}

impl<DB> QueryFragment<DB> for Stmt<'_>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<Binary> + HasSqlType<BigInt>,
    str: diesel::serialize::ToSql<Text, DB>,
    [u8]: diesel::serialize::ToSql<Binary, DB>,
    Option<i64>: diesel::serialize::ToSql<Nullable<BigInt>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if !self.cached {
            out.unsafe_to_cache_prepared();
        }
        out.push_sql(self.sql);
        for bind in self.binds {
            match bind {
                Bind::Text(text) => out.push_bind_param_value_only::<Text, str>(text)?,
                Bind::Bytes(bytes) => out.push_bind_param_value_only::<Binary, [u8]>(bytes)?,
                Bind::Millis(ms) => {
                    out.push_bind_param_value_only::<Nullable<BigInt>, Option<i64>>(ms)?
                }
            }
        }
        Ok(())
    }
}

/// A row of `get`/`lock`.
#[derive(Debug, QueryableByName)]
pub(crate) struct ValueRow {
    #[diesel(sql_type = Binary)]
    pub(crate) value: Vec<u8>,
    #[diesel(sql_type = BigInt)]
    pub(crate) expired: i64,
}

/// A row of `get_many`.
#[derive(Debug, QueryableByName)]
pub(crate) struct KeyValueRow {
    #[diesel(sql_type = Binary)]
    pub(crate) key: Vec<u8>,
    #[diesel(sql_type = Binary)]
    pub(crate) value: Vec<u8>,
    #[diesel(sql_type = BigInt)]
    pub(crate) expired: i64,
}

/// A row of one number.
#[derive(Debug, QueryableByName)]
pub(crate) struct NumberRow {
    #[diesel(sql_type = BigInt)]
    pub(crate) n: i64,
}

/// A row of `keys`.
#[derive(Debug, QueryableByName)]
pub(crate) struct KeyRow {
    #[diesel(sql_type = Binary)]
    pub(crate) key: Vec<u8>,
}
