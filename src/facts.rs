//! Facts of a dossier derived from its observed status history (`provincial_history`,
//! `national_history`; docs/domain.md §2, "Facts from the status history"). Pure, no clock.
//!
//! tthc-sync sees a dossier only when it looks: a pull or a look-up. A history row records a
//! change *observed*; the change itself happened some time after the observation before it.
//! So every time derived here is a [`Window`]: the latest time the change can have happened
//! (the source's own last-modified time of the row, when it has one, else the observation),
//! and the earliest (the observation before, or the last edit seen before; for what the first
//! pull ever saw, nothing: the dossier may have been in that state, and edited, long before). The width of the
//! widest window is the dossier's *observation resolution* (`resolution_minutes`).
//!
//! The facts are data of the model ([`crate::model::facts`], re-exported here); this module
//! is the one place that derives them. From the observations, [`derive()`] gives:
//! - **status intervals**, each status as first observed (an observation that repeats the
//!   status — an edit, a reassignment — does not start a new interval: the status time does
//!   not move with `updated_at`);
//! - **pauses**: every interval of status 5 (supplement requested) or 6 (awaiting payment),
//!   with its start and, once the status has changed again, its end — completed pauses
//!   included;
//! - **the number of supplement requests**: how many times the dossier entered status 5;
//! - **reschedulings**: how many times the due date was moved to another date while the
//!   dossier was not paused and not at the end of a pause (a due date moved at or during a
//!   pause is the vendor crediting the pause, not a rescheduling; that pause is then already
//!   in the due date and is not subtracted again, see [`ObservedPause::due_extended`]).

use chrono::Duration;

pub use crate::model::facts::{
    end_at, Bound, DossierFacts, ObservedPause, PauseKind, StatusInterval, Window,
};
use crate::model::{LocalTime, Status};

/// One observation of one side of a dossier: a history row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation {
    /// When tthc-sync saw this state (the pull or look-up time).
    pub observed_at: LocalTime,
    /// When tthc-sync last looked before this observation (the previous pull of the same job),
    /// when known; the change seen here happened after it.
    pub previous_observation: Option<LocalTime>,
    /// The mapped status then; `None` when unmapped or absent.
    pub status: Option<Status>,
    /// The source's own last-modified time of the row (the province's `updated_at`); `None`
    /// where the source has none (the portal's look-up).
    pub changed_at: Option<LocalTime>,
    /// The due date the source reported then.
    pub due_at: Option<LocalTime>,
}

impl Observation {
    /// The latest time the state seen here can have been reached.
    fn latest(&self) -> LocalTime {
        self.changed_at
            .map_or(self.observed_at, |c| c.min(self.observed_at))
    }
}

fn pause_kind(s: Option<Status>) -> Option<PauseKind> {
    match s {
        Some(Status::SupplementRequested) => Some(PauseKind::Supplement),
        Some(Status::AwaitingPayment) => Some(PauseKind::Payment),
        _ => None,
    }
}

