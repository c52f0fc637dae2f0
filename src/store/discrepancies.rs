//! Discrepancies (`discrepancy`) and their events (`discrepancy_event`): the lifecycle's
//! actions applied by a reconciliation, manual acknowledge and resolve, and what staff and
//! tools list.
//!
//! Every state change is logged (`tracing` target `discrepancy`) once its transaction has
//! committed: a rolled-back transaction (a full disk) logs nothing that did not happen.

use std::collections::HashMap;

use rusqlite::{named_params, params, OptionalExtension, Row};
use serde::Serialize;

use super::passes::{record_pass, PassRecord};
use super::{Result, Store, StoreError};
use crate::lifecycle::{Action, Existing, State};
use crate::model::{fmt_time, LocalTime};
use crate::reconcile::{Finding, Kind, Severity};

/// One discrepancy as staff and tools see it: a row of the `discrepancy` table
/// (docs/schema.md), times and enums as stored text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DiscrepancyRow {
    /// The stable id staff use (`tthc-sync discrepancy show ID`).
    pub id: i64,
    /// The provincial dossier's id; `nat:<national code>` for `missing_on_provincial`, which
    /// has no provincial dossier.
    pub dossier_id: String,
    /// The code staff know the dossier by: the national code, else the local code.
    pub dossier_code: String,
    /// The discrepancy kind (docs/domain.md §7), e.g. `closed_locally_open_nationally`.
    pub kind: String,
    /// `open`, `acknowledged` or `resolved`.
    pub state: String,
    /// `low`, `medium`, `high` or `critical` (docs/discrepancies.md).
    pub severity: String,
    /// Points of the month's 20-point score regained if the portal were corrected to the
    /// province's view (docs/domain.md §3); 0 when it costs nothing or was not judged.
    pub score_impact: f64,
    /// The month (`YYYY-MM`) the impact counts in; `None` when unknown.
    pub period: Option<String>,
    /// The handling agency's code, as the province records it (`missing_on_provincial`: the
    /// portal's unit).
    pub agency_code: Option<String>,
    /// The handling agency's name, as the province records it (`missing_on_provincial`: the
    /// portal's unit).
    pub agency_name: Option<String>,
    /// The province's value of what was compared, as text (`provincial_value`).
    pub provincial: String,
    /// The portal's value of what was compared, as text (`national_value`).
    pub national: String,
    /// When a comparison first saw it (stored time text).
    pub first_seen: String,
    /// The last comparison that saw it (stored time text).
    pub last_seen: String,
    /// The province's timeliness verdict in `period` under the national rule (`early`,
    /// `on_time`, `late`, …); `None` when not judged.
    pub provincial_verdict: Option<String>,
    /// The portal's verdict in `period`, `absent` when the portal does not have the dossier;
    /// `None` when not judged.
    pub national_verdict: Option<String>,
    /// The rule the verdicts were judged under (`nd61-2018` or `nd118-2025`, docs/domain.md
    /// §2); `None` when not judged.
    pub rule_version: Option<String>,
}

/// Which discrepancies [`Store::discrepancies`] lists (`tthc-sync discrepancies`); an empty or
/// `None` field does not filter.
#[derive(Clone, Debug, Default)]
pub struct DiscrepancyFilter {
    /// Only these states (any of them).
    pub states: Vec<State>,
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only this agency, matched exactly against the dossier's agency code or name (not the
    /// unit in force: docs/domain.md §5).
    pub agency: Option<String>,
    /// Only this severity and above (`tthc-sync discrepancies` lists `medium` and above by
    /// default).
    pub least_severity: Option<Severity>,
    /// Only the discrepancies whose score impact counts in this month (`period`, `YYYY-MM`).
    pub month: Option<String>,
}

