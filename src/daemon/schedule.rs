//! Which job is due when. Pure: no clock, no I/O, no tasks; "now" is always an argument.
//!
//! # Time
//!
//! Every instant is a `chrono::DateTime<FixedOffset>`. Any offset is accepted as input (an
//! instant is an instant: UTC from the database and +07:00 from the clock compare correctly),
//! but cron expressions are evaluated in the [`Scheduler`]'s offset: with
//! [`crate::model::vn_offset`] (`+07:00`, exact for Asia/Ho_Chi_Minh, which has no daylight saving),
//! `0 2 * * *` fires at 02:00 Hanoi time, i.e. 19:00 UTC the day before. Times the scheduler
//! returns are in its offset.
//!
//! # Rules
//!
//! - A job never overlaps itself: if it is still running when it falls due, that firing is
//!   skipped and counted in [`JobState::skipped_overlaps`].
//! - Late firings coalesce: if the loop wakes up after several firings have passed (machine
//!   suspended, loop stalled), the job runs once, and its next firing is the first one after
//!   "now".
//! - Catch-up: a job with `run_missed_at_startup` whose last success (as stored in the
//!   database) is older than its most recent firing runs **once** at start-up, however many
//!   firings were missed. See [`missed_since`].
//!
//! # Loop sketch (what `tthc-sync run` does with this)
//!
//! ```text
//! loop {
//!     sleep until min(scheduler.next_wakeup(), now + notifier.watchdog_interval())
//!     notifier.watchdog()
//!     for name in scheduler.due_jobs(now) { spawn job; on completion scheduler.finish(..) }
//! }
//! ```

use std::fmt;

use chrono::{DateTime, FixedOffset};
use cron::Schedule;

/// Parsing the configured cron expressions lives in `crate::schedule` (the config validates
/// with it too).
pub use crate::schedule::parse_schedule;

/// A job's name: `sync`, `housekeeping`, `report` or `scores` (its `daemon.<name>_schedule`
/// key and its `sync_run.job` rows).
pub type JobName = String;

/// Whether a job whose last success was `last_success` has missed a firing by `now`: true
/// when the first firing after `last_success` is at or before `now`, or when it never
/// succeeded (`None`). The schedule is evaluated in `now`'s offset; `last_success` may be in
/// any offset.
pub fn missed_since(
    schedule: &Schedule,
    last_success: Option<DateTime<FixedOffset>>,
    now: DateTime<FixedOffset>,
) -> bool {
    match last_success {
        None => true,
        Some(t) => schedule
            .after(&t.with_timezone(&now.timezone()))
            .next()
            .is_some_and(|next| next <= now),
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobOutcome {
    /// Everything fetched and stored.
    Ok,
    /// Finished, but some sources or pages failed (their watermarks did not move).
    Partial,
    /// Nothing useful was stored.
    Failed,
}

impl JobOutcome {
    /// All outcomes, in a stable order (for metrics).
    pub const ALL: [JobOutcome; 3] = [JobOutcome::Ok, JobOutcome::Partial, JobOutcome::Failed];

    /// `ok`, `partial` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Ok => "ok",
            JobOutcome::Partial => "partial",
            JobOutcome::Failed => "failed",
        }
    }
}

impl fmt::Display for JobOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the configuration says about one job.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The job's name.
    pub name: JobName,
    /// When it fires: the parsed `daemon.<name>_schedule`, evaluated in the scheduler's
    /// offset.
    pub schedule: Schedule,
    /// Run once at start-up if a firing was missed while the service was down.
    pub run_missed_at_startup: bool,
    /// The last successful run as stored in the database, if any.
    pub last_success: Option<DateTime<FixedOffset>>,
}

/// The scheduler's view of one job.
#[derive(Debug, Clone)]
pub struct JobState {
    /// The job's name.
    pub name: JobName,
    schedule: Schedule,
    /// When it is next due; `None` if its schedule has no future firing.
    pub next_due: Option<DateTime<FixedOffset>>,
    /// Started by [`Scheduler::due_jobs`] and not yet [`Scheduler::finish`]ed.
    pub running: bool,
    /// Firings skipped because the previous run was still going.
    pub skipped_overlaps: u64,
    /// When its last run started (this process); `None` before the first.
    pub last_start: Option<DateTime<FixedOffset>>,
    /// When its last run finished (this process); `None` before the first.
    pub last_finish: Option<DateTime<FixedOffset>>,
    /// How its last run ended (this process); `None` before the first.
    pub last_outcome: Option<JobOutcome>,
    /// End of the last run whose outcome was [`JobOutcome::Ok`] (or the stored value from
    /// [`JobSpec::last_success`] until then).
    pub last_success: Option<DateTime<FixedOffset>>,
}

