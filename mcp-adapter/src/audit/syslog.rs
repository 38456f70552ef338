//! Syslog delivery: RFC 5424 messages over UDP, TCP or TCP+TLS, with RFC 6587/5425
//! octet-counting framing on the stream transports.

use super::forward::DeliveryError;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// How records travel to the syslog server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogTransport {
    /// One datagram per record (no delivery guarantee: prefer tcp or tcp+tls).
    Udp,
    /// Octet-counted frames on a TCP stream.
    Tcp,
    /// Octet-counted frames on TLS over TCP (RFC 5425).
    Tls,
}

/// Where `AUDIT_LOG_SYSLOG` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogTarget {
    /// The transport.
    pub transport: SyslogTransport,
    /// Host name or address.
    pub host: String,
    /// Port (514 for udp/tcp, 6514 for TLS unless given).
    pub port: u16,
}

impl std::str::FromStr for SyslogTarget {
    type Err = String;

    /// `[udp|tcp|tcp+tls|tls://]host[:port]`; without a scheme, TLS (as the Python server).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scheme, rest) = s.trim().split_once("://").unwrap_or(("tcp+tls", s.trim()));
        let transport = match scheme.to_ascii_lowercase().as_str() {
            "udp" => SyslogTransport::Udp,
            "tcp" => SyslogTransport::Tcp,
            "tcp+tls" | "tls" => SyslogTransport::Tls,
            other => {
                return Err(format!(
                    "unknown scheme `{other}`: use udp://, tcp:// or tcp+tls://"
                ))
            }
        };
        let default_port = if transport == SyslogTransport::Tls {
            6514
        } else {
            514
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') && !p.contains(']') => {
                let port = p
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or(format!("`{p}` is not a port"))?;
                (h, port)
            }
            _ => (rest, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains(['/', ' ', '@']) {
            return Err(format!("`{rest}` is not host[:port]"));
        }
        Ok(SyslogTarget {
            transport,
            host: host.to_string(),
            port,
        })
    }
}

/// Facility local0, as the Python server.
const FACILITY_LOCAL0: u8 = 16;

/// The severity a record travels with: denials and failures stand out in the SIEM.
fn severity(line: &str) -> u8 {
    if line.contains("\"outcome\":\"denied\"")
        || line.contains("\"event_type\":\"audit_records_dropped\"")
    {
        4 // warning
    } else if line.contains("\"outcome\":\"error\"") {
        5 // notice
    } else {
        6 // informational
    }
}

/// RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG`, the record as MSG.
pub fn format_rfc5424(line: &str, hostname: &str, pid: u32) -> String {
    let pri = FACILITY_LOCAL0 * 8 + severity(line);
    // RFC 5424 allows at most six fractional digits.
    let timestamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ");
    format!("<{pri}>1 {timestamp} {hostname} mcp-defectdojo {pid} - - {line}")
}

/// A HOSTNAME field: printable ASCII without spaces, at most 255 bytes, `-` when unknown.
pub fn syslog_hostname() -> String {
    let name: String = gethostname::gethostname()
        .to_string_lossy()
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(255)
        .collect();
    if name.is_empty() {
        "-".into()
    } else {
        name
    }
}

enum Connection {
    Udp(UdpSocket),
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// A connection to the syslog server, made on first use and remade after any failure.
pub struct SyslogSink {
    target: SyslogTarget,
    tls: Option<(TlsConnector, rustls::pki_types::ServerName<'static>)>,
    connection: Option<Connection>,
    hostname: String,
    pid: u32,
}

const IO_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl SyslogSink {
    /// A sink for `target`; TLS trusts `ca_pem` when given, else the system's roots.
    pub fn new(target: SyslogTarget, ca_pem: Option<&[u8]>) -> Result<SyslogSink, String> {
        let tls = if target.transport == SyslogTransport::Tls {
            let config = super::tls::client_config(ca_pem)?;
            let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                .map_err(|_| format!("`{}` is not a valid TLS server name", target.host))?;
            Some((TlsConnector::from(Arc::new(config)), name))
        } else {
            None
        };
        Ok(SyslogSink {
            target,
            tls,
            connection: None,
            hostname: syslog_hostname(),
            pid: std::process::id(),
        })
    }

    async fn connect(&self) -> Result<Connection, String> {
        let addr = (self.target.host.as_str(), self.target.port);
        let io = async {
            Ok::<_, std::io::Error>(match self.target.transport {
                SyslogTransport::Udp => {
                    let socket = UdpSocket::bind(if self.target.host.contains(':') {
                        "[::]:0"
                    } else {
                        "0.0.0.0:0"
                    })
                    .await?;
                    socket.connect(addr).await?;
                    Connection::Udp(socket)
                }
                SyslogTransport::Tcp => {
                    let stream = TcpStream::connect(addr).await?;
                    stream.set_nodelay(true)?;
                    Connection::Tcp(stream)
                }
                SyslogTransport::Tls => {
                    let stream = TcpStream::connect(addr).await?;
                    stream.set_nodelay(true)?;
                    let (connector, name) = self.tls.as_ref().expect("TLS configured");
                    Connection::Tls(Box::new(connector.connect(name.clone(), stream).await?))
                }
            })
        };
        match tokio::time::timeout(IO_TIMEOUT, io).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(format!("connect: {}", super::tls::connect_failure(&e))),
            Err(_) => Err("connect: timed out".into()),
        }
    }

