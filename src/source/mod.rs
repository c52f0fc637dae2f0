//! Clients of the two portals. Each turns wire replies into the canonical model
//! (`crate::model`) through pure parsing functions, and talks HTTP only through
//! `crate::http`. [`Clients`] holds both, built once from the config.

pub mod clients;
pub mod national;
pub mod provincial;

pub use clients::{Clients, ClientsError};

/// Why logging in to a portal failed, as far as the reply tells: each names the setting to
/// check. Read from a [`SourceError`] by [`SourceError::login_problem`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginProblem {
    /// The host name does not resolve (the URL's host, or the machine's DNS).
    Dns,
    /// The server's TLS certificate is not trusted (`http.ca_file`, or the URL's host name).
    Certificate,
    /// No connection: refused, unreachable, or no reply in time (firewall, port, URL).
    Connect,
    /// The portal refused the user name or password.
    Credentials,
    /// The SSO has no such realm (`provincial.realm`, `provincial.sso_url`).
    Realm,
    /// The SSO does not know the client or refuses it (`provincial.client_id`).
    Client,
    /// The national adapter refused the `dstcode` header (`national.dstcode`).
    Dstcode,
    /// The national adapter refused the province's unit code (`national.madonvi`).
    Madonvi,
    /// The login succeeded but its reply has no token or session field.
    NoSession,
    /// Anything else: the message says what the portal answered.
    Other,
}

impl LoginProblem {
    /// What to check, in one line, for `portal` (`provincial` or `national`).
    pub fn advice(self, portal: &str) -> String {
        match self {
            LoginProblem::Dns => format!(
                "DNS: the host name does not resolve; check the {portal} URL and the machine's \
                 resolver"
            ),
            LoginProblem::Certificate => format!(
                "TLS certificate not trusted; add the portal's CA to {portal}.http.ca_file (or \
                 check the URL's host name)"
            ),
            LoginProblem::Connect => format!(
                "cannot connect (refused, unreachable or timed out); check the {portal} URL, \
                 the port and the firewall"
            ),
            LoginProblem::Credentials => {
                format!("credentials refused; check {portal}.username and the password source")
            }
            LoginProblem::Realm => {
                "no such realm on the SSO; check provincial.realm and provincial.sso_url".into()
            }
            LoginProblem::Client => "the SSO refused the client; check provincial.client_id".into(),
            LoginProblem::Dstcode => {
                "the adapter refused the dstcode; check national.dstcode".into()
            }
            LoginProblem::Madonvi => {
                "the adapter refused the unit code; check national.madonvi".into()
            }
            LoginProblem::NoSession => format!(
                "the login reply has no token/session field; the {portal} login endpoint or \
                 its version differs from what tthc-sync expects"
            ),
            LoginProblem::Other => format!("{portal}: login failed"),
        }
    }
}

/// Why a call to a portal failed. Never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The HTTP call failed under the policy (transport, status, retries spent, breaker open).
    #[error(transparent)]
    Http(#[from] crate::http::HttpError),
    /// No session could be opened because the login call itself failed under the HTTP policy
    /// (transport, status, retries spent, breaker open): nothing is known of the call the
    /// session was for.
    #[error("{portal}: no session (the login call failed): {source}")]
    Session {
        /// `provincial` or `national`.
        portal: &'static str,
        /// Why the login call failed.
        source: crate::http::HttpError,
    },
    /// The portal refused the service account's credentials, or the login reply had no
    /// token or session.
    #[error("{portal}: login failed: {message}")]
    Login {
        /// `provincial` or `national`.
        portal: &'static str,
        /// Which setting the refusal points at.
        problem: LoginProblem,
        /// What the portal said (never the password).
        message: String,
    },
    /// The portal answered with an error code in its reply envelope (national: `error_code`
    /// other than 0).
    #[error("{portal}: {call}: the portal answered error {code}: {message}")]
    Portal {
        /// `provincial` or `national`.
        portal: &'static str,
        /// The operation, e.g. `TraCuuHoSo`.
        call: String,
        /// The portal's error code, as sent.
        code: String,
        /// The portal's message (often Vietnamese).
        message: String,
    },
    /// The reply could not be read: not the expected shape, a date in no known format, rows
    /// that do not match the code asked for.
    #[error("{portal}: {call}: unexpected reply: {message}")]
    Reply {
        /// `provincial` or `national`.
        portal: &'static str,
        /// The operation, e.g. `list` or `TraCuuHoSo`.
        call: String,
        /// What was wrong.
        message: String,
    },
}

impl SourceError {
    /// The login problem this error is, if it is one: a refused login (its kind), a
    /// transport failure before any reply (DNS, certificate, connection), or the national
    /// adapter refusing the unit code (`national.madonvi`). `None` for other errors.
    pub fn login_problem(&self) -> Option<LoginProblem> {
        use crate::http::FailReason;
        match self {
            SourceError::Login { problem, .. } => Some(*problem),
            SourceError::Http(e) | SourceError::Session { source: e, .. } => match e.reason()? {
                FailReason::Dns => Some(LoginProblem::Dns),
                FailReason::Certificate => Some(LoginProblem::Certificate),
                FailReason::Connect | FailReason::Timeout => Some(LoginProblem::Connect),
                _ => None,
            },
            SourceError::Portal {
                portal: "national",
                code,
                message,
                ..
            } => national::refused_setting(code, message),
            _ => None,
        }
    }
}
