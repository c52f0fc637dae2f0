//! The published 766 scores, served by the national simulator in both generations of the API
//! (docs/domain.md §3, "Published and recalculated scores"), **computed from the world's
//! national view**: for month M each
//! unit's counts are the national rows of that unit judged by the national rule
//! ([`timeliness::judge`], period end = M's end or the world's now), counted as
//! [`scoring::counts_in`] says; score = 20 × good ÷ counted. The province's row is all units
//! together.
//!
//! The portal knows every push it got (`NationalRow::history`, which `TraCuuHoSo` does not
//! return): each status with its time, and the due date then. Its verdict on a row
//! ([`judge_row`]) reads them exactly, as tthc-sync reads a history ([`facts::derive`]): a
//! terminal dossier with no finish time ends when the portal got that status, an unanswered
//! supplement request ends at the request, completed and open supplement and payment pauses
//! are subtracted (unless the due date was moved for them), more than one supplement request
//! is overdue, and a row with no due date is judged by its procedure's statutory time.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::records::NationalRow;
use super::world::World;
use super::SimControl;
use crate::calendar::{Calendar, CalendarError};
use crate::facts::{self, Bound, Observation};
use crate::model::{DossierCore, LocalTime, YearMonth};
use crate::scoring::{self, Tally};
use crate::timeliness::{self, Judgement, TimelinessInput, Verdict};

/// The simulated province's legacy `p_tinh_id` (Điện Biên's province code).
pub const PROVINCE_ID: i64 = 11;
/// The simulated province's 2026 `rootDepartmentId`.
pub const ROOT_DEPARTMENT_ID: &str = "5b0e2c7a-3f41-4d8e-9a62-0c1d2e3f4a5b";
const PROVINCE_NAME: &str = "Tỉnh Điện Biên";

/// The canonical core of a national row (what a look-up would have parsed).
fn core_of(r: &NationalRow) -> DossierCore {
    DossierCore {
        code: r.code.clone(),
        procedure_code: Some(r.procedure_code.clone()),
        agency_code: Some(r.unit_code.clone()),
        status: Some(r.status),
        status_raw: r.status.code().to_string(),
        received_at: r.received_at,
        due_at: r.due_at,
        finished_at: r.finished_at,
        returned_at: r.returned_at,
    }
}

/// One unit's month, as the portal publishes it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct UnitMonth {
    pub tally: Tally,
    /// Sum of (end − received) in days over the dossiers closed in the month.
    pub processing_days: f64,
}

impl UnitMonth {
    fn add(&mut self, v: Verdict, days: Option<f64>) {
        self.tally.add(v);
        if matches!(v, Verdict::Early | Verdict::OnTime | Verdict::Late) {
            self.processing_days += days.unwrap_or(0.0);
        }
    }
    fn merge(&mut self, o: &UnitMonth) {
        self.tally.merge(&o.tally);
        self.processing_days += o.processing_days;
    }
    pub fn completed(&self) -> u64 {
        self.tally.early + self.tally.on_time + self.tally.late
    }
    pub fn overdue(&self) -> u64 {
        self.tally.late + self.tally.in_process_overdue
    }
}

/// What the portal's own records say of a row besides its core: status time, pauses and
/// supplement requests, read exactly from its pushes (`NationalRow::history`) with the rule's
/// own reading of a history ([`facts::derive`]: a due date moved during a pause or as it ends
/// credits the pause, which is then not subtracted). A row without pushes (made up by the
/// world) has only `status_at`: the end for 7 and 8, and for an unanswered 5 the request.
fn portal_facts(r: &NationalRow) -> scoring::SideFacts {
    if r.history.is_empty() {
        return scoring::SideFacts {
            status_since: r.status_at.filter(|_| {
                r.status.is_terminal() || r.status == crate::model::Status::SupplementRequested
            }),
            pauses: Vec::new(),
            supplement_requests: u32::from(r.status == crate::model::Status::SupplementRequested),
        };
    }
    let observations: Vec<Observation> = r
        .history
        .iter()
        .map(|&(at, status, due_at)| Observation {
            observed_at: at,
            previous_observation: None,
            status: Some(status),
            changed_at: Some(at),
            due_at,
        })
        .collect();
    let f = facts::derive(&observations);
    scoring::SideFacts {
        status_since: f.status_since().map(|w| w.latest),
        pauses: f.clock_pauses(Bound::Estimate),
        supplement_requests: f.supplement_requests,
    }
}

/// The portal's verdict on one of its rows for the period ending at `period_end`: the national
/// rule ([`timeliness::judge`]) over the row and the portal's own records of it (its pushes:
/// status times, pauses, supplement requests, exact), the statutory time when the row has no
/// due date. What the published score counts.
pub fn judge_row(
    row: &NationalRow,
    period_end: LocalTime,
    cal: &Calendar,
) -> Result<Judgement, CalendarError> {
    let core = core_of(row);
    let f = portal_facts(row);
    timeliness::judge(
        &TimelinessInput {
            core: &core,
            status_since: f.status_since,
            pauses: &f.pauses,
            supplement_requests: f.supplement_requests,
            statutory: scoring::statutory_time(&core, cal),
        },
        period_end,
        cal,
    )
}

