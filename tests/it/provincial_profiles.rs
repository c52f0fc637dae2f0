//! Each provincial profile pulls a simulated world, and the stored provincial view must equal
//! the world exactly; each injected transport fault either leaves the pull complete or marks
//! the run partial with the reason, with no row lost or duplicated and no false discrepancy.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use tthc_sync::config::Config;
use tthc_sync::demo::score_against_truth;
use tthc_sync::model::{Channel, DossierCore, LocalTime, ProvincialDossier, Status};
use tthc_sync::sim::provincial::{
    igate_label, opencps_system_id, opencps_words, supplement_requested_at, td_uses_khac,
    OPENCPS_UNMAPPED_WORD, TD_UNMAPPED_ID,
};
use tthc_sync::sim::{
    PageAnomaly, PageAnomalyPlan, PageFault, PageFaultPlan, SimProfile, Simulators, World,
    WorldParams,
};
use tthc_sync::store::{Outcome, PullRecord, Store};
use tthc_sync::sync::{self, Clients, Clock, CycleReport};

use crate::support::logs::Capture;

const PAGE_SIZE: u32 = 50;

fn world_now() -> LocalTime {
    NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_opt(16, 0, 0)
        .unwrap()
}

struct Setup {
    sims: Simulators,
    cfg: Config,
    _dir: tempfile::TempDir,
}

async fn setup(profile: SimProfile, dossiers: usize) -> Setup {
    let world = World::generate(WorldParams::new(11, dossiers, 0.05, world_now()));
    let sims = Simulators::start_with(world, profile, 0, 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = sims
        .config(dir.path(), &dir.path().join("tthc-sync.db"))
        .unwrap();
    cfg.provincial.page_size = PAGE_SIZE;
    cfg.validate().unwrap();
    Setup {
        sims,
        cfg,
        _dir: dir,
    }
}

/// One sync cycle at `at`, with fresh clients (as `tthc-sync sync --once` would).
async fn cycle(s: &Setup, at: LocalTime) -> CycleReport {
    let clients = Clients::new(&s.cfg).unwrap();
    let mut store = Store::open(&s.cfg.service.database).unwrap();
    let clock: Clock = Arc::new(move || at);
    sync::run_cycle(&mut store, &s.cfg, &clients, &clock)
        .await
        .unwrap()
}

fn store(s: &Setup) -> Store {
    Store::open(&s.cfg.service.database).unwrap()
}

/// What the provincial view must hold for every dossier of the world, written from the spec
/// independently of the mapping code.
fn expected(s: &Setup) -> Vec<ProvincialDossier> {
    let w = &s.sims.world;
    let profile = s.sims.profile;
    let mut out: Vec<ProvincialDossier> = w
        .dossiers
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let real = d.status();
            let status = if d.label_override.is_some() {
                None
            } else {
                Some(real)
            };
            let label = d
                .label_override
                .clone()
                .unwrap_or_else(|| igate_label(real).to_string());
            let (status_raw, status_label, local_code, handler, supplement_at) = match profile {
                SimProfile::Igate => (
                    label.clone(),
                    Some(label),
                    d.local_code.clone(),
                    Some(d.handler.clone()),
                    None,
                ),
                SimProfile::Opencps => {
                    let raw = match d.label_override {
                        Some(_) => OPENCPS_UNMAPPED_WORD.to_string(),
                        None => match opencps_words(real) {
                            (w, "") => w.to_string(),
                            (w, sub) => format!("{w}/{sub}"),
                        },
                    };
                    let local = if opencps_system_id(i) == 5 {
                        d.local_code.clone()
                    } else {
                        d.national_code.clone()
                    };
                    (raw, Some(label), local, None, None)
                }
                SimProfile::Td => {
                    let raw = match d.label_override {
                        Some(_) => TD_UNMAPPED_ID.to_string(),
                        None => real.code().to_string(),
                    };
                    let local = if td_uses_khac(i) {
                        d.local_code.clone()
                    } else {
                        d.national_code.clone()
                    };
                    (
                        raw,
                        None,
                        local,
                        Some(d.handler.clone()),
                        supplement_requested_at(d),
                    )
                }
            };
            let updated_at = s.sims.control.updated_at(d);
            let pausing =
                |st: Status| matches!(st, Status::SupplementRequested | Status::AwaitingPayment);
            // OpenCPS also pauses on lockState, which follows the real status.
            let paused =
                status.is_some_and(pausing) || (profile == SimProfile::Opencps && pausing(real));
            ProvincialDossier {
                key: d.national_code.clone(),
                core: DossierCore {
                    code: d.national_code.clone(),
                    procedure_code: Some(w.procedure(d).code.clone()),
                    agency_code: Some(w.agency(d).code.clone()),
                    status,
                    status_raw,
                    received_at: d.received_at,
                    due_at: d.due_at,
                    finished_at: d.finished_at,
                    returned_at: d.returned_at,
                },
                local_id: d.id.clone(),
                local_code,
                procedure_name: Some(w.procedure(d).name.clone()),
                agency_name: Some(w.agency(d).name.clone()),
                channel: match d.channel {
                    0 => Channel::Direct,
                    1 => Channel::Online,
                    _ => Channel::Postal,
                },
                has_due_date: true,
                status_label,
                paused_since: paused.then(|| supplement_at.unwrap_or(updated_at)),
                supplement_requests: supplement_at.map(|_| 1),
                handler,
                updated_at,
                row_hash: String::new(),
                observed: None,
            }
        })
        .collect();
    out.sort_by(|a, b| a.local_id.cmp(&b.local_id));
    out
}

