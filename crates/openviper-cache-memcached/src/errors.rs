//! async-memcached errors become `CacheError` here, and only here.

use async_memcached::{Error as McError, ErrorKind, Status};
use openviper_cache_core::CacheError;

/// A client error as `CacheError`: connection failures (refused, reset, closed, an I/O error,
/// a reply that does not parse) are temporary ([`CacheError::unavailable`]); the server's
/// refusals are not. `server` is the backend name with the server's address.
pub(crate) fn to_cache_error(server: &str, operation: &'static str, error: McError) -> CacheError {
    match &error {
        McError::Connect(_)
        | McError::ConnectionClosed
        | McError::Io(_)
        | McError::ParseError(_) => CacheError::unavailable(server, operation, error),
        McError::Protocol(Status::Error(ErrorKind::Protocol(_))) => {
            CacheError::unavailable(server, operation, error)
        }
        McError::Protocol(_) => CacheError::backend(server, operation, error),
    }
}

/// Whether the server refused a value as too large (`SERVER_ERROR object too large for
/// cache`), which is `ValueTooLarge` like the cache's own limit.
pub(crate) fn is_too_large(error: &McError) -> bool {
    matches!(
        error,
        McError::Protocol(Status::Error(ErrorKind::Server(message))) if message.contains("too large")
    )
}

/// Whether the connection that gave `error` must not be used again: its state is unknown.
pub(crate) fn breaks_connection(error: &McError) -> bool {
    !matches!(
        error,
        McError::Protocol(
            Status::NotFound
                | Status::NotStored
                | Status::Exists
                | Status::Error(ErrorKind::Server(_) | ErrorKind::Client(_))
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_temporary_and_refusals_are_not() {
        let server = "MemcachedCache(127.0.0.1:11211)";
        let refused = McError::Connect(std::io::ErrorKind::ConnectionRefused.into());
        assert!(to_cache_error(server, "get", refused).is_temporary());
        assert!(to_cache_error(server, "get", McError::ConnectionClosed).is_temporary());
        let full = McError::Protocol(Status::Error(ErrorKind::Server("out of memory".into())));
        let error = to_cache_error(server, "set", full);
        assert!(!error.is_temporary());
        assert!(error.to_string().contains("127.0.0.1:11211"), "{error}");
        let large = McError::Protocol(Status::Error(ErrorKind::Server(
            "object too large for cache".into(),
        )));
        assert!(is_too_large(&large) && !breaks_connection(&large));
        assert!(breaks_connection(&McError::ConnectionClosed));
    }
}
