//! The national portal simulator: login, `TraCuuHoSo` and `DanhSachHoSo` as docs/domain.md §8
//! describes (and the published scores, `super::scores`), with the tolerances a real adapter
//! demands of a client (status as code or label, `result` or `data`, several date formats,
//! `error_code` as number or string).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::records::NationalRow;
use super::world::World;
use super::{CodeFailure, NationalFault, SimControl, NATIONAL_USER};
use crate::model::LocalTime;

#[derive(Clone)]
struct App {
    world: Arc<World>,
    control: Arc<SimControl>,
    sessions: Arc<AtomicU64>,
}

pub(super) fn router(world: Arc<World>, control: Arc<SimControl>) -> Router {
    let scores = super::scores::router(world.clone(), control.clone());
    let app = App {
        world,
        control,
        sessions: Arc::new(AtomicU64::new(0)),
    };
    Router::new()
        .route("/api/auth", post(login))
        .route("/api/integration", post(integration))
        .with_state(app)
        .merge(scores)
}

/// A small stable hash, to vary the reply shape per dossier deterministically.
fn shape(code: &str) -> u64 {
    code.bytes().fold(1469598103934665603u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1099511628211)
    })
}

fn fmt_date(t: Option<LocalTime>, variant: u64) -> String {
    match t {
        None => String::new(),
        Some(t) if variant % 7 == 3 => t.format("%d/%m/%Y %H:%M:%S").to_string(),
        Some(t) => t.format("%Y%m%d%H%M%S").to_string(),
    }
}

/// Renders a national row the way adapters do, varying per dossier.
pub fn render_row(r: &NationalRow) -> Value {
    let h = shape(&r.code);
    let mut row = json!({
        "MaHoSo": r.code,
        "MaTTHC": r.procedure_code,
        "NgayTiepNhan": fmt_date(r.received_at, h),
        "NgayHenTra": fmt_date(r.due_at, h),
        "DonViXuLy": r.unit_name,
        "MaDonViXuLy": r.unit_code,
    });
    let o = row.as_object_mut().expect("object");
    match h % 3 {
        0 => {
            o.insert("MaTrangThai".into(), r.status.code().to_string().into());
            o.insert("TrangThaiHoSo".into(), r.status.label_vi().into());
        }
        1 => {
            o.insert("TrangThaiHoSo".into(), r.status.code().to_string().into());
        }
        _ => {
            o.insert("TrangThaiHoSo".into(), r.status.label_vi().into());
        }
    }
    if r.finished_at.is_some() {
        o.insert("NgayKetThucXuLy".into(), fmt_date(r.finished_at, h).into());
    }
    if r.returned_at.is_some() {
        o.insert("NgayTra".into(), fmt_date(r.returned_at, h).into());
    }
    row
}

/// The reply of an injected fault, or `None` to answer normally (after a `Slow` wait).
async fn injected(app: &App, service: &str) -> Option<Response> {
    let fault = app.control.knobs().take_national_fault(service)?;
    app.control.hit("national_fault");
    Some(match fault {
        NationalFault::Status(code) => {
            let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (code, format!("<html>{code}</html>")).into_response()
        }
        NationalFault::TooManyRequests { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry_after_secs.to_string())],
            "Too Many Requests",
        )
            .into_response(),
        NationalFault::Slow { millis } => {
            tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
            return None;
        }
        NationalFault::Html200 => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Cổng DVCQG đang bảo trì</body></html>",
        )
            .into_response(),
        NationalFault::InvalidJson => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"error_code\": 0, \"result\": [,,]",
        )
            .into_response(),
        NationalFault::ErrorCode => error(json!("99"), "Lỗi hệ thống, vui lòng thử lại sau"),
    })
}

fn error(code: Value, message: &str) -> Response {
    Json(json!({"error_code": code, "message": message})).into_response()
}

async fn login(
    State(app): State<App>,
    headers: axum::http::HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    app.control.hit("login");
    if app.control.knobs().national_down {
        return (StatusCode::SERVICE_UNAVAILABLE, "<html>503</html>").into_response();
    }
    if let Some(r) = injected(&app, "login").await {
        return r;
    }
    if headers.get("dstcode").and_then(|v| v.to_str().ok()) != Some(super::DSTCODE) {
        return error(json!(-1), "dstcode không hợp lệ");
    }
    let user = body.get("username").and_then(Value::as_str);
    let pass = body.get("password").and_then(Value::as_str);
    let want = app.control.knobs().national_password().to_string();
    if user != Some(NATIONAL_USER) || pass != Some(want.as_str()) {
        return error(json!(1), "Sai tên đăng nhập hoặc mật khẩu");
    }
    let n = app.sessions.fetch_add(1, Ordering::SeqCst) + 1;
    Json(json!({"error_code": 0, "message": "Thành công", "session": format!("sess-{n}")}))
        .into_response()
}

