//! The one error type every cache operation returns.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A boxed error from a store's client, kept as the `source()` of [`CacheError::Backend`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// `Result` with [`CacheError`] as the error.
pub type Result<T, E = CacheError> = std::result::Result<T, E>;

/// Everything that can go wrong in openviper-cache.
///
/// Each variant's `Display` names what the user must fix: the key, the alias, the option,
/// the backend and the operation. Keys longer than 64 characters are shortened in messages
/// (the full key is still in the variant).
///
/// ```
/// use openviper_cache_core::{validate_cache_key, CacheError};
///
/// let err = validate_cache_key("has space").unwrap_err();
/// assert!(matches!(err, CacheError::InvalidKey { .. }));
/// assert_eq!(err.to_string(), "invalid cache key \"has space\": it contains whitespace");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The key is empty, too long, or contains whitespace or a control character.
    #[error("invalid cache key {}: {reason}", KeyDisplay(.key))]
    InvalidKey {
        /// The key as given.
        key: String,
        /// Why it was rejected.
        reason: String,
    },

    /// `get_cache(alias)` for an alias the settings do not define (only `"default"` always resolves).
    #[error("unknown cache alias {0:?}: add it to the CACHES table of your settings")]
    UnknownAlias(String),

    /// The alias names a `BACKEND` that no linked crate registered.
    #[error(
        "cache alias {alias:?} names backend {backend:?}, which is not registered \
         (enable the cargo feature of that backend, or link the crate that registers it)"
    )]
    UnknownBackend {
        /// The alias whose settings name the backend.
        alias: String,
        /// The dotted backend name, e.g. `"openviper.cache.RedisCache"`.
        backend: String,
    },

    /// The settings document itself is wrong: it does not parse, or an alias lacks `BACKEND`.
    #[error("cache settings: {message}")]
    Settings {
        /// What is wrong, naming the alias or the file where known.
        message: String,
    },

    /// One alias's `OPTIONS` are wrong.
    #[error("cache alias {alias:?}: {message}")]
    Config {
        /// The alias whose options are wrong.
        alias: String,
        /// What is wrong, naming the option.
        message: String,
    },

    /// `configure` was called after the process-wide settings were fixed.
    #[error(
        "cache settings are already configured: call configure() once, before the first get_cache()"
    )]
    AlreadyConfigured,

    /// A value could not be encoded for storage.
    #[error("cannot serialize the value for key {}: {source}", KeyDisplay(.key))]
    Serialize {
        /// The key being written.
        key: String,
        /// The encoder's error.
        source: BoxError,
    },

    /// The stored bytes do not decode as the requested type (a type mismatch, or another
    /// program's data). The entry is left in place.
    #[error("cannot deserialize the value of key {} as the requested type: {source}", KeyDisplay(.key))]
    Deserialize {
        /// The key being read.
        key: String,
        /// The decoder's error.
        source: BoxError,
    },

    /// `incr` on a value that is not an ASCII decimal integer. The value is untouched.
    #[error("cannot increment key {}: its value is not an integer", KeyDisplay(.key))]
    NotAnInteger {
        /// The key whose value is not an integer.
        key: String,
    },

    /// `incr` would take the value past the range of `i64`. The value is untouched.
    #[error("cannot increment key {} by {delta}: the result would overflow i64", KeyDisplay(.key))]
    Overflow {
        /// The key being incremented.
        key: String,
        /// The delta that would overflow.
        delta: i64,
    },

    /// The value is larger than the store accepts. Nothing was written, and the key's old
    /// value was removed so that no stale value outlives the failed write.
    #[error(
        "value for key {} is {size} bytes, over the {limit}-byte limit of this cache",
        KeyDisplay(.key)
    )]
    ValueTooLarge {
        /// The key being written.
        key: String,
        /// The size of the refused value in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },

    /// The store's client failed (connection refused, protocol error, I/O error, ...).
    #[error("{backend}: {operation} failed: {source}")]
    Backend {
        /// The backend, with the server address or path where it helps.
        backend: String,
        /// The operation that failed, e.g. `"get"`.
        operation: &'static str,
        /// The client's error.
        source: BoxError,
    },

    /// The store did not answer within the configured timeout.
    #[error("{backend}: {operation} timed out after {after:?}")]
    Timeout {
        /// The backend, with the server address where it helps.
        backend: String,
        /// The operation that timed out.
        operation: &'static str,
        /// The timeout that elapsed.
        after: Duration,
    },

    /// The loader given to `get_or_set_with` failed; nothing was cached. Every caller waiting on
    /// the same key gets this error, sharing the loader's error.
    #[error("loading the value for key {} failed: {source}", KeyDisplay(.key))]
    Loader {
        /// The key being loaded.
        key: String,
        /// The loader's error.
        source: Arc<dyn StdError + Send + Sync + 'static>,
    },

    /// The backend cannot do this operation.
    #[error("{backend} does not support {operation}")]
    Unsupported {
        /// The backend name.
        backend: String,
        /// The operation it cannot do.
        operation: &'static str,
    },
}