    /// A stream the server has closed reads as end-of-file: find out before writing into it,
    /// or the first record after an outage would vanish into a dead socket's buffer.
    fn peer_has_closed(connection: &mut Connection) -> bool {
        use futures::FutureExt;
        let mut probe = [0u8; 512];
        let read = match connection {
            Connection::Udp(_) => return false,
            Connection::Tcp(s) => s.read(&mut probe).now_or_never(),
            Connection::Tls(s) => s.read(&mut probe).now_or_never(),
        };
        // Pending: alive. End-of-file or an error: closed. Data: a syslog server sends none, so
        // the stream is out of step; start afresh.
        read.is_some()
    }

    /// Sends `lines` in order; on failure says how many went out first.
    pub async fn deliver(&mut self, lines: &[String]) -> Result<(), DeliveryError> {
        let fail = |delivered: usize, reason: String| DeliveryError { delivered, reason };
        if let Some(connection) = self.connection.as_mut() {
            if Self::peer_has_closed(connection) {
                self.connection = None;
            }
        }
        if self.connection.is_none() {
            self.connection = Some(self.connect().await.map_err(|r| fail(0, r))?);
        }
        let connection = self.connection.as_mut().expect("connected above");
        for (sent, line) in lines.iter().enumerate() {
            let message = format_rfc5424(line, &self.hostname, self.pid);
            let result = match connection {
                Connection::Udp(socket) => {
                    tokio::time::timeout(IO_TIMEOUT, socket.send(message.as_bytes()))
                        .await
                        .map(|r| r.map(|_| ()))
                }
                Connection::Tcp(stream) => {
                    let frame = format!("{} {message}", message.len());
                    tokio::time::timeout(IO_TIMEOUT, stream.write_all(frame.as_bytes())).await
                }
                Connection::Tls(stream) => {
                    let frame = format!("{} {message}", message.len());
                    tokio::time::timeout(IO_TIMEOUT, async {
                        stream.write_all(frame.as_bytes()).await?;
                        stream.flush().await
                    })
                    .await
                }
            };
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    self.connection = None;
                    return Err(fail(sent, format!("send: {}", e.kind())));
                }
                Err(_) => {
                    self.connection = None;
                    return Err(fail(sent, "send: timed out".into()));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets_like_the_python_server() {
        let t: SyslogTarget = "siem.example.com".parse().unwrap();
        assert_eq!(
            (t.transport, t.host.as_str(), t.port),
            (SyslogTransport::Tls, "siem.example.com", 6514)
        );
        let t: SyslogTarget = "udp://10.0.0.5".parse().unwrap();
        assert_eq!((t.transport, t.port), (SyslogTransport::Udp, 514));
        let t: SyslogTarget = "tcp://127.0.0.1:1514".parse().unwrap();
        assert_eq!((t.transport, t.port), (SyslogTransport::Tcp, 1514));
        let t: SyslogTarget = "tls://[::1]:6514".parse().unwrap();
        assert_eq!(
            (t.transport, t.host.as_str()),
            (SyslogTransport::Tls, "::1")
        );
        assert!("http://x".parse::<SyslogTarget>().is_err());
        assert!("tcp://host:99999".parse::<SyslogTarget>().is_err());
        assert!("tcp://".parse::<SyslogTarget>().is_err());
    }

    #[test]
    fn rfc5424_header() {
        let m = format_rfc5424(r#"{"seq":1,"outcome":"denied"}"#, "host1", 42);
        assert!(m.starts_with("<132>1 "), "{m}");
        let fields: Vec<_> = m.splitn(8, ' ').collect();
        assert_eq!(&fields[2..7], ["host1", "mcp-defectdojo", "42", "-", "-"]);
        assert_eq!(
            fields[1].split('.').nth(1).unwrap().len(),
            7,
            "six digits and Z"
        );
        assert_eq!(fields[7], r#"{"seq":1,"outcome":"denied"}"#);
    }
}
