//! The web page's discrepancy list at scale (docs/performance.md): one filtered page of 50 out
//! of 100,000 discrepancies, largest score impact first, as the page's handler does it
//! (`Store::discrepancies_page`: the count and the page) and renders it
//! (`web::pages::discrepancies`), against a plain SQL `count(*)` of the same filter measured
//! in the same run (a scan of the table, as the page's filter does: `+state`). Target: < 100 ms
//! median; the table says whether each case meets it.
//!
//! `cargo bench --bench web_list`; `TTHC_BENCH_N` discrepancies (default 100,000),
//! `TTHC_BENCH_RUNS` runs per case (default 21; the median is reported).

use std::time::Instant;

use rusqlite::params;
use tthc_sync::lifecycle::State;
use tthc_sync::reconcile::{Kind, Severity};
use tthc_sync::store::{DiscrepancyFilter, Store};
use tthc_sync::web::pages::{self, ListQuery, Viewer, PAGE_SIZE};
use tthc_sync::web::users::Role;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Fills `db` with `n` discrepancies of every kind, state and severity over 40 agencies and
/// 12 months (SQLite directly: the bench measures reading).
fn fill(db: &std::path::Path, n: usize) {
    drop(Store::open(db).unwrap());
    let mut c = rusqlite::Connection::open(db).unwrap();
    let tx = c.transaction().unwrap();
    {
        let mut ins = tx
            .prepare(
                "INSERT INTO discrepancy (dossier_id, dossier_code, kind, state, severity,
                    score_impact, period, agency_code, agency_name, provincial_value,
                    national_value, first_seen, last_seen, state_changed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, '9 (Đã xử lý xong)', '4 (Đang xử lý)',
                    '2026-11-20 08:00:00', '2026-11-20 08:00:00', '2026-11-20 08:00:00')",
            )
            .unwrap();
        let mut rng = fastrand::Rng::with_seed(2026);
        for i in 0..n {
            let kind = Kind::ALL[rng.usize(..Kind::ALL.len())];
            let state = ["open", "open", "open", "acknowledged", "resolved"][rng.usize(..5)];
            let severity = Severity::ALL[rng.usize(..Severity::ALL.len())];
            let agency = rng.usize(..40);
            let month = 1 + rng.usize(..12);
            ins.execute(params![
                format!("id{i}"),
                format!("000.{agency:02}.31.H18-26{month:02}01-{i:06}"),
                kind.as_str(),
                state,
                severity.as_str(),
                rng.f64() * 0.05,
                format!("2026-{month:02}"),
                format!("000.{agency:02}.31.H18"),
                format!("Cơ quan số {agency}"),
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

fn main() {
    let n = env_usize("TTHC_BENCH_N", 100_000);
    let runs = env_usize("TTHC_BENCH_RUNS", 21).max(1);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("web.db");
    let t = Instant::now();
    fill(&db, n);
    println!(
        "{n} discrepancies written in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let store = Store::open_current(&db).unwrap();
    let plain = rusqlite::Connection::open(&db).unwrap();
    let viewer = Viewer {
        user: "bench",
        role: Role::Operator,
        csrf: "x",
    };
    // (case, query, plain SQL count of the same filter)
    let cases: Vec<(&str, ListQuery, &str)> = vec![
        (
            "default (open + acknowledged, medium and above), page 1",
            ListQuery::default(),
            "SELECT count(*) FROM discrepancy WHERE +state IN ('open', 'acknowledged') \
             AND severity IN ('medium', 'high', 'critical')",
        ),
        (
            "default, page 200",
            ListQuery {
                page: Some(200),
                ..Default::default()
            },
            "SELECT count(*) FROM discrepancy WHERE +state IN ('open', 'acknowledged') \
             AND severity IN ('medium', 'high', 'critical')",
        ),
        (
            "open, one kind, one agency, one month, every severity",
            ListQuery {
                state: "open".into(),
                kind: "status_mismatch".into(),
                severity: "low".into(),
                agency: "Cơ quan số 7".into(),
                month: "2026-08".into(),
                page: None,
            },
            "SELECT count(*) FROM discrepancy WHERE +state = 'open' AND kind = 'status_mismatch' \
             AND (agency_code = 'Cơ quan số 7' OR agency_name = 'Cơ quan số 7') \
             AND period = '2026-08'",
        ),
    ];
    println!("| case | rows | page median ms | plain count median ms | ratio | < 100 ms |");
    println!("|---|---|---|---|---|---|");
    for (name, q, count_sql) in cases {
        let filter: DiscrepancyFilter = tthc_sync::web::filter_of(&q).unwrap();
        assert!(filter.states.contains(&State::Open));
        let page = q.page.unwrap_or(1);
        let mut page_ms = Vec::new();
        let mut count_ms = Vec::new();
        let mut total = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let (got, rows) = store
                .discrepancies_page(&filter, (page - 1) * PAGE_SIZE, PAGE_SIZE)
                .unwrap();
            let html = pages::discrepancies(&viewer, &q, got, page, &rows).into_string();
            page_ms.push(t.elapsed().as_secs_f64() * 1e3);
            assert!(html.len() > 1000);
            total = got;
            let t = Instant::now();
            let c: i64 = plain.query_row(count_sql, [], |r| r.get(0)).unwrap();
            count_ms.push(t.elapsed().as_secs_f64() * 1e3);
            assert_eq!(
                c as u64, got,
                "{name}: the page's count and the plain count differ"
            );
        }
        let (p, c) = (median(page_ms), median(count_ms));
        let met = if p < 100.0 { "yes" } else { "NO" };
        println!(
            "| {name} | {total} | {p:.1} | {c:.1} | {:.1}× | {met} |",
            p / c
        );
    }
}
