//! Side-by-side benchmark of this server and the Python `mcp-defectdojo` 3.3.2, against one mock
//! DefectDojo that answers from the recorded exchanges. Run it with `./scripts/bench`, which
//! installs the Python server, times a clean release build and writes `docs/BENCHMARKS.md`.
//!
//! Measured for each server: process start until `tools/list` is answered over stdio (median),
//! resident memory after start and after 1,000 tool calls, the latency a tool call adds over
//! calling the mock directly (p50/p99), streamable-HTTP throughput at 1, 16 and 64 concurrent
//! clients, and listing 1,000 findings with wrapping and audit on.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use clap::Parser;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

#[derive(Parser, Debug)]
struct Args {
    /// Our release binary (`cargo bench` runs in mcp-adapter/, hence the `..`).
    #[arg(long, default_value = "../target/release/mcp-defectdojo")]
    ours: PathBuf,
    /// The Python server's entry point (`.venv-seed/bin/mcp-defectdojo`); omit to bench ours only.
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Start-up runs per server (the median is reported).
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Sequential tool calls for the latency and memory figures.
    #[arg(long, default_value_t = 1000)]
    calls: usize,
    /// Seconds per throughput level.
    #[arg(long, default_value_t = 5.0)]
    secs: f64,
    /// Fixed latency the mock adds to every answer, milliseconds.
    #[arg(long, default_value_t = 0)]
    mock_latency_ms: u64,
    /// Findings the mock holds for list_findings.
    #[arg(long, default_value_t = 1000)]
    findings: usize,
    /// Seconds a clean release build took (measured by scripts/bench).
    #[arg(long)]
    build_secs: Option<f64>,
    /// Where to write the markdown table (stdout too).
    #[arg(long)]
    out: Option<PathBuf>,
    // `cargo bench` passes `--bench`; accept and ignore it.
    #[arg(long, hide = true)]
    bench: bool,
}

// ---------------------------------------------------------------- the mock DefectDojo

struct Mock {
    finding: Value,
    findings: Vec<Value>,
    user_profile: Value,
    latency: Duration,
}

impl Mock {
    /// The configured latency. Not a zero sleep: Tokio's timer would round it up to a 1 ms tick.
    async fn delay(&self) {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
    }
}

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../dojo-sdk/tests/fixtures/recorded")
        .join(format!("{name}.json"));
    let exchange: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).unwrap();
    exchange["response"].clone()
}

async fn mock_finding(State(mock): State<Arc<Mock>>, Path(id): Path<i64>) -> Json<Value> {
    mock.delay().await;
    let mut finding = mock.finding.clone();
    finding["id"] = json!(id);
    Json(finding)
}

async fn mock_findings(
    State(mock): State<Arc<Mock>>,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    mock.delay().await;
    let limit = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20usize);
    let offset = q
        .get("offset")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0usize);
    let page: Vec<Value> = mock
        .findings
        .iter()
        .skip(offset)
        .take(limit)
        .cloned()
        .collect();
    let next = (offset + limit < mock.findings.len()).then(|| {
        format!(
            "http://dojo.invalid/api/v2/findings/?limit={limit}&offset={}",
            offset + limit
        )
    });
    Json(json!({"count": mock.findings.len(), "next": next, "previous": null, "results": page}))
}

async fn mock_profile(State(mock): State<Arc<Mock>>) -> Json<Value> {
    mock.delay().await;
    Json(mock.user_profile.clone())
}

