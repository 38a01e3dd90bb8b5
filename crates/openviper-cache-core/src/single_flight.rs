//! One loader run per cache instance and key, however many callers miss at once.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use bytes::Bytes;
use tokio::sync::watch;

/// What the leader of a flight publishes: the encoded value, or the loader's error.
pub(crate) type Outcome = Result<Bytes, Arc<dyn std::error::Error + Send + Sync>>;

type FlightKey = (usize, String);
type Flights = HashMap<FlightKey, watch::Receiver<Option<Outcome>>>;

static FLIGHTS: LazyLock<Mutex<Flights>> = LazyLock::new(Mutex::default);

/// A caller's place in a flight.
pub(crate) enum Role {
    /// Runs the loader and must call [`Leader::finish`].
    Leader(Leader),
    /// Waits for the leader's outcome.
    Follower(watch::Receiver<Option<Outcome>>),
}

/// Joins the flight for (`cache`, `key`), leading it when none is under way.
pub(crate) fn join(cache: usize, key: &str) -> Role {
    let mut flights = FLIGHTS.lock().unwrap_or_else(PoisonError::into_inner);
    let flight_key = (cache, key.to_owned());
    if let Some(rx) = flights.get(&flight_key) {
        // A flight whose leader was dropped has no sender left: take it over.
        if rx.has_changed().is_ok() {
            return Role::Follower(rx.clone());
        }
    }
    let (tx, rx) = watch::channel(None);
    flights.insert(flight_key.clone(), rx);
    Role::Leader(Leader {
        key: flight_key,
        tx: Some(tx),
    })
}

/// The caller that runs the loader. Dropping it without [`Leader::finish`] (the caller's future
/// was cancelled) releases the followers, and one of them leads a new flight.
pub(crate) struct Leader {
    key: FlightKey,
    tx: Option<watch::Sender<Option<Outcome>>>,
}

impl Leader {
    /// Publishes the outcome to every follower and ends the flight.
    pub(crate) fn finish(mut self, outcome: Outcome) {
        if let Some(tx) = self.tx.take() {
            tx.send_replace(Some(outcome));
        }
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        let mut flights = FLIGHTS.lock().unwrap_or_else(PoisonError::into_inner);
        flights.remove(&self.key);
    }
}

tokio::task_local! {
    /// The flights whose loaders the current task is running, outermost first.
    static LOADING: Vec<FlightKey>;
}

/// Whether the current task is running the loader of the flight for (`cache`, `key`): joining
/// that flight would wait for itself.
pub(crate) fn is_loading(cache: usize, key: &str) -> bool {
    LOADING
        .try_with(|loading| loading.iter().any(|(c, k)| *c == cache && k == key))
        .unwrap_or(false)
}

/// Runs `loader`, marked as the loader of the flight for (`cache`, `key`) (and of the flights
/// around it), so that [`is_loading`] sees it.
pub(crate) async fn run_loader<F: std::future::Future>(
    cache: usize,
    key: &str,
    loader: F,
) -> F::Output {
    let mut loading = LOADING.try_with(Clone::clone).unwrap_or_default();
    loading.push((cache, key.to_owned()));
    LOADING.scope(loading, loader).await
}

/// Waits for the leader; `None` when the leader went away without an outcome.
pub(crate) async fn wait(mut rx: watch::Receiver<Option<Outcome>>) -> Option<Outcome> {
    match rx.wait_for(Option::is_some).await {
        Ok(outcome) => outcome.clone(),
        Err(_) => None,
    }
}
