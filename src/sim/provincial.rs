//! The provincial portal simulator. One synthetic world, served in the wire format of the
//! profile asked for (each vendor's interface as docs/profiles.md describes it):
//!
//! - `igate`: Keycloak password grant with expiring tokens; Spring-paged dossier search sorted by
//!   `updatedDate` desc; dates ISO 8601 with offset and milliseconds.
//! - `opencps`: HTTP Basic + `groupId` header; `start`/`end` offsets, `{"total","data"}`; dates
//!   `dd/MM/yyyy HH:mm:ss`; status words with sub-status; `referenceUid` when `systemId` is 5;
//!   `lockState` PAUSE while paused.
//! - `td`: `POST /api/tokens` with a `tenant` header; 1-based `PageNumber`, `hasNextPage`; dates
//!   `yyyy-MM-ddTHH:mm:ss`; `TrangThaiHoSoId` is the national code; some dossiers carry the
//!   national code in `MaHoSoKhac` (their `MaHoSo` is the vendor's own).
//!
//! Rows carry applicant personal data, as the real systems' do: the client must drop it.
//! Transport faults are switched on at run time through [`super::Knobs`].

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::habits;
use super::records::SimDossier;
pub use super::records::SimProfile;
use super::world::World;
use super::{PageAnomaly, PageFault, SimControl, PROVINCIAL_USER, SIM_GROUP_ID, SIM_TENANT};
use crate::carries::{Carries, DateField};
use crate::model::{vn_offset, LocalTime, Status};

/// Token lifetime the simulator grants.
const TOKEN_SECONDS: u64 = 300;

struct TokenState {
    expires: Instant,
    pages: u32,
}

#[derive(Clone)]
struct App {
    world: Arc<World>,
    control: Arc<SimControl>,
    profile: SimProfile,
    tokens: Arc<Mutex<HashMap<String, TokenState>>>,
    counter: Arc<AtomicU64>,
}

pub(super) fn router(world: Arc<World>, control: Arc<SimControl>, profile: SimProfile) -> Router {
    let app = App {
        world,
        control,
        profile,
        tokens: Arc::new(Mutex::new(HashMap::new())),
        counter: Arc::new(AtomicU64::new(0)),
    };
    let r = Router::new();
    let r = match profile {
        SimProfile::Igate => r
            .route(
                "/auth/realms/{realm}/protocol/openid-connect/token",
                post(igate_token),
            )
            .route("/pa/dossier/search", get(igate_search)),
        SimProfile::Opencps => r.route("/o/rest/v2/dossiers", get(opencps_list)),
        SimProfile::Td => r
            .route("/api/tokens", post(td_token))
            .route("/api/v1/hosos", get(td_list)),
    };
    r.with_state(app)
}

/// iGate's default label for a national status (the profile's table, reversed).
pub fn igate_label(s: Status) -> &'static str {
    match s {
        Status::Submitted => "Chờ tiếp nhận",
        Status::Received => "Đã tiếp nhận",
        Status::Rejected => "Từ chối tiếp nhận",
        Status::Processing => "Đang xử lý",
        Status::SupplementRequested => "Chờ bổ sung",
        Status::AwaitingPayment => "Chờ thực hiện nghĩa vụ tài chính",
        Status::Withdrawn => "Đã rút hồ sơ",
        Status::Stopped => "Dừng xử lý",
        Status::Resolved => "Có kết quả",
        Status::Returned => "Đã trả kết quả",
    }
}

/// OpenCPS `(dossierStatus, dossierSubStatus)` for a national status. Awaiting payment is
/// rendered as `processing` with sub-status `paying`, so the sub-status must win.
pub fn opencps_words(s: Status) -> (&'static str, &'static str) {
    match s {
        Status::Submitted => ("receiving", ""),
        Status::Received => ("new", ""),
        Status::Rejected => ("denied", ""),
        Status::Processing => ("processing", ""),
        Status::SupplementRequested => ("waiting", "correcting"),
        Status::AwaitingPayment => ("processing", "paying"),
        Status::Withdrawn => ("cancelled", ""),
        Status::Stopped => ("unresolved", ""),
        Status::Resolved => ("releasing", ""),
        Status::Returned => ("done", ""),
    }
}

/// The OpenCPS status word of a dossier whose label no table knows (`unmapped_label` fault).
pub const OPENCPS_UNMAPPED_WORD: &str = "approving";
/// The td status id of a dossier whose label no table knows.
pub const TD_UNMAPPED_ID: u8 = 11;