/// The stored provincial view equals the world, dossier by dossier and field by field.
fn assert_view_equals_world(s: &Setup) {
    let mut got = store(s).provincial_dossiers().unwrap();
    for d in &mut got {
        assert!(!d.row_hash.is_empty());
        d.row_hash.clear();
    }
    let want = expected(s);
    assert_eq!(got.len(), want.len(), "every dossier once, none twice");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "{:?} dossier {}", s.sims.profile, w.local_id);
    }
}

/// No personal data of any applicant reached the database.
fn assert_no_personal_data(s: &Setup) {
    let store = store(s);
    let raws: Vec<String> = store
        .conn()
        .prepare("SELECT raw_json FROM provincial_dossier")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let all = raws.join("\n");
    for d in &s.sims.world.dossiers {
        for pii in [
            &d.applicant.identity_number,
            &d.applicant.phone,
            &d.applicant.email,
            &d.applicant.address,
        ] {
            assert!(!all.contains(pii.as_str()), "personal data {pii} stored");
        }
    }
}

fn assert_no_false_discrepancy(s: &Setup, complete: bool) {
    let score = score_against_truth(&store(s), &s.sims.world).unwrap();
    assert!(
        score.false_positives.is_empty(),
        "{:?}: false discrepancies {:?}",
        s.sims.profile,
        score.false_positives
    );
    if complete {
        assert!(score.missed.is_empty(), "missed {:?}", score.missed);
    }
}

