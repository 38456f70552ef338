//! Real SIEM endpoints on loopback for the audit tests: syslog over UDP, TCP and TLS (RFC 5424
//! messages, octet-counted frames on streams) and an HTTPS collector, with a test PKI.

use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use syslog_rfc5424::SyslogMessage;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// A CA and a server certificate it signed for `localhost` and 127.0.0.1.
pub struct Pki {
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

pub fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "audit test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        server: server_config(cert.der().clone(), &key),
    }
}

/// A certificate for `localhost` as `openssl req -x509` makes it (self-signed, `CA:TRUE`), its
/// key, both in PEM, and a TLS server configuration presenting it.
pub struct SelfSigned {
    pub cert_pem: String,
    pub key_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

pub fn self_signed() -> SelfSigned {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    SelfSigned {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        server: server_config(cert.der().clone(), &key),
    }
}

fn server_config(
    cert: rustls::pki_types::CertificateDer<'static>,
    key: &rcgen::KeyPair,
) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert],
            rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        )
        .unwrap();
    Arc::new(server)
}

/// A port nothing listens on (yet).
pub fn unused_port() -> u16 {
    super::free_port()
}

/// What a listener received, in arrival order.
#[derive(Clone, Default)]
pub struct Received {
    pub messages: Arc<Mutex<Vec<SyslogMessage>>>,
    pub raw: Arc<Mutex<Vec<String>>>,
}

impl Received {
    /// The MSG part (the audit record) of every message.
    pub fn records(&self) -> Vec<Value> {
        self.messages
            .lock()
            .unwrap()
            .iter()
            .map(|m| serde_json::from_str(&m.msg).expect("MSG is the JSON record"))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.messages.lock().unwrap().len()
    }

    fn push(&self, frame: &str) {
        self.raw.lock().unwrap().push(frame.to_string());
        let message = syslog_rfc5424::parse_message(frame)
            .unwrap_or_else(|e| panic!("not RFC 5424 ({e:?}): {frame}"));
        self.messages.lock().unwrap().push(message);
    }
}

/// A running listener; dropping or stopping it closes every connection.
pub struct Listener {
    pub port: u16,
    pub received: Received,
    tasks: JoinSet<()>,
}

impl Listener {
    pub fn stop(mut self) {
        self.tasks.abort_all();
    }
}

async fn read_octet_counted<S: AsyncRead + Unpin>(stream: S, received: Received) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut len = Vec::new();
        match reader.read_until(b' ', &mut len).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&len);
        let n: usize = text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("bad frame length {text:?}"));
        let mut frame = vec![0u8; n];
        if reader.read_exact(&mut frame).await.is_err() {
            return;
        }
        received.push(std::str::from_utf8(&frame).expect("UTF-8 frame"));
    }
}

/// A syslog listener on TCP (TLS when `tls` is given) at `port` (0: any).
pub async fn syslog_stream(port: u16, tls: Option<Arc<rustls::ServerConfig>>) -> Listener {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    let port = listener.local_addr().unwrap().port();
    let received = Received::default();
    let mut tasks = JoinSet::new();
    let sink = received.clone();
    tasks.spawn(async move {
        let mut connections = JoinSet::new();
        while let Ok((stream, _)) = listener.accept().await {
            let sink = sink.clone();
            let tls = tls.clone();
            connections.spawn(async move {
                match tls {
                    Some(config) => {
                        if let Ok(stream) = TlsAcceptor::from(config).accept(stream).await {
                            read_octet_counted(stream, sink).await;
                        }
                    }
                    None => read_octet_counted(stream, sink).await,
                }
            });
        }
    });
    Listener {
        port,
        received,
        tasks,
    }
}

/// A syslog listener on UDP.
pub async fn syslog_udp() -> Listener {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let port = socket.local_addr().unwrap().port();
    let received = Received::default();
    let mut tasks = JoinSet::new();
    let sink = received.clone();
    tasks.spawn(async move {
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = socket.recv(&mut buf).await {
            sink.push(std::str::from_utf8(&buf[..n]).expect("UTF-8 datagram"));
        }
    });
    Listener {
        port,
        received,
        tasks,
    }
}

/// An HTTPS collector: keeps each POSTed batch (a JSON array) and answers `status`.
pub struct Collector {
    pub port: u16,
    pub batches: Arc<Mutex<Vec<Vec<Value>>>>,
    pub authorization: Arc<Mutex<Vec<String>>>,
    pub requests: Arc<AtomicUsize>,
    pub status: Arc<AtomicU16>,
    tasks: JoinSet<()>,
}

impl Collector {
    pub fn records(&self) -> Vec<Value> {
        self.batches
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .cloned()
            .collect()
    }

    pub fn batch_sizes(&self) -> Vec<usize> {
        self.batches.lock().unwrap().iter().map(Vec::len).collect()
    }

    pub fn stop(mut self) {
        self.tasks.abort_all();
    }
}

pub async fn https_collector(port: u16, tls: Arc<rustls::ServerConfig>) -> Collector {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    let port = listener.local_addr().unwrap().port();
    let batches = Arc::new(Mutex::new(Vec::new()));
    let authorization = Arc::new(Mutex::new(Vec::new()));
    let requests = Arc::new(AtomicUsize::new(0));
    let status = Arc::new(AtomicU16::new(200));
    let mut tasks = JoinSet::new();
    let (b, a, r, s) = (
        batches.clone(),
        authorization.clone(),
        requests.clone(),
        status.clone(),
    );
    tasks.spawn(async move {
        let mut connections = JoinSet::new();
        while let Ok((stream, _)) = listener.accept().await {
            let Ok(stream) = TlsAcceptor::from(tls.clone()).accept(stream).await else {
                continue;
            };
            let (b, a, r, s) = (b.clone(), a.clone(), r.clone(), s.clone());
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let (b, a, r, s) = (b.clone(), a.clone(), r.clone(), s.clone());
                    async move {
                        r.fetch_add(1, Ordering::SeqCst);
                        let auth = request
                            .headers()
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string();
                        let body = request
                            .into_body()
                            .collect()
                            .await
                            .map(|c| c.to_bytes())
                            .unwrap_or_default();
                        let status = s.load(Ordering::SeqCst);
                        if status == 200 {
                            let batch: Vec<Value> =
                                serde_json::from_slice(&body).expect("a JSON array of records");
                            b.lock().unwrap().push(batch);
                            a.lock().unwrap().push(auth);
                        }
                        Ok::<_, std::convert::Infallible>(
                            hyper::Response::builder()
                                .status(status)
                                .body(http_body_util::Full::new(hyper::body::Bytes::new()))
                                .unwrap(),
                        )
                    }
                },
            );
            connections.spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Collector {
        port,
        batches,
        authorization,
        requests,
        status,
        tasks,
    }
}

/// Waits until `done()` holds, up to `secs` seconds.
pub async fn eventually(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    done()
}
