//! Who is asking, from where, over what: cookies, the client's address and HTTPS (forwarded
//! headers only from `web.trusted_proxy`), and the signed-in user ([`Auth`], the extractor of
//! every page but the sign-in) with its CSRF and role checks.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::{same_secret, Session};
use super::pages::Viewer;
use super::users::{Role, Users};
use super::{page_error, Shared, WebState, SESSION_COOKIE};

/// The value of cookie `name` in the request's `Cookie` headers.
pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
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
pub(super) fn over_https(st: &WebState, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    st.web.tls()
        || trusted(st, peer)
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

pub(super) fn trusted(st: &WebState, peer: Option<SocketAddr>) -> bool {
    matches!((st.trusted_proxy, peer), (Some(p), Some(peer)) if p == peer.ip())
}

/// The client's address: the connection's, or — only from `web.trusted_proxy` — the last
/// address of `X-Forwarded-For` (the one the proxy itself appended).
pub(super) fn client_addr(st: &WebState, peer: Option<SocketAddr>, headers: &HeaderMap) -> IpAddr {
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

pub(super) fn set_cookie(name: &str, value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub(super) fn peer_of(parts_ext: &axum::http::Extensions) -> Option<SocketAddr> {
    parts_ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}

/// A signed-in user (the extractor of every page but the sign-in): no session, an expired
/// one, or one whose user was removed from the accounts file sends the browser to `/login`.
/// The role is re-read from the accounts file at every request.
pub struct Auth {
    pub(super) sid: String,
    pub(super) session: Session,
    pub(super) client: IpAddr,
}

impl Auth {
    pub(super) fn viewer(&self) -> Viewer<'_> {
        Viewer {
            user: &self.session.user,
            role: self.session.role,
            csrf: &self.session.csrf,
        }
    }

    /// The refusal of a POST whose form does not carry this session's CSRF token; `None`
    /// when it does.
    pub(super) fn csrf_refusal(&self, token: &str) -> Option<Response> {
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
    pub(super) fn viewer_refusal(&self) -> Option<Response> {
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

/// A form with only its CSRF token (and a note, for acknowledge and resolve).
#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    pub(super) csrf: String,
    #[serde(default)]
    pub(super) note: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::sync::Arc;

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
