//! What the web page's tests share: a served page over a database filled by one sync cycle
//! against the simulators (with markup in every portal string), two accounts, and a small
//! WebDriver client driving headless Chromium through `chromedriver` (Debian packages
//! `chromium` and `chromium-driver`).
//!
//! The WebDriver client is a few JSON calls over the `reqwest` already in the tree: a crate
//! such as fantoccini would add a second HTTP client stack to build for the same dozen calls.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tthc_sync::sim::{Simulators, World, WorldParams};
use tthc_sync::store::Store;
use tthc_sync::sync::{self, Clients, Clock};
use tthc_sync::web::users::{Role, Users};
use tthc_sync::web::WebServer;

use super::config::TestConfig;

/// Markup and script in a portal string: it must show as text and never run.
pub const HOSTILE: &str =
    "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=1\">";

/// The operator account (acknowledges, resolves).
pub const OPERATOR: (&str, &str) = ("lan.nguyen", "mật khẩu vận hành 2026");
/// The viewer account (reads only).
pub const VIEWER: (&str, &str) = ("binh.tran", "mật khẩu chỉ xem 2026");

/// A served page over a synced database.
pub struct WebFixture {
    /// The page's base URL, `http://127.0.0.1:PORT`.
    pub base: String,
    /// The temporary directory (database, config, users file, reports).
    pub dir: tempfile::TempDir,
    _server: WebServer,
    _sims: Simulators,
}

impl WebFixture {
    /// Generates a world whose agency, procedure, official and unit names and some status
    /// labels hold [`HOSTILE`], runs one sync cycle, writes both accounts and serves the page.
    pub async fn start() -> WebFixture {
        WebFixture::start_with(|c| c).await
    }

    /// [`WebFixture::start`] with the config edited by `edit` (e.g. `web.trusted_proxy`).
    pub async fn start_with(edit: impl FnOnce(TestConfig) -> TestConfig) -> WebFixture {
        let now = tthc_sync::clock::local_now();
        let mut world = World::generate(WorldParams::new(2026, 400, 0.08, now));
        for a in world.agencies.iter_mut().step_by(3) {
            a.name = format!("{} {HOSTILE}", a.name);
        }
        for p in world.procedures.iter_mut().step_by(2) {
            p.name = format!("{HOSTILE} {}", p.name);
        }
        for d in world.dossiers.iter_mut() {
            d.handler = format!("{} {HOSTILE}", d.handler);
            if let Some(l) = &mut d.label_override {
                *l = format!("{l} {HOSTILE}");
            }
        }
        for n in world.national.values_mut() {
            n.unit_name = format!("{} {HOSTILE}", n.unit_name);
        }
        let sims = Simulators::start(world, 0, 0).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let users_file = dir.path().join("users.toml");
        let cfg_path = edit(
            TestConfig::sims(&sims, dir.path(), &dir.path().join("t.db"))
                .set("web.listen", "127.0.0.1:0")
                .set("web.users_file", users_file.display().to_string())
                .set(
                    "report.out_dir",
                    dir.path().join("reports").display().to_string(),
                ),
        )
        .write(&dir.path().join("tthc-sync.toml"));
        let cfg = tthc_sync::config::Config::load(&cfg_path).unwrap();
        let mut store = Store::open(&cfg.service.database).unwrap();
        let clients = Clients::new(&cfg).unwrap();
        let clock: Clock = Arc::new(move || now + chrono::Duration::hours(2));
        sync::run_cycle(&mut store, &cfg, &clients, &clock)
            .await
            .unwrap();
        drop(store);
        let mut users = Users::default();
        users.add(OPERATOR.0, Role::Operator, OPERATOR.1).unwrap();
        users.add(VIEWER.0, Role::Viewer, VIEWER.1).unwrap();
        users.save(&users_file).unwrap();
        let server = tthc_sync::web::start(Arc::new(cfg)).await.unwrap();
        WebFixture {
            base: format!("http://{}", server.addr),
            dir,
            _server: server,
            _sims: sims,
        }
    }

    /// The database, for checks behind the page's back.
    pub fn store(&self) -> Store {
        Store::open_current(&self.dir.path().join("t.db")).unwrap()
    }
}

