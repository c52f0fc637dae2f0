//! Reconciling only the changed dossiers does what a full pass would: the same discrepancies,
//! states, kinds, values and verdicts. Two copies of one database after a full sync take the
//! same changes on both sides (provincial rows, national look-ups, discrepancies acknowledged
//! and resolved by hand); one is reconciled incrementally, the other in full, at the same time.

use std::sync::Arc;

use tthc_sync::lifecycle::State;
use tthc_sync::model::{LocalTime, LookupOutcome, NationalDossier, Status};
use tthc_sync::sim::{Simulators, World, WorldParams};
use tthc_sync::store::{DiscrepancyFilter, LookupResult, RunCounts, Store};
use tthc_sync::sync::{self, Clients, Clock, Pass};

fn now() -> LocalTime {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_opt(15, 30, 0)
        .unwrap()
}

/// Every discrepancy, without its timestamps, ids or impact; and the impacts apart.
type Row = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
);
fn discrepancies(store: &Store) -> (Vec<Row>, Vec<f64>) {
    let mut stmt = store
        .conn()
        .prepare(
            "SELECT dossier_id, kind, state, severity, period, provincial_value, national_value,
                    coalesce(provincial_verdict, '') || '/' || coalesce(national_verdict, '')
                        || '/' || coalesce(rule_version, ''),
                    score_impact
             FROM discrepancy ORDER BY dossier_id, kind",
        )
        .unwrap();
    let rows: Vec<(Row, f64)> = stmt
        .query_map([], |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    format!("{} | {}", r.get::<_, String>(5)?, r.get::<_, String>(6)?),
                    r.get::<_, String>(7)?,
                ),
                r.get::<_, f64>(8)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows.into_iter().unzip()
}

