//! fred errors become `CacheError` here, and only here.

use std::time::Duration;

use fred::error::{Error as FredError, ErrorKind};
use openviper_cache_core::CacheError;

/// The operation that failed, named in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Get,
    Set,
    Delete,
    Clear,
    HasKey,
    Keys,
    Close,
    GetMany,
    SetMany,
    DeleteMany,
    Add,
    Incr,
    Touch,
}

impl Op {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Set => "set",
            Op::Delete => "delete",
            Op::Clear => "clear",
            Op::HasKey => "has_key",
            Op::Keys => "keys",
            Op::Close => "close",
            Op::GetMany => "get_many",
            Op::SetMany => "set_many",
            Op::DeleteMany => "delete_many",
            Op::Add => "add",
            Op::Incr => "incr",
            Op::Touch => "touch",
        }
    }
}

/// A fred error as `Timeout` (after the configured per-command timeout) or `Backend`.
pub(crate) fn to_cache_error(
    backend: &str,
    op: Op,
    timeout: Duration,
    error: FredError,
) -> CacheError {
    match error.kind() {
        ErrorKind::Timeout => CacheError::Timeout {
            backend: backend.to_owned(),
            operation: op.name(),
            after: timeout,
        },
        _ => CacheError::backend(backend, op.name(), error),
    }
}

/// `INCRBY`'s refusals become `NotAnInteger` / `Overflow` naming the key.
pub(crate) fn incr_error(
    backend: &str,
    key: &str,
    delta: i64,
    timeout: Duration,
    error: FredError,
) -> CacheError {
    let details = error.details().to_ascii_lowercase();
    if details.contains("not an integer") {
        CacheError::NotAnInteger {
            key: key.to_owned(),
        }
    } else if details.contains("overflow") {
        CacheError::Overflow {
            key: key.to_owned(),
            delta,
        }
    } else {
        to_cache_error(backend, Op::Incr, timeout, error)
    }
}
