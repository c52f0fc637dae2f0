//! The monthly report built from the store, end to end: simulators → one sync cycle →
//! `report::build`, checked against figures recomputed here independently from the simulated
//! world (its dossiers and national rows, counted with the plain rule of docs/domain.md §2); an
//! end-to-end Markdown snapshot; agencies grouped as in force in the month; published scores.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tthc_sync::calendar::Calendar;
use tthc_sync::model::{
    is_well_formed_national_code, DossierCore, LocalTime, Pause, ProvincialDossier, Status,
    YearMonth,
};
use tthc_sync::report::{self, agencies, Format, MonthlyReport};
use tthc_sync::sim::{Simulators, World, WorldParams};
use tthc_sync::store::{Outcome, Store};
use tthc_sync::sync::{self, Clients, Clock};
use tthc_sync::timeliness::{self, TimelinessInput, Verdict};

use crate::support::snapshot;

use crate::support::at;

/// The world's "now" (inside a year the holiday files cover); the sync and the report run two
/// hours later, past the sync grace period, so that every dossier has been looked up (the
/// planner leaves a dossier changed within the grace for a later cycle).
fn world_now() -> LocalTime {
    at(2026, 11, 20, 15, 30)
}
fn run_now() -> LocalTime {
    world_now() + chrono::Duration::hours(2)
}

/// Simulators for a world, one sync cycle into a fresh database, the agencies seeded.
async fn synced(seed: u64, dossiers: usize, faults: f64) -> (World, Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let world = World::generate(WorldParams::new(seed, dossiers, faults, world_now()));
    let sims = Simulators::start(world.clone(), 0, 0).await.unwrap();
    let cfg = sims.config(dir.path(), &dir.path().join("t.db")).unwrap();
    let mut store = Store::open(&cfg.service.database).unwrap();
    let clients = Clients::new(&cfg).unwrap();
    let clock: Clock = Arc::new(run_now);
    let run = sync::run_cycle(&mut store, &cfg, &clients, &clock)
        .await
        .unwrap();
    assert_eq!(run.outcome, Outcome::Ok, "{:?}", run.counts);
    store
        .upsert_agencies(&agencies::parse_agencies(agencies::DIEN_BIEN_TOML).unwrap())
        .unwrap();
    (world, store, dir)
}

// ----- the independent recomputation ---------------------------------------------------------

#[derive(Debug, Default, PartialEq)]
struct Counts {
    early: u64,
    on_time: u64,
    late: u64,
    in_time: u64,
    overdue: u64,
}

impl Counts {
    fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Early => self.early += 1,
            Verdict::OnTime => self.on_time += 1,
            Verdict::Late => self.late += 1,
            Verdict::InProcessInTime => self.in_time += 1,
            Verdict::InProcessOverdue => self.overdue += 1,
            Verdict::NotCounted | Verdict::Unknown => unreachable!(),
        }
    }
    fn total(&self) -> u64 {
        self.early + self.on_time + self.late + self.in_time + self.overdue
    }
    fn score(&self) -> Option<f64> {
        let good = self.early + self.on_time + self.in_time;
        (self.total() > 0).then(|| 20.0 * good as f64 / self.total() as f64)
    }
    fn of(f: &report::ScoreFigures) -> Counts {
        Counts {
            early: f.early,
            on_time: f.on_time,
            late: f.late,
            in_time: f.in_process_in_time,
            overdue: f.in_process_overdue,
        }
    }
}

/// The verdict of one side's view of a dossier for month `m` by the plain rule, or `None`
/// when it does not count in `m`: not formally received (no status, status 1 or 3, no received
/// time, received after the period), or closed before the month began.
fn verdict_in_month(
    status: Option<Status>,
    core: &DossierCore,
    status_since: Option<LocalTime>,
    pauses: &[Pause],
    supplement_requests: u32,
    m: YearMonth,
    cal: &Calendar,
) -> Option<Verdict> {
    let (v, counted) = verdict_at_end_of(
        status,
        core,
        status_since,
        pauses,
        supplement_requests,
        m,
        cal,
    )?;
    counted.then_some(v)
}

