//! The spine, end to end: simulators → one sync cycle → discrepancies, checked against the
//! simulated world's ground truth.

use std::collections::BTreeSet;
use std::sync::Arc;

use tthc_sync::demo::score_against_truth;
use tthc_sync::lifecycle::State;
use tthc_sync::sim::{Fault, Simulators, World, WorldParams};
use tthc_sync::store::{DiscrepancyFilter, Outcome, Store};
use tthc_sync::sync::{self, Clients, Clock};

fn now() -> tthc_sync::model::LocalTime {
    // A fixed "now" inside a year the holiday files cover, so verdicts are reproducible.
    chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_opt(15, 30, 0)
        .unwrap()
}

struct Setup {
    sims: Simulators,
    cfg: tthc_sync::config::Config,
    store: Store,
    clients: Clients,
    _dir: tempfile::TempDir,
}

async fn setup(seed: u64, dossiers: usize, faults: f64) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let world = World::generate(WorldParams::new(seed, dossiers, faults, now()));
    let sims = Simulators::start(world, 0, 0).await.unwrap();
    let cfg = sims.config(dir.path(), &dir.path().join("t.db")).unwrap();
    let store = Store::open(&cfg.service.database).unwrap();
    let clients = Clients::new(&cfg).unwrap();
    Setup {
        sims,
        cfg,
        store,
        clients,
        _dir: dir,
    }
}

