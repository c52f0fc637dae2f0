//! One sync cycle: pull the provincial side → plan look-ups → look up on the national portal →
//! store → reconcile → update discrepancies. Records the run (ok / partial / failed).
//!
//! A failure anywhere makes the run partial or failed and is written on the run; it never
//! makes a dossier look "missing": discrepancies are computed from stored views only, and a
//! dossier's pair kinds are only decided against a successful look-up.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use crate::calendar::Calendar;
use crate::config::Config;
use crate::lifecycle;
use crate::model::{is_well_formed_national_code, LocalTime};
use crate::plan::{self, Budget, PlanSettings};
use crate::reconcile::{self, NationalSide, Settings};
use crate::scoring;
use crate::source::national::NationalClient;
use crate::source::profile::Profile;
use crate::source::provincial::ProvincialClient;
use crate::source::SourceError;
use crate::store::{LookupResult, Outcome, RunCounts, Store, StoreError};

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
        let profile =
            Profile::builtin(&cfg.provincial.profile).map_err(|e| setup(e.to_string()))?;
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
    store.close_abandoned_runs(started)?;
    let run_id = store.begin_run("sync", started)?;
    clients.provincial.http().begin_run();
    clients.national.http().begin_run();
    tracing::info!(target: "sync", run_id, "sync run started");
    let mut counts = RunCounts::default();
    let result = async {
        pull_provincial(store, cfg, clients, clock, run_id, &mut counts).await?;
        look_up(store, cfg, clients, clock, run_id, &mut counts).await?;
        reconcile_all(store, cfg, clock(), run_id, &mut counts)?;
        Ok::<(), SyncError>(())
    }
    .await;
    let outcome = match (&result, counts.problems.is_empty()) {
        (Err(_), _) => Outcome::Failed,
        (Ok(()), true) => Outcome::Ok,
        (Ok(()), false) => Outcome::Partial,
    };
    let error = result.as_ref().err().map(|e| e.to_string());
    store.finish_run(run_id, clock(), outcome, &counts, error.as_deref())?;
    tracing::info!(target: "sync", run_id, outcome = outcome.as_str(),
        provincial_rows = counts.provincial_rows, provincial_changed = counts.provincial_changed,
        lookups = counts.lookups, lookup_errors = counts.lookup_errors, opened = counts.opened,
        reopened = counts.reopened, resolved = counts.resolved,
        problems = ?counts.problems, "sync run finished");
    result?;
    Ok(CycleReport {
        run_id,
        outcome,
        counts,
    })
}

fn source_name(cfg: &Config) -> String {
    format!("provincial:{}", cfg.provincial.profile)
}