/// Each unit's month (by unit code) from the world's national view.
fn unit_months(
    world: &World,
    m: YearMonth,
    cal: &Calendar,
) -> Result<BTreeMap<String, UnitMonth>, CalendarError> {
    let end = scoring::period_end(m, world.params.now);
    let mut out: BTreeMap<String, UnitMonth> = world
        .agencies
        .iter()
        .map(|a| (a.code.clone(), UnitMonth::default()))
        .collect();
    for row in world.national.values() {
        let j = judge_row(row, end, cal)?;
        if scoring::counts_in(&j, row.received_at, m) {
            let days = match (j.end, row.received_at) {
                (Some(e), Some(r)) => Some((e - r).num_minutes() as f64 / 1440.0),
                _ => None,
            };
            out.entry(row.unit_code.clone())
                .or_default()
                .add(j.verdict, days);
        }
    }
    Ok(out)
}

fn province_of(units: &BTreeMap<String, UnitMonth>) -> UnitMonth {
    let mut p = UnitMonth::default();
    for u in units.values() {
        p.merge(u);
    }
    p
}

/// A stable UUID-shaped id for a unit (the 2026 ids are opaque UUIDs).
fn unit_uuid(code: &str) -> String {
    let h = |salt: u64| {
        code.bytes().fold(1469598103934665603u64 ^ salt, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(1099511628211)
        })
    };
    let (a, b) = (h(1), h(2));
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

#[derive(Clone)]
struct App {
    world: Arc<World>,
    control: Arc<SimControl>,
    cal: Arc<Calendar>,
}

pub(super) fn router(world: Arc<World>, control: Arc<SimControl>) -> Router {
    let app = App {
        world,
        control,
        cal: Arc::new(Calendar::builtin()),
    };
    Router::new()
        .route(crate::scores::LEGACY_PATH, post(legacy))
        .route(crate::scores::PROGRESS_TREE_PATH, post(progress_tree))
        .with_state(app)
}

fn int_of(v: Option<&Value>) -> Option<i64> {
    crate::scores::integer(v)
}

fn month_of(year: Option<i64>, month: Option<i64>) -> Option<YearMonth> {
    YearMonth::new(i32::try_from(year?).ok()?, u32::try_from(month?).ok()?)
}

fn page<T: Clone>(items: &[T], page: i64, size: i64) -> Vec<T> {
    let size = size.clamp(1, 1000) as usize;
    let start = (page.max(1) as usize - 1) * size;
    items.iter().skip(start).take(size).cloned().collect()
}

fn server_error(e: impl std::fmt::Display) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("<html>{e}</html>"),
    )
        .into_response()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

async fn legacy(State(app): State<App>, Form(form): Form<HashMap<String, String>>) -> Response {
    app.control.hit("report_tinh_766_service");
    if app.control.knobs().national_down {
        return (StatusCode::SERVICE_UNAVAILABLE, "<html>503</html>").into_response();
    }
    let Some(params) = form
        .get("params")
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
    else {
        return Json(json!({"error": "Thiếu tham số params"})).into_response();
    };
    if params.get("service").and_then(Value::as_str) != Some("report_tinh_766_service") {
        return Json(json!({"error": "Dịch vụ không được hỗ trợ"})).into_response();
    }
    let Some(m) = month_of(int_of(params.get("p_nam")), int_of(params.get("p_thang"))) else {
        return Json(json!({"error": "Tham số thời gian không hợp lệ"})).into_response();
    };
    let world = app.control.world_now(&app.world);
    let units = match unit_months(&world, m, &app.cal) {
        Ok(u) => u,
        Err(e) => return server_error(e),
    };
    let page_no = int_of(params.get("pageIndex")).unwrap_or(1);
    let size = int_of(params.get("pageSize")).unwrap_or(100);
    // Numbers go out as strings on every other row, as the real service does now and then.
    let n = |x: Option<f64>, as_string: bool| match x {
        None => json!(""),
        Some(x) if as_string => json!(format!("{}", round2(x))),
        Some(x) => json!(round2(x)),
    };
    let others =
        |tdgq: Option<f64>| [16.5, 9.0, 11.5, 17.0, 20.0].iter().sum::<f64>() + tdgq.unwrap_or(0.0);
    let rank = |mut rows: Vec<(i64, String, Option<String>, Option<f64>)>| {
        rows.sort_by(|a, b| {
            b.3.unwrap_or(-1.0)
                .total_cmp(&a.3.unwrap_or(-1.0))
                .then(a.0.cmp(&b.0))
        });
        rows.into_iter()
            .enumerate()
            .map(|(i, (id, name, code, tdgq))| {
                let s = i % 2 == 0;
                let mut row = json!({
                    "ID": if s { json!(id.to_string()) } else { json!(id) },
                    "TEN": name, "ROW_STT": if s { json!((i + 1).to_string()) } else { json!(i + 1) },
                    "CKMB": n(Some(16.5), s), "TDGQ": n(tdgq, s), "TTTT": n(Some(9.0), s),
                    "CLGQ": n(Some(11.5), s), "MDHL": n(Some(17.0), s), "MDSH": n(Some(20.0), s),
                    "TONG_SCORE": n(Some(others(tdgq)), s),
                });
                if let Some(code) = code {
                    row["MA_COQUAN"] = json!(code);
                }
                row
            })
            .collect::<Vec<Value>>()
    };
    let rows = match int_of(params.get("p_tinh_id")) {
        Some(0) => rank(vec![
            (1, "Thành phố Hà Nội".into(), None, Some(19.91)),
            (
                PROVINCE_ID,
                PROVINCE_NAME.into(),
                None,
                province_of(&units).tally.score(),
            ),
            (79, "Thành phố Hồ Chí Minh".into(), None, Some(19.64)),
        ]),
        Some(PROVINCE_ID) => rank(
            world
                .agencies
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let score = units.get(&a.code).and_then(|u| u.tally.score());
                    (1000 + i as i64, a.name.clone(), Some(a.code.clone()), score)
                })
                .collect(),
        ),
        _ => Vec::new(),
    };
    Json(Value::Array(page(&rows, page_no, size))).into_response()
}

