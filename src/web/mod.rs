//! The review web page `tthc-sync run` serves on `[web] listen`: overview, discrepancies
//! (filter, page, export, acknowledge, resolve), dossiers, monthly reports.
//!
//! - [`users`]: the accounts file (argon2id hashes, roles `viewer` and `operator`);
//! - [`auth`]: sessions (in memory), CSRF tokens, the sign-in rate limit;
//! - [`pages`]: the HTML, rendered with maud (escaped by default, no script);
//! - [`guide`]: each kind's meaning and action, from docs/discrepancies.md;
//! - this module: the routes, each reading the store through its own connection in a blocking
//!   task (the sync writes through another; SQLite's WAL lets both work).
//!
//! Served by the same bounded accept loop as `/healthz` (`daemon::http::serve`: header-read
//! timeout, connection lifetime, connection cap). Every response carries a CSP without
//! script, `frame-ancestors 'none'`, `X-Frame-Options: DENY`, `nosniff`, and pages
//! `Cache-Control: no-store`. No forwarded header is trusted unless `web.trusted_proxy` names
//! the connecting address (docs/deployment.md).

pub mod auth;
pub mod guide;
pub mod pages;
pub mod users;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::Markup;
use serde::Deserialize;

use crate::calendar::Calendar;
use crate::config::{Config, WebConfig};
use crate::dossier_view::DossierView;
use crate::lifecycle::State as DState;
use crate::model::YearMonth;
use crate::reconcile::{Kind, Severity};
use crate::store::{DiscrepancyFilter, ManualChange, Store, StoreError};
use auth::{same_secret, LoginLimiter, Session, Sessions};
use pages::{ListQuery, Viewer};
use users::{Role, Users};

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

/// The page's routes, with the security headers on every response.
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/login", get(login_page).post(login_post))
        .route("/logout", post(logout))
        .route("/", get(overview))
        .route("/discrepancies", get(list))
        .route("/discrepancies.csv", get(export_csv))
        .route("/discrepancies.xlsx", get(export_xlsx))
        .route("/discrepancy/{id}", get(show))
        .route("/discrepancy/{id}/ack", post(ack))
        .route("/discrepancy/{id}/resolve", post(resolve))
        .route("/dossier/{code}", get(dossier))
        .route("/reports", get(reports))
        .route("/reports/file/{name}", get(report_file))
        .route("/reports/generate", post(generate))
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
    let tls = tls_acceptor(&state.web)?;
    let https = tls.is_some();
    let task = tokio::spawn(crate::daemon::http::serve_tls(
        listener,
        router(state),
        crate::daemon::http::Limits::WEB,
        tls,
    ));
    tracing::info!(target: "web", %addr, https, "serving the review web page");
    Ok(WebServer { addr, task })
}