/// Newest-first incremental pull: pages until a row is older than the watermark minus the
/// overlap, then moves the watermark in the transaction that stores the last page.
async fn pull_provincial(
    store: &mut Store,
    cfg: &Config,
    clients: &Clients,
    clock: &Clock,
    run_id: i64,
    counts: &mut RunCounts,
) -> Result<(), SyncError> {
    let source = source_name(cfg);
    let watermark = store.watermark(&source)?;
    let stop_at =
        watermark.map(|w| w - chrono::Duration::minutes(i64::from(cfg.provincial.overlap_minutes)));
    let profile = clients.provincial.profile();
    let mut seen: HashSet<String> = HashSet::new();
    let mut newest: Option<LocalTime> = None;
    let mut bad_rows = 0u64;
    let mut first_bad: Option<String> = None;
    for n in 0..cfg.provincial.max_pages_per_run {
        let page = match clients.provincial.page(n).await {
            Ok(p) => p,
            Err(e) => {
                counts.problems.push(format!(
                    "provincial pull stopped at page {n}: {e}; rows already read are kept, \
                     the watermark did not move"
                ));
                return Ok(());
            }
        };
        let mut rows = Vec::with_capacity(page.rows.len());
        let mut reached_watermark = false;
        for raw in page.rows {
            match profile.map_row(raw) {
                Ok((d, json)) => {
                    if stop_at.is_some_and(|s| d.updated_at < s) {
                        reached_watermark = true;
                    }
                    newest = newest.max(Some(d.updated_at));
                    // Rows move between pages while we read: keep the first copy only.
                    if seen.insert(d.local_id.clone()) {
                        rows.push((d, json));
                    }
                }
                Err(e) => {
                    bad_rows += 1;
                    first_bad.get_or_insert_with(|| e.to_string());
                }
            }
        }
        let done = page.last || reached_watermark;
        let stats = store.store_provincial_page(
            run_id,
            &source,
            clock(),
            &rows,
            if done { newest } else { None },
        )?;
        counts.provincial_rows += stats.rows;
        counts.provincial_changed += stats.new + stats.changed;
        if done {
            if bad_rows > 0 {
                counts.problems.push(format!(
                    "{bad_rows} provincial rows could not be read and were skipped (first: {})",
                    first_bad.unwrap_or_default()
                ));
            }
            return Ok(());
        }
    }
    counts.problems.push(format!(
        "provincial pull hit provincial.max_pages_per_run ({}); the rest is read next run",
        cfg.provincial.max_pages_per_run
    ));
    Ok(())
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
    };
    let settings = PlanSettings {
        sync_grace: cfg.national.sync_grace(),
        due_soon: cfg.national.due_soon(),
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

/// Full reconciliation of the stored views, then the discrepancy lifecycle.
pub fn reconcile_all(
    store: &mut Store,
    cfg: &Config,
    now: LocalTime,
    run_id: i64,
    counts: &mut RunCounts,
) -> Result<(), SyncError> {
    let settings = Settings {
        sync_grace: chrono::Duration::minutes(i64::from(cfg.national.sync_grace_minutes)),
        date_tolerance: chrono::Duration::minutes(i64::from(cfg.reconcile.date_tolerance_minutes)),
    };
    let cal = Calendar::builtin();
    let existing = store.existing_discrepancies()?;
    // One streaming pass over the stored pairs: tallies accumulate as dossiers go by, and only
    // the dossiers that can lead to an action (a finding, a stored discrepancy, or verdicts
    // that differ) are kept for the second step, which needs the month tallies complete.
    let mut tallies = HashMap::new();
    let mut calendar_problem: Option<String> = None;
    let mut pending: Vec<Pending> = Vec::new();
    store.for_each_pair(|p, stored| {
        let stored = stored.filter(|_| is_well_formed_national_code(&p.core.code));
        let side = match stored {
            Some(n) if n.found => NationalSide::Found {
                dossier: &n.dossier,
                at: n.looked_up_at,
            },
            Some(n) => NationalSide::NotFound { at: n.looked_up_at },
            None => NationalSide::NotLookedUp,
        };
        let (findings, evaluated) = reconcile::compare(p, &side, &settings);
        let (month, judged) = scoring::tally_dossier(p, now, &cal, &mut tallies);
        let mut verdicts = None;
        if evaluated.pair {
            let end = scoring::period_end(month, now);
            let both = judged.and_then(|pj| {
                let nj = match stored.filter(|n| n.found) {
                    Some(n) => {
                        Some(scoring::judge_national(&n.dossier.core, p, end, &cal)?.verdict)
                    }
                    None => None,
                };
                Ok((pj.verdict, nj))
            });
            match both {
                Ok(v) => verdicts = Some(v),
                Err(e) => {
                    calendar_problem.get_or_insert_with(|| e.to_string());
                }
            }
        }
        let has_existing = existing.contains_key(&p.local_id);
        let timeliness =
            matches!(verdicts, Some((pv, Some(nv))) if reconcile::timeliness_differs(pv, nv));
        if !findings.is_empty() || has_existing || timeliness {
            pending.push(Pending {
                dossier: p.clone(),
                findings,
                evaluated,
                verdicts,
                month,
            });
        }
    })?;
    // Actions in dossier key order, as before the pass streamed in storage order.
    pending.sort_unstable_by(|a, b| a.dossier.local_id.cmp(&b.dossier.local_id));
    let mut actions = Vec::new();
    for Pending {
        dossier: p,
        mut findings,
        evaluated,
        verdicts,
        month,
    } in pending
    {
        if let Some((pv, nv)) = verdicts {
            let tally = tallies.get(&month).copied().unwrap_or_default();
            let impact = scoring::impact(pv, nv, &tally);
            reconcile::add_timeliness(&mut findings, &p, evaluated, pv, nv, month, impact);
        }
        let ex = existing.get(&p.local_id).map(Vec::as_slice).unwrap_or(&[]);
        actions.extend(lifecycle::decide(ex, findings, evaluated));
    }
    if let Some(e) = calendar_problem {
        counts.problems.push(format!(
            "timeliness not computed for some dossiers (score impacts left at 0): {e}"
        ));
    }
    let applied = store.apply_actions(run_id, now, &actions)?;
    counts.opened += applied.opened;
    counts.reopened += applied.reopened;
    counts.resolved += applied.resolved;
    Ok(())
}

/// A dossier of the reconciliation pass that may lead to an action, kept until the month
/// tallies are complete.
struct Pending {
    dossier: crate::model::ProvincialDossier,
    findings: Vec<reconcile::Finding>,
    evaluated: reconcile::Evaluated,
    verdicts: Option<(
        crate::timeliness::Verdict,
        Option<crate::timeliness::Verdict>,
    )>,
    month: crate::model::YearMonth,
}
