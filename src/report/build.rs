//! Builds a [`MonthlyReport`] from the store: one streaming pass over the dossiers (each judged
//! from both views with the national rule of docs/domain.md §2, for each month it counts in), then
//! the discrepancies, the published scores and the agencies. Only the month's tallies and the
//! appendix rows are kept in memory, never a structure per dossier.
//!
//! - **Views.** The provincial view is [`scoring::judge_provincial`] of every stored provincial
//!   dossier; the national view is [`scoring::judge_national`] of the portal's stored view of
//!   each dossier a look-up found (a dossier the portal does not have is not in it).
//! - **Counting.** A dossier counts in month m as [`scoring::counts_in`] says, judged with the
//!   period's end [`scoring::period_end`]`(m, now)`; the history is the 12 months ending with
//!   the report's month.
//! - **Gap.** Open or acknowledged discrepancies whose `period` is the month, by kind: the
//!   dossiers and the sum of their score impacts.
//! - **Phụ lục I**: in process and overdue in the national view, by the portal's unit.
//!   **Phụ lục II**: late or in process overdue in the provincial view, by the province's
//!   agency, with the official now handling the dossier. **Phụ lục III**: counted late or
//!   overdue by the portal in the month although the province's records, judged at the same
//!   period end, say early, on time or in time (also when the province closed it in an
//!   earlier month), with the discrepancy that explains it and its points.
//! - **Agencies** are grouped as in force in the month (`report::agencies`).
//! - **Published.** The `published_score` row of the province (its unit name is the province's
//!   name, `Tỉnh …` or `UBND tỉnh …`), `progress_tree` before `legacy`, scaled to 20. The
//!   national average and the province's rank come from the legacy API's ranking of provinces
//!   (`unit_key` `tinh:<ID>`, `p_tinh_id` = 0): the mean of their scores, and 1 + the provinces
//!   scoring strictly higher. The 2026 API publishes no such ranking (docs/domain.md §3): with
//!   it alone both stay unknown ("chưa công bố").

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use unicode_normalization::UnicodeNormalization;

use super::agencies::AgencyIndex;
use super::model::{
    AgencyGroup, GapLine, MonthPoint, MonthlyReport, NationalOverdueRow, ProvincialLateRow, Rank,
    ScoreFigures, SyncFaultRow,
};
use crate::calendar::{Calendar, CalendarError};
use crate::facts::DossierFacts;
use crate::model::{LocalTime, ProvincialDossier, YearMonth};
use crate::scoring::{self, Tally};
use crate::store::{PublishedScoreRow, ReportDossier, Store, StoreError};
use crate::timeliness::{Judgement, Verdict};

/// Provincial rows from which the dossier pass is split over two threads.
const SPLIT_ROWS: i64 = 20_000;

/// Months of history shown, the report's month included.
pub const HISTORY_MONTHS: usize = 12;

/// Why a report could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The database could not be read (the error names it).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the report could not compute (for the caller's log; no dossier data in it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BuildNotes {
    /// Dossier judgements skipped because a date fell in a year with no holiday file.
    pub uncomputed: u64,
    /// The first such error (it names the year's holiday file to add); `None` when none.
    pub first_error: Option<String>,
    /// Dossiers of the report's month left out of the province's view because they have no
    /// due date and their procedure no known statutory time (verdict `unknown`).
    pub unknown: u64,
    /// Dossiers of the report's month counted in the province's view with a statutory time
    /// inferred from the province's own dossiers (no due date, procedure not in the file).
    pub inferred: u64,
    /// The procedures whose statutory time was inferred, each with the time and its source
    /// ([`crate::calendar::StatutoryTime::describe_vi`]).
    pub inferred_procedures: Vec<(String, String)>,
}

