//! The provincial pull. None of the vendor APIs filters by "modified since", so:
//!
//! - **incremental**: pages sorted newest-first by last-modified, until a row is older than the
//!   saved watermark minus `provincial.overlap_minutes`;
//! - **sweep**: when the last sweep is older than `provincial.sweep_hours` (or there was none),
//!   a full pull ignoring the watermark, to catch anything the sort missed. Its start is
//!   recorded in the `watermark` table under `<source>:sweep` once it completes.
//!
//! The end of a pull is established, never assumed: a page is the last only when every end
//! signal of the profile's `[paging]` says so (`Paging::judge`); a page whose reply contradicts
//! itself is fetched again, then fails. A failed page stops the pull: the run is partial, rows
//! already read are kept, and the marks do not move.
//!
//! Rows are de-duplicated by dossier id (rows move between pages while we read). Each page is
//! stored in its own transaction; the watermark (and the sweep mark) move only once the pull
//! that covers them has established its end; the watermark does not move when rows were
//! skipped as unreadable.
//!
//! A sweep cut short (a failed page, `provincial.max_pages_per_run`, a stop) leaves a cursor
//! (`sweep_cursor`, written with each page): the next cycle runs its incremental pull, then
//! continues the sweep one page before where it stopped. A sweep that reaches the end is
//! complete only when it saw about as many dossiers as the system reports
//! ([`sweep_shortfall`]); only then does the sweep mark move. ARCHITECTURE.md ("The end of a
//! pull") says how rows moving between pages are covered.

use std::collections::HashSet;

use crate::cycle::{Cycle, SyncError};
use crate::model::{fmt_time, LocalTime};
use crate::source::Clients;
use crate::store::{CursorMove, PullRecord, RunCounts, SweepCursor};

/// Incremental pull or sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullMode {
    /// Newest-first pages down to the watermark minus the overlap.
    Incremental,
    /// Every page, ignoring the watermark; recorded under `<source>:sweep`.
    Sweep,
}

/// The watermark's source name: `provincial:<profile name>`.
pub fn source_name(clients: &Clients) -> String {
    format!("provincial:{}", clients.provincial.profile().name)
}

/// The source name under which the last completed sweep is recorded.
pub fn sweep_source(source: &str) -> String {
    format!("{source}:sweep")
}

/// A sweep is due when none completed yet or the last one started `sweep_hours` ago or more.
pub fn sweep_due(last_sweep: Option<LocalTime>, now: LocalTime, sweep_hours: u32) -> bool {
    last_sweep.is_none_or(|t| now - t >= chrono::Duration::hours(i64::from(sweep_hours)))
}

/// Why a sweep that reached the end of the list is not complete, if it is not: it saw
/// (`seen`: distinct dossiers of the source read since the sweep began, by it or by the
/// incremental pulls meanwhile) clearly fewer dossiers than the system reported. Only an exact
/// total is checked (`exact`), against the smaller of the totals at the sweep's start and end
/// (rows leave the list meanwhile). Allowed for: one row per duplicate read (`moved`) — a row
/// that moves from the unread part of the list to its front (edited, or inserted) pushes the
/// rows before it down by one, so the next page repeats one row, and the sweep misses the row
/// that moved, which the next incremental pull reads (it was modified after the watermark) —
/// and a tolerance of 0.5 % (at least 2 rows) for the rest of the list's churn.
pub fn sweep_shortfall(
    seen: u64,
    moved: u64,
    total_at_start: Option<u64>,
    total_at_end: Option<u64>,
    exact: bool,
) -> Option<String> {
    if !exact {
        return None;
    }
    let reference = match (total_at_start, total_at_end) {
        (Some(a), Some(b)) => a.min(b),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => return None,
    };
    let tolerance = (reference / 200).max(2);
    (seen + moved + tolerance < reference).then(|| {
        format!(
            "the sweep saw {seen} distinct dossiers ({moved} rows moved while it paged) while the \
             system reported {} at its start and {} at its end",
            total_at_start.map_or("no total".into(), |t| t.to_string()),
            total_at_end.map_or("no total".into(), |t| t.to_string()),
        )
    })
}