/// The verdict at the end of month `m` of a dossier received by then, and whether it counts
/// in `m` (it does not when it closed before `m` began).
fn verdict_at_end_of(
    status: Option<Status>,
    core: &DossierCore,
    status_since: Option<LocalTime>,
    pauses: &[Pause],
    supplement_requests: u32,
    m: YearMonth,
    cal: &Calendar,
) -> Option<(Verdict, bool)> {
    let status = status?;
    if matches!(status, Status::Submitted | Status::Rejected) {
        return None;
    }
    let period_end = m.end().min(run_now());
    if core.received_at? > period_end {
        return None;
    }
    let j = timeliness::judge(
        &TimelinessInput {
            core,
            status_since,
            pauses,
            supplement_requests,
            statutory: None,
        },
        period_end,
        cal,
    )
    .unwrap();
    let closed = matches!(j.verdict, Verdict::Early | Verdict::OnTime | Verdict::Late);
    Some((j.verdict, !(closed && j.end.unwrap() < m.start())))
}

#[derive(Debug, Default)]
struct Expected {
    national: Counts,
    provincial: Counts,
    /// (agency code, dossier code)
    appendix_1: BTreeSet<(String, String)>,
    appendix_2: BTreeSet<(String, String)>,
    appendix_3: BTreeSet<String>,
}

/// Recomputes month `m` from the world: the province's records as its system reports them
/// (an unknown status label has no status; the row's "updated" time is the status time; the
/// iGate rows carry no pause times), and the portal's rows as a look-up by the province's
/// code finds them (a code the portal cannot match is never looked up). A dossier waiting for
/// the applicant (status 5 or 6) has its clock paused since the row's last update.
fn recompute(w: &World, m: YearMonth) -> Expected {
    let cal = Calendar::builtin();
    let mut e = Expected::default();
    for d in &w.dossiers {
        let pstatus = d.label_override.is_none().then(|| d.status());
        let pcore = DossierCore {
            code: d.national_code.clone(),
            status: pstatus,
            received_at: d.received_at,
            due_at: d.due_at,
            finished_at: d.finished_at,
            returned_at: d.returned_at,
            ..Default::default()
        };
        let supp = |s: Option<Status>| u32::from(s == Some(Status::SupplementRequested));
        let paused: Vec<Pause> = match pstatus {
            Some(Status::SupplementRequested | Status::AwaitingPayment) => vec![Pause {
                start: d.updated_at(),
                end: None,
            }],
            _ => vec![],
        };
        let p_end = verdict_at_end_of(
            pstatus,
            &pcore,
            Some(d.updated_at()),
            &paused,
            supp(pstatus),
            m,
            &cal,
        );
        let pv = p_end.filter(|x| x.1).map(|x| x.0);
        let row = is_well_formed_national_code(&d.national_code)
            .then(|| w.national.get(&d.national_code))
            .flatten();
        let nv = row.and_then(|r| {
            let ncore = DossierCore {
                code: r.code.clone(),
                status: Some(r.status),
                received_at: r.received_at,
                due_at: r.due_at,
                finished_at: r.finished_at,
                returned_at: r.returned_at,
                ..Default::default()
            };
            // The portal's reply has no status time: the province's, when the statuses agree.
            let same = pstatus == Some(r.status);
            verdict_in_month(
                Some(r.status),
                &ncore,
                same.then(|| d.updated_at()),
                if same { &paused } else { &[] },
                if same {
                    supp(pstatus)
                } else {
                    supp(Some(r.status))
                },
                m,
                &cal,
            )
        });
        let agency = w.agency(d).code.clone();
        if let Some(v) = pv {
            e.provincial.add(v);
            if matches!(v, Verdict::Late | Verdict::InProcessOverdue) {
                e.appendix_2
                    .insert((agency.clone(), d.national_code.clone()));
            }
        }
        if let Some(v) = nv {
            e.national.add(v);
            if v == Verdict::InProcessOverdue {
                e.appendix_1
                    .insert((row.unwrap().unit_code.clone(), d.national_code.clone()));
            }
        }
        // Phụ lục III: bad on the portal this month, good in the province's records at the
        // same period end (even if the province closed it in an earlier month).
        if let (Some((p, _)), Some(n)) = (p_end, nv) {
            let good = |v: Verdict| {
                matches!(
                    v,
                    Verdict::Early | Verdict::OnTime | Verdict::InProcessInTime
                )
            };
            if good(p) && !good(n) {
                e.appendix_3.insert(d.national_code.clone());
            }
        }
    }
    e
}