impl JobState {
    /// When it fires.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }
}

/// Mistakes in driving the scheduler (all are bugs in the caller or the config).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchedulerError {
    /// Two jobs were added with the same name.
    #[error("job {0:?} is configured twice; job names must be unique")]
    DuplicateJob(JobName),
    /// A job was named that the scheduler does not have.
    #[error("no job named {0:?}")]
    UnknownJob(JobName),
    /// A job was reported finished that was not running.
    #[error("job {0:?} finished but was not running")]
    NotRunning(JobName),
}

/// Tracks every job's next firing, whether it is running, and how its runs went.
#[derive(Debug, Clone)]
pub struct Scheduler {
    offset: FixedOffset,
    jobs: Vec<JobState>,
}

/// Skipped-firing counting stops here, so a per-second schedule after a long suspend cannot
/// make [`Scheduler::due_jobs`] slow.
const MAX_COUNTED_FIRINGS: u64 = 10_000;

impl Scheduler {
    /// An empty scheduler evaluating cron expressions in `offset` (normally [`crate::model::vn_offset`]).
    pub fn new(offset: FixedOffset) -> Scheduler {
        Scheduler {
            offset,
            jobs: Vec::new(),
        }
    }

    /// Adds a job. Its first run is its next firing after `now`, or `now` itself when
    /// `run_missed_at_startup` is set and [`missed_since`] says a firing was missed.
    /// Returns whether such a catch-up run was scheduled.
    pub fn add_job(
        &mut self,
        spec: JobSpec,
        now: DateTime<FixedOffset>,
    ) -> Result<bool, SchedulerError> {
        if self.jobs.iter().any(|j| j.name == spec.name) {
            return Err(SchedulerError::DuplicateJob(spec.name));
        }
        let now = now.with_timezone(&self.offset);
        let catch_up =
            spec.run_missed_at_startup && missed_since(&spec.schedule, spec.last_success, now);
        let next_due = if catch_up {
            Some(now)
        } else {
            spec.schedule.after(&now).next()
        };
        self.jobs.push(JobState {
            name: spec.name,
            schedule: spec.schedule,
            next_due,
            running: false,
            skipped_overlaps: 0,
            last_start: None,
            last_finish: None,
            last_outcome: None,
            last_success: spec.last_success.map(|t| t.with_timezone(&self.offset)),
        });
        Ok(catch_up)
    }

    /// Replaces a job's schedule (configuration reload); its next firing is recomputed from
    /// `now`. Running state and history are kept.
    pub fn set_schedule(
        &mut self,
        name: &str,
        schedule: Schedule,
        now: DateTime<FixedOffset>,
    ) -> Result<(), SchedulerError> {
        let now = now.with_timezone(&self.offset);
        let job = self.job_mut(name)?;
        job.next_due = schedule.after(&now).next();
        job.schedule = schedule;
        Ok(())
    }

    /// Removes a job (configuration reload). A run in progress is not affected, but its
    /// [`Scheduler::finish`] will then report [`SchedulerError::UnknownJob`].
    pub fn remove_job(&mut self, name: &str) -> Result<JobState, SchedulerError> {
        let i = self
            .jobs
            .iter()
            .position(|j| j.name == name)
            .ok_or_else(|| SchedulerError::UnknownJob(name.to_owned()))?;
        Ok(self.jobs.remove(i))
    }

