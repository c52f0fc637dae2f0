//! The national portal's client (Cổng DVCQG): session login and `TraCuuHoSo`, tolerant of
//! both reply shapes, status as code or label, and the date formats of docs/domain.md §8.
//!
//! A failed or unparseable reply is an error, never "not found": only a success reply with an
//! empty row array means the portal does not have the dossier.

use serde_json::Value;

use super::{LoginProblem, SourceError};
use crate::config::NationalConfig;
use crate::http::{Body, HttpClient, Request};
use crate::model::{DossierCore, LocalTime, LookupOutcome, NationalDossier, Status};
use crate::timestamp::{self, DateOnly};

const PORTAL: &str = "national";

/// The portal's date forms (docs/domain.md §8): the three seen, first; then the forms an
/// adapter may write instead — fractions of a second, a space for the `T`, no seconds, an
/// offset (converted to +07:00), a date alone, ASP.NET's `/Date(ms)/`.
const DATE_FORMATS: &[&str] = &[
    "%Y%m%d%H%M%S",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%d/%m/%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%d/%m/%Y",
    "%Y-%m-%d",
    "%Y%m%d",
    "dotnet",
];

/// Parses a national timestamp (local time unless it carries an offset; [`crate::timestamp`]).
/// `""` is null; a date alone is placed in its day by `date_only`.
pub fn parse_date(v: &str, date_only: DateOnly) -> Result<Option<LocalTime>, String> {
    timestamp::parse(v, DATE_FORMATS, date_only)
        .map_err(|_| format!("`{}` is not a date the portal writes", v.trim()))
}

fn is_success(code: &Value) -> bool {
    match code {
        Value::Number(n) => n.as_i64() == Some(0),
        Value::String(s) => matches!(s.trim(), "0" | "00"),
        _ => false,
    }
}

