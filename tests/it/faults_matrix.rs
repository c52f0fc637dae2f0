//! The fault matrix: every transport fault the simulators can inject, on either portal, alone
//! and in pairs (both portals at once), one sync cycle each. For each case: the run's outcome
//! is recorded with a reason naming the portal and the fault, retries stay bounded (server
//! hits counted against `max_retries` and the breaker threshold), no discrepancy is opened
//! that the world's ground truth does not hold, and one WARN line says what happened. Then the
//! fault is cleared and the next cycle converges to a perfect score.
//!
//! One test function; its log lines are captured through `support::logs` (the test process is
//! shared: see there).

use std::sync::Arc;

use chrono::NaiveDate;
use tthc_sync::config::Config;
use tthc_sync::demo::score_against_truth;
use tthc_sync::model::LocalTime;
use tthc_sync::sim::{
    NationalFault, NationalFaultPlan, PageFault, PageFaultPlan, SimProfile, Simulators, World,
    WorldParams,
};
use tthc_sync::store::{Outcome, Store};
use tthc_sync::sync::{self, Clients, Clock};

use crate::support::logs::Capture;

const DOSSIERS: usize = 240;
const PAGE_SIZE: u32 = 60;
const TIMEOUT_SECS: f64 = 0.4;
const SLOW_MS: u64 = 1_200;

fn world_now() -> LocalTime {
    NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_opt(16, 0, 0)
        .unwrap()
}

/// One injected fault.
#[derive(Clone, Copy, Debug)]
enum Inject {
    /// A provincial list fault on page 1: once (`Some(1)`) or every time (`None`).
    Page(PageFault, Option<u32>),
    /// The provincial token is refused after this many pages.
    TokenPages(u32),
    /// New updates arrive mid-pull and pages repeat rows.
    BumpAndDuplicates,
    /// igate dates in UTC.
    UtcOffsets,
    /// Every provincial call answers 503.
    ProvincialDown,
    /// A national fault: for this service (`None` = every call incl. login), once or always.
    National(NationalFault, Option<&'static str>, Option<u32>),
    /// The first national session is refused (`national_session_floor`).
    SessionFloor,
    /// Every national session expires after 30 look-ups.
    SessionMidRun,
    /// A tenth of the codes answer 500 (`national_failing_codes`).
    FailingCodes,
    /// Every national call answers 503 (`national_down`).
    NationalDown,
    /// `DanhSachHoSo` answers 500 (`national_list_failing`).
    ListFailing,
}

use Inject::*;

impl Inject {
    /// The words a problem line must hold when this fault makes the run partial; `None` when
    /// the HTTP policy or a re-login absorbs it and the run is ok.
    fn expected(self) -> Option<&'static [&'static str]> {
        Some(match self {
            // Not a transport error: not retried, the rows are skipped and the run partial.
            Page(PageFault::GarbageRows, _) => &["provincial rows could not be read"],
            Page(_, Some(_)) | TokenPages(_) | BumpAndDuplicates | UtcOffsets => return None,
            SessionFloor | SessionMidRun => return None,
            // A portal error is not retried: that look-up fails, the run is partial.
            National(NationalFault::ErrorCode, Some("TraCuuHoSo"), Some(_)) => {
                &["national look-ups failed", "error 99"]
            }
            National(_, _, Some(_)) => return None,
            Page(f, None) => match f {
                PageFault::Status(503) => &["provincial pull", "HTTP 503"],
                PageFault::Status(502) => &["provincial pull", "HTTP 502"],
                PageFault::Status(_) => &["provincial pull", "HTTP 500"],
                PageFault::TooManyRequests { .. } => &["provincial pull", "HTTP 429"],
                PageFault::Slow { .. } => &["provincial pull", "timed out"],
                PageFault::Reset => &["provincial pull", "gave up after 3 attempts"],
                // The cut is seen as a reset or a truncated body depending on timing.
                PageFault::Truncated => &["provincial pull", "gave up after 3 attempts"],
                PageFault::InvalidJson => &["provincial pull", "not JSON"],
                PageFault::Html200 => &["provincial pull", "not JSON"],
                PageFault::GarbageRows => unreachable!(),
            },
            ProvincialDown => &["provincial pull", "HTTP 503"],
            National(f, Some("login"), None) => match f {
                NationalFault::ErrorCode => &["national look-ups failed", "login failed"],
                _ => unreachable!("only error_code is injected on login alone"),
            },
            National(f, _, None) => match f {
                // Every national call: the look-ups, or DanhSachHoSo when there was nothing
                // to look up.
                NationalFault::Status(503) => &["http_503"],
                NationalFault::Status(502) => &["http_502"],
                NationalFault::Status(_) => &["http_500"],
                NationalFault::TooManyRequests { .. } => &["http_429"],
                NationalFault::Slow { .. } => &["timeout"],
                NationalFault::Html200 | NationalFault::InvalidJson => &["bad_body"],
                NationalFault::ErrorCode => &["national look-ups failed", "error 99"],
            },
            FailingCodes => &["national look-ups failed", "http_500"],
            NationalDown => &["http_503"],
            ListFailing => &["DanhSachHoSo for unit", "http_500"],
        })
    }

