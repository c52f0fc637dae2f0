//! The review web page `tthc-sync run` serves on `[web] listen`: overview, discrepancies
//! (filter, page, export, acknowledge, resolve), dossiers, monthly reports.
//!
//! - [`users`]: the accounts file (argon2id hashes, roles `viewer` and `operator`);
//! - [`auth`]: sessions (in memory), CSRF tokens, the sign-in rate limit;
//! - [`pages`]: the HTML, rendered with maud (escaped by default, no script);
//! - [`guide`]: each kind's meaning and action, from docs/discrepancies.md;
//! - `request`: who is asking (cookies, client address, HTTPS, the signed-in user);
//! - `sign_in`, `review`, `reports`: the routes' handlers, each reading the store through its
//!   own connection in a blocking task (the sync writes through another; SQLite's WAL lets
//!   both work);
//! - `tls`: the page's own TLS;
//! - this module: the shared state, the router, the server, the security headers.
//!
//! Served by the same bounded accept loop as `/healthz` (`serve::serve`: header-read
//! timeout, connection lifetime, connection cap). Every response carries a CSP without
//! script, `frame-ancestors 'none'`, `X-Frame-Options: DENY`, `nosniff`, and pages
//! `Cache-Control: no-store`. No forwarded header is trusted unless `web.trusted_proxy` names
//! the connecting address (docs/deployment.md).

pub mod auth;
pub mod guide;
pub mod pages;
mod reports;
mod request;
mod review;
mod sign_in;
mod tls;
pub mod users;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::Markup;
use serde::Deserialize;

use crate::calendar::Calendar;
use crate::config::{Config, WebConfig};
use crate::store::Store;
use auth::{LoginLimiter, Sessions};
use pages::Viewer;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tthc_session";
/// The sign-in form's CSRF cookie (before there is a session).
pub const LOGIN_COOKIE: &str = "tthc_login";

/// What every route shares.
pub struct WebState {
    cfg: Arc<Config>,
    web: WebConfig,
    calendar: Calendar,
    sessions: Sessions,
    limiter: LoginLimiter,
    trusted_proxy: Option<IpAddr>,
}

impl WebState {
    /// The state for `cfg`, which must have a `[web]` section.
    pub fn new(cfg: Arc<Config>) -> anyhow::Result<WebState> {
        let web = cfg
            .web
            .clone()
            .ok_or_else(|| anyhow::anyhow!("the config has no [web] section"))?;
        Ok(WebState {
            calendar: cfg.calendar.build()?,
            sessions: Sessions::new(web.session_lifetime()),
            limiter: LoginLimiter::default(),
            trusted_proxy: web.trusted_proxy_addr()?,
            web,
            cfg,
        })
    }
}

type Shared = Arc<WebState>;

pub use request::Auth;
pub use review::filter_of;

/// The page's routes, with the security headers on every response.
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/login", get(sign_in::login_page).post(sign_in::login_post))
        .route("/logout", post(sign_in::logout))
        .route("/", get(review::overview))
        .route("/discrepancies", get(review::list))
        .route("/discrepancies.csv", get(review::export_csv))
        .route("/discrepancies.xlsx", get(review::export_xlsx))
        .route("/discrepancy/{id}", get(review::show))
        .route("/discrepancy/{id}/ack", post(review::ack))
        .route("/discrepancy/{id}/resolve", post(review::resolve))
        .route("/dossier/{code}", get(review::dossier))
        .route("/reports", get(reports::reports))
        .route("/reports/file/{name}", get(reports::report_file))
        .route("/reports/generate", post(reports::generate))
        .route("/static/style.css", get(style))
        .fallback(not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// The running page: its address, and the task serving it (aborted on drop).
pub struct WebServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WebServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `web.listen` and serves the page until the returned server is dropped.
pub async fn start(cfg: Arc<Config>) -> anyhow::Result<WebServer> {
    let state = Arc::new(WebState::new(cfg)?);
    let addr = state.web.listen_addr()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("config key `web.listen`: cannot listen on {addr}: {e}"))?;
    let addr = listener.local_addr()?;
    if !state.web.users_file.exists() {
        tracing::warn!(target: "web", users_file = %state.web.users_file.display(),
            "no accounts file yet: nobody can sign in until `tthc-sync user add` writes it");
    }
    let tls = tls::tls_acceptor(&state.web)?;
    let https = tls.is_some();
    let task = tokio::spawn(crate::serve::serve_tls(
        listener,
        router(state),
        crate::serve::Limits::WEB,
        tls,
    ));
    tracing::info!(target: "web", %addr, https, "serving the review web page");
    Ok(WebServer { addr, task })
}

async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cross-origin-opener-policy", "same-origin");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    res
}

fn html(status: StatusCode, page: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page.into_string(),
    )
        .into_response()
}

fn page_error(status: StatusCode, who: Option<&Viewer<'_>>, text: &str) -> Response {
    let title = match status {
        StatusCode::NOT_FOUND => "Không tìm thấy",
        StatusCode::FORBIDDEN => "Không được phép",
        StatusCode::BAD_REQUEST => "Yêu cầu không hợp lệ",
        StatusCode::CONFLICT => "Không thực hiện được",
        _ => "Lỗi",
    };
    html(status, pages::message(title, who, text))
}

async fn not_found() -> Response {
    page_error(StatusCode::NOT_FOUND, None, "Trang này không tồn tại.")
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        pages::STYLE,
    )
        .into_response()
}

/// Runs `f` on a store connection of its own in a blocking task.
async fn with_store<T, F>(st: &Shared, f: F) -> Result<T, Response>
where
    T: Send + 'static,
    F: FnOnce(&mut Store, &WebState) -> anyhow::Result<T> + Send + 'static,
{
    let st = st.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let mut store = Store::open_current(&st.cfg.service.database)?;
        f(&mut store, &st)
    })
    .await;
    match joined {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::error!(target: "web", error = %format!("{e:#}"), "page failed");
            Err(page_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                &format!("{e:#}"),
            ))
        }
        Err(e) => Err(page_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            &format!("the page's task failed: {e}"),
        )),
    }
}

fn download(content_type: &'static str, name: &str, bytes: Vec<u8>) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

/// `?done=…` after an action, for the page's notice.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Done {
    done: String,
}