fn code_str(code: &Value) -> String {
    match code {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The setting a refusal of the adapter points at, from its message (the only signal the
/// adapter gives): the `dstcode` header or the unit code `madonvi`. `None` for any other
/// error.
pub fn refused_setting(_code: &str, message: &str) -> Option<LoginProblem> {
    let m = message.to_lowercase();
    if m.contains("dstcode") {
        Some(LoginProblem::Dstcode)
    } else if m.contains("madonvi") || m.contains("mã đơn vị") || m.contains("ma don vi") {
        Some(LoginProblem::Madonvi)
    } else {
        None
    }
}

fn is_session_problem(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("session") || m.contains("phiên") || m.contains("token")
}

/// The value of `name` in object `v`: the key as written, else one that differs only in case
/// and underscores (`errorCode`, `ErrorCode` for `error_code`; `maHoSo` for `MaHoSo`): adapters
/// differ in how they spell the same field.
fn member<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    let map = v.as_object()?;
    map.get(name).or_else(|| {
        let wanted = key_form(name);
        map.iter()
            .find(|(k, _)| key_form(k) == wanted)
            .map(|(_, v)| v)
    })
}

/// A key as [`member`] compares it: lower case, without underscores.
fn key_form(k: &str) -> String {
    k.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

fn field(row: &Value, name: &str) -> String {
    match member(row, name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The status of a reply row: `MaTrangThai` when present, else `TrangThaiHoSo` as a code,
/// else as a label.
fn status_of(row: &Value) -> (Option<Status>, String) {
    let code = field(row, "MaTrangThai");
    if let Ok(c) = code.trim().parse::<u8>() {
        return (Status::from_code(c), code);
    }
    let raw = field(row, "TrangThaiHoSo");
    if let Ok(c) = raw.trim().parse::<u8>() {
        return (Status::from_code(c), raw);
    }
    (Status::from_label_vi(&raw), raw)
}

/// Reads one reply row (the `TraCuuHoSo` fields of docs/domain.md §8) into the canonical model.
/// A date the portal should not write is an error naming the field.
pub fn parse_row(row: &Value) -> Result<NationalDossier, String> {
    let date_as = |name: &str, date_only| {
        parse_date(&field(row, name), date_only).map_err(|e| format!("{name}: {e}"))
    };
    let date = |name: &str| date_as(name, DateOnly::StartOfDay);
    let (status, status_raw) = status_of(row);
    let non_empty = |s: String| if s.is_empty() { None } else { Some(s) };
    Ok(NationalDossier {
        core: DossierCore {
            code: field(row, "MaHoSo").trim().to_string(),
            procedure_code: non_empty(field(row, "MaTTHC")),
            agency_code: non_empty(field(row, "MaDonViXuLy")),
            status,
            status_raw,
            received_at: date("NgayTiepNhan")?,
            due_at: date_as("NgayHenTra", DateOnly::EndOfDay)?,
            finished_at: date("NgayKetThucXuLy")?,
            returned_at: date("NgayTra")?,
        },
        unit_name: non_empty(field(row, "DonViXuLy")),
        duplicate_rows: false,
    })
}

/// The fields of a reply row that are kept as raw JSON: the ones [`parse_row`] reads
/// (docs/domain.md §8). Anything else an adapter sends — applicant names, ID numbers, phones —
/// is dropped before storing.
const KEPT_FIELDS: &[&str] = &[
    "MaHoSo",
    "MaTTHC",
    "MaTrangThai",
    "TrangThaiHoSo",
    "NgayTiepNhan",
    "NgayHenTra",
    "NgayKetThucXuLy",
    "NgayTra",
    "DonViXuLy",
    "MaDonViXuLy",
];

/// A reply row as stored: only [`KEPT_FIELDS`], and only when they hold a string, a number
/// or null — what [`parse_row`] reads. An object or array under a kept name (an adapter that
/// nests the applicant there) is not copied.
fn kept(row: &Value) -> Value {
    let Value::Object(map) = row else {
        return Value::Null;
    };
    let names: Vec<String> = KEPT_FIELDS.iter().map(|n| key_form(n)).collect();
    Value::Object(
        map.iter()
            .filter(|(k, v)| {
                names.contains(&key_form(k))
                    && matches!(v, Value::String(_) | Value::Number(_) | Value::Null)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// Where a reply keeps its rows inside a wrapper object (`{"data": {"items": [...]}}`).
const NESTED_ROWS: [&str; 5] = ["items", "content", "rows", "list", "records"];

/// The rows of a reply: the array under `result` or `data`; an array one level down in a
/// wrapper object (`items`, `content`, `rows`, `list`, `records`); or a single row object
/// (one with a `MaHoSo`) as one row. Anything else is an error, never "no rows".
fn rows_of(reply: &Value) -> Result<&[Value], String> {
    let rows = member(reply, "result")
        .or_else(|| member(reply, "data"))
        .ok_or("reply has neither `result` nor `data`")?;
    match rows {
        Value::Array(a) => Ok(a),
        Value::Null => Err("`result` is null".into()),
        Value::Object(_) => {
            if let Some(Value::Array(a)) = NESTED_ROWS.iter().find_map(|k| member(rows, k)) {
                Ok(a)
            } else if member(rows, "MaHoSo").is_some() {
                Ok(std::slice::from_ref(rows))
            } else {
                Err("`result` is an object with neither rows nor a `MaHoSo`".into())
            }
        }
        _ => Err("`result` is not an array".into()),
    }
}

/// The rows of one `DanhSachHoSo` reply: each readable row with its raw JSON, and one line
/// per row that could not be read (no `MaHoSo`, a bad date). An error when the reply has no
/// row array: a failed list says nothing about which dossiers exist.
pub fn parse_list(reply: &Value) -> Result<ListedRows, String> {
    let rows = rows_of(reply)?;
    let mut out = ListedRows::default();
    let mut seen = std::collections::HashSet::new();
    for row in rows {
        match parse_row(row) {
            Ok(d) if d.core.code.is_empty() => out.bad.push("a row without MaHoSo".into()),
            Ok(d) if !seen.insert(d.core.code.clone()) => {
                // The same code twice: keep the first, as a look-up would flag a duplicate.
                out.bad.push(format!("{}: listed twice", d.core.code));
            }
            Ok(d) => out.rows.push((d, kept(row).to_string())),
            Err(e) => out.bad.push(format!("{}: {e}", field(row, "MaHoSo"))),
        }
    }
    Ok(out)
}

/// What [`parse_list`] read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListedRows {
    /// Readable rows and their raw JSON.
    pub rows: Vec<(NationalDossier, String)>,
    /// Why each unreadable row was skipped.
    pub bad: Vec<String>,
}

/// Reads one `TraCuuHoSo` reply for `code`. Returns the outcome and the rows' raw JSON.
pub fn parse_lookup(code: &str, reply: &Value) -> Result<(LookupOutcome, String), String> {
    let rows = rows_of(reply)?;
    let raw = Value::Array(rows.iter().map(kept).collect()).to_string();
    if rows.is_empty() {
        return Ok((LookupOutcome::NotFound, raw));
    }
    let matching: Vec<&Value> = rows.iter().filter(|r| field(r, "MaHoSo") == code).collect();
    let row = match matching.first() {
        Some(r) => *r,
        None if rows.len() == 1 => {
            return Err(format!(
                "the portal answered for `{}`, not `{code}`",
                field(&rows[0], "MaHoSo")
            ))
        }
        None => return Err(format!("{} rows, none for `{code}`", rows.len())),
    };
    let mut dossier = parse_row(row)?;
    dossier.core.code = code.to_string();
    dossier.duplicate_rows = matching.len() > 1;
    Ok((LookupOutcome::Found(dossier), raw))
}

/// The national portal's client: logs in for a session, looks dossiers up one by one
/// (`TraCuuHoSo`) and lists a unit's dossiers (`DanhSachHoSo`), at `national.lookups_per_second`.
pub struct NationalClient {
    http: HttpClient,
    cfg: NationalConfig,
    password: String,
    session: tokio::sync::Mutex<Option<String>>,
    /// Logins tried so far: each login is a request of its own for the HTTP breaker (a login
    /// tried again for the next look-up is not a retry of the last one).
    logins: std::sync::atomic::AtomicU64,
    /// Why the portal refused our credentials in this run, if it did. While set, no login is
    /// tried again until [`NationalClient::begin_run`]: a wrong password must not be tried
    /// once per dossier (the account would be locked).
    refused: std::sync::Mutex<Option<(LoginProblem, String)>>,
}

impl NationalClient {
    /// The client's request rate is `national.lookups_per_second` (it sets the HTTP policy's
    /// `rate_per_second` for the portal).
    pub fn new(cfg: &NationalConfig, password: String) -> Result<NationalClient, SourceError> {
        let policy = crate::http::HttpPolicy {
            rate_per_second: cfg.lookups_per_second,
            max_body_bytes: (cfg.http.max_body_bytes)
                .or(Some(crate::http::NATIONAL_MAX_BODY_BYTES)),
            ..cfg.http.clone()
        };
        Ok(NationalClient {
            http: HttpClient::new(&policy)?,
            cfg: cfg.clone(),
            password,
            session: tokio::sync::Mutex::new(None),
            logins: std::sync::atomic::AtomicU64::new(0),
            refused: std::sync::Mutex::new(None),
        })
    }

    /// Starts a new run: closes the HTTP breaker and allows logging in again.
    pub fn begin_run(&self) {
        self.http.begin_run();
        *self.refused.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn refuse(&self, problem: LoginProblem, message: &str) {
        let mut r = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        if r.is_none() {
            tracing::warn!(target: "national", "login refused; no more logins in this run");
            *r = Some((problem, message.to_string()));
        }
    }

    /// Its HTTP client: the policy, the breaker and the counters of this host.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// True while the portal's circuit breaker is open (requests refused, or a probe in
    /// flight).
    pub fn breaker_open(&self) -> bool {
        self.http.breaker_open(&self.cfg.adapter_url)
    }

    /// When the portal's open circuit breaker lets a probe request through; `None` when it is
    /// closed or a probe is in flight.
    pub fn breaker_probe_at(&self) -> Option<tokio::time::Instant> {
        self.http.breaker_probe_at(&self.cfg.adapter_url)
    }

    fn url(&self, endpoint: &str) -> String {
        format!("{}{}", self.cfg.adapter_url.trim_end_matches('/'), endpoint)
    }

    fn headers(&self) -> Vec<(String, String)> {
        vec![
            ("Accept".into(), "application/json".into()),
            ("dstcode".into(), self.cfg.dstcode.clone()),
        ]
    }

    async fn login(&self) -> Result<String, SourceError> {
        let n = self
            .logins
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let req = Request {
            method: reqwest::Method::POST,
            url: self.url(&self.cfg.auth_endpoint),
            headers: self.headers(),
            body: Body::Json(serde_json::json!({
                "username": self.cfg.username, "password": self.password })),
            label: "login".into(),
            key: Some(format!("login #{n}")),
        };
        let reply = self.http.send_json(&req).await?;
        let v = &reply.value;
        let ok = member(v, "error_code").is_some_and(is_success);
        if reply.status == 200 && ok {
            if let Some(s) = member(v, "session").and_then(Value::as_str) {
                return Ok(s.to_string());
            }
        }
        let message = member(v, "message").and_then(Value::as_str).unwrap_or("");
        let code = member(v, "error_code").map(code_str).unwrap_or_default();
        let problem = if reply.status == 200 && ok {
            LoginProblem::NoSession
        } else if let Some(p) = refused_setting(&code, message) {
            p
        } else if member(v, "error_code").is_some() || reply.status == 401 {
            LoginProblem::Credentials
        } else {
            LoginProblem::Other
        };
        Err(SourceError::Login {
            portal: PORTAL,
            problem,
            message: format!(
                "HTTP {}, error_code {code}: {} ({})",
                reply.status,
                crate::quote::bounded(message, 120),
                problem.advice(PORTAL)
            ),
        })
    }

    /// The current session; `refused` names a session the portal just refused: a new one is
    /// made only if no other look-up already replaced it (look-ups run a few at a time, and one
    /// login must serve them all).
    async fn session(&self, refused: Option<&str>) -> Result<String, SourceError> {
        let mut guard = self.session.lock().await;
        let login_refused = self
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some((problem, message)) = login_refused {
            return Err(SourceError::Login {
                portal: PORTAL,
                problem,
                message,
            });
        }
        let stale = match (guard.as_deref(), refused) {
            (None, _) => true,
            (Some(current), Some(refused)) => current == refused,
            (Some(_), None) => false,
        };
        if stale {
            *guard = None;
            match self.login().await {
                Ok(s) => *guard = Some(s),
                Err(SourceError::Login {
                    problem, message, ..
                }) => {
                    self.refuse(problem, &message);
                    return Err(SourceError::Login {
                        portal: PORTAL,
                        problem,
                        message,
                    });
                }
                Err(SourceError::Http(source)) => {
                    return Err(SourceError::Session {
                        portal: PORTAL,
                        source,
                    })
                }
                Err(e) => return Err(e),
            }
        }
        Ok(guard.clone().expect("just set"))
    }

    /// Logs in now (or reuses the current session): the login is what fails first when the
    /// credentials, the URL or `dstcode` are wrong.
    pub async fn login_check(&self) -> Result<(), SourceError> {
        self.session(None).await.map(|_| ())
    }

    /// Calls an integration service; logs in again once when the session is refused (a
    /// session that expired is renewed, not a failure of the call). `key` names the request
    /// for the HTTP breaker (the dossier code of a look-up).
    pub async fn call(
        &self,
        service: &str,
        key: String,
        params: serde_json::Map<String, Value>,
    ) -> Result<Value, SourceError> {
        let mut refused: Option<String> = None;
        for attempt in 0..2 {
            let session = self.session(refused.as_deref()).await?;
            let mut body = params.clone();
            body.insert("session".into(), session.clone().into());
            body.insert("madonvi".into(), self.cfg.madonvi.clone().into());
            body.insert("service".into(), service.into());
            let req = Request {
                method: reqwest::Method::POST,
                url: self.url(&self.cfg.integration_endpoint),
                headers: self.headers(),
                body: Body::Json(Value::Object(body)),
                label: service.to_string(),
                key: Some(key.clone()),
            };
            let reply = self.http.send_json(&req).await?;
            let v = reply.value;
            let raw_message = member(&v, "message").and_then(Value::as_str).unwrap_or("");
            let message = crate::quote::bounded(raw_message, 120);
            let ok = member(&v, "error_code").is_some_and(is_success);
            if reply.status == 401 || (!ok && is_session_problem(raw_message)) {
                if attempt == 0 {
                    tracing::info!(target: "national", service, "session refused; logging in again");
                    refused = Some(session);
                    continue;
                }
                let message = format!("session refused again after a fresh login: {message}");
                self.refuse(LoginProblem::Other, &message);
                return Err(SourceError::Login {
                    portal: PORTAL,
                    problem: LoginProblem::Other,
                    message,
                });
            }
            if reply.status != 200 || !ok {
                return Err(SourceError::Portal {
                    portal: PORTAL,
                    call: service.to_string(),
                    code: member(&v, "error_code")
                        .map(code_str)
                        .unwrap_or_else(|| format!("HTTP {}", reply.status)),
                    message,
                });
            }
            return Ok(v);
        }
        unreachable!("the loop returns")
    }

    /// `TraCuuHoSo`: what the portal holds for `code`.
    pub async fn lookup(&self, code: &str) -> Result<(LookupOutcome, String), SourceError> {
        let mut params = serde_json::Map::new();
        params.insert("mahoso".into(), code.into());
        let v = self
            .call("TraCuuHoSo", format!("TraCuuHoSo {code}"), params)
            .await?;
        parse_lookup(code, &v).map_err(|message| SourceError::Reply {
            portal: PORTAL,
            call: "TraCuuHoSo".into(),
            message,
        })
    }

    /// `DanhSachHoSo`: the dossiers of `unit` received from `from` to `to` (inclusive).
    pub async fn list(
        &self,
        unit: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<ListedRows, SourceError> {
        let mut params = serde_json::Map::new();
        params.insert("donViXuLy".into(), unit.into());
        params.insert(
            "ngayNhan1".into(),
            from.format("%Y-%m-%d").to_string().into(),
        );
        params.insert("ngayNhan2".into(), to.format("%Y-%m-%d").to_string().into());
        let key = format!("DanhSachHoSo {unit} {from} {to}");
        let v = self.call("DanhSachHoSo", key, params).await?;
        parse_list(&v).map_err(|message| SourceError::Reply {
            portal: PORTAL,
            call: "DanhSachHoSo".into(),
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates() {
        for (input, want) in [
            ("20240814093000", Some("2024-08-14 09:30:00")),
            ("14/08/2024 09:30:00", Some("2024-08-14 09:30:00")),
            ("2024-08-14T09:30:00", Some("2024-08-14 09:30:00")),
            ("", None),
        ] {
            assert_eq!(
                parse_date(input, DateOnly::StartOfDay)
                    .unwrap()
                    .map(|t| t.to_string()),
                want.map(str::to_string),
                "{input}"
            );
        }
        assert!(parse_date("2024/08/14", DateOnly::StartOfDay).is_err());
    }

    #[test]
    fn reply_shapes() {
        let code = "000.00.11.H18-240814-0001";
        let row = json!({"MaHoSo": code, "TrangThaiHoSo": "Đang xử lý",
            "NgayTiepNhan": "20240814093000", "NgayHenTra": "", "MaTTHC": "1.001193"});
        for reply in [
            json!({"error_code": 0, "result": [row.clone()]}),
            json!({"error_code": "00", "data": [row.clone()]}),
        ] {
            let (out, _) = parse_lookup(code, &reply).unwrap();
            let LookupOutcome::Found(d) = out else {
                panic!("found")
            };
            assert_eq!(d.core.status, Some(Status::Processing));
            assert_eq!(d.core.due_at, None);
        }
        let with_pii = json!({"result": [{"MaHoSo": code, "MaTrangThai": "4",
            "TenNguoiNop": "Lò Văn A", "SoCMND": "011100000001", "NgayTiepNhan": "",
            "DonViXuLy": {"ten": "x", "nguoiNop": "Lò Thị C"},
            "NgayTra": ["Lò Thị D"]}]});
        let (_, raw) = parse_lookup(code, &with_pii).unwrap();
        assert!(raw.contains(code) && raw.contains("MaTrangThai"));
        for pii in ["Lò Văn A", "011100000001", "Lò Thị C", "Lò Thị D"] {
            assert!(!raw.contains(pii), "{pii} kept: {raw}");
        }
        let (out, _) = parse_lookup(code, &json!({"result": []})).unwrap();
        assert_eq!(out, LookupOutcome::NotFound);
        assert!(parse_lookup(code, &json!({"message": "x"})).is_err());
        assert!(parse_lookup(code, &json!({"result": null})).is_err());
        let with_code = json!({"result": [{"MaHoSo": code, "MaTrangThai": "9",
            "TrangThaiHoSo": "Đang xử lý"}]});
        let (LookupOutcome::Found(d), _) = parse_lookup(code, &with_code).unwrap() else {
            panic!()
        };
        assert_eq!(d.core.status, Some(Status::Resolved), "MaTrangThai wins");
    }

    /// Adapters spell the same reply differently: other key cases, rows wrapped one level
    /// down or a single row object, other date forms. Each reads the same dossier; a shape
    /// that holds no row is still an error, never "not found".
    #[test]
    fn other_spellings_of_the_same_reply() {
        let code = "000.00.11.H18-240814-0001";
        let camel = json!({"maHoSo": code, "maTrangThai": 10, "ngayTiepNhan": "2024-08-14 09:30:00",
            "ngayHenTra": "30/08/2024", "NGAY_TRA": "/Date(1725001200000+0700)/",
            "tenNguoiNop": "Lò Văn A"});
        for reply in [
            json!({"errorCode": 0, "result": [camel.clone()]}),
            json!({"ErrorCode": "0", "Data": {"items": [camel.clone()], "total": 1}}),
            json!({"error_code": 0, "data": camel.clone()}),
        ] {
            let (out, raw) = parse_lookup(code, &reply).unwrap();
            let LookupOutcome::Found(d) = out else {
                panic!("found in {reply}")
            };
            assert_eq!(d.core.status, Some(Status::Returned));
            assert_eq!(
                d.core.due_at.map(|t| t.to_string()).as_deref(),
                Some("2024-08-30 23:59:59"),
                "a due date alone is due by the end of its day"
            );
            assert_eq!(
                d.core.returned_at.map(|t| t.to_string()).as_deref(),
                Some("2024-08-30 14:00:00")
            );
            assert!(
                raw.contains("maTrangThai") && !raw.contains("Lò Văn A"),
                "{raw}"
            );
        }
        let (out, _) = parse_lookup(code, &json!({"data": {"items": []}})).unwrap();
        assert_eq!(out, LookupOutcome::NotFound);
        assert!(parse_lookup(code, &json!({"data": {"total": 0}})).is_err());
        assert!(parse_lookup(code, &json!({"data": "none"})).is_err());
    }

    #[test]
    fn list_rows() {
        let a = "000.01.31.H18-261002-0001";
        let b = "000.01.31.H18-261002-0002";
        let reply = json!({"error_code": "0", "data": [
            {"MaHoSo": a, "MaTrangThai": "4", "NgayTiepNhan": "20261002093000",
             "NgayHenTra": "09/10/2026 09:30:00", "MaDonViXuLy": "000.01.31.H18",
             "DonViXuLy": "Sở Tư pháp"},
            {"MaHoSo": b, "TrangThaiHoSo": "Đã trả kết quả", "NgayTiepNhan": "2026/10/02"},
            {"MaHoSo": "", "MaTrangThai": "4"},
            {"MaHoSo": a, "MaTrangThai": "9"}
        ]});
        let listed = parse_list(&reply).unwrap();
        assert_eq!(listed.rows.len(), 1);
        let (d, raw) = &listed.rows[0];
        assert_eq!(d.core.code, a);
        assert_eq!(d.core.status, Some(Status::Processing));
        assert_eq!(d.core.agency_code.as_deref(), Some("000.01.31.H18"));
        assert_eq!(
            d.core.due_at.map(|t| t.to_string()).as_deref(),
            Some("2026-10-09 09:30:00")
        );
        assert!(raw.contains(a));
        assert_eq!(listed.bad.len(), 3, "{:?}", listed.bad);
        assert!(listed.bad[0].contains("NgayTiepNhan"), "{:?}", listed.bad);
        // An empty list is a success; a reply without rows is an error, never "none".
        assert_eq!(
            parse_list(&json!({"result": []})).unwrap(),
            ListedRows::default()
        );
        assert!(parse_list(&json!({"message": "x"})).is_err());
        assert!(parse_list(&json!({"result": null})).is_err());
        assert!(parse_list(&json!({"result": {}})).is_err());
    }
}
