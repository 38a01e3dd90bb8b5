//! Reaching a server without ever hanging a caller: per-operation timeouts, and connecting in
//! the background, one attempt at a time, while callers wait for it a bounded time.
//!
//! Network backends use both, so that every operation ends within `timeout_ms` (plus
//! `connect_timeout_ms` when it had to connect), whatever the server does: refuse, accept and
//! never answer (a frozen or black-holed host), or answer slowly.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use crate::error::{CacheError, Result};

/// `operation`'s own result, or [`CacheError::Timeout`] naming `backend` and `operation` once
/// `after` has passed. Dropping the operation's future at the deadline must leave the client in
/// a state where no late reply reaches another caller: the backend's client guarantees that.
///
/// ```
/// use std::time::Duration;
/// use openviper_cache_core::{CacheError, connect::within};
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let slow = within("X(h:1)", "get", Duration::from_millis(10), std::future::pending::<()>()).await;
/// assert!(matches!(slow, Err(CacheError::Timeout { operation: "get", .. })));
/// assert_eq!(within("X(h:1)", "get", Duration::from_secs(1), async { 7 }).await.unwrap(), 7);
/// # });
/// ```
pub async fn within<T>(
    backend: &str,
    operation: &'static str,
    after: Duration,
    work: impl Future<Output = T>,
) -> Result<T> {
    tokio::time::timeout(after, work)
        .await
        .map_err(|_| timed_out(backend, operation, after))
}

/// The error of `operation` on `backend` cut short after `after`.
pub(crate) fn timed_out(backend: &str, operation: &'static str, after: Duration) -> CacheError {
    CacheError::Timeout {
        backend: backend.to_owned(),
        operation,
        after,
    }
}

/// Why a caller got no connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError<E> {
    /// The attempt under way did not finish within the caller's wait; it goes on in the
    /// background, and a later caller may find it connected.
    TimedOut,
    /// The attempt failed with this error; the next caller starts a new one.
    Failed(E),
    /// The attempt's task went away without an answer (its runtime shut down).
    Abandoned,
}

type Outcome<E> = Option<std::result::Result<(), E>>;

/// One connection (or pool) and its state: connected, being connected by one background
/// attempt, or idle after a failure.
///
/// The attempt runs as its own task, so no caller's timeout or cancellation can leave it half
/// done, and no lock is held while anything is awaited: callers wait on the attempt's outcome,
/// each for at most its own bound. An attempt that finishes after its callers gave up still
/// connects the object for the next caller.
///
/// ```
/// use std::time::Duration;
/// use openviper_cache_core::connect::{ConnectError, Connector};
/// # tokio::runtime::Builder::new_multi_thread().enable_time().build().unwrap().block_on(async {
/// let link: Connector<String> = Connector::new();
/// let wait = Duration::from_millis(50);
/// // A server that never answers: the caller is told within its wait, the attempt goes on.
/// let slow = link.connect(wait, || async { tokio::time::sleep(Duration::from_millis(200)).await; Ok(()) }).await;
/// assert_eq!(slow, Err(ConnectError::TimedOut));
/// tokio::time::sleep(Duration::from_millis(300)).await;
/// assert!(link.is_connected()); // the background attempt finished
/// link.disconnected();
/// let refused = link.connect(wait, || async { Err("refused".to_string()) }).await;
/// assert_eq!(refused, Err(ConnectError::Failed("refused".into())));
/// # });
/// ```
#[derive(Debug)]
pub struct Connector<E> {
    inner: Arc<Inner<E>>,
}

#[derive(Debug)]
struct Inner<E> {
    connected: AtomicBool,
    attempt: Mutex<Option<watch::Receiver<Outcome<E>>>>,
}

impl<E> Default for Connector<E> {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                connected: AtomicBool::new(false),
                attempt: Mutex::new(None),
            }),
        }
    }
}

impl<E: Clone + Send + Sync + 'static> Connector<E> {
    /// Not connected yet; nothing is started until [`Connector::connect`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the last attempt connected (and nothing since said otherwise).
    #[inline]
    pub fn is_connected(&self) -> bool {
        self.inner.connected.load(Ordering::Acquire)
    }

    /// Marks the connection closed (after `close()`): the next [`Connector::connect`] connects
    /// again.
    pub fn disconnected(&self) {
        self.inner.connected.store(false, Ordering::Release);
    }

    /// Connected, or why not within `wait`. Joins the attempt under way, or starts one with
    /// `attempt` in a task of its own; a failed attempt is reported to every caller waiting on
    /// it, and the next caller starts a new one.
    pub async fn connect<F, Fut>(
        &self,
        wait: Duration,
        attempt: F,
    ) -> std::result::Result<(), ConnectError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<(), E>> + Send + 'static,
    {
        if self.is_connected() {
            return Ok(());
        }
        let mut outcome = {
            let mut current = self
                .inner
                .attempt
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if self.is_connected() {
                return Ok(());
            }
            match current.as_ref() {
                // Still under way (no outcome yet, and its task still holds the sender).
                Some(rx) if rx.borrow().is_none() && rx.has_changed().is_ok() => rx.clone(),
                _ => {
                    let (tx, rx) = watch::channel(None);
                    let inner = Arc::clone(&self.inner);
                    let work = attempt();
                    tokio::spawn(async move {
                        let result = work.await;
                        if result.is_ok() {
                            inner.connected.store(true, Ordering::Release);
                        }
                        tx.send_replace(Some(result));
                    });
                    *current = Some(rx.clone());
                    rx
                }
            }
        };
        match tokio::time::timeout(wait, outcome.wait_for(Option::is_some)).await {
            Err(_) => Err(ConnectError::TimedOut),
            Ok(Err(_)) => Err(ConnectError::Abandoned),
            Ok(Ok(result)) => match &*result {
                Some(Ok(())) => Ok(()),
                Some(Err(error)) => Err(ConnectError::Failed(error.clone())),
                None => Err(ConnectError::Abandoned),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_callers_share_one_attempt_and_none_waits_past_its_bound() {
        let link: Connector<String> = Connector::new();
        let attempts = Arc::new(AtomicUsize::new(0));
        let mut callers = Vec::new();
        for _ in 0..16 {
            let (link, attempts) = (
                Connector {
                    inner: Arc::clone(&link.inner),
                },
                Arc::clone(&attempts),
            );
            callers.push(tokio::spawn(async move {
                let started = tokio::time::Instant::now();
                let answer = link
                    .connect(Duration::from_millis(100), move || async move {
                        attempts.fetch_add(1, Ordering::SeqCst);
                        std::future::pending::<std::result::Result<(), String>>().await
                    })
                    .await;
                (answer, started.elapsed())
            }));
        }
        for caller in callers {
            let (answer, took) = caller.await.unwrap();
            assert_eq!(answer, Err(ConnectError::TimedOut));
            assert!(took < Duration::from_secs(5), "{took:?}");
        }
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_attempt_is_followed_by_a_fresh_one() {
        let link: Connector<&'static str> = Connector::new();
        let wait = Duration::from_secs(5);
        assert_eq!(
            link.connect(wait, || async { Err("refused") }).await,
            Err(ConnectError::Failed("refused"))
        );
        assert!(!link.is_connected());
        assert_eq!(link.connect(wait, || async { Ok(()) }).await, Ok(()));
        assert!(link.is_connected());
        // Connected: the attempt is not run again.
        assert_eq!(
            link.connect(wait, || async { Err("not called") }).await,
            Ok(())
        );
    }
}
