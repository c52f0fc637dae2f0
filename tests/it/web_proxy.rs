//! docs/deployment.md §9's nginx example, run as written (only its addresses, names and file
//! paths replaced): behind it, over HTTPS, the cookies are `Secure`, sign-in and an
//! acknowledge work, and the audit trail records the address nginx saw, never the
//! `X-Forwarded-For` a client sends. Needs `/usr/sbin/nginx` (Debian package `nginx-light`,
//! installed by .ci/run).

use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::header::{COOKIE, SET_COOKIE};

use crate::support::web::{WebFixture, OPERATOR};
use tthc_sync::lifecycle::State;
use tthc_sync::store::DiscrepancyFilter;

/// The example's first `server { … }` block (the HTTPS one) from docs/deployment.md.
fn example_server_block() -> String {
    let doc = include_str!("../../docs/deployment.md");
    let start = doc.find("```nginx\n").expect("an nginx example") + "```nginx\n".len();
    let block = &doc[start..];
    let end = block
        .find("server {\n    listen 80;")
        .expect("the port-80 server");
    block[..end].to_string()
}

/// The value of `name=` among `Set-Cookie` headers, with its attributes.
fn set_cookie(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", res.headers()))
        .to_string()
}

fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

/// The first `name="csrf" value="…"` of a page.
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_the_documented_nginx_cookies_are_secure_and_forwarded_addresses_are_not_spoofable()
{
    let fx = WebFixture::start_with(|c| c.set("web.trusted_proxy", "127.0.0.1")).await;
    let backend_port = fx.base.rsplit(':').next().unwrap().to_string();
    let dir = fx.dir.path().join("nginx");
    std::fs::create_dir_all(&dir).unwrap();
    let key = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.join("cert.pem"), key.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.key_pair.serialize_pem()).unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let d = dir.display();
    let server = example_server_block()
        .replace("listen 443 ssl", &format!("listen 127.0.0.1:{port} ssl"))
        .replace("doisoat.dienbien.gov.vn", "localhost")
        .replace("/etc/ssl/tthc-sync/fullchain.pem", &format!("{d}/cert.pem"))
        .replace("/etc/ssl/tthc-sync/privkey.pem", &format!("{d}/key.pem"))
        .replace("127.0.0.1:9465", &format!("127.0.0.1:{backend_port}"));
    assert!(server.contains(&format!("127.0.0.1:{backend_port}")));
    let conf = format!(
        "worker_processes 1;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n\
         {server}}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut nginx = Command::new("/usr/sbin/nginx")
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("/usr/sbin/nginx (Debian package nginx-light)");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(key.cert.pem().as_bytes()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("https://localhost:{port}");
    let mut login = None;
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("{base}/login")).send().await {
            login = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let Some(login) = login else {
        let _ = nginx.kill();
        let out = nginx.wait_with_output().unwrap();
        panic!(
            "nginx did not answer: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
    };
    assert!(login.status().is_success(), "{login:?}");
    let pre = set_cookie(&login, "tthc_login");
    assert!(
        pre.contains("; Secure") && pre.contains("HttpOnly") && pre.contains("SameSite=Strict"),
        "{pre}"
    );
    let csrf = csrf_of(&login.text().await.unwrap());
    let signed = client
        .post(format!("{base}/login"))
        .header(COOKIE, cookie_pair(&pre))
        .form(&[
            ("csrf", csrf.as_str()),
            ("user", OPERATOR.0),
            ("password", OPERATOR.1),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 303);
    let session = set_cookie(&signed, "tthc_session");
    assert!(session.contains("; Secure"), "{session}");
    let session = cookie_pair(&session);

    // Acknowledge one, with a forged X-Forwarded-For: nginx replaces it with the address it saw.
    let d = fx
        .store()
        .discrepancies(&DiscrepancyFilter {
            states: vec![State::Open],
            ..Default::default()
        })
        .unwrap()
        .remove(0);
    let page = client
        .get(format!("{base}/discrepancy/{}", d.id))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let csrf = csrf_of(&page.text().await.unwrap());
    let done = client
        .post(format!("{base}/discrepancy/{}/ack", d.id))
        .header(COOKIE, &session)
        .header("x-forwarded-for", "203.0.113.66")
        .form(&[("csrf", csrf.as_str()), ("note", "qua nginx")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303, "{:?}", done.text().await);
    let last = fx.store().discrepancy_events(d.id).unwrap().pop().unwrap();
    assert_eq!(last.actor, OPERATOR.0);
    assert_eq!(last.os_user.as_deref(), Some("web:127.0.0.1"));

    // Straight to the page, from an address that is not the proxy's, nothing forwarded counts:
    // the page listens on loopback, so the untrusted case is the unit test
    // `forwarded_headers_count_only_from_the_trusted_proxy`.
    let _ = nginx.kill();
    let _ = nginx.wait();
}

/// With `web.tls_cert` and `web.tls_key` the page speaks HTTPS itself: plain HTTP gets no
/// page, the cookies are `Secure`, and the security headers are there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_over_tls_itself_the_cookies_are_secure() {
    let certs = tempfile::tempdir().unwrap();
    let key = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert_file, key_file) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    std::fs::write(&cert_file, key.cert.pem()).unwrap();
    std::fs::write(&key_file, key.key_pair.serialize_pem()).unwrap();
    let fx = WebFixture::start_with(|c| {
        c.set("web.tls_cert", cert_file.display().to_string())
            .set("web.tls_key", key_file.display().to_string())
    })
    .await;
    let port = fx.base.rsplit(':').next().unwrap().to_string();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(key.cert.pem().as_bytes()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let login = client
        .get(format!("https://localhost:{port}/login"))
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success());
    assert!(set_cookie(&login, "tthc_login").contains("; Secure"));
    assert!(login.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    let csrf = csrf_of(&login.text().await.unwrap());
    assert!(!csrf.is_empty());
    // Plain HTTP on the same port is no page.
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}/login"))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}
