//! One sync cycle: pull the provincial side → plan look-ups → look up on the national portal →
//! store → reconcile → update discrepancies. Records the run (ok / partial / failed).
//!
//! A failure anywhere makes the run partial or failed and is written on the run; it never
//! makes a dossier look "missing": discrepancies are computed from stored views only, and a
//! dossier's pair kinds are only decided against a successful look-up.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use crate::config::Config;
use crate::lifecycle;
use crate::model::{is_well_formed_national_code, LocalTime};
use crate::plan::{self, Budget, PlanSettings};
use crate::reconcile::{self, NationalSide, Settings};
use crate::scoring;
use crate::source::national::NationalClient;
use crate::source::provincial::ProvincialClient;
use crate::source::SourceError;
use crate::store::{FullPass, LookupResult, Outcome, PassRecord, RunCounts, Store, StoreError};

/// The clock: production passes `local_now`; tests may pass a fixed time.
pub type Clock = Arc<dyn Fn() -> LocalTime + Send + Sync>;

/// Wall-clock time now in +07:00.
pub fn local_now() -> LocalTime {
    chrono::Utc::now()
        .with_timezone(&crate::model::vn_offset())
        .naive_local()
        .with_nanosecond(0)
        .expect("valid")
}

use chrono::Timelike;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Setup(String),
}

/// Both portal clients, built once from the config.
pub struct Clients {
    pub provincial: ProvincialClient,
    pub national: Arc<NationalClient>,
}

impl Clients {
    pub fn new(cfg: &Config) -> Result<Clients, SyncError> {
        let setup = |e: String| SyncError::Setup(e);
        let profile = cfg
            .provincial
            .load_profile()
            .map_err(|e| setup(e.to_string()))?;
        let ppw = cfg
            .provincial
            .password()
            .resolve("provincial.password_*")
            .map_err(|e| setup(e.to_string()))?;
        let npw = cfg
            .national
            .password()
            .resolve("national.password_*")
            .map_err(|e| setup(e.to_string()))?;
        Ok(Clients {
            provincial: ProvincialClient::new(&cfg.provincial, profile, ppw)
                .map_err(|e| setup(e.to_string()))?,
            national: Arc::new(
                NationalClient::new(&cfg.national, npw).map_err(|e| setup(e.to_string()))?,
            ),
        })
    }
}

/// What one cycle did.
#[derive(Clone, Debug, Serialize)]
pub struct CycleReport {
    pub run_id: i64,
    pub outcome: Outcome,
    pub counts: RunCounts,
}

/// Runs one full cycle and records it.
pub async fn run_cycle(
    store: &mut Store,
    cfg: &Config,
    clients: &Clients,
    clock: &Clock,
) -> Result<CycleReport, SyncError> {
    let started = clock();
    let run_id = store.begin_run("sync", started)?;
    clients.provincial.http().begin_run();
    clients.national.begin_run();
    tracing::info!(target: "sync", run_id, "sync run started");
    let mut counts = RunCounts::default();
    let result = async {
        let problems_before = counts.problems.len();
        crate::pull::pull_provincial(store, cfg, clients, clock, run_id, &mut counts).await?;
        let provincial_complete = counts.problems.len() == problems_before;
        look_up(store, cfg, clients, clock, run_id, &mut counts).await?;
        list_national(
            store,
            cfg,
            clients,
            clock,
            run_id,
            provincial_complete,
            &mut counts,
        )
        .await?;
        reconcile(store, cfg, clock(), run_id, &mut counts)?;
        Ok::<(), SyncError>(())
    }
    .await;
    measure_freshness(store, cfg, clock(), &mut counts);
    let outcome = match (&result, counts.problems.is_empty()) {
        (Err(_), _) => Outcome::Failed,
        (Ok(()), true) => Outcome::Ok,
        (Ok(()), false) => Outcome::Partial,
    };
    let error = result.as_ref().err().map(|e| e.to_string());
    store.finish_run(run_id, clock(), outcome, &counts, error.as_deref())?;
    store.record_freshness(
        run_id,
        counts.freshness_p50_s,
        counts.freshness_p95_s,
        counts.budget_used,
    )?;
    // One line says how the run went: INFO when ok, WARN when partial (the problems name the
    // portal and the fault), ERROR when failed.
    macro_rules! finished {
        ($level:ident) => {
            tracing::$level!(target: "sync", run_id, outcome = outcome.as_str(),
                provincial_rows = counts.provincial_rows,
                provincial_changed = counts.provincial_changed,
                lookups = counts.lookups, lookup_errors = counts.lookup_errors,
                opened = counts.opened, reopened = counts.reopened, resolved = counts.resolved,
                listed = counts.listed, freshness_p50_s = ?counts.freshness_p50_s,
                freshness_p95_s = ?counts.freshness_p95_s, budget_used = ?counts.budget_used,
                problems = ?counts.problems, error = ?error, "sync run finished")
        };
    }
    match outcome {
        Outcome::Ok => finished!(info),
        Outcome::Partial => finished!(warn),
        Outcome::Failed => finished!(error),
    }
    result?;
    Ok(CycleReport {
        run_id,
        outcome,
        counts,
    })
}

