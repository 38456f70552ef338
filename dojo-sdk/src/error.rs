//! One error type for every call: HTTP status with DefectDojo's error body, transport and decode errors.

use std::collections::BTreeMap;
use std::fmt;

/// Longest piece of an unparseable error body kept in an error, so a huge HTML page never floods logs.
const MAX_RAW_BODY: usize = 512;

/// What went wrong talking to DefectDojo.
#[derive(Debug, thiserror::Error)]
pub enum DojoError {
    /// DefectDojo answered with a non-success status.
    #[error("DefectDojo answered {status}: {body}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// DefectDojo's error body, parsed.
        body: ApiErrorBody,
        /// Seconds DefectDojo asked to wait (`Retry-After`, on 429 and 503), when it said.
        retry_after: Option<u64>,
    },
    /// DefectDojo's answer was larger than the client's limit
    /// ([`DojoClientBuilder::max_response_bytes`](crate::DojoClientBuilder::max_response_bytes)).
    #[error("DefectDojo's answer is larger than the {limit} byte limit")]
    ResponseTooLarge {
        /// The limit, bytes.
        limit: u64,
    },
    /// The request never got an answer (connection refused, TLS failure, timeout, ...).
    #[error("could not reach DefectDojo: {0}")]
    Transport(String),
    /// DefectDojo answered with success, but the body does not fit the expected type.
    #[error("unexpected response from DefectDojo at `{path}`: {message}")]
    Decode {
        /// Path of the field that failed (`results[3].note_type`), `.` for the whole body.
        path: String,
        /// What serde said.
        message: String,
    },
    /// The request was refused before it was sent (a missing required argument, a bad value).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The client was configured wrongly.
    #[error("invalid client configuration: {0}")]
    Config(String),
}

/// How a failed call should be understood, independent of DefectDojo's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The API token is missing or invalid. DefectDojo says 403 here, not 401.
    Unauthenticated,
    /// The token is valid but may not do this.
    Forbidden,
    /// The object does not exist, or the token's products do not include it (DefectDojo hides both as 404).
    NotFound,
    /// DefectDojo refused the input (400, 405, 415).
    Invalid,
    /// Too many requests (429).
    RateLimited,
    /// DefectDojo answered with a redirect (3xx), which the client never follows so the token is
    /// never sent elsewhere: the base URL is wrong (scheme, host or path prefix).
    Redirect,
    /// The answer was larger than the client's response-size limit.
    TooLarge,
    /// DefectDojo failed (5xx).
    Server,
    /// Network, TLS or timeout.
    Transport,
    /// Success status, body not understood.
    Decode,
    /// Refused by this client before sending, or misconfigured.
    Client,
}

impl DojoError {
    /// The kind of failure, for callers that map errors to their own messages.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DojoError::Api { status, body, .. } => match status {
                300..=399 => ErrorKind::Redirect,
                401 => ErrorKind::Unauthenticated,
                403 if body.is_authentication_failure() => ErrorKind::Unauthenticated,
                403 => ErrorKind::Forbidden,
                404 => ErrorKind::NotFound,
                429 => ErrorKind::RateLimited,
                500..=599 => ErrorKind::Server,
                _ => ErrorKind::Invalid,
            },
            DojoError::Transport(_) => ErrorKind::Transport,
            DojoError::ResponseTooLarge { .. } => ErrorKind::TooLarge,
            DojoError::Decode { .. } => ErrorKind::Decode,
            DojoError::InvalidRequest(_) | DojoError::Config(_) => ErrorKind::Client,
        }
    }

    /// The HTTP status DefectDojo answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            DojoError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Builds an `Api` error from a status and raw body bytes.
    pub fn from_status_and_body(status: u16, body: &[u8]) -> Self {
        DojoError::Api {
            status,
            body: ApiErrorBody::parse(body),
            retry_after: None,
        }
    }

    /// Builds an `Api` error from a status, the response headers (for `Retry-After`) and the body.
    pub fn from_response_parts(status: u16, headers: &http::HeaderMap, body: &[u8]) -> Self {
        DojoError::Api {
            status,
            body: ApiErrorBody::parse(body),
            retry_after: headers
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after),
        }
    }

    /// Seconds DefectDojo asked to wait before retrying, if it said.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            DojoError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub(crate) fn transport(e: &reqwest::Error) -> Self {
        if let Some(limit) = too_large_limit(e) {
            return DojoError::ResponseTooLarge { limit };
        }
        // reqwest's Display names the URL; keep it out so query strings never reach a log.
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else if e.is_request() {
            "request failed"
        } else {
            "transport error"
        };
        let mut source = std::error::Error::source(e);
        let mut detail = String::new();
        while let Some(s) = source {
            detail = s.to_string();
            source = s.source();
        }
        if detail.is_empty() {
            DojoError::Transport(what.to_string())
        } else {
            DojoError::Transport(format!("{what}: {detail}"))
        }
    }
}

/// The limit of a [`ResponseTooLarge`](crate::limits::ResponseTooLarge) anywhere in the source chain.
fn too_large_limit(e: &(dyn std::error::Error + 'static)) -> Option<u64> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(t) = err.downcast_ref::<crate::limits::ResponseTooLarge>() {
            return Some(t.limit);
        }
        current = err.source();
    }
    None
}