/// One event of a discrepancy's history: a row of `discrepancy_event`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventRow {
    /// When it happened (stored time text).
    pub at: String,
    /// `opened`, `acknowledged`, `resolved`, `auto_resolved` or `reopened`.
    pub event: String,
    /// `tthc-sync` for the sync's own changes, else the name given with `--by`.
    pub actor: String,
    /// Why, as given with `--note`; `None` for the sync's own changes.
    pub note: Option<String>,
    /// The `sync_run` that made the change; `None` for a manual one.
    pub run_id: Option<i64>,
    /// The operating-system user who ran the command (`SUDO_USER`, else the name of the uid),
    /// beside `actor`; `None` for the sync's own changes and manual ones made before
    /// migration 9.
    pub os_user: Option<String>,
    /// What the discrepancy showed when the change was made by hand (values, severity and
    /// impact as the person saw them); `None` for the sync's own changes and manual ones made
    /// before migration 9.
    pub seen: Option<Seen>,
}

/// What a discrepancy showed when a staff member acknowledged or resolved it, kept with the
/// event (`discrepancy_event.seen_*`): the values may change later, the event's record does not.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Seen {
    /// The state it was in before the change (`open`, `acknowledged`).
    pub state: String,
    /// Its severity then.
    pub severity: String,
    /// Its score impact then, in points of the month's 20-point score.
    pub score_impact: f64,
    /// The province's value then (`provincial_value`).
    pub provincial: String,
    /// The portal's value then (`national_value`).
    pub national: String,
}

/// Who made a manual change and why.
#[derive(Clone, Copy, Debug)]
pub struct ManualChange<'a> {
    /// The name given with `--by` (the person responsible).
    pub by: &'a str,
    /// The operating-system user who ran the command (`SUDO_USER`, else the uid's name).
    pub os_user: &'a str,
    /// Why, as given with `--note`: required, not blank.
    pub note: &'a str,
}

/// Counts by discrepancy action applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Discrepancies opened (new findings).
    pub opened: u64,
    /// Resolved discrepancies seen again and reopened.
    pub reopened: u64,
    /// Discrepancies resolved automatically: the comparison no longer sees them.
    pub resolved: u64,
    /// Open or acknowledged discrepancies seen again: values and last seen updated, state
    /// kept.
    pub refreshed: u64,
}

/// The order of every discrepancy listing: largest score impact first, then severity, then
/// the oldest.
const BY_IMPACT: &str = " ORDER BY score_impact DESC, CASE severity WHEN 'critical' THEN 0 \
    WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, first_seen, id";

columns! {
    /// The columns of a [`DiscrepancyRow`], read by [`discrepancy_from_row`].
    mod discrepancy_columns {
        ID = "id",
        DOSSIER_ID = "dossier_id",
        DOSSIER_CODE = "dossier_code",
        KIND = "kind",
        STATE = "state",
        SEVERITY = "severity",
        SCORE_IMPACT = "score_impact",
        PERIOD = "period",
        AGENCY_CODE = "agency_code",
        AGENCY_NAME = "agency_name",
        PROVINCIAL_VALUE = "provincial_value",
        NATIONAL_VALUE = "national_value",
        FIRST_SEEN = "first_seen",
        LAST_SEEN = "last_seen",
        PROVINCIAL_VERDICT = "provincial_verdict",
        NATIONAL_VERDICT = "national_verdict",
        RULE_VERSION = "rule_version",
    }
}

