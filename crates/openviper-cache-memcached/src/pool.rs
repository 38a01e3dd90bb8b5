//! One deadpool pool of async-memcached clients per server.
//!
//! Recycling checks the client's own state (`is_closed()`: an operation that was cancelled or
//! failed half way closed it), with no round trip to the server: deadpool-memcached's `version`
//! ping on every checkout doubled the round trips per operation. A client whose operation was
//! cut short is closed by async-memcached 0.9 itself, so no late reply can ever be read as the
//! answer to the next caller's request; the pool then drops it.
//!
//! Each pooled client keeps its own [`Deadline`], re-armed for every command: a fresh Tokio
//! timer per command took the time driver's lock twice, which cost 4–6 % at 64 tasks.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use async_memcached::{Client, Error as McError};
use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use openviper_cache_core::deadline::Deadline;

use crate::options::Server;

/// Creates and recycles clients of one server.
#[derive(Debug)]
pub(crate) struct Manager {
    dsn: String,
    connect_timeout: Duration,
}

/// A client and the timer that bounds its commands.
pub(crate) struct Link {
    client: Client,
    /// Lent to the command under way ([`Link::lend_deadline`]); made on first use.
    deadline: Option<Deadline>,
}

impl Link {
    /// This client's timer, taken for one command and given back with
    /// [`Link::return_deadline`].
    pub(crate) fn lend_deadline(&mut self) -> Deadline {
        self.deadline.take().unwrap_or_else(Deadline::new)
    }

    pub(crate) fn return_deadline(&mut self, deadline: Deadline) {
        self.deadline = Some(deadline);
    }
}

impl Deref for Link {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl DerefMut for Link {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl managed::Manager for Manager {
    type Type = Link;
    type Error = McError;

    async fn create(&self) -> Result<Link, McError> {
        match tokio::time::timeout(self.connect_timeout, Client::new(&self.dsn)).await {
            Ok(connected) => connected.map(|client| Link {
                client,
                deadline: None,
            }),
            Err(_) => Err(McError::Connect(std::io::ErrorKind::TimedOut.into())),
        }
    }

    async fn recycle(&self, client: &mut Link, _: &Metrics) -> RecycleResult<McError> {
        if client.is_closed() {
            return Err(RecycleError::message(
                "the connection was closed by an incomplete operation",
            ));
        }
        Ok(())
    }
}

/// The pool of one server.
pub(crate) type Pool = managed::Pool<Manager>;
/// A client checked out of a [`Pool`].
pub(crate) type Connection = managed::Object<Manager>;

/// A pool of at most `size` clients of `server`, each connected within `connect_timeout`.
/// Nothing connects until the first checkout.
pub(crate) fn build(
    server: &Server,
    size: usize,
    connect_timeout: Duration,
) -> Result<Pool, String> {
    let manager = Manager {
        dsn: format!("tcp://{}", server.dsn()),
        connect_timeout,
    };
    Pool::builder(manager)
        .max_size(size)
        .build()
        .map_err(|e| format!("pool_size: {e}"))
}
