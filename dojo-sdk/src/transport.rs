//! How every request goes out, generated or hand-written alike: retried when that is safe, reported
//! to the caller's hook, and its answer read through the size cap of [`crate::limits`].
//!
//! Retries are for idempotent methods only (GET, HEAD, OPTIONS, PUT, DELETE): a connection that could
//! not be opened, or an answer of 429, 502, 503 or 504. The wait doubles from
//! [`RetryPolicy::base_delay`] with jitter, or is what `Retry-After` asks; a `Retry-After` longer than
//! [`RetryPolicy::max_delay`] is not waited for and the answer goes back to the caller (its
//! [`crate::DojoError`] carries the wait). A POST (create, close, import) is never sent twice.

use crate::limits::{limit_body, ClientState};
use reqwest::{Method, StatusCode};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// When and how often a failed idempotent request is sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Further attempts after the first (0 turns retries off).
    pub max_retries: u32,
    /// Wait before the first retry; doubled for each next one.
    pub base_delay: Duration,
    /// The longest single wait, `Retry-After` included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Two retries, from 250 ms, never waiting more than 5 s at a time.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries: every request is sent once.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Default::default()
        }
    }

    /// The wait before retry number `attempt` (0-based): doubling, with up to 25% jitter so that
    /// many clients do not come back at the same instant.
    fn backoff(&self, attempt: u32) -> Duration {
        let doubled = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(16)));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let jitter = doubled.mul_f64(f64::from(nanos % 250) / 1000.0);
        (doubled + jitter).min(self.max_delay)
    }
}

/// One request as the hook sees it, after it finished. Never carries a header, so never the token.
#[derive(Debug, Clone)]
pub struct RequestEvent {
    /// HTTP method.
    pub method: Method,
    /// URL path, without the query (`/api/v2/findings/42/`).
    pub path: String,
    /// The answer's status; `None` when no answer came (connection or timeout error).
    pub status: Option<u16>,
    /// Time from sending to the answer's headers.
    pub duration: Duration,
    /// 0 for the first attempt, 1 for the first retry, ...
    pub attempt: u32,
    /// Whether the client is about to send it again.
    pub will_retry: bool,
}

/// A function called after every request (for tracing, metrics, logs).
pub type RequestHook = Arc<dyn Fn(&RequestEvent) + Send + Sync>;

/// Wraps a hook so that [`ClientState`] can print itself.
#[derive(Clone, Default)]
pub(crate) struct Hook(pub(crate) Option<RequestHook>);

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Some(hook)"
        } else {
            "None"
        })
    }
}

fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE
    )
}

fn retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// Sends `request` on `http` under the client's policy, hook and response cap.
pub(crate) async fn send(
    http: &reqwest::Client,
    mut request: reqwest::Request,
    state: &ClientState,
) -> reqwest::Result<reqwest::Response> {
    let policy = state.retry;
    let mut attempt = 0;
    loop {
        // A body that is a stream cannot be cloned: such a request is sent once.
        let again = (idempotent(request.method()) && attempt < policy.max_retries)
            .then(|| request.try_clone())
            .flatten();
        let method = request.method().clone();
        let path = request.url().path().to_string();
        let started = Instant::now();
        let result = http.execute(request).await;
        let wait = match (&result, &again) {
            (Ok(response), Some(_)) if retryable(response.status()) => {
                let asked = response
                    .headers()
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(crate::error::parse_retry_after);
                match asked {
                    Some(secs) if Duration::from_secs(secs) > policy.max_delay => None,
                    Some(secs) => Some(Duration::from_secs(secs)),
                    None => Some(policy.backoff(attempt)),
                }
            }
            (Err(e), Some(_)) if e.is_connect() => Some(policy.backoff(attempt)),
            _ => None,
        };
        if let Some(hook) = &state.hook.0 {
            hook(&RequestEvent {
                method,
                path,
                status: result.as_ref().ok().map(|r| r.status().as_u16()),
                duration: started.elapsed(),
                attempt,
                will_retry: wait.is_some(),
            });
        }
        match (wait, again) {
            (Some(wait), Some(next)) => {
                drop(result);
                tokio::time::sleep(wait).await;
                request = next;
                attempt += 1;
            }
            _ => return result.map(|r| limit_body(r, state.max_response_bytes)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_bounded() {
        let p = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        };
        let first = p.backoff(0);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(125));
        let second = p.backoff(1);
        assert!(second >= Duration::from_millis(200) && second <= Duration::from_millis(250));
        assert_eq!(p.backoff(10), Duration::from_millis(500));
        assert_eq!(p.backoff(u32::MAX), Duration::from_millis(500));
    }

    #[test]
    fn only_idempotent_methods_and_transient_statuses_are_retried() {
        assert!(idempotent(&Method::GET) && idempotent(&Method::PUT));
        assert!(!idempotent(&Method::POST) && !idempotent(&Method::PATCH));
        for s in [429, 502, 503, 504] {
            assert!(retryable(StatusCode::from_u16(s).unwrap()));
        }
        for s in [200, 400, 403, 404, 500] {
            assert!(!retryable(StatusCode::from_u16(s).unwrap()));
        }
    }
}
