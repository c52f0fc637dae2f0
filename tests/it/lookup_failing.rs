//! Issue 13: dossiers whose national look-ups always fail never stall the others. A world with
//! 1 % of its dossiers failing every time (a gateway's 502 for those codes, `max_retries = 10`)
//! is synced for 10 cycles of 15 minutes next to the same world without them: the budget goes
//! to the readable dossiers, the national view stays as fresh, the failing ones are tried at
//! most once per back-off step and never reported missing; past
//! `national.lookup_failing_after_hours` they are `lookup_failing`, and a successful look-up
//! resolves it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use tthc_sync::config::Config;
use tthc_sync::model::LocalTime;
use tthc_sync::reconcile::Kind;
use tthc_sync::sim::{CodeFailure, Simulators, World, WorldParams};
use tthc_sync::store::{DiscrepancyFilter, RunCounts, Store};
use tthc_sync::sync::{self, Clients, Clock};

const DOSSIERS: usize = 1000;
const BUDGET: usize = 250;
const CYCLES: i64 = 10;
const CYCLE_MIN: i64 = 15;

fn now() -> LocalTime {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_opt(15, 30, 0)
        .unwrap()
}

struct World13 {
    sims: Simulators,
    cfg: Config,
    store: Store,
    clients: Clients,
    /// Minutes past the world's "now" the test clock shows.
    minutes: Arc<AtomicI64>,
    clock: Clock,
    _dir: tempfile::TempDir,
}

async fn world(seed: u64) -> World13 {
    let dir = tempfile::tempdir().unwrap();
    let w = World::generate(WorldParams::new(seed, DOSSIERS, 0.05, now()));
    let sims = Simulators::start(w, 0, 0).await.unwrap();
    let mut cfg = sims.config(dir.path(), &dir.path().join("t.db")).unwrap();
    cfg.national.lookups_per_cycle = BUDGET;
    cfg.national.http.max_retries = 10;
    let store = Store::open(&cfg.service.database).unwrap();
    let clients = Clients::new(&cfg).unwrap();
    let minutes = Arc::new(AtomicI64::new(5));
    let m = minutes.clone();
    let clock: Clock =
        Arc::new(move || now() + chrono::Duration::minutes(m.load(Ordering::SeqCst)));
    World13 {
        sims,
        cfg,
        store,
        clients,
        minutes,
        clock,
        _dir: dir,
    }
}

impl World13 {
    async fn cycle(&mut self) -> RunCounts {
        let r = sync::run_cycle(&mut self.store, &self.cfg, &self.clients, &self.clock)
            .await
            .unwrap();
        r.counts
    }

    fn advance(&self, minutes: i64) {
        self.minutes.fetch_add(minutes, Ordering::SeqCst);
    }

    /// Requests served for one failing code (its attempts × 11).
    fn hits(&self, code: &str) -> u64 {
        let hits = self.sims.control.hits.lock().unwrap();
        hits.get(&format!("failing {code}")).copied().unwrap_or(0)
    }

    /// Provincial id → national code of the dossiers the simulator fails.
    fn fail_one_in_a_hundred(&self) -> BTreeMap<String, String> {
        let chosen: BTreeMap<String, String> = self
            .sims
            .world
            .dossiers
            .iter()
            .filter(|d| tthc_sync::model::is_well_formed_national_code(&d.national_code))
            .step_by(100)
            .map(|d| (d.id.clone(), d.national_code.clone()))
            .collect();
        let mut k = self.sims.control.knobs();
        k.national_failing_codes = chosen.values().cloned().collect();
        k.national_failing_as = CodeFailure::Status(502);
        chosen
    }
}

