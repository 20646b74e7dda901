//! The `herald-registry` server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use herald_registry::auth::Credentials;
use herald_registry::canonical::SchemaLimits;
use herald_registry::{AppState, Settings, router, store};

/// Confluent-compatible schema registry for JSON Schema, on PostgreSQL or SQLite.
// No Debug: the arguments may hold secrets (auth entries, database password).
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "HERALD_REGISTRY_LISTEN", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// `postgres://…` or `sqlite://path` (created if missing).
    #[arg(
        long,
        env = "HERALD_REGISTRY_DATABASE_URL",
        default_value = "sqlite://herald-registry.db",
        hide_env_values = true
    )]
    database_url: String,
    /// Database connections per process.
    #[arg(long, env = "HERALD_REGISTRY_POOL_SIZE", default_value_t = 16)]
    pool_size: u32,
    /// File of `role:user:secret` lines (roles read, write, admin; secret may be `sha256:<hex>`).
    #[arg(long, env = "HERALD_REGISTRY_AUTH_FILE")]
    auth_file: Option<std::path::PathBuf>,
    /// The same entries, comma-separated, from the environment.
    #[arg(long, env = "HERALD_REGISTRY_AUTH", hide_env_values = true)]
    auth: Option<String>,
    /// Serve without authentication on a non-loopback address.
    #[arg(long, env = "HERALD_REGISTRY_ALLOW_ANONYMOUS")]
    allow_anonymous: bool,
    /// Compatibility level when none is configured.
    #[arg(
        long,
        env = "HERALD_REGISTRY_DEFAULT_COMPATIBILITY",
        default_value = "BACKWARD"
    )]
    default_compatibility: String,
    /// Compatibility policy when none is configured (STRICT or LENIENT).
    #[arg(long, env = "HERALD_REGISTRY_DEFAULT_POLICY", default_value = "STRICT")]
    default_policy: String,
    /// Largest request body, in bytes.
    #[arg(long, env = "HERALD_REGISTRY_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Largest schema text, in bytes (42209 above it).
    #[arg(long, env = "HERALD_REGISTRY_MAX_SCHEMA_BYTES", default_value_t = 1024 * 1024)]
    max_schema_bytes: usize,
    /// Deepest schema nesting (42209 above it).
    #[arg(long, env = "HERALD_REGISTRY_MAX_SCHEMA_DEPTH", default_value_t = 64)]
    max_schema_depth: usize,
    /// Seconds before a request fails with 50002.
    #[arg(long, env = "HERALD_REGISTRY_REQUEST_TIMEOUT", default_value_t = 30)]
    request_timeout: u64,
    /// error_code of an incompatible schema: 409 (historic) or 40901 (Confluent 8).
    #[arg(
        long,
        env = "HERALD_REGISTRY_INCOMPATIBLE_ERROR_CODE",
        default_value_t = 409
    )]
    incompatible_error_code: u32,
    /// Seconds a compatibility check (or schema validation) may take before it fails with 50002.
    #[arg(long, env = "HERALD_REGISTRY_CHECK_TIMEOUT", default_value_t = 10.0)]
    check_timeout: f64,
    /// Checks run at once (on tokio's blocking pool; at most 500); default: the number of CPUs.
    #[arg(long, env = "HERALD_REGISTRY_MAX_CONCURRENT_CHECKS")]
    max_concurrent_checks: Option<usize>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();

    let mut text = String::new();
    if let Some(path) = &args.auth_file {
        text.push_str(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading auth file {}", path.display()))?,
        );
        text.push('\n');
    }
    if let Some(inline) = &args.auth {
        text.push_str(inline);
    }
    let auth = if text.trim().is_empty() {
        None
    } else {
        Some(Arc::new(
            Credentials::parse(&text).map_err(|e| anyhow::anyhow!("credentials: {e}"))?,
        ))
    };
    if auth.is_none() && !args.listen.ip().is_loopback() && !args.allow_anonymous {
        bail!(
            "refusing to serve {} without authentication: configure --auth-file/--auth or pass --allow-anonymous",
            args.listen
        );
    }
    if !matches!(args.incompatible_error_code, 409 | 40901) {
        bail!("--incompatible-error-code must be 409 or 40901");
    }
    // Below tokio's 512 blocking threads, so blocking work other than checks always has room.
    let max_concurrent_checks = args
        .max_concurrent_checks
        .unwrap_or(Settings::default().max_concurrent_checks);
    if !(1..=500).contains(&max_concurrent_checks) {
        bail!("--max-concurrent-checks must be between 1 and 500");
    }
    if !(args.check_timeout.is_finite() && args.check_timeout > 0.0) {
        bail!("--check-timeout must be a positive number of seconds");
    }
    let settings = Settings {
        default_compatibility: args
            .default_compatibility
            .parse()
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        default_policy: args
            .default_policy
            .parse()
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        limits: SchemaLimits {
            max_schema_bytes: args.max_schema_bytes,
            max_depth: args.max_schema_depth,
        },
        max_body_bytes: args.max_body_bytes,
        request_timeout: Duration::from_secs(args.request_timeout),
        incompatible_error_code: args.incompatible_error_code,
        auth,
        check_timeout: Duration::from_secs_f64(args.check_timeout),
        max_concurrent_checks,
    };

    let store = store::connect(&args.database_url, args.pool_size)
        .await
        .with_context(|| format!("opening {}", store::redact(&args.database_url)))?;
    let app = router(AppState::new(store.clone(), settings));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(
        listen = %listener.local_addr()?,
        store = store.backend(),
        "herald-registry serving"
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
