//! The reports page: the monthly report files in `[report] out_dir` by month, a file's
//! download (names checked: nothing outside that directory), and "generate this month's"
//! (operators only).

use std::path::PathBuf;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::pages;
use super::request::{ActionForm, Auth};
use super::{download, html, page_error, with_store, Done, Shared, WebState};
use crate::model::YearMonth;

/// The prefix of every report file (`report::file_stem`).
const REPORT_PREFIX: &str = "bao-cao-tien-do-";

/// Whether `name` is a report file name this page serves: no path, no hidden file.
fn report_name_ok(name: &str) -> bool {
    name.starts_with(REPORT_PREFIX)
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && !name.contains("..")
}

/// The report files in `dir`, by month, newest first.
fn report_months(dir: &std::path::Path) -> std::io::Result<Vec<pages::ReportMonth>> {
    let mut by: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    for e in entries {
        let name = e?.file_name().to_string_lossy().into_owned();
        if !report_name_ok(&name) {
            continue;
        }
        let month = name[REPORT_PREFIX.len()..]
            .chars()
            .take(7)
            .collect::<String>();
        if month.parse::<YearMonth>().is_ok() {
            by.entry(month).or_default().push(name);
        }
    }
    Ok(by
        .into_iter()
        .rev()
        .map(|(month, mut files)| {
            files.sort();
            pages::ReportMonth { month, files }
        })
        .collect())
}

fn reports_dir(st: &WebState) -> PathBuf {
    crate::report::default_out_dir(&st.cfg)
}

pub(super) async fn reports(
    State(st): State<Shared>,
    a: Auth,
    Query(done): Query<Done>,
) -> Response {
    let dir = reports_dir(&st);
    let months = match tokio::task::spawn_blocking(move || report_months(&dir)).await {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => {
            return page_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(&a.viewer()),
                &format!("Không đọc được thư mục báo cáo: {e}"),
            )
        }
        Err(e) => return page_error(StatusCode::INTERNAL_SERVER_ERROR, None, &e.to_string()),
    };
    let flash = (done.done == "generated").then_some("Đã lập báo cáo tháng này.");
    let current = YearMonth::of(&crate::clock::local_now());
    html(
        StatusCode::OK,
        pages::reports(&a.viewer(), &months, current, flash),
    )
}

pub(super) async fn report_file(
    State(st): State<Shared>,
    a: Auth,
    Path(name): Path<String>,
) -> Response {
    if !report_name_ok(&name) {
        return page_error(
            StatusCode::NOT_FOUND,
            Some(&a.viewer()),
            "Không có tệp này.",
        );
    }
    let path = reports_dir(&st).join(&name);
    let content_type = match name.rsplit('.').next() {
        Some("md") => "text/markdown; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => download(content_type, &name, bytes),
        Err(_) => page_error(
            StatusCode::NOT_FOUND,
            Some(&a.viewer()),
            "Không có tệp này.",
        ),
    }
}

pub(super) async fn generate(
    State(st): State<Shared>,
    a: Auth,
    Form(f): Form<ActionForm>,
) -> Response {
    if let Some(r) = a.csrf_refusal(&f.csrf) {
        return r;
    }
    if let Some(r) = a.viewer_refusal() {
        return r;
    }
    let user = a.session.user.clone();
    let got = with_store(&st, move |store, st| {
        let now = crate::clock::local_now();
        let files = crate::report::write_month(
            store,
            &st.cfg,
            YearMonth::of(&now),
            &crate::report::Format::ALL,
            now,
        )?;
        Ok(files.len())
    })
    .await;
    match got {
        Ok(n) => {
            tracing::info!(target: "web", user = %user, files = n, "report generated from the web page");
            Redirect::to("/reports?done=generated").into_response()
        }
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_never_leave_the_directory() {
        assert!(report_name_ok("bao-cao-tien-do-2026-08.xlsx"));
        assert!(report_name_ok("bao-cao-tien-do-2026-08-phu-luc-1.csv"));
        for bad in [
            "../etc/passwd",
            "bao-cao-tien-do-/../x",
            "bao-cao-tien-do-..",
            ".bao-cao-tien-do-2026-08.md.tmp",
            "other.md",
            "bao-cao-tien-do-2026-08.md\0",
        ] {
            assert!(!report_name_ok(bad), "{bad}");
        }
    }
}