/// Derives the facts of one side of a dossier from its observations, oldest first.
pub fn derive(observations: &[Observation]) -> DossierFacts {
    let mut facts = DossierFacts::default();
    let mut previous: Option<&Observation> = None;
    let mut widest: Option<Duration> = None;
    for o in observations {
        let latest = o.latest();
        // The change seen here happened after the last look and after the last edit seen.
        let floor = [o.previous_observation, previous.map(|p| p.latest())]
            .into_iter()
            .flatten()
            .max();
        // Nothing before the first observation of the first pull ever: the state it shows
        // (a status, a pause) can have begun at any time before (a dossier of the backlog,
        // perhaps edited since): unbounded below.
        let window = Window {
            earliest: floor.map_or(
                if previous.is_none() {
                    LocalTime::MIN
                } else {
                    latest
                },
                |f| f.min(latest),
            ),
            latest,
        };
        let status_changed = previous.is_none_or(|p| p.status != o.status);
        if status_changed {
            if previous.is_some() {
                widest = widest.max(Some(window.width()));
            }
            if let Some(last) = facts.intervals.last_mut() {
                last.to = Some(window);
            }
            if let Some(open) = facts.pauses.last_mut().filter(|p| p.end.is_none()) {
                open.end = Some(window);
            }
            facts.intervals.push(StatusInterval {
                status: o.status,
                from: window,
                to: None,
            });
            if let Some(kind) = pause_kind(o.status) {
                facts.pauses.push(ObservedPause {
                    kind,
                    start: window,
                    end: None,
                    due_extended: false,
                });
                if kind == PauseKind::Supplement {
                    facts.supplement_requests += 1;
                }
            }
        }
        let due_moved = previous.is_some_and(
            |p| matches!((p.due_at, o.due_at), (Some(a), Some(b)) if a.date() != b.date()),
        );
        if due_moved {
            // During a pause, or in the observation that ended one: the pause credited.
            let was_paused = previous.is_some_and(|p| pause_kind(p.status).is_some());
            let crediting = facts
                .pauses
                .iter_mut()
                .rev()
                .find(|p| p.end.is_none() || (was_paused && p.end == Some(window)));
            match crediting {
                Some(p) => p.due_extended = true,
                None => facts.reschedulings += 1,
            }
        }
        previous = Some(o);
    }
    facts.resolution_minutes = widest.map(|w| w.num_minutes());
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Pause;

    fn t(s: &str) -> LocalTime {
        LocalTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    /// (observed, previous observation, status, updated, due)
    type Row<'a> = (
        &'a str,
        Option<&'a str>,
        u8,
        Option<&'a str>,
        Option<&'a str>,
    );

    fn obs(rows: &[Row]) -> Vec<Observation> {
        rows.iter()
            .map(|&(o, prev, s, c, d)| Observation {
                observed_at: t(o),
                previous_observation: prev.map(t),
                status: Status::from_code(s),
                changed_at: c.map(t),
                due_at: d.map(t),
            })
            .collect()
    }

    const DUE: Option<&str> = Some("2024-03-08 10:00");

    /// What the first pull ever sees is bounded above only; a dossier first seen by a later
    /// pull began after the pull before.
    #[test]
    fn the_first_pull_ever_bounds_nothing_below() {
        let f = derive(&obs(&[
            ("2024-03-04 08:10", None, 5, Some("2024-03-04 08:00"), DUE),
            (
                "2024-03-05 08:10",
                Some("2024-03-05 07:55"),
                4,
                Some("2024-03-05 08:00"),
                DUE,
            ),
        ]));
        let p = f.pauses[0];
        assert_eq!(p.start.earliest, LocalTime::MIN);
        assert_eq!(p.start.latest, t("2024-03-04 08:00"));
        assert_eq!(p.end.unwrap().earliest, t("2024-03-05 07:55"));
        assert_eq!(
            f.resolution_minutes,
            Some(5),
            "the first window is not a resolution"
        );
        let f = derive(&obs(&[(
            "2024-03-04 08:10",
            Some("2024-03-04 07:55"),
            5,
            Some("2024-03-04 08:00"),
            DUE,
        )]));
        assert_eq!(f.pauses[0].start.earliest, t("2024-03-04 07:55"));
    }

    #[test]
    fn completed_supplement_pause_and_status_times() {
        let f = derive(&obs(&[
            ("2024-03-04 08:10", None, 2, Some("2024-03-04 08:00"), DUE),
            (
                "2024-03-04 09:10",
                Some("2024-03-04 08:55"),
                4,
                Some("2024-03-04 09:00"),
                DUE,
            ),
            (
                "2024-03-05 08:10",
                Some("2024-03-05 07:55"),
                5,
                Some("2024-03-05 08:00"),
                DUE,
            ),
            (
                "2024-03-12 08:10",
                Some("2024-03-12 07:55"),
                4,
                Some("2024-03-12 08:00"),
                DUE,
            ),
            // An edit: updated_at moves, the status does not.
            (
                "2024-03-13 10:10",
                Some("2024-03-13 09:55"),
                4,
                Some("2024-03-13 10:00"),
                DUE,
            ),
            (
                "2024-03-15 10:10",
                Some("2024-03-15 09:55"),
                9,
                Some("2024-03-15 10:00"),
                DUE,
            ),
        ]));
        assert_eq!(f.intervals.len(), 5);
        assert_eq!(f.supplement_requests, 1);
        assert_eq!(f.reschedulings, 0);
        let p = f.pauses[0];
        assert_eq!(p.kind, PauseKind::Supplement);
        assert_eq!(p.start.latest, t("2024-03-05 08:00"));
        assert_eq!(p.start.earliest, t("2024-03-05 07:55"));
        assert_eq!(p.end.unwrap().latest, t("2024-03-12 08:00"));
        assert!(!p.due_extended);
        // The 9 began at its first observation, not at the later edit.
        assert_eq!(f.status_since().unwrap().latest, t("2024-03-15 10:00"));
        assert_eq!(f.resolution_minutes, Some(5));
        assert_eq!(
            f.clock_pauses(Bound::Estimate),
            vec![Pause {
                start: t("2024-03-05 08:00"),
                end: Some(t("2024-03-12 08:00"))
            }]
        );
        assert!(f.open_pause().is_none());
    }

    #[test]
    fn edit_after_withdrawal_does_not_move_the_status_time() {
        let f = derive(&obs(&[
            ("2024-03-04 08:10", None, 4, Some("2024-03-04 08:00"), DUE),
            (
                "2024-03-07 09:10",
                Some("2024-03-07 08:55"),
                7,
                Some("2024-03-07 09:00"),
                DUE,
            ),
            (
                "2024-03-20 14:10",
                Some("2024-03-20 13:55"),
                7,
                Some("2024-03-20 14:00"),
                DUE,
            ),
        ]));
        assert_eq!(f.status_since().unwrap().latest, t("2024-03-07 09:00"));
        assert_eq!(f.current_status(), Some(Status::Withdrawn));
    }

    #[test]
    fn two_supplement_requests_and_an_open_pause() {
        let f = derive(&obs(&[
            ("2024-03-04 08:10", None, 4, Some("2024-03-04 08:00"), DUE),
            ("2024-03-05 08:10", None, 5, Some("2024-03-05 08:00"), DUE),
            ("2024-03-06 08:10", None, 4, Some("2024-03-06 08:00"), DUE),
            ("2024-03-07 08:10", None, 5, Some("2024-03-07 08:00"), DUE),
        ]));
        assert_eq!(f.supplement_requests, 2);
        assert_eq!(f.pauses.len(), 2);
        assert_eq!(f.open_pause().unwrap().start.latest, t("2024-03-07 08:00"));
        // Without a previous observation the window reaches back to the last edit seen.
        assert_eq!(
            f.open_pause().unwrap().start.earliest,
            t("2024-03-06 08:00")
        );
    }

    #[test]
    fn due_moved_at_the_end_of_a_pause_credits_it_and_is_no_rescheduling() {
        let f = derive(&obs(&[
            ("2024-03-04 08:10", None, 4, Some("2024-03-04 08:00"), DUE),
            ("2024-03-05 08:10", None, 5, Some("2024-03-05 08:00"), DUE),
            (
                "2024-03-12 08:10",
                None,
                4,
                Some("2024-03-12 08:00"),
                Some("2024-03-15 10:00"),
            ),
        ]));
        assert_eq!(f.reschedulings, 0);
        assert!(f.pauses[0].due_extended);
        assert!(f.clock_pauses(Bound::Estimate).is_empty());
    }

    #[test]
    fn due_moved_outside_a_pause_is_a_rescheduling() {
        let f = derive(&obs(&[
            (
                "2025-07-01 08:10",
                None,
                4,
                Some("2025-07-01 08:00"),
                Some("2025-07-08 10:00"),
            ),
            (
                "2025-07-07 08:10",
                None,
                4,
                Some("2025-07-07 08:00"),
                Some("2025-07-10 10:00"),
            ),
            (
                "2025-07-09 08:10",
                None,
                4,
                Some("2025-07-09 08:00"),
                Some("2025-07-14 10:00"),
            ),
            // Same date, another hour: a correction, not a rescheduling.
            (
                "2025-07-09 09:10",
                None,
                4,
                Some("2025-07-09 09:00"),
                Some("2025-07-14 16:00"),
            ),
        ]));
        assert_eq!(f.reschedulings, 2);
    }

    #[test]
    fn bounds_of_a_pause() {
        let f = derive(&obs(&[
            ("2024-03-04 08:10", None, 4, None, DUE),
            ("2024-03-05 09:00", Some("2024-03-05 08:00"), 5, None, DUE),
            ("2024-03-06 09:00", Some("2024-03-06 08:00"), 4, None, DUE),
        ]));
        // The portal's side: no last-modified time, the observation is the latest time.
        let fav = f.clock_pauses(Bound::Favourable)[0];
        let unf = f.clock_pauses(Bound::Unfavourable)[0];
        assert_eq!(
            (fav.start, fav.end),
            (t("2024-03-05 08:00"), Some(t("2024-03-06 09:00")))
        );
        assert_eq!(
            (unf.start, unf.end),
            (t("2024-03-05 09:00"), Some(t("2024-03-06 08:00")))
        );
        assert_eq!(f.resolution_minutes, Some(60));
    }
}
