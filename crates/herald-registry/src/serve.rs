//! Serving the registry: the start-up rules, TLS (rustls), and the client addresses the
//! failed-login limit counts by. The binary and embedders go through here.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;

use crate::{AppState, Settings, install_metrics, router};

/// How long open connections get to finish once shutdown is asked for (TLS).
const DRAIN: Duration = Duration::from_secs(10);

/// A PEM certificate chain and its private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The server certificate, then any intermediates.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Where and how to serve, and what the operator allowed.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// HTTPS with these files; plain HTTP without.
    pub tls: Option<TlsFiles>,
    /// Serve without credentials on a non-loopback address.
    pub allow_anonymous: bool,
    /// Take credentials over plain HTTP on a non-loopback address.
    pub allow_plaintext: bool,
}

impl ServeOptions {
    /// Plain HTTP on `listen`, nothing allowed beyond the rules.
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            tls: None,
            allow_anonymous: false,
            allow_plaintext: false,
        }
    }
}

/// Why the registry will not serve.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to serve {0} without authentication: configure --auth-file/--auth or pass --allow-anonymous"
    )]
    Anonymous(SocketAddr),
    #[error(
        "refusing to take credentials over plain HTTP on {0}: configure --tls-cert and --tls-key or pass --allow-plaintext"
    )]
    Plaintext(SocketAddr),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The start-up rules: off loopback, no anonymous serving unless allowed, and no credentials
/// over plain HTTP unless allowed. Cheap: check before opening the store.
pub fn check(settings: &Settings, options: &ServeOptions) -> Result<(), ServeError> {
    if options.listen.ip().is_loopback() {
        return Ok(());
    }
    if settings.auth.is_none() && !options.allow_anonymous {
        return Err(ServeError::Anonymous(options.listen));
    }
    if settings.auth.is_some() && options.tls.is_none() && !options.allow_plaintext {
        return Err(ServeError::Plaintext(options.listen));
    }
    Ok(())
}

fn load_tls(files: &TlsFiles) -> Result<RustlsConfig, ServeError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            ServeError::Tls(format!("reading certificate {}: {e}", files.cert.display()))
        })?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "no certificate in {}",
            files.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        ServeError::Tls(format!("reading private key {}: {e}", files.key.display()))
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ServeError::Tls(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| ServeError::Tls(format!("certificate and key: {e}")))?;
    // The server speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

/// A bound registry, ready to [`run`](Server::run).
pub struct Server {
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
    tls: Option<RustlsConfig>,
    app: axum::Router,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Server {
    /// Checks the start-up rules, loads TLS, binds, and installs the process-wide metrics
    /// recorder `/metrics` renders ([`install_metrics`]).
    pub async fn bind(state: AppState, options: ServeOptions) -> Result<Self, ServeError> {
        check(&state.settings, &options)?;
        let tls = options.tls.as_ref().map(load_tls).transpose()?;
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: options.listen,
                source,
            })?;
        let local_addr = listener.local_addr()?;
        if !install_metrics() {
            tracing::warn!(
                "another metrics recorder is installed: /metrics will answer 503 and the registry's metrics go to that recorder"
            );
        }
        Ok(Self {
            listener,
            local_addr,
            tls,
            app: router(state),
        })
    }

    /// The bound address (the port chosen when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Whether it serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves until `shutdown` completes, then lets open requests finish.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        let app = self.app.into_make_service_with_connect_info::<SocketAddr>();
        match self.tls {
            None => {
                axum::serve(self.listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
            Some(tls) => {
                let handle = axum_server::Handle::new();
                let on_shutdown = handle.clone();
                tokio::spawn(async move {
                    shutdown.await;
                    on_shutdown.graceful_shutdown(Some(DRAIN));
                });
                axum_server::from_tcp_rustls(self.listener.into_std()?, tls)
                    .handle(handle)
                    .serve(app)
                    .await
            }
        }
    }
}

/// [`Server::bind`] then [`Server::run`].
pub async fn serve(
    state: AppState,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    Server::bind(state, options).await?.run(shutdown).await?;
    Ok(())
}