/// Builds the report of `month` as seen at `now`. See the module doc.
pub fn build(
    store: &Store,
    month: YearMonth,
    now: LocalTime,
    cal: &Calendar,
    province: &str,
) -> Result<MonthlyReport, BuildError> {
    let (report, notes) = build_with_notes(store, month, now, cal, province)?;
    if notes.unknown > 0 {
        tracing::warn!(target: "report", month = %month.iso(), unknown = notes.unknown,
            "some dossiers have no due date and no known statutory time: left out of the \
             province's view (add their procedures to calendar.statutory_times_file)");
    }
    if notes.inferred > 0 {
        tracing::warn!(target: "report", month = %month.iso(), inferred = notes.inferred,
            procedures = %notes.inferred_procedures.iter()
                .map(|(c, t)| format!("{c}: {t}")).collect::<Vec<_>>().join("; "),
            "some dossiers have no due date and were judged with a statutory time inferred from \
             the province's own dossiers (add their procedures to calendar.statutory_times_file)");
    }
    if notes.uncomputed > 0 {
        tracing::warn!(target: "report", month = %month.iso(), uncomputed = notes.uncomputed,
            first_error = notes.first_error.as_deref().unwrap_or(""),
            "some dossiers could not be judged and are left out of the report");
    }
    Ok(report)
}

/// [`build`], also returning what could not be computed.
pub fn build_with_notes(
    store: &Store,
    month: YearMonth,
    now: LocalTime,
    cal: &Calendar,
    province: &str,
) -> Result<(MonthlyReport, BuildNotes), BuildError> {
    let agencies = AgencyIndex::new(store.agencies()?);
    let facts = store.provincial_facts()?;
    let (cal, inferences) = store.with_inferred_statutory_times(cal, None)?;
    let cal = &cal;
    let mut b = Builder::new(month, now, cal, &agencies, &facts);
    let end = month.end();
    // A large table is read in two rowid halves, the second on another thread over its own
    // read-only connection; the halves' builders are merged in rowid order, so every list
    // comes out as from one pass. (Each half is its own read transaction, as the later
    // queries below already are.)
    match store.split_in_two(SPLIT_ROWS)? {
        None => store.for_each_report_dossier(end, |d| b.dossier(d))?,
        Some((mid, reader)) => {
            let mut second = Builder::new(month, now, cal, &agencies, &facts);
            std::thread::scope(|s| {
                let second = &mut second;
                let h = s.spawn(move || {
                    reader.for_each_report_dossier_in(end, mid + 1, i64::MAX, |d| second.dossier(d))
                });
                let first = store.for_each_report_dossier_in(end, i64::MIN, mid, |d| b.dossier(d));
                let second = h.join().expect("report reader thread");
                first.and(second)
            })?;
            b.absorb(second);
        }
    }
    let discrepancies = store.report_discrepancies()?;
    let published = store.all_published_scores()?;
    let (report, mut notes) = b.finish(province, &discrepancies, &published);
    notes.inferred_procedures = inferences
        .iter()
        .filter_map(|(code, o)| match o {
            crate::calendar::Inference::Inferred(t) => Some((code.clone(), t.describe_vi())),
            _ => None,
        })
        .collect();
    Ok((report, notes))
}

#[derive(Clone, Copy)]
enum View {
    National,
    Provincial,
}

struct Fault3 {
    dossier_id: String,
    dossier_code: String,
    agency_code: String,
    agency_name: String,
    provincial: Verdict,
    national: Verdict,
}

struct Builder<'a> {
    month: YearMonth,
    first: YearMonth,
    now: LocalTime,
    cal: &'a Calendar,
    agencies: &'a AgencyIndex,
    /// The facts of the provincial status history, by dossier id ([`crate::facts`]).
    facts: &'a HashMap<String, Arc<DossierFacts>>,
    agency_cache: HashMap<(Option<String>, Option<String>), (String, String)>,
    national: [Tally; HISTORY_MONTHS],
    provincial: [Tally; HISTORY_MONTHS],
    appendix_1: Vec<(String, String, NationalOverdueRow)>,
    appendix_2: Vec<(String, String, ProvincialLateRow)>,
    appendix_3: Vec<Fault3>,
    notes: BuildNotes,
}

