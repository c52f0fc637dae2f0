//! `DanhSachHoSo` in the sync cycle (missing_on_provincial) and the freshness figures of a run.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use tthc_sync::demo::score_against_truth;
use tthc_sync::lifecycle::State;
use tthc_sync::model::{LocalTime, ProvincialDossier};
use tthc_sync::reconcile::Kind;
use tthc_sync::sim::{Fault, Simulators, World, WorldParams};
use tthc_sync::store::{DiscrepancyFilter, Outcome, Store};
use tthc_sync::sync::{self, Clients, Clock};

fn now() -> LocalTime {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_opt(15, 30, 0)
        .unwrap()
}

struct Setup {
    sims: Simulators,
    cfg: tthc_sync::config::Config,
    store: Store,
    _dir: tempfile::TempDir,
}

async fn setup(params: WorldParams, list: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let sims = Simulators::start(World::generate(params), 0, 0)
        .await
        .unwrap();
    let mut cfg = sims.config(dir.path(), &dir.path().join("t.db")).unwrap();
    if list {
        cfg.national.list_units = sims.world.agencies.iter().map(|a| a.code.clone()).collect();
    }
    let store = Store::open(&cfg.service.database).unwrap();
    Setup {
        sims,
        cfg,
        store,
        _dir: dir,
    }
}

fn clock_at(offset_min: Arc<AtomicI64>) -> Clock {
    Arc::new(move || now() + chrono::Duration::minutes(5 + offset_min.load(Ordering::SeqCst)))
}

