//! Scale-out: two replicas of the server in stateless HTTP mode share one mutation limit through a
//! real Redis server started here on loopback (`redis-server`, which scripts/test installs).
//! Without Redis each replica would admit its own quota; with it, exactly the configured number
//! goes through across both. When Redis goes away, mutations are refused (fail closed).

mod support;

use rmcp::model::CallToolResult;
use serde_json::json;
use std::process::Stdio;
use std::time::Duration;
use support::client::{call, http_client, text, Client};
use support::*;

/// A throwaway Redis on a free loopback port, stopped on drop.
struct Redis {
    child: std::process::Child,
    url: String,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_redis() -> Redis {
    let port = free_port();
    let child = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server is not installed: ./scripts/test installs it (apt-get install redis-server)");
    // Owned by the guard from here on, so it is killed and reaped on every path.
    let redis = Redis {
        child,
        url: format!("redis://127.0.0.1:{port}/"),
    };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return redis;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("redis-server did not start");
}

async fn add_note(client: &Client) -> CallToolResult {
    call(
        client,
        "add_finding_note",
        &json!({"finding_id": 555, "entry": "replica probe"}),
    )
    .await
}

/// Fires 40 mutations for one caller, spread over both replicas at once; returns how many went
/// through, and checks every refusal's message.
async fn burst(urls: [&str; 2]) -> usize {
    let mut tasks = Vec::new();
    for i in 0..8 {
        let url = urls[i % 2].to_string();
        tasks.push(tokio::spawn(async move {
            let c = http_client(&url, TOKENS[1].1).await;
            let mut admitted = 0;
            for _ in 0..5 {
                let result = add_note(&c).await;
                if result.is_error == Some(true) {
                    let message = text(&result);
                    assert!(
                        message.starts_with("rate limit exceeded — retry after "),
                        "{message}"
                    );
                } else {
                    admitted += 1;
                }
            }
            c.cancel().await.ok();
            admitted
        }));
    }
    let mut admitted = 0;
    for t in tasks {
        admitted += t.await.unwrap();
    }
    admitted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_one_limit_through_redis() {
    let cases = cases();
    let dojo = dojo_double(&cases).await;
    let dir = workdir();
    let redis = start_redis().await;
    let settings = [
        ("MUTATION_RATE_LIMIT", "6"),
        ("MUTATION_RATE_WINDOW", "3600"),
        ("MCP_HTTP_STATELESS", "true"),
        ("RATE_LIMIT_REDIS_URL", redis.url.as_str()),
    ];
    let a = start_http(&dojo.uri(), dir.path(), &settings).await;
    let b = start_http(&dojo.uri(), dir.path(), &settings).await;

    assert_eq!(
        burst([&a.url, &b.url]).await,
        6,
        "exactly the limit, across both replicas"
    );
    assert_eq!(writes(&dojo).await.len(), 6);

    // Another caller has its own shared bucket; reads are never limited.
    let admin = http_client(&b.url, TOKENS[0].1).await;
    assert_ne!(add_note(&admin).await.is_error, Some(true));
    admin.cancel().await.ok();

    // Redis gone: refuse mutations rather than let them through unlimited.
    drop(redis);
    let admin = http_client(&a.url, TOKENS[0].1).await;
    let refused = add_note(&admin).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(
        text(&refused).starts_with("rate limiter unavailable"),
        "{}",
        text(&refused)
    );
    let read = call(&admin, "get_finding", &json!({"finding_id": 1})).await;
    assert_ne!(
        read.is_error,
        Some(true),
        "reads do not depend on the limiter"
    );
    admin.cancel().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_each_replica_counts_alone() {
    // The contrast that makes the test above meaningful.
    let cases = cases();
    let dojo = dojo_double(&cases).await;
    let dir = workdir();
    let settings = [
        ("MUTATION_RATE_LIMIT", "6"),
        ("MUTATION_RATE_WINDOW", "3600"),
        ("MCP_HTTP_STATELESS", "true"),
    ];
    let a = start_http(&dojo.uri(), dir.path(), &settings).await;
    let b = start_http(&dojo.uri(), dir.path(), &settings).await;
    assert_eq!(burst([&a.url, &b.url]).await, 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_redis_url_stops_the_server() {
    let dir = workdir();
    let mut cmd = server_command("http://127.0.0.1:9", dir.path());
    let port = free_port();
    cmd.env(
        "RATE_LIMIT_REDIS_URL",
        format!("redis://:hunter2-secret@127.0.0.1:{port}/"),
    )
    .env("FASTMCP_TRANSPORT", "streamable-http")
    .env("MCP_ROLE_OPS", "admin-token-0123456789:admin")
    .env("AUDIT_HMAC_KEY", "audit-key-0123456789abcdef")
    .stdin(Stdio::null());
    let output = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("RATE_LIMIT_REDIS_URL"), "{stderr}");
    assert!(
        !stderr.contains("hunter2-secret"),
        "the password leaked: {stderr}"
    );
}
