//! The provincial one-stop system's client: auth and paging by profile. Rows are returned as
//! JSON; `profile::Profile::map_row` turns them into canonical records.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{LoginProblem, SourceError};
use crate::config::ProvincialConfig;
use crate::http::{backoff, Body, HttpClient, Request};
use crate::profile::{AuthStyle, PageEnd, PagingStyle, Profile};

const PORTAL: &str = "provincial";

/// One page of rows, newest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// The rows as the system sent them, not yet mapped (see `Profile::map_row`).
    pub rows: Vec<Value>,
    /// The reply established that no page follows: every end signal of the profile's
    /// `[paging]` says so ([`crate::profile::Paging::judge`]).
    pub last: bool,
    /// The total row count of the list the reply reported (signal `total`), if any; an
    /// estimate when the profile's `paging.total_exact` is false.
    pub total: Option<u64>,
    /// How many times the page was fetched again because its reply contradicted itself
    /// before a consistent one came (0 normally).
    pub refetches: u32,
}

/// Why a list reply is not a usable page: a failed page, fetched again under the HTTP policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// The reply has no array under the profile's `rows_field`.
    #[error("reply has no `{0}` array")]
    NoRows(String),
    /// The reply's end signals disagree (an empty or short page while its own total or `last`
    /// flag says more rows follow), or it lacks a declared one; the text says what it said.
    #[error("the page contradicts itself: {0}")]
    Contradiction(String),
}

struct Token {
    access: String,
    refresh: Option<String>,
    expires_at: Instant,
}

/// The client of the province's one-stop system: authenticates as the profile's `auth` style
/// says (logging in again once on a 401) and reads the dossier list page by page.
pub struct ProvincialClient {
    http: HttpClient,
    cfg: ProvincialConfig,
    profile: Profile,
    password: String,
    token: tokio::sync::Mutex<Option<Token>>,
}

/// Reads one list reply as page `n` (0-based) of `size` rows.
pub fn parse_page(profile: &Profile, reply: &Value, n: u32, size: u32) -> Result<Page, PageError> {
    take_page(profile, &mut reply.clone(), n, size)
}

/// [`parse_page`] that moves the rows out of `reply` instead of copying them. The page is the
/// last only when the reply establishes it; a reply that contradicts itself is an error.
pub fn take_page(
    profile: &Profile,
    reply: &mut Value,
    n: u32,
    size: u32,
) -> Result<Page, PageError> {
    let rows = reply
        .get_mut(&profile.rows_field)
        .and_then(Value::as_array_mut)
        .map(std::mem::take)
        .ok_or_else(|| PageError::NoRows(profile.rows_field.clone()))?;
    let offset = u64::from(n) * u64::from(size);
    let report = profile.paging.report(reply, rows.len(), size, offset);
    let last = match profile.paging.judge(&report) {
        PageEnd::End => true,
        PageEnd::More => false,
        PageEnd::Contradiction(why) => return Err(PageError::Contradiction(why)),
    };
    Ok(Page {
        rows,
        last,
        total: report.total,
        refetches: 0,
    })
}