/// The TLS acceptor of `web.tls_cert` and `web.tls_key`; `None` when TLS is off. Errors name
/// the key and the file.
fn tls_acceptor(web: &WebConfig) -> anyhow::Result<Option<tokio_rustls::TlsAcceptor>> {
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

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Whether the browser reached the page over HTTPS: served with TLS itself, or a trusted
/// proxy says so (`X-Forwarded-Proto: https`).
fn over_https(st: &WebState, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    st.web.tls()
        || trusted(st, peer)
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

fn trusted(st: &WebState, peer: Option<SocketAddr>) -> bool {
    matches!((st.trusted_proxy, peer), (Some(p), Some(peer)) if p == peer.ip())
}

/// The client's address: the connection's, or — only from `web.trusted_proxy` — the last
/// address of `X-Forwarded-For` (the one the proxy itself appended).
fn client_addr(st: &WebState, peer: Option<SocketAddr>, headers: &HeaderMap) -> IpAddr {
    let direct = peer.map_or(IpAddr::from([0, 0, 0, 0]), |p| p.ip());
    if !trusted(st, peer) {
        return direct;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .next_back()
        .unwrap_or(direct)
}

fn set_cookie(name: &str, value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn peer_of(parts_ext: &axum::http::Extensions) -> Option<SocketAddr> {
    parts_ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}

/// A signed-in user (the extractor of every page but the sign-in): no session, an expired
/// one, or one whose user was removed from the accounts file sends the browser to `/login`.
/// The role is re-read from the accounts file at every request.
pub struct Auth {
    sid: String,
    session: Session,
    client: IpAddr,
}

impl Auth {
    fn viewer(&self) -> Viewer<'_> {
        Viewer {
            user: &self.session.user,
            role: self.session.role,
            csrf: &self.session.csrf,
        }
    }

    /// The refusal of a POST whose form does not carry this session's CSRF token; `None`
    /// when it does.
    fn csrf_refusal(&self, token: &str) -> Option<Response> {
        if same_secret(token, &self.session.csrf) {
            None
        } else {
            tracing::warn!(target: "web", user = %self.session.user, client = %self.client,
                "form refused: missing or wrong CSRF token");
            Some(page_error(
                StatusCode::FORBIDDEN,
                Some(&self.viewer()),
                "Biểu mẫu thiếu mã chống giả mạo (CSRF) hoặc mã không đúng: hãy tải lại trang rồi thử lại.",
            ))
        }
    }

    /// The refusal of an operator's action to a viewer; `None` for an operator.
    fn viewer_refusal(&self) -> Option<Response> {
        if self.session.role == Role::Operator {
            None
        } else {
            Some(page_error(
                StatusCode::FORBIDDEN,
                Some(&self.viewer()),
                "Tài khoản của bạn chỉ có quyền xem (viewer): việc này cần quyền vận hành (operator).",
            ))
        }
    }
}

impl FromRequestParts<Shared> for Auth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &Shared) -> Result<Auth, Response> {
        let to_login = || Redirect::to("/login").into_response();
        let sid = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(to_login)?;
        let mut session = st.sessions.get(&sid, Instant::now()).ok_or_else(to_login)?;
        let users = Users::load(&st.web.users_file).map_err(|e| {
            tracing::error!(target: "web", error = %e, "cannot read the accounts file");
            page_error(StatusCode::INTERNAL_SERVER_ERROR, None, &e.to_string())
        })?;
        match users.get(&session.user) {
            Some(u) => session.role = u.role,
            None => {
                st.sessions.remove(&sid);
                return Err(to_login());
            }
        }
        let client = client_addr(st, peer_of(&parts.extensions), &parts.headers);
        Ok(Auth {
            sid,
            session,
            client,
        })
    }
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

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
}

/// A form with only its CSRF token (and a note, for acknowledge and resolve).
#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

fn login_form(error: Option<&str>, status: StatusCode, secure: bool) -> Response {
    let token = auth::random_token();
    let mut res = html(status, pages::login(&token, error));
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, &token, 3600, secure),
    );
    res
}

async fn login_page(
    State(st): State<Shared>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if cookie(&headers, SESSION_COOKIE)
        .is_some_and(|s| st.sessions.get(&s, Instant::now()).is_some())
    {
        return Redirect::to("/").into_response();
    }
    login_form(None, StatusCode::OK, over_https(&st, Some(peer), &headers))
}

