//! Every check of the suite, one module per behaviour family, and the table the runner reads.
//!
//! Each check is `pub async fn test_x(ctx: &Ctx) -> CheckResult`, usable on its own.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openviper_cache_core::ttl::{Expiry, Lifetime};
use openviper_cache_core::{Capabilities, ClearScope};
use tokio::time::Instant;

use crate::context::{CheckResult, Ctx, Subject};

pub mod atomic;
pub mod batch;
pub mod keys;
pub mod lifecycle;
pub mod ttl;
pub mod values;

/// Fails the check with a message unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+).into());
        }
    };
}
pub(crate) use ensure;

/// Fails the check unless `left == right`, showing both.
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($msg:tt)+) => {
        match (&$left, &$right) {
            (left, right) => {
                if left != right {
                    return Err(
                        format!("{}: got {:?}, expected {:?}", format!($($msg)+), left, right).into(),
                    );
                }
            }
        }
    };
}
pub(crate) use ensure_eq;

/// One thing a check needs from the backend to be meaningful; a check lists all it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Needs {
    /// `keys()` enumerates.
    ListKeys,
    /// `add_bytes` is atomic.
    AtomicAdd,
    /// `incr` is atomic and keeps the TTL.
    AtomicIncr,
    /// A known value size limit.
    MaxValueBytes,
    /// A prefix option (`key_prefix`) and a namespaced `clear()`.
    PrefixIsolation,
    /// `read_now` answers at once.
    SyncRead,
    /// `write_now` writes at once.
    SyncWrite,
    /// A default TTL option (see [`Subject::ttl_option`]).
    TtlOption,
    /// `ttl()` tells how long a key has left.
    RemainingTtl,
}

impl Needs {
    /// `None` when every one of `needs` is met by `caps` and the subject, else why the check is
    /// skipped (the first unmet need).
    pub fn skip_reason_of(
        needs: &[Needs],
        caps: &Capabilities,
        subject: &Subject,
    ) -> Option<&'static str> {
        needs
            .iter()
            .find_map(|need| need.skip_reason(caps, subject))
    }

    /// `None` when `caps` (and the subject) allow it, else why a check needing it is skipped.
    pub fn skip_reason(self, caps: &Capabilities, subject: &Subject) -> Option<&'static str> {
        let has_prefix_option = subject.prefix_option.is_some();
        match self {
            Needs::TtlOption if subject.ttl_option.is_none() => Some("no default TTL option here"),
            Needs::ListKeys if !caps.list_keys => Some("keys() does not list here"),
            Needs::AtomicAdd if !caps.atomic_add => Some("add() is not atomic here"),
            Needs::AtomicIncr if !caps.atomic_incr => Some("incr() is not atomic here"),
            Needs::MaxValueBytes if caps.max_value_bytes.is_none() => {
                Some("no value size limit here")
            }
            Needs::PrefixIsolation if !has_prefix_option => Some("no key_prefix option here"),
            Needs::PrefixIsolation if caps.clear != ClearScope::Namespace => {
                Some("clear() empties the whole store here")
            }
            Needs::RemainingTtl if !caps.remaining_ttl => {
                Some("ttl() cannot tell the time left here")
            }
            Needs::SyncRead if !caps.sync_read => {
                Some("no synchronous read_now here (typed reads use get_bytes)")
            }
            Needs::SyncWrite if !caps.sync_write => {
                Some("no synchronous write_now here (typed writes use set_bytes)")
            }
            _ => None,
        }
    }
}

/// A boxed check future.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = CheckResult> + Send + 'a>>;

/// One entry of the suite.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// `family::name`, the name the runner reports.
    pub name: &'static str,
    /// Everything it needs from the backend (empty: every backend).
    pub needs: &'static [Needs],
    /// Whether it empties the store (run alone when `clear()` is not namespaced).
    pub clears: bool,
    /// The check.
    pub run: for<'a> fn(&'a Ctx) -> CheckFuture<'a>,
}

macro_rules! check {
    ($module:ident :: $name:ident, [$($needs:ident),*] $(, $clears:literal)?) => {
        Check {
            name: concat!(stringify!($module), "::", stringify!($name)),
            needs: &[$(Needs::$needs),*],
            clears: false $(|| $clears)?,
            run: |ctx| Box::pin($module::$name(ctx)),
        }
    };
}