fn watermark(s: &Setup, suffix: &str) -> Option<LocalTime> {
    let source = format!("provincial:{}{suffix}", s.sims.profile.name());
    store(s).watermark(&source).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_profile_pulls_the_world_exactly() {
    for profile in SimProfile::ALL {
        let s = setup(profile, 400).await;
        let r = cycle(&s, world_now()).await;
        assert_eq!(
            r.outcome,
            Outcome::Ok,
            "{profile:?}: {:?}",
            r.counts.problems
        );
        assert_eq!(r.counts.provincial_rows, 400);
        assert_view_equals_world(&s);
        assert_no_personal_data(&s);
        assert_no_false_discrepancy(&s, true);
        assert!(watermark(&s, "").is_some() && watermark(&s, ":sweep").is_some());

        // The next cycle is incremental: it stops at the watermark minus the overlap (one
        // page here), and changes nothing.
        let pages = s.sims.control.hits("page");
        let r = cycle(&s, world_now() + chrono::Duration::minutes(30)).await;
        assert_eq!(r.outcome, Outcome::Ok);
        assert_eq!(s.sims.control.hits("page") - pages, 1, "{profile:?}");
        assert_eq!(r.counts.provincial_changed, 0);
        assert_view_equals_world(&s);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_runs_when_due() {
    let mut s = setup(SimProfile::Igate, 300).await;
    s.cfg.provincial.sweep_hours = 6;
    cycle(&s, world_now()).await;
    let first_sweep = watermark(&s, ":sweep").unwrap();
    let pages = s.sims.control.hits("page");
    cycle(&s, world_now() + chrono::Duration::hours(5)).await;
    assert_eq!(s.sims.control.hits("page") - pages, 1, "incremental");
    assert_eq!(watermark(&s, ":sweep"), Some(first_sweep));
    let pages = s.sims.control.hits("page");
    let later = world_now() + chrono::Duration::hours(7);
    cycle(&s, later).await;
    assert_eq!(
        s.sims.control.hits("page") - pages,
        u64::from(300u32.div_ceil(PAGE_SIZE)),
        "a sweep reads every page"
    );
    assert_eq!(watermark(&s, ":sweep"), Some(later));
    assert_view_equals_world(&s);
}

/// Transient faults: the HTTP policy retries and the pull completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_leave_the_pull_complete() {
    let faults = [
        PageFault::TooManyRequests {
            retry_after_secs: 1,
        },
        PageFault::Status(500),
        PageFault::Status(502),
        PageFault::Status(503),
        PageFault::Slow { millis: 1500 },
        PageFault::Reset,
        PageFault::Truncated,
        PageFault::InvalidJson,
        PageFault::Html200,
    ];
    for (n, fault) in faults.into_iter().enumerate() {
        let profile = SimProfile::ALL[n % 3];
        let mut s = setup(profile, 200).await;
        s.cfg.provincial.http.request_timeout_secs = 0.5;
        s.sims.control.knobs().provincial_page_faults = vec![PageFaultPlan {
            fault,
            page: Some(1),
            times: Some(1),
        }];
        let r = cycle(&s, world_now()).await;
        assert_eq!(s.sims.control.hits("fault"), 1, "{fault:?} was injected");
        assert_eq!(
            r.outcome,
            Outcome::Ok,
            "{profile:?} {fault:?}: {:?}",
            r.counts.problems
        );
        assert_view_equals_world(&s);
        assert_no_false_discrepancy(&s, true);
    }
}

/// Persistent faults: the run is partial with the reason, the watermark does not move, and the
/// next run (fault gone) completes the view with nothing missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_faults_make_the_run_partial_then_recover() {
    let faults = [PageFault::Status(503), PageFault::Html200, PageFault::Reset];
    for (n, fault) in faults.into_iter().enumerate() {
        let profile = SimProfile::ALL[n % 3];
        let s = setup(profile, 200).await;
        s.sims.control.knobs().provincial_page_faults = vec![PageFaultPlan {
            fault,
            page: Some(2),
            times: None,
        }];
        let r = cycle(&s, world_now()).await;
        assert_eq!(r.outcome, Outcome::Partial, "{profile:?} {fault:?}");
        assert!(
            r.counts.problems.iter().any(|p| p.contains("page 2")),
            "{:?}",
            r.counts.problems
        );
        assert_eq!(r.counts.provincial_rows, 2 * u64::from(PAGE_SIZE));
        assert_eq!(watermark(&s, ""), None, "watermark unchanged");
        assert_eq!(watermark(&s, ":sweep"), None, "sweep not recorded");
        assert_no_false_discrepancy(&s, false);
        s.sims.control.knobs().provincial_page_faults.clear();
        let r = cycle(&s, world_now() + chrono::Duration::minutes(10)).await;
        assert_eq!(r.outcome, Outcome::Ok, "{:?}", r.counts.problems);
        assert_view_equals_world(&s);
        assert_no_false_discrepancy(&s, true);
    }
}

/// An incremental pull interrupted part-way: new updates arrive, page 1 fails, the watermark
/// stays; once the fault is gone the next run reads everything it missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_incremental_pull_loses_nothing() {
    for profile in SimProfile::ALL {
        let s = setup(profile, 300).await;
        assert_eq!(cycle(&s, world_now()).await.outcome, Outcome::Ok);
        let before = watermark(&s, "").unwrap();
        // 100 dossiers modified since: two pages of news.
        {
            let at = world_now() + chrono::Duration::minutes(3);
            let mut bumped = s.sims.control.bumped.lock().unwrap();
            for d in s.sims.world.dossiers.iter().step_by(3) {
                bumped.insert(d.id.clone(), at);
            }
        }
        s.sims.control.knobs().provincial_fail_from_page = Some(1);
        let r = cycle(&s, world_now() + chrono::Duration::minutes(5)).await;
        assert_eq!(r.outcome, Outcome::Partial);
        assert_eq!(watermark(&s, ""), Some(before), "{profile:?}");
        s.sims.control.knobs().provincial_fail_from_page = None;
        let r = cycle(&s, world_now() + chrono::Duration::minutes(10)).await;
        assert_eq!(r.outcome, Outcome::Ok, "{:?}", r.counts.problems);
        assert!(watermark(&s, "").unwrap() > before);
        assert_view_equals_world(&s);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expiring_mid_pull_is_renewed() {
    for profile in [SimProfile::Igate, SimProfile::Td] {
        let s = setup(profile, 300).await;
        s.sims.control.knobs().provincial_token_pages = Some(2);
        let r = cycle(&s, world_now()).await;
        assert_eq!(r.outcome, Outcome::Ok, "{:?}", r.counts.problems);
        assert!(
            s.sims.control.hits("token") >= 3,
            "{profile:?} logged in again"
        );
        assert_view_equals_world(&s);
    }
}

/// New updates arrive while the pull runs (rows move between pages) and pages repeat rows:
/// nothing is stored twice, and the next incremental run catches every new update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_and_duplicate_rows_are_deduplicated() {
    for profile in SimProfile::ALL {
        let s = setup(profile, 300).await;
        {
            let mut k = s.sims.control.knobs();
            k.provincial_bump_after_page = Some((1, 7));
            k.provincial_duplicate_rows = true;
        }
        let r = cycle(&s, world_now()).await;
        assert_eq!(r.outcome, Outcome::Ok, "{:?}", r.counts.problems);
        assert!(!s.sims.control.bumped.lock().unwrap().is_empty());
        // Each row stored once. Rows bumped from unread pages to the front were not seen by
        // this pull; their new last-modified time is past the watermark, so the next run
        // reads them.
        let stored = store(&s).provincial_count().unwrap();
        assert_eq!(r.counts.provincial_rows, stored, "no row stored twice");
        assert!(stored <= 300);
        let r = cycle(&s, world_now() + chrono::Duration::minutes(10)).await;
        assert_eq!(r.outcome, Outcome::Ok);
        assert_view_equals_world(&s);
        assert_no_false_discrepancy(&s, false);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn igate_utc_offsets_are_honoured() {
    let s = setup(SimProfile::Igate, 200).await;
    s.sims.control.knobs().provincial_utc_offsets = true;
    assert_eq!(cycle(&s, world_now()).await.outcome, Outcome::Ok);
    assert_view_equals_world(&s);
}

/// A province's own copy of a preset, named by `provincial.profile_file`, is used instead of
/// the built-in one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_file_replaces_the_builtin() {
    let mut s = setup(SimProfile::Igate, 100).await;
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/profiles/igate.toml"),
    )
    .unwrap()
    .replace(
        "\"Đang xử lý\" = 4",
        "\"Đang xử lý\" = 4\n\"Chờ phê duyệt lãnh đạo\" = 4",
    );
    let path = s._dir.path().join("my-igate.toml");
    std::fs::write(&path, text).unwrap();
    s.cfg.provincial.profile_file = Some(path);
    s.cfg.validate().unwrap();
    assert_eq!(cycle(&s, world_now()).await.outcome, Outcome::Ok);
    let stored = store(&s).provincial_dossiers().unwrap();
    let relabelled: Vec<_> = s
        .sims
        .world
        .dossiers
        .iter()
        .filter(|d| d.label_override.is_some())
        .collect();
    for d in relabelled {
        let p = stored.iter().find(|p| p.local_id == d.id).unwrap();
        assert_eq!(p.core.status, Some(Status::Processing));
    }
}

fn minutes(m: i64) -> chrono::Duration {
    chrono::Duration::minutes(m)
}

/// The run's one pull (its record in `provincial_pull` equals the run's counts).
fn only_pull(s: &Setup, r: &CycleReport) -> PullRecord {
    let pulls = store(s).pulls_of_run(r.run_id).unwrap();
    assert_eq!(pulls, r.counts.pulls, "the records are the run's counts");
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    pulls.into_iter().next().unwrap()
}

/// An empty or short page in a full page's envelope (the reply's own total and `last` /
/// `hasNextPage` say more rows follow) is never the end of the list: fetched again (once
/// is enough when it clears), else the pull stops there, the run is partial naming the page,
/// neither mark moves, and the next run continues the sweep and completes it: every dossier
/// is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contradicting_pages_are_refetched_then_fail_and_the_sweep_resumes() {
    let anomalies = [PageAnomaly::Empty, PageAnomaly::Short { rows: 7 }];
    for profile in SimProfile::ALL {
        for anomaly in anomalies {
            let s = setup(profile, 300).await;
            let plan = |times| PageAnomalyPlan {
                anomaly,
                page: Some(3),
                times,
            };
            // Clears after one re-fetch: the pull completes.
            s.sims.control.knobs().provincial_page_anomalies = vec![plan(Some(1))];
            let r = cycle(&s, world_now()).await;
            assert_eq!(
                r.outcome,
                Outcome::Ok,
                "{profile:?} {anomaly:?}: {:?}",
                r.counts.problems
            );
            let p = only_pull(&s, &r);
            assert_eq!((p.refetches, p.reached_end), (1, true), "{p:?}");
            assert_eq!(p.sweep_complete, Some(true));
            assert_view_equals_world(&s);

            // Stays wrong: partial, stopped at page 3, nothing past it.
            let s = setup(profile, 300).await;
            s.sims.control.knobs().provincial_page_anomalies = vec![plan(None)];
            let r = cycle(&s, world_now()).await;
            assert_eq!(r.outcome, Outcome::Partial, "{profile:?} {anomaly:?}");
            assert!(
                r.counts
                    .problems
                    .iter()
                    .any(|p| p.contains("stopped at page 3")
                        && p.contains("contradicts itself")
                        && p.contains("the sweep continues")),
                "{:?}",
                r.counts.problems
            );
            // the first fetch and max_retries (2) more
            assert_eq!(s.sims.control.hits("anomaly"), 3);
            let p = only_pull(&s, &r);
            assert!(!p.reached_end, "{p:?}");
            assert_eq!((p.pages, p.rows_read), (3, 3 * u64::from(PAGE_SIZE)));
            assert_eq!(p.total_at_start, Some(300));
            assert_eq!(p.sweep_complete, None);
            assert_eq!(store(&s).provincial_count().unwrap(), 150);
            assert_eq!(
                watermark(&s, ""),
                None,
                "the watermark passes no unread row"
            );
            assert_eq!(watermark(&s, ":sweep"), None, "the sweep is not done");
            let source = format!("provincial:{}", profile.name());
            let cursor = store(&s).sweep_cursor(&source).unwrap().unwrap();
            assert_eq!((cursor.next_page, cursor.started_at), (3, world_now()));
            assert_no_false_discrepancy(&s, false);

            // The anomaly is gone: the sweep continues one page before where it stopped.
            s.sims.control.knobs().provincial_page_anomalies.clear();
            let r = cycle(&s, world_now() + minutes(10)).await;
            assert_eq!(r.outcome, Outcome::Ok, "{:?}", r.counts.problems);
            let p = only_pull(&s, &r);
            assert_eq!((p.mode.as_str(), p.first_page, p.pages), ("sweep", 2, 4));
            assert!(p.reached_end && p.sweep_complete == Some(true), "{p:?}");
            assert_eq!(p.sweep_rows, Some(300));
            assert_eq!(store(&s).sweep_cursor(&source).unwrap(), None);
            assert_eq!(
                watermark(&s, ":sweep"),
                Some(world_now()),
                "the sweep's start"
            );
            assert!(watermark(&s, "").is_some());
            assert_view_equals_world(&s);
            assert_no_false_discrepancy(&s, true);
        }
    }
}

