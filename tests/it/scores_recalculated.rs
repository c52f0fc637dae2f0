//! The recalculated national score ("điểm tính lại") equals the published one when the national
//! view is complete: a fault-free simulated world with every status flow of docs/simulators.md
//! (completed supplement pauses with and without a due-date move, second supplement requests,
//! edits that move only the last-modified time, procedures without due dates) is synced cycle
//! after cycle while its clock moves (so tthc-sync sees pauses open and close), then tthc-sync's
//! recalculation of each month from its stored views is compared with the score the simulated
//! portal publishes from its own records (`sim::scores::judge_row`), per unit and for the
//! province.
//!
//! Observation has a resolution (the interval between pulls): a verdict that flips within it is
//! *uncertain* (`scoring::is_uncertain`). The comparison is exact dossier by dossier: every
//! dossier on which the two verdicts differ must be uncertain, and the per-unit counts differ
//! by exactly those dossiers (none, in practice; the test prints how many were uncertain).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use tthc_sync::calendar::Calendar;
use tthc_sync::facts::Bound;
use tthc_sync::model::{LocalTime, Status, YearMonth};
use tthc_sync::report;
use tthc_sync::scores::fetch_scores;
use tthc_sync::scoring::{self, Tally};
use tthc_sync::sim::world::Flows;
use tthc_sync::sim::{scores::judge_row, Simulators, World, WorldParams};
use tthc_sync::store::{Outcome, Store};
use tthc_sync::sync::{self, Clients, Clock};

use crate::support::at;

/// The world's now: a Saturday morning, long after the last office hour, so that every push
/// has landed and every change is past the sync grace when the last cycle runs.
fn world_now() -> LocalTime {
    at(2026, 11, 28, 9, 0)
}

/// Rates well above the demo's, so that each flow counts in both months.
fn flows() -> Flows {
    Flows {
        supplement_rate: 0.2,
        due_extended_rate: 0.5,
        second_request_rate: 0.3,
        edit_rate: 0.3,
        no_due_date_procedures: vec!["1.004873".into(), "1.004227".into()],
    }
}

/// The moments the sync runs: every two and a half hours through each office day, from before the
/// world's first dossier, and once at the world's now.
fn cycle_times(first_day: NaiveDate, now: LocalTime) -> Vec<LocalTime> {
    let mut out = Vec::new();
    for day in first_day.iter_days().take_while(|d| *d < now.date()) {
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        for (h, m) in [(7, 0), (9, 30), (12, 0), (14, 30), (17, 30)] {
            out.push(day.and_hms_opt(h, m, 0).unwrap());
        }
    }
    out.push(now);
    out
}

/// Which of the flows a dossier went through, as the world made it.
#[derive(Debug, Default, Clone, Copy)]
struct FlowsSeen {
    completed_pause: bool,
    due_moved: bool,
    second_request: bool,
    edited: bool,
    no_due_date: bool,
}

impl FlowsSeen {
    fn add(&mut self, o: FlowsSeen) {
        self.completed_pause |= o.completed_pause;
        self.due_moved |= o.due_moved;
        self.second_request |= o.second_request;
        self.edited |= o.edited;
        self.no_due_date |= o.no_due_date;
    }
}