/// `Retry-After` as seconds: delta-seconds, or an HTTP date turned into seconds from now.
pub(crate) fn parse_retry_after(value: &str) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let secs = (when.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    Some(secs.max(0) as u64)
}

/// DefectDojo's error body in the shapes it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiErrorBody {
    /// `{"detail": "..."}` (authentication, permission, not found, method, media type).
    Detail(String),
    /// `{"field": ["problem", ..], ..}` validation errors, with `error`/`non_field_errors` as `general`.
    /// DefectDojo's `message` (a Python repr of the same errors) and `pro` (an advert) are dropped.
    Fields {
        /// Problems per field, in field-name order.
        fields: BTreeMap<String, Vec<String>>,
        /// Problems not tied to one field.
        general: Vec<String>,
    },
    /// A bare JSON array of strings (`["product_name parameter missing"]`), as importers answer.
    Messages(Vec<String>),
    /// Anything else, cut to a short prefix. Empty for an empty body.
    Raw(String),
}

impl ApiErrorBody {
    /// Parses an error body; never fails.
    pub fn parse(body: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return ApiErrorBody::Raw(truncate(&String::from_utf8_lossy(body)));
        };
        match value {
            serde_json::Value::Array(items) => {
                ApiErrorBody::Messages(items.iter().map(value_text).collect())
            }
            serde_json::Value::Object(map) => {
                if let (1, Some(detail)) = (map.len(), map.get("detail")) {
                    return ApiErrorBody::Detail(value_text(detail));
                }
                let mut fields = BTreeMap::new();
                let mut general = Vec::new();
                for (key, v) in map {
                    match key.as_str() {
                        "message" | "pro" => {}
                        "detail" | "error" | "non_field_errors" => general.extend(texts(&v)),
                        _ => {
                            fields.insert(key, texts(&v));
                        }
                    }
                }
                ApiErrorBody::Fields { fields, general }
            }
            other => ApiErrorBody::Raw(truncate(&other.to_string())),
        }
    }

    /// True for DRF's answers to a missing or bad token.
    pub fn is_authentication_failure(&self) -> bool {
        match self {
            ApiErrorBody::Detail(d) => {
                let d = d.to_ascii_lowercase();
                d.contains("invalid token")
                    || d.contains("credentials were not provided")
                    || d.contains("token")
                        && (d.contains("inactive")
                            || d.contains("deleted")
                            || d.contains("expired"))
            }
            _ => false,
        }
    }

    /// Names of the fields DefectDojo complained about.
    pub fn field_names(&self) -> Vec<&str> {
        match self {
            ApiErrorBody::Fields { fields, .. } => fields.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for ApiErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiErrorBody::Detail(d) => f.write_str(d),
            ApiErrorBody::Messages(m) => f.write_str(&m.join("; ")),
            ApiErrorBody::Raw(r) if r.is_empty() => f.write_str("(empty body)"),
            ApiErrorBody::Raw(r) => f.write_str(r),
            ApiErrorBody::Fields { fields, general } => {
                let mut parts: Vec<String> = general.clone();
                parts.extend(fields.iter().map(|(k, v)| format!("{k}: {}", v.join(" "))));
                f.write_str(&parts.join("; "))
            }
        }
    }
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn texts(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Array(items) => items.iter().map(value_text).collect(),
        other => vec![value_text(other)],
    }
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_RAW_BODY) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_detail() {
        let e = DojoError::from_status_and_body(403, br#"{"detail":"Invalid token."}"#);
        assert_eq!(e.kind(), ErrorKind::Unauthenticated);
        let e = DojoError::from_status_and_body(
            403,
            br#"{"detail":"You do not have permission to perform this action."}"#,
        );
        assert_eq!(e.kind(), ErrorKind::Forbidden);
    }

    #[test]
    fn parses_field_errors_and_drops_message_and_pro() {
        let body = br#"{"target_start":["Date has wrong format."],"message":"{'target_start': [ErrorDetail(..)]}","pro":["Pro comes with support"]}"#;
        let parsed = ApiErrorBody::parse(body);
        assert_eq!(parsed.field_names(), vec!["target_start"]);
        assert_eq!(parsed.to_string(), "target_start: Date has wrong format.");
    }

    #[test]
    fn parses_bare_arrays_and_error_key() {
        assert_eq!(
            ApiErrorBody::parse(br#"["product_name parameter missing"]"#),
            ApiErrorBody::Messages(vec!["product_name parameter missing".into()])
        );
        let parsed = ApiErrorBody::parse(br#"{"error":"'nope' is not a valid tag"}"#);
        assert_eq!(parsed.to_string(), "'nope' is not a valid tag");
    }

    #[test]
    fn redirects_and_retry_after() {
        assert_eq!(
            DojoError::from_status_and_body(301, b"").kind(),
            ErrorKind::Redirect
        );
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, "3600".parse().unwrap());
        let e = DojoError::from_response_parts(429, &headers, b"{}");
        assert_eq!(
            (e.kind(), e.retry_after_secs()),
            (ErrorKind::RateLimited, Some(3600))
        );
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn raw_bodies_are_cut_short() {
        let html = "<html>".repeat(1000);
        match ApiErrorBody::parse(html.as_bytes()) {
            ApiErrorBody::Raw(r) => assert!(r.chars().count() <= MAX_RAW_BODY + 1),
            other => panic!("expected raw, got {other:?}"),
        }
    }
}