/// A headless Chromium driven through chromedriver's WebDriver endpoint.
pub struct Browser {
    http: reqwest::Client,
    url: String,
    driver: Child,
    /// Where downloads land.
    pub downloads: PathBuf,
    _profile: tempfile::TempDir,
}

/// The W3C element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    /// Starts chromedriver on a free loopback port and a headless Chromium session.
    pub async fn start() -> Browser {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("/usr/bin/chromedriver (Debian package chromium-driver)");
        let http = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}");
        let mut ready = false;
        for _ in 0..100 {
            if let Ok(r) = http.get(format!("{url}/status")).send().await {
                if r.status().is_success() {
                    ready = true;
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "chromedriver did not answer on port {port}");
        let profile = tempfile::tempdir().unwrap();
        let downloads = profile.path().join("downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        let mut b = Browser {
            http,
            url,
            driver,
            downloads: downloads.clone(),
            _profile: profile,
        };
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", b._profile.path().join("chrome").display()),
                ],
                "prefs": {
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false,
                },
            },
        }}});
        let session = b.raw("POST", "/session", Some(caps)).await;
        let id = session["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {session}"))
            .to_string();
        b.url = format!("{}/session/{id}", b.url);
        b
    }

    async fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.url);
        let req = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self.http.post(&url).json(&body.unwrap_or(json!({}))),
        };
        let reply: Value = req
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
            .json()
            .await
            .unwrap();
        reply["value"].clone()
    }

    async fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let v = self.raw(method, path, body).await;
        if let Some(err) = v.get("error") {
            panic!("WebDriver {method} {path}: {err} {}", v["message"]);
        }
        v
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url }))).await;
    }

    /// The page's URL.
    pub async fn current_url(&self) -> String {
        self.cmd("GET", "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The first element matching `css`, if any.
    pub async fn try_find(&self, css: &str) -> Option<String> {
        let v = self
            .raw(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v.get(ELEMENT).and_then(|e| e.as_str()).map(str::to_string)
    }

    /// The first element matching `css`.
    pub async fn find(&self, css: &str) -> String {
        match self.try_find(css).await {
            Some(e) => e,
            None => panic!(
                "no element `{css}` on {}:\n{}",
                self.current_url().await,
                self.text("body").await
            ),
        }
    }

    /// Types `text` into the element matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd("POST", &format!("/element/{e}/clear"), None).await;
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd("POST", &format!("/element/{e}/click"), None).await;
    }

    /// Clicks the element matching `css` (a submit button or a link) and waits until the
    /// next page has loaded.
    pub async fn click_and_wait(&self, css: &str) {
        self.eval("window.__same_page = true; return 0;").await;
        self.click(css).await;
        for _ in 0..200 {
            let v = self
                .raw(
                    "POST",
                    "/execute/sync",
                    Some(json!({"script": "return window.__same_page === undefined && document.readyState === 'complete';", "args": []})),
                )
                .await;
            if v == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("clicking `{css}` loaded no new page");
    }

    /// The rendered text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        let Some(e) = self.try_find(css).await else {
            return String::new();
        };
        self.cmd("GET", &format!("/element/{e}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The page's markup as the browser holds it.
    pub async fn source(&self) -> String {
        self.cmd("GET", "/source", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Runs `script` in the page (WebDriver's own channel, not the page's: the page's CSP
    /// forbids script) and returns its value.
    pub async fn eval(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Signs in as `(name, password)`.
    pub async fn sign_in(&self, base: &str, (name, password): (&str, &str)) {
        self.goto(&format!("{base}/login")).await;
        self.type_into("input[name=user]", name).await;
        self.type_into("input[name=password]", password).await;
        self.click_and_wait("form[action='/login'] button").await;
    }

    /// Saves a PNG of the page to `path`.
    pub async fn screenshot(&self, path: &Path) {
        use base64::Engine;
        let b64 = self.cmd("GET", "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Ends the session (the browser quits).
    pub async fn quit(mut self) {
        let _ = self.raw("DELETE", "", None).await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
