//! The provincial portal simulator, profile `igate` (VNPT iGate v2): Keycloak password grant
//! with expiring tokens, and the Spring-paged dossier search sorted by `updatedDate` desc.
//! Rows carry applicant personal data, as the real system's do: the client must drop it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::world::{SimDossier, World};
use super::{SimControl, PROVINCIAL_PASSWORD, PROVINCIAL_USER};
use crate::model::{vn_offset, LocalTime, Status};

/// Token lifetime the simulator grants.
pub const TOKEN_SECONDS: u64 = 300;

#[derive(Clone)]
struct App {
    world: Arc<World>,
    control: Arc<SimControl>,
    /// Dossier indices sorted newest-first by last modification.
    order: Arc<Vec<usize>>,
    tokens: Arc<Mutex<HashMap<String, Instant>>>,
    counter: Arc<AtomicU64>,
}

pub fn router(world: Arc<World>, control: Arc<SimControl>) -> Router {
    let mut order: Vec<usize> = (0..world.dossiers.len()).collect();
    order.sort_by(|&a, &b| {
        let (da, db) = (&world.dossiers[a], &world.dossiers[b]);
        db.updated_at()
            .cmp(&da.updated_at())
            .then_with(|| da.id.cmp(&db.id))
    });
    let app = App {
        world,
        control,
        order: Arc::new(order),
        tokens: Arc::new(Mutex::new(HashMap::new())),
        counter: Arc::new(AtomicU64::new(0)),
    };
    Router::new()
        .route(
            "/auth/realms/digo/protocol/openid-connect/token",
            post(token),
        )
        .route("/pa/dossier/search", get(search))
        .with_state(app)
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

fn iso(t: Option<LocalTime>) -> Value {
    match t {
        None => Value::Null,
        Some(t) => {
            let dt = t
                .and_local_timezone(vn_offset())
                .single()
                .expect("fixed offset");
            dt.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string().into()
        }
    }
}

/// Renders one dossier as an iGate search row.
pub fn render_row(w: &World, d: &SimDossier) -> Value {
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
        "appliedDate": iso(Some(d.applied_at)),
        "acceptedDate": iso(d.received_at),
        "appointmentDate": iso(d.due_at),
        "completedDate": iso(d.finished_at),
        "returnedDate": iso(d.returned_at),
        "updatedDate": iso(Some(d.updated_at())),
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

async fn token(State(app): State<App>, Form(form): Form<HashMap<String, String>>) -> Response {
    app.control.hit("token");
    if app.control.knobs().provincial_down {
        return (StatusCode::SERVICE_UNAVAILABLE, "<html>503</html>").into_response();
    }
    let ok = match form.get("grant_type").map(String::as_str) {
        Some("password") => {
            form.get("username").map(String::as_str) == Some(PROVINCIAL_USER)
                && form.get("password").map(String::as_str) == Some(PROVINCIAL_PASSWORD)
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
    let n = app.counter.fetch_add(1, Ordering::SeqCst);
    let access = format!("access-{n}");
    app.tokens.lock().expect("tokens").insert(
        access.clone(),
        Instant::now() + Duration::from_secs(TOKEN_SECONDS),
    );
    Json(json!({"access_token": access, "expires_in": TOKEN_SECONDS,
        "refresh_token": format!("refresh-{n}"), "token_type": "Bearer"}))
    .into_response()
}

async fn search(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    app.control.hit("page");
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let valid = bearer.is_some_and(|t| {
        app.tokens
            .lock()
            .expect("tokens")
            .get(&t)
            .is_some_and(|exp| *exp > Instant::now())
    });
    if !valid {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "unauthorized"})),
        )
            .into_response();
    }
    let page: u32 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let size: usize = q
        .get("size")
        .and_then(|p| p.parse().ok())
        .unwrap_or(20)
        .clamp(1, 1000);
    {
        let k = app.control.knobs();
        if k.provincial_down || k.provincial_fail_from_page.is_some_and(|p| page >= p) {
            return (StatusCode::INTERNAL_SERVER_ERROR, "<html>500</html>").into_response();
        }
    }
    let total = app.order.len();
    let start = (page as usize).saturating_mul(size).min(total);
    let end = (start + size).min(total);
    let rows: Vec<Value> = app.order[start..end]
        .iter()
        .map(|&i| render_row(&app.world, &app.world.dossiers[i]))
        .collect();
    let mut reply = json!({
        "content": rows,
        "number": page,
        "size": size,
        "last": end >= total,
        "numberOfElements": end - start,
    });
    if q.get("spec").map(String::as_str) != Some("slice") {
        reply["totalElements"] = json!(total);
        reply["totalPages"] = json!(total.div_ceil(size));
    }
    Json(reply).into_response()
}