fn sets(r: &MonthlyReport) -> Expected {
    let mut e = Expected {
        national: Counts::of(&r.national_view),
        provincial: Counts::of(&r.provincial_view),
        ..Default::default()
    };
    for g in &r.appendix_1 {
        for row in &g.rows {
            e.appendix_1
                .insert((g.agency_code.clone(), row.dossier_code.clone()));
        }
    }
    for g in &r.appendix_2 {
        for row in &g.rows {
            e.appendix_2
                .insert((g.agency_code.clone(), row.dossier_code.clone()));
        }
    }
    e.appendix_3 = r
        .appendix_3
        .iter()
        .map(|x| x.dossier_code.clone())
        .collect();
    e
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_matches_figures_recomputed_from_the_simulated_world() {
    let (world, store, _dir) = synced(51, 2000, 0.04).await;
    let month = YearMonth::of(&world_now());
    let r = report::build(&store, month, run_now(), &Calendar::builtin(), "Điện Biên").unwrap();

    for m in [month, month.previous()] {
        let want = recompute(&world, m);
        let (national, provincial) = if m == month {
            (Counts::of(&r.national_view), Counts::of(&r.provincial_view))
        } else {
            let prev = r.previous_month.as_ref().expect("previous month");
            let point = r.history.iter().find(|p| p.month == m).unwrap();
            assert!(close(point.provincial_view, want.provincial.score()));
            (Counts::of(prev), Counts::default())
        };
        eprintln!(
            "{m}: recomputed national {:?} score {:?}, provincial {:?} score {:?}",
            want.national,
            want.national.score(),
            want.provincial,
            want.provincial.score()
        );
        assert_eq!(national, want.national, "{m}: national view");
        if m == month {
            assert_eq!(provincial, want.provincial, "{m}: provincial view");
        }
    }

    let want = recompute(&world, month);
    let got = sets(&r);
    assert!(close(r.national_view.score, want.national.score()));
    assert!(close(r.provincial_view.score, want.provincial.score()));
    assert_eq!(r.national_view.counted, want.national.total());
    assert_eq!(r.provincial_view.counted, want.provincial.total());
    assert_eq!(got.appendix_1, want.appendix_1, "Phụ lục I");
    assert_eq!(got.appendix_2, want.appendix_2, "Phụ lục II");
    assert_eq!(got.appendix_3, want.appendix_3, "Phụ lục III");
    eprintln!(
        "report {month}: national {:?} = {:?}; provincial {:?} = {:?}; \
         appendix I {} / II {} / III {} dossiers; gap {:?}",
        got.national,
        r.national_view.score,
        got.provincial,
        r.provincial_view.score,
        got.appendix_1.len(),
        got.appendix_2.len(),
        got.appendix_3.len(),
        r.gap
    );
    // Something to check in every part.
    assert!(!want.appendix_1.is_empty() && !want.appendix_2.is_empty());
    assert!(!want.appendix_3.is_empty());

    // Each Phụ lục III dossier is explained by the fault the world injected into it.
    let truth: BTreeMap<&str, &str> = world
        .truth
        .iter()
        .map(|t| (t.dossier_code.as_str(), t.expected_kind.as_str()))
        .collect();
    for row in &r.appendix_3 {
        assert_eq!(
            truth.get(row.dossier_code.as_str()).copied(),
            Some(row.kind.as_str()),
            "{}",
            row.dossier_code
        );
        assert!(row.points > 0.0, "{row:?}");
    }
    // The gap is made of the injected kinds, and what it explains is the score difference
    // (each flipped dossier moves the score by 20/N).
    for g in &r.gap {
        assert!(truth.values().any(|k| *k == g.kind), "{g:?}");
    }
    assert_eq!(r.history.len(), 12);
    assert_eq!(r.history.last().unwrap().month, month);
    assert!(r.published_score.is_none());
}

// ----- the end-to-end snapshot ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markdown_of_a_simulated_month_matches_its_snapshot() {
    let (_world, store, _dir) = synced(2024, 800, 0.1).await;
    let r = report::build(
        &store,
        YearMonth::of(&world_now()),
        run_now(),
        &Calendar::builtin(),
        "Điện Biên",
    )
    .unwrap();
    let (name, bytes) = report::render(&r, Format::Markdown, &report::DocumentSettings::default())
        .unwrap()
        .remove(0);
    assert_eq!(name, "bao-cao-tien-do-2026-11.md");
    snapshot::check("sim-2024-800-bao-cao-tien-do-2026-11.md", &bytes);
}