fn months_between(a: YearMonth, b: YearMonth) -> i64 {
    i64::from(b.year - a.year) * 12 + i64::from(b.month) - i64::from(a.month)
}

impl<'a> Builder<'a> {
    fn new(
        month: YearMonth,
        now: LocalTime,
        cal: &'a Calendar,
        agencies: &'a AgencyIndex,
        facts: &'a HashMap<String, Arc<DossierFacts>>,
    ) -> Builder<'a> {
        let mut first = month;
        for _ in 1..HISTORY_MONTHS {
            first = first.previous();
        }
        Builder {
            month,
            first,
            now,
            cal,
            agencies,
            facts,
            agency_cache: HashMap::new(),
            national: [Tally::default(); HISTORY_MONTHS],
            provincial: [Tally::default(); HISTORY_MONTHS],
            appendix_1: Vec::new(),
            appendix_2: Vec::new(),
            appendix_3: Vec::new(),
            notes: BuildNotes::default(),
        }
    }

    /// Adds what `later` saw (the rows after this builder's) as if one builder saw both.
    fn absorb(&mut self, later: Builder<'a>) {
        for (t, o) in self.national.iter_mut().zip(&later.national) {
            t.merge(o);
        }
        for (t, o) in self.provincial.iter_mut().zip(&later.provincial) {
            t.merge(o);
        }
        self.appendix_1.extend(later.appendix_1);
        self.appendix_2.extend(later.appendix_2);
        self.appendix_3.extend(later.appendix_3);
        self.notes.uncomputed += later.notes.uncomputed;
        self.notes.unknown += later.notes.unknown;
        self.notes.inferred += later.notes.inferred;
        if self.notes.first_error.is_none() {
            self.notes.first_error = later.notes.first_error;
        }
    }

    fn note(&mut self, e: CalendarError) {
        self.notes.uncomputed += 1;
        self.notes.first_error.get_or_insert_with(|| e.to_string());
    }

    /// Tallies one view of one dossier in every history month it counts in; returns its
    /// judgement at the end of the report's month (when received by then) and whether it
    /// counts in that month.
    fn tally(
        &mut self,
        view: View,
        received: Option<LocalTime>,
        judge: impl Fn(LocalTime) -> Result<Judgement, CalendarError>,
    ) -> Option<(Judgement, bool)> {
        let received = received?;
        let m = self.month;
        if received > m.end() {
            return None;
        }
        let jm = match judge(scoring::period_end(m, self.now)) {
            Ok(j) => j,
            Err(e) => {
                self.note(e);
                return None;
            }
        };
        if !jm.verdict.is_counted() {
            if jm.verdict == Verdict::Unknown && matches!(view, View::Provincial) {
                self.notes.unknown += 1;
            }
            return None;
        }
        // The last month it counts in: the one it closed in, else the report's month.
        let last = match (jm.verdict.is_in_process(), jm.end) {
            (false, Some(end)) => YearMonth::of(&end).min(m),
            _ => m,
        };
        let mut k = YearMonth::of(&received).max(self.first);
        while k <= last {
            let j = if k == m {
                Ok(jm)
            } else {
                judge(scoring::period_end(k, self.now))
            };
            match j {
                Ok(j) if scoring::counts_in(&j, Some(received), k) => {
                    let i = months_between(self.first, k) as usize;
                    match view {
                        View::National => self.national[i].add(j.verdict),
                        View::Provincial => self.provincial[i].add(j.verdict),
                    }
                }
                Ok(_) => {}
                Err(e) => self.note(e),
            }
            k = k.next();
        }
        let counts = scoring::counts_in(&jm, Some(received), m);
        if counts
            && matches!(view, View::Provincial)
            && jm.statutory.is_some_and(|t| t.is_inferred())
        {
            self.notes.inferred += 1;
        }
        Some((jm, counts))
    }

    fn agency(&mut self, code: Option<&str>, name: Option<&str>) -> (String, String) {
        let key = (code.map(str::to_string), name.map(str::to_string));
        if let Some(v) = self.agency_cache.get(&key) {
            return v.clone();
        }
        let v = self.agencies.resolve(code, name, self.month);
        self.agency_cache.insert(key, v.clone());
        v
    }

    fn dossier(&mut self, d: &ReportDossier) {
        // The streamed record is reused: a dossier with history facts is judged on a copy.
        let with_facts;
        let p = match self.facts.get(&d.provincial.local_id) {
            Some(f) => {
                with_facts = ProvincialDossier {
                    observed: Some(Arc::clone(f)),
                    ..d.provincial.clone()
                };
                &with_facts
            }
            None => &d.provincial,
        };
        let cal = self.cal;
        let provincial = self.tally(View::Provincial, p.core.received_at, |end| {
            scoring::judge_provincial(p, end, cal)
        });
        let national = match &d.national {
            Some(n) => self.tally(View::National, n.core.received_at, |end| {
                scoring::judge_national(&n.core, p, end, cal)
            }),
            None => None,
        };
        let counted = |x: Option<(Judgement, bool)>| x.filter(|x| x.1).map(|x| x.0);
        let (jp, jn) = (counted(provincial), counted(national));
        if let (Some(j), Some(n)) = (&jn, &d.national) {
            if j.verdict == Verdict::InProcessOverdue {
                let (code, name) = self.agency(
                    n.core
                        .agency_code
                        .as_deref()
                        .or(p.core.agency_code.as_deref()),
                    n.unit_name.as_deref().or(p.agency_name.as_deref()),
                );
                self.appendix_1.push((
                    code,
                    name,
                    NationalOverdueRow {
                        dossier_code: n.core.code.clone(),
                        procedure: procedure_of(p),
                        received_at: n.core.received_at.unwrap_or_default(),
                        due_at: n.core.due_at.or(j.effective_due),
                        national_status: n
                            .core
                            .status
                            .map(|s| s.label_vi().to_string())
                            .unwrap_or_else(|| n.core.status_raw.clone()),
                        working_days_overdue: j.working_days_late,
                    },
                ));
            }
        }
        if let Some(j) = &jp {
            if matches!(j.verdict, Verdict::Late | Verdict::InProcessOverdue) {
                let (code, name) =
                    self.agency(p.core.agency_code.as_deref(), p.agency_name.as_deref());
                let late = j.verdict == Verdict::Late;
                self.appendix_2.push((
                    code,
                    name,
                    ProvincialLateRow {
                        dossier_code: p.key.clone(),
                        procedure: procedure_of(p),
                        received_at: p.core.received_at.unwrap_or_default(),
                        due_at: p.core.due_at.or(j.effective_due),
                        finished_at: if late { j.end } else { None },
                        category: j.verdict.as_str().to_string(),
                        working_days_late: j.working_days_late,
                        officials: p.handler.iter().cloned().collect(),
                    },
                ));
            }
        }
        // Counted bad by the portal this month, good in the province's records at the same
        // period end (even when the province closed it in an earlier month and so does not
        // count it this month: a closing that never reached the portal).
        if let (Some((jp, _)), Some(jn)) = (&provincial, &jn) {
            if jp.verdict.is_good() && !jn.verdict.is_good() {
                let (code, name) =
                    self.agency(p.core.agency_code.as_deref(), p.agency_name.as_deref());
                self.appendix_3.push(Fault3 {
                    dossier_id: p.local_id.clone(),
                    dossier_code: p.key.clone(),
                    agency_code: code,
                    agency_name: name,
                    provincial: jp.verdict,
                    national: jn.verdict,
                });
            }
        }
    }

    fn finish(
        self,
        province: &str,
        discrepancies: &[crate::store::ReportDiscrepancy],
        published: &[PublishedScoreRow],
    ) -> (MonthlyReport, BuildNotes) {
        let m = self.month;
        let iso = m.iso();
        let idx = HISTORY_MONTHS - 1;
        let figures = |t: &Tally| {
            ScoreFigures::from_counts(
                t.early,
                t.on_time,
                t.late,
                t.in_process_in_time,
                t.in_process_overdue,
            )
        };

        // The gap, by kind.
        let mut by_kind: BTreeMap<&str, (std::collections::BTreeSet<&str>, f64)> = BTreeMap::new();
        for d in discrepancies
            .iter()
            .filter(|d| d.period.as_deref() == Some(iso.as_str()))
        {
            let e = by_kind.entry(d.kind.as_str()).or_default();
            e.0.insert(d.dossier_id.as_str());
            e.1 += d.score_impact;
        }
        let mut gap: Vec<GapLine> = by_kind
            .into_iter()
            .map(|(kind, (ids, points))| GapLine {
                kind: kind.to_string(),
                dossiers: ids.len() as u64,
                points,
            })
            .collect();
        gap.sort_by(|a, b| {
            b.points
                .total_cmp(&a.points)
                .then(b.dossiers.cmp(&a.dossiers))
                .then(a.kind.cmp(&b.kind))
        });

        // Phụ lục III: the discrepancy carrying each dossier's points (this month's first).
        let mut by_dossier: HashMap<&str, &crate::store::ReportDiscrepancy> = HashMap::new();
        for d in discrepancies {
            let rank = |x: &crate::store::ReportDiscrepancy| {
                (
                    x.period.as_deref() == Some(iso.as_str()),
                    x.score_impact.abs(),
                )
            };
            match by_dossier.get(d.dossier_id.as_str()) {
                Some(cur) if rank(cur) >= rank(d) => {}
                _ => {
                    by_dossier.insert(d.dossier_id.as_str(), d);
                }
            }
        }
        let month_tally = self.provincial[idx];
        let mut appendix_3: Vec<SyncFaultRow> = self
            .appendix_3
            .into_iter()
            .map(|f| match by_dossier.get(f.dossier_id.as_str()) {
                Some(d) => SyncFaultRow {
                    dossier_code: f.dossier_code,
                    agency_code: f.agency_code,
                    agency_name: f.agency_name,
                    kind: d.kind.clone(),
                    provincial_value: d.provincial_value.clone(),
                    national_value: d.national_value.clone(),
                    points: d.score_impact,
                },
                // Not (yet) a discrepancy, e.g. looked up within the grace period: the
                // verdicts themselves differ.
                None => SyncFaultRow {
                    dossier_code: f.dossier_code,
                    agency_code: f.agency_code,
                    agency_name: f.agency_name,
                    kind: crate::reconcile::Kind::TimelinessMismatch.as_str().into(),
                    provincial_value: f.provincial.label_vi().into(),
                    national_value: f.national.label_vi().into(),
                    points: scoring::impact(f.provincial, Some(f.national), &month_tally),
                },
            })
            .collect();
        appendix_3.sort_by(|a, b| {
            b.points
                .total_cmp(&a.points)
                .then_with(|| a.dossier_code.cmp(&b.dossier_code))
        });

        let published_by_month = published_scores(published, province);
        let mut history = Vec::with_capacity(HISTORY_MONTHS);
        let mut k = self.first;
        for i in 0..HISTORY_MONTHS {
            history.push(MonthPoint {
                month: k,
                national_view: self.national[i].score(),
                provincial_view: self.provincial[i].score(),
                published: published_by_month.get(&k).copied(),
            });
            k = k.next();
        }
        let previous = self.national[idx - 1];
        let nation = national_figures(published, province, m);
        let report = MonthlyReport {
            province: province.to_string(),
            month: m,
            generated_at: self.now,
            frozen_at: None,
            national_view: figures(&self.national[idx]),
            provincial_view: figures(&self.provincial[idx]),
            published_score: published_by_month.get(&m).copied(),
            national_average: nation.map(|n| n.0),
            national_rank: nation.and_then(|n| n.1),
            previous_month: (previous.counted > 0).then(|| figures(&previous)),
            gap,
            history,
            appendix_1: group(self.appendix_1, |r| r.dossier_code.clone()),
            appendix_2: group(self.appendix_2, |r| r.dossier_code.clone()),
            appendix_3,
        };
        (report, self.notes)
    }
}