impl CacheError {
    /// Whether a retry of the same operation may succeed: `true` for timeouts and for
    /// connection-class failures (refused, reset or closed connections, a server that is down or
    /// still loading), which a retry or a fail-open policy may act on; `false` for bad input,
    /// bad settings, values of the wrong type and the store's refusals.
    ///
    /// Each backend decides it in its one error-mapping function, by building connection
    /// failures with [`CacheError::unavailable`]; an I/O error of a connection kind anywhere in
    /// a `Backend` error's sources counts too.
    ///
    /// ```
    /// use std::time::Duration;
    /// use openviper_cache_core::CacheError;
    ///
    /// let down = CacheError::unavailable("RedisCache(127.0.0.1:6379/0)", "get", "connection refused");
    /// assert!(down.is_temporary());
    /// let slow = CacheError::Timeout { backend: "x".into(), operation: "get", after: Duration::from_secs(1) };
    /// assert!(slow.is_temporary());
    /// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    /// assert!(CacheError::backend("x", "get", refused).is_temporary());
    /// assert!(!CacheError::backend("x", "get", "WRONGTYPE").is_temporary());
    /// assert!(!CacheError::NotAnInteger { key: "k".into() }.is_temporary());
    /// ```
    pub fn is_temporary(&self) -> bool {
        match self {
            Self::Timeout { .. } => true,
            Self::Backend { source, .. } => {
                let mut cause: Option<&(dyn StdError + 'static)> = Some(source.as_ref());
                while let Some(error) = cause {
                    if error.is::<Unavailable>() {
                        return true;
                    }
                    if let Some(io) = error.downcast_ref::<std::io::Error>()
                        && is_connection_kind(io.kind())
                    {
                        return true;
                    }
                    cause = error.source();
                }
                false
            }
            _ => false,
        }
    }

    /// A connection-class failure of the store (refused, reset, closed, not yet connected) as
    /// [`CacheError::Backend`], marked so that [`CacheError::is_temporary`] is `true`. Its
    /// `Display` is that of a plain `Backend` error.
    ///
    /// ```
    /// use openviper_cache_core::CacheError;
    /// let err = CacheError::unavailable("MemcachedCache(127.0.0.1:11211)", "set", "connection reset");
    /// assert_eq!(err.to_string(), "MemcachedCache(127.0.0.1:11211): set failed: connection reset");
    /// assert!(err.is_temporary());
    /// ```
    pub fn unavailable(
        backend: impl Into<String>,
        operation: &'static str,
        source: impl Into<BoxError>,
    ) -> Self {
        Self::backend(backend, operation, Unavailable(source.into()))
    }

    /// Wraps a store client's error as [`CacheError::Backend`].
    ///
    /// ```
    /// use openviper_cache_core::CacheError;
    ///
    /// let io = std::io::Error::other("connection refused");
    /// let err = CacheError::backend("RedisCache(127.0.0.1:6379)", "get", io);
    /// assert_eq!(err.to_string(), "RedisCache(127.0.0.1:6379): get failed: connection refused");
    /// ```
    pub fn backend(
        backend: impl Into<String>,
        operation: &'static str,
        source: impl Into<BoxError>,
    ) -> Self {
        Self::Backend {
            backend: backend.into(),
            operation,
            source: source.into(),
        }
    }

    /// Builds [`CacheError::Config`] for `alias` with a message naming the option.
    ///
    /// ```
    /// use openviper_cache_core::CacheError;
    ///
    /// let err = CacheError::config("default", "max_entries: must be at least 1");
    /// assert_eq!(err.to_string(), "cache alias \"default\": max_entries: must be at least 1");
    /// ```
    pub fn config(alias: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Config {
            alias: alias.into(),
            message: message.into(),
        }
    }
}

/// Marks the source of a [`CacheError::Backend`] as a connection failure (see
/// [`CacheError::unavailable`]); shows and chains as the error it wraps.
#[derive(Debug)]
pub struct Unavailable(BoxError);

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for Unavailable {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

fn is_connection_kind(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        kind,
        K::ConnectionRefused
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::NotConnected
            | K::BrokenPipe
            | K::TimedOut
            | K::UnexpectedEof
            | K::HostUnreachable
            | K::NetworkUnreachable
            | K::NetworkDown
            | K::AddrNotAvailable
    )
}

/// Shows a key in an error message, shortened so that a 1 MiB bad key does not flood logs.
struct KeyDisplay<'a>(&'a str);

impl fmt::Display for KeyDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 64;
        match self.0.char_indices().nth(SHOWN) {
            None => write!(f, "{:?}", self.0),
            Some((cut, _)) => write!(
                f,
                "{:?}… ({} characters)",
                &self.0[..cut],
                self.0.chars().count()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_keys_are_shortened_in_messages() {
        let key = "k".repeat(1000);
        let err = CacheError::NotAnInteger { key };
        let text = err.to_string();
        assert!(text.len() < 150, "{text}");
        assert!(text.contains("(1000 characters)"), "{text}");
    }

    #[test]
    fn messages_name_what_to_fix() {
        let err = CacheError::UnknownBackend {
            alias: "sessions".into(),
            backend: "myorg.cache.Nope".into(),
        };
        let text = err.to_string();
        assert!(text.contains("\"sessions\"") && text.contains("myorg.cache.Nope"));
        let err = CacheError::ValueTooLarge {
            key: "big".into(),
            size: 2_000_000,
            limit: 1_048_576,
        };
        assert_eq!(
            err.to_string(),
            "value for key \"big\" is 2000000 bytes, over the 1048576-byte limit of this cache"
        );
    }
}