/// Rows inserted at the front while the pull pages (the total grows) and rows edited meanwhile
/// (moving to the front) do not fail the pull: the sweep completes, nothing is stored twice,
/// and the next incremental run reads what the sweep could not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totals_that_change_while_paging_do_not_fail_the_pull() {
    for profile in SimProfile::ALL {
        let s = setup(profile, 300).await;
        {
            let mut held = s.sims.control.held_back.lock().unwrap();
            for d in s.sims.world.dossiers.iter().step_by(15) {
                held.insert(d.id.clone());
            }
        }
        {
            let mut k = s.sims.control.knobs();
            k.provincial_release_after_page = Some(1);
            k.provincial_bump_after_page = Some((2, 11));
        }
        let r = cycle(&s, world_now()).await;
        assert_eq!(
            r.outcome,
            Outcome::Ok,
            "{profile:?}: {:?}",
            r.counts.problems
        );
        let p = only_pull(&s, &r);
        assert_eq!(
            (p.total_at_start, p.total_at_end),
            (Some(280), Some(300)),
            "{p:?}"
        );
        assert!(p.reached_end && p.sweep_complete == Some(true), "{p:?}");
        assert!(p.duplicates > 0, "rows moved down across pages: {p:?}");
        assert_eq!(
            store(&s).provincial_count().unwrap(),
            p.rows_read,
            "none twice"
        );
        let r = cycle(&s, world_now() + minutes(10)).await;
        assert_eq!(r.outcome, Outcome::Ok, "{:?}", r.counts.problems);
        assert_eq!(only_pull(&s, &r).mode, "incremental");
        assert_view_equals_world(&s);
        assert_no_false_discrepancy(&s, false);
    }
}