impl ProvincialClient {
    pub(crate) fn new(
        cfg: &ProvincialConfig,
        profile: Profile,
        password: String,
    ) -> Result<ProvincialClient, SourceError> {
        Ok(ProvincialClient {
            http: HttpClient::new(&crate::http::HttpPolicy {
                max_body_bytes: (cfg.http.max_body_bytes)
                    .or(Some(crate::http::LIST_MAX_BODY_BYTES)),
                ..cfg.http.clone()
            })?,
            cfg: cfg.clone(),
            profile,
            password,
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// The vendor profile the client reads with.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Its HTTP client: the policy, the breaker and the counters of this host.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Logs in now when the profile's auth style has a login (OAuth2, token); Basic auth is
    /// checked by the first page.
    pub async fn login_check(&self) -> Result<(), SourceError> {
        self.auth_header(false).await.map(|_| ())
    }

    /// Page `n` (0-based here, whatever the profile's style), newest first. A reply that is
    /// not a usable page — no rows array, or end signals that contradict each other — is
    /// fetched again with the HTTP policy's backoff, up to `provincial.http.max_retries` times;
    /// if it stays wrong the error names the page and what the reply said.
    pub async fn page(&self, n: u32) -> Result<Page, SourceError> {
        let size = self.cfg.page_size;
        let policy = &self.cfg.http;
        let label = format!("dossier page {n}");
        let mut refetches = 0u32;
        loop {
            let mut reply = self.fetch_page(n, &label).await?;
            let why = match take_page(&self.profile, &mut reply, n, size) {
                Ok(mut page) => {
                    page.refetches = refetches;
                    return Ok(page);
                }
                Err(e) => e,
            };
            if refetches >= policy.max_retries {
                return Err(SourceError::Reply {
                    portal: PORTAL,
                    call: label,
                    message: format!(
                        "{why} (rows {} to {} asked; the same after {refetches} re-fetches)",
                        u64::from(n) * u64::from(size) + 1,
                        (u64::from(n) + 1) * u64::from(size),
                    ),
                });
            }
            refetches += 1;
            let delay = backoff(
                policy.backoff_initial_ms,
                policy.backoff_max_ms,
                refetches,
                policy.jitter,
                fastrand::f64(),
            );
            tracing::info!(target: "provincial", page = n, refetch = refetches,
                delay_ms = delay.as_millis() as u64, why = %why, "fetching the page again");
            tokio::time::sleep(delay).await;
        }
    }

    /// One list call for page `n`: the reply's JSON when the status is 2xx (logging in again
    /// once on a 401).
    async fn fetch_page(&self, n: u32, label: &str) -> Result<Value, SourceError> {
        let size = self.cfg.page_size;
        let mut params: BTreeMap<String, String> = self.profile.list_params.clone();
        match self.profile.paging.style {
            PagingStyle::Page0 => {
                params.insert("page".into(), n.to_string());
                params.insert("size".into(), size.to_string());
            }
            PagingStyle::Page1 => {
                params.insert("PageNumber".into(), (n + 1).to_string());
                params.insert("PageSize".into(), size.to_string());
            }
            PagingStyle::Offset => {
                // `end` missing or 0 returns every row: always send it.
                params.insert("start".into(), (n * size).to_string());
                params.insert("end".into(), ((n + 1) * size).to_string());
            }
        }
        let mut url = reqwest::Url::parse(&format!(
            "{}{}",
            self.cfg.api_url.trim_end_matches('/'),
            self.profile.list_path
        ))
        .map_err(|e| SourceError::Reply {
            portal: PORTAL,
            call: "list".into(),
            message: format!("bad list URL: {e}"),
        })?;
        url.query_pairs_mut().extend_pairs(params.iter());
        for attempt in 0..2 {
            let auth = self.auth_headers(attempt > 0).await?;
            let req = Request {
                method: reqwest::Method::GET,
                url: url.to_string(),
                headers: auth,
                body: Body::None,
                label: label.to_string(),
                key: None,
            };
            let reply = self.http.send_json(&req).await?;
            if reply.status == 401 && attempt == 0 {
                tracing::info!(target: "provincial", "token refused (401); logging in again");
                continue;
            }
            if !(200..300).contains(&reply.status) {
                return Err(SourceError::Portal {
                    portal: PORTAL,
                    call: label.to_string(),
                    code: format!("HTTP {}", reply.status),
                    message: excerpt(&reply.value),
                });
            }
            return Ok(reply.value);
        }
        Err(SourceError::Login {
            portal: PORTAL,
            problem: LoginProblem::Other,
            message: "token refused again right after a fresh login".into(),
        })
    }

    /// The profile's extra headers (`groupId`, `tenant`) with their config values.
    fn extra_headers(&self) -> Vec<(String, String)> {
        self.profile
            .extra_headers
            .iter()
            .filter_map(|(h, key)| {
                self.cfg
                    .header_value(key)
                    .map(|v| (h.clone(), v.to_string()))
            })
            .collect()
    }

    async fn auth_headers(&self, force_login: bool) -> Result<Vec<(String, String)>, SourceError> {
        let mut headers = self.auth_header(force_login).await?;
        headers.extend(self.extra_headers());
        Ok(headers)
    }

    async fn auth_header(&self, force_login: bool) -> Result<Vec<(String, String)>, SourceError> {
        match self.profile.auth {
            AuthStyle::Basic => {
                use base64::Engine;
                let b = base64::engine::general_purpose::STANDARD
                    .encode(format!("{}:{}", self.cfg.username, self.password));
                Ok(vec![("Authorization".into(), format!("Basic {b}"))])
            }
            AuthStyle::Oauth2Password | AuthStyle::Token => {
                let mut guard = self.token.lock().await;
                let fresh = guard
                    .as_ref()
                    .is_some_and(|t| t.expires_at > Instant::now() + Duration::from_secs(30));
                if force_login || !fresh {
                    let refresh = if force_login {
                        None
                    } else {
                        guard.as_ref().and_then(|t| t.refresh.clone())
                    };
                    *guard = Some(self.login(refresh).await?);
                }
                let token = &guard.as_ref().expect("just set").access;
                Ok(vec![("Authorization".into(), format!("Bearer {token}"))])
            }
        }
    }

    async fn login(&self, refresh: Option<String>) -> Result<Token, SourceError> {
        let login_err = |problem: LoginProblem, message: String| SourceError::Login {
            portal: PORTAL,
            problem,
            message,
        };
        let req = match self.profile.auth {
            AuthStyle::Oauth2Password => {
                let sso = self.cfg.sso_url.as_deref().unwrap_or(&self.cfg.api_url);
                let mut form = vec![("client_id".to_string(), self.cfg.client_id.clone())];
                match &refresh {
                    Some(r) => {
                        form.push(("grant_type".into(), "refresh_token".into()));
                        form.push(("refresh_token".into(), r.clone()));
                    }
                    None => {
                        form.push(("grant_type".into(), "password".into()));
                        form.push(("username".into(), self.cfg.username.clone()));
                        form.push(("password".into(), self.password.clone()));
                    }
                }
                Request {
                    method: reqwest::Method::POST,
                    url: format!(
                        "{}/auth/realms/{}/protocol/openid-connect/token",
                        sso.trim_end_matches('/'),
                        self.cfg.realm
                    ),
                    headers: vec![],
                    body: Body::Form(form),
                    label: "token".into(),
                    key: None,
                }
            }
            AuthStyle::Token => Request {
                method: reqwest::Method::POST,
                url: format!("{}/api/tokens", self.cfg.api_url.trim_end_matches('/')),
                headers: self.extra_headers(),
                body: Body::Json(serde_json::json!({
                    "email": self.cfg.username, "password": self.password })),
                label: "token".into(),
                key: None,
            },
            AuthStyle::Basic => unreachable!("basic auth has no login"),
        };
        let reply = self.http.send_json(&req).await?;
        if !(200..300).contains(&reply.status) {
            if refresh.is_some() {
                return Box::pin(self.login(None)).await;
            }
            let problem = login_refusal(self.profile.auth, reply.status, &reply.value);
            return Err(login_err(
                problem,
                format!("HTTP {}: {}", reply.status, problem.advice(PORTAL)),
            ));
        }
        let v = &reply.value;
        let access = v
            .get("access_token")
            .or_else(|| v.get("token"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                login_err(
                    LoginProblem::NoSession,
                    "reply has no access_token/token".into(),
                )
            })?;
        Ok(Token {
            access: access.to_string(),
            refresh: v
                .get("refresh_token")
                .or_else(|| v.get("refreshToken"))
                .and_then(Value::as_str)
                .map(str::to_string),
            expires_at: Instant::now() + token_lifetime(v.get("expires_in")),
        })
    }
}

/// What a refused provincial login points at, from the reply's status and its OAuth2 `error`
/// (Keycloak: 404 for an unknown realm, `invalid_client`/`unauthorized_client` for the client,
/// `invalid_grant` for the user's credentials).
pub fn login_refusal(auth: AuthStyle, status: u16, reply: &Value) -> LoginProblem {
    let error = reply.get("error").and_then(Value::as_str).unwrap_or("");
    match (auth, status, error) {
        (AuthStyle::Oauth2Password, _, "invalid_client" | "unauthorized_client") => {
            LoginProblem::Client
        }
        (AuthStyle::Oauth2Password, 404, _) => LoginProblem::Realm,
        (_, 400 | 401 | 403, _) => LoginProblem::Credentials,
        _ => LoginProblem::Other,
    }
}

/// A non-2xx JSON reply, quoted bounded (`crate::quote`).
fn excerpt(v: &Value) -> String {
    crate::quote::bounded(&v.to_string(), 120)
}

/// Shortest and longest token lifetime believed, whatever `expires_in` says: a token is
/// renewed 30 s before it expires, so a lifetime under a minute would mean a login per page;
/// one over a day (or a huge number, which would overflow the clock) is cut to a day. A
/// token refused earlier is renewed anyway (401 → login).
const TOKEN_SECONDS: std::ops::RangeInclusive<u64> = 60..=86_400;

/// The token's lifetime from a login reply's `expires_in` (seconds; 300 when absent or not
/// a number), clamped to [`TOKEN_SECONDS`]. Pure.
fn token_lifetime(expires_in: Option<&Value>) -> Duration {
    let secs = expires_in
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite())
        .unwrap_or(300.0)
        .clamp(*TOKEN_SECONDS.start() as f64, *TOKEN_SECONDS.end() as f64);
    Duration::from_secs(secs as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn login_refusals_name_the_setting() {
        let o = AuthStyle::Oauth2Password;
        let cases = [
            (
                o,
                404,
                json!({"error": "Realm does not exist"}),
                LoginProblem::Realm,
            ),
            (o, 404, Value::Null, LoginProblem::Realm),
            (
                o,
                401,
                json!({"error": "invalid_client"}),
                LoginProblem::Client,
            ),
            (
                o,
                400,
                json!({"error": "unauthorized_client"}),
                LoginProblem::Client,
            ),
            (
                o,
                401,
                json!({"error": "invalid_grant"}),
                LoginProblem::Credentials,
            ),
            (
                AuthStyle::Token,
                401,
                Value::Null,
                LoginProblem::Credentials,
            ),
            (AuthStyle::Token, 404, Value::Null, LoginProblem::Other),
            (o, 418, Value::Null, LoginProblem::Other),
        ];
        for (auth, status, reply, want) in cases {
            assert_eq!(
                login_refusal(auth, status, &reply),
                want,
                "{status} {reply}"
            );
        }
    }

    #[test]
    fn page_ends_need_positive_evidence() {
        let p = Profile::builtin("igate").unwrap();
        // (reply, page, size, last) — the end only when `last`, the total and a short page agree
        let cases = [
            (
                json!({"content": [1, 2], "last": false, "totalElements": 5}),
                0,
                2,
                false,
            ),
            (
                json!({"content": [1], "last": true, "totalElements": 5}),
                2,
                2,
                true,
            ),
            (
                json!({"content": [1, 2], "last": true, "totalElements": 4}),
                1,
                2,
                true,
            ),
            (
                json!({"content": [], "last": true, "totalElements": 4}),
                2,
                2,
                true,
            ),
        ];
        for (reply, n, size, last) in cases {
            let page = parse_page(&p, &reply, n, size).unwrap();
            assert_eq!(page.last, last, "{reply}");
            assert_eq!(page.total, reply["totalElements"].as_u64());
        }
        // An empty page is not the end while the reply says more follow.
        let err = parse_page(
            &p,
            &json!({"content": [], "last": false, "totalElements": 5}),
            1,
            2,
        )
        .unwrap_err();
        assert!(
            matches!(&err, PageError::Contradiction(w) if w.contains("empty page")),
            "{err}"
        );
        // Before: a reply without `last` and a short page was taken as the end.
        let err = parse_page(&p, &json!({"content": [1]}), 0, 2).unwrap_err();
        assert!(err.to_string().contains("no `last`"), "{err}");
        let err = parse_page(&p, &json!({"rows": []}), 0, 2).unwrap_err();
        assert_eq!(err, PageError::NoRows("content".into()));
        assert!(err.to_string().contains("content"), "{err}");
    }

    /// A huge `expires_in` once panicked every cycle (`Instant + Duration` overflow); a tiny
    /// one meant a login per page.
    #[test]
    fn token_lifetime_is_clamped() {
        let secs = |v: Value| token_lifetime(Some(&v)).as_secs();
        assert_eq!(secs(json!(3600)), 3600);
        assert_eq!(secs(json!(1e300)), 86_400);
        assert_eq!(secs(json!(u64::MAX)), 86_400);
        assert_eq!(secs(json!(0)), 60);
        assert_eq!(secs(json!(-5)), 60);
        assert_eq!(secs(json!(5)), 60);
        assert_eq!(secs(json!("3600")), 300);
        assert_eq!(token_lifetime(None).as_secs(), 300);
        // The sum that panicked before.
        let _ = Instant::now() + token_lifetime(Some(&json!(u64::MAX)));
    }

    #[test]
    fn a_non_2xx_body_is_quoted_bounded() {
        let v = json!({"message": "x".repeat(10_000)});
        let q = excerpt(&v);
        assert!(
            q.chars().count() < 150 && q.ends_with("(10014 characters)"),
            "{q}"
        );
    }
}
