//! `mcp-defectdojo`: the MCP server for DefectDojo.

use mcp_adapter::config::{Config, StartupError, Transport};
use mcp_adapter::http::{authenticate, check_host_and_origin, AuthState, HeaderPolicy};
use mcp_adapter::pipeline::Security;
use mcp_adapter::security::ratelimit::{MutationLimiter, SlidingWindowLimiter};
use mcp_adapter::security::redis_limiter::RedisLimiter;
use mcp_adapter::security::roles::TokenTable;
use mcp_adapter::server::DojoServer;
use mcp_adapter::sse::{self, SseSessions};
use mcp_adapter::tools::ToolContext;
use rmcp::transport::streamable_http_server::{
    session::local::LocalSessionManager, StreamableHttpServerConfig, StreamableHttpService,
};
use rmcp::ServiceExt;
use std::sync::Arc;
use std::time::Duration;

/// How long shutdown waits for the audit forwarders.
const AUDIT_CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Open SSE sessions allowed at once; each holds a task and two small channels.
const MAX_SSE_SESSIONS: usize = 1024;

fn main() -> std::process::ExitCode {
    // A missing .env is normal; a broken one is reported below by clap or the checks.
    let _ = dotenvy::dotenv();
    if std::env::args_os().nth(1).is_some_and(|a| a == "audit") {
        return mcp_adapter::audit::cli::run(std::env::args_os().skip(1));
    }
    let config = Config::from_env_and_args();
    init_logging(&config.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level.to_ascii_lowercase())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // stdout carries the protocol on stdio: logs always go to stderr.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(true)
        .init();
}

fn audit_key(config: &Config) -> Vec<u8> {
    match config.audit_hmac_key.as_deref().filter(|k| !k.is_empty()) {
        // The key's bytes as written, like the Python server, so both verify the same logs.
        Some(key) => key.as_bytes().to_vec(),
        None => {
            tracing::warn!("AUDIT_HMAC_KEY is unset: using an ephemeral key; this audit chain cannot be verified later");
            rand::random::<[u8; 32]>().to_vec()
        }
    }
}

async fn run(config: Config) -> Result<(), StartupError> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let tokens = TokenTable::from_env_pairs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| StartupError(e.to_string()))?;
    for warning in config.check(!tokens.is_empty())? {
        tracing::error!(target: "security", "{warning}");
    }

    let mut builder =
        dojo_sdk::DojoClient::builder(config.defectdojo_url.clone().unwrap_or_default())
            .allow_insecure_http(config.allow_insecure_http)
            .timeout(Duration::from_secs(config.defectdojo_timeout as u64))
            .user_agent(concat!("mcp-defectdojo/", env!("CARGO_PKG_VERSION")));
    let key = |k: &Option<String>| k.clone().filter(|k| !k.trim().is_empty());
    if let Some(k) = key(&config.defectdojo_api_key) {
        builder = builder.token(k);
    }
    if let Some(k) = key(&config.defectdojo_read_api_key) {
        builder = builder.read_token(k);
    }
    if let Some(k) = key(&config.defectdojo_write_api_key) {
        builder = builder.write_token(k);
    }
    if let Some(ca) = &config.defectdojo_ca_bundle {
        let pem = std::fs::read(ca).map_err(|e| {
            StartupError(format!(
                "DEFECTDOJO_CA_BUNDLE: cannot read {}: {}",
                ca.display(),
                e.kind()
            ))
        })?;
        builder = builder.ca_certificate_pem(pem);
    }
    let dojo = builder.build().map_err(|e| {
        let hint = if e.to_string().contains("https") {
            " (or set ALLOW_INSECURE_HTTP=true for a local test instance)"
        } else {
            ""
        };
        StartupError(format!("DEFECTDOJO_URL / API keys: {e}{hint}"))
    })?;

    let window = Duration::from_secs(config.mutation_rate_window as u64);
    let limiter = match config
        .rate_limit_redis_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        Some(url) => MutationLimiter::Shared(
            RedisLimiter::connect(
                url,
                config.mutation_rate_limit,
                config.open_access_mutation_rate_limit,
                window,
            )
            .await
            .map_err(|e| StartupError(format!("RATE_LIMIT_REDIS_URL: {e}")))?,
        ),
        None => MutationLimiter::Local(SlidingWindowLimiter::new(
            config.mutation_rate_limit,
            config.open_access_mutation_rate_limit,
            window,
        )),
    };
    // Last, once every check has passed: it starts the forwarders and writes the chain start.
    let audit = mcp_adapter::audit::setup::start(&config, audit_key(&config))?;
    let security = Arc::new(Security::new(
        limiter,
        config.untrusted_content_wrapping,
        audit.clone(),
    ));
    let new_context = {
        let dojo = dojo.clone();
        let found_by = config.defectdojo_default_found_by_id;
        let max = config.max_scan_bytes;
        let dir = config.scan_dir.clone();
        move || {
            Arc::new(ToolContext {
                dojo: dojo.clone(),
                default_found_by_id: found_by,
                max_scan_bytes: max,
                scan_dir: dir.clone(),
                findings_read: Default::default(),
            })
        }
    };

    let served = match config.transport {
        Transport::Stdio => {
            let server = DojoServer::new(security, new_context());
            let running = server
                .serve(rmcp::transport::stdio())
                .await
                .map_err(|e| StartupError(format!("stdio session failed to start: {e}")))?;
            let _ = running.waiting().await;
            Ok(())
        }
        Transport::StreamableHttp | Transport::Sse => {
            serve_http(config, tokens, security, new_context).await
        }
    };
    // Give the SIEM forwarders a moment to deliver; what they cannot stays spooled.
    audit.close(AUDIT_CLOSE_GRACE).await;
    served
}

