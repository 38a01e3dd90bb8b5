//! Per-operation timeouts that cost no timer registration on the hot path.
//!
//! [`connect::within`](crate::connect::within) arms a fresh Tokio timer for every operation:
//! registering it and cancelling it each take the time driver's one lock, which every worker
//! and the driver contend for. A pooled connection instead keeps one [`Deadline`] and re-arms
//! it for each operation: moving a registered timer later is one atomic compare-and-swap, so
//! the timer is registered again only after it fired (the connection sat idle past its last
//! deadline). [`within_at`] bounds a step that is usually ready at once (a checkout from a pool
//! with an idle connection) and arms a timer only when it is not.
//!
//! Measured at 64 concurrent tasks on memcached: docs/backends/memcached.md.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use crate::connect::timed_out;
use crate::error::Result;

/// `work`'s result, or [`CacheError::Timeout`](crate::CacheError::Timeout) naming `backend`,
/// `operation` and `after` (the configured timeout) once `at` has passed. `work` is polled once
/// first; a timer is armed only when it is not ready then.
///
/// ```
/// use std::time::Duration;
/// use openviper_cache_core::{CacheError, deadline::within_at};
/// use tokio::time::Instant;
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let after = Duration::from_millis(10);
/// let ready = within_at("X(h:1)", "get", Instant::now() + after, after, async { 7 }).await;
/// assert_eq!(ready.unwrap(), 7);
/// let hung = within_at("X(h:1)", "get", Instant::now() + after, after, std::future::pending::<()>()).await;
/// assert!(matches!(hung, Err(CacheError::Timeout { operation: "get", .. })));
/// # });
/// ```
pub async fn within_at<T>(
    backend: &str,
    operation: &'static str,
    at: Instant,
    after: Duration,
    work: impl Future<Output = T>,
) -> Result<T> {
    let mut work = pin!(work);
    let first = poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await;
    if let Poll::Ready(done) = first {
        return Ok(done);
    }
    tokio::time::timeout_at(at, work)
        .await
        .map_err(|_| timed_out(backend, operation, after))
}

/// One timer that a connection keeps for all its operations, re-armed for each.
///
/// Between operations the timer stays registered with its last deadline; when it fires then,
/// it wakes the task that ran the last operation once, which finds nothing to do. It belongs to
/// the Tokio runtime it was made on, as the connection's socket does.
///
/// ```
/// use std::time::Duration;
/// use openviper_cache_core::{CacheError, deadline::Deadline};
/// use tokio::time::Instant;
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let after = Duration::from_millis(10);
/// let mut deadline = Deadline::new();
/// for n in 0..3 {
///     let answer = deadline.run("X(h:1)", "get", Instant::now() + after, after, async { n }).await;
///     assert_eq!(answer.unwrap(), n);
/// }
/// let hung = deadline.run("X(h:1)", "get", Instant::now() + after, after, std::future::pending::<()>()).await;
/// assert!(matches!(hung, Err(CacheError::Timeout { operation: "get", .. })));
/// // The same timer bounds the next operation again.
/// assert_eq!(deadline.run("X(h:1)", "get", Instant::now() + after, after, async { 9 }).await.unwrap(), 9);
/// # });
/// ```
#[derive(Debug)]
pub struct Deadline {
    sleep: Pin<Box<Sleep>>,
}

impl Deadline {
    /// A timer of the current Tokio runtime, armed by [`Deadline::run`].
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime with its time driver enabled, as every Tokio timer does.
    #[expect(
        clippy::new_without_default,
        reason = "a default that panics outside a runtime would surprise"
    )]
    pub fn new() -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
        }
    }

    /// `work`'s result, or [`CacheError::Timeout`](crate::CacheError::Timeout) naming `backend`,
    /// `operation` and `after` (the configured timeout) once `at` has passed.
    pub async fn run<T>(
        &mut self,
        backend: &str,
        operation: &'static str,
        at: Instant,
        after: Duration,
        work: impl Future<Output = T>,
    ) -> Result<T> {
        let mut sleep = self.sleep.as_mut();
        sleep.as_mut().reset(at);
        let mut work = pin!(work);
        // The work first: an answer that is ready wins over a deadline passed meanwhile.
        poll_fn(|cx| match work.as_mut().poll(cx) {
            Poll::Ready(done) => Poll::Ready(Ok(done)),
            Poll::Pending => sleep
                .as_mut()
                .poll(cx)
                .map(|()| Err(timed_out(backend, operation, after))),
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::CacheError;

    fn after(ms: u64) -> (Instant, Duration) {
        let after = Duration::from_millis(ms);
        (Instant::now() + after, after)
    }

    #[tokio::test]
    async fn a_timer_that_fired_while_idle_bounds_the_next_operation_anew() {
        let mut deadline = Deadline::new();
        let (at, limit) = after(20);
        assert_eq!(
            deadline
                .run("X", "get", at, limit, async { 1 })
                .await
                .unwrap(),
            1
        );
        // Idle past the last deadline: the timer fires with no operation under way.
        tokio::time::sleep(Duration::from_millis(60)).await;
        let (at, limit) = after(2_000);
        let slow = async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            2
        };
        assert_eq!(deadline.run("X", "get", at, limit, slow).await.unwrap(), 2);
        let (at, limit) = after(20);
        let hung = deadline.run("X", "set", at, limit, std::future::pending::<()>());
        match hung.await {
            Err(CacheError::Timeout {
                backend,
                operation,
                after,
            }) => assert_eq!((backend.as_str(), operation, after), ("X", "set", limit)),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_later_deadline_moves_the_armed_timer() {
        let mut deadline = Deadline::new();
        for n in 0..50 {
            let (at, limit) = after(5_000);
            assert_eq!(
                deadline
                    .run("X", "get", at, limit, async { n })
                    .await
                    .unwrap(),
                n
            );
        }
        // An earlier deadline than the one armed still cuts the operation short.
        let (at, limit) = after(10);
        let hung = deadline.run("X", "get", at, limit, std::future::pending::<()>());
        assert!(matches!(hung.await, Err(CacheError::Timeout { .. })));
    }

    #[tokio::test]
    async fn within_at_bounds_only_what_is_not_ready() {
        let (at, limit) = after(20);
        assert_eq!(
            within_at("X", "get", at, limit, async { 3 }).await.unwrap(),
            3
        );
        let (at, limit) = after(2_000);
        let slow = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            4
        };
        assert_eq!(within_at("X", "get", at, limit, slow).await.unwrap(), 4);
        let (at, limit) = after(20);
        let hung = within_at("X", "get", at, limit, std::future::pending::<()>());
        assert!(matches!(hung.await, Err(CacheError::Timeout { .. })));
    }
}
