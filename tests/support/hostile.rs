//! What the hardening tests share: the server started with its stderr and audit trail kept in
//! a temporary directory, raw HTTP helpers that speak MCP without a client library's manners,
//! and a minimal legacy-SSE client.

use super::{server_command, TOKENS};
use futures::StreamExt;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::Child;

/// The audit key the hardening servers use (a secret: it must never show).
pub const AUDIT_KEY: &str = "hardening-audit-key-0123456789";

/// The bearer token of `role`.
pub fn token(role: &str) -> &'static str {
    TOKENS
        .iter()
        .find(|(r, _)| *r == role)
        .map(|(_, t)| *t)
        .expect("known role")
}

/// A server process whose stderr and audit trail are files in its own directory.
pub struct Running {
    pub child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Running {
    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The streamable-HTTP endpoint.
    pub fn mcp_url(&self) -> String {
        format!("{}/mcp", self.base())
    }

    pub fn stderr_path(&self) -> PathBuf {
        self.dir.path().join("stderr.log")
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.stderr_path()).unwrap_or_default()
    }

    /// The audit log so far.
    pub fn audit(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("audit.jsonl")).unwrap_or_default()
    }

    /// The audit records so far, parsed.
    pub fn audit_records(&self) -> Vec<Value> {
        self.audit()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Resident memory of the server, KiB.
    pub fn rss_kib(&self) -> u64 {
        let pid = self.child.id().expect("running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Sends SIGTERM and waits for the exit; returns how long it took.
    pub async fn terminate(&mut self) -> Duration {
        let started = Instant::now();
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let _ = tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await;
        started.elapsed()
    }

    /// Fails if the server panicked.
    pub fn assert_no_panic(&self) {
        let stderr = self.stderr();
        assert!(
            !stderr.contains("panicked"),
            "the server panicked:\n{stderr}"
        );
    }
}

/// Starts the binary on `transport` (`stdio`, `streamable-http` or `sse`) against `dojo_url`,
/// with a token per role, `AUDIT_LOG_FILE` and stderr in its directory, and `extra` settings.
/// HTTP transports are waited for until they accept connections; stdio gets piped stdin/stdout.
pub async fn start(transport: &str, dojo_url: &str, extra: &[(&str, &str)]) -> Running {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = super::free_port();
    let stderr = std::fs::File::create(dir.path().join("stderr.log")).expect("stderr file");
    let mut cmd = server_command(dojo_url, dir.path());
    cmd.env("FASTMCP_TRANSPORT", transport)
        .env("FASTMCP_PORT", port.to_string())
        .env("AUDIT_HMAC_KEY", AUDIT_KEY)
        .env("AUDIT_LOG_FILE", dir.path().join("audit.jsonl"))
        .stderr(Stdio::from(stderr));
    if transport == "stdio" {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    } else {
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
        super::with_role_tokens(&mut cmd);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("server starts");
    if transport != "stdio" {
        if let Err(e) = super::wait_listening(&mut child, port).await {
            let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
            panic!("{e}\n{log}");
        }
    }
    Running { child, port, dir }
}

/// An HTTP client that keeps no cookies or connections between tests.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client")
}

/// The reply of a streamable-HTTP POST: the JSON body, or the first JSON-RPC message of an
/// event stream.
pub fn rpc_reply(text: &str) -> Value {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return v;
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v.get("jsonrpc").is_some())
        .unwrap_or(Value::Null)
}

/// A streamable-HTTP POST as a client sends it; returns status, session header and body.
pub async fn post(
    url: &str,
    bearer: Option<&str>,
    session: Option<&str>,
    body: &Value,
) -> (u16, Option<String>, String) {
    post_with(&http(), url, bearer, session, body).await
}

/// [`post`] on a given client (which keeps its connections).
pub async fn post_with(
    client: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
    session: Option<&str>,
    body: &Value,
) -> (u16, Option<String>, String) {
    let mut request = client
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap());
    if let Some(t) = bearer {
        request = request.bearer_auth(t);
    }
    if let Some(s) = session {
        request = request
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", "2025-06-18");
    }
    let response = request.send().await.expect("HTTP answer");
    let status = response.status().as_u16();
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, session, response.text().await.unwrap_or_default())
}

