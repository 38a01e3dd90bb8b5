//! MySQL and MariaDB through diesel-async (mysql_async beneath).

use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use crate::server::diesel_driver;

diesel_driver!(Mysql, AsyncMysqlConnection);

/// The TLS settings of a connection: the server's certificate verified against the bundled
/// web roots plus `ca_file`.
pub(crate) fn tls_opts(ca_file: Option<&std::path::Path>) -> Result<mysql_async::SslOpts, String> {
    let mut tls = mysql_async::SslOpts::default();
    if let Some(path) = ca_file {
        // mysql_async reads the file when it connects: read it now too, so a missing or
        // empty file is a `Config` error naming the option, not a failure of every operation.
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("tls_ca_file: {}: {e}", path.display()))?;
        if !text.contains("-----BEGIN CERTIFICATE-----") {
            return Err(format!(
                "tls_ca_file: {} holds no certificate",
                path.display()
            ));
        }
        tls = tls.with_root_certs(vec![path.to_path_buf().into()]);
    }
    Ok(tls)
}

/// A pool of at most `size` connections to `url`.
///
/// Each connection reports changed rows, not found rows (so an `add` that finds a live row
/// counts 0), reads committed data (no gap locks: concurrent `incr`s of a missing key do not
/// deadlock each other), and asks the server to stop a statement after `timeout`
/// (`max_statement_time` on MariaDB, `max_execution_time` on MySQL). Recycling checks the
/// connection's own state only, without a round trip.
pub(crate) fn pool(
    url: &str,
    size: usize,
    timeout: Duration,
    tls: Option<mysql_async::SslOpts>,
) -> Result<Pool<AsyncMysqlConnection>, String> {
    let timeout_ms = timeout.as_millis().max(1);
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |url| {
        let url = url.to_owned();
        let tls = tls.clone();
        Box::pin(async move {
            let opts = mysql_async::Opts::from_url(&url)
                .map_err(|e| ConnectionError::InvalidConnectionUrl(e.to_string()))?;
            let mut opts = mysql_async::OptsBuilder::from_opts(opts)
                .client_found_rows(false)
                .stmt_cache_size(0);
            if let Some(tls) = tls {
                opts = opts.ssl_opts(tls);
            }
            let conn = mysql_async::Conn::new(opts)
                .await
                .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
            let mut conn = AsyncMysqlConnection::try_from(conn).await?;
            diesel::sql_query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                .execute(&mut conn)
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            let mariadb = format!(
                "SET SESSION max_statement_time = {}",
                timeout_ms as f64 / 1000.0
            );
            if diesel::sql_query(mariadb).execute(&mut conn).await.is_err() {
                diesel::sql_query(format!("SET SESSION max_execution_time = {timeout_ms}"))
                    .execute(&mut conn)
                    .await
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
            }
            Ok(conn)
        })
    });
    let manager =
        AsyncDieselConnectionManager::<AsyncMysqlConnection>::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(size)
        .build()
        .map_err(|e| format!("pool_size: {e}"))
}
