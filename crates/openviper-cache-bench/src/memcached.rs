//! MemcachedCache beside raw async-memcached 0.9 behind a pool that does not ping (the client
//! beneath it), and deadpool-memcached 0.5 (async-memcached 0.7, a `version` ping on every
//! checkout), on the same server, pool size and keys.

use async_memcached::AsciiProtocol;
use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};

use openviper_cache_workload::Target;

/// async-memcached 0.9 clients, recycled on their own state: what MemcachedCache's pools do,
/// without any of the cache.
pub(crate) struct NoPing {
    dsn: String,
}

impl managed::Manager for NoPing {
    type Type = async_memcached::Client;
    type Error = async_memcached::Error;

    async fn create(&self) -> Result<Self::Type, Self::Error> {
        async_memcached::Client::new(&self.dsn).await
    }

    async fn recycle(&self, client: &mut Self::Type, _: &Metrics) -> RecycleResult<Self::Error> {
        if client.is_closed() {
            return Err(RecycleError::message("closed"));
        }
        Ok(())
    }
}

/// Raw async-memcached 0.9 in a no-ping pool: GET / SET of the same bytes under the same keys.
pub(crate) struct RawMemcached {
    pool: managed::Pool<NoPing>,
    prefix: String,
    value: Vec<u8>,
}

impl RawMemcached {
    pub(crate) fn new(
        server: &str,
        pool_size: usize,
        prefix: &str,
        value: &str,
    ) -> Result<Self, String> {
        let pool = managed::Pool::builder(NoPing {
            dsn: format!("tcp://{server}"),
        })
        .max_size(pool_size)
        .build()
        .map_err(|e| e.to_string())?;
        Ok(Self {
            pool,
            prefix: prefix.to_owned(),
            value: value.as_bytes().to_vec(),
        })
    }
}

impl Target for RawMemcached {
    async fn get(&self, key: &str) -> Result<bool, String> {
        let mut client = self.pool.get().await.map_err(|e| e.to_string())?;
        let value = client
            .get(format!("{}{key}", self.prefix))
            .await
            .map_err(|e| e.to_string())?;
        Ok(value.is_some())
    }
    async fn set(&self, key: &str, _value: &str) -> Result<(), String> {
        let mut client = self.pool.get().await.map_err(|e| e.to_string())?;
        client
            .set(
                format!("{}{key}", self.prefix),
                self.value.as_slice(),
                Some(0),
                None,
            )
            .await
            .map_err(|e| e.to_string())
    }
}

use async_memcached_07::AsciiProtocol as _;

/// deadpool-memcached 0.5 (async-memcached 0.7, `version` sent on every checkout).
pub(crate) struct DeadpoolMemcached {
    pool: deadpool_memcached::Pool,
    prefix: String,
    value: Vec<u8>,
}

impl DeadpoolMemcached {
    pub(crate) fn new(
        server: &str,
        pool_size: usize,
        prefix: &str,
        value: &str,
    ) -> Result<Self, String> {
        let pool = deadpool_memcached::Pool::builder(deadpool_memcached::Manager::new(format!(
            "tcp://{server}"
        )))
        .max_size(pool_size)
        .build()
        .map_err(|e| e.to_string())?;
        Ok(Self {
            pool,
            prefix: prefix.to_owned(),
            value: value.as_bytes().to_vec(),
        })
    }
}

impl Target for DeadpoolMemcached {
    async fn get(&self, key: &str) -> Result<bool, String> {
        let mut client = self.pool.get().await.map_err(|e| e.to_string())?;
        let value = client
            .get(format!("{}{key}", self.prefix))
            .await
            .map_err(|e| e.to_string())?;
        Ok(value.is_some())
    }
    async fn set(&self, key: &str, _value: &str) -> Result<(), String> {
        let mut client = self.pool.get().await.map_err(|e| e.to_string())?;
        client
            .set(
                format!("{}{key}", self.prefix),
                self.value.as_slice(),
                Some(0),
                None,
            )
            .await
            .map_err(|e| e.to_string())
    }
}