/// Pulls the provincial side: a sweep when one is due (or a mark is in the future), else an
/// incremental pull — followed, when a sweep was cut short before, by its continuation.
pub async fn pull_provincial(cx: &mut Cycle<'_>) -> Result<(), SyncError> {
    let source = source_name(cx.clients);
    let sweep_mark = sweep_source(&source);
    let now = cx.now();
    let overlap = chrono::Duration::minutes(i64::from(cx.cfg.provincial.overlap_minutes));
    let watermark = cx.store.watermark(&source)?;
    let last_sweep = cx.store.watermark(&sweep_mark)?;
    let cursor = cx.store.sweep_cursor(&source)?;
    // A mark later than now (the host clock ran ahead and was corrected) would hide every
    // change until the clock caught up: sweep, whose completion writes sane marks.
    let mut future = false;
    for (name, mark, slack) in [
        (&source, watermark, overlap),
        (&sweep_mark, last_sweep, chrono::Duration::zero()),
        (
            &source,
            cursor.as_ref().map(|c| c.started_at),
            chrono::Duration::zero(),
        ),
    ] {
        if let Some(m) = mark.filter(|m| *m > now + slack) {
            tracing::warn!(target: "provincial", mark = %name, value = %fmt_time(&m),
                now = %fmt_time(&now), "a provincial mark is in the future (the clock ran \
                ahead?): sweeping instead, which writes sane marks");
            future = true;
        }
    }
    if future {
        if cursor.is_some() {
            cx.store.clear_sweep_cursor(&source)?;
        }
        return pull(cx, PullMode::Sweep, None).await;
    }
    match cursor {
        Some(c) => {
            // The sweep continues after the incremental pull, so that changes are still
            // picked up each cycle; without a watermark yet, the sweep's completion sets it.
            if watermark.is_some() {
                pull(cx, PullMode::Incremental, None).await?;
            }
            pull(cx, PullMode::Sweep, Some(c)).await
        }
        None if sweep_due(last_sweep, now, cx.cfg.provincial.sweep_hours) => {
            pull(cx, PullMode::Sweep, None).await
        }
        None => pull(cx, PullMode::Incremental, None).await,
    }
}

