//! End-to-end with rmcp's own client: the built `mcp-defectdojo` binary driven over stdio and
//! streamable HTTP, against wiremock answering with the recorded DefectDojo 2.50.4 exchanges.
//! The cases live in `tests/e2e/cases.json`, shared with the Python client's tests.

mod support;

use rmcp::transport::TokioChildProcess;
use rmcp::ServiceExt;
use serde_json::Value;
use std::process::Stdio;
use support::client::{call, http_client, text, Client};
use support::*;

async fn stdio_client(dojo_url: &str, dir: &std::path::Path) -> Client {
    let cmd = server_command(dojo_url, dir);
    let (transport, _stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn server");
    ().serve(transport).await.expect("initialize over stdio")
}

fn expected_write(case: &Value) -> Vec<(String, String)> {
    let one = |w: &Value| {
        (
            w["method"].as_str().unwrap().to_string(),
            w["path"].as_str().unwrap().to_string(),
        )
    };
    match &case["write"] {
        Value::Null => vec![],
        Value::Array(all) => all.iter().map(one).collect(),
        w => vec![one(w)],
    }
}

/// Runs every happy and failure case on a fresh double per case, through `connect`.
async fn every_tool_both_paths<F, Fut>(connect: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = (Client, Option<HttpServer>)>,
{
    let cases = cases();
    let happy = cases["happy"].as_object().unwrap();
    let failing = cases["failing"].as_object().unwrap();
    assert_eq!(happy.len(), mcp_adapter::tools::TOOLS.len());
    assert_eq!(failing.len(), mcp_adapter::tools::TOOLS.len());

    for (tool, case) in happy {
        let dojo = dojo_double(&cases).await;
        let (client, _server) = connect(dojo.uri()).await;
        let result = call(&client, tool, &case["arguments"]).await;
        assert_ne!(result.is_error, Some(true), "{tool}: {}", text(&result));
        let payload: Value = serde_json::from_str(&text(&result)).expect("text is JSON");
        assert_eq!(result.structured_content.as_ref(), Some(&payload), "{tool}");
        assert_eq!(writes(&dojo).await, expected_write(case), "{tool}");
        client.cancel().await.ok();
    }

    for (tool, case) in failing {
        let dojo = dojo_double(&cases).await;
        let (client, _server) = connect(dojo.uri()).await;
        let result = call(&client, tool, &case["arguments"]).await;
        let message = text(&result);
        assert_eq!(result.is_error, Some(true), "{tool} should fail: {message}");
        assert!(!message.is_empty(), "{tool}: an error says why");
        assert_eq!(
            writes(&dojo).await,
            vec![],
            "{tool}: a refused call changes nothing"
        );
        let reached: Vec<_> = requests(&dojo)
            .await
            .into_iter()
            .filter(|(_, p)| p != "/api/v2/user_profile/")
            .collect();
        if case["reaches_defectdojo"].as_bool() == Some(true) {
            assert!(message.starts_with("not found"), "{tool}: {message}");
        } else {
            assert_eq!(reached, vec![], "{tool}: bad input reached DefectDojo");
        }
        client.cancel().await.ok();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_over_stdio() {
    let dir = workdir();
    let path = dir.path().to_path_buf();
    every_tool_both_paths(|url| {
        let path = path.clone();
        async move { (stdio_client(&url, &path).await, None) }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_over_streamable_http() {
    let dir = workdir();
    let path = dir.path().to_path_buf();
    every_tool_both_paths(|url| {
        let path = path.clone();
        async move {
            let server = start_http(&url, &path, &[]).await;
            let client = http_client(&server.url, TOKENS[0].1).await;
            (client, Some(server))
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_list_has_every_tool_with_schemas() {
    let cases = cases();
    let dojo = dojo_double(&cases).await;
    let dir = workdir();
    let client = stdio_client(&dojo.uri(), dir.path()).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    let mut names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    let mut expected: Vec<_> = cases["happy"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    expected.sort();
    assert_eq!(names, expected);
    for tool in &tools {
        assert!(
            tool.annotations.is_some() && tool.title.is_some(),
            "{}",
            tool.name
        );
        assert!(tool.output_schema.is_some(), "{}", tool.name);
    }
    client.cancel().await.ok();
}

/// Many clients of one caller racing for mutations: exactly the configured number gets through,
/// the rest are told when to retry, and another caller has a bucket of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutation_rate_limit_holds_under_concurrency() {
    const LIMIT: usize = 7;
    let cases = cases();
    let dojo = dojo_double(&cases).await;
    let dir = workdir();
    let server = start_http(
        &dojo.uri(),
        dir.path(),
        &[
            ("MUTATION_RATE_LIMIT", "7"),
            ("MUTATION_RATE_WINDOW", "3600"),
        ],
    )
    .await;
    let note = serde_json::json!({"finding_id": 555, "entry": "rate limit probe"});

    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(http_client(&server.url, TOKENS[1].1).await);
    }
    let mut tasks = Vec::new();
    for client in clients {
        let note = note.clone();
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for _ in 0..5 {
                outcomes.push(call(&client, "add_finding_note", &note).await);
            }
            client.cancel().await.ok();
            outcomes
        }));
    }
    let mut admitted = 0;
    let mut refused = 0;
    for task in tasks {
        for result in task.await.unwrap() {
            if result.is_error == Some(true) {
                let message = text(&result);
                assert!(
                    message.starts_with("rate limit exceeded — retry after "),
                    "{message}"
                );
                refused += 1;
            } else {
                admitted += 1;
            }
        }
    }
    assert_eq!((admitted, refused), (LIMIT, 40 - LIMIT));
    assert_eq!(
        writes(&dojo).await.len(),
        LIMIT,
        "refused calls never reach DefectDojo"
    );

    // Reads are not limited; another caller (admin) has its own bucket.
    let admin = http_client(&server.url, TOKENS[0].1).await;
    assert_ne!(
        call(&admin, "get_finding", &serde_json::json!({"finding_id": 1}))
            .await
            .is_error,
        Some(true)
    );
    assert_ne!(
        call(&admin, "add_finding_note", &note).await.is_error,
        Some(true)
    );
    admin.cancel().await.ok();
}