    fn provincial(self) -> bool {
        matches!(
            self,
            Page(..) | TokenPages(_) | BumpAndDuplicates | UtcOffsets | ProvincialDown
        )
    }

    fn apply(self, sims: &Simulators) {
        let mut k = sims.control.knobs();
        match self {
            Page(fault, times) => k.provincial_page_faults.push(PageFaultPlan {
                fault,
                page: Some(1),
                times,
            }),
            TokenPages(n) => k.provincial_token_pages = Some(n),
            BumpAndDuplicates => {
                k.provincial_bump_after_page = Some((1, 7));
                k.provincial_duplicate_rows = true;
            }
            UtcOffsets => k.provincial_utc_offsets = true,
            ProvincialDown => k.provincial_down = true,
            National(fault, service, times) => k.national_faults.push(NationalFaultPlan {
                fault,
                service,
                times,
            }),
            SessionFloor => k.national_session_floor = 1,
            SessionMidRun => k.national_expire_sessions_after = Some(30),
            FailingCodes => {
                for d in sims.world.dossiers.iter().step_by(10) {
                    k.national_failing_codes.insert(d.national_code.clone());
                }
            }
            NationalDown => k.national_down = true,
            ListFailing => k.national_list_failing = true,
        }
    }
}

fn clear(sims: &Simulators) {
    let mut k = sims.control.knobs();
    let password = (k.national_password.take(), k.provincial_password.take());
    *k = Default::default();
    (k.national_password, k.provincial_password) = password;
}

/// Every single fault.
fn singles() -> Vec<Inject> {
    let page = [
        PageFault::TooManyRequests {
            retry_after_secs: 1,
        },
        PageFault::Status(500),
        PageFault::Status(502),
        PageFault::Status(503),
        PageFault::Slow { millis: SLOW_MS },
        PageFault::Reset,
        PageFault::Truncated,
        PageFault::InvalidJson,
        PageFault::Html200,
        PageFault::GarbageRows,
    ];
    let national = [
        NationalFault::TooManyRequests {
            retry_after_secs: 1,
        },
        NationalFault::Status(500),
        NationalFault::Status(502),
        NationalFault::Status(503),
        NationalFault::Slow { millis: SLOW_MS },
        NationalFault::Html200,
        NationalFault::InvalidJson,
    ];
    let mut out = Vec::new();
    for f in page {
        out.push(Page(f, Some(1)));
        out.push(Page(f, None));
    }
    out.extend([TokenPages(2), BumpAndDuplicates, UtcOffsets, ProvincialDown]);
    for f in national {
        out.push(National(f, Some("TraCuuHoSo"), Some(1)));
        out.push(National(f, Some("login"), Some(1)));
        out.push(National(f, None, None));
    }
    out.extend([
        National(NationalFault::ErrorCode, Some("TraCuuHoSo"), Some(1)),
        National(NationalFault::ErrorCode, Some("TraCuuHoSo"), None),
        National(NationalFault::ErrorCode, Some("login"), None),
        SessionFloor,
        SessionMidRun,
        FailingCodes,
        NationalDown,
        ListFailing,
    ]);
    out
}