/// A row of `SELECT` [`discrepancy_columns`] `FROM discrepancy`.
fn discrepancy_from_row(r: &Row<'_>) -> rusqlite::Result<DiscrepancyRow> {
    use discrepancy_columns as c;
    debug_assert_eq!(r.as_ref().column_count(), c::COUNT);
    Ok(DiscrepancyRow {
        id: r.get(c::ID)?,
        dossier_id: r.get(c::DOSSIER_ID)?,
        dossier_code: r.get(c::DOSSIER_CODE)?,
        kind: r.get(c::KIND)?,
        state: r.get(c::STATE)?,
        severity: r.get(c::SEVERITY)?,
        score_impact: r.get(c::SCORE_IMPACT)?,
        period: r.get(c::PERIOD)?,
        agency_code: r.get(c::AGENCY_CODE)?,
        agency_name: r.get(c::AGENCY_NAME)?,
        provincial: r.get(c::PROVINCIAL_VALUE)?,
        national: r.get(c::NATIONAL_VALUE)?,
        first_seen: r.get(c::FIRST_SEEN)?,
        last_seen: r.get(c::LAST_SEEN)?,
        provincial_verdict: r.get(c::PROVINCIAL_VERDICT)?,
        national_verdict: r.get(c::NATIONAL_VERDICT)?,
        rule_version: r.get(c::RULE_VERSION)?,
    })
}

/// A state change to log once its transaction has committed.
enum Logged<'a> {
    /// `opened` or `reopened`.
    Finding(&'static str, &'a Finding),
    Resolved {
        id: i64,
        kind: Kind,
    },
}

impl Logged<'_> {
    fn log(&self) {
        match self {
            Logged::Finding(event, f) => {
                tracing::info!(target: "discrepancy", event, dossier = %f.dossier_code,
                    kind = f.kind.as_str(), agency = f.agency_code.as_deref().unwrap_or(""),
                    severity = f.severity.as_str(), impact = f.score_impact,
                    "discrepancy {event}");
            }
            Logged::Resolved { id, kind } => {
                tracing::info!(target: "discrepancy", event = "resolved", id = *id,
                    kind = kind.as_str(), "discrepancy resolved");
            }
        }
    }
}