/// OpenCPS `systemId` of the dossier at `index`: every fourth is 5 (national code in
/// `referenceUid`, `dossierNo` holds the local code).
pub fn opencps_system_id(index: usize) -> u32 {
    if index % 4 == 0 {
        5
    } else {
        1
    }
}

/// td: every fifth dossier has its national code in `MaHoSoKhac` and its own code in `MaHoSo`.
pub fn td_uses_khac(index: usize) -> bool {
    index % 5 == 0
}

/// td `NgayYeuCauBoSung`: the last supplement request, if any.
pub fn supplement_requested_at(d: &SimDossier) -> Option<LocalTime> {
    d.history
        .iter()
        .rev()
        .find(|(_, s)| *s == Status::SupplementRequested)
        .map(|(t, _)| *t)
}

fn iso(t: Option<LocalTime>, utc: bool) -> Value {
    match t {
        None => Value::Null,
        Some(t) => {
            let dt = t
                .and_local_timezone(vn_offset())
                .single()
                .expect("fixed offset");
            if utc {
                dt.with_timezone(&chrono::Utc)
                    .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
                    .to_string()
                    .into()
            } else {
                dt.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string().into()
            }
        }
    }
}

/// Renders one dossier as an iGate search row.
pub fn render_row(w: &World, d: &SimDossier) -> Value {
    render_igate(w, d, d.updated_at(), false)
}

/// Which dates of dossier `index` a vendor with `carries` writes, with the world's vendor
/// habits ([`habits::written`]); without them (`carries` `None`), every date the dossier has.
fn dates(carries: Option<&Carries>, index: usize, d: &SimDossier) -> [Option<LocalTime>; 4] {
    DateField::ALL.map(|f| match carries {
        Some(c) => habits::written(c, index, d, f),
        None => habits::value(d, f),
    })
}

/// An iGate row in one of the vendor's habitual forms (time zones, label-only statuses, dates
/// left empty: [`habits`]).
fn render_igate_habits(
    w: &World,
    index: usize,
    d: &SimDossier,
    updated: LocalTime,
    carries: &Carries,
) -> Value {
    let mut row = render_igate(w, d, updated, false);
    let [received, due, finished, returned] = dates(Some(carries), index, d);
    let date = |t| habits::igate_date(t, index);
    let o = row.as_object_mut().expect("object");
    for (key, t) in [
        ("appliedDate", Some(d.applied_at)),
        ("acceptedDate", received),
        ("appointmentDate", due),
        ("completedDate", finished),
        ("returnedDate", returned),
        ("updatedDate", Some(updated)),
    ] {
        o.insert(key.into(), date(t));
    }
    let label = d
        .label_override
        .as_deref()
        .unwrap_or(igate_label(d.status()));
    let mut status = json!({"name": habits::igate_label_form(label, index)});
    if !habits::igate_label_only(index) {
        status["id"] = d.status().code().into();
    }
    o.insert("dossierStatus".into(), status);
    row
}

fn render_igate(w: &World, d: &SimDossier, updated: LocalTime, utc: bool) -> Value {
    let agency = w.agency(d);
    let proc = w.procedure(d);
    let status = d.status();
    json!({
        "id": d.id,
        "code": d.local_code,
        "nationCode": d.national_code,
        "procedure": {"id": format!("p{}", d.procedure), "code": proc.code,
            "translate": [{"languageId": 228, "name": proc.name}]},
        "agency": {"id": format!("a{}", d.agency), "code": agency.code, "name": agency.name},
        "dossierStatus": {"id": status.code(),
            "name": d.label_override.as_deref().unwrap_or(igate_label(status))},
        "applyMethod": {"id": d.channel},
        "appliedDate": iso(Some(d.applied_at), utc),
        "acceptedDate": iso(d.received_at, utc),
        "appointmentDate": iso(d.due_at, utc),
        "completedDate": iso(d.finished_at, utc),
        "returnedDate": iso(d.returned_at, utc),
        "updatedDate": iso(Some(updated), utc),
        "undefindedCompleteTime": false,
        "currentTask": [{"assignee": {"fullname": d.handler}}],
        "applicant": {"data": {
            "fullname": d.applicant.fullname,
            "identityNumber": d.applicant.identity_number,
            "phoneNumber": d.applicant.phone,
            "address": d.applicant.address,
            "email": d.applicant.email,
        }},
    })
}