/// The same changes, applied to one store.
fn change(store: &mut Store, at: LocalTime) {
    let run = store.begin_run("test", at).unwrap();
    let provincial = store.provincial_dossiers().unwrap();
    let changed_at = at - chrono::Duration::hours(2);
    let mut rows = Vec::new();
    for (i, p) in provincial.iter().enumerate() {
        let mut p = p.clone();
        match i % 29 {
            // Finished on time in the province.
            0 if p.core.received_at.is_some() => {
                p.core.status = Some(Status::Resolved);
                p.core.status_raw = "9".into();
                p.core.finished_at = p.core.received_at.map(|r| r + chrono::Duration::hours(4));
            }
            // The national code rewritten (to one the portal has never been asked about).
            7 => p.core.code = format!("000.00.99.H18-261120-{:04}", i % 10_000),
            // The due date moved a week earlier.
            13 if p.core.due_at.is_some() => {
                p.core.due_at = p.core.due_at.map(|d| d - chrono::Duration::days(7));
            }
            _ => continue,
        }
        p.updated_at = changed_at;
        p.row_hash = format!("changed-{i}");
        rows.push((p, "{}".to_string()));
    }
    store
        .store_provincial_page(run, "provincial:igate", at, &rows, None)
        .unwrap();
    // Look-ups: some portal views now agree with the province, some are gone.
    let mut lookups = Vec::new();
    for (i, p) in provincial.iter().enumerate() {
        let result = match i % 23 {
            0 => {
                let n = NationalDossier {
                    core: p.core.clone(),
                    unit_name: p.agency_name.clone(),
                    ..Default::default()
                };
                Ok((LookupOutcome::Found(n), "[]".to_string()))
            }
            11 => Ok((LookupOutcome::NotFound, "[]".to_string())),
            _ => continue,
        };
        if p.core.code.is_empty() {
            continue;
        }
        lookups.push(LookupResult {
            dossier_id: p.local_id.clone(),
            code: p.core.code.clone(),
            at: at - chrono::Duration::minutes(1),
            result,
        });
    }
    store.store_lookups(run, &lookups).unwrap();
    // By hand: the first open discrepancies acknowledged, the next ones resolved (some of them
    // still wrong: the next pass reopens those).
    let open = store
        .discrepancies(&DiscrepancyFilter {
            states: vec![State::Open],
            ..Default::default()
        })
        .unwrap();
    for (i, d) in open.iter().take(12).enumerate() {
        let to = if i < 6 {
            State::Acknowledged
        } else {
            State::Resolved
        };
        store
            .set_discrepancy_state(
                d.id,
                to,
                tthc_sync::store::ManualChange {
                    by: "Nguyễn IT",
                    os_user: "it",
                    note: "kiểm tra",
                },
                at,
            )
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciling_the_changed_dossiers_equals_a_full_pass() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::generate(WorldParams::new(77, 1500, 0.04, now()));
    let sims = Simulators::start(world, 0, 0).await.unwrap();
    let a_path = dir.path().join("a.db");
    let cfg = sims.config(dir.path(), &a_path).unwrap();
    let mut a = Store::open(&a_path).unwrap();
    let clients = Clients::new(&cfg).unwrap();
    let t1 = now() + chrono::Duration::minutes(5);
    let clock: Clock = Arc::new(move || t1);
    let first = sync::run_cycle(&mut a, &cfg, &clients, &clock)
        .await
        .unwrap();
    assert!(first.counts.opened > 20, "the world has faults to find");
    a.conn()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let b_path = dir.path().join("b.db");
    std::fs::copy(&a_path, &b_path).unwrap();
    let mut b = Store::open(&b_path).unwrap();

    let t2 = t1 + chrono::Duration::minutes(15);
    change(&mut a, t2);
    change(&mut b, t2);
    let top = a.top_pid().unwrap();
    let marked = a.reconcile_marks(top).unwrap().dossiers;
    assert!(marked > 50, "the changes are marked: {marked}");

    let (mut ca, mut cb) = (RunCounts::default(), RunCounts::default());
    let run = a.begin_run("test", t2).unwrap();
    let pass = sync::reconcile(&mut a, &cfg, t2, run, &mut ca).unwrap();
    assert_eq!(pass, Pass::Changed);
    let run = b.begin_run("test", t2).unwrap();
    sync::reconcile_all(&mut b, &cfg, t2, run, &mut cb).unwrap();
    assert_eq!(
        (ca.opened, ca.reopened, ca.resolved),
        (cb.opened, cb.reopened, cb.resolved),
        "same lifecycle actions"
    );
    assert!(
        ca.opened + ca.reopened + ca.resolved > 10,
        "the changes mattered: {ca:?}"
    );
    let (rows_a, impacts_a) = discrepancies(&a);
    let (rows_b, impacts_b) = discrepancies(&b);
    assert_eq!(rows_a, rows_b);
    // Impacts are priced against the last full pass's month tallies, which these changes (a
    // tenth of the dossiers in one cycle, a third more overdue ones in a month) moved: they may
    // differ by up to that much, never in sign.
    for (x, y) in impacts_a.iter().zip(&impacts_b) {
        assert_eq!(x.signum(), y.signum(), "{x} vs {y}");
        assert!((x - y).abs() <= 0.5 * y.abs() + 1e-9, "{x} vs {y}");
    }
    assert_eq!(a.reconcile_marks(top).unwrap().last_id, 0, "marks consumed");

    // A full pass after the incremental one changes no state.
    let mut c = RunCounts::default();
    let run = a.begin_run("test", t2).unwrap();
    sync::reconcile_all(&mut a, &cfg, t2, run, &mut c).unwrap();
    assert_eq!((c.opened, c.reopened, c.resolved), (0, 0, 0));
    let (rows_a, impacts_a) = discrepancies(&a);
    assert_eq!(rows_a, rows_b);
    assert_eq!(impacts_a, impacts_b, "a full pass reprices exactly");

    // Nothing changed since: the next cycle's pass is incremental and does nothing.
    let mut d = RunCounts::default();
    let run = a.begin_run("test", t2).unwrap();
    let t3 = t2 + chrono::Duration::minutes(15);
    assert_eq!(
        sync::reconcile(&mut a, &cfg, t3, run, &mut d).unwrap(),
        Pass::Changed
    );
    assert_eq!((d.opened, d.reopened, d.resolved), (0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pass_runs_when_it_must() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::generate(WorldParams::new(5, 300, 0.04, now()));
    let sims = Simulators::start(world, 0, 0).await.unwrap();
    let path = dir.path().join("a.db");
    let mut cfg = sims.config(dir.path(), &path).unwrap();
    let mut store = Store::open(&path).unwrap();
    let pass_at = |store: &mut Store, cfg: &tthc_sync::config::Config, at: LocalTime| {
        let run = store.begin_run("test", at).unwrap();
        sync::reconcile(store, cfg, at, run, &mut RunCounts::default()).unwrap()
    };
    let t = now();
    assert_eq!(pass_at(&mut store, &cfg, t), Pass::Full, "none recorded");
    assert_eq!(
        pass_at(&mut store, &cfg, t + chrono::Duration::minutes(59)),
        Pass::Changed
    );
    assert_eq!(
        pass_at(&mut store, &cfg, t + chrono::Duration::minutes(61)),
        Pass::Full,
        "full_every_minutes elapsed"
    );
    let t = t + chrono::Duration::minutes(61);
    assert_eq!(
        pass_at(&mut store, &cfg, t - chrono::Duration::minutes(1)),
        Pass::Full,
        "clock went back"
    );
    let dec = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
        .unwrap()
        .and_hms_opt(0, 10, 0)
        .unwrap();
    assert_eq!(pass_at(&mut store, &cfg, dec), Pass::Full, "a new month");
    cfg.reconcile.date_tolerance_minutes += 1;
    assert_eq!(
        pass_at(&mut store, &cfg, dec + chrono::Duration::minutes(1)),
        Pass::Full,
        "settings changed"
    );
    assert_eq!(
        pass_at(&mut store, &cfg, dec + chrono::Duration::minutes(2)),
        Pass::Changed
    );
    cfg.reconcile.full_every_minutes = 0;
    assert_eq!(
        pass_at(&mut store, &cfg, dec + chrono::Duration::minutes(3)),
        Pass::Full,
        "full_every_minutes = 0"
    );
}

/// A discrepancy resolved by hand while a pass runs is not forgotten: the pass clears only the
/// marks it saw, and the next one reopens what is still wrong.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mark_made_while_a_pass_runs_is_kept_for_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::generate(WorldParams::new(9, 400, 0.05, now()));
    let sims = Simulators::start(world, 0, 0).await.unwrap();
    let path = dir.path().join("a.db");
    let cfg = sims.config(dir.path(), &path).unwrap();
    let mut store = Store::open(&path).unwrap();
    let clients = Clients::new(&cfg).unwrap();
    let t1 = now() + chrono::Duration::minutes(5);
    let clock: Clock = Arc::new(move || t1);
    sync::run_cycle(&mut store, &cfg, &clients, &clock)
        .await
        .unwrap();
    let open = store
        .discrepancies(&DiscrepancyFilter {
            states: vec![State::Open],
            ..Default::default()
        })
        .unwrap();
    assert!(open.len() >= 2);
    let top = store.top_pid().unwrap();
    // The pass reads the marks (none yet)…
    let seen = store.reconcile_marks(top).unwrap();
    // …someone resolves a discrepancy that is still wrong…
    store
        .set_discrepancy_state(
            open[1].id,
            State::Resolved,
            tthc_sync::store::ManualChange {
                by: "Nguyễn IT",
                os_user: "it",
                note: "thử",
            },
            t1,
        )
        .unwrap();
    // …and the pass applies what it found (nothing) and clears the marks it saw.
    let run = store.begin_run("test", t1).unwrap();
    store
        .apply_reconciliation(
            run,
            t1,
            &[],
            Some(&tthc_sync::store::PassRecord::Changed {
                top_pid: top,
                marks: seen,
            }),
        )
        .unwrap();
    assert_eq!(
        store.reconcile_marks(top).unwrap().dossiers,
        1,
        "the mark is kept"
    );
    let mut counts = RunCounts::default();
    let run = store.begin_run("test", t1).unwrap();
    let t2 = t1 + chrono::Duration::minutes(15);
    assert_eq!(
        sync::reconcile(&mut store, &cfg, t2, run, &mut counts).unwrap(),
        Pass::Changed
    );
    assert_eq!(counts.reopened, 1);
    assert_eq!(
        store.discrepancy(open[1].id).unwrap().unwrap().state,
        "open"
    );
}

/// Dossiers a full pass could not judge (no holiday file for their year) keep every run
/// partial, not only the full ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calendar_problem_stays_reported_between_full_passes() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::generate(WorldParams::new(3, 200, 0.05, now()));
    let sims = Simulators::start(world, 0, 0).await.unwrap();
    let path = dir.path().join("a.db");
    let mut cfg = sims.config(dir.path(), &path).unwrap();
    // Only 2025's days off: the world's 2026 dossiers cannot be judged.
    let holidays = dir.path().join("holidays");
    std::fs::create_dir(&holidays).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/config/holidays/2025.toml"),
        holidays.join("2025.toml"),
    )
    .unwrap();
    cfg.calendar.holidays_dir = Some(holidays);
    let mut store = Store::open(&path).unwrap();
    let clients = Clients::new(&cfg).unwrap();
    let t = now() + chrono::Duration::minutes(5);
    let clock: Clock = Arc::new(move || t);
    let first = sync::run_cycle(&mut store, &cfg, &clients, &clock)
        .await
        .unwrap();
    let calendar = |problems: &[String]| {
        problems
            .iter()
            .filter(|p| p.contains("timeliness not computed"))
            .cloned()
            .collect::<Vec<_>>()
    };
    let full = calendar(&first.counts.problems);
    assert_eq!(full.len(), 1, "{:?}", first.counts.problems);
    assert!(full[0].contains("2026"), "{full:?}");
    let run = store.begin_run("test", t).unwrap();
    let mut counts = RunCounts::default();
    let at = t + chrono::Duration::minutes(15);
    assert_eq!(
        sync::reconcile(&mut store, &cfg, at, run, &mut counts).unwrap(),
        Pass::Changed
    );
    let changed = calendar(&counts.problems);
    assert_eq!(changed.len(), 1, "{:?}", counts.problems);
    assert!(
        changed[0].contains("as of the full reconciliation"),
        "{changed:?}"
    );
}
