//! From `RedisOptions` to a fred pool: server layout, credentials, TLS, timeouts, reconnection.

use std::time::Duration;

use fred::prelude::{Builder, Config, Pool, ReconnectPolicy, Server, ServerConfig};
use fred::rustls::pki_types::CertificateDer;
use fred::rustls::pki_types::pem::PemObject;
use fred::rustls::{ClientConfig, RootCertStore};
use fred::types::config::{
    ClusterDiscoveryPolicy, TlsConfig, TlsConnector, TlsHostMapping, UnresponsiveConfig,
};

use crate::options::RedisOptions;

/// Builds the pool without connecting; the first command connects. `Err` names the option.
pub(crate) fn build_pool(options: &RedisOptions) -> Result<Pool, String> {
    if options.pool_size == 0 {
        return Err("pool_size: must be at least 1".into());
    }
    if options.timeout_ms == 0 {
        return Err("timeout_ms: must be at least 1 (there is no \"no timeout\")".into());
    }
    if options.connect_timeout_ms == 0 {
        return Err("connect_timeout_ms: must be at least 1 (there is no \"no timeout\")".into());
    }
    let mut config = match &options.url {
        Some(url) => {
            if !options.cluster_nodes.is_empty() || !options.sentinel_nodes.is_empty() {
                return Err(
                    "url: give either url or cluster_nodes/sentinel_nodes, not both".into(),
                );
            }
            const SCHEMES: [&str; 6] = [
                "redis://",
                "rediss://",
                "redis-cluster://",
                "rediss-cluster://",
                "redis-sentinel://",
                "rediss-sentinel://",
            ];
            if !SCHEMES.iter().any(|scheme| url.starts_with(scheme)) {
                return Err(format!(
                    "url: {} does not start with one of {}",
                    crate::options::redact_url(url),
                    SCHEMES.join(", ")
                ));
            }
            // fred's message may quote the URL: never its credentials.
            Config::from_url(url).map_err(|e| {
                let secrets = openviper_cache_core::redact::url_secrets(url);
                let details = openviper_cache_core::redact::scrub(e.details(), &secrets);
                format!("url: {}: {details}", crate::options::redact_url(url))
            })?
        }
        None => Config {
            server: server_config(options)?,
            database: options.cluster_nodes.is_empty().then_some(options.db),
            ..Config::default()
        },
    };
    if options.username.is_some() {
        config.username.clone_from(&options.username);
    }
    if let Some(password) = &options.password {
        config.password = Some(password.expose().to_owned());
    }
    if options.tls || options.tls_ca_file.is_some() {
        config.tls = Some(tls_config(options)?);
    }
    // A first connection that fails is reported to the caller (and retried by the next call),
    // never retried forever in the background.
    config.fail_fast = true;

    let timeout = Duration::from_millis(options.timeout_ms);
    let connect_timeout = Duration::from_millis(options.connect_timeout_ms);
    // Commands are timed by RedisCache itself (fred's `default_command_timeout` stays off: it
    // cost ~40 % of the throughput under load). A standalone or Sentinel connection that stops
    // answering is found by RedisCache's probe after a timeout; fred's `unresponsive` check
    // (a timer per turn of each connection's loop, ~8 % at 64 tasks) watches only a cluster,
    // whose connections to each node the probe does not reach one by one.
    let clustered = config.server.is_clustered();
    let unresponsive = timeout.saturating_mul(2).max(Duration::from_millis(100));
    Builder::from_config(config)
        .with_connection_config(|conn| {
            conn.connection_timeout = connect_timeout;
            conn.internal_command_timeout = connect_timeout;
            if clustered {
                conn.unresponsive = UnresponsiveConfig {
                    max_timeout: Some(unresponsive),
                    interval: (unresponsive / 4).max(Duration::from_millis(10)),
                };
            }
            // A command in flight when its connection dies is not written again: an `incr` must
            // never be applied twice.
            conn.max_command_attempts = 1;
        })
        // Reconnect forever, 100 ms doubling to 2 s between attempts: a server that comes back is
        // used again by the same cache object.
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
        .build_pool(options.pool_size)
        .map_err(|e| e.details().to_owned())
}

fn parse_node(node: &str, option: &str) -> Result<Server, String> {
    let (host, port) = node
        .rsplit_once(':')
        .ok_or_else(|| format!("{option}: {node:?} is not host:port"))?;
    let port = port
        .parse::<u16>()
        .map_err(|_| format!("{option}: {node:?} has no valid port"))?;
    Ok(Server::new(host.trim_matches(['[', ']']), port))
}

fn server_config(options: &RedisOptions) -> Result<ServerConfig, String> {
    match (
        options.cluster_nodes.as_slice(),
        options.sentinel_nodes.as_slice(),
    ) {
        ([], []) => Ok(ServerConfig::new_centralized(
            options.host.as_str(),
            options.port,
        )),
        (nodes, []) => Ok(ServerConfig::Clustered {
            hosts: nodes
                .iter()
                .map(|n| parse_node(n, "cluster_nodes"))
                .collect::<Result<_, _>>()?,
            policy: ClusterDiscoveryPolicy::default(),
        }),
        ([], nodes) => {
            let service_name = options
                .service_name
                .clone()
                .ok_or("service_name: required with sentinel_nodes")?;
            Ok(ServerConfig::Sentinel {
                hosts: nodes
                    .iter()
                    .map(|n| parse_node(n, "sentinel_nodes"))
                    .collect::<Result<_, _>>()?,
                service_name,
            })
        }
        _ => Err("cluster_nodes: give either cluster_nodes or sentinel_nodes, not both".into()),
    }
}

fn tls_config(options: &RedisOptions) -> Result<TlsConfig, String> {
    let connector = match &options.tls_ca_file {
        None => TlsConnector::default_rustls().map_err(|e| format!("tls: {}", e.details()))?,
        Some(path) => {
            let mut roots = RootCertStore::empty();
            let native = fred::rustls_native_certs::load_native_certs();
            for cert in native.certs {
                // A broken system certificate should not stop an explicitly given CA from working.
                let _ = roots.add(cert);
            }
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("tls_ca_file: {}: {e}", path.display()))?;
            let mut added = 0;
            for cert in certs {
                let cert = cert.map_err(|e| format!("tls_ca_file: {}: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("tls_ca_file: {}: {e}", path.display()))?;
                added += 1;
            }
            if added == 0 {
                return Err(format!(
                    "tls_ca_file: {} holds no certificate",
                    path.display()
                ));
            }
            ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth()
                .into()
        }
    };
    Ok(TlsConfig {
        connector,
        hostnames: TlsHostMapping::None,
    })
}