fn vn_date(t: Option<LocalTime>, format: &str) -> Value {
    t.map(|t| t.format(format).to_string())
        .unwrap_or_default()
        .into()
}

/// Renders one dossier (at `index` in the world) as an OpenCPS row; with `carries`, in the
/// vendor's habitual forms.
fn render_opencps(
    w: &World,
    index: usize,
    d: &SimDossier,
    updated: LocalTime,
    carries: Option<&Carries>,
) -> Value {
    let [received, due, finished, returned] = dates(carries, index, d);
    let format = if carries.is_some() {
        habits::opencps_format(index)
    } else {
        "%d/%m/%Y %H:%M:%S"
    };
    let vn_date = |t| vn_date(t, format);
    let agency = w.agency(d);
    let proc = w.procedure(d);
    let status = d.status();
    let (word, sub) = match d.label_override {
        Some(_) => (OPENCPS_UNMAPPED_WORD, ""),
        None => opencps_words(status),
    };
    let system_id = opencps_system_id(index);
    let paused = matches!(
        status,
        Status::SupplementRequested | Status::AwaitingPayment
    );
    json!({
        "dossierId": d.id,
        "dossierNo": if system_id == 5 { &d.local_code } else { &d.national_code },
        "referenceUid": if system_id == 5 { d.national_code.clone() }
            else { format!("ref-{}", d.id) },
        "systemId": system_id,
        "serviceCode": proc.code,
        "serviceName": proc.name,
        "govAgencyCode": agency.code,
        "govAgencyName": agency.name,
        "dossierStatus": word,
        "dossierSubStatus": sub,
        "dossierStatusText": d.label_override.as_deref().unwrap_or(igate_label(status)),
        "online": d.channel == 1,
        "viaPostal": if d.channel == 2 { 1 } else { 0 },
        "submitDate": vn_date(Some(d.applied_at)),
        "receiveDate": vn_date(received),
        "dueDate": vn_date(due),
        "releaseDate": vn_date(finished),
        "finishDate": vn_date(returned),
        "modifiedDate": vn_date(Some(updated)),
        "lockState": if paused { "PAUSE" } else { "" },
        "durationCount": proc.working_days,
        "durationUnit": 0,
        "applicantName": d.applicant.fullname,
        "applicantIdNo": d.applicant.identity_number,
        "address": d.applicant.address,
        "contactTelNo": d.applicant.phone,
        "contactEmail": d.applicant.email,
    })
}

fn td_date(t: Option<LocalTime>, format: &str) -> Value {
    t.map(|t| Value::from(t.format(format).to_string()))
        .unwrap_or(Value::Null)
}

/// Renders one dossier (at `index` in the world) as a td row; with `carries`, in the vendor's
/// habitual forms.
fn render_td(
    w: &World,
    index: usize,
    d: &SimDossier,
    updated: LocalTime,
    carries: Option<&Carries>,
) -> Value {
    let [received, due, finished, returned] = dates(carries, index, d);
    let format = if carries.is_some() {
        habits::td_format(index)
    } else {
        "%Y-%m-%dT%H:%M:%S"
    };
    let td_date = |t| td_date(t, format);
    let agency = w.agency(d);
    let proc = w.procedure(d);
    let khac = td_uses_khac(index);
    json!({
        "Id": d.id,
        "MaHoSo": if khac { &d.local_code } else { &d.national_code },
        "MaHoSoKhac": if khac { d.national_code.as_str() } else { "" },
        "MaTTHC": proc.code,
        "TenTTHC": proc.name,
        "DonViId": agency.code,
        "TenDonVi": agency.name,
        "TrangThaiHoSoId": if d.label_override.is_some() { TD_UNMAPPED_ID }
            else { d.status().code() },
        "KenhThucHien": d.channel + 1,
        "NgayNopHoSo": td_date(Some(d.applied_at)),
        "NgayTiepNhan": td_date(received),
        "NgayHenTra": td_date(due),
        "NgayKetThucXuLy": td_date(finished),
        "NgayTra": td_date(returned),
        "NgayYeuCauBoSung": td_date(supplement_requested_at(d)),
        "LastModifiedOn": td_date(Some(updated)),
        "NguoiDangXuLy": d.handler,
        "ChuHoSo": d.applicant.fullname,
        "SoGiayToChuHoSo": d.applicant.identity_number,
        "SoDienThoaiChuHoSo": d.applicant.phone,
        "EmailChuHoSo": d.applicant.email,
        "DiaChiChuHoSo": d.applicant.address,
    })
}

