//! TLS client settings for the SIEM forwarders: a custom CA bundle, or the system's roots.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// The certificates in a PEM bundle; an error if there are none.
pub fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|_| "the CA bundle is not valid PEM".to_string())?;
    if certs.is_empty() {
        return Err("the CA bundle holds no certificate".into());
    }
    Ok(certs)
}

/// A rustls client configuration trusting `ca_pem`, or the system's roots when `None`.
pub fn client_config(ca_pem: Option<&[u8]>) -> Result<rustls::ClientConfig, String> {
    client_config_with(ca_pem, false)
}

/// A rustls client configuration trusting `ca_pem` (and the system's roots too when
/// `also_system_roots`, or when `ca_pem` is `None`).
///
/// A certificate in `ca_pem` is also accepted as the server's own certificate when the server
/// presents exactly it: a self-signed certificate made with `openssl req -x509` is marked
/// `CA:TRUE`, which WebPKI refuses as a server certificate (curl accepts it). Accepting that
/// exact, explicitly configured certificate is a pin, not a loosening; its names must still
/// match the host.
pub fn client_config_with(
    ca_pem: Option<&[u8]>,
    also_system_roots: bool,
) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    let mut pinned = Vec::new();
    if let Some(pem) = ca_pem {
        for cert in certificates(pem)? {
            roots
                .add(cert.clone())
                .map_err(|e| format!("CA certificate rejected: {e}"))?;
            pinned.push(cert);
        }
    }
    if ca_pem.is_none() || also_system_roots {
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            let _ = roots.add(cert);
        }
        if roots.is_empty() {
            return Err("no system CA certificates found: set the CA variable".into());
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let webpki =
        rustls::client::WebPkiServerVerifier::builder_with_provider(roots.into(), provider.clone())
            .build()
            .map_err(|e| format!("cannot build the certificate verifier: {e}"))?;
    let verifier = std::sync::Arc::new(PinnedOrWebPki { webpki, pinned });
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())
        .map(|b| {
            b.dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth()
        })
}

/// WebPKI verification, plus the configured certificates accepted as they are (see
/// [`client_config_with`]).
#[derive(Debug)]
struct PinnedOrWebPki {
    webpki: std::sync::Arc<rustls::client::WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl rustls::client::danger::ServerCertVerifier for PinnedOrWebPki {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => Ok(verified),
            Err(e)
                if self
                    .pinned
                    .iter()
                    .any(|p| p.as_ref() == end_entity.as_ref()) =>
            {
                let parsed = rustls::server::ParsedCertificate::try_from(end_entity)
                    .map_err(|_| e.clone())?;
                rustls::client::verify_server_name(&parsed, server_name)?;
                Ok(rustls::client::danger::ServerCertVerified::assertion())
            }
            Err(e) => Err(e),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// Why a connection failed, from an error's source chain: the TLS error when there is one
/// (an untrusted or mismatched certificate says so), else the I/O error's kind. Never a URL.
pub fn connect_failure(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = Some(error);
    let mut io_kind = None;
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return format!(
                "TLS handshake failed: {tls} (check the CA variable and the host name)"
            );
        }
        // An io::Error's source() skips the error it wraps: step into it instead.
        current = match e.downcast_ref::<std::io::Error>() {
            Some(io) => {
                io_kind.get_or_insert(io.kind());
                io.get_ref()
                    .map(|inner| inner as &(dyn std::error::Error + 'static))
            }
            None => e.source(),
        };
    }
    match io_kind {
        Some(kind) => format!("cannot connect ({kind})"),
        None => "cannot connect".into(),
    }
}
