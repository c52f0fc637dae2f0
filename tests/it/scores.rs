//! Published 766 scores: the simulator publishes them from its world's national view; the
//! client fetches and stores them; here they are checked against a count of the same world
//! written out independently with the plain rule (docs/domain.md §2–§3), not with the simulator's
//! helpers (`timeliness::judge`, `scoring::counts_in` are not used here).

use std::collections::BTreeMap;

use tthc_sync::calendar::Calendar;
use tthc_sync::model::{LocalTime, Status, YearMonth};
use tthc_sync::scores::fetch_scores;
use tthc_sync::sim::scores::{PROVINCE_ID, ROOT_DEPARTMENT_ID};
use tthc_sync::sim::{Simulators, World, WorldParams};
use tthc_sync::store::Store;

fn now() -> LocalTime {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_opt(15, 30, 0)
        .unwrap()
}

/// (counted, good) per unit code for month `m`, by the plain rule over the portal's rows and
/// its own pushes (`NationalRow::history`):
/// - counted: status received (not 1, not 3), received by the period's end, not closed before
///   the month began;
/// - closed: status 7, 8, 9 or 10, at the finish time, else the return time, else the time the
///   portal got that status; a closing after the period's end is still open then;
/// - paused: every interval the portal's status was 5 or 6, up to the end, its working time
///   subtracted from the end — unless the due date changed while it lasted or as it ended (the
///   due date already credits it);
/// - good: closed, or else judged at the period's end, with the end less the pauses not after
///   the due time (no due = good), and at most one supplement request. A supplement request
///   (5) not answered ends at the request (the time the portal got it).
fn independent(world: &World, m: YearMonth) -> BTreeMap<String, (u64, u64)> {
    let cal = Calendar::builtin();
    let start = m.start();
    let end = m.end().min(world.params.now);
    let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for row in world.national.values() {
        let Some(received) = row.received_at else {
            continue;
        };
        if matches!(row.status, Status::Submitted | Status::Rejected) || received > end {
            continue;
        }
        let closing = match row.status.code() {
            // A supplement request not answered: the request is the end.
            5 => row.status_at,
            7..=10 => Some(
                row.finished_at
                    .or(row.returned_at)
                    .or(row.status_at)
                    .unwrap_or(end),
            ),
            _ => None,
        }
        .filter(|c| *c <= end);
        if closing.is_some_and(|c| c < start) {
            continue;
        }
        let judged_at = closing.unwrap_or(end);
        let mut paused = chrono::Duration::zero();
        let mut requests = 0;
        for (i, &(at, status, due)) in row.history.iter().enumerate() {
            if !matches!(
                status,
                Status::SupplementRequested | Status::AwaitingPayment
            ) {
                continue;
            }
            if i > 0 && row.history[i - 1].1 == status {
                continue;
            }
            requests += u32::from(status == Status::SupplementRequested);
            let after = &row.history[i + 1..];
            let resumed = after.iter().find(|h| h.1 != status);
            let credited = after
                .iter()
                .take_while(|h| h.1 == status)
                .chain(resumed)
                .any(|h| h.2 != due);
            let until = resumed.map_or(judged_at, |h| h.0).min(judged_at);
            if !credited && until > at {
                paused += cal.working_time_between(at.max(received), until).unwrap();
            }
        }
        let effective = cal.sub_working_time(judged_at, paused).unwrap();
        let good = requests <= 1 && row.due_at.is_none_or(|due| effective <= due);
        let e = out.entry(row.unit_code.clone()).or_default();
        e.0 += 1;
        e.1 += u64::from(good);
    }
    out
}