/// Looks up the planned dossiers, a few at a time, storing results in batches.
async fn look_up(
    store: &mut Store,
    cfg: &Config,
    clients: &Clients,
    clock: &Clock,
    run_id: i64,
    counts: &mut RunCounts,
) -> Result<(), SyncError> {
    let now = clock();
    let (cands, ids) = store.lookup_candidates()?;
    let budget = Budget {
        per_second: cfg.national.lookups_per_second,
        per_cycle: cfg.national.lookups_per_cycle,
        cycle: cfg.sync_cycle(),
    };
    let settings = PlanSettings {
        sync_grace: cfg.national.sync_grace(),
        due_soon: cfg.national.due_soon(),
        recheck: cfg.national.recheck(),
    };
    let chosen = plan::plan(&cands, now, budget, &settings);
    let concurrency = cfg.national.http.max_in_flight_per_host.max(1) as usize;
    let mut queue = chosen
        .into_iter()
        .map(|i| (ids[i].clone(), cands[i].code.clone()));
    let mut set = tokio::task::JoinSet::new();
    let mut batch: Vec<LookupResult> = Vec::new();
    let mut errors_by_reason: HashMap<String, u64> = HashMap::new();
    let mut breaker_open = false;
    loop {
        while !breaker_open && set.len() < concurrency {
            let Some((id, code)) = queue.next() else {
                break;
            };
            let client = clients.national.clone();
            let clock = clock.clone();
            set.spawn(async move {
                let result = client.lookup(&code).await;
                (id, code, clock(), result)
            });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let (dossier_id, code, at, result) =
            joined.map_err(|e| SyncError::Setup(format!("look-up task failed: {e}")))?;
        counts.lookups += 1;
        let result = match result {
            Ok(v) => Ok(v),
            Err(e) => {
                counts.lookup_errors += 1;
                if matches!(&e, SourceError::Http(h) if h.is_circuit_open()) {
                    breaker_open = true;
                }
                let reason = short_reason(&e);
                *errors_by_reason.entry(reason.clone()).or_default() += 1;
                Err(e.to_string())
            }
        };
        batch.push(LookupResult {
            dossier_id,
            code,
            at,
            result,
        });
        if batch.len() >= 200 {
            store.store_lookups(run_id, &batch)?;
            batch.clear();
        }
    }
    store.store_lookups(run_id, &batch)?;
    let mut reasons: Vec<_> = errors_by_reason.into_iter().collect();
    reasons.sort();
    for (reason, n) in reasons {
        counts
            .problems
            .push(format!("{n} national look-ups failed: {reason}"));
    }
    if breaker_open {
        counts.problems.push(
            "national portal circuit breaker opened; remaining look-ups wait for the next run"
                .into(),
        );
    }
    Ok(())
}

fn short_reason(e: &SourceError) -> String {
    match e {
        SourceError::Http(h) => match h.reason() {
            Some(r) => format!("{} ({})", r, h.host().unwrap_or("?")),
            None => h.to_string(),
        },
        SourceError::Portal { code, message, .. } => format!("error {code}: {message}"),
        other => other.to_string(),
    }
}

/// Which reconciliation a cycle ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Every stored pair, month tallies recounted ([`reconcile_all`]).
    Full,
    /// Only the dossiers whose either side changed since the last pass, priced against the
    /// last full pass's month tallies.
    Changed,
}