/// Pairs, both portals at once.
fn pairs() -> Vec<[Inject; 2]> {
    let n429 = NationalFault::TooManyRequests {
        retry_after_secs: 1,
    };
    let p429 = PageFault::TooManyRequests {
        retry_after_secs: 1,
    };
    vec![
        [Page(PageFault::Status(503), None), NationalDown],
        [Page(p429, Some(1)), National(n429, None, Some(1))],
        [
            Page(PageFault::Truncated, Some(1)),
            National(NationalFault::InvalidJson, Some("TraCuuHoSo"), Some(1)),
        ],
        [TokenPages(2), SessionMidRun],
        [
            Page(PageFault::Html200, None),
            National(NationalFault::ErrorCode, Some("TraCuuHoSo"), None),
        ],
        [
            BumpAndDuplicates,
            National(
                NationalFault::Slow { millis: SLOW_MS },
                Some("TraCuuHoSo"),
                Some(1),
            ),
        ],
        [UtcOffsets, FailingCodes],
        [ProvincialDown, ListFailing],
        [
            Page(PageFault::Reset, None),
            National(NationalFault::Status(502), None, None),
        ],
        [Page(PageFault::InvalidJson, Some(1)), SessionFloor],
        [
            Page(PageFault::Slow { millis: SLOW_MS }, None),
            National(NationalFault::Html200, None, None),
        ],
        [
            BumpAndDuplicates,
            National(NationalFault::ErrorCode, Some("login"), None),
        ],
        [Page(PageFault::Status(500), Some(1)), NationalDown],
        [
            Page(PageFault::InvalidJson, None),
            National(n429, None, None),
        ],
    ]
}

fn profile_for(n: usize, injects: &[Inject]) -> SimProfile {
    if injects.iter().any(|i| matches!(i, UtcOffsets)) {
        return SimProfile::Igate;
    }
    if injects.iter().any(|i| matches!(i, TokenPages(_))) {
        // Basic auth (opencps) has no token to expire.
        return [SimProfile::Igate, SimProfile::Td][n % 2];
    }
    SimProfile::ALL[n % 3]
}

async fn start(profile: SimProfile, dir: &std::path::Path, list: bool) -> (Simulators, Config) {
    let mut params = WorldParams::new(7, DOSSIERS, 0.05, world_now());
    if list {
        params.only_on_national_rate = 0.02;
    }
    let sims = Simulators::start_with(World::generate(params), profile, 0, 0)
        .await
        .unwrap();
    let mut cfg = sims.config(dir, &dir.join("tthc-sync.db")).unwrap();
    cfg.provincial.page_size = PAGE_SIZE;
    if list {
        cfg.national.list_units = sims.world.agencies.iter().map(|a| a.code.clone()).collect();
    }
    for http in [&mut cfg.provincial.http, &mut cfg.national.http] {
        http.request_timeout_secs = TIMEOUT_SECS;
    }
    cfg.validate().unwrap();
    (sims, cfg)
}

