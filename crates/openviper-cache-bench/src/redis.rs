//! RedisCache and DragonflyCache beside raw fred on the same server, pool size and keys.

use bytes::Bytes;
use fred::prelude::{Builder, ClientLike, Config, KeysInterface, Pool};

use openviper_cache_workload::Target;

/// Raw fred: GET / SET of the same 100 bytes under the same full keys.
pub(crate) struct RawFred {
    pool: Pool,
    prefix: String,
    value: Bytes,
}

impl RawFred {
    pub(crate) async fn connect(
        url: &str,
        pool_size: usize,
        prefix: &str,
        value: Bytes,
        timeout: Option<std::time::Duration>,
    ) -> Result<Self, String> {
        let config = Config::from_url(url).map_err(|e| e.to_string())?;
        let pool = Builder::from_config(config)
            .with_performance_config(|p| {
                if let Some(t) = timeout {
                    p.default_command_timeout = t
                }
            })
            .build_pool(pool_size)
            .map_err(|e| e.to_string())?;
        pool.init().await.map_err(|e| e.to_string())?;
        Ok(Self {
            pool,
            prefix: prefix.to_owned(),
            value,
        })
    }
}

impl Target for RawFred {
    async fn get(&self, key: &str) -> Result<bool, String> {
        let value: Option<Bytes> = self
            .pool
            .get(format!("{}{key}", self.prefix))
            .await
            .map_err(|e| e.to_string())?;
        Ok(value.is_some())
    }
    async fn set(&self, key: &str, _value: &str) -> Result<(), String> {
        self.pool
            .set::<(), _, _>(
                format!("{}{key}", self.prefix),
                self.value.clone(),
                None,
                None,
                false,
            )
            .await
            .map_err(|e| e.to_string())
    }
}