/// Reconciles the stored views: a full pass when [`full_pass_reason`] gives a reason, else
/// only the dossiers changed since the last pass.
pub fn reconcile(
    store: &mut Store,
    cfg: &Config,
    now: LocalTime,
    run_id: i64,
    counts: &mut RunCounts,
) -> Result<Pass, SyncError> {
    let (settings, cal) = reconcile_inputs(cfg)?;
    let basis = pass_basis(&settings, &cal);
    let top_pid = store.top_pid()?;
    let last = store.last_full_pass()?;
    let marked = store
        .reconcile_marks(last.as_ref().map_or(0, |l| l.top_pid))?
        .dossiers;
    match (
        full_pass_reason(cfg, now, &basis, top_pid, marked, last.as_ref()),
        last,
    ) {
        (None, Some(last)) => {
            tracing::debug!(target: "reconcile", marked, new = top_pid - last.top_pid,
                "reconciling the changed dossiers");
            run_pass(
                store,
                &settings,
                &cal,
                now,
                run_id,
                counts,
                Some(last),
                basis,
            )?;
            Ok(Pass::Changed)
        }
        (reason, _) => {
            tracing::info!(target: "reconcile", reason = reason.unwrap_or(""), "full reconciliation");
            run_pass(store, &settings, &cal, now, run_id, counts, None, basis)?;
            Ok(Pass::Full)
        }
    }
}

/// Why the next reconciliation must be a full pass (`None`: the changed dossiers suffice).
/// `top_pid` is the highest provincial rowid now, `marked` the dossiers marked for the next
/// pass.
pub fn full_pass_reason(
    cfg: &Config,
    now: LocalTime,
    basis: &str,
    top_pid: i64,
    marked: u64,
    last: Option<&FullPass>,
) -> Option<&'static str> {
    let every = cfg.reconcile.full_every_minutes;
    let Some(last) = last else {
        return Some("no full pass recorded");
    };
    if every == 0 {
        return Some("reconcile.full_every_minutes = 0");
    }
    if last.basis != basis {
        return Some("the version, the holiday files or the reconcile settings changed");
    }
    if now < last.at {
        return Some("the clock is before the last full pass");
    }
    if crate::model::YearMonth::of(&now) != crate::model::YearMonth::of(&last.at) {
        return Some("a new month");
    }
    if now - last.at >= chrono::Duration::minutes(i64::from(every)) {
        return Some("reconcile.full_every_minutes elapsed");
    }
    // Re-examining most of the table one dossier at a time costs more than one pass over it.
    let changed = marked + top_pid.saturating_sub(last.top_pid).max(0) as u64;
    if changed.saturating_mul(4) > top_pid.max(0) as u64 {
        return Some("more than a quarter of the dossiers changed");
    }
    None
}

/// Bump with any change to `reconcile`, `timeliness` or `scoring` that can give other findings,
/// verdicts or tallies for the same data: the first cycle after the upgrade then runs a full
/// pass (the package version is in the basis too, for releases).
const RULES_REVISION: u32 = 1;

/// What the stored verdicts and tallies depend on besides the data: the version (rules), the
/// holiday calendar and the reconcile settings. A change of any makes the next pass a full one.
pub fn pass_basis(settings: &Settings, cal: &crate::calendar::Calendar) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(format!(
        "{}|{RULES_REVISION}|{settings:?}|{cal:?}",
        env!("CARGO_PKG_VERSION")
    ));
    h.iter().map(|b| format!("{b:02x}")).collect()
}