/// Starts the mock on a loopback port; returns its base URL.
async fn start_mock(findings: usize, latency: Duration) -> String {
    let finding = fixture("finding_get");
    let recorded = fixture("findings_list")["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let findings = (0..findings)
        .map(|i| {
            let mut f = recorded[i % recorded.len()].clone();
            f["id"] = json!(i + 1);
            f
        })
        .collect();
    let mock = Arc::new(Mock {
        finding,
        findings,
        user_profile: fixture("user_profile"),
        latency,
    });
    let app = Router::new()
        .route("/api/v2/findings/{id}/", get(mock_finding))
        .route("/api/v2/findings/", get(mock_findings))
        .route("/api/v2/user_profile/", get(mock_profile))
        .with_state(mock);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

// ---------------------------------------------------------------- the servers

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Ours,
    Seed,
}

const TOKEN: &str = "bench-token-0123456789abcdef";

fn server(which: Which, args: &Args, dojo: &str, audit_dir: &std::path::Path) -> Command {
    let program = match which {
        Which::Ours => args.ours.clone(),
        Which::Seed => args.seed.clone().expect("seed path"),
    };
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars() {
        if key.starts_with("MCP_")
            || key.starts_with("DEFECTDOJO_")
            || key.starts_with("AUDIT_")
            || key.starts_with("FASTMCP_")
        {
            cmd.env_remove(key);
        }
    }
    // One audit file per server process: a killed server may not be gone when the next starts,
    // and ours refuses a log another process still holds.
    static SPAWNED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SPAWNED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    cmd.current_dir(audit_dir)
        .env("DEFECTDOJO_URL", dojo)
        .env("DEFECTDOJO_API_KEY", "bench-key")
        .env("ALLOW_INSECURE_HTTP", "true")
        .env("LOG_LEVEL", "WARNING")
        .env("AUDIT_HMAC_KEY", "bench-audit-key-0123456789")
        .env("AUDIT_LOG_FILE", audit_dir.join(format!("audit-{n}.jsonl")))
        .env("MUTATION_RATE_LIMIT", "1000000")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if which == Which::Ours {
        cmd.env("LOG_LEVEL", "warn");
    }
    cmd
}

/// A server over stdio, spoken to with raw JSON-RPC lines.
struct StdioSession {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

impl StdioSession {
    fn spawn(mut cmd: Command) -> StdioSession {
        let mut child = cmd.spawn().expect("server starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        StdioSession {
            child,
            stdin,
            stdout,
            next_id: 1,
        }
    }

    async fn send(&mut self, message: Value) {
        let mut line = serde_json::to_vec(&message).unwrap();
        line.push(b'\n');
        self.stdin.write_all(&line).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        let mut line = String::new();
        loop {
            line.clear();
            if self.stdout.read_line(&mut line).await.unwrap() == 0 {
                panic!("server closed stdout");
            }
            let Ok(message) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    async fn initialize(&mut self) {
        let init = self
            .request("initialize", json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}))
            .await;
        assert!(init.get("result").is_some(), "initialize failed: {init}");
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
    }

    async fn call(&mut self, tool: &str, arguments: Value) -> Value {
        let answer = self
            .request("tools/call", json!({"name": tool, "arguments": arguments}))
            .await;
        assert!(
            answer["result"]["isError"] != json!(true),
            "{tool} failed: {answer}"
        );
        answer
    }

    fn rss_kib(&self) -> u64 {
        let pid = self.child.id().expect("running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }
}

/// One MCP session over streamable HTTP (JSON or SSE answers).
struct HttpSession {
    http: reqwest::Client,
    url: String,
    session: Option<String>,
    next_id: u64,
}

impl HttpSession {
    async fn post(&mut self, body: Value) -> Option<Value> {
        let mut request = self
            .http
            .post(&self.url)
            .bearer_auth(TOKEN)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18")
            .json(&body);
        if let Some(s) = &self.session {
            request = request.header("mcp-session-id", s);
        }
        let response = request.send().await.expect("HTTP answer");
        if let Some(s) = response.headers().get("mcp-session-id") {
            self.session = Some(s.to_str().unwrap().to_string());
        }
        let text = response.text().await.unwrap_or_default();
        let id = body.get("id")?.clone();
        let json_answer = serde_json::from_str::<Value>(&text).ok();
        json_answer
            .into_iter()
            .chain(
                text.lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .filter_map(|d| serde_json::from_str(d.trim()).ok()),
            )
            .find(|m: &Value| m["id"] == id)
    }

    async fn open(url: &str) -> HttpSession {
        let mut s = HttpSession {
            http: reqwest::Client::builder()
                .tcp_nodelay(true)
                .build()
                .unwrap(),
            url: url.to_string(),
            session: None,
            next_id: 1,
        };
        let init = s
            .post(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}))
            .await;
        assert!(init.is_some(), "initialize over HTTP failed");
        s.post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        s
    }

    async fn call(&mut self, tool: &str, arguments: Value) {
        let id = self.next_id;
        self.next_id += 1;
        let answer = self
            .post(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}))
            .await
            .expect("an answer");
        assert!(
            answer["result"]["isError"] != json!(true),
            "{tool} failed over HTTP: {answer}"
        );
    }
}