async fn login_post(
    State(st): State<Shared>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(f): Form<LoginForm>,
) -> Response {
    let peer = Some(peer);
    let secure = over_https(&st, peer, &headers);
    let client = client_addr(&st, peer, &headers);
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_secret(&f.csrf, &expected) {
        tracing::warn!(target: "web", %client, "sign-in refused: missing or wrong CSRF token");
        return login_form(
            Some("Phiên đăng nhập đã hết hạn hoặc biểu mẫu không hợp lệ: hãy thử lại."),
            StatusCode::FORBIDDEN,
            secure,
        );
    }
    let now = Instant::now();
    if let Err(wait) = st.limiter.check(&f.user, client, now) {
        tracing::warn!(target: "web", %client, "sign-in refused: too many failures");
        return login_form(
            Some(&format!(
                "Đăng nhập sai quá nhiều lần. Hãy thử lại sau {} phút.",
                wait.as_secs().div_ceil(60)
            )),
            StatusCode::TOO_MANY_REQUESTS,
            secure,
        );
    }
    let path = st.web.users_file.clone();
    let (user, password) = (f.user.clone(), f.password);
    let verified = tokio::task::spawn_blocking(move || {
        Users::load(&path).map(|users| users.verify(&user, &password))
    })
    .await;
    let role = match verified {
        Ok(Ok(role)) => role,
        Ok(Err(e)) => {
            tracing::error!(target: "web", error = %e, "cannot read the accounts file");
            return page_error(StatusCode::INTERNAL_SERVER_ERROR, None, &e.to_string());
        }
        Err(e) => {
            return page_error(StatusCode::INTERNAL_SERVER_ERROR, None, &e.to_string());
        }
    };
    let Some(role) = role else {
        st.limiter.fail(&f.user, client, now);
        tracing::warn!(target: "web", %client, "sign-in failed");
        return login_form(
            Some("Tên đăng nhập hoặc mật khẩu không đúng."),
            StatusCode::UNAUTHORIZED,
            secure,
        );
    };
    st.limiter.succeed(&f.user);
    let sid = st.sessions.create(&f.user, role, now);
    tracing::info!(target: "web", user = %f.user, role = role.as_str(), %client, "signed in");
    let mut res = Redirect::to("/").into_response();
    let h = res.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            &sid,
            st.sessions.lifetime().as_secs(),
            secure,
        ),
    );
    h.append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", 0, secure));
    res
}

async fn logout(State(st): State<Shared>, a: Auth, Form(f): Form<ActionForm>) -> Response {
    if let Some(r) = a.csrf_refusal(&f.csrf) {
        return r;
    }
    st.sessions.remove(&a.sid);
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0, false));
    res
}

async fn overview(State(st): State<Shared>, a: Auth) -> Response {
    let data = with_store(&st, |store, st| {
        let now = crate::clock::local_now();
        let month = YearMonth::of(&now);
        let (scores, history, scores_error) = match crate::report::build(
            store,
            month,
            now,
            &st.calendar,
            &st.cfg.service.province_name,
        ) {
            Ok(r) => (
                [
                    r.national_view.score,
                    r.provincial_view.score,
                    r.published_score,
                ],
                r.history,
                None,
            ),
            Err(e) => ([None; 3], Vec::new(), Some(e.to_string())),
        };
        let failing_all = store.failing_lookups(now - st.cfg.national.lookup_failing_after())?;
        let ages = store.view_ages(now)?;
        let p = |q| crate::freshness::percentile(&ages, q);
        Ok(pages::Overview {
            month,
            runs: store.recent_runs(8)?,
            scores,
            scores_error,
            history,
            by_kind_severity: store.open_counts_by_kind_severity()?,
            agencies: store.open_counts_by_agency(10)?,
            failing_total: failing_all.len(),
            failing: failing_all.into_iter().take(10).collect(),
            freshness: pages::FreshnessFigures {
                dossiers: ages.len(),
                p50: p(50.0),
                p95: p(95.0),
                max: ages.iter().copied().max(),
            },
        })
    })
    .await;
    match data {
        Ok(o) => html(StatusCode::OK, pages::overview(&a.viewer(), &o)),
        Err(r) => r,
    }
}

