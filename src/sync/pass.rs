//! The reconciliation pass engine: the stored views → findings → the discrepancy lifecycle,
//! applied and recorded in one transaction. Two passes, one code path ([`run_pass`]): a full
//! pass over every stored pair (month tallies recounted), or a pass over the dossiers changed
//! since the last one, priced against the last full pass's tallies; [`full_pass_reason`]
//! says which.

use std::collections::HashMap;
use std::sync::Arc;

use crate::calendar::{Calendar, Inference, InferenceSettings, StatutorySource};
use crate::config::Config;
use crate::cycle::{count_applied, SyncError};
use crate::facts::DossierFacts;
use crate::lifecycle;
use crate::model::{is_well_formed_national_code, LocalTime, ProvincialDossier, YearMonth};
use crate::reconcile::{self, NationalSide, Settings};
use crate::scoring;
use crate::store::{FullPass, PassRecord, RunCounts, Store, StoredNational};

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
    let rules = Rules::of(cfg, store)?;
    let top_pid = store.top_pid()?;
    let last = store.last_full_pass()?;
    let marked = store
        .reconcile_marks(last.as_ref().map_or(0, |l| l.top_pid))?
        .dossiers;
    match (
        full_pass_reason(cfg, now, &rules.basis, top_pid, marked, last.as_ref()),
        last,
    ) {
        (None, Some(last)) => {
            tracing::debug!(target: "reconcile", marked, new = top_pid - last.top_pid,
                "reconciling the changed dossiers");
            run_pass(store, rules, now, run_id, counts, Some(last))?;
            Ok(Pass::Changed)
        }
        (reason, _) => {
            tracing::info!(target: "reconcile", reason = reason.unwrap_or(""), "full reconciliation");
            run_pass(store, rules, now, run_id, counts, None)?;
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
        return Some("the version, the holiday files, the reconcile settings or the profile's [carries] changed");
    }
    if now < last.at {
        return Some("the clock is before the last full pass");
    }
    if YearMonth::of(&now) != YearMonth::of(&last.at) {
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
const RULES_REVISION: u32 = 4;

/// What the stored verdicts and tallies depend on besides the data: the version (rules), the
/// holiday calendar with the statutory times (inferred ones by their time, not by how many
/// dossiers agree: [`Calendar::judging_basis`]) and the reconcile settings (with the profile's
/// `[carries]`). A change of any makes the next pass a full one.
pub fn pass_basis(settings: &Settings, cal: &Calendar) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(format!(
        "{}|{RULES_REVISION}|{settings:?}|{}",
        env!("CARGO_PKG_VERSION"),
        cal.judging_basis()
    ));
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// How long after a provincial change a look-up is compared with it
/// (`national.sync_grace_minutes`).
pub(super) fn sync_grace(cfg: &Config) -> chrono::Duration {
    chrono::Duration::minutes(i64::from(cfg.national.sync_grace_minutes))
}

/// What reconciliation judges with, from `national.sync_grace_minutes`, `[reconcile]` and the
/// provincial profile's `[carries]`; the error names the profile key when it cannot be loaded.
pub(super) fn reconcile_settings(cfg: &Config) -> Result<Settings, SyncError> {
    let profile = cfg
        .provincial
        .load_profile()
        .map_err(|e| SyncError::Setup(e.to_string()))?;
    Ok(Settings {
        sync_grace: sync_grace(cfg),
        date_tolerance: chrono::Duration::minutes(i64::from(cfg.reconcile.date_tolerance_minutes)),
        carries: profile.carries,
    })
}

/// What a pass judges with, from the config: the tolerances, the calendar (with the statutory
/// times inferred from the stored dossiers, each logged), and the [`pass_basis`] they make.
struct Rules {
    settings: Settings,
    cal: Calendar,
    basis: String,
}

impl Rules {
    fn of(cfg: &Config, store: &Store) -> Result<Rules, SyncError> {
        let cal = cfg
            .calendar
            .build()
            .map_err(|e| SyncError::Setup(e.to_string()))?;
        let (cal, inferences) = store.with_inferred_statutory_times(&cal, None)?;
        log_inferences(&inferences, cal.inference());
        let settings = reconcile_settings(cfg)?;
        let basis = pass_basis(&settings, &cal);
        Ok(Rules {
            settings,
            cal,
            basis,
        })
    }
}

/// One log line per procedure whose statutory time was inferred (or could not be, with enough
/// dossiers): once per pass.
fn log_inferences(outcomes: &[(String, Inference)], settings: &InferenceSettings) {
    for (code, o) in outcomes {
        match o {
            Inference::Inferred(t) => {
                if let StatutorySource::Inferred { dossiers, agreeing } = t.source {
                    tracing::info!(target: "reconcile",
                        "procedure {code}: statutory time inferred as {} {} from {agreeing} of {dossiers} dossiers",
                        t.limit, t.unit.as_str().replace('_', " "));
                }
            }
            Inference::Disagree {
                dossiers,
                agreeing,
                limit,
                unit,
            } => tracing::info!(target: "reconcile",
                "procedure {code}: statutory time not inferred: the most common due time, {limit} {}, is given by {agreeing} of {dossiers} dossiers (calendar.infer_statutory_min_percent = {}); its dossiers without a due date stay unknown",
                unit.as_str().replace('_', " "), settings.min_percent),
            Inference::TooFew { dossiers } => tracing::debug!(target: "reconcile",
                "procedure {code}: statutory time not inferred: {dossiers} dossiers with a due date (calendar.infer_statutory_min_dossiers = {})",
                settings.min_dossiers),
        }
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
    run_pass(store, Rules::of(cfg, store)?, now, run_id, counts, None)
}

/// One reconciliation pass: over every pair (`last` = `None`) or over the pairs changed since
/// `last`; then the lifecycle, and the pass recorded with the actions in one transaction.
fn run_pass(
    store: &mut Store,
    rules: Rules,
    now: LocalTime,
    run_id: i64,
    counts: &mut RunCounts,
    last: Option<FullPass>,
) -> Result<(), SyncError> {
    // The marks first: a discrepancy changed by hand after this read (and marked) is then
    // either seen changed below, or left marked for the next pass.
    let marks = store.reconcile_marks(last.as_ref().map_or(0, |l| l.top_pid))?;
    let existing = store.existing_discrepancies()?;
    let top_pid = store.top_pid()?;
    let facts = match &last {
        Some(last) => store.changed_provincial_facts(last.top_pid, &marks)?,
        None => store.provincial_facts()?,
    };
    let pass = PairPass {
        settings: &rules.settings,
        cal: &rules.cal,
        now,
        existing: &existing,
        facts: &facts,
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
                basis: rules.basis,
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
    count_applied(counts, &applied);
    Ok(())
}

/// Provincial rows from which [`reconcile_all`]'s pass is split over two threads.
const SPLIT_ROWS: i64 = 20_000;

/// What every dossier of [`reconcile_all`]'s pass is judged with (shared by both threads).
struct PairPass<'a> {
    settings: &'a Settings,
    cal: &'a Calendar,
    now: LocalTime,
    existing: &'a HashMap<String, Vec<lifecycle::Existing>>,
    /// The facts of the provincial status history, by dossier id (attached before judging).
    facts: &'a HashMap<String, Arc<DossierFacts>>,
    /// Whether the pass counts the month tallies (a full pass; a pass over the changed
    /// dossiers uses the last full pass's).
    count_tallies: bool,
}

/// What one thread of the pass has gathered.
#[derive(Default)]
struct PassState {
    tallies: HashMap<YearMonth, scoring::Tally>,
    calendar_problem: Option<String>,
    pending: Vec<(ProvincialDossier, reconcile::Prepared)>,
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
    fn visit(&self, st: &mut PassState, p: &ProvincialDossier, stored: Option<&StoredNational>) {
        // The streamed record is reused: a dossier with history facts is judged on a copy.
        let with_facts;
        let p = match self.facts.get(&p.local_id) {
            Some(f) => {
                with_facts = ProvincialDossier {
                    observed: Some(Arc::clone(f)),
                    ..p.clone()
                };
                &with_facts
            }
            None => p,
        };
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