async fn serve_http(
    config: Config,
    tokens: TokenTable,
    security: Arc<Security>,
    new_context: impl Fn() -> Arc<ToolContext> + Send + Sync + 'static,
) -> Result<(), StartupError> {
    let mut hosts: Vec<String> = vec![
        "localhost".into(),
        "127.0.0.1".into(),
        "::1".into(),
        "[::1]".into(),
    ];
    hosts.extend(
        config
            .allowed_hosts
            .iter()
            .filter(|h| !h.is_empty())
            .cloned(),
    );
    if !matches!(config.host.as_str(), "0.0.0.0" | "::") {
        hosts.push(config.host.clone());
    }
    let origins: Vec<String> = config
        .allowed_origins
        .iter()
        .filter(|o| !o.is_empty())
        .cloned()
        .collect();

    let mcp = match config.transport {
        Transport::Sse => {
            let sessions = SseSessions::new(
                Box::new(move |caller| {
                    DojoServer::for_caller(security.clone(), new_context(), caller)
                }),
                MAX_SSE_SESSIONS,
            );
            sse::router(sessions)
        }
        _ => {
            // rmcp checks Host and Origin again: a second line behind our own check.
            let mcp_config = StreamableHttpServerConfig::default()
                .with_legacy_session_mode(!config.http_stateless)
                .with_json_response(config.http_stateless)
                .with_allowed_hosts(hosts.clone())
                .with_allowed_origins(origins.clone())
                .enforce_origin_validation();
            let service: StreamableHttpService<DojoServer, LocalSessionManager> =
                StreamableHttpService::new(
                    move || Ok(DojoServer::new(security.clone(), new_context())),
                    Default::default(),
                    mcp_config,
                );
            axum::Router::new().nest_service("/mcp", service)
        }
    };
    let auth = Arc::new(AuthState { tokens });
    let policy = Arc::new(HeaderPolicy { hosts, origins });
    // Layers run outermost first: time and size limits, then Host/Origin, then the token.
    let app = mcp
        .layer(axum::middleware::from_fn_with_state(auth, authenticate))
        .layer(axum::middleware::from_fn_with_state(
            policy,
            check_host_and_origin,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            config.max_body_bytes,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(config.request_timeout as u64),
        ));
    let addr = format!("{}:{}", config.host, config.port);
    let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
        StartupError(format!(
            "FASTMCP_HOST/FASTMCP_PORT: cannot listen on {addr}: {}",
            e.kind()
        ))
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| StartupError(e.to_string()))?;
    let path = if config.transport == Transport::Sse {
        "sse"
    } else {
        "mcp"
    };
    tracing::info!("listening on http://{local}/{path}");
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        // Without NODELAY every streamed response waits ~40 ms for Nagle.
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| StartupError(format!("HTTP server stopped: {e}")))
}

/// Ctrl-C or SIGTERM (what service managers and container runtimes send).
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}