    /// The jobs to start now, in configuration order. Each returned job is marked running
    /// (with `last_start = now`) until [`Scheduler::finish`]. A due job that is still running
    /// is not returned; each firing it missed is counted in [`JobState::skipped_overlaps`].
    pub fn due_jobs(&mut self, now: DateTime<FixedOffset>) -> Vec<JobName> {
        let now = now.with_timezone(&self.offset);
        let mut due = Vec::new();
        for job in &mut self.jobs {
            let Some(next) = job.next_due else { continue };
            if next > now {
                continue;
            }
            if job.running {
                // `next` itself plus every later firing up to `now`.
                let later = job
                    .schedule
                    .after(&next)
                    .take_while(|t| *t <= now)
                    .take(MAX_COUNTED_FIRINGS as usize)
                    .count() as u64;
                job.skipped_overlaps += 1 + later;
            } else {
                job.running = true;
                job.last_start = Some(now);
                due.push(job.name.clone());
            }
            job.next_due = job.schedule.after(&now).next();
        }
        due
    }

    /// Records the end of a run started by [`Scheduler::due_jobs`].
    pub fn finish(
        &mut self,
        name: &str,
        now: DateTime<FixedOffset>,
        outcome: JobOutcome,
    ) -> Result<(), SchedulerError> {
        let now = now.with_timezone(&self.offset);
        let job = self.job_mut(name)?;
        if !job.running {
            return Err(SchedulerError::NotRunning(name.to_owned()));
        }
        job.running = false;
        job.last_finish = Some(now);
        job.last_outcome = Some(outcome);
        if outcome == JobOutcome::Ok {
            job.last_success = Some(now);
        }
        Ok(())
    }

    /// The earliest `next_due` of all jobs: sleep until then (or the watchdog interval, if
    /// shorter). `None` when no job will ever be due.
    pub fn next_wakeup(&self) -> Option<DateTime<FixedOffset>> {
        self.jobs.iter().filter_map(|j| j.next_due).min()
    }

    /// The job named `name`, if the scheduler has it.
    pub fn job(&self, name: &str) -> Option<&JobState> {
        self.jobs.iter().find(|j| j.name == name)
    }

    /// All jobs, in the order they were added.
    pub fn jobs(&self) -> &[JobState] {
        &self.jobs
    }

