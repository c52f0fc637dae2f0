//! The review pages: the overview, the discrepancy list (filter, page, CSV and XLSX export), a
//! discrepancy with its history (acknowledge, resolve: operators only, with a note), a
//! dossier's two views.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::pages::{self, ListQuery};
use super::request::{ActionForm, Auth};
use super::{download, html, page_error, with_store, Done, Shared};
use crate::dossier_view::DossierView;
use crate::lifecycle::State as DState;
use crate::model::YearMonth;
use crate::reconcile::{Kind, Severity};
use crate::store::{DiscrepancyFilter, ManualChange, StoreError};

pub(super) async fn overview(State(st): State<Shared>, a: Auth) -> Response {
    let data = with_store(&st, |store, st| {
        let now = crate::clock::local_now();
        let month = YearMonth::of(&now);
        let (scores, history, scores_error) = match crate::report::build(
            store,
            month,
            now,
            &st.calendar,
            &st.cfg.service.province_name,
        ) {
            Ok(r) => (
                [
                    r.national_view.score,
                    r.provincial_view.score,
                    r.published_score,
                ],
                r.history,
                None,
            ),
            Err(e) => ([None; 3], Vec::new(), Some(e.to_string())),
        };
        let failing_all = store.failing_lookups(now - st.cfg.national.lookup_failing_after())?;
        let ages = store.view_ages(now)?;
        let p = |q| crate::freshness::percentile(&ages, q);
        Ok(pages::Overview {
            month,
            runs: store.recent_runs(8)?,
            scores,
            scores_error,
            history,
            by_kind_severity: store.open_counts_by_kind_severity()?,
            agencies: store.open_counts_by_agency(10)?,
            failing_total: failing_all.len(),
            failing: failing_all.into_iter().take(10).collect(),
            freshness: pages::FreshnessFigures {
                dossiers: ages.len(),
                p50: p(50.0),
                p95: p(95.0),
                max: ages.iter().copied().max(),
            },
        })
    })
    .await;
    match data {
        Ok(o) => html(StatusCode::OK, pages::overview(&a.viewer(), &o)),
        Err(r) => r,
    }
}

/// The store's filter of a list query; `Err` names the value that is not understood.
pub fn filter_of(q: &ListQuery) -> Result<DiscrepancyFilter, String> {
    let states = match q.state.as_str() {
        "" => vec![DState::Open, DState::Acknowledged],
        s => vec![DState::parse(s).ok_or_else(|| format!("Trạng thái `{s}` không hợp lệ."))?],
    };
    let kind = match q.kind.as_str() {
        "" => None,
        k => Some(Kind::parse(k).ok_or_else(|| format!("Loại `{k}` không hợp lệ."))?),
    };
    let least = match q.severity.as_str() {
        "" => Severity::Medium,
        s => Severity::parse(s).ok_or_else(|| format!("Mức độ `{s}` không hợp lệ."))?,
    };
    let month = match q.month.trim() {
        "" => None,
        m => Some(
            m.parse::<YearMonth>()
                .map_err(|_| format!("Tháng `{m}` không hợp lệ: viết YYYY-MM, ví dụ 2026-08."))?
                .iso(),
        ),
    };
    let agency = Some(q.agency.trim().to_string()).filter(|a| !a.is_empty());
    Ok(DiscrepancyFilter {
        states,
        kind,
        agency,
        least_severity: Some(least),
        month,
    })
}

pub(super) async fn list(
    State(st): State<Shared>,
    a: Auth,
    Query(q): Query<ListQuery>,
) -> Response {
    let filter = match filter_of(&q) {
        Ok(f) => f,
        Err(e) => return page_error(StatusCode::BAD_REQUEST, Some(&a.viewer()), &e),
    };
    let page = q.page.unwrap_or(1).clamp(1, u64::MAX / pages::PAGE_SIZE);
    let got = with_store(&st, move |store, _| {
        Ok(store.discrepancies_page(&filter, (page - 1) * pages::PAGE_SIZE, pages::PAGE_SIZE)?)
    })
    .await;
    match got {
        Ok((total, rows)) => html(
            StatusCode::OK,
            pages::discrepancies(&a.viewer(), &q, total, page, &rows),
        ),
        Err(r) => r,
    }
}

async fn export(st: Shared, a: Auth, q: ListQuery, xlsx: bool) -> Response {
    let filter = match filter_of(&q) {
        Ok(f) => f,
        Err(e) => return page_error(StatusCode::BAD_REQUEST, Some(&a.viewer()), &e),
    };
    let got = with_store(&st, move |store, _| {
        let rows = store.discrepancies(&filter)?;
        Ok(if xlsx {
            crate::discrepancy_export::to_xlsx(&rows)?
        } else {
            crate::discrepancy_export::to_csv(&rows, true).into_bytes()
        })
    })
    .await;
    match got {
        Ok(bytes) if xlsx => download(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "sai-lech.xlsx",
            bytes,
        ),
        Ok(bytes) => download("text/csv; charset=utf-8", "sai-lech.csv", bytes),
        Err(r) => r,
    }
}