/// Every check of the suite.
pub const ALL: &[Check] = &[
    check!(values::test_round_trip_types, []),
    check!(values::test_missing_key, []),
    check!(values::test_overwrite, []),
    check!(values::test_stored_form, []),
    check!(values::test_foreign_bytes_are_kept, []),
    check!(values::test_empty_value, []),
    check!(values::test_one_mebibyte_value, []),
    check!(values::test_value_too_large, [MaxValueBytes]),
    check!(values::test_read_now_agrees_with_get_bytes, [SyncRead]),
    check!(values::test_write_now_agrees_with_set_bytes, [SyncWrite]),
    check!(keys::test_invalid_keys_rejected_before_io, []),
    check!(keys::test_longest_keys, []),
    check!(keys::test_unicode_keys, []),
    check!(keys::test_keys_are_exact, []),
    check!(keys::test_delete, []),
    check!(keys::test_has_key, []),
    check!(keys::test_keys_prefix, [ListKeys]),
    check!(keys::test_keys_prefix_is_literal, [ListKeys]),
    check!(ttl::test_expiry, []),
    check!(ttl::test_expired_means_gone, []),
    check!(ttl::test_sub_second_ttl, []),
    check!(ttl::test_zero_ttl, []),
    check!(ttl::test_no_ttl_persists, []),
    check!(ttl::test_alias_default_ttl, [TtlOption]),
    check!(ttl::test_remaining_ttl, [RemainingTtl]),
    check!(batch::test_get_many_order, []),
    check!(batch::test_set_many_delete_many, []),
    check!(batch::test_batch_validates_before_io, []),
    check!(atomic::test_add, []),
    check!(atomic::test_add_concurrent, [AtomicAdd]),
    check!(atomic::test_incr, []),
    check!(atomic::test_incr_exact_with_default_ttl, [TtlOption]),
    check!(atomic::test_incr_concurrent, [AtomicIncr]),
    check!(atomic::test_incr_keeps_ttl, [AtomicIncr]),
    check!(atomic::test_touch, []),
    check!(atomic::test_get_or_set_with_single_flight, []),
    check!(atomic::test_get_or_set_with_loader_error, []),
    check!(lifecycle::test_registered_by_name, []),
    check!(lifecycle::test_close_twice, []),
    check!(lifecycle::test_clear, [], true),
    check!(lifecycle::test_prefix_isolation, [PrefixIsolation]),
];

/// What a slow machine or network may add to an expiry, on top of the store's resolution.
pub const EXPIRY_SLACK: Duration = Duration::from_millis(250);

/// When an entry whose write (with `ttl`) returned at `written` must be gone on a store of
/// `resolution`: the TTL rounded up to the resolution, plus one resolution (a store counting
/// whole seconds may expire at the next tick), plus [`EXPIRY_SLACK`]. A read that *starts*
/// later must not see the entry; a slow machine only makes reads start later, so a check built
/// on this cannot flake.
///
/// ```
/// use std::time::Duration;
/// use openviper_cache_conformance::checks::gone_by;
/// let now = tokio::time::Instant::now();
/// let s = Duration::from_secs(1);
/// assert_eq!(gone_by(now, Duration::from_millis(1500), s), now + Duration::from_millis(3250));
/// ```
pub fn gone_by(written: Instant, ttl: Duration, resolution: Duration) -> Instant {
    let rounded = match Lifetime::For(ttl).expiry(resolution) {
        Expiry::After(rounded) => rounded,
        Expiry::Never | Expiry::Delete => ttl,
    };
    written + rounded + resolution + EXPIRY_SLACK
}

/// Sleeps until [`gone_by`] for an entry of `ttl` written at `written` on `ctx`'s cache.
pub(crate) async fn wait_until_gone(ctx: &Ctx, written: Instant, ttl: Duration) {
    let resolution = ctx.cache().capabilities().ttl_resolution;
    tokio::time::sleep_until(gone_by(written, ttl, resolution)).await;
}

/// Whether a read that ended at `ended` had to see an entry written (with `ttl`) from
/// `write_started` on: it did when it ended before the TTL could have run out, less one
/// resolution and the slack for clocks that tick (a store may start the TTL a little early).
pub(crate) fn must_be_present(
    ctx: &Ctx,
    write_started: Instant,
    ttl: Duration,
    ended: Instant,
) -> bool {
    let resolution = ctx.cache().capabilities().ttl_resolution;
    ended + resolution + Duration::from_millis(50) < write_started + ttl
}