fn node(
    id: &str,
    name: &str,
    code: Option<&str>,
    u: &UnitMonth,
    prev: Option<f64>,
    alt: bool,
) -> Value {
    let t = &u.tally;
    let score = t.score();
    let ratio = score.map(|s| s * 5.0);
    let avg = (u.completed() > 0).then(|| u.processing_days / u.completed() as f64);
    let mut v = json!({
        "totalReceived": t.counted, "totalOnTime": t.good(), "totalOverdue": u.overdue(),
        "totalCompleted": u.completed(), "avgProcessingDays": avg, "ratio": ratio,
        "score": score, "maxScore": 20, "scoreDelta": match (score, prev) {
            (Some(s), Some(p)) => s - p,
            _ => 0.0,
        },
    });
    let (id_key, name_key) = if alt {
        ("departmentId", "departmentName")
    } else {
        ("id", "name")
    };
    v[id_key] = json!(id);
    v[name_key] = json!(name);
    if let Some(c) = code {
        v["code"] = json!(c);
    }
    v
}

async fn progress_tree(State(app): State<App>, Json(body): Json<Value>) -> Response {
    app.control.hit("dvc-progress-tree");
    if app.control.knobs().national_down {
        return (StatusCode::SERVICE_UNAVAILABLE, "<html>503</html>").into_response();
    }
    let reply = |v: Value| (StatusCode::CREATED, Json(v)).into_response();
    if body.get("rootDepartmentId").and_then(Value::as_str) != Some(ROOT_DEPARTMENT_ID) {
        return reply(json!({"code": "NOT_FOUND", "message": "Không tìm thấy đơn vị gốc"}));
    }
    if body.get("timeType").and_then(Value::as_str) != Some("month") {
        return reply(json!({"code": "BAD_REQUEST", "message": "Chỉ hỗ trợ timeType month"}));
    }
    let Some(m) = month_of(int_of(body.get("year")), int_of(body.get("month"))) else {
        return reply(json!({"code": "BAD_REQUEST", "message": "Tháng không hợp lệ"}));
    };
    let world = app.control.world_now(&app.world);
    let (units, before) = match (
        unit_months(&world, m, &app.cal),
        unit_months(&world, m.previous(), &app.cal),
    ) {
        (Ok(u), Ok(b)) => (u, b),
        (Err(e), _) | (_, Err(e)) => return server_error(e),
    };
    let children: Vec<Value> = world
        .agencies
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let u = units.get(&a.code).copied().unwrap_or_default();
            let prev = before.get(&a.code).and_then(|b| b.tally.score());
            node(
                &unit_uuid(&a.code),
                &a.name,
                Some(&a.code),
                &u,
                prev,
                i % 2 == 1,
            )
        })
        .collect();
    let parent = node(
        ROOT_DEPARTMENT_ID,
        PROVINCE_NAME,
        None,
        &province_of(&units),
        province_of(&before).tally.score(),
        false,
    );
    let page_no = int_of(body.get("currentPage")).unwrap_or(1);
    let size = int_of(body.get("pageSize")).unwrap_or(100);
    reply(json!({"code": "OK", "message": "Thành công", "data": {
        "parent": parent, "children": page(&children, page_no, size),
        "total": children.len(),
    }}))
}