/// A sweep longer than `provincial.max_pages_per_run` continues over several runs, each after
/// its incremental pull (which still picks up changes); its mark moves only when it completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_cut_short_resumes_and_changes_are_still_picked_up() {
    for profile in [SimProfile::Igate, SimProfile::Td] {
        let mut s = setup(profile, 300).await;
        assert_eq!(cycle(&s, world_now()).await.outcome, Outcome::Ok);
        s.cfg.provincial.sweep_hours = 1;
        s.cfg.provincial.max_pages_per_run = 3;
        let t = world_now() + chrono::Duration::hours(2);
        let r = cycle(&s, t).await;
        assert_eq!(r.outcome, Outcome::Partial);
        assert!(
            r.counts
                .problems
                .iter()
                .any(|p| p.contains("max_pages_per_run (3)")
                    && p.contains("the sweep continues from page 2")),
            "{:?}",
            r.counts.problems
        );
        let p = only_pull(&s, &r);
        assert_eq!((p.mode.as_str(), p.first_page, p.pages), ("sweep", 0, 3));
        assert!(!p.reached_end);
        assert_eq!(watermark(&s, ":sweep"), Some(world_now()), "not moved");

        // Meanwhile five dossiers from the end of the list change.
        let changed: Vec<String> = {
            let w = &s.sims.world;
            let order = s.sims.control.order(w);
            order[order.len() - 5..]
                .iter()
                .map(|&i| w.dossiers[i].id.clone())
                .collect()
        };
        {
            let mut bumped = s.sims.control.bumped.lock().unwrap();
            for id in &changed {
                bumped.insert(id.clone(), t + minutes(5));
            }
        }
        let r = cycle(&s, t + minutes(10)).await;
        assert_eq!(r.outcome, Outcome::Partial, "the sweep is not done yet");
        let pulls = store(&s).pulls_of_run(r.run_id).unwrap();
        assert_eq!(pulls.len(), 2, "{pulls:?}");
        assert_eq!(pulls[0].mode, "incremental");
        assert!(pulls[0].reached_end, "{:?}", pulls[0]);
        assert_eq!((pulls[1].mode.as_str(), pulls[1].first_page), ("sweep", 2));
        assert!(!pulls[1].reached_end);
        assert!(
            r.counts.provincial_changed >= 5,
            "the incremental pull read the changes"
        );
        let stored = store(&s).provincial_dossiers().unwrap();
        for id in &changed {
            let d = stored.iter().find(|d| &d.local_id == id).unwrap();
            assert_eq!(d.updated_at, t + minutes(5), "{id}");
        }

        let r = cycle(&s, t + minutes(20)).await;
        assert_eq!(r.outcome, Outcome::Ok, "{:?}", r.counts.problems);
        let pulls = store(&s).pulls_of_run(r.run_id).unwrap();
        assert_eq!(pulls.len(), 2, "{pulls:?}");
        assert_eq!(pulls[1].first_page, 4);
        assert!(pulls[1].reached_end && pulls[1].sweep_complete == Some(true));
        assert_eq!(watermark(&s, ":sweep"), Some(t), "the sweep's start");
        assert_view_equals_world(&s);
        // Next time: incremental only.
        let r = cycle(&s, t + minutes(30)).await;
        assert_eq!(only_pull(&s, &r).mode, "incremental");
    }
}

