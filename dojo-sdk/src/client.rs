//! The configured DefectDojo client: base URL, tokens, timeouts, TLS.

use crate::call::decode;
use crate::error::DojoError;
use crate::generated;
use progenitor_client::ClientInfo;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use std::fmt;
use std::time::Duration;
use url::Url;

/// Default time allowed for one request, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time allowed to open a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A DefectDojo API client. Cheap to clone; reads and writes may use different tokens.
#[derive(Clone)]
pub struct DojoClient {
    read: generated::Client,
    write: generated::Client,
    write_http: reqwest::Client,
    api_base: Url,
}

impl fmt::Debug for DojoClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print tokens: only the base URL.
        f.debug_struct("DojoClient")
            .field("base_url", &self.api_base.as_str())
            .finish_non_exhaustive()
    }
}

impl DojoClient {
    /// Starts configuring a client for the DefectDojo at `base_url` (e.g. `https://dojo.example.com`).
    pub fn builder(base_url: impl Into<String>) -> DojoClientBuilder {
        DojoClientBuilder {
            base_url: base_url.into(),
            token: None,
            read_token: None,
            write_token: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            user_agent: format!("dojo-sdk/{}", env!("CARGO_PKG_VERSION")),
            ca_pem: Vec::new(),
            allow_insecure_http: false,
            max_response_bytes: crate::limits::DEFAULT_MAX_RESPONSE_BYTES,
            retry: crate::transport::RetryPolicy::default(),
            hook: None,
        }
    }

    /// The generated client, authenticated with the read token. Use it for every GET.
    pub fn read(&self) -> &generated::Client {
        &self.read
    }

    /// The generated client, authenticated with the write token. Use it for every change.
    pub fn write(&self) -> &generated::Client {
        &self.write
    }

    /// The raw HTTP client carrying the write token, for hand-written calls (multipart uploads).
    pub(crate) fn write_http(&self) -> &reqwest::Client {
        &self.write_http
    }

    /// `https://host/api/v2/<path>`.
    pub(crate) fn api_url(&self, path: &str) -> Url {
        self.api_base
            .join(path.trim_start_matches('/'))
            .expect("relative API paths always join")
    }

    /// Sends a hand-built JSON write with the write token.
    pub(crate) async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, DojoError> {
        let request = self
            .write_http
            .request(method, self.api_url(path))
            .json(body);
        self.send_raw(request).await
    }

    /// Sends a hand-built request; decodes a 2xx body into `T` or maps the error body.
    pub(crate) async fn send_raw<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, DojoError> {
        let request = request.build().map_err(|e| DojoError::transport(&e))?;
        let response = crate::transport::send(&self.write_http, request, self.write.inner())
            .await
            .map_err(|e| DojoError::transport(&e))?;
        answer(response).await
    }

    /// GETs `url` with the read token (retried like any GET) and returns its JSON as it is.
    pub(crate) async fn get_json(&self, url: Url) -> Result<serde_json::Value, DojoError> {
        let http = self.read.client();
        let request = http
            .get(url)
            .build()
            .map_err(|e| DojoError::transport(&e))?;
        let response = crate::transport::send(http, request, self.read.inner())
            .await
            .map_err(|e| DojoError::transport(&e))?;
        answer(response).await
    }

    /// The DefectDojo base URL (without `/api/v2`).
    pub fn base_url(&self) -> &str {
        self.read.baseurl()
    }
}

/// A hand-sent request's answer: a 2xx body decoded into `T`, or DefectDojo's error.
async fn answer<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, DojoError> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(|e| DojoError::transport(&e))?;
    if (200..300).contains(&status) {
        decode(&body)
    } else {
        Err(DojoError::from_response_parts(status, &headers, &body))
    }
}

/// Configures a [`DojoClient`].
pub struct DojoClientBuilder {
    base_url: String,
    token: Option<String>,
    read_token: Option<String>,
    write_token: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    ca_pem: Vec<Vec<u8>>,
    allow_insecure_http: bool,
    max_response_bytes: u64,
    retry: crate::transport::RetryPolicy,
    hook: Option<crate::transport::RequestHook>,
}

