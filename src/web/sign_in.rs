//! Signing in and out: the sign-in form (its own CSRF cookie before there is a session), the
//! password check against the accounts file with the failure rate limit, the session cookie.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, State};
use axum::http::header::{self, HeaderMap};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::auth::{self, same_secret};
use super::pages;
use super::request::{client_addr, cookie, over_https, set_cookie, ActionForm, Auth};
use super::users::Users;
use super::{html, page_error, Shared, LOGIN_COOKIE, SESSION_COOKIE};

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

fn login_form(error: Option<&str>, status: StatusCode, secure: bool) -> Response {
    let token = auth::random_token();
    let mut res = html(status, pages::login(&token, error));
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, &token, 3600, secure),
    );
    res
}

pub(super) async fn login_page(
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

pub(super) async fn login_post(
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

pub(super) async fn logout(
    State(st): State<Shared>,
    a: Auth,
    Form(f): Form<ActionForm>,
) -> Response {
    if let Some(r) = a.csrf_refusal(&f.csrf) {
        return r;
    }
    st.sessions.remove(&a.sid);
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0, false));
    res
}
