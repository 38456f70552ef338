//! `mcp-defectdojo`: the MCP server for DefectDojo.

use mcp_adapter::config::{Config, StartupError, Transport};
use mcp_adapter::http::{authenticate, check_body, check_host_and_origin, AuthState, HeaderPolicy};
use mcp_adapter::pipeline::Security;
use mcp_adapter::security::ratelimit::{MutationLimiter, SlidingWindowLimiter};
use mcp_adapter::security::redact;
use mcp_adapter::security::redis_limiter::RedisLimiter;
use mcp_adapter::security::roles::TokenTable;
use mcp_adapter::serve::{self, ServeLimits};
use mcp_adapter::server::DojoServer;
use mcp_adapter::sessions::{bind_sessions, SessionLimits, SessionRegistry};
use mcp_adapter::sse::{self, SseSessions};
use mcp_adapter::tools::ToolEnv;
use rmcp::transport::streamable_http_server::{
    session::local::LocalSessionManager, StreamableHttpServerConfig, StreamableHttpService,
};
use std::sync::Arc;
use std::time::Duration;

/// How long shutdown waits for the audit forwarders.
const AUDIT_CLOSE_GRACE: Duration = Duration::from_secs(5);

fn main() -> std::process::ExitCode {
    // A missing .env is normal; a broken one is reported below by clap or the checks.
    let _ = dotenvy::dotenv();
    if std::env::args_os().nth(1).is_some_and(|a| a == "audit") {
        return mcp_adapter::audit::cli::run(std::env::args_os().skip(1));
    }
    let config = Config::from_env_and_args();
    let env: Vec<(String, String)> = std::env::vars().collect();
    redact::install(config.secrets(env.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
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
    let outcome = runtime.block_on(run(config));
    // Tasks still running (a stream past the shutdown grace, the stdin reader) are not awaited.
    runtime.shutdown_timeout(Duration::from_millis(500));
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", redact::scrub(&e.to_string()));
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
        // Every line is scrubbed of configured secrets, whatever wrote it.
        .with_writer(|| redact::ScrubbedStderr)
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
            .max_response_bytes(config.defectdojo_max_response_bytes as u64)
            .user_agent(concat!("mcp-defectdojo/", env!("CARGO_PKG_VERSION")))
            // Each DefectDojo request at LOG_LEVEL=debug: method, path, status, time, retries.
            .on_request(|e| {
                tracing::debug!(
                    target: "defectdojo",
                    method = %e.method,
                    path = %e.path,
                    status = e.status,
                    ms = e.duration.as_millis() as u64,
                    attempt = e.attempt,
                    will_retry = e.will_retry,
                    "DefectDojo request"
                )
            });
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
    let tool_env = Arc::new(ToolEnv {
        dojo,
        default_found_by_id: config.defectdojo_default_found_by_id,
        max_scan_bytes: config.max_scan_bytes,
        scan_dir: config.scan_dir.clone(),
    });

    let served = match config.transport {
        Transport::Stdio => {
            let server = DojoServer::new(security, tool_env, selection(&config))
                .confirming(config.confirm_destructive);
            mcp_adapter::stdio::serve(server, config.max_body_bytes, shutdown_signal())
                .await
                .map_err(StartupError)
        }
        Transport::StreamableHttp | Transport::Sse => {
            serve_http(config, tokens, security, tool_env, audit.clone()).await
        }
    };
    // Give the SIEM forwarders a moment to deliver; what they cannot stays spooled.
    audit.close(AUDIT_CLOSE_GRACE).await;
    served
}

/// The tools this server offers: MCP_TOOLSETS, without the writes when MCP_READ_ONLY.
fn selection(config: &Config) -> Arc<mcp_adapter::tools::ToolSelection> {
    let selection = config.toolsets.clone();
    Arc::new(if config.read_only {
        selection.made_read_only()
    } else {
        selection
    })
}

async fn serve_http(
    config: Config,
    tokens: TokenTable,
    security: Arc<Security>,
    tool_env: Arc<ToolEnv>,
    audit: Arc<mcp_adapter::audit::AuditLog>,
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

    let idle = Duration::from_secs_f64(config.session_idle_secs);
    let selection = selection(&config);
    let confirm = config.confirm_destructive;
    let mcp = match config.transport {
        Transport::Sse => {
            let sessions = SseSessions::new(
                Box::new(move |caller| {
                    DojoServer::for_caller(
                        security.clone(),
                        tool_env.clone(),
                        selection.clone(),
                        caller,
                    )
                    .confirming(confirm)
                }),
                config.max_sessions,
                config.max_sessions_per_caller,
            );
            sse::router(sessions)
        }
        _ => {
            // rmcp checks Host and Origin again: a second line behind our own check, told of
            // the same-origin requests our check lets through.
            let mut rmcp_origins = origins.clone();
            for host in hosts
                .iter()
                .filter(|h| !h.contains(':') || h.starts_with('['))
            {
                rmcp_origins.push(format!("http://{host}:*"));
                rmcp_origins.push(format!("https://{host}:*"));
            }
            let mcp_config = StreamableHttpServerConfig::default()
                .with_legacy_session_mode(!config.http_stateless)
                .with_json_response(config.http_stateless)
                .with_allowed_hosts(hosts.clone())
                .with_allowed_origins(rmcp_origins)
                .enforce_origin_validation()
                .with_max_request_body_bytes(config.max_body_bytes);
            let mut manager = LocalSessionManager::default();
            // Our reaper closes idle sessions first; rmcp's own timer is the backstop.
            manager.session_config.keep_alive = Some(idle + Duration::from_secs(60));
            let manager = Arc::new(manager);
            let service: StreamableHttpService<DojoServer, LocalSessionManager> =
                StreamableHttpService::new(
                    move || {
                        Ok(
                            DojoServer::new(security.clone(), tool_env.clone(), selection.clone())
                                .confirming(confirm),
                        )
                    },
                    manager.clone(),
                    mcp_config,
                );
            let router = axum::Router::new().nest_service("/mcp", service);
            if config.http_stateless {
                router
            } else {
                let registry = SessionRegistry::new(
                    SessionLimits {
                        total: config.max_sessions,
                        per_caller: config.max_sessions_per_caller,
                        idle,
                    },
                    manager,
                );
                registry.spawn_reaper();
                router.layer(axum::middleware::from_fn_with_state(
                    registry,
                    bind_sessions,
                ))
            }
        }
    };
    let auth = Arc::new(AuthState::new(tokens, audit));
    let policy = Arc::new(HeaderPolicy { hosts, origins });
    // Layers run outermost first: the time limit, Host/Origin, the token, then the body (read
    // only for an authenticated caller), then the transport.
    let app = mcp
        .layer(axum::middleware::from_fn_with_state(
            config.max_body_bytes,
            check_body,
        ))
        .layer(axum::middleware::from_fn_with_state(auth, authenticate))
        .layer(axum::middleware::from_fn_with_state(
            policy,
            check_host_and_origin,
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
    let limits = ServeLimits {
        max_connections: config.max_connections,
        header_timeout: Duration::from_secs_f64(config.header_timeout),
        shutdown_grace: Duration::from_secs_f64(config.shutdown_grace),
    };
    serve::serve(listener, app, limits, shutdown_signal()).await;
    Ok(())
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
