//! What both HTTP transports put in front of MCP: Host/Origin checks, bearer authentication
//! (with refusals in the audit trail) and the request-body check.

use crate::audit::AuditLog;
use crate::jsonrpc;
use crate::security::roles::{Caller, TokenTable};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Refused authentications recorded one by one per second; past it they are counted and the
/// count goes into the next record, so a flood is visible without filling the disk.
const AUTH_FAILURE_RECORDS_PER_SEC: u32 = 10;

/// What the auth middleware needs.
pub struct AuthState {
    /// Configured tokens; empty means open access (only when REQUIRE_AUTH=false).
    pub tokens: TokenTable,
    /// Where refused authentications are recorded.
    pub audit: Arc<AuditLog>,
    failures: Mutex<FailureWindow>,
}

#[derive(Default)]
struct FailureWindow {
    started: Option<Instant>,
    recorded: u32,
    suppressed: u64,
}

impl AuthState {
    /// Authentication against `tokens`, recording refusals in `audit`.
    pub fn new(tokens: TokenTable, audit: Arc<AuditLog>) -> Self {
        AuthState {
            tokens,
            audit,
            failures: Mutex::new(FailureWindow::default()),
        }
    }

    fn record_failure(&self, source: &str, token_presented: bool) {
        let suppressed = {
            let mut window = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            if window
                .started
                .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1))
            {
                window.started = Some(now);
                window.recorded = 0;
            }
            if window.recorded >= AUTH_FAILURE_RECORDS_PER_SEC {
                window.suppressed += 1;
                return;
            }
            window.recorded += 1;
            std::mem::take(&mut window.suppressed)
        };
        tracing::warn!(target: "security", source, token_presented, suppressed, "refused authentication");
        self.audit
            .record_auth_failure(source, token_presented, suppressed);
    }
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive
/// (RFC 7235).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Authenticates `Authorization: Bearer <token>` and attaches the [`Caller`] to the request.
/// Missing and wrong tokens get the same bare 401, so a prober learns nothing; each refusal is
/// recorded in the audit trail with its source address.
pub async fn authenticate(
    State(state): State<Arc<AuthState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request.headers().get(header::AUTHORIZATION);
    let caller = if state.tokens.is_empty() {
        Some(Caller::Open)
    } else {
        presented
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .and_then(|token| state.tokens.authenticate(token))
    };
    match caller {
        Some(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        None => {
            state.record_failure(&crate::serve::peer(&request), presented.is_some());
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "unauthorized",
            )
                .into_response()
        }
    }
}

/// Reads a POST body within `max` bytes (413 past it, declared or chunked) and checks that it is
/// one JSON-RPC message (400 with a JSON-RPC error otherwise), before any transport sees it.
pub async fn check_body(State(max): State<usize>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body larger than the {max} byte limit (MCP_MAX_BODY_BYTES)"),
        )
            .into_response()
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    let bytes = match Limited::new(body, max).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => return too_large(),
        Err(_) => {
            return (StatusCode::BAD_REQUEST, "could not read the request body").into_response()
        }
    };
    if let Err(error) = jsonrpc::parse_client_message(&bytes) {
        return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Which `Host` and `Origin` headers are accepted: the defence against DNS rebinding and against
/// web pages in the user's browser calling the server.
pub struct HeaderPolicy {
    /// Accepted host names (lower case, any port) or `host:port` pairs.
    pub hosts: Vec<String>,
    /// Accepted origins, `scheme://host[:port]`. A request without `Origin` (not a browser) passes.
    pub origins: Vec<String>,
}

impl HeaderPolicy {
    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let name = match host.rsplit_once(':') {
            // `[::1]:8000` and `example.com:8000`; a bare IPv6 literal has no brackets to split on.
            Some((name, port))
                if port.chars().all(|c| c.is_ascii_digit()) && !name.ends_with(':') =>
            {
                name
            }
            _ => host.as_str(),
        };
        self.hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name) || h.eq_ignore_ascii_case(&host))
    }

    /// An allowed origin, or the server's own: `scheme://<the request's Host>` (a page the
    /// server itself would serve; the Host was checked first).
    fn origin_allowed(&self, origin: &str, host: &str) -> bool {
        let origin = origin.trim().trim_end_matches('/');
        let same_origin = origin.split_once("://").is_some_and(|(scheme, authority)| {
            matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
                && authority.eq_ignore_ascii_case(host.trim())
        });
        same_origin
            || self
                .origins
                .iter()
                .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    }
}

/// Refuses a request whose `Host` is not ours (400 when missing, 403 otherwise) or whose `Origin`
/// is not allowed (403), before authentication or MCP see it.
pub async fn check_host_and_origin(
    State(policy): State<Arc<HeaderPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    if request.headers().get_all(header::HOST).iter().count() > 1 {
        return (StatusCode::BAD_REQUEST, "more than one Host header").into_response();
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_string()));
    let Some(host) = host else {
        return (StatusCode::BAD_REQUEST, "missing Host header").into_response();
    };
    if !policy.host_allowed(&host) {
        tracing::warn!(target: "security", "refused a request with a foreign Host header (possible DNS rebinding)");
        return (StatusCode::FORBIDDEN, "Host not allowed").into_response();
    }
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        if !origin
            .to_str()
            .is_ok_and(|o| policy.origin_allowed(o, &host))
        {
            tracing::warn!(target: "security", "refused a request from a foreign Origin");
            return (StatusCode::FORBIDDEN, "Origin not allowed").into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_origins() {
        let policy = HeaderPolicy {
            hosts: vec![
                "localhost".into(),
                "127.0.0.1".into(),
                "[::1]".into(),
                "mcp.example.com".into(),
            ],
            origins: vec!["https://app.example.com".into()],
        };
        for ok in [
            "localhost:8000",
            "127.0.0.1",
            "[::1]:9",
            "MCP.example.com:443",
        ] {
            assert!(policy.host_allowed(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "127.0.0.1.evil.example:80",
            "localhost.evil:8000",
        ] {
            assert!(!policy.host_allowed(bad), "{bad}");
        }
        let host = "127.0.0.1:8000";
        assert!(policy.origin_allowed("https://app.example.com/", host));
        assert!(!policy.origin_allowed("https://app.example.com.evil", host));
        assert!(!policy.origin_allowed("http://app.example.com", host));
        // The server's own origin is not a cross-origin request.
        assert!(policy.origin_allowed("http://127.0.0.1:8000", host));
        assert!(!policy.origin_allowed("http://127.0.0.1:9000", host));
        assert!(!policy.origin_allowed("null", host));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER abc"), Some("abc"));
        assert_eq!(bearer_token("bEaReR   abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearerabc"), None);
    }
}