impl Store {
    /// Every stored discrepancy, grouped by dossier id.
    pub fn existing_discrepancies(&self) -> Result<HashMap<String, Vec<Existing>>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT id, dossier_id, kind, state FROM discrepancy")?;
            let mut out: HashMap<String, Vec<Existing>> = HashMap::new();
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let kind: String = r.get(2)?;
                let state: String = r.get(3)?;
                let (Some(kind), Some(state)) = (Kind::parse(&kind), State::parse(&state)) else {
                    continue; // a kind from a newer version: leave it alone
                };
                out.entry(r.get(1)?).or_default().push(Existing {
                    id: r.get(0)?,
                    kind,
                    state,
                });
            }
            Ok(out)
        })
    }

    /// Applies lifecycle actions in one transaction, recording an event for each state change.
    pub fn apply_actions(
        &mut self,
        run_id: i64,
        now: LocalTime,
        actions: &[Action],
    ) -> Result<Applied> {
        self.apply_reconciliation(run_id, now, actions, None)
    }

    /// [`Store::apply_actions`] of a reconciliation pass, recording the pass in the same
    /// transaction: the marks it consumed are cleared, the highest rowid it saw is kept, and a
    /// full pass also keeps its time, basis and month tallies. A pass that fails before this
    /// leaves every mark for the next one. The changes are logged once it has committed.
    pub fn apply_reconciliation(
        &mut self,
        run_id: i64,
        now: LocalTime,
        actions: &[Action],
        pass: Option<&PassRecord>,
    ) -> Result<Applied> {
        let now_s = fmt_time(&now);
        let (applied, logged) = self.write(|tx| {
            if let Some(pass) = pass {
                record_pass(tx, run_id, &now_s, pass)?;
            }
            let mut applied = Applied::default();
            let mut logged = Vec::new();
            let mut insert = tx.prepare_cached(
                "INSERT INTO discrepancy (dossier_id, dossier_code, kind, state, severity,
                    score_impact, period, agency_code, agency_name, provincial_value,
                    national_value, first_seen, last_seen, state_changed_at,
                    provincial_verdict, national_verdict, rule_version)
                 VALUES (:dossier_id, :dossier_code, :kind, 'open', :severity, :score_impact,
                    :period, :agency_code, :agency_name, :provincial_value, :national_value,
                    :now, :now, :now, :provincial_verdict, :national_verdict, :rule_version)",
            )?;
            // The judgement (severity, impact, period, verdicts) only when it could be made
            // (`impact_known`); the state only when reopening.
            let mut update = tx.prepare_cached(
                "UPDATE discrepancy SET dossier_code = :dossier_code,
                    severity = CASE WHEN :impact_known THEN :severity ELSE severity END,
                    score_impact = CASE WHEN :impact_known THEN :score_impact
                        ELSE score_impact END,
                    period = CASE WHEN :impact_known THEN :period ELSE period END,
                    provincial_verdict = CASE WHEN :impact_known THEN :provincial_verdict
                        ELSE provincial_verdict END,
                    national_verdict = CASE WHEN :impact_known THEN :national_verdict
                        ELSE national_verdict END,
                    rule_version = CASE WHEN :impact_known THEN :rule_version
                        ELSE rule_version END,
                    agency_code = :agency_code, agency_name = :agency_name,
                    provincial_value = :provincial_value, national_value = :national_value,
                    last_seen = :now,
                    state = CASE WHEN :reopen THEN 'open' ELSE state END,
                    state_changed_at = CASE WHEN :reopen THEN :now ELSE state_changed_at END
                 WHERE id = :id",
            )?;
            let mut resolve = tx.prepare_cached(
                "UPDATE discrepancy SET state = 'resolved', state_changed_at = ?2 WHERE id = ?1",
            )?;
            let mut event = tx.prepare_cached(
                "INSERT INTO discrepancy_event (discrepancy_id, at, event, actor, note, run_id)
                 VALUES (?1, ?2, ?3, 'tthc-sync', NULL, ?4)",
            )?;
            for a in actions {
                match a {
                    Action::Open(f) => {
                        insert.execute(named_params! {
                            ":dossier_id": f.dossier_id,
                            ":dossier_code": f.dossier_code,
                            ":kind": f.kind.as_str(),
                            ":severity": f.severity.as_str(),
                            ":score_impact": f.score_impact,
                            ":period": f.period,
                            ":agency_code": f.agency_code,
                            ":agency_name": f.agency_name,
                            ":provincial_value": f.provincial,
                            ":national_value": f.national,
                            ":now": now_s,
                            ":provincial_verdict": verdict_of(f, true),
                            ":national_verdict": verdict_of(f, false),
                            ":rule_version": f.timeliness.map(|t| t.rule_version),
                        })?;
                        let id = tx.last_insert_rowid();
                        event.execute(params![id, now_s, "opened", run_id])?;
                        logged.push(Logged::Finding("opened", f));
                        applied.opened += 1;
                    }
                    Action::Reopen { id, finding: f } | Action::Refresh { id, finding: f } => {
                        let reopen = matches!(a, Action::Reopen { .. });
                        // A refresh writes `last_seen`: the last comparison that saw it.
                        update.execute(named_params! {
                            ":id": id,
                            ":dossier_code": f.dossier_code,
                            ":impact_known": f.impact_known,
                            ":severity": f.severity.as_str(),
                            ":score_impact": f.score_impact,
                            ":period": f.period,
                            ":provincial_verdict": verdict_of(f, true),
                            ":national_verdict": verdict_of(f, false),
                            ":rule_version": f.timeliness.map(|t| t.rule_version),
                            ":agency_code": f.agency_code,
                            ":agency_name": f.agency_name,
                            ":provincial_value": f.provincial,
                            ":national_value": f.national,
                            ":now": now_s,
                            ":reopen": reopen,
                        })?;
                        if reopen {
                            event.execute(params![id, now_s, "reopened", run_id])?;
                            logged.push(Logged::Finding("reopened", f));
                            applied.reopened += 1;
                        } else {
                            applied.refreshed += 1;
                        }
                    }
                    Action::AutoResolve { id, kind } => {
                        resolve.execute(params![id, now_s])?;
                        event.execute(params![id, now_s, "auto_resolved", run_id])?;
                        logged.push(Logged::Resolved {
                            id: *id,
                            kind: *kind,
                        });
                        applied.resolved += 1;
                    }
                }
            }
            Ok((applied, logged))
        })?;
        for l in &logged {
            l.log();
        }
        Ok(applied)
    }

    /// Every discrepancy of one dossier (by its provincial id), whatever its state, in the
    /// order of [`Store::discrepancies`]: largest score impact first. One indexed query (the
    /// `UNIQUE (dossier_id, kind)` index), not a scan of every discrepancy.
    pub fn discrepancies_of_dossier(&self, dossier_id: &str) -> Result<Vec<DiscrepancyRow>> {
        let sql = format!(
            "SELECT {} FROM discrepancy WHERE dossier_id = ?1{BY_IMPACT}",
            discrepancy_columns::SQL
        );
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![dossier_id], discrepancy_from_row)?;
            rows.collect()
        })
    }

    /// The discrepancies `f` selects, largest score impact first, then by severity, then the
    /// oldest.
    pub fn discrepancies(&self, f: &DiscrepancyFilter) -> Result<Vec<DiscrepancyRow>> {
        let (cond, args) = filter_sql(f);
        let sql = format!(
            "SELECT {} FROM discrepancy WHERE {cond}{BY_IMPACT}",
            discrepancy_columns::SQL
        );
        self.discrepancy_rows(&sql, &args)
    }

    /// The discrepancies `sql` (selecting [`discrepancy_columns::SQL`]) reads with `args`.
    fn discrepancy_rows(&self, sql: &str, args: &[String]) -> Result<Vec<DiscrepancyRow>> {
        self.read(|c| {
            let mut stmt = c.prepare(sql)?;
            let rows = stmt.query_map(
                rusqlite::params_from_iter(args.iter()),
                discrepancy_from_row,
            )?;
            rows.collect()
        })
    }

    /// One page of what [`Store::discrepancies`] lists (`limit` rows from `offset`, in its
    /// order) and how many `f` selects in all: the web page's list, which never reads every
    /// row.
    pub fn discrepancies_page(
        &self,
        f: &DiscrepancyFilter,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<DiscrepancyRow>)> {
        let (cond, mut args) = filter_sql(f);
        let count_sql = format!("SELECT count(*) FROM discrepancy WHERE {cond}");
        let total = self.read(|c| {
            c.prepare(&count_sql)?
                .query_row(rusqlite::params_from_iter(args.iter()), |r| {
                    r.get::<_, i64>(0)
                })
        })?;
        args.push(limit.min(i64::MAX as u64).to_string());
        args.push(offset.min(i64::MAX as u64).to_string());
        // A deferred join: the sort keeps only the sort keys and ids of the rows up to the
        // page (offset + limit of them), not whole rows, then reads the page's rows by id. A
        // deep page costs less (benches/web_list.rs).
        let sql = format!(
            "SELECT {} FROM discrepancy WHERE id IN (SELECT id FROM discrepancy WHERE {cond}\
             {BY_IMPACT} LIMIT CAST(?{} AS INTEGER) OFFSET CAST(?{} AS INTEGER)){BY_IMPACT}",
            discrepancy_columns::SQL,
            args.len() - 1,
            args.len()
        );
        let rows = self.discrepancy_rows(&sql, &args)?;
        Ok((total.max(0) as u64, rows))
    }

    /// The discrepancy with this id, if any.
    pub fn discrepancy(&self, id: i64) -> Result<Option<DiscrepancyRow>> {
        self.read(|c| {
            c.query_row(
                &format!(
                    "SELECT {} FROM discrepancy WHERE id = ?1",
                    discrepancy_columns::SQL
                ),
                params![id],
                discrepancy_from_row,
            )
            .optional()
        })
    }

    /// The history of the discrepancy with this id, oldest first (empty when there is none).
    pub fn discrepancy_events(&self, id: i64) -> Result<Vec<EventRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT at, event, actor, note, run_id, os_user, seen_state, seen_severity,
                        seen_score_impact, seen_provincial_value, seen_national_value
                 FROM discrepancy_event WHERE discrepancy_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map(params![id], |r| {
                let seen_state: Option<String> = r.get(6)?;
                let seen = match seen_state {
                    Some(state) => Some(Seen {
                        state,
                        severity: r.get(7)?,
                        score_impact: r.get(8)?,
                        provincial: r.get(9)?,
                        national: r.get(10)?,
                    }),
                    None => None,
                };
                Ok(EventRow {
                    at: r.get(0)?,
                    event: r.get(1)?,
                    actor: r.get(2)?,
                    note: r.get(3)?,
                    run_id: r.get(4)?,
                    os_user: r.get(5)?,
                    seen,
                })
            })?;
            rows.collect()
        })
    }

    /// A manual acknowledge or resolve by a staff member, with why. The event keeps who
    /// (`--by` and the operating-system user), the note, and what the discrepancy showed at
    /// that moment (returned, for the command to print); logged (who, not the note) once
    /// committed.
    pub fn set_discrepancy_state(
        &mut self,
        id: i64,
        to: State,
        change: ManualChange<'_>,
        now: LocalTime,
    ) -> Result<Seen> {
        let ManualChange { by, os_user, note } = change;
        if by.trim().is_empty() {
            return Err(StoreError::InvalidInput(
                "--by must name who made the change".into(),
            ));
        }
        if note.trim().is_empty() {
            return Err(StoreError::InvalidInput(
                "--note must say why (what was checked, what was done)".into(),
            ));
        }
        if os_user.trim().is_empty() {
            return Err(StoreError::InvalidInput(
                "the operating-system user running the command is unknown".into(),
            ));
        }
        let event = match to {
            State::Acknowledged => "acknowledged",
            State::Resolved => "resolved",
            State::Open => {
                return Err(StoreError::InvalidTransition {
                    id,
                    why: "cannot be opened by hand: the sync opens and reopens discrepancies"
                        .into(),
                })
            }
        };
        let now_s = fmt_time(&now);
        // The state is checked in the transaction that changes it; a refusal writes nothing.
        let changed = self.write(|tx| {
            let seen = tx
                .query_row(
                    "SELECT state, severity, score_impact, provincial_value, national_value
                     FROM discrepancy WHERE id = ?1",
                    params![id],
                    |r| {
                        Ok(Seen {
                            state: r.get(0)?,
                            severity: r.get(1)?,
                            score_impact: r.get(2)?,
                            provincial: r.get(3)?,
                            national: r.get(4)?,
                        })
                    },
                )
                .optional()?;
            let Some(seen) = seen else {
                return Ok(Err(StoreError::NotFound(format!(
                    "no discrepancy with id {id}"
                ))));
            };
            let state = seen.state.as_str();
            let refused = if state == to.as_str() {
                Some(format!("is already {state}"))
            } else if to == State::Acknowledged && state == "resolved" {
                Some("is resolved; it reopens by itself if the sync sees it again".to_string())
            } else {
                None
            };
            if let Some(why) = refused {
                return Ok(Err(StoreError::InvalidTransition { id, why }));
            }
            tx.execute(
                "UPDATE discrepancy SET state = ?2, state_changed_at = ?3 WHERE id = ?1",
                params![id, to.as_str(), now_s],
            )?;
            tx.execute(
                "INSERT INTO discrepancy_event (discrepancy_id, at, event, actor, note, run_id,
                    os_user, seen_state, seen_severity, seen_score_impact,
                    seen_provincial_value, seen_national_value)
                 VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    id,
                    now_s,
                    event,
                    by,
                    note,
                    os_user,
                    seen.state,
                    seen.severity,
                    seen.score_impact,
                    seen.provincial,
                    seen.national
                ],
            )?;
            // The next reconciliation looks at the dossier again (and reopens a discrepancy
            // resolved by hand that it still sees), whether it is a full pass or not.
            tx.execute(
                "INSERT INTO reconcile_dirty (pid)
                 SELECT p.rowid FROM provincial_dossier p JOIN discrepancy d
                   ON d.dossier_id = p.dossier_id WHERE d.id = ?1",
                params![id],
            )?;
            Ok(Ok(seen))
        })?;
        let seen = changed?;
        tracing::info!(target: "discrepancy", event, id, by, os_user, "discrepancy changed by hand");
        Ok(seen)
    }

    /// Open discrepancies counted by kind.
    pub fn open_counts_by_kind(&self) -> Result<Vec<(String, u64)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT kind, count(*) FROM discrepancy WHERE state IN ('open', 'acknowledged')
                 GROUP BY kind ORDER BY count(*) DESC, kind",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
            rows.collect()
        })
    }

    /// Open (and acknowledged) discrepancies counted by kind and severity: `(kind, severity,
    /// count)`, the largest counts first.
    pub fn open_counts_by_kind_severity(&self) -> Result<Vec<(String, String, u64)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT kind, severity, count(*) FROM discrepancy
                 WHERE state IN ('open', 'acknowledged')
                 GROUP BY kind, severity ORDER BY count(*) DESC, kind, severity",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.max(0) as u64))
            })?;
            rows.collect()
        })
    }

    /// Agencies with the most open discrepancies.
    pub fn open_counts_by_agency(&self, limit: usize) -> Result<Vec<(String, u64)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT coalesce(agency_name, agency_code, '(không rõ)'), count(*) FROM discrepancy
                 WHERE state IN ('open', 'acknowledged')
                 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit as i64], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
            })?;
            rows.collect()
        })
    }
}

