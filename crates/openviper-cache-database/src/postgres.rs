//! PostgreSQL through diesel-async (tokio-postgres beneath), plain or over TLS (rustls).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::server::diesel_driver;

diesel_driver!(Postgres, AsyncPgConnection);

/// The TLS settings of a connection: the roots its server's certificate must chain to.
pub(crate) fn tls_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A broken system certificate should not stop an explicitly given CA from working.
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let fail = |e: &dyn std::fmt::Display| format!("tls_ca_file: {}: {e}", path.display());
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| fail(&e))? {
            roots
                .add(cert.map_err(|e| fail(&e))?)
                .map_err(|e| fail(&e))?;
            added += 1;
        }
        if added == 0 {
            return Err(fail(&"holds no certificate"));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Connects to `url`, over TLS (`sslmode=require`, the certificate verified) when `tls` is set.
async fn connect(
    url: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> diesel::ConnectionResult<AsyncPgConnection> {
    let Some(tls) = tls else {
        return AsyncPgConnection::establish(url).await;
    };
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| ConnectionError::InvalidConnectionUrl(e.to_string()))?;
    config.ssl_mode(tokio_postgres::config::SslMode::Require);
    let connector = tokio_postgres_rustls::MakeRustlsConnect::new((*tls).clone());
    let (client, connection) = config
        .connect(connector)
        .await
        .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
    AsyncPgConnection::try_from_client_and_connection(client, connection).await
}

/// A pool of at most `size` connections to `url`. Each connection sets `statement_timeout`, so
/// the server itself gives up on a statement the caller stopped waiting for. Recycling checks
/// the connection's own state only (closed, or left in a transaction), without a round trip.
pub(crate) fn pool(
    url: &str,
    size: usize,
    timeout: Duration,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Pool<AsyncPgConnection>, String> {
    let statement_timeout = format!("SET statement_timeout = {}", timeout.as_millis().max(1));
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |url| {
        let statement_timeout = statement_timeout.clone();
        let url = url.to_owned();
        let tls = tls.clone();
        Box::pin(async move {
            let mut conn = connect(&url, tls).await?;
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
