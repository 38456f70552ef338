//! What both HTTP transports put in front of MCP: Host/Origin checks and bearer authentication.

use crate::security::roles::{Caller, TokenTable};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// What the auth middleware needs.
pub struct AuthState {
    /// Configured tokens; empty means open access (only when REQUIRE_AUTH=false).
    pub tokens: TokenTable,
}

/// Authenticates `Authorization: Bearer <token>` and attaches the [`Caller`] to the request.
/// Missing and wrong tokens get the same bare 401, so a prober learns nothing.
pub async fn authenticate(
    State(state): State<Arc<AuthState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = if state.tokens.is_empty() {
        Some(Caller::Open)
    } else {
        request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .and_then(|token| state.tokens.authenticate(token.trim()))
    };
    match caller {
        Some(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "unauthorized",
        )
            .into_response(),
    }
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

    fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim().trim_end_matches('/');
        self.origins
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
        if !origin.to_str().is_ok_and(|o| policy.origin_allowed(o)) {
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
        assert!(policy.origin_allowed("https://app.example.com/"));
        assert!(!policy.origin_allowed("https://app.example.com.evil"));
        assert!(!policy.origin_allowed("http://app.example.com"));
    }
}