// ---------------------------------------------------------------- measurements

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[derive(Default, Clone)]
struct Figures {
    start_ms: f64,
    rss_start_kib: u64,
    rss_after_kib: u64,
    get_p50: Duration,
    get_p99: Duration,
    list_p50: Duration,
    list_p99: Duration,
    throughput: Vec<(usize, f64)>,
    list_1000_ms: f64,
    list_1000_calls: usize,
}

async fn start_time(which: Which, args: &Args, dojo: &str, dir: &std::path::Path) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..args.runs {
        let began = Instant::now();
        let mut s = StdioSession::spawn(server(which, args, dojo, dir));
        s.initialize().await;
        let tools = s.request("tools/list", json!({})).await;
        samples.push(began.elapsed());
        assert_eq!(tools["result"]["tools"].as_array().map(Vec::len), Some(24));
        drop(s);
    }
    samples.sort();
    percentile(&samples, 0.5).as_secs_f64() * 1000.0
}

async fn timed_calls(
    s: &mut StdioSession,
    tool: &str,
    arguments: Value,
    n: usize,
) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let began = Instant::now();
        s.call(tool, arguments.clone()).await;
        samples.push(began.elapsed());
    }
    samples.sort();
    samples
}

async fn direct_calls(dojo: &str, path: &str, n: usize) -> Vec<Duration> {
    let http = reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .unwrap();
    let url = format!("{dojo}{path}");
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let began = Instant::now();
        let body = http
            .get(&url)
            .header("authorization", "Token bench-key")
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(!body.is_empty());
        samples.push(began.elapsed());
    }
    samples.sort();
    samples
}

