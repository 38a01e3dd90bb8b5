//! Every check of the suite, one module per behaviour family, and the table the runner reads.
//!
//! Each check is `pub async fn test_x(ctx: &Ctx) -> CheckResult`, usable on its own.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openviper_cache_core::{Capabilities, ClearScope};

use crate::context::{CheckResult, Ctx};

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

/// What a check needs from the backend to be meaningful.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Needs {
    /// Every backend.
    Nothing,
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
}

impl Needs {
    /// `None` when `caps` (and the subject) allow the check, else why it is skipped.
    pub fn skip_reason(self, caps: &Capabilities, has_prefix_option: bool) -> Option<&'static str> {
        match self {
            Needs::Nothing => None,
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
            Needs::SyncRead if !caps.sync_read => {
                Some("no synchronous read_now here (typed reads use get_bytes)")
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
    /// What it needs from the backend.
    pub needs: Needs,
    /// Whether it empties the store (run alone when `clear()` is not namespaced).
    pub clears: bool,
    /// The check.
    pub run: for<'a> fn(&'a Ctx) -> CheckFuture<'a>,
}

macro_rules! check {
    ($module:ident :: $name:ident, $needs:ident $(, $clears:literal)?) => {
        Check {
            name: concat!(stringify!($module), "::", stringify!($name)),
            needs: Needs::$needs,
            clears: false $(|| $clears)?,
            run: |ctx| Box::pin($module::$name(ctx)),
        }
    };
}

/// Every check of the suite.
pub const ALL: &[Check] = &[
    check!(values::test_round_trip_types, Nothing),
    check!(values::test_missing_key, Nothing),
    check!(values::test_overwrite, Nothing),
    check!(values::test_stored_form, Nothing),
    check!(values::test_foreign_bytes_are_kept, Nothing),
    check!(values::test_empty_value, Nothing),
    check!(values::test_one_mebibyte_value, Nothing),
    check!(values::test_value_too_large, MaxValueBytes),
    check!(values::test_read_now_agrees_with_get_bytes, SyncRead),
    check!(keys::test_invalid_keys_rejected_before_io, Nothing),
    check!(keys::test_longest_keys, Nothing),
    check!(keys::test_unicode_keys, Nothing),
    check!(keys::test_delete, Nothing),
    check!(keys::test_has_key, Nothing),
    check!(keys::test_keys_prefix, ListKeys),
    check!(keys::test_keys_prefix_is_literal, ListKeys),
    check!(ttl::test_expiry, Nothing),
    check!(ttl::test_sub_second_ttl, Nothing),
    check!(ttl::test_zero_ttl, Nothing),
    check!(ttl::test_no_ttl_persists, Nothing),
    check!(ttl::test_alias_default_ttl, Nothing),
    check!(batch::test_get_many_order, Nothing),
    check!(batch::test_set_many_delete_many, Nothing),
    check!(batch::test_batch_validates_before_io, Nothing),
    check!(atomic::test_add, Nothing),
    check!(atomic::test_add_concurrent, AtomicAdd),
    check!(atomic::test_incr, Nothing),
    check!(atomic::test_incr_concurrent, AtomicIncr),
    check!(atomic::test_incr_keeps_ttl, AtomicIncr),
    check!(atomic::test_touch, Nothing),
    check!(atomic::test_get_or_set_with_single_flight, Nothing),
    check!(atomic::test_get_or_set_with_loader_error, Nothing),
    check!(lifecycle::test_registered_by_name, Nothing),
    check!(lifecycle::test_close_twice, Nothing),
    check!(lifecycle::test_clear, Nothing, true),
    check!(lifecycle::test_prefix_isolation, PrefixIsolation),
];

/// Polls `probe` until it returns `true`, for at most `within`; `false` if it never did.
/// Expiry is checked this way so that a slow machine delays a check instead of failing it.
pub(crate) async fn eventually<F, Fut>(
    within: Duration,
    mut probe: F,
) -> Result<bool, crate::Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, crate::Failure>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if probe().await? {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
