//! One sync cycle: pull the provincial side → plan look-ups → look up on the national portal →
//! store → list the configured units → reconcile → update discrepancies. Records the run (ok /
//! partial / failed).
//!
//! A failure anywhere makes the run partial or failed and is written on the run; it never
//! makes a dossier look "missing": discrepancies are computed from stored views only, and a
//! dossier's pair kinds are only decided against a successful look-up.
//!
//! The steps: [`crate::pull`] (the provincial side), `lookup` (`TraCuuHoSo` under the
//! budget, and `lookup_failing` for dossiers the portal has failed to answer for too long),
//! `list` ([`list_national`]: `DanhSachHoSo`, `missing_on_provincial`), `pass`
//! ([`reconcile`], [`reconcile_all`]: the reconciliation pass). Each takes the [`Cycle`]
//! context.

mod list;
mod lookup;
mod pass;

use serde::Serialize;

pub use crate::clock::{local_now, Clock};
pub use crate::cycle::{Cycle, SyncError};
pub use crate::source::Clients;
pub use list::list_national;
pub use pass::{full_pass_reason, pass_basis, reconcile, reconcile_all, Pass};

use crate::config::Config;
use crate::cycle::count_applied;
use crate::lifecycle::{self, Action};
use crate::model::LocalTime;
use crate::reconcile::{Evaluated, Finding, Kind};
use crate::source::SourceError;
use crate::store::{Outcome, RunCounts, Store};

/// What one cycle did.
#[derive(Clone, Debug, Serialize)]
pub struct CycleReport {
    /// The cycle's row in the `run` table.
    pub run_id: i64,
    /// Ok, partial (a problem on the way) or failed.
    pub outcome: Outcome,
    /// What it pulled, looked up, opened and resolved, and its problems.
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
    let mut cx = Cycle {
        store,
        cfg,
        clients,
        clock,
        run_id,
        counts: RunCounts::default(),
    };
    let result = run_steps(&mut cx).await;
    let Cycle {
        store, mut counts, ..
    } = cx;
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
                lookups_failing = counts.lookups_failing,
                opened = counts.opened, reopened = counts.reopened, resolved = counts.resolved,
                listed = counts.listed,
                pulls = ?counts.pulls.iter().map(crate::pull::describe).collect::<Vec<_>>(),
                freshness_p50_s = ?counts.freshness_p50_s,
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

/// The cycle's steps, in order; the first error stops it.
async fn run_steps(cx: &mut Cycle<'_>) -> Result<(), SyncError> {
    let problems_before = cx.counts.problems.len();
    crate::pull::pull_provincial(cx).await?;
    let provincial_complete = cx.counts.problems.len() == problems_before;
    lookup::look_up(cx).await?;
    list_national(cx, provincial_complete).await?;
    lookup::report_failing(cx)?;
    let now = cx.now();
    reconcile(cx.store, cx.cfg, now, cx.run_id, &mut cx.counts)?;
    Ok(())
}

/// Applies a rule's verdict in one store transaction: resolves the active discrepancies of
/// `kind` whose ids are in `resolve`, and opens, reopens or refreshes each finding against the
/// stored discrepancies of its dossier (`evaluated`: what the rule looked at). Counts the
/// changes on the run.
fn apply_verdict(
    cx: &mut Cycle<'_>,
    now: LocalTime,
    kind: Kind,
    resolve: Vec<i64>,
    findings: Vec<Finding>,
    evaluated: Evaluated,
) -> Result<(), SyncError> {
    let mut actions: Vec<Action> = resolve
        .into_iter()
        .map(|id| Action::AutoResolve { id, kind })
        .collect();
    if !findings.is_empty() {
        let existing = cx.store.existing_discrepancies()?;
        for finding in findings {
            let ex = existing
                .get(&finding.dossier_id)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            actions.extend(lifecycle::decide(ex, vec![finding], evaluated));
        }
    }
    if !actions.is_empty() {
        let applied = cx.store.apply_actions(cx.run_id, now, &actions)?;
        count_applied(&mut cx.counts, &applied);
    }
    Ok(())
}

/// A failed portal call in a few words, for the run's problems: the HTTP reason and host, or
/// the portal's own error.
fn short_reason(e: &SourceError) -> String {
    match e {
        SourceError::Http(h) => match h.reason() {
            Some(r) => format!("{} ({})", r, h.host().unwrap_or("?")),
            None => h.to_string(),
        },
        SourceError::Session { source, .. } => match source.reason() {
            Some(r) => format!("login: {} ({})", r, source.host().unwrap_or("?")),
            None => format!("login: {source}"),
        },
        SourceError::Portal { code, message, .. } => format!("error {code}: {message}"),
        other => other.to_string(),
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