/// A watermark and a sweep mark later than now (the host clock ran ahead and was corrected)
/// are named at WARN, the pull sweeps, and the sweep writes sane marks: later changes are read.
#[test]
fn marks_in_the_future_fall_back_to_a_sweep() {
    let logs = Capture::new("provincial=warn");
    let runtime = tokio::runtime::Builder::new_multi_thread();
    logs.block_on(runtime, async {
        let s = setup(SimProfile::Opencps, 200).await;
        // The clock a month ahead: the sweep's mark is written then.
        let ahead = world_now() + chrono::Duration::days(30);
        assert_eq!(cycle(&s, ahead).await.outcome, Outcome::Ok);
        assert_eq!(watermark(&s, ":sweep"), Some(ahead));
        let source = format!("provincial:{}", s.sims.profile.name());
        store(&s)
            .conn()
            .execute(
                "UPDATE watermark SET value = '2026-12-20 16:00:00' WHERE source = ?1",
                [&source],
            )
            .unwrap();
        logs.take();

        // The clock is right again.
        let now = world_now() + minutes(60);
        let r = cycle(&s, now).await;
        assert_eq!(r.outcome, Outcome::Ok, "{:?}", r.counts.problems);
        assert_eq!(only_pull(&s, &r).mode, "sweep");
        let log = logs.take();
        assert!(
            log.contains("WARN")
                && log.contains("in the future")
                && log.contains(&format!("{source}:sweep"))
                && log.contains("2026-12-20 16:00:00"),
            "{log}"
        );
        assert_eq!(
            watermark(&s, ":sweep"),
            Some(now),
            "moved back to a sane time"
        );
        assert!(
            watermark(&s, "").unwrap() <= now,
            "moved back to a sane time"
        );

        // A change after it is read by the next (incremental) run.
        let d = &s.sims.world.dossiers[150];
        s.sims
            .control
            .bumped
            .lock()
            .unwrap()
            .insert(d.id.clone(), now + minutes(5));
        let r = cycle(&s, now + minutes(10)).await;
        assert_eq!(r.outcome, Outcome::Ok, "{:?}", r.counts.problems);
        assert_eq!(only_pull(&s, &r).mode, "incremental");
        assert_view_equals_world(&s);
    });
}

