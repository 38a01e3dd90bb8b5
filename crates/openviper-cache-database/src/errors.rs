//! Driver errors become `CacheError` here, and only here.

use std::time::Duration;

use openviper_cache_core::CacheError;
use openviper_cache_core::redact::scrub;

/// What a store's driver reported.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    /// A statement failed (diesel-async on PostgreSQL or MySQL).
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    /// No connection could be had from the pool.
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    #[error(transparent)]
    Pool(#[from] diesel_async::pooled_connection::deadpool::PoolError),
    /// SQLite refused.
    #[cfg(feature = "sqlite")]
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The SQLite writer thread is gone (its cache was closed).
    #[cfg(feature = "sqlite")]
    #[error("the writer thread has stopped")]
    WriterGone,
}

/// How an error leaves the connection that gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// The server cannot be reached or dropped the connection: temporary, and the connection is
    /// discarded.
    Unavailable,
    /// The server gave up on the statement at its own timeout.
    TimedOut,
    /// The statement was refused; the connection is fine.
    Refused,
}

impl DbError {
    /// What kind of failure this is.
    pub(crate) fn class(&self) -> Class {
        match self {
            #[cfg(any(feature = "postgres", feature = "mysql"))]
            Self::Query(error) => query_class(error),
            #[cfg(any(feature = "postgres", feature = "mysql"))]
            Self::Pool(_) => Class::Unavailable,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) => match failure.code {
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                    Class::TimedOut
                }
                rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::SystemIoFailure => {
                    Class::Unavailable
                }
                _ => Class::Refused,
            },
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => Class::Refused,
            #[cfg(feature = "sqlite")]
            Self::WriterGone => Class::Unavailable,
        }
    }
}

/// Whether MySQL chose the statement's transaction as a deadlock victim (error 1213, which
/// diesel reports by its message only).
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn is_deadlock(error: &diesel::result::Error) -> bool {
    matches!(error, diesel::result::Error::DatabaseError(_, info) if info.message().starts_with("Deadlock found"))
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn query_class(error: &diesel::result::Error) -> Class {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection,
            _,
        ) => Class::Unavailable,
        Error::DatabaseError(_, info) => {
            let message = info.message();
            if message.contains("statement timeout") || message.contains("max_statement_time") {
                Class::TimedOut
            } else if [
                // mysql_async's own failures, under diesel's `Unknown` kind.
                "Input/output error",
                "Driver error",
                "Other error",
                // PostgreSQL shutting down, restarting or out of connection slots.
                "terminating connection",
                "the database system is",
                "too many clients",
                "server closed the connection",
            ]
            .iter()
            .any(|marker| message.starts_with(marker) || message.contains(marker))
            {
                Class::Unavailable
            } else {
                Class::Refused
            }
        }
        Error::BrokenTransactionManager | Error::AlreadyInTransaction => Class::Unavailable,
        _ => Class::Refused,
    }
}

/// A driver error as `CacheError`, naming `backend` (which names the database and the table)
/// and `operation`: a server the cache cannot reach is temporary ([`CacheError::unavailable`]),
/// a statement the server timed out is [`CacheError::Timeout`] after `timeout`, a refusal is a
/// plain [`CacheError::Backend`]. `secrets` (the URL's password) are scrubbed from the text.
pub(crate) fn to_cache_error(
    backend: &str,
    operation: &'static str,
    timeout: Duration,
    secrets: &[String],
    error: DbError,
) -> CacheError {
    let text = scrub(&error.to_string(), secrets);
    match error.class() {
        Class::Unavailable => CacheError::unavailable(backend, operation, text),
        Class::TimedOut => CacheError::Timeout {
            backend: backend.to_owned(),
            operation,
            after: timeout,
        },
        Class::Refused => CacheError::backend(backend, operation, text),
    }
}