/// The initialize request.
pub fn initialize_request() -> Value {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "hardening", "version": "1"}}})
}

/// Opens a streamable-HTTP session for `bearer`; returns its id, or the refusal's status.
pub async fn open_session(url: &str, bearer: &str) -> Result<String, u16> {
    let (status, session, _) = post(url, Some(bearer), None, &initialize_request()).await;
    let Some(session) = session.filter(|_| status == 200) else {
        return Err(status);
    };
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    post(url, Some(bearer), Some(&session), &initialized).await;
    Ok(session)
}

/// Calls a tool in a session (or statelessly, with `session` None); returns the JSON-RPC reply.
pub async fn call_tool(
    url: &str,
    bearer: &str,
    session: Option<&str>,
    name: &str,
    arguments: Value,
) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": name, "arguments": arguments}});
    let (status, _, text) = post(url, Some(bearer), session, &body).await;
    assert_eq!(status, 200, "tools/call {name}: {text}");
    rpc_reply(&text)
}

/// The text of a tools/call reply, and whether it is an error.
pub fn tool_text(reply: &Value) -> (String, bool) {
    let result = &reply["result"];
    let text = result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (text, result["isError"].as_bool().unwrap_or(false))
}

/// A legacy (2024-11-05) SSE session: the event stream and the endpoint to POST to.
pub struct SseSession {
    events: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
    pub endpoint: String,
    pub status: u16,
}

impl SseSession {
    /// Opens `GET /sse` for `bearer`; reads the endpoint event when the stream opened.
    pub async fn open(base: &str, bearer: &str) -> SseSession {
        let response = http()
            .get(format!("{base}/sse"))
            .bearer_auth(bearer)
            .header("accept", "text/event-stream")
            .send()
            .await
            .expect("SSE answer");
        let status = response.status().as_u16();
        let mut session = SseSession {
            events: Box::pin(response.bytes_stream()),
            buffer: String::new(),
            endpoint: String::new(),
            status,
        };
        if status == 200 {
            let (_, data) = session.next_event("endpoint").await;
            session.endpoint = format!("{base}{data}");
        }
        session
    }

    /// The data of the next event named `name`.
    pub async fn next_event(&mut self, name: &str) -> (String, String) {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = "message".to_string();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(e) = line.strip_prefix("event:") {
                        event = e.trim().to_string();
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim_start());
                    }
                }
                if event == name && !data.is_empty() {
                    return (event, data);
                }
            }
            let chunk = tokio::time::timeout(Duration::from_secs(120), self.events.next())
                .await
                .expect("an SSE event within 120 s")
                .expect("stream open")
                .expect("stream readable");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// POSTs a message to the session's endpoint; returns the status.
    pub async fn send(&self, bearer: &str, body: &Value) -> u16 {
        http()
            .post(&self.endpoint)
            .bearer_auth(bearer)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).unwrap())
            .send()
            .await
            .expect("POST answered")
            .status()
            .as_u16()
    }

    /// Initializes the session.
    pub async fn initialize(&mut self, bearer: &str) {
        assert_eq!(self.send(bearer, &initialize_request()).await, 202);
        self.next_event("message").await;
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        assert_eq!(self.send(bearer, &initialized).await, 202);
    }

    /// Calls a tool; returns the JSON-RPC reply from the stream.
    pub async fn call_tool(&mut self, bearer: &str, name: &str, arguments: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 42, "method": "tools/call",
            "params": {"name": name, "arguments": arguments}});
        assert_eq!(self.send(bearer, &body).await, 202);
        loop {
            let (_, data) = self.next_event("message").await;
            let reply: Value = serde_json::from_str(&data).expect("JSON message");
            if reply["id"] == json!(42) {
                return reply;
            }
        }
    }
}