/// The personal data an independently written system may carry under keys no profile lists
/// (the [`super::Knobs::provincial_hidden_personal_data`] knob): the applicant's name, ID
/// number, phone, e-mail and address ([`hidden_values`]) in an e-form block, nested three
/// levels down, in an array of people, under a renamed applicant block, and inside a field
/// whose text is itself JSON.
pub fn hidden_personal_data(d: &SimDossier) -> Value {
    let [name, id, phone, email, address] = hidden_values(d);
    let person = json!({"hoTen": name, "soCCCD": id, "soDienThoai": phone, "thuDienTu": email,
        "diaChiThuongTru": address});
    json!({
        "eForm": {"data": {"hoTenNguoiYeuCau": name, "giayTo": {"so": id,
            "lienHe": {"dienThoai": phone, "email": email, "noiO": address}}}},
        "thanhPhanHoSo": [{"tenTep": format!("CCCD {id}.pdf"), "nguoiKy": person.clone()}],
        "thongTinBoSung": json!({"nguoiNop": person}).to_string(),
        "applicantInfo": {"fullName": name, "idNumber": id},
    })
}

/// The values [`hidden_personal_data`] hides, each distinctive (a test looks for them in
/// database files and logs): the applicant's name marked with the dossier's id (plain names
/// share a pool with officials'), ID number, phone, e-mail and address.
pub fn hidden_values(d: &SimDossier) -> [String; 5] {
    let a = &d.applicant;
    [
        format!("{} Ẩn{}", a.fullname, d.id),
        a.identity_number.clone(),
        a.phone.clone(),
        a.email.clone(),
        a.address.clone(),
    ]
}

fn issue_token(app: &App) -> (String, String) {
    let n = app.counter.fetch_add(1, Ordering::SeqCst);
    let access = format!("access-{n}");
    app.tokens.lock().expect("tokens").insert(
        access.clone(),
        TokenState {
            expires: Instant::now() + Duration::from_secs(TOKEN_SECONDS),
            pages: 0,
        },
    );
    (access, format!("refresh-{n}"))
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "unauthorized"})),
    )
        .into_response()
}

async fn igate_token(
    State(app): State<App>,
    axum::extract::Path(realm): axum::extract::Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    app.control.hit("token");
    if app.control.knobs().provincial_down {
        return (StatusCode::SERVICE_UNAVAILABLE, "<html>503</html>").into_response();
    }
    // Keycloak's answers to an unknown realm and to an unknown client.
    if realm != super::SIM_REALM {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "Realm does not exist"})),
        )
            .into_response();
    }
    if form.get("client_id").map(String::as_str) != Some(super::SIM_CLIENT_ID) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client",
                "error_description": "Invalid client or Invalid client credentials"})),
        )
            .into_response();
    }
    let password = app.control.knobs().provincial_password().to_string();
    let ok = match form.get("grant_type").map(String::as_str) {
        Some("password") => {
            form.get("username").map(String::as_str) == Some(PROVINCIAL_USER)
                && form.get("password") == Some(&password)
        }
        Some("refresh_token") => form
            .get("refresh_token")
            .is_some_and(|r| r.starts_with("refresh-")),
        _ => false,
    };
    if !ok {
        return (
            StatusCode::UNAUTHORIZED,
            Json(
                json!({"error": "invalid_grant", "error_description": "Invalid user credentials"}),
            ),
        )
            .into_response();
    }
    let (access, refresh) = issue_token(&app);
    Json(json!({"access_token": access, "expires_in": TOKEN_SECONDS,
        "refresh_token": refresh, "token_type": "Bearer"}))
    .into_response()
}

async fn td_token(State(app): State<App>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    app.control.hit("token");
    if app.control.knobs().provincial_down {
        return (StatusCode::SERVICE_UNAVAILABLE, "<html>503</html>").into_response();
    }
    let tenant_ok = header_is(&headers, "tenant", SIM_TENANT);
    let password = app.control.knobs().provincial_password().to_string();
    let ok = body.get("email").and_then(Value::as_str) == Some(PROVINCIAL_USER)
        && body.get("password").and_then(Value::as_str) == Some(password.as_str());
    if !tenant_ok || !ok {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"messages": ["Authentication Failed."]})),
        )
            .into_response();
    }
    let (access, refresh) = issue_token(&app);
    let expiry = chrono::Utc::now() + chrono::Duration::days(7);
    Json(json!({"token": access, "refreshToken": refresh,
        "refreshTokenExpiryTime": expiry.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string()}))
    .into_response()
}