fn procedure_of(p: &ProvincialDossier) -> String {
    p.procedure_name
        .clone()
        .or_else(|| p.core.procedure_code.clone())
        .unwrap_or_default()
}

/// Groups rows by agency code (codes in order; rows by `key`).
fn group<T>(rows: Vec<(String, String, T)>, key: impl Fn(&T) -> String) -> Vec<AgencyGroup<T>> {
    let mut groups: BTreeMap<String, AgencyGroup<T>> = BTreeMap::new();
    for (code, name, row) in rows {
        groups
            .entry(code.clone())
            .or_insert_with(|| AgencyGroup {
                agency_code: code,
                agency_name: name,
                rows: Vec::new(),
            })
            .rows
            .push(row);
    }
    let mut out: Vec<AgencyGroup<T>> = groups.into_values().collect();
    for g in &mut out {
        g.rows.sort_by_cached_key(&key);
    }
    out
}

fn norm(s: &str) -> String {
    s.trim().nfc().collect::<String>().to_lowercase()
}

/// Whether a published row is the province's own (not one of its units', nor another
/// province's).
fn is_province_row(r: &PublishedScoreRow, province: &str) -> bool {
    let p = norm(province);
    let names = [
        p.clone(),
        format!("tỉnh {p}"),
        format!("ubnd tỉnh {p}"),
        format!("ủy ban nhân dân tỉnh {p}"),
        format!("uỷ ban nhân dân tỉnh {p}"),
    ];
    [r.unit_name.as_deref(), Some(r.unit_key.as_str())]
        .into_iter()
        .flatten()
        .any(|n| names.contains(&norm(n)))
}

