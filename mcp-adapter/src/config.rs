//! Configuration: every setting is a flag and an environment variable (also read from `.env`),
//! named as in the Python server. `mcp-defectdojo --help` lists them all.

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use std::path::PathBuf;

/// How clients reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    /// Standard input/output (one client, the process that started us).
    Stdio,
    /// Streamable HTTP at /mcp.
    #[value(name = "streamable-http", alias = "http")]
    StreamableHttp,
    /// The 2024-11-05 HTTP+SSE transport.
    Sse,
}

/// on/off switch as the Python server spells it.
fn parse_switch(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        other => Err(format!("`{other}` is not on/off/true/false")),
    }
}

fn parse_toolsets(s: &str) -> Result<crate::tools::ToolSelection, String> {
    crate::tools::ToolSelection::parse(s, false)
}

fn parse_positive(s: &str) -> Result<i64, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not a positive integer")),
    }
}

fn parse_positive_secs(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() && n <= 86_400.0 => Ok(n),
        _ => Err(format!(
            "`{s}` is not a number of seconds between 0 and 86400"
        )),
    }
}

fn parse_nonzero(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not a positive integer")),
    }
}

fn parse_count(s: &str) -> Result<usize, String> {
    s.trim()
        .parse::<usize>()
        .map_err(|_| format!("`{s}` is not a non-negative integer"))
}

/// MCP server for DefectDojo.
#[derive(Debug, Parser)]
#[command(
    name = "mcp-defectdojo",
    version,
    about,
    long_about = None,
    after_help = "Check an audit log: mcp-defectdojo audit verify <file>... (see mcp-defectdojo audit verify --help)"
)]
pub struct Config {
    /// DefectDojo base URL (https unless ALLOW_INSECURE_HTTP=true).
    #[arg(long, env = "DEFECTDOJO_URL")]
    pub defectdojo_url: Option<String>,
    /// DefectDojo API v2 key for reads and writes.
    #[arg(long, env = "DEFECTDOJO_API_KEY", hide_env_values = true)]
    pub defectdojo_api_key: Option<String>,
    /// Key for reads only (overrides DEFECTDOJO_API_KEY for GETs).
    #[arg(long, env = "DEFECTDOJO_READ_API_KEY", hide_env_values = true)]
    pub defectdojo_read_api_key: Option<String>,
    /// Key for writes only (overrides DEFECTDOJO_API_KEY for changes).
    #[arg(long, env = "DEFECTDOJO_WRITE_API_KEY", hide_env_values = true)]
    pub defectdojo_write_api_key: Option<String>,
    /// `found_by` test type ID for created findings.
    #[arg(long, env = "DEFECTDOJO_DEFAULT_FOUND_BY_ID", default_value = "1", value_parser = parse_positive)]
    pub defectdojo_default_found_by_id: i64,
    /// Allow an http:// DefectDojo URL (tokens cross the network in clear).
    #[arg(long, env = "ALLOW_INSECURE_HTTP", default_value = "false", value_parser = parse_switch)]
    pub allow_insecure_http: bool,
    /// Request timeout towards DefectDojo, seconds.
    #[arg(long, env = "DEFECTDOJO_TIMEOUT", default_value = "30", value_parser = parse_positive)]
    pub defectdojo_timeout: i64,
    /// Largest answer accepted from DefectDojo, bytes (64 MiB); a larger one fails the call.
    #[arg(long, env = "DEFECTDOJO_MAX_RESPONSE_BYTES", default_value = "67108864", value_parser = parse_nonzero)]
    pub defectdojo_max_response_bytes: usize,
    /// PEM CA bundle to trust for DefectDojo's certificate.
    #[arg(long, env = "DEFECTDOJO_CA_BUNDLE")]
    pub defectdojo_ca_bundle: Option<PathBuf>,

