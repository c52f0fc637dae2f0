//! Precision on real vendors: a world whose vendor writes correct data in its own
//! ways — dates it does not carry for a status left empty (per its profile's `[carries]`, and
//! beyond it), time-zone forms, other date formats, label-only statuses; the national replies
//! wrapped as `result` or `data`, codes as number or string — none of them a fault. Every
//! profile must then find every injected fault (recall 100 %) and list nothing else by default
//! (precision 100 %).

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use tthc_sync::demo::score_against_truth;
use tthc_sync::model::{LocalTime, Status};
use tthc_sync::sim::habits;
use tthc_sync::sim::{SimProfile, Simulators, World, WorldParams};
use tthc_sync::store::{DiscrepancyFilter, Outcome, Store};
use tthc_sync::sync::{self, Clients, Clock, CycleReport};

fn world_now() -> LocalTime {
    NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_opt(16, 0, 0)
        .unwrap()
}

/// One sync cycle at [`world_now`] of `world` served in `profile`'s wire format, on a fresh
/// database (kept alive by the returned directory).
async fn one_cycle(
    world: &World,
    profile: SimProfile,
) -> (Simulators, tempfile::TempDir, Store, CycleReport) {
    let sims = Simulators::start_with(world.clone(), profile, 0, 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = sims
        .config(dir.path(), &dir.path().join("tthc-sync.db"))
        .unwrap();
    cfg.validate().unwrap();
    let clients = Clients::new(&cfg).unwrap();
    let mut store = Store::open(&cfg.service.database).unwrap();
    let clock: Clock = Arc::new(world_now);
    let r = sync::run_cycle(&mut store, &cfg, &clients, &clock)
        .await
        .unwrap();
    (sims, dir, store, r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_profile_finds_every_fault_and_nothing_else_despite_vendor_habits() {
    let world = World::generate(WorldParams {
        vendor_habits: true,
        ..WorldParams::new(21, 600, 0.05, world_now())
    });
    // The habits the test relies on are in the world.
    let closed_early = world
        .dossiers
        .iter()
        .filter(|d| matches!(d.status(), Status::Withdrawn | Status::Stopped))
        .filter(|d| {
            world
                .national_lookup(&d.national_code)
                .is_some_and(|r| r.finished_at.is_some())
        })
        .count();
    assert!(
        closed_early >= 5,
        "withdrawn/stopped with a finish time on the portal: {closed_early}"
    );
    let beyond: BTreeSet<String> = world
        .dossiers
        .iter()
        .enumerate()
        .filter(|(i, d)| habits::finish_left_empty(*i, d))
        .filter(|(_, d)| {
            !world
                .truth
                .iter()
                .any(|t| t.dossier_code == d.national_code)
        })
        .map(|(_, d)| d.id.clone())
        .collect();
    assert!(
        beyond.len() >= 5,
        "finish times left empty beyond the profile: {}",
        beyond.len()
    );

    for profile in SimProfile::ALL {
        let (sims, _dir, store, r) = one_cycle(&world, profile).await;
        assert_eq!(
            r.outcome,
            Outcome::Ok,
            "{profile:?}: {:?}",
            r.counts.problems
        );
        assert_eq!(r.counts.provincial_rows, 600, "{profile:?}: every row read");

        let score = score_against_truth(&store, &sims.world).unwrap();
        assert!(score.injected >= 25, "{profile:?}: {score:?}");
        assert_eq!(
            (score.precision(), score.recall()),
            (1.0, 1.0),
            "{profile:?}: false {:?}, missed {:?}",
            score.false_positives,
            score.missed
        );

        // What is not listed by default is the vendor's habit beyond its profile, and only
        // that: a finish time the province's row lacks, low, costing nothing.
        let low = store
            .discrepancies(&DiscrepancyFilter {
                least_severity: None,
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .filter(|d| d.severity == "low")
            .filter(|d| {
                !sims
                    .world
                    .truth
                    .iter()
                    .any(|t| t.dossier_id == d.dossier_id)
            })
            .collect::<Vec<_>>();
        for d in &low {
            assert_eq!(
                (d.kind.as_str(), d.provincial.as_str(), d.score_impact),
                ("finish_date_mismatch", "(trống)", 0.0),
                "{profile:?}: {d:?}"
            );
        }
        let low_ids: BTreeSet<String> = low.iter().map(|d| d.dossier_id.clone()).collect();
        assert_eq!(low_ids, beyond, "{profile:?}");
    }
}

/// The demo's world: vendor habits and every status flow (completed pauses with and without a
/// due-date move, second supplement requests, edits that move only the last-modified time,
/// procedures whose dossiers get no due date). Every profile finds every injected fault and
/// the `missing_due_date` of every received dossier without a due date, and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_profile_finds_the_truth_of_a_world_with_every_status_flow() {
    let world = World::generate(WorldParams {
        vendor_habits: true,
        flows: tthc_sync::sim::world::Flows::demo(),
        ..WorldParams::new(23, 1500, 0.04, world_now())
    });
    let due_not_set = world
        .truth
        .iter()
        .filter(|t| t.fault == tthc_sync::sim::Fault::DueNotSet)
        .count();
    let edited = world
        .dossiers
        .iter()
        .filter(|d| !d.edits.is_empty())
        .count();
    let moved = world
        .dossiers
        .iter()
        .filter(|d| !d.due_moves.is_empty())
        .count();
    let second = world
        .dossiers
        .iter()
        .filter(|d| {
            d.history
                .iter()
                .filter(|h| h.1 == Status::SupplementRequested)
                .count()
                > 1
        })
        .count();
    assert!(
        due_not_set >= 10 && edited >= 20 && moved >= 5 && second >= 3,
        "flows in the world: no due date {due_not_set}, edited {edited}, due moved {moved}, \
         second request {second}"
    );
    for profile in SimProfile::ALL {
        let (sims, _dir, store, r) = one_cycle(&world, profile).await;
        assert_eq!(r.outcome, Outcome::Ok, "{profile:?}: {:?}", r.counts);
        let score = score_against_truth(&store, &sims.world).unwrap();
        assert!(
            score.false_positives.is_empty() && score.missed.is_empty(),
            "{profile:?}: false positives {:?}, missed {:?}",
            score.false_positives,
            score.missed
        );
        eprintln!(
            "{profile:?}: {} truth lines ({due_not_set} without a due date), all found",
            score.injected
        );
    }
}
