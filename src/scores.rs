//! The portal's published 766 scores (docs/domain.md §3): both generations of the API,
//! chosen by `[scores] api`, parsed by pure functions tolerant of numbers sent as strings and
//! of missing keys, and stored row by row with the raw JSON (`published_score`).
//!
//! - `legacy` (to 2025): `POST <portal>/jsp/rest.jsp`, form field `params` holding the JSON of
//!   `report_tinh_766_service`. Two calls per month: `p_tinh_id = 0` (the provinces' ranking,
//!   stored with `unit_key = "tinh:<ID>"`, the province's own row among them) and
//!   `p_tinh_id = <province_id>` (its units, `unit_key = <ID>`).
//! - `progress_tree` (2026): `POST <portal>/api/v1/reporting/evaluation/dvc-progress-tree`,
//!   JSON body; reply HTTP 201 `{"code":"OK","data":{"parent":{..},"children":[..]}}`. The
//!   parent is the province, the children its units; ids are `id` or `departmentId`, names
//!   `name` or `departmentName`.
//!
//! A month is fetched completely before anything is stored (one transaction): a failed call
//! stores nothing.

use serde::Serialize;
use serde_json::{json, Value};

use crate::config::{Config, ScoresApi, ScoresConfig};
use crate::http::{Body, HttpClient, HttpError, Request};
use crate::model::{LocalTime, YearMonth};
use crate::store::{Store, StoreError};

/// One published row (defined in the store, beside the table that keeps it).
pub use crate::store::PublishedScore;

/// Path of the legacy report service, appended to `scores.portal_url`.
pub const LEGACY_PATH: &str = "/jsp/rest.jsp";
/// Path of the 2026 progress tree, appended to `scores.portal_url`.
pub const PROGRESS_TREE_PATH: &str = "/api/v1/reporting/evaluation/dvc-progress-tree";
/// Pages read at most per call kind (a province has far fewer units).
const MAX_PAGES: u32 = 50;

/// A number that may arrive as a JSON number or a string (`"19.5"`, `"19,5"`, `""` = null).
pub fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                None
            } else {
                s.replace(',', ".")
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
            }
        }
        _ => None,
    }
}

/// A whole number that may arrive as a number or a string.
pub fn integer(v: Option<&Value>) -> Option<i64> {
    let f = number(v)?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// A text field; numbers are written out; `""` is null.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn first_text(row: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| text(row.get(*k)))
}

/// The rows of a legacy reply: a JSON array (also accepted: an object whose `data`, `result`
/// or `rows` is the array).
fn legacy_rows(reply: &Value) -> Result<&Vec<Value>, String> {
    match reply {
        Value::Array(a) => Ok(a),
        Value::Object(o) => ["data", "result", "rows"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_array))
            .ok_or_else(|| {
                let msg = text(o.get("message")).unwrap_or_default();
                format!("reply is an object without a row array {msg}")
                    .trim()
                    .to_string()
            }),
        Value::Null => Err("empty reply".into()),
        _ => Err("reply is not a JSON array".into()),
    }
}

/// Reads one legacy `report_tinh_766_service` reply. `provinces` = the reply is the provinces'
/// ranking (`p_tinh_id = 0`); `province_id` marks the province's own row in it. Rows with no
/// usable key are skipped and counted in the second value.
pub fn parse_legacy(
    reply: &Value,
    ym: YearMonth,
    provinces: bool,
    province_id: Option<i64>,
) -> Result<(Vec<PublishedScore>, usize), String> {
    let rows = legacy_rows(reply)?;
    let mut out = Vec::with_capacity(rows.len());
    let mut skipped = 0;
    for row in rows {
        let Some(id) = row
            .is_object()
            .then(|| first_text(row, &["ID", "MA_COQUAN", "TEN"]))
            .flatten()
        else {
            skipped += 1;
            continue;
        };
        let is_province =
            provinces && province_id.is_some_and(|p| integer(row.get("ID")) == Some(p));
        out.push(PublishedScore {
            api: ScoresApi::Legacy.as_str().into(),
            year: ym.year,
            month: ym.month,
            unit_key: if provinces { format!("tinh:{id}") } else { id },
            unit_code: text(row.get("MA_COQUAN")),
            unit_name: text(row.get("TEN")),
            is_province,
            total_received: None,
            total_on_time: None,
            total_overdue: None,
            total_completed: None,
            tdgq_score: number(row.get("TDGQ")),
            max_score: Some(20.0),
            total_score: number(row.get("TONG_SCORE")),
            rank: integer(row.get("ROW_STT")),
            raw_json: row.to_string(),
        });
    }
    Ok((out, skipped))
}

