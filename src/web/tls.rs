//! The page's own TLS (`web.tls_cert`, `web.tls_key`), when it is not behind a proxy that
//! terminates TLS (docs/deployment.md).

use std::sync::Arc;

use crate::config::WebConfig;

/// The TLS acceptor of `web.tls_cert` and `web.tls_key`; `None` when TLS is off. Errors name
/// the key and the file.
pub(super) fn tls_acceptor(web: &WebConfig) -> anyhow::Result<Option<tokio_rustls::TlsAcceptor>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;
    let (Some(cert), Some(key)) = (&web.tls_cert, &web.tls_key) else {
        return Ok(None);
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("config key `web.tls_cert`: {}: {e}", cert.display()))?;
    if certs.is_empty() {
        anyhow::bail!(
            "config key `web.tls_cert`: {} holds no PEM certificate",
            cert.display()
        );
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("config key `web.tls_key`: {}: {e}", key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| anyhow::anyhow!("config keys `web.tls_cert`/`web.tls_key`: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))))
}
