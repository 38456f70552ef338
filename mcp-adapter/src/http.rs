//! Streamable HTTP transport: bearer authentication, Host/Origin checks, body and time limits.

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