async fn integration(State(app): State<App>, Json(body): Json<Value>) -> Response {
    let service = body
        .get("service")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    app.control.hit(&service);
    let (down, floor, failing, failing_as) = {
        let mut k = app.control.knobs();
        if service == "TraCuuHoSo"
            && k.national_expire_sessions_after
                .is_some_and(|n| app.control.hits("TraCuuHoSo") > n)
        {
            k.national_expire_sessions_after = None;
            k.national_session_floor = app.sessions.load(Ordering::SeqCst);
        }
        let code = body.get("mahoso").and_then(Value::as_str).unwrap_or("");
        (
            k.national_down,
            k.national_session_floor,
            k.national_failing_codes.contains(code),
            k.national_failing_as,
        )
    };
    if down {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "<html>503 Service Unavailable</html>",
        )
            .into_response();
    }
    if let Some(r) = injected(&app, &service).await {
        return r;
    }
    let session_no = body
        .get("session")
        .and_then(Value::as_str)
        .and_then(|s| s.strip_prefix("sess-"))
        .and_then(|s| s.parse::<u64>().ok());
    match session_no {
        Some(n) if n > floor && n <= app.sessions.load(Ordering::SeqCst) => {}
        _ => return error(json!("401"), "Phiên làm việc không hợp lệ hoặc đã hết hạn"),
    }
    if body.get("madonvi").and_then(Value::as_str) != Some(super::MADONVI) {
        return error(json!("2"), "Mã đơn vị không hợp lệ");
    }
    match service.as_str() {
        "TraCuuHoSo" => {
            let Some(code) = body.get("mahoso").and_then(Value::as_str) else {
                return error(json!(3), "Thiếu tham số mahoso");
            };
            if failing {
                app.control.hit(&format!("failing {code}"));
                let status = match failing_as {
                    CodeFailure::Status(s) => s,
                    CodeFailure::Hang { millis } => {
                        tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
                        504
                    }
                };
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                return (status, format!("<html>{status}</html>")).into_response();
            }
            let rows: Vec<Value> = app
                .control
                .world_now(&app.world)
                .national_lookup(code)
                .map(render_row)
                .into_iter()
                .collect();
            let key = if shape(code) % 2 == 0 {
                "result"
            } else {
                "data"
            };
            let ok_code = if shape(code) % 5 == 0 {
                json!("00")
            } else {
                json!(0)
            };
            Json(json!({"error_code": ok_code, "message": "Thành công", key: rows})).into_response()
        }
        "DanhSachHoSo" => list(&app, &body),
        other => error(json!(404), &format!("Dịch vụ {other} không được hỗ trợ")),
    }
}

/// `DanhSachHoSo`: the national rows of unit `donViXuLy` received from `ngayNhan1` to
/// `ngayNhan2` (`yyyy-MM-dd`, inclusive), in code order.
fn list(app: &App, body: &Value) -> Response {
    if app.control.knobs().national_list_failing {
        return (StatusCode::INTERNAL_SERVER_ERROR, "<html>500</html>").into_response();
    }
    let param = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("");
    let day = |k: &str| chrono::NaiveDate::parse_from_str(param(k), "%Y-%m-%d").ok();
    let unit = param("donViXuLy");
    let (Some(from), Some(to)) = (day("ngayNhan1"), day("ngayNhan2")) else {
        return error(
            json!(3),
            "Tham số ngayNhan1/ngayNhan2 không hợp lệ (yyyy-MM-dd)",
        );
    };
    if unit.is_empty() {
        return error(json!(3), "Thiếu tham số donViXuLy");
    }
    let world = app.control.world_now(&app.world);
    let mut rows: Vec<&NationalRow> = world
        .national
        .values()
        .filter(|r| r.unit_code == unit)
        .filter(|r| {
            r.received_at
                .is_some_and(|t| t.date() >= from && t.date() <= to)
        })
        .collect();
    rows.sort_by(|a, b| a.code.cmp(&b.code));
    let rows: Vec<Value> = rows.into_iter().map(render_row).collect();
    Json(json!({"error_code": 0, "message": "Thành công", "result": rows})).into_response()
}