// ----- agencies in force, published scores ----------------------------------------------------

/// A dossier of UBND huyện Mường Ảng (abolished on 2025-07-01), received in June 2025 and
/// still in process.
fn district_dossier() -> ProvincialDossier {
    let code = "000.48.31.H18-250610-0001";
    ProvincialDossier {
        key: code.into(),
        core: DossierCore {
            code: code.into(),
            procedure_code: Some("1.001193".into()),
            agency_code: Some("000.48.31.H18".into()),
            status: Some(Status::Processing),
            status_raw: "Đang xử lý".into(),
            received_at: Some(at(2025, 6, 10, 9, 0)),
            due_at: Some(at(2025, 6, 20, 17, 0)),
            finished_at: None,
            returned_at: None,
        },
        local_id: "d1".into(),
        local_code: "HS25.000001".into(),
        procedure_name: Some("Đăng ký khai sinh".into()),
        agency_name: Some("UBND huyện Mường Ảng".into()),
        has_due_date: true,
        status_label: Some("Đang xử lý".into()),
        handler: Some("Cán bộ Thử Nghiệm".into()),
        updated_at: at(2025, 6, 10, 9, 5),
        row_hash: "h1".into(),
        ..Default::default()
    }
}

fn store_with(d: ProvincialDossier) -> Store {
    let mut store = Store::open_in_memory().unwrap();
    let run = store.begin_run("test", at(2025, 8, 15, 9, 0)).unwrap();
    store
        .store_provincial_page(
            run,
            "test",
            at(2025, 8, 15, 9, 0),
            &[(d, "{}".into())],
            None,
        )
        .unwrap();
    store
}

fn appendix_2_groups(store: &Store, month: YearMonth) -> Vec<(String, String, Vec<String>)> {
    let r = report::build(
        store,
        month,
        at(2025, 8, 15, 9, 0),
        &Calendar::builtin(),
        "Điện Biên",
    )
    .unwrap();
    r.appendix_2
        .iter()
        .map(|g| {
            (
                g.agency_code.clone(),
                g.agency_name.clone(),
                g.rows.iter().flat_map(|x| x.officials.clone()).collect(),
            )
        })
        .collect()
}