fn header_is(headers: &HeaderMap, name: &str, want: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == want)
}

/// Checks the caller's credentials for a list call, counting pages served per token.
fn authorised(app: &App, headers: &HeaderMap) -> bool {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match app.profile {
        SimProfile::Opencps => {
            use base64::Engine;
            let password = app.control.knobs().provincial_password().to_string();
            let want = base64::engine::general_purpose::STANDARD
                .encode(format!("{PROVINCIAL_USER}:{password}"));
            auth.strip_prefix("Basic ") == Some(want.as_str())
                && header_is(headers, "groupId", SIM_GROUP_ID)
        }
        SimProfile::Igate | SimProfile::Td => {
            if app.profile == SimProfile::Td && !header_is(headers, "tenant", SIM_TENANT) {
                return false;
            }
            let Some(token) = auth.strip_prefix("Bearer ") else {
                return false;
            };
            let max_pages = app.control.knobs().provincial_token_pages;
            let mut tokens = app.tokens.lock().expect("tokens");
            let Some(t) = tokens.get_mut(token) else {
                return false;
            };
            if t.expires <= Instant::now() || max_pages.is_some_and(|m| t.pages >= m) {
                return false;
            }
            t.pages += 1;
            true
        }
    }
}

/// A body that sends `first` (if any) and then fails: the connection is cut mid-reply.
struct Broken {
    first: Option<Bytes>,
    failed: bool,
}

impl futures_core::Stream for Broken {
    type Item = Result<Bytes, std::io::Error>;
    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(b) = self.first.take() {
            return Poll::Ready(Some(Ok(b)));
        }
        if self.failed {
            return Poll::Ready(None);
        }
        self.failed = true;
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated connection reset",
        ))))
    }
}

fn broken(first: Option<Bytes>) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(Broken {
            first,
            failed: false,
        }))
        .expect("valid response")
}

/// One list page, whatever the format: auth, injected faults, rows newest-first.
/// `page` is 0-based; `size` rows per page (`None`: every row, OpenCPS without `end`).
/// Returns the rendered rows and the total, or the reply to send instead.
async fn list_page(
    app: &App,
    headers: &HeaderMap,
    page: u32,
    size: Option<usize>,
) -> Result<(Vec<Value>, usize), Response> {
    app.control.hit("page");
    if !authorised(app, headers) {
        return Err(unauthorized());
    }
    let (fault, anomaly) = {
        let mut k = app.control.knobs();
        if k.provincial_down || k.provincial_fail_from_page.is_some_and(|p| page >= p) {
            return Err((StatusCode::INTERNAL_SERVER_ERROR, "<html>500</html>").into_response());
        }
        let fault = k.take_page_fault(page);
        (
            fault,
            fault.is_none().then(|| k.take_page_anomaly(page)).flatten(),
        )
    };
    let mut garbage = false;
    if let Some(fault) = fault {
        app.control.hit("fault");
        match fault {
            PageFault::GarbageRows => garbage = true,
            PageFault::Status(code) => {
                let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                return Err((code, format!("<html>{code}</html>")).into_response());
            }
            PageFault::TooManyRequests { retry_after_secs } => {
                return Err((
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, retry_after_secs.to_string())],
                    "Too Many Requests",
                )
                    .into_response());
            }
            PageFault::Slow { millis } => tokio::time::sleep(Duration::from_millis(millis)).await,
            PageFault::Reset => return Err(broken(None)),
            PageFault::Truncated => {
                return Err(broken(Some(Bytes::from_static(
                    b"{\"content\": [{\"id\": \"6",
                ))))
            }
            PageFault::InvalidJson => {
                return Err((
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"content\": [,,]",
                )
                    .into_response())
            }
            PageFault::Html200 => {
                return Err((
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "text/html")],
                    "<html><body>Hệ thống đang bảo trì</body></html>",
                )
                    .into_response())
            }
        }
    }
    let (utc, duplicate, hidden, edit) = {
        let k = app.control.knobs();
        (
            k.provincial_utc_offsets,
            k.provincial_duplicate_rows,
            k.provincial_hidden_personal_data,
            k.provincial_row_edit,
        )
    };
    let w = &app.control.world_now(&app.world);
    let order = app.control.order(w);
    let total = order.len();
    let size = size.unwrap_or(total.max(1));
    let start = (page as usize).saturating_mul(size).min(total);
    let end = (start + size).min(total);
    let from = if duplicate && start > 0 {
        start - 1
    } else {
        start
    };
    let habits = w.params.vendor_habits.then(|| habits::carries(app.profile));
    // A reply that contradicts itself: the envelope (the total, the flags) of the full page,
    // fewer rows.
    let end = match anomaly {
        None => end,
        Some(a) => {
            app.control.hit("anomaly");
            match a {
                PageAnomaly::Empty => from,
                PageAnomaly::Short { rows } => (from + rows).min(end),
            }
        }
    };
    let rows = order[from..end]
        .iter()
        .map(|&i| {
            let d = &w.dossiers[i];
            let updated = app.control.updated_at(d);
            let mut row = match (app.profile, habits.as_ref()) {
                (SimProfile::Igate, Some(c)) => render_igate_habits(w, i, d, updated, c),
                (SimProfile::Igate, None) => render_igate(w, d, updated, utc),
                (SimProfile::Opencps, c) => render_opencps(w, i, d, updated, c),
                (SimProfile::Td, c) => render_td(w, i, d, updated, c),
            };
            if hidden {
                if let (Value::Object(row), Value::Object(more)) =
                    (&mut row, hidden_personal_data(d))
                {
                    row.extend(more);
                }
            }
            if let Some(edit) = edit {
                edit(i, &mut row);
            }
            row
        })
        .collect();
    app.control.after_page(w, page, size, &order);
    if garbage {
        return Ok((garbage_rows(rows), total));
    }
    Ok((rows, total))
}