pub(super) async fn export_csv(
    State(st): State<Shared>,
    a: Auth,
    Query(q): Query<ListQuery>,
) -> Response {
    export(st, a, q, false).await
}

pub(super) async fn export_xlsx(
    State(st): State<Shared>,
    a: Auth,
    Query(q): Query<ListQuery>,
) -> Response {
    export(st, a, q, true).await
}

pub(super) async fn show(
    State(st): State<Shared>,
    a: Auth,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Response {
    let got = with_store(&st, move |store, _| {
        Ok(match store.discrepancy(id)? {
            Some(d) => Some((d, store.discrepancy_events(id)?)),
            None => None,
        })
    })
    .await;
    let flash = match done.done.as_str() {
        "ack" => Some("Đã ghi nhận tiếp nhận."),
        "resolve" => Some("Đã đánh dấu đã giải quyết."),
        _ => None,
    };
    match got {
        Ok(Some((d, events))) => html(
            StatusCode::OK,
            pages::discrepancy(&a.viewer(), &d, &events, flash),
        ),
        Ok(None) => page_error(
            StatusCode::NOT_FOUND,
            Some(&a.viewer()),
            &format!("Không có sai lệch số {id}."),
        ),
        Err(r) => r,
    }
}

async fn change(st: Shared, a: Auth, id: i64, f: ActionForm, to: DState) -> Response {
    if let Some(r) = a.csrf_refusal(&f.csrf) {
        return r;
    }
    if let Some(r) = a.viewer_refusal() {
        return r;
    }
    if f.note.trim().is_empty() {
        return page_error(
            StatusCode::BAD_REQUEST,
            Some(&a.viewer()),
            "Hãy ghi chú đã kiểm tra gì, đã làm gì.",
        );
    }
    let user = a.session.user.clone();
    let os_user = format!("web:{}", a.client);
    let note = f.note.clone();
    let got = with_store(&st, move |store, _| {
        let change = ManualChange {
            by: &user,
            os_user: &os_user,
            note: &note,
        };
        Ok(store.set_discrepancy_state(id, to, change, crate::clock::local_now()))
    })
    .await;
    let done = if to == DState::Acknowledged {
        "ack"
    } else {
        "resolve"
    };
    match got {
        Ok(Ok(_)) => Redirect::to(&format!("/discrepancy/{id}?done={done}")).into_response(),
        Ok(Err(StoreError::NotFound(_))) => page_error(
            StatusCode::NOT_FOUND,
            Some(&a.viewer()),
            &format!("Không có sai lệch số {id}."),
        ),
        Ok(Err(e @ (StoreError::InvalidTransition { .. } | StoreError::InvalidInput(_)))) => {
            page_error(StatusCode::CONFLICT, Some(&a.viewer()), &e.to_string())
        }
        Ok(Err(e)) => page_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(&a.viewer()),
            &e.to_string(),
        ),
        Err(r) => r,
    }
}

pub(super) async fn ack(
    State(st): State<Shared>,
    a: Auth,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Response {
    change(st, a, id, f, DState::Acknowledged).await
}

pub(super) async fn resolve(
    State(st): State<Shared>,
    a: Auth,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Response {
    change(st, a, id, f, DState::Resolved).await
}

pub(super) async fn dossier(
    State(st): State<Shared>,
    a: Auth,
    Path(code): Path<String>,
) -> Response {
    let c = code.clone();
    let got = with_store(&st, move |store, st| {
        Ok(DossierView::load(
            store,
            &c,
            crate::clock::local_now(),
            &st.calendar,
        )?)
    })
    .await;
    match got {
        Ok(Some(v)) => html(StatusCode::OK, pages::dossier(&a.viewer(), &v)),
        Ok(None) => page_error(
            StatusCode::NOT_FOUND,
            Some(&a.viewer()),
            &format!("Không có hồ sơ `{}`.", crate::quote::bounded(&code, 80)),
        ),
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_query_becomes_the_store_filter_or_a_named_error() {
        let f = filter_of(&ListQuery::default()).unwrap();
        assert_eq!(f.states, vec![DState::Open, DState::Acknowledged]);
        assert_eq!(f.least_severity, Some(Severity::Medium));
        let q = ListQuery {
            state: "resolved".into(),
            kind: "status_mismatch".into(),
            severity: "low".into(),
            agency: " 000.01.31.H18 ".into(),
            month: "2026-8".into(),
            page: None,
        };
        let f = filter_of(&q).unwrap();
        assert_eq!(f.kind, Some(Kind::StatusMismatch));
        assert_eq!(f.agency.as_deref(), Some("000.01.31.H18"));
        assert_eq!(f.month.as_deref(), Some("2026-08"));
        let bad = ListQuery {
            kind: "<script>".into(),
            ..Default::default()
        };
        assert!(filter_of(&bad).unwrap_err().contains("<script>"));
    }
}