fn reconcile_inputs(cfg: &Config) -> Result<(Settings, crate::calendar::Calendar), SyncError> {
    let cal = cfg
        .calendar
        .build()
        .map_err(|e| SyncError::Setup(e.to_string()))?;
    Ok((reconcile_settings(cfg), cal))
}

/// Full reconciliation of the stored views, then the discrepancy lifecycle.
pub fn reconcile_all(
    store: &mut Store,
    cfg: &Config,
    now: LocalTime,
    run_id: i64,
    counts: &mut RunCounts,
) -> Result<(), SyncError> {
    let (settings, cal) = reconcile_inputs(cfg)?;
    let basis = pass_basis(&settings, &cal);
    run_pass(store, &settings, &cal, now, run_id, counts, None, basis)
}

/// One reconciliation pass: over every pair (`last` = `None`) or over the pairs changed since
/// `last`; then the lifecycle, and the pass recorded with the actions in one transaction.
#[allow(clippy::too_many_arguments)]
fn run_pass(
    store: &mut Store,
    settings: &Settings,
    cal: &crate::calendar::Calendar,
    now: LocalTime,
    run_id: i64,
    counts: &mut RunCounts,
    last: Option<FullPass>,
    basis: String,
) -> Result<(), SyncError> {
    // The marks first: a discrepancy changed by hand after this read (and marked) is then
    // either seen changed below, or left marked for the next pass.
    let marks = store.reconcile_marks(last.as_ref().map_or(0, |l| l.top_pid))?;
    let existing = store.existing_discrepancies()?;
    let top_pid = store.top_pid()?;
    let pass = PairPass {
        settings,
        cal,
        now,
        existing: &existing,
        count_tallies: last.is_none(),
    };
    let mut first = PassState::default();
    match &last {
        // Only what changed: the marked dossiers and the rows added since.
        Some(last) => store
            .for_each_changed_pair(last.top_pid, &marks, |p, n| pass.visit(&mut first, p, n))?,
        // One streaming pass over the stored pairs: the month tallies accumulate as dossiers
        // go by, and only the dossiers that can lead to an action (a finding, differing
        // verdicts, or a discrepancy already stored) are kept for the second step, which
        // needs the tallies complete. Neither side is ever held in memory whole. A large
        // table is read in two rowid halves on two threads (the second over its own
        // read-only connection), merged in rowid order.
        None => match store.split_in_two(SPLIT_ROWS)? {
            None => store.for_each_pair(|p, n| pass.visit(&mut first, p, n))?,
            Some((mid, reader)) => {
                let mut second = PassState::default();
                std::thread::scope(|s| {
                    let (pass, second) = (&pass, &mut second);
                    let h = s.spawn(move || {
                        reader.for_each_pair_in(mid + 1, i64::MAX, |p, n| pass.visit(second, p, n))
                    });
                    let a =
                        store.for_each_pair_in(i64::MIN, mid, |p, n| pass.visit(&mut first, p, n));
                    let b = h.join().expect("reconcile reader thread");
                    a.and(b)
                })?;
                first.absorb(second);
            }
        },
    }
    let PassState {
        tallies,
        calendar_problem,
        mut pending,
    } = first;
    let calendar_problem = calendar_problem.map(|e| {
        format!(
            "timeliness not computed for some dossiers (their stored score impacts are kept): {e}"
        )
    });
    let (tallies, record, problem) = match last {
        Some(last) => {
            // A problem the last full pass saw stays reported until a full pass no longer
            // sees it (the changed dossiers alone may not include the ones it concerns).
            let problem = calendar_problem.or(last
                .calendar_problem
                .map(|e| format!("{e} (as of the full reconciliation at {})", last.at)));
            (
                last.tallies,
                PassRecord::Changed { top_pid, marks },
                problem,
            )
        }
        None => (
            tallies.clone(),
            PassRecord::Full {
                basis,
                top_pid,
                marks,
                tallies,
                calendar_problem: calendar_problem.clone(),
            },
            calendar_problem,
        ),
    };
    // Actions in dossier key order, as the pass streams in storage order.
    pending.sort_unstable_by(|a, b| a.0.local_id.cmp(&b.0.local_id));
    let mut actions = Vec::new();
    for (p, pre) in pending {
        let a = reconcile::finish(pre, &p, &tallies);
        let ex = existing.get(&p.local_id).map(Vec::as_slice).unwrap_or(&[]);
        actions.extend(lifecycle::decide(ex, a.findings, a.evaluated));
    }
    counts.problems.extend(problem);
    let applied = store.apply_reconciliation(run_id, now, &actions, Some(&record))?;
    counts.opened += applied.opened;
    counts.reopened += applied.reopened;
    counts.resolved += applied.resolved;
    Ok(())
}