fn clock() -> Clock {
    // The sync runs shortly after the world's "now".
    Arc::new(|| now() + chrono::Duration::minutes(5))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_injected_fault_is_found_with_its_kind_and_nothing_else() {
    let mut faults_seen = BTreeSet::new();
    for seed in [11, 12, 13, 14] {
        let mut s = setup(seed, 1500, 0.04).await;
        let report = sync::run_cycle(&mut s.store, &s.cfg, &s.clients, &clock())
            .await
            .unwrap();
        assert_eq!(
            report.outcome,
            Outcome::Ok,
            "seed {seed}: {:?}",
            report.counts
        );
        let score = score_against_truth(&s.store, &s.sims.world).unwrap();
        assert_eq!(score.injected, 60, "seed {seed}");
        assert!(
            score.false_positives.is_empty() && score.missed.is_empty(),
            "seed {seed}: false positives {:?}, missed {:?}",
            score.false_positives,
            score.missed
        );
        // Pair discrepancies carry each side's verdict and the rule version they were judged
        // under (all of 2026: ND 118/2025).
        for d in s
            .store
            .discrepancies(&DiscrepancyFilter::default())
            .unwrap()
        {
            let pair = !matches!(
                d.kind.as_str(),
                "unmapped_status" | "bad_dossier_code" | "missing_due_date"
            );
            assert_eq!(d.provincial_verdict.is_some(), pair, "{d:?}");
            if pair {
                assert_eq!(d.rule_version.as_deref(), Some("nd118-2025"), "{d:?}");
            }
            if d.kind == "closed_locally_open_nationally" {
                assert!(d
                    .national_verdict
                    .as_deref()
                    .is_some_and(|v| v.starts_with("in_process")));
            }
        }
        faults_seen.extend(s.sims.world.truth.iter().map(|t| t.fault));
    }
    assert_eq!(
        faults_seen.len(),
        Fault::ALL.len(),
        "every fault kind exercised"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_cycle_with_nothing_changed_opens_and_resolves_nothing() {
    let mut s = setup(21, 1200, 0.04).await;
    let first = sync::run_cycle(&mut s.store, &s.cfg, &s.clients, &clock())
        .await
        .unwrap();
    assert!(first.counts.opened > 0);
    let before = s
        .store
        .discrepancies(&DiscrepancyFilter::default())
        .unwrap();
    let second = sync::run_cycle(&mut s.store, &s.cfg, &s.clients, &clock())
        .await
        .unwrap();
    assert_eq!(second.outcome, Outcome::Ok);
    assert_eq!(
        (
            second.counts.opened,
            second.counts.reopened,
            second.counts.resolved
        ),
        (0, 0, 0)
    );
    assert_eq!(second.counts.provincial_changed, 0, "no row changed");
    let after = s
        .store
        .discrepancies(&DiscrepancyFilter::default())
        .unwrap();
    let ids = |v: &[tthc_sync::store::DiscrepancyRow]| {
        v.iter()
            .map(|d| (d.id, d.kind.clone(), d.state.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&before), ids(&after));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_lookups_never_make_a_dossier_missing_and_the_run_is_partial() {
    let mut s = setup(31, 1200, 0.04).await;
    // Every lost push, and a tenth of all the other dossiers, fail to look up.
    let lost: BTreeSet<String> = s
        .sims
        .world
        .truth
        .iter()
        .filter(|t| t.fault == Fault::PushLost)
        .map(|t| t.dossier_code.clone())
        .collect();
    assert!(!lost.is_empty());
    {
        let mut k = s.sims.control.knobs();
        k.national_failing_codes = lost.iter().cloned().collect();
        for d in s.sims.world.dossiers.iter().step_by(10) {
            k.national_failing_codes.insert(d.national_code.clone());
        }
    }
    let report = sync::run_cycle(&mut s.store, &s.cfg, &s.clients, &clock())
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Partial);
    assert!(report.counts.lookup_errors > 0);
    assert!(
        report
            .counts
            .problems
            .iter()
            .any(|p| p.contains("national look-ups failed")),
        "{:?}",
        report.counts.problems
    );
    let missing = s
        .store
        .discrepancies(&DiscrepancyFilter {
            kind: Some(tthc_sync::reconcile::Kind::MissingOnNational),
            ..Default::default()
        })
        .unwrap();
    assert!(
        missing.is_empty(),
        "no missing_on_national from failed look-ups: {missing:?}"
    );
    // The failure is recorded on the run in the database too.
    let (_, outcome, problems) = s.store.last_run().unwrap().unwrap();
    assert_eq!(outcome, "partial");
    assert!(!problems.is_empty());

    // When the portal recovers, the next run past their back-off (15 minutes after one failed
    // look-up: `national.lookup_backoff_minutes`) finds them, and only them.
    s.sims.control.knobs().national_failing_codes.clear();
    let later: Clock = Arc::new(|| now() + chrono::Duration::minutes(25));
    let report = sync::run_cycle(&mut s.store, &s.cfg, &s.clients, &later)
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Ok);
    let score = score_against_truth(&s.store, &s.sims.world).unwrap();
    assert!(score.false_positives.is_empty() && score.missed.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_discrepancies_resolve_by_themselves_when_fixed_and_reopen() {
    let mut s = setup(41, 800, 0.05).await;
    sync::run_cycle(&mut s.store, &s.cfg, &s.clients, &clock())
        .await
        .unwrap();
    let open = s
        .store
        .discrepancies(&DiscrepancyFilter {
            states: vec![State::Open],
            ..Default::default()
        })
        .unwrap();
    let d = &open[0];
    s.store
        .set_discrepancy_state(
            d.id,
            State::Acknowledged,
            tthc_sync::store::ManualChange {
                by: "Nguyễn IT",
                os_user: "it",
                note: "đang kiểm tra",
            },
            now(),
        )
        .unwrap();
    let events = s.store.discrepancy_events(d.id).unwrap();
    assert_eq!(events.last().unwrap().event, "acknowledged");
    assert_eq!(events.last().unwrap().actor, "Nguyễn IT");
    // A manual resolve of something still wrong: the next comparison reopens it.
    s.store
        .set_discrepancy_state(
            d.id,
            State::Resolved,
            tthc_sync::store::ManualChange {
                by: "Nguyễn IT",
                os_user: "it",
                note: "thử",
            },
            now(),
        )
        .unwrap();
    let report = sync::run_cycle(&mut s.store, &s.cfg, &s.clients, &clock())
        .await
        .unwrap();
    assert_eq!(report.counts.reopened, 1);
    let again = s.store.discrepancy(d.id).unwrap().unwrap();
    assert_eq!(again.state, "open");
    let kinds: Vec<String> = s
        .store
        .discrepancy_events(d.id)
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(kinds, ["opened", "acknowledged", "resolved", "reopened"]);
}