/// Rows leaving pages already read (the total drops) shift the rows after them up, and the
/// rows at the next page boundary are skipped: the totals cannot show it (the total dropped by
/// as many). Those rows were not modified (else they would have moved to the front), so a view
/// stored before stays current; a dossier never stored before is read by the next sweep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_leaving_read_pages_are_read_by_the_next_sweep() {
    for profile in SimProfile::ALL {
        let mut s = setup(profile, 300).await;
        s.cfg.provincial.sweep_hours = 1;
        s.sims.control.knobs().provincial_remove_after_page = Some((1, 10));
        let r = cycle(&s, world_now()).await;
        assert_eq!(
            r.outcome,
            Outcome::Ok,
            "{profile:?}: {:?}",
            r.counts.problems
        );
        let p = only_pull(&s, &r);
        assert_eq!((p.total_at_start, p.total_at_end), (Some(300), Some(290)));
        assert_eq!(p.sweep_complete, Some(true), "{p:?}");
        // Ten removed (read before they left), ten skipped at the boundary.
        assert_eq!(store(&s).provincial_count().unwrap(), 290);
        assert_eq!(s.sims.control.held_back.lock().unwrap().len(), 10);

        let r = cycle(&s, world_now() + chrono::Duration::hours(2)).await;
        assert_eq!(r.outcome, Outcome::Ok, "{:?}", r.counts.problems);
        assert_eq!(only_pull(&s, &r).mode, "sweep");
        assert_view_equals_world(&s);
        assert_no_false_discrepancy(&s, true);
    }
}