    /// stdio, streamable-http (alias http) or sse.
    #[arg(long, env = "FASTMCP_TRANSPORT", value_enum, default_value = "stdio")]
    pub transport: Transport,
    /// Address the HTTP transports listen on.
    #[arg(long, env = "FASTMCP_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port the HTTP transports listen on.
    #[arg(long, env = "FASTMCP_PORT", default_value = "8000")]
    pub port: u16,
    /// Host header values accepted on HTTP (DNS-rebinding defence), comma-separated. Loopback names always.
    #[arg(long, env = "MCP_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// Origin header values accepted on HTTP, comma-separated. Requests with another Origin get 403.
    #[arg(long, env = "MCP_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Stateless streamable HTTP (no MCP session; plain JSON answers), for replicas behind a load
    /// balancer without sticky sessions.
    #[arg(long, env = "MCP_HTTP_STATELESS", default_value = "false", value_parser = parse_switch)]
    pub http_stateless: bool,
    /// Largest MCP message, bytes: an HTTP request body, or a line on stdio (70 MiB: a 50 MB
    /// report in base64 with room to spare).
    #[arg(long, env = "MCP_MAX_BODY_BYTES", default_value = "73400320", value_parser = parse_nonzero)]
    pub max_body_bytes: usize,
    /// Longest time one HTTP request may take, seconds.
    #[arg(long, env = "MCP_REQUEST_TIMEOUT", default_value = "300", value_parser = parse_positive)]
    pub request_timeout: i64,
    /// HTTP connections open at once; more are closed on accept.
    #[arg(long, env = "MCP_MAX_CONNECTIONS", default_value = "512", value_parser = parse_nonzero)]
    pub max_connections: usize,
    /// Seconds a client has to send an HTTP request's headers.
    #[arg(long, env = "MCP_HEADER_TIMEOUT", default_value = "10", value_parser = parse_positive_secs)]
    pub header_timeout: f64,
    /// MCP sessions (streamable HTTP or SSE) open at once, all callers together.
    #[arg(long, env = "MCP_MAX_SESSIONS", default_value = "256", value_parser = parse_nonzero)]
    pub max_sessions: usize,
    /// MCP sessions open at once per caller (token).
    #[arg(long, env = "MCP_MAX_SESSIONS_PER_CALLER", default_value = "16", value_parser = parse_nonzero)]
    pub max_sessions_per_caller: usize,
    /// Seconds an unused streamable-HTTP session stays open.
    #[arg(long, env = "MCP_SESSION_IDLE_SECS", default_value = "300", value_parser = parse_positive_secs)]
    pub session_idle_secs: f64,
    /// Seconds open streams get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "MCP_SHUTDOWN_GRACE", default_value = "3", value_parser = parse_positive_secs)]
    pub shutdown_grace: f64,

    /// Legacy admin token (caller `admin-legacy`). Roles: `MCP_ROLE_<NAME>=<token>:<role>`.
    #[arg(long, env = "MCP_AUTH_TOKEN", hide_env_values = true)]
    pub mcp_auth_token: Option<String>,
    /// Legacy reader token (caller `reader-legacy`).
    #[arg(long, env = "MCP_READ_TOKEN", hide_env_values = true)]
    pub mcp_read_token: Option<String>,
    /// Refuse network transports without a token (set false for open access).
    #[arg(long, env = "REQUIRE_AUTH", default_value = "true", value_parser = parse_switch)]
    pub require_auth: bool,

    /// Mutations per caller per window.
    #[arg(long, env = "MUTATION_RATE_LIMIT", default_value = "60", value_parser = parse_count)]
    pub mutation_rate_limit: usize,
    /// Mutations per window shared by unauthenticated callers.
    #[arg(long, env = "OPEN_ACCESS_MUTATION_RATE_LIMIT", default_value = "10", value_parser = parse_count)]
    pub open_access_mutation_rate_limit: usize,
    /// Share the mutation limit between replicas through this Redis (`redis://[:password@]host:port/db`,
    /// or `rediss://` for TLS). Unset: each process limits on its own.
    #[arg(long, env = "RATE_LIMIT_REDIS_URL", hide_env_values = true)]
    pub rate_limit_redis_url: Option<String>,
    /// Rate-limit window, seconds.
    #[arg(long, env = "MUTATION_RATE_WINDOW", default_value = "60", value_parser = parse_positive)]
    pub mutation_rate_window: i64,
    /// Wrap scanner-written text as untrusted content (on/off).
    #[arg(long, env = "UNTRUSTED_CONTENT_WRAPPING", default_value = "on", value_parser = parse_switch)]
    pub untrusted_content_wrapping: bool,

    /// Largest decoded scan report accepted, bytes (50 MB).
    #[arg(long, env = "MCP_MAX_SCAN_BYTES", default_value = "52428800", value_parser = parse_count)]
    pub max_scan_bytes: usize,
    /// Directory that import/reimport `file_path` may read from; unset disables `file_path`.
    #[arg(long, env = "MCP_SCAN_DIR")]
    pub scan_dir: Option<PathBuf>,
    /// Toolsets offered, comma-separated: `default` (the Python server's 24 tools), `all`, or
    /// names (system, products, engagements, findings, imports; analytics, risk_acceptance,
    /// bulk_triage, endpoints, explore). Over HTTP a request may narrow it with `/mcp?toolsets=`.
    #[arg(long, env = "MCP_TOOLSETS", default_value = "default", value_parser = parse_toolsets)]
    pub toolsets: crate::tools::ToolSelection,
    /// Offer no tool that changes DefectDojo.
    #[arg(long, env = "MCP_READ_ONLY", default_value = "false", value_parser = parse_switch)]
    pub read_only: bool,
    /// Ask clients that support elicitation to confirm destructive and bulk changes.
    #[arg(long, env = "MCP_CONFIRM_DESTRUCTIVE", default_value = "true", value_parser = parse_switch)]
    pub confirm_destructive: bool,

