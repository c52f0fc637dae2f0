//! Reconciliation marks and passes: the append-only marks in `reconcile_dirty` (which dossiers
//! the next pass must re-examine), and what a pass leaves for the next one (`reconcile_pass`,
//! `month_tally`).

use std::collections::HashMap;

use rusqlite::{named_params, params, OptionalExtension, Transaction};

use super::{Result, Store};
use crate::model::{parse_stored_time, LocalTime, YearMonth};
use crate::scoring::Tally;

/// What a reconciliation pass leaves for the next one (see [`Store::apply_reconciliation`]).
#[derive(Clone, Debug, PartialEq)]
pub enum PassRecord {
    /// A full pass: every dossier re-judged and the month tallies recounted.
    Full {
        /// The fingerprint of what verdicts depend on besides the data (version and rules
        /// revision, holiday calendar, reconcile settings): a change forces the next full pass.
        basis: String,
        /// The highest `provincial_dossier` rowid the pass saw (rows above it are new).
        top_pid: i64,
        /// The marks as they stood before the pass read anything.
        marks: Marks,
        /// The provincial view's tallies per month (`month_tally`), which score impacts are
        /// computed against.
        tallies: HashMap<YearMonth, Tally>,
        /// What the pass could not judge (a year with no holiday file); `None` when nothing.
        calendar_problem: Option<String>,
    },
    /// A pass over the marked and new dossiers only; the last full pass's tallies are kept.
    Changed {
        /// The highest `provincial_dossier` rowid the pass saw.
        top_pid: i64,
        /// The marks as they stood before the pass read anything.
        marks: Marks,
    },
}

/// The marks for reconciliation at one moment ([`Store::reconcile_marks`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Marks {
    /// The id of the last mark (0: none).
    pub last_id: i64,
    /// Distinct dossiers marked, among the rows the last pass saw.
    pub dossiers: u64,
}

/// The last full reconciliation, as [`Store::last_full_pass`] reads it back.
#[derive(Clone, Debug, PartialEq)]
pub struct FullPass {
    /// When it ran (`reconcile_pass.full_at`).
    pub at: LocalTime,
    /// Its basis fingerprint ([`PassRecord::Full`]): a different one now forces a full pass.
    pub basis: String,
    /// The highest provincial rowid reconciled by any pass since.
    pub top_pid: i64,
    /// The provincial view's tallies per month it counted (`month_tally`).
    pub tallies: HashMap<YearMonth, Tally>,
    /// Dossiers it could not judge (a year with no holiday file), as reported then.
    pub calendar_problem: Option<String>,
}

impl Store {
    /// The marks for the next reconciliation as they stand now: the last one's id (a pass
    /// clears up to it, never a mark made while it ran) and how many dossiers at or below
    /// `top_pid` they name (rows above it are new, and taken anyway).
    pub fn reconcile_marks(&self, top_pid: i64) -> Result<Marks> {
        self.read(|c| {
            c.query_row(
                "SELECT coalesce(max(id), 0),
                        (SELECT count(DISTINCT pid) FROM reconcile_dirty WHERE pid <= ?1)
                 FROM reconcile_dirty",
                params![top_pid],
                |r| {
                    Ok(Marks {
                        last_id: r.get(0)?,
                        dossiers: r.get::<_, i64>(1)?.max(0) as u64,
                    })
                },
            )
        })
    }

    /// What the last full reconciliation recorded: when, on what basis, the highest rowid
    /// reconciled since, and the month tallies it counted.
    pub fn last_full_pass(&self) -> Result<Option<FullPass>> {
        type Head = (String, String, i64, Option<String>);
        self.read(|c| {
            let head: Option<Head> = c
                .query_row(
                    "SELECT full_at, basis, top_pid, calendar_problem FROM reconcile_pass
                     WHERE id = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some((full_at, basis, top_pid, calendar_problem)) = head else {
                return Ok(None);
            };
            let Some(full_at) = parse_stored_time(&full_at) else {
                return Ok(None); // unreadable: the next pass is a full one and rewrites it
            };
            let mut stmt = c.prepare_cached(
                "SELECT month, counted, early, on_time, late, in_process_in_time,
                        in_process_overdue
                 FROM month_tally",
            )?;
            let mut tallies = HashMap::new();
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let month: String = r.get(0)?;
                let Ok(month) = month.parse::<YearMonth>() else {
                    return Ok(None);
                };
                let n = |i| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
                tallies.insert(
                    month,
                    Tally {
                        counted: n(1)?,
                        early: n(2)?,
                        on_time: n(3)?,
                        late: n(4)?,
                        in_process_in_time: n(5)?,
                        in_process_overdue: n(6)?,
                    },
                );
            }
            Ok(Some(FullPass {
                at: full_at,
                basis,
                top_pid,
                tallies,
                calendar_problem,
            }))
        })
    }
}

/// Records `pass` in its transaction (the one applying its actions): clears the marks it
/// consumed, keeps the highest rowid it saw, and for a full pass its time, basis and tallies.
pub(super) fn record_pass(
    tx: &Transaction<'_>,
    run_id: i64,
    now: &str,
    pass: &PassRecord,
) -> rusqlite::Result<()> {
    let (PassRecord::Full { marks, .. } | PassRecord::Changed { marks, .. }) = pass;
    // Only the marks the pass saw: one made meanwhile (a discrepancy resolved by hand while
    // the pass ran) is for the next pass.
    tx.execute(
        "DELETE FROM reconcile_dirty WHERE id <= ?1",
        params![marks.last_id],
    )?;
    match pass {
        PassRecord::Full {
            basis,
            top_pid,
            tallies,
            calendar_problem,
            ..
        } => {
            tx.execute(
                "INSERT INTO reconcile_pass (id, full_at, basis, top_pid, calendar_problem, run_id)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET full_at = excluded.full_at,
                    basis = excluded.basis, top_pid = excluded.top_pid,
                    calendar_problem = excluded.calendar_problem, run_id = excluded.run_id",
                params![now, basis, top_pid, calendar_problem, run_id],
            )?;
            tx.execute("DELETE FROM month_tally", [])?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO month_tally (month, counted, early, on_time, late,
                    in_process_in_time, in_process_overdue, computed_at)
                 VALUES (:month, :counted, :early, :on_time, :late, :in_process_in_time,
                    :in_process_overdue, :computed_at)",
            )?;
            for (m, t) in tallies {
                let n = |v: u64| v as i64;
                ins.execute(named_params! {
                    ":month": m.iso(),
                    ":counted": n(t.counted),
                    ":early": n(t.early),
                    ":on_time": n(t.on_time),
                    ":late": n(t.late),
                    ":in_process_in_time": n(t.in_process_in_time),
                    ":in_process_overdue": n(t.in_process_overdue),
                    ":computed_at": now,
                })?;
            }
        }
        PassRecord::Changed { top_pid, .. } => {
            tx.execute(
                "UPDATE reconcile_pass SET top_pid = max(top_pid, ?1) WHERE id = 1",
                params![top_pid],
            )?;
        }
    }
    Ok(())
}
