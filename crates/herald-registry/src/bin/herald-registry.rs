//! The `herald-registry` server.

use std::io::{IsTerminal, Read};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use herald_registry::auth::Credentials;
use herald_registry::canonical::SchemaLimits;
use herald_registry::credentials::{hash_api_key, hash_password};
use herald_registry::login_limit::LoginLimitSettings;
use herald_registry::serve::{Server, check};
use herald_registry::{AppState, ServeOptions, Settings, TlsFiles, store};

/// Confluent-compatible schema registry for JSON Schema, on PostgreSQL or SQLite.
// No Debug: the arguments may hold secrets (auth entries, database password).
#[derive(Parser)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
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
    /// File of credentials, one a line: `key:ROLE:NAME:SECRET` (API key) or
    /// `user:ROLE:NAME:SECRET` (password); roles read, write, admin.
    #[arg(long, env = "HERALD_REGISTRY_AUTH_FILE")]
    auth_file: Option<std::path::PathBuf>,
    /// The same entries, newline-separated, from the environment.
    #[arg(long, env = "HERALD_REGISTRY_AUTH", hide_env_values = true)]
    auth: Option<String>,
    /// Serve without authentication on a non-loopback address.
    #[arg(long, env = "HERALD_REGISTRY_ALLOW_ANONYMOUS")]
    allow_anonymous: bool,
    /// Take credentials over plain HTTP on a non-loopback address (behind a TLS proxy).
    #[arg(long, env = "HERALD_REGISTRY_ALLOW_PLAINTEXT")]
    allow_plaintext: bool,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, env = "HERALD_REGISTRY_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "HERALD_REGISTRY_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Serve /metrics without credentials.
    #[arg(long, env = "HERALD_REGISTRY_PUBLIC_METRICS")]
    public_metrics: bool,
    /// Serve /openapi.json without credentials.
    #[arg(long, env = "HERALD_REGISTRY_PUBLIC_OPENAPI")]
    public_openapi: bool,
    /// Failed logins from one address before it gets 429.
    #[arg(long, env = "HERALD_REGISTRY_MAX_LOGIN_FAILURES", default_value_t = 10)]
    max_login_failures: u32,
    /// Seconds over which --max-login-failures attempts are given back.
    #[arg(
        long,
        env = "HERALD_REGISTRY_LOGIN_FAILURE_WINDOW",
        default_value_t = 60
    )]
    login_failure_window: u64,
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

#[derive(Subcommand)]
enum Command {
    /// Reads a password on stdin and prints its argon2id hash, for a `user:` entry.
    HashPassword,
    /// Reads an API key on stdin and prints its `sha256:` digest, for a `key:` entry.
    HashKey,
}

/// The secret on stdin, without the line end `echo` or a terminal adds.
fn read_secret() -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading stdin")?;
    let secret = text.strip_suffix('\n').unwrap_or(&text);
    let secret = secret.strip_suffix('\r').unwrap_or(secret);
    if secret.is_empty() {
        bail!("no secret on stdin");
    }
    Ok(secret.to_owned())
}

/// Logs to stderr, coloured only on a terminal and when NO_COLOR is unset.
fn init_logging() {
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .init();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match args.command {
        Some(Command::HashPassword) => {
            let password = read_secret()?;
            println!(
                "{}",
                hash_password(&password).map_err(|e| anyhow::anyhow!(e))?
            );
            return Ok(());
        }
        Some(Command::HashKey) => {
            println!("{}", hash_api_key(&read_secret()?));
            return Ok(());
        }
        None => {}
    }
    init_logging();

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
        public_metrics: args.public_metrics,
        public_openapi: args.public_openapi,
        login_limit: LoginLimitSettings {
            failures: args.max_login_failures,
            per: Duration::from_secs(args.login_failure_window),
        },
        check_timeout: Duration::from_secs_f64(args.check_timeout),
        max_concurrent_checks,
    };
    let options = ServeOptions {
        listen: args.listen,
        tls: args
            .tls_cert
            .zip(args.tls_key)
            .map(|(cert, key)| TlsFiles { cert, key }),
        allow_anonymous: args.allow_anonymous,
        allow_plaintext: args.allow_plaintext,
    };
    // Before the store is opened (or a SQLite file created).
    check(&settings, &options)?;

    let store = store::connect(&args.database_url, args.pool_size)
        .await
        .with_context(|| format!("opening {}", store::redact(&args.database_url)))?;
    let server = Server::bind(AppState::new(store.clone(), settings), options).await?;
    tracing::info!(
        listen = %server.local_addr(),
        tls = server.is_tls(),
        store = store.backend(),
        "herald-registry serving"
    );
    server
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
