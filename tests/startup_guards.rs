//! The fail-closed startup guards, proven against the built binary: each refusal exits non-zero
//! and names the variable and the fix; each dangerous-but-allowed setting logs its CRITICAL event;
//! no secret from the environment is ever echoed.

mod support;

use std::process::Output;
use support::*;

const DOJO_KEY_SECRET: &str = "dojo-key-that-must-never-be-printed";

/// Runs the binary to completion with `env` on top of a clean environment.
async fn run(env: &[(&str, &str)]) -> Output {
    let dir = workdir();
    let mut cmd = server_command("https://defectdojo.example.invalid", dir.path());
    cmd.env("DEFECTDOJO_API_KEY", DOJO_KEY_SECRET)
        .env_remove("ALLOW_INSECURE_HTTP")
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = tokio::time::timeout(std::time::Duration::from_secs(20), cmd.output())
        .await
        .expect("the binary exits instead of serving")
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains(DOJO_KEY_SECRET),
        "a secret reached the log: {stderr}"
    );
    assert!(
        !stderr.contains("admin-token-0123456789"),
        "a token reached the log: {stderr}"
    );
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts a refusal whose message contains every one of `needles`.
async fn refused(env: &[(&str, &str)], needles: &[&str]) {
    let output = run(env).await;
    let text = stderr(&output);
    assert!(!output.status.success(), "should refuse to start: {env:?}");
    for needle in needles {
        assert!(
            text.contains(needle),
            "{env:?}: missing {needle:?} in:\n{text}"
        );
    }
}

/// A network start that passes the checks but then stops on an unreadable CA bundle, before it
/// binds any port: the warnings of the checks are in its log.
async fn warned(env: &[(&str, &str)], needle: &str) {
    let mut env = env.to_vec();
    env.push(("DEFECTDOJO_CA_BUNDLE", "/nonexistent/ca.pem"));
    let output = run(&env).await;
    let text = stderr(&output);
    assert!(
        text.contains(needle),
        "{env:?}: missing {needle:?} in:\n{text}"
    );
    assert!(text.contains("DEFECTDOJO_CA_BUNDLE"), "{text}");
}

const HTTP: (&str, &str) = ("FASTMCP_TRANSPORT", "streamable-http");
const ADMIN: (&str, &str) = ("MCP_ROLE_OPS", "admin-token-0123456789:admin");
const AUDIT_KEY: (&str, &str) = ("AUDIT_HMAC_KEY", "audit-key-0123456789abcdef");

#[tokio::test]
async fn network_transport_without_a_token_is_refused() {
    refused(
        &[HTTP, AUDIT_KEY],
        &["MCP_ROLE_<NAME>=<token>:<role>", "REQUIRE_AUTH=false"],
    )
    .await;
}

#[tokio::test]
async fn network_transport_without_an_audit_key_is_refused() {
    refused(
        &[HTTP, ADMIN],
        &["AUDIT_HMAC_KEY", "REQUIRE_AUDIT_HMAC_KEY=false"],
    )
    .await;
}

#[tokio::test]
async fn plain_http_defectdojo_is_refused() {
    refused(
        &[("DEFECTDOJO_URL", "http://dojo.example.invalid")],
        &["https", "ALLOW_INSECURE_HTTP=true"],
    )
    .await;
}

#[tokio::test]
async fn missing_url_and_key_are_refused() {
    refused(&[("DEFECTDOJO_URL", "")], &["DEFECTDOJO_URL"]).await;
    refused(&[("DEFECTDOJO_API_KEY", "")], &["DEFECTDOJO_API_KEY"]).await;
}

#[tokio::test]
async fn bad_token_configuration_is_refused() {
    refused(
        &[HTTP, AUDIT_KEY, ("MCP_ROLE_OPS", "short:admin")],
        &["MCP_ROLE_OPS", "shorter than 16"],
    )
    .await;
    refused(
        &[
            HTTP,
            AUDIT_KEY,
            ("MCP_ROLE_OPS", "admin-token-0123456789:superuser"),
            ("MCP_AUTH_TOKEN", "legacy-token-0123456789"),
        ],
        &["MCP_ROLE_OPS", "<token>:<role>"],
    )
    .await;
    refused(
        &[
            HTTP,
            AUDIT_KEY,
            ADMIN,
            ("MCP_ROLE_TWO", "admin-token-0123456789:reader"),
        ],
        &["reuses a token"],
    )
    .await;
}

#[tokio::test]
async fn invalid_values_name_their_variable() {
    refused(
        &[("MUTATION_RATE_LIMIT", "lots")],
        &["MUTATION_RATE_LIMIT", "lots"],
    )
    .await;
    refused(
        &[("FASTMCP_TRANSPORT", "pigeon")],
        &["FASTMCP_TRANSPORT", "streamable-http"],
    )
    .await;
    refused(&[("FASTMCP_PORT", "99999")], &["FASTMCP_PORT"]).await;
    refused(
        &[("UNTRUSTED_CONTENT_WRAPPING", "maybe")],
        &["UNTRUSTED_CONTENT_WRAPPING"],
    )
    .await;
}

#[tokio::test]
async fn open_access_on_every_interface_is_a_distinct_critical_event() {
    let open = [HTTP, AUDIT_KEY, ("REQUIRE_AUTH", "false")];
    warned(
        &[&open[..], &[("FASTMCP_HOST", "0.0.0.0")]].concat(),
        "CRITICAL open_access_on_all_interfaces",
    )
    .await;
    warned(&open, "CRITICAL open_access:").await;
}

#[tokio::test]
async fn ephemeral_audit_key_is_a_critical_event() {
    warned(
        &[HTTP, ADMIN, ("REQUIRE_AUDIT_HMAC_KEY", "false")],
        "CRITICAL audit_key_ephemeral",
    )
    .await;
}