#[test]
fn an_abolished_unit_is_itself_in_its_month_and_its_successor_later() {
    let mut store = store_with(district_dossier());
    // No agency data: the dossier's own agency.
    assert_eq!(
        appendix_2_groups(&store, YearMonth::new(2025, 8).unwrap()),
        [(
            "000.48.31.H18".into(),
            "UBND huyện Mường Ảng".into(),
            vec!["Cán bộ Thử Nghiệm".to_string()]
        )]
    );
    store
        .upsert_agencies(&agencies::parse_agencies(agencies::DIEN_BIEN_TOML).unwrap())
        .unwrap();
    assert_eq!(
        appendix_2_groups(&store, YearMonth::new(2025, 6).unwrap()),
        [(
            "000.48.31.H18".into(),
            "UBND huyện Mường Ảng".into(),
            vec!["Cán bộ Thử Nghiệm".to_string()]
        )]
    );
    assert_eq!(
        appendix_2_groups(&store, YearMonth::new(2025, 8).unwrap()),
        [(
            "03295.H18".into(),
            "Xã Mường Ảng".into(),
            vec!["Cán bộ Thử Nghiệm".to_string()]
        )]
    );
}

#[test]
fn the_published_score_is_the_provinces_row_and_history_shows_it() {
    let store = store_with(district_dossier());
    let insert = |api: &str, month: u32, key: &str, name: &str, score: f64, max: f64| {
        store
            .conn()
            .execute(
                "INSERT INTO published_score (api, year, month, unit_key, unit_name, tdgq_score,
                    max_score, raw_json, fetched_at)
                 VALUES (?1, 2025, ?2, ?3, ?4, ?5, ?6, '{}', '2025-08-15 09:00:00')",
                rusqlite::params![api, month, key, name, score, max],
            )
            .unwrap();
    };
    insert("legacy", 8, "11", "Tỉnh Điện Biên", 19.0, 20.0);
    insert("progress_tree", 8, "p11", "UBND tỉnh Điện Biên", 9.75, 10.0);
    insert("legacy", 8, "12", "Sở Tư pháp tỉnh Điện Biên", 12.0, 20.0);
    insert("legacy", 7, "11", "Tỉnh Điện Biên", 18.6, 20.0);
    insert("legacy", 7, "13", "Tỉnh Lai Châu", 17.0, 20.0);
    // The ranking of provinces (p_tinh_id = 0) of August: the national average and the rank.
    insert("legacy", 8, "tinh:1", "Thành phố Hà Nội", 19.9, 20.0);
    insert("legacy", 8, "tinh:11", "Tỉnh Điện Biên", 19.0, 20.0);
    insert("legacy", 8, "tinh:13", "Tỉnh Lai Châu", 17.0, 20.0);
    insert("legacy", 8, "tinh:79", "Thành phố Hồ Chí Minh", 19.0, 20.0);
    let r = report::build(
        &store,
        YearMonth::new(2025, 8).unwrap(),
        at(2025, 8, 15, 9, 0),
        &Calendar::builtin(),
        "Điện Biên",
    )
    .unwrap();
    assert_eq!(
        r.published_score,
        Some(19.5),
        "progress_tree first, scaled to 20"
    );
    let july = r.history.iter().find(|p| p.month.month == 7).unwrap();
    assert_eq!(july.published, Some(18.6));
    // (19,9 + 19 + 17 + 19) / 4; second with Hồ Chí Minh (same score), behind Hà Nội.
    assert!(
        (r.national_average.unwrap() - 18.725).abs() < 1e-9,
        "{:?}",
        r.national_average
    );
    assert_eq!(r.national_rank, Some(report::Rank { position: 2, of: 4 }));
    // July has no ranking of provinces: its average is not published.
    let r = report::build(
        &store,
        YearMonth::new(2025, 7).unwrap(),
        at(2025, 8, 15, 9, 0),
        &Calendar::builtin(),
        "Điện Biên",
    )
    .unwrap();
    assert_eq!((r.national_average, r.national_rank), (None, None));
    assert_eq!(r.published_score, Some(18.6));
    // The dossier: in process and overdue in both months, in the provincial view only.
    assert_eq!(r.provincial_view.in_process_overdue, 1);
    assert_eq!(r.national_view.counted, 0);
    assert_eq!(july.provincial_view, Some(0.0));
}