/// A published row's "Tiến độ giải quyết" out of 20, when it has one.
fn score_of_20(r: &PublishedScoreRow) -> Option<f64> {
    let score = r.tdgq_score.filter(|s| s.is_finite())?;
    Some(match r.max_score {
        Some(max) if max > 0.0 => score * 20.0 / max,
        _ => score,
    })
}

/// The national average of month `m` and the province's rank in it, from the legacy ranking of
/// provinces (`tinh:<ID>` rows); `None` when that month's ranking was not fetched (the 2026
/// API has none). The rank is `None` when the province is not among the rows.
fn national_figures(
    rows: &[PublishedScoreRow],
    province: &str,
    m: YearMonth,
) -> Option<(f64, Option<Rank>)> {
    let ranking: Vec<(f64, bool)> = rows
        .iter()
        .filter(|r| r.api == "legacy" && r.unit_key.starts_with("tinh:"))
        .filter(|r| YearMonth::new(r.year, r.month) == Some(m))
        .filter_map(|r| Some((score_of_20(r)?, is_province_row(r, province))))
        .collect();
    if ranking.is_empty() {
        return None;
    }
    let average = ranking.iter().map(|r| r.0).sum::<f64>() / ranking.len() as f64;
    let rank = ranking.iter().find(|r| r.1).map(|own| Rank {
        position: 1 + ranking.iter().filter(|r| r.0 > own.0).count() as u32,
        of: ranking.len() as u32,
    });
    Some((average, rank))
}

/// The province's published score by month, out of 20.
fn published_scores(rows: &[PublishedScoreRow], province: &str) -> HashMap<YearMonth, f64> {
    let mut out: HashMap<YearMonth, (bool, f64)> = HashMap::new();
    for r in rows.iter().filter(|r| is_province_row(r, province)) {
        let (Some(score), Some(m)) = (score_of_20(r), YearMonth::new(r.year, r.month)) else {
            continue;
        };
        let preferred = r.api == "progress_tree";
        match out.get(&m) {
            Some((true, _)) if !preferred => {}
            _ => {
                out.insert(m, (preferred, score));
            }
        }
    }
    out.into_iter().map(|(m, (_, s))| (m, s)).collect()
}