/// Most look-ups a dossier can get in cycles 0..CYCLES when each failure backs it off 15 min,
/// 30 min, 1 h, … (attempted as soon as allowed).
fn most_attempts() -> u32 {
    let (mut attempts, mut next) = (0u32, 0i64);
    for c in 0..CYCLES {
        let t = c * CYCLE_MIN;
        if t >= next {
            attempts += 1;
            next = t + 15 * (1i64 << (attempts - 1));
        }
    }
    attempts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_percent_always_failing_never_stalls_the_others() {
    let mut clean = world(131).await;
    let mut bad = world(131).await;
    let failing = bad.fail_one_in_a_hundred();
    assert_eq!(failing.len(), DOSSIERS / 100);
    // A session that expires mid-run is renewed, not a failure of the dossier looked up.
    bad.sims.control.knobs().national_expire_sessions_after = Some(40);

    for c in 0..CYCLES {
        let a = clean.cycle().await;
        let b = bad.cycle().await;
        if c == 0 {
            // The budget goes to look-ups as in the clean world; the failing ones cost one
            // slot each, the breaker never stops the run.
            assert_eq!(a.lookups, BUDGET as u64, "{a:?}");
            assert_eq!(b.lookups, a.lookups, "{b:?}");
            assert!(b.lookup_errors <= failing.len() as u64, "{b:?}");
            assert!(b.lookup_errors > 0, "some failing dossier was tried: {b:?}");
        }
        assert!(
            !b.problems.iter().any(|p| p.contains("circuit breaker")),
            "cycle {c}: {:?}",
            b.problems
        );
        let (pa, pb) = (a.freshness_p95_s.unwrap(), b.freshness_p95_s.unwrap());
        assert!(
            pb as f64 <= pa as f64 * 1.10,
            "cycle {c}: national view p95 age {pb} s with failing dossiers, {pa} s without"
        );
        clean.advance(CYCLE_MIN);
        bad.advance(CYCLE_MIN);
    }

    // Each failing dossier: at most one attempt per back-off step, each attempt counted once
    // in its streak (its 11 requests are one failure).
    let most = most_attempts();
    assert_eq!(most, 4);
    let mut tried = BTreeSet::new();
    for (id, code) in &failing {
        let hits = bad.hits(code);
        assert_eq!(hits % 11, 0, "{code}: {hits} requests");
        let attempts = (hits / 11) as u32;
        assert!(attempts <= most, "{code}: {attempts} attempts");
        let state = bad.store.lookup_state(id).unwrap();
        if attempts > 0 {
            tried.insert(id.clone());
            let s = state.unwrap();
            assert_eq!(s.consecutive_failures, attempts, "{code}: {s:?}");
            assert_eq!(s.last_error_class.as_deref(), Some("http_502"));
        }
    }
    assert!(tried.len() * 2 >= failing.len(), "tried {tried:?}");
    // Nobody else has a failure streak: the expired session was renewed.
    let (cands, ids) = bad.store.lookup_candidates().unwrap();
    for (c, id) in cands.iter().zip(&ids) {
        assert_eq!(c.failures > 0, tried.contains(id), "{id}: {c:?}");
    }
    // None is reported missing, nor anything else from a failed look-up.
    let open = bad
        .store
        .discrepancies(&DiscrepancyFilter::default())
        .unwrap();
    for d in &open {
        assert!(
            !(failing.contains_key(&d.dossier_id) && d.kind == "missing_on_national"),
            "{d:?}"
        );
    }
    assert!(bad.store.failing_lookups(now()).unwrap().is_empty());

    // A day later they are `lookup_failing` (low, no points), listed with their agency.
    bad.advance(25 * 60);
    let b = bad.cycle().await;
    assert_eq!(b.lookups_failing, tried.len() as u64, "{b:?}");
    let lf = bad
        .store
        .discrepancies(&DiscrepancyFilter {
            kind: Some(Kind::LookupFailing),
            ..Default::default()
        })
        .unwrap();
    let ids: BTreeSet<String> = lf.iter().map(|d| d.dossier_id.clone()).collect();
    assert_eq!(ids, tried);
    assert!(lf
        .iter()
        .all(|d| d.severity == "low" && d.score_impact == 0.0 && d.state == "open"));

    // The portal answers again: the next look-up of each, past its back-off (at most 4 h
    // after a fifth failure in the last cycle), resolves it.
    bad.sims.control.knobs().national_failing_codes.clear();
    bad.cfg.national.lookups_per_cycle = 1_000_000;
    bad.advance(4 * 60 + CYCLE_MIN);
    let b = bad.cycle().await;
    assert_eq!(b.lookups_failing, 0, "{b:?}");
    for d in &lf {
        let d = bad.store.discrepancy(d.id).unwrap().unwrap();
        assert_eq!(d.state, "resolved", "{d:?}");
    }
    assert!(bad.store.failing_lookups(now()).unwrap().is_empty());
    for id in &tried {
        let s = bad.store.lookup_state(id).unwrap().unwrap();
        assert_eq!(
            (s.consecutive_failures, s.last_outcome.as_str()),
            (0, "found")
        );
    }
}

/// The timeout mode: a code the portal never answers in time is a `timeout` failure of its
/// dossier, not of the portal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_look_up_that_times_out_is_the_dossiers_failure() {
    let mut w = world(132).await;
    w.cfg.national.http.request_timeout_secs = 0.5;
    w.cfg.national.http.max_retries = 1;
    w.cfg.national.lookups_per_cycle = 60;
    w.clients = Clients::new(&w.cfg).unwrap();
    w.sims.control.knobs().national_failing_as = CodeFailure::Hang { millis: 1500 };
    // One code in twenty hangs, so that the 60 planned look-ups meet some.
    w.sims.control.knobs().national_failing_codes = w
        .sims
        .world
        .dossiers
        .iter()
        .step_by(20)
        .map(|d| d.national_code.clone())
        .collect();
    let c = w.cycle().await;
    assert!(c.lookup_errors > 0, "{c:?}");
    assert!(
        !c.problems.iter().any(|p| p.contains("circuit breaker")),
        "{:?}",
        c.problems
    );
    let (cands, ids) = w.store.lookup_candidates().unwrap();
    let mut timeouts = 0;
    for (c, id) in cands.iter().zip(&ids) {
        if c.failures > 0 {
            let s = w.store.lookup_state(id).unwrap().unwrap();
            assert_eq!(s.last_error_class.as_deref(), Some("timeout"), "{s:?}");
            timeouts += 1;
        }
    }
    assert_eq!(timeouts, c.lookup_errors);
    let missing = w
        .store
        .discrepancies(&DiscrepancyFilter {
            kind: Some(Kind::MissingOnNational),
            ..Default::default()
        })
        .unwrap();
    let failing_codes = w.sims.control.knobs().national_failing_codes.clone();
    assert!(missing
        .iter()
        .all(|d| !failing_codes.contains(&d.dossier_code)));
}
