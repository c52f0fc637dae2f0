//! What every step of a sync cycle works with ([`Cycle`]) and what stops one ([`SyncError`]).
//!
//! The steps are `pull` (the provincial side) and `sync`'s look-ups, national list and
//! reconciliation; `sync::run_cycle` runs them in order and records the run. This module is
//! below both, so that neither step imports the other's module.

use crate::clock::Clock;
use crate::config::Config;
use crate::model::LocalTime;
use crate::source::Clients;
use crate::store::{Applied, RunCounts, Store, StoreError};

/// Why a cycle stopped (the run is recorded as failed). A portal that fails does not stop a
/// cycle: it is a problem on the run (partial), see [`Cycle::problem`].
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The database failed: nothing more can be recorded safely.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The cycle could not be set up or run its steps (the calendar could not be built, a
    /// look-up task failed); the message says what.
    #[error("{0}")]
    Setup(String),
}

/// One sync cycle in progress, recorded as run `run_id`: what its steps read (the config, the
/// clients, the clock), where they write (the store) and what they count.
pub struct Cycle<'a> {
    /// The database every step writes to.
    pub store: &'a mut Store,
    /// The configuration the cycle runs under.
    pub cfg: &'a Config,
    /// The HTTP clients of both portals.
    pub clients: &'a Clients,
    /// Where "now" comes from (the wall clock, or a test's).
    pub clock: &'a Clock,
    /// The cycle's row in the `run` table.
    pub run_id: i64,
    /// What the steps counted so far, and the problems that make the run partial.
    pub counts: RunCounts,
}

impl Cycle<'_> {
    /// The time now, by the cycle's clock.
    pub fn now(&self) -> LocalTime {
        (self.clock)()
    }

    /// Records a problem on the run, which makes it partial.
    pub fn problem(&mut self, problem: impl Into<String>) {
        self.counts.problems.push(problem.into());
    }
}

/// Adds the discrepancies a store transaction opened, reopened and resolved to a run's counts.
pub fn count_applied(counts: &mut RunCounts, applied: &Applied) {
    counts.opened += applied.opened;
    counts.reopened += applied.reopened;
    counts.resolved += applied.resolved;
}