fn missing_on_provincial(store: &Store, states: Vec<State>) -> BTreeSet<String> {
    store
        .discrepancies(&DiscrepancyFilter {
            states,
            kind: Some(Kind::MissingOnProvincial),
            agency: None,
            least_severity: None,
            month: None,
        })
        .unwrap()
        .into_iter()
        .map(|d| {
            assert_eq!(d.dossier_id, format!("nat:{}", d.dossier_code));
            d.dossier_code
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listed_dossiers_only_on_the_portal_are_found_and_resolve_when_the_province_has_them() {
    let mut params = WorldParams::new(31, 1500, 0.04, now());
    params.only_on_national_rate = 0.01;
    let mut s = setup(params, true).await;
    let clients = Clients::new(&s.cfg).unwrap();
    let offset = Arc::new(AtomicI64::new(0));
    let clock = clock_at(offset.clone());
    let report = sync::run_cycle(&mut s.store, &s.cfg, &clients, &clock)
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Ok, "{:?}", report.counts);
    assert!(report.counts.listed > 0);

    // Expected, from the world: national codes no provincial dossier holds, received in the
    // listed window (30 days to today) and at least the grace period before the cycle.
    let world = &s.sims.world;
    let held: BTreeSet<&str> = world
        .dossiers
        .iter()
        .map(|d| d.national_code.as_str())
        .collect();
    let cycle_at = clock();
    let first_day = cycle_at.date() - chrono::Duration::days(29);
    let expected: BTreeSet<String> = world
        .national
        .values()
        .filter(|r| !held.contains(r.code.as_str()))
        .filter(|r| {
            r.received_at.is_some_and(|t| {
                t.date() >= first_day && cycle_at - t >= chrono::Duration::minutes(60)
            })
        })
        .map(|r| r.code.clone())
        .collect();
    let injected: BTreeSet<String> = world
        .truth
        .iter()
        .filter(|t| t.fault == Fault::OnlyOnNational)
        .map(|t| t.dossier_code.clone())
        .collect();
    assert_eq!(injected.len(), 15);
    assert!(injected.is_subset(&expected));
    let found = missing_on_provincial(&s.store, vec![State::Open]);
    assert_eq!(found, expected);
    // Besides them, the other injected faults are found as before. (A code rewritten by the
    // province leaves the original code on the portal: that one is listed too, and counted
    // in `expected` above, so it shows here as a "false positive" of the older ground truth.)
    let score = score_against_truth(&s.store, world).unwrap();
    assert!(score.missed.is_empty(), "missed {:?}", score.missed);
    for (id, kind) in &score.false_positives {
        assert_eq!(kind, "missing_on_provincial", "{id}");
    }
    // The listed rows are stored views.
    for code in &injected {
        let n = s.store.national_by_code(code).unwrap().expect("stored");
        assert!(n.found);
    }

    // The province now has one of them: resolved on the next cycle.
    let code = injected.iter().next().unwrap().clone();
    let row = world.national.get(&code).unwrap();
    let p = ProvincialDossier {
        key: code.clone(),
        local_id: "late-arrival".into(),
        local_code: "HS26.999999".into(),
        core: tthc_sync::model::DossierCore {
            code: code.clone(),
            status: Some(row.status),
            status_raw: row.status.code().to_string(),
            received_at: row.received_at,
            due_at: row.due_at,
            finished_at: row.finished_at,
            ..Default::default()
        },
        has_due_date: true,
        updated_at: row.received_at.unwrap(),
        row_hash: "x".into(),
        ..Default::default()
    };
    s.store
        .store_provincial_page(report.run_id, "test", clock(), &[(p, "{}".into())], None)
        .unwrap();
    offset.store(60, Ordering::SeqCst);
    let report = sync::run_cycle(&mut s.store, &s.cfg, &clients, &clock)
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Ok, "{:?}", report.counts);
    let still = missing_on_provincial(&s.store, vec![State::Open]);
    assert!(!still.contains(&code));
    assert_eq!(still.len(), expected.len() - 1);
    assert!(missing_on_provincial(&s.store, vec![State::Resolved]).contains(&code));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_list_call_changes_nothing() {
    let mut params = WorldParams::new(32, 800, 0.0, now());
    params.only_on_national_rate = 0.02;
    let mut s = setup(params, true).await;
    s.sims.control.knobs().national_list_failing = true;
    let clients = Clients::new(&s.cfg).unwrap();
    let clock = clock_at(Arc::new(AtomicI64::new(0)));
    let report = sync::run_cycle(&mut s.store, &s.cfg, &clients, &clock)
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Partial);
    assert!(
        report
            .counts
            .problems
            .iter()
            .any(|p| p.contains("DanhSachHoSo") && p.contains("nothing was concluded")),
        "{:?}",
        report.counts.problems
    );
    assert!(missing_on_provincial(&s.store, vec![]).is_empty());
    for t in &s.sims.world.truth {
        assert!(s.store.national_by_code(&t.dossier_code).unwrap().is_none());
    }
    // Off unless configured: the same world without list_units never calls it.
    let mut off = setup(
        {
            let mut p = WorldParams::new(32, 800, 0.0, now());
            p.only_on_national_rate = 0.02;
            p
        },
        false,
    )
    .await;
    let clients = Clients::new(&off.cfg).unwrap();
    let report = sync::run_cycle(&mut off.store, &off.cfg, &clients, &clock)
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Ok);
    assert_eq!(off.sims.control.hits("DanhSachHoSo"), 0);
    assert!(missing_on_provincial(&off.store, vec![]).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshness_and_budget_are_recorded_on_the_run() {
    let mut s = setup(WorldParams::new(33, 2000, 0.0, now()), false).await;
    s.cfg.national.lookups_per_cycle = 100;
    let clients = Clients::new(&s.cfg).unwrap();
    let offset = Arc::new(AtomicI64::new(0));
    let clock = clock_at(offset.clone());
    let read = |store: &Store, id: i64| -> (Option<i64>, Option<i64>, Option<f64>) {
        store
            .conn()
            .query_row(
                "SELECT freshness_p50_s, freshness_p95_s, budget_used FROM sync_run WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
    };
    let r1 = sync::run_cycle(&mut s.store, &s.cfg, &clients, &clock)
        .await
        .unwrap();
    assert_eq!(r1.counts.lookups, 100);
    // Everything was seen or looked up at the cycle's (fixed) time: age 0.
    assert_eq!(read(&s.store, r1.run_id), (Some(0), Some(0), Some(1.0)));
    let active: i64 = s
        .store
        .conn()
        .query_row(
            "SELECT count(*) FROM provincial_dossier WHERE status_code NOT IN (3, 7, 8, 9, 10)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(active > 250, "{active}");

    // An hour later, another 100: most active dossiers' views are now an hour old.
    offset.store(60, Ordering::SeqCst);
    let r2 = sync::run_cycle(&mut s.store, &s.cfg, &clients, &clock)
        .await
        .unwrap();
    assert_eq!(
        read(&s.store, r2.run_id),
        (Some(3600), Some(3600), Some(1.0))
    );
    assert_eq!(r2.counts.freshness_p50_s, Some(3600));
    assert_eq!(r2.counts.budget_used, Some(1.0));
}
