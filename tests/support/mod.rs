//! What the end-to-end tests share: the built binary, a clean environment for it, the DefectDojo
//! double (wiremock answering with the recorded exchanges) and the cases in `e2e/cases.json`.
#![allow(dead_code)] // each test crate uses its own part of this module

pub mod client;
pub mod hostile;
pub mod sinks;

use base64::Engine;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The DefectDojo API key the double accepts.
pub const DOJO_KEY: &str = "dojo-test-key";

/// Bearer tokens per role, as the HTTP tests configure them.
pub const TOKENS: &[(&str, &str)] = &[
    ("admin", "admin-token-0123456789"),
    ("writer", "writer-token-0123456789"),
    ("scanner", "scanner-token-0123456789"),
    ("reader", "reader-token-0123456789"),
];

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The server binary: the one cargo built, or `MCP_DEFECTDOJO_BIN` (to run the same tests
/// against another build, e.g. an older release, and see which fail there).
pub fn binary() -> String {
    std::env::var("MCP_DEFECTDOJO_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_mcp-defectdojo").to_string())
}

/// `tests/e2e/cases.json`, with the ZAP report's base64 put in place.
pub fn cases() -> Value {
    let zap = std::fs::read(root().join("dojo-sdk/tests/fixtures/scans/zap-0_zap_sample.xml"))
        .expect("ZAP fixture");
    let zap = base64::engine::general_purpose::STANDARD.encode(zap);
    let text = std::fs::read_to_string(root().join("tests/e2e/cases.json")).expect("cases.json");
    serde_json::from_str(&text.replace("$ZAP_BASE64", &zap)).expect("cases.json is JSON")
}

/// Wiremock answering every route of `cases.json` with its recorded exchange, for the right key
/// only (DefectDojo answers a bad key with 403). Anything else is a 404.
pub async fn dojo_double(cases: &Value) -> MockServer {
    let server = MockServer::start().await;
    for route in cases["routes"].as_array().expect("routes") {
        let name = route["fixture"].as_str().unwrap();
        let file = root().join(format!("dojo-sdk/tests/fixtures/recorded/{name}.json"));
        let exchange: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("fixture")).unwrap();
        let mut reply = ResponseTemplate::new(exchange["status"].as_u64().unwrap() as u16);
        if !exchange["response"].is_null() {
            reply = reply.set_body_json(&exchange["response"]);
        }
        Mock::given(method(route["method"].as_str().unwrap()))
            .and(path(route["path"].as_str().unwrap()))
            .and(header(
                "authorization",
                format!("Token {DOJO_KEY}").as_str(),
            ))
            .respond_with(reply)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(serde_json::json!({"detail": "Invalid token."})),
        )
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    server
}

/// The (method, path) of every request that reached the double, minus the health probe.
pub async fn requests(server: &MockServer) -> Vec<(String, String)> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| (r.method.to_string(), r.url.path().to_string()))
        .collect()
}

/// The writes (anything but GET) that reached the double.
pub async fn writes(server: &MockServer) -> Vec<(String, String)> {
    requests(server)
        .await
        .into_iter()
        .filter(|(m, _)| m != "GET")
        .collect()
}

/// The server binary with none of the caller's MCP/DefectDojo/audit settings, run from an empty
/// directory so a developer's `.env` is not read.
pub fn server_command(dojo_url: &str, workdir: &Path) -> Command {
    let mut cmd = Command::new(binary());
    for (key, _) in std::env::vars() {
        if [
            "MCP_",
            "DEFECTDOJO_",
            "AUDIT_",
            "FASTMCP_",
            "REQUIRE_",
            "MUTATION_",
            "OPEN_ACCESS_",
            "RATE_LIMIT_",
            "ALLOW_",
            "UNTRUSTED_",
            "LOG_",
        ]
        .iter()
        .any(|p| key.starts_with(p))
        {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(workdir)
        .env("DEFECTDOJO_URL", dojo_url)
        .env("DEFECTDOJO_API_KEY", DOJO_KEY)
        .env("ALLOW_INSECURE_HTTP", "true")
        .env("LOG_LEVEL", "warn")
        // Every toolset, so every tool's cases run.
        .env("MCP_TOOLSETS", "all")
        .kill_on_drop(true);
    cmd
}

/// A fresh empty directory, removed when dropped.
pub fn workdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Gives the server a bearer token per role in `TOKENS` (`MCP_ROLE_<ROLE>=<token>:<role>`).
pub fn with_role_tokens(cmd: &mut Command) {
    for (role, token) in TOKENS {
        cmd.env(
            format!("MCP_ROLE_{}", role.to_uppercase()),
            format!("{token}:{role}"),
        );
    }
}

/// A running HTTP server process and its MCP endpoint.
pub struct HttpServer {
    pub child: Child,
    pub url: String,
    pub port: u16,
}

/// Starts the binary on streamable HTTP with a token per role and `extra` settings, and waits
/// until it accepts connections.
pub async fn start_http(dojo_url: &str, workdir: &Path, extra: &[(&str, &str)]) -> HttpServer {
    let port = free_port();
    let mut cmd = server_command(dojo_url, workdir);
    cmd.env("FASTMCP_TRANSPORT", "streamable-http")
        .env("FASTMCP_PORT", port.to_string())
        .env("AUDIT_HMAC_KEY", "e2e-audit-key-0123456789abcdef")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    with_role_tokens(&mut cmd);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("server starts");
    if let Err(e) = wait_listening(&mut child, port).await {
        panic!("{e}");
    }
    HttpServer {
        child,
        url: format!("http://127.0.0.1:{port}/mcp"),
        port,
    }
}

/// Waits until the server process listens on `port` (20 s at most); says why when it does not.
pub async fn wait_listening(child: &mut Child, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("server exited before listening: {status}"));
        }
        if Instant::now() > deadline {
            return Err("server did not listen within 20 s".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