async fn throughput(
    which: Which,
    args: &Args,
    dojo: &str,
    dir: &std::path::Path,
    clients: usize,
) -> f64 {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = server(which, args, dojo, dir);
    cmd.env("FASTMCP_TRANSPORT", "streamable-http")
        .env("FASTMCP_HOST", "127.0.0.1")
        .env("FASTMCP_PORT", port.to_string())
        .env("MCP_AUTH_TOKEN", TOKEN)
        // Every benchmark client shares one token; ours caps sessions per token (16 by default).
        .env("MCP_MAX_SESSIONS_PER_CALLER", "256")
        // The Python server's uvicorn writes access logs to stdout: nobody reads it here.
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let _child = cmd.spawn().expect("HTTP server starts");
    for _ in 0..600 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let url = format!("http://127.0.0.1:{port}/mcp");
    let mut sessions = Vec::new();
    for _ in 0..clients {
        let mut s = HttpSession::open(&url).await;
        s.call("get_finding", json!({"finding_id": 1})).await; // warm-up
        sessions.push(s);
    }
    let deadline = Instant::now() + Duration::from_secs_f64(args.secs);
    let began = Instant::now();
    let tasks: Vec<_> = sessions
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < deadline {
                    s.call("get_finding", json!({"finding_id": 7})).await;
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / began.elapsed().as_secs_f64()
}

async fn measure(which: Which, args: &Args, dojo: &str) -> Figures {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Figures {
        start_ms: start_time(which, args, dojo, dir.path()).await,
        ..Default::default()
    };

    let mut s = StdioSession::spawn(server(which, args, dojo, dir.path()));
    s.initialize().await;
    s.request("tools/list", json!({})).await;
    f.rss_start_kib = s.rss_kib();
    let gets = timed_calls(&mut s, "get_finding", json!({"finding_id": 1}), args.calls).await;
    f.rss_after_kib = s.rss_kib();
    (f.get_p50, f.get_p99) = (percentile(&gets, 0.5), percentile(&gets, 0.99));
    let lists = timed_calls(
        &mut s,
        "list_findings",
        json!({"limit": 20}),
        args.calls / 5,
    )
    .await;
    (f.list_p50, f.list_p99) = (percentile(&lists, 0.5), percentile(&lists, 0.99));

    // 1,000 findings: one page where the server allows it, else pages of its maximum (100).
    let page = if which == Which::Ours { 1000 } else { 100 };
    let mut runs = Vec::new();
    for _ in 0..5 {
        let began = Instant::now();
        for offset in (0..1000).step_by(page) {
            s.call("list_findings", json!({"limit": page, "offset": offset}))
                .await;
        }
        runs.push(began.elapsed());
    }
    runs.sort();
    f.list_1000_ms = percentile(&runs, 0.5).as_secs_f64() * 1000.0;
    f.list_1000_calls = 1000 / page;
    drop(s);

    for clients in [1, 16, 64] {
        f.throughput.push((
            clients,
            throughput(which, args, dojo, dir.path(), clients).await,
        ));
    }
    f
}

// ---------------------------------------------------------------- report

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn added(total: Duration, direct: Duration) -> String {
    ms(total.saturating_sub(direct))
}

fn ratio(ours: f64, seed: f64) -> String {
    if ours <= 0.0 || seed <= 0.0 {
        return "–".into();
    }
    if seed >= ours {
        format!("1/{:.0}", seed / ours)
    } else {
        format!("{:.1}×", ours / seed)
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn dir_kib(path: &std::path::Path) -> u64 {
    let output = std::process::Command::new("du")
        .arg("-sk")
        .arg(path)
        .output();
    output
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

fn report(
    args: &Args,
    ours: &Figures,
    seed: Option<&Figures>,
    direct_get: &[Duration],
    direct_list: &[Duration],
) -> String {
    let d_get = (percentile(direct_get, 0.5), percentile(direct_get, 0.99));
    let d_list = (percentile(direct_list, 0.5), percentile(direct_list, 0.99));
    let col = |f: &dyn Fn(&Figures) -> String| seed.map(f).unwrap_or_else(|| "–".into());
    let rat = |f: &dyn Fn(&Figures) -> f64| {
        seed.map(|s| ratio(f(ours), f(s)))
            .unwrap_or_else(|| "–".into())
    };
    let mut rows: Vec<[String; 4]> = vec![
        [
            format!(
                "start → tools/list answered, stdio (median of {})",
                args.runs
            ),
            format!("{:.1} ms", ours.start_ms),
            col(&|s| format!("{:.0} ms", s.start_ms)),
            rat(&|f| f.start_ms),
        ],
        [
            "resident memory after start".into(),
            mib(ours.rss_start_kib),
            col(&|s| mib(s.rss_start_kib)),
            rat(&|f| f.rss_start_kib as f64),
        ],
        [
            format!("resident memory after {} tool calls", args.calls),
            mib(ours.rss_after_kib),
            col(&|s| mib(s.rss_after_kib)),
            rat(&|f| f.rss_after_kib as f64),
        ],
        [
            "get_finding added latency p50 (stdio)".into(),
            added(ours.get_p50, d_get.0),
            col(&|s| added(s.get_p50, d_get.0)),
            rat(&|f| f.get_p50.saturating_sub(d_get.0).as_secs_f64()),
        ],
        [
            "get_finding added latency p99 (stdio)".into(),
            added(ours.get_p99, d_get.1),
            col(&|s| added(s.get_p99, d_get.1)),
            rat(&|f| f.get_p99.saturating_sub(d_get.1).as_secs_f64()),
        ],
        [
            "list_findings (20) added latency p50 (stdio)".into(),
            added(ours.list_p50, d_list.0),
            col(&|s| added(s.list_p50, d_list.0)),
            rat(&|f| f.list_p50.saturating_sub(d_list.0).as_secs_f64()),
        ],
        [
            "list_findings (20) added latency p99 (stdio)".into(),
            added(ours.list_p99, d_list.1),
            col(&|s| added(s.list_p99, d_list.1)),
            rat(&|f| f.list_p99.saturating_sub(d_list.1).as_secs_f64()),
        ],
    ];
    for (i, (clients, _)) in ours.throughput.iter().enumerate() {
        rows.push([
            format!("streamable HTTP get_finding calls/s, {clients} concurrent client(s)"),
            format!("{:.0}", ours.throughput[i].1),
            col(&|s| format!("{:.0}", s.throughput[i].1)),
            rat(&|f| f.throughput[i].1),
        ]);
    }
    rows.push([
        "list 1,000 findings, wrapping + audit on (median of 5)".into(),
        format!(
            "{:.1} ms ({} call)",
            ours.list_1000_ms, ours.list_1000_calls
        ),
        col(&|s| {
            format!(
                "{:.1} ms ({} calls of 100, its maximum)",
                s.list_1000_ms, s.list_1000_calls
            )
        }),
        rat(&|f| f.list_1000_ms),
    ]);
    let binary_kib = std::fs::metadata(&args.ours)
        .map(|m| m.len() / 1024)
        .unwrap_or(0);
    let seed_kib = args
        .seed
        .as_ref()
        .and_then(|p| p.parent()?.parent().map(dir_kib))
        .unwrap_or(0);
    rows.push([
        "installed size (binary / Python venv)".into(),
        mib(binary_kib),
        if seed_kib > 0 {
            mib(seed_kib)
        } else {
            "–".into()
        },
        if seed_kib > 0 {
            ratio(binary_kib as f64, seed_kib as f64)
        } else {
            "–".into()
        },
    ]);
    rows.push([
        "clean release build".into(),
        args.build_secs
            .map(|s| format!("{s:.0} s"))
            .unwrap_or_else(|| "not measured".into()),
        "– (pip install)".into(),
        "–".into(),
    ]);
    let mut out = String::from("| Measure | mcp-defectdojo (Rust) | mcp-defectdojo 3.3.2 (Python) | Rust vs Python |\n|---|---|---|---|\n");
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            row[0], row[1], row[2], row[3]
        ));
    }
    out.push_str(&format!(
        "\nReference: the mock answered directly (reqwest, keep-alive) in p50 {} / p99 {} for a finding, p50 {} / p99 {} for a page of 20; \"added latency\" is the MCP round trip minus that. Ratios: 1/N means N times less (better for time and memory); N× means N times more (better for throughput).\n",
        ms(d_get.0), ms(d_get.1), ms(d_list.0), ms(d_list.1)
    ));
    out
}

fn main() {
    let mut args = Args::parse();
    // The servers run in a scratch directory: make the paths absolute first.
    args.ours = std::fs::canonicalize(&args.ours)
        .expect("our binary (build it: cargo build --release -p mcp-adapter)");
    args.seed = args
        .seed
        .map(|p| std::fs::canonicalize(p).expect("the Python server's entry point"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dojo = start_mock(args.findings, Duration::from_millis(args.mock_latency_ms)).await;
        eprintln!("mock DefectDojo at {dojo}");
        let direct_get = direct_calls(&dojo, "/api/v2/findings/1/", args.calls).await;
        let direct_list =
            direct_calls(&dojo, "/api/v2/findings/?limit=20&offset=0", args.calls / 5).await;
        eprintln!("measuring ours ({})", args.ours.display());
        let ours = measure(Which::Ours, &args, &dojo).await;
        let seed = match &args.seed {
            Some(path) => {
                eprintln!("measuring the Python server ({})", path.display());
                Some(measure(Which::Seed, &args, &dojo).await)
            }
            None => None,
        };
        let table = report(&args, &ours, seed.as_ref(), &direct_get, &direct_list);
        println!("{table}");
        if let Some(out) = &args.out {
            std::fs::write(out, &table).expect("write the table");
        }
    });
}
