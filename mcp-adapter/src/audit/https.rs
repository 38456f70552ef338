//! HTTPS delivery: each batch is one POST of a JSON array of records (as the Python server),
//! with `Authorization: Bearer <AUDIT_LOG_HTTPS_TOKEN>`. Any 2xx answer means delivered.

use super::forward::DeliveryError;
use std::time::Duration;

/// A client for the SIEM's HTTPS collector.
pub struct HttpsSink {
    client: reqwest::Client,
    url: reqwest::Url,
    token: Option<String>,
}

impl HttpsSink {
    /// A sink posting to `url`; trusts `ca_pem` in addition to the system's roots.
    pub fn new(
        url: &str,
        token: Option<String>,
        ca_pem: Option<&[u8]>,
        allow_http: bool,
    ) -> Result<HttpsSink, String> {
        let url = reqwest::Url::parse(url).map_err(|_| "not a URL".to_string())?;
        match url.scheme() {
            "https" => {}
            "http" if allow_http => {}
            "http" => return Err("http:// sends audit records and the token in clear: use https:// (or ALLOW_INSECURE_HTTP=true for a local test)".into()),
            other => return Err(format!("unsupported scheme `{other}`: use https://")),
        }
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mcp-defectdojo/", env!("CARGO_PKG_VERSION")));
        if url.scheme() == "https" {
            // The system's roots and AUDIT_LOG_HTTPS_CA, which may also be the collector's own
            // self-signed certificate.
            builder = builder.use_preconfigured_tls(super::tls::client_config_with(ca_pem, true)?);
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the HTTPS client: {e}"))?;
        Ok(HttpsSink {
            client,
            url,
            token: token.filter(|t| !t.is_empty()),
        })
    }

    /// Posts `lines` as one JSON array; all or nothing.
    pub async fn deliver(&mut self, lines: &[String]) -> Result<(), DeliveryError> {
        let mut body = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum::<usize>() + 2);
        body.push('[');
        body.push_str(&lines.join(","));
        body.push(']');
        let mut request = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let fail = |reason: String| DeliveryError {
            delivered: 0,
            reason,
        };
        match request.send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(fail(format!(
                "collector answered {}",
                response.status().as_u16()
            ))),
            // The error's own text can carry the URL: say what failed from its causes instead.
            Err(e) if e.is_timeout() => Err(fail("timed out".into())),
            Err(e) if e.is_connect() => Err(fail(super::tls::connect_failure(&e))),
            Err(_) => Err(fail("request failed".into())),
        }
    }
}