impl fmt::Debug for DojoClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DojoClientBuilder")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field(
                "read_token",
                &self.read_token.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "write_token",
                &self.write_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl DojoClientBuilder {
    /// API token used for both reads and writes, unless a separate one is set (`Authorization: Token <key>`).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }
    /// API token for reads; falls back to [`token`](Self::token).
    pub fn read_token(mut self, token: impl Into<String>) -> Self {
        self.read_token = Some(token.into());
        self
    }
    /// API token for writes; falls back to [`token`](Self::token).
    pub fn write_token(mut self, token: impl Into<String>) -> Self {
        self.write_token = Some(token.into());
        self
    }
    /// Time allowed for a whole request (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Time allowed to connect (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    /// `User-Agent` header sent with every request.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }
    /// Trusts this PEM-encoded CA certificate (bundle) besides the system roots.
    pub fn ca_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pem.push(pem.into());
        self
    }
    /// Allows a plain `http://` base URL. Tokens then cross the network in clear: only for loopback tests.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Largest response body accepted, bytes (default 64 MiB). A larger answer fails the call
    /// with [`DojoError::ResponseTooLarge`] as soon as the limit is passed, before it is buffered.
    pub fn max_response_bytes(mut self, bytes: u64) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// When failed idempotent requests (GET, PUT, DELETE) are sent again: connection failures and
    /// answers 429, 502, 503, 504, honouring `Retry-After` up to the policy's longest wait. Default:
    /// [`RetryPolicy::default`](crate::RetryPolicy::default); [`RetryPolicy::none`](crate::RetryPolicy::none)
    /// turns retries off.
    pub fn retry_policy(mut self, policy: crate::transport::RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Calls `hook` after every request with its method, path, status, duration and attempt (for
    /// tracing or metrics). The event never carries headers, so never the token.
    pub fn on_request(
        mut self,
        hook: impl Fn(&crate::transport::RequestEvent) + Send + Sync + 'static,
    ) -> Self {
        self.hook = Some(std::sync::Arc::new(hook));
        self
    }

    /// Validates the configuration and builds the client.
    pub fn build(self) -> Result<DojoClient, DojoError> {
        // With only the `rustls-ring` feature, reqwest takes the process's default provider.
        #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
        {
            // Already installed (by the application, or an earlier client) is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let base = parse_base_url(&self.base_url, self.allow_insecure_http)?;
        let read_token = self.read_token.clone().or_else(|| self.token.clone());
        let write_token = self.write_token.clone().or_else(|| self.token.clone());
        // Plain http never does TLS (redirects are off): skip loading the system CA store,
        // which is most of a cold start.
        let tls = base.scheme() == "https";
        let read_http = self.http_client(read_token.as_deref(), tls)?;
        // One key for both (the usual case): one client, so the CA store is loaded once.
        let write_http = if write_token == read_token {
            read_http.clone()
        } else {
            self.http_client(write_token.as_deref(), tls)?
        };
        let base_str = base.as_str().trim_end_matches('/').to_string();
        let state = crate::limits::ClientState {
            max_response_bytes: self.max_response_bytes,
            retry: self.retry,
            hook: crate::transport::Hook(self.hook.clone()),
        };
        let api_base = Url::parse(&format!("{base_str}/api/v2/"))
            .map_err(|e| DojoError::Config(format!("base URL cannot carry /api/v2/: {e}")))?;
        Ok(DojoClient {
            read: generated::Client::new_with_client(&base_str, read_http, state.clone()),
            write: generated::Client::new_with_client(&base_str, write_http.clone(), state),
            write_http,
            api_base,
        })
    }

    fn http_client(&self, token: Option<&str>, tls: bool) -> Result<reqwest::Client, DojoError> {
        let mut headers = HeaderMap::new();
        if let Some(token) = token {
            let token = token.trim();
            if token.is_empty() {
                return Err(DojoError::Config("API token is empty".into()));
            }
            let mut value = HeaderValue::from_str(&format!("Token {token}")).map_err(|_| {
                DojoError::Config("API token holds characters not allowed in a header".into())
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent.clone())
            .tcp_nodelay(true)
            // Redirects could carry the token elsewhere; DefectDojo's API does not redirect.
            .redirect(reqwest::redirect::Policy::none());
        if !tls {
            builder = builder.tls_certs_only(Vec::new());
        }
        for pem in &self.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| DojoError::Config(format!("custom CA is not valid PEM: {e}")))?;
            if certs.is_empty() {
                return Err(DojoError::Config(
                    "custom CA file holds no certificate".into(),
                ));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        builder
            .build()
            .map_err(|e| DojoError::Config(format!("cannot build HTTP client: {e}")))
    }
}

/// Checks a DefectDojo base URL: absolute, http(s), no credentials, https unless allowed otherwise.
pub fn parse_base_url(raw: &str, allow_insecure_http: bool) -> Result<Url, DojoError> {
    let url = Url::parse(raw.trim())
        .map_err(|e| DojoError::Config(format!("base URL is not a valid URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http => {}
        "http" => {
            return Err(DojoError::Config(
                "base URL must use https (tokens would travel in clear); allow insecure http explicitly \
                 only for local testing"
                    .into(),
            ))
        }
        other => {
            return Err(DojoError::Config(format!(
                "base URL scheme `{other}` is not supported; use https://"
            )))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(DojoError::Config("base URL has no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(DojoError::Config(
            "base URL must not carry credentials; use an API token".into(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(DojoError::Config(
            "base URL must not have a query or fragment".into(),
        ));
    }
    // Accept `https://host/api/v2` too: users paste it from the API docs page.
    let mut url = url;
    let path = url.path().trim_end_matches('/').to_string();
    if let Some(stripped) = path.strip_suffix("/api/v2") {
        url.set_path(stripped);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_required_unless_allowed() {
        assert!(parse_base_url("http://dojo.local", false).is_err());
        assert!(parse_base_url("http://dojo.local", true).is_ok());
        assert!(parse_base_url("https://dojo.local", false).is_ok());
        assert!(parse_base_url("ftp://dojo.local", true).is_err());
        assert!(parse_base_url("https://user:pw@dojo.local", false).is_err());
        assert!(parse_base_url("not a url", false).is_err());
    }

    #[test]
    fn api_v2_suffix_is_stripped() {
        let url = parse_base_url("https://dojo.local/sub/api/v2/", false).unwrap();
        assert_eq!(url.path(), "/sub");
    }

    #[test]
    fn debug_never_shows_tokens() {
        let builder = DojoClient::builder("https://dojo.local").token("s3cr3t-token");
        assert!(!format!("{builder:?}").contains("s3cr3t"));
        let client = builder.build().unwrap();
        assert!(!format!("{client:?}").contains("s3cr3t"));
    }

    #[test]
    fn bad_tokens_are_refused() {
        assert!(DojoClient::builder("https://d.local")
            .token(" ")
            .build()
            .is_err());
        assert!(DojoClient::builder("https://d.local")
            .token("a\nb")
            .build()
            .is_err());
    }
}