    /// Audit chain key (hex or text). Unset: an ephemeral random key.
    #[arg(long, env = "AUDIT_HMAC_KEY", hide_env_values = true)]
    pub audit_hmac_key: Option<String>,
    /// Refuse network transports without AUDIT_HMAC_KEY.
    #[arg(long, env = "REQUIRE_AUDIT_HMAC_KEY", default_value = "true", value_parser = parse_switch)]
    pub require_audit_hmac_key: bool,
    /// Refuse mutations while AUDIT_LOG_FILE cannot take records (disk full, directory gone).
    #[arg(long, env = "AUDIT_FAIL_CLOSED", default_value = "false", value_parser = parse_switch)]
    pub audit_fail_closed: bool,
    /// Append audit records (JSON lines) to this file.
    #[arg(long, env = "AUDIT_LOG_FILE")]
    pub audit_log_file: Option<PathBuf>,
    /// Forward audit records to syslog: `[udp|tcp|tcp+tls://]host[:port]`.
    #[arg(long, env = "AUDIT_LOG_SYSLOG")]
    pub audit_log_syslog: Option<String>,
    /// CA for syslog over TLS.
    #[arg(long, env = "AUDIT_LOG_SYSLOG_CA")]
    pub audit_log_syslog_ca: Option<PathBuf>,
    /// Forward audit records to this HTTPS endpoint.
    #[arg(long, env = "AUDIT_LOG_HTTPS_URL")]
    pub audit_log_https_url: Option<String>,
    /// Bearer token for AUDIT_LOG_HTTPS_URL.
    #[arg(long, env = "AUDIT_LOG_HTTPS_TOKEN", hide_env_values = true)]
    pub audit_log_https_token: Option<String>,
    /// Records per HTTPS batch.
    #[arg(long, env = "AUDIT_LOG_HTTPS_BATCH_SIZE", default_value = "10", value_parser = parse_positive)]
    pub audit_log_https_batch_size: i64,
    /// Seconds a partial HTTPS batch may wait before it is sent.
    #[arg(long, env = "AUDIT_LOG_HTTPS_FLUSH_SECS", default_value = "5", value_parser = parse_positive_secs)]
    pub audit_log_https_flush_secs: f64,
    /// CA for the HTTPS audit endpoint.
    #[arg(long, env = "AUDIT_LOG_HTTPS_CA")]
    pub audit_log_https_ca: Option<PathBuf>,

    /// Where forwarders spool records they could not deliver yet (one directory per server
    /// process). Default: `audit-spool` beside AUDIT_LOG_FILE, else in the working directory.
    #[arg(long, env = "AUDIT_SPOOL_DIR")]
    pub audit_spool_dir: Option<PathBuf>,
    /// Largest backlog per forwarder spool, bytes; past it records are dropped (and the drop recorded).
    #[arg(long, env = "AUDIT_SPOOL_MAX_BYTES", default_value = "104857600", value_parser = parse_count)]
    pub audit_spool_max_bytes: usize,
    /// Seconds the forwarder circuit breaker stays open after 3 consecutive failures.
    #[arg(long, env = "AUDIT_FORWARD_BREAKER_SECS", default_value = "30", value_parser = parse_positive_secs)]
    pub audit_forward_breaker_secs: f64,
    /// Pause before retrying a failed delivery once, milliseconds.
    #[arg(long, env = "AUDIT_FORWARD_RETRY_MS", default_value = "1000", value_parser = parse_count)]
    pub audit_forward_retry_ms: usize,

    /// Log level: error, warn, info, debug, trace.
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}

/// The environment variable behind the argument a clap error is about, if any.
fn env_var_of_error(command: &clap::Command, error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(invalid)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let flag = invalid.split_whitespace().next()?.trim_start_matches('-');
    command
        .get_arguments()
        .find(|a| a.get_long() == Some(flag))
        .and_then(|a| a.get_env())
        .map(|v| v.to_string_lossy().into_owned())
}

/// `%XX` escapes decoded (a Redis password in a URL is percent-encoded).
fn urlencoding_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
}

/// A refusal to start, with the variable and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartupError(pub String);

impl Config {
    /// Parses the command line and environment, exiting with clap's message on a bad value.
    /// Each value is shown under its environment variable's name (`<MUTATION_RATE_LIMIT>`), so
    /// an error says which variable to fix whether it came from a flag, the environment or `.env`.
    pub fn from_env_and_args() -> Config {
        let command = Config::command().mut_args(|arg| match arg.get_env() {
            Some(var) => {
                let name = var.to_string_lossy().into_owned();
                arg.value_name(name)
            }
            None => arg,
        });
        let matches = command.clone().try_get_matches().unwrap_or_else(|e| {
            if let Some(var) = env_var_of_error(&command, &e) {
                let message = e.to_string();
                let message = message.trim_start_matches("error: ");
                let message = message
                    .split("\n\nFor more information")
                    .next()
                    .unwrap_or_default();
                eprintln!("error: {var}: {message}");
                std::process::exit(2);
            }
            e.exit()
        });
        Config::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }

    /// Every secret in the configuration, with the MCP tokens from `env` (`MCP_ROLE_<NAME>`
    /// values), for [`crate::security::redact`]: none of them may appear in any output.
    pub fn secrets<'a>(&self, env: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
        let mut secrets: Vec<String> = [
            &self.defectdojo_api_key,
            &self.defectdojo_read_api_key,
            &self.defectdojo_write_api_key,
            &self.mcp_auth_token,
            &self.mcp_read_token,
            &self.audit_hmac_key,
            &self.audit_log_https_token,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        if let Some(url) = self.rate_limit_redis_url.as_deref() {
            if let Ok(url) = reqwest::Url::parse(url.trim()) {
                if let Some(password) = url.password() {
                    secrets.push(password.to_string());
                    if let Ok(decoded) = urlencoding_decode(password) {
                        secrets.push(decoded);
                    }
                }
            }
        }
        for (name, value) in env {
            if name.starts_with("MCP_ROLE_") {
                let token = value.rsplit_once(':').map_or(value, |(t, _)| t);
                secrets.push(token.to_string());
            }
        }
        secrets
    }

    /// Whether the transport is reachable over the network.
    pub fn is_network(&self) -> bool {
        self.transport != Transport::Stdio
    }

    /// The fail-closed checks that need no I/O. Returns warnings to log when it passes.
    pub fn check(&self, tokens_configured: bool) -> Result<Vec<String>, StartupError> {
        let mut warnings = Vec::new();
        if self
            .defectdojo_url
            .as_deref()
            .is_none_or(|u| u.trim().is_empty())
        {
            return Err(StartupError("DEFECTDOJO_URL is not set: set it to your DefectDojo's base URL, e.g. DEFECTDOJO_URL=https://defectdojo.example.com".into()));
        }
        let has_key = |k: &Option<String>| k.as_deref().is_some_and(|v| !v.trim().is_empty());
        let split_keys =
            has_key(&self.defectdojo_read_api_key) && has_key(&self.defectdojo_write_api_key);
        if !(has_key(&self.defectdojo_api_key) || split_keys) {
            return Err(StartupError("DEFECTDOJO_API_KEY is not set: set it to a DefectDojo API v2 key (or set both DEFECTDOJO_READ_API_KEY and DEFECTDOJO_WRITE_API_KEY)".into()));
        }
        if self.is_network() {
            if !tokens_configured {
                if self.require_auth {
                    return Err(StartupError("no bearer token is configured for a network transport: set MCP_ROLE_<NAME>=<token>:<role> (or MCP_AUTH_TOKEN), or set REQUIRE_AUTH=false to run with open access".into()));
                }
                if self.host == "0.0.0.0" || self.host == "::" {
                    warnings.push("CRITICAL open_access_on_all_interfaces: REQUIRE_AUTH=false and FASTMCP_HOST binds every interface; anyone who can reach this port can change DefectDojo".into());
                } else {
                    warnings.push(
                        "CRITICAL open_access: REQUIRE_AUTH=false; every caller has admin rights"
                            .into(),
                    );
                }
            }
            if self.audit_hmac_key.as_deref().is_none_or(|k| k.is_empty()) {
                if self.require_audit_hmac_key {
                    return Err(StartupError("AUDIT_HMAC_KEY is not set for a network transport: set it to a long random secret (e.g. openssl rand -hex 32), or set REQUIRE_AUDIT_HMAC_KEY=false to use an ephemeral key".into()));
                }
                warnings.push("CRITICAL audit_key_ephemeral: AUDIT_HMAC_KEY is unset; the audit chain cannot be verified after this process exits".into());
            }
        }
        Ok(warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's configuration table and `.env.example` are written by hand: this keeps them
    /// listing every variable the server reads.
    #[test]
    fn every_variable_is_documented() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        let example = std::fs::read_to_string(root.join(".env.example")).unwrap();
        let table: String = readme
            .split("## Configuration")
            .nth(1)
            .unwrap_or_default()
            .split("\n## ")
            .next()
            .unwrap_or_default()
            .to_string();
        for arg in Config::command().get_arguments() {
            let Some(var) = arg.get_env() else { continue };
            let var = var.to_string_lossy();
            assert!(
                table.contains(var.as_ref()),
                "{var} is missing from the README's configuration table"
            );
            assert!(
                example.contains(var.as_ref()),
                "{var} is missing from .env.example"
            );
        }
    }
}
