//! Which dossiers to look up on the national portal now, under a request budget.
//!
//! Pure: no clock, no network, no database. "now" is a parameter.

use std::time::Duration;

use crate::model::{LocalTime, Status};

/// What is known of one dossier when planning look-ups.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// National dossier code to look up (well-formed; others are never looked up).
    pub code: String,
    /// Mapped provincial status (`None`: unmapped).
    pub status: Option<Status>,
    pub received_at: Option<LocalTime>,
    pub due_at: Option<LocalTime>,
    /// Last time the provincial row changed.
    pub provincial_updated_at: LocalTime,
    /// Last successful national look-up (found or not found), if any.
    pub last_lookup_at: Option<LocalTime>,
    /// Successful look-ups since the provincial row last changed.
    pub lookups_since_change: u32,
    pub has_open_discrepancy: bool,
}

/// The look-up budget.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Look-ups per second the portal is asked for (the client's rate limit enforces it).
    pub per_second: f64,
    /// At most this many look-ups in one cycle.
    pub per_cycle: usize,
}

/// Tunables of the planner (config section `[national]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanSettings {
    /// A change younger than this may still be on its way to the portal.
    pub sync_grace: Duration,
    /// A non-terminal dossier this close to its due date is watched closely.
    pub due_soon: Duration,
}

/// Returns the indices into `cands` to look up now, most urgent first.
pub fn plan(cands: &[Candidate], now: LocalTime, budget: Budget, s: &PlanSettings) -> Vec<usize> {
    let grace = chrono::Duration::from_std(s.sync_grace).unwrap_or_default();
    let mut ranked: Vec<(u8, LocalTime, usize)> = cands
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let terminal = c.status.is_some_and(Status::is_terminal);
            let changed = c.last_lookup_at.is_none_or(|l| l < c.provincial_updated_at);
            let tier = if changed && now - c.provincial_updated_at >= grace {
                0
            } else if c.has_open_discrepancy {
                1
            } else if !terminal {
                2
            } else if c.lookups_since_change < 2 {
                3
            } else {
                return None;
            };
            Some((tier, c.last_lookup_at.unwrap_or_default(), i))
        })
        .collect();
    ranked.sort();
    ranked
        .into_iter()
        .take(budget.per_cycle)
        .map(|(_, _, i)| i)
        .collect()
}
