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
    Ttl,
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
            Op::Ttl => "ttl",
        }
    }
}

/// A fred error as `Timeout` (after the configured per-command timeout) or `Backend`; a
/// connection-class failure (I/O, a connection closed under the command, a server still
/// loading or a cluster mid-failover) is marked temporary ([`CacheError::is_temporary`]).
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
        _ if is_connection_failure(&error) => CacheError::unavailable(backend, op.name(), error),
        _ => CacheError::backend(backend, op.name(), error),
    }
}

/// Whether a retry of the command may succeed once the server is reachable again.
fn is_connection_failure(error: &FredError) -> bool {
    const RETRYABLE_REPLIES: [&str; 5] =
        ["LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN"];
    match error.kind() {
        ErrorKind::IO
        | ErrorKind::Canceled
        | ErrorKind::Routing
        | ErrorKind::Backpressure
        | ErrorKind::Cluster
        | ErrorKind::Sentinel => true,
        // "not initialized": fred's answer to a command sent while its router is not running.
        _ => {
            error.details().contains("not initialized")
                || RETRYABLE_REPLIES
                    .iter()
                    .any(|reply| error.details().starts_with(reply))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_temporary_and_refusals_are_not() {
        let timeout = Duration::from_millis(5);
        for (kind, details, temporary) in [
            (ErrorKind::IO, "Connection refused", true),
            (ErrorKind::Canceled, "Connection closed unexpectedly.", true),
            (ErrorKind::Unknown, "Client is not initialized.", true),
            (
                ErrorKind::Unknown,
                "LOADING Redis is loading the dataset in memory",
                true,
            ),
            (
                ErrorKind::Auth,
                "WRONGPASS invalid username-password pair",
                false,
            ),
            (
                ErrorKind::InvalidArgument,
                "ERR value is not an integer",
                false,
            ),
        ] {
            let error = to_cache_error(
                "RedisCache(h:1/0)",
                Op::Get,
                timeout,
                FredError::new(kind, details),
            );
            assert_eq!(error.is_temporary(), temporary, "{details}");
            assert!(error.to_string().contains("RedisCache(h:1/0)"), "{error}");
        }
        let timed_out = to_cache_error(
            "x",
            Op::Set,
            timeout,
            FredError::new(ErrorKind::Timeout, ""),
        );
        assert!(matches!(
            timed_out,
            CacheError::Timeout {
                operation: "set",
                ..
            }
        ));
        assert!(timed_out.is_temporary());
    }
}