/// Provincial rows from which [`reconcile_all`]'s pass is split over two threads.
const SPLIT_ROWS: i64 = 20_000;

/// What every dossier of [`reconcile_all`]'s pass is judged with (shared by both threads).
struct PairPass<'a> {
    settings: &'a Settings,
    cal: &'a crate::calendar::Calendar,
    now: LocalTime,
    existing: &'a HashMap<String, Vec<lifecycle::Existing>>,
    /// Whether the pass counts the month tallies (a full pass; a pass over the changed
    /// dossiers uses the last full pass's).
    count_tallies: bool,
}

/// What one thread of the pass has gathered.
#[derive(Default)]
struct PassState {
    tallies: HashMap<crate::model::YearMonth, scoring::Tally>,
    calendar_problem: Option<String>,
    pending: Vec<(crate::model::ProvincialDossier, reconcile::Prepared)>,
}

impl PassState {
    /// Adds what the pass over the following rows gathered.
    fn absorb(&mut self, later: PassState) {
        for (m, t) in later.tallies {
            self.tallies.entry(m).or_default().merge(&t);
        }
        if self.calendar_problem.is_none() {
            self.calendar_problem = later.calendar_problem;
        }
        self.pending.extend(later.pending);
    }
}

impl PairPass<'_> {
    fn visit(
        &self,
        st: &mut PassState,
        p: &crate::model::ProvincialDossier,
        stored: Option<&crate::store::StoredNational>,
    ) {
        if self.count_tallies {
            scoring::tally_dossier(p, self.now, self.cal, &mut st.tallies);
        }
        let stored = stored.filter(|_| is_well_formed_national_code(&p.core.code));
        let side = match stored {
            Some(n) if n.found => NationalSide::Found {
                dossier: &n.dossier,
                at: n.looked_up_at,
            },
            Some(n) => NationalSide::NotFound { at: n.looked_up_at },
            None => NationalSide::NotLookedUp,
        };
        let pre = reconcile::prepare(p, &side, self.settings, self.cal, self.now);
        if let Some(e) = &pre.calendar_error {
            st.calendar_problem.get_or_insert_with(|| e.to_string());
        }
        if pre.may_find() || self.existing.contains_key(&p.local_id) {
            st.pending.push((p.clone(), pre));
        }
    }
}