fn tree_node(node: &Value, ym: YearMonth, is_province: bool) -> Option<PublishedScore> {
    let name = first_text(node, &["name", "departmentName"]);
    let code = first_text(node, &["code", "departmentCode"]);
    let key = first_text(node, &["id", "departmentId"])
        .or_else(|| code.clone())
        .or_else(|| name.clone())?;
    Some(PublishedScore {
        api: ScoresApi::ProgressTree.as_str().into(),
        year: ym.year,
        month: ym.month,
        unit_key: key,
        unit_code: code,
        unit_name: name,
        is_province,
        total_received: integer(node.get("totalReceived")),
        total_on_time: integer(node.get("totalOnTime")),
        total_overdue: integer(node.get("totalOverdue")),
        total_completed: integer(node.get("totalCompleted")),
        tdgq_score: number(node.get("score")),
        max_score: number(node.get("maxScore")),
        total_score: None,
        rank: None,
        raw_json: node.to_string(),
    })
}

/// One page of a 2026 `dvc-progress-tree` reply.
#[derive(Clone, Debug, PartialEq)]
pub struct TreePage {
    /// The province's node (absent on some pages).
    pub parent: Option<PublishedScore>,
    /// The province's units on this page.
    pub children: Vec<PublishedScore>,
    /// Children in the reply, including skipped ones (for paging).
    pub children_in_reply: usize,
    /// Nodes with no id, code or name.
    pub skipped: usize,
}

/// Reads one `dvc-progress-tree` reply (HTTP `status`, 200 or 201).
pub fn parse_progress_tree(status: u16, reply: &Value, ym: YearMonth) -> Result<TreePage, String> {
    if !(200..300).contains(&status) {
        return Err(format!(
            "HTTP {status}: {}",
            text(reply.get("message")).unwrap_or_default()
        ));
    }
    let code = text(reply.get("code"));
    if code
        .as_deref()
        .is_some_and(|c| !c.eq_ignore_ascii_case("ok"))
    {
        return Err(format!(
            "code {}: {}",
            code.unwrap_or_default(),
            text(reply.get("message")).unwrap_or_default()
        ));
    }
    let data = match reply.get("data") {
        Some(d @ Value::Object(_)) => d,
        _ => return Err("reply has no `data` object".into()),
    };
    let mut skipped = 0;
    let parent = match data.get("parent") {
        Some(p @ Value::Object(_)) => {
            let node = tree_node(p, ym, true);
            skipped += usize::from(node.is_none());
            node
        }
        _ => None,
    };
    let raw_children = match data.get("children") {
        Some(Value::Array(a)) => a.as_slice(),
        None | Some(Value::Null) => &[],
        Some(_) => return Err("`data.children` is not an array".into()),
    };
    let mut children = Vec::with_capacity(raw_children.len());
    for c in raw_children {
        match c.is_object().then(|| tree_node(c, ym, false)).flatten() {
            Some(n) => children.push(n),
            None => skipped += 1,
        }
    }
    Ok(TreePage {
        parent,
        children,
        children_in_reply: raw_children.len(),
        skipped,
    })
}