/// One cycle; its report and how many national attempts timed out (on a loaded machine an
/// attempt can outlast the short timeout these cases use, and a timed-out attempt is retried).
async fn cycle(cfg: &Config, at: LocalTime) -> (sync::CycleReport, u64) {
    let clients = Clients::new(cfg).unwrap();
    let mut store = Store::open(&cfg.service.database).unwrap();
    let clock: Clock = Arc::new(move || at);
    let report = sync::run_cycle(&mut store, cfg, &clients, &clock)
        .await
        .unwrap();
    let timeouts = clients
        .national
        .http()
        .stats()
        .hosts
        .values()
        .map(|h| h.failures.get("timeout").copied().unwrap_or(0))
        .sum();
    (report, timeouts)
}

/// Checks one case; returns what went wrong, if anything.
async fn run_case(n: usize, injects: &[Inject], logs: &Capture) -> Result<CaseFigures, String> {
    let name = format!("{injects:?}");
    let dir = tempfile::tempdir().unwrap();
    let profile = profile_for(n, injects);
    // DanhSachHoSo only where its fault is injected: with it on, this world yields a
    // missing_on_provincial the ground truth does not list (see docs/reliability.md).
    let list = injects.iter().any(|i| matches!(i, ListFailing));
    let (sims, cfg) = start(profile, dir.path(), list).await;
    for i in injects {
        i.apply(&sims);
    }
    logs.take();
    let (r, national_timeouts) = cycle(&cfg, world_now() + chrono::Duration::minutes(5)).await;
    let text = logs.take();
    let c = &sims.control;
    let mut errs = Vec::new();
    let expected: Vec<&[&str]> = injects.iter().filter_map(|i| i.expected()).collect();

    // 1. The outcome and its reason, on the run record too.
    let want = if expected.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Partial
    };
    if r.outcome != want {
        errs.push(format!(
            "outcome {:?}, want {want:?}: {:?}",
            r.outcome, r.counts.problems
        ));
    }
    let (_, outcome, problems) = Store::open(&cfg.service.database)
        .unwrap()
        .last_run()
        .unwrap()
        .unwrap();
    if outcome != want.as_str() {
        errs.push(format!("sync_run.outcome {outcome}"));
    }
    for words in &expected {
        if !problems.iter().any(|p| words.iter().all(|w| p.contains(w))) {
            errs.push(format!("no problem line with {words:?}: {problems:?}"));
        }
    }

    // 2. Bounded retries.
    let policy = &cfg.national.http;
    let attempts = u64::from(policy.max_retries) + 1;
    let threshold = u64::from(policy.breaker_threshold);
    let in_flight = u64::from(policy.max_in_flight_per_host);
    for i in injects {
        let (hits, bound) = match *i {
            Page(_, Some(t)) => (c.hits("fault"), u64::from(t)),
            Page(PageFault::TooManyRequests { .. }, None) => {
                (c.hits("fault"), attempts.min(threshold))
            }
            Page(_, None) => (c.hits("fault"), attempts),
            ProvincialDown => (c.hits("token") + c.hits("page"), attempts),
            National(_, _, Some(t)) => (c.hits("national_fault"), u64::from(t)),
            National(NationalFault::ErrorCode, Some("TraCuuHoSo"), None) => {
                // Not retried: one call per dossier looked up (and one more per attempt that
                // timed out before its error code came back).
                (
                    c.hits("national_fault"),
                    r.counts.lookups + national_timeouts,
                )
            }
            National(NationalFault::ErrorCode, Some("login"), None) => {
                // A refused login is not repeated for every dossier.
                (c.hits("login"), in_flight + national_timeouts)
            }
            // The breaker opens at the threshold's distinct request; the look-ups in flight
            // then give up; after `breaker_cooldown_secs` one probe goes through and fails.
            National(_, None, None) | NationalDown => (
                c.hits("login") + c.hits("TraCuuHoSo") + c.hits("DanhSachHoSo"),
                threshold + in_flight + 1,
            ),
            _ => continue,
        };
        if hits > bound {
            errs.push(format!("{i:?}: {hits} server hits, bound {bound}"));
        }
    }

    // 3. No false discrepancy.
    let store = Store::open(&cfg.service.database).unwrap();
    let score = score_against_truth(&store, &sims.world).unwrap();
    if !score.false_positives.is_empty() {
        errs.push(format!("false discrepancies {:?}", score.false_positives));
    }
    let all_ok = expected.is_empty() && !injects.iter().any(|i| matches!(i, BumpAndDuplicates));
    if all_ok && !score.missed.is_empty() {
        errs.push(format!("missed after an ok run {:?}", score.missed));
    }

    // 4. One line says what happened: the run's end at WARN, naming the fault.
    let finished: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("sync run finished"))
        .collect();
    if finished.len() != usize::from(want == Outcome::Partial) {
        errs.push(format!(
            "{} `sync run finished` lines at WARN",
            finished.len()
        ));
    } else if want == Outcome::Partial {
        let line = finished[0];
        if !line.contains("WARN") {
            errs.push(format!("run end not at WARN: {line}"));
        }
        for words in &expected {
            if !words.iter().all(|w| line.contains(w)) {
                errs.push(format!("run end line lacks {words:?}: {line}"));
            }
        }
    } else if text.contains(" ERROR ") {
        errs.push(format!("ERROR logged for an ok run: {text}"));
    }

    // 5. The fault cleared, the next cycle converges.
    clear(&sims);
    // Past the 15-minute back-off (`national.lookup_backoff_minutes`) of a dossier whose
    // look-up failed in the first run (an `error_code` for it alone).
    let (r2, _) = cycle(&cfg, world_now() + chrono::Duration::minutes(25)).await;
    let mut score = score_against_truth(&store, &sims.world).unwrap();
    if list {
        // Known, not a transport fault: see docs/reliability.md (Portal faults).
        score
            .false_positives
            .retain(|(_, kind)| kind != "missing_on_provincial");
    }
    if r2.outcome != Outcome::Ok {
        errs.push(format!(
            "recovery run {:?}: {:?}",
            r2.outcome, r2.counts.problems
        ));
    }
    // Rows bumped mid-pull changed "now": within sync grace, they are not judged yet.
    let bumped = injects.iter().any(|i| matches!(i, BumpAndDuplicates));
    if !score.false_positives.is_empty() || (!bumped && !score.missed.is_empty()) {
        errs.push(format!(
            "recovery not perfect: false {:?} missed {:?}",
            score.false_positives, score.missed
        ));
    }
    logs.take();
    if errs.is_empty() {
        Ok(CaseFigures {
            partial: want == Outcome::Partial,
        })
    } else {
        Err(format!("{profile:?} {name}:\n    {}", errs.join("\n    ")))
    }
}

struct CaseFigures {
    partial: bool,
}

#[test]
fn fault_matrix_both_portals() {
    let logs = Capture::new("warn");
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.worker_threads(4);
    logs.block_on(runtime, every_case(&logs));
}

async fn every_case(logs: &Capture) {
    let filter = std::env::var("FAULTS_ONLY").unwrap_or_default();
    let mut cases: Vec<Vec<Inject>> = singles().into_iter().map(|i| vec![i]).collect();
    let singles_n = cases.len();
    cases.extend(pairs().into_iter().map(Vec::from));
    let (mut failures, mut tried, mut partial) = (Vec::new(), 0, 0);
    for (n, injects) in cases.iter().enumerate() {
        if !format!("{injects:?}").contains(&filter) {
            continue;
        }
        tried += 1;
        match run_case(n, injects, logs).await {
            Ok(f) => partial += usize::from(f.partial),
            Err(e) => failures.push(e),
        }
    }
    let provincial = singles().iter().filter(|i| i.provincial()).count();
    eprintln!(
        "fault matrix: {tried} cases ({singles_n} single faults: {provincial} provincial, {} \
         national; {} pairs), {partial} partial runs, {} failures",
        singles_n - provincial,
        cases.len() - singles_n,
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
