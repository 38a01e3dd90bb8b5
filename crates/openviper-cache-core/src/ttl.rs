//! Time-to-live: what `None`, [`FOREVER`] and `Duration::ZERO` mean, and the `ttl` option.

use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer};

/// A TTL meaning "never expires", on every backend.
///
/// ```
/// use openviper_cache_core::{FOREVER, ttl::Lifetime};
///
/// assert_eq!(Lifetime::resolve(Some(FOREVER), None), Lifetime::Forever);
/// ```
pub const FOREVER: Duration = Duration::MAX;

/// What a write's TTL resolves to once the alias default is applied.
///
/// ```
/// use std::time::Duration;
/// use openviper_cache_core::ttl::Lifetime;
///
/// let default = Some(Duration::from_secs(300));
/// assert_eq!(Lifetime::resolve(None, default), Lifetime::For(Duration::from_secs(300)));
/// assert_eq!(Lifetime::resolve(None, None), Lifetime::Forever);
/// assert_eq!(Lifetime::resolve(Some(Duration::ZERO), default), Lifetime::Expired);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Never expires.
    Forever,
    /// Already expired: a write stores nothing and removes the old value.
    Expired,
    /// Expires after this long.
    For(Duration),
}

impl Lifetime {
    /// Resolves a call's `ttl` against the alias default (`None` in `default` = no expiry).
    pub fn resolve(ttl: Option<Duration>, default: Option<Duration>) -> Self {
        match ttl.or(default) {
            None => Self::Forever,
            Some(Duration::ZERO) => Self::Expired,
            Some(FOREVER) => Self::Forever,
            Some(ttl) => Self::For(ttl),
        }
    }

    /// The instant at which an entry written now expires; `None` for never. A TTL too large
    /// for the clock is clamped to "never" rather than overflowing.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use openviper_cache_core::ttl::Lifetime;
    ///
    /// let now = Instant::now();
    /// assert_eq!(Lifetime::For(Duration::from_secs(1)).deadline(now), Some(now + Duration::from_secs(1)));
    /// assert_eq!(Lifetime::For(Duration::MAX - Duration::from_secs(1)).deadline(now), None);
    /// ```
    pub fn deadline(self, now: Instant) -> Option<Instant> {
        match self {
            Self::Forever => None,
            Self::Expired => Some(now),
            Self::For(ttl) => now.checked_add(ttl),
        }
    }

    /// The TTL in whole milliseconds, rounded up (a 1 µs TTL is 1 ms, never 0), clamped to
    /// `max_ms`; `None` for [`Lifetime::Forever`] and [`Lifetime::Expired`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use openviper_cache_core::ttl::Lifetime;
    ///
    /// assert_eq!(Lifetime::For(Duration::from_micros(1)).as_millis_ceil(u64::MAX), Some(1));
    /// assert_eq!(Lifetime::For(Duration::from_secs(u64::MAX)).as_millis_ceil(1_000), Some(1_000));
    /// ```
    pub fn as_millis_ceil(self, max_ms: u64) -> Option<u64> {
        match self {
            Self::For(ttl) => {
                let ms = ttl.as_nanos().div_ceil(1_000_000);
                Some(u64::try_from(ms).unwrap_or(u64::MAX).clamp(1, max_ms))
            }
            Self::Forever | Self::Expired => None,
        }
    }
}

/// Deserializes the `ttl` option: seconds as a positive integer or float, e.g. `ttl = 300` or
/// `ttl = 0.5`. Use it as `#[serde(default, deserialize_with = "openviper_cache_core::ttl::deserialize_ttl")]`
/// on an `Option<Duration>` field.
///
/// ```
/// use std::time::Duration;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Options {
///     #[serde(default, deserialize_with = "openviper_cache_core::ttl::deserialize_ttl")]
///     ttl: Option<Duration>,
/// }
/// let o: Options = serde_json::from_str(r#"{"ttl": 1.5}"#).unwrap();
/// assert_eq!(o.ttl, Some(Duration::from_millis(1500)));
/// assert!(serde_json::from_str::<Options>(r#"{"ttl": 0}"#).is_err());
/// assert!(serde_json::from_str::<Options>(r#"{"ttl": "300"}"#).is_err());
/// ```
pub fn deserialize_ttl<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    use serde::de::Error;
    let secs = Option::<f64>::deserialize(deserializer)?;
    match secs {
        None => Ok(None),
        Some(s) if s.is_finite() && s > 0.0 => {
            Ok(Some(Duration::try_from_secs_f64(s).unwrap_or(FOREVER)))
        }
        Some(s) => Err(D::Error::custom(format!(
            "ttl must be a number of seconds greater than 0, got {s}"
        ))),
    }
}