fn flows_of(world: &World, d: &tthc_sync::sim::world::SimDossier) -> FlowsSeen {
    let requests = d
        .history
        .windows(2)
        .filter(|w| w[1].1 == Status::SupplementRequested && w[0].1 != w[1].1)
        .count();
    let completed = d
        .history
        .windows(2)
        .any(|w| w[0].1 == Status::SupplementRequested && w[1].1 != Status::SupplementRequested);
    FlowsSeen {
        completed_pause: completed && d.due_moves.is_empty(),
        due_moved: !d.due_moves.is_empty(),
        second_request: requests > 1,
        edited: !d.edits.is_empty(),
        no_due_date: world
            .params
            .flows
            .no_due_date_procedures
            .contains(&world.procedure(d).code),
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Counts {
    counted: u64,
    good: u64,
}

impl Counts {
    fn add(&mut self, counted: bool, good: bool) {
        self.counted += u64::from(counted);
        self.good += u64::from(counted && good);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recalculated_national_score_equals_the_published_one_when_the_view_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    let now = world_now();
    let params = WorldParams {
        days: 33,
        flows: flows(),
        ..WorldParams::new(2101, 600, 0.0, now)
    };
    let first_day = now.date() - Duration::days(i64::from(params.days));
    let world = World::generate(params);
    let sims = Simulators::start(world, 0, 0).await.unwrap();
    let mut cfg = sims.config(dir.path(), &dir.path().join("t.db")).unwrap();
    let mut store = Store::open(&cfg.service.database).unwrap();
    let cal = Calendar::builtin();

    // Cycle after cycle, the world's clock moving: a small look-up budget meanwhile (the
    // provincial pulls are what observe the pauses), every dossier at the last cycle.
    let times = cycle_times(first_day, now);
    let started = std::time::Instant::now();
    cfg.national.lookups_per_cycle = 40;
    let mut clients = Clients::new(&cfg).unwrap();
    for (i, &t) in times.iter().enumerate() {
        if i + 1 == times.len() {
            cfg.national.lookups_per_cycle = 1_000_000;
            clients = Clients::new(&cfg).unwrap();
        }
        sims.advance_to(t).unwrap();
        let clock: Clock = Arc::new(move || t);
        let run = sync::run_cycle(&mut store, &cfg, &clients, &clock)
            .await
            .unwrap();
        assert_eq!(run.outcome, Outcome::Ok, "cycle at {t}: {:?}", run.counts);
    }
    eprintln!(
        "{} sync cycles from {} to {now} in {:.1} s",
        times.len(),
        times[0],
        started.elapsed().as_secs_f64()
    );
    let served = sims.advance_to(now).unwrap();

    // The national view is complete: every row the portal has is stored as the portal has it.
    let dossiers = store.provincial_dossiers().unwrap();
    let facts = store.provincial_facts().unwrap();
    assert_eq!(
        dossiers.len(),
        served.dossiers.len(),
        "every dossier pulled"
    );
    let mut national = HashMap::new();
    for row in served.national.values() {
        let stored = store
            .national_by_code(&row.code)
            .unwrap()
            .unwrap_or_else(|| panic!("{} never looked up", row.code));
        assert!(stored.found, "{}", row.code);
        let n = &stored.dossier.core;
        assert_eq!(
            (
                n.status,
                n.received_at,
                n.due_at,
                n.finished_at,
                n.returned_at
            ),
            (
                Some(row.status),
                row.received_at,
                row.due_at,
                row.finished_at,
                row.returned_at
            ),
            "{}: the stored view is the portal's",
            row.code
        );
        national.insert(row.code.clone(), stored.dossier);
    }

    for month in ["2026-10", "2026-11"] {
        let m: YearMonth = month.parse().unwrap();
        let end = scoring::period_end(m, now);
        // tthc-sync's recalculation, dossier by dossier (what the report tallies), with each
        // verdict's uncertainty; the portal's verdict on the same dossier.
        let mut recalculated: BTreeMap<String, Counts> = BTreeMap::new();
        let mut portal: BTreeMap<String, Counts> = BTreeMap::new();
        let mut uncertain = 0;
        let mut differing: Vec<String> = Vec::new();
        // Per unit: what the differing (uncertain) dossiers add to tthc-sync's counts beyond
        // the portal's, (counted, good).
        let mut delta: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let mut seen = FlowsSeen::default();
        let mut province_tally = Tally::default();
        for p in &dossiers {
            let Some(n) = national.get(&p.core.code) else {
                continue;
            };
            let mut p = p.clone();
            p.observed = facts.get(&p.local_id).cloned();
            let judge = |bound| scoring::judge_national_at(&n.core, &p, end, &cal, bound);
            let ours = judge(Bound::Estimate).unwrap();
            let ours_counts = scoring::counts_in(&ours, n.core.received_at, m);
            if ours_counts {
                province_tally.add(ours.verdict);
            }
            let row = &served.national[&p.core.code];
            let theirs = judge_row(row, end, &cal).unwrap();
            let theirs_counts = scoring::counts_in(&theirs, row.received_at, m);
            let unit = row.unit_code.clone();
            recalculated
                .entry(unit.clone())
                .or_default()
                .add(ours_counts, ours.verdict.is_good());
            portal
                .entry(unit)
                .or_default()
                .add(theirs_counts, theirs.verdict.is_good());
            let is_uncertain = scoring::is_uncertain(judge).unwrap();
            uncertain += usize::from(is_uncertain && ours_counts);
            if (ours_counts, ours.verdict.is_good()) != (theirs_counts, theirs.verdict.is_good()) {
                assert!(
                    is_uncertain,
                    "{month} {}: tthc-sync {:?}, the portal {:?}, and the verdict is certain \
                     (facts {:?}; the portal's pushes {:?})",
                    p.core.code, ours.verdict, theirs.verdict, p.observed, row.history
                );
                differing.push(p.core.code.clone());
                let e = delta.entry(row.unit_code.clone()).or_default();
                e.0 += i64::from(ours_counts) - i64::from(theirs_counts);
                e.1 += i64::from(ours_counts && ours.verdict.is_good())
                    - i64::from(theirs_counts && theirs.verdict.is_good());
            }
            if theirs_counts {
                let d = served
                    .dossiers
                    .iter()
                    .find(|d| d.national_code == p.core.code)
                    .unwrap();
                seen.add(flows_of(&served, d));
            }
        }
        // Dossiers with each flow count in the month.
        assert!(
            seen.completed_pause
                && seen.due_moved
                && seen.second_request
                && seen.edited
                && seen.no_due_date,
            "{month}: {seen:?}"
        );

        // The published scores, fetched as tthc-sync fetches them.
        let published = fetch_scores(&mut store, &cfg, m).await.unwrap();
        let province = published.province.expect("the tree has a parent");
        let rows = store.published_scores("progress_tree", m).unwrap();
        let mut total = Counts::default();
        for a in &served.agencies {
            let row = rows
                .iter()
                .find(|r| r.unit_code.as_deref() == Some(a.code.as_str()))
                .unwrap();
            let published = Counts {
                counted: row.total_received.unwrap() as u64,
                good: row.total_on_time.unwrap() as u64,
            };
            let ours = recalculated.get(&a.code).copied().unwrap_or_default();
            let theirs = portal.get(&a.code).copied().unwrap_or_default();
            assert_eq!(
                theirs, published,
                "{month} {}: the portal's own count",
                a.code
            );
            let (dc, dg) = delta.get(&a.code).copied().unwrap_or_default();
            assert_eq!(
                (ours.counted as i64 - dc, ours.good as i64 - dg),
                (published.counted as i64, published.good as i64),
                "{month} {}: recalculated, less the uncertain dossiers that differ",
                a.code
            );
            if (dc, dg) == (0, 0) {
                let score =
                    |c: Counts| (c.counted > 0).then(|| 20.0 * c.good as f64 / c.counted as f64);
                // The counts are equal (above); the scores as floating point, to rounding.
                match (row.tdgq_score, score(ours)) {
                    (Some(p), Some(o)) => assert!((p - o).abs() < 1e-9, "{month} {}", a.code),
                    (p, o) => assert_eq!(p, o, "{month} {}", a.code),
                }
            }
            total.counted += ours.counted;
            total.good += ours.good;
        }
        let (dc, dg) = delta
            .values()
            .fold((0, 0), |(c, g), (dc, dg)| (c + dc, g + dg));
        assert_eq!(
            (province.total_received, province.total_on_time),
            (
                Some(total.counted as i64 - dc),
                Some(total.good as i64 - dg)
            ),
            "{month}: the province"
        );

        // The report's "điểm tính lại" is the same recalculation.
        let r = report::build(&store, m, now, &cal, "Điện Biên").unwrap();
        assert_eq!(
            (
                r.national_view.counted,
                r.national_view.early
                    + r.national_view.on_time
                    + r.national_view.in_process_in_time
            ),
            (province_tally.counted, province_tally.good()),
            "{month}: the report"
        );
        assert_eq!(r.national_view.counted, total.counted, "{month}");
        if differing.is_empty() {
            let (ours, theirs) = (r.national_view.score.unwrap(), province.tdgq_score.unwrap());
            assert!((ours - theirs).abs() < 1e-9, "{month}: {ours} vs {theirs}");
        }
        eprintln!(
            "{month}: recalculated {:?} = published {:?} ({}/{} good); {} counted dossiers \
             uncertain within the observation resolution, {} of them differing",
            r.national_view.score,
            province.tdgq_score,
            total.good,
            total.counted,
            uncertain,
            differing.len()
        );
    }
}
