//! The provincial pull. None of the vendor APIs filters by "modified since", so:
//!
//! - **incremental**: pages sorted newest-first by last-modified, until a row is older than the
//!   saved watermark minus `provincial.overlap_minutes`;
//! - **sweep**: when the last sweep is older than `provincial.sweep_hours` (or there was none),
//!   a full pull ignoring the watermark, to catch anything the sort missed. Its time is recorded
//!   in the `watermark` table under `<source>:sweep`.
//!
//! Rows are de-duplicated by dossier id (rows move between pages while we read). Each page is
//! stored in its own transaction; the watermark (and the sweep mark) move only in the
//! transaction that stores the last page of a complete pull; the watermark does not move when
//! rows were skipped as unreadable. A failed page stops the pull: the
//! run is partial, rows already read are kept, and the marks do not move.

use std::collections::HashSet;

use crate::cycle::{Cycle, SyncError};
use crate::model::LocalTime;
use crate::source::Clients;
use crate::store::RunCounts;

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

/// Pulls the provincial side: a sweep when one is due, else an incremental pull.
pub async fn pull_provincial(cx: &mut Cycle<'_>) -> Result<PullMode, SyncError> {
    let source = source_name(cx.clients);
    let last_sweep = cx.store.watermark(&sweep_source(&source))?;
    let mode = if sweep_due(last_sweep, cx.now(), cx.cfg.provincial.sweep_hours) {
        PullMode::Sweep
    } else {
        PullMode::Incremental
    };
    pull(cx, mode).await?;
    Ok(mode)
}

/// One pull in the given mode.
pub async fn pull(cx: &mut Cycle<'_>, mode: PullMode) -> Result<(), SyncError> {
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
    tracing::info!(target: "provincial", source = %source, mode = ?mode,
        stop_at = ?stop_at, "provincial pull started");
    let profile = clients.provincial.profile();
    let mut seen: HashSet<String> = HashSet::new();
    let mut duplicates = 0u64;
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
    for n in 0..cfg.provincial.max_pages_per_run {
        let page = match clients.provincial.page(n).await {
            Ok(p) => p,
            Err(e) => {
                report_bad(&mut cx.counts, bad_rows, &first_bad);
                cx.problem(format!(
                    "provincial pull ({}) stopped at page {n}: {e}; rows already read are kept, \
                     the watermark did not move",
                    mode_word(mode)
                ));
                return Ok(());
            }
        };
        let mut rows = Vec::with_capacity(page.rows.len());
        let mut reached_watermark = false;
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
                        duplicates += 1;
                    }
                }
                Err(e) => {
                    bad_rows += 1;
                    first_bad.get_or_insert_with(|| match &row_id {
                        Some(id) => format!("row id {id}: {e}"),
                        None => format!("a row without `{}`: {e}", profile.fields.id),
                    });
                }
            }
        }
        let done = page.last || reached_watermark;
        let mut marks: Vec<(&str, LocalTime)> = Vec::new();
        if done {
            // Rows skipped as unreadable may be newer than every row read: the watermark
            // stays, so that the next run reads them again (the run is partial meanwhile).
            if let Some(w) = newest.filter(|_| bad_rows == 0) {
                marks.push((&source, w));
            }
            if mode == PullMode::Sweep {
                marks.push((&sweep_mark, started));
            }
        }
        let stats =
            cx.store
                .store_provincial_page_marks(cx.run_id, &source, clock(), &rows, &marks)?;
        cx.counts.provincial_rows += stats.rows;
        cx.counts.provincial_changed += stats.new + stats.changed;
        if done {
            report_bad(&mut cx.counts, bad_rows, &first_bad);
            if bad_rows > 0 {
                cx.problem("the provincial watermark did not move because of the unreadable rows");
            }
            if future_rows > 0 {
                cx.problem(format!(
                    "{future_rows} provincial rows were modified in the future (after {}): \
                     check the provincial system's clock; the watermark was held at that time",
                    crate::model::fmt_time(&latest_plausible)
                ));
            }
            tracing::info!(target: "provincial", source = %source, mode = ?mode, pages = n + 1,
                rows = seen.len(), duplicates, "provincial pull complete");
            return Ok(());
        }
    }
    report_bad(&mut cx.counts, bad_rows, &first_bad);
    cx.problem(format!(
        "provincial pull ({}) hit provincial.max_pages_per_run ({}) before reaching the \
         watermark; the rows read are kept, the watermark did not move (raise the cap)",
        mode_word(mode),
        cfg.provincial.max_pages_per_run
    ));
    Ok(())
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
}