    fn job_mut(&mut self, name: &str) -> Result<&mut JobState, SchedulerError> {
        self.jobs
            .iter_mut()
            .find(|j| j.name == name)
            .ok_or_else(|| SchedulerError::UnknownJob(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A +07:00 instant from "YYYY-MM-DD HH:MM:SS".
    fn vn(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_str(&format!("{s} +07:00"), "%Y-%m-%d %H:%M:%S %z").unwrap()
    }

    #[test]
    fn schedules_are_evaluated_in_the_scheduler_offset() {
        let mut s = Scheduler::new(crate::model::vn_offset());
        let utc_now = DateTime::parse_from_rfc3339("2026-11-27T12:00:00+00:00").unwrap();
        s.add_job(spec("daily", "0 2 * * *", false, None), utc_now)
            .unwrap();
        // 02:00 Hanoi = 19:00 UTC the previous day.
        let next = s.job("daily").unwrap().next_due.unwrap();
        assert_eq!(next, vn("2026-11-28 02:00:00"));
        assert_eq!(next.to_rfc3339(), "2026-11-28T02:00:00+07:00");
        assert_eq!(
            next,
            DateTime::parse_from_rfc3339("2026-11-27T19:00:00Z").unwrap()
        );
    }

    fn spec(name: &str, expr: &str, catch_up: bool, last: Option<&str>) -> JobSpec {
        JobSpec {
            name: name.to_owned(),
            schedule: parse_schedule(expr).unwrap(),
            run_missed_at_startup: catch_up,
            last_success: last.map(vn),
        }
    }

    #[test]
    fn catch_up_at_startup() {
        // (schedule, run_missed_at_startup, last success, start-up time, runs at start-up?)
        let cases: &[(&str, bool, Option<&str>, &str, bool)] = &[
            // missed several daily firings: runs (once)
            (
                "0 2 * * *",
                true,
                Some("2026-11-20 02:05:00"),
                "2026-11-27 10:00:00",
                true,
            ),
            // same, but catch-up disabled
            (
                "0 2 * * *",
                false,
                Some("2026-11-20 02:05:00"),
                "2026-11-27 10:00:00",
                false,
            ),
            // last success after today's firing: nothing missed
            (
                "0 2 * * *",
                true,
                Some("2026-11-27 02:05:00"),
                "2026-11-27 10:00:00",
                false,
            ),
            // last success just before a firing that has passed
            (
                "0 2 * * *",
                true,
                Some("2026-11-27 01:59:59"),
                "2026-11-27 10:00:00",
                true,
            ),
            // start-up exactly at the firing: it counts as missed
            (
                "0 2 * * *",
                true,
                Some("2026-11-26 02:05:00"),
                "2026-11-27 02:00:00",
                true,
            ),
            // never succeeded
            ("0 2 * * *", true, None, "2026-11-27 10:00:00", true),
            ("0 2 * * *", false, None, "2026-11-27 10:00:00", false),
            // last success stored in the future (clock moved back): nothing missed
            (
                "0 2 * * *",
                true,
                Some("2026-12-01 00:00:00"),
                "2026-11-27 10:00:00",
                false,
            ),
        ];
        for &(expr, catch_up, last, now, want) in cases {
            let mut s = Scheduler::new(crate::model::vn_offset());
            let got = s.add_job(spec("j", expr, catch_up, last), vn(now)).unwrap();
            assert_eq!(
                got, want,
                "{expr} catch_up={catch_up} last={last:?} now={now}"
            );
            let due = s.due_jobs(vn(now));
            assert_eq!(
                due.len(),
                usize::from(want),
                "{expr} last={last:?} now={now}"
            );
            if want {
                // once, not once per missed firing: the next run is the next regular firing
                s.finish("j", vn(now), JobOutcome::Ok).unwrap();
                assert!(s.due_jobs(vn(now)).is_empty());
                assert!(s.job("j").unwrap().next_due.unwrap() > vn(now));
            }
        }
    }

    #[test]
    fn last_success_in_utc_is_compared_as_an_instant() {
        let sched = parse_schedule("0 2 * * *").unwrap();
        // 2026-11-26T19:30Z = 2026-11-27 02:30 +07:00, after that day's 02:00 firing.
        let last = DateTime::parse_from_rfc3339("2026-11-26T19:30:00Z").unwrap();
        assert!(!missed_since(&sched, Some(last), vn("2026-11-27 10:00:00")));
        // 2026-11-26T18:30Z = 01:30 +07:00, before it.
        let last = DateTime::parse_from_rfc3339("2026-11-26T18:30:00Z").unwrap();
        assert!(missed_since(&sched, Some(last), vn("2026-11-27 10:00:00")));
    }

    /// One step of a scenario.
    enum Step {
        /// At this time, `due_jobs` returns exactly these jobs.
        Due(&'static str, &'static [&'static str]),
        /// At this time, this job finishes with this outcome.
        Finish(&'static str, &'static str, JobOutcome),
    }
    use Step::{Due, Finish};

    fn run_scenario(jobs: &[(&str, &str)], start: &str, steps: &[Step]) -> Scheduler {
        let mut s = Scheduler::new(crate::model::vn_offset());
        for (name, expr) in jobs {
            s.add_job(spec(name, expr, false, None), vn(start)).unwrap();
        }
        for (i, step) in steps.iter().enumerate() {
            match step {
                Due(at, want) => {
                    assert_eq!(s.due_jobs(vn(at)), *want, "step {i}: due at {at}")
                }
                Finish(at, name, outcome) => s
                    .finish(name, vn(at), *outcome)
                    .unwrap_or_else(|e| panic!("step {i}: {e}")),
            }
        }
        s
    }

    #[test]
    fn jobs_fire_when_due_and_in_configuration_order() {
        let s = run_scenario(
            &[("national", "*/10 * * * *"), ("provincial", "*/5 * * * *")],
            "2026-11-27 10:01:00",
            &[
                Due("2026-11-27 10:04:59", &[]),
                Due("2026-11-27 10:05:00", &["provincial"]),
                Finish("2026-11-27 10:06:00", "provincial", JobOutcome::Ok),
                Due("2026-11-27 10:09:00", &[]),
                Due("2026-11-27 10:10:00", &["national", "provincial"]),
                Finish("2026-11-27 10:11:00", "national", JobOutcome::Partial),
                Finish("2026-11-27 10:12:00", "provincial", JobOutcome::Failed),
            ],
        );
        let national = s.job("national").unwrap();
        assert_eq!(national.last_outcome, Some(JobOutcome::Partial));
        assert_eq!(national.last_success, None, "partial is not success");
        assert_eq!(national.last_start, Some(vn("2026-11-27 10:10:00")));
        assert_eq!(national.last_finish, Some(vn("2026-11-27 10:11:00")));
        let provincial = s.job("provincial").unwrap();
        assert_eq!(provincial.last_outcome, Some(JobOutcome::Failed));
        assert_eq!(provincial.last_success, Some(vn("2026-11-27 10:06:00")));
        assert_eq!(s.next_wakeup(), Some(vn("2026-11-27 10:15:00")));
    }

    #[test]
    fn a_running_job_never_overlaps_itself() {
        let s = run_scenario(
            &[("slow", "*/5 * * * *")],
            "2026-11-27 10:01:00",
            &[
                Due("2026-11-27 10:05:00", &["slow"]),
                // still running at 10:10: skipped and counted
                Due("2026-11-27 10:10:00", &[]),
                // loop wakes late, 10:15 and 10:20 both passed while running: two more
                Due("2026-11-27 10:21:00", &[]),
                Finish("2026-11-27 10:22:00", "slow", JobOutcome::Ok),
                Due("2026-11-27 10:24:00", &[]),
                Due("2026-11-27 10:25:00", &["slow"]),
            ],
        );
        let slow = s.job("slow").unwrap();
        assert_eq!(slow.skipped_overlaps, 3);
        assert!(slow.running);
        assert_eq!(slow.last_success, Some(vn("2026-11-27 10:22:00")));
    }

    #[test]
    fn late_firings_coalesce_into_one_run() {
        let s = run_scenario(
            &[("j", "*/5 * * * *")],
            "2026-11-27 10:01:00",
            &[
                // machine suspended from 10:01 to 11:03: one run, not twelve
                Due("2026-11-27 11:03:00", &["j"]),
                Finish("2026-11-27 11:04:00", "j", JobOutcome::Ok),
                Due("2026-11-27 11:04:30", &[]),
                Due("2026-11-27 11:05:00", &["j"]),
            ],
        );
        assert_eq!(s.job("j").unwrap().skipped_overlaps, 0);
    }

    #[test]
    fn misuse_is_reported() {
        let mut s = Scheduler::new(crate::model::vn_offset());
        let now = vn("2026-11-27 10:00:00");
        s.add_job(spec("a", "0 2 * * *", false, None), now).unwrap();
        assert_eq!(
            s.add_job(spec("a", "0 3 * * *", false, None), now),
            Err(SchedulerError::DuplicateJob("a".into()))
        );
        assert_eq!(
            s.finish("a", now, JobOutcome::Ok),
            Err(SchedulerError::NotRunning("a".into()))
        );
        assert_eq!(
            s.finish("b", now, JobOutcome::Ok),
            Err(SchedulerError::UnknownJob("b".into()))
        );
    }

    #[test]
    fn reload_replaces_schedule_and_removes_jobs() {
        let mut s = Scheduler::new(crate::model::vn_offset());
        let now = vn("2026-11-27 10:00:00");
        s.add_job(spec("a", "0 2 * * *", false, None), now).unwrap();
        s.add_job(spec("b", "0 3 * * *", false, None), now).unwrap();
        s.set_schedule("a", parse_schedule("30 10 * * *").unwrap(), now)
            .unwrap();
        assert_eq!(
            s.job("a").unwrap().next_due,
            Some(vn("2026-11-27 10:30:00"))
        );
        s.remove_job("b").unwrap();
        assert_eq!(s.jobs().len(), 1);
        assert_eq!(s.next_wakeup(), Some(vn("2026-11-27 10:30:00")));
    }

    #[test]
    fn a_schedule_with_no_future_firing_is_never_due() {
        let mut s = Scheduler::new(crate::model::vn_offset());
        let now = vn("2026-11-27 10:00:00");
        s.add_job(spec("past", "0 0 0 1 1 * 2020", false, None), now)
            .unwrap();
        assert_eq!(s.next_wakeup(), None);
        assert!(s.due_jobs(vn("2030-01-01 00:00:00")).is_empty());
    }
}