/// `DanhSachHoSo` (only when `national.list_units` is set): stores every listed row as a
/// successful view and opens `missing_on_provincial` (key `nat:<code>`) for listed codes no
/// provincial dossier holds. Resolves those whose code a provincial dossier now holds (every
/// cycle, configured or not).
///
/// A failed list call changes nothing for its unit; when this cycle's provincial pull was
/// incomplete (`provincial_complete` false) nothing is opened, since the province may simply
/// not have been read yet; and a dossier received less than `national.sync_grace_minutes` ago
/// is left for the next cycle.
pub async fn list_national(
    store: &mut Store,
    cfg: &Config,
    clients: &Clients,
    clock: &Clock,
    run_id: i64,
    provincial_complete: bool,
    counts: &mut RunCounts,
) -> Result<(), SyncError> {
    use crate::reconcile::{Evaluated, Kind};
    let now = clock();
    let mut actions = Vec::new();
    let active = store.active_missing_on_provincial()?;
    if !active.is_empty() {
        let codes: Vec<String> = active.iter().map(|(_, _, code)| code.clone()).collect();
        let held = store.provincial_codes_among(&codes)?;
        for (id, _, code) in &active {
            if held.contains(code) {
                actions.push(lifecycle::Action::AutoResolve {
                    id: *id,
                    kind: Kind::MissingOnProvincial,
                });
            }
        }
    }
    let n = &cfg.national;
    if !n.list_units.is_empty() {
        let existing = store.existing_discrepancies()?;
        let grace = reconcile_settings(cfg).sync_grace;
        // A code listed by two units is decided once.
        let mut decided: HashSet<String> = HashSet::new();
        let to = now.date();
        let from = to - chrono::Duration::days(i64::from(n.list_days.max(1)) - 1);
        for unit in &n.list_units {
            let listed = match clients.national.list(unit, from, to).await {
                Ok(l) => l,
                Err(e) => {
                    counts.problems.push(format!(
                        "DanhSachHoSo for unit {unit} failed: {}; nothing was concluded from it",
                        short_reason(&e)
                    ));
                    continue;
                }
            };
            if let Some(first) = listed.bad.first() {
                counts.problems.push(format!(
                    "{} DanhSachHoSo rows of unit {unit} could not be read and were skipped \
                     (first: {first})",
                    listed.bad.len()
                ));
            }
            store.store_listed(run_id, clock(), &listed.rows)?;
            counts.listed += listed.rows.len() as u64;
            if !provincial_complete {
                continue;
            }
            let codes: Vec<String> = listed
                .rows
                .iter()
                .map(|(d, _)| d.core.code.clone())
                .collect();
            let held = store.provincial_codes_among(&codes)?;
            for (d, _) in &listed.rows {
                let old_enough = d.core.received_at.is_some_and(|r| now - r >= grace);
                if held.contains(&d.core.code) || !old_enough {
                    continue;
                }
                let finding = reconcile::missing_on_provincial(d, unit);
                if !decided.insert(finding.dossier_id.clone()) {
                    continue;
                }
                let ex = existing
                    .get(&finding.dossier_id)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                let evaluated = Evaluated {
                    provincial: false,
                    pair: true,
                    timeliness: false,
                };
                actions.extend(lifecycle::decide(ex, vec![finding], evaluated));
            }
        }
        if !provincial_complete {
            counts.problems.push(
                "missing_on_provincial not evaluated: this cycle's provincial pull was incomplete"
                    .into(),
            );
        }
    }
    if !actions.is_empty() {
        let applied = store.apply_actions(run_id, now, &actions)?;
        counts.opened += applied.opened;
        counts.reopened += applied.reopened;
        counts.resolved += applied.resolved;
    }
    Ok(())
}

/// The tolerances of reconciliation, from `national.sync_grace_minutes` and `[reconcile]`.
fn reconcile_settings(cfg: &Config) -> Settings {
    Settings {
        sync_grace: chrono::Duration::minutes(i64::from(cfg.national.sync_grace_minutes)),
        date_tolerance: chrono::Duration::minutes(i64::from(cfg.reconcile.date_tolerance_minutes)),
    }
}

/// The run's freshness figures (see `crate::freshness`); a database error only logs.
fn measure_freshness(store: &Store, cfg: &Config, now: LocalTime, counts: &mut RunCounts) {
    counts.budget_used =
        crate::freshness::budget_used(counts.lookups, cfg.national.lookups_per_cycle);
    match store.view_ages(now) {
        Ok(ages) => {
            counts.freshness_p50_s = crate::freshness::percentile(&ages, 50.0);
            counts.freshness_p95_s = crate::freshness::percentile(&ages, 95.0);
        }
        Err(e) => tracing::warn!(target: "sync", error = %e, "freshness not measured"),
    }
}