/// `sync --once` prints each pull (pages, rows, the reported total, whether it reached the
/// end) and exits 2 when the pull stopped short; once the fault is gone it exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_once_exits_2_when_the_pull_did_not_reach_the_end() {
    let s = setup(SimProfile::Td, 200).await;
    s.sims.control.knobs().provincial_page_anomalies = vec![PageAnomalyPlan {
        anomaly: PageAnomaly::Empty,
        page: Some(1),
        times: None,
    }];
    let path = s._dir.path().join("tthc-sync.toml");
    tthc_sync::demo::write_config(&s.cfg, &path).unwrap();
    let run = |path: std::path::PathBuf| async move {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_tthc-sync"))
                .arg("--config")
                .arg(&path)
                .args(["sync", "--once"])
                .env_remove("JOURNAL_STREAM")
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let out = run(path.clone()).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(
            "pull: provincial:td sweep: 1 pages from page 0, 50 rows (0 duplicates), reported \
             total 200 at start, 200 at end, END NOT REACHED"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("contradicts itself"), "{stdout}");

    s.sims.control.knobs().provincial_page_anomalies.clear();
    let out = run(path).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("pull: provincial:td sweep: 4 pages from page 0, ")
            && stdout.contains("end reached, sweep complete (200 dossiers seen)"),
        "{stdout}"
    );
}