/// The rows of a [`PageFault::GarbageRows`] page: as many as asked, none readable.
fn garbage_rows(rows: Vec<Value>) -> Vec<Value> {
    rows.into_iter()
        .enumerate()
        .map(|(i, mut row)| match i % 5 {
            0 => json!("garbage"),
            1 => json!(i),
            2 => json!({}),
            3 => {
                // Every date unreadable (the id is kept).
                if let Some(o) = row.as_object_mut() {
                    for v in o.values_mut() {
                        if v.as_str().is_some_and(|s| s.contains(':')) {
                            *v = json!("31/02/2026 25:61:00 ±");
                        }
                    }
                }
                row
            }
            _ => json!([null, {"id": null}]),
        })
        .collect()
}

async fn igate_search(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let page: u32 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let size: usize = q
        .get("size")
        .and_then(|p| p.parse().ok())
        .unwrap_or(20)
        .clamp(1, 1000);
    let (rows, total) = match list_page(&app, &headers, page, Some(size)).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let end = ((page as usize + 1) * size).min(total);
    let mut reply = json!({
        "content": rows,
        "number": page,
        "size": size,
        "last": end >= total,
        "numberOfElements": end.saturating_sub(page as usize * size),
    });
    if q.get("spec").map(String::as_str) != Some("slice") {
        reply["totalElements"] = json!(total);
        reply["totalPages"] = json!(total.div_ceil(size));
    }
    Json(reply).into_response()
}

async fn opencps_list(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let start: usize = q.get("start").and_then(|p| p.parse().ok()).unwrap_or(0);
    let end: usize = q.get("end").and_then(|p| p.parse().ok()).unwrap_or(0);
    // `end` missing or 0 returns every row, as the real API does.
    let (page, size) = if end == 0 || end <= start {
        (0, None)
    } else {
        let size = end - start;
        ((start / size) as u32, Some(size))
    };
    match list_page(&app, &headers, page, size).await {
        Ok((rows, total)) => Json(json!({"total": total, "data": rows})).into_response(),
        Err(r) => r,
    }
}

async fn td_list(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let number: u32 = q
        .get("PageNumber")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let size: usize = q
        .get("PageSize")
        .and_then(|p| p.parse().ok())
        .unwrap_or(10)
        .clamp(1, 1000);
    match list_page(&app, &headers, number - 1, Some(size)).await {
        Ok((rows, total)) => {
            let pages = total.div_ceil(size);
            Json(
                json!({"data": rows, "currentPage": number, "totalPages": pages,
                "totalCount": total, "pageSize": size,
                "hasPreviousPage": number > 1, "hasNextPage": (number as usize) < pages,
                "succeeded": true}),
            )
            .into_response()
        }
        Err(r) => r,
    }
}
