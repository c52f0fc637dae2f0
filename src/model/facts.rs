//! The facts of a dossier's observed status history as data: status intervals, pauses,
//! request and rescheduling counts, each time a [`Window`] of observation (docs/domain.md §2).
//! [`crate::facts`] derives them from the history; the store keeps them
//! (`provincial_facts`, docs/schema.md) and the rule reads them. Pure data, no I/O.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::{LocalTime, Pause, Status};

/// When a change happened, to the resolution of observation: at some time in
/// `[earliest, latest]`; `latest` is the estimate the rule uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// The earliest time the change can have happened; `LocalTime::MIN` when nothing bounds
    /// it (the state was first seen by the first pull ever: it can have begun at any time
    /// before; `scoring::provincial_facts` reads that as the reception).
    pub earliest: LocalTime,
    /// The latest time (the source's last-modified time of the row that showed it, else
    /// the observation): the estimate used.
    pub latest: LocalTime,
}

impl Window {
    /// A change known exactly.
    pub fn exact(at: LocalTime) -> Window {
        Window {
            earliest: at,
            latest: at,
        }
    }
    /// How wide the window is.
    pub fn width(&self) -> Duration {
        self.latest - self.earliest
    }
}

/// A status as first observed, with when it began and (once it changed) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusInterval {
    /// The status; `None` for an unmapped or absent one.
    pub status: Option<Status>,
    /// When it began.
    pub from: Window,
    /// When it ended; `None` while it is the current status.
    pub to: Option<Window>,
}

/// Why the clock was paused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseKind {
    /// Status 5: supplement requested (yêu cầu bổ sung).
    Supplement,
    /// Status 6: awaiting payment of fees (nghĩa vụ tài chính).
    Payment,
}

/// A clock-stopping pause seen in the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedPause {
    /// Supplement or payment.
    pub kind: PauseKind,
    /// When the request was made.
    pub start: Window,
    /// When processing resumed; `None` while still paused.
    pub end: Option<Window>,
    /// The source moved the due date during the pause or when it ended: the pause is already
    /// credited in the due date, and subtracting it again would count it twice.
    pub due_extended: bool,
}

/// Which end of every [`Window`] to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// The estimate: every window's latest time.
    Estimate,
    /// The most favourable reading for the dossier: ends as early and pauses as long as the
    /// windows allow.
    Favourable,
    /// The least favourable: ends as late and pauses as short as the windows allow.
    Unfavourable,
}

/// What the history of one side of a dossier says.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DossierFacts {
    /// Every status as first observed, oldest first.
    pub intervals: Vec<StatusInterval>,
    /// The supplement and payment pauses, oldest first (completed ones included).
    pub pauses: Vec<ObservedPause>,
    /// How many times the dossier entered status 5.
    pub supplement_requests: u32,
    /// How many times the due date was moved outside a pause (see the module doc).
    pub reschedulings: u32,
    /// The widest window of any change, in minutes: how finely the history resolves status
    /// times (`None` with no change after the first observation).
    pub resolution_minutes: Option<i64>,
}

impl DossierFacts {
    /// When the current status began.
    pub fn status_since(&self) -> Option<Window> {
        self.intervals.last().map(|i| i.from)
    }

    /// The status the history ends in.
    pub fn current_status(&self) -> Option<Status> {
        self.intervals.last().and_then(|i| i.status)
    }

    /// The start of the pause open now, if the history ends paused.
    pub fn open_pause(&self) -> Option<&ObservedPause> {
        self.pauses.last().filter(|p| p.end.is_none())
    }

    /// The pauses to subtract, as [`Pause`]s read at `bound`: those the due date does not
    /// already credit.
    pub fn clock_pauses(&self, bound: Bound) -> Vec<Pause> {
        self.pauses
            .iter()
            .filter(|p| !p.due_extended)
            .map(|p| {
                let (start, end) = match bound {
                    Bound::Estimate => (p.start.latest, p.end.map(|e| e.latest)),
                    Bound::Favourable => (p.start.earliest, p.end.map(|e| e.latest)),
                    Bound::Unfavourable => (p.start.latest, p.end.map(|e| e.earliest)),
                };
                Pause {
                    start,
                    end: end.map(|e| e.max(start)),
                }
            })
            .collect()
    }
}

/// Reads a status time at `bound`: for an end (the status time of a closing status), the
/// favourable reading is the earliest.
pub fn end_at(w: Window, bound: Bound) -> LocalTime {
    match bound {
        Bound::Estimate | Bound::Unfavourable => w.latest,
        Bound::Favourable => w.earliest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store keeps facts as JSON (`provincial_facts`): a window unbounded below (what the
    /// first pull ever saw) must come back as it went in.
    #[test]
    fn an_unbounded_window_survives_the_stored_form() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 10, 5)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .unwrap();
        let facts = DossierFacts {
            intervals: vec![StatusInterval {
                status: Some(Status::Stopped),
                from: Window {
                    earliest: LocalTime::MIN,
                    latest: at,
                },
                to: None,
            }],
            ..DossierFacts::default()
        };
        let json = serde_json::to_string(&facts).unwrap();
        let back: DossierFacts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, facts, "{json}");
    }
}