/// Why the published scores of a month could not be fetched or stored (nothing is stored).
#[derive(Debug, thiserror::Error)]
pub enum ScoresError {
    /// `[scores]` is absent or invalid; the message names the key.
    #[error("config: {0}")]
    Config(String),
    /// A call failed under the HTTP policy (transport, status, retries spent, breaker open).
    #[error("published scores: {0}")]
    Http(#[from] HttpError),
    /// The portal answered, but not with what the API should return.
    #[error("published scores: {call}: unexpected reply: {message}")]
    Reply {
        /// The call: `report_tinh_766_service` or `dvc-progress-tree`.
        call: String,
        /// What was wrong (HTTP status, the portal's code and message, a missing key).
        message: String,
    },
    /// Storing the rows failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The published-score client, under the shared HTTP policy.
struct ScoresClient {
    http: HttpClient,
    cfg: ScoresConfig,
}

impl ScoresClient {
    fn new(cfg: &ScoresConfig) -> Result<ScoresClient, ScoresError> {
        Ok(ScoresClient {
            http: HttpClient::new(&crate::http::HttpPolicy {
                max_body_bytes: (cfg.http.max_body_bytes)
                    .or(Some(crate::http::LIST_MAX_BODY_BYTES)),
                ..cfg.http.clone()
            })?,
            cfg: cfg.clone(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.cfg.portal_url.trim_end_matches('/'), path)
    }

    async fn legacy_page(
        &self,
        tinh_id: i64,
        ym: YearMonth,
        page: u32,
    ) -> Result<Value, ScoresError> {
        let params = json!({
            "type": "ref", "service": "report_tinh_766_service",
            "p_nam": ym.year.to_string(), "p_6thang": 0, "p_quy": 0, "p_thang": ym.month,
            "p_tinh_id": tinh_id, "p_loaidonvi": self.cfg.legacy_unit_type, "loaichitieu": 0,
            "pageIndex": page, "pageSize": self.cfg.page_size,
        });
        let req = Request {
            method: reqwest::Method::POST,
            url: self.url(LEGACY_PATH),
            headers: vec![("Accept".into(), "application/json".into())],
            body: Body::Form(vec![("params".into(), params.to_string())]),
            label: "report_tinh_766_service".into(),
            key: None,
        };
        let reply = self.http.send_json(&req).await?;
        if reply.status != 200 {
            return Err(ScoresError::Reply {
                call: req.label,
                message: format!("HTTP {}", reply.status),
            });
        }
        Ok(reply.value)
    }

    /// Every row of one legacy listing (`tinh_id` 0 = the provinces), all pages.
    async fn legacy_all(
        &self,
        tinh_id: i64,
        ym: YearMonth,
    ) -> Result<(Vec<PublishedScore>, usize), ScoresError> {
        let mut out = Vec::new();
        let mut skipped = 0;
        for page in 1..=MAX_PAGES {
            let v = self.legacy_page(tinh_id, ym, page).await?;
            let in_reply = legacy_rows(&v).map(Vec::len).unwrap_or(0);
            let (rows, s) =
                parse_legacy(&v, ym, tinh_id == 0, self.cfg.province_id).map_err(|message| {
                    ScoresError::Reply {
                        call: "report_tinh_766_service".into(),
                        message,
                    }
                })?;
            out.extend(rows);
            skipped += s;
            if in_reply < self.cfg.page_size as usize {
                break;
            }
        }
        Ok((out, skipped))
    }

    async fn tree_page(&self, ym: YearMonth, page: u32) -> Result<TreePage, ScoresError> {
        let req = Request {
            method: reqwest::Method::POST,
            url: self.url(PROGRESS_TREE_PATH),
            headers: vec![("Accept".into(), "application/json".into())],
            body: Body::Json(json!({
                "timeType": "month", "year": ym.year, "month": ym.month,
                "rootDepartmentId": self.cfg.root_department_id.clone().unwrap_or_default(),
                "currentPage": page, "pageSize": self.cfg.page_size,
            })),
            label: "dvc-progress-tree".into(),
            key: None,
        };
        let reply = self.http.send_json(&req).await?;
        parse_progress_tree(reply.status, &reply.value, ym).map_err(|message| ScoresError::Reply {
            call: req.label,
            message,
        })
    }

    /// Every row published for `ym`: the province's and its units'. Fails as a whole.
    async fn fetch(&self, ym: YearMonth) -> Result<(Vec<PublishedScore>, usize), ScoresError> {
        match self.cfg.api() {
            ScoresApi::Legacy => {
                let id = self.cfg.province_id.ok_or_else(|| {
                    ScoresError::Config("scores.province_id is required by api = \"legacy\"".into())
                })?;
                let (mut rows, s1) = self.legacy_all(0, ym).await?;
                let (units, s2) = self.legacy_all(id, ym).await?;
                rows.extend(units);
                Ok((rows, s1 + s2))
            }
            ScoresApi::ProgressTree => {
                let mut rows = Vec::new();
                let mut skipped = 0;
                for page in 1..=MAX_PAGES {
                    let p = self.tree_page(ym, page).await?;
                    skipped += p.skipped;
                    if let Some(parent) = p.parent {
                        if !rows.iter().any(|r: &PublishedScore| r.is_province) {
                            rows.push(parent);
                        }
                    }
                    rows.extend(p.children);
                    if p.children_in_reply < self.cfg.page_size as usize {
                        break;
                    }
                }
                Ok((rows, skipped))
            }
        }
    }
}

/// What [`fetch_scores`] stored.
#[derive(Clone, Debug, Serialize)]
pub struct ScoresReport {
    /// The API called: `legacy` or `progress_tree`.
    pub api: &'static str,
    /// The month fetched, `YYYY-MM`.
    pub month: String,
    /// Rows stored (province and units; legacy: also the other provinces).
    pub rows: usize,
    /// Rows skipped because they named no unit.
    pub skipped: usize,
    /// The province's own row, when the portal published one.
    pub province: Option<PublishedScore>,
}

/// Fetches the published rows of a month without storing them: the rows read (the
/// province's own marked `is_province`) and how many were skipped as unreadable.
pub async fn fetch_published(
    sc: &ScoresConfig,
    month: YearMonth,
) -> Result<(Vec<PublishedScore>, usize), ScoresError> {
    sc.validate()
        .map_err(|e| ScoresError::Config(e.to_string()))?;
    ScoresClient::new(sc)?.fetch(month).await
}

/// Fetches the published scores of `month` with the `[scores]` config and stores every row
/// (upsert by api, year, month, unit). The daemon can call this as a job.
pub async fn fetch_scores(
    store: &mut Store,
    cfg: &Config,
    month: YearMonth,
) -> Result<ScoresReport, ScoresError> {
    let sc = cfg.scores.as_ref().ok_or_else(|| {
        ScoresError::Config(
            "no [scores] section: add one with api, portal_url and province_id or \
             root_department_id (see config/tthc-sync.example.toml)"
                .into(),
        )
    })?;
    let (rows, skipped) = fetch_published(sc, month).await?;
    let fetched_at: LocalTime = crate::clock::local_now();
    store.store_published_scores(&rows, fetched_at)?;
    let province = rows.iter().find(|r| r.is_province).cloned();
    tracing::info!(target: "scores", api = sc.api().as_str(), month = %month.iso(),
        rows = rows.len(), skipped, province_tdgq = ?province.as_ref().and_then(|p| p.tdgq_score),
        "published scores stored");
    Ok(ScoresReport {
        api: sc.api().as_str(),
        month: month.iso(),
        rows: rows.len(),
        skipped,
        province,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aug() -> YearMonth {
        YearMonth::new(2024, 8).unwrap()
    }

    #[test]
    fn numbers_as_numbers_or_strings() {
        for (v, want) in [
            (json!(19.5), Some(19.5)),
            (json!("19.5"), Some(19.5)),
            (json!(" 19,5 "), Some(19.5)),
            (json!(""), None),
            (json!(null), None),
            (json!("n/a"), None),
            (json!([1]), None),
        ] {
            assert_eq!(number(Some(&v)), want, "{v}");
        }
        assert_eq!(number(None), None);
        assert_eq!(integer(Some(&json!("12"))), Some(12));
        assert_eq!(integer(Some(&json!(12.0))), Some(12));
        assert_eq!(integer(Some(&json!("12.5"))), None);
    }

    #[test]
    fn legacy_units_with_strings_and_missing_keys() {
        let reply = json!([
            {"ID": 1021, "TEN": "Sở Tư pháp", "MA_COQUAN": "000.01.31.H18", "ROW_STT": "1",
             "CKMB": "17.5", "TDGQ": "19.75", "TTTT": 9, "CLGQ": 11, "MDHL": 17, "MDSH": 20,
             "TONG_SCORE": "94.25"},
            {"ID": "1022", "TEN": "Sở Y tế", "TDGQ": 18},
            {"TEN": "Xã không mã"},
            {"ROW_STT": 4},
            "not a row"
        ]);
        let (rows, skipped) = parse_legacy(&reply, aug(), false, Some(11)).unwrap();
        assert_eq!(skipped, 2);
        assert_eq!(rows.len(), 3);
        let r = &rows[0];
        assert_eq!(
            (r.unit_key.as_str(), r.unit_code.as_deref(), r.rank),
            ("1021", Some("000.01.31.H18"), Some(1))
        );
        assert_eq!((r.tdgq_score, r.total_score), (Some(19.75), Some(94.25)));
        assert_eq!((r.year, r.month, r.api.as_str()), (2024, 8, "legacy"));
        assert!(!r.is_province);
        assert_eq!(rows[1].unit_key, "1022");
        assert_eq!((rows[1].tdgq_score, rows[1].rank), (Some(18.0), None));
        assert_eq!(
            rows[2].unit_key, "Xã không mã",
            "named by TEN when it has no ID"
        );
        let raw: Value = serde_json::from_str(&r.raw_json).unwrap();
        assert_eq!(raw["CKMB"], "17.5", "the raw row is kept as received");
    }

    #[test]
    fn legacy_province_ranking_marks_the_province() {
        let reply = json!({"data": [
            {"ID": "11", "TEN": "Điện Biên", "ROW_STT": "20", "TDGQ": "19.5"},
            {"ID": 1, "TEN": "Hà Nội", "ROW_STT": 1, "TDGQ": 19.9}
        ]});
        let (rows, _) = parse_legacy(&reply, aug(), true, Some(11)).unwrap();
        assert_eq!(rows[0].unit_key, "tinh:11");
        assert!(rows[0].is_province && !rows[1].is_province);
        assert_eq!(rows[0].tdgq_score, Some(19.5));
        for bad in [json!({"message": "Lỗi"}), json!("x"), Value::Null] {
            assert!(parse_legacy(&bad, aug(), true, Some(11)).is_err(), "{bad}");
        }
        let (rows, skipped) = parse_legacy(&json!([]), aug(), false, None).unwrap();
        assert!(rows.is_empty() && skipped == 0);
    }

    #[test]
    fn progress_tree_both_key_spellings() {
        let ym = YearMonth::new(2026, 8).unwrap();
        let reply = json!({"code": "OK", "data": {
        "parent": {"id": "9b1d-root", "name": "UBND tỉnh Điện Biên", "totalReceived": 200,
                   "totalOnTime": 190, "totalOverdue": 10, "totalCompleted": 150,
                   "avgProcessingDays": 3.2, "ratio": 95.0, "score": 19.0, "maxScore": 20,
                   "scoreDelta": -0.2},
        "children": [
            {"departmentId": "c1", "departmentName": "Sở Tư pháp", "code": "000.01.31.H18",
             "totalReceived": "40", "totalOnTime": "39", "score": "19.5", "maxScore": "20"},
            {"id": "c2", "name": "Xã Nậm Kè"},
            {"totalReceived": 3}
        ]}});
        let p = parse_progress_tree(201, &reply, ym).unwrap();
        let parent = p.parent.unwrap();
        assert!(parent.is_province);
        assert_eq!(parent.unit_key, "9b1d-root");
        assert_eq!(
            (
                parent.total_received,
                parent.total_on_time,
                parent.total_overdue,
                parent.total_completed
            ),
            (Some(200), Some(190), Some(10), Some(150))
        );
        assert_eq!(
            (parent.tdgq_score, parent.max_score),
            (Some(19.0), Some(20.0))
        );
        assert_eq!(p.children.len(), 2);
        assert_eq!(p.children_in_reply, 3);
        assert_eq!(p.skipped, 1);
        let c = &p.children[0];
        assert_eq!(
            (
                c.unit_key.as_str(),
                c.unit_name.as_deref(),
                c.unit_code.as_deref()
            ),
            ("c1", Some("Sở Tư pháp"), Some("000.01.31.H18"))
        );
        assert_eq!((c.total_received, c.tdgq_score), (Some(40), Some(19.5)));
        let c2 = &p.children[1];
        assert_eq!((c2.unit_key.as_str(), c2.tdgq_score), ("c2", None));
        assert_eq!(c2.api, "progress_tree");
    }

    #[test]
    fn progress_tree_tolerances_and_errors() {
        let ym = YearMonth::new(2026, 8).unwrap();
        // 200 instead of 201, no code, no parent, children null.
        let p = parse_progress_tree(200, &json!({"data": {"children": null}}), ym).unwrap();
        assert!(p.parent.is_none() && p.children.is_empty());
        for (status, reply) in [
            (
                201,
                json!({"code": "ERROR", "message": "rootDepartmentId không tồn tại"}),
            ),
            (201, json!({"code": "OK", "data": []})),
            (201, json!({"code": "OK"})),
            (201, json!({"code": "OK", "data": {"children": {}}})),
            (400, json!({"message": "Bad Request"})),
        ] {
            assert!(
                parse_progress_tree(status, &reply, ym).is_err(),
                "{status} {reply}"
            );
        }
        let err =
            parse_progress_tree(201, &json!({"code": "ERROR", "message": "x"}), ym).unwrap_err();
        assert!(err.contains("ERROR"), "{err}");
    }
}
