//! Time-to-live: what `None`, [`FOREVER`] and `Duration::ZERO` mean, and the `ttl` option.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer};

/// A TTL meaning "never expires", on every backend.
///
/// ```
/// use openviper_cache_core::{FOREVER, ttl::Lifetime};
///
/// assert_eq!(Lifetime::resolve(Some(FOREVER), None), Lifetime::Forever);
/// ```
pub const FOREVER: Duration = Duration::MAX;

/// TTLs longer than this (about 100 years) are kept as "never expires" on every store: stores
/// refuse expiry times that overflow their clocks, and nobody means a TTL that long.
pub const LONGEST_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3_600);

/// What a write's [`Lifetime`] becomes for a store that counts time in units of its resolution.
///
/// ```
/// use std::time::Duration;
/// use openviper_cache_core::ttl::{Expiry, Lifetime, LONGEST_TTL};
///
/// let second = Duration::from_secs(1);
/// assert_eq!(Lifetime::For(Duration::from_millis(1)).expiry(second), Expiry::After(second));
/// assert_eq!(Lifetime::For(Duration::from_millis(1500)).expiry(second).as_secs(), Some(2));
/// assert_eq!(Lifetime::For(Duration::from_nanos(1)).expiry(Duration::from_millis(1)).as_millis(), Some(1));
/// assert_eq!(Lifetime::For(LONGEST_TTL + second).expiry(second), Expiry::Never);
/// assert_eq!(Lifetime::Expired.expiry(second), Expiry::Delete);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Store with no expiry.
    Never,
    /// Store nothing and remove the old value (never sent to a store as a TTL of 0, which
    /// several stores read as "never").
    Delete,
    /// Expire after this long: a whole number of the store's resolution, at least one.
    After(Duration),
}

impl Expiry {
    /// [`Expiry::After`] in whole milliseconds.
    pub fn as_millis(self) -> Option<u64> {
        match self {
            Self::After(ttl) => Some(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)),
            Self::Never | Self::Delete => None,
        }
    }

    /// [`Expiry::After`] in whole seconds, rounded up.
    pub fn as_secs(self) -> Option<u64> {
        match self {
            Self::After(ttl) => Some(ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0)),
            Self::Never | Self::Delete => None,
        }
    }

    /// [`Expiry::After`] as an absolute Unix time in whole seconds (rounded up), counted from
    /// `now`: for stores that read long TTLs as a point in time (memcached past 30 days).
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use openviper_cache_core::ttl::Expiry;
    /// let now = UNIX_EPOCH + Duration::from_secs(1_000);
    /// assert_eq!(Expiry::After(Duration::from_millis(1_500)).unix_time_secs(now), Some(1_002));
    /// ```
    pub fn unix_time_secs(self, now: SystemTime) -> Option<u64> {
        let secs = self.as_secs()?;
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Some(now.saturating_add(secs))
    }
}

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

    /// What this lifetime is for a store of `resolution` (1 ms for Redis, 1 s for memcached):
    /// a TTL rounded up to a whole number of the resolution (a TTL below it becomes one unit,
    /// never "expired"), a TTL past [`LONGEST_TTL`] clamped to "never".
    #[inline]
    pub fn expiry(self, resolution: Duration) -> Expiry {
        match self {
            Self::Forever => Expiry::Never,
            Self::Expired => Expiry::Delete,
            Self::For(ttl) if ttl > LONGEST_TTL => Expiry::Never,
            Self::For(ttl) => Expiry::After(round_up(ttl, resolution)),
        }
    }

    /// The instant at which an entry written now expires; `None` for never. A TTL too large
    /// for the clock is clamped to "never" rather than overflowing.
    ///
    /// ```
    /// use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
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

/// `ttl` rounded up to a whole, non-zero number of `resolution`; cheap for the common case of a
/// resolution that divides a second.
#[inline]
fn round_up(ttl: Duration, resolution: Duration) -> Duration {
    let unit = resolution.max(Duration::from_nanos(1));
    if unit < Duration::from_secs(1) && 1_000_000_000 % unit.subsec_nanos() == 0 {
        let (secs, nanos, unit) = (ttl.as_secs(), ttl.subsec_nanos(), unit.subsec_nanos());
        let nanos = u64::from(nanos.div_ceil(unit)) * u64::from(unit);
        let rounded = Duration::from_secs(secs).saturating_add(Duration::from_nanos(nanos));
        return rounded.max(resolution);
    }
    let units = ttl.as_nanos().div_ceil(unit.as_nanos()).max(1);
    let nanos = units.saturating_mul(unit.as_nanos());
    Duration::new(
        u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX),
        (nanos % 1_000_000_000) as u32,
    )
}

/// Deserializes the `ttl` option: seconds as a positive integer or float, e.g. `ttl = 300` or
/// `ttl = 0.5`. A positive TTL too small for a `Duration` (`1e-10`) becomes 1 ns, never zero
/// (which would make every default write a delete); each store then rounds it up to its own
/// resolution ([`Lifetime::expiry`]). Zero, negative and non-finite values are refused. Use it as `#[serde(default, deserialize_with = "openviper_cache_core::ttl::deserialize_ttl")]`
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
/// assert_eq!(serde_json::from_str::<Options>(r#"{"ttl": 1e-10}"#).unwrap().ttl, Some(Duration::from_nanos(1)));
/// ```
pub fn deserialize_ttl<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    use serde::de::Error;
    let secs = Option::<f64>::deserialize(deserializer)?;
    match secs {
        None => Ok(None),
        Some(s) if s.is_finite() && s > 0.0 => Ok(Some(
            Duration::try_from_secs_f64(s)
                .unwrap_or(FOREVER)
                .max(Duration::from_nanos(1)),
        )),
        Some(s) => Err(D::Error::custom(format!(
            "ttl must be a number of seconds greater than 0, got {s}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_up_never_rounds_down_or_to_zero() {
        let ms = Duration::from_millis(1);
        let s = Duration::from_secs(1);
        for (ttl, resolution, expected) in [
            (Duration::from_nanos(1), ms, ms),
            (Duration::from_micros(1500), ms, Duration::from_millis(2)),
            (Duration::from_millis(2), ms, Duration::from_millis(2)),
            (Duration::from_millis(1), s, s),
            (Duration::from_millis(2001), s, Duration::from_secs(3)),
            (
                Duration::from_secs(7),
                Duration::from_secs(3),
                Duration::from_secs(9),
            ),
            (
                Duration::from_nanos(999_999_999),
                Duration::from_nanos(1),
                Duration::from_nanos(999_999_999),
            ),
        ] {
            assert_eq!(
                round_up(ttl, resolution),
                expected,
                "{ttl:?} at {resolution:?}"
            );
        }
        assert_eq!(
            Lifetime::For(LONGEST_TTL).expiry(s),
            Expiry::After(LONGEST_TTL)
        );
        assert_eq!(Lifetime::For(FOREVER - s).expiry(ms), Expiry::Never);
        assert_eq!(Lifetime::For(ms).expiry(s).as_millis(), Some(1_000));
    }
}