/// The `WHERE` condition of `f` and its arguments (`?1`, `?2`, … in order).
fn filter_sql(f: &DiscrepancyFilter) -> (String, Vec<String>) {
    let mut sql = String::from("1 = 1");
    let mut args: Vec<String> = Vec::new();
    if !f.states.is_empty() {
        let marks: Vec<String> = f
            .states
            .iter()
            .map(|s| {
                args.push(s.as_str().to_string());
                format!("?{}", args.len())
            })
            .collect();
        // `+state`: not through the (state, kind) index. A listing's states are most of the
        // table (open and acknowledged), and one index look-up per row costs ~5× a plain scan
        // of it (benches/web_list.rs); a scan is also what the count and the sort by impact
        // read anyway.
        sql.push_str(&format!(" AND +state IN ({})", marks.join(", ")));
    }
    if let Some(k) = f.kind {
        args.push(k.as_str().to_string());
        sql.push_str(&format!(" AND kind = ?{}", args.len()));
    }
    if let Some(a) = &f.agency {
        args.push(a.clone());
        sql.push_str(&format!(
            " AND (agency_code = ?{n} OR agency_name = ?{n})",
            n = args.len()
        ));
    }
    if let Some(least) = f.least_severity {
        let marks: Vec<String> = Severity::ALL
            .into_iter()
            .filter(|s| *s >= least)
            .map(|s| {
                args.push(s.as_str().to_string());
                format!("?{}", args.len())
            })
            .collect();
        sql.push_str(&format!(" AND severity IN ({})", marks.join(", ")));
    }
    if let Some(m) = &f.month {
        args.push(m.clone());
        sql.push_str(&format!(" AND period = ?{}", args.len()));
    }
    (sql, args)
}

/// A finding's provincial (`true`) or national verdict, as stored.
fn verdict_of(f: &Finding, provincial: bool) -> Option<&'static str> {
    let t = f.timeliness?;
    if provincial {
        Some(t.provincial.as_str())
    } else {
        Some(t.national.map_or("absent", |v| v.as_str()))
    }
}

#[cfg(test)]
#[path = "discrepancies_tests.rs"]
mod tests;