fn score(counted: u64, good: u64) -> Option<f64> {
    (counted > 0).then(|| 20.0 * good as f64 / counted as f64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_scores_match_an_independent_count_of_the_world() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::generate(WorldParams::new(21, 2000, 0.05, now()));
    let sims = Simulators::start(world, 0, 0).await.unwrap();
    let mut cfg = sims.config(dir.path(), &dir.path().join("t.db")).unwrap();
    let mut store = Store::open(&cfg.service.database).unwrap();
    let world = &sims.world;
    for month in ["2026-10", "2026-11"] {
        let m: YearMonth = month.parse().unwrap();
        let expected = independent(world, m);
        let (pc, pg) = expected
            .values()
            .fold((0, 0), |(c, g), (uc, ug)| (c + uc, g + ug));
        assert!(pc > 300, "{month}: the world has a month's worth ({pc})");
        let want = score(pc, pg).unwrap();

        // 2026 form: counts are published, so they must match exactly.
        cfg.scores.as_mut().unwrap().api = "progress_tree".into();
        let report = fetch_scores(&mut store, &cfg, m).await.unwrap();
        let province = report.province.expect("the tree has a parent");
        assert_eq!(province.unit_key, ROOT_DEPARTMENT_ID);
        assert_eq!(
            (province.total_received, province.total_on_time),
            (Some(pc as i64), Some(pg as i64)),
            "{month}: province counts"
        );
        let got = province.tdgq_score.unwrap();
        assert!((got - want).abs() < 1e-9, "{month}: {got} vs {want}");
        let stored = store.published_scores("progress_tree", m).unwrap();
        assert_eq!(
            stored.len(),
            world.agencies.len() + 1,
            "province + every unit"
        );
        assert_eq!(report.rows, stored.len());
        let mut max_diff: f64 = 0.0;
        for a in &world.agencies {
            let row = stored
                .iter()
                .find(|r| r.unit_code.as_deref() == Some(a.code.as_str()))
                .unwrap_or_else(|| panic!("{month}: no row for {}", a.code));
            assert_eq!(row.unit_name.as_deref(), Some(a.name.as_str()));
            let (c, g) = expected.get(&a.code).copied().unwrap_or_default();
            assert_eq!(
                (row.total_received, row.total_on_time),
                (Some(c as i64), Some(g as i64)),
                "{month} {}",
                a.code
            );
            match (row.tdgq_score, score(c, g)) {
                (Some(p), Some(i)) => max_diff = max_diff.max((p - i).abs()),
                (None, None) => {}
                other => panic!("{month} {}: {other:?}", a.code),
            }
            let raw: serde_json::Value = serde_json::from_str(&row.raw_json).unwrap();
            assert!(raw.get("totalReceived").is_some(), "raw JSON kept");
        }
        assert!(max_diff < 1e-9, "{month}: units differ by {max_diff}");
        eprintln!(
            "{month} progress_tree: province published {got:.4} vs independent {want:.4} \
             ({pg}/{pc}); max unit difference {max_diff:.2e}"
        );

        // Legacy form: TDGQ only, rounded to 2 decimals, numbers often strings.
        cfg.scores.as_mut().unwrap().api = "legacy".into();
        let report = fetch_scores(&mut store, &cfg, m).await.unwrap();
        let province = report.province.expect("the ranking has the province");
        assert_eq!(province.unit_key, format!("tinh:{PROVINCE_ID}"));
        let got = province.tdgq_score.unwrap();
        assert!(
            (got - want).abs() <= 0.005 + 1e-9,
            "{month}: {got} vs {want}"
        );
        let stored = store.published_scores("legacy", m).unwrap();
        assert_eq!(
            stored.len(),
            world.agencies.len() + 3,
            "3 provinces + units"
        );
        let mut max_diff: f64 = 0.0;
        for a in &world.agencies {
            let row = stored
                .iter()
                .find(|r| r.unit_code.as_deref() == Some(a.code.as_str()))
                .unwrap();
            let (c, g) = expected.get(&a.code).copied().unwrap_or_default();
            match (row.tdgq_score, score(c, g)) {
                (Some(p), Some(i)) => max_diff = max_diff.max((p - i).abs()),
                (None, None) => {}
                other => panic!("{month} {}: {other:?}", a.code),
            }
            assert!(row.rank.is_some());
        }
        assert!(
            max_diff <= 0.005 + 1e-9,
            "{month}: units differ by {max_diff}"
        );
        eprintln!(
            "{month} legacy: province published {got:.2} vs independent {want:.4}; \
             max unit difference {max_diff:.4}"
        );
    }
    // Fetching again replaces rows (upsert), it does not add.
    let m: YearMonth = "2026-11".parse().unwrap();
    fetch_scores(&mut store, &cfg, m).await.unwrap();
    let n: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM published_score", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n as usize, 2 * (2 * world.agencies.len() + 4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fetch_stores_nothing_and_config_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::generate(WorldParams::new(22, 300, 0.0, now()));
    let sims = Simulators::start(world, 0, 0).await.unwrap();
    let mut cfg = sims.config(dir.path(), &dir.path().join("t.db")).unwrap();
    let mut store = Store::open(&cfg.service.database).unwrap();
    let m: YearMonth = "2026-11".parse().unwrap();
    sims.control.knobs().national_down = true;
    assert!(fetch_scores(&mut store, &cfg, m).await.is_err());
    sims.control.knobs().national_down = false;
    // A root the portal does not know: an error reply, not an empty month.
    cfg.scores.as_mut().unwrap().root_department_id = Some("not-a-root".into());
    let err = fetch_scores(&mut store, &cfg, m).await.unwrap_err();
    assert!(err.to_string().contains("NOT_FOUND"), "{err}");
    assert!(store
        .published_scores("progress_tree", m)
        .unwrap()
        .is_empty());
    cfg.scores.as_mut().unwrap().root_department_id = None;
    let err = fetch_scores(&mut store, &cfg, m).await.unwrap_err();
    assert!(
        err.to_string().contains("scores.root_department_id"),
        "{err}"
    );
    cfg.scores = None;
    let err = fetch_scores(&mut store, &cfg, m).await.unwrap_err();
    assert!(err.to_string().contains("[scores]"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scores_command_stores_and_prints_the_province_score() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::generate(WorldParams::new(23, 600, 0.03, now()));
    let sims = Simulators::start(world, 0, 0).await.unwrap();
    let db = dir.path().join("t.db");
    let cfg = sims.config(dir.path(), &db).unwrap();
    let cfg_path = dir.path().join("tthc-sync.toml");
    tthc_sync::demo::write_config(&cfg, &cfg_path).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_tthc-sync"))
            .arg("--config")
            .arg(&cfg_path)
            .args(["scores", "--month", "2026-10"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Tiến độ giải quyết (TDGQ)"), "{stdout}");
    assert!(stdout.contains("/ 20"), "{stdout}");
    let store = Store::open(&db).unwrap();
    let rows = store
        .published_scores("progress_tree", "2026-10".parse().unwrap())
        .unwrap();
    assert_eq!(rows.len(), sims.world.agencies.len() + 1);
}
