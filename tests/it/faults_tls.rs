//! TLS: certificate verification is always on. The national adapter behind an HTTPS server
//! with a self-signed certificate is refused with a clear certificate error; the same server
//! trusted through `ca_file` works; and nothing in the source or the config can turn
//! verification off.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use tokio_rustls::rustls;
use tthc_sync::demo::score_against_truth;
use tthc_sync::model::LocalTime;
use tthc_sync::sim::{Simulators, World, WorldParams};
use tthc_sync::source::national::NationalClient;
use tthc_sync::store::{Outcome, Store};
use tthc_sync::sync::{self, Clients, Clock};

use crate::support::config::TestConfig;

fn world_now() -> LocalTime {
    NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_opt(16, 0, 0)
        .unwrap()
}

/// A TLS front for `backend` with a fresh self-signed certificate for 127.0.0.1 / localhost.
/// Returns its port and the certificate (PEM).
async fn tls_front(backend: std::net::SocketAddr) -> (u16, String) {
    let key =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let pem = key.cert.pem();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![key.cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.key_pair.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake (the client did not trust us) just ends here.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (port, pem)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_national_adapter_is_refused_unless_trusted_by_ca_file() {
    let world = World::generate(WorldParams::new(9, 120, 0.05, world_now()));
    let sims = Simulators::start(world, 0, 0).await.unwrap();
    let (port, pem) = tls_front(sims.national_addr).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = sims.config(dir.path(), &dir.path().join("t.db")).unwrap();
    cfg.national.adapter_url = format!("https://127.0.0.1:{port}");
    cfg.validate().unwrap();
    let code = sims.world.dossiers[0].national_code.clone();
    let password = std::fs::read_to_string(cfg.national.password_file.as_ref().unwrap()).unwrap();

    // Not trusted: a clear certificate error, and not one retry wasted on it being "not found".
    let client = NationalClient::new(&cfg.national, password.clone()).unwrap();
    let err = client.lookup(&code).await.unwrap_err().to_string();
    assert!(
        err.contains("certificate") && err.contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    assert_eq!(sims.control.hits("login"), 0, "nothing reached the portal");

    // A whole cycle: partial, the reason names the certificate, nothing concluded.
    let clients = Clients::new(&cfg).unwrap();
    let mut store = Store::open(&cfg.service.database).unwrap();
    let at = world_now() + chrono::Duration::minutes(5);
    let clock: Clock = Arc::new(move || at);
    let r = sync::run_cycle(&mut store, &cfg, &clients, &clock)
        .await
        .unwrap();
    assert_eq!(r.outcome, Outcome::Partial);
    assert!(
        r.counts
            .problems
            .iter()
            .any(|p| p.contains("tls_certificate")),
        "{:?}",
        r.counts.problems
    );
    let score = score_against_truth(&store, &sims.world).unwrap();
    assert!(
        score.false_positives.is_empty(),
        "{:?}",
        score.false_positives
    );

    // Trusted through ca_file: the same server works, and the cycle converges.
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pem).unwrap();
    cfg.national.http.ca_file = Some(ca);
    cfg.validate().unwrap();
    let client = NationalClient::new(&cfg.national, password).unwrap();
    client.lookup(&code).await.unwrap();
    let clients = Clients::new(&cfg).unwrap();
    let r = sync::run_cycle(&mut store, &cfg, &clients, &clock)
        .await
        .unwrap();
    assert_eq!(r.outcome, Outcome::Ok, "{:?}", r.counts.problems);
    let score = score_against_truth(&store, &sims.world).unwrap();
    assert!(score.false_positives.is_empty() && score.missed.is_empty());
}

/// Source files under `dir`, recursively.
fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn nothing_can_turn_certificate_verification_off() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    for d in ["src", "config", "systemd"] {
        files(&root.join(d), &mut all);
    }
    all.push(root.join("Cargo.toml"));
    let forbidden = [
        "danger_accept_invalid",
        "accept_invalid_certs",
        "accept_invalid_hostnames",
        "dangerous()",
        "ServerCertVerifier",
        "tls_built_in_root_certs(false)",
        "native-tls",
        "insecure",
    ];
    let mut checked = 0;
    for f in &all {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        // Unit tests may name the keys they show are refused.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        checked += 1;
        for word in forbidden {
            assert!(
                !text.contains(word),
                "{} contains {word:?}",
                f.strip_prefix(root).unwrap().display()
            );
        }
    }
    assert!(checked > 40, "only {checked} files read");
    // No config key can accept invalid certificates: unknown keys are refused, by name.
    let mut tried = 0;
    for key in [
        "accept_invalid_certs",
        "danger_accept_invalid_certs",
        "verify_tls",
        "tls_verify",
        "insecure",
    ] {
        for (section, sub) in [
            ("national", Some("http")),
            ("provincial", Some("http")),
            ("scores", Some("http")),
            ("national", None),
            ("provincial", None),
        ] {
            let path = match sub {
                Some(sub) => format!("{section}.{sub}.{key}"),
                None => format!("{section}.{key}"),
            };
            let value = !(key.starts_with("verify") || key.starts_with("tls"));
            let text = TestConfig::example().set(&path, value).text();
            let err = tthc_sync::config::Config::parse(&text, Path::new("t.toml"))
                .expect_err(&format!("{section}.{sub:?}.{key} was accepted"));
            assert!(err.to_string().contains(key), "{err}");
            tried += 1;
        }
    }
    assert_eq!(tried, 25);
}
