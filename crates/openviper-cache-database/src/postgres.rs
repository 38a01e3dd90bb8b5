//! PostgreSQL through diesel-async (tokio-postgres beneath).

use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::server::diesel_driver;

diesel_driver!(Postgres, AsyncPgConnection);

/// A pool of at most `size` connections to `url`. Each connection sets `statement_timeout`, so
/// the server itself gives up on a statement the caller stopped waiting for. Recycling checks
/// the connection's own state only (closed, or left in a transaction), without a round trip.
pub(crate) fn pool(
    url: &str,
    size: usize,
    timeout: Duration,
) -> Result<Pool<AsyncPgConnection>, String> {
    let statement_timeout = format!("SET statement_timeout = {}", timeout.as_millis().max(1));
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |url| {
        let statement_timeout = statement_timeout.clone();
        let url = url.to_owned();
        Box::pin(async move {
            let mut conn = AsyncPgConnection::establish(&url).await?;
            diesel::sql_query(statement_timeout)
                .execute(&mut conn)
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        })
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(size)
        .build()
        .map_err(|e| format!("pool_size: {e}"))
}
