//! A bound on what DefectDojo may send back: every response body, generated or hand-written
//! call alike, is read through a counter that fails the call once it passes the limit, so a
//! broken or hostile server (or a proxy's error page) cannot make the client buffer without end.

use crate::generated;
use futures_util::StreamExt;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use std::fmt;

/// Default largest response body: 64 MiB, far above a 1,000-finding page.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// Per-client state the generated client carries (progenitor's "inner type"): what
/// [`crate::transport`] applies to every request.
#[derive(Debug, Clone)]
pub struct ClientState {
    /// Largest response body accepted, bytes.
    pub max_response_bytes: u64,
    /// When failed idempotent requests are sent again.
    pub retry: crate::transport::RetryPolicy,
    pub(crate) hook: crate::transport::Hook,
}

impl Default for ClientState {
    fn default() -> Self {
        ClientState {
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            retry: crate::transport::RetryPolicy::default(),
            hook: crate::transport::Hook::default(),
        }
    }
}

/// The error a capped body yields; found again in the error's source chain by
/// [`crate::DojoError`] and reported as [`crate::DojoError::ResponseTooLarge`].
#[derive(Debug)]
pub struct ResponseTooLarge {
    /// The limit that was passed, bytes.
    pub limit: u64,
}

impl fmt::Display for ResponseTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DefectDojo's answer is larger than the {} byte limit",
            self.limit
        )
    }
}

impl std::error::Error for ResponseTooLarge {}

/// Re-wraps `response` so that reading its body fails past `limit` bytes. A declared
/// `Content-Length` over the limit fails on the first read, before anything is buffered.
pub(crate) fn limit_body(response: reqwest::Response, limit: u64) -> reqwest::Response {
    let declared_too_large = response.content_length().is_some_and(|n| n > limit);
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let mut seen: u64 = 0;
    type BoxError = Box<dyn std::error::Error + Send + Sync>;
    let chunks = response.bytes_stream().map(move |chunk| {
        let chunk = chunk.map_err(|e| Box::new(e) as BoxError)?;
        seen = seen.saturating_add(chunk.len() as u64);
        if declared_too_large || seen > limit {
            return Err(Box::new(ResponseTooLarge { limit }) as BoxError);
        }
        Ok(chunk)
    });
    let mut builder = http::Response::builder().status(status).version(version);
    if let Some(h) = builder.headers_mut() {
        *h = headers;
    }
    match builder.body(reqwest::Body::wrap_stream(chunks)) {
        Ok(limited) => reqwest::Response::from(limited),
        // Unreachable: status, version and headers come from a valid response.
        Err(_) => reqwest::Response::from(http::Response::new(reqwest::Body::from(Vec::new()))),
    }
}

impl ClientHooks<ClientState> for generated::Client {
    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        crate::transport::send(self.client(), request, self.inner()).await
    }
}