/// The store's filter of a list query; `Err` names the value that is not understood.
pub fn filter_of(q: &ListQuery) -> Result<DiscrepancyFilter, String> {
    let states = match q.state.as_str() {
        "" => vec![DState::Open, DState::Acknowledged],
        s => vec![DState::parse(s).ok_or_else(|| format!("Trạng thái `{s}` không hợp lệ."))?],
    };
    let kind = match q.kind.as_str() {
        "" => None,
        k => Some(Kind::parse(k).ok_or_else(|| format!("Loại `{k}` không hợp lệ."))?),
    };
    let least = match q.severity.as_str() {
        "" => Severity::Medium,
        s => Severity::parse(s).ok_or_else(|| format!("Mức độ `{s}` không hợp lệ."))?,
    };
    let month = match q.month.trim() {
        "" => None,
        m => Some(
            m.parse::<YearMonth>()
                .map_err(|_| format!("Tháng `{m}` không hợp lệ: viết YYYY-MM, ví dụ 2026-08."))?
                .iso(),
        ),
    };
    let agency = Some(q.agency.trim().to_string()).filter(|a| !a.is_empty());
    Ok(DiscrepancyFilter {
        states,
        kind,
        agency,
        least_severity: Some(least),
        month,
    })
}

async fn list(State(st): State<Shared>, a: Auth, Query(q): Query<ListQuery>) -> Response {
    let filter = match filter_of(&q) {
        Ok(f) => f,
        Err(e) => return page_error(StatusCode::BAD_REQUEST, Some(&a.viewer()), &e),
    };
    let page = q.page.unwrap_or(1).clamp(1, u64::MAX / pages::PAGE_SIZE);
    let got = with_store(&st, move |store, _| {
        Ok(store.discrepancies_page(&filter, (page - 1) * pages::PAGE_SIZE, pages::PAGE_SIZE)?)
    })
    .await;
    match got {
        Ok((total, rows)) => html(
            StatusCode::OK,
            pages::discrepancies(&a.viewer(), &q, total, page, &rows),
        ),
        Err(r) => r,
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

async fn export(st: Shared, a: Auth, q: ListQuery, xlsx: bool) -> Response {
    let filter = match filter_of(&q) {
        Ok(f) => f,
        Err(e) => return page_error(StatusCode::BAD_REQUEST, Some(&a.viewer()), &e),
    };
    let got = with_store(&st, move |store, _| {
        let rows = store.discrepancies(&filter)?;
        Ok(if xlsx {
            crate::discrepancy_export::to_xlsx(&rows)?
        } else {
            crate::discrepancy_export::to_csv(&rows, true).into_bytes()
        })
    })
    .await;
    match got {
        Ok(bytes) if xlsx => download(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "sai-lech.xlsx",
            bytes,
        ),
        Ok(bytes) => download("text/csv; charset=utf-8", "sai-lech.csv", bytes),
        Err(r) => r,
    }
}

async fn export_csv(State(st): State<Shared>, a: Auth, Query(q): Query<ListQuery>) -> Response {
    export(st, a, q, false).await
}

async fn export_xlsx(State(st): State<Shared>, a: Auth, Query(q): Query<ListQuery>) -> Response {
    export(st, a, q, true).await
}

/// `?done=…` after an action, for the page's notice.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Done {
    done: String,
}

async fn show(
    State(st): State<Shared>,
    a: Auth,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Response {
    let got = with_store(&st, move |store, _| {
        Ok(match store.discrepancy(id)? {
            Some(d) => Some((d, store.discrepancy_events(id)?)),
            None => None,
        })
    })
    .await;
    let flash = match done.done.as_str() {
        "ack" => Some("Đã ghi nhận tiếp nhận."),
        "resolve" => Some("Đã đánh dấu đã giải quyết."),
        _ => None,
    };
    match got {
        Ok(Some((d, events))) => html(
            StatusCode::OK,
            pages::discrepancy(&a.viewer(), &d, &events, flash),
        ),
        Ok(None) => page_error(
            StatusCode::NOT_FOUND,
            Some(&a.viewer()),
            &format!("Không có sai lệch số {id}."),
        ),
        Err(r) => r,
    }
}

async fn change(st: Shared, a: Auth, id: i64, f: ActionForm, to: DState) -> Response {
    if let Some(r) = a.csrf_refusal(&f.csrf) {
        return r;
    }
    if let Some(r) = a.viewer_refusal() {
        return r;
    }
    if f.note.trim().is_empty() {
        return page_error(
            StatusCode::BAD_REQUEST,
            Some(&a.viewer()),
            "Hãy ghi chú đã kiểm tra gì, đã làm gì.",
        );
    }
    let user = a.session.user.clone();
    let os_user = format!("web:{}", a.client);
    let note = f.note.clone();
    let got = with_store(&st, move |store, _| {
        let change = ManualChange {
            by: &user,
            os_user: &os_user,
            note: &note,
        };
        Ok(store.set_discrepancy_state(id, to, change, crate::clock::local_now()))
    })
    .await;
    let done = if to == DState::Acknowledged {
        "ack"
    } else {
        "resolve"
    };
    match got {
        Ok(Ok(_)) => Redirect::to(&format!("/discrepancy/{id}?done={done}")).into_response(),
        Ok(Err(StoreError::NotFound(_))) => page_error(
            StatusCode::NOT_FOUND,
            Some(&a.viewer()),
            &format!("Không có sai lệch số {id}."),
        ),
        Ok(Err(e @ (StoreError::InvalidTransition { .. } | StoreError::InvalidInput(_)))) => {
            page_error(StatusCode::CONFLICT, Some(&a.viewer()), &e.to_string())
        }
        Ok(Err(e)) => page_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(&a.viewer()),
            &e.to_string(),
        ),
        Err(r) => r,
    }
}

async fn ack(
    State(st): State<Shared>,
    a: Auth,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Response {
    change(st, a, id, f, DState::Acknowledged).await
}

async fn resolve(
    State(st): State<Shared>,
    a: Auth,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Response {
    change(st, a, id, f, DState::Resolved).await
}

async fn dossier(State(st): State<Shared>, a: Auth, Path(code): Path<String>) -> Response {
    let c = code.clone();
    let got = with_store(&st, move |store, st| {
        Ok(DossierView::load(
            store,
            &c,
            crate::clock::local_now(),
            &st.calendar,
        )?)
    })
    .await;
    match got {
        Ok(Some(v)) => html(StatusCode::OK, pages::dossier(&a.viewer(), &v)),
        Ok(None) => page_error(
            StatusCode::NOT_FOUND,
            Some(&a.viewer()),
            &format!("Không có hồ sơ `{}`.", crate::quote::bounded(&code, 80)),
        ),
        Err(r) => r,
    }
}

/// The prefix of every report file (`report::file_stem`).
const REPORT_PREFIX: &str = "bao-cao-tien-do-";

/// Whether `name` is a report file name this page serves: no path, no hidden file.
fn report_name_ok(name: &str) -> bool {
    name.starts_with(REPORT_PREFIX)
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && !name.contains("..")
}

/// The report files in `dir`, by month, newest first.
fn report_months(dir: &std::path::Path) -> std::io::Result<Vec<pages::ReportMonth>> {
    let mut by: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    for e in entries {
        let name = e?.file_name().to_string_lossy().into_owned();
        if !report_name_ok(&name) {
            continue;
        }
        let month = name[REPORT_PREFIX.len()..]
            .chars()
            .take(7)
            .collect::<String>();
        if month.parse::<YearMonth>().is_ok() {
            by.entry(month).or_default().push(name);
        }
    }
    Ok(by
        .into_iter()
        .rev()
        .map(|(month, mut files)| {
            files.sort();
            pages::ReportMonth { month, files }
        })
        .collect())
}

fn reports_dir(st: &WebState) -> PathBuf {
    crate::report::default_out_dir(&st.cfg)
}

async fn reports(State(st): State<Shared>, a: Auth, Query(done): Query<Done>) -> Response {
    let dir = reports_dir(&st);
    let months = match tokio::task::spawn_blocking(move || report_months(&dir)).await {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => {
            return page_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(&a.viewer()),
                &format!("Không đọc được thư mục báo cáo: {e}"),
            )
        }
        Err(e) => return page_error(StatusCode::INTERNAL_SERVER_ERROR, None, &e.to_string()),
    };
    let flash = (done.done == "generated").then_some("Đã lập báo cáo tháng này.");
    let current = YearMonth::of(&crate::clock::local_now());
    html(
        StatusCode::OK,
        pages::reports(&a.viewer(), &months, current, flash),
    )
}

async fn report_file(State(st): State<Shared>, a: Auth, Path(name): Path<String>) -> Response {
    if !report_name_ok(&name) {
        return page_error(
            StatusCode::NOT_FOUND,
            Some(&a.viewer()),
            "Không có tệp này.",
        );
    }
    let path = reports_dir(&st).join(&name);
    let content_type = match name.rsplit('.').next() {
        Some("md") => "text/markdown; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => download(content_type, &name, bytes),
        Err(_) => page_error(
            StatusCode::NOT_FOUND,
            Some(&a.viewer()),
            "Không có tệp này.",
        ),
    }
}

async fn generate(State(st): State<Shared>, a: Auth, Form(f): Form<ActionForm>) -> Response {
    if let Some(r) = a.csrf_refusal(&f.csrf) {
        return r;
    }
    if let Some(r) = a.viewer_refusal() {
        return r;
    }
    let user = a.session.user.clone();
    let got = with_store(&st, move |store, st| {
        let now = crate::clock::local_now();
        let files = crate::report::write_month(
            store,
            &st.cfg,
            YearMonth::of(&now),
            &crate::report::Format::ALL,
            now,
        )?;
        Ok(files.len())
    })
    .await;
    match got {
        Ok(n) => {
            tracing::info!(target: "web", user = %user, files = n, "report generated from the web page");
            Redirect::to("/reports?done=generated").into_response()
        }
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_never_leave_the_directory() {
        assert!(report_name_ok("bao-cao-tien-do-2026-08.xlsx"));
        assert!(report_name_ok("bao-cao-tien-do-2026-08-phu-luc-1.csv"));
        for bad in [
            "../etc/passwd",
            "bao-cao-tien-do-/../x",
            "bao-cao-tien-do-..",
            ".bao-cao-tien-do-2026-08.md.tmp",
            "other.md",
            "bao-cao-tien-do-2026-08.md\0",
        ] {
            assert!(!report_name_ok(bad), "{bad}");
        }
    }

    #[test]
    fn a_list_query_becomes_the_store_filter_or_a_named_error() {
        let f = filter_of(&ListQuery::default()).unwrap();
        assert_eq!(f.states, vec![DState::Open, DState::Acknowledged]);
        assert_eq!(f.least_severity, Some(Severity::Medium));
        let q = ListQuery {
            state: "resolved".into(),
            kind: "status_mismatch".into(),
            severity: "low".into(),
            agency: " 000.01.31.H18 ".into(),
            month: "2026-8".into(),
            page: None,
        };
        let f = filter_of(&q).unwrap();
        assert_eq!(f.kind, Some(Kind::StatusMismatch));
        assert_eq!(f.agency.as_deref(), Some("000.01.31.H18"));
        assert_eq!(f.month.as_deref(), Some("2026-08"));
        let bad = ListQuery {
            kind: "<script>".into(),
            ..Default::default()
        };
        assert!(filter_of(&bad).unwrap_err().contains("<script>"));
    }

    #[test]
    fn forwarded_headers_count_only_from_the_trusted_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 198.51.100.7"),
        );
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let proxy: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let other: SocketAddr = "127.0.0.2:40000".parse().unwrap();
        let cfg = Config::parse(
            include_str!("../../config/tthc-sync.example.toml"),
            std::path::Path::new("x"),
        )
        .unwrap();
        let mut st = WebState::new(Arc::new(cfg)).unwrap();
        assert_eq!(client_addr(&st, Some(proxy), &headers), proxy.ip());
        assert!(!over_https(&st, Some(proxy), &headers));
        st.trusted_proxy = Some(proxy.ip());
        assert_eq!(
            client_addr(&st, Some(proxy), &headers),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert!(over_https(&st, Some(proxy), &headers));
        assert_eq!(client_addr(&st, Some(other), &headers), other.ip());
        assert!(!over_https(&st, Some(other), &headers));
    }
}