/// One pull in the given mode; a sweep continues `resume` when given.
pub async fn pull(
    cx: &mut Cycle<'_>,
    mode: PullMode,
    resume: Option<SweepCursor>,
) -> Result<(), SyncError> {
    let (cfg, clients, clock) = (cx.cfg, cx.clients, cx.clock);
    let source = source_name(clients);
    let sweep_mark = sweep_source(&source);
    let started = clock();
    let stop_at = match mode {
        PullMode::Sweep => None,
        PullMode::Incremental => cx
            .store
            .watermark(&source)?
            .map(|w| w - chrono::Duration::minutes(i64::from(cfg.provincial.overlap_minutes))),
    };
    let resumed = resume.is_some();
    let mut sweep = (mode == PullMode::Sweep).then(|| {
        resume.unwrap_or(SweepCursor {
            started_at: started,
            next_page: 0,
            total_at_start: None,
            newest: None,
            bad_rows: 0,
            duplicates: 0,
        })
    });
    // A resumed sweep reads the page before the one it stopped at again: rows that moved up
    // across the boundary meanwhile are read, the rest de-duplicated.
    let first_page = sweep.as_ref().map_or(0, |c| c.next_page.saturating_sub(1));
    tracing::info!(target: "provincial", source = %source, mode = ?mode, first_page,
        stop_at = ?stop_at, "provincial pull started");
    let profile = clients.provincial.profile();
    let mut rec = PullRecord {
        source: source.clone(),
        mode: mode_word(mode).into(),
        first_page,
        ..PullRecord::default()
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut future_rows = 0u64;
    // Rows modified later than this come from a clock ahead of ours (the overlap absorbs skew).
    let latest_plausible =
        started + chrono::Duration::minutes(i64::from(cfg.provincial.overlap_minutes));
    let mut newest: Option<LocalTime> = None;
    let mut bad_rows = 0u64;
    let mut first_bad: Option<String> = None;
    let report_bad = |counts: &mut RunCounts, bad_rows: u64, first_bad: &Option<String>| {
        if bad_rows > 0 {
            counts.problems.push(format!(
                "{bad_rows} provincial rows could not be read and were skipped (first: {})",
                first_bad.as_deref().unwrap_or_default()
            ));
        }
    };
    let last_page = first_page.saturating_add(cfg.provincial.max_pages_per_run);
    for n in first_page..last_page {
        let page = match clients.provincial.page(n).await {
            Ok(p) => p,
            Err(e) => {
                report_bad(&mut cx.counts, bad_rows, &first_bad);
                let next = if sweep.is_some() {
                    format!("; the sweep continues from page {n} next run")
                } else {
                    String::new()
                };
                cx.problem(format!(
                    "provincial pull ({}) stopped at page {n}: {e}; rows already read are kept, \
                     the watermark did not move{next}",
                    mode_word(mode)
                ));
                return finish(cx, rec);
            }
        };
        rec.pages += 1;
        rec.refetches += page.refetches;
        if n == first_page {
            rec.total_at_start = page.total;
        }
        rec.total_at_end = page.total;
        let mut rows = Vec::with_capacity(page.rows.len());
        let mut reached_watermark = false;
        let mut page_bad = 0u64;
        let mut page_dups = 0u64;
        for raw in page.rows {
            // Which row, for the error message (never the row itself: it may hold personal data).
            let row_id = crate::profile::get_str(&raw, &profile.fields.id);
            match profile.map_row(raw) {
                Ok((d, json)) => {
                    if stop_at.is_some_and(|s| d.updated_at < s) {
                        reached_watermark = true;
                    }
                    // A clock ahead of ours must not carry the watermark into the future, where
                    // it would hide every later change until the next sweep.
                    if d.updated_at > latest_plausible {
                        future_rows += 1;
                    }
                    newest = newest.max(Some(d.updated_at.min(latest_plausible)));
                    // Rows move between pages while we read: keep the first copy only.
                    if seen.insert(d.local_id.clone()) {
                        rows.push((d, json));
                    } else {
                        page_dups += 1;
                    }
                }
                Err(e) => {
                    page_bad += 1;
                    first_bad.get_or_insert_with(|| match &row_id {
                        Some(id) => format!("row id {id}: {e}"),
                        None => format!("a row without `{}`: {e}", profile.fields.id),
                    });
                }
            }
        }
        bad_rows += page_bad;
        rec.duplicates += page_dups;
        let done = page.last || reached_watermark;
        rec.reached_end = done;
        let mut marks: Vec<(&str, LocalTime)> = Vec::new();
        let cursor = match sweep.as_mut() {
            Some(c) => {
                c.next_page = n + 1;
                c.bad_rows += page_bad;
                c.duplicates += page_dups;
                if !resumed {
                    c.total_at_start = rec.total_at_start;
                    c.newest = newest;
                }
                CursorMove::Set(c)
            }
            None => {
                // Rows skipped as unreadable may be newer than every row read: the watermark
                // stays, so that the next run reads them again (the run is partial meanwhile).
                if let Some(w) = newest.filter(|_| done && bad_rows == 0) {
                    marks.push((&source, w));
                }
                CursorMove::Keep
            }
        };
        let stats = cx
            .store
            .store_pull_page(cx.run_id, &source, clock(), &rows, &marks, cursor)?;
        rec.rows_read += rows.len() as u64;
        cx.counts.provincial_rows += stats.rows;
        cx.counts.provincial_changed += stats.new + stats.changed;
        if done {
            if let Some(c) = sweep.as_ref() {
                complete_sweep(cx, &mut rec, c, &source, &sweep_mark)?;
            }
            report_bad(&mut cx.counts, bad_rows, &first_bad);
            if bad_rows > 0 {
                cx.problem("the provincial watermark did not move because of the unreadable rows");
            }
            if future_rows > 0 {
                cx.problem(format!(
                    "{future_rows} provincial rows were modified in the future (after {}): \
                     check the provincial system's clock; the watermark was held at that time",
                    fmt_time(&latest_plausible)
                ));
            }
            tracing::info!(target: "provincial", source = %source, mode = ?mode,
                pages = rec.pages, rows = rec.rows_read, duplicates = rec.duplicates,
                total = ?rec.total_at_end, "provincial pull reached the end");
            return finish(cx, rec);
        }
    }
    report_bad(&mut cx.counts, bad_rows, &first_bad);
    let what = match sweep {
        Some(_) => format!(
            "the sweep continues from page {} next run",
            last_page.saturating_sub(1)
        ),
        None => "the watermark did not move (raise the cap)".into(),
    };
    cx.problem(format!(
        "provincial pull ({}) hit provincial.max_pages_per_run ({}) before reaching the \
         end; the rows read are kept, {what}",
        mode_word(mode),
        cfg.provincial.max_pages_per_run
    ));
    finish(cx, rec)
}

/// A sweep reached the end of the list: checks its totals, then moves the sweep mark (and the
/// watermark, to the newest row of the sweep's first page) and clears the cursor — or, when
/// it saw clearly fewer dossiers than the system reports, names the shortfall and clears the
/// cursor so that the next run sweeps again (the marks do not move).
fn complete_sweep(
    cx: &mut Cycle<'_>,
    rec: &mut PullRecord,
    c: &SweepCursor,
    source: &str,
    sweep_mark: &str,
) -> Result<(), SyncError> {
    let seen = cx.store.provincial_seen_since(source, c.started_at)?;
    let exact = cx.clients.provincial.profile().paging.exact_total();
    let shortfall = sweep_shortfall(
        seen,
        c.duplicates,
        c.total_at_start,
        rec.total_at_end,
        exact,
    );
    rec.sweep_rows = Some(seen);
    rec.sweep_complete = Some(shortfall.is_none());
    let mut marks: Vec<(&str, LocalTime)> = Vec::new();
    match shortfall {
        Some(why) => cx.problem(format!(
            "provincial sweep reached the end of the list but is not complete: {why}; the sweep \
             mark did not move, the next run sweeps again"
        )),
        None => {
            if let Some(w) = c.newest.filter(|_| c.bad_rows == 0) {
                marks.push((source, w));
            }
            marks.push((sweep_mark, c.started_at));
        }
    }
    cx.store
        .store_pull_page(cx.run_id, source, cx.now(), &[], &marks, CursorMove::Clear)?;
    Ok(())
}

/// Records the pull (table `provincial_pull`, the run's counts).
fn finish(cx: &mut Cycle<'_>, rec: PullRecord) -> Result<(), SyncError> {
    cx.store.record_pull(cx.run_id, &rec)?;
    cx.counts.pulls.push(rec);
    Ok(())
}

/// One pull in a line, for the run summary and the run's log line: pages, rows, the reported
/// totals, whether it reached the end (and, for a sweep, whether it completed).
pub fn describe(p: &PullRecord) -> String {
    let total = |t: Option<u64>| t.map_or_else(|| "none".to_string(), |t| t.to_string());
    let mut s = format!(
        "{} {}: {} pages from page {}{}, {} rows ({} duplicates), reported total {} at start, \
         {} at end, {}",
        p.source,
        p.mode,
        p.pages,
        p.first_page,
        if p.refetches > 0 {
            format!(" ({} re-fetched)", p.refetches)
        } else {
            String::new()
        },
        p.rows_read,
        p.duplicates,
        total(p.total_at_start),
        total(p.total_at_end),
        if p.reached_end {
            "end reached"
        } else {
            "END NOT REACHED"
        },
    );
    if let (Some(seen), Some(complete)) = (p.sweep_rows, p.sweep_complete) {
        s += &format!(
            ", sweep {} ({seen} dossiers seen)",
            if complete { "complete" } else { "INCOMPLETE" }
        );
    }
    s
}

fn mode_word(mode: PullMode) -> &'static str {
    match mode {
        PullMode::Incremental => "incremental",
        PullMode::Sweep => "sweep",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_schedule() {
        let t = |h: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 1, 5)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
        };
        assert!(sweep_due(None, t(8), 24));
        assert!(!sweep_due(Some(t(0)), t(23), 24));
        assert!(sweep_due(Some(t(0)), t(6), 6));
        assert!(!sweep_due(Some(t(0)), t(5), 6));
    }

    /// The totals check: clearly fewer dossiers than reported is incomplete; rows that moved
    /// (duplicates), a shrinking list and a small churn are not; estimates are not checked.
    #[test]
    fn sweep_totals_check() {
        // (seen, moved, total at start, at end, exact, complete)
        let cases = [
            (1500, 0, Some(1500), Some(1500), true, true),
            // the run: 303 of 1,500
            (303, 0, Some(1500), Some(1500), true, false),
            // rows added meanwhile: the total grew
            (1500, 0, Some(1500), Some(1530), true, true),
            // rows left the list: the smaller total counts
            (1400, 0, Some(1500), Some(1400), true, true),
            // 0.5 % churn tolerated, not more
            (1493, 0, Some(1500), Some(1500), true, true),
            (1492, 0, Some(1500), Some(1500), true, false),
            // small lists: 2 rows
            (8, 0, Some(10), Some(10), true, true),
            (7, 0, Some(10), Some(10), true, false),
            // rows that moved to the front behind the sweep (each shows as a duplicate)
            (1470, 30, Some(1500), Some(1500), true, true),
            (1470, 5, Some(1500), Some(1500), true, false),
            // an estimate, or no total at all: nothing to check against
            (303, 0, Some(1500), Some(1500), false, true),
            (303, 0, None, None, true, true),
            (303, 0, None, Some(1500), true, false),
        ];
        for (seen, moved, start, end, exact, complete) in cases {
            let got = sweep_shortfall(seen, moved, start, end, exact);
            assert_eq!(
                got.is_none(),
                complete,
                "{seen} seen, {moved} moved, {start:?}/{end:?}: {got:?}"
            );
        }
        let why = sweep_shortfall(303, 0, Some(1500), Some(1501), true).unwrap();
        assert!(
            why.contains("303 distinct") && why.contains("1500 at its start"),
            "{why}"
        );
    }
}
